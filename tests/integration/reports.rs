//! Input formats, ids and rejections, through `replay`.

use super::*;

const ANY_ACTION: &str = "[[commitment]]\nid = \"c\"\ntitle = \"C\"\nwindow = \"10y\"\nfollow_up_by = \"any\"\nmin_strength = \"action\"\n\
    [[commitment.evidence]]\nkinds = [\"action\", \"meeting\", \"statement\", \"agreement\"]\n";

fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let rules = write_rules(dir.path(), ANY_ACTION);
    let reports = dir.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    (dir, rules, reports)
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn every_format_is_read() {
    let (_d, rules, reports) = setup();
    write(
        &reports,
        "a.toml",
        "date = 2010-01-01\nactors = [\"KGZ\"]\nkind = \"action\"\ntitle = \"t\"\n",
    );
    write(
        &reports,
        "b.JSON",
        r#"{"date": "2010-01-02", "actors": ["KGZ"], "kind": "action"}"#,
    );
    write(
        &reports,
        "c.json",
        r#"[{"date": "2010-01-03", "actors": ["KGZ"], "cameo": "062"}, {"date": "2010-01-04", "actors": ["TJK"], "kind": "meeting"}]"#,
    );
    write(
        &reports,
        "d.jsonl",
        "{\"date\": \"2010-01-05\", \"actors\": [\"KGZ\"], \"kind\": \"action\"}\n\n{\"date\": \"2010-01-06T23:30:00-02:00\", \"actors\": [\"KGZ\"], \"kind\": \"action\"}\n",
    );
    write(
        &reports,
        "e.ndjson",
        "{\"date\": \"2010-01-08\", \"actors\": [\"KGZ\"], \"kind\": \"action\"}\n",
    );
    write(
        &reports,
        "f.md",
        "+++\ndate = 2010-01-09\nactors = [\"KGZ\"]\nkind = \"action\"\n+++\nBody text.\n",
    );
    write(
        &reports,
        "g.TXT",
        "\u{feff}+++\r\ndate = 2010-01-10\r\nactors = [\"KGZ\"]\r\nkind = \"action\"\r\n+++\r\n",
    );
    let tsv_row = |id: &str, date: &str| {
        let mut c = vec![""; 58];
        c[0] = id;
        c[1] = date;
        c[7] = "KGZ";
        c[26] = "0871";
        c.join("\t")
    };
    write(
        &reports,
        "h.tsv",
        &format!("{}\n", tsv_row("1", "20100111")),
    );
    let mut v2 = vec![""; 61];
    v2[0] = "2";
    v2[1] = "20100112";
    v2[17] = "TJK";
    v2[26] = "061";
    write(&reports, "i.export.CSV", &format!("{}\n", v2.join("\t")));
    write(&reports, ".hidden.json", "not read");
    write(&reports, "partial.json.part", "not read");
    std::fs::create_dir(reports.join("sub")).unwrap();
    write(
        &reports.join("sub"),
        "j.toml",
        "date = 2010-01-13\nactors = [\"KGZ\"]\nkind = \"action\"\n",
    );
    let (v, r) = replay_json(&rules, &[&reports], "2010-12-31");
    assert_eq!(
        v["reports"],
        serde_json::json!({"read": 12, "rejected": 0, "skipped": 0}),
        "{}",
        r.stderr
    );
    let c = commitment(&v, "c");
    // the TJK meeting is talk (weaker than action); everything else is evidence
    assert_eq!(
        (c["evidence"].as_u64(), c["talk"].as_u64()),
        (Some(11), Some(1))
    );
    assert_eq!(c["last_evidence"], "2010-01-13");
}

