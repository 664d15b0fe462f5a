//! The Prometheus text format (version 0.0.4) of one evaluation, for node_exporter's
//! textfile collector (docs/reference.md, Metrics): no timestamps, label values escaped.

use crate::engine::evaluate::{AgreementStatus, Status};
use chrono::{DateTime, Utc};
use std::fmt::Write;

/// What the textfile says.
pub struct Metrics<'a> {
    /// The evaluation's statuses.
    pub statuses: &'a [AgreementStatus],
    /// Per agreement (the statuses' order): the distinct reports counted for it.
    pub agreement_reports: &'a [i64],
    /// Files taken by outcome since the ledger was created.
    pub files: &'a [(String, u64)],
    /// Alert records by kind since the ledger was created.
    pub alerts: &'a [(String, u64)],
    /// When the evaluation ran.
    pub evaluated_at: DateTime<Utc>,
    /// Per feed: the time of the newest slot done.
    pub feeds: &'a [(String, DateTime<Utc>)],
}

/// A label value as the format escapes it: backslash, double quote and line feed.
fn escaped(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// `{a="x",b="y"}`.
fn labels(pairs: &[(&str, &str)]) -> String {
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escaped(v)))
        .collect();
    format!("{{{}}}", inner.join(","))
}

/// A family's `# HELP` and `# TYPE` lines.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// One series per status of a commitment (or party): 1 for `current`, 0 for the others.
fn status_series(
    out: &mut String,
    agreement: &str,
    commitment: &str,
    party: &str,
    current: Status,
) {
    for s in Status::ALL {
        let l = labels(&[
            ("agreement", agreement),
            ("commitment", commitment),
            ("party", party),
            ("status", s.as_str()),
        ]);
        let _ = writeln!(
            out,
            "pledgewatch_commitment_status{l} {}",
            u8::from(s == current)
        );
    }
}

fn statuses(out: &mut String, m: &Metrics<'_>) {
    family(
        out,
        "pledgewatch_commitment_status",
        "gauge",
        "1 for the status a commitment (party=\"\") or one party of an each commitment is in, 0 for the others.",
    );
    for a in m.statuses {
        for c in &a.commitments {
            status_series(out, &a.id, &c.id, "", c.status);
            for p in &c.parties {
                status_series(out, &a.id, &c.id, &p.party, p.status);
            }
        }
    }
}

fn scores(out: &mut String, m: &Metrics<'_>) {
    family(
        out,
        "pledgewatch_commitment_score",
        "gauge",
        "A commitment's score: 1 on track or fulfilled, 0 overdue, -1 paper tiger or breached (absent while pending).",
    );
    for a in m.statuses {
        for c in &a.commitments {
            if let Some(score) = c.score {
                let l = labels(&[("agreement", &a.id), ("commitment", &c.id)]);
                let _ = writeln!(out, "pledgewatch_commitment_score{l} {score}");
            }
        }
    }
    family(
        out,
        "pledgewatch_agreement_score",
        "gauge",
        "The mean score of an agreement's scored commitments (absent when none is scored).",
    );
    for a in m.statuses {
        if let Some(score) = a.score {
            let l = labels(&[("agreement", &a.id)]);
            let _ = writeln!(out, "pledgewatch_agreement_score{l} {score}");
        }
    }
    family(
        out,
        "pledgewatch_reports",
        "gauge",
        "Distinct reports counted for an agreement (evidence, talk or breach of one of its commitments).",
    );
    for (a, n) in m.statuses.iter().zip(m.agreement_reports) {
        let l = labels(&[("agreement", &a.id)]);
        let _ = writeln!(out, "pledgewatch_reports{l} {}", n.max(&0));
    }
}

/// A counter family with a series for each of `kinds` (0 when not counted).
fn counters(
    out: &mut String,
    name: &str,
    label: &str,
    kinds: &[&str],
    counts: &[(String, u64)],
    help: &str,
) {
    family(out, name, "counter", help);
    for kind in kinds {
        let n = counts
            .iter()
            .find(|(k, _)| k == kind)
            .map_or(0, |(_, n)| *n);
        let _ = writeln!(out, "{name}{} {n}", labels(&[(label, kind)]));
    }
}

/// Seconds since the epoch, as the format writes a float.
fn seconds(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}

/// The whole textfile.
pub fn textfile(m: &Metrics<'_>) -> String {
    let mut out = String::new();
    statuses(&mut out, m);
    scores(&mut out, m);
    counters(
        &mut out,
        "pledgewatch_files_total",
        "outcome",
        &["processed", "rejected"],
        m.files,
        "Inbox files taken, by where they went, since the ledger was created.",
    );
    counters(
        &mut out,
        "pledgewatch_alerts_total",
        "alert",
        &["overdue", "paper_tiger", "breached", "resolved"],
        m.alerts,
        "Alert records made, by kind, since the ledger was created.",
    );
    family(
        &mut out,
        "pledgewatch_last_evaluation_timestamp_seconds",
        "gauge",
        "When the daemon last evaluated every commitment.",
    );
    let _ = writeln!(
        out,
        "pledgewatch_last_evaluation_timestamp_seconds {}",
        seconds(m.evaluated_at)
    );
    family(
        &mut out,
        "pledgewatch_feed_last_slot_timestamp_seconds",
        "gauge",
        "The time of the newest slot a feed has done.",
    );
    for (feed, at) in m.feeds {
        let l = labels(&[("feed", feed)]);
        let _ = writeln!(
            out,
            "pledgewatch_feed_last_slot_timestamp_seconds{l} {}",
            seconds(*at)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(labels(&[("a", "x\"y\\z\nw")]), r#"{a="x\"y\\z\nw"}"#);
    }
}
