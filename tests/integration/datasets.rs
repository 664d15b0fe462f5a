//! The event datasets (ACLED, UCDP GED, ICEWS, POLECAT) through the real binary: every
//! path (replay, history, explain, test, the daemon), compressed files, day counts, and
//! bad input that refuses a row, never the rest.

use super::daemon::{Daemon, setup};
use super::*;
use std::io::Write;
use std::time::Duration;

fn examples() -> PathBuf {
    root().join("examples/datasets")
}

/// Writes the example file `name` gzipped to `to`.
fn gzip_example(name: &str, to: &Path) {
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(to).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(&std::fs::read(examples().join(name)).unwrap())
        .unwrap();
    enc.finish().unwrap();
}

const ACLED_HEADER: &str = "event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,actor1,assoc_actor_1,inter1,actor2,assoc_actor_2,inter2,interaction,civilian_targeting,iso,region,country,admin1,admin2,admin3,location,latitude,longitude,geo_precision,source,source_scale,notes,fatalities,tags,timestamp\n";

/// One ACLED-layout row (written for these tests) with the given id, date, event and
/// sub-event type and notes; actors are the two armies, the place Batken (iso 417).
fn acled_row(id: &str, date: &str, event: &str, sub: &str, notes: &str) -> String {
    format!(
        "{id},{date},2021,1,Political violence,{event},{sub},Military Forces of Kyrgyzstan (2021-),,1,Military Forces of Tajikistan (1994-),,1,11,,417,Central Asia,Kyrgyzstan,Batken,,,Kok-Tash,39.8,70.4,1,Test,National,{notes},0,,1\n"
    )
}

/// The commitment `id` of the seed agreement in a status or replay object.
fn seed<'a>(v: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    commitment(v, id)
}

#[test]
fn the_four_datasets_count_as_published_with_days() {
    let (v, r) = replay_json(&root().join("rules"), &[&examples()], "2021-05-05");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        v["reports"],
        serde_json::json!({"read": 33, "rejected": 0, "skipped": 0})
    );
    let m = seed(&v, "military-cooperation");
    assert_eq!(m["status"], "breached");
    assert_eq!((&m["breaches"], &m["breach_days"]), (&11.into(), &5.into()));
    assert!(
        m["reason"]
            .as_str()
            .unwrap()
            .starts_with("11 breach reports on 5 days, the last on 2021-04-30"),
        "{m}"
    );
    let b = seed(&v, "border-security");
    assert_eq!(
        (&b["evidence"], &b["evidence_days"]),
        (&2.into(), &1.into())
    );
    // the Markdown and HTML scorecards speak of days too
    let md = run(pledgewatch()
        .args(["replay", "--rules", "rules", "--as-of", "2021-05-05"])
        .args(["--format", "markdown", "--reports"])
        .arg(examples()));
    assert!(md.stdout.contains("| 11 on 5 days |"), "{}", md.stdout);
    let html = run(pledgewatch()
        .args(["replay", "--rules", "rules", "--as-of", "2021-05-05"])
        .args(["--format", "html", "--reports"])
        .arg(examples()));
    assert!(
        html.stdout
            .contains("11 reports: evidence 0, talk 0, breaches 11 on 5 days"),
        "{}",
        html.stdout
    );
}

