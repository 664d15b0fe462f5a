//! The rules folder on disk: listing its `*.toml` files and reading them; the engine
//! (`engine::rules::assemble`, `load_str`) does the rest.

use crate::engine::problem::Problem;
use crate::engine::rules::{Agreement, RULE_LIMITS, RuleLimits, RuleSet, assemble, load_str};
use std::path::{Path, PathBuf};

/// Loads every `*.toml` file of `dir` (not recursive), in file-name order.
pub fn load_dir(dir: &Path) -> Result<RuleSet, Vec<Problem>> {
    load_dir_limited(dir, RULE_LIMITS)
}

/// [`load_dir`] with explicit limits.
pub fn load_dir_limited(dir: &Path, limits: RuleLimits) -> Result<RuleSet, Vec<Problem>> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        vec![Problem::whole_file(
            dir,
            format!("cannot read rules folder: {e}"),
        )]
    })?;
    let mut paths: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| {
            vec![Problem::whole_file(
                dir,
                format!("cannot list rules folder: {e}"),
            )]
        })?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        let is_toml = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
        if is_toml && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    // past the limit, not one file is read: the engine refuses the list as it is
    if paths.len() > limits.files {
        let unread: Vec<(PathBuf, Result<String, Problem>)> =
            paths.into_iter().map(|p| (p, Ok(String::new()))).collect();
        return assemble(dir, &unread, limits);
    }
    let files: Vec<(PathBuf, Result<String, Problem>)> = paths
        .into_iter()
        .map(|path| {
            let text = read_rule_file(&path);
            (path, text)
        })
        .collect();
    assemble(dir, &files, limits)
}

/// Reads one rule file as UTF-8 text.
fn read_rule_file(path: &Path) -> Result<String, Problem> {
    let bytes = std::fs::read(path)
        .map_err(|e| Problem::whole_file(path, format!("cannot read rule file: {e}")))?;
    String::from_utf8(bytes).map_err(|e| {
        Problem::whole_file(
            path,
            format!(
                "rule file is not valid UTF-8 (byte {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

/// Loads one rule file.
pub fn load_file(path: &Path) -> Result<Agreement, Vec<Problem>> {
    let text = read_rule_file(path).map_err(|p| vec![p])?;
    load_str(path, &text)
}
