//! What the daemon's ledger keeps of its reports for evaluation: per commitment, the number
//! of reports per day, class and party set — for any as-of date, not one. It stands in for
//! the reports (millions) so that a start, a `status` or an evaluation never re-reads or
//! re-matches them; its size is set by commitments × days with reports, not by reports or
//! hits.
//!
//! The statuses need even less (docs/reference.md, Statuses reads, per class and party set, only the latest
//! date in `[S, T]` and the number of reports there): [`DailyTally::statuses`] evaluates from
//! one weighted event per series; the history needs every evidence and breach day, so
//! [`DailyTally::events`] gives one commitment's cells at a time.

use crate::engine::evaluate::evaluate_all;
use crate::engine::evaluate::{AgreementStatus, Count, Event};
use crate::engine::history::{AgreementHistory, history_from};
use crate::engine::matcher::{Class, Hit};
use crate::engine::rules::RuleSet;
use chrono::{Datelike, NaiveDate};

/// Reports per (day, class, party set) of every commitment, open-ended in time.
///
/// Memory: 8 bytes per (commitment, class, party set, day) with reports, plus up to a
/// quarter of that again in pending changes between merges. The tally of one file's
/// changes (reports added, earlier records taken back) is a `DailyTally` too.
#[derive(Debug, Default, Clone)]
pub struct DailyTally {
    commitments: Vec<Vec<Series>>,
    /// Per commitment: its start `S` and whether it is followed up by each party.
    scopes: Vec<(NaiveDate, bool)>,
    /// Per commitment: how many parties it has (the bits of its party sets).
    parties: Vec<u32>,
    /// Per commitment: changed since the last [`DailyTally::take_changed`].
    changed: Vec<bool>,
    /// Per commitment: the index of its agreement.
    agreement_of: Vec<u32>,
    /// Per agreement: the distinct reports that count for one of its commitments (any
    /// date from the commitment's start on, any class).
    agreement_reports: Vec<i64>,
    /// `agreement_reports` changed since the last [`DailyTally::take_agreements_changed`].
    agreements_changed: bool,
}

/// The cells of one (commitment, class, party set).
#[derive(Debug, Clone)]
struct Series {
    class: Class,
    /// The party mask (for `each` commitments; 0 otherwise).
    parties: u64,
    /// (days from the common era, reports), by day, no zero counts. (A tally of one
    /// file's changes may hold negative counts: reports it takes back.)
    cells: Vec<(u32, i32)>,
    /// Changes not merged yet: (day, +n or -n).
    pending: Vec<(u32, i32)>,
}

impl Series {
    fn push(&mut self, day: u32, delta: i32) {
        self.pending.push((day, delta));
        if self.pending.len() >= self.cells.len() / 4 + 64 {
            self.merge();
        }
    }

    /// Merges the pending changes into the cells (sorting only the pending ones).
    fn merge(&mut self) {
        if !self.pending.is_empty() {
            self.cells = merge_days(&self.cells, &mut self.pending);
        }
    }
}

/// Merges `pending` changes (day, ±count; sorted here, then emptied) into `cells` (day,
/// count; by day, no zero counts): the counts of equal days added, days that counted down
/// to nothing dropped. Each change is sorted once, then only merged.
pub(crate) fn merge_days(cells: &[(u32, i32)], pending: &mut Vec<(u32, i32)>) -> Vec<(u32, i32)> {
    pending.sort_unstable_by_key(|p| p.0);
    let mut merged: Vec<(u32, i32)> = Vec::with_capacity(cells.len() + pending.len());
    let mut new = pending.drain(..).peekable();
    let mut old = cells.iter().copied().peekable();
    loop {
        let day = match (old.peek(), new.peek()) {
            (None, None) => break,
            (Some(c), None) => c.0,
            (None, Some(p)) => p.0,
            (Some(c), Some(p)) => c.0.min(p.0),
        };
        let mut count = old.next_if(|c| c.0 == day).map_or(0, |c| c.1);
        while let Some(p) = new.next_if(|p| p.0 == day) {
            count = count.saturating_add(p.1);
        }
        if count != 0 {
            merged.push((day, count));
        }
    }
    merged
}

