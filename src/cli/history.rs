//! `pledgewatch history`: every commitment's status as change points from its start to
//! the as-of date (docs/reference.md, History), or with `--every` the status at the end of
//! each period; from files or from the ledger.

use super::inputs::{self, Source, ledger_standing};
use super::{BadValue, CliError, parse_as_of, print, today_utc};
use crate::engine::history::Every;
use crate::exit;
use crate::render::history::{self as out, HistoryFormat};
use std::path::PathBuf;

/// Every commitment's status over time: change points, or one column per period.
#[derive(clap::Args)]
pub struct HistoryArgs {
    /// Rules folder (with --reports: from files, no daemon needed).
    #[arg(long, requires = "reports", conflicts_with = "config")]
    pub rules: Option<PathBuf>,
    /// Report files or folders (read recursively).
    #[arg(long, num_args = 1.., requires = "rules")]
    pub reports: Vec<PathBuf>,
    /// Config file, for the daemon's ledger (default: $PLEDGEWATCH_CONFIG, then /etc/pledgewatch/pledgewatch.toml).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The last day of the history, YYYY-MM-DD (default: today, UTC).
    #[arg(long, value_parser = parse_as_of)]
    pub as_of: Option<chrono::NaiveDate>,
    /// The status at the end of every year, quarter or month instead of change points.
    #[arg(long, value_parser = parse_every)]
    pub every: Option<Every>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: HistoryFormat,
}

/// `--every`: year, quarter or month.
fn parse_every(text: &str) -> Result<Every, BadValue> {
    Every::parse(text)
        .ok_or_else(|| BadValue(format!("{text:?} is not a period (year, quarter, month)")))
}

/// Prints the history in the chosen format.
pub fn run(args: HistoryArgs) -> Result<u8, CliError> {
    let as_of = args.as_of.unwrap_or_else(today_utc);
    let source = match &args.rules {
        Some(rules) => Source::Files {
            rules,
            reports: &args.reports,
        },
        None => Source::Ledger(args.config.as_deref()),
    };
    let (history, counts) = match source {
        Source::Files { rules, reports } => {
            let inputs = inputs::from_files(rules, reports, as_of)?;
            let history = crate::engine::history::history_all(&inputs.set, &inputs.events, as_of);
            (history, inputs.counts)
        }
        Source::Ledger(config) => {
            let mut read = ledger_standing(config)?;
            (read.standing.tally.history(&read.set, as_of), read.counts)
        }
    };
    let text = match (args.every, args.format) {
        (Some(e), f) => out::every(as_of, counts, &history, e, f),
        (None, HistoryFormat::Json) => out::json(as_of, counts, &history),
        (None, HistoryFormat::Text) => out::text(as_of, counts, &history),
        (None, HistoryFormat::Markdown) => out::markdown(as_of, counts, &history),
        (None, HistoryFormat::Csv) => out::csv(&history),
    };
    print(&text)?;
    Ok(exit::OK)
}
