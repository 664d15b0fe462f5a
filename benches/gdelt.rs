//! GDELT-scale benchmark (issue 12): `replay` and `history` of the real release binary over
//! 5, 10 and 20 million GDELT 2.0 event rows against 1,000 commitments; wall and CPU time,
//! rows per second and peak RSS (VmHWM, see benches/common/measure.rs).
//!
//! The rows are made from the 2,111 real rows of tests/data/gdelt/20191024143000.export.CSV:
//! each generated row is a real row with a new GLOBALEVENTID, a date drawn from 2007-2026
//! (SQLDATE, MonthYear, Year, FractionDate and DATEADDED agree), and its actor country codes
//! drawn from the real rows' country mix (a row without a code keeps none); the other 55
//! columns, the article address included, stay as published. The rules are 1,000
//! commitments between pairs of countries drawn from the same mix, with CAMEO roots and
//! headline words of the real addresses as evidence. Data is generated once into
//! `target/bench-data/gdelt/` (20 files of a million rows, about 8 GB).
//!
//! `cargo bench --bench gdelt` runs 5M, 10M and 20M; `cargo bench --bench gdelt -- --rows 5`
//! one point (millions).

// A benchmark or test stops at the first surprise: unwrap and expect are its asserts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

use std::process::Command;

#[path = "common/gdelt_data.rs"]
mod gdelt_data;
#[path = "common/measure.rs"]
mod measure;
#[path = "common/rng.rs"]
mod rng;
use gdelt_data::{ROWS_PER_FILE, data};
use measure::measure;

fn point(millions: usize) {
    let (files, rules) = data(millions);
    let bytes: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    for command in ["replay", "history"] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pledgewatch"));
        cmd.arg(command).arg("--rules").arg(&rules).arg("--reports");
        cmd.args(&files);
        cmd.args(["--format", "json", "--as-of", "2026-11-27"]);
        let (wall, cpu, rss, out) = measure(&mut cmd);
        let v: serde_json::Value = serde_json::from_str(&out).expect("json output");
        println!(
            "{command:<7} {millions:>2}M rows ({:>5} MiB)  read {:>9}  skipped {:>8}  wall {wall:>7.2} s  cpu {cpu:>7.2} s  {:>8.0} rows/s  peak RSS {rss:>7.1} MiB",
            bytes >> 20,
            v["reports"]["read"],
            v["reports"]["skipped"],
            (millions * ROWS_PER_FILE) as f64 / wall
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rows = args
        .iter()
        .position(|a| a == "--rows")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse::<usize>().ok());
    match rows {
        Some(m) => point(m),
        None => {
            for m in [5, 10, 20] {
                point(m);
            }
        }
    }
}
