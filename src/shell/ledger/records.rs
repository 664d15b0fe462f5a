//! What one file's transaction writes: its reports (a later record of an id replaces the
//! earlier one), the count of distinct reports, and the file itself by content hash.

use super::error::{LedgerError, sql_in};
use crate::engine::report::Report;
use rusqlite::{Transaction, params};

/// What one file contributed, recorded with its hash.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileCounts {
    /// Reports taken.
    pub reports: usize,
    /// Records refused.
    pub rejected: usize,
    /// Dataset rows skipped (no country).
    pub skipped: usize,
}

/// Writes a report inside a transaction. A report with an id already stored replaces it;
/// the record it replaced is returned (to take its hits back).
pub fn put_report(
    tx: &Transaction<'_>,
    file: &str,
    report: &Report,
) -> Result<Option<Report>, LedgerError> {
    let e = sql_in(tx);
    let damaged = |what: String| LedgerError::Damaged {
        path: tx.path().unwrap_or_default().into(),
        what,
    };
    let json = serde_json::to_string(report)
        .map_err(|x| damaged(format!("report {} cannot be stored: {x}", report.id)))?;
    let date = report.date.to_string();
    // a new id (the common case) is one statement
    let added = tx
        .prepare_cached(
            "INSERT INTO reports (id, date, report, file) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (id) DO NOTHING",
        )
        .and_then(|mut s| s.execute(params![report.id, date, json, file]))
        .map_err(&e)?;
    if added == 1 {
        return Ok(None);
    }
    let old: String = tx
        .prepare_cached("SELECT report FROM reports WHERE id = ?1")
        .and_then(|mut s| s.query_row([&report.id], |r| r.get(0)))
        .map_err(&e)?;
    let old = serde_json::from_str::<Report>(&old).map_err(|x| {
        damaged(format!(
            "a stored report ({}) is unreadable: {x}",
            report.id
        ))
    })?;
    tx.prepare_cached("UPDATE reports SET date = ?2, report = ?3, file = ?4 WHERE id = ?1")
        .and_then(|mut s| s.execute(params![report.id, date, json, file]))
        .map_err(&e)?;
    Ok(Some(old))
}

/// Adds `n` new distinct reports to the ledger's count, inside their transaction.
pub fn count_new_reports(tx: &Transaction<'_>, n: usize) -> Result<(), LedgerError> {
    tx.execute(
        "UPDATE meta SET value = CAST(value AS INTEGER) + ?1 WHERE key = 'reports'",
        [n as i64],
    )
    .map(|_| ())
    .map_err(sql_in(tx))
}

/// Records a file as taken, inside the transaction of its last reports.
pub fn put_file(
    tx: &Transaction<'_>,
    hash: &str,
    name: &str,
    outcome: &str,
    taken: &str,
    counts: FileCounts,
) -> Result<(), LedgerError> {
    tx.execute(
        "INSERT OR REPLACE INTO files (hash, name, outcome, taken, reports, rejected, skipped)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            hash,
            name,
            outcome,
            taken,
            counts.reports as i64,
            counts.rejected as i64,
            counts.skipped as i64
        ],
    )
    .map(|_| ())
    .map_err(sql_in(tx))
}

/// Commits a file's transaction.
pub fn commit(tx: Transaction<'_>) -> Result<(), LedgerError> {
    let e = sql_in(&tx);
    tx.commit().map_err(e)
}
