//! The evidence ledger: an SQLite database in the state folder, written in transactions.
//!
//! It keeps reports (so that a rule change re-evaluates history), the content hash of every
//! file taken (so that a re-dropped file, or a file whose move was interrupted by a crash,
//! is recognised), counts of refused records, and each commitment's last status and last
//! alert time (so that a restart does not repeat alerts). Beside the reports it keeps what
//! evaluation needs of them under the current rules — a daily tally and the latest marks
//! per commitment ([`Standing`]), named by the rules' fingerprint — so that a start or a
//! `status` reads those instead of millions of reports; other rules count them again.

use crate::engine::marks::{LatestMarks, Mark, MarkChange};
use crate::engine::matcher::{CompiledRules, Scratch};
use crate::engine::report::Report;
use crate::engine::rules::RuleSet;
use crate::engine::tally::{DailyTally, fingerprint};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use std::path::{Path, PathBuf};

/// File name of the database inside the state folder.
pub const DB_NAME: &str = "pledgewatch.db";

/// The ledger's schema version, in `PRAGMA user_version`. Version 1 is the schema of
/// pledgewatch 0.1.
pub const SCHEMA_VERSION: i64 = 3;

/// The schema of version 1, as pledgewatch 0.1 created it.
const SCHEMA_1: &str = "CREATE TABLE reports (
        id TEXT PRIMARY KEY,
        date TEXT NOT NULL,
        report TEXT NOT NULL,
        file TEXT NOT NULL
    );
    CREATE TABLE files (
        hash TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        outcome TEXT NOT NULL,
        taken TEXT NOT NULL,
        reports INTEGER NOT NULL,
        rejected INTEGER NOT NULL,
        skipped INTEGER NOT NULL
    );
    CREATE TABLE alert_state (
        agreement TEXT NOT NULL,
        commitment TEXT NOT NULL,
        party TEXT NOT NULL,
        status TEXT NOT NULL,
        last_alert TEXT,
        PRIMARY KEY (agreement, commitment, party)
    );";

/// `MIGRATIONS[i]` takes a ledger from version `i + 1` to `i + 2`. A new schema version
/// adds a step here, never edits one.
const MIGRATIONS: &[&str] = &[
    // 2: reports found by date (histories and scale), and a table of facts about the ledger
    "CREATE INDEX reports_by_date ON reports(date);
     CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    // 3: what evaluation needs, kept beside the reports so that a start or `status` never
    // re-reads them: per commitment its daily tally and latest marks, counted with the
    // rules whose fingerprint is meta 'tally_rules' (none yet: counted at the next start);
    // and the number of distinct reports
    "CREATE TABLE tally (commitment INTEGER PRIMARY KEY, cells BLOB NOT NULL);
     CREATE TABLE marks (commitment INTEGER NOT NULL, id TEXT NOT NULL, mark TEXT NOT NULL,
         PRIMARY KEY (commitment, id)) WITHOUT ROWID;
     INSERT OR REPLACE INTO meta (key, value) VALUES ('reports', (SELECT count(*) FROM reports));",
];

/// Set (in milliseconds) only by the tests: how long a migration waits before its commit,
/// so that a test can kill the process in the middle of it.
const MIGRATION_PAUSE_VAR: &str = "PLEDGEWATCH_TEST_MIGRATION_PAUSE_MS";

/// The schema version of the ledger in `state_dir`, without changing anything; `None`
/// when there is no ledger yet.
pub fn schema_version(state_dir: &Path) -> Result<Option<i64>, String> {
    let path = state_dir.join(DB_NAME);
    if !path.exists() {
        return Ok(None);
    }
    let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| sql_err(&path, e))?;
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .map(Some)
        .map_err(|e| sql_err(&path, e))
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

