//! History (docs/reference.md, History): the status of a commitment as a function of the as-of date, given as
//! its change points. Pure: events and dates in, change points out.
//!
//! Between two of its events a commitment's latest evidence `L` and latest breach `B` stay
//! the same, so its status can only change on an event's date or the day after one of the
//! dates its [`verdict`] hangs on (due, end of grace, end of the breach window). A sweep
//! visits exactly those days and asks [`verdict`] — the same function `evaluate` uses — at
//! each, so the history agrees with the one-instant evaluation at every day by construction
//! and costs O(events log events) per commitment, not one evaluation per day.

use crate::engine::evaluate::{Event, Status, party_events, verdict};
use crate::engine::matcher::Class;
use crate::engine::rules::{Commitment, FollowUp, RuleSet};
use chrono::{Datelike, NaiveDate};

/// From `date` on (up to the next change), the status is `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// The first day of the status.
    pub date: NaiveDate,
    /// The status from that day on.
    pub status: Status,
}

/// The history of one commitment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitmentHistory {
    /// Commitment id.
    pub id: String,
    /// Its start `S`.
    pub start: NaiveDate,
    /// Its status from `S` to `T` (the worst party's for `each`); empty when `S > T`.
    pub changes: Vec<Change>,
    /// Per party, for `each`; empty otherwise.
    pub parties: Vec<(String, Vec<Change>)>,
}

/// The history of one agreement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgreementHistory {
    /// Agreement id.
    pub id: String,
    /// Agreement title.
    pub title: String,
    /// In rule order.
    pub commitments: Vec<CommitmentHistory>,
}

/// The history of every agreement up to `as_of`; `events[i]` belong to the `i`-th
/// commitment in rule order (as for [`crate::engine::evaluate::evaluate_all`]).
pub fn history_all(
    rules: &RuleSet,
    events: &[Vec<Event>],
    as_of: NaiveDate,
) -> Vec<AgreementHistory> {
    history_from(rules, as_of, |i| {
        std::borrow::Cow::Borrowed(events.get(i).map_or(&[][..], |v| &v[..]))
    })
}

/// Like [`history_all`], asking `events_of` for each commitment's events (rule order) one
/// at a time, so that they need not all be in memory at once.
pub fn history_from<'e>(
    rules: &RuleSet,
    as_of: NaiveDate,
    mut events_of: impl FnMut(usize) -> std::borrow::Cow<'e, [Event]>,
) -> Vec<AgreementHistory> {
    let mut index = 0;
    rules
        .agreements
        .iter()
        .map(|a| AgreementHistory {
            id: a.id.clone(),
            title: a.title.clone(),
            commitments: a
                .commitments
                .iter()
                .map(|c| {
                    let mine = events_of(index);
                    index += 1;
                    commitment_history(c, &mine, as_of)
                })
                .collect(),
        })
        .collect()
}

/// The history of one commitment from the events of its reports (any order).
pub fn commitment_history(c: &Commitment, events: &[Event], as_of: NaiveDate) -> CommitmentHistory {
    let (changes, parties) = if c.follow_up_by == FollowUp::Each {
        let parties: Vec<(String, Vec<Change>)> = c
            .parties
            .iter()
            .enumerate()
            .map(|(i, party)| {
                (
                    party.clone(),
                    scope_changes(c, &party_events(events, i), as_of),
                )
            })
            .collect();
        (worst_of(&parties), parties)
    } else {
        (scope_changes(c, events, as_of), Vec::new())
    };
    CommitmentHistory {
        id: c.id.clone(),
        start: c.starts,
        changes,
        parties,
    }
}

/// The change points of one actor scope (docs/reference.md, Statuses at every day from `S` to `as_of`).
fn scope_changes(c: &Commitment, events: &[Event], as_of: NaiveDate) -> Vec<Change> {
    let start = c.starts;
    if start > as_of {
        return Vec::new();
    }
    let mut dated: Vec<(NaiveDate, Class)> = events
        .iter()
        .filter(|e| e.date >= start && e.date <= as_of && e.class != Class::Talk)
        .map(|e| (e.date, e.class))
        .collect();
    dated.sort_unstable_by_key(|e| e.0);
    let (mut next_event, mut last_evidence, mut last_breach) = (0, None, None);
    let mut changes: Vec<Change> = Vec::new();
    let mut day = start;
    loop {
        while let Some(&(date, class)) = dated.get(next_event).filter(|e| e.0 <= day) {
            match class {
                Class::Evidence => last_evidence = Some(date),
                _ => last_breach = Some(date),
            }
            next_event += 1;
        }
        let v = verdict(c, last_evidence, last_breach, day);
        if changes.last().map(|x| x.status) != Some(v.status) {
            changes.push(Change {
                date: day,
                status: v.status,
            });
        }
        // the next day the status can change: an event, or the day after a threshold
        let next = [v.due, v.grace_end, v.breach_until]
            .into_iter()
            .flatten()
            .filter(|t| *t >= day)
            .filter_map(|t| t.succ_opt())
            .chain(dated.get(next_event).map(|e| e.0))
            .min();
        match next {
            Some(n) if n <= as_of => day = n,
            _ => return changes,
        }
    }
}

