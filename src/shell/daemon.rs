//! `pledgewatch run`: the runtime wiring. An async main loop (signals, schedules, inotify,
//! systemd notifications) drives one worker thread that owns the ledger and the engine and
//! does all file and database work, one job at a time.

use crate::engine::alert::{self, AlertKey};
use crate::engine::evaluate::AgreementStatus;
use crate::engine::marks::LatestMarks;
use crate::engine::matcher::{CompiledRules, Hit, Scratch};
use crate::engine::report::{Item, Location, Report};
use crate::engine::rules::RuleSet;
use crate::engine::tally::DailyTally;
use crate::shell::alert::Sinks;
use crate::shell::config::Config;
use crate::shell::files::{ReadOptions, read_file_mapped};
use crate::shell::inbox::{self, Entry, EntryKind, Inbox};
use crate::shell::ledger::{self, AlertState, FileCounts, Ledger, Standing};
use chrono::{NaiveDate, SecondsFormat, Utc};
use sd_notify::NotifyState;
use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use tokio::signal::unix::{SignalKind, signal};

/// Reports handed to the ledger at a time while a file is read (all in the file's one
/// transaction), so that a large file is never held in memory.
const WRITE_EVERY: usize = 5_000;

/// Refused records listed one by one in a file's `.error`; the rest are counted in one line,
/// so that a file of millions of bad lines cannot fill memory.
const MAX_LISTED_PROBLEMS: usize = 10_000;

/// Work for the worker thread.
enum Job {
    /// Look at the inbox; the names given are complete (renamed in or closed after writing).
    Scan(HashSet<OsString>),
    /// Evaluate every commitment now.
    Evaluate,
    /// Log a digest line per agreement.
    Digest,
    /// Reload the rules.
    Reload,
}

/// What the worker tells the main loop.
enum Event {
    /// Ledger open, its tally loaded: the service is ready.
    Ready(String),
    /// A reload finished: Ok(summary) or Err(summary of the problems).
    Reloaded(Result<(String, Box<Config>), String>),
    /// The worker cannot go on.
    Fatal(String),
}

/// Everything the worker owns.
struct Worker {
    config: Config,
    as_of: Option<NaiveDate>,
    ledger: Ledger,
    rules: RuleSet,
    compiled: CompiledRules,
    /// The ledger's tally and latest marks under the current rules (kept in step with it).
    standing: Standing,
    /// Distinct reports in the ledger.
    reports: usize,
    inbox: Inbox,
    sinks: Sinks,
    states: HashMap<AlertKey, AlertState>,
    statuses: Vec<AgreementStatus>,
    /// The as-of date of `statuses`.
    statuses_as_of: NaiveDate,
    stop: Arc<AtomicBool>,
    threads: usize,
    /// Files left in the inbox to be tried again (the ledger could not be written, or the
    /// file changed while it was read): when to try again, and how often it failed.
    retry: HashMap<OsString, (std::time::Instant, u32)>,
    /// `scorecard.html` is older than the last evaluation.
    scorecard_due: bool,
    /// The earliest time the next `scorecard.html` may be drawn.
    scorecard_next: std::time::Instant,
}

/// `scorecard.html` is drawn when the worker is idle and at most once per this many times
/// the time the last one took: a page that takes a second to draw (a ledger of millions of
/// reports under a thousand commitments) holds up the files and alerts behind it at most
/// 1/20 of the time.
const SCORECARD_SPACING: u32 = 20;

fn notify(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::debug!(error = %e, "sd_notify failed");
    }
}

/// Logs what `check` would warn about in the rules (they are used as written).
fn log_warnings(set: &crate::engine::rules::RuleSet) {
    for w in set.warnings() {
        tracing::warn!(warning = %w, "rules: {}", w.message);
    }
}

/// Runs the daemon until SIGTERM or SIGINT. Returns the process exit code.
pub fn run(config: Config, as_of: Option<NaiveDate>) -> u8 {
    if let Some(newer) = crate::shell::ledger::newer_than_known(&config.state_dir) {
        tracing::error!("{newer}");
        return crate::exit::CONFIG;
    }
    let rules = match crate::shell::rules_dir::load_dir(&config.rules_dir) {
        Ok(r) => {
            log_warnings(&r);
            r
        }
        Err(problems) => {
            for p in &problems {
                tracing::error!(problem = %p, "{p}");
            }
            tracing::error!(
                count = problems.len(),
                "the rules are invalid; not starting"
            );
            return crate::exit::PROBLEMS;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the runtime");
            return crate::exit::PROBLEMS;
        }
    };
    runtime.block_on(main_loop(config, as_of, rules))
}

