//! The cargo-fuzz targets (rule loader, every report format, cron, durations) run briefly,
//! when a nightly toolchain is on the machine (as on CI's); the long runs are recorded in
//! RELIABILITY.md. cargo-fuzz is installed on first use.

use super::*;

#[test]
fn fuzz_targets_run_briefly() {
    let toolchains = std::process::Command::new("rustup")
        .args(["toolchain", "list"])
        .output();
    let has_nightly =
        toolchains.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("nightly"));
    if !has_nightly {
        skip(
            "fuzz::fuzz_targets_run_briefly",
            "no nightly toolchain: the fuzz targets are not run",
        );
        return;
    }
    // A clean environment: nothing of this test run's cargo leaks into the nightly build.
    let clean = |cmd: &mut std::process::Command| {
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy().into_owned();
            if k.starts_with("CARGO")
                || k.starts_with("RUSTC")
                || k == "RUSTFLAGS"
                || k == "RUSTDOC"
            {
                cmd.env_remove(&k);
            }
        }
    };
    let have_fuzz = std::process::Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_fuzz {
        let mut install = std::process::Command::new("cargo");
        install.args(["install", "cargo-fuzz", "--locked"]);
        clean(&mut install);
        assert!(
            install.status().unwrap().success(),
            "cargo install cargo-fuzz failed"
        );
    }
    let mut cmd = std::process::Command::new(root().join("scripts/fuzz.sh"));
    cmd.arg("20").current_dir(root());
    clean(&mut cmd);
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "a fuzz target failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for target in ["rules", "reports", "cron", "duration"] {
        assert!(
            stdout.contains(&format!("fuzz {target}: 20s,")) && stdout.contains("executions, ok"),
            "{stdout}"
        );
    }
}
