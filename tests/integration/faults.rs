//! Faults: a full disk, a read-only state folder, a locked or corrupted ledger. The disk test
//! mounts a small tmpfs and needs root (skipped, like the systemd test, with
//! PLEDGEWATCH_SKIP_E2E=1).

use super::daemon::{Daemon, setup};
use super::*;
use std::time::Duration;

/// Lazily unmounts a test mount when the test ends, however it ends.
struct Unmount(Option<PathBuf>);

impl Drop for Unmount {
    fn drop(&mut self) {
        if let Some(p) = &self.0 {
            let _ = std::process::Command::new("umount")
                .arg("-l")
                .arg(p)
                .status();
        }
    }
}

/// Runs the daemon on `config` until it ends: for a start that must be refused.
fn run_until_it_ends(config: &Path) -> Run {
    run(pledgewatch()
        .arg("run")
        .arg("--config")
        .arg(config)
        .args(["--log-format", "json"]))
}

const REPORT: &str = r#"{"date": "2009-06-01", "actors": ["KGZ", "TJK"], "kind": "meeting", "title": "during the storm"}"#;

#[test]
fn disk_full_keeps_the_file_and_takes_it_when_space_returns() {
    if std::env::var_os("PLEDGEWATCH_SKIP_E2E").is_some() {
        skip(
            "faults::disk_full_keeps_the_file_and_takes_it_when_space_returns",
            "PLEDGEWATCH_SKIP_E2E is set",
        );
        return;
    }
    let (dir, config) = setup("");
    let disk = dir.path().join("disk");
    std::fs::create_dir(&disk).unwrap();
    let status = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs"])
        .arg(&disk)
        .status()
        .expect("mount (needs root)");
    assert!(
        status.success(),
        "cannot mount a tmpfs: run as root, or set PLEDGEWATCH_SKIP_E2E=1"
    );
    let _unmount = Unmount(Some(disk.clone()));
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("inbox_dir = \"inbox\"", "inbox_dir = \"disk/inbox\"")
            .replace("state_dir = \"state\"", "state_dir = \"disk/state\""),
    )
    .unwrap();
    let mut d = Daemon::new((dir, config));
    d.spawn("2009-12-31", &[]);
    std::fs::write(disk.join("report.json"), REPORT).unwrap();
    // fill the disk
    let mut filler = std::fs::File::create(disk.join("filler")).unwrap();
    let block = vec![0u8; 64 * 1024];
    while std::io::Write::write_all(&mut filler, &block).is_ok() {}
    let _ = std::io::Write::write_all(&mut filler, &[0u8; 512]);
    drop(filler);
    std::fs::rename(disk.join("report.json"), disk.join("inbox/report.json")).unwrap();
    d.wait_log("will try the file again", Duration::from_secs(10));
    assert!(
        disk.join("inbox/report.json").exists(),
        "the file stays in the inbox"
    );
    // space returns: the file is taken, once
    std::fs::remove_file(disk.join("filler")).unwrap();
    d.wait_until(
        "taken after space returned",
        Duration::from_secs(30),
        |_| disk.join("state/processed/report.json").exists(),
    );
    assert_eq!(d.status_json("2009-12-31")["reports"]["read"], 1);
    assert_eq!(d.stop(), 0);
}

#[test]
fn a_corrupted_ledger_is_an_error_never_replaced() {
    let (dir, config) = setup("");
    std::fs::create_dir_all(dir.path().join("state")).unwrap();
    let db = dir.path().join("state/pledgewatch.db");
    std::fs::write(
        &db,
        b"this is not an SQLite database, and must not be overwritten\n".repeat(100),
    )
    .unwrap();
    let r = run_until_it_ends(&config);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("pledgewatch.db") && r.stderr.contains("not a database"),
        "{}",
        r.stderr
    );
    assert!(
        std::fs::read(&db)
            .unwrap()
            .starts_with(b"this is not an SQLite database")
    );
}

