//! The daemon at scale (issue 12, part 4): a ledger of N million reports (default 10) from
//! the GDELT-scale corpus (benches/common/gdelt_data.rs), with its 1,000 commitments and the
//! seed rules. Measures, on the real release binary (`pledgewatch run`, durable commits):
//!
//! - filling the ledger through the inbox (one file of a million rows at a time);
//! - start to READY with that ledger, and the daemon's RSS at READY and after its first
//!   evaluation and scorecard;
//! - `status` (JSON, HTML) and `explain` wall time and peak RSS while the daemon runs;
//! - drop-to-alert: single-report files that each flip the seed's military-cooperation,
//!   from the rename into the inbox to the alert line in the alerts file (p50, p99, max).
//!
//! The filled ledger is kept in `target/bench-data/ledger-NM/` and reused by the next run
//! (`--refill` fills it again). `cargo bench --bench ledger [-- --reports N] [--refill]`

// A benchmark or test stops at the first surprise: unwrap and expect are its asserts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[path = "common/gdelt_data.rs"]
mod gdelt_data;
#[path = "common/measure.rs"]
mod measure;
#[path = "common/rng.rs"]
mod rng;

/// The as-of date of run `n` over the same ledger: after the corpus's last day
/// (2026-12-31), and over a year after the previous run's, so that each run's latency
/// probes are the latest reports and flip the status again.
fn as_of(run: u64) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2030, 1, 1).expect("date") + chrono::Days::new(400 * run)
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_pledgewatch")
}

