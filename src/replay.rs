//! Replay: rules and report files in, statuses out, with no daemon and no state. The
//! in-memory [`EvidenceSet`] is the ledger's stand-in: reports keyed by id (so the same
//! report twice counts once, and a repeated explicit id keeps the later version), each kept
//! only as its date and its hits.

use crate::evaluate::{AgreementStatus, Event, evaluate_agreement};
use crate::matcher::{CompiledRules, Hit, Scratch};
use crate::report::{Item, ReadOptions, Rejection, Report, read_file_mapped};
use crate::rules::RuleSet;
use chrono::NaiveDate;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

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
    pub class: crate::matcher::Class,
    /// The report's kind.
    pub kind: crate::report::Kind,
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
type MarkHits = Box<[(u32, crate::matcher::Class)]>;

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

/// What [`ingest`] tells its caller about records it did not take.
#[derive(Debug)]
pub enum Notice<'a> {
    /// A refused record or file.
    Rejected(&'a Rejection),
    /// A summary of one file's skipped GDELT rows.
    Skipped(&'a Rejection),
}

/// A record after matching: what the evidence set keeps of it.
enum Matched {
    Report(Box<str>, NaiveDate, Vec<Hit>),
    Rejected(Rejection),
    Skipped,
}

/// Reads `files` in order into an evidence set, parsing and matching on `threads` worker
/// threads; `on_notice` hears of every refused record and of each file's skipped rows.
pub fn ingest(
    rules: &CompiledRules,
    files: &[PathBuf],
    options: &ReadOptions,
    threads: usize,
    on_notice: &mut dyn FnMut(Notice<'_>),
) -> EvidenceSet {
    let mut set = EvidenceSet::default();
    let map = |scratch: &mut Scratch, item: Item| match item {
        Item::Report(r) => {
            let hits = rules.match_report(&r, scratch);
            Matched::Report(r.id.into_boxed_str(), r.date, hits)
        }
        Item::Rejected(rej) => Matched::Rejected(rej),
        Item::Skipped(_) => Matched::Skipped,
    };
    for path in files {
        let mut skipped_here = 0usize;
        read_file_mapped(
            path,
            options,
            threads,
            &Scratch::default,
            &map,
            &mut |m| match m {
                Matched::Report(id, date, hits) => set.insert(id, date, hits),
                Matched::Rejected(rej) => {
                    set.reject();
                    on_notice(Notice::Rejected(&rej));
                }
                Matched::Skipped => {
                    set.skip();
                    skipped_here += 1;
                }
            },
        );
        if skipped_here > 0 {
            on_notice(Notice::Skipped(&skip_summary(path, skipped_here)));
        }
    }
    set
}

fn skip_summary(path: &Path, n: usize) -> Rejection {
    Rejection::new(
        path,
        crate::report::Location::File,
        None,
        format!("{n} GDELT row(s) without Actor1CountryCode or Actor2CountryCode"),
    )
}
