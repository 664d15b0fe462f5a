//! Prometheus Alertmanager, API v2: every alert the ledger holds for it — the active ones,
//! with a lease, and the resolutions not yet accepted — POSTed as one JSON array to
//! `URL/api/v2/alerts` every `resend` and whenever the worker says something changed. A
//! resolution is forgotten once a request that held it was answered 2xx; an active alert
//! is sent for as long as it lasts, so an Alertmanager restarted empty gets it back at the
//! next send.

use super::outage::Outage;
use super::{Waiter, Woken};
use crate::shell::config::AlertmanagerConfig;
use crate::shell::http::Client;
use crate::shell::ledger::{AmAlert, Ledger};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};
use std::time::Instant;

/// The Alertmanager sender of one config.
pub(super) struct Sender {
    config: AlertmanagerConfig,
    /// `Bearer <token>`, when a token file is set.
    authorization: Option<String>,
    client: Client,
}

/// The JSON array of `alerts` at `now`: labels (ours, then the configured extra ones),
/// annotations, `startsAt`, and `endsAt` — the resolution time, or for an active alert a
/// lease of four times `resend` (docs/reference.md, Alert delivery).
pub(super) fn payload(
    alerts: &[AmAlert],
    extra: &std::collections::BTreeMap<String, String>,
    now: DateTime<Utc>,
    resend: std::time::Duration,
) -> String {
    let lease = chrono::Duration::from_std(resend * 4).unwrap_or(chrono::Duration::MAX);
    let lease_end = now
        .checked_add_signed(lease)
        .unwrap_or(now)
        .to_rfc3339_opts(SecondsFormat::Millis, true);
    let items: Vec<Value> = alerts
        .iter()
        .map(|a| {
            let (agreement, commitment, party) = &a.key;
            let mut labels = Map::new();
            labels.insert("alertname".into(), json!(a.alertname));
            labels.insert("agreement".into(), json!(agreement));
            labels.insert("commitment".into(), json!(commitment));
            if !party.is_empty() {
                labels.insert("party".into(), json!(party));
            }
            labels.insert("severity".into(), json!(a.info.severity));
            for (k, v) in extra {
                labels.insert(k.clone(), json!(v));
            }
            let annotations: Value =
                serde_json::from_str(&a.info.annotations).unwrap_or_else(|_| json!({}));
            json!({
                "labels": labels,
                "annotations": annotations,
                "startsAt": a.starts_at,
                "endsAt": a.ends_at.clone().unwrap_or_else(|| lease_end.clone()),
            })
        })
        .collect();
    Value::Array(items).to_string()
}

impl Sender {
    pub(super) fn new(config: AlertmanagerConfig, token: Option<Vec<u8>>) -> Sender {
        let authorization = token.map(|t| format!("Bearer {}", String::from_utf8_lossy(&t)));
        let client = Client::with_deadline(config.timeout);
        Sender {
            config,
            authorization,
            client,
        }
    }

    /// Sends at start, then every `resend` and at every wake-up, until told to stop. After
    /// a failed send the next try waits for the next `resend` (wake-ups do not hurry it).
    pub(super) fn run(self, mut ledger: Ledger, waiter: &Waiter) {
        let url = format!("{}/api/v2/alerts", self.config.url);
        let mut outage = Outage::new("alertmanager", &url);
        loop {
            let sent = self.send_once(&mut ledger, &url, &mut outage);
            let next = Instant::now() + self.config.resend;
            if waiter.until(next, sent) == Woken::Stop {
                return;
            }
        }
    }

    /// One send of everything the ledger holds for Alertmanager; false when it failed.
    fn send_once(&self, ledger: &mut Ledger, url: &str, outage: &mut Outage) -> bool {
        let alerts = match ledger.am_alerts() {
            Ok(a) => a,
            Err(e) => {
                outage.failed(&format!("cannot read the ledger: {e}"));
                return false;
            }
        };
        if alerts.is_empty() {
            return true;
        }
        let body = payload(&alerts, &self.config.labels, Utc::now(), self.config.resend);
        let mut headers = vec![("Content-Type", "application/json")];
        if let Some(auth) = &self.authorization {
            headers.push(("Authorization", auth.as_str()));
        }
        let accepted = super::delivered(self.client.post(url, &headers, body.as_bytes()), outage);
        // a resolution not recorded as accepted is sent again: Alertmanager takes it twice
        if accepted && let Err(e) = ledger.am_accepted(&alerts) {
            tracing::warn!(error = %e, "cannot record the resolutions Alertmanager accepted");
        }
        accepted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::ledger::AmInfo;

    #[test]
    fn active_alerts_carry_a_lease_and_resolutions_their_end() {
        let alert = |party: &str, ends: Option<&str>| AmAlert {
            id: 1,
            version: 0,
            key: ("a".into(), "c".into(), party.into()),
            alertname: "PledgeBreached".into(),
            info: AmInfo {
                severity: "high".into(),
                annotations: r#"{"summary":"A: C"}"#.into(),
            },
            starts_at: "2026-11-27T06:00:00Z".into(),
            ends_at: ends.map(str::to_string),
        };
        let now = DateTime::parse_from_rfc3339("2026-11-27T07:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let extra = [("team".to_string(), "analysts".to_string())].into();
        let body = payload(
            &[alert("", Some("2026-11-27T06:30:00Z")), alert("KGZ", None)],
            &extra,
            now,
            std::time::Duration::from_secs(60),
        );
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v[0]["endsAt"], "2026-11-27T06:30:00Z");
        assert_eq!(v[0]["labels"].get("party"), None, "party only for each");
        assert_eq!(
            v[1]["endsAt"], "2026-11-27T07:04:00.000Z",
            "lease: 4 x resend"
        );
        assert_eq!(v[1]["labels"]["party"], "KGZ");
        assert_eq!(v[1]["labels"]["team"], "analysts");
        assert_eq!(v[1]["labels"]["severity"], "high");
        assert_eq!(v[1]["annotations"]["summary"], "A: C");
    }
}
