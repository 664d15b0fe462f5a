//! The GDELT-scale corpus the `gdelt` and `ledger` benchmarks share (issue 12): N million
//! GDELT 2.0 rows made from the 2,111 real rows of tests/data/gdelt/20191024143000.export.CSV
//! — each a real row with a new GLOBALEVENTID, a date drawn from 2007-2026 (SQLDATE,
//! MonthYear, Year, FractionDate and DATEADDED agree) and its actor country codes drawn from
//! the real rows' country mix (a row without a code keeps none); the other 55 columns, the
//! article address included, as published — and 1,000 commitments between pairs of
//! countries from the same mix, with CAMEO roots and headline words of the real addresses
//! as evidence. Generated once into `target/bench-data/gdelt/` (a million rows per file).

use super::rng::Rng;
use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// GDELT 2.0 export columns used here (0-based).
const ID: usize = 0;
const SQLDATE: usize = 1;
const MONTH_YEAR: usize = 2;
const YEAR: usize = 3;
const FRACTION_DATE: usize = 4;
const ACTOR1_COUNTRY: usize = 7;
const ACTOR2_COUNTRY: usize = 17;
const EVENT_ROOT: usize = 28;
const DATE_ADDED: usize = 59;
const SOURCE_URL: usize = 60;

/// Rows per generated file.
pub const ROWS_PER_FILE: usize = 1_000_000;

fn real_rows() -> Vec<Vec<String>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/gdelt/20191024143000.export.CSV");
    let text = std::fs::read_to_string(path).expect("the real GDELT rows");
    text.lines()
        .map(|l| l.split('\t').map(str::to_string).collect::<Vec<_>>())
        .filter(|f| f.len() == 61)
        .collect()
}

/// Every actor country code of the real rows, as often as it occurs: drawing from it
/// draws from the real mix.
fn country_mix(rows: &[Vec<String>]) -> Vec<String> {
    rows.iter()
        .flat_map(|r| [&r[ACTOR1_COUNTRY], &r[ACTOR2_COUNTRY]])
        .filter(|c| !c.is_empty())
        .cloned()
        .collect()
}

/// Writes file `k` (rows `k * ROWS_PER_FILE ..`) of the generated corpus.
fn write_part(path: &Path, k: usize, rows: &[Vec<String>], mix: &[String]) -> std::io::Result<()> {
    let mut rng = Rng(1000 + k as u64);
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let start = chrono::NaiveDate::from_ymd_opt(2007, 1, 1).expect("date");
    let mut line = String::with_capacity(1024);
    for i in 0..ROWS_PER_FILE {
        let template = &rows[rng.below(rows.len())];
        let date = start + chrono::Days::new(rng.below(20 * 365) as u64);
        let doy = chrono::Datelike::ordinal0(&date);
        let year = chrono::Datelike::year(&date);
        line.clear();
        for (col, value) in template.iter().enumerate() {
            if col > 0 {
                line.push('\t');
            }
            match col {
                ID => {
                    let _ = write!(
                        line,
                        "{}",
                        2_000_000_000u64 + (k * ROWS_PER_FILE + i) as u64
                    );
                }
                SQLDATE => {
                    let _ = write!(line, "{}", date.format("%Y%m%d"));
                }
                MONTH_YEAR => {
                    let _ = write!(line, "{}", date.format("%Y%m"));
                }
                YEAR => {
                    let _ = write!(line, "{year}");
                }
                FRACTION_DATE => {
                    let _ = write!(line, "{:.4}", year as f64 + doy as f64 / 365.0);
                }
                ACTOR1_COUNTRY | ACTOR2_COUNTRY if !value.is_empty() => {
                    line.push_str(&mix[rng.below(mix.len())]);
                }
                DATE_ADDED => {
                    let quarter = rng.below(96);
                    let _ = write!(
                        line,
                        "{}{:02}{:02}00",
                        date.format("%Y%m%d"),
                        quarter / 4,
                        quarter % 4 * 15
                    );
                }
                _ => line.push_str(value),
            }
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    out.flush()
}

/// Frequent headline words of the real article addresses (5 letters or more).
fn headline_words(rows: &[Vec<String>]) -> Vec<String> {
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for r in rows {
        let last = r[SOURCE_URL]
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or("");
        for w in last.split(|c: char| !c.is_ascii_alphabetic()) {
            if w.len() >= 5 && w.chars().all(|c| c.is_ascii_lowercase()) {
                *counts.entry(w.to_string()).or_default() += 1;
            }
        }
    }
    let mut words: Vec<(usize, String)> = counts.into_iter().map(|(w, n)| (n, w)).collect();
    words.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    words.into_iter().take(300).map(|(_, w)| w).collect()
}

/// 1,000 commitments in 200 agreements between pairs of countries from the real mix.
fn write_rules(dir: &Path, rows: &[Vec<String>], mix: &[String]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut rng = Rng(5);
    let words = headline_words(rows);
    let roots: Vec<&str> = rows.iter().map(|r| r[EVENT_ROOT].as_str()).collect();
    for a in 0..200 {
        let p1 = &mix[rng.below(mix.len())];
        let mut p2 = &mix[rng.below(mix.len())];
        while p2 == p1 {
            p2 = &mix[rng.below(mix.len())];
        }
        let mut text = format!(
            "[agreement]\nid = \"gdelt-{a}\"\ntitle = \"Agreement {a}\"\nparties = [\"{p1}\", \"{p2}\"]\nsigned = 2007-01-01\n"
        );
        for c in 0..5 {
            let follow = ["any", "joint", "each"][rng.below(3)];
            let keywords: Vec<String> = (0..4)
                .map(|_| format!("{:?}", words[rng.below(words.len())]))
                .collect();
            let root = roots[rng.below(roots.len())];
            let _ = write!(
                text,
                "\n[[commitment]]\nid = \"c{c}\"\ntitle = \"Commitment {c}\"\nfollow_up_by = \"{follow}\"\nwindow = \"1y\"\ngrace = \"3mo\"\n\
                 [[commitment.evidence]]\ncameo = [\"{root}\"]\n[[commitment.evidence]]\nkeywords = [{}]\n\
                 [[commitment.breach]]\ncameo = [\"19\", \"20\"]\n",
                keywords.join(", ")
            );
        }
        std::fs::write(dir.join(format!("gdelt-{a:03}.toml")), text)?;
    }
    Ok(())
}

/// The generated files for `millions` million rows (made once), and the rules.
pub fn data(millions: usize) -> (Vec<PathBuf>, PathBuf) {
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data/gdelt");
    std::fs::create_dir_all(&base).expect("bench data folder");
    let rows = real_rows();
    let mix = country_mix(&rows);
    let mut files = Vec::new();
    for k in 0..millions {
        let path = base.join(format!("part-{k:03}.export.CSV"));
        if !path.exists() {
            let start = Instant::now();
            let tmp = base.join(format!(".part-{k:03}.tmp"));
            write_part(&tmp, k, &rows, &mix).expect("write rows");
            std::fs::rename(&tmp, &path).expect("rename");
            eprintln!(
                "generated {} in {:.1} s",
                path.display(),
                start.elapsed().as_secs_f64()
            );
        }
        files.push(path);
    }
    let rules = base.join("rules");
    if !rules.exists() {
        let tmp = base.join("rules.tmp");
        let _ = std::fs::remove_dir_all(&tmp);
        write_rules(&tmp, &rows, &mix).expect("write rules");
        std::fs::rename(&tmp, &rules).expect("rename");
    }
    (files, rules)
}
