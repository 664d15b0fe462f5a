//! What the ledger keeps of alerts: each unit's alert state (so that a restart repeats
//! nothing and a hold survives it), every alert record with a stable id (the webhook's
//! queue; the journal and the alerts file are caught up from it after a crash), the
//! alerts Alertmanager is told of, and the delivery cursors.

use super::error::{LedgerError, sql, sql_in};
use super::{AlertKey, AlertState, Ledger};
use crate::engine::alert::AlertRecord;
use rusqlite::{OptionalExtension, Transaction, params};

/// What Alertmanager is told of one alert besides its unit and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmInfo {
    /// The rule's severity (a label).
    pub severity: String,
    /// The annotations, as a JSON object.
    pub annotations: String,
}

/// One alert as Alertmanager is to be told of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmAlert {
    /// Its row, and the row's version (a resolution is forgotten only if unchanged since
    /// it was sent).
    pub id: i64,
    /// Bumped at every change of the row.
    pub version: i64,
    /// The unit.
    pub key: AlertKey,
    /// `PledgeOverdue`, `PledgePaperTiger` or `PledgeBreached`.
    pub alertname: String,
    /// Severity and annotations.
    pub info: AmInfo,
    /// The time of the record that opened it (RFC 3339).
    pub starts_at: String,
    /// Resolved at (RFC 3339); `None` while active.
    pub ends_at: Option<String>,
}

/// One evaluation's alert changes, written in one transaction.
pub struct AlertChanges<'a> {
    /// The records made, in order.
    pub records: &'a [AlertRecord],
    /// The states that changed.
    pub states: &'a [(AlertKey, AlertState)],
    /// Severity and annotations of a unit (for Alertmanager).
    pub info: &'a dyn Fn(&AlertKey) -> Option<AmInfo>,
    /// Whether Alertmanager is configured: without it a resolution is forgotten at once.
    pub alertmanager: bool,
}

fn key_of(r: &AlertRecord) -> AlertKey {
    (
        r.agreement.clone(),
        r.commitment.clone(),
        r.party.clone().unwrap_or_default(),
    )
}

