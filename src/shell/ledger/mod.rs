//! The evidence ledger: an SQLite database in the state folder, written in transactions.
//!
//! It keeps reports (so that a rule change re-evaluates history), the content hash of every
//! file taken (so that a re-dropped file, or a file whose move was interrupted by a crash,
//! is recognised), counts of refused records, and each commitment's last status and last
//! alert time (so that a restart does not repeat alerts). Beside the reports it keeps what
//! evaluation needs of them under the current rules — a daily tally and the latest marks
//! per commitment ([`Standing`]), named by the rules' fingerprint — so that a start or a
//! `status` reads those instead of millions of reports; other rules count them again.
//!
//! [`schema`] holds the tables and their migrations, [`standing`] the tally and marks,
//! [`records`] what one file's transaction writes, [`alerts`] the alert states.

mod alerts;
mod error;
mod records;
mod schema;
mod standing;

pub use crate::engine::alert::{AlertKey, AlertState};
pub use alerts::{AlertChanges, AmAlert, AmInfo};
pub use error::LedgerError;
pub use records::{FileCounts, commit, count_new_reports, put_file, put_report};
pub use schema::SCHEMA_VERSION;
pub use standing::{Standing, save_standing};

use crate::engine::report::Report;
use error::sql;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::path::{Path, PathBuf};

/// File name of the database inside the state folder.
pub const DB_NAME: &str = "pledgewatch.db";

/// Set (in milliseconds) only by the tests: how long a migration waits before its commit,
/// so that a test can kill the process in the middle of it.
const MIGRATION_PAUSE_VAR: &str = "PLEDGEWATCH_TEST_MIGRATION_PAUSE_MS";

/// The schema version of the ledger in `state_dir`, without changing anything; `None`
/// when there is no ledger yet.
pub fn schema_version(state_dir: &Path) -> Result<Option<i64>, LedgerError> {
    let path = state_dir.join(DB_NAME);
    if !path.exists() {
        return Ok(None);
    }
    let conn =
        Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(sql(&path))?;
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .map(Some)
        .map_err(sql(&path))
}

/// True when the database in `state_dir` says pledgewatch wrote its schema (schema 2 on).
fn written_by_pledgewatch(state_dir: &Path) -> bool {
    let path = state_dir.join(DB_NAME);
    Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .and_then(|c| {
            c.query_row(
                "SELECT value FROM meta WHERE key = 'schema_written_by'",
                [],
                |r| r.get::<_, String>(0),
            )
        })
        .is_ok_and(|v| v.starts_with("pledgewatch "))
}

/// `Some(error)` when the ledger in `state_dir` was written by a newer pledgewatch: it is
/// refused (exit 78) and never modified.
pub fn newer_than_known(state_dir: &Path) -> Option<LedgerError> {
    match schema_version(state_dir) {
        Ok(Some(version)) if version > SCHEMA_VERSION && written_by_pledgewatch(state_dir) => {
            Some(LedgerError::Newer {
                path: state_dir.join(DB_NAME),
                version,
                known: SCHEMA_VERSION,
            })
        }
        _ => None,
    }
}

/// An open ledger.
pub struct Ledger {
    conn: Connection,
    path: PathBuf,
}

/// A file already taken, found by content hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakenFile {
    /// The name it had when it was taken.
    pub name: String,
    /// `processed` or `rejected`: where it went.
    pub outcome: String,
    /// When (RFC 3339).
    pub taken: String,
}

impl Ledger {
    /// Opens (creating if needed) the ledger in `state_dir`, in WAL mode with
    /// `synchronous=FULL`. A file that is not a pledgewatch ledger is an error, never replaced.
    pub fn open(state_dir: &Path) -> Result<Ledger, LedgerError> {
        let path = state_dir.join(DB_NAME);
        let conn = Connection::open(&path).map_err(sql(&path))?;
        let ledger = Ledger { conn, path };
        ledger.init()?;
        Ok(ledger)
    }

    /// Opens an existing ledger read-only (for `status` and `explain` while the daemon runs).
    pub fn open_read_only(state_dir: &Path) -> Result<Ledger, LedgerError> {
        let path = state_dir.join(DB_NAME);
        if !path.exists() {
            return Err(LedgerError::Missing(path));
        }
        let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(sql(&path))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(sql(&path))?;
        Ok(Ledger { conn, path })
    }