/// `Some(message)` when the ledger in `state_dir` was written by a newer pledgewatch: it is
/// refused (exit 78) and never modified.
pub fn newer_than_known(state_dir: &Path) -> Option<String> {
    match schema_version(state_dir) {
        Ok(Some(v)) if v > SCHEMA_VERSION && written_by_pledgewatch(state_dir) => Some(format!(
            "{}: written by a newer pledgewatch (ledger schema {v}; this {} knows up to {SCHEMA_VERSION}); \
             it is left as it is — run the newer version, or restore the copy taken before its upgrade",
            state_dir.join(DB_NAME).display(),
            env!("CARGO_PKG_VERSION")
        )),
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

/// What one file contributed, recorded with its hash.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileCounts {
    /// Reports taken.
    pub reports: usize,
    /// Records refused.
    pub rejected: usize,
    /// GDELT rows skipped.
    pub skipped: usize,
}

pub use crate::engine::alert::{AlertKey, AlertState};

/// The statement recording which pledgewatch wrote the schema.
fn written_by() -> String {
    format!(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_written_by', 'pledgewatch {}');",
        env!("CARGO_PKG_VERSION")
    )
}

fn sql_err(path: &Path, e: rusqlite::Error) -> String {
    format!("{}: {e}", path.display())
}

impl Ledger {
    /// Opens (creating if needed) the ledger in `state_dir`, in WAL mode with
    /// `synchronous=FULL`. A file that is not a pledgewatch ledger is an error, never replaced.
    pub fn open(state_dir: &Path) -> Result<Ledger, String> {
        let path = state_dir.join(DB_NAME);
        let conn = Connection::open(&path).map_err(|e| sql_err(&path, e))?;
        let ledger = Ledger { conn, path };
        ledger.init()?;
        Ok(ledger)
    }

    /// Opens an existing ledger read-only (for `status` and `explain` while the daemon runs).
    pub fn open_read_only(state_dir: &Path) -> Result<Ledger, String> {
        let path = state_dir.join(DB_NAME);
        if !path.exists() {
            return Err(format!(
                "{}: no ledger yet (has the daemon run?)",
                path.display()
            ));
        }
        let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| sql_err(&path, e))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| sql_err(&path, e))?;
        Ok(Ledger { conn, path })
    }

    fn init(&self) -> Result<(), String> {
        let e = |e| sql_err(&self.path, e);
        self.conn
            .busy_timeout(std::time::Duration::from_secs(5))
            .map_err(e)?;
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(e)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(format!(
                "{}: cannot switch to WAL mode (got {mode})",
                self.path.display()
            ));
        }
        self.conn
            // A large file is one transaction, so the write-ahead log can grow to the size of
            // what it wrote; once checkpointed it is cut back to 64 MiB.
            .execute_batch(
                "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA journal_size_limit=67108864;",
            )
            .map_err(e)?;
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(e)?;
        let tables: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                [],
                |r| r.get(0),
            )
            .map_err(e)?;
        match (version, tables) {
            (0, 0) => self.create(),
            (SCHEMA_VERSION, _) => Ok(()),
            (v, _) if (1..SCHEMA_VERSION).contains(&v) => self.migrate(v),
            (v, _)
                if let Some(newer) =
                    newer_than_known(self.path.parent().unwrap_or(Path::new(".")))
                    && v > SCHEMA_VERSION =>
            {
                Err(newer)
            }
            (v, _) => Err(format!(
                "{}: not a pledgewatch ledger of a known version (user_version {v}); it is left as it is",
                self.path.display()
            )),
        }
    }

    /// A new ledger: the first schema and every migration, in one transaction.
    fn create(&self) -> Result<(), String> {
        let steps = MIGRATIONS.join("\n");
        self.conn
            .execute_batch(&format!(
                "BEGIN; {SCHEMA_1} {steps} {} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;",
                written_by()
            ))
            .map_err(|e| sql_err(&self.path, e))
    }

    /// Brings a ledger of schema `from` up to [`SCHEMA_VERSION`]: first a copy of it beside
    /// it (`VACUUM INTO`), then every step in one transaction, so that a crash leaves the
    /// old ledger as it was.
    fn migrate(&self, from: i64) -> Result<(), String> {
        let e = |e| sql_err(&self.path, e);
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let copy = (0..)
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
            .unwrap_or_default();
        let copy_text = copy.to_string_lossy().replace('\'', "''");
        self.conn
            .execute_batch(&format!("VACUUM INTO '{copy_text}'"))
            .map_err(e)?;
        tracing::info!(from, to = SCHEMA_VERSION, copy = %copy.display(), "upgrading the ledger's schema from {from} to {SCHEMA_VERSION}; a copy of the old ledger is kept at {}", copy.display());
        let steps = MIGRATIONS
            .get(usize::try_from(from - 1).unwrap_or(0)..)
            .unwrap_or(&[])
            .join("\n");
        self.conn
            .execute_batch(&format!(
                "BEGIN IMMEDIATE; {steps} {} PRAGMA user_version = {SCHEMA_VERSION};",
                written_by()
            ))
            .map_err(e)?;
        if let Some(ms) = std::env::var(MIGRATION_PAUSE_VAR)
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
        {
            tracing::info!("migration paused before its commit ({MIGRATION_PAUSE_VAR})");
            std::thread::sleep(std::time::Duration::from_millis(ms));
        }
        self.conn.execute_batch("COMMIT;").map_err(e)?;
        tracing::info!("ledger schema is now {SCHEMA_VERSION}");
        Ok(())
    }

    /// The file taken with this content hash, if any.
    pub fn taken_file(&self, hash: &str) -> Result<Option<TakenFile>, String> {
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
            .map_err(|e| sql_err(&self.path, e))
    }

    /// Starts a transaction; reports are written inside one and committed together.
    pub fn begin(&mut self) -> Result<rusqlite::Transaction<'_>, String> {
        let path = self.path.clone();
        self.conn.transaction().map_err(|e| sql_err(&path, e))
    }

    /// The schema version of the open ledger.
    fn version(&self) -> Result<i64, String> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| sql_err(&self.path, e))
    }

    /// The database path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every report, in id order.
    pub fn reports(&self, each: &mut dyn FnMut(Report)) -> Result<(), String> {
        let e = |e| sql_err(&self.path, e);
        let mut stmt = self
            .conn
            .prepare("SELECT report FROM reports ORDER BY id")
            .map_err(e)?;
        let mut rows = stmt.query([]).map_err(e)?;
        while let Some(row) = rows.next().map_err(e)? {
            let text: String = row.get(0).map_err(e)?;
            each(self.parse_stored(&text)?);
        }
        Ok(())
    }

    /// The fingerprint of the rules the stored tally was counted with, if any.
    pub fn tally_rules(&self) -> Result<Option<String>, String> {
        if self.version()? < 3 {
            return Ok(None);
        }
        self.conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'tally_rules'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| sql_err(&self.path, e))
    }

    /// The stored tally and marks, read as they are (see [`Ledger::tally_rules`]).
    fn load_standing(&self, rules: &RuleSet) -> Result<Standing, String> {
        let e = |e| sql_err(&self.path, e);
        let mut tally = DailyTally::new(rules);
        let mut marks = LatestMarks::new(tally.len());
        let mut stmt = self
            .conn
            .prepare("SELECT commitment, cells FROM tally")
            .map_err(e)?;
        let mut rows = stmt.query([]).map_err(e)?;
        while let Some(row) = rows.next().map_err(e)? {
            let c: i64 = row.get(0).map_err(e)?;
            let cells = row
                .get_ref(1)
                .map_err(e)?
                .as_blob()
                .map_err(|x| format!("{}: stored tally: {x}", self.path.display()))?;
            tally
                .decode(c as usize, cells)
                .map_err(|x| format!("{}: {x}", self.path.display()))?;
        }
        let mut stmt = self
            .conn
            .prepare("SELECT commitment, mark FROM marks ORDER BY commitment")
            .map_err(e)?;
        let mut rows = stmt.query([]).map_err(e)?;
        let mut list: (i64, Vec<Mark>) = (0, Vec::new());
        while let Some(row) = rows.next().map_err(e)? {
            let c: i64 = row.get(0).map_err(e)?;
            let text: String = row.get(1).map_err(e)?;
            let mark: Mark = serde_json::from_str(&text).map_err(|x| {
                format!(
                    "{}: a stored mark of commitment {c}: {x}",
                    self.path.display()
                )
            })?;
            if c != list.0 {
                let done = std::mem::replace(&mut list, (c, Vec::new()));
                marks.set(done.0 as usize, done.1);
            }
            list.1.push(mark);
        }
        marks.set(list.0 as usize, list.1);
        tally.take_changed();
        Ok(Standing { tally, marks })
    }

    /// The stored reports that can bear on commitment `c` under `rules`: those dated before
    /// its start (never counted, but shown by `explain`) and those of the days its stored
    /// tally has reports on — read through the date index instead of every report. `None`
    /// when the stored tally is not of `rules` (then every report must be read).
    pub fn reports_for(
        &self,
        rules: &RuleSet,
        c: usize,
        each: &mut dyn FnMut(Report),
    ) -> Result<Option<()>, String> {
        if self.tally_rules()?.as_deref() != Some(fingerprint(rules).as_str()) {
            return Ok(None);
        }
        let e = |e| sql_err(&self.path, e);
        let mut tally = DailyTally::new(rules);
        let cells: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT cells FROM tally WHERE commitment = ?1",
                [c as i64],
                |r| r.get(0),
            )
            .optional()
            .map_err(e)?;
        if let Some(cells) = cells {
            tally
                .decode(c, &cells)
                .map_err(|x| format!("{}: {x}", self.path.display()))?;
        }
        let starts = rules
            .scopes()
            .get(c)
            .map(|(starts, _)| starts.to_string())
            .unwrap_or_default();
        let mut read = |sql: &str, value: String| -> Result<(), String> {
            let mut stmt = self.conn.prepare_cached(sql).map_err(e)?;
            let mut rows = stmt.query([value]).map_err(e)?;
            while let Some(row) = rows.next().map_err(e)? {
                let text: String = row.get(0).map_err(e)?;
                each(self.parse_stored(&text)?);
            }
            Ok(())
        };
        read("SELECT report FROM reports WHERE date < ?1", starts)?;
        for day in tally.days(c) {
            read(
                "SELECT report FROM reports WHERE date = ?1",
                day.to_string(),
            )?;
        }
        Ok(Some(()))
    }

    fn parse_stored(&self, text: &str) -> Result<Report, String> {
        serde_json::from_str(text).map_err(|err| {
            format!(
                "{}: a stored report is unreadable: {err}",
                self.path.display()
            )
        })
    }

    /// The tally and marks of every stored report under `rules`, counted now (nothing is
    /// written).
    fn count_standing(
        &self,
        rules: &RuleSet,
        compiled: &CompiledRules,
    ) -> Result<Standing, String> {
        let mut tally = DailyTally::new(rules);
        let mut marks = LatestMarks::new(tally.len());
        let mut scratch = Scratch::default();
        self.reports(&mut |r| {
            let hits = compiled.match_report(&r, &mut scratch);
            tally.add(r.date, &hits, 1);
            marks.add(&r, &hits);
        })?;
        Ok(Standing { tally, marks })
    }

    /// What evaluation needs under `rules`: the stored tally and marks when they were
    /// counted with these rules, else counted from the reports now (a slower path, for a
    /// reader whose rules differ from the daemon's). The flag says which.
    pub fn standing(
        &self,
        rules: &RuleSet,
        compiled: &CompiledRules,
    ) -> Result<(Standing, bool), String> {
        if self.tally_rules()?.as_deref() == Some(fingerprint(rules).as_str()) {
            Ok((self.load_standing(rules)?, true))
        } else {
            Ok((self.count_standing(rules, compiled)?, false))
        }
    }

    /// Like [`Ledger::standing`], but when the stored tally is not of `rules`, counts it
    /// again and stores it (one transaction): the daemon's start and reload.
    pub fn standing_for(
        &mut self,
        rules: &RuleSet,
        compiled: &CompiledRules,
    ) -> Result<Standing, String> {
        let fingerprint = fingerprint(rules);
        if self.tally_rules()?.as_deref() == Some(fingerprint.as_str()) {
            return self.load_standing(rules);
        }
        tracing::info!(
            reports = self.counts()?.reports,
            "the ledger's tally is not of these rules: matching every stored report again"
        );
        let mut standing = self.count_standing(rules, compiled)?;
        let path = self.path.clone();
        let tx = self.conn.transaction().map_err(|e| sql_err(&path, e))?;
        let e = |e| sql_err(&path, e);
        tx.execute_batch("DELETE FROM tally; DELETE FROM marks;")
            .map_err(e)?;
        let all: Vec<u32> = (0..standing.tally.len() as u32).collect();
        save_standing(&tx, &mut standing, &all)?;
        for (c, list) in standing.marks.lists().iter().enumerate() {
            for m in list {
                put_mark(&tx, c as u32, m)?;
            }
        }
        tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('tally_rules', ?1)",
            [&fingerprint],
        )
        .map_err(e)?;
        tx.commit().map_err(e)?;
        standing.tally.take_changed();
        Ok(standing)
    }

    /// Totals over all files: (reports stored, records rejected, rows skipped).
    pub fn counts(&self) -> Result<FileCounts, String> {
        let e = |e| sql_err(&self.path, e);
        // kept in `meta` from schema 3 on; a reader of an older ledger (the daemon has not
        // upgraded it yet) counts
        let sql = if self.version()? >= 3 {
            "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'reports'"
        } else {
            "SELECT count(*) FROM reports"
        };
        let reports: i64 = self.conn.query_row(sql, [], |r| r.get(0)).map_err(e)?;
        let (rejected, skipped): (i64, i64) = self
            .conn
            .query_row(
                "SELECT coalesce(sum(rejected), 0), coalesce(sum(skipped), 0) FROM files",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(e)?;
        Ok(FileCounts {
            reports: reports as usize,
            rejected: rejected as usize,
            skipped: skipped as usize,
        })
    }

    /// The stored alert state of every (agreement, commitment, party).
    pub fn alert_states(&self) -> Result<Vec<(AlertKey, AlertState)>, String> {
        let e = |e| sql_err(&self.path, e);
        let mut stmt = self
            .conn
            .prepare("SELECT agreement, commitment, party, status, last_alert FROM alert_state")
            .map_err(e)?;
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
            .map_err(e)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(e)
    }

    /// Stores alert states in one transaction.
    pub fn save_alert_states(
        &mut self,
        states: &[((String, String, String), AlertState)],
    ) -> Result<(), String> {
        let path = self.path.clone();
        let e = |e| sql_err(&path, e);
        let tx = self.conn.transaction().map_err(e)?;
        {
            let mut stmt = tx
                .prepare(
                    "INSERT INTO alert_state (agreement, commitment, party, status, last_alert)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (agreement, commitment, party)
                     DO UPDATE SET status = excluded.status, last_alert = excluded.last_alert",
                )
                .map_err(e)?;
            for ((a, c, p), s) in states {
                stmt.execute(params![a, c, p, s.status, s.last_alert])
                    .map_err(e)?;
            }
        }
        tx.commit().map_err(e)
    }
}

