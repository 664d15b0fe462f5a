//! The command line: one module per command, each with its clap `Args` and its `run`.
//! [`Cli::run`] dispatches; a command returns its exit code, or a [`CliError`] that
//! `main` prints once and whose kind gives the exit code (ripgrep's shape).
//!
//! | command | module | reads |
//! | --- | --- | --- |
//! | `run` | [`daemon`] | config → the daemon ([`crate::shell::daemon`]) |
//! | `check` | [`check`] | rules (or the config's) |
//! | `replay` | [`replay`] | rules and report files |
//! | `status` | [`status`] | the ledger |
//! | `explain` | [`explain`] | the ledger, or rules and report files |
//! | `history` | [`history`] | the ledger, or rules and report files |
//! | `test` | [`rule_test`] | rule test files |
//! | `fetch gdelt` | [`fetch`] | config → the feed ([`crate::feed`]) |
//! | (hidden) `assets` | [`assets`] | man pages and completions for packaging |

pub(crate) mod assets;
pub(crate) mod check;
pub(crate) mod daemon;
pub(crate) mod explain;
pub(crate) mod fetch;
pub(crate) mod history;
mod inputs;
pub(crate) mod replay;
pub(crate) mod rule_test;
pub(crate) mod status;

use crate::engine::evaluate::Status;
use crate::engine::matcher::CompiledRules;
use crate::engine::problem::Problem;
use crate::engine::rules::RuleSet;
use crate::exit;
use crate::shell::config::{self, Config, ConfigError};
use crate::shell::daemon::DaemonError;
use crate::shell::files::InputError;
use crate::shell::ledger::LedgerError;
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};

pub use crate::shell::today_utc;

/// pledgewatch: holds parties to what they declared.
#[derive(Parser)]
#[command(name = "pledgewatch", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon: watch the inbox, keep the ledger, evaluate, alert.
    Run(daemon::RunArgs),
    /// Print the scorecard from the ledger (works while the daemon runs).
    Status(status::StatusArgs),
    /// Show the evidence, talk and breaches behind one commitment's status, or why the
    /// reports of a file do (not) count for it.
    Explain(explain::ExplainArgs),
    /// Validate rule files; print every problem as path:line:column: message.
    Check(check::CheckArgs),
    /// Every commitment's status over time: change points, or one column per period.
    History(history::HistoryArgs),
    /// Write the man pages and shell completions (for packaging) into a folder.
    #[command(hide = true)]
    Assets(assets::AssetsArgs),
    /// Check what rules must say on given reports: test files of expectations (docs/reference.md, Rule tests).
    Test(rule_test::TestArgs),
    /// Fetch published event data into the inbox.
    Fetch(fetch::FetchArgs),
    /// Evaluate rules against report files, without daemon or state.
    Replay(replay::ReplayArgs),
}

/// The error that stopped a command, as `main` sees it: printed once with
/// [`Failure::report`], its kind giving the exit code.
#[derive(Debug)]
pub struct Failure(CliError);

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Failure {}

impl Failure {
    /// The exit code of the error's kind (docs/reference.md, Commands).
    pub fn exit_code(&self) -> u8 {
        self.0.exit_code()
    }

    /// Prints the error once: on stderr, or as a log record for the commands whose output
    /// is the log (the daemon and the feed).
    pub fn report(&self) {
        self.0.report();
    }
}

impl Cli {
    /// Runs the command: its exit code, or the error that stopped it.
    pub fn run(self) -> Result<u8, Failure> {
        self.dispatch().map_err(Failure)
    }

    fn dispatch(self) -> Result<u8, CliError> {
        match self.command {
            Command::Run(args) => daemon::run(args),
            Command::Status(args) => status::run(args),
            Command::Explain(args) => explain::run(args),
            Command::Check(args) => check::run(args),
            Command::History(args) => history::run(args),
            Command::Assets(args) => assets::run(args),
            Command::Test(args) => rule_test::run(args),
            Command::Fetch(args) => fetch::run(args),
            Command::Replay(args) => replay::run(args),
        }
    }
}

