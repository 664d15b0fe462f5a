//! The status semantics of docs/reference.md, Statuses: pure functions of a commitment, the dated hits of its
//! reports, and an as-of date.

use crate::engine::matcher::Class;
use crate::engine::report::Kind;
use crate::engine::rules::{Agreement, Commitment, FollowUp, Timing};
use chrono::NaiveDate;
use std::fmt;

/// The status of a commitment (or of one party's share of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Deadline commitment with evidence.
    Fulfilled,
    /// Evidence, and the next is not yet due.
    OnTrack,
    /// No evidence yet, and none is due yet.
    Pending,
    /// Due date passed, still within grace.
    Overdue,
    /// Declared, not followed up in time: grace is over.
    PaperTiger,
    /// A breach later than any evidence, within the breach window.
    Breached,
}

impl Status {
    /// All statuses, best first.
    pub const ALL: [Status; 6] = [
        Status::Fulfilled,
        Status::OnTrack,
        Status::Pending,
        Status::Overdue,
        Status::PaperTiger,
        Status::Breached,
    ];

    /// The spelling used in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Fulfilled => "fulfilled",
            Status::OnTrack => "on_track",
            Status::Pending => "pending",
            Status::Overdue => "overdue",
            Status::PaperTiger => "paper_tiger",
            Status::Breached => "breached",
        }
    }

    /// Parses [`Status::as_str`] spellings.
    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Badness, for "worst party" (higher is worse).
    pub fn rank(self) -> u8 {
        match self {
            Status::Fulfilled => 0,
            Status::OnTrack => 1,
            Status::Pending => 2,
            Status::Overdue => 3,
            Status::PaperTiger => 4,
            Status::Breached => 5,
        }
    }

    /// G20 Research Group style score: +1 kept, 0 overdue, -1 failed, none while pending.
    pub fn score(self) -> Option<i8> {
        match self {
            Status::Fulfilled | Status::OnTrack => Some(1),
            Status::Overdue => Some(0),
            Status::PaperTiger | Status::Breached => Some(-1),
            Status::Pending => None,
        }
    }

    /// True for the statuses that raise alerts.
    pub fn is_alarm(self) -> bool {
        matches!(
            self,
            Status::Overdue | Status::PaperTiger | Status::Breached
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One report's bearing on a commitment, with its date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// The report's date.
    pub date: NaiveDate,
    /// Evidence, talk or breach.
    pub class: Class,
    /// Bit `i`: the commitment's party `i` is among the report's actors.
    pub parties: u64,
    /// How many distinct reports it stands for (same date, class and parties).
    pub reports: u32,
    /// How many distinct days its reports fall on: 1 for the reports of one day; more for
    /// an event that stands for a whole series of days (dated its latest), which then
    /// shares no day with another event of its class in the same list.
    pub days: u32,
}

/// The status of one party of a `follow_up_by = "each"` commitment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyStatus {
    /// Party code.
    pub party: String,
    /// Its status.
    pub status: Status,
    /// When evidence is due (none when a cadence has no further fire time).
    pub due: Option<NaiveDate>,
    /// Latest evidence.
    pub last_evidence: Option<NaiveDate>,
    /// Latest breach.
    pub last_breach: Option<NaiveDate>,
    /// Why, in one sentence.
    pub reason: String,
}

/// The evaluated state of one commitment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitmentStatus {
    /// Commitment id.
    pub id: String,
    /// Worst party status (or the single status).
    pub status: Status,
    /// +1, 0, -1 or none.
    pub score: Option<i8>,
    /// Due date (of the worst party for `each`).
    pub due: Option<NaiveDate>,
    /// Latest evidence (of the worst party for `each`).
    pub last_evidence: Option<NaiveDate>,
    /// Latest breach (of the worst party for `each`).
    pub last_breach: Option<NaiveDate>,
    /// Distinct reports of evidence in `[S, T]` and in scope.
    pub evidence: usize,
    /// Distinct reports of talk in `[S, T]` and in scope.
    pub talk: usize,
    /// Distinct breach reports in `[S, T]` and in scope.
    pub breaches: usize,
    /// Distinct dates of the evidence reports.
    pub evidence_days: usize,
    /// Distinct dates of the reports of talk.
    pub talk_days: usize,
    /// Distinct dates of the breach reports.
    pub breach_days: usize,
    /// One entry per party for `each`; empty otherwise.
    pub parties: Vec<PartyStatus>,
    /// Why, in one sentence a person can act on.
    pub reason: String,
}

