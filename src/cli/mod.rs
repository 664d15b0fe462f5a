//! The `check` and `replay` commands: thin wiring of the core for the command line.

use crate::engine::evaluate::Status;
use crate::engine::evaluate::evaluate_all;
use crate::engine::matcher::CompiledRules;
use crate::engine::problem::Problem;
use crate::engine::rules::RuleSet;
use crate::render::status::{self, Format};
use crate::shell::config::{self, Config};
use crate::shell::files::{Notice, ingest, ingest_bounded};
use crate::shell::files::{ReadOptions, collect_inputs};
use chrono::NaiveDate;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::exit;

pub use crate::shell::today_utc;

/// Where `check` finds the rules.
pub enum RulesSource<'a> {
    /// A rules folder.
    Dir(&'a Path),
    /// A config file (or the default lookup when `None`).
    Config(Option<&'a Path>),
}

/// Statuses in the chosen format; text is coloured only on a terminal without `NO_COLOR`.
/// The HTML page needs more than the statuses: `html` makes it when it is asked for.
fn render(
    format: Format,
    as_of: NaiveDate,
    counts: crate::engine::replay::ReportCounts,
    statuses: &[crate::engine::evaluate::AgreementStatus],
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

/// Writes `text` to stdout; false when it cannot be written (a closed pipe).
fn print(text: &str) -> bool {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .is_ok()
}

fn print_problems(problems: &[Problem]) {
    let mut err = std::io::stderr().lock();
    for p in problems {
        let _ = writeln!(err, "{p}");
    }
}

/// Resolves the rules folder from a config file.
pub fn rules_dir_from_config(flag: Option<&Path>) -> Result<PathBuf, Vec<Problem>> {
    let path = config::locate(flag);
    Config::load(&path).map(|c| c.rules_dir)
}

/// Prints the rules' warnings on stderr as `path:line:column: warning: message`; returns
/// how many there were.
fn print_warnings(set: &RuleSet) -> usize {
    let mut err = std::io::stderr().lock();
    let mut n = 0;
    for w in set.warnings() {
        let shown = Problem {
            message: format!("warning: {}", w.message),
            ..w.clone()
        };
        let _ = writeln!(err, "{shown}");
        n += 1;
    }
    n
}

/// `pledgewatch check`: validates every rule file; prints every problem (exit 1) or a
/// summary, and the warnings (exit 1 for them only when `strict`).
pub fn check(source: RulesSource<'_>, strict: bool) -> u8 {
    let dir = match source {
        RulesSource::Dir(d) => d.to_path_buf(),
        RulesSource::Config(flag) => match rules_dir_from_config(flag) {
            Ok(d) => d,
            Err(problems) => {
                print_problems(&problems);
                return exit::CONFIG;
            }
        },
    };
    match crate::shell::rules_dir::load_dir(&dir) {
        Ok(set) => {
            let compiled = match CompiledRules::new(&set) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("{}: {e}", dir.display());
                    return exit::PROBLEMS;
                }
            };
            let warnings = print_warnings(&set);
            let warned = match warnings {
                0 => String::new(),
                1 => " (1 warning)".to_string(),
                n => format!(" ({n} warnings)"),
            };
            println!(
                "ok: {} agreement{}, {} commitments, {} distinct phrases in {}{warned}",
                set.agreements.len(),
                if set.agreements.len() == 1 { "" } else { "s" },
                set.commitment_count(),
                compiled.phrase_count(),
                dir.display()
            );
            if strict && warnings > 0 {
                exit::PROBLEMS
            } else {
                exit::OK
            }
        }
        Err(problems) => {
            print_problems(&problems);
            let files: std::collections::BTreeSet<_> = problems.iter().map(|p| &p.path).collect();
            eprintln!(
                "{} problem{} in {} file{}",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" },
                files.len(),
                if files.len() == 1 { "" } else { "s" }
            );
            exit::PROBLEMS
        }
    }
}

/// Options of `pledgewatch replay`.
pub struct ReplayArgs {
    /// Rules folder.
    pub rules: PathBuf,
    /// Report files and folders.
    pub reports: Vec<PathBuf>,
    /// Evaluation date.
    pub as_of: NaiveDate,
    /// Output format.
    pub format: Format,
    /// Statuses that make the exit code 3.
    pub fail_on: Vec<Status>,
}

