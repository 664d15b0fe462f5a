//! Replay benchmark: generates reports (JSONL, ~300 bytes of text each, mixed actors, kinds
//! and CAMEO codes) and rules (agreements of 5 commitments, ~10 keywords each), then times
//! the real release binary's `replay --format json` and reads its peak RSS.
//!
//! `cargo bench --bench replay` runs the matrix; `cargo bench --bench replay --
//! --reports N --commitments M` runs one point. Generated data is cached under
//! `target/bench-data/`.

use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// A small deterministic generator (PCG-like LCG), so the data is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const COUNTRIES: &[&str] = &[
    "KGZ", "TJK", "UZB", "KAZ", "TKM", "AFG", "RUS", "CHN", "IND", "PAK", "IRN", "TUR", "USA",
    "FRA", "DEU", "GBR",
];
const KINDS: &[&str] = &["statement", "meeting", "agreement", "action", "incident"];
const CAMEO: &[&str] = &[
    "010", "036", "040", "042", "043", "046", "057", "061", "062", "0871", "112", "173", "190",
    "193", "195",
];
const SYLLABLES: &[&str] = &[
    "ka", "ro", "mi", "ta", "le", "su", "an", "dor", "vel", "is", "ur", "ben", "tor", "ma", "sen",
    "lo", "gra", "pel", "zu", "ir", "hal", "ni", "os", "tre",
];

/// Size of the made-up vocabulary.
const VOCABULARY: usize = 30_000;

/// 30,000 made-up words of 2-4 syllables: text with a realistic spread of word lengths.
fn vocabulary() -> Vec<String> {
    let mut rng = Rng(7);
    (0..VOCABULARY)
        .map(|_| {
            let n = 2 + rng.below(3);
            (0..n)
                .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
                .collect()
        })
        .collect()
}

/// Text of about `len` bytes. Word frequencies are skewed as in natural language: a few
/// words are very common, most are rare.
fn sentence(rng: &mut Rng, words: &[String], len: usize) -> String {
    let mut s = String::with_capacity(len + 16);
    while s.len() < len {
        if !s.is_empty() {
            s.push(' ');
        }
        let u = rng.below(1 << 16) as f64 / f64::from(1 << 16);
        s.push_str(&words[(u * u * u * words.len() as f64) as usize]);
    }
    s
}

/// Keyword phrase `i` of the rules: one or two of the rarer vocabulary words, as rule
/// phrases are domain terms ("demarcation", "joint exercise") rather than common words.
fn phrase(words: &[String], i: usize) -> String {
    let half = words.len() / 2;
    let a = &words[half + (i * 7919) % half];
    if i.is_multiple_of(3) {
        a.clone()
    } else {
        format!("{a} {}", words[half + (i * 104729 + 13) % half])
    }
}

fn write_reports(path: &Path, n: usize, words: &[String]) -> std::io::Result<()> {
    let mut rng = Rng(42);
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut line = String::new();
    for i in 0..n {
        line.clear();
        let a = COUNTRIES[rng.below(COUNTRIES.len())];
        let b = COUNTRIES[rng.below(COUNTRIES.len())];
        let day = rng.below(6500);
        let date =
            chrono::NaiveDate::from_ymd_opt(2007, 1, 1).unwrap() + chrono::Days::new(day as u64);
        let title = sentence(&mut rng, words, 50);
        let mut body = sentence(&mut rng, words, 180);
        // one report in three mentions a rule phrase
        if rng.below(3) == 0 {
            body.push(' ');
            body.push_str(&phrase(words, rng.below(100_000)));
        }
        let _ = write!(
            line,
            "{{\"date\": \"{date}\", \"actors\": [\"{a}\", \"{b}\"], "
        );
        if rng.below(4) == 0 {
            let _ = write!(line, "\"cameo\": \"{}\", ", CAMEO[rng.below(CAMEO.len())]);
        } else {
            let _ = write!(line, "\"kind\": \"{}\", ", KINDS[rng.below(KINDS.len())]);
        }
        if i % 2 == 0 {
            let _ = write!(line, "\"id\": \"bench-{i}\", ");
        }
        let _ = writeln!(
            line,
            "\"title\": \"{title}\", \"body\": \"{body}\", \"source\": \"bench\"}}"
        );
        out.write_all(line.as_bytes())?;
    }
    out.flush()
}