#[test]
fn history_explain_and_rule_tests_read_the_datasets() {
    let r = run(pledgewatch()
        .args(["history", "--rules", "rules", "--as-of", "2022-01-01"])
        .args(["--format", "json", "--reports"])
        .arg(examples()));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let changes = &seed(&v, "military-cooperation")["changes"];
    let breached_on: Vec<&str> = changes
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "breached")
        .map(|c| c["date"].as_str().unwrap())
        .collect();
    assert_eq!(
        breached_on,
        ["2014-01-11", "2019-03-13", "2021-04-29"],
        "{changes}"
    );

    let r = run(pledgewatch()
        .args([
            "explain",
            "kgz-tjk-2007/military-cooperation",
            "--rules",
            "rules",
        ])
        .args(["--as-of", "2021-05-05", "--reports"])
        .arg(examples()));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("evidence 0, talk 0, breaches 11 on 5 days"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("icews-930000004"), "{}", r.stdout);
    assert!(r.stdout.contains("acled-PWX0001"), "{}", r.stdout);

    // why (not): the POLECAT exercise row, field by field, all_topics included
    let r = run(pledgewatch()
        .args([
            "explain",
            "kgz-tjk-2007/military-cooperation",
            "--rules",
            "rules",
        ])
        .args(["--as-of", "2025-10-01", "--report"])
        .arg(examples().join("polecat-kgz-tjk.txt")));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("all_topics [military]: yes"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("polecat-20250915-pw5"), "{}", r.stdout);

    let r = run(pledgewatch()
        .arg("test")
        .arg(root().join("tests/rules/datasets.test.toml")));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.stdout.trim_end(), "9 passed, 0 failed");
}

#[test]
fn compressed_exports_are_read_like_plain_ones() {
    let dir = tempfile::tempdir().unwrap();
    gzip_example("acled-kgz-tjk.csv", &dir.path().join("acled.csv.gz"));
    let zip_path = dir.path().join("events.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    for name in [
        "icews-kgz-tjk.tab",
        "polecat-kgz-tjk.txt",
        "ucdp-ged-kgz-tjk.csv",
    ] {
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(&std::fs::read(examples().join(name)).unwrap())
            .unwrap();
    }
    zip.finish().unwrap();
    let (packed, r) = replay_json(&root().join("rules"), &[dir.path()], "2025-12-01");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (plain, _) = replay_json(&root().join("rules"), &[&examples()], "2025-12-01");
    assert_eq!(packed["reports"]["read"], 33);
    assert_eq!(packed["agreements"], plain["agreements"]);
}

/// Bad rows are refused one by one with file, line and column; the rest is taken. A
/// quoted field may hold commas, quotes and line ends; a row of ISO-8859-1 bytes is read;
/// an unknown country is skipped and counted; the later record of an id wins; an
/// unterminated quote refuses only the record it opens.
#[test]
fn bad_rows_are_refused_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let rules = write_rules(
        dir.path(),
        "[[commitment]]\nid = \"c\"\ntitle = \"C\"\nwindow = \"10y\"\nmin_strength = \"agreement\"\n\
         [[commitment.evidence]]\ntopics = [\"Agreement\"]\n\
         [[commitment.breach]]\ntopics = [\"Armed clash\"]\n\n\
         [[commitment]]\nid = \"d\"\ntitle = \"D\"\nwindow = \"10y\"\n\
         [[commitment.evidence]]\nkeywords = [\"précis\"]\n",
    );
    let reports = dir.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    let mut text: Vec<u8> = ACLED_HEADER.as_bytes().to_vec();
    let rows = [
        acled_row(
            "A1",
            "29/04/2021",
            "Battles",
            "Armed clash",
            "\"Fire, \"\"heavy\"\",\nall day\"",
        ),
        acled_row("", "29/04/2021", "Battles", "Armed clash", "no id"),
        acled_row("A3", "2021-13-01", "Battles", "Armed clash", "bad date"),
        acled_row(
            "A4",
            "1 May 2021",
            "Strategic developments",
            "Agreement",
            "ceasefire",
        ),
        acled_row(
            "A4",
            "2 May 2021",
            "Strategic developments",
            "Agreement",
            "ceasefire, corrected",
        ),
    ];
    for r in &rows {
        text.extend_from_slice(r.as_bytes());
    }
    // ISO-8859-1 bytes in a row: read, not refused
    text.extend_from_slice(
        acled_row("A6", "03/05/2021", "Battles", "Armed clash", "Pr\u{e9}cis")
            .replace('\u{e9}', "\u{1}")
            .as_bytes(),
    );
    let latin1 = text.iter().rposition(|&b| b == 1).unwrap();
    text[latin1] = 0xe9;
    // actors that name no country, iso unknown: skipped
    text.extend_from_slice(
        "A7,2021-05-04,2021,1,x,Riots,Mob violence,Rioters (Atlantis),,5,,,,,,999,,,,,,,,,,,,,,,\n"
            .as_bytes(),
    );
    // an unterminated quote at the end: one record refused, named by its first line
    text.extend_from_slice(
        acled_row(
            "A8",
            "2021-05-05",
            "Battles",
            "Armed clash",
            "\"never closed",
        )
        .as_bytes(),
    );
    text.extend_from_slice(b"tail line\n");
    let file = reports.join("acled.csv");
    std::fs::write(&file, &text).unwrap();
    let (v, r) = replay_json(&rules, &[&reports], "2021-06-01");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        v["reports"],
        serde_json::json!({"read": 3, "rejected": 3, "skipped": 1}),
        "{}",
        r.stderr
    );
    let shown = file.display();
    for line in [
        format!("{shown}:4: field `event_id_cnty`: is required"),
        format!(
            "{shown}:5: field `event_date`: invalid date \"2021-13-01\" (expected YYYY-MM-DD, DD/MM/YYYY or D Month YYYY)"
        ),
        format!(
            "{shown}:10: unterminated quote: the record that starts here runs to the end of the file (line 11); refused"
        ),
    ] {
        assert!(r.stderr.contains(&line), "missing {line}\nin\n{}", r.stderr);
    }
    assert!(
        r.stderr
            .contains("1 dataset row(s) skipped: no country of the table"),
        "{}",
        r.stderr
    );
    let c = commitment(&v, "c");
    assert_eq!(
        c["last_evidence"], "2021-05-02",
        "the later record of A4 wins"
    );
    assert_eq!((&c["evidence"], &c["breaches"]), (&1.into(), &2.into()));
    assert_eq!(c["last_breach"], "2021-05-03");
    // the ISO-8859-1 row's notes read as "Précis": a keyword finds it (as talk: a battle)
    let d = commitment(&v, "d");
    assert_eq!((&d["talk"], &d["talk_days"]), (&1.into(), &1.into()), "{d}");
}

