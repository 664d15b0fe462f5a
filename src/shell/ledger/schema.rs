//! The ledger's schema: version 1 as pledgewatch 0.1 created it, and the steps that take a
//! ledger from each version to the next. A new version adds a step, never edits one.

/// The ledger's schema version, in `PRAGMA user_version`. Version 1 is the schema of
/// pledgewatch 0.1.
pub const SCHEMA_VERSION: i64 = 4;

/// The schema of version 1, as pledgewatch 0.1 created it.
pub(super) const SCHEMA_1: &str = "CREATE TABLE reports (
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

/// `MIGRATIONS[i]` takes a ledger from version `i + 1` to `i + 2`.
pub(super) const MIGRATIONS: &[&str] = &[
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
    // 4: alert delivery: every alert record with a stable id (the webhook's queue, and
    // meta 'alerts_logged' the last one in the journal and the alerts file), the alerts
    // Alertmanager is told of (open: no ends_at; resolved: until a send holding the
    // resolution was accepted), and per unit whether an alert is open and where a hold
    // stands. An alarm stored before this version was alerted (there was no hold). The
    // tally now also counts each agreement's reports (tally row -1): counted again at the
    // next start.
    "ALTER TABLE alert_state ADD COLUMN open INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE alert_state ADD COLUMN held_since TEXT;
     ALTER TABLE alert_state ADD COLUMN held_from TEXT;
     UPDATE alert_state SET open = 1 WHERE status IN ('overdue', 'paper_tiger', 'breached');
     CREATE TABLE alerts (id INTEGER PRIMARY KEY AUTOINCREMENT, alert TEXT NOT NULL,
         record TEXT NOT NULL);
     CREATE TABLE am_alerts (id INTEGER PRIMARY KEY AUTOINCREMENT,
         agreement TEXT NOT NULL, commitment TEXT NOT NULL, party TEXT NOT NULL,
         alertname TEXT NOT NULL, severity TEXT NOT NULL, starts_at TEXT NOT NULL,
         ends_at TEXT, annotations TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 0);
     CREATE INDEX am_alerts_open ON am_alerts (agreement, commitment, party) WHERE ends_at IS NULL;
     INSERT OR REPLACE INTO meta (key, value) VALUES ('alerts_logged', '0');
     DELETE FROM meta WHERE key = 'tally_rules';",
];

/// The statement recording which pledgewatch wrote the schema.
pub(super) fn written_by() -> String {
    format!(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_written_by', 'pledgewatch {}');",
        env!("CARGO_PKG_VERSION")
    )
}
