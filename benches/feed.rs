//! Feed benchmark: `pledgewatch fetch gdelt` backfilling one day (96 slots) from a GDELT
//! folder served on 127.0.0.1, each slot an export of 2,111 real rows
//! (tests/data/gdelt/20191024143000.export.CSV, with new ids), zipped as GDELT does. Runs
//! the real release binary; wall time, and peak RSS from /proc/PID/status (VmHWM).
//!
//! `cargo bench --bench feed`

// A benchmark or test stops at the first surprise: unwrap and expect are its asserts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

#[allow(dead_code)]
#[path = "../tests/integration/httpd.rs"]
mod httpd;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const SLOTS: usize = 96;

fn zip_of(name: &str, content: &[u8]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file(name, options).expect("zip entry");
    zip.write_all(content).expect("zip write");
    zip.finish().expect("zip finish").into_inner()
}

/// Publishes 96 slots ending 2019-10-24 14:30 on `server`, and a `masterfilelist.txt` of
/// every slot since 2015; returns the rows per slot, the archive bytes in all and the
/// list's size.
fn publish(server: &httpd::Server) -> (usize, usize, usize) {
    use md5::Digest;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let real = std::fs::read_to_string(root.join("tests/data/gdelt/20191024143000.export.CSV"))
        .expect("real rows");
    let rows: Vec<&str> = real.lines().collect();
    let newest = chrono::NaiveDate::from_ymd_opt(2019, 10, 24)
        .and_then(|d| d.and_hms_opt(14, 30, 0))
        .expect("date")
        .and_utc();
    // every slot since GDELT 2.0 began, as the real list has them (only the last day served)
    let mut master = String::with_capacity(60 << 20);
    let mut t = chrono::NaiveDate::from_ymd_opt(2015, 2, 18)
        .and_then(|d| d.and_hms_opt(23, 0, 0))
        .expect("date")
        .and_utc();
    let first = newest - chrono::Duration::minutes(15 * (SLOTS as i64 - 1));
    while t < first {
        let slot = t.format("%Y%m%d%H%M%S");
        for (kind, size) in [
            ("export.CSV.zip", 150_383),
            ("mentions.CSV.zip", 304_121),
            ("gkg.csv.zip", 2_304_332),
        ] {
            master.push_str(&format!(
                "{size} 297a16b493de7cf6ca809a7cc31d0b93 http://data.gdeltproject.org/gdeltv2/{slot}.{kind}\n"
            ));
        }
        t += chrono::Duration::minutes(15);
    }
    let mut zipped = 0;
    for k in (0..SLOTS).rev() {
        let slot = (newest - chrono::Duration::minutes(15 * k as i64))
            .format("%Y%m%d%H%M%S")
            .to_string();
        let mut csv = String::with_capacity(real.len() + rows.len() * 4);
        for (j, row) in rows.iter().enumerate() {
            let (_, rest) = row.split_once('\t').expect("a GDELT row");
            csv.push_str(&format!("{}\t{rest}\n", 1_000_000_000 + k * 10_000 + j));
        }
        let archive = zip_of(&format!("{slot}.export.CSV"), csv.as_bytes());
        let md5: String = md5::Md5::digest(&archive)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let line = |kind: &str, size: usize| {
            format!(
                "{size} {md5} {}\n",
                server.url(&format!("gdeltv2/{slot}.{kind}"))
            )
        };
        let lines = line("export.CSV.zip", archive.len())
            + &line("mentions.CSV.zip", archive.len() * 2)
            + &line("gkg.csv.zip", archive.len() * 8);
        master.push_str(&lines);
        if k == 0 {
            server.put("/gdeltv2/lastupdate.txt", lines);
        }
        zipped += archive.len();
        server.put(&format!("/gdeltv2/{slot}.export.CSV.zip"), archive);
    }
    let list_size = master.len();
    server.put("/gdeltv2/masterfilelist.txt", master);
    (rows.len(), zipped, list_size)
}

fn site(server: &httpd::Server, parties: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir(dir.path().join("rules")).expect("rules dir");
    std::fs::copy(
        root.join("rules/kgz-tjk-2007.toml"),
        dir.path().join("rules/kgz-tjk-2007.toml"),
    )
    .expect("rules");
    let config = dir.path().join("pw.toml");
    std::fs::write(
        &config,
        format!(
            "rules_dir = \"rules\"\ninbox_dir = \"inbox\"\nstate_dir = \"state\"\n[log]\nformat = \"json\"\n\
             [feed.gdelt]\nurl = \"{}\"\nparties = {parties}\nbackfill = \"1d\"\n",
            server.url("gdeltv2/")
        ),
    )
    .expect("config");
    (dir, config)
}

/// Runs one backfill; returns wall seconds, peak RSS in MiB and the closing log record.
/// A zombie's /proc/PID/status has no VmHWM, so the poller keeps the last live reading.
fn fetch(config: &Path) -> (f64, f64, serde_json::Value) {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pledgewatch"))
        .args(["fetch", "gdelt", "--config"])
        .arg(config)
        .env_remove("http_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("all_proxy")
        .env_remove("ALL_PROXY")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start fetch");
    let pid = child.id() as i32;
    // Peak RSS from /proc (VmHWM), polled: wait4's ru_maxrss would include the memory of this
    // process, whose address space the child borrows until it execs (vfork-style spawn).
    let poller = std::thread::spawn(move || {
        let mut peak_kib = 0u64;
        while let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            if let Some(kib) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak_kib = peak_kib.max(kib);
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        peak_kib
    });
    let mut stderr = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut out).map(|_| out)
    });
    let status = child.wait().expect("wait");
    let wall = start.elapsed().as_secs_f64();
    let peak_kib = poller.join().expect("poller");
    let log = reader.join().expect("reader").expect("stderr text");
    assert!(status.success(), "fetch failed: {log}");
    let summary = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["written"].is_number())
        .expect("closing log record");
    (wall, peak_kib as f64 / 1024.0, summary)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let server = httpd::Server::start();
    let (rows, zipped, list) = publish(&server);
    println!(
        "feed: {SLOTS} slots of {rows} rows, {:.1} MiB of archives, masterfilelist.txt {:.1} MiB, served on {}",
        zipped as f64 / (1 << 20) as f64,
        list as f64 / (1 << 20) as f64,
        server.addr
    );
    for (label, parties, ranges) in [
        ("rules' parties", "[]", true),
        ("every row", "[\"*\"]", true),
        ("whole list", "[]", false),
    ] {
        server.site.lock().expect("site").ranges = ranges;
        let (_dir, config) = site(&server, parties);
        let (wall, rss, s) = fetch(&config);
        let (read, kept) = (
            s["rows_read"].as_f64().unwrap_or(0.0),
            s["rows_kept"].as_f64().unwrap_or(0.0),
        );
        println!(
            "feed backfill 1 day, {label:<15} {wall:6.2} s  {:6.1} slots/s  {:9.0} rows read/s  \
             {read:.0} rows read, {kept:.0} kept, {} written, {} empty  peak RSS {rss:.1} MiB",
            SLOTS as f64 / wall,
            read / wall,
            s["written"],
            s["empty"],
        );
    }
}