/// What stops a command. Each kind has its exit code ([`CliError::exit_code`]).
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// The config file cannot be read or is invalid (exit 78).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The rules are invalid: every problem, located.
    #[error("{}", lines(.0))]
    Rules(Vec<Problem>),
    /// The rules are valid one by one but cannot be compiled together.
    #[error("{}: {message}", dir.display())]
    Matcher {
        /// The rules folder.
        dir: PathBuf,
        /// Why.
        message: String,
    },
    /// A secret file of alert delivery cannot be read (exit 78).
    #[error(transparent)]
    Secret(#[from] crate::shell::delivery::DeliveryError),
    /// The ledger cannot be opened or read (a newer one: exit 78).
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// A report file or folder named on the command line cannot be listed.
    #[error(transparent)]
    Inputs(#[from] InputError),
    /// The report files changed while they were read.
    #[error(transparent)]
    Changed(#[from] crate::shell::files::FilesChanged),
    /// `explain`: no such AGREEMENT/COMMITMENT.
    #[error("{0}")]
    Target(String),
    /// `test`: a test file or folder that cannot be used (exit 2).
    #[error("{0}")]
    TestFiles(String),
    /// The daemon could not start or stopped on an error (logged, not printed).
    #[error(transparent)]
    Daemon(#[from] DaemonError),
    /// `fetch`: the run could not keep its books, or another run holds the lock (logged).
    #[error(transparent)]
    Fetch(#[from] crate::feed::fetch::RunError),
    /// `assets`: the folder cannot be written.
    #[error("{}: {source}", path.display())]
    Assets {
        /// The output folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Standard output cannot be written (a closed pipe: nothing more is printed).
    #[error("cannot write to standard output: {0}")]
    Output(std::io::Error),
}

/// Problems, one per line.
fn lines(problems: &[Problem]) -> String {
    let shown: Vec<String> = problems.iter().map(Problem::to_string).collect();
    shown.join("\n")
}

impl CliError {
    /// The exit code of the error's kind (docs/reference.md, Commands).
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Config(_) | CliError::Secret(_) => exit::CONFIG,
            CliError::Ledger(e) => e.exit_code(),
            CliError::Daemon(e) => e.exit_code(),
            CliError::Fetch(crate::feed::fetch::RunError::Busy(_)) => exit::TEMPFAIL,
            CliError::TestFiles(_) => exit::USAGE,
            _ => exit::PROBLEMS,
        }
    }

    /// Prints the error once: on stderr, or as a log record for the commands whose output
    /// is the log (the daemon and the feed). A closed standard output prints nothing.
    pub fn report(&self) {
        match self {
            CliError::Daemon(DaemonError::Rules(problems)) => {
                for p in problems {
                    tracing::error!(problem = %p, "{p}");
                }
                tracing::error!(count = problems.len(), "{self}");
            }
            CliError::Daemon(e) => tracing::error!(error = %e, "{e}"),
            CliError::Fetch(crate::feed::fetch::RunError::Busy(lock)) => tracing::warn!(
                "another `pledgewatch fetch gdelt` is running (it holds {}); not fetching",
                lock.display()
            ),
            CliError::Fetch(e) => tracing::error!("{e}"),
            CliError::Output(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            e => {
                let _ = writeln!(std::io::stderr().lock(), "{e}");
            }
        }
    }
}

/// Writes `text` to stdout.
fn print(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(CliError::Output)
}

/// Prints problems on stderr, one per line.
fn print_problems(problems: &[Problem]) {
    let mut err = std::io::stderr().lock();
    for p in problems {
        let _ = writeln!(err, "{p}");
    }
}

/// The config file: `--config`, else `$PLEDGEWATCH_CONFIG`, else the default path.
fn load_config(flag: Option<&Path>) -> Result<Config, CliError> {
    Ok(Config::load(&config::locate(flag))?)
}

/// The rules of `dir` and their matcher.
fn rules_from_dir(dir: &Path) -> Result<(RuleSet, CompiledRules), CliError> {
    let set = crate::shell::rules_dir::load_dir(dir).map_err(CliError::Rules)?;
    let compiled = CompiledRules::new(&set).map_err(|message| CliError::Matcher {
        dir: dir.to_path_buf(),
        message,
    })?;
    Ok((set, compiled))
}

/// A command-line value that is not what its flag takes.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct BadValue(String);

/// `--as-of`: a date, `YYYY-MM-DD`.
fn parse_as_of(text: &str) -> Result<chrono::NaiveDate, BadValue> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| BadValue(format!("{text:?} is not a date YYYY-MM-DD")))
}

/// `--fail-on`: status names.
fn parse_status(text: &str) -> Result<Status, BadValue> {
    Status::parse(text.trim()).ok_or_else(|| {
        BadValue(format!(
            "{text:?} is not a status (fulfilled, on_track, pending, overdue, paper_tiger, breached)"
        ))
    })
}
