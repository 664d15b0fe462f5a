//! Process exit codes, shared by the commands and the daemon.

/// Success.
pub const OK: u8 = 0;
/// Invalid rules, missing inputs, unreadable files.
pub const PROBLEMS: u8 = 1;
/// Usage errors (clap's own), and `test` files or rules that are invalid.
pub const USAGE: u8 = 2;
/// A `--fail-on` status was found.
pub const FAIL_ON: u8 = 3;
/// Try again later (EX_TEMPFAIL): a feed left slots for a later run, or another run
/// holds the lock.
pub const TEMPFAIL: u8 = 75;
/// Bad configuration (EX_CONFIG).
pub const CONFIG: u8 = 78;
