//! Daemon benchmark: ingest through the inbox (10,000 single-report files dropped at once; a
//! GDELT day of 200,000 rows), drop-to-alert latency, idle CPU and memory, and the files'
//! ingest with Alertmanager configured but unreachable (refusing, or accepting and never
//! answering) beside the same without it. Runs the real release binary
//! (`pledgewatch run`) with durable commits (WAL, synchronous=FULL).
//!
//! `cargo bench --bench ingest` (or `-- files`, `-- gdelt`, `-- latency`, `-- idle`,
//! `-- delivery`)

// A benchmark or test stops at the first surprise: unwrap and expect are its asserts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Daemon {
    dir: tempfile::TempDir,
    child: Child,
}

impl Daemon {
    fn start(as_of: &str) -> Daemon {
        Daemon::start_with(as_of, "")
    }

    /// A daemon with `extra` config text after its `[alerts]` keys.
    fn start_with(as_of: &str, extra: &str) -> Daemon {
        let dir = tempfile::tempdir().expect("temp dir");
        let rules = dir.path().join("rules");
        std::fs::create_dir(&rules).expect("rules dir");
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        std::fs::copy(
            root.join("rules/kgz-tjk-2007.toml"),
            rules.join("kgz-tjk-2007.toml"),
        )
        .expect("copy rules");
        let config = dir.path().join("pw.toml");
        std::fs::write(
            &config,
            format!("rules_dir = \"rules\"\ninbox_dir = \"inbox\"\nstate_dir = \"state\"\n[alerts]\nfile = \"alerts.jsonl\"\n\
             {extra}\n[log]\nlevel = \"warn\"\n[inbox]\nsettle = \"500ms\"\n"),
        )
        .expect("config");
        let child = Command::new(env!("CARGO_BIN_EXE_pledgewatch"))
            .arg("run")
            .arg("--config")
            .arg(&config)
            .args(["--as-of", as_of, "--log-format", "json"])
            .stderr(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("start daemon");
        let d = Daemon { dir, child };
        d.wait("inbox folder", Duration::from_secs(30), |d| {
            d.path("state/pledgewatch.db").exists()
        });
        std::thread::sleep(Duration::from_millis(300));
        d
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn wait(&self, what: &str, timeout: Duration, cond: impl Fn(&Daemon) -> bool) {
        let start = Instant::now();
        while !cond(self) {
            assert!(start.elapsed() < timeout, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn inbox_empty(&self) -> bool {
        std::fs::read_dir(self.path("inbox"))
            .map(|d| d.count() == 0)
            .unwrap_or(false)
    }

    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }

    fn cpu_ticks(&self) -> u64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        // utime and stime are fields 14 and 15 (1-based) of the whole line: 12 and 13 after ')'.
        fields
            .get(11)
            .and_then(|u| u.parse::<u64>().ok())
            .unwrap_or(0)
            + fields
                .get(12)
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or(0)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

fn drop_file(inbox: &Path, name: &str, content: &[u8]) {
    let tmp = inbox.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, content).expect("write");
    std::fs::rename(&tmp, inbox.join(name)).expect("rename");
}

fn files(n: usize) {
    files_with(n, "", "");
}

/// Drops `n` single-report files at once into a daemon with `extra` config; files/s.
fn files_with(n: usize, extra: &str, label: &str) -> f64 {
    let d = Daemon::start_with("2009-12-31", extra);
    let staging = d.path("staging");
    std::fs::create_dir(&staging).expect("staging");
    for i in 0..n {
        std::fs::write(
            staging.join(format!("r{i:05}.json")),
            format!("{{\"date\": \"2009-01-01\", \"actors\": [\"KGZ\", \"TJK\"], \"kind\": \"meeting\", \"title\": \"Talks on water, round {i}\"}}"),
        )
        .expect("write");
    }
    let start = Instant::now();
    for i in 0..n {
        let name = format!("r{i:05}.json");
        std::fs::rename(staging.join(&name), d.path("inbox").join(&name)).expect("rename");
    }
    d.wait("inbox empty", Duration::from_secs(600), Daemon::inbox_empty);
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{n} single-report files dropped at once{label}: {secs:.2} s, {:.0} files/s (peak RSS {} MiB)",
        n as f64 / secs,
        d.rss_kib() / 1024
    );
    n as f64 / secs
}

/// The files' ingest with Alertmanager configured but unreachable — refusing connections,
/// or accepting them and never answering — against the same without it, best of three runs
/// each.
fn delivery(n: usize) {
    let hanging = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
    let hanging_port = hanging.local_addr().expect("port").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in hanging.incoming().flatten() {
            held.push(conn); // accepted, never answered
        }
    });
    let refusing_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
        l.local_addr().expect("port").port()
    }; // closed again: connections are refused
    let am = |port: u16| {
        format!(
            "[alerts.alertmanager]\nurl = \"http://127.0.0.1:{port}\"\nresend = \"1s\"\ntimeout = \"10s\"\n"
        )
    };
    let best = |extra: &str, label: &str| {
        (0..3)
            .map(|_| files_with(n, extra, label))
            .fold(0.0f64, f64::max)
    };
    let plain = best("", " (no Alertmanager)");
    let refused = best(&am(refusing_port), " (Alertmanager refusing)");
    let hung = best(&am(hanging_port), " (Alertmanager never answering)");
    println!(
        "best of 3: {plain:.0} files/s without Alertmanager; refusing {refused:.0} ({:+.1} %), never answering {hung:.0} ({:+.1} %)",
        (refused / plain - 1.0) * 100.0,
        (hung / plain - 1.0) * 100.0
    );
}

