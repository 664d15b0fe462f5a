//! Alerts (docs/reference.md, Alerts): transitions of a commitment (or, for `each`, of a
//! commitment and party) into `overdue`, `paper_tiger` or `breached`, a `resolved` record
//! when it leaves them, and a repeat every `repeat_interval` while the status lasts; with a
//! `hold`, a unit must stay in the alerting statuses that long before its first record.
//! Pure: the stored states and the time are arguments; the shell stores the states and
//! writes the records.

use crate::engine::dates::Interval;
use crate::engine::evaluate::{AgreementStatus, CommitmentStatus, Status};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// (agreement, commitment, party or "") — the unit an alert is about.
pub type AlertKey = (String, String, String);

/// The stored alert state of one commitment (and party, for `each`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertState {
    /// Last evaluated status.
    pub status: String,
    /// When the last alert about it was written (RFC 3339), if any.
    pub last_alert: Option<String>,
    /// A record of the current alarm was made: leaving the alerting statuses makes a
    /// `resolved` record.
    pub open: bool,
    /// While held: when the unit entered the alerting statuses (RFC 3339), no record
    /// made yet.
    pub held_since: Option<String>,
    /// While held: the status it had before (`None` when it was never seen).
    pub held_from: Option<String>,
}

/// When alerts are made: `repeat_interval` and `hold` of `[alerts]`.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// A status that lasts is alerted again this long after its last record.
    pub repeat: Interval,
    /// A unit must stay in the alerting statuses this long before its first record.
    pub hold: Interval,
}

/// What an evaluation's statuses call for.
#[derive(Debug, Default)]
pub struct Transitions {
    /// The records to make, in order.
    pub records: Vec<AlertRecord>,
    /// The states to store (only those that changed).
    pub states: Vec<(AlertKey, AlertState)>,
    /// The earliest end of a hold still running: evaluate again then.
    pub hold_ends: Option<DateTime<Utc>>,
}

/// One alert, as logged and as written (one flat JSON object per line) to the alerts file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRecord {
    /// When it was raised (RFC 3339, UTC).
    pub ts: String,
    /// `overdue`, `paper_tiger`, `breached` or `resolved`.
    pub alert: String,
    /// Agreement id.
    pub agreement: String,
    /// Commitment id.
    pub commitment: String,
    /// The party, for `follow_up_by = "each"`; else null.
    pub party: Option<String>,
    /// The status now.
    pub status: String,
    /// The status before (null the first time a commitment is seen).
    pub previous: Option<String>,
    /// Due date.
    pub due: Option<String>,
    /// Latest evidence.
    pub last_evidence: Option<String>,
    /// Evaluation date.
    pub as_of: String,
    /// Why.
    pub reason: String,
}

/// One thing an alert can be about: a commitment, or one party of an `each` commitment.
struct Unit<'a> {
    party: Option<&'a str>,
    status: Status,
    due: Option<NaiveDate>,
    last_evidence: Option<NaiveDate>,
    reason: &'a str,
}

/// The units of a commitment: one per party for `each`, else the commitment itself.
fn units(c: &CommitmentStatus) -> Vec<Unit<'_>> {
    if c.parties.is_empty() {
        return vec![Unit {
            party: None,
            status: c.status,
            due: c.due,
            last_evidence: c.last_evidence,
            reason: &c.reason,
        }];
    }
    c.parties
        .iter()
        .map(|p| Unit {
            party: Some(&p.party),
            status: p.status,
            due: p.due,
            last_evidence: p.last_evidence,
            reason: &p.reason,
        })
        .collect()
}

