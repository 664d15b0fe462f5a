//! Replay: rules and report files in, statuses out, with no daemon and no state. The
//! in-memory [`EvidenceSet`] is the ledger's stand-in: reports keyed by id (so the same
//! report twice counts once, and a repeated explicit id keeps the later version), each kept
//! only as its date and its hits.

use crate::engine::evaluate::Event;
use crate::engine::matcher::{Class, Hit};
use crate::engine::report::Report;
use chrono::NaiveDate;
use std::collections::HashMap;

/// docs/reference.md, JSON output `reports` counts.
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

    /// Counts `rejected` refused records or files and `skipped` GDELT rows.
    pub fn count_refused(&mut self, rejected: usize, skipped: usize) {
        self.rejected += rejected;
        self.skipped += skipped;
    }

    /// The docs/reference.md, JSON output counts.
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
                        reports: 1,
                        days: 1,
                    });
                }
            }
        }
        out
    }
}

/// What a replay of any size keeps per commitment for one as-of date `T`: the number of
/// distinct reports per (day, class, party mask). Evaluation (docs/reference.md, Statuses) and the history up to
/// `T` need no more, and a day of a commitment costs the same whether one report hit it or
/// a thousand. What can never matter at `T` is not kept at all: hits dated outside the
/// commitment's counted dates `[S, T]`, and the party mask of a commitment not followed
/// up by each party. (Talk keeps its days: the counts of docs/reference.md, Statuses include `talk_days`.)
///
/// Memory: per (commitment, class, party mask) with reports, 8 bytes per distinct day
/// while few of its days have reports (at most 1.25 times that between merges), and 4 bytes
/// per day of the commitment's counted dates `[S, T]` once an eighth of them have reports
/// (within a budget of 256 MiB; past it, once half of them have): then a report costs one
/// increment, no sorting. Hits wait in a batch of 4,096 per commitment; nothing per hit
/// beyond that.
#[derive(Debug, Default)]
pub struct Tally {
    per_commitment: Vec<Commitment>,
    /// Per commitment: the day numbers of `S` and `T`, and whether it is followed up by
    /// each party.
    scopes: Vec<(u32, u32, bool)>,
    as_of: NaiveDate,
    /// Bytes still to give to series counted per day from their first report on.
    dense_budget: usize,
}

/// The memory a tally may give to series counted per day (4 bytes per day of `[S, T]`)
/// before they are as small as lists of days: a report then costs one increment and
/// no sorting.
const DENSE_BUDGET: usize = 256 << 20;

/// One commitment's counts: its series, and the hits not yet counted into them (appended
/// in a batch, so that adding a hit touches only the batch's end; a full batch is counted
/// into the series at once, each series' memory then near at hand).
#[derive(Debug)]
struct Commitment {
    series: Vec<Series>,
    /// The series of each class with party mask 0 (by [`class_bits`]), or `u32::MAX`.
    plain: [u32; 3],
    /// (day, series index, with [`TAKE_BACK`] set for a report taken back): 8 bytes a hit.
    batch: Vec<(u32, u32)>,
}

/// Marks a batch entry that takes a report back.
const TAKE_BACK: u32 = 1 << 31;

/// Hits a commitment holds before it counts them into its series.
const BATCH: usize = 4096;

/// The counts of one (commitment, class, party mask).
#[derive(Debug)]
struct Series {
    class: Class,
    parties: u64,
    days: Days,
}

/// Reports per day of one series: a sorted list of the days with reports, or a count for
/// every day of `[S, T]`.
#[derive(Debug)]
enum Days {
    Sparse {
        /// (day, count), by day, no zero counts.
        cells: Vec<(u32, i32)>,
        /// Changes not merged yet.
        pending: Vec<(u32, i32)>,
    },
    Dense {
        /// The day number of `counts[0]` (`S`).
        first: u32,
        counts: Vec<i32>,
    },
}

fn class_bits(c: Class) -> u32 {
    match c {
        Class::Evidence => 0,
        Class::Talk => 1,
        Class::Breach => 2,
    }
}