/// The worst party's status at every day, as change points (docs/reference.md, Statuses: `breached` >
/// `paper_tiger` > `overdue` > `pending` > `on_track` > `fulfilled`).
fn worst_of(parties: &[(String, Vec<Change>)]) -> Vec<Change> {
    let mut days: Vec<NaiveDate> = parties
        .iter()
        .flat_map(|(_, c)| c.iter().map(|x| x.date))
        .collect();
    days.sort_unstable();
    days.dedup();
    let mut out: Vec<Change> = Vec::new();
    for day in days {
        let worst = parties
            .iter()
            .filter_map(|(_, changes)| status_on(changes, day))
            .max_by_key(|s| s.rank());
        if let Some(status) = worst
            && out.last().map(|x| x.status) != Some(status)
        {
            out.push(Change { date: day, status });
        }
    }
    out
}

/// The status on `day` according to `changes` (none before the first change).
pub fn status_on(changes: &[Change], day: NaiveDate) -> Option<Status> {
    let i = changes.partition_point(|c| c.date <= day);
    i.checked_sub(1).map(|i| changes[i].status)
}

/// A calendar period of the compliance-cycle table (`--every`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Every {
    /// Calendar years.
    Year,
    /// Calendar quarters.
    Quarter,
    /// Calendar months.
    Month,
}

impl Every {
    /// Parses `year`, `quarter` or `month`.
    pub fn parse(text: &str) -> Option<Every> {
        match text {
            "year" => Some(Every::Year),
            "quarter" => Some(Every::Quarter),
            "month" => Some(Every::Month),
            _ => None,
        }
    }
}

/// The last day of each calendar period from the one holding `first` up to `as_of`, then
/// `as_of` itself (when it is not such a last day already).
pub fn period_ends(first: NaiveDate, as_of: NaiveDate, every: Every) -> Vec<NaiveDate> {
    let months = match every {
        Every::Year => 12,
        Every::Quarter => 3,
        Every::Month => 1,
    };
    let mut out = Vec::new();
    // the first day of the period that holds `first`
    let month0 = (first.month0() / months) * months;
    let mut period_start = NaiveDate::from_ymd_opt(first.year(), month0 + 1, 1);
    while let Some(begin) = period_start {
        let Some(next) = begin.checked_add_months(chrono::Months::new(months)) else {
            break;
        };
        let Some(end) = next.pred_opt() else { break };
        if end > as_of {
            break;
        }
        out.push(end);
        period_start = Some(next);
    }
    if out.last() != Some(&as_of) && first <= as_of {
        out.push(as_of);
    }
    out
}

