//! The daemon through the real binary: inbox, ledger, alerts, restarts, signals, sd_notify.

use super::*;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A daemon under test, with its own folders.
pub struct Daemon {
    pub dir: tempfile::TempDir,
    pub child: Option<Child>,
    pub log: Arc<Mutex<Vec<String>>>,
    pub config: PathBuf,
}

pub fn setup(extra: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::copy(
        root().join("rules/kgz-tjk-2007.toml"),
        rules.join("kgz-tjk-2007.toml"),
    )
    .unwrap();
    let config = dir.path().join("pw.toml");
    let text = format!(
        "rules_dir = \"rules\"\ninbox_dir = \"inbox\"\nstate_dir = \"state\"\n\
         [alerts]\nfile = \"alerts.jsonl\"\n{extra}\n[inbox]\nsettle = \"200ms\"\nrescan_interval = \"1s\"\n"
    );
    std::fs::write(&config, text).unwrap();
    (dir, config)
}

impl Daemon {
    /// A daemon's folders and config (from [`setup`]), not yet running.
    pub fn new((dir, config): (tempfile::TempDir, PathBuf)) -> Daemon {
        Daemon {
            dir,
            child: None,
            log: Arc::default(),
            config,
        }
    }

    pub fn start(extra: &str, as_of: &str) -> Daemon {
        let mut d = Daemon::new(setup(extra));
        d.spawn(as_of, &[]);
        d
    }

