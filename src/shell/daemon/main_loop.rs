//! The daemon's async loop: signals, the inotify watch on the inbox, the schedules and
//! systemd's notifications. It owns no data: what happens to files and statuses is the
//! worker's; the loop only turns what it hears into [`Job`]s and the worker's [`Event`]s
//! into notifications.

use super::{DaemonError, Event, Job, worker};
use crate::engine::problem::shown;
use crate::engine::rules::RuleSet;
use crate::engine::schedule::Cron;
use crate::shell::config::Config;
use crate::shell::inbox::Inbox;
use chrono::{NaiveDate, Utc};
use notify::Watcher;
use sd_notify::NotifyState;
use std::collections::HashSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::time::{Instant, Interval, MissedTickBehavior, Sleep};

/// Sends a notification to systemd; outside systemd it does nothing.
fn notify(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::debug!(error = %e, "sd_notify failed");
    }
}

/// One daemon per state folder: a second one would keep its own tally beside the first's
/// and write the same ledger. The lock lasts as long as the returned file is open.
fn lock_state_folder(state_dir: &Path) -> Result<std::fs::File, DaemonError> {
    let path = state_dir.join("daemon.lock");
    let failed = |source| DaemonError::Lock {
        path: path.clone(),
        source,
    };
    let file = std::fs::File::create(&path).map_err(failed)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(DaemonError::Locked(path)),
        Err(std::fs::TryLockError::Error(e)) => Err(failed(e)),
    }
}

/// The folder `dir` as (device, inode), if it is one.
fn folder_id(dir: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(dir)
        .ok()
        .filter(|m| m.is_dir())
        .map(|m| (m.dev(), m.ino()))
}

/// The inotify watch on the inbox, set up again on a new folder when the inbox folder is
/// deleted and recreated.
struct InboxWatch {
    watcher: notify::RecommendedWatcher,
    dir: PathBuf,
    /// The folder being watched, by device and inode.
    watched: Option<(u64, u64)>,
}

impl InboxWatch {
    /// Watches `dir`, sending its events to `events`.
    fn new(
        dir: &Path,
        events: UnboundedSender<notify::Result<notify::Event>>,
    ) -> Result<InboxWatch, DaemonError> {
        let failed = |source| DaemonError::Watch {
            path: dir.to_path_buf(),
            source,
        };
        let mut watcher = notify::recommended_watcher(move |res| {
            let _ = events.send(res);
        })
        .map_err(failed)?;
        watcher
            .watch(dir, notify::RecursiveMode::NonRecursive)
            .map_err(failed)?;
        Ok(InboxWatch {
            watcher,
            dir: dir.to_path_buf(),
            watched: folder_id(dir),
        })
    }

    /// Looks whether the inbox folder is still the one watched; when it was replaced, the
    /// watch moves to the new one. True when the inbox should be scanned.
    fn recheck(&mut self) -> bool {
        let now = folder_id(&self.dir);
        if now == self.watched {
            return false;
        }
        let _ = self.watcher.unwatch(&self.dir);
        self.watched = now;
        let inbox = shown(&self.dir);
        if now.is_none() {
            tracing::error!(inbox = %inbox, "the inbox folder is gone; waiting for it to come back");
            return false;
        }
        match self
            .watcher
            .watch(&self.dir, notify::RecursiveMode::NonRecursive)
        {
            Ok(()) => {
                tracing::warn!(inbox = %inbox, "the inbox folder was replaced; watching the new one");
                true
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot watch the new inbox folder");
                false
            }
        }
    }
}

/// What a burst of inotify events asks for: `None` when nothing but reads and removals
/// happened, else a scan, with the names known to be complete (renamed in, or closed after
/// writing).
fn scan_for(events: Vec<notify::Result<notify::Event>>) -> Option<HashSet<OsString>> {
    use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind, RenameMode};
    let mut complete = HashSet::new();
    let mut relevant = false;
    for res in events {
        let event = match res {
            Ok(event) => event,
            Err(e) => {
                tracing::warn!(error = %e, "inotify error; rescanning the inbox");
                relevant = true;
                continue;
            }
        };
        // Reading (our own scans and hashing open files and the folder) changes nothing:
        // only writes, creations, renames and overflow do.
        if event.need_rescan() {
            tracing::warn!("inotify queue overflowed; rescanning the inbox");
            relevant = true;
            continue;
        }
        match event.kind {
            EventKind::Modify(ModifyKind::Name(RenameMode::To | RenameMode::Both))
            | EventKind::Access(AccessKind::Close(AccessMode::Write)) => {
                relevant = true;
                let names = event.paths.iter().filter_map(|p| p.file_name());
                complete.extend(names.map(|n| n.to_os_string()));
            }
            EventKind::Access(_)
            | EventKind::Remove(_)
            | EventKind::Modify(ModifyKind::Name(RenameMode::From)) => {}
            _ => relevant = true,
        }
    }
    relevant.then_some(complete)
}

