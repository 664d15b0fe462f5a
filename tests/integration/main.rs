//! Integration tests through the real `pledgewatch` binary (one test binary, as ripgrep does).

// A benchmark or test stops at the first surprise: unwrap and expect are its asserts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

mod check;
mod corpus;
mod daemon;
mod datasets;
mod delivery;
mod docs;
mod explain;
mod faults;
mod feed;
mod fuzz;
mod history;
mod html;
mod httpd;
mod layout;
mod properties;
mod replay;
mod reports;
mod ruletest;
mod schema;
mod story;
mod systemd;

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// Held by tests that change machine-wide state (an inotify sysctl) or need the machine
/// quiet (booting systemd in a container), so that they never overlap.
pub static MACHINE_WIDE: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The repository root.
/// A test that cannot run here (a tool missing, or `PLEDGEWATCH_SKIP_E2E` set) says so
/// where a person sees it — written past the test harness's capture — and under CI
/// (`CI=true`, as `.ci/run` runs there) fails instead: there a missing tool must never
/// read as a pass.
pub fn skip(test: &str, why: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{test} cannot run: {why} (under CI=true a test may not skip; install what it needs in .ci/run)"
        );
    }
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED {test}: {why}");
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary, run from the repository root, with no config in the environment.
pub fn pledgewatch() -> Command {
    let mut cmd = Command::cargo_bin("pledgewatch").expect("binary builds");
    cmd.current_dir(root())
        .env_remove("PLEDGEWATCH_CONFIG")
        .env_remove("NO_COLOR");
    cmd
}

/// Output of a command: exit code, stdout, stderr.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(cmd: &mut Command) -> Run {
    let out = cmd.output().expect("binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `replay --format json` of `reports` against `rules` at `as_of`, parsed.
pub fn replay_json(rules: &Path, reports: &[&Path], as_of: &str) -> (serde_json::Value, Run) {
    let mut cmd = pledgewatch();
    cmd.arg("replay").arg("--rules").arg(rules).arg("--reports");
    for r in reports {
        cmd.arg(r);
    }
    cmd.args(["--as-of", as_of, "--format", "json"]);
    let r = run(&mut cmd);
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    let v = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout));
    (v, r)
}

/// The commitment `id` of the first agreement in a JSON output.
pub fn commitment<'a>(v: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    v["agreements"][0]["commitments"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("no commitment {id}"))
}

/// A one-agreement rules folder in `dir` with the given commitment blocks.
pub fn write_rules(dir: &Path, commitments: &str) -> PathBuf {
    let rules = dir.join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("a.toml"),
        format!(
            "[agreement]\nid = \"a\"\ntitle = \"A\"\nparties = [\"KGZ\", \"TJK\"]\nsigned = 2007-09-18\n\n{commitments}"
        ),
    )
    .unwrap();
    rules
}