    /// Starts a daemon that the test will kill: its log is thrown away and nobody waits for
    /// it to be ready.
    pub fn spawn_to_kill(&self, as_of: &str) -> Child {
        std::process::Command::new(assert_cmd::cargo::cargo_bin("pledgewatch"))
            .arg("run")
            .arg("--config")
            .arg(&self.config)
            .args(["--as-of", as_of, "--log-format", "json"])
            .env_remove("NOTIFY_SOCKET")
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    pub fn spawn(&mut self, as_of: &str, env: &[(&str, &str)]) {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("pledgewatch"));
        cmd.arg("run").arg("--config").arg(&self.config).args([
            "--as-of",
            as_of,
            "--log-format",
            "json",
        ]);
        cmd.env_remove("NOTIFY_SOCKET")
            .env_remove("WATCHDOG_USEC")
            .env_remove("WATCHDOG_PID");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = self.log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                log.lock().unwrap().push(line);
            }
        });
        self.child = Some(child);
        self.wait_log("ready", Duration::from_secs(20));
    }

    pub fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    /// Waits until a log line contains `needle`; panics with the log after `timeout`.
    pub fn wait_log(&self, needle: &str, timeout: Duration) {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if self.log.lock().unwrap().iter().any(|l| l.contains(needle)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "no log line with {needle:?} in:\n{}",
            self.log.lock().unwrap().join("\n")
        );
    }

    /// Alerts file records: complete lines only (a reader may catch the daemon mid-append,
    /// as `tail -f` can).
    pub fn alerts(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(self.path("alerts.jsonl")).unwrap_or_default();
        let complete = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
        complete
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    pub fn wait_until(&self, what: &str, timeout: Duration, cond: impl Fn(&Daemon) -> bool) {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if cond(self) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "timed out waiting for {what}; log:\n{}",
            self.log.lock().unwrap().join("\n")
        );
    }

    /// Drops a file into the inbox the safe way: written under a hidden name, then renamed.
    pub fn drop_file(&self, name: &str, content: &str) {
        let tmp = self.path(&format!("inbox/.{name}.tmp"));
        std::fs::write(&tmp, content).unwrap();
        std::fs::rename(&tmp, self.path(&format!("inbox/{name}"))).unwrap();
    }

    /// Drops the joint statement of 2007 (from the examples) as `statement.md`.
    pub fn drop_statement(&self) {
        self.drop_file(
            "statement.md",
            &std::fs::read_to_string(
                root().join("examples/reports/2007-09-18-bishkek-joint-statement.md"),
            )
            .unwrap(),
        );
    }

    pub fn count(&self, folder: &str) -> usize {
        std::fs::read_dir(self.path(folder))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// Adds keys to the config's `[inbox]` section (the setup's comes after the extra text)
    /// and reloads.
    pub fn set_inbox_keys(&self, keys: &str) {
        let config = std::fs::read_to_string(&self.config).unwrap();
        std::fs::write(
            &self.config,
            config.replace("[inbox]\n", &format!("[inbox]\n{keys}\n")),
        )
        .unwrap();
        self.signal(libc::SIGHUP);
        self.wait_log("configuration and rules reloaded", Duration::from_secs(10));
    }

    pub fn signal(&self, sig: i32) {
        let pid = self.child.as_ref().unwrap().id() as i32;
        unsafe { libc::kill(pid, sig) };
    }

    /// SIGTERM and the exit code.
    pub fn stop(&mut self) -> i32 {
        self.signal(libc::SIGTERM);
        let mut child = self.child.take().unwrap();
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "daemon did not stop"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The daemon's peak resident memory so far (VmHWM), in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        let pid = self.child.as_ref().unwrap().id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    pub fn status_json(&self, as_of: &str) -> serde_json::Value {
        let r = run(pledgewatch()
            .arg("status")
            .arg("--config")
            .arg(&self.config)
            .args(["--as-of", as_of, "--format", "json"]));
        assert_eq!(r.code, 0, "{}", r.stderr);
        serde_json::from_str(&r.stdout).unwrap()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn copy_examples(d: &Daemon) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(root().join("examples/reports")).unwrap() {
        let e = e.unwrap();
        d.drop_file(
            &e.file_name().to_string_lossy(),
            &std::fs::read_to_string(e.path()).unwrap(),
        );
        n += 1;
    }
    n
}

#[test]
fn takes_examples_alerts_and_does_not_repeat_after_restart() {
    let mut d = Daemon::start("", "2009-12-31");
    let n = copy_examples(&d);
    d.wait_until("all files processed", Duration::from_secs(30), |d| {
        d.count("inbox") == 0
    });
    // one .error file for the GDELT file with a skipped row
    assert_eq!(d.count("state/processed"), n + 1);
    d.wait_until("alerts", Duration::from_secs(10), |d| {
        d.alerts()
            .iter()
            .any(|a| a["commitment"] == "presidential-meetings")
    });
    let alerts = d.alerts();
    let mil: Vec<_> = alerts
        .iter()
        .filter(|a| a["commitment"] == "military-cooperation")
        .collect();
    assert_eq!(mil.len(), 1, "{mil:?}");
    let a = mil[0].as_object().unwrap();
    let mut keys: Vec<_> = a.keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "agreement",
            "alert",
            "as_of",
            "commitment",
            "due",
            "last_evidence",
            "party",
            "previous",
            "reason",
            "status",
            "ts"
        ]
    );
    assert_eq!(a["alert"], "paper_tiger");
    assert_eq!(a["agreement"], "kgz-tjk-2007");
    assert_eq!(a["party"], serde_json::Value::Null);
    assert_eq!(a["previous"], serde_json::Value::Null);
    assert_eq!(a["due"], "2008-09-18");
    assert_eq!(a["as_of"], "2009-12-31");
    // the same alert is in the JSON log, with target alert
    assert!(
        d.log
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("\"target\":\"alert\"")
                && l.contains("\"commitment\":\"military-cooperation\""))
    );
    // status from the ledger tells the same story as replay
    let s = d.status_json("2009-12-31");
    assert_eq!(
        s["reports"],
        serde_json::json!({"read": 49, "rejected": 0, "skipped": 1})
    );
    assert_eq!(
        commitment(&s, "military-cooperation")["status"],
        "paper_tiger"
    );
    let before = d.alerts().len();
    assert_eq!(d.stop(), 0, "SIGTERM exits 0");
    d.spawn("2009-12-31", &[]);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(d.alerts().len(), before, "a restart repeats no alert");
    assert_eq!(d.stop(), 0);
}