/// The wall-clock instant of the next fire time of `cron`, as a tokio instant.
fn next_fire(cron: &Cron) -> Instant {
    let now = Utc::now();
    let next = cron
        .next_after(now)
        .unwrap_or(now + chrono::Duration::days(3650));
    Instant::now() + (next - now).to_std().unwrap_or_default()
}

/// An interval that never fires faster than every 10 ms, and after a stall waits a whole
/// period again.
fn every(period: Duration) -> Interval {
    let mut tick = tokio::time::interval(period.max(Duration::from_millis(10)));
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    tick
}

/// The loop's clocks: the safety-net rescan, the inbox folder's recheck, the watchdog and
/// the two schedules (which a reload may change).
struct Timers {
    rescan: Interval,
    recheck: Interval,
    watchdog: Option<Interval>,
    evaluate: Cron,
    digest: Cron,
    evaluate_at: Pin<Box<Sleep>>,
    digest_at: Pin<Box<Sleep>>,
}

impl Timers {
    fn new(config: &Config) -> Timers {
        let mut recheck = tokio::time::interval(Duration::from_millis(250));
        recheck.set_missed_tick_behavior(MissedTickBehavior::Skip);
        Timers {
            rescan: every(config.rescan_interval),
            recheck,
            watchdog: sd_notify::watchdog_enabled().map(|d| every(d / 2)),
            evaluate: config.evaluate.clone(),
            digest: config.digest.clone(),
            evaluate_at: Box::pin(tokio::time::sleep_until(next_fire(&config.evaluate))),
            digest_at: Box::pin(tokio::time::sleep_until(next_fire(&config.digest))),
        }
    }

    /// Takes the schedules and the rescan period of a reloaded config.
    fn reload(&mut self, config: &Config) {
        let watchdog = self.watchdog.take();
        *self = Timers::new(config);
        self.watchdog = watchdog;
    }
}

