//! The `pledgewatch` command: parse the command line, dispatch, map results to exit codes.

use clap::{Parser, Subcommand};
use pledgewatch::commands::{self, ReplayArgs, RulesSource};
use pledgewatch::evaluate::Status;
use pledgewatch::output::Format;
use std::path::PathBuf;
use std::process::ExitCode;

/// pledgewatch: holds parties to what they declared.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate rule files; print every problem as path:line:column: message.
    Check {
        /// Daemon config whose rules_dir to check (default: $PLEDGEWATCH_CONFIG, then /etc/pledgewatch/pledgewatch.toml).
        #[arg(long, conflicts_with = "rules")]
        config: Option<PathBuf>,
        /// Rules folder to check.
        #[arg(long)]
        rules: Option<PathBuf>,
    },
    /// Evaluate rules against report files, without daemon or state.
    Replay {
        /// Rules folder.
        #[arg(long)]
        rules: PathBuf,
        /// Report files or folders (read recursively).
        #[arg(long, num_args = 1.., required = true)]
        reports: Vec<PathBuf>,
        /// Evaluation date, YYYY-MM-DD (default: today, UTC).
        #[arg(long, value_parser = parse_as_of)]
        as_of: Option<chrono::NaiveDate>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Exit 3 when any commitment has one of these statuses (comma-separated).
        #[arg(long, value_delimiter = ',', value_parser = parse_status)]
        fail_on: Vec<Status>,
    },
}

fn parse_as_of(text: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("{text:?} is not a date YYYY-MM-DD"))
}

fn parse_status(text: &str) -> Result<Status, String> {
    Status::parse(text.trim()).ok_or_else(|| {
        format!("{text:?} is not a status (fulfilled, on_track, pending, overdue, paper_tiger, breached)")
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Check { config, rules } => match &rules {
            Some(dir) => commands::check(RulesSource::Dir(dir)),
            None => commands::check(RulesSource::Config(config.as_deref())),
        },
        Command::Replay {
            rules,
            reports,
            as_of,
            format,
            fail_on,
        } => commands::replay(ReplayArgs {
            rules,
            reports,
            as_of: as_of.unwrap_or_else(pledgewatch::dates::today_utc),
            format,
            fail_on,
        }),
    };
    ExitCode::from(code)
}
