//! The HTML scorecard (docs/reference.md, History): one self-contained page — inline CSS and SVG, no external
//! resources, no script — per agreement its title, parties, signature date, score, a
//! summary bar and the table of commitments, each with a timeline strip of its history
//! from its start to the as-of date. Built with maud, which escapes every text it is given;
//! links are made only of `http(s)` addresses.

use crate::engine::evaluate::{AgreementStatus, CommitmentStatus, Status};
use crate::engine::history::{AgreementHistory, Change, CommitmentHistory};
use crate::engine::marks::{MARKS_LISTED, Mark};
use crate::engine::matcher::Class;
use crate::engine::replay::ReportCounts;
use crate::engine::rules::{Agreement, Commitment, RuleSet};
use chrono::NaiveDate;
use maud::{DOCTYPE, Markup, PreEscaped, html};

/// Everything one page shows.
pub struct Scorecard<'a> {
    /// The as-of date `T`.
    pub as_of: NaiveDate,
    /// Reports read, rejected, skipped.
    pub counts: ReportCounts,
    /// The rules.
    pub rules: &'a RuleSet,
    /// Statuses at `T`, in rule order.
    pub statuses: &'a [AgreementStatus],
    /// Histories to `T`, in rule order.
    pub history: &'a [AgreementHistory],
    /// The reports behind each commitment (rule order over all agreements), by date.
    pub marks: &'a [Vec<Mark>],
}

/// Okabe–Ito colours (safe for colour-blind readers), each with a symbol and a label.
fn look(status: Status) -> (&'static str, &'static str, &'static str) {
    match status {
        Status::Fulfilled => ("#009E73", "✓", "fulfilled"),
        Status::OnTrack => ("#56B4E9", "●", "on track"),
        Status::Pending => ("#BBBBBB", "○", "pending"),
        Status::Overdue => ("#E69F00", "!", "overdue"),
        Status::PaperTiger => ("#D55E00", "✗", "paper tiger"),
        Status::Breached => ("#CC79A7", "⚠", "breached"),
    }
}

