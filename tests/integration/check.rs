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
