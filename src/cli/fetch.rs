//! `pledgewatch fetch gdelt`: one run of the GDELT feed (docs/reference.md, The GDELT
//! feed), with a progress bar on a terminal and the log lines above it. Exit 0 when every
//! slot in range is done or given up, 75 when some are left for a later run (or another
//! run holds the lock), 78 on a bad config or rules, 1 when the books cannot be kept.

use super::{BadValue, CliError, load_config};
use crate::exit;
use crate::feed::fetch::{Fetcher, Summary};
use crate::feed::gdelt::{Range, RowFilter};
use crate::shell::config::{Config, PartyFilter};
use chrono::{DateTime, Utc};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// Fetch published event data into the inbox.
#[derive(clap::Args)]
pub struct FetchArgs {
    #[command(subcommand)]
    feed: Feed,
}

#[derive(clap::Subcommand)]
enum Feed {
    /// GDELT 2.0: fetch the slots not yet done into the inbox (run by pledgewatch-fetch.timer).
    Gdelt {
        /// Config file (default: $PLEDGEWATCH_CONFIG, then /etc/pledgewatch/pledgewatch.toml).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Fetch the slots from this time once (UTC): YYYY-MM-DD or YYYY-MM-DDTHH:MM.
        #[arg(long, value_parser = parse_from)]
        from: Option<DateTime<Utc>>,
        /// ... up to this time (default: the newest slot); a date means its end.
        #[arg(long, value_parser = parse_to, requires = "from")]
        to: Option<DateTime<Utc>>,
    },
}

fn parse_from(text: &str) -> Result<DateTime<Utc>, BadValue> {
    crate::feed::fetch::parse_when(text, false).map_err(BadValue)
}

fn parse_to(text: &str) -> Result<DateTime<Utc>, BadValue> {
    crate::feed::fetch::parse_when(text, true).map_err(BadValue)
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

impl FetchBar {
    fn new() -> FetchBar {
        if !std::io::stderr().is_terminal() {
            return FetchBar(indicatif::ProgressBar::hidden());
        }
        let bar = indicatif::ProgressBar::new(0);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} slots  {msg}  ETA {eta}")
        {
            bar.set_style(style);
        }
        FetchBar(bar)
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

/// The row filter of `[feed.gdelt]`; with `parties = []` the parties come from the rules.
fn row_filter(config: &Config) -> Result<RowFilter, CliError> {
    let parties = match &config.gdelt.parties {
        PartyFilter::All => None,
        PartyFilter::List(list) => Some(list.iter().cloned().collect()),
        PartyFilter::FromRules => {
            let set = crate::shell::rules_dir::load_dir(&config.rules_dir)
                .map_err(|problems| CliError::Config(problems.into()))?;
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
    Ok(RowFilter {
        parties,
        min_sources: config.gdelt.min_sources,
        root_events_only: config.gdelt.root_events_only,
    })
}

/// Logs what a run did.
fn log_summary(summary: &Summary) {
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
}

/// One run of the feed.
pub fn run(args: FetchArgs) -> Result<u8, CliError> {
    let Feed::Gdelt { config, from, to } = args.feed;
    let config = load_config(config.as_deref())?;
    // SAFETY: umask only sets the process's file mode mask; it cannot fail.
    unsafe { libc::umask(0o027) };
    let bar = FetchBar::new();
    let writer = {
        let bar = bar.0.clone();
        tracing_subscriber::fmt::writer::BoxMakeWriter::new(move || AboveBar(bar.clone()))
    };
    let format = crate::shell::logging::resolve(&config.log_format);
    crate::shell::logging::init_with(format, &config.log_level, writer);
    let filter = row_filter(&config)?;
    let range = match from {
        Some(from) => Range::Between(from, to.unwrap_or(DateTime::<Utc>::MAX_UTC)),
        None => Range::Regular,
    };
    let fetcher = Fetcher {
        feed: &config.gdelt,
        inbox: config.inbox_dir.clone(),
        state_dir: config.state_dir.join("feed"),
        max_size: config.max_file_size,
        max_line: config.max_line_length,
        filter,
        client: crate::shell::http::Client::new(config.gdelt.timeout),
        progress: &bar,
    };
    let result = fetcher.run(range);
    bar.0.finish_and_clear();
    let summary = result?;
    log_summary(&summary);
    Ok(if summary.incomplete() {
        exit::TEMPFAIL
    } else {
        exit::OK
    })
}
