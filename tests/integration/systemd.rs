//! The systemd units: `systemd-analyze` checks, and the end-to-end run under a real systemd
//! (tests/systemd-e2e.sh: debootstrap + systemd-nspawn, needs root).

use super::*;

/// The unit with ExecStart pointing at the binary under test, so that `verify` finds it.
fn unit_for_test(dir: &Path) -> PathBuf {
    let bin = assert_cmd::cargo::cargo_bin("pledgewatch");
    let unit = std::fs::read_to_string(root().join("systemd/pledgewatch.service"))
        .unwrap()
        .replace(
            "ExecStart=/usr/bin/pledgewatch",
            &format!("ExecStart={}", bin.display()),
        );
    let path = dir.join("pledgewatch.service");
    std::fs::write(&path, unit).unwrap();
    path
}

#[test]
fn unit_verifies_cleanly_and_is_hardened() {
    let dir = tempfile::tempdir().unwrap();
    let unit = unit_for_test(dir.path());
    let out = std::process::Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .output()
        .expect("systemd-analyze is installed (package systemd)");
    assert!(out.status.success());
    // verify exits 0 on unknown keys and bad values: only stderr tells
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "",
        "systemd-analyze verify complained"
    );
    let out = std::process::Command::new("systemd-analyze")
        .args(["security", "--offline=true"])
        .arg(&unit)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let exposure: f64 = text
        .lines()
        .find_map(|l| {
            l.split("Overall exposure level for pledgewatch.service: ")
                .nth(1)
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in:\n{text}"));
    assert!(exposure <= 1.0, "exposure {exposure} > 1.0");
}

#[test]
fn sysusers_and_tmpfiles_declare_user_and_setgid_inbox() {
    let sysusers = std::fs::read_to_string(root().join("systemd/pledgewatch.sysusers")).unwrap();
    assert!(sysusers.lines().any(|l| l.starts_with("u pledgewatch ")));
    let tmpfiles = std::fs::read_to_string(root().join("systemd/pledgewatch.tmpfiles")).unwrap();
    assert!(
        tmpfiles
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == [
                    "d",
                    "/var/lib/pledgewatch/inbox",
                    "2770",
                    "pledgewatch",
                    "pledgewatch",
                    "-"
                ])
    );
}

/// Runs the service under a real systemd in a container. Set PLEDGEWATCH_SKIP_E2E=1 on a
/// machine where you are not root; CI runs it.
#[test]
fn runs_under_real_systemd() {
    if std::env::var_os("PLEDGEWATCH_SKIP_E2E").is_some() {
        eprintln!("PLEDGEWATCH_SKIP_E2E is set: not running the systemd end-to-end test");
        return;
    }
    let _alone = MACHINE_WIDE.lock().unwrap_or_else(|e| e.into_inner());
    let bin = assert_cmd::cargo::cargo_bin("pledgewatch");
    let out = std::process::Command::new(root().join("tests/systemd-e2e.sh"))
        .arg(&bin)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "systemd end-to-end test failed:\n{stderr}"
    );
    assert!(
        stderr.contains("paper_tiger alerts in the journal"),
        "{stderr}"
    );
}