#[test]
fn a_foreign_sqlite_database_is_refused() {
    let (dir, config) = setup("");
    std::fs::create_dir_all(dir.path().join("state")).unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("state/pledgewatch.db")).unwrap();
    conn.execute_batch("CREATE TABLE mine (x); PRAGMA user_version = 42;")
        .unwrap();
    drop(conn);
    let r = run_until_it_ends(&config);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("not a pledgewatch ledger"),
        "{}",
        r.stderr
    );
}

/// An external `sqlite3` (the command-line shell) holding a read transaction does not block
/// ingest (WAL); one holding the write lock makes the daemon log "database is locked", keep
/// the file in the inbox and take it, once, when the lock is released.
#[test]
fn an_external_sqlite3_reader_or_writer_blocks_nothing_for_good() {
    use std::io::Write;
    use std::process::Stdio;
    let d = Daemon::start("", "2009-12-31");
    let mut shell = std::process::Command::new("sqlite3")
        .arg(d.path("state/pledgewatch.db"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("sqlite3 (the SQLite command-line shell)");
    let mut input = shell.stdin.take().unwrap();
    // the shell runs its input in order: the marker file appears once the statements before
    // it have run
    let run = |input: &mut std::process::ChildStdin, sql: &str, marker: &str| {
        let marker = d.path(marker);
        writeln!(input, "{sql}\n.shell touch '{}'", marker.display()).unwrap();
        input.flush().unwrap();
        d.wait_until("the sqlite3 shell", Duration::from_secs(10), |_| {
            marker.exists()
        });
    };
    run(
        &mut input,
        "BEGIN; SELECT count(*) FROM reports;",
        "reading",
    );
    d.drop_file("r.json", REPORT);
    d.wait_until(
        "taken while sqlite3 holds a read transaction",
        Duration::from_secs(10),
        |d| d.path("state/processed/r.json").exists(),
    );
    run(&mut input, "COMMIT; BEGIN IMMEDIATE;", "writing");
    d.drop_file("r2.json", &REPORT.replace("storm", "lock"));
    d.wait_log("database is locked", Duration::from_secs(20));
    assert!(
        d.path("inbox/r2.json").exists(),
        "the file stays in the inbox"
    );
    run(&mut input, "COMMIT;", "released");
    d.wait_until(
        "taken once the lock is released",
        Duration::from_secs(30),
        |d| d.path("state/processed/r2.json").exists(),
    );
    drop(input);
    shell.wait().unwrap();
    assert_eq!(d.status_json("2009-12-31")["reports"]["read"], 2);
}

#[test]
fn a_read_only_state_folder_is_a_clear_error() {
    let (dir, config) = setup("");
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let mut _unmount = Unmount(None);
    if unsafe { libc::geteuid() } == 0 {
        // root writes through permissions: make it a read-only bind mount instead
        let ok = std::process::Command::new("mount")
            .arg("--bind")
            .arg(&state)
            .arg(&state)
            .status()
            .unwrap()
            .success();
        assert!(ok, "bind mount failed");
        _unmount = Unmount(Some(state.clone()));
        let ok = std::process::Command::new("mount")
            .args(["-o", "remount,ro,bind"])
            .arg(&state)
            .status()
            .unwrap()
            .success();
        assert!(ok, "read-only remount failed");
        assert!(
            std::fs::write(state.join("probe"), "x").is_err(),
            "the state folder is still writable"
        );
    } else {
        std::fs::set_permissions(&state, std::os::unix::fs::PermissionsExt::from_mode(0o500))
            .unwrap();
    }
    let r = run_until_it_ends(&config);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("state")
            && (r.stderr.contains("Read-only")
                || r.stderr.contains("readonly")
                || r.stderr.contains("Permission denied")
                || r.stderr.contains("unable to open")),
        "{}",
        r.stderr
    );
}

/// inotify's queue overflows (its limit lowered to 16 events for the daemon's instance) while
/// 3,000 files arrive: the overflow makes the daemon rescan, and every file is taken. The
/// periodic rescan is 30 s, so it cannot be what saves the day. Needs root (sysctl).
#[test]
fn inotify_overflow_loses_nothing() {
    if std::env::var_os("PLEDGEWATCH_SKIP_E2E").is_some() {
        skip(
            "faults::inotify_overflow_loses_nothing",
            "PLEDGEWATCH_SKIP_E2E is set",
        );
        return;
    }
    let _alone = MACHINE_WIDE.lock().unwrap_or_else(|e| e.into_inner());
    let knob = Path::new("/proc/sys/fs/inotify/max_queued_events");
    let before = std::fs::read_to_string(knob).unwrap();
    let (dir, config) = setup("");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("rescan_interval = \"1s\"", "rescan_interval = \"30s\""),
    )
    .unwrap();
    let mut d = Daemon::new((dir, config));
    std::fs::write(knob, "16").expect("set max_queued_events (needs root)");
    d.spawn("2009-12-31", &[]); // the limit applies to instances created now
    std::fs::write(knob, before.trim()).unwrap();
    let staging = d.path("staging");
    std::fs::create_dir(&staging).unwrap();
    for i in 0..3000 {
        std::fs::write(
            staging.join(format!("r{i}.json")),
            REPORT.replace("storm", &format!("storm {i}")),
        )
        .unwrap();
    }
    for i in 0..3000 {
        std::fs::rename(
            staging.join(format!("r{i}.json")),
            d.path(&format!("inbox/r{i}.json")),
        )
        .unwrap();
    }
    d.wait_until("all 3,000 taken", Duration::from_secs(25), |d| {
        d.count("state/processed") == 3000
    });
    d.wait_log(
        "inotify queue overflowed; rescanning the inbox",
        Duration::from_secs(1),
    );
    assert_eq!(d.status_json("2009-12-31")["reports"]["read"], 3000);
    assert_eq!(d.stop(), 0);
}