impl Ledger {
    /// The stored alert state of every (agreement, commitment, party).
    pub fn alert_states(&self) -> Result<Vec<(AlertKey, AlertState)>, LedgerError> {
        let e = sql(&self.path);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT agreement, commitment, party, status, last_alert, open, held_since, held_from
                 FROM alert_state",
            )
            .map_err(&e)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    (r.get(0)?, r.get(1)?, r.get(2)?),
                    AlertState {
                        status: r.get(3)?,
                        last_alert: r.get(4)?,
                        open: r.get(5)?,
                        held_since: r.get(6)?,
                        held_from: r.get(7)?,
                    },
                ))
            })
            .map_err(&e)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(&e)
    }

    /// Stores an evaluation's records (returning their ids), the states that changed and
    /// what Alertmanager is to be told, in one transaction.
    pub fn save_alerts(&mut self, changes: &AlertChanges<'_>) -> Result<Vec<i64>, LedgerError> {
        let tx = self.begin()?;
        let e = sql_in(&tx);
        let mut ids = Vec::with_capacity(changes.records.len());
        for r in changes.records {
            let json = serde_json::to_string(r).map_err(|x| LedgerError::Damaged {
                path: tx.path().unwrap_or_default().into(),
                what: format!("an alert record cannot be stored: {x}"),
            })?;
            tx.prepare_cached("INSERT INTO alerts (alert, record) VALUES (?1, ?2)")
                .and_then(|mut s| s.execute(params![r.alert, json]))
                .map_err(&e)?;
            ids.push(tx.last_insert_rowid());
            am_follow(&tx, r, changes.info)?;
        }
        put_states(&tx, changes.states)?;
        am_refresh(&tx, changes.info, changes.alertmanager)?;
        tx.commit().map_err(&e)?;
        Ok(ids)
    }

    /// The last record written to the journal and the alerts file.
    pub fn alerts_logged(&self) -> Result<i64, LedgerError> {
        self.meta_number("alerts_logged").map(|n| n.unwrap_or(0))
    }

    /// Records that every record up to `id` is in the journal and the alerts file.
    pub fn set_alerts_logged(&self, id: i64) -> Result<(), LedgerError> {
        self.set_meta_number("alerts_logged", id)
    }

    /// The records after `after`, in order (at most `limit`), as stored (JSON).
    pub fn records_after(
        &self,
        after: i64,
        limit: usize,
    ) -> Result<Vec<(i64, String)>, LedgerError> {
        let e = sql(&self.path);
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, record FROM alerts WHERE id > ?1 ORDER BY id LIMIT ?2")
            .map_err(&e)?;
        let rows = stmt
            .query_map(params![after, limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(&e)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(&e)
    }

    /// The newest record's id (0 before the first).
    pub fn last_record(&self) -> Result<i64, LedgerError> {
        self.conn
            .query_row("SELECT coalesce(max(id), 0) FROM alerts", [], |r| r.get(0))
            .map_err(sql(&self.path))
    }

    /// The webhook's cursor: every record up to it was delivered. `None` when no webhook
    /// is set up.
    pub fn webhook_cursor(&self) -> Result<Option<i64>, LedgerError> {
        self.meta_number("webhook_cursor")
    }

    /// Sets (or, with `None`, forgets) the webhook's cursor.
    pub fn set_webhook_cursor(&self, id: Option<i64>) -> Result<(), LedgerError> {
        match id {
            Some(id) => self.set_meta_number("webhook_cursor", id),
            None => self
                .conn
                .execute("DELETE FROM meta WHERE key = 'webhook_cursor'", [])
                .map(|_| ())
                .map_err(sql(&self.path)),
        }
    }

    /// Every alert Alertmanager is to be told of: the resolutions not yet accepted, then
    /// the active ones.
    pub fn am_alerts(&self) -> Result<Vec<AmAlert>, LedgerError> {
        let e = sql(&self.path);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, version, agreement, commitment, party, alertname, severity,
                        annotations, starts_at, ends_at
                 FROM am_alerts ORDER BY ends_at IS NULL, id",
            )
            .map_err(&e)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(AmAlert {
                    id: r.get(0)?,
                    version: r.get(1)?,
                    key: (r.get(2)?, r.get(3)?, r.get(4)?),
                    alertname: r.get(5)?,
                    info: AmInfo {
                        severity: r.get(6)?,
                        annotations: r.get(7)?,
                    },
                    starts_at: r.get(8)?,
                    ends_at: r.get(9)?,
                })
            })
            .map_err(&e)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(&e)
    }

    /// Forgets the resolutions of `sent` that Alertmanager accepted (unless they changed
    /// since they were sent).
    pub fn am_accepted(&mut self, sent: &[AmAlert]) -> Result<(), LedgerError> {
        let tx = self.begin()?;
        let e = sql_in(&tx);
        for a in sent.iter().filter(|a| a.ends_at.is_some()) {
            tx.prepare_cached(
                "DELETE FROM am_alerts WHERE id = ?1 AND version = ?2 AND ends_at IS NOT NULL",
            )
            .and_then(|mut s| s.execute(params![a.id, a.version]))
            .map_err(&e)?;
        }
        tx.commit().map_err(&e)
    }

    /// Files taken, by outcome (`processed`, `rejected`), since the ledger was created.
    pub fn files_by_outcome(&self) -> Result<Vec<(String, u64)>, LedgerError> {
        self.counts_by("SELECT outcome, count(*) FROM files GROUP BY outcome")
    }

    /// Alert records made, by kind, since the ledger was created (or upgraded to schema 4).
    pub fn records_by_kind(&self) -> Result<Vec<(String, u64)>, LedgerError> {
        self.counts_by("SELECT alert, count(*) FROM alerts GROUP BY alert")
    }

    fn counts_by(&self, query: &str) -> Result<Vec<(String, u64)>, LedgerError> {
        let e = sql(&self.path);
        let mut stmt = self.conn.prepare_cached(query).map_err(&e)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)?.max(0) as u64)))
            .map_err(&e)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(&e)
    }

    fn meta_number(&self, key: &str) -> Result<Option<i64>, LedgerError> {
        self.conn
            .query_row(
                "SELECT CAST(value AS INTEGER) FROM meta WHERE key = ?1",
                [key],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql(&self.path))
    }

    fn set_meta_number(&self, key: &str, value: i64) -> Result<(), LedgerError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
                params![key, value.to_string()],
            )
            .map(|_| ())
            .map_err(sql(&self.path))
    }
}

