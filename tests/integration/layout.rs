//! The folder tree tells the design (see `src/lib.rs`): the engine is pure, and
//! dependencies point one way (cli → feed, shell → render → engine).

use super::*;

fn sources(folder: &str) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![root().join("src").join(folder)];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((path, text));
            }
        }
    }
    assert!(!out.is_empty(), "no sources under src/{folder}");
    out
}

/// Lines of code (comments left out) that contain one of `needles`.
fn offending(folder: &str, needles: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for (path, text) in sources(folder) {
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if let Some(needle) = needles.iter().find(|x| code.contains(*x)) {
                found.push(format!("{}:{}: {needle}: {line}", path.display(), n + 1));
            }
        }
    }
    found
}

#[test]
fn engine_is_pure() {
    let impure = offending(
        "engine",
        &[
            "std::fs",
            "File::",
            "read_dir",
            "tokio",
            "Utc::now",
            "Local::now",
            "SystemTime",
            "Instant::now",
            "std::net",
            "std::env",
            "std::process",
        ],
    );
    assert!(
        impure.is_empty(),
        "the engine touches the world:\n{}",
        impure.join("\n")
    );
}

#[test]
fn dependencies_point_one_way() {
    for (folder, forbidden) in [
        (
            "engine",
            &["crate::shell", "crate::render", "crate::feed", "crate::cli"][..],
        ),
        ("render", &["crate::shell", "crate::feed", "crate::cli"][..]),
        ("shell", &["crate::feed", "crate::cli"][..]),
        ("feed", &["crate::cli", "crate::render"][..]),
    ] {
        let wrong = offending(folder, forbidden);
        assert!(
            wrong.is_empty(),
            "src/{folder} imports against the grain:\n{}",
            wrong.join("\n")
        );
    }
}