fn day_number(date: NaiveDate) -> u32 {
    date.num_days_from_ce().max(0) as u32
}

fn date_of(day: u32) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(i32::try_from(day).ok()?)
}

fn class_byte(c: Class) -> u8 {
    match c {
        Class::Evidence => 0,
        Class::Talk => 1,
        Class::Breach => 2,
    }
}

fn class_from(b: u8) -> Option<Class> {
    match b {
        0 => Some(Class::Evidence),
        1 => Some(Class::Talk),
        2 => Some(Class::Breach),
        _ => None,
    }
}

/// A series' class, party set and counted cells.
type Counted<'a> = (Class, u64, &'a [(u32, i32)]);

/// The events of a commitment followed up by each of its `parties`: per class one for the
/// whole commitment's counts, and one per party standing for every party set holding it.
fn party_events(series: &[Counted<'_>], parties: u32) -> (Vec<Event>, [Count; 3]) {
    let mut out = Vec::new();
    let mut totals = [Count::default(); 3];
    for (k, class) in [Class::Evidence, Class::Talk, Class::Breach]
        .into_iter()
        .enumerate()
    {
        let of_class = |bit: u64| {
            series
                .iter()
                .filter(move |s| s.0 == class && (bit == 0 || s.1 & bit != 0))
                .map(|s| s.2)
        };
        if let Some(e) = series_event(class, 0, of_class(0)) {
            totals[k] = Count {
                reports: e.reports as usize,
                days: e.days as usize,
            };
        }
        for i in 0..parties {
            out.extend(series_event(class, 1u64 << i, of_class(1u64 << i)));
        }
    }
    (out, totals)
}

/// The distinct days with reports over several series (each sorted by day).
fn distinct_days(lists: &[&[(u32, i32)]]) -> usize {
    let first = lists.iter().map(|l| l[0].0).min().unwrap_or(0);
    let end = lists
        .iter()
        .map(|l| l[l.len() - 1].0)
        .max()
        .unwrap_or(first);
    let mut seen = vec![0u64; (end - first) as usize / 64 + 1];
    for &(day, _) in lists
        .iter()
        .flat_map(|l| l.iter())
        .filter(|cell| cell.1 > 0)
    {
        let at = (day - first) as usize;
        seen[at / 64] |= 1u64 << (at % 64);
    }
    seen.iter().map(|w| w.count_ones() as usize).sum()
}

/// One event for the counted cells of one or more series (each sorted by day): dated the
/// latest day with reports, weighted by all their reports and their distinct days.
fn series_event<'a>(
    class: Class,
    parties: u64,
    series: impl IntoIterator<Item = &'a [(u32, i32)]>,
) -> Option<Event> {
    let lists: Vec<&[(u32, i32)]> = series.into_iter().filter(|l| !l.is_empty()).collect();
    let positive = |l: &&[(u32, i32)]| l.iter().map(|cell| cell.1.max(0) as u64).sum::<u64>();
    let reports: u64 = lists.iter().map(positive).sum();
    let last = lists
        .iter()
        .filter_map(|l| l.iter().rev().find(|cell| cell.1 > 0))
        .map(|cell| cell.0)
        .max()?;
    // one series has one cell per day; several may share days: a bit per day marks them
    let days = match lists[..] {
        [one] => one.iter().filter(|cell| cell.1 > 0).count(),
        _ => distinct_days(&lists),
    };
    Some(Event {
        date: date_of(last)?,
        class,
        parties,
        reports: u32::try_from(reports).unwrap_or(u32::MAX),
        days: u32::try_from(days).unwrap_or(u32::MAX),
    })
}

impl DailyTally {
    /// An empty tally for the commitments of `rules` (rule order over all agreements).
    pub fn new(rules: &RuleSet) -> DailyTally {
        let scopes = rules.scopes();
        let parties = rules
            .agreements
            .iter()
            .flat_map(|a| &a.commitments)
            .map(|c| c.parties.len().min(64) as u32)
            .collect();
        let agreement_of = rules
            .agreements
            .iter()
            .enumerate()
            .flat_map(|(a, ag)| ag.commitments.iter().map(move |_| a as u32))
            .collect();
        DailyTally {
            commitments: vec![Vec::new(); scopes.len()],
            changed: vec![false; scopes.len()],
            scopes,
            parties,
            agreement_of,
            agreement_reports: vec![0; rules.agreements.len()],
            agreements_changed: false,
        }
    }

