//! The systemd units: `systemd-analyze` checks, and the end-to-end run under a real systemd
//! (tests/systemd-e2e.sh: debootstrap + systemd-nspawn, needs root).

use super::*;

/// The unit `name` with ExecStart pointing at the binary under test, so that `verify`
/// finds it.
fn unit_for_test(dir: &Path, name: &str) -> PathBuf {
    let bin = assert_cmd::cargo::cargo_bin("pledgewatch");
    let unit = std::fs::read_to_string(root().join("systemd").join(name))
        .unwrap()
        .replace(
            "ExecStart=/usr/bin/pledgewatch",
            &format!("ExecStart={}", bin.display()),
        );
    let path = dir.join(name);
    std::fs::write(&path, unit).unwrap();
    path
}

/// `systemd-analyze verify` says nothing (it exits 0 on unknown keys: only stderr tells).
fn verifies_cleanly(units: &[&Path]) {
    let out = std::process::Command::new("systemd-analyze")
        .arg("verify")
        .args(units)
        .output()
        .expect("systemd-analyze is installed (package systemd)");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "",
        "systemd-analyze verify complained"
    );
}

/// The overall exposure level `systemd-analyze security` gives a unit.
fn exposure(unit: &Path) -> f64 {
    let out = std::process::Command::new("systemd-analyze")
        .args(["security", "--offline=true"])
        .arg(unit)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let name = unit.file_name().unwrap().to_string_lossy();
    text.lines()
        .find_map(|l| {
            l.split(&format!("Overall exposure level for {name}: "))
                .nth(1)
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in:\n{text}"))
}

#[test]
fn unit_verifies_cleanly_and_is_hardened() {
    let dir = tempfile::tempdir().unwrap();
    let unit = unit_for_test(dir.path(), "pledgewatch.service");
    verifies_cleanly(&[&unit]);
    let e = exposure(&unit);
    assert!(e <= 1.0, "exposure {e} > 1.0");
    let text = std::fs::read_to_string(&unit).unwrap();
    // the daemon listens nowhere and connects only to this host (Alertmanager, a webhook)
    for want in [
        "SocketBindDeny=any",
        "IPAddressDeny=any",
        "IPAddressAllow=localhost",
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
    ] {
        assert!(text.lines().any(|l| l == want), "{want} missing");
    }
}

#[test]
fn fetch_service_and_timer_verify_and_the_service_is_hardened_but_for_the_network() {
    let dir = tempfile::tempdir().unwrap();
    let service = unit_for_test(dir.path(), "pledgewatch-fetch.service");
    let timer = unit_for_test(dir.path(), "pledgewatch-fetch.timer");
    verifies_cleanly(&[&service, &timer]);
    let e = exposure(&service);
    assert!(e <= 2.0, "exposure {e} > 2.0");
    let text = std::fs::read_to_string(&service).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    for want in [
        "Type=oneshot",
        "User=pledgewatch",
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
    ] {
        assert!(lines.contains(&want), "{want} missing");
    }
    assert!(!text.contains("PrivateNetwork") && !text.contains("IPAddressDeny"));
    // the same hardening as the daemon, line for line, but for the network
    let daemon = std::fs::read_to_string(root().join("systemd/pledgewatch.service")).unwrap();
    let network = [
        "IPAddressDeny=",
        "IPAddressAllow=",
        "SocketBindDeny=",
        "RestrictAddressFamilies=",
    ];
    for line in daemon
        .lines()
        .skip_while(|l| !l.starts_with("NoNewPrivileges="))
    {
        if !line.is_empty()
            && !line.starts_with('#')
            && !network.iter().any(|n| line.starts_with(n))
            && !line.starts_with('[')
            && !line.starts_with("WantedBy")
        {
            assert!(lines.contains(&line), "the fetch service lacks {line}");
        }
    }
    let timer = std::fs::read_to_string(&timer).unwrap();
    let calendar = timer
        .lines()
        .find_map(|l| l.strip_prefix("OnCalendar="))
        .expect("OnCalendar");
    assert!(timer.lines().any(|l| l == "Persistent=true"));
    let delay = timer
        .lines()
        .find_map(|l| l.strip_prefix("RandomizedDelaySec="))
        .and_then(|d| d.parse::<u32>().ok())
        .expect("RandomizedDelaySec in seconds");
    assert!(delay > 0 && delay <= 120, "RandomizedDelaySec={delay}");
    // every 15 minutes: systemd's own reading of the expression
    let out = std::process::Command::new("systemd-analyze")
        .args(["calendar", "--iterations=5", calendar])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let times: Vec<chrono::NaiveDateTime> = text
        .lines()
        .filter(|l| l.contains("elapse:") || l.contains("Iter. #"))
        .filter_map(|l| {
            let (_, when) = l.split_once(": ")?;
            let mut parts = when.split_whitespace();
            let (_day, date, time) = (parts.next()?, parts.next()?, parts.next()?);
            chrono::NaiveDateTime::parse_from_str(&format!("{date} {time}"), "%Y-%m-%d %H:%M:%S")
                .ok()
        })
        .collect();
    assert_eq!(times.len(), 5, "{text}");
    for w in times.windows(2) {
        assert_eq!((w[1] - w[0]).num_minutes(), 15, "{text}");
    }
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
        skip(
            "systemd::runs_under_real_systemd",
            "PLEDGEWATCH_SKIP_E2E is set: not running the systemd end-to-end test",
        );
        return;
    }
    let _alone = MACHINE_WIDE.lock().unwrap_or_else(|e| e.into_inner());
    let bin = assert_cmd::cargo::cargo_bin("pledgewatch");
    let gdelt = tempfile::tempdir().unwrap();
    recorded_gdelt(gdelt.path());
    let out = std::process::Command::new(root().join("tests/systemd-e2e.sh"))
        .arg(&bin)
        .arg(gdelt.path())
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
    assert!(
        stderr.contains("fetched GDELT rows raised a breach alert"),
        "{stderr}"
    );
    assert!(
        stderr.contains("records at the webhook; metrics written"),
        "{stderr}"
    );
}

/// A GDELT 2.0 folder for the end-to-end test, as the container will see it at
/// `http://127.0.0.1:8765/gdeltv2/`: the four newest slots, from the real rows, the newest
/// with a Kyrgyz-Tajik clash (CAMEO 190) dated today.
fn recorded_gdelt(dir: &Path) {
    use super::feed::{kgz_tjk_row_on, md5_hex, real_rows, recent_newest, stamp, zip_of};
    let folder = dir.join("gdeltv2");
    std::fs::create_dir_all(&folder).unwrap();
    let rows = real_rows();
    let newest = recent_newest();
    let today = chrono::Utc::now().format("%Y%m%d").to_string();
    let mut master = String::new();
    let mut last = String::new();
    for k in (0..4).rev() {
        let slot = stamp(newest - chrono::Duration::minutes(15 * k));
        let mut csv: String = rows[k as usize * 100..k as usize * 100 + 100]
            .iter()
            .map(|r| format!("{r}\n"))
            .collect();
        if k == 0 {
            let url = "https://example.org/asia/kyrgyz-tajik-border-clash";
            csv.push_str(&kgz_tjk_row_on(&rows[5], 970_000_001, "190", url, &today));
            csv.push('\n');
        }
        let archive = zip_of(&format!("{slot}.export.CSV"), csv.as_bytes());
        let base = "http://127.0.0.1:8765/gdeltv2";
        last = format!(
            "{} {} {base}/{slot}.export.CSV.zip\n1 00000000000000000000000000000000 {base}/{slot}.mentions.CSV.zip\n",
            archive.len(),
            md5_hex(&archive)
        );
        master.push_str(&last);
        std::fs::write(folder.join(format!("{slot}.export.CSV.zip")), archive).unwrap();
    }
    std::fs::write(folder.join("masterfilelist.txt"), master).unwrap();
    std::fs::write(folder.join("lastupdate.txt"), last).unwrap();
}

/// Builds the Debian package twice (0.1.0-1, and 0.1.1-1 for the upgrade) with
/// scripts/build-deb.sh, checks it with lintian, and installs, upgrades, removes and purges
/// it under a real systemd (tests/deb-e2e.sh). Needs root, cargo-deb and lintian (.ci/run
/// installs them); set PLEDGEWATCH_SKIP_E2E=1 on a machine where you are not root.
#[test]
fn the_debian_package_installs_upgrades_removes_and_purges() {
    if std::env::var_os("PLEDGEWATCH_SKIP_E2E").is_some() {
        skip(
            "systemd::the_debian_package_installs_upgrades_removes_and_purges",
            "PLEDGEWATCH_SKIP_E2E is set: not building and installing the package",
        );
        return;
    }
    let _alone = MACHINE_WIDE.lock().unwrap_or_else(|e| e.into_inner());
    let debs = tempfile::tempdir().unwrap();
    let mut built = Vec::new();
    for extra in [&[][..], &["--deb-version", "0.1.1-1"][..]] {
        let out = std::process::Command::new(root().join("scripts/build-deb.sh"))
            .args(extra)
            .output()
            .expect("scripts/build-deb.sh runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "build-deb.sh failed (is cargo-deb installed? cargo install cargo-deb --locked):\n{}{stdout}",
            String::from_utf8_lossy(&out.stderr)
        );
        let deb = PathBuf::from(stdout.lines().last().unwrap_or("").trim());
        let copy = debs.path().join(deb.file_name().unwrap());
        std::fs::copy(&deb, &copy).unwrap();
        built.push(copy);
    }
    assert!(
        built[0]
            .to_string_lossy()
            .ends_with("pledgewatch_0.1.0-1_amd64.deb"),
        "{built:?}"
    );
    let lint = std::process::Command::new("lintian")
        .arg(&built[0])
        .output()
        .expect("lintian is installed (.ci/run installs it)");
    let report = String::from_utf8_lossy(&lint.stdout);
    let errors: Vec<&str> = report.lines().filter(|l| l.starts_with("E:")).collect();
    assert!(errors.is_empty(), "lintian errors:\n{report}");
    eprintln!("lintian:\n{report}");
    let out = std::process::Command::new(root().join("tests/deb-e2e.sh"))
        .args(&built)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "package end-to-end test failed:\n{stderr}"
    );
    assert!(stderr.contains("deb-e2e: ok"), "{stderr}");
}