fn put_states(tx: &Transaction<'_>, states: &[(AlertKey, AlertState)]) -> Result<(), LedgerError> {
    let e = sql_in(tx);
    let mut stmt = tx
        .prepare_cached(
            "INSERT INTO alert_state (agreement, commitment, party, status, last_alert, open, held_since, held_from)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (agreement, commitment, party)
             DO UPDATE SET status = excluded.status, last_alert = excluded.last_alert,
                 open = excluded.open, held_since = excluded.held_since, held_from = excluded.held_from",
        )
        .map_err(&e)?;
    for ((a, c, p), s) in states {
        stmt.execute(params![
            a,
            c,
            p,
            s.status,
            s.last_alert,
            s.open,
            s.held_since,
            s.held_from
        ])
        .map_err(&e)?;
    }
    Ok(())
}

/// What a record does to the unit's Alertmanager alert: `resolved` resolves it; an alarm
/// of the alert's own name keeps it (a repeat); another alarm resolves it and opens one of
/// its own name, starting at the record.
fn am_follow(
    tx: &Transaction<'_>,
    r: &AlertRecord,
    info: &dyn Fn(&AlertKey) -> Option<AmInfo>,
) -> Result<(), LedgerError> {
    let e = sql_in(tx);
    let key = key_of(r);
    let name =
        crate::engine::evaluate::Status::parse(&r.alert).and_then(crate::engine::alert::alertname);
    let open: Option<(i64, String)> = tx
        .prepare_cached(
            "SELECT id, alertname FROM am_alerts
             WHERE agreement = ?1 AND commitment = ?2 AND party = ?3 AND ends_at IS NULL",
        )
        .and_then(|mut s| {
            s.query_row(params![key.0, key.1, key.2], |x| Ok((x.get(0)?, x.get(1)?)))
                .optional()
        })
        .map_err(&e)?;
    if let Some((id, open_name)) = &open {
        if Some(open_name.as_str()) == name {
            return Ok(());
        }
        tx.prepare_cached("UPDATE am_alerts SET ends_at = ?2, version = version + 1 WHERE id = ?1")
            .and_then(|mut s| s.execute(params![id, r.ts]))
            .map_err(&e)?;
    }
    let (Some(name), Some(info)) = (name, info(&key)) else {
        return Ok(());
    };
    tx.prepare_cached(
        "INSERT INTO am_alerts (agreement, commitment, party, alertname, severity, starts_at, annotations)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .and_then(|mut s| s.execute(params![key.0, key.1, key.2, name, info.severity, r.ts, info.annotations]))
    .map(|_| ())
    .map_err(&e)
}

/// Brings the active alerts' annotations up to date with this evaluation (reason, due
/// date, as-of date); without Alertmanager, forgets the resolutions at once.
fn am_refresh(
    tx: &Transaction<'_>,
    info: &dyn Fn(&AlertKey) -> Option<AmInfo>,
    alertmanager: bool,
) -> Result<(), LedgerError> {
    let e = sql_in(tx);
    if !alertmanager {
        tx.execute("DELETE FROM am_alerts WHERE ends_at IS NOT NULL", [])
            .map_err(&e)?;
    }
    let open: Vec<(i64, AlertKey, String)> = {
        let mut stmt = tx
            .prepare_cached(
                "SELECT id, agreement, commitment, party, annotations FROM am_alerts WHERE ends_at IS NULL",
            )
            .map_err(&e)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?), r.get(4)?))
            })
            .map_err(&e)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(&e)?
    };
    for (id, key, annotations) in open {
        let Some(now) = info(&key) else { continue };
        if now.annotations != annotations {
            tx.prepare_cached(
                "UPDATE am_alerts SET annotations = ?2, severity = ?3, version = version + 1 WHERE id = ?1",
            )
            .and_then(|mut s| s.execute(params![id, now.annotations, now.severity]))
            .map_err(&e)?;
        }
    }
    Ok(())
}