fn gdelt(rows: usize) {
    let d = Daemon::start("2020-01-01");
    let sample = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/gdelt/20191024143000.export.CSV");
    let text = std::fs::read_to_string(sample).expect("GDELT sample");
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::with_capacity(rows * 420);
    for i in 0..rows {
        let line = lines[i % lines.len()];
        let rest = line.split_once('\t').map_or("", |(_, r)| r);
        out.push_str(&format!("{}\t{rest}\n", 900_000_000 + i));
    }
    let start = Instant::now();
    drop_file(&d.path("inbox"), "20191024.export.CSV", out.as_bytes());
    d.wait("inbox empty", Duration::from_secs(600), Daemon::inbox_empty);
    let secs = start.elapsed().as_secs_f64();
    println!(
        "GDELT file of {rows} rows ({} MiB): {secs:.2} s, {:.0} rows/s (RSS after {} MiB)",
        out.len() >> 20,
        rows as f64 / secs,
        d.rss_kib() / 1024
    );
}

fn latency(drops: usize) {
    let d = Daemon::start("2009-12-31");
    let alerts = d.path("alerts.jsonl");
    let count = || {
        std::fs::read_to_string(&alerts)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    };
    d.wait("initial alerts", Duration::from_secs(10), |_| count() > 0);
    std::thread::sleep(Duration::from_millis(500));
    let mut samples = Vec::with_capacity(drops);
    for k in 0..drops {
        let date = chrono::NaiveDate::from_ymd_opt(2008, 1, 1).expect("date")
            + chrono::Days::new(k as u64 + 1);
        // Alternately a breach (clash) and evidence (joint exercise), each later than the
        // last: every drop flips military-cooperation and raises one alert.
        let report = if k % 2 == 0 {
            format!(
                "{{\"date\": \"{date}\", \"actors\": [\"KGZ\", \"TJK\"], \"cameo\": \"190\", \"title\": \"Clash {k}\"}}"
            )
        } else {
            format!(
                "{{\"date\": \"{date}\", \"actors\": [\"KGZ\", \"TJK\"], \"cameo\": \"062\", \"title\": \"Joint exercise {k}\"}}"
            )
        };
        let before = count();
        let start = Instant::now();
        drop_file(
            &d.path("inbox"),
            &format!("drop{k:04}.json"),
            report.as_bytes(),
        );
        d.wait("alert", Duration::from_secs(10), |_| count() > before);
        samples.push(start.elapsed());
        std::thread::sleep(Duration::from_millis(20));
    }
    samples.sort();
    let pct = |p: f64| {
        samples[((samples.len() as f64 * p).ceil() as usize).clamp(1, samples.len()) - 1]
            .as_secs_f64()
            * 1000.0
    };
    println!(
        "drop-to-alert latency over {drops} drops: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
}

fn idle() {
    let d = Daemon::start("2026-11-27");
    for e in std::fs::read_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/reports"))
        .expect("examples")
    {
        let e = e.expect("entry");
        drop_file(
            &d.path("inbox"),
            &e.file_name().to_string_lossy(),
            &std::fs::read(e.path()).expect("read"),
        );
    }
    d.wait("inbox empty", Duration::from_secs(30), Daemon::inbox_empty);
    std::thread::sleep(Duration::from_secs(2));
    let ticks = d.cpu_ticks();
    std::thread::sleep(Duration::from_secs(10));
    let used = d.cpu_ticks() - ticks;
    println!(
        "idle with the seed rules and 49 reports: RSS {} KiB, CPU over 10 s idle: {} ticks ({} ms)",
        d.rss_kib(),
        used,
        used * 10
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let only = |name: &str| {
        !args
            .iter()
            .any(|a| ["files", "gdelt", "latency", "idle", "delivery"].contains(&a.as_str()))
            || args.iter().any(|a| a == name)
    };
    if only("files") {
        files(10_000);
    }
    if only("gdelt") {
        gdelt(200_000);
    }
    if only("latency") {
        latency(200);
    }
    if only("idle") {
        idle();
    }
    if only("delivery") {
        delivery(10_000);
    }
}