fn write_rules(dir: &Path, commitments: usize, words: &[String]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut rng = Rng(99);
    let per_agreement = 5;
    let mut phrase_no = 0;
    for a in 0..commitments.div_ceil(per_agreement) {
        let p1 = COUNTRIES[a % COUNTRIES.len()];
        let p2 = COUNTRIES[(a / COUNTRIES.len() + a + 1) % COUNTRIES.len()];
        let mut text = format!(
            "[agreement]\nid = \"agreement-{a}\"\ntitle = \"Agreement {a}\"\nparties = [\"{p1}\", \"{p2}\"]\nsigned = 2007-09-18\n"
        );
        for c in 0..per_agreement.min(commitments - a * per_agreement) {
            let follow = ["joint", "any", "each"][rng.below(3)];
            let timing = match rng.below(3) {
                0 => "window = \"1y\"".to_string(),
                1 => "cadence = \"0 0 1 */3 *\"".to_string(),
                _ => "deadline = 2015-12-31".to_string(),
            };
            let keywords: Vec<String> = (0..10)
                .map(|_| {
                    phrase_no += 1;
                    format!("{:?}", phrase(words, phrase_no * 10 % 100_000))
                })
                .collect();
            let _ = write!(
                text,
                "\n[[commitment]]\nid = \"c{c}\"\ntitle = \"Commitment {c}\"\nfollow_up_by = \"{follow}\"\n{timing}\ngrace = \"30d\"\n\
                 [[commitment.evidence]]\nkeywords = [{}]\n[[commitment.evidence]]\ncameo = [\"{}\"]\nkinds = [\"action\"]\n\
                 [[commitment.breach]]\nall_keywords = [{}]\nkinds = [\"incident\"]\n",
                keywords[..8].join(", "),
                CAMEO[rng.below(CAMEO.len())],
                keywords[8..].join(", "),
            );
        }
        std::fs::write(dir.join(format!("agreement-{a:05}.toml")), text)?;
    }
    Ok(())
}

/// Runs `cmd`, returning wall seconds, CPU seconds (user + system) and the child's peak RSS
/// in MiB (from wait4's rusage).
// The child is reaped by wait4 (for its rusage), which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn measure(cmd: &mut Command) -> (f64, f64, f64, String) {
    let start = Instant::now();
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("spawn");
    let pid = child.id() as libc::pid_t;
    // Drain stdout while the child runs, so a large output never blocks it on a full pipe.
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut out).map(|_| out)
    });
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed().as_secs_f64();
    assert_eq!(rc, pid, "wait4 failed");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "replay failed: {status}"
    );
    let out = reader.join().expect("reader thread").expect("read stdout");
    let cpu = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (
        wall,
        cpu(usage.ru_utime) + cpu(usage.ru_stime),
        usage.ru_maxrss as f64 / 1024.0,
        out,
    )
}

fn data(reports: usize, commitments: usize, words: &[String]) -> (PathBuf, PathBuf) {
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&base).expect("bench data folder");
    let reports_path = base.join(format!("reports-{reports}.jsonl"));
    if !reports_path.exists() {
        let tmp = base.join(format!("reports-{reports}.jsonl.tmp"));
        write_reports(&tmp, reports, words).expect("write reports");
        std::fs::rename(&tmp, &reports_path).expect("rename");
    }
    let rules = base.join(format!("rules-{commitments}"));
    if !rules.exists() {
        let tmp = base.join(format!("rules-{commitments}.tmp"));
        let _ = std::fs::remove_dir_all(&tmp);
        write_rules(&tmp, commitments, words).expect("write rules");
        std::fs::rename(&tmp, &rules).expect("rename");
    }
    (reports_path, rules)
}

fn point(reports: usize, commitments: usize, words: &[String]) {
    let (reports_path, rules) = data(reports, commitments, words);
    let size = std::fs::metadata(&reports_path)
        .map(|m| m.len())
        .unwrap_or(0);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pledgewatch"));
    cmd.arg("replay")
        .arg("--rules")
        .arg(&rules)
        .arg("--reports")
        .arg(&reports_path);
    cmd.args(["--format", "json", "--as-of", "2026-11-27"]);
    let (wall, cpu, rss, out) = measure(&mut cmd);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json output");
    let evidence: u64 = v["agreements"]
        .as_array()
        .map(|a| {
            a.iter()
                .flat_map(|a| a["commitments"].as_array().cloned().unwrap_or_default())
                .map(|c| {
                    c["evidence"].as_u64().unwrap_or(0)
                        + c["talk"].as_u64().unwrap_or(0)
                        + c["breaches"].as_u64().unwrap_or(0)
                })
                .sum()
        })
        .unwrap_or(0);
    println!(
        "reports {reports:>9}  ({:>5} MiB)  commitments {commitments:>6}  read {:>9}  hits {evidence:>9}  wall {wall:>6.2} s  cpu {cpu:>6.2} s  peak RSS {rss:>7.1} MiB  {:>7.0} reports/s",
        size >> 20,
        v["reports"]["read"],
        reports as f64 / wall
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<usize>().ok())
    };
    let words = vocabulary();
    match (value("--reports"), value("--commitments")) {
        (Some(r), Some(c)) => point(r, c, &words),
        (Some(r), None) => point(r, 1000, &words),
        (None, Some(c)) => point(1_000_000, c, &words),
        (None, None) => {
            println!("# the target: 1,000,000 reports, 1,000 commitments");
            point(1_000_000, 1000, &words);
            println!("# linear in reports (1,000 commitments)");
            for r in [250_000, 500_000] {
                point(r, 1000, &words);
            }
            println!("# far less than linear in commitments (1,000,000 reports)");
            for c in [100, 10_000] {
                point(1_000_000, c, &words);
            }
        }
    }
}
