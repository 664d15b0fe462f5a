//! Replay benchmark: generates reports (JSONL, ~300 bytes of news-like text each, mixed
//! actors, kinds and CAMEO codes) and rules (agreements of 5 commitments, 10 keyword phrases
//! each), then times the real release binary's `replay --format json` and reads its peak RSS.
//!
//! `cargo bench --bench replay` runs the matrix; `cargo bench --bench replay --
//! --reports N --commitments M` runs one point (`--stems`: with a third of the rule phrases
//! ending in a stem, `"ceasefire near airpo*"`; `--dense`: the hit-dense rule set of issue 12,
//! where most reports hit dozens of commitments, timed against `rg -c -i -w -F -f` over the
//! same file and phrases). Generated data is cached under `target/bench-data/`.

// A benchmark or test stops at the first surprise: unwrap and expect are its asserts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "common/measure.rs"]
mod measure;
#[path = "common/rng.rs"]
mod rng;
use measure::measure;
use rng::Rng;
use std::time::Instant;

const COUNTRIES: &[&str] = &[
    "KGZ", "TJK", "UZB", "KAZ", "TKM", "AFG", "RUS", "CHN", "IND", "PAK", "IRN", "TUR", "USA",
    "FRA", "DEU", "GBR",
];
const KINDS: &[&str] = &["statement", "meeting", "agreement", "action", "incident"];
const CAMEO: &[&str] = &[
    "010", "036", "040", "042", "043", "046", "057", "061", "062", "0871", "112", "173", "190",
    "193", "195",
];

/// Everyday news words, drawn with a skew (the first ones most often).
const COMMON: &[&str] = &[
    "a",
    "about",
    "across",
    "after",
    "again",
    "against",
    "agency",
    "agreed",
    "all",
    "also",
    "an",
    "and",
    "any",
    "april",
    "are",
    "as",
    "at",
    "august",
    "back",
    "bad",
    "bank",
    "banks",
    "be",
    "because",
    "been",
    "before",
    "best",
    "between",
    "big",
    "bilateral",
    "border",
    "both",
    "business",
    "but",
    "by",
    "came",
    "can",
    "central",
    "citizens",
    "civil",
    "come",
    "common",
    "cooperation",
    "could",
    "countries",
    "country",
    "deal",
    "december",
    "did",
    "do",
    "does",
    "done",
    "down",
    "during",
    "each",
    "earlier",
    "early",
    "economic",
    "energy",
    "february",
    "first",
    "for",
    "force",
    "forces",
    "foreign",
    "friday",
    "from",
    "further",
    "give",
    "given",
    "go",
    "good",
    "government",
    "great",
    "had",
    "has",
    "have",
    "he",
    "her",
    "here",
    "high",
    "him",
    "his",
    "how",
    "in",
    "international",
    "into",
    "is",
    "it",
    "its",
    "january",
    "joint",
    "july",
    "june",
    "just",
    "key",
    "know",
    "known",
    "large",
    "last",
    "late",
    "later",
    "leaders",
    "little",
    "local",
    "long",
    "low",
    "made",
    "main",
    "major",
    "make",
    "many",
    "march",
    "may",
    "me",
    "meeting",
    "military",
    "minister",
    "minor",
    "monday",
    "more",
    "most",
    "must",
    "my",
    "national",
    "near",
    "new",
    "news",
    "no",
    "not",
    "november",
    "now",
    "october",
    "of",
    "off",
    "official",
    "officials",
    "old",
    "on",
    "one",
    "only",
    "other",
    "our",
    "out",
    "over",
    "people",
    "plan",
    "police",
    "political",
    "power",
    "president",
    "private",
    "public",
    "region",
    "regional",
    "report",
    "reports",
    "residents",
    "road",
    "roads",
    "said",
    "saturday",
    "say",
    "says",
    "security",
    "see",
    "seen",
    "september",
    "several",
    "she",
    "short",
    "should",
    "sides",
    "signed",
    "since",
    "small",
    "so",
    "social",
    "some",
    "sources",
    "state",
    "statement",
    "still",
    "such",
    "sunday",
    "take",
    "talks",
    "than",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "think",
    "this",
    "those",
    "three",
    "through",
    "thursday",
    "to",
    "today",
    "told",
    "took",
    "trade",
    "troops",
    "tuesday",
    "two",
    "under",
    "up",
    "us",
    "very",
    "village",
    "villages",
    "visit",
    "was",
    "water",
    "we",
    "wednesday",
    "week",
    "well",
    "went",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "will",
    "with",
    "without",
    "worst",
    "would",
    "year",
    "yesterday",
    "you",
    "your",
];
/// Domain terms: what rule phrases are made of.
const DOMAIN: &[&str] = &[
    "academy",
    "accord",
    "accords",
    "agreement",
    "agreements",
    "airbase",
    "airport",
    "ambassador",
    "battalion",
    "bridge",
    "brigade",
    "canal",
    "casualties",
    "ceasefire",
    "checkpoint",
    "clash",
    "clashes",
    "commission",
    "communique",
    "consulate",
    "consultations",
    "contract",
    "contracts",
    "counterterrorism",
    "crossing",
    "crossings",
    "customs",
    "declaration",
    "defence",
    "defense",
    "delegation",
    "delegations",
    "delimitation",
    "demarcation",
    "deputies",
    "drills",
    "electricity",
    "embassy",
    "enclave",
    "evacuation",
    "exclave",
    "exercise",
    "exercises",
    "export",
    "exports",
    "extremism",
    "forum",
    "framework",
    "garrison",
    "grid",
    "highway",
    "hydropower",
    "import",
    "imports",
    "incident",
    "incidents",
    "intelligence",
    "interior",
    "investment",
    "investors",
    "irrigation",
    "killed",
    "license",
    "licenses",
    "loan",
    "loans",
    "memorandum",
    "migration",
    "ministry",
    "narcotics",
    "negotiations",
    "parliament",
    "parliamentary",
    "patrol",
    "patrols",
    "permit",
    "permits",
    "pipeline",
    "program",
    "programme",
    "protocol",
    "quota",
    "quotas",
    "railway",
    "refugees",
    "reservoir",
    "resolution",
    "roadmap",
    "sanctions",
    "shelling",
    "shootout",
    "skirmish",
    "smuggling",
    "speaker",
    "summit",
    "talks",
    "tariff",
    "tariffs",
    "tender",
    "tenders",
    "trafficking",
    "training",
    "transmission",
    "treaty",
    "tunnel",
    "wounded",
];