/// What a stateless command read (replay, history): rules, their matcher, the report
/// files, every commitment's events and the report counts.
struct Inputs {
    set: RuleSet,
    compiled: CompiledRules,
    files: Vec<PathBuf>,
    events: Vec<Vec<crate::engine::evaluate::Event>>,
    counts: crate::engine::replay::ReportCounts,
}

/// The reports of `files` that hit a commitment, for the scorecard's marks (a second,
/// single-threaded pass: only the HTML page needs titles and addresses).
fn marks_from_files(compiled: &CompiledRules, files: &[PathBuf]) -> crate::engine::marks::MarkSet {
    let mut marks = crate::engine::marks::MarkSet::default();
    let mut scratch = crate::engine::matcher::Scratch::default();
    for file in files {
        crate::shell::files::read_file(file, &ReadOptions::default(), &mut |item| {
            if let crate::engine::report::Item::Report(r) = item {
                let hits = compiled.match_report(&r, &mut scratch);
                marks.add(&r, &hits);
            }
        });
    }
    marks
}

/// The HTML scorecard of `statuses`, with the histories and marks it draws.
fn html_page(
    set: &RuleSet,
    history: &[crate::engine::history::AgreementHistory],
    statuses: &[crate::engine::evaluate::AgreementStatus],
    counts: crate::engine::replay::ReportCounts,
    as_of: NaiveDate,
    marks: &[Vec<crate::engine::marks::Mark>],
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

/// Reads the rules and every report of `reports` as of `as_of` (reports dated later are
/// counted as read but kept out of the events).
fn inputs_from_files(
    rules_dir: &Path,
    reports: &[PathBuf],
    as_of: NaiveDate,
) -> Result<Inputs, u8> {
    let (set, compiled) = rules_from_dir(rules_dir)?;
    let files = collect_inputs(reports).map_err(|e| {
        eprintln!("{e}");
        exit::PROBLEMS
    })?;
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
    let read = {
        let mut on_notice = |notice: Notice<'_>| {
            if let Some(p) = &progress {
                p.clear_line();
            }
            match notice {
                Notice::Rejected(r) => eprintln!("rejected: {r}"),
                Notice::Skipped(r) => eprintln!("skipped: {r}"),
            }
        };
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let tally = crate::engine::replay::Tally::new(&set, as_of);
        ingest_bounded(&compiled, tally, &files, &options, threads, &mut on_notice)
    };
    if let Some(p) = progress {
        p.finish();
    }
    let (events, counts) = read.map_err(|e| {
        eprintln!("{e}");
        exit::PROBLEMS
    })?;
    Ok(Inputs {
        set,
        compiled,
        files,
        events,
        counts,
    })
}

/// `pledgewatch replay`: statuses from rules and report files, no state.
pub fn replay(args: ReplayArgs) -> u8 {
    let inputs = match inputs_from_files(&args.rules, &args.reports, args.as_of) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let set = &inputs.set;
    let events = &inputs.events;
    let statuses = evaluate_all(set, events, args.as_of);
    let counts = inputs.counts;
    let page = || {
        let marks = marks_from_files(&inputs.compiled, &inputs.files)
            .per_commitment(set.commitment_count());
        let history = crate::engine::history::history_all(set, events, args.as_of);
        html_page(set, &history, &statuses, counts, args.as_of, &marks)
    };
    if !print(&render(
        args.format,
        args.as_of,
        counts,
        &statuses,
        set,
        page,
    )) {
        return exit::PROBLEMS;
    }
    let failed = statuses
        .iter()
        .flat_map(|a| &a.commitments)
        .any(|c| args.fail_on.contains(&c.status));
    if failed { exit::FAIL_ON } else { exit::OK }
}

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

/// `pledgewatch history`: every commitment's status as change points from its start to
/// `as_of` (docs/reference.md, Commands), or with `every` the status at the end of each period.
pub fn history(
    source: Source<'_>,
    as_of: NaiveDate,
    every: Option<crate::engine::history::Every>,
    format: crate::render::history::HistoryFormat,
) -> u8 {
    use crate::render::history::{self as out, HistoryFormat};
    let (history, counts) = match source {
        Source::Files { rules, reports } => match inputs_from_files(rules, reports, as_of) {
            Ok(inputs) => (
                crate::engine::history::history_all(&inputs.set, &inputs.events, as_of),
                inputs.counts,
            ),
            Err(code) => return code,
        },
        Source::Ledger(config) => match ledger_standing(config) {
            Ok((_, set, mut standing, counts)) => (standing.tally.history(&set, as_of), counts),
            Err(code) => return code,
        },
    };
    let text = match (every, format) {
        (Some(e), f) => out::every(as_of, counts, &history, e, f),
        (None, HistoryFormat::Json) => out::json(as_of, counts, &history),
        (None, HistoryFormat::Text) => out::text(as_of, counts, &history),
        (None, HistoryFormat::Markdown) => out::markdown(as_of, counts, &history),
        (None, HistoryFormat::Csv) => out::csv(&history),
    };
    if print(&text) {
        exit::OK
    } else {
        exit::PROBLEMS
    }
}

