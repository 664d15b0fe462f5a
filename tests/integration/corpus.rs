//! Hostile and broken inputs (tests/corpus/bad/MANIFEST.toml), all dropped into one running
//! daemon in one burst: the daemon never stops, every file ends where the manifest says, with
//! the reason in NAME.error and in the log, and a good file dropped afterwards is still taken.

use super::daemon::Daemon;
use super::*;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[derive(serde::Deserialize)]
struct Manifest {
    case: Vec<Case>,
}

#[derive(serde::Deserialize)]
struct Case {
    file: String,
    #[serde(default)]
    made: bool,
    outcome: String,
    contains: String,
    note: String,
}

/// The on-disk name: the manifest writes the invalid byte 0xff as "ÿ".
fn os_name(file: &str) -> OsString {
    let mut bytes = Vec::new();
    for c in file.chars() {
        if c == 'ÿ' {
            bytes.push(0xff);
        } else {
            let mut b = [0u8; 4];
            bytes.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
        }
    }
    OsString::from_vec(bytes)
}

const CHANGED_WHILE_READ: &str = "truncated-while-read.jsonl";
const DELETED_WHILE_READ: &str = "deleted-while-read.jsonl";
/// Lines left whole when the file is truncated while being read (a part of the next is left).
const LINES_LEFT: usize = 10;

/// Watches the daemon's open files; once it has begun reading one of `names` from `inbox`
/// (the file offset of its descriptor has moved), truncates or deletes that file. Returns
/// the names it acted on.
fn change_while_read(pid: u32, inbox: PathBuf, stop: Arc<AtomicBool>) -> Vec<String> {
    let mut done = Vec::new();
    while done.len() < 2 && !stop.load(Ordering::SeqCst) {
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            break;
        };
        for fd in fds.flatten() {
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let Some(name) = target
                .strip_prefix(&inbox)
                .ok()
                .and_then(|n| n.to_str())
                .map(str::to_string)
            else {
                continue;
            };
            if done.contains(&name) || (name != CHANGED_WHILE_READ && name != DELETED_WHILE_READ) {
                continue;
            }
            let info = std::fs::read_to_string(format!(
                "/proc/{pid}/fdinfo/{}",
                fd.file_name().to_string_lossy()
            ))
            .unwrap_or_default();
            let pos: u64 = info
                .lines()
                .find_map(|l| l.strip_prefix("pos:"))
                .and_then(|p| p.trim().parse().ok())
                .unwrap_or(0);
            if pos == 0 {
                continue;
            }
            let path = inbox.join(&name);
            // a file already gone was not changed while read: not counted, and the test fails
            let changed = if name == DELETED_WHILE_READ {
                std::fs::remove_file(&path).is_ok()
            } else {
                let line_len = changing_line(0).len();
                std::fs::File::options()
                    .write(true)
                    .open(&path)
                    .and_then(|f| f.set_len((line_len * LINES_LEFT + line_len / 2) as u64))
                    .is_ok()
            };
            if changed {
                done.push(name);
            }
        }
    }
    done
}

/// Line `i` of the files changed while read; all lines are the same length.
fn changing_line(i: usize) -> String {
    GOOD.replace("good", &format!("{i:05} {}", "x".repeat(100))) + "\n"
}

const GOOD: &str =
    r#"{"date": "2010-01-01", "actors": ["KGZ", "TJK"], "kind": "meeting", "title": "good"}"#;

