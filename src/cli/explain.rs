//! `pledgewatch explain AGREEMENT/COMMITMENT`: the timeline of evidence, talk and breaches
//! behind a status (from the ledger or from files, same output), or with `--report` each
//! report of some files taken apart against the commitment ("why (not)").

use super::inputs::{Source, ledger_view};
use super::{CliError, load_config, parse_as_of, print, rules_from_dir, today_utc};
use crate::engine::explain::{Explanation, Timeline, diagnose, find_target};
use crate::engine::problem::shown;
use crate::engine::report::Item;
use crate::engine::rules::Commitment;
use crate::exit;
use crate::shell::files::{ReadOptions, collect_inputs, read_file};
use chrono::NaiveDate;
use std::path::{Path, PathBuf};

/// Show the evidence, talk and breaches behind one commitment's status, or why the
/// reports of a file do (not) count for it.
#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("from_files").args(["reports", "report"])))]
pub struct ExplainArgs {
    /// AGREEMENT/COMMITMENT, such as kgz-tjk-2007/military-cooperation.
    pub target: String,
    /// Config file: the daemon's ledger, or with --report only its rules_dir (default: $PLEDGEWATCH_CONFIG, then /etc/pledgewatch/pledgewatch.toml).
    #[arg(long, conflicts_with = "rules")]
    pub config: Option<PathBuf>,
    /// Rules folder (with --reports or --report: no daemon needed).
    #[arg(long, requires = "from_files")]
    pub rules: Option<PathBuf>,
    /// Report files or folders (read recursively) to explain the status from, instead of the ledger.
    #[arg(long, num_args = 1.., requires = "rules")]
    pub reports: Vec<PathBuf>,
    /// Take each report of these files apart against the commitment: why it counts or not.
    #[arg(long, num_args = 1..)]
    pub report: Vec<PathBuf>,
    /// Evaluation date, YYYY-MM-DD (default: today, UTC).
    #[arg(long, value_parser = parse_as_of)]
    pub as_of: Option<chrono::NaiveDate>,
}

/// The timeline, or with `--report` the diagnosis of each report.
pub fn run(args: ExplainArgs) -> Result<u8, CliError> {
    let as_of = args.as_of.unwrap_or_else(today_utc);
    if !args.report.is_empty() {
        return why(&args, as_of);
    }
    let source = match &args.rules {
        Some(rules) => Source::Files {
            rules,
            reports: &args.reports,
        },
        None => Source::Ledger(args.config.as_deref()),
    };
    timeline(&args.target, source, as_of)
}

/// The timeline of evidence, talk and breaches behind the commitment's status, with the
/// alternative and phrases that matched each report.
fn timeline(target: &str, source: Source<'_>, as_of: NaiveDate) -> Result<u8, CliError> {
    let (set, compiled, ledger) = match &source {
        Source::Files { rules, .. } => {
            let (set, compiled) = rules_from_dir(rules)?;
            (set, compiled, None)
        }
        Source::Ledger(config) => {
            let (_, set, compiled, ledger) = ledger_view(*config)?;
            (set, compiled, Some(ledger))
        }
    };
    let found = find_target(&set, target).map_err(CliError::Target)?;
    let index = found.0 as usize;
    let mut timeline = Timeline::new(&compiled, found);
    match (&source, &ledger) {
        // the days the tally names, else (other rules) every report
        (_, Some(ledger)) => {
            if ledger
                .reports_for(&set, index, &mut |r| timeline.add(&r))?
                .is_none()
            {
                ledger.reports(&mut |r| timeline.add(&r))?;
            }
        }
        (Source::Files { reports, .. }, None) => timeline_from_files(&mut timeline, reports)?,
        (Source::Ledger(_), None) => {}
    }
    let explanation = timeline.finish(as_of);
    print(&crate::render::explain::timeline(&explanation))?;
    Ok(exit::OK)
}

/// Feeds every report of `paths` (files or folders) to `timeline`, refusals on stderr.
fn timeline_from_files(timeline: &mut Timeline<'_>, paths: &[PathBuf]) -> Result<(), CliError> {
    for file in &collect_inputs(paths)? {
        read_file(file, &ReadOptions::default(), &mut |item| match item {
            Item::Report(r) => timeline.add(&r),
            Item::Rejected(r) => eprintln!("rejected: {r}"),
            Item::Skipped(r) => eprintln!("skipped: {r}"),
        });
    }
    Ok(())
}

/// `--report FILE...`: each report of the files taken apart against the commitment —
/// actor scope, every alternative field by field, strength and date window. Exit 1 when a
/// record of the files was refused (it is listed in its place).
fn why(args: &ExplainArgs, as_of: NaiveDate) -> Result<u8, CliError> {
    let rules_dir = match &args.rules {
        Some(dir) => dir.clone(),
        None => load_config(args.config.as_deref())?.rules_dir,
    };
    let (set, _) = rules_from_dir(&rules_dir)?;
    let (_, agreement, commitment) = find_target(&set, &args.target)
        .map_err(|e| CliError::Target(format!("{e} in {}", rules_dir.display())))?;
    let explanation = Explanation {
        agreement,
        commitment,
        as_of,
        status: None,
        timeline: Vec::new(),
    };
    let mut out = crate::render::explain::header(&explanation);
    let mut refused = false;
    for file in &args.report {
        let mut items = Vec::new();
        read_file(file, &ReadOptions::default(), &mut |item| items.push(item));
        refused |= explain_file(&mut out, file, &items, commitment, as_of);
    }
    print(&out)?;
    Ok(if refused { exit::PROBLEMS } else { exit::OK })
}

/// Appends the diagnosis of every report of one `--report` file to `out`, and its
/// refusals in their place; true when something was refused.
fn explain_file(
    out: &mut String,
    file: &Path,
    items: &[Item],
    commitment: &Commitment,
    as_of: NaiveDate,
) -> bool {
    let shown = shown(file).to_string();
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
                let d = diagnose(commitment, r, as_of);
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