/// Waits for the watchdog's next tick, or forever without a watchdog.
async fn watchdog_tick(watchdog: &mut Option<Interval>) {
    match watchdog {
        Some(tick) => {
            tick.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// The worker thread and the channels to and from it.
struct WorkerHandle {
    jobs: std::sync::mpsc::Sender<Job>,
    events: UnboundedReceiver<Event>,
    thread: std::thread::JoinHandle<()>,
    stop: Arc<AtomicBool>,
}

impl WorkerHandle {
    fn spawn(
        config: &Config,
        as_of: Option<NaiveDate>,
        rules: RuleSet,
        inbox: Inbox,
        feeds: super::Feeds,
    ) -> Result<WorkerHandle, DaemonError> {
        let stop = Arc::new(AtomicBool::new(false));
        let (jobs, job_rx) = std::sync::mpsc::channel::<Job>();
        let (event_tx, events) = unbounded_channel::<Event>();
        let start = worker::Start {
            config: config.clone(),
            as_of,
            rules,
            inbox,
            stop: stop.clone(),
            feeds,
        };
        let thread = std::thread::Builder::new()
            .name("pledgewatch-worker".into())
            .spawn(move || worker::main(start, job_rx, event_tx))
            .map_err(|source| DaemonError::Start {
                what: "the worker thread",
                source,
            })?;
        Ok(WorkerHandle {
            jobs,
            events,
            thread,
            stop,
        })
    }

    fn send(&self, job: Job) {
        if self.jobs.send(job).is_err() {
            tracing::error!("the worker thread has stopped");
        }
    }

    /// Asks the worker to stop after the file in hand and waits for it.
    async fn stop(self) -> Result<(), DaemonError> {
        self.stop.store(true, Ordering::SeqCst);
        drop(self.jobs);
        let thread = self.thread;
        match tokio::task::spawn_blocking(move || thread.join()).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(DaemonError::WorkerGone),
        }
    }
}

/// SIGTERM, SIGINT and SIGHUP.
struct Signals {
    term: Signal,
    int: Signal,
    hup: Signal,
}

impl Signals {
    fn install() -> Result<Signals, DaemonError> {
        let install = |kind| {
            signal(kind).map_err(|source| DaemonError::Start {
                what: "the signal handlers",
                source,
            })
        };
        Ok(Signals {
            term: install(SignalKind::terminate())?,
            int: install(SignalKind::interrupt())?,
            hup: install(SignalKind::hangup())?,
        })
    }
}

/// Tells systemd a reload has begun.
fn notify_reloading() {
    let status = NotifyState::Status("reloading rules");
    match NotifyState::monotonic_usec_now() {
        Ok(now) => notify(&[NotifyState::Reloading, now, status]),
        Err(_) => notify(&[NotifyState::Reloading, status]),
    }
}

/// What the loop does after one of the worker's events: go on, or stop with an error.
fn on_event(event: Option<Event>, timers: &mut Timers) -> Result<(), DaemonError> {
    match event {
        Some(Event::Ready(status)) => {
            tracing::info!(status = %status, "ready");
            notify(&[NotifyState::Ready, NotifyState::Status(&status)]);
        }
        Some(Event::Reloaded(Ok((status, config)))) => {
            tracing::info!(status = %status, "configuration and rules reloaded");
            timers.reload(&config);
            notify(&[NotifyState::Ready, NotifyState::Status(&status)]);
        }
        Some(Event::Reloaded(Err(status))) => {
            notify(&[NotifyState::Ready, NotifyState::Status(&status)]);
        }
        Some(Event::Fatal(message)) => return Err(DaemonError::Worker(message)),
        None => return Err(DaemonError::WorkerGone),
    }
    Ok(())
}

/// Sets everything up (inbox folders, lock, watch, worker, signals), then runs the loop
/// until a signal stops it or the worker cannot go on.
pub(super) async fn run(
    config: Config,
    as_of: Option<NaiveDate>,
    rules: RuleSet,
    feeds: super::Feeds,
) -> Result<(), DaemonError> {
    let inbox = Inbox::new(
        &config.inbox_dir,
        &config.state_dir,
        config.max_file_size,
        config.settle,
    )
    .map_err(|(path, source)| DaemonError::Folders { path, source })?;
    let _lock = lock_state_folder(&config.state_dir)?;
    // The watch is set up before the worker's first scan, so no file can slip between them.
    let (fs_tx, fs_rx) = unbounded_channel::<notify::Result<notify::Event>>();
    let mut watch = InboxWatch::new(&config.inbox_dir, fs_tx)?;
    let mut worker = WorkerHandle::spawn(&config, as_of, rules, inbox, feeds)?;
    let signals = Signals::install()?;
    let result = serve(&config, &mut watch, fs_rx, &mut worker, signals).await;
    notify(&[NotifyState::Stopping, NotifyState::Status("stopping")]);
    drop(watch);
    let stopped = worker.stop().await;
    tracing::info!("stopped");
    result.and(stopped)
}

/// The loop itself: until a signal stops it (`Ok`) or the worker cannot go on.
async fn serve(
    config: &Config,
    watch: &mut InboxWatch,
    mut fs_rx: UnboundedReceiver<notify::Result<notify::Event>>,
    worker: &mut WorkerHandle,
    mut signals: Signals,
) -> Result<(), DaemonError> {
    let mut timers = Timers::new(config);
    loop {
        tokio::select! {
            _ = signals.term.recv() => { tracing::info!("SIGTERM: stopping"); return Ok(()); }
            _ = signals.int.recv() => { tracing::info!("SIGINT: stopping"); return Ok(()); }
            _ = signals.hup.recv() => {
                tracing::info!("SIGHUP: reloading the rules");
                notify_reloading();
                worker.send(Job::Reload);
            }
            Some(first) = fs_rx.recv() => {
                let mut burst = vec![first];
                while let Ok(more) = fs_rx.try_recv() {
                    burst.push(more);
                }
                if let Some(complete) = scan_for(burst) {
                    worker.send(Job::Scan(complete));
                }
            }
            _ = timers.rescan.tick() => worker.send(Job::Scan(HashSet::new())),
            _ = timers.recheck.tick() => if watch.recheck() {
                worker.send(Job::Scan(HashSet::new()));
            },
            _ = &mut timers.evaluate_at => {
                worker.send(Job::Evaluate);
                let at = next_fire(&timers.evaluate);
                timers.evaluate_at.as_mut().reset(at);
            }
            _ = &mut timers.digest_at => {
                worker.send(Job::Digest);
                let at = next_fire(&timers.digest);
                timers.digest_at.as_mut().reset(at);
            }
            _ = watchdog_tick(&mut timers.watchdog) => notify(&[NotifyState::Watchdog]),
            event = worker.events.recv() => on_event(event, &mut timers)?,
        }
    }
}