/// `kill -9` in the middle of a large file, after thousands of its reports have gone to the
/// ledger's write-ahead log: none of them is in the ledger after the crash (a file is taken
/// in one transaction), and at the next start the file is taken whole, each report once.
#[test]
fn kill_9_in_a_large_file_leaves_nothing_half_written() {
    const LINES: usize = 60_000;
    let mut d = Daemon::new(setup(""));
    std::fs::create_dir_all(d.path("inbox")).unwrap();
    let lines: String = (0..LINES)
        .map(|i| format!("{{\"date\": \"2010-01-01\", \"actors\": [\"KGZ\", \"TJK\"], \"kind\": \"meeting\", \"title\": \"report {i} {}\"}}\n", "x".repeat(150)))
        .collect();
    std::fs::write(d.path("inbox/.big.jsonl.tmp"), lines).unwrap();
    std::fs::rename(d.path("inbox/.big.jsonl.tmp"), d.path("inbox/big.jsonl")).unwrap();
    let mut child = d.spawn_to_kill("2010-12-31");
    // reports are being written: the write-ahead log has grown past 4 MB
    let wal = d.path("state/pledgewatch.db-wal");
    let start = std::time::Instant::now();
    while std::fs::metadata(&wal).map_or(0, |m| m.len()) < 4 << 20 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the ledger's log never grew"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the daemon ended early"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        d.path("inbox/big.jsonl").exists(),
        "the file stays in the inbox"
    );
    let db = d.path("state/pledgewatch.db");
    let count = || -> i64 {
        let ledger = rusqlite::Connection::open(&db).unwrap();
        ledger
            .query_row("SELECT count(*) FROM reports", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(count(), 0, "no report of a file not taken whole");
    d.spawn("2010-12-31", &[]);
    d.wait_until("the file taken", Duration::from_secs(120), |d| {
        d.count("inbox") == 0
    });
    assert_eq!(d.stop(), 0);
    assert_eq!(count(), LINES as i64);
    assert!(d.path("state/processed/big.jsonl").exists());
}
