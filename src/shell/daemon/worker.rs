//! The worker thread: it owns the ledger, the rules, the tally and the alert states, and
//! does the daemon's jobs one at a time — scans of the inbox (each file through
//! [`take`](super::take)), evaluations and their alerts, digests, reloads and, when idle,
//! `scorecard.html`.

use super::scorecard::Pacing;
use super::take::Took;
use super::{DaemonError, Event, Job, log_warnings};
use crate::engine::alert::{AlertKey, AlertState};
use crate::engine::evaluate::AgreementStatus;
use crate::engine::matcher::CompiledRules;
use crate::engine::problem::{Problem, shown};
use crate::engine::rules::RuleSet;
use crate::shell::alert::Sinks;
use crate::shell::config::Config;
use crate::shell::delivery::Delivery;
use crate::shell::inbox::{Entry, Inbox};
use crate::shell::ledger::{Ledger, LedgerError, Standing};
use chrono::NaiveDate;
use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;

/// What the worker starts from.
pub(super) struct Start {
    pub config: Config,
    pub as_of: Option<NaiveDate>,
    pub rules: RuleSet,
    pub inbox: Inbox,
    pub stop: Arc<AtomicBool>,
    pub feeds: super::Feeds,
}

/// Everything the worker owns.
pub(super) struct Worker {
    pub(super) config: Config,
    pub(super) as_of: Option<NaiveDate>,
    pub(super) ledger: Ledger,
    pub(super) rules: RuleSet,
    pub(super) compiled: CompiledRules,
    /// The ledger's tally and latest marks under the current rules (kept in step with it).
    pub(super) standing: Standing,
    /// Distinct reports in the ledger.
    pub(super) reports: usize,
    pub(super) inbox: Inbox,
    pub(super) sinks: Sinks,
    pub(super) states: HashMap<AlertKey, AlertState>,
    /// The alerts Alertmanager is told of as active, with their annotations.
    pub(super) am_open: HashMap<AlertKey, String>,
    /// The delivery threads (Alertmanager, webhook).
    pub(super) delivery: Delivery,
    /// When the earliest running hold ends: evaluate again then.
    pub(super) hold_ends: Option<Instant>,
    /// Where the feeds stand, for the metrics.
    pub(super) feeds: super::Feeds,
    /// The metrics textfile could not be written (logged once).
    pub(super) metrics_failing: bool,
    pub(super) statuses: Vec<AgreementStatus>,
    /// The as-of date of `statuses`.
    pub(super) statuses_as_of: NaiveDate,
    pub(super) stop: Arc<AtomicBool>,
    pub(super) threads: usize,
    /// Files left in the inbox to be tried again (the ledger could not be written, or the
    /// file changed while it was read): when to try again, and how often it failed.
    retry: HashMap<OsString, (Instant, u32)>,
    /// When `scorecard.html` may be drawn next.
    pub(super) scorecard: Pacing,
}

/// The worker thread's body: start, say ready, take what is already in the inbox, then do
/// jobs until the main loop stops it.
pub(super) fn main(start: Start, jobs: Receiver<Job>, events: UnboundedSender<Event>) {
    let mut worker = match Worker::start(start) {
        Ok(w) => w,
        Err(e) => {
            let _ = events.send(Event::Fatal(e.to_string()));
            return;
        }
    };
    let _ = events.send(Event::Ready(worker.status_line()));
    if let Err(e) = worker.catch_up_records() {
        tracing::error!(error = %e, "cannot read the alert records not yet written to the journal");
    }
    worker.scan(&HashSet::new());
    worker.evaluate();
    while let Some(job) = worker.next_job(&jobs) {
        match job {
            Job::Scan(mut complete) => {
                // a burst of scan requests is one scan
                let mut others = Vec::new();
                while let Ok(next) = jobs.try_recv() {
                    match next {
                        Job::Scan(more) => complete.extend(more),
                        other => others.push(other),
                    }
                }
                worker.handle(Job::Scan(complete), &events);
                for job in others {
                    worker.handle(job, &events);
                }
            }
            other => worker.handle(other, &events),
        }
    }
    std::mem::take(&mut worker.delivery).stop(DELIVERY_GRACE);
}

/// How long a stopping daemon waits for the requests delivery has in hand.
const DELIVERY_GRACE: Duration = Duration::from_secs(2);

impl Worker {
    fn start(start: Start) -> Result<Worker, DaemonError> {
        let Start {
            config,
            as_of,
            rules,
            inbox,
            stop,
            feeds,
        } = start;
        let ledger = Ledger::open(&config.state_dir)?;
        let compiled = CompiledRules::new(&rules).map_err(DaemonError::Worker)?;
        let states = ledger.alert_states()?.into_iter().collect();
        let mut worker = Worker {
            as_of,
            ledger,
            rules,
            compiled,
            standing: Standing::default(),
            reports: 0,
            inbox,
            sinks: Sinks::new(config.alerts_file.clone()),
            states,
            statuses: Vec::new(),
            statuses_as_of: NaiveDate::MIN,
            stop,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            retry: HashMap::new(),
            scorecard: Pacing::default(),
            am_open: HashMap::new(),
            delivery: Delivery::default(),
            hold_ends: None,
            feeds,
            metrics_failing: false,
            config,
        };
        worker.load_standing()?;
        worker.load_am_open();
        worker.start_delivery()?;
        Ok(worker)
    }