async fn main_loop(config: Config, as_of: Option<NaiveDate>, rules: RuleSet) -> u8 {
    let inbox = match Inbox::new(
        &config.inbox_dir,
        &config.state_dir,
        config.max_file_size,
        config.settle,
    ) {
        Ok(i) => i,
        Err(e) => {
            tracing::error!(error = %e, "cannot prepare the inbox and state folders");
            return crate::exit::PROBLEMS;
        }
    };
    // One daemon per state folder: a second one would keep its own tally beside the
    // first's and write the same ledger. The lock lasts as long as the process.
    let lock_path = config.state_dir.join("daemon.lock");
    let _lock = match std::fs::File::create(&lock_path).map(|f| (f.try_lock(), f)) {
        Ok((Ok(()), f)) => f,
        Ok((Err(std::fs::TryLockError::WouldBlock), _)) => {
            tracing::error!(lock = %crate::engine::problem::shown(&lock_path), "another pledgewatch daemon is running on this state folder (it holds the lock); not starting");
            return crate::exit::TEMPFAIL;
        }
        Ok((Err(std::fs::TryLockError::Error(e)), _)) | Err(e) => {
            tracing::error!(lock = %crate::engine::problem::shown(&lock_path), error = %e, "cannot lock the state folder");
            return crate::exit::PROBLEMS;
        }
    };
    // The watch is set up before the worker's first scan, so no file can slip between them.
    let (fs_tx, mut fs_rx) =
        tokio::sync::mpsc::unbounded_channel::<notify::Result<notify::Event>>();
    let mut watcher = match notify::recommended_watcher(move |res| {
        let _ = fs_tx.send(res);
    }) {
        Ok(w) => w,
        Err(e) => {
            tracing::error!(error = %e, "cannot create the inotify watcher");
            return crate::exit::PROBLEMS;
        }
    };
    if let Err(e) = notify::Watcher::watch(
        &mut watcher,
        &config.inbox_dir,
        notify::RecursiveMode::NonRecursive,
    ) {
        tracing::error!(inbox = %crate::engine::problem::shown(&config.inbox_dir), error = %e, "cannot watch the inbox");
        return crate::exit::PROBLEMS;
    }
    // The inbox folder being watched, by device and inode: if it is deleted (and perhaps
    // recreated), the watch is set up again on the new folder.
    let folder_id = |dir: &std::path::Path| {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(dir)
            .ok()
            .filter(|m| m.is_dir())
            .map(|m| (m.dev(), m.ino()))
    };
    let mut watched = folder_id(&config.inbox_dir);
    let mut recheck = tokio::time::interval(std::time::Duration::from_millis(250));
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);

    let stop = Arc::new(AtomicBool::new(false));
    let (job_tx, job_rx) = mpsc::channel::<Job>();
    let (event_tx, mut event_rx) = tokio::sync::mpsc::unbounded_channel::<Event>();
    let worker = {
        let stop = stop.clone();
        let config = config.clone();
        std::thread::Builder::new()
            .name("pledgewatch-worker".into())
            .spawn(move || worker_main(config, as_of, rules, inbox, stop, job_rx, event_tx))
    };
    let worker = match worker {
        Ok(w) => w,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the worker thread");
            return crate::exit::PROBLEMS;
        }
    };

    let signals = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::hangup()),
    );
    let (Ok(mut term), Ok(mut int), Ok(mut hup)) = signals else {
        tracing::error!("cannot install signal handlers");
        return crate::exit::PROBLEMS;
    };
    let mut rescan = tokio::time::interval(
        config
            .rescan_interval
            .max(std::time::Duration::from_millis(10)),
    );
    rescan.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let watchdog = sd_notify::watchdog_enabled().map(|d| d / 2);
    let mut watchdog_tick =
        tokio::time::interval(watchdog.unwrap_or(std::time::Duration::from_secs(3600)));
    let until = |cron: &crate::engine::schedule::Cron| {
        let now = Utc::now();
        let next = cron
            .next_after(now)
            .unwrap_or(now + chrono::Duration::days(3650));
        tokio::time::Instant::now() + (next - now).to_std().unwrap_or_default()
    };
    let evaluate_at = tokio::time::sleep_until(until(&config.evaluate));
    let digest_at = tokio::time::sleep_until(until(&config.digest));
    tokio::pin!(evaluate_at, digest_at);
    let mut code = crate::exit::OK;
    // The schedules in force; a reload may change them.
    let mut schedules = config.clone();
    let send = |job: Job| {
        if job_tx.send(job).is_err() {
            tracing::error!("the worker thread has stopped");
        }
    };
    loop {
        tokio::select! {
            _ = term.recv() => { tracing::info!("SIGTERM: stopping"); break; }
            _ = int.recv() => { tracing::info!("SIGINT: stopping"); break; }
            _ = hup.recv() => {
                tracing::info!("SIGHUP: reloading the rules");
                match NotifyState::monotonic_usec_now() {
                    Ok(now) => notify(&[NotifyState::Reloading, now, NotifyState::Status("reloading rules")]),
                    Err(_) => notify(&[NotifyState::Reloading, NotifyState::Status("reloading rules")]),
                }
                send(Job::Reload);
            }
            Some(res) = fs_rx.recv() => {
                let mut complete = HashSet::new();
                let mut pending = vec![res];
                while let Ok(more) = fs_rx.try_recv() {
                    pending.push(more);
                }
                let mut relevant = false;
                for res in pending {
                    match res {
                        Ok(event) => {
                            use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind, RenameMode};
                            // Reading (our own scans and hashing open files and the folder)
                            // changes nothing: only writes, creations, renames and overflow do.
                            if event.need_rescan() {
                                tracing::warn!("inotify queue overflowed; rescanning the inbox");
                                relevant = true;
                                continue;
                            }
                            match event.kind {
                                EventKind::Modify(ModifyKind::Name(RenameMode::To | RenameMode::Both))
                                | EventKind::Access(AccessKind::Close(AccessMode::Write)) => {
                                    relevant = true;
                                    complete.extend(event.paths.iter().filter_map(|p| p.file_name()).map(|n| n.to_os_string()));
                                }
                                EventKind::Access(_) | EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(RenameMode::From)) => {}
                                _ => relevant = true,
                            }
                        }
                        Err(e) => {
                            relevant = true;
                            tracing::warn!(error = %e, "inotify error; rescanning the inbox");
                        }
                    }
                }
                if relevant {
                    send(Job::Scan(complete));
                }
            }
            _ = rescan.tick() => send(Job::Scan(HashSet::new())),
            _ = recheck.tick() => {
                let now = folder_id(&config.inbox_dir);
                if now != watched {
                    let _ = notify::Watcher::unwatch(&mut watcher, &config.inbox_dir);
                    match now {
                        None => tracing::error!(inbox = %crate::engine::problem::shown(&config.inbox_dir), "the inbox folder is gone; waiting for it to come back"),
                        Some(_) => match notify::Watcher::watch(&mut watcher, &config.inbox_dir, notify::RecursiveMode::NonRecursive) {
                            Ok(()) => {
                                tracing::warn!(inbox = %crate::engine::problem::shown(&config.inbox_dir), "the inbox folder was replaced; watching the new one");
                                send(Job::Scan(HashSet::new()));
                            }
                            Err(e) => tracing::error!(error = %e, "cannot watch the new inbox folder"),
                        },
                    }
                    watched = now;
                }
            }
            _ = &mut evaluate_at => {
                send(Job::Evaluate);
                evaluate_at.as_mut().reset(until(&schedules.evaluate));
            }
            _ = &mut digest_at => {
                send(Job::Digest);
                digest_at.as_mut().reset(until(&schedules.digest));
            }
            _ = watchdog_tick.tick(), if watchdog.is_some() => notify(&[NotifyState::Watchdog]),
            event = event_rx.recv() => match event {
                Some(Event::Ready(status)) => {
                    tracing::info!(status = %status, "ready");
                    notify(&[NotifyState::Ready, NotifyState::Status(&status)]);
                }
                Some(Event::Reloaded(Ok((status, new_config)))) => {
                    tracing::info!(status = %status, "configuration and rules reloaded");
                    schedules = *new_config;
                    evaluate_at.as_mut().reset(until(&schedules.evaluate));
                    digest_at.as_mut().reset(until(&schedules.digest));
                    rescan = tokio::time::interval(schedules.rescan_interval.max(std::time::Duration::from_millis(10)));
                    rescan.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    notify(&[NotifyState::Ready, NotifyState::Status(&status)]);
                }
                Some(Event::Reloaded(Err(status))) => {
                    notify(&[NotifyState::Ready, NotifyState::Status(&status)]);
                }
                Some(Event::Fatal(message)) => {
                    tracing::error!(error = %message, "stopping");
                    code = crate::exit::PROBLEMS;
                    break;
                }
                None => {
                    tracing::error!("the worker thread ended unexpectedly");
                    code = crate::exit::PROBLEMS;
                    break;
                }
            },
        }
    }
    notify(&[NotifyState::Stopping, NotifyState::Status("stopping")]);
    stop.store(true, Ordering::SeqCst);
    drop(job_tx);
    drop(watcher);
    if tokio::task::spawn_blocking(move || worker.join())
        .await
        .is_err()
    {
        tracing::error!("the worker thread panicked");
        code = crate::exit::PROBLEMS;
    }
    tracing::info!("stopped");
    code
}

