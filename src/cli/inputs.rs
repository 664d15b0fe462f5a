//! What the read-only commands read: rules and report files (`replay`, `history`,
//! `explain --reports`), or the daemon's ledger through its config (`status`, `history`,
//! `explain`); and how statuses are rendered for them.

use super::{CliError, load_config, rules_from_dir};
use crate::engine::evaluate::{AgreementStatus, Event};
use crate::engine::marks::{Mark, MarkSet};
use crate::engine::matcher::{CompiledRules, Scratch};
use crate::engine::problem::shown;
use crate::engine::replay::{ReportCounts, Tally};
use crate::engine::report::Item;
use crate::engine::rules::RuleSet;
use crate::render::status::{self, Format};
use crate::shell::config::Config;
use crate::shell::files::{Notice, ReadOptions, collect_inputs, ingest_bounded};
use crate::shell::ledger::{Ledger, Standing};
use chrono::NaiveDate;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Where `history` and `explain` read reports from.
pub enum Source<'a> {
    /// Rules and report files, no state.
    Files {
        /// Rules folder.
        rules: &'a Path,
        /// Report files and folders.
        reports: &'a [PathBuf],
    },
    /// The daemon's ledger, found through its config file.
    Ledger(Option<&'a Path>),
}

/// What a stateless command read (replay, history): rules, their matcher, the report
/// files, every commitment's events and the report counts.
pub(super) struct Inputs {
    pub set: RuleSet,
    pub compiled: CompiledRules,
    pub files: Vec<PathBuf>,
    pub events: Vec<Vec<Event>>,
    pub counts: ReportCounts,
}

/// Prints a refused record or a file's skip summary on stderr.
pub(super) fn print_notice(notice: Notice<'_>) {
    match notice {
        Notice::Rejected(r) => eprintln!("rejected: {r}"),
        Notice::Skipped(r) => eprintln!("skipped: {r}"),
    }
}

/// Reads the rules and every report of `reports` as of `as_of` (reports dated later are
/// counted as read but kept out of the events).
pub(super) fn from_files(
    rules_dir: &Path,
    reports: &[PathBuf],
    as_of: NaiveDate,
) -> Result<Inputs, CliError> {
    let (set, compiled) = rules_from_dir(rules_dir)?;
    let files = collect_inputs(reports)?;
    let total: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let progress = Progress::start(total);
    let options = ReadOptions {
        progress: progress.as_ref().map(|p| p.counter.clone()),
        ..ReadOptions::default()
    };
    let mut on_notice = |notice: Notice<'_>| match &progress {
        Some(p) => p.bar.suspend(|| print_notice(notice)),
        None => print_notice(notice),
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let tally = Tally::new(&set, as_of);
    let read = ingest_bounded(&compiled, tally, &files, &options, threads, &mut on_notice);
    if let Some(p) = progress {
        p.finish();
    }
    let (events, counts) = read?;
    Ok(Inputs {
        set,
        compiled,
        files,
        events,
        counts,
    })
}

/// The reports of `files` that hit a commitment, for the scorecard's marks (a second,
/// single-threaded pass: only the HTML page needs titles and addresses).
pub(super) fn marks_from_files(compiled: &CompiledRules, files: &[PathBuf]) -> MarkSet {
    let mut marks = MarkSet::default();
    let mut scratch = Scratch::default();
    for file in files {
        crate::shell::files::read_file(file, &ReadOptions::default(), &mut |item| {
            if let Item::Report(r) = item {
                let hits = compiled.match_report(&r, &mut scratch);
                marks.add(&r, &hits);
            }
        });
    }
    marks
}

/// A progress bar on stderr for long replays, shown only when stderr is a terminal: the
/// readers count the bytes they read into `counter`, a thread moves the bar.
struct Progress {
    counter: Arc<AtomicU64>,
    bar: indicatif::ProgressBar,
    done: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Progress {
    fn start(total: u64) -> Option<Progress> {
        if !std::io::stderr().is_terminal() || total < 4 << 20 {
            return None;
        }
        let bar = indicatif::ProgressBar::new(total);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "[{bar:25}] {percent:>3}%  {binary_bytes} / {binary_total_bytes}  ETA {eta}",
        ) {
            bar.set_style(style.progress_chars("## "));
        }
        let counter = Arc::new(AtomicU64::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let (c, d, b) = (counter.clone(), done.clone(), bar.clone());
        let thread = std::thread::spawn(move || {
            while !d.load(Ordering::Relaxed) {
                b.set_position(c.load(Ordering::Relaxed).min(total));
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
        });
        Some(Progress {
            counter,
            bar,
            done,
            thread: Some(thread),
        })
    }

    fn finish(mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.bar.finish_and_clear();
    }
}

/// The config, the rules, the compiled matchers and the ledger (read-only), for `status`
/// and `explain`.
pub(super) fn ledger_view(
    config_flag: Option<&Path>,
) -> Result<(Config, RuleSet, CompiledRules, Ledger), CliError> {
    let config = load_config(config_flag)?;
    let (set, compiled) = rules_from_dir(&config.rules_dir)?;
    if let Some(newer) = crate::shell::ledger::newer_than_known(&config.state_dir) {
        return Err(newer.into());
    }
    let ledger = Ledger::open_read_only(&config.state_dir)?;
    Ok((config, set, compiled, ledger))
}

/// What `status` and `history --config` read of the ledger.
pub(super) struct LedgerStanding {
    pub config: Config,
    pub set: RuleSet,
    pub standing: Standing,
    pub counts: ReportCounts,
}

/// The ledger's tally and marks under the rules on disk, and its report counts
/// (docs/reference.md, Commands). The tally is the one the daemon keeps when it was
/// counted with the same rules; else it is counted from the stored reports now (slower:
/// the rules on disk are not those the daemon runs), and stderr says so.
pub(super) fn ledger_standing(config_flag: Option<&Path>) -> Result<LedgerStanding, CliError> {
    let (config, set, compiled, ledger) = ledger_view(config_flag)?;
    let (standing, stored) = ledger.standing(&set, &compiled)?;
    if !stored {
        eprintln!(
            "note: the ledger's tally was counted with other rules than {}; every stored report was matched again",
            shown(&config.rules_dir)
        );
    }
    let totals = ledger.counts()?;
    let counts = ReportCounts {
        read: totals.reports,
        rejected: totals.rejected,
        skipped: totals.skipped,
    };
    Ok(LedgerStanding {
        config,
        set,
        standing,
        counts,
    })
}

/// The HTML scorecard of `statuses`, with the histories and marks it draws.
pub(super) fn scorecard(
    set: &RuleSet,
    statuses: &[AgreementStatus],
    counts: ReportCounts,
    as_of: NaiveDate,
    history: &[crate::engine::history::AgreementHistory],
    marks: &[Vec<Mark>],
) -> String {
    crate::render::html::scorecard(&crate::render::html::Scorecard {
        as_of,
        counts,
        rules: set,
        statuses,
        history,
        marks,
    })
}

/// Statuses in the chosen format; text is coloured only on a terminal without `NO_COLOR`.
/// The HTML page needs more than the statuses: `html` makes it when it is asked for.
pub(super) fn render(
    format: Format,
    as_of: NaiveDate,
    counts: ReportCounts,
    statuses: &[AgreementStatus],
    set: &RuleSet,
    html: impl FnOnce() -> String,
) -> String {
    match format {
        Format::Html => html(),
        Format::Json => status::json(as_of, counts, statuses),
        Format::Text => {
            let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            status::text(as_of, counts, statuses, colour)
        }
        Format::Markdown => status::markdown(as_of, counts, statuses, set),
    }
}