/// What evaluation needs of the ledger's reports under one rule set: the daily tally and
/// the latest marks of every commitment.
#[derive(Debug, Clone, Default)]
pub struct Standing {
    /// Reports per commitment, day, class and party set.
    pub tally: DailyTally,
    /// The latest marks of each commitment, for the scorecard.
    pub marks: LatestMarks,
}

/// Writes the tally of commitments `tally` and the changes of the marks inside a
/// transaction (with the reports they count).
pub fn save_standing(
    tx: &rusqlite::Transaction<'_>,
    standing: &mut Standing,
    tally: &[u32],
) -> Result<(), String> {
    let mut put = tx
        .prepare_cached("INSERT OR REPLACE INTO tally (commitment, cells) VALUES (?1, ?2)")
        .map_err(|e| e.to_string())?;
    let mut gone = tx
        .prepare_cached("DELETE FROM tally WHERE commitment = ?1")
        .map_err(|e| e.to_string())?;
    for &c in tally {
        let cells = standing.tally.encode(c as usize);
        if cells.is_empty() {
            gone.execute([c]).map_err(|e| e.to_string())?;
        } else {
            put.execute(params![c, cells]).map_err(|e| e.to_string())?;
        }
    }
    let mut gone = tx
        .prepare_cached("DELETE FROM marks WHERE commitment = ?1 AND id = ?2")
        .map_err(|e| e.to_string())?;
    for change in standing.marks.take_changes() {
        match change {
            MarkChange::Added(c, m) => put_mark(tx, c, &m)?,
            MarkChange::Removed(c, id) => {
                gone.execute(params![c, id]).map_err(|e| e.to_string())?;
            }
        }
    }
    Ok(())
}