const CSS: &str = r#"
:root { font-family: "DejaVu Sans", "Noto Sans", Arial, sans-serif; color: #1a1a1a; }
body { max-width: 76rem; margin: 1.5rem auto; padding: 0 1rem; line-height: 1.4; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.3rem; margin: 2.2rem 0 0.3rem; border-bottom: 2px solid #333; }
.meta, .note { color: #444; font-size: 0.92rem; }
.legend { display: flex; flex-wrap: wrap; gap: 0.4rem 1.1rem; font-size: 0.88rem; margin: 0.8rem 0; }
.chip { display: inline-block; min-width: 1.25em; text-align: center; border-radius: 3px;
        padding: 0 0.25em; color: #000; font-weight: bold; border: 1px solid #333; }
.summary { display: flex; width: 100%; height: 1.7rem; border: 1px solid #333; margin: 0.6rem 0 1rem; }
.summary span { display: flex; align-items: center; justify-content: center; overflow: hidden;
                white-space: nowrap; font-size: 0.82rem; color: #000; border-right: 1px solid #333; }
.summary span:last-child { border-right: none; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th { text-align: left; border-bottom: 1px solid #333; padding: 0.3rem 0.4rem; }
td { vertical-align: top; padding: 0.35rem 0.4rem 0.1rem; }
tr.commitment td { border-top: 1px solid #ccc; }
tr.strip td { padding-top: 0; padding-bottom: 0.5rem; }
td.status { white-space: nowrap; }
td.date { white-space: nowrap; font-variant-numeric: tabular-nums; }
.id { color: #555; font-family: "DejaVu Sans Mono", monospace; font-size: 0.82rem; }
svg.timeline { width: 100%; height: 3.2rem; display: block; }
.axis { display: flex; justify-content: space-between; font-size: 0.75rem; color: #555; }
details { font-size: 0.85rem; margin-top: 0.2rem; }
details li { margin: 0.1rem 0; }
.evidence { color: #006b4f; } .talk { color: #555; } .breach { color: #8a2a63; }
@page { size: A4; margin: 12mm; }
th.status { width: 8.5rem; } th.date { width: 6.2rem; } th.what { width: 32%; }
@media print {
  :root { font-size: 8pt; }
  body { max-width: none; margin: 0; }
  svg.timeline { height: 2.4rem; }
  tr.commitment, tr.strip { break-inside: avoid; }
  h2 { break-after: avoid; }
  a { color: inherit; text-decoration: none; }
}
"#;

/// The whole page.
pub fn scorecard(card: &Scorecard<'_>) -> String {
    // where each agreement's commitments begin in the rule-order lists
    let firsts: Vec<usize> = card
        .rules
        .agreements
        .iter()
        .scan(0, |next, a| {
            let first = *next;
            *next += a.commitments.len();
            Some(first)
        })
        .collect();
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "pledgewatch scorecard as of " (card.as_of) }
                style { (PreEscaped(CSS)) }
            }
            body {
                h1 { "Commitments as of " (card.as_of) }
                p.meta {
                    (card.counts.read) " reports read, " (card.counts.rejected) " rejected, "
                    (card.counts.skipped) " skipped. Made by pledgewatch " (env!("CARGO_PKG_VERSION")) "."
                }
                (legend())
                @for ((a, status), first) in card.rules.agreements.iter().zip(card.statuses).zip(&firsts) {
                    (agreement(card, a, status, *first))
                }
            }
        }
    };
    page.into_string()
}

fn legend() -> Markup {
    html! {
        div.legend {
            @for s in Status::ALL {
                @let (colour, symbol, label) = look(s);
                span { span.chip style={ "background:" (colour) } { (symbol) } " " (label) }
            }
            span { "▲ evidence" }
            span { "○ talk" }
            span { "✕ breach" }
            span { "┆ due" }
            span { "⋮ grace ends" }
            span { "┃ as-of date" }
        }
        p.note { "Hover over a strip or a mark for dates and titles; click a mark to open its report." }
    }
}

fn agreement(
    card: &Scorecard<'_>,
    a: &Agreement,
    status: &AgreementStatus,
    first: usize,
) -> Markup {
    let history = card.history.iter().find(|h| h.id == a.id);
    let score = status
        .score
        .map_or("none".to_string(), |s| format!("{s:+.2}"));
    html! {
        section {
            h2 { (a.title) " " span.id { "(" (a.id) ")" } }
            p.meta {
                "Parties: " (a.parties.join(", ")) ". Signed " (a.signed) ". Score: " strong { (score) }
                " (" (status.commitments.iter().filter(|c| c.score.is_some()).count()) " of "
                (status.commitments.len()) " commitments scored)."
            }
            (summary(status))
            table {
                thead { tr { th.status { "Status" } th.what { "Commitment" } th.date { "Due" } th.date { "Last evidence" } th { "Reason" } } }
                tbody {
                    @for (i, (c, s)) in a.commitments.iter().zip(&status.commitments).enumerate() {
                        @let h = history.and_then(|h| h.commitments.get(i));
                        @let marks = card.marks.get(first + i).map_or(&[][..], |m| &m[..]);
                        (commitment_rows(card.as_of, c, s, h, marks))
                    }
                }
            }
        }
    }
}

fn summary(status: &AgreementStatus) -> Markup {
    let total = status.commitments.len().max(1);
    html! {
        div.summary role="img" aria-label="commitments by status" {
            @for s in Status::ALL {
                @let n = status.commitments.iter().filter(|c| c.status == s).count();
                @if n > 0 {
                    @let (colour, symbol, label) = look(s);
                    span style={ "background:" (colour) "; width:" (n * 100 / total) "%; min-width: 2.2rem" }
                        title={ (n) " " (label) } { (symbol) " " (n) " " (label) }
                }
            }
        }
    }
}

fn status_cell(status: Status) -> Markup {
    let (colour, symbol, label) = look(status);
    html! { span.chip style={ "background:" (colour) } { (symbol) } " " (label) }
}

fn date_or_dash(d: Option<NaiveDate>) -> String {
    d.map_or("–".into(), |d| d.to_string())
}

fn commitment_rows(
    as_of: NaiveDate,
    c: &Commitment,
    s: &CommitmentStatus,
    history: Option<&CommitmentHistory>,
    marks: &[Mark],
) -> Markup {
    // the reports that count: dated from the start to the as-of date (docs/reference.md, Statuses); the
    // latest MARKS_LISTED of them are listed and marked, the counts cover them all
    let mut marks: Vec<&Mark> = marks
        .iter()
        .filter(|m| m.date >= c.starts && m.date <= as_of)
        .collect();
    let excess = marks.len().saturating_sub(MARKS_LISTED);
    marks.drain(..excess);
    let total = s.evidence + s.talk + s.breaches;
    let listed = if marks.len() < total {
        format!(" (the latest {} listed)", marks.len())
    } else {
        String::new()
    };
    html! {
        tr.commitment data-status=(s.status.as_str()) {
            td.status { (status_cell(s.status)) }
            td { (c.title) br; span.id { (c.id) } }
            td.date { (date_or_dash(s.due)) }
            td.date { (date_or_dash(s.last_evidence)) }
            td { (s.reason) }
        }
        tr.strip {
            td colspan="5" {
                @if let Some(h) = history {
                    (timeline(as_of, c, s, h, &marks))
                }
                details {
                    summary { (total) (if total == 1 { " report: " } else { " reports: " }) "evidence " (super::on_days(s.evidence, s.evidence_days)) ", talk " (super::on_days(s.talk, s.talk_days)) ", breaches " (super::on_days(s.breaches, s.breach_days)) (listed) }
                    ul {
                        @for m in marks {
                            li class=(m.class.as_str()) {
                                (m.date) " · " (m.class.as_str()) " · " (m.kind.as_str()) " · " (m.actors.join(",")) " · "
                                (link(m, html! { (if m.title.is_empty() { "(no title)" } else { &m.title }) }))
                                @if let Some(src) = &m.source { " — " (src) }
                                " " span.id { "[" (m.id) "]" }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `content` linked to the report's address when it is an http(s) address.
fn link(m: &Mark, content: Markup) -> Markup {
    match m.url.as_deref().filter(|u| is_web_address(u)) {
        Some(url) => html! { a href=(url) rel="noopener noreferrer" { (content) } },
        None => content,
    }
}

fn is_web_address(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

const WIDTH: f64 = 1000.0;

/// The strip: status segments from `S` to `T` (and, greyed, on to a due date or grace end
/// beyond `T`), marks for the reports, lines for due, grace end and the as-of date.
fn timeline(
    as_of: NaiveDate,
    c: &Commitment,
    s: &CommitmentStatus,
    h: &CommitmentHistory,
    marks: &[&Mark],
) -> Markup {
    let start = h.start.min(as_of);
    let grace_end = s.due.map(|d| c.grace.add_to(d));
    let end = [Some(as_of), s.due, grace_end]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(as_of);
    let span = (end - start).num_days().max(1) as f64;
    let x = |d: NaiveDate| ((d - start).num_days() as f64 / span * WIDTH).clamp(0.0, WIDTH);
    let segments = at_least_a_unit_wide(segments(&h.changes, as_of), &x);
    html! {
        svg.timeline viewBox="-8 0 1016 44" preserveAspectRatio="none" role="img"
            aria-label={ "history of " (c.id) } xmlns="http://www.w3.org/2000/svg" {
            rect.future x=(x(as_of)) y="14" width=(WIDTH - x(as_of)) height="14" fill="#f2f2f2" {
                title { "after the as-of date " (as_of) }
            }
            @for (from, to, status, statuses) in &segments {
                @let (colour, symbol, label) = look(*status);
                @let (x0, x1) = (x(*from), x(to.succ_opt().unwrap_or(*to)));
                rect.segment data-status=(status.as_str()) x=(x0) y="14" width=((x1 - x0).max(0.5)) height="14" fill=(colour) {
                    @if *statuses > 1 {
                        title { (label) " (the worst of " (statuses) " statuses in turn) from " (from) " to " (to) }
                    } @else {
                        title { (label) " from " (from) " to " (to) }
                    }
                }
                @if x1 - x0 >= 28.0 {
                    text x=((x0 + x1) / 2.0) y="25" font-size="10" text-anchor="middle" fill="#000" { (symbol) }
                }
            }
            @for m in marks {
                (mark(m, x(m.date)))
            }
            @if let Some(due) = s.due {
                line.due x1=(x(due)) x2=(x(due)) y1="10" y2="32" stroke="#222" stroke-width="1.5" stroke-dasharray="4 3" {
                    title { "due " (due) }
                }
            }
            @if let Some(g) = grace_end.filter(|g| Some(*g) != s.due) {
                line.grace x1=(x(g)) x2=(x(g)) y1="10" y2="32" stroke="#222" stroke-width="1.5" stroke-dasharray="1 2" {
                    title { "grace ends " (g) }
                }
            }
            line.asof x1=(x(as_of)) x2=(x(as_of)) y1="8" y2="36" stroke="#000" stroke-width="2.5" {
                title { "as of " (as_of) }
            }
        }
        div.axis { span { (h.start) } span { "as of " (as_of) } @if end > as_of { span { (end) } } }
    }
}

/// `(first day, last day, status)` of each change, the last one up to `as_of`.
fn segments(changes: &[Change], as_of: NaiveDate) -> Vec<(NaiveDate, NaiveDate, Status)> {
    changes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let last = changes
                .get(i + 1)
                .and_then(|n| n.date.pred_opt())
                .unwrap_or(as_of);
            (c.date, last, c.status)
        })
        .collect()
}

/// Segments narrower than two units of the strip (of 1,000) joined with the next ones
/// until they are as wide, showing the worst status among them: a history of thousands of
/// changes draws one rect per two units at most, and never hides a bad status. The last field
/// counts the statuses joined.
fn at_least_a_unit_wide(
    segments: Vec<(NaiveDate, NaiveDate, Status)>,
    x: &impl Fn(NaiveDate) -> f64,
) -> Vec<(NaiveDate, NaiveDate, Status, usize)> {
    let mut out: Vec<(NaiveDate, NaiveDate, Status, usize)> = Vec::new();
    for (from, to, status) in segments {
        match out.last_mut() {
            Some(last) if x(last.1.succ_opt().unwrap_or(last.1)) - x(last.0) < 2.0 => {
                last.1 = to;
                if status.rank() > last.2.rank() {
                    last.2 = status;
                }
                last.3 += 1;
            }
            _ => out.push((from, to, status, 1)),
        }
    }
    out
}

fn mark(m: &Mark, x: f64) -> Markup {
    let tip = format!(
        "{} {}: {}{}",
        m.date,
        m.class.as_str(),
        if m.title.is_empty() {
            "(no title)"
        } else {
            &m.title
        },
        m.source
            .as_deref()
            .map(|s| format!(" — {s}"))
            .unwrap_or_default()
    );
    let shape = match m.class {
        Class::Evidence => html! {
            path.mark.evidence d={ "M" (x - 4.5) " 12 L" (x + 4.5) " 12 L" (x) " 3 Z" } fill="#1a1a1a" stroke="#fff" stroke-width="0.8" { title { (tip) } }
        },
        Class::Talk => html! {
            circle.mark.talk cx=(x) cy="7" r="3.5" fill="#fff" stroke="#1a1a1a" stroke-width="1.4" { title { (tip) } }
        },
        Class::Breach => html! {
            path.mark.breach d={ "M" (x - 4.0) " 31 L" (x + 4.0) " 39 M" (x - 4.0) " 39 L" (x + 4.0) " 31" } stroke="#1a1a1a" stroke-width="2" { title { (tip) } }
        },
    };
    match m.url.as_deref().filter(|u| is_web_address(u)) {
        Some(url) => html! { a href=(url) { (shape) } },
        None => shape,
    }
}
