//! Rendering statuses: the JSON of docs/reference.md, JSON output, a text table for people at a terminal, and a
//! Markdown report for analysts to paste.

use crate::engine::evaluate::{AgreementStatus, Status};
use crate::engine::replay::ReportCounts;
use crate::engine::rules::RuleSet;
use chrono::NaiveDate;
use serde::Serialize;
use std::fmt::Write as _;

/// The output formats of `replay` and `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table for people.
    Text,
    /// One JSON object (docs/reference.md, JSON output).
    Json,
    /// A Markdown report.
    Markdown,
    /// A self-contained HTML scorecard with timelines.
    Html,
}

#[derive(Serialize)]
struct JsonOutput<'a> {
    as_of: String,
    reports: ReportCounts,
    agreements: Vec<JsonAgreement<'a>>,
}

#[derive(Serialize)]
struct JsonAgreement<'a> {
    id: &'a str,
    title: &'a str,
    score: Option<f64>,
    commitments: Vec<JsonCommitment<'a>>,
}

#[derive(Serialize)]
struct JsonCommitment<'a> {
    id: &'a str,
    status: &'static str,
    score: Option<i8>,
    due: Option<String>,
    last_evidence: Option<String>,
    last_breach: Option<String>,
    evidence: usize,
    talk: usize,
    breaches: usize,
    evidence_days: usize,
    talk_days: usize,
    breach_days: usize,
    parties: Vec<JsonParty<'a>>,
    reason: &'a str,
}

#[derive(Serialize)]
struct JsonParty<'a> {
    party: &'a str,
    status: &'static str,
    due: Option<String>,
    last_evidence: Option<String>,
}

fn date(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.to_string())
}

/// The docs/reference.md, JSON output JSON object, pretty-printed.
pub fn json(as_of: NaiveDate, counts: ReportCounts, statuses: &[AgreementStatus]) -> String {
    let out = JsonOutput {
        as_of: as_of.to_string(),
        reports: counts,
        agreements: statuses
            .iter()
            .map(|a| JsonAgreement {
                id: &a.id,
                title: &a.title,
                score: a.score,
                commitments: a
                    .commitments
                    .iter()
                    .map(|c| JsonCommitment {
                        id: &c.id,
                        status: c.status.as_str(),
                        score: c.score,
                        due: date(c.due),
                        last_evidence: date(c.last_evidence),
                        last_breach: date(c.last_breach),
                        evidence: c.evidence,
                        talk: c.talk,
                        breaches: c.breaches,
                        evidence_days: c.evidence_days,
                        talk_days: c.talk_days,
                        breach_days: c.breach_days,
                        parties: c
                            .parties
                            .iter()
                            .map(|p| JsonParty {
                                party: &p.party,
                                status: p.status.as_str(),
                                due: date(p.due),
                                last_evidence: date(p.last_evidence),
                            })
                            .collect(),
                        reason: &c.reason,
                    })
                    .collect(),
            })
            .collect(),
    };
    super::to_json(&out)
}

fn colour(status: Status) -> &'static str {
    match status {
        Status::Breached | Status::PaperTiger => "\x1b[1;31m",
        Status::Overdue => "\x1b[33m",
        Status::OnTrack | Status::Fulfilled => "\x1b[32m",
        Status::Pending => "\x1b[2m",
    }
}

fn score_text(score: Option<f64>) -> String {
    score.map_or("none".into(), |s| format!("{s:+.2}"))
}

fn or_dash(d: Option<NaiveDate>) -> String {
    d.map_or("-".into(), |d| d.to_string())
}

/// A table per agreement: status, commitment, due, last evidence, reason.
pub fn text(
    as_of: NaiveDate,
    counts: ReportCounts,
    statuses: &[AgreementStatus],
    colour_on: bool,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "as of {as_of}: {} reports read, {} rejected, {} skipped",
        counts.read, counts.rejected, counts.skipped
    );
    for a in statuses {
        let _ = writeln!(
            out,
            "\n{}  {}  (score {})",
            a.id,
            a.title,
            score_text(a.score)
        );
        let width = a
            .commitments
            .iter()
            .map(|c| c.id.len())
            .max()
            .unwrap_or(10)
            .max(10);
        let _ = writeln!(
            out,
            "  {:<11}  {:<width$}  {:<10}  {:<13}  REASON",
            "STATUS", "COMMITMENT", "DUE", "LAST EVIDENCE"
        );
        for c in &a.commitments {
            let status = format!("{:<11}", c.status.as_str());
            let status = if colour_on {
                format!("{}{status}\x1b[0m", colour(c.status))
            } else {
                status
            };
            let _ = writeln!(
                out,
                "  {status}  {:<width$}  {:<10}  {:<13}  {}",
                c.id,
                or_dash(c.due),
                or_dash(c.last_evidence),
                c.reason
            );
        }
    }
    out
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// A Markdown report: one section and table per agreement.
pub fn markdown(
    as_of: NaiveDate,
    counts: ReportCounts,
    statuses: &[AgreementStatus],
    rules: &RuleSet,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Commitment status as of {as_of}\n");
    let _ = writeln!(
        out,
        "Reports: {} read, {} rejected, {} skipped.\n",
        counts.read, counts.rejected, counts.skipped
    );
    for a in statuses {
        let agreement = rules.agreements.iter().find(|r| r.id == a.id);
        let _ = writeln!(out, "## {} (`{}`)\n", md_escape(&a.title), a.id);
        if let Some(r) = agreement {
            let _ = writeln!(
                out,
                "Parties: {}. Signed {}.\n",
                r.parties.join(", "),
                r.signed
            );
        }
        let scored = a.commitments.iter().filter(|c| c.score.is_some()).count();
        let _ = writeln!(
            out,
            "Score: **{}** ({scored} of {} commitments scored).\n",
            score_text(a.score),
            a.commitments.len()
        );
        let _ = writeln!(
            out,
            "| Status | Commitment | Due | Last evidence | Evidence | Talk | Breaches | Reason |"
        );
        let _ = writeln!(out, "| --- | --- | --- | --- | ---: | ---: | ---: | --- |");
        for c in &a.commitments {
            let title = agreement
                .and_then(|r| r.commitments.iter().find(|x| x.id == c.id))
                .map_or(c.id.clone(), |x| x.title.clone());
            let status = c.status.as_str().replace('_', " ");
            let status = if c.status.is_alarm() {
                format!("**{status}**")
            } else {
                status
            };
            let _ = writeln!(
                out,
                "| {status} | {} (`{}`) | {} | {} | {} | {} | {} | {} |",
                md_escape(&title),
                c.id,
                or_dash(c.due),
                or_dash(c.last_evidence),
                super::on_days(c.evidence, c.evidence_days),
                super::on_days(c.talk, c.talk_days),
                super::on_days(c.breaches, c.breach_days),
                md_escape(&c.reason)
            );
        }
        out.push('\n');
    }
    out
}
