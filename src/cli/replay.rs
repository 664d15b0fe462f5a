//! `pledgewatch replay`: statuses from rules and report files, with no daemon and no state.

use super::inputs::{self, marks_from_files, render, scorecard};
use super::{CliError, parse_as_of, parse_status, print, today_utc};
use crate::engine::evaluate::{Status, evaluate_all};
use crate::exit;
use crate::render::status::Format;
use std::path::PathBuf;

/// Evaluate rules against report files, without daemon or state.
#[derive(clap::Args)]
pub struct ReplayArgs {
    /// Rules folder.
    #[arg(long)]
    pub rules: PathBuf,
    /// Report files or folders (read recursively).
    #[arg(long, num_args = 1.., required = true)]
    pub reports: Vec<PathBuf>,
    /// Evaluation date, YYYY-MM-DD (default: today, UTC).
    #[arg(long, value_parser = parse_as_of)]
    pub as_of: Option<chrono::NaiveDate>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Exit 3 when any commitment has one of these statuses (comma-separated).
    #[arg(long, value_delimiter = ',', value_parser = parse_status)]
    pub fail_on: Vec<Status>,
}

/// Prints the statuses; exit 3 when one of `--fail-on` is among them.
pub fn run(args: ReplayArgs) -> Result<u8, CliError> {
    let as_of = args.as_of.unwrap_or_else(today_utc);
    let inputs = inputs::from_files(&args.rules, &args.reports, as_of)?;
    let set = &inputs.set;
    let statuses = evaluate_all(set, &inputs.events, as_of);
    let page = || {
        let marks = marks_from_files(&inputs.compiled, &inputs.files)
            .per_commitment(set.commitment_count());
        let history = crate::engine::history::history_all(set, &inputs.events, as_of);
        scorecard(set, &statuses, inputs.counts, as_of, &history, &marks)
    };
    print(&render(
        args.format,
        as_of,
        inputs.counts,
        &statuses,
        set,
        page,
    ))?;
    let failed = statuses
        .iter()
        .flat_map(|a| &a.commitments)
        .any(|c| args.fail_on.contains(&c.status));
    Ok(if failed { exit::FAIL_ON } else { exit::OK })
}
