use super::*;

#[test]
fn seed_rules_pass_with_a_summary() {
    let r = run(pledgewatch().args(["check", "--rules", "rules"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.starts_with("ok: 1 agreement, 16 commitments"),
        "{}",
        r.stdout
    );
    assert_eq!(r.stdout.lines().count(), 1);
}

const BROKEN: &str = r#"[agreement]
id = "a"
title = "A"
parties = ["KGZ", "TJK"]
signed = 2007-09-18
colour = "red"

[[commitment]]
id = "c1"
title = "window and deadline"
window = "6mo"
deadline = 2009-01-01

[[commitment.evidence]]
cameo = ["06"]

[[commitment]]
id = "c1"
title = "duplicate id, no timing, stranger party"
parties = ["UZB"]

[[commitment.evidence]]

[[commitment]]
id = "c3"
title = "bad values"
window = "6 months"
grace = "1q"
[[commitment.evidence]]
keywrds = ["x"]

[[commitment]]
id = "c4"
title = "crontab with both day fields"
cadence = "0 0 1 * 1"
[[commitment.evidence]]
kinds = ["action"]

[[commitment]]
id = "c5"
title = "bad cron"
cadence = "0 0 0 32 * *"
[[commitment.evidence]]
kinds = ["action"]
"#;

#[test]
fn every_problem_is_reported_with_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(rules.join("a.toml"), BROKEN).unwrap();
    std::fs::write(rules.join("b.toml"), "[agreement]\nid = \"a\"\n").unwrap();
    std::fs::write(rules.join("c.toml"), "[agreement\n").unwrap();
    let r = run(pledgewatch().arg("check").arg("--rules").arg(&rules));
    assert_eq!(r.code, 1, "{}", r.stdout);
    let a = rules.join("a.toml").display().to_string();
    let expected = [
        format!("{a}:6:1: unknown key `colour` in [agreement]"),
        format!(
            "{a}:12:12: commitment \"c1\" must have exactly one of `window`, `cadence` or `deadline`"
        ),
        format!("{a}:18:6: commitment id `c1` is already used on line 9"),
        format!("{a}:17:1: commitment \"c1\" needs one of `window`, `cadence` or `deadline`"),
        format!("{a}:20:11: party \"UZB\" of commitment \"c1\" is not a party of the agreement"),
        format!("{a}:22:1: evidence alternative 1 of commitment \"c1\" has no field"),
        format!("{a}:27:10: `window` in commitment \"c3\": invalid duration \"6 months\""),
        format!("{a}:28:9: `grace` in commitment \"c3\": invalid duration \"1q\""),
        format!(
            "{a}:30:1: unknown key `keywrds` in evidence alternative 1 of commitment \"c3\" (did you mean `keywords`?)"
        ),
        format!(
            "{a}:35:11: `cadence` in commitment \"c4\": invalid cron expression \"0 0 1 * 1\": day-of-month (1) and day-of-week (1) are both restricted"
        ),
        format!("{a}:42:11: `cadence` in commitment \"c5\": invalid cron expression"),
        format!(
            "{}:1:1: [agreement] is missing `title`",
            rules.join("b.toml").display()
        ),
        format!(
            "{}:1:1: the agreement has no [[commitment]]",
            rules.join("b.toml").display()
        ),
        format!("{}:1:11: TOML syntax error", rules.join("c.toml").display()),
    ];
    for e in &expected {
        assert!(
            r.stderr.lines().any(|l| l.starts_with(e.as_str())),
            "missing {e:?} in\n{}",
            r.stderr
        );
    }
    assert!(r.stderr.contains("problems in 3 files"), "{}", r.stderr);
}

#[test]
fn duplicate_agreement_ids_across_files() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    let seed = std::fs::read_to_string(root().join("rules/kgz-tjk-2007.toml")).unwrap();
    std::fs::write(rules.join("a.toml"), &seed).unwrap();
    std::fs::write(rules.join("b.toml"), &seed).unwrap();
    let r = run(pledgewatch().arg("check").arg("--rules").arg(&rules));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("b.toml: agreement id `kgz-tjk-2007` is already used by"),
        "{}",
        r.stderr
    );
}

