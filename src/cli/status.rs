//! `pledgewatch status`: the scorecard from the daemon's ledger (works while it runs).

use super::inputs::{ledger_standing, render, scorecard};
use super::{CliError, parse_as_of, print, today_utc};
use crate::exit;
use crate::render::status::Format;
use crate::shell::config::Config;
use std::path::PathBuf;

/// Print the scorecard from the ledger (works while the daemon runs).
#[derive(clap::Args)]
pub struct StatusArgs {
    /// Config file.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Evaluation date, YYYY-MM-DD (default: today, UTC).
    #[arg(long, value_parser = parse_as_of)]
    pub as_of: Option<chrono::NaiveDate>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

/// Prints the statuses at the as-of date, and in text and Markdown where the feed stands.
pub fn run(args: StatusArgs) -> Result<u8, CliError> {
    let as_of = args.as_of.unwrap_or_else(today_utc);
    let format = args.format;
    let mut read = ledger_standing(args.config.as_deref())?;
    let (set, counts) = (&read.set, read.counts);
    let statuses = read.standing.tally.statuses(set, as_of);
    let history = if format == Format::Html {
        read.standing.tally.history(set, as_of)
    } else {
        Vec::new()
    };
    let marks = read.standing.marks.lists();
    let page = || scorecard(set, &statuses, counts, as_of, &history, marks);
    let mut text = render(format, as_of, counts, &statuses, set, page);
    if format == Format::Text || format == Format::Markdown {
        text.push_str(&feed_lines(&read.config, format));
    }
    print(&text)?;
    Ok(exit::OK)
}

/// Where the GDELT feed stands (`STATE/feed/gdelt.json`), for `status` in text and
/// Markdown; nothing when the feed never ran. (The JSON keeps the shape of
/// docs/reference.md, JSON output.)
fn feed_lines(config: &Config, format: Format) -> String {
    let path = config.state_dir.join("feed/gdelt.json");
    if !path.exists() {
        return String::new();
    }
    let lines = match crate::feed::fetch::load_state(&path) {
        Ok(state) => crate::feed::gdelt::describe(&state),
        Err(e) => vec![format!("feed gdelt: {e}")],
    };
    let markdown = format == Format::Markdown;
    let mut out = String::from(if markdown { "\n## Feed\n\n" } else { "\n" });
    for line in lines {
        if markdown {
            out.push_str("- ");
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}