fn worker_main(
    config: Config,
    as_of: Option<NaiveDate>,
    rules: RuleSet,
    inbox: Inbox,
    stop: Arc<AtomicBool>,
    jobs: mpsc::Receiver<Job>,
    events: tokio::sync::mpsc::UnboundedSender<Event>,
) {
    let mut worker = match Worker::start(config, as_of, rules, inbox, stop) {
        Ok(w) => w,
        Err(e) => {
            let _ = events.send(Event::Fatal(e));
            return;
        }
    };
    let _ = events.send(Event::Ready(worker.status_line()));
    worker.scan(&HashSet::new());
    worker.evaluate();
    let settle_poll = (worker.config.settle / 2).max(std::time::Duration::from_millis(20));
    loop {
        if worker.stop.load(Ordering::SeqCst) {
            return;
        }
        let job = if let Some(wait) = worker.wake_in(settle_poll) {
            match jobs.recv_timeout(wait) {
                Ok(job) => job,
                // idle: the page, when one is due, else a look at the inbox
                Err(mpsc::RecvTimeoutError::Timeout) if worker.scorecard_ready() => {
                    worker.write_scorecard();
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Timeout) => Job::Scan(HashSet::new()),
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
        } else {
            match jobs.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        match job {
            Job::Scan(mut complete) => {
                // Coalesce a burst of scan requests into one scan.
                let mut others = Vec::new();
                while let Ok(next) = jobs.try_recv() {
                    match next {
                        Job::Scan(more) => complete.extend(more),
                        other => others.push(other),
                    }
                }
                if worker.scan(&complete) {
                    worker.evaluate();
                }
                for job in others {
                    worker.handle(job, &events);
                }
            }
            other => worker.handle(other, &events),
        }
    }
}

/// What taking one inbox entry came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Took {
    /// Reports were added: evaluate.
    Reports,
    /// The entry is dealt with (moved, refused, gone) and added no report.
    Nothing,
    /// Nothing was kept and the file stays in the inbox, to be tried again later: the ledger
    /// could not be written, or the file changed while it was read.
    Later,
}

/// The ledger could not be read or written: nothing of the file was kept; it stays in the
/// inbox to be tried again.
fn ledger_failed(entry: &Entry, error: &str) -> Took {
    tracing::error!(file = %crate::engine::problem::shown(&entry.path), error = %error, "ledger error; nothing of the file was kept; it stays in the inbox and will be taken again");
    Took::Later
}

/// Logs a `.error` file that could not be written beside a moved file.
fn error_file_failed(moved_to: &std::path::Path, failed: Option<std::io::Error>) {
    if let Some(e) = failed {
        tracing::error!(file = %crate::engine::problem::shown(moved_to), error = %e, "cannot write the .error file");
    }
}

/// What one file adds to the tally and marks, held until its transaction is written: a
/// tally and marks of its own (bounded by commitments and days, not by reports), and the
/// earlier records its reports replace.
struct FileGain {
    standing: Standing,
    /// Ids whose earlier record was replaced, with the commitments that record hit.
    replaced: Vec<(String, Vec<u32>)>,
    /// Reports with an id not in the ledger before.
    new_reports: usize,
}

impl FileGain {
    fn new(rules: &RuleSet) -> FileGain {
        let tally = DailyTally::new(rules);
        let marks = LatestMarks::new(tally.len());
        FileGain {
            standing: Standing { tally, marks },
            replaced: Vec::new(),
            new_reports: 0,
        }
    }

    /// Counts `report` (stored in the file's transaction), taking back the record it
    /// replaced, if any (matched again: its hits under the current rules).
    fn add(
        &mut self,
        report: &Report,
        hits: &[Hit],
        replaced: Option<Report>,
        compiled: &CompiledRules,
        scratch: &mut Scratch,
    ) {
        match replaced {
            Some(old) => {
                let old_hits = compiled.match_report(&old, scratch);
                self.standing.tally.add(old.date, &old_hits, -1);
                let commitments: Vec<u32> = old_hits.iter().map(|h| h.commitment).collect();
                self.standing.marks.remove_from(&old.id, &commitments);
                self.replaced.push((old.id, commitments));
            }
            None => self.new_reports += 1,
        }
        self.standing.tally.add(report.date, hits, 1);
        self.standing.marks.add(report, hits);
    }

    /// Adds the file's gain to the daemon's `standing` and writes what changed, inside the
    /// file's transaction.
    fn apply(
        &mut self,
        tx: &rusqlite::Transaction<'_>,
        standing: &mut Standing,
    ) -> Result<(), String> {
        for (id, commitments) in &self.replaced {
            standing.marks.remove_from(id, commitments);
        }
        standing.tally.absorb(&mut self.standing.tally);
        standing
            .marks
            .absorb(std::mem::take(&mut self.standing.marks));
        let tally = standing.tally.take_changed();
        ledger::save_standing(tx, standing, &tally)
    }
}

/// A report after matching, with what the ledger and the tally need.
enum Matched {
    Report(Report, Vec<Hit>),
    Rejected(crate::engine::report::Rejection),
    Skipped,
}

impl Worker {
    fn start(
        config: Config,
        as_of: Option<NaiveDate>,
        rules: RuleSet,
        inbox: Inbox,
        stop: Arc<AtomicBool>,
    ) -> Result<Worker, String> {
        let ledger = Ledger::open(&config.state_dir)?;
        let compiled = CompiledRules::new(&rules)?;
        let states = ledger.alert_states()?.into_iter().collect();
        let sinks = Sinks::new(config.alerts_file.clone());
        let mut worker = Worker {
            as_of,
            ledger,
            rules,
            compiled,
            standing: Standing::default(),
            reports: 0,
            inbox,
            sinks,
            states,
            statuses: Vec::new(),
            statuses_as_of: NaiveDate::MIN,
            stop,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            retry: HashMap::new(),
            scorecard_due: false,
            scorecard_next: std::time::Instant::now(),
            config,
        };
        worker.load_standing()?;
        Ok(worker)
    }

    fn handle(&mut self, job: Job, events: &tokio::sync::mpsc::UnboundedSender<Event>) {
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
    fn load_standing(&mut self) -> Result<(), String> {
        self.standing = self.ledger.standing_for(&self.rules, &self.compiled)?;
        self.standing.marks.keep_changes();
        self.reports = self.ledger.counts()?.reports;
        Ok(())
    }

    /// Re-reads the config file and the rules. Either both are valid and take effect, or
    /// nothing changes and every problem is logged. Keys that need new folders, a new log
    /// setup or new schedules are applied at restart (a warning says so); the schedules are
    /// handed back to the main loop.
    fn reload(&mut self) -> Result<(String, Box<Config>), String> {
        let refuse = |problems: Vec<crate::engine::problem::Problem>, what: &str| {
            for p in &problems {
                tracing::error!(problem = %p, "{p}");
            }
            let summary = format!(
                "reload refused: {} problem(s) in the {what}; still running the previous configuration and rules",
                problems.len()
            );
            tracing::error!(count = problems.len(), "{summary}");
            summary
        };
        let config = Config::load(&self.config.path).map_err(|p| refuse(p, "config"))?;
        let set =
            crate::shell::rules_dir::load_dir(&config.rules_dir).map_err(|p| refuse(p, "rules"))?;
        let compiled = CompiledRules::new(&set)?;
        log_warnings(&set);
        for (key, changed) in [
            ("inbox_dir", config.inbox_dir != self.config.inbox_dir),
            ("state_dir", config.state_dir != self.config.state_dir),
            (
                "log",
                config.log_format != self.config.log_format
                    || config.log_level != self.config.log_level,
            ),
        ] {
            if changed {
                tracing::warn!(key, "this config change takes effect at the next restart");
            }
        }
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
        self.evaluate();
        Ok((self.status_line(), Box::new(self.config.clone())))
    }

    /// How long the worker may wait for a job before it must look at the inbox by itself:
    /// while a file settles, and until the next retry of a file left in the inbox.
    fn wake_in(&self, settle_poll: std::time::Duration) -> Option<std::time::Duration> {
        let now = std::time::Instant::now();
        let retry = self
            .retry
            .values()
            .filter(|(at, _)| *at > now)
            .map(|(at, _)| *at - now)
            .min();
        let settle = self.inbox.waiting().then_some(settle_poll);
        let scorecard = self
            .scorecard_due
            .then(|| self.scorecard_next.saturating_duration_since(now));
        [retry, settle, scorecard].into_iter().flatten().min()
    }

    /// Takes every ready inbox file. True when any report was taken.
    fn scan(&mut self, complete: &HashSet<OsString>) -> bool {
        let entries = match self.inbox.ready(complete) {
            Ok(e) => e,
            Err(e) => {
                tracing::error!(inbox = %crate::engine::problem::shown(&self.inbox.dir), error = %e, "cannot list the inbox");
                return false;
            }
        };
        let mut changed = false;
        let now = std::time::Instant::now();
        let dir = &self.inbox.dir;
        self.retry
            .retain(|name, _| std::fs::symlink_metadata(dir.join(name)).is_ok());
        for entry in entries {
            if self.stop.load(Ordering::SeqCst) {
                break;
            }
            if self
                .retry
                .get(&entry.name)
                .is_some_and(|(next, _)| now < *next)
            {
                continue;
            }
            let took = self.take(&entry);
            changed |= took == Took::Reports;
            if took == Took::Later {
                // The ledger could not be written (disk full, read-only, locked) or the file
                // changed while it was read: it stays in the inbox and is tried again later,
                // ever less often.
                let attempts = self.retry.get(&entry.name).map_or(0, |r| r.1) + 1;
                let delay = std::time::Duration::from_millis(250 << attempts.min(8))
                    .min(std::time::Duration::from_secs(60));
                tracing::warn!(file = %crate::engine::problem::shown(&entry.path), attempts, retry_in_ms = delay.as_millis() as u64, "will try the file again");
                self.retry
                    .insert(entry.name.clone(), (now + delay, attempts));
            } else {
                self.retry.remove(&entry.name);
            }
        }
        changed
    }

    fn reject(&self, entry: &Entry, why: &str) {
        let text = format!("{why}\n");
        match inbox::move_unique(&entry.path, &self.inbox.rejected, &entry.name, Some(&text)) {
            Ok((to, error_failed)) => {
                error_file_failed(&to, error_failed);
                let _ = inbox::sync_dir(&self.inbox.rejected);
                tracing::warn!(file = %crate::engine::problem::shown(&entry.path), moved_to = %crate::engine::problem::shown(&to), reason = %why, "file rejected");
            }
            Err(e) => {
                tracing::error!(file = %crate::engine::problem::shown(&entry.path), error = %e, "cannot move a rejected file")
            }
        }
    }

    /// Takes one entry.
    fn take(&mut self, entry: &Entry) -> Took {
        match &entry.kind {
            EntryKind::NotAFile(what) => {
                self.reject(
                    entry,
                    &format!("{what}: only regular files are taken; it was not opened or followed"),
                );
                Took::Nothing
            }
            EntryKind::TooLarge(len) => {
                self.reject(
                    entry,
                    &format!(
                        "{len} bytes, over the limit inbox.max_file_size ({} bytes); not read",
                        self.config.max_file_size
                    ),
                );
                Took::Nothing
            }
            EntryKind::File(_) => self.take_file(entry),
        }
    }

    fn take_file(&mut self, entry: &Entry) -> Took {
        // The key is the content hash and the extension: the same bytes under another
        // extension are another file (and may be read differently).
        let extension = entry
            .path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let (hash, identity) = match inbox::hash_file(&entry.path) {
            Ok((h, identity)) => (
                format!(
                    "{h}.{}",
                    crate::engine::problem::escape_controls(&extension)
                ),
                identity,
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tracing::info!(file = %crate::engine::problem::shown(&entry.path), "file gone before it was opened; nothing to take");
                return Took::Nothing;
            }
            Err(e) => {
                self.reject(entry, &format!("cannot be read: {e}"));
                return Took::Nothing;
            }
        };
        match self.ledger.taken_file(&hash) {
            Ok(Some(taken)) => {
                // Identical content was taken before (a re-drop, or a crash between commit
                // and move): nothing changes; the file is put where its twin went.
                let dir = if taken.outcome == "rejected" {
                    &self.inbox.rejected
                } else {
                    &self.inbox.processed
                };
                let why = (taken.outcome == "rejected").then(|| {
                    format!(
                        "identical to {}, taken {} and rejected; see its .error file\n",
                        crate::engine::problem::escape_controls(&taken.name),
                        taken.taken
                    )
                });
                match inbox::move_unique(&entry.path, dir, &entry.name, why.as_deref()) {
                    Ok((to, error_failed)) => {
                        error_file_failed(&to, error_failed);
                        tracing::info!(
                            file = %crate::engine::problem::shown(&entry.path), moved_to = %crate::engine::problem::shown(&to), first_taken = %taken.taken, first_name = %taken.name,
                            "file already taken (identical content); nothing counted again"
                        );
                    }
                    Err(e) => {
                        tracing::error!(file = %crate::engine::problem::shown(&entry.path), error = %e, "cannot move a file")
                    }
                }
                return Took::Nothing;
            }
            Ok(None) => {}
            Err(e) => return ledger_failed(entry, &e),
        }
        let name = entry.name.to_string_lossy().into_owned();
        let mut counts = FileCounts::default();
        let mut problems: Vec<String> = Vec::new();
        let mut file_unreadable = false;
        let mut batch: Vec<(Report, Vec<Hit>)> = Vec::new();
        // What the tally and marks gain once the file's transaction is committed.
        let mut gain = FileGain::new(&self.rules);
        let mut failed: Option<String> = None;
        let compiled = &self.compiled;
        let map = |scratch: &mut Scratch, item: Item| match item {
            Item::Report(r) => {
                let hits = compiled.match_report(&r, scratch);
                Matched::Report(r, hits)
            }
            Item::Rejected(rej) => Matched::Rejected(rej),
            Item::Skipped(_) => Matched::Skipped,
        };
        let stop = self.stop.clone();
        // One transaction for the whole file: a file is in the ledger entirely or not at
        // all, whatever happens while it is read (a crash, a full disk, the file changing).
        let tx = match self.ledger.begin() {
            Ok(tx) => tx,
            Err(e) => return ledger_failed(entry, &e),
        };
        let mut scratch = Scratch::default();
        let mut write = |batch: &mut Vec<(Report, Vec<Hit>)>| -> Result<(), String> {
            for (r, hits) in batch.drain(..) {
                let old = ledger::put_report(&tx, &name, &r)?;
                gain.add(&r, &hits, old, compiled, &mut scratch);
            }
            Ok(())
        };
        let options = ReadOptions {
            max_line_length: usize::try_from(self.config.max_line_length).ok(),
            regular_files_only: true,
            max_uncompressed: Some(self.config.max_file_size),
            max_records: usize::try_from(self.config.max_records_per_file).ok(),
            max_json_depth: usize::try_from(self.config.max_json_depth).ok(),
            ..ReadOptions::default()
        };
        read_file_mapped(
            &entry.path,
            &options,
            self.threads,
            &Scratch::default,
            &map,
            &mut |m| {
                if failed.is_some() || stop.load(Ordering::SeqCst) {
                    return;
                }
                match m {
                    Matched::Report(r, hits) => {
                        counts.reports += 1;
                        batch.push((r, hits));
                        if batch.len() >= WRITE_EVERY
                            && let Err(e) = write(&mut batch)
                        {
                            failed = Some(e);
                        }
                    }
                    Matched::Rejected(rej) => {
                        counts.rejected += 1;
                        if rej.location == Location::File {
                            file_unreadable = true;
                        }
                        // what concerns the whole file is always listed
                        if problems.len() < MAX_LISTED_PROBLEMS || rej.location == Location::File {
                            problems.push(rej.to_string());
                        }
                    }
                    Matched::Skipped => counts.skipped += 1,
                }
            },
        );
        if failed.is_none()
            && let Err(e) = write(&mut batch)
        {
            failed = Some(e);
        }
        if let Some(e) = failed {
            drop(tx);
            return ledger_failed(entry, &e);
        }
        if self.stop.load(Ordering::SeqCst) {
            tracing::info!(file = %crate::engine::problem::shown(&entry.path), "stopping: nothing of the file was kept; it stays in the inbox and will be taken again");
            return Took::Nothing;
        }
        // The file must be the one that was hashed and read, unchanged: otherwise what was
        // read may be half of one version and half of another.
        match inbox::identity(&entry.path) {
            Ok(now) if now == identity => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                drop(tx);
                let why = "deleted while being read; nothing of it was kept\n";
                match inbox::write_error_alone(&self.inbox.rejected, &entry.name, why) {
                    Ok(to) => {
                        let _ = inbox::sync_dir(&self.inbox.rejected);
                        tracing::warn!(file = %crate::engine::problem::shown(&entry.path), error_file = %crate::engine::problem::shown(&to), reason = why.trim_end(), "file rejected");
                    }
                    Err(e) => {
                        tracing::error!(file = %crate::engine::problem::shown(&entry.path), error = %e, "deleted while being read; nothing of it was kept; cannot write the .error file")
                    }
                }
                return Took::Nothing;
            }
            _ => {
                drop(tx);
                tracing::warn!(file = %crate::engine::problem::shown(&entry.path), "changed while being read (written, truncated or replaced); nothing of this reading was kept; it will be read again");
                return Took::Later;
            }
        }
        // Nothing taken and something refused: the file as a whole is rejected.
        let outcome = if counts.reports == 0 && (file_unreadable || counts.rejected > 0) {
            "rejected"
        } else {
            "processed"
        };
        let taken = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
        let committed = gain
            .apply(&tx, &mut self.standing)
            .and_then(|()| ledger::count_new_reports(&tx, gain.new_reports))
            .and_then(|()| ledger::put_file(&tx, &hash, &name, outcome, &taken, counts))
            .and_then(|()| tx.commit().map_err(|e| e.to_string()));
        if let Err(e) = committed {
            // the tally in memory went ahead of the ledger: read it back
            if let Err(e) = self.load_standing() {
                tracing::error!(error = %e, "cannot read the ledger's tally back");
            }
            return ledger_failed(entry, &e);
        }
        self.reports += gain.new_reports;
        if counts.rejected > problems.len() {
            problems.push(format!(
                "... and {} more refused record(s), not listed ({} in all)",
                counts.rejected - problems.len(),
                counts.rejected
            ));
        }
        let refused = problems.len();
        if counts.skipped > 0 {
            problems.push(format!(
                "{} row(s) skipped: no Actor1CountryCode or Actor2CountryCode (GDELT), or actors that name no country of the table (event datasets)",
                counts.skipped
            ));
        }
        let dir = if outcome == "rejected" {
            self.inbox.rejected.clone()
        } else {
            self.inbox.processed.clone()
        };
        let why = (!problems.is_empty()).then(|| problems.join("\n") + "\n");
        match inbox::move_unique(&entry.path, &dir, &entry.name, why.as_deref()) {
            Ok((to, error_failed)) => {
                error_file_failed(&to, error_failed);
                let _ = inbox::sync_dir(&dir);
                for p in problems.iter().take(refused.min(20)) {
                    tracing::warn!(file = %crate::engine::problem::shown(&entry.path), problem = %p, "record refused");
                }
                if counts.skipped > 0
                    && let Some(p) = problems.last()
                {
                    tracing::info!(file = %crate::engine::problem::shown(&entry.path), problem = %p, "rows skipped");
                }
                tracing::info!(
                    file = %crate::engine::problem::shown(&entry.path), moved_to = %crate::engine::problem::shown(&to), reports = counts.reports,
                    rejected = counts.rejected, skipped = counts.skipped, "file taken"
                );
            }
            Err(e) => {
                tracing::error!(file = %crate::engine::problem::shown(&entry.path), error = %e, "cannot move a taken file; it is known by its hash and will be moved at the next scan")
            }
        }
        if counts.reports > 0 {
            Took::Reports
        } else {
            Took::Nothing
        }
    }

    fn as_of(&self) -> NaiveDate {
        self.as_of.unwrap_or_else(crate::shell::today_utc)
    }

    fn evaluate(&mut self) {
        let started = std::time::Instant::now();
        let as_of = self.as_of();
        let statuses = self.standing.tally.statuses(&self.rules, as_of);
        let (alerts, changes) = alert::transitions(
            &statuses,
            &self.states,
            Utc::now(),
            as_of,
            self.config.repeat_interval,
        );
        self.sinks.emit(&alerts);
        if !changes.is_empty() {
            match self.ledger.save_alert_states(&changes) {
                Ok(()) => self.states.extend(changes),
                Err(e) => tracing::error!(error = %e, "cannot store alert states"),
            }
        }
        self.statuses = statuses;
        self.statuses_as_of = as_of;
        self.scorecard_due = true;
        tracing::debug!(
            evaluate_ms = started.elapsed().as_millis() as u64,
            "evaluated"
        );
    }

    /// True when `scorecard.html` is due and may be drawn now.
    fn scorecard_ready(&self) -> bool {
        self.scorecard_due && std::time::Instant::now() >= self.scorecard_next
    }

    /// Replaces `STATE/scorecard.html` (docs/reference.md, The daemon) with the last evaluation's: written to a
    /// hidden name and renamed, so a reader never sees half a page.
    fn write_scorecard(&mut self) {
        let started = std::time::Instant::now();
        self.scorecard_due = false;
        self.draw_scorecard(self.statuses_as_of);
        let took = started.elapsed();
        self.scorecard_next = std::time::Instant::now() + took * SCORECARD_SPACING;
        tracing::debug!(
            scorecard_ms = took.as_millis() as u64,
            "scorecard.html written"
        );
    }

    fn draw_scorecard(&mut self, as_of: NaiveDate) {
        let totals = match self.ledger.counts() {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(error = %e, "cannot count the ledger's reports; scorecard.html not written");
                return;
            }
        };
        let counts = crate::engine::replay::ReportCounts {
            read: totals.reports,
            rejected: totals.rejected,
            skipped: totals.skipped,
        };
        let history = self.standing.tally.history(&self.rules, as_of);
        let page = crate::render::html::scorecard(&crate::render::html::Scorecard {
            as_of,
            counts,
            rules: &self.rules,
            statuses: &self.statuses,
            history: &history,
            marks: self.standing.marks.lists(),
        });
        let path = self.config.state_dir.join("scorecard.html");
        let temp = self.config.state_dir.join(".scorecard.html.tmp");
        let written = std::fs::write(&temp, page).and_then(|()| std::fs::rename(&temp, &path));
        if let Err(e) = written {
            tracing::error!(error = %e, path = %crate::engine::problem::shown(&path), "cannot write the scorecard");
        }
    }

    fn digest(&mut self) {
        if self.statuses.is_empty() {
            self.evaluate();
        }
        for a in &self.statuses {
            let mut counts: Vec<(String, usize)> = Vec::new();
            for s in crate::engine::evaluate::Status::ALL {
                let n = a.commitments.iter().filter(|c| c.status == s).count();
                if n > 0 {
                    counts.push((s.as_str().to_string(), n));
                }
            }
            let summary: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
            let score = a.score.map_or("none".to_string(), |s| format!("{s:+.2}"));
            tracing::info!(
                target: "digest", agreement = %a.id, score = %score, commitments = a.commitments.len(),
                "digest {}: score {score}; {}", a.id, summary.join(", ")
            );
        }
    }
}
