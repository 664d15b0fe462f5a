//! The `pledgewatch` command: parse the command line, dispatch, map results to exit codes.

use clap::{CommandFactory, Parser, Subcommand};
use pledgewatch::cli::{self, ReplayArgs, RulesSource};
use pledgewatch::engine::evaluate::Status;
use pledgewatch::render::status::Format;
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
    /// Run the daemon: watch the inbox, keep the ledger, evaluate, alert.
    Run {
        /// Config file (default: $PLEDGEWATCH_CONFIG, then /etc/pledgewatch/pledgewatch.toml).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Evaluate at this date instead of today (UTC), for tests and historical study.
        #[arg(long, value_parser = parse_as_of)]
        as_of: Option<chrono::NaiveDate>,
        /// Log format, overriding the config's log.format.
        #[arg(long, value_parser = ["auto", "text", "json", "journald"])]
        log_format: Option<String>,
    },
    /// Print the scorecard from the ledger (works while the daemon runs).
    Status {
        /// Config file.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Evaluation date, YYYY-MM-DD (default: today, UTC).
        #[arg(long, value_parser = parse_as_of)]
        as_of: Option<chrono::NaiveDate>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Show the evidence, talk and breaches behind one commitment's status, or why the
    /// reports of a file do (not) count for it.
    #[command(group(clap::ArgGroup::new("from_files").args(["reports", "report"])))]
    Explain {
        /// AGREEMENT/COMMITMENT, such as kgz-tjk-2007/military-cooperation.
        target: String,
        /// Config file: the daemon's ledger, or with --report only its rules_dir (default: $PLEDGEWATCH_CONFIG, then /etc/pledgewatch/pledgewatch.toml).
        #[arg(long, conflicts_with = "rules")]
        config: Option<PathBuf>,
        /// Rules folder (with --reports or --report: no daemon needed).
        #[arg(long, requires = "from_files")]
        rules: Option<PathBuf>,
        /// Report files or folders (read recursively) to explain the status from, instead of the ledger.
        #[arg(long, num_args = 1.., requires = "rules")]
        reports: Vec<PathBuf>,
        /// Take each report of these files apart against the commitment: why it counts or not.
        #[arg(long, num_args = 1..)]
        report: Vec<PathBuf>,
        /// Evaluation date, YYYY-MM-DD (default: today, UTC).
        #[arg(long, value_parser = parse_as_of)]
        as_of: Option<chrono::NaiveDate>,
    },
    /// Validate rule files; print every problem as path:line:column: message.
    Check {
        /// Daemon config whose rules_dir to check (default: $PLEDGEWATCH_CONFIG, then /etc/pledgewatch/pledgewatch.toml).
        #[arg(long, conflicts_with = "rules")]
        config: Option<PathBuf>,
        /// Rules folder to check.
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Exit 1 on warnings too (valid rules that are almost surely not what was meant).
        #[arg(long)]
        strict: bool,
    },
    /// Every commitment's status over time: change points, or one column per period.
    History {
        /// Rules folder (with --reports: from files, no daemon needed).
        #[arg(long, requires = "reports", conflicts_with = "config")]
        rules: Option<PathBuf>,
        /// Report files or folders (read recursively).
        #[arg(long, num_args = 1.., requires = "rules")]
        reports: Vec<PathBuf>,
        /// Config file, for the daemon's ledger (default: $PLEDGEWATCH_CONFIG, then /etc/pledgewatch/pledgewatch.toml).
        #[arg(long)]
        config: Option<PathBuf>,
        /// The last day of the history, YYYY-MM-DD (default: today, UTC).
        #[arg(long, value_parser = parse_as_of)]
        as_of: Option<chrono::NaiveDate>,
        /// The status at the end of every year, quarter or month instead of change points.
        #[arg(long, value_parser = parse_every)]
        every: Option<pledgewatch::engine::history::Every>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: pledgewatch::render::history::HistoryFormat,
    },
    /// Write the man pages and shell completions (for packaging) into a folder.
    #[command(hide = true)]
    Assets {
        /// The folder: man pages go to OUT/man, completions to OUT/completions.
        #[arg(long)]
        out: PathBuf,
    },
    /// Check what rules must say on given reports: test files of expectations (docs/reference.md, Commands).
    Test {
        /// Test files (TOML: rules, reports, [[report]], [[expect]]).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Fetch published event data into the inbox.
    Fetch {
        #[command(subcommand)]
        feed: Feed,
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

#[derive(Subcommand)]
enum Feed {
    /// GDELT 2.0: fetch the slots not yet done into the inbox (run by pledgewatch-fetch.timer).
    Gdelt {
        /// Config file (default: $PLEDGEWATCH_CONFIG, then /etc/pledgewatch/pledgewatch.toml).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Fetch the slots from this time once (UTC): YYYY-MM-DD or YYYY-MM-DDTHH:MM.
        #[arg(long, value_parser = parse_from)]
        from: Option<chrono::DateTime<chrono::Utc>>,
        /// ... up to this time (default: the newest slot); a date means its end.
        #[arg(long, value_parser = parse_to, requires = "from")]
        to: Option<chrono::DateTime<chrono::Utc>>,
    },
}

/// The man pages (one per command, from the command line's definitions, and the two
/// hand-written section 5 pages) and the bash, zsh and fish completions.
fn assets(out: &std::path::Path) -> u8 {
    let write = || -> std::io::Result<()> {
        let man = out.join("man");
        let completions = out.join("completions");
        std::fs::create_dir_all(&man)?;
        std::fs::create_dir_all(&completions)?;
        clap_mangen::generate_to(Cli::command(), &man)?;
        for (name, text) in [
            (
                "pledgewatch.toml.5",
                include_str!("../docs/man/pledgewatch.toml.5"),
            ),
            (
                "pledgewatch-rules.5",
                include_str!("../docs/man/pledgewatch-rules.5"),
            ),
        ] {
            std::fs::write(man.join(name), text)?;
        }
        for shell in [
            clap_complete::Shell::Bash,
            clap_complete::Shell::Zsh,
            clap_complete::Shell::Fish,
        ] {
            clap_complete::generate_to(shell, &mut Cli::command(), "pledgewatch", &completions)?;
        }
        Ok(())
    };
    match write() {
        Ok(()) => pledgewatch::exit::OK,
        Err(e) => {
            eprintln!("{}: {e}", out.display());
            pledgewatch::exit::PROBLEMS
        }
    }
}

fn parse_every(text: &str) -> Result<pledgewatch::engine::history::Every, String> {
    pledgewatch::engine::history::Every::parse(text)
        .ok_or_else(|| format!("{text:?} is not a period (year, quarter, month)"))
}

fn parse_from(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    pledgewatch::feed::fetch::parse_when(text, false)
}

fn parse_to(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    pledgewatch::feed::fetch::parse_when(text, true)
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
    let today = pledgewatch::cli::today_utc;
    let code = match cli.command {
        Command::Run {
            config,
            as_of,
            log_format,
        } => cli::run(config.as_deref(), as_of, log_format.as_deref()),
        Command::Status {
            config,
            as_of,
            format,
        } => cli::status(config.as_deref(), as_of.unwrap_or_else(today), format),
        Command::Explain {
            target,
            config,
            rules,
            reports,
            report,
            as_of,
        } => {
            let as_of = as_of.unwrap_or_else(today);
            match &rules {
                _ if !report.is_empty() => cli::explain_reports(
                    &target,
                    rules.as_deref(),
                    config.as_deref(),
                    &report,
                    as_of,
                ),
                Some(rules) => cli::explain(
                    &target,
                    cli::Source::Files {
                        rules,
                        reports: &reports,
                    },
                    as_of,
                ),
                None => cli::explain(&target, cli::Source::Ledger(config.as_deref()), as_of),
            }
        }
        Command::History {
            rules,
            reports,
            config,
            as_of,
            every,
            format,
        } => {
            let source = match &rules {
                Some(rules) => cli::Source::Files {
                    rules,
                    reports: &reports,
                },
                None => cli::Source::Ledger(config.as_deref()),
            };
            cli::history(source, as_of.unwrap_or_else(today), every, format)
        }
        Command::Assets { out } => assets(&out),
        Command::Test { files } => cli::test(&files),
        Command::Fetch {
            feed: Feed::Gdelt { config, from, to },
        } => cli::fetch_gdelt(config.as_deref(), from, to),
        Command::Check {
            config,
            rules,
            strict,
        } => match &rules {
            Some(dir) => cli::check(RulesSource::Dir(dir), strict),
            None => cli::check(RulesSource::Config(config.as_deref()), strict),
        },
        Command::Replay {
            rules,
            reports,
            as_of,
            format,
            fail_on,
        } => cli::replay(ReplayArgs {
            rules,
            reports,
            as_of: as_of.unwrap_or_else(pledgewatch::cli::today_utc),
            format,
            fail_on,
        }),
    };
    ExitCode::from(code)
}