#[test]
fn check_reads_rules_dir_from_config() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pw.toml");
    std::fs::write(
        &config,
        format!(
            "rules_dir = {:?}\n",
            root().join("rules").display().to_string()
        ),
    )
    .unwrap();
    let r = run(pledgewatch().arg("check").arg("--config").arg(&config));
    assert_eq!(r.code, 0, "{}", r.stderr);
    // and from $PLEDGEWATCH_CONFIG
    let r = run(pledgewatch()
        .arg("check")
        .env("PLEDGEWATCH_CONFIG", &config));
    assert_eq!(r.code, 0, "{}", r.stderr);
    // relative rules_dir is relative to the config's folder
    std::fs::create_dir(dir.path().join("r")).unwrap();
    std::fs::write(config.as_path(), "rules_dir = \"r\"\n").unwrap();
    let r = run(pledgewatch().arg("check").arg("--config").arg(&config));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains(&format!(
            "{}: no rule files",
            dir.path().join("r").display()
        )),
        "{}",
        r.stderr
    );
}

#[test]
fn bad_config_is_ex_config() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pw.toml");
    std::fs::write(&config, "rules_dir = \"r\"\n[log]\nformat = \"xml\"\n").unwrap();
    let r = run(pledgewatch().arg("check").arg("--config").arg(&config));
    assert_eq!(r.code, 78);
    assert!(
        r.stderr.contains("pw.toml:3:10: log.format"),
        "{}",
        r.stderr
    );
    let r = run(pledgewatch()
        .arg("check")
        .arg("--config")
        .arg(dir.path().join("missing.toml")));
    assert_eq!(r.code, 78);
    assert!(r.stderr.contains("cannot read config"), "{}", r.stderr);
}

#[test]
fn missing_or_empty_rules_folder() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(pledgewatch()
        .arg("check")
        .arg("--rules")
        .arg(dir.path().join("nope")));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("cannot read rules folder"),
        "{}",
        r.stderr
    );
    let r = run(pledgewatch().arg("check").arg("--rules").arg(dir.path()));
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no rule files"), "{}", r.stderr);
}

const DOUBTFUL: &str = r#"[agreement]
id = "a"
title = "A"
parties = ["KGZ", "TJK"]
signed = 2007-09-18

[[commitment]]
id = "talks"
title = "Hold border talks"
min_strength = "meeting"
window = "30d"
grace = "90d"
breach_window = "0d"

[[commitment.evidence]]
keywords = ["border talks", "Border  Talks", "delimitation"]
not_keywords = ["delimitation"]

[[commitment.evidence]]
kinds = ["incident", "statement"]
all_keywords = ["border", "draft"]
not_keywords = ["draft"]

[[commitment.evidence]]
cameo = ["19"]

[[commitment.breach]]
cameo = ["19"]
"#;

