//! Each commitment's (and party's) last status and last alert time, so that a restart
//! repeats no alert.

use super::error::{LedgerError, sql};
use super::{AlertKey, AlertState, Ledger};
use rusqlite::params;

impl Ledger {
    /// The stored alert state of every (agreement, commitment, party).
    pub fn alert_states(&self) -> Result<Vec<(AlertKey, AlertState)>, LedgerError> {
        let e = sql(&self.path);
        let mut stmt = self
            .conn
            .prepare("SELECT agreement, commitment, party, status, last_alert FROM alert_state")
            .map_err(&e)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    (r.get(0)?, r.get(1)?, r.get(2)?),
                    AlertState {
                        status: r.get(3)?,
                        last_alert: r.get(4)?,
                    },
                ))
            })
            .map_err(&e)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(&e)
    }

    /// Stores alert states in one transaction.
    pub fn save_alert_states(
        &mut self,
        states: &[(AlertKey, AlertState)],
    ) -> Result<(), LedgerError> {
        let path = self.path.clone();
        let e = sql(&path);
        let tx = self.conn.transaction().map_err(&e)?;
        {
            let mut stmt = tx
                .prepare(
                    "INSERT INTO alert_state (agreement, commitment, party, status, last_alert)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (agreement, commitment, party)
                     DO UPDATE SET status = excluded.status, last_alert = excluded.last_alert",
                )
                .map_err(&e)?;
            for ((a, c, p), s) in states {
                stmt.execute(params![a, c, p, s.status, s.last_alert])
                    .map_err(&e)?;
            }
        }
        tx.commit().map_err(&e)
    }
}
