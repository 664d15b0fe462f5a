//! `pledgewatch test`: rule tests through the real binary (docs/reference.md, Rule tests).

use super::*;

fn test_files(files: &[&Path]) -> Run {
    let mut cmd = pledgewatch();
    cmd.arg("test");
    for f in files {
        cmd.arg(f);
    }
    run(&mut cmd)
}

#[test]
fn the_seed_rules_tell_the_story_the_test_file_pins() {
    let r = test_files(&[&root().join("tests/rules/kgz-tjk-2007.test.toml")]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.stdout.trim_end(), "14 passed, 0 failed");
}

/// The second worked example of docs/writing-rules.md: its rules are clean even for
/// `check --strict`, and its test file passes.
#[test]
fn the_guide_s_second_agreement_tells_its_story() {
    let r = test_files(&[&root().join("tests/rules/arm-aze-rus-2020.test.toml")]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.stdout.trim_end(), "14 passed, 0 failed");
    let r = run(pledgewatch().args([
        "check",
        "--strict",
        "--rules",
        "examples/arm-aze-2020/rules",
    ]));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

#[test]
fn failures_name_file_line_target_date_field_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.test.toml");
    std::fs::write(
        &path,
        format!(
            "rules = {:?}\n\n[[report]]\ndate = 2008-05-16\nactors = [\"KGZ\", \"TJK\"]\nkind = \"meeting\"\ntitle = \"Bakiyev and Rahmon meet in Dushanbe\"\n\n\
             [[expect]]\nas_of = 2008-06-30\ntarget = \"kgz-tjk-2007/presidential-meetings\"\nstatus = \"on_track\"\nevidence = 1\n\n\
             [[expect]]\nas_of = 2009-12-31\ntarget = \"kgz-tjk-2007/presidential-meetings\"\nstatus = \"on_track\"\ndue = 2010-05-16\nscore = 1\n",
            root().join("rules")
        ),
    )
    .unwrap();
    let r = test_files(&[&path]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    let at = format!(
        "{}:15: kgz-tjk-2007/presidential-meetings at 2009-12-31: ",
        path.display()
    );
    assert!(
        lines[0].starts_with(&format!(
            "{at}expected status on_track, got paper_tiger (no joint meeting or stronger"
        )),
        "{}",
        r.stdout
    );
    assert!(
        lines[1].starts_with(&format!("{at}expected due 2010-05-16, got 2009-05-16 (")),
        "{}",
        r.stdout
    );
    assert!(
        lines[2].starts_with(&format!("{at}expected score 1, got -1 (")),
        "{}",
        r.stdout
    );
    assert_eq!(lines.last(), Some(&"1 passed, 1 failed"));
}

#[test]
fn invalid_test_files_rules_and_targets_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let rules = root().join("rules");
    let cases = [
        (format!("rules = {rules:?}\n[[expect]]\nas_of = 2009-12-31\ntarget = \"kgz-tjk-2007/energy\"\nstatus = \"paper_tiger\"\nstatsu = 1\n"), ":6:1: unknown field `statsu`"),
        (format!("rules = {rules:?}\n[[expect]]\nas_of = 2009-12-31\ntarget = \"kgz-tjk-2007/energy\"\nstatus = \"lapsed\"\n"), ":2:1: `status` \"lapsed\" is not one of"),
        (format!("rules = {rules:?}\n[[expect]]\nas_of = 2009-12-31\ntarget = \"kgz-tjk-2007/no-such\"\nstatus = \"pending\"\n"), ":2:1: no commitment kgz-tjk-2007/no-such"),
        (format!("rules = {rules:?}\n[[report]]\ndate = 2009-01-01\nactors = [\"KGZ\"]\nkind = \"talks\"\n[[expect]]\nas_of = 2009-12-31\ntarget = \"kgz-tjk-2007/energy\"\nstatus = \"paper_tiger\"\n"), ":2:1: [[report]]: field `kind`"),
        ("rules = \"no-such-folder\"\n[[expect]]\nas_of = 2009-12-31\ntarget = \"a/b\"\nstatus = \"pending\"\n".to_string(), "no-such-folder: cannot read rules folder"),
    ];
    for (i, (text, needle)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("{i}.test.toml"));
        std::fs::write(&path, text).unwrap();
        let r = test_files(&[&path]);
        assert_eq!(r.code, 2, "{text}\n{}{}", r.stdout, r.stderr);
        assert!(r.stderr.contains(needle), "{needle}: {}", r.stderr);
    }
    let r = run(pledgewatch().arg("test"));
    assert_eq!(r.code, 2, "no file is a usage error");
}

/// `pledgewatch test DIR` runs every `*.test.toml` under the folder; a folder without one
/// is a usage error, not a silent pass.
#[test]
fn a_folder_runs_every_test_file_in_it() {
    let r = test_files(&[&root().join("tests/rules")]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.stdout.trim_end(), "37 passed, 0 failed");
    let r = test_files(&[&root().join("src")]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("no *.test.toml file in this folder"),
        "{}",
        r.stderr
    );
}
