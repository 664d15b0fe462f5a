//! The event-dataset readers at scale (issue 16): `replay` of the real release binary over
//! synthetic ACLED-layout (comma-separated, RFC 4180 quotes) and POLECAT-layout
//! (tab-separated) files of 250,000, 500,000 and 1,000,000 rows against the seed rules;
//! wall and CPU time, rows per second and peak RSS (VmHWM, see benches/common/measure.rs).
//! Memory must not grow with the rows: the readers stream.
//!
//! The rows are made up here (ACLED's terms forbid redistributing its rows): countries drawn
//! from twenty of the table's, actor names in ACLED's style ("Military Forces of Kyrgyzstan
//! (2021-)", "Rioters (Tajikistan)"), every ACLED date format, one row in ten with a quoted
//! note holding commas, doubled quotes and a line end; POLECAT rows with PLOVER types and
//! contexts. Generated once into `target/bench-data/datasets/`.
//!
//! `cargo bench --bench datasets` runs every point; `-- --rows 1000000` one size.

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

/// (ISO numeric, name) of the countries the rows draw from.
const COUNTRIES: [(&str, &str); 20] = [
    ("417", "Kyrgyzstan"),
    ("762", "Tajikistan"),
    ("860", "Uzbekistan"),
    ("398", "Kazakhstan"),
    ("4", "Afghanistan"),
    ("643", "Russia"),
    ("156", "China"),
    ("364", "Iran"),
    ("792", "Türkiye"),
    ("804", "Ukraine"),
    ("31", "Azerbaijan"),
    ("51", "Armenia"),
    ("268", "Georgia"),
    ("586", "Pakistan"),
    ("356", "India"),
    ("729", "Sudan"),
    ("728", "South Sudan"),
    ("566", "Nigeria"),
    ("562", "Niger"),
    ("180", "Democratic Republic of the Congo"),
];

const ALPHA3: [&str; 20] = [
    "KGZ", "TJK", "UZB", "KAZ", "AFG", "RUS", "CHN", "IRN", "TUR", "UKR", "AZE", "ARM", "GEO",
    "PAK", "IND", "SDN", "SSD", "NGA", "NER", "COD",
];

const ACLED_EVENTS: [(&str, &str, &str); 8] = [
    ("Political violence", "Battles", "Armed clash"),
    (
        "Political violence",
        "Explosions/Remote violence",
        "Shelling/artillery/missile attack",
    ),
    ("Political violence", "Violence against civilians", "Attack"),
    ("Political violence", "Riots", "Mob violence"),
    ("Demonstrations", "Protests", "Peaceful protest"),
    (
        "Strategic developments",
        "Strategic developments",
        "Agreement",
    ),
    (
        "Strategic developments",
        "Strategic developments",
        "Arrests",
    ),
    (
        "Strategic developments",
        "Strategic developments",
        "Headquarters or base established",
    ),
];

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

const ACLED_HEADER: &str = "event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,actor1,assoc_actor_1,inter1,actor2,assoc_actor_2,inter2,interaction,civilian_targeting,iso,region,country,admin1,admin2,admin3,location,latitude,longitude,geo_precision,source,source_scale,notes,fatalities,tags,timestamp";

const POLECAT_TYPES: [&str; 10] = [
    "CONSULT",
    "AGREE",
    "COOPERATE",
    "AID",
    "ASSAULT",
    "COERCE",
    "PROTEST",
    "ACCUSE",
    "REQUEST",
    "SUPPORT",
];

const POLECAT_CONTEXTS: [&str; 8] = [
    "military",
    "intelligence",
    "territory",
    "economic",
    "migration",
    "terrorism",
    "elections",
    "human rights",
];

fn date(rng: &mut Rng) -> chrono::NaiveDate {
    let start = chrono::NaiveDate::from_ymd_opt(2007, 1, 1).expect("date");
    start + chrono::Days::new(rng.below(19 * 365) as u64)
}

fn acled_row(rng: &mut Rng, i: usize, line: &mut String) {
    use chrono::Datelike;
    let d = date(rng);
    let (a, b) = (rng.below(20), rng.below(20));
    let (disorder, event, sub) = ACLED_EVENTS[rng.below(ACLED_EVENTS.len())];
    let when = match i % 3 {
        0 => d.format("%d/%m/%Y").to_string(),
        1 => format!("{} {} {}", d.day(), MONTHS[d.month0() as usize], d.year()),
        _ => d.to_string(),
    };
    let notes = if i.is_multiple_of(10) {
        format!(
            "\"On {when}, forces of {} and {} clashed near the border, \"\"heavy\"\" fire reported.\nA second source, in another line.\"",
            COUNTRIES[a].1, COUNTRIES[b].1
        )
    } else {
        format!(
            "Forces of {} and {} met near the border",
            COUNTRIES[a].1, COUNTRIES[b].1
        )
    };
    let _ = writeln!(
        line,
        "BX{i},{when},{},1,{disorder},{event},{sub},Military Forces of {} (2000-),,1,Rioters ({}),,5,15,,{},Asia,{},Province,District,,Town,40.1,70.2,1,Synthetic source,National,{notes},{},,1700000000",
        d.year(),
        COUNTRIES[a].1,
        COUNTRIES[b].1,
        COUNTRIES[a].0,
        COUNTRIES[a].1,
        rng.below(30)
    );
}

