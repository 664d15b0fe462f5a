//! Replay: rules and report files in, statuses out, with no daemon and no state. The
//! in-memory [`EvidenceSet`] is the ledger's stand-in: reports keyed by id (so the same
//! report twice counts once, and a repeated explicit id keeps the later version), each kept
//! only as its date and its hits.

use crate::engine::evaluate::{AgreementStatus, Event, evaluate_agreement};
use crate::engine::matcher::Hit;
use crate::engine::report::Report;
use crate::engine::rules::RuleSet;
use chrono::NaiveDate;
use std::collections::HashMap;

/// SPEC §5 `reports` counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReportCounts {
    /// Distinct reports taken.
    pub read: usize,
    /// Records or files refused.
    pub rejected: usize,
    /// GDELT rows without a country code.
    pub skipped: usize,
}

/// Reports reduced to what evaluation needs, keyed by report id.
#[derive(Debug, Default)]
pub struct EvidenceSet {
    by_id: HashMap<Box<str>, (NaiveDate, Box<[Hit]>)>,
    rejected: usize,
    skipped: usize,
}

impl EvidenceSet {
    /// Records a report and its hits; a report with the same id replaces the earlier one.
    pub fn add(&mut self, report: &Report, hits: Vec<Hit>) {
        self.insert(report.id.as_str().into(), report.date, hits);
    }

    /// Records a report by id, date and hits; the same id replaces the earlier one.
    pub fn insert(&mut self, id: Box<str>, date: NaiveDate, hits: Vec<Hit>) {
        self.by_id.insert(id, (date, hits.into_boxed_slice()));
    }

    /// Counts a refused record or file.
    pub fn reject(&mut self) {
        self.rejected += 1;
    }

    /// Counts a skipped GDELT row.
    pub fn skip(&mut self) {
        self.skipped += 1;
    }

    /// The SPEC §5 counts.
    pub fn counts(&self) -> ReportCounts {
        ReportCounts {
            read: self.by_id.len(),
            rejected: self.rejected,
            skipped: self.skipped,
        }
    }

    /// Events per commitment, in rule order over all agreements.
    pub fn events(&self, commitments: usize) -> Vec<Vec<Event>> {
        let mut out = vec![Vec::new(); commitments];
        for (date, hits) in self.by_id.values() {
            for h in hits.iter() {
                if let Some(list) = out.get_mut(h.commitment as usize) {
                    list.push(Event {
                        date: *date,
                        class: h.class,
                        parties: h.parties,
                    });
                }
            }
        }
        out
    }
}

/// A report that counts for a commitment, as the scorecard marks it on the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    /// The report's date.
    pub date: NaiveDate,
    /// Evidence, talk or breach.
    pub class: crate::engine::matcher::Class,
    /// The report's kind.
    pub kind: crate::engine::report::Kind,
    /// Its actors.
    pub actors: Vec<String>,
    /// Its title (may be empty).
    pub title: String,
    /// Its outlet.
    pub source: Option<String>,
    /// Its address.
    pub url: Option<String>,
    /// Its id.
    pub id: String,
}

/// What the scorecard shows of the reports that hit some commitment: one entry per report
/// id (the later record wins, as for [`EvidenceSet`]).
#[derive(Debug, Default)]
pub struct MarkSet {
    by_id: HashMap<Box<str>, (Mark, MarkHits)>,
}

/// The commitments a marked report hits, and how.
type MarkHits = Box<[(u32, crate::engine::matcher::Class)]>;

impl MarkSet {
    /// Records a report that hit commitments (a report without hits replaces an earlier
    /// record of its id with nothing).
    pub fn add(&mut self, report: &Report, hits: &[Hit]) {
        if hits.is_empty() {
            self.by_id.remove(report.id.as_str());
            return;
        }
        let mark = Mark {
            date: report.date,
            class: hits[0].class,
            kind: report.kind,
            actors: report.actors.clone(),
            title: report.title.clone(),
            source: report.source.clone(),
            url: report.url.clone(),
            id: report.id.clone(),
        };
        let hits = hits.iter().map(|h| (h.commitment, h.class)).collect();
        self.by_id.insert(report.id.as_str().into(), (mark, hits));
    }

    /// Forgets the report `id` (a later record of it hit nothing).
    pub fn forget(&mut self, id: &str) {
        self.by_id.remove(id);
    }

    /// The marks of each commitment (rule order over all agreements), by date.
    pub fn per_commitment(&self, commitments: usize) -> Vec<Vec<Mark>> {
        let mut out = vec![Vec::new(); commitments];
        for (mark, hits) in self.by_id.values() {
            for &(commitment, class) in hits.iter() {
                if let Some(list) = out.get_mut(commitment as usize) {
                    list.push(Mark {
                        class,
                        ..mark.clone()
                    });
                }
            }
        }
        for list in &mut out {
            list.sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
        }
        out
    }
}

/// Evaluates every agreement at `as_of` from per-commitment events (rule order).
pub fn evaluate_all(
    rules: &RuleSet,
    events: &[Vec<Event>],
    as_of: NaiveDate,
) -> Vec<AgreementStatus> {
    let mut offset = 0;
    rules
        .agreements
        .iter()
        .map(|a| {
            let n = a.commitments.len();
            let slice = events.get(offset..offset + n).unwrap_or(&[]);
            offset += n;
            evaluate_agreement(a, slice, as_of)
        })
        .collect()
}