#[test]
fn a_header_with_only_some_columns_is_not_the_dataset_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let rules = write_rules(
        dir.path(),
        "[[commitment]]\nid = \"c\"\ntitle = \"C\"\nwindow = \"10y\"\n[[commitment.evidence]]\nkinds = [\"action\"]\n",
    );
    let reports = dir.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    std::fs::write(
        reports.join("partial.csv"),
        "event_id_cnty,event_date,event_type,actor1\nX1,2021-04-29,Battles,Rioters (Kyrgyzstan)\n",
    )
    .unwrap();
    std::fs::write(reports.join("header-only.csv"), ACLED_HEADER).unwrap();
    std::fs::write(
        reports.join("header-only.tab"),
        "Event ID\tEvent Date\tCAMEO Code\tSource Country\tTarget Country\r\n",
    )
    .unwrap();
    let (v, r) = replay_json(&rules, &[&reports], "2021-06-01");
    assert_eq!(v["reports"]["read"], 0);
    assert_eq!(v["reports"]["rejected"], 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "partial.csv:1: row has 1 tab-separated columns; GDELT 1.0 has 57 or 58, GDELT 2.0 has 61 (the first line names some columns of an ACLED export but not sub_event_type, iso, so it is not read as one)"
        ),
        "{}",
        r.stderr
    );
}