/// Picks the vocabulary once: unused, kept so that `phrase` and `sentence` share one signature.
fn vocabulary() -> Vec<String> {
    COMMON.iter().chain(DOMAIN).map(|w| w.to_string()).collect()
}

/// News-like text of about `len` bytes: mostly everyday words, with a skew as in natural
/// language, and about one word in eight a domain term.
fn sentence(rng: &mut Rng, _words: &[String], len: usize) -> String {
    let mut s = String::with_capacity(len + 16);
    while s.len() < len {
        if !s.is_empty() {
            s.push(' ');
        }
        if rng.below(8) == 0 {
            s.push_str(DOMAIN[rng.below(DOMAIN.len())]);
        } else {
            let u = rng.below(1 << 16) as f64 / f64::from(1 << 16);
            s.push_str(COMMON[(u * u * COMMON.len() as f64) as usize]);
        }
    }
    s
}

/// Rule phrase `i`: mostly three words, a domain term, an everyday word and another term
/// ("ceasefire near airport"), so that a rule phrase rarely occurs in a report by chance; one
/// in five is two words ("treaty signed"), one in 97 a domain term alone. Distinct for every
/// `i` below 2.7 million, so a larger rule set does not just repeat a smaller one.
fn phrase(_words: &[String], i: usize) -> String {
    let (d_len, c_len) = (DOMAIN.len(), COMMON.len());
    if i.is_multiple_of(97) {
        return DOMAIN[i % d_len].to_string();
    }
    if i.is_multiple_of(5) {
        let j = i / 5;
        return format!("{} {}", DOMAIN[j % d_len], COMMON[(j / d_len) % c_len]);
    }
    format!(
        "{} {} {}",
        DOMAIN[i % d_len],
        COMMON[(i / d_len) % c_len],
        DOMAIN[(i / (d_len * c_len)) % d_len]
    )
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
        // one report in three mentions a rule phrase of the 1,000-commitment set
        if rng.below(3) == 0 {
            body.push(' ');
            body.push_str(&phrase(words, rng.below(10_000)));
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

/// `p` with its last word cut to a stem: "ceasefire near airport" -> "ceasefire near airpo*"
/// (words shorter than 4 letters stay whole).
fn stemmed(p: &str) -> String {
    let (head, last) = p.rsplit_once(' ').map_or(("", p), |(h, l)| (h, l));
    if last.chars().count() < 4 {
        return p.to_string(); // too short a word to cut
    }
    let keep = last.chars().count() - 2;
    let stem: String = last.chars().take(keep).collect();
    if head.is_empty() {
        format!("{stem}*")
    } else {
        format!("{head} {stem}*")
    }
}

/// Writes the rules; with `stems`, every third phrase ends in a stem (docs/reference.md, Rule files).
fn write_rules(
    dir: &Path,
    commitments: usize,
    words: &[String],
    stems: bool,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut rng = Rng(99);
    let per_agreement = 5;
    let mut phrase_no = 0;
    for a in 0..commitments.div_ceil(per_agreement) {
        let p1 = COUNTRIES[a % COUNTRIES.len()];
        // an offset of 1-15 places: never the same country twice
        let p2 =
            COUNTRIES[(a + 1 + (a / COUNTRIES.len()) % (COUNTRIES.len() - 1)) % COUNTRIES.len()];
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
                    let p = phrase(words, phrase_no);
                    if stems && phrase_no % 3 == 0 {
                        format!("{:?}", stemmed(&p))
                    } else {
                        format!("{p:?}")
                    }
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

/// The hit-dense rule set (issue 12): broad rules, so that most reports hit dozens of
/// commitments — keywords of one or two words (three domain terms alone, two "term word"
/// pairs), a CAMEO alternative on a common root, and follow-up by any party for most.
fn write_dense_rules(dir: &Path, commitments: usize) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut rng = Rng(77);
    let per_agreement = 5;
    for a in 0..commitments.div_ceil(per_agreement) {
        let p1 = COUNTRIES[a % COUNTRIES.len()];
        let p2 =
            COUNTRIES[(a + 1 + (a / COUNTRIES.len()) % (COUNTRIES.len() - 1)) % COUNTRIES.len()];
        let mut text = format!(
            "[agreement]\nid = \"dense-{a}\"\ntitle = \"Agreement {a}\"\nparties = [\"{p1}\", \"{p2}\"]\nsigned = 2007-09-18\n"
        );
        for c in 0..per_agreement.min(commitments - a * per_agreement) {
            let follow = [
                "any", "any", "any", "any", "any", "any", "any", "any", "each", "joint",
            ][rng.below(10)];
            let domain = |rng: &mut Rng| DOMAIN[rng.below(DOMAIN.len())];
            let common = |rng: &mut Rng| COMMON[rng.below(40)];
            let mut keywords: Vec<String> =
                (0..3).map(|_| format!("{:?}", domain(&mut rng))).collect();
            for _ in 0..2 {
                keywords.push(format!("\"{} {}\"", domain(&mut rng), common(&mut rng)));
            }
            let root = ["04", "05", "06", "19"][rng.below(4)];
            let _ = write!(
                text,
                "\n[[commitment]]\nid = \"c{c}\"\ntitle = \"Commitment {c}\"\nfollow_up_by = \"{follow}\"\nwindow = \"1y\"\ngrace = \"30d\"\n\
                 [[commitment.evidence]]\nkeywords = [{}]\n[[commitment.evidence]]\ncameo = [\"{root}\"]\n\
                 [[commitment.breach]]\nall_keywords = [{:?}, {:?}]\nkinds = [\"incident\"]\n",
                keywords.join(", "),
                domain(&mut rng),
                domain(&mut rng),
            );
        }
        std::fs::write(dir.join(format!("dense-{a:05}.toml")), text)?;
    }
    Ok(())
}

/// Every distinct phrase of the rules in `dir`, one per line, for `rg -f`.
fn phrases_of(dir: &Path) -> Vec<String> {
    let mut all = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(dir).expect("rules folder").flatten() {
        let text = std::fs::read_to_string(entry.path()).expect("rule file");
        let doc: toml::Table = text.parse().expect("rule file is TOML");
        for c in doc["commitment"].as_array().into_iter().flatten() {
            for block in ["evidence", "breach"] {
                for alt in c
                    .get(block)
                    .and_then(|b| b.as_array())
                    .into_iter()
                    .flatten()
                {
                    for key in ["keywords", "all_keywords", "not_keywords"] {
                        for p in alt
                            .get(key)
                            .and_then(|k| k.as_array())
                            .into_iter()
                            .flatten()
                        {
                            if let Some(p) = p.as_str() {
                                all.insert(p.to_string());
                            }
                        }
                    }
                }
            }
        }
    }
    all.into_iter().collect()
}

/// `rg -c -i -w -F -f PHRASES FILE` over the reports, timed: the floor a phrase search over
/// the same bytes can reach. None when ripgrep is not installed.
fn ripgrep(phrases: &[String], reports: &Path) -> Option<(f64, String)> {
    let list = reports.with_extension("phrases");
    std::fs::write(&list, phrases.join("\n") + "\n").ok()?;
    let start = Instant::now();
    let out = Command::new("rg")
        .args(["-c", "-i", "-w", "-F", "-f"])
        .arg(&list)
        .arg(reports)
        .output()
        .ok()?;
    let wall = start.elapsed().as_secs_f64();
    Some((
        wall,
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
    ))
}

fn data(reports: usize, commitments: usize, words: &[String], stems: bool) -> (PathBuf, PathBuf) {
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&base).expect("bench data folder");
    let reports_path = base.join(format!("reports-{reports}.jsonl"));
    if !reports_path.exists() {
        let tmp = base.join(format!("reports-{reports}.jsonl.tmp"));
        write_reports(&tmp, reports, words).expect("write reports");
        std::fs::rename(&tmp, &reports_path).expect("rename");
    }
    let dense = std::env::args().any(|a| a == "--dense");
    let name = if dense {
        format!("rules-dense-{commitments}")
    } else if stems {
        format!("rules-{commitments}-stems")
    } else {
        format!("rules-{commitments}")
    };
    let rules = base.join(&name);
    if !rules.exists() {
        let tmp = base.join(format!("{name}.tmp"));
        let _ = std::fs::remove_dir_all(&tmp);
        if dense {
            write_dense_rules(&tmp, commitments).expect("write rules");
        } else {
            write_rules(&tmp, commitments, words, stems).expect("write rules");
        }
        std::fs::rename(&tmp, &rules).expect("rename");
    }
    (reports_path, rules)
}

fn point(reports: usize, commitments: usize, words: &[String]) {
    let stems = std::env::args().any(|a| a == "--stems");
    let (reports_path, rules) = data(reports, commitments, words, stems);
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
        "{}reports {reports:>9}  ({:>5} MiB)  commitments {commitments:>6}  read {:>9}  hits {evidence:>9}  wall {wall:>6.2} s  cpu {cpu:>6.2} s  peak RSS {rss:>7.1} MiB  {:>7.0} reports/s",
        if std::env::args().any(|a| a == "--dense") {
            "[hit-dense rules] "
        } else if stems {
            "[a third of the phrases stemmed] "
        } else {
            ""
        },
        size >> 20,
        v["reports"]["read"],
        reports as f64 / wall
    );
    if std::env::args().any(|a| a == "--dense") {
        match ripgrep(&phrases_of(&rules), &reports_path) {
            Some((rg_wall, lines)) => println!(
                "rg -c -i -w -F -f over the same file and phrases: {rg_wall:.2} s ({lines} lines match); replay / rg = {:.1}x",
                wall / rg_wall
            ),
            None => println!("rg (ripgrep) is not installed: no ratio"),
        }
    }
    if std::env::args().any(|a| a == "--history")
        || (!stems && (reports, commitments) == (1_000_000, 1000))
    {
        history_point(&rules, &reports_path, wall);
    }
}

/// `history --format json` over the same data: every commitment's change points over the
/// corpus's years, against the replay's wall time (target: at most twice it).
fn history_point(rules: &Path, reports_path: &Path, replay_wall: f64) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pledgewatch"));
    cmd.arg("history")
        .arg("--rules")
        .arg(rules)
        .arg("--reports")
        .arg(reports_path);
    cmd.args(["--format", "json", "--as-of", "2026-11-27"]);
    let (wall, cpu, rss, out) = measure(&mut cmd);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json output");
    let commitments: Vec<&serde_json::Value> = v["agreements"]
        .as_array()
        .map(|a| {
            a.iter()
                .flat_map(|a| a["commitments"].as_array().into_iter().flatten())
                .collect()
        })
        .unwrap_or_default();
    let changes: usize = commitments
        .iter()
        .map(|c| {
            c["changes"].as_array().map_or(0, Vec::len)
                + c["parties"].as_array().map_or(0, |p| {
                    p.iter()
                        .map(|p| p["changes"].as_array().map_or(0, Vec::len))
                        .sum()
                })
        })
        .sum();
    println!(
        "history of {} commitments: {changes} change points  wall {wall:>6.2} s  cpu {cpu:>6.2} s  peak RSS {rss:>7.1} MiB  ({:.2}x the replay)",
        commitments.len(),
        wall / replay_wall
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
