//! `explain`: from files as from the ledger, and "why (not)" with `--report`.

use crate::daemon::{Daemon, copy_examples};
use crate::{pledgewatch, root, run, write_rules};
use std::time::Duration;

/// The same reports give the same explanation, whether the daemon took them into its
/// ledger or `explain` reads them from the files.
#[test]
fn from_files_as_from_the_ledger() {
    let d = Daemon::start("", "2025-06-01");
    copy_examples(&d);
    d.wait_until("all files processed", Duration::from_secs(30), |d| {
        d.count("inbox") == 0
    });
    let rules = std::fs::read_to_string(root().join("rules/kgz-tjk-2007.toml")).unwrap();
    let ids: Vec<&str> = rules
        .split("[[commitment]]\nid = \"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert!(ids.len() >= 16, "{ids:?}");
    for id in ids {
        let target = format!("kgz-tjk-2007/{id}");
        let target = target.as_str();
        let ledger = run(pledgewatch()
            .args(["explain", target, "--as-of", "2025-06-01", "--config"])
            .arg(&d.config));
        assert_eq!(ledger.code, 0, "{}", ledger.stderr);
        let files = run(pledgewatch().args([
            "explain",
            target,
            "--as-of",
            "2025-06-01",
            "--rules",
            "rules",
            "--reports",
            "examples/reports",
        ]));
        assert_eq!(files.code, 0, "{}", files.stderr);
        assert_eq!(files.stdout, ledger.stdout, "{target}");
        assert!(files.stdout.contains("\ntimeline ("), "{}", files.stdout);
    }
    let r = run(pledgewatch().args([
        "explain",
        "kgz-tjk-2007/border-commission",
        "--as-of",
        "2025-06-01",
        "--rules",
        "rules",
        "--reports",
        "examples/reports",
    ]));
    assert!(
        r.stdout.contains(
            "2023-10-02  evidence  agreement  KGZ,TJK      Protocol No. 44 signed in Batken; 43.32 km of the border agreed  [evidence alternative 1 (\"delimitation\", \"km of the border\"); evidence alternative 2 (\"border\", \"agreed\"); id "
        ),
        "{}",
        r.stdout
    );
}

const RULES: &str = r#"[[commitment]]
id = "demarcation"
title = "Continue demarcation talks"
follow_up_by = "joint"
min_strength = "meeting"
window = "1y"

[[commitment.evidence]]
keywords = ["демаркац* границ*", "border talks"]
not_keywords = ["draft"]

[[commitment.evidence]]
cameo = ["04"]
topics = ["border"]

[[commitment.breach]]
kinds = ["incident"]
all_keywords = ["border", "clash*"]
"#;

/// Each report of the file taken apart: the missing party, the field that failed, the
/// phrase found (stems included) and where, the strength verdict, the date window; a
/// refused record is listed in its place and makes the exit 1.
#[test]
fn why_not_names_the_party_the_field_the_phrase_and_the_strength() {
    let dir = tempfile::tempdir().unwrap();
    let rules = write_rules(dir.path(), RULES);
    let file = dir.path().join("reports.jsonl");
    let lines = [
        // talk: a statement is weaker than a meeting
        r#"{"id": "talk", "date": "2021-06-01", "actors": ["KGZ", "TJK"], "kind": "statement", "title": "Заявление", "body": "Стороны обсудили демаркацию границы."}"#,
        // out of scope: TJK is missing for a joint commitment
        r#"{"id": "alone", "date": "2021-06-02", "actors": ["KGZ"], "kind": "meeting", "title": "Border talks in Batken"}"#,
        // a not_keyword holds it back; the CAMEO alternative lacks the topic
        r#"{"id": "draft", "date": "2021-06-03", "actors": ["KGZ", "TJK"], "cameo": "043", "title": "Border talks on a draft"}"#,
        // a breach outweighs evidence
        r#"{"id": "clash", "date": "2021-06-04", "actors": ["KGZ", "TJK"], "kind": "incident", "title": "Border talks fail, clashes at Kok-Tash"}"#,
        // before the start
        r#"{"id": "early", "date": "2007-01-01", "actors": ["KGZ", "TJK"], "kind": "meeting", "title": "Border talks"}"#,
        r#"{"id": "bad", "date": "2021-13-01", "actors": ["KGZ"], "kind": "meeting"}"#,
    ];
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let r = run(pledgewatch()
        .args([
            "explain",
            "a/demarcation",
            "--as-of",
            "2022-01-01",
            "--rules",
        ])
        .arg(&rules)
        .arg("--report")
        .arg(&file));
    assert_eq!(
        r.code, 1,
        "a refused record: exit 1\n{}{}",
        r.stdout, r.stderr
    );
    let out = &r.stdout;
    let section = |id: &str| -> &str {
        let start = out
            .find(&format!("(id {id})"))
            .unwrap_or_else(|| panic!("no {id} in {out}"));
        let end = out[start..]
            .find("\nreport ")
            .map_or(out.len(), |e| start + e);
        &out[start..end]
    };
    let expected: &[(&str, &[&str])] = &[
        (
            "talk",
            &[
                "verdict: talk (evidence alternative 1 holds, but the report is weaker than min_strength)",
                "strength: statement is weaker than min_strength meeting: a match is talk only",
                "keywords (one must occur): yes — \"демаркац* границ*\" found in the body as \"демаркацию границы\"; not found: \"border talks\"",
                "not_keywords (none may occur): yes — not found: \"draft\"",
                "date: 2021-06-01 is inside 2007-09-18 .. 2022-01-01, the counted dates",
            ],
        ),
        (
            "alone",
            &[
                "verdict: not counted: outside the actor scope",
                "actors: out of scope, missing TJK — KGZ present, TJK missing; joint follow-up needs all of KGZ, TJK in one report",
            ],
        ),
        (
            "draft",
            &[
                "verdict: not counted: no evidence or breach alternative holds (evidence alternative 1 fails on not_keywords; evidence alternative 2 fails on topics)",
                "not_keywords (none may occur): no — \"draft\" found in the title as \"draft\"",
                "evidence alternative 2: does not hold\n    cameo [04]: yes — the report's code is 043\n    topics [border]: no — the report has no topics",
            ],
        ),
        (
            "clash",
            &[
                "verdict: breach (breach alternative 1 holds); it counts",
                "strength: incident; a breach outweighs any evidence in the same report",
                "evidence alternative 1: holds",
                "all_keywords (all must occur): yes — \"border\" found in the title as \"border\"; \"clash*\" found in the title as \"clashes\"",
            ],
        ),
        (
            "early",
            &[
                "verdict: evidence (evidence alternative 1 holds); but it is dated outside the counted dates, so it does not count",
                "date: 2007-01-01 is before the commitment's start 2007-09-18",
            ],
        ),
    ];
    for (id, needles) in expected {
        let text = section(id);
        for needle in *needles {
            assert!(text.contains(needle), "{id}: {needle}\n{text}");
        }
    }
    assert!(out.contains("report 5 of 5 in "), "{out}");
    assert!(
        out.contains("rejected: ") && out.contains("reports.jsonl:6: field `date`"),
        "{out}"
    );
}

/// The rules may come from the daemon's config (its rules_dir) without reading the ledger;
/// usage errors exit 2.
#[test]
fn why_not_with_the_config_and_usage_errors() {
    let d = Daemon::new(crate::daemon::setup(""));
    let report = root().join("examples/reports/2022-10-13-astana-meeting.toml");
    let r = run(pledgewatch()
        .args([
            "explain",
            "kgz-tjk-2007/presidential-meetings",
            "--as-of",
            "2023-01-01",
            "--config",
        ])
        .arg(&d.config)
        .arg("--report")
        .arg(&report));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("report 1 of 1 in "), "{}", r.stdout);
    assert!(!d.path("state").exists(), "no ledger was made");
    for args in [
        &[
            "explain",
            "kgz-tjk-2007/border-commission",
            "--rules",
            "rules",
        ][..],
        &[
            "explain",
            "kgz-tjk-2007/border-commission",
            "--reports",
            "examples/reports",
        ],
        &[
            "explain",
            "kgz-tjk-2007/border-commission",
            "--rules",
            "rules",
            "--reports",
            "examples/reports",
            "--report",
            "examples/reports/2014.jsonl",
        ],
    ] {
        let r = run(pledgewatch().args(args));
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
    }
    let r = run(pledgewatch().args([
        "explain",
        "kgz-tjk-2007/no-such",
        "--rules",
        "rules",
        "--report",
        "examples/reports/2014.jsonl",
    ]));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("no such commitment in rules"),
        "{}",
        r.stderr
    );
}