/// The agreement's score on `day` from its commitments' statuses: the mean of the scored
/// ones (docs/reference.md, Statuses), none when none is scored.
pub fn score_on(agreement: &AgreementHistory, day: NaiveDate) -> Option<f64> {
    let scores: Vec<f64> = agreement
        .commitments
        .iter()
        .filter_map(|c| status_on(&c.changes, day))
        .filter_map(Status::score)
        .map(f64::from)
        .collect();
    (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::dates::Duration;
    use crate::engine::evaluate::evaluate_commitment;
    use crate::engine::rules::{Matcher, Severity, Timing};
    use crate::engine::schedule::Cron;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn commitment(timing: Timing, grace: &str, breach_window: &str, each: bool) -> Commitment {
        Commitment {
            id: "c".into(),
            title: "C".into(),
            quote: None,
            parties: vec!["KGZ".into(), "TJK".into()],
            follow_up_by: if each {
                FollowUp::Each
            } else {
                FollowUp::Joint
            },
            min_strength: crate::engine::report::Kind::Action,
            starts: d("2007-09-18"),
            timing,
            grace: Duration::parse(grace).unwrap(),
            breach_window: Duration::parse(breach_window).unwrap(),
            severity: Severity::High,
            tags: vec![],
            evidence: vec![Matcher::default()],
            breach: vec![],
        }
    }

    fn ev(date: &str, class: Class) -> Event {
        Event {
            date: d(date),
            class,
            parties: 0b11,
            reports: 1,
            days: 1,
        }
    }

    #[test]
    fn a_window_with_evidence_and_a_breach() {
        let c = commitment(
            Timing::Window(Duration::parse("1y").unwrap()),
            "3mo",
            "1y",
            false,
        );
        let events = [
            ev("2008-01-10", Class::Evidence),
            ev("2009-06-01", Class::Talk),
            ev("2010-03-01", Class::Breach),
        ];
        let h = commitment_history(&c, &events, d("2012-01-01"));
        let got: Vec<(String, &str)> = h
            .changes
            .iter()
            .map(|x| (x.date.to_string(), x.status.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("2007-09-18".into(), "pending"),
                ("2008-01-10".into(), "on_track"),
                ("2009-01-11".into(), "overdue"),
                ("2009-04-11".into(), "paper_tiger"),
                ("2010-03-01".into(), "breached"),
                ("2011-03-02".into(), "paper_tiger"),
            ]
        );
        assert!(
            commitment_history(&c, &events, d("2007-09-17"))
                .changes
                .is_empty()
        );
    }

    #[test]
    fn periods() {
        let ends = |a: &str, b: &str, e| {
            period_ends(d(a), d(b), e)
                .iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            ends("2007-09-18", "2009-12-31", Every::Year),
            ["2007-12-31", "2008-12-31", "2009-12-31"]
        );
        assert_eq!(
            ends("2007-09-18", "2008-02-10", Every::Quarter),
            ["2007-09-30", "2007-12-31", "2008-02-10"]
        );
        assert_eq!(
            ends("2008-01-31", "2008-03-01", Every::Month),
            ["2008-01-31", "2008-02-29", "2008-03-01"]
        );
        assert_eq!(
            ends("2008-01-31", "2008-01-01", Every::Month),
            Vec::<String>::new()
        );
    }

    fn any_timing() -> impl Strategy<Value = Timing> {
        prop_oneof![
            (1u32..30, 0u32..3)
                .prop_map(|(days, months)| Timing::Window(Duration::new(months, days))),
            (0i64..2000)
                .prop_map(|n| Timing::Deadline(d("2007-09-18") + chrono::Duration::days(n))),
            prop::sample::select(vec!["0 0 0 1 */3 *", "0 0 0 * * 2", "0 0 0 15 6 * 2009"])
                .prop_map(|e| Timing::Cadence(Box::new(Cron::parse(e).unwrap()))),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// The history agrees with the one-instant evaluation (docs/reference.md, Statuses) at every probed day.
        #[test]
        fn history_agrees_with_evaluation_every_day(
            timing in any_timing(),
            grace in 0u32..60,
            breach_days in 0u32..400,
            each in any::<bool>(),
            raw in prop::collection::vec((0i64..1500, 0u8..3, 1u64..4), 0..25),
            probes in prop::collection::vec(-30i64..1600, 1..40),
        ) {
            let mut c = commitment(timing, "0d", "1y", each);
            c.grace = Duration::new(0, grace);
            c.breach_window = Duration::new(0, breach_days);
            let start = c.starts;
            let events: Vec<Event> = raw
                .iter()
                .map(|&(day, class, parties)| Event {
                    date: start - chrono::Duration::days(10) + chrono::Duration::days(day),
                    class: [Class::Evidence, Class::Talk, Class::Breach][class as usize],
                    parties,
                    reports: 1,
                    days: 1,
                })
                .collect();
            let as_of = start + chrono::Duration::days(1550);
            let h = commitment_history(&c, &events, as_of);
            for w in h.changes.windows(2) {
                prop_assert!(w[0].date < w[1].date && w[0].status != w[1].status);
            }
            for p in probes {
                let day = start + chrono::Duration::days(p);
                if day > as_of {
                    continue;
                }
                let s = evaluate_commitment(&c, &events, day);
                let expected = (day >= start).then_some(s.status);
                prop_assert_eq!(status_on(&h.changes, day), expected, "day {}", day);
                for ((_, pc), ps) in h.parties.iter().zip(&s.parties) {
                    prop_assert_eq!(status_on(pc, day), expected.map(|_| ps.status), "party on {}", day);
                }
            }
        }
    }
}
