//! Rendering histories (docs/reference.md, History `history`): the JSON of change points, the change points for
//! people (text, Markdown, CSV), and the compliance-cycle table of `--every`.

use super::to_json;
use crate::engine::evaluate::Status;
use crate::engine::history::{AgreementHistory, Change, Every, period_ends, score_on, status_on};
use crate::engine::replay::ReportCounts;
use chrono::NaiveDate;
use serde::Serialize;
use std::fmt::Write as _;

/// The output formats of `history`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HistoryFormat {
    /// Lines for people.
    Text,
    /// One JSON object (docs/reference.md, History).
    Json,
    /// Comma-separated values.
    Csv,
    /// A Markdown report.
    Markdown,
}

#[derive(Serialize)]
struct JsonHistory<'a> {
    as_of: String,
    reports: ReportCounts,
    agreements: Vec<JsonAgreement<'a>>,
}

#[derive(Serialize)]
struct JsonAgreement<'a> {
    id: &'a str,
    title: &'a str,
    commitments: Vec<JsonCommitment<'a>>,
}

#[derive(Serialize)]
struct JsonCommitment<'a> {
    id: &'a str,
    start: String,
    changes: Vec<JsonChange>,
    parties: Vec<JsonParty<'a>>,
}

#[derive(Serialize)]
struct JsonParty<'a> {
    party: &'a str,
    changes: Vec<JsonChange>,
}

#[derive(Serialize)]
struct JsonChange {
    date: String,
    status: &'static str,
}

fn json_changes(changes: &[Change]) -> Vec<JsonChange> {
    changes
        .iter()
        .map(|c| JsonChange {
            date: c.date.to_string(),
            status: c.status.as_str(),
        })
        .collect()
}