/// The daemon takes the dataset files from its inbox (one compressed), and `status` from
/// the ledger says what `replay` says, day counts included. A quoted field longer than
/// `inbox.max_line_length` refuses its record, not the file, and is never held.
#[test]
fn the_daemon_takes_the_datasets_and_its_ledger_agrees_with_replay() {
    let mut d = Daemon::new(setup(""));
    std::fs::write(
        &d.config,
        std::fs::read_to_string(&d.config)
            .unwrap()
            .replace("[inbox]\n", "[inbox]\nmax_line_length = \"64KiB\"\n"),
    )
    .unwrap();
    d.spawn("2025-12-01", &[]);
    for name in [
        "ucdp-ged-kgz-tjk.csv",
        "icews-kgz-tjk.tab",
        "polecat-kgz-tjk.txt",
    ] {
        d.drop_file(
            name,
            &std::fs::read_to_string(examples().join(name)).unwrap(),
        );
    }
    let gz = d.path("inbox/.acled.csv.gz.tmp");
    gzip_example("acled-kgz-tjk.csv", &gz);
    std::fs::rename(&gz, d.path("inbox/acled.csv.gz")).unwrap();
    let huge = format!("\"{}\"", "x".repeat(200_000));
    let big = format!(
        "{ACLED_HEADER}{}{}",
        acled_row("B1", "2021-04-29", "Battles", "Armed clash", &huge),
        acled_row(
            "B2",
            "2021-04-28",
            "Battles",
            "Armed clash",
            "after the long one"
        )
    );
    d.drop_file("long-field.csv", &big);
    d.wait_until("all taken", Duration::from_secs(30), |d| {
        d.count("inbox") == 0 && d.count("state/processed") >= 6
    });
    let error = std::fs::read_to_string(d.path("state/processed/long-field.csv.error")).unwrap();
    assert!(
        error.contains(":2: record of 200"),
        "the long record is refused by its line: {error}"
    );
    assert!(
        error.contains("longer than the limit of 65536 bytes"),
        "{error}"
    );
    // what the daemon took of the long file: its second record
    let taken = d.path("taken");
    std::fs::create_dir(&taken).unwrap();
    std::fs::write(
        taken.join("long-field.csv"),
        format!(
            "{ACLED_HEADER}{}",
            acled_row(
                "B2",
                "2021-04-28",
                "Battles",
                "Armed clash",
                "after the long one"
            )
        ),
    )
    .unwrap();
    for as_of in ["2021-05-05", "2022-09-20", "2025-12-01"] {
        let status = d.status_json(as_of);
        let (replay, _) = replay_json(&root().join("rules"), &[&examples(), &taken], as_of);
        assert_eq!(status["reports"]["read"], 34);
        assert_eq!(status["agreements"], replay["agreements"], "at {as_of}");
    }
    assert_eq!(d.stop(), 0);
}

/// A 200 MB quoted field (NUL bytes: a sparse file, nothing written to disk) in an ACLED
/// export, between two good rows, with the file-size limit raised above it: the record is
/// refused at the default 16 MiB line limit, never held in memory, and the rows around it
/// are taken.
#[test]
fn a_200_mb_quoted_field_is_refused_in_bounded_memory() {
    const LONG: u64 = 200_000_000;
    let d = Daemon::start("", "2021-12-31");
    d.set_inbox_keys("max_file_size = \"512MiB\"");
    let staging = d.path("long-field.csv");
    let before = acled_row("L1", "2021-04-28", "Battles", "Armed clash", "before");
    let row = acled_row("L2", "2021-04-29", "Battles", "Armed clash", "NOTES");
    let (head, tail) = row.split_once("NOTES").unwrap();
    std::fs::write(&staging, format!("{ACLED_HEADER}{before}{head}\"")).unwrap();
    let f = std::fs::File::options()
        .append(true)
        .open(&staging)
        .unwrap();
    let start = f.metadata().unwrap().len();
    f.set_len(start + LONG).unwrap();
    let after = acled_row("L3", "2021-04-30", "Battles", "Armed clash", "after");
    (&f).write_all(format!("\"{tail}{after}").as_bytes())
        .unwrap();
    drop(f);
    std::fs::rename(&staging, d.path("inbox/long-field.csv")).unwrap();
    d.wait_until("taken", Duration::from_secs(300), |d| d.count("inbox") == 0);
    let error = std::fs::read_to_string(d.path("state/processed/long-field.csv.error")).unwrap();
    assert!(
        error.contains(":3: record of ")
            && error.contains("longer than the limit of 16777216 bytes"),
        "{error}"
    );
    assert_eq!(d.status_json("2021-12-31")["reports"]["read"], 2);
    let peak_kib = d.peak_rss_kib();
    eprintln!("peak RSS of the daemon: {peak_kib} KiB");
    assert!(peak_kib < 100 * 1024, "peak RSS {peak_kib} KiB");
}