    /// Counts a report dated `date` with `hits` (`sign` 1), or takes it back (`sign` -1).
    /// Hits dated before their commitment's start never count and are not kept.
    pub fn add(&mut self, date: NaiveDate, hits: &[Hit], sign: i32) {
        let day = day_number(date);
        let mut agreements: Vec<u32> = Vec::new();
        for h in hits {
            let c = h.commitment as usize;
            let (Some(series), Some(&(starts, each))) =
                (self.commitments.get_mut(c), self.scopes.get(c))
            else {
                continue;
            };
            if date < starts {
                continue;
            }
            let parties = if each { h.parties } else { 0 };
            let s = match series
                .iter()
                .position(|s| s.class == h.class && s.parties == parties)
            {
                Some(i) => &mut series[i],
                None => {
                    series.push(Series {
                        class: h.class,
                        parties,
                        cells: Vec::new(),
                        pending: Vec::new(),
                    });
                    let last = series.len() - 1;
                    &mut series[last]
                }
            };
            s.push(day, sign);
            self.changed[c] = true;
            if let Some(&a) = self.agreement_of.get(c)
                && !agreements.contains(&a)
            {
                agreements.push(a);
            }
        }
        for a in agreements {
            if let Some(n) = self.agreement_reports.get_mut(a as usize) {
                *n += i64::from(sign);
                self.agreements_changed = true;
            }
        }
    }

    /// Per agreement (rule order): the distinct reports that count for one of its
    /// commitments, whatever their date.
    pub fn agreement_reports(&self) -> &[i64] {
        &self.agreement_reports
    }

    /// True (once) when the agreements' report counts changed since the last call.
    pub fn take_agreements_changed(&mut self) -> bool {
        std::mem::take(&mut self.agreements_changed)
    }

    /// The agreements' report counts as bytes, for the ledger (each an i64, little-endian).
    pub fn encode_agreements(&self) -> Vec<u8> {
        self.agreement_reports
            .iter()
            .flat_map(|n| n.to_le_bytes())
            .collect()
    }

    /// Sets the agreements' report counts from [`DailyTally::encode_agreements`]' bytes.
    pub fn decode_agreements(&mut self, bytes: &[u8]) -> Result<(), String> {
        if bytes.len() != self.agreement_reports.len() * 8 {
            return Err("stored report counts of the agreements are malformed".into());
        }
        for (n, chunk) in self.agreement_reports.iter_mut().zip(bytes.chunks_exact(8)) {
            let mut b = [0u8; 8];
            b.copy_from_slice(chunk);
            *n = i64::from_le_bytes(b);
        }
        Ok(())
    }

    /// Adds every cell of `other` (a tally of the same rules) to this one.
    pub fn absorb(&mut self, other: &mut DailyTally) {
        for (mine, theirs) in self
            .agreement_reports
            .iter_mut()
            .zip(&mut other.agreement_reports)
        {
            if *theirs != 0 {
                *mine += std::mem::take(theirs);
                self.agreements_changed = true;
            }
        }
        for (c, theirs) in other.commitments.iter_mut().enumerate() {
            for s in theirs.iter_mut() {
                s.merge();
                let mine = match self.commitments.get_mut(c) {
                    Some(m) => m,
                    None => continue,
                };
                let target = match mine
                    .iter()
                    .position(|m| m.class == s.class && m.parties == s.parties)
                {
                    Some(i) => &mut mine[i],
                    None => {
                        mine.push(Series {
                            class: s.class,
                            parties: s.parties,
                            cells: Vec::new(),
                            pending: Vec::new(),
                        });
                        let last = mine.len() - 1;
                        &mut mine[last]
                    }
                };
                // `other`'s cells are signed: its take-backs subtract
                target.pending.extend_from_slice(&s.cells);
                target.merge();
                if let Some(flag) = self.changed.get_mut(c) {
                    *flag = true;
                }
            }
        }
    }