#[test]
fn rejected_records_name_file_place_and_field_and_the_rest_is_taken() {
    let (_d, rules, reports) = setup();
    write(
        &reports,
        "a.jsonl",
        concat!(
            "{\"date\": \"2010-01-01\", \"actors\": [\"KGZ\"], \"kind\": \"action\"}\n",
            "{\"date\": \"2023-02-30\", \"actors\": [\"KGZ\"], \"kind\": \"action\"}\n",
            "{\"date\": \"2010-01-03\", \"actors\": [], \"kind\": \"action\"}\n",
            "{\"date\": \"2010-01-04\", \"actors\": [\"KGZ\"], \"kind\": \"talks\"}\n",
            "{\"date\": \"2010-01-05\", \"actors\": [\"KGZ\"], \"cameo\": \"6a\"}\n",
            "{\"date\": \"2010-01-06\", \"actors\": [\"KGZ\"]}\n",
            "{\"actors\": [\"KGZ\"], \"kind\": \"action\"}\n",
            "{broken\n",
            "{\"date\": \"2010-01-09\", \"actors\": [\"KGZ\"], \"kind\": \"action\", \"titel\": \"typo\"}\n",
            "{\"date\": \"2010-01-10\", \"actors\": [\"KGZ\"], \"kind\": \"action\"}\n",
        ),
    );
    write(
        &reports,
        "b.json",
        r#"[{"date": "2010-02-01", "actors": ["KGZ"], "kind": "action"}, 7, {"date": 20100203, "actors": ["KGZ"], "kind": "action"}]"#,
    );
    write(
        &reports,
        "c.toml",
        "date = 2010-03-01\nactors = \"KGZ\"\nkind = \"action\"\n",
    );
    write(
        &reports,
        "d.md",
        "+++\ndate = 2010-03-02\nactors = [\"KGZ\"]\n",
    );
    write(&reports, "e.pdf", "%PDF");
    write(
        &reports,
        "f.json",
        r#"[{"date": "2010-04-01", "actors": ["KGZ"], "kind": "action"}, {"date": "#,
    );
    let (v, r) = replay_json(&rules, &[&reports], "2010-12-31");
    let p = |name: &str| reports.join(name).display().to_string();
    let expected = [
        format!(
            "rejected: {}:2: field `date`: invalid date \"2023-02-30\"",
            p("a.jsonl")
        ),
        format!(
            "rejected: {}:3: field `actors`: must list at least one party code",
            p("a.jsonl")
        ),
        format!(
            "rejected: {}:4: field `kind`: \"talks\" is not one of",
            p("a.jsonl")
        ),
        format!(
            "rejected: {}:5: field `cameo`: \"6a\" is not a CAMEO code",
            p("a.jsonl")
        ),
        format!(
            "rejected: {}:6: field `kind`: is required unless `cameo` is given",
            p("a.jsonl")
        ),
        format!("rejected: {}:7: field `date`: is required", p("a.jsonl")),
        format!(
            "rejected: {}:8: JSON error: key must be a string",
            p("a.jsonl")
        ),
        format!(
            "rejected: {}:9: field `titel`: unknown field `titel`",
            p("a.jsonl")
        ),
        format!(
            "rejected: {}: record 2: a report must be a JSON object, found a number",
            p("b.json")
        ),
        format!(
            "rejected: {}: record 3: field `date`: must be a date",
            p("b.json")
        ),
        format!(
            "rejected: {}:2: field `actors`: must be a list of strings, found a string",
            p("c.toml")
        ),
        format!(
            "rejected: {}:1: the front matter opened on line 1 is never closed",
            p("d.md")
        ),
        format!("rejected: {}: unsupported file type", p("e.pdf")),
        format!("rejected: {}: JSON error: EOF while parsing", p("f.json")),
    ];
    for e in &expected {
        assert!(
            r.stderr.lines().any(|l| l.starts_with(e.as_str())),
            "missing {e:?} in\n{}",
            r.stderr
        );
    }
    assert_eq!(
        v["reports"],
        serde_json::json!({"read": 4, "rejected": 14, "skipped": 0}),
        "{}",
        r.stderr
    );
    assert_eq!(
        commitment(&v, "c")["last_evidence"],
        "2010-04-01",
        "records before a syntax error are taken"
    );
}

#[test]
fn same_content_in_two_files_is_one_report() {
    let (_d, rules, reports) = setup();
    write(
        &reports,
        "a.toml",
        "date = 2010-01-01\nactors = [\"KGZ\", \"TJK\"]\nkind = \"action\"\ntitle = \"Joint exercise\"\n",
    );
    write(
        &reports,
        "b.json",
        r#"{"title": "Joint exercise", "kind": "action", "actors": ["kgz", "TJK"], "date": "2010-01-01"}"#,
    );
    write(
        &reports,
        "c.md",
        "+++\ndate = 2010-01-01\nactors = [\"KGZ\", \"TJK\"]\nkind = \"action\"\ntitle = \"Joint exercise\"\n+++\n",
    );
    let (v, _) = replay_json(&rules, &[&reports], "2010-12-31");
    assert_eq!(v["reports"]["read"], 1);
    assert_eq!(commitment(&v, "c")["evidence"], 1);
    // and naming the same file twice on the command line changes nothing
    let (v, _) = replay_json(&rules, &[&reports, &reports.join("a.toml")], "2010-12-31");
    assert_eq!(v["reports"]["read"], 1);
}

