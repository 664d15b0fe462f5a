//! Alerts (docs/reference.md, Alerts): transitions of a commitment (or, for `each`, of a
//! commitment and party) into `overdue`, `paper_tiger` or `breached`, a `resolved` record
//! when it leaves them, and a repeat every `repeat_interval` while the status lasts.
//! Pure: the stored states and the time are arguments; the shell stores the states and
//! writes the records.

use crate::engine::dates::Interval;
use crate::engine::evaluate::{AgreementStatus, CommitmentStatus, Status};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::Serialize;
use std::collections::HashMap;

/// (agreement, commitment, party or "") — the unit an alert is about.
pub type AlertKey = (String, String, String);

/// The stored alert state of one commitment (and party, for `each`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertState {
    /// Last evaluated status.
    pub status: String,
    /// When the last alert about it was written (RFC 3339), if any.
    pub last_alert: Option<String>,
}

/// One alert, as logged and as written (one flat JSON object per line) to the alerts file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

/// The alert a unit in `status` calls for, given what was stored of it: a new alarm
/// status (or one seen for the first time), the same alarm once `repeat` has passed since
/// its last alert, or `resolved` when it leaves the alarms.
fn alert_for(
    status: Status,
    previous: Option<&AlertState>,
    now: DateTime<Utc>,
    repeat: Interval,
) -> Option<&'static str> {
    let prev_status = previous.and_then(|p| Status::parse(&p.status));
    if !status.is_alarm() {
        return prev_status
            .is_some_and(Status::is_alarm)
            .then_some("resolved");
    }
    let last_alert = previous
        .and_then(|p| p.last_alert.as_deref())
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    match (prev_status, last_alert) {
        (Some(p), Some(last)) if p == status => {
            (now >= repeat.after(last)).then_some(status.as_str())
        }
        _ => Some(status.as_str()),
    }
}

/// Compares fresh statuses with the stored states: the alerts to raise now, and the states to
/// store. A restart therefore repeats nothing: the stored state already has the status and the
/// time of its last alert.
pub fn transitions(
    statuses: &[AgreementStatus],
    stored: &HashMap<AlertKey, AlertState>,
    now: DateTime<Utc>,
    as_of: NaiveDate,
    repeat: Interval,
) -> (Vec<AlertRecord>, Vec<(AlertKey, AlertState)>) {
    let ts = now.to_rfc3339_opts(SecondsFormat::Secs, true);
    let mut alerts = Vec::new();
    let mut states = Vec::new();
    for a in statuses {
        for c in &a.commitments {
            for unit in units(c) {
                let key: AlertKey = (
                    a.id.clone(),
                    c.id.clone(),
                    unit.party.unwrap_or("").to_string(),
                );
                let previous = stored.get(&key);
                let mut new_state = AlertState {
                    status: unit.status.as_str().to_string(),
                    last_alert: previous.and_then(|p| p.last_alert.clone()),
                };
                if let Some(kind) = alert_for(unit.status, previous, now, repeat) {
                    new_state.last_alert = Some(ts.clone());
                    alerts.push(AlertRecord {
                        ts: ts.clone(),
                        alert: kind.to_string(),
                        agreement: a.id.clone(),
                        commitment: c.id.clone(),
                        party: unit.party.map(str::to_string),
                        status: unit.status.as_str().to_string(),
                        previous: previous.map(|p| p.status.clone()),
                        due: unit.due.map(|d| d.to_string()),
                        last_evidence: unit.last_evidence.map(|d| d.to_string()),
                        as_of: as_of.to_string(),
                        reason: unit.reason.to_string(),
                    });
                }
                if previous != Some(&new_state) {
                    states.push((key, new_state));
                }
            }
        }
    }
    (alerts, states)
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

    fn step(
        stored: &mut HashMap<AlertKey, AlertState>,
        status: Status,
        now: &str,
    ) -> Vec<(String, Option<String>)> {
        let repeat = Interval::parse("7d").unwrap();
        let d = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
        let (alerts, states) = transitions(&statuses(status), stored, t(now), d, repeat);
        stored.extend(states);
        alerts.into_iter().map(|a| (a.alert, a.previous)).collect()
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
}