    /// The number of commitments.
    pub fn len(&self) -> usize {
        self.commitments.len()
    }

    /// The commitments changed since the last call (their cells merged), in order.
    pub fn take_changed(&mut self) -> Vec<u32> {
        let mut out = Vec::new();
        for (c, flag) in self.changed.iter_mut().enumerate() {
            if std::mem::take(flag) {
                out.push(c as u32);
            }
        }
        out
    }

    /// The statuses of every agreement at `as_of`, equal to those of every report's events
    /// (counts and days included), from one weighted event per series.
    pub fn statuses(&mut self, rules: &RuleSet, as_of: NaiveDate) -> Vec<AgreementStatus> {
        let (events, counts) = self.status_events(as_of);
        let mut statuses = evaluate_all(rules, &events, as_of);
        let all = statuses.iter_mut().flat_map(|a| a.commitments.iter_mut());
        for (c, counts) in all.zip(counts) {
            if let Some([evidence, talk, breaches]) = counts {
                (c.evidence, c.evidence_days) = (evidence.reports, evidence.days);
                (c.talk, c.talk_days) = (talk.reports, talk.days);
                (c.breaches, c.breach_days) = (breaches.reports, breaches.days);
            }
        }
        statuses
    }

    /// What evaluation at `as_of` needs (docs/reference.md, Statuses reads, per scope, only the latest date in
    /// `[S, as_of]` and the number of reports and days there). Per commitment: one event
    /// per class and party set, dated its latest day and weighted by its reports and days.
    /// A commitment followed up by each party gets one such event per class and *party*
    /// instead (its party sets share days and reports: party `i`'s event stands for every
    /// set holding it), with its own counts over all of them beside.
    fn status_events(&mut self, as_of: NaiveDate) -> (Vec<Vec<Event>>, Vec<Option<[Count; 3]>>) {
        let end = day_number(as_of);
        let mut events = Vec::with_capacity(self.commitments.len());
        let mut counts = Vec::with_capacity(self.commitments.len());
        for c in 0..self.commitments.len() {
            let (starts, each) = self.scopes[c];
            let starts = day_number(starts);
            let mut series: Vec<Counted<'_>> = Vec::new();
            for s in self.commitments[c].iter_mut() {
                s.merge();
                let upto = s.cells.partition_point(|cell| cell.0 <= end);
                let from = s.cells[..upto].partition_point(|cell| cell.0 < starts);
                series.push((s.class, s.parties, &s.cells[from..upto]));
            }
            if !each {
                let one = |(class, parties, cells): &Counted<'_>| {
                    series_event(*class, *parties, [*cells])
                };
                events.push(series.iter().filter_map(one).collect());
                counts.push(None);
                continue;
            }
            let parties = self.parties.get(c).copied().unwrap_or(0);
            let (out, totals) = party_events(&series, parties);
            events.push(out);
            counts.push(Some(totals));
        }
        (events, counts)
    }

    /// Every cell of commitment `c` as a weighted event (for its history).
    pub fn events(&mut self, c: usize) -> Vec<Event> {
        let Some(series) = self.commitments.get_mut(c) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for s in series.iter_mut() {
            s.merge();
            out.extend(s.cells.iter().filter(|c| c.1 > 0).filter_map(|&(day, n)| {
                Some(Event {
                    date: date_of(day)?,
                    class: s.class,
                    parties: s.parties,
                    reports: n as u32,
                    days: 1,
                })
            }));
        }
        out
    }

    /// The days on which commitment `c` has reports counted (every class and party set),
    /// in order.
    pub fn days(&mut self, c: usize) -> Vec<NaiveDate> {
        let mut days: Vec<NaiveDate> = self.events(c).into_iter().map(|e| e.date).collect();
        days.sort_unstable();
        days.dedup();
        days
    }

    /// The history of every agreement at `as_of`, one commitment's events at a time.
    pub fn history(&mut self, rules: &RuleSet, as_of: NaiveDate) -> Vec<AgreementHistory> {
        history_from(rules, as_of, |i| std::borrow::Cow::Owned(self.events(i)))
    }

    /// Commitment `c`'s cells as bytes, for the ledger: per series its class (1 byte),
    /// party mask (8), number of cells (4), then each cell's day and count (4 + 4), all
    /// little-endian.
    pub fn encode(&mut self, c: usize) -> Vec<u8> {
        let Some(series) = self.commitments.get_mut(c) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for s in series.iter_mut() {
            s.merge();
            let positive = s.cells.iter().filter(|c| c.1 > 0);
            let n = positive.clone().count();
            if n == 0 {
                continue;
            }
            out.push(class_byte(s.class));
            out.extend_from_slice(&s.parties.to_le_bytes());
            out.extend_from_slice(&(n as u32).to_le_bytes());
            for &(day, n) in positive {
                out.extend_from_slice(&day.to_le_bytes());
                out.extend_from_slice(&n.to_le_bytes());
            }
        }
        out
    }

    /// Sets commitment `c`'s cells from [`DailyTally::encode`]'s bytes.
    pub fn decode(&mut self, c: usize, bytes: &[u8]) -> Result<(), String> {
        let bad = || format!("stored tally of commitment {c} is malformed");
        let Some(series) = self.commitments.get_mut(c) else {
            return Err(format!(
                "stored tally of commitment {c}: no such commitment"
            ));
        };
        series.clear();
        let mut at = 0usize;
        let mut take = |n: usize| -> Result<&[u8], String> {
            let head = bytes
                .get(at..at.checked_add(n).ok_or_else(bad)?)
                .ok_or_else(bad)?;
            at += n;
            Ok(head)
        };
        let u32_of = |b: &[u8]| b.try_into().map(u32::from_le_bytes).map_err(|_| bad());
        let mut left = bytes.len();
        while left > 0 {
            let class = class_from(take(1)?[0]).ok_or_else(bad)?;
            let parties = take(8)?
                .try_into()
                .map(u64::from_le_bytes)
                .map_err(|_| bad())?;
            let n = u32_of(take(4)?)? as usize;
            let raw = take(n.checked_mul(8).ok_or_else(bad)?)?;
            let cells: Vec<(u32, i32)> = raw
                .chunks_exact(8)
                .map(|ch| Ok((u32_of(&ch[..4])?, u32_of(&ch[4..])? as i32)))
                .collect::<Result<_, String>>()?;
            if cells.windows(2).any(|w| w[0].0 >= w[1].0) || cells.iter().any(|cell| cell.1 <= 0) {
                return Err(bad());
            }
            left -= 13 + 8 * n;
            series.push(Series {
                class,
                parties,
                cells,
                pending: Vec::new(),
            });
        }
        Ok(())
    }
}