/// The evaluated state of one agreement.
#[derive(Debug, Clone, PartialEq)]
pub struct AgreementStatus {
    /// Agreement id.
    pub id: String,
    /// Agreement title.
    pub title: String,
    /// Mean of the scored commitments; none when none is scored.
    pub score: Option<f64>,
    /// In rule order.
    pub commitments: Vec<CommitmentStatus>,
}

/// Evaluates an agreement; `events[i]` are the events of its `i`-th commitment.
pub fn evaluate_agreement(
    agreement: &Agreement,
    events: &[Vec<Event>],
    as_of: NaiveDate,
) -> AgreementStatus {
    let commitments: Vec<CommitmentStatus> = agreement
        .commitments
        .iter()
        .enumerate()
        .map(|(i, c)| evaluate_commitment(c, events.get(i).map_or(&[][..], |v| &v[..]), as_of))
        .collect();
    let scores: Vec<f64> = commitments
        .iter()
        .filter_map(|c| c.score)
        .map(f64::from)
        .collect();
    let score = (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64);
    AgreementStatus {
        id: agreement.id.clone(),
        title: agreement.title.clone(),
        score,
        commitments,
    }
}

/// Evaluates one commitment at `as_of` from the events of its reports (any order).
pub fn evaluate_commitment(c: &Commitment, events: &[Event], as_of: NaiveDate) -> CommitmentStatus {
    let [evidence, talk, breaches] = [Class::Evidence, Class::Talk, Class::Breach]
        .map(|class| Count::of(events, class, c.starts, as_of));
    let (status, due, last_evidence, last_breach, reason, parties) = match c.follow_up_by {
        FollowUp::Each => {
            let all: Vec<PartyStatus> = c
                .parties
                .iter()
                .enumerate()
                .map(|(i, party)| {
                    let mine = party_events(events, i);
                    party_status(c, &mine, as_of, std::slice::from_ref(party))
                })
                .collect();
            let mut worst = 0;
            for (i, p) in all.iter().enumerate() {
                if p.status.rank() > all[worst].status.rank() {
                    worst = i;
                }
            }
            let w = &all[worst];
            (
                w.status,
                w.due,
                w.last_evidence,
                w.last_breach,
                w.reason.clone(),
                all,
            )
        }
        _ => {
            let p = party_status(c, events, as_of, &c.parties);
            (
                p.status,
                p.due,
                p.last_evidence,
                p.last_breach,
                p.reason,
                Vec::new(),
            )
        }
    };
    CommitmentStatus {
        id: c.id.clone(),
        status,
        score: status.score(),
        due,
        last_evidence,
        last_breach,
        evidence: evidence.reports,
        talk: talk.reports,
        breaches: breaches.reports,
        evidence_days: evidence.days,
        talk_days: talk.days,
        breach_days: breaches.days,
        parties,
        reason,
    }
}

/// The reports of one class dated in `[S, T]`, and the distinct days they fall on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Count {
    /// Distinct reports.
    pub reports: usize,
    /// Distinct dates among them.
    pub days: usize,
}