fn make(case: &Case, staging: &Path, outside: &Path) {
    let path = staging.join(os_name(&case.file));
    match case.file.as_str() {
        "long-line.jsonl" => {
            let long = format!("{{\"title\": \"{}\"}}", "x".repeat(3_000_000));
            std::fs::write(&path, format!("{GOOD}\n{long}\n{GOOD}\n")).unwrap();
        }
        "too-large.json" => std::fs::write(&path, vec![b' '; 6 << 20]).unwrap(),
        // big enough (3.7 MB, 20,000 lines) to be caught while the daemon reads it
        CHANGED_WHILE_READ | DELETED_WHILE_READ => {
            let lines: String = (0..20_000).map(changing_line).collect();
            std::fs::write(&path, lines).unwrap();
        }
        "shadow-link.json" => std::os::unix::fs::symlink("/etc/shadow", &path).unwrap(),
        "hard-link.json" => {
            let original = outside.join("original.json");
            std::fs::write(&original, GOOD.replace("good", "hard link")).unwrap();
            std::fs::hard_link(&original, &path).unwrap();
        }
        "fifo.json" => {
            let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        }
        "folder" => {
            std::fs::create_dir(&path).unwrap();
            std::fs::write(path.join("inside.json"), GOOD).unwrap();
        }
        "unreadable.json" => {
            std::fs::write(&path, GOOD.replace("good", "unreadable")).unwrap();
            std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o000))
                .unwrap();
        }
        _ => std::fs::write(
            &path,
            GOOD.replace(
                "good",
                &format!("named {}", case.note.replace(['\\', '"'], "_")),
            ),
        )
        .unwrap(),
    }
}