#[test]
fn repeats_resolves_and_ignores_redrops() {
    let d = Daemon::start(
        "repeat_interval = \"1s\"\n[schedule]\nevaluate = \"* * * * * *\"\ndigest = \"* * * * * *\"\n",
        "2009-12-31",
    );
    d.drop_statement();
    d.wait_until("paper tiger alert", Duration::from_secs(10), |d| {
        d.alerts()
            .iter()
            .any(|a| a["commitment"] == "military-cooperation" && a["alert"] == "paper_tiger")
    });
    // repeated every second while it lasts, with previous = the same status
    d.wait_until("a repeat", Duration::from_secs(10), |d| {
        d.alerts()
            .iter()
            .any(|a| a["commitment"] == "military-cooperation" && a["previous"] == "paper_tiger")
    });
    // late evidence resolves it
    d.drop_file(
        "exercise.json",
        r#"{"date": "2009-06-01", "actors": ["KGZ", "TJK"], "kind": "action", "cameo": "062", "title": "Joint exercise"}"#,
    );
    d.wait_until("resolved", Duration::from_secs(10), |d| {
        d.alerts()
            .iter()
            .any(|a| a["commitment"] == "military-cooperation" && a["alert"] == "resolved")
    });
    let resolved = d
        .alerts()
        .into_iter()
        .find(|a| a["alert"] == "resolved" && a["commitment"] == "military-cooperation")
        .unwrap();
    assert_eq!(resolved["status"], "on_track");
    assert_eq!(resolved["previous"], "paper_tiger");
    assert_eq!(resolved["last_evidence"], "2009-06-01");
    // dropping the same content again changes nothing and is logged
    d.drop_file("exercise-again.json", r#"{"date": "2009-06-01", "actors": ["KGZ", "TJK"], "kind": "action", "cameo": "062", "title": "Joint exercise"}"#);
    d.wait_log("already taken", Duration::from_secs(10));
    assert_eq!(d.status_json("2009-12-31")["reports"]["read"], 2);
    assert!(d.path("state/processed/exercise-again.json").exists());
    // the digest schedule logs one line per agreement
    d.wait_log("digest kgz-tjk-2007: score", Duration::from_secs(5));
    // explain shows the timeline behind the status, with the matching alternative
    let r = run(pledgewatch()
        .args([
            "explain",
            "kgz-tjk-2007/military-cooperation",
            "--as-of",
            "2009-12-31",
            "--config",
        ])
        .arg(&d.config));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .starts_with("kgz-tjk-2007/military-cooperation: Strengthen military co-operation\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("status as of 2009-12-31: on_track"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(
            "2009-06-01  evidence  action     KGZ,TJK      Joint exercise  [evidence alternative 1;"
        ),
        "{}",
        r.stdout
    );
    let r = run(pledgewatch()
        .args(["explain", "kgz-tjk-2007/no-such"])
        .arg("--config")
        .arg(&d.config));
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no such commitment"), "{}", r.stderr);
}