impl Count {
    /// Counts the events of `class` dated in `[start, as_of]`: reports add up; days are
    /// the distinct dates, plus the further days of events that stand for a series.
    pub fn of(events: &[Event], class: Class, start: NaiveDate, as_of: NaiveDate) -> Count {
        let mut dates: Vec<NaiveDate> = Vec::new();
        let mut count = Count::default();
        for e in events {
            if e.class != class || e.date < start || e.date > as_of {
                continue;
            }
            count.reports += e.reports as usize;
            count.days += e.days.saturating_sub(1) as usize;
            dates.push(e.date);
        }
        dates.sort_unstable();
        dates.dedup();
        count.days += dates.len();
        count
    }
}

/// The events of reports with the commitment's `i`-th party among their actors (the scope
/// of that party for `follow_up_by = "each"`).
pub fn party_events(events: &[Event], i: usize) -> Vec<Event> {
    let bit = 1u64 << i;
    events
        .iter()
        .filter(|e| e.parties & bit != 0)
        .copied()
        .collect()
}

/// The docs/reference.md, Statuses rules for one actor scope. `who` names the parties in the reason.
fn party_status(c: &Commitment, events: &[Event], as_of: NaiveDate, who: &[String]) -> PartyStatus {
    let start = c.starts;
    let in_range = |e: &&Event| e.date >= start && e.date <= as_of;
    let latest = |class: Class| {
        events
            .iter()
            .filter(in_range)
            .filter(|e| e.class == class)
            .map(|e| e.date)
            .max()
    };
    let last_evidence = latest(Class::Evidence);
    let last_breach = latest(Class::Breach);
    let talk = Count::of(events, Class::Talk, start, as_of);
    let breaches = Count::of(events, Class::Breach, start, as_of);
    let Verdict {
        status,
        due,
        grace_end,
        breach_until,
    } = verdict(c, last_evidence, last_breach, as_of);
    let reason = Reason {
        c,
        who,
        start,
        due,
        grace_end,
        last_evidence,
        last_breach,
        breach_until,
        talk,
        breaches,
    }
    .sentence(status);
    PartyStatus {
        party: who.first().cloned().unwrap_or_default(),
        status,
        due,
        last_evidence,
        last_breach,
        reason,
    }
}

/// The status at one as-of date and the dates it hangs on: the rules of docs/reference.md, Statuses once the
/// latest evidence `L` and breach `B` (both within `[S, as_of]`) are known. The history
/// uses it too, so both agree by construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// The status.
    pub status: Status,
    /// When evidence is due (none when a cadence has no further fire time).
    pub due: Option<NaiveDate>,
    /// The last day of grace.
    pub grace_end: Option<NaiveDate>,
    /// The last day a breach keeps the commitment breached.
    pub breach_until: Option<NaiveDate>,
}

/// docs/reference.md, Statuses for one actor scope, given `L` and `B`.
pub fn verdict(
    c: &Commitment,
    last_evidence: Option<NaiveDate>,
    last_breach: Option<NaiveDate>,
    as_of: NaiveDate,
) -> Verdict {
    let reference = last_evidence.unwrap_or(c.starts);
    let due = match &c.timing {
        Timing::Deadline(d) => Some(*d),
        Timing::Window(w) => Some(w.add_to(reference)),
        Timing::Cadence(cron) => cron.first_day_after(reference),
    };
    let grace_end = due.map(|d| c.grace.add_to(d));
    let breach_until = last_breach.map(|b| c.breach_window.add_to(b));
    let status = if let (Some(b), Some(until)) = (last_breach, breach_until)
        && last_evidence.is_none_or(|l| b > l)
        && as_of <= until
    {
        Status::Breached
    } else if matches!(c.timing, Timing::Deadline(_)) && last_evidence.is_some() {
        Status::Fulfilled
    } else if due.is_none_or(|d| as_of <= d) {
        if last_evidence.is_some() {
            Status::OnTrack
        } else {
            Status::Pending
        }
    } else if grace_end.is_none_or(|g| as_of <= g) {
        Status::Overdue
    } else {
        Status::PaperTiger
    };
    Verdict {
        status,
        due,
        grace_end,
        breach_until,
    }
}

