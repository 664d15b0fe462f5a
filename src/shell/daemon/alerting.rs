//! The worker's alerts: an evaluation's transitions stored in the ledger with the records
//! they make (stable ids) and what Alertmanager is to be told, then written to the journal
//! and the alerts file, the delivery threads woken and the metrics textfile replaced. A
//! record is in the ledger before anyone sees it, so a crash between the two writes it at
//! the next start instead of losing it.

use super::worker::Worker;
use crate::engine::alert::{self, AlertKey, AlertRecord, Policy};
use crate::engine::evaluate::AgreementStatus;
use crate::engine::problem::shown;
use crate::shell::ledger::{AlertChanges, AmInfo};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::time::Instant;

/// What Alertmanager is told of a unit: the rule's severity and the annotations of
/// docs/reference.md, Alert delivery (summary, description, due, last_evidence, as_of).
fn am_info(
    rules: &crate::engine::rules::RuleSet,
    statuses: &[AgreementStatus],
    as_of: chrono::NaiveDate,
    key: &AlertKey,
) -> Option<AmInfo> {
    let (agreement, commitment, party) = key;
    let rule_a = rules.agreements.iter().find(|a| &a.id == agreement)?;
    let rule_c = rule_a.commitments.iter().find(|c| &c.id == commitment)?;
    let a = statuses.iter().find(|a| &a.id == agreement)?;
    let c = a.commitments.iter().find(|c| &c.id == commitment)?;
    let (reason, due, last_evidence) = match c.parties.iter().find(|p| &p.party == party) {
        Some(p) => (&p.reason, p.due, p.last_evidence),
        None => (&c.reason, c.due, c.last_evidence),
    };
    let mut annotations = serde_json::Map::new();
    let mut put = |k: &str, v: String| {
        annotations.insert(k.to_string(), serde_json::Value::String(v));
    };
    put("summary", format!("{}: {}", rule_a.title, rule_c.title));
    put("description", reason.clone());
    put("due", due.map(|d| d.to_string()).unwrap_or_default());
    if let Some(l) = last_evidence {
        put("last_evidence", l.to_string());
    }
    put("as_of", as_of.to_string());
    Some(AmInfo {
        severity: rule_c.severity.as_str().to_string(),
        annotations: serde_json::Value::Object(annotations).to_string(),
    })
}

impl Worker {
    /// Evaluates every commitment from the tally, makes and stores the alerts its changes
    /// call for, and writes the metrics.
    pub(super) fn evaluate(&mut self) {
        let started = Instant::now();
        let as_of = self.as_of();
        let statuses = self.standing.tally.statuses(&self.rules, as_of);
        let now = Utc::now();
        let policy = Policy {
            repeat: self.config.repeat_interval,
            hold: self.config.hold,
        };
        let t = alert::transitions(&statuses, &self.states, now, as_of, &policy);
        self.hold_ends = t
            .hold_ends
            .map(|at| Instant::now() + (at - now).to_std().unwrap_or_default());
        self.record_alerts(&statuses, as_of, &t.records, t.states);
        self.statuses = statuses;
        self.statuses_as_of = as_of;
        self.scorecard.evaluated();
        self.write_metrics(now);
        tracing::debug!(
            evaluate_ms = started.elapsed().as_millis() as u64,
            "evaluated"
        );
    }

    /// Stores the records, the states and Alertmanager's alerts in one transaction, then
    /// writes the records to the journal and the alerts file and wakes delivery. Nothing
    /// is written when nothing changed.
    fn record_alerts(
        &mut self,
        statuses: &[AgreementStatus],
        as_of: chrono::NaiveDate,
        records: &[AlertRecord],
        states: Vec<(AlertKey, crate::engine::alert::AlertState)>,
    ) {
        let rules = &self.rules;
        let info = |key: &AlertKey| am_info(rules, statuses, as_of, key);
        // the annotations of open alerts follow the evaluations only for an Alertmanager
        // (without one they are brought up to date when it is configured)
        let annotations_changed = self.config.alertmanager.is_some()
            && self
                .am_open
                .iter()
                .any(|(key, old)| info(key).is_some_and(|now| &now.annotations != old));
        if records.is_empty() && states.is_empty() && !annotations_changed {
            return;
        }
        let changes = AlertChanges {
            records,
            states: &states,
            info: &info,
            alertmanager: self.config.alertmanager.is_some(),
        };
        match self.ledger.save_alerts(&changes) {
            Ok(ids) => {
                self.states.extend(states);
                self.emit(records, ids.last().copied());
                self.load_am_open();
                self.delivery.wake();
            }
            Err(e) => {
                // the journal and the file still get them; delivery waits for the ledger
                tracing::error!(error = %e, "cannot store alert states");
                self.sinks.emit(records);
            }
        }
    }

