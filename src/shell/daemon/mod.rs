//! `pledgewatch run`: the daemon (docs/reference.md, The daemon).
//!
//! Three parts, each with one job:
//! - [`main_loop`]: the async loop — signals, the inotify watch on the inbox, timers and
//!   systemd notifications. It decides nothing about files; it sends [`Job`]s.
//! - [`worker`]: the thread that owns the ledger, the rules and the tally and does every
//!   job, one at a time: scans, evaluations, digests, reloads, `scorecard.html`.
//! - [`take`]: one inbox file, start to end, as named steps (hash and dedupe, read and
//!   match, identity check, commit) and one place that turns the outcome into a move,
//!   an `.error` file and a log line.

mod alerting;
mod main_loop;
mod scorecard;
mod take;
mod worker;

use crate::engine::problem::{Problem, shown};
use crate::engine::rules::RuleSet;
use crate::shell::config::Config;
use crate::shell::ledger::LedgerError;
use chrono::NaiveDate;
use std::collections::HashSet;
use std::ffi::OsString;
use std::path::PathBuf;

/// Why the daemon could not start, or stopped on its own.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The ledger is of a newer version, or cannot be opened or read.
    #[error("{0}")]
    Ledger(#[from] LedgerError),
    /// The rules are invalid (each problem is logged); nothing started.
    #[error("the rules are invalid; not starting")]
    Rules(Vec<Problem>),
    /// The inbox or state folders cannot be created.
    #[error(
        "cannot prepare the inbox and state folders: {}: {source}",
        shown(path)
    )]
    Folders {
        /// The folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Another daemon holds `STATE/daemon.lock`.
    #[error("another pledgewatch daemon is running on this state folder (it holds the lock {}); not starting", shown(.0))]
    Locked(PathBuf),
    /// The lock file cannot be created or locked.
    #[error("cannot lock the state folder ({}): {source}", shown(path))]
    Lock {
        /// `STATE/daemon.lock`.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The inotify watch on the inbox cannot be set up.
    #[error("cannot watch the inbox {}: {source}", shown(path))]
    Watch {
        /// The inbox folder.
        path: PathBuf,
        /// What notify said.
        #[source]
        source: notify::Error,
    },
    /// The process could not set itself up (runtime, thread, signal handlers).
    #[error("cannot start {what}: {source}")]
    Start {
        /// What could not be started.
        what: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The worker thread stopped on an error it cannot go past.
    #[error("stopping: {0}")]
    Worker(String),
    /// A delivery receiver cannot start (a secret file unreadable: exit 78).
    #[error(transparent)]
    Delivery(#[from] crate::shell::delivery::DeliveryError),
    /// The worker thread panicked or ended without saying why.
    #[error("the worker thread ended unexpectedly")]
    WorkerGone,
}

impl DaemonError {
    /// The process exit code for this error: a newer ledger is a configuration problem
    /// (78), another daemon on the state folder a temporary one (75), anything else 1.
    pub fn exit_code(&self) -> u8 {
        match self {
            DaemonError::Ledger(e) => e.exit_code(),
            DaemonError::Locked(_) => crate::exit::TEMPFAIL,
            DaemonError::Delivery(crate::shell::delivery::DeliveryError::Secret { .. }) => {
                crate::exit::CONFIG
            }
            _ => crate::exit::PROBLEMS,
        }
    }
}

/// Work for the worker thread.
enum Job {
    /// Look at the inbox; the names given are complete (renamed in or closed after writing).
    Scan(HashSet<OsString>),
    /// Evaluate every commitment now.
    Evaluate,
    /// Log a digest line per agreement.
    Digest,
    /// Reload the config and the rules.
    Reload,
}

/// What the worker tells the main loop.
enum Event {
    /// Ledger open, its tally loaded: the service is ready.
    Ready(String),
    /// A reload finished: the new status line and config, or the summary of its problems.
    Reloaded(Result<(String, Box<Config>), String>),
    /// The worker cannot go on.
    Fatal(String),
}

/// Logs what `check` would warn about in the rules (they are used as written).
fn log_warnings(set: &RuleSet) {
    for w in set.warnings() {
        tracing::warn!(warning = %w, "rules: {}", w.message);
    }
}

/// Where the feeds stand: the newest slot each has done, from the state folder (the
/// command line hands the feed's own reader in, so that the shell needs no feed).
pub type Feeds = fn(&std::path::Path) -> Vec<(String, chrono::DateTime<chrono::Utc>)>;

/// Runs the daemon until SIGTERM or SIGINT.
pub fn run(config: Config, as_of: Option<NaiveDate>, feeds: Feeds) -> Result<(), DaemonError> {
    if let Some(newer) = crate::shell::ledger::newer_than_known(&config.state_dir) {
        return Err(newer.into());
    }
    crate::shell::delivery::check_secrets(&config)?;
    let rules = crate::shell::rules_dir::load_dir(&config.rules_dir).map_err(DaemonError::Rules)?;
    log_warnings(&rules);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| DaemonError::Start {
            what: "the runtime",
            source,
        })?;
    runtime.block_on(main_loop::run(config, as_of, rules, feeds))
}