/// ", on 4 days" when the reports fall on fewer days than there are reports.
fn on_days(reports: usize, days: usize) -> String {
    match days {
        d if d >= reports => String::new(),
        1 => ", on 1 day".into(),
        d => format!(", on {d} days"),
    }
}

struct Reason<'a> {
    c: &'a Commitment,
    who: &'a [String],
    start: NaiveDate,
    due: Option<NaiveDate>,
    grace_end: Option<NaiveDate>,
    last_evidence: Option<NaiveDate>,
    last_breach: Option<NaiveDate>,
    breach_until: Option<NaiveDate>,
    talk: Count,
    breaches: Count,
}

impl Reason<'_> {
    /// "joint action by KGZ and TJK", "meeting or stronger by KGZ".
    fn follow_up(&self) -> String {
        let what = match self.c.min_strength {
            Kind::Action => "action",
            Kind::Agreement => "agreement or action",
            Kind::Meeting => "meeting or stronger",
            Kind::Statement | Kind::Incident => "follow-up",
        };
        let names = match self.who {
            [] => String::new(),
            [one] => one.clone(),
            [init @ .., last] => {
                let glue = if self.c.follow_up_by == FollowUp::Any {
                    " or "
                } else {
                    " and "
                };
                format!("{}{glue}{last}", init.join(", "))
            }
        };
        let joint = self.c.follow_up_by == FollowUp::Joint && self.who.len() > 1;
        format!("{}{what} by {names}", if joint { "joint " } else { "" })
    }

    /// "; 3 reports of talk only", with the days when fewer than the reports ("; 13
    /// reports of talk only, on 4 days").
    fn talk_note(&self) -> String {
        match self.talk.reports {
            0 => String::new(),
            1 => "; 1 report of talk only".into(),
            n => format!("; {n} reports of talk only{}", on_days(n, self.talk.days)),
        }
    }

    /// "breach reported on B", or for many reports "13 breach reports on 4 days, the last
    /// on B" (one event many outlets report is one day).
    fn breach_text(&self, b: NaiveDate) -> String {
        match (self.breaches.reports, self.breaches.days) {
            (0 | 1, _) => format!("breach reported on {b}"),
            (n, 0 | 1) => format!("{n} breach reports on {b}"),
            (n, d) => format!("{n} breach reports on {d} days, the last on {b}"),
        }
    }

    fn due_text(&self, passed: bool) -> String {
        let Some(due) = self.due else {
            return "the cadence has no further date".into();
        };
        let label = if matches!(self.c.timing, Timing::Deadline(_)) {
            "deadline"
        } else {
            "due"
        };
        let grace = match (self.c.grace.is_zero(), self.grace_end) {
            (true, _) | (_, None) => ", no grace".to_string(),
            (false, Some(end)) => {
                let verb = if passed { "ended" } else { "ends" };
                format!(", grace {} {verb} {end}", self.c.grace)
            }
        };
        format!("{label} {due}{grace}")
    }

    fn sentence(&self, status: Status) -> String {
        let follow_up = self.follow_up();
        let since = match self.last_evidence {
            Some(l) => format!("no {follow_up} since the last on {l}"),
            None => format!("no {follow_up} since {}", self.start),
        };
        match status {
            Status::Breached => {
                let (b, until) = (
                    self.last_breach.unwrap_or(self.start),
                    self.breach_until.unwrap_or(self.start),
                );
                let after = match self.last_evidence {
                    Some(l) => format!("after the last {follow_up} on {l}"),
                    None => format!("with no {follow_up} since {}", self.start),
                };
                format!(
                    "{}, {after}; stays breached until {until} unless new {follow_up} is reported",
                    self.breach_text(b)
                )
            }
            Status::Fulfilled => {
                let l = self.last_evidence.unwrap_or(self.start);
                let late = match self.due {
                    Some(d) if l > d => format!(", after the deadline {d}"),
                    Some(d) => format!(", by the deadline {d}"),
                    None => String::new(),
                };
                format!("fulfilled: {follow_up} on {l}{late}")
            }
            Status::OnTrack => {
                let l = self.last_evidence.unwrap_or(self.start);
                match self.due {
                    Some(d) => format!("last {follow_up} on {l}; next due by {d}"),
                    None => format!("last {follow_up} on {l}; the cadence has no further date"),
                }
            }
            Status::Pending => match self.due {
                Some(d) => format!(
                    "no {follow_up} yet since {}; first due by {d}{}",
                    self.start,
                    self.talk_note()
                ),
                None => format!(
                    "no {follow_up} yet since {}{}",
                    self.start,
                    self.talk_note()
                ),
            },
            Status::Overdue => format!("{since}; {}{}", self.due_text(false), self.talk_note()),
            Status::PaperTiger => format!("{since}; {}{}", self.due_text(true), self.talk_note()),
        }
    }
}

