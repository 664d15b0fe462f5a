//! The hidden `assets` command: the man pages (one per command, from the command line's
//! definitions, and the two hand-written section 5 pages) and the bash, zsh and fish
//! completions, for packaging.

use super::{Cli, CliError};
use crate::exit;
use clap::CommandFactory;
use std::path::{Path, PathBuf};

/// Write the man pages and shell completions (for packaging) into a folder.
#[derive(clap::Args)]
pub struct AssetsArgs {
    /// The folder: man pages go to OUT/man, completions to OUT/completions.
    #[arg(long)]
    pub out: PathBuf,
}

/// Writes the pages and completions under `--out`.
pub fn run(args: AssetsArgs) -> Result<u8, CliError> {
    write(&args.out).map_err(|source| CliError::Assets {
        path: args.out.clone(),
        source,
    })?;
    Ok(exit::OK)
}

fn write(out: &Path) -> std::io::Result<()> {
    let man = out.join("man");
    let completions = out.join("completions");
    std::fs::create_dir_all(&man)?;
    std::fs::create_dir_all(&completions)?;
    clap_mangen::generate_to(Cli::command(), &man)?;
    for (name, text) in [
        (
            "pledgewatch.toml.5",
            include_str!("../../docs/man/pledgewatch.toml.5"),
        ),
        (
            "pledgewatch-rules.5",
            include_str!("../../docs/man/pledgewatch-rules.5"),
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
}