/// Identifies what a stored tally was counted with: this pledgewatch's version and the
/// rules as loaded (their ids, parties, dates and commitments, wherever the files are). A ledger whose tally has another fingerprint is counted again.
pub fn fingerprint(rules: &RuleSet) -> String {
    let mut h = blake3::Hasher::new();
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(b"\0");
    // what decides matching and evaluation, not where the files lie or what `check` says
    for a in &rules.agreements {
        h.update(format!("{:?}", (&a.id, &a.parties, a.signed, &a.commitments)).as_bytes());
    }
    h.finalize().to_hex().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::evaluate::evaluate_agreement;
    use crate::engine::matcher::tests::{report, rules};
    use crate::engine::matcher::{CompiledRules, Scratch};
    use crate::engine::replay::EvidenceSet;
    use crate::engine::report::Kind;
    use proptest::prelude::*;

    const RULES: &str = r#"
[[commitment]]
id = "each"
title = "Each"
follow_up_by = "each"
window = "60d"
grace = "10d"
[[commitment.evidence]]
keywords = ["border"]
[[commitment.evidence]]
keywords = ["talks"]
kinds = ["statement"]
[[commitment.breach]]
keywords = ["clash"]

[[commitment]]
id = "joint"
title = "Joint"
follow_up_by = "joint"
deadline = 2008-03-01
[[commitment.evidence]]
keywords = ["water"]
[[commitment.breach]]
keywords = ["clash"]

[[commitment]]
id = "any"
title = "Any"
window = "30d"
[[commitment.evidence]]
keywords = ["border", "water"]
"#;

    fn arb_reports() -> impl Strategy<Value = Vec<(u8, u16, u8, u8, bool)>> {
        // (id, day offset from 2007-09-01, actors, title, statement?)
        proptest::collection::vec((0u8..20, 0u16..500, 0u8..3, 0u8..5, any::<bool>()), 0..60)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Statuses and histories from the tally, at many as-of dates, are those of the
        /// simple path (every report's events), with later records of an id taken back.
        #[test]
        fn tally_evaluates_like_every_report(list in arb_reports(), probes in proptest::collection::vec(0u16..520, 1..8), per_file in 1usize..7) {
            let set = rules(RULES);
            let compiled = CompiledRules::new(&set).unwrap();
            let mut scratch = Scratch::default();
            let mut simple = EvidenceSet::default();
            let mut tally = DailyTally::new(&set);
            // as the daemon does: each file's changes in a tally of their own, then absorbed
            let mut file = DailyTally::new(&set);
            let mut stored: std::collections::HashMap<u8, (NaiveDate, Vec<Hit>)> = Default::default();
            let base = NaiveDate::from_ymd_opt(2007, 9, 1).unwrap();
            for (k, (id, offset, actors, title, statement)) in list.into_iter().enumerate() {
                if k % per_file == 0 {
                    tally.absorb(&mut file);
                    file = DailyTally::new(&set);
                }
                let date = base + chrono::Days::new(u64::from(offset));
                let actors: &[&str] = [&["KGZ"][..], &["TJK"], &["KGZ", "TJK"]][actors as usize];
                let title = ["border post", "water talks", "clash at border", "talks", "nothing"][title as usize];
                let kind = if statement { Kind::Statement } else { Kind::Action };
                let mut r = report(kind, actors, None, title, "");
                r.id = format!("r{id}");
                r.date = date;
                let hits = compiled.match_report(&r, &mut scratch);
                if let Some((old_date, old_hits)) = stored.remove(&id) {
                    file.add(old_date, &old_hits, -1);
                }
                file.add(date, &hits, 1);
                stored.insert(id, (date, hits.clone()));
                simple.add(&r, hits);
            }
            tally.absorb(&mut file);
            // a round trip through the ledger's bytes changes nothing
            let mut copy = DailyTally::new(&set);
            for c in 0..tally.len() {
                let bytes = tally.encode(c);
                copy.decode(c, &bytes).unwrap();
            }
            let events = simple.events(set.commitment_count());
            for p in probes {
                let as_of = base + chrono::Days::new(u64::from(p));
                let want: Vec<_> = set.agreements.iter().scan(0, |i, a| {
                    let n = a.commitments.len();
                    let s = evaluate_agreement(a, &events[*i..*i + n], as_of);
                    *i += n;
                    Some(s)
                }).collect();
                let got = copy.statuses(&set, as_of);
                prop_assert_eq!(&got, &want);
                let history = crate::engine::history::history_all(&set, &events, as_of);
                prop_assert_eq!(copy.history(&set, as_of), history);
            }
        }
    }

    #[test]
    fn the_fingerprint_is_of_the_rules_not_their_place() {
        let a = rules(RULES);
        let mut b = a.clone();
        b.agreements[0].path = "elsewhere/t.toml".into();
        assert_eq!(fingerprint(&a), fingerprint(&b));
        let mut c = a.clone();
        c.agreements[0].commitments[0].id = "other".into();
        assert_ne!(fingerprint(&a), fingerprint(&c));
    }

    #[test]
    fn malformed_bytes_are_refused() {
        let set = rules(RULES);
        let mut t = DailyTally::new(&set);
        assert!(t.decode(0, &[7]).is_err());
        assert!(
            t.decode(0, &[0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0])
                .is_err()
        );
        assert!(t.decode(9, &[]).is_err());
        assert!(t.decode(0, &[]).is_ok());
    }
}