/// A stored RFC 3339 time.
fn parse_time(text: Option<&str>) -> Option<DateTime<Utc>> {
    text.and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// What one unit's evaluation decides: the record to make (its kind and `previous`) and
/// the state to keep.
struct Decision {
    record: Option<(&'static str, Option<String>)>,
    state: AlertState,
    hold_ends: Option<DateTime<Utc>>,
}

/// The decision for a unit now in `status`, given what was stored of it:
/// - an open alarm records a change to another alarm at once, and the same alarm again
///   once `repeat` has passed since its last record;
/// - a unit entering the alarms records once it has stayed in them for `hold` (at once
///   without a hold), carrying the status it has then and, as `previous`, the status it
///   had before;
/// - leaving the alarms records `resolved` only when an alert was made.
fn decide(
    status: Status,
    previous: Option<&AlertState>,
    now: DateTime<Utc>,
    ts: &str,
    policy: &Policy,
) -> Decision {
    let prev_status = previous.and_then(|p| Status::parse(&p.status));
    let last_alert = previous.and_then(|p| p.last_alert.clone());
    let open = previous.is_some_and(|p| p.open);
    let mut state = AlertState {
        status: status.as_str().to_string(),
        last_alert,
        open: status.is_alarm() && open,
        ..AlertState::default()
    };
    let was = || previous.map(|p| p.status.clone());
    let record = match (status.is_alarm(), open) {
        (true, true) => {
            let last = parse_time(state.last_alert.as_deref());
            let due = last.is_none_or(|last| now >= policy.repeat.after(last));
            (prev_status != Some(status) || due).then(|| (status.as_str(), was()))
        }
        (true, false) => {
            // held since the unit entered the alarms (kept while it stays in them)
            let held = previous.filter(|_| prev_status.is_some_and(Status::is_alarm));
            let since = held.and_then(|p| parse_time(p.held_since.as_deref()));
            let (since, from) = match since {
                Some(since) => (since, held.and_then(|p| p.held_from.clone())),
                None => (now, was()),
            };
            let ends = policy.hold.after(since);
            if now >= ends {
                state.open = true;
                Some((status.as_str(), from))
            } else {
                state.held_since = Some(since.to_rfc3339_opts(SecondsFormat::Secs, true));
                state.held_from = from;
                return Decision {
                    record: None,
                    state,
                    hold_ends: Some(ends),
                };
            }
        }
        (false, true) => Some(("resolved", was())),
        (false, false) => None,
    };
    if record.is_some() {
        state.last_alert = Some(ts.to_string());
    }
    Decision {
        record,
        state,
        hold_ends: None,
    }
}

/// Compares fresh statuses with the stored states: the records to make now, the states to
/// store, and when a hold ends. A restart therefore repeats nothing: the stored state
/// already has the status, whether an alert is open, the time of its last record and
/// where a hold stands.
pub fn transitions(
    statuses: &[AgreementStatus],
    stored: &HashMap<AlertKey, AlertState>,
    now: DateTime<Utc>,
    as_of: NaiveDate,
    policy: &Policy,
) -> Transitions {
    let ts = now.to_rfc3339_opts(SecondsFormat::Secs, true);
    let mut out = Transitions::default();
    for a in statuses {
        for c in &a.commitments {
            for unit in units(c) {
                let key: AlertKey = (
                    a.id.clone(),
                    c.id.clone(),
                    unit.party.unwrap_or("").to_string(),
                );
                let previous = stored.get(&key);
                let decision = decide(unit.status, previous, now, &ts, policy);
                if let Some((kind, was)) = decision.record {
                    out.records.push(AlertRecord {
                        ts: ts.clone(),
                        alert: kind.to_string(),
                        agreement: a.id.clone(),
                        commitment: c.id.clone(),
                        party: unit.party.map(str::to_string),
                        status: unit.status.as_str().to_string(),
                        previous: was,
                        due: unit.due.map(|d| d.to_string()),
                        last_evidence: unit.last_evidence.map(|d| d.to_string()),
                        as_of: as_of.to_string(),
                        reason: unit.reason.to_string(),
                    });
                }
                out.hold_ends = match (out.hold_ends, decision.hold_ends) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                if previous != Some(&decision.state) {
                    out.states.push((key, decision.state));
                }
            }
        }
    }
    out
}

/// The Alertmanager `alertname` of an alerting status (docs/reference.md, Alert delivery).
pub fn alertname(status: Status) -> Option<&'static str> {
    match status {
        Status::Overdue => Some("PledgeOverdue"),
        Status::PaperTiger => Some("PledgePaperTiger"),
        Status::Breached => Some("PledgeBreached"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statuses(status: Status) -> Vec<AgreementStatus> {
        vec![AgreementStatus {
            id: "a".into(),
            title: "A".into(),
            score: None,
            commitments: vec![CommitmentStatus {
                id: "c".into(),
                status,
                score: status.score(),
                due: None,
                last_evidence: None,
                last_breach: None,
                evidence: 0,
                talk: 0,
                breaches: 0,
                evidence_days: 0,
                talk_days: 0,
                breach_days: 0,
                parties: vec![],
                reason: "r".into(),
            }],
        }]
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// The records made (kind, previous) and when a hold ends.
    type Step = (Vec<(String, Option<String>)>, Option<DateTime<Utc>>);

    fn step_held(
        stored: &mut HashMap<AlertKey, AlertState>,
        status: Status,
        now: &str,
        hold: &str,
    ) -> Step {
        let policy = Policy {
            repeat: Interval::parse("7d").unwrap(),
            hold: Interval::parse(hold).unwrap(),
        };
        let d = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
        let out = transitions(&statuses(status), stored, t(now), d, &policy);
        stored.extend(out.states);
        let records = out
            .records
            .into_iter()
            .map(|a| (a.alert, a.previous))
            .collect();
        (records, out.hold_ends)
    }

    fn step(
        stored: &mut HashMap<AlertKey, AlertState>,
        status: Status,
        now: &str,
    ) -> Vec<(String, Option<String>)> {
        step_held(stored, status, now, "0s").0
    }

    #[test]
    fn transitions_repeats_and_resolutions() {
        let mut s = HashMap::new();
        assert_eq!(
            step(&mut s, Status::Pending, "2020-01-01T00:00:00Z"),
            vec![]
        );
        assert_eq!(
            step(&mut s, Status::Overdue, "2020-01-02T00:00:00Z"),
            vec![("overdue".into(), Some("pending".into()))]
        );
        assert_eq!(
            step(&mut s, Status::Overdue, "2020-01-08T23:59:59Z"),
            vec![],
            "not yet 7 days"
        );
        assert_eq!(
            step(&mut s, Status::Overdue, "2020-01-09T00:00:00Z"),
            vec![("overdue".into(), Some("overdue".into()))],
            "repeated after 7 days"
        );
        assert_eq!(
            step(&mut s, Status::PaperTiger, "2020-01-09T01:00:00Z"),
            vec![("paper_tiger".into(), Some("overdue".into()))]
        );
        assert_eq!(
            step(&mut s, Status::OnTrack, "2020-01-10T00:00:00Z"),
            vec![("resolved".into(), Some("paper_tiger".into()))]
        );
        assert_eq!(
            step(&mut s, Status::OnTrack, "2020-03-10T00:00:00Z"),
            vec![]
        );
    }

    #[test]
    fn first_sight_of_an_alarm_has_no_previous() {
        let mut s = HashMap::new();
        assert_eq!(
            step(&mut s, Status::Breached, "2020-01-01T00:00:00Z"),
            vec![("breached".into(), None)]
        );
    }

    #[test]
    fn a_hold_keeps_short_alarms_quiet_and_alerts_the_lasting_ones() {
        let mut s = HashMap::new();
        let held = |s: &mut HashMap<_, _>, status, now| step_held(s, status, now, "15m");
        assert_eq!(
            held(&mut s, Status::Pending, "2020-01-01T00:00:00Z").0,
            vec![]
        );
        // a breach undone within the hold makes no record, and no resolution follows
        let (r, ends) = held(&mut s, Status::Breached, "2020-01-01T00:01:00Z");
        assert_eq!((r, ends), (vec![], Some(t("2020-01-01T00:16:00Z"))));
        assert_eq!(
            held(&mut s, Status::OnTrack, "2020-01-01T00:05:00Z").0,
            vec![]
        );
        // one that lasts alerts when the hold ends, with the status it has then and the
        // status before the alarm began
        assert_eq!(
            held(&mut s, Status::Overdue, "2020-01-01T01:00:00Z").0,
            vec![]
        );
        assert_eq!(
            held(&mut s, Status::PaperTiger, "2020-01-01T01:10:00Z").0,
            vec![]
        );
        assert_eq!(
            held(&mut s, Status::PaperTiger, "2020-01-01T01:15:00Z").0,
            vec![("paper_tiger".into(), Some("on_track".into()))]
        );
        // once open, changes and resolutions are recorded at once
        assert_eq!(
            held(&mut s, Status::Breached, "2020-01-01T01:16:00Z").0,
            vec![("breached".into(), Some("paper_tiger".into()))]
        );
        assert_eq!(
            held(&mut s, Status::OnTrack, "2020-01-01T01:17:00Z").0,
            vec![("resolved".into(), Some("breached".into()))]
        );
        // first sight, held: no previous
        let mut s = HashMap::new();
        assert_eq!(
            held(&mut s, Status::Overdue, "2020-01-01T00:00:00Z").0,
            vec![]
        );
        assert_eq!(
            held(&mut s, Status::Overdue, "2020-01-01T00:20:00Z").0,
            vec![("overdue".into(), None)]
        );
    }
}