fn day_number(date: NaiveDate) -> u32 {
    chrono::Datelike::num_days_from_ce(&date).max(0) as u32
}

impl Days {
    /// Adds `delta` reports on `day` (within `[first, last]`).
    fn add(&mut self, day: u32, delta: i32, first: u32, last: u32, budget: &mut usize) {
        match self {
            Days::Dense { first, counts } => {
                if let Some(c) = counts.get_mut((day - *first) as usize) {
                    *c += delta;
                }
            }
            Days::Sparse { cells, pending } => {
                pending.push((day, delta));
                if pending.len() >= cells.len() / 4 + 64 {
                    self.merge(first, last, budget);
                }
            }
        }
    }

    /// Merges the pending changes into the cells (sorting only the pending ones), and turns
    /// the list into a count per day once an eighth of the days of `[first, last]` have
    /// cells and the budget allows (once half of them have, whatever the budget: a count
    /// per day is then the smaller).
    fn merge(&mut self, first: u32, last: u32, budget: &mut usize) {
        let Days::Sparse { cells, pending } = self else {
            return;
        };
        if pending.is_empty() {
            return;
        }
        let merged = crate::engine::tally::merge_days(cells, pending);
        let span = (last - first + 1) as usize;
        let affordable = merged.len() * 8 >= span && span * 4 <= *budget;
        if affordable || merged.len() * 2 >= span {
            *budget = budget.saturating_sub(span * 4);
            let mut counts = vec![0; span];
            for (day, n) in merged {
                if let Some(c) = counts.get_mut((day - first) as usize) {
                    *c = n;
                }
            }
            *self = Days::Dense { first, counts };
        } else {
            *cells = merged;
        }
    }

    /// Every (day number, count) with reports, by day.
    fn counted(&mut self, first: u32, last: u32) -> Vec<(u32, i32)> {
        self.merge(first, last, &mut 0);
        match self {
            Days::Sparse { cells, .. } => cells.iter().copied().filter(|c| c.1 > 0).collect(),
            Days::Dense { first, counts } => counts
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(i, n)| (*first + i as u32, *n))
                .collect(),
        }
    }
}

impl Commitment {
    fn new() -> Commitment {
        Commitment {
            series: Vec::new(),
            plain: [u32::MAX; 3],
            batch: Vec::new(),
        }
    }

    /// The index of the series of `class` and `parties`, made when it is new.
    fn series_index(&mut self, class: Class, parties: u64) -> u32 {
        let found = if parties == 0 {
            self.plain[class_bits(class) as usize]
        } else {
            self.series
                .iter()
                .position(|s| s.class == class && s.parties == parties)
                .map_or(u32::MAX, |i| i as u32)
        };
        if found != u32::MAX {
            return found;
        }
        let index = self.series.len() as u32;
        self.series.push(Series {
            class,
            parties,
            days: Days::Sparse {
                cells: Vec::new(),
                pending: Vec::new(),
            },
        });
        if parties == 0 {
            self.plain[class_bits(class) as usize] = index;
        }
        index
    }

    /// Counts the batch into the series (a new series is counted per day while the
    /// budget lasts).
    fn count_batch(&mut self, first: u32, last: u32, budget: &mut usize) {
        for (day, series) in self.batch.drain(..) {
            let delta = if series & TAKE_BACK == 0 { 1 } else { -1 };
            if let Some(s) = self.series.get_mut((series & !TAKE_BACK) as usize) {
                s.days.add(day, delta, first, last, budget);
            }
        }
    }
}

impl Tally {
    /// An empty tally of the commitments of `rules` (rule order) as of `as_of`.
    pub fn new(rules: &crate::engine::rules::RuleSet, as_of: NaiveDate) -> Tally {
        let last = day_number(as_of);
        let scopes: Vec<(u32, u32, bool)> = rules
            .scopes()
            .into_iter()
            .map(|(starts, each)| (day_number(starts), last, each))
            .collect();
        Tally {
            per_commitment: (0..scopes.len()).map(|_| Commitment::new()).collect(),
            scopes,
            as_of,
            dense_budget: DENSE_BUDGET,
        }
    }