/// Valid but doubtful rules are warned about at their place, saying what they mean; the
/// exit stays 0 unless `--strict`.
#[test]
fn warnings_are_located_and_strict_makes_them_fail() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.toml"), DOUBTFUL).unwrap();
    let r = run(pledgewatch().arg("check").arg("--rules").arg(dir.path()));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.ends_with("(7 warnings)\n"), "{}", r.stdout);
    let file = dir.path().join("a.toml");
    let at = |line: usize, column: usize| format!("{}:{line}:{column}: warning: ", file.display());
    let expected = [
        format!(
            "{}`grace` \"90d\" of commitment \"talks\" is longer than its `window` \"30d\": it would stay overdue longer than it had to act before becoming a paper tiger",
            at(12, 9)
        ),
        format!(
            "{}`breach_window` \"0d\" of commitment \"talks\" is zero: a breach shows as `breached` on its own day only",
            at(13, 17)
        ),
        format!(
            "{}\"Border  Talks\" is listed twice in `keywords` of evidence alternative 1 of commitment \"talks\" (first on line 16); once is enough",
            at(16, 29)
        ),
        format!(
            "{}\"delimitation\" is in both `keywords` and `not_keywords` of evidence alternative 1 of commitment \"talks\": a report with it never counts through this alternative",
            at(16, 46)
        ),
        format!(
            "{}evidence alternative 2 of commitment \"talks\" only takes kinds [incident, statement], all weaker than the commitment's min_strength meeting: every report it matches is talk, never evidence of follow-up",
            at(20, 9)
        ),
        format!(
            "{}\"draft\" is in both `all_keywords` and `not_keywords` of evidence alternative 2 of commitment \"talks\": the alternative can never hold (the phrase is required and forbidden)",
            at(21, 27)
        ),
        format!(
            "{}evidence alternative 3 of commitment \"talks\" is the same as breach alternative 1: a breach outweighs evidence, so it can never count as follow-up",
            at(24, 1)
        ),
    ];
    let lines: Vec<&str> = r.stderr.lines().collect();
    for e in &expected {
        assert!(lines.contains(&e.as_str()), "missing {e}\nin\n{}", r.stderr);
    }
    assert_eq!(lines.len(), expected.len(), "{}", r.stderr);
    let strict = run(pledgewatch()
        .arg("check")
        .arg("--strict")
        .arg("--rules")
        .arg(dir.path()));
    assert_eq!(strict.code, 1);
    assert_eq!(strict.stderr, r.stderr);
    // the seed rules are clean even when strict
    let seed = run(pledgewatch().args(["check", "--strict", "--rules", "rules"]));
    assert_eq!(seed.code, 0, "{}", seed.stderr);
    assert_eq!(seed.stderr, "");
}

/// `all_topics` is a matcher field like the others: validated, listed in the messages that
/// name the fields, and warned about where it makes `topics` say nothing.
#[test]
fn all_topics_is_validated_and_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let head = "[agreement]\nid = \"a\"\ntitle = \"A\"\nparties = [\"KGZ\", \"TJK\"]\nsigned = 2021-01-01\n\n[[commitment]]\nid = \"m\"\ntitle = \"M\"\nwindow = \"1y\"\n[[commitment.evidence]]\n";
    let file = dir.path().join("a.toml");
    std::fs::write(&file, format!("{head}all_topics = []\n")).unwrap();
    let r = run(pledgewatch().arg("check").arg("--rules").arg(dir.path()));
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stderr.contains(&format!(
            "{}:12:14: `all_topics` in evidence alternative 1 of commitment \"m\" is an empty list",
            file.display()
        )),
        "{}",
        r.stderr
    );
    std::fs::write(&file, format!("{head}all_topics = [\"military\", 3]\n")).unwrap();
    let r = run(pledgewatch().arg("check").arg("--rules").arg(dir.path()));
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains(":12:"), "{}", r.stderr);
    std::fs::write(&file, format!("{head}all_topics = []\ntopcs = [\"x\"]\n")).unwrap();
    let r = run(pledgewatch().arg("check").arg("--rules").arg(dir.path()));
    assert!(
        r.stderr.contains("all_topics"),
        "the known keys are listed: {}",
        r.stderr
    );
    std::fs::write(
        &file,
        format!("{head}topics = [\"COOPERATE\", \"Military\"]\nall_topics = [\"military\", \"military\"]\n"),
    )
    .unwrap();
    let r = run(pledgewatch().arg("check").arg("--rules").arg(dir.path()));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{}", r.stderr);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("\"Military\" is in both `topics` and `all_topics`")),
        "{}",
        r.stderr
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("\"military\" is listed twice in `all_topics`")),
        "{}",
        r.stderr
    );
}