/// The docs/reference.md, History history object: change points per commitment (and party).
pub fn json(as_of: NaiveDate, counts: ReportCounts, history: &[AgreementHistory]) -> String {
    to_json(&JsonHistory {
        as_of: as_of.to_string(),
        reports: counts,
        agreements: history
            .iter()
            .map(|a| JsonAgreement {
                id: &a.id,
                title: &a.title,
                commitments: a
                    .commitments
                    .iter()
                    .map(|c| JsonCommitment {
                        id: &c.id,
                        start: c.start.to_string(),
                        changes: json_changes(&c.changes),
                        parties: c
                            .parties
                            .iter()
                            .map(|(party, changes)| JsonParty {
                                party,
                                changes: json_changes(changes),
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
    })
}

fn change_line(changes: &[Change], arrow: &str) -> String {
    if changes.is_empty() {
        return "(starts after the as-of date)".into();
    }
    changes
        .iter()
        .map(|c| format!("{} {}", c.date, c.status.as_str()))
        .collect::<Vec<_>>()
        .join(arrow)
}

/// Change points for people: one line per commitment (and party).
pub fn text(as_of: NaiveDate, counts: ReportCounts, history: &[AgreementHistory]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "history to {as_of}: {} reports read, {} rejected, {} skipped",
        counts.read, counts.rejected, counts.skipped
    );
    for a in history {
        let _ = writeln!(out, "\n{}  {}", a.id, a.title);
        for c in &a.commitments {
            let _ = writeln!(out, "  {}: {}", c.id, change_line(&c.changes, " -> "));
            for (party, changes) in &c.parties {
                let _ = writeln!(out, "    {party}: {}", change_line(changes, " -> "));
            }
        }
    }
    out
}

/// Change points as a Markdown report.
pub fn markdown(as_of: NaiveDate, counts: ReportCounts, history: &[AgreementHistory]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Commitment history to {as_of}\n");
    let _ = writeln!(
        out,
        "Reports: {} read, {} rejected, {} skipped.\n",
        counts.read, counts.rejected, counts.skipped
    );
    for a in history {
        let _ = writeln!(out, "## {} (`{}`)\n", a.title.replace('\n', " "), a.id);
        for c in &a.commitments {
            let _ = writeln!(out, "- `{}`: {}", c.id, change_line(&c.changes, " → "));
            for (party, changes) in &c.parties {
                let _ = writeln!(out, "  - {party}: {}", change_line(changes, " → "));
            }
        }
        out.push('\n');
    }
    out
}

/// Change points as CSV: `agreement,commitment,party,date,status`, one row per change.
pub fn csv(history: &[AgreementHistory]) -> String {
    let mut out = String::from("agreement,commitment,party,date,status\n");
    for a in history {
        for c in &a.commitments {
            for ch in &c.changes {
                let _ = writeln!(out, "{},{},,{},{}", a.id, c.id, ch.date, ch.status.as_str());
            }
            for (party, changes) in &c.parties {
                for ch in changes {
                    let _ = writeln!(
                        out,
                        "{},{},{party},{},{}",
                        a.id,
                        c.id,
                        ch.date,
                        ch.status.as_str()
                    );
                }
            }
        }
    }
    out
}

/// One row of the compliance-cycle table: a commitment or one of its parties.
struct Row<'a> {
    agreement: &'a str,
    commitment: &'a str,
    party: Option<&'a str>,
    cells: Vec<Option<Status>>,
}

/// One agreement's part of the table: its rows and its score per date.
struct Part<'a>(&'a AgreementHistory, Vec<Row<'a>>, Vec<Option<f64>>);

/// The compliance-cycle table: the dates, and per agreement its rows and score per date.
struct Table<'a> {
    dates: Vec<NaiveDate>,
    agreements: Vec<Part<'a>>,
}

fn table(history: &[AgreementHistory], as_of: NaiveDate, every: Every) -> Table<'_> {
    let first = history
        .iter()
        .flat_map(|a| a.commitments.iter().map(|c| c.start))
        .min()
        .unwrap_or(as_of);
    let dates = period_ends(first, as_of, every);
    let cells = |changes: &[Change]| dates.iter().map(|d| status_on(changes, *d)).collect();
    let agreements = history
        .iter()
        .map(|a| {
            let mut rows = Vec::new();
            for c in &a.commitments {
                rows.push(Row {
                    agreement: &a.id,
                    commitment: &c.id,
                    party: None,
                    cells: cells(&c.changes),
                });
                for (party, changes) in &c.parties {
                    rows.push(Row {
                        agreement: &a.id,
                        commitment: &c.id,
                        party: Some(party),
                        cells: cells(changes),
                    });
                }
            }
            let scores = dates.iter().map(|d| score_on(a, *d)).collect();
            Part(a, rows, scores)
        })
        .collect();
    Table { dates, agreements }
}

fn cell(status: Option<Status>) -> &'static str {
    status.map_or("", Status::as_str)
}

fn score_cell(score: Option<f64>) -> String {
    score.map_or(String::new(), |s| format!("{s:+.2}"))
}

/// `--every`: the status of every commitment (and party) at the end of each period, and
/// the agreement's score per period as its last row.
pub fn every(
    as_of: NaiveDate,
    counts: ReportCounts,
    history: &[AgreementHistory],
    every: Every,
    format: HistoryFormat,
) -> String {
    let t = table(history, as_of, every);
    match format {
        HistoryFormat::Csv => every_csv(&t),
        HistoryFormat::Json => every_json(as_of, counts, &t),
        HistoryFormat::Markdown => every_markdown(as_of, &t),
        HistoryFormat::Text => every_text(as_of, counts, &t),
    }
}

fn every_csv(t: &Table<'_>) -> String {
    let mut out = String::from("agreement,commitment,party");
    for d in &t.dates {
        let _ = write!(out, ",{d}");
    }
    out.push('\n');
    for Part(a, rows, scores) in &t.agreements {
        for r in rows {
            let _ = write!(
                out,
                "{},{},{}",
                r.agreement,
                r.commitment,
                r.party.unwrap_or("")
            );
            for c in &r.cells {
                let _ = write!(out, ",{}", cell(*c));
            }
            out.push('\n');
        }
        let _ = write!(out, "{},(score),", a.id);
        for s in scores {
            let _ = write!(out, ",{}", score_cell(*s));
        }
        out.push('\n');
    }
    out
}

fn row_label(r: &Row<'_>) -> String {
    match r.party {
        Some(p) => format!("{}/{p}", r.commitment),
        None => r.commitment.to_string(),
    }
}

fn every_text(as_of: NaiveDate, counts: ReportCounts, t: &Table<'_>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "status at the end of each period to {as_of}: {} reports read, {} rejected, {} skipped",
        counts.read, counts.rejected, counts.skipped
    );
    for Part(a, rows, scores) in &t.agreements {
        let width = rows
            .iter()
            .map(|r| row_label(r).len())
            .max()
            .unwrap_or(5)
            .max(7);
        let _ = writeln!(out, "\n{}  {}", a.id, a.title);
        let _ = write!(out, "  {:<width$}", "");
        for d in &t.dates {
            let _ = write!(out, "  {:<11}", d.to_string());
        }
        out.push('\n');
        for r in rows {
            let _ = write!(out, "  {:<width$}", row_label(r));
            for c in &r.cells {
                let _ = write!(out, "  {:<11}", if c.is_some() { cell(*c) } else { "-" });
            }
            out.push('\n');
        }
        let _ = write!(out, "  {:<width$}", "(score)");
        for s in scores {
            let text = score_cell(*s);
            let _ = write!(
                out,
                "  {:<11}",
                if text.is_empty() { "none" } else { &text }
            );
        }
        out.push('\n');
    }
    out
}