#[test]
fn repeated_explicit_id_later_in_path_order_wins() {
    let (_d, rules, reports) = setup();
    write(
        &reports,
        "a.json",
        r#"{"id": "r1", "date": "2010-01-01", "actors": ["KGZ"], "kind": "action"}"#,
    );
    write(
        &reports,
        "b.json",
        r#"{"id": "r1", "date": "2010-06-01", "actors": ["KGZ"], "kind": "meeting"}"#,
    );
    let (v, _) = replay_json(&rules, &[&reports], "2010-12-31");
    let c = commitment(&v, "c");
    assert_eq!(v["reports"]["read"], 1);
    assert_eq!(
        (c["evidence"].as_u64(), c["talk"].as_u64()),
        (Some(0), Some(1)),
        "b.json replaced a.json"
    );
}

#[test]
fn real_gdelt_exports_every_row_read_or_skipped() {
    // Row counts of the two published files (wc -l): 2,111 (GDELT 2.0) and 710 (GDELT 1.0).
    // Rows with neither Actor1CountryCode (column 7) nor Actor2CountryCode (column 17):
    // 392 and 133 (awk -F'\t' '$8=="" && $18==""'). All other rows are reports.
    let dir = root().join("tests/data/gdelt");
    let rules = tempfile::tempdir().unwrap();
    let rules_dir = write_rules(rules.path(), ANY_ACTION);
    let (v, r) = replay_json(
        &rules_dir,
        &[&dir.join("20191024143000.export.CSV")],
        "2020-01-01",
    );
    assert_eq!(
        v["reports"],
        serde_json::json!({"read": 1719, "rejected": 0, "skipped": 392}),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("392 GDELT row(s) without Actor1CountryCode or Actor2CountryCode")
    );
    let (v, _) = replay_json(
        &rules_dir,
        &[&dir.join("gdelt1-daily-20160728-sample.tsv")],
        "2020-01-01",
    );
    assert_eq!(
        v["reports"],
        serde_json::json!({"read": 577, "rejected": 0, "skipped": 133})
    );
    let (v, _) = replay_json(&rules_dir, &[&dir], "2020-01-01");
    assert_eq!(
        v["reports"],
        serde_json::json!({"read": 2296, "rejected": 0, "skipped": 525})
    );
}

#[test]
fn gdelt_rows_with_wrong_shape_are_rejected_by_line() {
    let (_d, rules, reports) = setup();
    let mut good = vec![""; 61];
    good[0] = "1";
    good[1] = "20100101";
    good[7] = "KGZ";
    good[26] = "042";
    let good = good.join("\t");
    let short = "1\t20100101\tKGZ";
    let bad_date = good.replacen("20100101", "20101301", 1);
    let quoted = good.replacen("042", "\"042\"", 1);
    write(
        &reports,
        "x.csv",
        &format!("{good}\n{short}\n{bad_date}\n{quoted}\n"),
    );
    let (v, r) = replay_json(&rules, &[&reports], "2010-12-31");
    assert_eq!(
        v["reports"],
        serde_json::json!({"read": 1, "rejected": 3, "skipped": 0})
    );
    let p = reports.join("x.csv").display().to_string();
    assert!(
        r.stderr
            .contains(&format!("{p}:2: row has 3 tab-separated columns")),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!("{p}:3: field `SQLDATE`")),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!(
            "{p}:4: field `EventCode`: \"\\\"042\\\"\" is not a CAMEO event code"
        )),
        "{}",
        r.stderr
    );
}

#[test]
fn compressed_feeds_are_read_and_bombs_stopped() {
    let (_d, rules, reports) = setup();
    let bad = root().join("tests/corpus/bad");
    for f in ["good.jsonl.gz", "reports.zip", "bomb.zip"] {
        std::fs::copy(bad.join(f), reports.join(f)).unwrap();
    }
    let (v, r) = replay_json(&rules, &[&reports], "2010-12-31");
    // 2 reports from the .gz, 3 from the .zip (2 JSON lines and a TOML report)
    assert_eq!(v["reports"]["read"], 5, "{}", r.stderr);
    let p = |f: &str| reports.join(f).display().to_string();
    assert!(
        r.stderr.contains(&format!(
            "{}:notes.pdf: unsupported file type",
            p("reports.zip")
        )),
        "{}",
        r.stderr
    );
    // replay's limit on unpacked content is 4 GiB: the bomb's one 200 MiB line streams through
    // and is refused by the line-length limit, never held in memory (the daemon stops it at
    // inbox.max_file_size: see the corpus test)
    assert!(
        r.stderr.contains(&format!(
            "{}:reports.jsonl:1: line of 209715200 bytes is longer than the limit",
            p("bomb.zip")
        )),
        "{}",
        r.stderr
    );
    assert_eq!(commitment(&v, "c")["talk"], 5);
}
