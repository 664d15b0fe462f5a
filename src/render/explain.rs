//! `explain` as text: a commitment's status with the timeline of reports behind it, and
//! for `--report` each report taken apart field by field ("why (not)").

use crate::engine::explain::{
    AlternativeCheck, Diagnosis, Explanation, FieldCheck, PhraseList, Place, TimelineEntry,
};
use crate::engine::matcher::Class;
use crate::engine::report::Report;
use crate::engine::rules::{Commitment, FollowUp};
use std::fmt::Write as _;

/// The commitment's header: id, title, quote, how it is followed up, and its status when
/// known.
pub fn header(e: &Explanation<'_>) -> String {
    let mut out = String::new();
    let c = e.commitment;
    let _ = writeln!(out, "{}/{}: {}", e.agreement.id, c.id, c.title);
    if let Some(q) = &c.quote {
        let _ = writeln!(out, "  \"{q}\"");
    }
    let _ = writeln!(
        out,
        "  follow-up: {}, at least {}, from {}",
        c.follow_up_by.as_str(),
        c.min_strength.as_str(),
        c.starts
    );
    if let Some(s) = &e.status {
        let _ = writeln!(
            out,
            "  status as of {}: {} — {}",
            e.as_of,
            s.status.as_str(),
            s.reason
        );
        for p in &s.parties {
            let _ = writeln!(out, "    {}: {} — {}", p.party, p.status.as_str(), p.reason);
        }
        let _ = writeln!(
            out,
            "  evidence {}, talk {}, breaches {}",
            super::on_days(s.evidence, s.evidence_days),
            super::on_days(s.talk, s.talk_days),
            super::on_days(s.breaches, s.breach_days)
        );
    }
    out
}

/// The header and the timeline of every report that hits the commitment.
pub fn timeline(e: &Explanation<'_>) -> String {
    let mut out = header(e);
    let _ = writeln!(out, "\ntimeline ({} reports):", e.timeline.len());
    for entry in &e.timeline {
        let _ = writeln!(out, "  {}", timeline_line(entry));
    }
    out
}

fn timeline_line(e: &TimelineEntry) -> String {
    let why: Vec<String> = e
        .alternatives
        .iter()
        .map(|(breach, number, phrases)| {
            let block = if *breach { "breach" } else { "evidence" };
            if phrases.is_empty() {
                format!("{block} alternative {number}")
            } else {
                let quoted: Vec<String> = phrases.iter().map(|p| format!("{p:?}")).collect();
                format!("{block} alternative {number} ({})", quoted.join(", "))
            }
        })
        .collect();
    format!(
        "{}  {:<8}  {:<9}  {:<11}  {}  [{}; id {}]{}",
        e.date,
        e.class.as_str(),
        e.kind.as_str(),
        e.actors.join(","),
        if e.title.is_empty() {
            "(no title)"
        } else {
            &e.title
        },
        why.join("; "),
        e.id,
        if e.counted {
            ""
        } else {
            " [outside the counted dates]"
        }
    )
}

/// One report of a `--report` file taken apart: `number` of `total` in `file`.
pub fn diagnosis(
    file: &str,
    number: usize,
    total: usize,
    report: &Report,
    commitment: &Commitment,
    d: &Diagnosis,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nreport {number} of {total} in {file} (id {})",
        report.id
    );
    let title = if report.title.is_empty() {
        "(no title)"
    } else {
        &report.title
    };
    let cameo = report
        .cameo
        .as_deref()
        .map(|c| format!("  cameo {c}"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "  {}  {}  {}{cameo}  {title}",
        report.date,
        report.kind.as_str(),
        if report.actors.is_empty() {
            "(no actors)".to_string()
        } else {
            report.actors.join(",")
        },
    );
    let _ = writeln!(out, "  verdict: {}", verdict(d));
    let _ = writeln!(out, "  actors: {}", scope(commitment, d));
    let _ = writeln!(out, "  date: {}", window(d));
    let _ = writeln!(out, "  strength: {}", strength(d));
    for (block, alternatives) in [("evidence", &d.evidence), ("breach", &d.breach)] {
        for alt in alternatives {
            alternative(&mut out, block, alt, report);
        }
    }
    out
}

/// What the report is for the commitment, in one line.
fn verdict(d: &Diagnosis) -> String {
    let first = |alts: &[AlternativeCheck]| {
        alts.iter()
            .find(|a| a.holds())
            .map_or(0, |a| a.number)
            .to_string()
    };
    let counts = if d.dated_inside() {
        "it counts"
    } else {
        "but it is dated outside the counted dates, so it does not count"
    };
    match d.class {
        Some(Class::Breach) => format!(
            "breach (breach alternative {} holds); {counts}",
            first(&d.breach)
        ),
        Some(Class::Evidence) => format!(
            "evidence (evidence alternative {} holds); {counts}",
            first(&d.evidence)
        ),
        Some(Class::Talk) => format!(
            "talk (evidence alternative {} holds, but the report is weaker than min_strength); {counts} as talk, never as follow-up",
            first(&d.evidence)
        ),
        None if !d.in_scope => "not counted: outside the actor scope (see actors)".to_string(),
        None => {
            let failed: Vec<String> = d
                .evidence
                .iter()
                .map(|a| {
                    let keys: Vec<&str> = a
                        .fields
                        .iter()
                        .filter(|f| !f.held())
                        .map(FieldCheck::key)
                        .collect();
                    format!(
                        "evidence alternative {} fails on {}",
                        a.number,
                        keys.join(", ")
                    )
                })
                .collect();
            format!(
                "not counted: no evidence or breach alternative holds ({})",
                failed.join("; ")
            )
        }
    }
}

