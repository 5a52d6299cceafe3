//! `orch import -f cluster.yaml`: a live cluster (`kubectl get … -o yaml`)
//! becomes the state, written atomically under the lock; an existing state
//! that holds anything is replaced only with `--force`.

use super::shared::{out, out_document};
use super::{Context, Exit};
use crate::import;
use crate::render;
use crate::sources;
use crate::state_store;
use anyhow::{Result, anyhow, bail};
use std::io::Write;

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The output of `kubectl get nodes,pods,deployments,daemonsets,replicasets,pdb -A -o yaml`
    /// (files, directories, or `-` for stdin).
    #[arg(short = 'f', long = "filename", required = true, num_args = 1..)]
    pub files: Vec<String>,
    /// Replace a state that already holds nodes, workloads or replicas (or cannot be read).
    #[arg(long)]
    pub force: bool,
    /// Wait for the state lock instead of failing when another orch holds it.
    #[arg(long)]
    pub wait_lock: bool,
}

pub fn run(context: &Context, args: ImportArgs) -> Result<Exit> {
    let sources = sources::collect(&args.files).map_err(|e| anyhow!("{e}"))?;
    let reading = super::terminal::spinner(context, "reading the cluster export");
    let imported = import::import(&sources);
    reading.finish_and_clear();
    let imported = match imported {
        Ok(imported) => imported,
        Err(diagnostics) => {
            let mut stderr = anstream::stderr();
            for line in crate::manifest::one_screen(&diagnostics) {
                let _ = writeln!(stderr, "{line}");
            }
            bail!(
                "{} error{} in the cluster export; nothing was written",
                diagnostics.len(),
                if diagnostics.len() == 1 { "" } else { "s" }
            );
        }
    };
    if !context.quiet {
        for notice in &imported.notices {
            eprintln!("notice: {notice}");
        }
    }
    let lock = state_store::lock(&context.state, args.wait_lock)?;
    if !args.force {
        let existing = lock.load()?;
        if !existing.nodes.is_empty()
            || !existing.workloads.is_empty()
            || !existing.replicas.is_empty()
        {
            bail!(
                "state {} already holds {} nodes, {} workloads and {} replicas; use --force to replace it",
                context.state.display(),
                existing.nodes.len(),
                existing.workloads.len(),
                existing.replicas.len()
            );
        }
    }
    lock.save(&imported.state)?;
    if context.output.is_document() {
        out_document(&render::import::document(&imported), context.output);
    } else if !context.quiet {
        out(&render::import::summary(
            &imported,
            &context.state.display().to_string(),
        ));
    }
    Ok(Exit::Success)
}