/// The bench folder: rules (the corpus's and the seed's), config, inbox and state.
fn prepare(base: &Path, corpus_rules: &Path) -> PathBuf {
    let rules = base.join("rules");
    std::fs::create_dir_all(&rules).expect("rules folder");
    for e in std::fs::read_dir(corpus_rules).expect("corpus rules") {
        let e = e.expect("entry");
        std::fs::copy(e.path(), rules.join(e.file_name())).expect("copy rules");
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(
        root.join("rules/kgz-tjk-2007.toml"),
        rules.join("kgz-tjk-2007.toml"),
    )
    .expect("copy the seed rules");
    let config = base.join("pw.toml");
    std::fs::write(
        &config,
        "rules_dir = \"rules\"\ninbox_dir = \"inbox\"\nstate_dir = \"state\"\n\
         [alerts]\nfile = \"alerts.jsonl\"\n[log]\nlevel = \"debug\"\n\
         [inbox]\nsettle = \"100ms\"\nmax_file_size = \"1GiB\"\n",
    )
    .expect("config");
    config
}

/// A running daemon whose log lines are collected.
struct Daemon {
    child: Child,
    lines: std::sync::mpsc::Receiver<(Instant, String)>,
}

impl Daemon {
    fn start(config: &Path, as_of: &str) -> (Daemon, Instant) {
        let started = Instant::now();
        let mut child = Command::new(bin())
            .args(["run", "--as-of", as_of, "--log-format", "json", "--config"])
            .arg(config)
            .env_remove("NOTIFY_SOCKET")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the daemon");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send((Instant::now(), line)).is_err() {
                    break;
                }
            }
        });
        (Daemon { child, lines }, started)
    }

    /// Waits for a log line containing `needle`; when it was read.
    fn wait_log(&self, needle: &str, timeout: Duration) -> Instant {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok((at, line)) if line.contains(needle) => return at,
                Ok(_) => {}
                Err(_) => panic!("no log line with {needle:?} in {timeout:?}"),
            }
        }
    }

    fn status_kib(&self, key: &str) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default()
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }

    /// The log lines read since the last call.
    fn drain(&self) -> Vec<String> {
        self.lines.try_iter().map(|(_, l)| l).collect()
    }

    fn stop(mut self) {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

/// The values of the numeric `field` in the `lines` that contain `needle`.
fn logged(lines: &[String], needle: &str, field: &str) -> Vec<f64> {
    let key = format!("\"{field}\":");
    lines
        .iter()
        .filter(|l| l.contains(needle))
        .filter_map(|l| {
            let rest = &l[l.find(&key)? + key.len()..];
            let end = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            rest[..end].parse().ok()
        })
        .collect()
}

fn inbox_empty(base: &Path) -> bool {
    std::fs::read_dir(base.join("inbox")).is_ok_and(|d| d.count() == 0)
}

/// Fills the ledger with the corpus files, one at a time, through the inbox.
fn fill(base: &Path, config: &Path, files: &[PathBuf]) {
    let _ = std::fs::remove_dir_all(base.join("state"));
    let _ = std::fs::remove_dir_all(base.join("inbox"));
    let stage = base.join("stage");
    std::fs::create_dir_all(&stage).expect("stage");
    let (d, _) = Daemon::start(config, &as_of(0).to_string());
    d.wait_log("\"ready\"", Duration::from_secs(60));
    let start = Instant::now();
    for (k, f) in files.iter().enumerate() {
        let staged = stage.join(format!("part-{k:03}.export.CSV"));
        std::fs::copy(f, &staged).expect("stage a file");
        let t = Instant::now();
        std::fs::rename(
            &staged,
            base.join("inbox").join(staged.file_name().expect("name")),
        )
        .expect("drop a file");
        while !inbox_empty(base) {
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!(
            "  file {k}: {:.1} s, daemon RSS {} MiB",
            t.elapsed().as_secs_f64(),
            d.status_kib("VmRSS:") >> 10
        );
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "fill: {} files of {} rows in {secs:.0} s ({:.0} rows/s incl. copying each file in), peak RSS {} MiB",
        files.len(),
        gdelt_data::ROWS_PER_FILE,
        (files.len() * gdelt_data::ROWS_PER_FILE) as f64 / secs,
        d.status_kib("VmHWM:") >> 10
    );
    d.stop();
    std::fs::write(base.join("filled"), files.len().to_string()).expect("marker");
}

/// Runs a command to its end: wall seconds and peak RSS (MiB).
fn timed(args: &[&str], config: &Path) -> (f64, f64) {
    let mut cmd = Command::new(bin());
    cmd.args(args).arg("--config").arg(config);
    let (wall, _, rss, out) = measure::measure(&mut cmd);
    assert!(!out.is_empty(), "{args:?} printed nothing");
    (wall, rss)
}

fn percentile(samples: &[f64], p: f64) -> f64 {
    samples[((samples.len() as f64 * p).ceil() as usize).clamp(1, samples.len()) - 1]
}

/// Single-report files that each flip military-cooperation (a breach, then evidence, each
/// later than the last): time from the rename to the alert line.
fn drop_to_alert(base: &Path, drops: usize, as_of: chrono::NaiveDate) -> Vec<f64> {
    let alerts = base.join("alerts.jsonl");
    let count = || {
        std::fs::read_to_string(&alerts)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    };
    let mut samples = Vec::with_capacity(drops);
    let first = as_of - chrono::Days::new(drops as u64 + 50);
    for k in 0..drops {
        let date = first + chrono::Days::new(k as u64);
        let (cameo, title) = if k % 2 == 0 {
            ("190", "Border clash")
        } else {
            ("062", "Joint exercise")
        };
        let report = format!(
            "{{\"id\": \"probe-{date}\", \"date\": \"{date}\", \"actors\": [\"KGZ\", \"TJK\"], \"cameo\": \"{cameo}\", \"title\": \"{title} {k}\"}}"
        );
        let tmp = base.join(format!("stage/probe-{k}.json"));
        std::fs::write(&tmp, report).expect("write a probe");
        let before = count();
        let start = Instant::now();
        std::fs::rename(&tmp, base.join(format!("inbox/probe-{k}.json"))).expect("drop");
        while count() == before {
            assert!(start.elapsed() < Duration::from_secs(60), "no alert");
            std::thread::sleep(Duration::from_micros(500));
        }
        samples.push(start.elapsed().as_secs_f64() * 1000.0);
        std::thread::sleep(Duration::from_millis(50));
    }
    samples.sort_by(f64::total_cmp);
    samples
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let millions = args
        .iter()
        .position(|a| a == "--reports")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(10);
    let (files, corpus_rules) = gdelt_data::data(millions);
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("target/bench-data/ledger-{millions}M"));
    let config = prepare(&base, &corpus_rules);
    let filled = std::fs::read_to_string(base.join("filled")).ok();
    if args.iter().any(|a| a == "--refill") || filled.as_deref() != Some(&millions.to_string()) {
        fill(&base, &config, &files);
    }
    let _ = std::fs::remove_file(base.join("alerts.jsonl"));
    let run: u64 = std::fs::read_to_string(base.join("runs"))
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0)
        + 1;
    std::fs::write(base.join("runs"), run.to_string()).expect("runs");
    let day = as_of(run);
    let as_of = day.to_string();
    let as_of = as_of.as_str();
    let db = std::fs::metadata(base.join("state/pledgewatch.db")).map_or(0, |m| m.len());

    let (d, started) = Daemon::start(&config, as_of);
    let ready = d.wait_log("\"ready\"", Duration::from_secs(600));
    let rss_ready = d.status_kib("VmRSS:") >> 10;
    // the first evaluation follows READY; it writes the scorecard after the alerts
    let page = base.join("state/scorecard.html");
    let _ = std::fs::remove_file(&page);
    while !page.exists() {
        std::thread::sleep(Duration::from_millis(5));
    }
    let evaluated = Instant::now();
    std::thread::sleep(Duration::from_millis(500));
    println!(
        "ledger: {} MiB; start to READY {:.2} s; first evaluation and scorecard done {:.2} s after READY; RSS at READY {rss_ready} MiB, after the first evaluation {} MiB (peak {} MiB)",
        db >> 20,
        (ready - started).as_secs_f64(),
        (evaluated - ready).as_secs_f64(),
        d.status_kib("VmRSS:") >> 10,
        d.status_kib("VmHWM:") >> 10
    );
    let mut walls = Vec::new();
    for _ in 0..5 {
        let (wall, rss) = timed(&["status", "--as-of", as_of, "--format", "json"], &config);
        walls.push(wall);
        eprintln!("  status --format json: {wall:.2} s, {rss:.0} MiB");
    }
    walls.sort_by(f64::total_cmp);
    let (html, html_rss) = timed(&["status", "--as-of", as_of, "--format", "html"], &config);
    println!(
        "status --format json (5 runs, daemon running): median {:.2} s, max {:.2} s; --format html {html:.2} s, {html_rss:.0} MiB",
        walls[2], walls[4]
    );
    for target in ["kgz-tjk-2007/military-cooperation", "gdelt-0/c0"] {
        let (wall, rss) = timed(&["explain", target, "--as-of", as_of], &config);
        println!("explain {target}: {wall:.2} s, peak RSS {rss:.0} MiB");
    }
    d.drain();
    let samples = drop_to_alert(&base, 100, day);
    std::thread::sleep(Duration::from_secs(1));
    let lines = d.drain();
    let mut evaluations = logged(&lines, "\"evaluated\"", "evaluate_ms");
    evaluations.sort_by(f64::total_cmp);
    if !evaluations.is_empty() {
        println!(
            "evaluation of every commitment (from the tally, alerts included) during the drops: {} runs, median {:.0} ms, max {:.0} ms",
            evaluations.len(),
            percentile(&evaluations, 0.5),
            percentile(&evaluations, 1.0)
        );
    }
    println!(
        "drop-to-alert over {} drops: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms; daemon RSS after {} MiB (peak {} MiB)",
        samples.len(),
        percentile(&samples, 0.5),
        percentile(&samples, 0.99),
        percentile(&samples, 1.0),
        d.status_kib("VmRSS:") >> 10,
        d.status_kib("VmHWM:") >> 10
    );
    let pages = logged(&lines, "scorecard.html written", "scorecard_ms");
    if let Some(max) = pages.iter().copied().reduce(f64::max) {
        println!(
            "scorecard.html drawn {} times, the slowest in {max:.0} ms",
            pages.len()
        );
    }
    d.stop();
}