/// Which obligated parties are among the actors, and what the follow-up rule needs.
fn scope(c: &Commitment, d: &Diagnosis) -> String {
    let each: Vec<String> = d
        .parties
        .iter()
        .map(|(p, here)| format!("{p} {}", if *here { "present" } else { "missing" }))
        .collect();
    let rule = match d.follow_up {
        FollowUp::Joint => format!(
            "joint follow-up needs all of {} in one report",
            c.parties.join(", ")
        ),
        FollowUp::Any => format!("follow-up by any needs one of {}", c.parties.join(", ")),
        FollowUp::Each => format!(
            "follow-up by each counts for every party present among {}",
            c.parties.join(", ")
        ),
    };
    let verdict = if d.in_scope {
        "in scope".to_string()
    } else {
        format!("out of scope, missing {}", d.missing().join(", "))
    };
    format!("{verdict} — {}; {rule}", each.join(", "))
}

fn window(d: &Diagnosis) -> String {
    let (from, to) = d.window;
    if d.date < from {
        format!("{} is before the commitment's start {from}", d.date)
    } else if d.date > to {
        format!("{} is after the as-of date {to}", d.date)
    } else {
        format!("{} is inside {from} .. {to}, the counted dates", d.date)
    }
}

fn strength(d: &Diagnosis) -> String {
    let (kind, min) = (d.kind.as_str(), d.min_strength.as_str());
    if d.class == Some(Class::Breach) {
        format!("{kind}; a breach outweighs any evidence in the same report")
    } else if d.kind >= d.min_strength {
        format!("{kind} is at least min_strength {min}: a match is evidence")
    } else {
        format!("{kind} is weaker than min_strength {min}: a match is talk only")
    }
}

fn alternative(out: &mut String, block: &str, alt: &AlternativeCheck, report: &Report) {
    let _ = writeln!(
        out,
        "  {block} alternative {}: {}",
        alt.number,
        if alt.holds() {
            "holds"
        } else {
            "does not hold"
        }
    );
    for field in &alt.fields {
        let _ = writeln!(out, "    {}", field_line(field, report));
    }
}

fn yes_no(held: bool) -> &'static str {
    if held { "yes" } else { "no" }
}

fn field_line(field: &FieldCheck, report: &Report) -> String {
    match field {
        FieldCheck::Cameo {
            prefixes,
            code,
            held,
        } => {
            let has = code
                .as_deref()
                .map_or("the report has no CAMEO code".to_string(), |c| {
                    format!("the report's code is {c}")
                });
            format!("cameo [{}]: {} — {has}", prefixes.join(", "), yes_no(*held))
        }
        FieldCheck::Kinds { kinds, held } => {
            let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
            format!(
                "kinds [{}]: {} — the report is {}",
                names.join(", "),
                yes_no(*held),
                report.kind.as_str()
            )
        }
        FieldCheck::Topics { topics, all, held } => {
            let has = if report.topics.is_empty() {
                "the report has no topics".to_string()
            } else {
                format!("the report's topics are [{}]", report.topics.join(", "))
            };
            let key = if *all { "all_topics" } else { "topics" };
            format!("{key} [{}]: {} — {has}", topics.join(", "), yes_no(*held))
        }
        FieldCheck::Phrases {
            list,
            phrases,
            held,
        } => phrases_line(*list, phrases, *held),
    }
}

/// `keywords (one must occur): yes — "x" found in the title as "X"; not found: "y"`.
fn phrases_line(
    list: PhraseList,
    phrases: &[crate::engine::explain::PhraseCheck],
    held: bool,
) -> String {
    let mut parts: Vec<String> = phrases
        .iter()
        .filter_map(|p| {
            let (place, words) = p.found.as_ref()?;
            let place = match place {
                Place::Title => "title",
                Place::Body => "body",
            };
            Some(format!("{:?} found in the {place} as {words:?}", p.phrase))
        })
        .collect();
    let missing: Vec<String> = phrases
        .iter()
        .filter(|p| p.found.is_none())
        .map(|p| format!("{:?}", p.phrase))
        .collect();
    if !missing.is_empty() {
        parts.push(format!("not found: {}", missing.join(", ")));
    }
    let need = match list {
        PhraseList::Any => "one must occur",
        PhraseList::All => "all must occur",
        PhraseList::None => "none may occur",
    };
    format!(
        "{} ({need}): {} — {}",
        list.key(),
        yes_no(held),
        parts.join("; ")
    )
}