    /// Starts the delivery threads of the config. A webhook's cursor starts at the newest
    /// record when it is first configured (it is sent what is made from then on) and is
    /// forgotten when it is no longer configured.
    fn start_delivery(&mut self) -> Result<(), DaemonError> {
        let cursor = self.ledger.webhook_cursor()?;
        match (&self.config.webhook, cursor) {
            (Some(_), None) => {
                let last = self.ledger.last_record()?;
                self.ledger.set_webhook_cursor(Some(last))?;
            }
            (None, Some(_)) => self.ledger.set_webhook_cursor(None)?,
            _ => {}
        }
        self.delivery = Delivery::start(&self.config)?;
        Ok(())
    }

    /// The next job, or `None` when the worker must stop. While waiting it does what is due
    /// by itself: the page when idle, a look at the inbox while a file settles or a retry
    /// comes up.
    fn next_job(&mut self, jobs: &Receiver<Job>) -> Option<Job> {
        let settle_poll = (self.config.settle / 2).max(Duration::from_millis(20));
        loop {
            if self.stop.load(Ordering::SeqCst) {
                return None;
            }
            let Some(wait) = self.wake_in(settle_poll) else {
                return jobs.recv().ok();
            };
            match jobs.recv_timeout(wait) {
                Ok(job) => return Some(job),
                Err(RecvTimeoutError::Timeout) if self.hold_ended() => return Some(Job::Evaluate),
                Err(RecvTimeoutError::Timeout) if self.scorecard.ready() => self.write_scorecard(),
                Err(RecvTimeoutError::Timeout) => return Some(Job::Scan(HashSet::new())),
                Err(RecvTimeoutError::Disconnected) => return None,
            }
        }
    }

    /// True when a running hold has ended: its unit may alert now.
    fn hold_ended(&self) -> bool {
        self.hold_ends.is_some_and(|at| Instant::now() >= at)
    }

    fn handle(&mut self, job: Job, events: &UnboundedSender<Event>) {
        match job {
            Job::Scan(complete) => {
                if self.scan(&complete) {
                    self.evaluate();
                }
            }
            Job::Evaluate => self.evaluate(),
            Job::Digest => self.digest(),
            Job::Reload => {
                let result = self.reload();
                let _ = events.send(Event::Reloaded(result));
            }
        }
    }

    fn status_line(&self) -> String {
        format!(
            "watching {}; {} agreements, {} commitments, {} reports",
            self.config.inbox_dir.display(),
            self.rules.agreements.len(),
            self.rules.commitment_count(),
            self.reports
        )
    }

    /// Loads the ledger's tally for the current rules; when it was counted with other
    /// rules (or none yet), every stored report is matched again and the tally stored.
    pub(super) fn load_standing(&mut self) -> Result<(), LedgerError> {
        self.standing = self.ledger.standing_for(&self.rules, &self.compiled)?;
        self.standing.marks.keep_changes();
        self.reports = self.ledger.counts()?.reports;
        Ok(())
    }

    /// Re-reads the config file and the rules. Either both are valid and take effect, or
    /// nothing changes and every problem is logged. Keys that need new folders or a new
    /// log setup are applied at restart (a warning says so); the schedules are handed back
    /// to the main loop.
    fn reload(&mut self) -> Result<(String, Box<Config>), String> {
        let config = Config::load(&self.config.path).map_err(|e| refuse(e.problems(), "config"))?;
        if let Err(e) = crate::shell::delivery::check_secrets(&config) {
            tracing::error!(error = %e, "{e}");
            let summary =
                format!("reload refused: {e}; still running the previous configuration and rules");
            tracing::error!("{summary}");
            return Err(summary);
        }
        let set = crate::shell::rules_dir::load_dir(&config.rules_dir)
            .map_err(|p| refuse(&p, "rules"))?;
        let compiled = CompiledRules::new(&set)?;
        log_warnings(&set);
        self.warn_restart_only(&config);
        let old_rules = std::mem::replace(&mut self.rules, set);
        let old_compiled = std::mem::replace(&mut self.compiled, compiled);
        if let Err(e) = self.load_standing() {
            self.rules = old_rules;
            self.compiled = old_compiled;
            tracing::error!(error = %e, "reload failed; keeping the old rules");
            return Err(format!("reload failed, old rules kept: {e}"));
        }
        self.sinks = Sinks::new(config.alerts_file.clone());
        self.inbox.set_limits(config.max_file_size, config.settle);
        let (inbox_dir, state_dir) = (self.config.inbox_dir.clone(), self.config.state_dir.clone());
        self.config = Config {
            inbox_dir,
            state_dir,
            ..config
        };
        std::mem::take(&mut self.delivery).stop(DELIVERY_GRACE);
        if let Err(e) = self.start_delivery() {
            tracing::error!(error = %e, "alert delivery is not running until the next reload or restart");
        }
        self.evaluate();
        Ok((self.status_line(), Box::new(self.config.clone())))
    }

