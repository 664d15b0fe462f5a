//! `pledgewatch check`: validates every rule file (of a folder, or of a config's
//! `rules_dir`) and prints every problem as `path:line:column: message`, or a summary.

use super::{CliError, load_config, print_problems};
use crate::engine::matcher::CompiledRules;
use crate::engine::problem::Problem;
use crate::engine::rules::RuleSet;
use crate::exit;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Validate rule files; print every problem as path:line:column: message.
#[derive(clap::Args)]
pub struct CheckArgs {
    /// Daemon config whose rules_dir to check (default: $PLEDGEWATCH_CONFIG, then /etc/pledgewatch/pledgewatch.toml).
    #[arg(long, conflicts_with = "rules")]
    pub config: Option<PathBuf>,
    /// Rules folder to check.
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Exit 1 on warnings too (valid rules that are almost surely not what was meant).
    #[arg(long)]
    pub strict: bool,
}

/// Prints every problem (exit 1) or a summary, and the warnings (exit 1 for them only
/// with `--strict`). An invalid config is exit 78.
pub fn run(args: CheckArgs) -> Result<u8, CliError> {
    let dir = match args.rules {
        Some(dir) => dir,
        None => {
            let config = load_config(args.config.as_deref())?;
            crate::shell::delivery::check_secrets(&config)?;
            config.rules_dir
        }
    };
    let set = match crate::shell::rules_dir::load_dir(&dir) {
        Ok(set) => set,
        Err(problems) => {
            print_problems(&problems);
            eprintln!("{}", problem_summary(&problems));
            return Ok(exit::PROBLEMS);
        }
    };
    let compiled = CompiledRules::new(&set).map_err(|message| CliError::Matcher {
        dir: dir.clone(),
        message,
    })?;
    let warnings = print_warnings(&set);
    let warned = match warnings {
        0 => String::new(),
        1 => " (1 warning)".to_string(),
        n => format!(" ({n} warnings)"),
    };
    println!(
        "ok: {} agreement{}, {} commitments, {} distinct phrases in {}{warned}",
        set.agreements.len(),
        plural(set.agreements.len()),
        set.commitment_count(),
        compiled.phrase_count(),
        dir.display()
    );
    Ok(if args.strict && warnings > 0 {
        exit::PROBLEMS
    } else {
        exit::OK
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `N problems in M files`.
fn problem_summary(problems: &[Problem]) -> String {
    let files: std::collections::BTreeSet<&Path> =
        problems.iter().map(|p| p.path.as_path()).collect();
    format!(
        "{} problem{} in {} file{}",
        problems.len(),
        plural(problems.len()),
        files.len(),
        plural(files.len())
    )
}

/// Prints the rules' warnings on stderr as `path:line:column: warning: message`; returns
/// how many there were.
fn print_warnings(set: &RuleSet) -> usize {
    let mut err = std::io::stderr().lock();
    let mut n = 0;
    for w in set.warnings() {
        let shown = Problem {
            message: format!("warning: {}", w.message),
            ..w.clone()
        };
        let _ = writeln!(err, "{shown}");
        n += 1;
    }
    n
}