    fn init(&self) -> Result<(), LedgerError> {
        let e = sql(&self.path);
        self.conn
            .busy_timeout(std::time::Duration::from_secs(5))
            .map_err(&e)?;
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(&e)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(LedgerError::NotWal {
                path: self.path.clone(),
                mode,
            });
        }
        self.conn
            // A large file is one transaction, so the write-ahead log can grow to the size of
            // what it wrote; once checkpointed it is cut back to 64 MiB.
            .execute_batch(
                "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA journal_size_limit=67108864;",
            )
            .map_err(&e)?;
        let version = self.version()?;
        let tables: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                [],
                |r| r.get(0),
            )
            .map_err(&e)?;
        match (version, tables) {
            (0, 0) => self.create(),
            (SCHEMA_VERSION, _) => Ok(()),
            (v, _) if (1..SCHEMA_VERSION).contains(&v) => self.migrate(v),
            (v, _)
                if v > SCHEMA_VERSION
                    && let Some(newer) =
                        newer_than_known(self.path.parent().unwrap_or(Path::new("."))) =>
            {
                Err(newer)
            }
            (version, _) => Err(LedgerError::Foreign {
                path: self.path.clone(),
                version,
            }),
        }
    }

    /// A new ledger: the first schema and every migration, in one transaction.
    fn create(&self) -> Result<(), LedgerError> {
        let steps = schema::MIGRATIONS.join("\n");
        self.conn
            .execute_batch(&format!(
                "BEGIN; {} {steps} {} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;",
                schema::SCHEMA_1,
                schema::written_by()
            ))
            .map_err(sql(&self.path))
    }

    /// A free name beside the ledger for the copy taken before a migration from `from`.
    fn backup_path(&self, from: i64) -> PathBuf {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        (0..)
            .map(|n| {
                let tail = if n == 0 {
                    String::new()
                } else {
                    format!(".{n}")
                };
                self.path
                    .with_file_name(format!("{DB_NAME}.schema-{from}.{stamp}{tail}.bak"))
            })
            .find(|p| !p.exists())
            .unwrap_or_default()
    }

    /// Brings a ledger of schema `from` up to [`SCHEMA_VERSION`]: first a copy of it beside
    /// it (`VACUUM INTO`), then every step in one transaction, so that a crash leaves the
    /// old ledger as it was.
    fn migrate(&self, from: i64) -> Result<(), LedgerError> {
        let e = sql(&self.path);
        let copy = self.backup_path(from);
        let copy_text = copy.to_string_lossy().replace('\'', "''");
        self.conn
            .execute_batch(&format!("VACUUM INTO '{copy_text}'"))
            .map_err(&e)?;
        tracing::info!(from, to = SCHEMA_VERSION, copy = %copy.display(), "upgrading the ledger's schema from {from} to {SCHEMA_VERSION}; a copy of the old ledger is kept at {}", copy.display());
        let steps = schema::MIGRATIONS
            .get(usize::try_from(from - 1).unwrap_or(0)..)
            .unwrap_or(&[])
            .join("\n");
        self.conn
            .execute_batch(&format!(
                "BEGIN IMMEDIATE; {steps} {} PRAGMA user_version = {SCHEMA_VERSION};",
                schema::written_by()
            ))
            .map_err(&e)?;
        if let Some(ms) = std::env::var(MIGRATION_PAUSE_VAR)
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
        {
            tracing::info!("migration paused before its commit ({MIGRATION_PAUSE_VAR})");
            std::thread::sleep(std::time::Duration::from_millis(ms));
        }
        self.conn.execute_batch("COMMIT;").map_err(&e)?;
        tracing::info!("ledger schema is now {SCHEMA_VERSION}");
        Ok(())
    }

    /// The file taken with this content hash, if any.
    pub fn taken_file(&self, hash: &str) -> Result<Option<TakenFile>, LedgerError> {
        self.conn
            .query_row(
                "SELECT name, outcome, taken FROM files WHERE hash = ?1",
                [hash],
                |r| {
                    Ok(TakenFile {
                        name: r.get(0)?,
                        outcome: r.get(1)?,
                        taken: r.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(sql(&self.path))
    }

    /// Starts a transaction; reports are written inside one and committed together.
    pub fn begin(&mut self) -> Result<rusqlite::Transaction<'_>, LedgerError> {
        let path = self.path.clone();
        self.conn
            .transaction()
            .map_err(|source| LedgerError::Sql { path, source })
    }

    /// The schema version of the open ledger.
    fn version(&self) -> Result<i64, LedgerError> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sql(&self.path))
    }

    /// Every report, in id order.
    pub fn reports(&self, each: &mut dyn FnMut(Report)) -> Result<(), LedgerError> {
        let e = sql(&self.path);
        let mut stmt = self
            .conn
            .prepare("SELECT report FROM reports ORDER BY id")
            .map_err(&e)?;
        let mut rows = stmt.query([]).map_err(&e)?;
        while let Some(row) = rows.next().map_err(&e)? {
            let text: String = row.get(0).map_err(&e)?;
            each(self.parse_stored(&text)?);
        }
        Ok(())
    }

    /// A stored report, decoded.
    fn parse_stored(&self, text: &str) -> Result<Report, LedgerError> {
        serde_json::from_str(text).map_err(|err| LedgerError::Damaged {
            path: self.path.clone(),
            what: format!("a stored report is unreadable: {err}"),
        })
    }

    /// Totals over all files: (reports stored, records rejected, rows skipped).
    pub fn counts(&self) -> Result<FileCounts, LedgerError> {
        let e = sql(&self.path);
        // kept in `meta` from schema 3 on; a reader of an older ledger (the daemon has not
        // upgraded it yet) counts
        let sql_text = if self.version()? >= 3 {
            "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'reports'"
        } else {
            "SELECT count(*) FROM reports"
        };
        let reports: i64 = self
            .conn
            .query_row(sql_text, [], |r| r.get(0))
            .map_err(&e)?;
        let (rejected, skipped): (i64, i64) = self
            .conn
            .query_row(
                "SELECT coalesce(sum(rejected), 0), coalesce(sum(skipped), 0) FROM files",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(&e)?;
        Ok(FileCounts {
            reports: reports as usize,
            rejected: rejected as usize,
            skipped: skipped as usize,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_foreign_database() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join(DB_NAME)).unwrap();
        conn.execute_batch("CREATE TABLE other (x); PRAGMA user_version = 7;")
            .unwrap();
        drop(conn);
        let err = Ledger::open(dir.path()).err().unwrap().to_string();
        assert!(err.contains("not a pledgewatch ledger"), "{err}");
    }

    #[test]
    fn stores_and_replaces_reports() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = Ledger::open(dir.path()).unwrap();
        let r = Report::from_raw(crate::engine::report::RawReport {
            fields: vec![
                (
                    "date".into(),
                    crate::engine::report::RawValue::Str("2010-01-01".into()),
                    0,
                ),
                (
                    "actors".into(),
                    crate::engine::report::RawValue::List(vec![
                        crate::engine::report::RawValue::Str("KGZ".into()),
                    ]),
                    0,
                ),
                (
                    "kind".into(),
                    crate::engine::report::RawValue::Str("action".into()),
                    0,
                ),
            ],
        })
        .unwrap();
        let tx = l.begin().unwrap();
        assert_eq!(put_report(&tx, "a.json", &r).unwrap(), None);
        assert_eq!(put_report(&tx, "a.json", &r).unwrap(), Some(r.clone()));
        count_new_reports(&tx, 1).unwrap();
        put_file(
            &tx,
            "h",
            "a.json",
            "processed",
            "now",
            FileCounts {
                reports: 1,
                rejected: 2,
                skipped: 3,
            },
        )
        .unwrap();
        tx.commit().unwrap();
        let mut seen = Vec::new();
        l.reports(&mut |x| seen.push(x)).unwrap();
        assert_eq!(seen, vec![r]);
        assert_eq!(
            l.counts().unwrap(),
            FileCounts {
                reports: 1,
                rejected: 2,
                skipped: 3
            }
        );
        assert_eq!(l.taken_file("h").unwrap().unwrap().name, "a.json");
        drop(l);
        // reopening keeps everything
        let l = Ledger::open(dir.path()).unwrap();
        assert_eq!(l.counts().unwrap().reports, 1);
    }
}
