//! `orch completions SHELL` and `orch man`: the shell completion scripts and
//! the roff manual pages, generated from the same definition as `--help`.

use super::shared::out;
use super::{Cli, Context, Exit};
use anyhow::{Context as _, Result};
use clap::CommandFactory;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write one page per command (`orch.1`, `orch-apply.1`, `orch-node-drain.1`, …) into
    /// this directory instead of printing `orch.1` on stdout.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

pub fn completions(_context: &Context, args: CompletionsArgs) -> Result<Exit> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "orch", &mut script);
    out(&String::from_utf8_lossy(&script));
    Ok(Exit::Success)
}

pub fn man(context: &Context, args: ManArgs) -> Result<Exit> {
    let command = Cli::command();
    match args.dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            clap_mangen::generate_to(command, &dir)
                .with_context(|| format!("writing manual pages to {}", dir.display()))?;
            if !context.quiet {
                eprintln!("manual pages written to {}", dir.display());
            }
        }
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(command)
                .render(&mut page)
                .context("rendering the manual page")?;
            out(&String::from_utf8_lossy(&page));
        }
    }
    Ok(Exit::Success)
}