fn every_markdown(as_of: NaiveDate, t: &Table<'_>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Compliance by period to {as_of}\n");
    for Part(a, rows, scores) in &t.agreements {
        let _ = writeln!(out, "## {} (`{}`)\n", a.title.replace('\n', " "), a.id);
        out.push_str("| Commitment |");
        for d in &t.dates {
            let _ = write!(out, " {d} |");
        }
        out.push_str("\n| --- |");
        out.push_str(&" --- |".repeat(t.dates.len()));
        out.push('\n');
        for r in rows {
            let _ = write!(out, "| `{}` |", row_label(r));
            for c in &r.cells {
                let status = cell(*c).replace('_', " ");
                let status = if c.is_some_and(Status::is_alarm) {
                    format!("**{status}**")
                } else {
                    status
                };
                let _ = write!(out, " {status} |");
            }
            out.push('\n');
        }
        out.push_str("| **score** |");
        for s in scores {
            let _ = write!(out, " {} |", score_cell(*s));
        }
        out.push_str("\n\n");
    }
    out
}

#[derive(Serialize)]
struct JsonTable<'a> {
    as_of: String,
    reports: ReportCounts,
    dates: Vec<String>,
    agreements: Vec<JsonTableAgreement<'a>>,
}

#[derive(Serialize)]
struct JsonTableAgreement<'a> {
    id: &'a str,
    title: &'a str,
    rows: Vec<JsonTableRow<'a>>,
    scores: Vec<Option<f64>>,
}

#[derive(Serialize)]
struct JsonTableRow<'a> {
    commitment: &'a str,
    party: Option<&'a str>,
    statuses: Vec<Option<&'static str>>,
}

fn every_json(as_of: NaiveDate, counts: ReportCounts, t: &Table<'_>) -> String {
    to_json(&JsonTable {
        as_of: as_of.to_string(),
        reports: counts,
        dates: t.dates.iter().map(NaiveDate::to_string).collect(),
        agreements: t
            .agreements
            .iter()
            .map(|Part(a, rows, scores)| JsonTableAgreement {
                id: &a.id,
                title: &a.title,
                rows: rows
                    .iter()
                    .map(|r| JsonTableRow {
                        commitment: r.commitment,
                        party: r.party,
                        statuses: r.cells.iter().map(|c| c.map(Status::as_str)).collect(),
                    })
                    .collect(),
                scores: scores.clone(),
            })
            .collect(),
    })
}
