//! The reports a scorecard marks on a commitment's timeline: [`Mark`] (date, class, kind,
//! title, source and address of one report), every mark of a replay ([`MarkSet`]) and the
//! latest few per commitment that the daemon keeps in its ledger ([`LatestMarks`]).

use crate::engine::matcher::Hit;
use crate::engine::report::Report;
use chrono::NaiveDate;
use std::collections::HashMap;

/// A report that counts for a commitment, as the scorecard marks it on the timeline.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

impl Mark {
    /// The mark of `report`, counted as `class`.
    pub fn of(report: &Report, class: crate::engine::matcher::Class) -> Mark {
        Mark {
            date: report.date,
            class,
            kind: report.kind,
            actors: report.actors.clone(),
            title: report.title.clone(),
            source: report.source.clone(),
            url: report.url.clone(),
            id: report.id.clone(),
        }
    }
}

/// What the scorecard shows of the reports that hit some commitment: one entry per report
/// id (the later record wins, as for [`EvidenceSet`](crate::engine::replay::EvidenceSet)).
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
        let mark = Mark::of(report, hits[0].class);
        let hits = hits.iter().map(|h| (h.commitment, h.class)).collect();
        self.by_id.insert(report.id.as_str().into(), (mark, hits));
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

/// How many marks per commitment the scorecard lists (and the daemon's ledger keeps): the
/// latest ones. Counts always cover every report.
pub const MARKS_LISTED: usize = 25;

/// The latest [`MARKS_LISTED`] marks of each commitment, by (date, id): what the daemon
/// keeps for the scorecard instead of every report that ever hit.
#[derive(Debug, Default, Clone)]
pub struct LatestMarks {
    lists: Vec<Vec<Mark>>,
    /// Changes since the last [`LatestMarks::take_changes`], when kept.
    changes: Option<Vec<MarkChange>>,
}

/// One change to a commitment's latest marks, for a store that keeps them mark by mark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarkChange {
    /// Commitment index and the mark now among its latest.
    Added(u32, Mark),
    /// Commitment index and the id of the report whose mark left its latest.
    Removed(u32, String),
}

impl LatestMarks {
    /// No marks yet for `commitments` commitments.
    pub fn new(commitments: usize) -> LatestMarks {
        LatestMarks {
            lists: vec![Vec::new(); commitments],
            changes: None,
        }
    }

    /// From now on, keeps every change for [`LatestMarks::take_changes`].
    pub fn keep_changes(&mut self) {
        self.changes = Some(Vec::new());
    }

    fn log(&mut self, change: impl FnOnce() -> MarkChange) {
        if let Some(changes) = self.changes.as_mut() {
            changes.push(change());
        }
    }

    /// Puts `mark` among commitment `c`'s latest, if it is one of them.
    fn insert(&mut self, c: usize, mark: Mark) {
        let Some(list) = self.lists.get_mut(c) else {
            return;
        };
        let at = list.partition_point(|m| (m.date, m.id.as_str()) < (mark.date, mark.id.as_str()));
        if list.len() >= MARKS_LISTED && at == 0 {
            return;
        }
        list.insert(at, mark);
        let evicted = (list.len() > MARKS_LISTED).then(|| list.remove(0));
        if let Some(changes) = self.changes.as_mut() {
            let now = at - usize::from(evicted.is_some());
            changes.push(MarkChange::Added(c as u32, list[now].clone()));
            if let Some(old) = evicted {
                changes.push(MarkChange::Removed(c as u32, old.id));
            }
        }
    }

    /// Marks `report` on every commitment it hits, where it is among the latest.
    pub fn add(&mut self, report: &Report, hits: &[Hit]) {
        for h in hits {
            self.insert(h.commitment as usize, Mark::of(report, h.class));
        }
    }

    /// Removes the marks of report `id` from the `commitments` (those it hit).
    pub fn remove_from(&mut self, id: &str, commitments: &[u32]) {
        for &c in commitments {
            let Some(list) = self.lists.get_mut(c as usize) else {
                continue;
            };
            let before = list.len();
            list.retain(|m| m.id != id);
            if list.len() != before {
                self.log(|| MarkChange::Removed(c, id.to_string()));
            }
        }
    }

    /// Adds the marks of `other` (of the same rules).
    pub fn absorb(&mut self, other: LatestMarks) {
        for (c, list) in other.lists.into_iter().enumerate() {
            for m in list {
                self.remove_from(&m.id.clone(), &[c as u32]);
                self.insert(c, m);
            }
        }
    }

    /// The marks of each commitment (rule order), oldest first.
    pub fn lists(&self) -> &[Vec<Mark>] {
        &self.lists
    }

    /// Sets commitment `c`'s marks (from the ledger); not a change.
    pub fn set(&mut self, c: usize, mut marks: Vec<Mark>) {
        if let Some(list) = self.lists.get_mut(c) {
            marks.sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
            let excess = marks.len().saturating_sub(MARKS_LISTED);
            marks.drain(..excess);
            *list = marks;
        }
    }

    /// The changes since the last call (none unless [`LatestMarks::keep_changes`]).
    pub fn take_changes(&mut self) -> Vec<MarkChange> {
        self.changes
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::matcher::Class;
    use crate::engine::matcher::tests::report;
    use crate::engine::report::Kind;

    /// The latest marks, fed with reports in a scrambled order, some replaced, and a
    /// store kept only from the change log end up the same, and hold the latest 25 by
    /// (date, id).
    #[test]
    fn latest_marks_keep_the_latest_and_log_every_change() {
        let mut marks = LatestMarks::new(2);
        marks.keep_changes();
        let mut store: std::collections::BTreeMap<(u32, String), Mark> = Default::default();
        let mut apply = |marks: &mut LatestMarks| {
            for change in marks.take_changes() {
                match change {
                    MarkChange::Added(c, m) => {
                        store.insert((c, m.id.clone()), m);
                    }
                    MarkChange::Removed(c, id) => {
                        store.remove(&(c, id));
                    }
                }
            }
            store.clone()
        };
        let base = NaiveDate::from_ymd_opt(2010, 1, 1).unwrap();
        let mut last: HashMap<String, NaiveDate> = HashMap::new();
        for k in 0..200u64 {
            let id = format!("r{}", k * 37 % 90);
            let mut r = report(Kind::Action, &["KGZ"], None, "t", "");
            r.id = id.clone();
            r.date = base + chrono::Days::new(k * 53 % 101);
            let hits = [Hit {
                commitment: (k % 2) as u32,
                class: Class::Evidence,
                parties: 1,
            }];
            if last.contains_key(&id) {
                marks.remove_from(&id, &[0, 1]);
            }
            last.insert(id, r.date);
            marks.add(&r, &hits);
            if k % 7 == 0 {
                apply(&mut marks);
            }
        }
        let stored = apply(&mut marks);
        for (c, list) in marks.lists().iter().enumerate() {
            assert_eq!(list.len(), MARKS_LISTED);
            let from_store: Vec<&Mark> = stored
                .iter()
                .filter(|((sc, _), _)| *sc == c as u32)
                .map(|(_, m)| m)
                .collect();
            assert_eq!(from_store.len(), list.len());
            assert!(
                list.windows(2)
                    .all(|w| (w[0].date, &w[0].id) < (w[1].date, &w[1].id))
            );
            for m in list {
                assert_eq!(last[&m.id], m.date, "a replaced record's mark stayed");
                assert!(from_store.contains(&m));
            }
        }
    }
}