    /// Writes records to the journal and the alerts file and notes the last one written.
    fn emit(&mut self, records: &[AlertRecord], last: Option<i64>) {
        self.sinks.emit(records);
        if let Some(id) = last
            && let Err(e) = self.ledger.set_alerts_logged(id)
        {
            tracing::error!(error = %e, "cannot note the alerts written to the journal");
        }
    }

    /// The annotations of the alerts Alertmanager is told of as active, to see when an
    /// evaluation changes them.
    pub(super) fn load_am_open(&mut self) {
        self.am_open = match self.ledger.am_alerts() {
            Ok(alerts) => alerts
                .into_iter()
                .filter(|a| a.ends_at.is_none())
                .map(|a| (a.key, a.info.annotations))
                .collect(),
            Err(e) => {
                tracing::error!(error = %e, "cannot read the alerts for Alertmanager");
                HashMap::new()
            }
        };
    }

    /// Writes, at start, the records stored but not yet in the journal and the alerts
    /// file (the daemon stopped between the two).
    pub(super) fn catch_up_records(&mut self) -> Result<(), crate::shell::ledger::LedgerError> {
        let logged = self.ledger.alerts_logged()?;
        let rows = self.ledger.records_after(logged, usize::MAX)?;
        let Some(&(last, _)) = rows.last() else {
            return Ok(());
        };
        let records: Vec<AlertRecord> = rows
            .iter()
            .filter_map(|(_, json)| serde_json::from_str(json).ok())
            .collect();
        tracing::info!(
            records = records.len(),
            "writing the alert records made before the daemon stopped"
        );
        self.emit(&records, Some(last));
        Ok(())
    }

    /// Replaces the metrics textfile (docs/reference.md, Metrics), written under a
    /// temporary name in its folder and renamed. A failure is logged once until it works
    /// again.
    fn write_metrics(&mut self, now: DateTime<Utc>) {
        let Some(path) = self.config.metrics_textfile.clone() else {
            return;
        };
        let counts = self
            .ledger
            .files_by_outcome()
            .and_then(|f| Ok((f, self.ledger.records_by_kind()?)));
        let (files, alerts) = match counts {
            Ok(c) => c,
            Err(e) => return self.metrics_failed(&path, &e.to_string()),
        };
        let feeds = (self.feeds)(&self.config.state_dir);
        let text = crate::render::metrics::textfile(&crate::render::metrics::Metrics {
            statuses: &self.statuses,
            agreement_reports: self.standing.tally.agreement_reports(),
            files: &files,
            alerts: &alerts,
            evaluated_at: now,
            feeds: &feeds,
        });
        let mut temp = path.clone().into_os_string();
        temp.push(".tmp");
        let written = std::fs::write(&temp, text).and_then(|()| std::fs::rename(&temp, &path));
        match written {
            Ok(()) if self.metrics_failing => {
                self.metrics_failing = false;
                tracing::info!(path = %shown(&path), "the metrics textfile is written again");
            }
            Ok(()) => {}
            Err(e) => self.metrics_failed(&path, &e.to_string()),
        }
    }

    fn metrics_failed(&mut self, path: &std::path::Path, why: &str) {
        if !std::mem::replace(&mut self.metrics_failing, true) {
            tracing::error!(path = %shown(path), error = %why, "cannot write the metrics textfile; trying again after each evaluation");
        }
    }
}