fn polecat_row(rng: &mut Rng, i: usize, line: &mut String) {
    let d = date(rng);
    let (a, b) = (rng.below(20), rng.below(20));
    let kind = POLECAT_TYPES[rng.below(POLECAT_TYPES.len())];
    let contexts = format!(
        "{};{}",
        POLECAT_CONTEXTS[rng.below(8)],
        POLECAT_CONTEXTS[rng.below(8)]
    );
    // half the recipients as names, half as codes, as releases mix them
    let recipient = if i.is_multiple_of(2) {
        COUNTRIES[b].1
    } else {
        ALPHA3[b]
    };
    let mut fields = vec!["None"; 39];
    let id = format!("px{i}");
    let when = d.to_string();
    let actor = format!("Government of {}", COUNTRIES[a].1);
    let recipient_name = format!("Government of {}", COUNTRIES[b].1);
    fields[0] = &id;
    fields[1] = &when;
    fields[2] = kind;
    fields[6] = &contexts;
    fields[7] = &actor;
    fields[8] = ALPHA3[a];
    fields[15] = &recipient_name;
    fields[16] = recipient;
    fields[23] = "Town";
    fields[25] = "Province";
    fields[26] = COUNTRIES[a].1;
    fields[32] = "Synthetic source";
    fields[33] = &when;
    line.push_str(&fields.join("\t"));
    line.push('\n');
}

const POLECAT_HEADER: &str = "Event ID\tEvent Date\tEvent Type\tEvent Mode\tIntensity\tQuad Code\tContexts\tActor Name\tActor Country\tActor COW\tPrimary Actor Sector\tActor Sectors\tActor Title\tActor Name Raw\tWikipedia Actor ID\tRecipient Name\tRecipient Country\tRecipient COW\tPrimary Recipient Sector\tRecipient Sectors\tRecipient Title\tRecipient Name Raw\tWikipedia Recipient ID\tPlacename\tCity\tProvince\tCountry\tLatitude\tLongitude\tGeoNames ID\tRaw Placename\tFeature Type\tSource\tPublication Date\tStory People\tStory Organizations\tStory Locations\tLanguage\tVersion";

/// Writes `rows` rows of `dataset` (once) and returns the file.
fn data(dataset: &str, rows: usize) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data/datasets");
    std::fs::create_dir_all(&dir).expect("data folder");
    let (name, header) = match dataset {
        "acled" => (format!("acled-{rows}.csv"), ACLED_HEADER),
        _ => (format!("polecat-{rows}.txt"), POLECAT_HEADER),
    };
    let path = dir.join(name);
    if std::fs::metadata(&path).is_ok() {
        return path;
    }
    write(&path, dataset, header, rows).expect("write the data");
    path
}

fn write(path: &Path, dataset: &str, header: &str, rows: usize) -> std::io::Result<()> {
    let tmp = path.with_extension("part");
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp)?);
    writeln!(out, "{header}")?;
    let mut rng = Rng(16);
    let mut line = String::with_capacity(1024);
    for i in 0..rows {
        line.clear();
        if dataset == "acled" {
            acled_row(&mut rng, i, &mut line);
        } else {
            polecat_row(&mut rng, i, &mut line);
        }
        out.write_all(line.as_bytes())?;
    }
    out.flush()?;
    std::fs::rename(tmp, path)
}

fn point(dataset: &str, rows: usize) {
    let file = data(dataset, rows);
    let mib = std::fs::metadata(&file).map(|m| m.len() >> 20).unwrap_or(0);
    let rules = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("rules");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pledgewatch"));
    cmd.arg("replay")
        .arg("--rules")
        .arg(&rules)
        .arg("--reports");
    cmd.arg(&file);
    cmd.args(["--format", "json", "--as-of", "2026-11-27"]);
    let (wall, cpu, rss, out) = measure(&mut cmd);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json output");
    println!(
        "{dataset:<7} {rows:>9} rows ({mib:>4} MiB)  read {:>9}  rejected {:>3}  skipped {:>7}  wall {wall:>6.2} s  cpu {cpu:>6.2} s  {:>8.0} rows/s  peak RSS {rss:>6.1} MiB",
        v["reports"]["read"],
        v["reports"]["rejected"],
        v["reports"]["skipped"],
        rows as f64 / wall
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rows = args
        .iter()
        .position(|a| a == "--rows")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse::<usize>().ok());
    let sizes = match rows {
        Some(n) => vec![n],
        None => vec![250_000, 500_000, 1_000_000],
    };
    for dataset in ["acled", "polecat"] {
        for &n in &sizes {
            point(dataset, n);
        }
    }
}
