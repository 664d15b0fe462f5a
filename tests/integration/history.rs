//! `pledgewatch history` through the real binary: change points from files and from the
//! ledger, agreement with `replay` at many dates, and the `--every` tables.

use super::daemon::{Daemon, copy_examples};
use super::*;
use std::time::Duration;

fn history(args: &[&str]) -> Run {
    let r = run(pledgewatch().arg("history").args(args));
    assert_eq!(r.code, 0, "{}", r.stderr);
    r
}

fn from_examples(extra: &[&str]) -> Run {
    let mut args = vec![
        "--rules",
        "rules",
        "--reports",
        "examples/reports",
        "--as-of",
        "2026-11-27",
    ];
    args.extend_from_slice(extra);
    history(&args)
}

/// The status on `day` according to a commitment's JSON change points.
fn status_on(changes: &serde_json::Value, day: &str) -> Option<String> {
    changes
        .as_array()
        .unwrap()
        .iter()
        .take_while(|c| c["date"].as_str().unwrap() <= day)
        .last()
        .map(|c| c["status"].as_str().unwrap().to_string())
}

#[test]
fn change_points_agree_with_replay_at_every_probed_date() {
    let r = from_examples(&["--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["as_of"], "2026-11-27");
    assert_eq!(v["reports"]["read"], 49);
    let mc = commitment(&v, "military-cooperation");
    assert_eq!(mc["start"], "2007-09-18");
    // the reference's own example
    assert_eq!(
        mc["changes"].as_array().unwrap()[..3],
        serde_json::json!([
            {"date": "2007-09-18", "status": "pending"},
            {"date": "2008-09-19", "status": "overdue"},
            {"date": "2008-12-19", "status": "paper_tiger"}
        ])
        .as_array()
        .unwrap()[..]
    );
    let treaty = commitment(&v, "border-treaty-ratified");
    assert_eq!(treaty["parties"].as_array().unwrap().len(), 2);
    assert_eq!(mc["parties"], serde_json::json!([]));
    // every change date, the day before it, and a date in each year: as replay says
    let mut days: Vec<String> = Vec::new();
    for c in v["agreements"][0]["commitments"].as_array().unwrap() {
        for ch in c["changes"].as_array().unwrap() {
            let d = chrono::NaiveDate::parse_from_str(ch["date"].as_str().unwrap(), "%Y-%m-%d")
                .unwrap();
            days.push(d.to_string());
            days.push(d.pred_opt().unwrap().to_string());
        }
    }
    days.extend((2008..=2026).map(|y| format!("{y}-06-30")));
    days.sort();
    days.dedup();
    assert!(days.len() > 150, "{}", days.len());
    let reports = root().join("examples/reports");
    for day in days.iter().step_by(3) {
        let (replayed, _) = replay_json(&root().join("rules"), &[&reports], day);
        for (h, s) in v["agreements"][0]["commitments"]
            .as_array()
            .unwrap()
            .iter()
            .zip(replayed["agreements"][0]["commitments"].as_array().unwrap())
        {
            let expected = (h["start"].as_str().unwrap() <= day.as_str())
                .then(|| s["status"].as_str().unwrap().to_string());
            assert_eq!(
                status_on(&h["changes"], day),
                expected,
                "{} on {day}",
                h["id"]
            );
        }
    }
}

#[test]
fn every_year_is_a_table_with_the_score_last() {
    let r = from_examples(&["--every", "year", "--format", "csv"]);
    let lines: Vec<&str> = r.stdout.lines().collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    assert_eq!(
        &header[..4],
        ["agreement", "commitment", "party", "2007-12-31"]
    );
    assert_eq!(header.last(), Some(&"2026-11-27"));
    assert_eq!(
        header.len(),
        3 + 19 + 1,
        "2007..2025 year ends, then the as-of date"
    );
    let row = |c: &str| {
        lines
            .iter()
            .find(|l| l.starts_with(&format!("kgz-tjk-2007,{c},")))
            .unwrap()
            .split(',')
            .collect::<Vec<_>>()
    };
    let mc = row("military-cooperation");
    assert_eq!(mc[3], "pending");
    assert_eq!(mc[4], "paper_tiger", "2008-12-31");
    let kgz = lines
        .iter()
        .find(|l| l.starts_with("kgz-tjk-2007,border-treaty-ratified,KGZ,"))
        .unwrap();
    assert!(kgz.ends_with(",fulfilled"), "{kgz}");
    assert!(kgz.contains(",,"), "no status before the start: {kgz}");
    let last = lines.last().unwrap();
    assert!(last.starts_with("kgz-tjk-2007,(score),,"), "{last}");
    assert_eq!(
        lines.len(),
        1 + 16 + 2 + 1,
        "header, 16 commitments, 2 parties, score"
    );
    // the score per period is the mean of the scored statuses in that column
    let score_2008: f64 = last.split(',').nth(4).unwrap().parse().unwrap();
    let col: Vec<&str> = lines[1..lines.len() - 1]
        .iter()
        .filter(|l| l.split(',').nth(2) == Some(""))
        .map(|l| l.split(',').nth(4).unwrap())
        .collect();
    let scored: Vec<f64> = col
        .iter()
        .filter_map(|s| match *s {
            "on_track" | "fulfilled" => Some(1.0),
            "overdue" => Some(0.0),
            "paper_tiger" | "breached" => Some(-1.0),
            _ => None,
        })
        .collect();
    assert!((score_2008 - scored.iter().sum::<f64>() / scored.len() as f64).abs() < 0.01);
    // the same table in the other formats
    let r = from_examples(&["--every", "quarter", "--format", "markdown"]);
    assert!(
        r.stdout
            .contains("| Commitment | 2007-09-30 | 2007-12-31 |"),
        "{}",
        &r.stdout[..300]
    );
    assert!(r.stdout.contains("| **score** |"));
    let r = from_examples(&["--every", "month", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["dates"][0], "2007-09-30");
    let rows = v["agreements"][0]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 18);
    assert_eq!(
        rows[0]["statuses"].as_array().unwrap().len(),
        v["dates"].as_array().unwrap().len()
    );
    let r = from_examples(&["--every", "year"]);
    assert!(r.stdout.contains("(score)"));
}

#[test]
fn from_the_ledger_as_from_the_files_and_usage_errors() {
    let d = Daemon::start("", "2026-11-27");
    let n = copy_examples(&d);
    d.wait_until("every example taken", Duration::from_secs(30), |d| {
        d.count("state/processed") + d.count("state/rejected") >= n
    });
    std::thread::sleep(Duration::from_millis(300));
    let ledger = history(&[
        "--config",
        d.config.to_str().unwrap(),
        "--as-of",
        "2026-11-27",
        "--format",
        "json",
    ]);
    let files = from_examples(&["--format", "json"]);
    let (l, f): (serde_json::Value, serde_json::Value) = (
        serde_json::from_str(&ledger.stdout).unwrap(),
        serde_json::from_str(&files.stdout).unwrap(),
    );
    assert_eq!(l["agreements"], f["agreements"]);
    for bad in [
        vec!["--rules", "rules"],
        vec!["--every", "week"],
        vec![
            "--rules",
            "rules",
            "--reports",
            "examples/reports",
            "--format",
            "html",
        ],
    ] {
        let r = run(pledgewatch().arg("history").args(&bad));
        assert_eq!(r.code, 2, "{bad:?}: {}", r.stderr);
    }
}