    /// Counts a report dated `date` with `hits` (`sign` +1), or takes it back (-1).
    pub fn add(&mut self, date: NaiveDate, hits: &[Hit], sign: i32) {
        if date > self.as_of {
            return;
        }
        let day = day_number(date);
        let take_back = if sign < 0 { TAKE_BACK } else { 0 };
        for h in hits {
            let c = h.commitment as usize;
            let (Some(commitment), Some(&(first, last, each))) =
                (self.per_commitment.get_mut(c), self.scopes.get(c))
            else {
                continue;
            };
            if day < first {
                continue;
            }
            let parties = if each { h.parties } else { 0 };
            let series = commitment.series_index(h.class, parties);
            commitment.batch.push((day, series | take_back));
            if commitment.batch.len() >= BATCH {
                commitment.count_batch(first, last, &mut self.dense_budget);
            }
        }
    }

    /// Events per commitment (one per distinct day, class and party mask, weighted by its
    /// number of reports), consuming the tally.
    pub fn into_events(self) -> Vec<Vec<Event>> {
        self.per_commitment
            .into_iter()
            .zip(self.scopes)
            .map(|(mut commitment, (first, last, _))| {
                let mut budget = 0;
                commitment.count_batch(first, last, &mut budget);
                let mut out = Vec::new();
                for mut s in commitment.series {
                    for (day, n) in s.days.counted(first, last) {
                        let Some(date) = NaiveDate::from_num_days_from_ce_opt(day as i32) else {
                            continue;
                        };
                        out.push(Event {
                            date,
                            class: s.class,
                            parties: s.parties,
                            reports: n as u32,
                            days: 1,
                        });
                    }
                }
                out
            })
            .collect()
    }
}

/// A report's id as 96 bits of BLAKE3: what [`LaterWins`] keeps instead of the id (two
/// of 20 million distinct ids share a digest with a chance of about 3 in 10^15).
pub fn id_digest(id: &str) -> IdDigest {
    let hash = blake3::hash(id.as_bytes());
    let b = hash.as_bytes();
    let word = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    [word(0), word(4), word(8)]
}

/// See [`id_digest`].
pub type IdDigest = [u32; 3];

/// What a report adds to a [`Tally`] (its date and hits), as 32 bits: two records of one
/// id with the same contribution are the same for evaluation. (Two different
/// contributions of one id share these bits with a chance of about 2^-32; then the earlier
/// is kept. Fewer bits keep an entry of [`LaterWins`] at 24 bytes.)
pub fn contribution(date: NaiveDate, hits: &[Hit]) -> u32 {
    // FNV-1a over the date and each hit: cheap, and spread well enough for telling two
    // versions of one report apart.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |v: u64| {
        h ^= v;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    };
    eat(chrono::Datelike::num_days_from_ce(&date) as u64);
    for hit in hits {
        eat(u64::from(hit.commitment) << 2 | u64::from(class_bits(hit.class)));
        eat(hit.parties);
    }
    (h ^ (h >> 32)) as u32
}

/// What to do with a report offered to [`LaterWins`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// A new id: count it.
    New,
    /// The id again with the same contribution: nothing changes.
    Same,
    /// The id again with another contribution: count this one; the earlier one is
    /// superseded and must be taken back (see [`LaterWins::superseded`]).
    Replaces,
}

/// "The later record with the same id wins" without keeping reports: per distinct id its
/// digest, the ordinal of the record that counts and the digest of its contribution
/// (20 bytes, and one more of the hash table's, per distinct report). Superseded records
/// are listed by ordinal, to be read again and taken back.
#[derive(Debug, Default)]
pub struct LaterWins {
    seen: HashMap<IdDigest, (u32, u32), DigestHasher>,
    superseded: Vec<(u32, IdDigest)>,
    next: u32,
}

