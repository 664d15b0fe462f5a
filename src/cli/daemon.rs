//! `pledgewatch run`: loads the config (exit 78 when invalid), sets up logging and runs
//! the daemon ([`crate::shell::daemon`]).

use super::{CliError, load_config, parse_as_of};
use crate::exit;
use std::path::PathBuf;

/// Run the daemon: watch the inbox, keep the ledger, evaluate, alert.
#[derive(clap::Args)]
pub struct RunArgs {
    /// Config file (default: $PLEDGEWATCH_CONFIG, then /etc/pledgewatch/pledgewatch.toml).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Evaluate at this date instead of today (UTC), for tests and historical study.
    #[arg(long, value_parser = parse_as_of)]
    pub as_of: Option<chrono::NaiveDate>,
    /// Log format, overriding the config's log.format.
    #[arg(long, value_parser = ["auto", "text", "json", "journald"])]
    pub log_format: Option<String>,
}

/// Runs the daemon until SIGTERM or SIGINT (exit 0).
pub fn run(args: RunArgs) -> Result<u8, CliError> {
    let config = load_config(args.config.as_deref())?;
    // Files the daemon creates (ledger, alerts file, .error files) are kept from other users;
    // the group (analysts) may read them.
    // SAFETY: umask only sets the process's file mode mask; it cannot fail.
    unsafe { libc::umask(0o027) };
    let format = args.log_format.as_deref().unwrap_or(&config.log_format);
    crate::shell::logging::init(crate::shell::logging::resolve(format), &config.log_level);
    tracing::info!(config = %config.path.display(), rules = %config.rules_dir.display(), "starting pledgewatch {}", env!("CARGO_PKG_VERSION"));
    crate::shell::daemon::run(config, args.as_of, crate::feed::fetch::newest_slots)?;
    Ok(exit::OK)
}