fn put_mark(tx: &rusqlite::Transaction<'_>, c: u32, m: &Mark) -> Result<(), String> {
    let text = serde_json::to_string(m).map_err(|e| e.to_string())?;
    tx.prepare_cached("INSERT OR REPLACE INTO marks (commitment, id, mark) VALUES (?1, ?2, ?3)")
        .and_then(|mut s| s.execute(params![c, m.id, text]))
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Writes a report inside a transaction. A report with an id already stored replaces it;
/// the record it replaced is returned (to take its hits back).
pub fn put_report(
    tx: &rusqlite::Transaction<'_>,
    file: &str,
    report: &Report,
) -> Result<Option<Report>, String> {
    let json = serde_json::to_string(report).map_err(|e| e.to_string())?;
    let date = report.date.to_string();
    // a new id (the common case) is one statement
    let added = tx
        .prepare_cached(
            "INSERT INTO reports (id, date, report, file) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (id) DO NOTHING",
        )
        .and_then(|mut s| s.execute(params![report.id, date, json, file]))
        .map_err(|e| e.to_string())?;
    if added == 1 {
        return Ok(None);
    }
    let old: String = tx
        .prepare_cached("SELECT report FROM reports WHERE id = ?1")
        .and_then(|mut s| s.query_row([&report.id], |r| r.get(0)))
        .map_err(|e| e.to_string())?;
    let old = serde_json::from_str::<Report>(&old)
        .map_err(|e| format!("a stored report ({}) is unreadable: {e}", report.id))?;
    tx.prepare_cached("UPDATE reports SET date = ?2, report = ?3, file = ?4 WHERE id = ?1")
        .and_then(|mut s| s.execute(params![report.id, date, json, file]))
        .map_err(|e| e.to_string())?;
    Ok(Some(old))
}

/// Adds `n` new distinct reports to the ledger's count, inside their transaction.
pub fn count_new_reports(tx: &rusqlite::Transaction<'_>, n: usize) -> Result<(), String> {
    tx.execute(
        "UPDATE meta SET value = CAST(value AS INTEGER) + ?1 WHERE key = 'reports'",
        [n as i64],
    )
    .map(|_| ())
    .map_err(|e| e.to_string())
}

/// Records a file as taken, inside the transaction of its last reports.
pub fn put_file(
    tx: &rusqlite::Transaction<'_>,
    hash: &str,
    name: &str,
    outcome: &str,
    taken: &str,
    counts: FileCounts,
) -> Result<(), String> {
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
    .map_err(|e| e.to_string())
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
        let err = Ledger::open(dir.path()).err().unwrap();
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