    /// Warns of the keys of a reloaded `config` that take effect only at the next restart.
    fn warn_restart_only(&self, config: &Config) {
        let log_changed = config.log_format != self.config.log_format
            || config.log_level != self.config.log_level;
        for (key, changed) in [
            ("inbox_dir", config.inbox_dir != self.config.inbox_dir),
            ("state_dir", config.state_dir != self.config.state_dir),
            ("log", log_changed),
        ] {
            if changed {
                tracing::warn!(key, "this config change takes effect at the next restart");
            }
        }
    }

    /// How long the worker may wait for a job before it must look at the inbox by itself:
    /// while a file settles, until the next retry of a file left in the inbox, and until
    /// the page may be drawn.
    fn wake_in(&self, settle_poll: Duration) -> Option<Duration> {
        let now = Instant::now();
        let retry = self
            .retry
            .values()
            .filter(|(at, _)| *at > now)
            .map(|(at, _)| *at - now)
            .min();
        let settle = self.inbox.waiting().then_some(settle_poll);
        let hold = self.hold_ends.map(|at| at.saturating_duration_since(now));
        [retry, settle, hold, self.scorecard.due_in()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Takes every ready inbox file. True when any report was taken.
    fn scan(&mut self, complete: &HashSet<OsString>) -> bool {
        let entries = match self.inbox.ready(complete) {
            Ok(e) => e,
            Err(e) => {
                tracing::error!(inbox = %shown(&self.inbox.dir), error = %e, "cannot list the inbox");
                return false;
            }
        };
        let dir = &self.inbox.dir;
        self.retry
            .retain(|name, _| std::fs::symlink_metadata(dir.join(name)).is_ok());
        let now = Instant::now();
        let mut changed = false;
        for entry in entries {
            if self.stop.load(Ordering::SeqCst) {
                break;
            }
            let waiting = self.retry.get(&entry.name);
            if waiting.is_some_and(|(next, _)| now < *next) {
                continue;
            }
            let span = tracing::info_span!("file", file = %shown(&entry.path));
            let _in_file = span.enter();
            let took = self.take(&entry);
            changed |= took == Took::Reports;
            self.note_retry(&entry, took, now);
        }
        changed
    }

    /// A file left in the inbox (the ledger could not be written — disk full, read-only,
    /// locked — or the file changed while it was read) is tried again later, ever less
    /// often; any other outcome forgets it.
    fn note_retry(&mut self, entry: &Entry, took: Took, now: Instant) {
        if took != Took::Later {
            self.retry.remove(&entry.name);
            return;
        }
        let attempts = self.retry.get(&entry.name).map_or(0, |r| r.1) + 1;
        let delay = Duration::from_millis(250 << attempts.min(8)).min(Duration::from_secs(60));
        tracing::warn!(
            attempts,
            retry_in_ms = delay.as_millis() as u64,
            "will try the file again"
        );
        self.retry
            .insert(entry.name.clone(), (now + delay, attempts));
    }

    pub(super) fn as_of(&self) -> NaiveDate {
        self.as_of.unwrap_or_else(crate::shell::today_utc)
    }

    /// Logs a digest line per agreement: its score and how many commitments are in each
    /// status.
    fn digest(&mut self) {
        if self.statuses.is_empty() {
            self.evaluate();
        }
        for a in &self.statuses {
            let summary: Vec<String> = crate::engine::evaluate::Status::ALL
                .iter()
                .map(|s| (s, a.commitments.iter().filter(|c| c.status == *s).count()))
                .filter(|(_, n)| *n > 0)
                .map(|(s, n)| format!("{n} {}", s.as_str()))
                .collect();
            let score = a.score.map_or("none".to_string(), |s| format!("{s:+.2}"));
            tracing::info!(
                target: "digest", agreement = %a.id, score = %score, commitments = a.commitments.len(),
                "digest {}: score {score}; {}", a.id, summary.join(", ")
            );
        }
    }
}

/// Logs every problem of a refused reload; the summary it returns goes to systemd's status.
fn refuse(problems: &[Problem], what: &str) -> String {
    for p in problems {
        tracing::error!(problem = %p, "{p}");
    }
    let summary = format!(
        "reload refused: {} problem(s) in the {what}; still running the previous configuration and rules",
        problems.len()
    );
    tracing::error!(count = problems.len(), "{summary}");
    summary
}
