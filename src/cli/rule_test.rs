//! `pledgewatch test FILE...` (docs/reference.md, Rule tests): every expectation of every
//! test file checked; each differing field printed as `FILE:LINE: TARGET at AS_OF:
//! expected ..., got ... (REASON)`, then `N passed, M failed`. Exit 0 when all pass, 1
//! when any fails, 2 when a test file or its rules are invalid.

use super::inputs::print_notice;
use super::{CliError, print_problems, rules_from_dir};
use crate::engine::evaluate::{AgreementStatus, evaluate_all};
use crate::engine::matcher::{CompiledRules, Scratch};
use crate::engine::replay::EvidenceSet;
use crate::engine::report::{Format, Item};
use crate::engine::ruletest::{self, TestFile};
use crate::exit;
use crate::shell::files::{ReadOptions, collect_inputs, ingest};
use chrono::NaiveDate;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Check what rules must say on given reports: test files of expectations.
#[derive(clap::Args)]
pub struct TestArgs {
    /// Test files (TOML: rules, reports, report and expect tables), or folders holding
    /// *.test.toml files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// What one test file came to.
#[derive(Default)]
struct Outcome {
    passed: usize,
    failed: usize,
    /// The file, its rules, a target or an inline report is invalid.
    invalid: bool,
}

/// Runs every test file named (and under every folder named).
pub fn run(args: TestArgs) -> Result<u8, CliError> {
    let files = test_files(&args.files)?;
    let mut all = Outcome::default();
    for file in &files {
        let outcome = test_file(file);
        all.passed += outcome.passed;
        all.failed += outcome.failed;
        all.invalid |= outcome.invalid;
    }
    println!("{} passed, {} failed", all.passed, all.failed);
    Ok(if all.invalid {
        exit::USAGE
    } else if all.failed > 0 {
        exit::PROBLEMS
    } else {
        exit::OK
    })
}

/// The test files named, with every `*.test.toml` under a folder named (recursively, in
/// path order); a folder without one is an error.
fn test_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    let mut files = Vec::new();
    for path in paths {
        if !path.is_dir() {
            files.push(path.clone());
            continue;
        }
        let found: Vec<PathBuf> = collect_inputs(std::slice::from_ref(path))
            .map_err(|e| CliError::TestFiles(e.to_string()))?
            .into_iter()
            .filter(|f| f.to_string_lossy().ends_with(".test.toml"))
            .collect();
        if found.is_empty() {
            return Err(CliError::TestFiles(format!(
                "{}: no *.test.toml file in this folder",
                path.display()
            )));
        }
        files.extend(found);
    }
    Ok(files)
}

/// Reads, runs and prints one test file; an invalid one says why on stderr.
fn test_file(path: &Path) -> Outcome {
    let invalid = Outcome {
        invalid: true,
        ..Outcome::default()
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("{}: cannot read the test file: {e}", path.display());
            return invalid;
        }
    };
    let t = match ruletest::parse(path, &text) {
        Ok(t) => t,
        Err(problems) => {
            print_problems(&problems);
            return invalid;
        }
    };
    let (set, compiled) = match rules_from_dir(&t.rules) {
        Ok(rules) => rules,
        Err(e) => {
            eprintln!("{e}");
            return invalid;
        }
    };
    let Some((evidence, inline_ok)) = evidence_of(path, &t, &compiled) else {
        return invalid;
    };
    let events = evidence.events(set.commitment_count());
    let mut outcome = check_expectations(path, &t, &mut |as_of| evaluate_all(&set, &events, as_of));
    outcome.invalid |= !inline_ok;
    outcome
}

/// The evidence of the test's report files and inline reports, and whether every inline
/// report was valid; `None` when the report files cannot be listed.
fn evidence_of(path: &Path, t: &TestFile, compiled: &CompiledRules) -> Option<(EvidenceSet, bool)> {
    let mut evidence = if t.reports.is_empty() {
        EvidenceSet::default()
    } else {
        let files = collect_inputs(&t.reports)
            .map_err(|e| eprintln!("{}: {e}", path.display()))
            .ok()?;
        let options = ReadOptions::default();
        ingest(compiled, &files, &options, 1, &mut print_notice)
    };
    let mut scratch = Scratch::default();
    let mut valid = true;
    for (line, report) in &t.inline {
        crate::engine::report::read_bytes(path, Format::Toml, report.as_bytes(), &mut |item| {
            match item {
                Item::Report(r) => {
                    let hits = compiled.match_report(&r, &mut scratch);
                    evidence.add(&r, hits);
                }
                Item::Rejected(rej) | Item::Skipped(rej) => {
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
                    valid = false;
                }
            }
        });
    }
    Some((evidence, valid))
}

/// Checks every expectation against the statuses at its date (each date evaluated once)
/// and prints each differing field.
fn check_expectations(
    path: &Path,
    t: &TestFile,
    evaluate: &mut dyn FnMut(NaiveDate) -> Vec<AgreementStatus>,
) -> Outcome {
    let mut at: BTreeMap<NaiveDate, Vec<AgreementStatus>> = BTreeMap::new();
    let mut outcome = Outcome::default();
    for x in &t.expects {
        let statuses = at.entry(x.as_of).or_insert_with(|| evaluate(x.as_of));
        match ruletest::check(x, statuses) {
            Ok(diffs) if diffs.is_empty() => outcome.passed += 1,
            Ok(diffs) => {
                outcome.failed += 1;
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
                outcome.invalid = true;
            }
        }
    }
    outcome
}
