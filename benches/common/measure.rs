//! Timing a child process for the benchmarks: wall time, CPU time (from `wait4`) and peak
//! RSS from the child's own `/proc/PID/status` (VmHWM), polled every 10 ms. (`wait4`'s
//! `ru_maxrss` is not used: Linux carries the spawning process's resident size over the
//! exec, so a large benchmark process would be counted as the child's.) A zombie's status
//! has no VmHWM, so the poller keeps the last live reading; what the child allocates in
//! its last 10 ms is not seen.

use std::process::Command;
use std::time::{Duration, Instant};

/// Runs `cmd` to its end: wall seconds, CPU seconds (user + system), peak RSS in MiB, and
/// its standard output. Panics when it cannot be run or does not exit normally.
// The child is reaped by wait4 (for its rusage), which clippy cannot see.
#[allow(clippy::zombie_processes)]
pub fn measure(cmd: &mut Command) -> (f64, f64, f64, String) {
    let start = Instant::now();
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("spawn");
    let pid = child.id() as libc::pid_t;
    let poller = std::thread::spawn(move || {
        let mut peak_kib = 0u64;
        while let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            match status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                Some(kib) => peak_kib = peak_kib.max(kib),
                None => break,
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        peak_kib
    });
    // Drain stdout while the child runs, so a large output never blocks it on a full pipe.
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut out).map(|_| out)
    });
    let out = reader.join().expect("reader thread").expect("read stdout");
    let peak_kib = poller.join().expect("poller thread");
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed().as_secs_f64();
    assert_eq!(rc, pid, "wait4 failed");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "the command failed: {status}"
    );
    let cpu = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (
        wall,
        cpu(usage.ru_utime) + cpu(usage.ru_stime),
        peak_kib as f64 / 1024.0,
        out,
    )
}