impl LaterWins {
    /// Offers the next report (in path order): its id digest and contribution.
    pub fn offer(&mut self, digest: IdDigest, contribution: u32) -> Offer {
        let ordinal = self.next;
        self.next += 1;
        match self.seen.entry(digest) {
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert((ordinal, contribution));
                Offer::New
            }
            // the earlier record stays the one counted
            std::collections::hash_map::Entry::Occupied(slot) if slot.get().1 == contribution => {
                Offer::Same
            }
            std::collections::hash_map::Entry::Occupied(mut slot) => {
                let (earlier, _) = slot.insert((ordinal, contribution));
                self.superseded.push((earlier, digest));
                Offer::Replaces
            }
        }
    }

    /// The number of distinct ids.
    pub fn distinct(&self) -> usize {
        self.seen.len()
    }

    /// The records to take back, as (ordinal, id digest), by ordinal.
    pub fn superseded(&mut self) -> &[(u32, IdDigest)] {
        self.superseded.sort_unstable();
        &self.superseded
    }
}

/// The id digests are uniformly random already: their first 8 bytes are the hash (an
/// array of integers is hashed as its bytes, after its length, which is left out).
#[derive(Debug, Default, Clone, Copy)]
struct DigestHasher(u64);

impl std::hash::Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes.iter().take(8) {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_usize(&mut self, _: usize) {}
}