/// A progress bar on stderr for long replays, shown only when stderr is a terminal.
struct Progress {
    counter: Arc<AtomicU64>,
    done: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Progress {
    fn start(total: u64) -> Option<Progress> {
        if !std::io::stderr().is_terminal() || total < 4 << 20 {
            return None;
        }
        let counter = Arc::new(AtomicU64::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let (c, d) = (counter.clone(), done.clone());
        let thread = std::thread::spawn(move || {
            while !d.load(Ordering::Relaxed) {
                let read = c.load(Ordering::Relaxed).min(total);
                let pct = read * 100 / total.max(1);
                let filled = (pct / 4) as usize;
                eprint!(
                    "\r[{}{}] {pct:>3}%  {} / {} MiB",
                    "#".repeat(filled),
                    " ".repeat(25 - filled),
                    read >> 20,
                    total >> 20
                );
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
        });
        Some(Progress {
            counter,
            done,
            thread: Some(thread),
        })
    }

    fn clear_line(&self) {
        eprint!("\r\x1b[2K");
    }

    fn finish(mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.clear_line();
    }
}

fn load_config(flag: Option<&Path>) -> Result<crate::shell::config::Config, u8> {
    let path = config::locate(flag);
    Config::load(&path).map_err(|problems| {
        print_problems(&problems);
        exit::CONFIG
    })
}

/// The config, the rules, the compiled matchers and the ledger (read-only), for `status`
/// and `explain`; or the exit code.
fn ledger_view(
    config_flag: Option<&Path>,
) -> Result<(Config, RuleSet, CompiledRules, crate::shell::ledger::Ledger), u8> {
    let config = load_config(config_flag)?;
    let (set, compiled) = rules_from_dir(&config.rules_dir)?;
    if let Some(newer) = crate::shell::ledger::newer_than_known(&config.state_dir) {
        eprintln!("{newer}");
        return Err(exit::CONFIG);
    }
    let ledger = crate::shell::ledger::Ledger::open_read_only(&config.state_dir).map_err(|e| {
        eprintln!("{e}");
        exit::PROBLEMS
    })?;
    Ok((config, set, compiled, ledger))
}

/// The config, the rules, the ledger's tally and marks under them, and its report counts
/// (docs/reference.md, Commands): what `status` and `history --config` read. The tally is the one the daemon
/// keeps when it was counted with the same rules; else it is counted from the stored
/// reports now (slower: the rules on disk are not those the daemon runs).
fn ledger_standing(
    config_flag: Option<&Path>,
) -> Result<
    (
        Config,
        RuleSet,
        crate::shell::ledger::Standing,
        crate::engine::replay::ReportCounts,
    ),
    u8,
> {
    let (config, set, compiled, ledger) = ledger_view(config_flag)?;
    let fail = |e: String| {
        eprintln!("{e}");
        exit::PROBLEMS
    };
    let (standing, stored) = ledger.standing(&set, &compiled).map_err(fail)?;
    if !stored {
        eprintln!(
            "note: the ledger's tally was counted with other rules than {}; every stored report was matched again",
            crate::engine::problem::shown(&config.rules_dir)
        );
    }
    let totals = ledger.counts().map_err(fail)?;
    let counts = crate::engine::replay::ReportCounts {
        read: totals.reports,
        rejected: totals.rejected,
        skipped: totals.skipped,
    };
    Ok((config, set, standing, counts))
}

/// `pledgewatch status`: the scorecard from the ledger (works while the daemon runs).
pub fn status(config_flag: Option<&Path>, as_of: NaiveDate, format: Format) -> u8 {
    let (config, set, mut standing, counts) = match ledger_standing(config_flag) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let statuses = standing.tally.statuses(&set, as_of);
    let history = if format == Format::Html {
        standing.tally.history(&set, as_of)
    } else {
        Vec::new()
    };
    let page = || {
        html_page(
            &set,
            &history,
            &statuses,
            counts,
            as_of,
            standing.marks.lists(),
        )
    };
    let mut text = render(format, as_of, counts, &statuses, &set, page);
    if format == Format::Text || format == Format::Markdown {
        text.push_str(&feed_lines(&config, format));
    }
    if !print(&text) {
        return exit::PROBLEMS;
    }
    exit::OK
}

/// Where the GDELT feed stands (`STATE/feed/gdelt.json`), for `status` in text and
/// Markdown; nothing when the feed never ran. (The JSON keeps the shape of docs/reference.md, Commands.)
fn feed_lines(config: &Config, format: Format) -> String {
    let path = config.state_dir.join("feed/gdelt.json");
    if !path.exists() {
        return String::new();
    }
    let lines = match crate::feed::fetch::load_state(&path) {
        Ok(state) => crate::feed::gdelt::describe(&state),
        Err(e) => vec![format!("feed gdelt: {e}")],
    };
    let mut out = String::from(if format == Format::Markdown {
        "\n## Feed\n\n"
    } else {
        "\n"
    });
    for line in lines {
        if format == Format::Markdown {
            out.push_str("- ");
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// `pledgewatch explain AGREEMENT/COMMITMENT`: the timeline of evidence, talk and breaches
/// behind a status, with the alternative and phrases that matched each report; from the
/// daemon's ledger or from files (same output).
pub fn explain(target: &str, source: Source<'_>, as_of: NaiveDate) -> u8 {
    let (set, compiled, ledger) = match &source {
        Source::Files { rules, .. } => match rules_from_dir(rules) {
            Ok((set, compiled)) => (set, compiled, None),
            Err(code) => return code,
        },
        Source::Ledger(config) => match ledger_view(*config) {
            Ok((_, set, compiled, ledger)) => (set, compiled, Some(ledger)),
            Err(code) => return code,
        },
    };
    let found = match crate::engine::explain::find_target(&set, target) {
        Ok(found) => found,
        Err(e) => {
            eprintln!("{e}");
            return exit::PROBLEMS;
        }
    };
    let index = found.0 as usize;
    let mut timeline = crate::engine::explain::Timeline::new(&compiled, found);
    let read = match (&source, &ledger) {
        // the days the tally names, else (other rules) every report
        (_, Some(ledger)) => match ledger.reports_for(&set, index, &mut |r| timeline.add(&r)) {
            Ok(Some(())) => Ok(()),
            Ok(None) => ledger.reports(&mut |r| timeline.add(&r)),
            Err(e) => Err(e),
        },
        (Source::Files { reports, .. }, None) => timeline_from_files(&mut timeline, reports),
        (Source::Ledger(_), None) => Ok(()),
    };
    if let Err(e) = read {
        eprintln!("{e}");
        return exit::PROBLEMS;
    }
    let explanation = timeline.finish(as_of);
    if print(&crate::render::explain::timeline(&explanation)) {
        exit::OK
    } else {
        exit::PROBLEMS
    }
}

/// Feeds every report of `paths` (files or folders) to `timeline`, refusals on stderr.
fn timeline_from_files(
    timeline: &mut crate::engine::explain::Timeline<'_>,
    paths: &[PathBuf],
) -> Result<(), String> {
    use crate::engine::report::Item;
    for file in &collect_inputs(paths).map_err(|e| e.to_string())? {
        crate::shell::files::read_file(file, &ReadOptions::default(), &mut |item| match item {
            Item::Report(r) => timeline.add(&r),
            Item::Rejected(r) => eprintln!("rejected: {r}"),
            Item::Skipped(r) => eprintln!("skipped: {r}"),
        });
    }
    Ok(())
}

/// `pledgewatch explain AGREEMENT/COMMITMENT --report FILE...`: each report of the files
/// taken apart against the commitment — actor scope, every alternative field by field,
/// strength and date window. Exit 1 when a record of the files was refused (it is listed
/// in its place).
pub fn explain_reports(
    target: &str,
    rules: Option<&Path>,
    config_flag: Option<&Path>,
    files: &[PathBuf],
    as_of: NaiveDate,
) -> u8 {
    let rules_dir = match rules {
        Some(dir) => dir.to_path_buf(),
        None => match load_config(config_flag) {
            Ok(config) => config.rules_dir,
            Err(code) => return code,
        },
    };
    let (set, _) = match rules_from_dir(&rules_dir) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let (agreement, commitment) = match crate::engine::explain::find_target(&set, target) {
        Ok((_, a, c)) => (a, c),
        Err(e) => {
            eprintln!("{e} in {}", rules_dir.display());
            return exit::PROBLEMS;
        }
    };
    let explanation = crate::engine::explain::Explanation {
        agreement,
        commitment,
        as_of,
        status: None,
        timeline: Vec::new(),
    };
    let mut out = crate::render::explain::header(&explanation);
    let mut refused = false;
    for file in files {
        let mut items = Vec::new();
        crate::shell::files::read_file(file, &ReadOptions::default(), &mut |item| items.push(item));
        refused |= explain_file(&mut out, file, &items, commitment, as_of);
    }
    if !print(&out) {
        return exit::PROBLEMS;
    }
    if refused { exit::PROBLEMS } else { exit::OK }
}

/// Appends the diagnosis of every report of one `--report` file to `out`, and its
/// refusals in their place; true when something was refused.
fn explain_file(
    out: &mut String,
    file: &Path,
    items: &[crate::engine::report::Item],
    commitment: &crate::engine::rules::Commitment,
    as_of: NaiveDate,
) -> bool {
    use crate::engine::report::Item;
    let shown = crate::engine::problem::shown(file).to_string();
    let total = items
        .iter()
        .filter(|i| matches!(i, Item::Report(_)))
        .count();
    let mut number = 0;
    let mut refused = false;
    for item in items {
        match item {
            Item::Report(r) => {
                number += 1;
                let d = crate::engine::explain::diagnose(commitment, r, as_of);
                out.push_str(&crate::render::explain::diagnosis(
                    &shown, number, total, r, commitment, &d,
                ));
            }
            Item::Rejected(r) => {
                refused = true;
                out.push_str(&format!("\nrejected: {r}\n"));
            }
            Item::Skipped(r) => out.push_str(&format!("\nskipped: {r}\n")),
        }
    }
    if items.is_empty() {
        out.push_str(&format!("\n{shown}: no reports\n"));
    }
    refused
}

/// The rules of `dir` and their matcher; problems printed, or the exit code.
fn rules_from_dir(dir: &Path) -> Result<(RuleSet, CompiledRules), u8> {
    let set = crate::shell::rules_dir::load_dir(dir).map_err(|problems| {
        print_problems(&problems);
        exit::PROBLEMS
    })?;
    let compiled = CompiledRules::new(&set).map_err(|e| {
        eprintln!("{}: {e}", dir.display());
        exit::PROBLEMS
    })?;
    Ok((set, compiled))
}

/// `pledgewatch run`: load the config (exit 78 when invalid), set up logging, run the daemon.
pub fn run(config_flag: Option<&Path>, as_of: Option<NaiveDate>, log_format: Option<&str>) -> u8 {
    let config = match load_config(config_flag) {
        Ok(c) => c,
        Err(code) => return code,
    };
    // Files the daemon creates (ledger, alerts file, .error files) are kept from other users;
    // the group (analysts) may read them.
    unsafe { libc::umask(0o027) };
    let format = crate::shell::logging::resolve(log_format.unwrap_or(&config.log_format));
    crate::shell::logging::init(format, &config.log_level);
    tracing::info!(config = %config.path.display(), rules = %config.rules_dir.display(), "starting pledgewatch {}", env!("CARGO_PKG_VERSION"));
    crate::shell::daemon::run(config, as_of)
}

/// The fetcher's progress bar on a terminal (hidden elsewhere): slots done of all, rows
/// kept, rate and time left.
struct FetchBar(indicatif::ProgressBar);

impl crate::feed::fetch::Progress for FetchBar {
    fn add_slots(&self, n: u64) {
        self.0.inc_length(n);
    }
    fn slot_done(&self, rows_kept: u64) {
        self.0.inc(1);
        let rate = self.0.position() as f64 / self.0.elapsed().as_secs_f64().max(1e-3);
        self.0
            .set_message(format!("{rows_kept} rows kept  {rate:.1} slots/s"));
    }
}

/// A log writer that prints above the progress bar instead of through it.
struct AboveBar(indicatif::ProgressBar);

impl Write for AboveBar {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .suspend(|| std::io::stderr().write_all(buf))
            .map(|()| buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

fn fetch_bar() -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} slots  {msg}  ETA {eta}")
    {
        bar.set_style(style);
    }
    bar
}

/// The row filter of `[feed.gdelt]`; with `parties = []` the parties come from the rules.
fn row_filter(config: &Config) -> Result<crate::feed::gdelt::RowFilter, u8> {
    use crate::shell::config::PartyFilter;
    let parties = match &config.gdelt.parties {
        PartyFilter::All => None,
        PartyFilter::List(list) => Some(list.iter().cloned().collect()),
        PartyFilter::FromRules => {
            let set = crate::shell::rules_dir::load_dir(&config.rules_dir).map_err(|problems| {
                print_problems(&problems);
                exit::CONFIG
            })?;
            let mut parties = std::collections::HashSet::new();
            for a in &set.agreements {
                parties.extend(a.parties.iter().cloned());
                for c in &a.commitments {
                    parties.extend(c.parties.iter().cloned());
                }
            }
            Some(parties)
        }
    };
    Ok(crate::feed::gdelt::RowFilter {
        parties,
        min_sources: config.gdelt.min_sources,
        root_events_only: config.gdelt.root_events_only,
    })
}

/// `pledgewatch fetch gdelt`: one run of the GDELT feed (docs/reference.md, The GDELT feed). Exit 0 when every slot
/// in range is done or given up, 75 when some are left for a later run (or another run
/// holds the lock), 78 on a bad config or rules, 1 when the books cannot be kept.
pub fn fetch_gdelt(
    config_flag: Option<&Path>,
    from: Option<chrono::DateTime<chrono::Utc>>,
    to: Option<chrono::DateTime<chrono::Utc>>,
) -> u8 {
    use crate::feed::fetch::{Fetcher, RunError};
    use crate::feed::gdelt::Range;
    let config = match load_config(config_flag) {
        Ok(c) => c,
        Err(code) => return code,
    };
    unsafe { libc::umask(0o027) };
    let bar = fetch_bar();
    let writer = {
        let bar = bar.clone();
        tracing_subscriber::fmt::writer::BoxMakeWriter::new(move || AboveBar(bar.clone()))
    };
    crate::shell::logging::init_with(
        crate::shell::logging::resolve(&config.log_format),
        &config.log_level,
        writer,
    );
    let filter = match row_filter(&config) {
        Ok(f) => f,
        Err(code) => return code,
    };
    let range = match from {
        Some(from) => Range::Between(from, to.unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC)),
        None => Range::Regular,
    };
    let progress = FetchBar(bar.clone());
    let fetcher = Fetcher {
        feed: &config.gdelt,
        inbox: config.inbox_dir.clone(),
        state_dir: config.state_dir.join("feed"),
        max_size: config.max_file_size,
        max_line: config.max_line_length,
        filter,
        client: crate::feed::http::Client::new(config.gdelt.timeout),
        progress: &progress,
    };
    let result = fetcher.run(range);
    bar.finish_and_clear();
    match result {
        Ok(summary) => {
            tracing::info!(
                written = summary.written,
                empty = summary.empty,
                retry = summary.retry,
                given_up = summary.given_up,
                rows_read = summary.rows_read,
                rows_kept = summary.rows_kept,
                "fetch gdelt: {} written, {} empty, {} to retry, {} given up; {} of {} rows kept",
                summary.written,
                summary.empty,
                summary.retry,
                summary.given_up,
                summary.rows_kept,
                summary.rows_read
            );
            if summary.incomplete() {
                exit::TEMPFAIL
            } else {
                exit::OK
            }
        }
        Err(RunError::Busy(lock)) => {
            tracing::warn!(
                "another `pledgewatch fetch gdelt` is running (it holds {}); not fetching",
                lock.display()
            );
            exit::TEMPFAIL
        }
        Err(RunError::State(message)) => {
            tracing::error!("{message}");
            exit::PROBLEMS
        }
    }
}

/// `pledgewatch test FILE...` (docs/reference.md, Commands): every expectation of every file checked; each
/// differing field printed as `FILE:LINE: TARGET at AS_OF: expected ..., got ... (REASON)`,
/// then `N passed, M failed`. Exit 0 when all pass, 1 when any fails, 2 when a test file or
/// its rules are invalid.
pub fn test(paths: &[PathBuf]) -> u8 {
    let files = match test_files(paths) {
        Ok(files) => files,
        Err(message) => {
            eprintln!("{message}");
            return exit::USAGE;
        }
    };
    let (mut passed, mut failed, mut invalid) = (0usize, 0usize, false);
    for file in &files {
        match test_file(file) {
            Ok(outcome) => {
                passed += outcome.passed;
                failed += outcome.failed;
                invalid |= outcome.invalid;
            }
            Err(()) => invalid = true,
        }
    }
    println!("{passed} passed, {failed} failed");
    if invalid {
        exit::USAGE
    } else if failed > 0 {
        exit::PROBLEMS
    } else {
        exit::OK
    }
}

/// What one test file came to.
struct TestOutcome {
    passed: usize,
    failed: usize,
    /// A target that is not in the rules, or an inline report refused.
    invalid: bool,
}

/// The test files named, with every `*.test.toml` under a folder named (recursively, in
/// path order); a folder without one is an error.
fn test_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        if !path.is_dir() {
            files.push(path.clone());
            continue;
        }
        let found: Vec<PathBuf> = collect_inputs(std::slice::from_ref(path))?
            .into_iter()
            .filter(|f| f.to_string_lossy().ends_with(".test.toml"))
            .collect();
        if found.is_empty() {
            return Err(format!(
                "{}: no *.test.toml file in this folder",
                path.display()
            ));
        }
        files.extend(found);
    }
    Ok(files)
}

fn test_file(path: &Path) -> Result<TestOutcome, ()> {
    use crate::engine::ruletest;
    let text = std::fs::read_to_string(path).map_err(|e| {
        eprintln!("{}: cannot read the test file: {e}", path.display());
    })?;
    let t = ruletest::parse(path, &text).map_err(|p| print_problems(&p))?;
    let (set, compiled) = rules_from_dir(&t.rules).map_err(|_| ())?;
    let mut invalid = false;
    let mut evidence = if t.reports.is_empty() {
        crate::engine::replay::EvidenceSet::default()
    } else {
        let files = collect_inputs(&t.reports).map_err(|e| eprintln!("{}: {e}", path.display()))?;
        let mut on_notice = |notice: Notice<'_>| match notice {
            Notice::Rejected(r) => eprintln!("rejected: {r}"),
            Notice::Skipped(r) => eprintln!("skipped: {r}"),
        };
        ingest(
            &compiled,
            &files,
            &ReadOptions::default(),
            1,
            &mut on_notice,
        )
    };
    let mut scratch = crate::engine::matcher::Scratch::default();
    for (line, report) in &t.inline {
        crate::engine::report::read_bytes(
            path,
            crate::engine::report::Format::Toml,
            report.as_bytes(),
            &mut |item| match item {
                crate::engine::report::Item::Report(r) => {
                    let hits = compiled.match_report(&r, &mut scratch);
                    evidence.add(&r, hits);
                }
                crate::engine::report::Item::Rejected(rej)
                | crate::engine::report::Item::Skipped(rej) => {
                    let field = rej
                        .field
                        .as_deref()
                        .map(|f| format!("field `{f}`: "))
                        .unwrap_or_default();
                    eprintln!(
                        "{}:{line}:1: [[report]]: {field}{}",
                        path.display(),
                        rej.message
                    );
                    invalid = true;
                }
            },
        );
    }
    let events = evidence.events(set.commitment_count());
    let mut at: std::collections::BTreeMap<
        NaiveDate,
        Vec<crate::engine::evaluate::AgreementStatus>,
    > = std::collections::BTreeMap::new();
    let (mut passed, mut failed) = (0, 0);
    for x in &t.expects {
        let statuses = at
            .entry(x.as_of)
            .or_insert_with(|| evaluate_all(&set, &events, x.as_of));
        match ruletest::check(x, statuses) {
            Ok(diffs) if diffs.is_empty() => passed += 1,
            Ok(diffs) => {
                failed += 1;
                for d in diffs {
                    println!(
                        "{}:{}: {} at {}: {d}",
                        path.display(),
                        x.line,
                        x.target,
                        x.as_of
                    );
                }
            }
            Err(message) => {
                eprintln!("{}:{}:1: {message}", path.display(), x.line);
                invalid = true;
            }
        }
    }
    Ok(TestOutcome {
        passed,
        failed,
        invalid,
    })
}