#[test]
fn hostile_and_broken_inputs() {
    let manifest: Manifest = toml::from_str(
        &std::fs::read_to_string(root().join("tests/corpus/bad/MANIFEST.toml")).unwrap(),
    )
    .unwrap();
    assert!(manifest.case.len() >= 40, "at least 40 classes");
    let d = Daemon::start("", "2010-12-31");
    // the limits for this test
    d.set_inbox_keys("max_file_size = \"5MiB\"\nmax_line_length = \"1MiB\"");

    let staging = d.path("staging");
    let outside = d.path("outside");
    std::fs::create_dir_all(&staging).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    for case in &manifest.case {
        if case.made {
            make(case, &staging, &outside);
        } else {
            std::fs::copy(
                root().join("tests/corpus/bad").join(&case.file),
                staging.join(&case.file),
            )
            .unwrap();
        }
    }
    // a watcher that truncates one file and deletes another while the daemon reads them
    let stop_watching = Arc::new(AtomicBool::new(false));
    let watcher = {
        let pid = d.child.as_ref().unwrap().id();
        let inbox = d.path("inbox").canonicalize().unwrap();
        let stop = stop_watching.clone();
        std::thread::spawn(move || change_while_read(pid, inbox, stop))
    };
    // one burst: everything renamed into the inbox at once
    for case in &manifest.case {
        let name = os_name(&case.file);
        std::fs::rename(staging.join(&name), d.path("inbox").join(&name)).unwrap();
    }
    d.wait_until("the inbox to empty", Duration::from_secs(60), |d| {
        d.count("inbox") == 0
    });
    stop_watching.store(true, Ordering::SeqCst);
    let mut acted = watcher.join().unwrap();
    acted.sort();
    assert_eq!(
        acted,
        [DELETED_WHILE_READ, CHANGED_WHILE_READ],
        "both files were changed while the daemon read them; log:\n{}",
        d.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains("-while-read"))
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );

    let root_user = unsafe { libc::geteuid() } == 0;
    let mut failures = Vec::new();
    for case in &manifest.case {
        let outcome = match case.outcome.as_str() {
            "accepted-as-root" if root_user => "accepted",
            "accepted-as-root" => "rejected",
            other => other,
        };
        let folder = if outcome == "rejected" || outcome == "gone" {
            "state/rejected"
        } else {
            "state/processed"
        };
        // a 255-byte name is shortened to leave room for a .error companion
        let name = os_name(&case.file);
        let short = OsString::from_vec(name.as_bytes()[..name.len().min(249)].to_vec());
        let moved = d.path(folder).join(&short);
        let mut error_name = short.clone();
        error_name.push(".error");
        let error = std::fs::read_to_string(d.path(folder).join(error_name)).ok();
        let problem = match outcome {
            "gone" if std::fs::symlink_metadata(&moved).is_ok() => {
                Some(format!("a file in {folder}, not only its .error"))
            }
            "gone" => match &error {
                Some(e) if e.contains(&case.contains) => None,
                _ => Some(format!(".error lacks {:?}: {error:?}", case.contains)),
            },
            _ if std::fs::symlink_metadata(&moved).is_err() => Some(format!("not in {folder}")),
            "accepted" if error.is_some() => Some(format!("unexpected .error: {error:?}")),
            "partial" | "rejected" => match &error {
                None => Some("no .error file".to_string()),
                Some(e) if !e.contains(&case.contains) => {
                    Some(format!(".error lacks {:?}: {e}", case.contains))
                }
                _ => None,
            },
            _ => None,
        };
        if let Some(p) = problem {
            failures.push(format!("{} ({}): {p}", case.file.escape_debug(), case.note));
        }
    }
    if !failures.is_empty() {
        let listing: Vec<String> = ["state/processed", "state/rejected", "inbox"]
            .iter()
            .flat_map(|f| {
                std::fs::read_dir(d.path(f))
                    .unwrap()
                    .map(move |e| format!("{f}/{:?}", e.unwrap().file_name()))
            })
            .collect();
        panic!(
            "{}\n\nfiles:\n{}\n\nlog:\n{}",
            failures.join("\n"),
            listing.join("\n"),
            d.log.lock().unwrap().join("\n")
        );
    }

    // nothing of the deleted file, and only the lines left of the truncated one, are in the
    // ledger: the first reading of each was dropped whole
    let ledger = rusqlite::Connection::open_with_flags(
        d.path("state/pledgewatch.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let count = |file: &str| -> i64 {
        ledger
            .query_row(
                "SELECT count(*) FROM reports WHERE file = ?1",
                [file],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!(count(DELETED_WHILE_READ), 0);
    assert_eq!(count(CHANGED_WHILE_READ), LINES_LEFT as i64);
    drop(ledger);

    // the reason for every refusal is in the log too, beside the file's name (the log is
    // read from the daemon's stderr by a thread of its own: on a loaded machine its last
    // records may come a moment after the files are in place, so wait for them)
    let records = |d: &Daemon| -> Vec<String> {
        d.log
            .lock()
            .unwrap()
            .iter()
            .map(|l| {
                // the record's own fields, and those of its span (the file it is about)
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                let span = v.get("span").and_then(|s| s.as_object()).into_iter();
                v.as_object()
                    .into_iter()
                    .chain(span)
                    .flat_map(|o| o.values())
                    .filter_map(|f| f.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    };
    let expected: Vec<&Case> = manifest
        .case
        .iter()
        .filter(|case| {
            let accepted =
                case.outcome == "accepted" || (case.outcome == "accepted-as-root" && root_user);
            !accepted && !case.file.chars().any(|c| c.is_control() || c == 'ÿ')
        })
        .collect();
    let missing = |d: &Daemon| -> Vec<String> {
        let records = records(d);
        expected
            .iter()
            .filter(|case| {
                !records
                    .iter()
                    .any(|r| r.contains(&case.file) && r.contains(&case.contains))
            })
            .map(|case| format!("{} with {:?}", case.file, case.contains))
            .collect()
    };
    let start = std::time::Instant::now();
    while !missing(&d).is_empty() && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let missing = missing(&d);
    assert!(
        missing.is_empty(),
        "no log record names {}",
        missing.join("; ")
    );

    // the log names the files it refused, with control characters escaped
    let log = d.log.lock().unwrap().join("\n");
    assert!(
        log.contains("changed while being read"),
        "truncation noticed"
    );
    assert!(
        log.contains("name\\\\nwith-newline.json"),
        "escaped newline in the log"
    );
    assert!(
        !log.lines().any(|l| !l.starts_with('{')),
        "every log line is one JSON object"
    );
    drop(log);
    // the symlink was moved, never followed: it still points at /etc/shadow
    let link = std::fs::read_link(d.path("state/rejected/shadow-link.json")).unwrap();
    assert_eq!(link, Path::new("/etc/shadow"));
    // and the daemon goes on taking good files
    d.drop_file("after.json", &GOOD.replace("good", "after the storm"));
    d.wait_until(
        "a good file after the burst",
        Duration::from_secs(10),
        |d| d.path("state/processed/after.json").exists(),
    );
}