impl std::hash::BuildHasher for DigestHasher {
    type Hasher = DigestHasher;
    fn build_hasher(&self) -> DigestHasher {
        DigestHasher(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::evaluate::evaluate_all;
    use crate::engine::history::history_all;
    use crate::engine::matcher::tests::{report, rules};
    use crate::engine::matcher::{CompiledRules, Scratch};
    use crate::engine::report::Kind;
    use proptest::prelude::*;

    const RULES: &str = "\
[[commitment]]\nid = \"joint\"\ntitle = \"J\"\nwindow = \"90d\"\ngrace = \"30d\"\nbreach_window = \"60d\"\n\
[[commitment.evidence]]\nkeywords = [\"border\", \"talks\"]\n\
[[commitment.breach]]\nkinds = [\"incident\"]\nkeywords = [\"clash\"]\n\
[[commitment]]\nid = \"each\"\ntitle = \"E\"\nfollow_up_by = \"each\"\nmin_strength = \"agreement\"\nwindow = \"120d\"\n\
[[commitment.evidence]]\nkeywords = [\"border\", \"water\"]\n\
[[commitment]]\nid = \"any\"\ntitle = \"A\"\nfollow_up_by = \"any\"\ndeadline = 2010-06-01\n\
[[commitment.evidence]]\nkeywords = [\"water\", \"talks\"]\n";

    /// A report: id from a small pool (so ids repeat), day offset, kind, actors, words.
    fn arb_report() -> impl Strategy<Value = Report> {
        let words = prop::sample::select(vec!["border", "talks", "water", "clash", "x"]);
        (
            0u8..12,
            0i64..500,
            prop::sample::select(Kind::ALL.to_vec()),
            prop::sample::select(vec![vec!["KGZ"], vec!["TJK"], vec!["KGZ", "TJK"]]),
            prop::collection::vec(words, 0..4),
        )
            .prop_map(|(id, day, kind, actors, words)| {
                let mut r = report(kind, &actors, None, &words.join(" "), "");
                r.id = format!("id-{id}");
                r.date = NaiveDate::from_ymd_opt(2009, 1, 1).unwrap() + chrono::Duration::days(day);
                r
            })
    }

    /// The bounded path as the shell drives it: one pass through [`LaterWins`] and
    /// [`Tally`], then the superseded records taken back in a second pass.
    fn bounded(
        set: &crate::engine::rules::RuleSet,
        compiled: &CompiledRules,
        reports: &[Report],
        as_of: NaiveDate,
        dense_budget: usize,
    ) -> (Vec<Vec<Event>>, usize) {
        let mut tally = Tally::new(set, as_of);
        tally.dense_budget = dense_budget;
        let mut later = LaterWins::default();
        let mut scratch = Scratch::default();
        for r in reports {
            let hits = compiled.match_report(r, &mut scratch);
            if later.offer(id_digest(&r.id), contribution(r.date, &hits)) != Offer::Same {
                tally.add(r.date, &hits, 1);
            }
        }
        for &(ordinal, digest) in later.superseded() {
            let r = &reports[ordinal as usize];
            assert_eq!(id_digest(&r.id), digest);
            tally.add(r.date, &compiled.match_report(r, &mut scratch), -1);
        }
        (tally.into_events(), later.distinct())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// Many repeated ids, the later wins: the bounded path gives the statuses (counts
        /// included) and the histories of the simple one, at every probed date.
        #[test]
        fn bounded_and_simple_paths_agree(reports in prop::collection::vec(arb_report(), 0..80)) {
            let set = rules(RULES);
            let compiled = CompiledRules::new(&set).unwrap();
            let mut simple = EvidenceSet::default();
            let mut scratch = Scratch::default();
            for r in &reports {
                simple.add(r, compiled.match_report(r, &mut scratch));
            }
            let n = set.commitment_count();
            let simple_events = simple.events(n);
            for day in (0..700).step_by(23) {
                let as_of = NaiveDate::from_ymd_opt(2009, 1, 1).unwrap() + chrono::Duration::days(day);
                // counted per day (the budget), as lists of days (none), and half and half
                for budget in [DENSE_BUDGET, 0, 200 * 4] {
                    let (events, distinct) = bounded(&set, &compiled, &reports, as_of, budget);
                    prop_assert_eq!(distinct, simple.counts().read);
                    prop_assert_eq!(evaluate_all(&set, &events, as_of), evaluate_all(&set, &simple_events, as_of));
                    prop_assert_eq!(history_all(&set, &events, as_of), history_all(&set, &simple_events, as_of));
                }
            }
        }
    }

    #[test]
    fn later_wins_keeps_20_bytes_per_id_and_tells_repeats_apart() {
        assert_eq!(std::mem::size_of::<(IdDigest, (u32, u32))>(), 20);
        let mut l = LaterWins::default();
        let (a, b) = (id_digest("a"), id_digest("b"));
        assert_eq!(l.offer(a, 1), Offer::New);
        assert_eq!(l.offer(b, 1), Offer::New);
        assert_eq!(l.offer(a, 1), Offer::Same);
        assert_eq!(l.offer(a, 2), Offer::Replaces);
        assert_eq!(l.offer(a, 3), Offer::Replaces);
        assert_eq!(l.distinct(), 2);
        // the first record of a, then the fourth (the second one was the same as the first)
        assert_eq!(l.superseded(), &[(0, a), (3, a)]);
    }

    #[test]
    fn a_tally_keeps_one_cell_per_day_class_and_parties() {
        let hit = |commitment, class| Hit {
            commitment,
            class,
            parties: 0b11,
        };
        let set = rules(RULES);
        let day = NaiveDate::from_ymd_opt(2010, 1, 1).unwrap();
        let mut t = Tally::new(&set, day);
        for _ in 0..1000 {
            t.add(day, &[hit(0, Class::Evidence), hit(1, Class::Talk)], 1);
        }
        t.add(day, &[hit(1, Class::Talk)], -1);
        let events = t.into_events();
        assert_eq!(events[0].len(), 1);
        assert_eq!(events[0][0].reports, 1000);
        assert_eq!(events[1][0].reports, 999);
    }

    #[test]
    fn a_list_of_days_turns_into_a_count_per_day_when_half_the_days_have_reports() {
        let (first, last) = (100, 199);
        let mut d = Days::Sparse {
            cells: Vec::new(),
            pending: Vec::new(),
        };
        for day in (first..=last).step_by(2) {
            d.add(day, 1, first, last, &mut 0);
            d.add(day, 1, first, last, &mut 0);
        }
        assert_eq!(d.counted(first, last).len(), 50);
        assert!(matches!(d, Days::Dense { .. }), "50 of 100 days: {d:?}");
        // taken back, a day counts no more
        d.add(first, -2, first, last, &mut 0);
        let counted = d.counted(first, last);
        assert_eq!(counted.len(), 49);
        assert!(
            counted
                .iter()
                .all(|&(day, n)| day % 2 == 0 && n == 2 && day > first)
        );
    }
}