/// Evaluates every agreement at `as_of` from per-commitment events (rule order).
pub fn evaluate_all(
    rules: &crate::engine::rules::RuleSet,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::dates::Duration;
    use crate::engine::rules::{Matcher, Severity};
    use crate::engine::schedule::Cron;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn commitment(timing: Timing, grace: &str, breach_window: &str) -> Commitment {
        Commitment {
            id: "c".into(),
            title: "C".into(),
            quote: None,
            parties: vec!["KGZ".into(), "TJK".into()],
            follow_up_by: FollowUp::Joint,
            min_strength: Kind::Action,
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

    fn window(w: &str) -> Timing {
        Timing::Window(Duration::parse(w).unwrap())
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
    #[allow(clippy::too_many_lines)] // a table of cases
    fn status_rules_at_their_edges() {
        use Class::*;
        use Status::*;
        let w = commitment(window("6mo"), "30d", "1y");
        let dl = commitment(Timing::Deadline(d("2009-12-31")), "30d", "1y");
        // (commitment, events, as_of, status, due)
        let cases: Vec<(&Commitment, Vec<Event>, &str, Status, &str)> = vec![
            // as-of before start: nothing counts, pending
            (
                &w,
                vec![ev("2007-01-01", Evidence)],
                "2007-06-01",
                Pending,
                "2008-03-18",
            ),
            // start day counts
            (
                &w,
                vec![ev("2007-09-18", Evidence)],
                "2007-09-18",
                OnTrack,
                "2008-03-18",
            ),
            // T = due: still pending / on track
            (&w, vec![], "2008-03-18", Pending, "2008-03-18"),
            (
                &w,
                vec![ev("2008-01-31", Evidence)],
                "2008-07-31",
                OnTrack,
                "2008-07-31",
            ),
            // T = due + 1: overdue
            (&w, vec![], "2008-03-19", Overdue, "2008-03-18"),
            // T = due + grace: still overdue; one day later a paper tiger
            (&w, vec![], "2008-04-17", Overdue, "2008-03-18"),
            (&w, vec![], "2008-04-18", PaperTiger, "2008-03-18"),
            // evidence after T does not count
            (
                &w,
                vec![ev("2008-05-01", Evidence)],
                "2008-04-18",
                PaperTiger,
                "2008-03-18",
            ),
            // talk never resets the clock
            (
                &w,
                vec![ev("2008-01-01", Talk)],
                "2008-04-18",
                PaperTiger,
                "2008-03-18",
            ),
            // breach later than evidence: breached, until B + breach_window inclusive
            (
                &w,
                vec![ev("2008-01-01", Evidence), ev("2008-02-01", Breach)],
                "2009-02-01",
                Breached,
                "2008-07-01",
            ),
            (
                &w,
                vec![ev("2008-01-01", Evidence), ev("2008-02-01", Breach)],
                "2009-02-02",
                PaperTiger,
                "2008-07-01",
            ),
            // B = L: not breached (B must be later)
            (
                &w,
                vec![ev("2008-01-01", Evidence), ev("2008-01-01", Breach)],
                "2008-02-01",
                OnTrack,
                "2008-07-01",
            ),
            // breach without any evidence
            (
                &w,
                vec![ev("2008-01-01", Breach)],
                "2008-02-01",
                Breached,
                "2008-03-18",
            ),
            // deadline: fulfilled once evidence exists, even late
            (
                &dl,
                vec![ev("2009-06-01", Evidence)],
                "2010-06-01",
                Fulfilled,
                "2009-12-31",
            ),
            (
                &dl,
                vec![ev("2011-06-01", Evidence)],
                "2011-06-01",
                Fulfilled,
                "2009-12-31",
            ),
            (&dl, vec![], "2009-12-31", Pending, "2009-12-31"),
            (&dl, vec![], "2010-01-30", Overdue, "2009-12-31"),
            (&dl, vec![], "2010-01-31", PaperTiger, "2009-12-31"),
            // breach beats fulfilled
            (
                &dl,
                vec![ev("2009-06-01", Evidence), ev("2009-07-01", Breach)],
                "2009-08-01",
                Breached,
                "2009-12-31",
            ),
        ];
        for (i, (c, events, as_of, status, due)) in cases.into_iter().enumerate() {
            let s = evaluate_commitment(c, &events, d(as_of));
            assert_eq!(
                (s.status, s.due),
                (status, Some(d(due))),
                "case {i}: {}",
                s.reason
            );
        }
    }

    #[test]
    fn cadence_due_is_first_fire_day_after_reference() {
        let c = commitment(
            Timing::Cadence(Box::new(Cron::parse("0 0 0 1 */3 *").unwrap())),
            "0d",
            "1y",
        );
        let s = evaluate_commitment(&c, &[], d("2007-10-01"));
        assert_eq!((s.status, s.due), (Status::Pending, Some(d("2007-10-01"))));
        let s = evaluate_commitment(&c, &[], d("2007-10-02"));
        assert_eq!(s.status, Status::PaperTiger);
        assert!(s.reason.contains("no grace"), "{}", s.reason);
        // evidence on a fire day: the next fire day is due
        let s = evaluate_commitment(&c, &[ev("2008-01-01", Class::Evidence)], d("2008-02-01"));
        assert_eq!((s.status, s.due), (Status::OnTrack, Some(d("2008-04-01"))));
    }

    #[test]
    fn reason_matches_the_spec_example() {
        let c = commitment(window("6mo"), "30d", "1y");
        let talk: Vec<Event> = ["2007-10-01", "2008-01-01", "2009-01-01"]
            .iter()
            .map(|x| ev(x, Class::Talk))
            .collect();
        let s = evaluate_commitment(&c, &talk, d("2026-11-27"));
        assert_eq!(
            s.reason,
            "no joint action by KGZ and TJK since 2007-09-18; due 2008-03-18, grace 30d ended 2008-04-17; 3 reports of talk only"
        );
        assert_eq!(
            (s.evidence, s.talk, s.breaches, s.score),
            (0, 3, 0, Some(-1))
        );
    }

    #[test]
    fn counts_speak_of_days() {
        use Class::*;
        let c = commitment(window("6mo"), "30d", "1y");
        // 13 breach reports on 4 days (one clash many outlets report is one day), 4 of talk
        // on 2 days, one report out of range
        let mut events: Vec<Event> = Vec::new();
        for (date, n) in [
            ("2021-04-29", 7),
            ("2021-04-30", 3),
            ("2022-01-27", 2),
            ("2022-09-14", 1),
        ] {
            events.extend((0..n).map(|_| ev(date, Breach)));
        }
        events
            .extend(["2021-05-01", "2021-05-01", "2021-05-01", "2021-06-01"].map(|x| ev(x, Talk)));
        events.push(ev("2007-01-01", Breach));
        let s = evaluate_commitment(&c, &events, d("2022-10-01"));
        assert_eq!(
            (
                s.breaches,
                s.breach_days,
                s.talk,
                s.talk_days,
                s.evidence,
                s.evidence_days
            ),
            (13, 4, 4, 2, 0, 0)
        );
        assert!(
            s.reason.starts_with(
                "13 breach reports on 4 days, the last on 2022-09-14, with no joint action"
            ),
            "{}",
            s.reason
        );
        let s = evaluate_commitment(&c, &events[..7], d("2021-05-01"));
        assert!(
            s.reason.starts_with("7 breach reports on 2021-04-29,"),
            "{}",
            s.reason
        );
        let s = evaluate_commitment(&c, &events[13..17], d("2026-11-27"));
        assert!(
            s.reason.ends_with("; 4 reports of talk only, on 2 days"),
            "{}",
            s.reason
        );
        // a series event stands for its days; it shares none with the others of its class
        let series = Event {
            days: 3,
            reports: 9,
            ..ev("2021-06-10", Talk)
        };
        let s = evaluate_commitment(&c, &[series, ev("2021-07-01", Talk)], d("2022-01-01"));
        assert_eq!((s.talk, s.talk_days), (10, 4));
    }
    #[test]
    fn each_takes_the_worst_party_first_in_order_on_ties() {
        let mut c = commitment(window("1y"), "0d", "1y");
        c.follow_up_by = FollowUp::Each;
        let kgz = |date: &str| Event {
            date: d(date),
            class: Class::Evidence,
            parties: 0b01,
            reports: 1,
            days: 1,
        };
        let tjk = |date: &str| Event {
            date: d(date),
            class: Class::Evidence,
            parties: 0b10,
            reports: 1,
            days: 1,
        };
        let s = evaluate_commitment(&c, &[kgz("2008-06-01")], d("2009-01-01"));
        assert_eq!(s.status, Status::PaperTiger);
        assert_eq!(s.parties[0].status, Status::OnTrack);
        assert_eq!(s.parties[1].status, Status::PaperTiger);
        assert_eq!(s.due, Some(d("2008-09-18")), "the worst party's due date");
        assert!(s.reason.contains("by TJK"), "{}", s.reason);
        // tie: both on track, KGZ's dates are reported
        let s = evaluate_commitment(&c, &[kgz("2008-06-01"), tjk("2008-07-01")], d("2009-01-01"));
        assert_eq!(
            (s.status, s.last_evidence),
            (Status::OnTrack, Some(d("2008-06-01")))
        );
        assert_eq!(s.evidence, 2);
        // a report for both parties is counted once
        let both = Event {
            date: d("2008-06-01"),
            class: Class::Evidence,
            parties: 0b11,
            reports: 1,
            days: 1,
        };
        let s = evaluate_commitment(&c, &[both], d("2009-01-01"));
        assert_eq!((s.status, s.evidence), (Status::OnTrack, 1));
    }

    #[test]
    fn worst_order_and_scores() {
        let order: Vec<u8> = Status::ALL.iter().map(|s| s.rank()).collect();
        assert_eq!(order, vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(Status::Pending.score(), None);
        assert_eq!(Status::Overdue.score(), Some(0));
    }

    #[test]
    fn agreement_score_is_mean_of_scored() {
        let a = Agreement {
            id: "a".into(),
            title: "A".into(),
            parties: vec!["KGZ".into(), "TJK".into()],
            signed: d("2007-09-18"),
            sources: vec![],
            summary: None,
            commitments: vec![
                commitment(window("6mo"), "0d", "1y"),
                commitment(window("6mo"), "0d", "1y"),
                commitment(window("10y"), "0d", "1y"),
            ],
            path: "a.toml".into(),
            warnings: vec![],
        };
        let events = vec![vec![ev("2008-01-01", Class::Evidence)], vec![], vec![]];
        let s = evaluate_agreement(&a, &events, d("2008-06-01"));
        // on_track (+1), paper_tiger (-1), pending (none)
        assert_eq!(s.score, Some(0.0));
        let s = evaluate_agreement(&a, &[], d("2007-10-01"));
        assert_eq!(s.score, None);
    }
}
