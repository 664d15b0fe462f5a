//! The ledger's schema version (`PRAGMA user_version`): a ledger of pledgewatch 0.1 is
//! upgraded in one transaction after a copy is taken; a newer one is refused untouched
//! (exit 78); a migration killed half-way leaves the old ledger as it was.

use super::daemon::{Daemon, setup};
use super::*;
use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

/// `[alerts]` for a daemon on a fixture ledger: the fixtures' alerts were recorded at a
/// fixed wall-clock time, so the repeat interval is long enough that no reminder falls due
/// however much later the test runs.
const NO_REMINDERS: &str = "repeat_interval = \"10y\"";

/// A daemon's folders with the 0.1 fixture as its ledger (49 reports of the examples,
/// taken at as-of 2026-11-27, with their alert states).
fn with_old_ledger() -> Daemon {
    let d = Daemon::new(setup(NO_REMINDERS));
    std::fs::create_dir_all(d.path("state")).unwrap();
    std::fs::copy(
        root().join("tests/data/ledger-0.1.db"),
        d.path("state/pledgewatch.db"),
    )
    .unwrap();
    d
}

fn user_version(db: &Path) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

fn backups(d: &Daemon) -> Vec<String> {
    std::fs::read_dir(d.path("state"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("pledgewatch.db.schema-1.") && n.ends_with(".bak"))
        .collect()
}

#[test]
fn a_ledger_of_0_1_is_upgraded_after_a_copy_and_nothing_repeats() {
    let db_before = std::fs::read(root().join("tests/data/ledger-0.1.db")).unwrap();
    assert_eq!(&db_before[..16], b"SQLite format 3\0");
    let mut d = with_old_ledger();
    assert_eq!(user_version(&d.path("state/pledgewatch.db")), 1);
    // `status` reads an old ledger as it is, before any daemon upgraded it
    let before = d.status_json("2026-11-27");
    assert_eq!(before["reports"]["read"], 49);
    assert_eq!(user_version(&d.path("state/pledgewatch.db")), 1);
    d.spawn("2026-11-27", &[]);
    d.wait_log(
        "upgrading the ledger's schema from 1 to 4",
        Duration::from_secs(5),
    );
    assert_eq!(d.stop(), 0);
    assert_eq!(user_version(&d.path("state/pledgewatch.db")), 4);
    let copies = backups(&d);
    assert_eq!(copies.len(), 1, "{copies:?}");
    let copy = d.path(&format!("state/{}", copies[0]));
    assert_eq!(user_version(&copy), 1, "the copy is the old ledger");
    // every report kept, no alert repeated (the same statuses as when 0.1 last ran)
    let v = d.status_json("2026-11-27");
    assert_eq!(
        v, before,
        "the upgraded ledger's tally says what its reports said"
    );
    assert!(d.alerts().is_empty(), "{:?}", d.alerts());
    // a second start has nothing to migrate
    d.log.lock().unwrap().clear();
    d.spawn("2026-11-27", &[]);
    assert_eq!(d.stop(), 0);
    assert_eq!(backups(&d).len(), 1);
    let log = d.log.lock().unwrap().join("\n");
    assert!(!log.contains("upgrading"), "migrated twice: {log}");
}

#[test]
fn a_ledger_of_a_newer_version_is_refused_untouched() {
    let mut d = with_old_ledger();
    d.spawn("2026-11-27", &[]);
    assert_eq!(d.stop(), 0);
    let db = d.path("state/pledgewatch.db");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA user_version = 5;")
            .unwrap();
    }
    let before = std::fs::read(&db).unwrap();
    let r = run(pledgewatch()
        .args([
            "run",
            "--as-of",
            "2026-11-27",
            "--log-format",
            "json",
            "--config",
        ])
        .arg(&d.config));
    assert_eq!(r.code, 78, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("written by a newer pledgewatch (ledger schema 5"),
        "{}",
        r.stderr
    );
    let r = run(pledgewatch().args(["status", "--config"]).arg(&d.config));
    assert_eq!(r.code, 78, "{}", r.stderr);
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the newer ledger was modified"
    );
    assert_eq!(user_version(&db), 5);
}

#[test]
fn a_migration_killed_half_way_leaves_the_old_ledger_usable() {
    let mut d = with_old_ledger();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("pledgewatch"))
        .args([
            "run",
            "--as-of",
            "2026-11-27",
            "--log-format",
            "json",
            "--config",
        ])
        .arg(&d.config)
        .env("PLEDGEWATCH_TEST_MIGRATION_PAUSE_MS", "20000")
        .env_remove("NOTIFY_SOCKET")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let start = Instant::now();
    for line in BufReader::new(stderr).lines() {
        if line.unwrap().contains("migration paused before its commit") {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "no pause");
    }
    // the new schema is written inside the open transaction; kill before it commits
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let _ = child.wait();
    let db = d.path("state/pledgewatch.db");
    assert_eq!(
        user_version(&db),
        1,
        "the killed migration left a half-new ledger"
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    let reports: i64 = conn
        .query_row("SELECT count(*) FROM reports", [], |r| r.get(0))
        .unwrap();
    assert_eq!(reports, 49);
    drop(conn);
    // the next start migrates it for good
    d.log.lock().unwrap().clear();
    d.spawn("2026-11-27", &[]);
    d.wait_log("ledger schema is now 4", Duration::from_secs(5));
    assert_eq!(d.stop(), 0);
    assert_eq!(user_version(&db), 4);
    assert_eq!(d.status_json("2026-11-27")["reports"]["read"], 49);
}

/// A ledger of schema 3 (tests/data/ledger-schema-3.db: the 49 example reports, taken by
/// the daemon of the previous version at as-of 2026-11-27, 9 commitments alerting) gets
/// the alert-delivery tables of schema 4: its alarms stay open (nothing is alerted again,
/// and leaving them will say `resolved`), and its tally is counted again once.
#[test]
fn a_ledger_of_schema_3_keeps_its_open_alarms() {
    let mut d = Daemon::new(setup(NO_REMINDERS));
    std::fs::create_dir_all(d.path("state")).unwrap();
    std::fs::copy(
        root().join("tests/data/ledger-schema-3.db"),
        d.path("state/pledgewatch.db"),
    )
    .unwrap();
    let db = d.path("state/pledgewatch.db");
    assert_eq!(user_version(&db), 3);
    let before = d.status_json("2026-11-27");
    assert_eq!(before["reports"]["read"], 49);
    d.spawn("2026-11-27", &[]);
    d.wait_log(
        "upgrading the ledger's schema from 3 to 4",
        Duration::from_secs(5),
    );
    d.wait_log(
        "matching every stored report again",
        Duration::from_secs(10),
    );
    assert_eq!(d.stop(), 0);
    assert_eq!(user_version(&db), 4);
    assert_eq!(d.status_json("2026-11-27"), before);
    assert!(d.alerts().is_empty(), "alerted again: {:?}", d.alerts());
    let conn = rusqlite::Connection::open(&db).unwrap();
    let open: Vec<(String, bool)> = conn
        .prepare("SELECT status, open FROM alert_state ORDER BY commitment")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(open.len(), 17);
    for (status, open) in open {
        let alarm = ["overdue", "paper_tiger", "breached"].contains(&status.as_str());
        assert_eq!(open, alarm, "{status}");
    }
    let copies: Vec<String> = std::fs::read_dir(d.path("state"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("pledgewatch.db.schema-3."))
        .collect();
    assert_eq!(copies.len(), 1, "{copies:?}");
}