#[test]
fn rejects_what_it_cannot_read_and_never_follows_links() {
    let d = Daemon::start("", "2009-12-31");
    std::fs::create_dir(d.path("inbox/a-folder")).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", d.path("inbox/link.json")).unwrap();
    let fifo = std::ffi::CString::new(d.path("inbox/pipe.json").to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    d.drop_file("notes.pdf", "%PDF-1.4");
    d.drop_file(
        "mixed.jsonl",
        "{\"date\": \"2010-01-01\", \"actors\": [\"KGZ\"], \"kind\": \"action\"}\nnot json\n",
    );
    d.wait_until("inbox empty", Duration::from_secs(10), |d| {
        d.count("inbox") == 0
    });
    for (name, why) in [
        ("a-folder", "a directory"),
        ("link.json", "a symbolic link"),
        ("pipe.json", "a FIFO"),
        ("notes.pdf", "unsupported file type"),
    ] {
        let error =
            std::fs::read_to_string(d.path(&format!("state/rejected/{name}.error"))).unwrap();
        assert!(error.contains(why), "{name}: {error}");
    }
    assert!(
        std::fs::symlink_metadata(d.path("state/rejected/link.json"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    // a multi-record file with one bad record is processed, with the refusal beside it
    let error = std::fs::read_to_string(d.path("state/processed/mixed.jsonl.error")).unwrap();
    assert!(error.contains("mixed.jsonl:2: JSON error"), "{error}");
    assert_eq!(
        d.status_json("2009-12-31")["reports"],
        serde_json::json!({"read": 1, "rejected": 2, "skipped": 0})
    );
}

#[test]
fn a_file_written_in_place_is_taken_whole() {
    let d = Daemon::start("", "2009-12-31");
    use std::io::Write;
    let mut f = std::fs::File::create(d.path("inbox/slow.jsonl")).unwrap();
    f.write_all(b"{\"date\": \"2010-01-01\", \"actors\": [\"KGZ\"], \"kind\": \"action\"}\n")
        .unwrap();
    f.flush().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    f.write_all(b"{\"date\": \"2010-01-02\", \"actors\": [\"KGZ\"], \"kind\": \"action\"}\n")
        .unwrap();
    drop(f);
    d.wait_until("taken", Duration::from_secs(10), |d| d.count("inbox") == 0);
    assert_eq!(d.status_json("2010-12-31")["reports"]["read"], 2);
}

#[test]
fn a_burst_of_1000_files() {
    let d = Daemon::start("", "2009-12-31");
    for i in 0..1000 {
        d.drop_file(&format!("r{i:04}.json"), &format!("{{\"date\": \"2010-01-01\", \"actors\": [\"KGZ\", \"TJK\"], \"kind\": \"meeting\", \"title\": \"report {i}\"}}"));
    }
    d.wait_until("all taken", Duration::from_secs(60), |d| {
        d.count("inbox") == 0
    });
    assert_eq!(d.count("state/processed"), 1000);
    assert_eq!(d.status_json("2010-12-31")["reports"]["read"], 1000);
}

#[test]
fn sighup_with_broken_rules_keeps_the_old_ones() {
    let d = Daemon::start("", "2009-12-31");
    std::fs::write(
        d.path("rules/broken.toml"),
        "[agreement]\nid = \"x\"\ncolour = 1\n",
    )
    .unwrap();
    d.signal(libc::SIGHUP);
    d.wait_log("reload refused", Duration::from_secs(10));
    assert!(
        d.log
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("broken.toml:3:1: unknown key `colour`"))
    );
    // still working with the old rules
    d.drop_statement();
    d.wait_until("alerts", Duration::from_secs(10), |d| {
        d.alerts()
            .iter()
            .any(|a| a["commitment"] == "security-services")
    });
    std::fs::remove_file(d.path("rules/broken.toml")).unwrap();
    d.signal(libc::SIGHUP);
    d.wait_log("configuration and rules reloaded", Duration::from_secs(10));
    // a broken config is refused the same way, with its place
    let good = std::fs::read_to_string(&d.config).unwrap();
    std::fs::write(
        &d.config,
        good.replace("[inbox]", "[inbox]\nmax_file_size = \"lots\""),
    )
    .unwrap();
    d.signal(libc::SIGHUP);
    d.wait_log("problem(s) in the config", Duration::from_secs(10));
    assert!(
        d.log
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("pw.toml:") && l.contains("inbox.max_file_size"))
    );
    // a valid change takes effect: alerts now go to another file
    std::fs::write(&d.config, good.replace("alerts.jsonl", "alerts2.jsonl")).unwrap();
    d.signal(libc::SIGHUP);
    d.wait_until("second reload", Duration::from_secs(10), |d| {
        d.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains("configuration and rules reloaded"))
            .count()
            == 2
    });
    d.drop_file(
        "clash.json",
        r#"{"date": "2009-06-01", "actors": ["KGZ", "TJK"], "cameo": "190", "title": "Clash"}"#,
    );
    d.wait_until("alert in the new file", Duration::from_secs(10), |d| {
        d.path("alerts2.jsonl").exists()
    });
}

#[test]
fn notify_socket_hears_ready_watchdog_reloading_stopping() {
    let (dir, config) = setup("");
    let socket_path = dir.path().join("notify.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut d = Daemon::new((dir, config));
    d.spawn(
        "2009-12-31",
        &[
            ("NOTIFY_SOCKET", socket_path.to_str().unwrap()),
            ("WATCHDOG_USEC", "200000"),
        ],
    );
    let mut seen = String::new();
    let recv_until = |needle: &str, seen: &mut String| {
        let mut buf = [0u8; 4096];
        while !seen.contains(needle) {
            let n = socket
                .recv(&mut buf)
                .unwrap_or_else(|e| panic!("waiting for {needle}: {e}; got {seen}"));
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
            seen.push('\n');
        }
    };
    recv_until("READY=1", &mut seen);
    recv_until("WATCHDOG=1", &mut seen);
    d.signal(libc::SIGHUP);
    recv_until("RELOADING=1", &mut seen);
    assert!(seen.contains("MONOTONIC_USEC="), "{seen}");
    seen.clear();
    recv_until("READY=1", &mut seen);
    assert_eq!(d.stop(), 0);
    recv_until("STOPPING=1", &mut seen);
}

#[test]
fn bad_config_exits_78_with_place() {
    let (dir, config) = setup("");
    std::fs::write(
        &config,
        "rules_dir = \"rules\"\n[inbox]\nsettle = \"soon\"\n",
    )
    .unwrap();
    let r = run(pledgewatch().arg("run").arg("--config").arg(&config));
    assert_eq!(r.code, 78);
    assert!(
        r.stderr.contains("pw.toml:3:10: inbox.settle"),
        "{}",
        r.stderr
    );
    drop(dir);
}

/// `kill -9` at pseudo-random moments (during the initial scan, and in every other round
/// during a reload) while 5,000 files are taken, 20 rounds, restarting each time: at the end every file is in processed/ (none
/// lost) and every report is counted exactly once.
#[test]
fn survives_kill_9_while_ingesting() {
    let mut d = Daemon::new(setup(""));
    std::fs::create_dir_all(d.path("inbox")).unwrap();
    const FILES: usize = 5000;
    for i in 0..FILES {
        let name = format!("r{i:05}.json");
        let tmp = d.path(&format!("inbox/.{name}.tmp"));
        std::fs::write(&tmp, format!("{{\"date\": \"2010-01-01\", \"actors\": [\"KGZ\", \"TJK\"], \"kind\": \"meeting\", \"title\": \"report {i}\"}}")).unwrap();
        std::fs::rename(&tmp, d.path(&format!("inbox/{name}"))).unwrap();
    }
    let mut state = 0x9e3779b97f4a7c15u64;
    for round in 0..20 {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let wait = Duration::from_millis(20 + (state >> 33) % 300);
        let mut child = d.spawn_to_kill("2010-12-31");
        if round % 2 == 1 {
            // every other round dies in the middle of a reload
            std::thread::sleep(wait / 2);
            unsafe { libc::kill(child.id() as i32, libc::SIGHUP) };
            std::thread::sleep(wait / 2);
        } else {
            std::thread::sleep(wait);
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    }
    d.spawn("2010-12-31", &[]);
    d.wait_until("inbox empty", Duration::from_secs(120), |d| {
        d.count("inbox") == 0
    });
    let mut names: Vec<String> = std::fs::read_dir(d.path("state/processed"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let expected: Vec<String> = (0..FILES).map(|i| format!("r{i:05}.json")).collect();
    assert_eq!(
        names, expected,
        "every file once in processed/, nothing rejected, nothing renamed"
    );
    assert_eq!(d.count("state/rejected"), 0);
    assert_eq!(d.status_json("2010-12-31")["reports"]["read"], FILES);
    assert_eq!(d.stop(), 0);
}

/// Idle means idle: no busy polling (the daemon's own reads of the inbox must not wake it).
#[test]
fn idle_daemon_uses_no_cpu() {
    let d = Daemon::start("", "2009-12-31");
    d.drop_statement();
    d.wait_until("taken", Duration::from_secs(10), |d| d.count("inbox") == 0);
    std::thread::sleep(Duration::from_millis(500));
    let ticks = || {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", d.child.as_ref().unwrap().id()))
                .unwrap();
        let f: Vec<u64> = stat
            .rsplit(')')
            .next()
            .unwrap()
            .split_whitespace()
            .skip(11)
            .take(2)
            .map(|x| x.parse().unwrap())
            .collect();
        f[0] + f[1]
    };
    let before = ticks();
    std::thread::sleep(Duration::from_secs(3));
    let used = ticks() - before;
    // a rescan every second (the test config) costs far less than 1 tick (10 ms) each
    assert!(used <= 5, "{used} clock ticks of CPU in 3 s of idleness");
}

/// The inbox folder deleted and recreated while the daemon runs: watching resumes (the
/// periodic rescan is 30 s here, so only inotify can take the file this fast).
#[test]
fn inbox_deleted_and_recreated() {
    let d = Daemon::start("", "2009-12-31");
    let config = std::fs::read_to_string(&d.config).unwrap();
    std::fs::write(
        &d.config,
        config.replace("rescan_interval = \"1s\"", "rescan_interval = \"30s\""),
    )
    .unwrap();
    let mut d = d;
    assert_eq!(d.stop(), 0);
    d.log.lock().unwrap().clear();
    d.spawn("2009-12-31", &[]);
    std::fs::remove_dir_all(d.path("inbox")).unwrap();
    d.wait_log("the inbox folder is gone", Duration::from_secs(5));
    std::fs::create_dir(d.path("inbox")).unwrap();
    d.wait_log("watching the new one", Duration::from_secs(5));
    d.drop_file(
        "after.json",
        r#"{"date": "2009-06-01", "actors": ["KGZ", "TJK"], "kind": "meeting", "title": "after"}"#,
    );
    d.wait_until("taken from the new inbox", Duration::from_secs(5), |d| {
        d.path("state/processed/after.json").exists()
    });
}

/// Records per file, at and past the configured limit.
#[test]
fn records_per_file_limit() {
    let d = Daemon::start("", "2010-12-31");
    d.set_inbox_keys("max_records_per_file = 3");
    let lines = |n: usize, tag: &str| -> String {
        (0..n).map(|i| format!("{{\"date\": \"2010-01-01\", \"actors\": [\"KGZ\"], \"kind\": \"meeting\", \"title\": \"{tag} {i}\"}}\n")).collect()
    };
    d.drop_file("at.jsonl", &lines(3, "at"));
    d.drop_file("past.jsonl", &lines(4, "past"));
    d.wait_until("both taken", Duration::from_secs(10), |d| {
        d.count("inbox") == 0
    });
    assert!(!d.path("state/processed/at.jsonl.error").exists());
    let error = std::fs::read_to_string(d.path("state/processed/past.jsonl.error")).unwrap();
    assert!(
        error.contains("1 record(s) past the limit of 3 per file"),
        "{error}"
    );
    assert_eq!(d.status_json("2010-12-31")["reports"]["read"], 6);
}

/// JSON nesting, at and past the configured depth limit, in a document and in JSON lines.
#[test]
fn json_depth_limit() {
    let d = Daemon::start("", "2010-12-31");
    d.set_inbox_keys("max_json_depth = 3");
    let record = |title: &str, extra: &str| {
        format!(
            r#"{{"date": "2010-01-01", "actors": ["KGZ"], "kind": "meeting", "title": "{title}"{extra}}}"#
        )
    };
    // an array of objects holding a list: 3 levels
    d.drop_file("at.json", &format!("[{}]", record("at", "")));
    d.drop_file(
        "past.json",
        &format!(
            "[{}, {}]",
            record("before the deep one", ""),
            record("deep", r#", "topics": [["x"]]"#)
        ),
    );
    d.drop_file(
        "past.jsonl",
        &[
            record("line", ""),
            record("three levels", r#", "body": {"a": {"b": 1}}"#),
            record("four levels", r#", "body": {"a": {"b": [1]}}"#),
        ]
        .join("\n"),
    );
    d.wait_until("all taken", Duration::from_secs(10), |d| {
        d.count("inbox") == 0
    });
    assert!(!d.path("state/processed/at.json.error").exists());
    let error = std::fs::read_to_string(d.path("state/processed/past.json.error")).unwrap();
    assert!(
        error.contains("JSON nested deeper than 3 levels (the limit inbox.max_json_depth)"),
        "{error}"
    );
    let error = std::fs::read_to_string(d.path("state/processed/past.jsonl.error")).unwrap();
    let lines: Vec<&str> = error.lines().collect();
    assert_eq!(lines.len(), 2, "{error}");
    assert!(
        lines[0].contains(":2:") && lines[0].contains("body") && !lines[0].contains("deeper"),
        "{error}"
    );
    assert!(
        lines[1].contains(":3:") && lines[1].contains("deeper than 3 levels"),
        "{error}"
    );
    // at.json, the first record of past.json and the first line of past.jsonl
    assert_eq!(d.status_json("2010-12-31")["reports"]["read"], 3);
}

/// One 300 MB line (NUL bytes: a sparse file, nothing written to disk) between two good
/// lines, with the file-size limit raised above it: the line is refused as over the line
/// limit and never held in memory; the lines around it are taken.
#[test]
fn a_300_mb_line_is_skipped_in_bounded_memory() {
    const LONG: u64 = 300_000_000;
    let d = Daemon::start("", "2010-12-31");
    d.set_inbox_keys("max_file_size = \"512MiB\"");
    let good = |title: &str| {
        format!(
            "{{\"date\": \"2010-01-01\", \"actors\": [\"KGZ\"], \"kind\": \"meeting\", \"title\": \"{title}\"}}\n"
        )
    };
    let staging = d.path("long-line.jsonl");
    std::fs::write(&staging, good("before")).unwrap();
    let f = std::fs::File::options()
        .append(true)
        .open(&staging)
        .unwrap();
    let start = f.metadata().unwrap().len();
    f.set_len(start + LONG).unwrap();
    (&f).write_all(format!("\n{}", good("after")).as_bytes())
        .unwrap();
    drop(f);
    std::fs::rename(&staging, d.path("inbox/long-line.jsonl")).unwrap();
    d.wait_until("taken", Duration::from_secs(300), |d| d.count("inbox") == 0);
    let error = std::fs::read_to_string(d.path("state/processed/long-line.jsonl.error")).unwrap();
    assert!(
        error.contains(&format!(
            ":2: line of {} bytes is longer than the limit of 16777216 bytes; skipped",
            LONG + 1
        )),
        "{error}"
    );
    assert_eq!(d.status_json("2010-12-31")["reports"]["read"], 2);
    // peak memory of the daemon: far below the line's size
    let peak_kib = d.peak_rss_kib();
    eprintln!("peak RSS of the daemon: {peak_kib} KiB");
    assert!(peak_kib < 100 * 1024, "peak RSS {peak_kib} KiB");
}

/// A file of more bad lines than an `.error` lists (10,000): the rest are counted in one line,
/// and nothing is lost from the counts.
#[test]
fn refusals_past_the_listing_limit_are_counted() {
    let d = Daemon::start("", "2010-12-31");
    let mut text = String::from(
        "{\"date\": \"2010-01-01\", \"actors\": [\"KGZ\"], \"kind\": \"meeting\", \"title\": \"the good one\"}\n",
    );
    for i in 0..10_005 {
        text.push_str(&format!("not json {i}\n"));
    }
    d.drop_file("many-bad.jsonl", &text);
    d.wait_until("taken", Duration::from_secs(30), |d| d.count("inbox") == 0);
    let error = std::fs::read_to_string(d.path("state/processed/many-bad.jsonl.error")).unwrap();
    let lines: Vec<&str> = error.lines().collect();
    assert_eq!(lines.len(), 10_001, "10,000 listed and one summary line");
    assert!(lines[9_999].contains(":10001: "), "{}", lines[9_999]);
    assert_eq!(
        lines[10_000],
        "... and 5 more refused record(s), not listed (10005 in all)"
    );
    let status = d.status_json("2010-12-31");
    assert_eq!(status["reports"]["read"], 1);
    assert_eq!(status["reports"]["rejected"], 10_005);
}

#[test]
fn the_ledger_keeps_its_tally_and_counts_it_again_for_other_rules() {
    let mut d = Daemon::start("", "2009-12-31");
    let n = copy_examples(&d);
    d.wait_until("examples taken", Duration::from_secs(30), |d| {
        d.count("inbox") == 0
    });
    // the same id twice, in two files: evidence, then (later wins) a breach
    let extra = d.path("extra");
    std::fs::create_dir(&extra).unwrap();
    let first = r#"{"id": "x1", "date": "2008-05-01", "actors": ["KGZ", "TJK"], "kind": "action", "cameo": "062", "title": "Joint exercise"}"#;
    let second = r#"{"id": "x1", "date": "2008-06-01", "actors": ["KGZ", "TJK"], "kind": "action", "cameo": "190", "title": "Clash"}"#;
    std::fs::write(extra.join("1.json"), first).unwrap();
    std::fs::write(extra.join("2.json"), second).unwrap();
    d.drop_file("x1-first.json", first);
    d.wait_until("first taken", Duration::from_secs(10), |d| {
        d.count("inbox") == 0 && d.count("state/processed") >= n + 2
    });
    d.drop_file("x1-second.json", second);
    d.wait_until("second taken", Duration::from_secs(10), |d| {
        d.count("inbox") == 0 && d.count("state/processed") >= n + 3
    });
    let (examples, first, second) = (
        root().join("examples/reports"),
        extra.join("1.json"),
        extra.join("2.json"),
    );
    let files = [examples.as_path(), first.as_path(), second.as_path()];
    for as_of in ["2008-05-20", "2009-12-31", "2026-11-27"] {
        let (want, _) = replay_json(&d.path("rules"), &files, as_of);
        assert_eq!(d.status_json(as_of), want, "at {as_of}");
    }
    assert_eq!(d.stop(), 0);

    // other rules on disk: `status` counts again from the stored reports, and says so
    std::fs::copy(
        root().join("examples/arm-aze-2020/rules/arm-aze-rus-2020.toml"),
        d.path("rules/arm-aze-rus-2020.toml"),
    )
    .unwrap();
    let (want, _) = replay_json(&d.path("rules"), &files, "2026-11-27");
    let config = d.config.clone();
    let status = |note: bool| {
        let r = run(pledgewatch()
            .args([
                "status",
                "--as-of",
                "2026-11-27",
                "--format",
                "json",
                "--config",
            ])
            .arg(&config));
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(
            r.stderr.contains("counted with other rules"),
            note,
            "{}",
            r.stderr
        );
        serde_json::from_str::<serde_json::Value>(&r.stdout).unwrap()
    };
    assert_eq!(status(true), want);
    // the daemon counts it again at start and stores it
    d.log.lock().unwrap().clear();
    d.spawn("2026-11-27", &[]);
    d.wait_log(
        "matching every stored report again",
        Duration::from_secs(10),
    );
    assert_eq!(d.stop(), 0);
    assert_eq!(status(false), want);
}

#[test]
fn a_second_daemon_on_the_same_state_folder_is_refused() {
    let mut d = Daemon::start("", "2009-12-31");
    let r = run(pledgewatch()
        .args(["run", "--as-of", "2009-12-31", "--config"])
        .arg(&d.config));
    assert_eq!(r.code, 75, "{}", r.stderr);
    assert!(
        r.stderr.contains("another pledgewatch daemon is running"),
        "{}",
        r.stderr
    );
    // the first one goes on
    d.drop_statement();
    d.wait_until("taken", Duration::from_secs(10), |d| d.count("inbox") == 0);
    assert_eq!(d.stop(), 0);
}
