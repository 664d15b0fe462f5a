use super::*;

fn examples() -> Vec<String> {
    [
        "replay",
        "--rules",
        "rules",
        "--reports",
        "examples/reports",
        "--as-of",
        "2009-12-31",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn json_has_exactly_the_spec_shape() {
    let (v, _) = replay_json(
        Path::new("rules"),
        &[Path::new("examples/reports")],
        "2009-12-31",
    );
    let keys = |v: &serde_json::Value| -> Vec<String> {
        v.as_object().unwrap().keys().cloned().collect::<Vec<_>>()
    };
    let mut top = keys(&v);
    top.sort();
    assert_eq!(top, ["agreements", "as_of", "reports"]);
    assert_eq!(v["as_of"], "2009-12-31");
    assert_eq!(
        v["reports"],
        serde_json::json!({"read": 49, "rejected": 0, "skipped": 1})
    );
    let a = &v["agreements"][0];
    let mut ak = keys(a);
    ak.sort();
    assert_eq!(ak, ["commitments", "id", "score", "title"]);
    let c = commitment(&v, "military-cooperation");
    let mut ck = keys(c);
    ck.sort();
    assert_eq!(
        ck,
        [
            "breach_days",
            "breaches",
            "due",
            "evidence",
            "evidence_days",
            "id",
            "last_breach",
            "last_evidence",
            "parties",
            "reason",
            "score",
            "status",
            "talk",
            "talk_days"
        ]
    );
    assert_eq!(c["last_evidence"], serde_json::Value::Null);
    assert_eq!(c["score"], -1);
    assert_eq!(c["parties"], serde_json::json!([]));
    let each = commitment(&v, "border-treaty-ratified");
    assert_eq!(
        each["parties"],
        serde_json::json!([
            {"party": "KGZ", "status": "pending", "due": "2025-12-31", "last_evidence": null},
            {"party": "TJK", "status": "pending", "due": "2025-12-31", "last_evidence": null}
        ])
    );
    // rule-file order
    let ids: Vec<&str> = a["commitments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        &ids[..3],
        [
            "military-cooperation",
            "training-facilities",
            "border-commission"
        ]
    );
    // agreement score: mean of the scored commitments
    let scores: Vec<f64> = a["commitments"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["score"].as_f64())
        .collect();
    let mean = scores.iter().sum::<f64>() / scores.len() as f64;
    assert!((a["score"].as_f64().unwrap() - mean).abs() < 1e-12);
}

#[test]
fn text_is_a_table_without_colour_when_piped() {
    let r = run(pledgewatch().args(examples()));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .starts_with("as of 2009-12-31: 49 reports read, 0 rejected, 1 skipped"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("STATUS       COMMITMENT"), "{}", r.stdout);
    assert!(r.stdout.contains("  paper_tiger  military-cooperation    2008-09-18  -              no joint agreement or action"));
    assert!(!r.stdout.contains('\x1b'), "no colour codes in a pipe");
}

#[test]
fn markdown_is_a_pasteable_report() {
    let mut args = examples();
    args.extend(["--format".into(), "markdown".into()]);
    let r = run(pledgewatch().args(args));
    assert_eq!(r.code, 0);
    assert!(
        r.stdout
            .starts_with("# Commitment status as of 2009-12-31\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("## Kyrgyz-Tajik joint statement, Bishkek (`kgz-tjk-2007`)")
    );
    assert!(r.stdout.contains(
        "| Status | Commitment | Due | Last evidence | Evidence | Talk | Breaches | Reason |"
    ));
    assert!(r.stdout.contains("| **paper tiger** | Strengthen military co-operation (`military-cooperation`) | 2008-09-18 | - | 0 | 0 | 0 |"));
}

#[test]
fn fail_on_exits_3_only_when_a_status_is_present() {
    let mut args = examples();
    args.extend(["--fail-on".into(), "paper_tiger,breached".into()]);
    assert_eq!(run(pledgewatch().args(&args)).code, 3);
    let mut args = examples();
    args.extend(["--fail-on".into(), "fulfilled".into()]);
    assert_eq!(
        run(pledgewatch().args(&args)).code,
        0,
        "nothing is fulfilled in 2009"
    );
    let mut args = examples();
    args.extend(["--fail-on".into(), "paper-tiger".into()]);
    let r = run(pledgewatch().args(&args));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is not a status"), "{}", r.stderr);
}

#[test]
fn usage_errors() {
    let r = run(pledgewatch().args([
        "replay",
        "--rules",
        "rules",
        "--reports",
        "examples/reports",
        "--as-of",
        "2009-13-01",
    ]));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not a date"), "{}", r.stderr);
    let r = run(pledgewatch().args(["replay", "--rules", "rules"]));
    assert_eq!(r.code, 2);
    let r = run(pledgewatch().args(["replay", "--rules", "rules", "--reports", "no/such/path"]));
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no/such/path"), "{}", r.stderr);
    let r = run(pledgewatch().args([
        "replay",
        "--rules",
        "examples",
        "--reports",
        "examples/reports",
    ]));
    assert_eq!(r.code, 1, "a folder with no rule files");
}

#[test]
fn as_of_defaults_to_today_utc() {
    let (v, _) = {
        let r = run(pledgewatch().args([
            "replay",
            "--rules",
            "rules",
            "--reports",
            "examples/reports",
            "--format",
            "json",
        ]));
        (
            serde_json::from_str::<serde_json::Value>(&r.stdout).unwrap(),
            r,
        )
    };
    let today = chrono::Utc::now().date_naive().to_string();
    assert_eq!(v["as_of"], today.as_str());
}

/// On a terminal (a pseudo-terminal from util-linux `script`), the text table is coloured and
/// a long replay draws a progress bar on stderr.
#[test]
fn terminal_gets_colour_and_a_progress_bar() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.jsonl");
    let mut text = String::new();
    for i in 0..30_000 {
        text.push_str(&format!(
            "{{\"date\": \"2010-01-01\", \"actors\": [\"KGZ\", \"TJK\"], \"kind\": \"action\", \"title\": \"joint exercise {i}\", \"body\": \"{}\"}}\n",
            "x".repeat(150)
        ));
    }
    std::fs::write(&big, text).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("pledgewatch");
    let command = format!(
        "{} replay --rules {} --reports {} --as-of 2010-02-01",
        bin.display(),
        root().join("rules").display(),
        big.display()
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_remove("NO_COLOR")
        .output()
        .expect("util-linux `script` is installed (.ci/run installs it)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("% ") && text.contains(" MiB"),
        "no progress bar: {text:?}"
    );
    assert!(
        text.contains("\x1b[2K"),
        "the bar is cleared before the table"
    );
    assert!(
        text.contains("\x1b[32mon_track"),
        "statuses are coloured: {text:?}"
    );
    // NO_COLOR turns colour off
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("\x1b[32m"));
}

/// A corpus where ids repeat across and inside files with other content (the later wins)
/// replays exactly as the corpus of only the winning records, written by the test itself:
/// the binary's bounded path (which takes superseded records back in a second reading)
/// against the simple meaning of "later wins".
#[test]
fn many_repeated_ids_replay_as_their_last_versions() {
    let dir = tempfile::tempdir().unwrap();
    let (all, last) = (dir.path().join("all"), dir.path().join("last"));
    std::fs::create_dir_all(&all).unwrap();
    std::fs::create_dir_all(&last).unwrap();
    let words = [
        "joint exercise",
        "border commission",
        "talks",
        "clash",
        "water",
    ];
    let kinds = ["statement", "meeting", "agreement", "action", "incident"];
    let mut state = 7u64;
    let mut next = |n: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % n
    };
    let mut winners: std::collections::BTreeMap<u64, String> = Default::default();
    for file in 0..5 {
        let mut text = String::new();
        for _ in 0..400 {
            let id = next(150);
            let line = format!(
                "{{\"id\": \"r{id}\", \"date\": \"{}-{:02}-{:02}\", \"actors\": [\"KGZ\", \"TJK\"], \"kind\": \"{}\", \"title\": \"{}\"}}",
                2008 + next(12),
                1 + next(12),
                1 + next(28),
                kinds[next(5) as usize],
                words[next(5) as usize]
            );
            text.push_str(&line);
            text.push('\n');
            winners.insert(id, line);
        }
        std::fs::write(all.join(format!("{file}.jsonl")), text).unwrap();
    }
    let winning: String = winners.values().map(|l| format!("{l}\n")).collect();
    std::fs::write(last.join("last.jsonl"), winning).unwrap();
    for as_of in ["2009-12-31", "2014-06-30", "2020-01-01"] {
        let (a, _) = replay_json(&root().join("rules"), &[&all], as_of);
        let (b, _) = replay_json(&root().join("rules"), &[&last], as_of);
        assert_eq!(a["reports"]["read"], 150);
        assert_eq!(a, b, "at {as_of}");
    }
}
