//! The `pledgewatch` command: parse the command line, run the command, print its error
//! once and exit with its code (the commands live in `pledgewatch::cli`).

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = pledgewatch::cli::Cli::parse();
    match cli.run() {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            e.report();
            ExitCode::from(e.exit_code())
        }
    }
}
