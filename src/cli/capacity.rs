//! `orch capacity -f PATH… [WORKLOAD…]`: how many more replicas of each
//! workload fit on the cluster the manifests converge to (simulated in
//! memory, as `plan`), and what runs out first. Never writes.

use super::apply::Scoring;
use super::shared::{ManifestArgs, load_manifests, out, out_document};
use super::what_if::converge;
use super::{Context, Exit};
use crate::analysis::capacity::{self, PROBE_LIMIT};
use crate::analysis::{self, AnalysisError};
use crate::render;
use anyhow::{Result, anyhow};
use std::path::Path;

#[derive(Debug, clap::Args)]
pub struct CapacityArgs {
    #[command(flatten)]
    pub manifests: ManifestArgs,
    /// Workloads to probe (`api`, `Deployment/api`, `Deployment/default/api`); all when none.
    #[arg(value_name = "WORKLOAD")]
    pub workloads: Vec<String>,
    /// Simulated seconds the loop may take to converge the manifests first.
    #[arg(long, default_value_t = 3600)]
    pub timeout: u64,
    /// Node scoring for resources (where the extra replicas go).
    #[arg(long, value_enum, default_value_t)]
    pub scoring: Scoring,
    #[command(flatten)]
    pub prune: super::what_if::PruneArgs,
}

pub fn run(context: &Context, args: CapacityArgs) -> Result<Exit> {
    // `-f manifests/ api`: -f takes every value up to the next flag, so a
    // value that is no path but names a workload is a WORKLOAD.
    let (files, maybe_workloads): (Vec<String>, Vec<String>) = args
        .manifests
        .files
        .iter()
        .cloned()
        .partition(|f| f == "-" || Path::new(f).exists() || Path::new(f).is_symlink());
    let manifests = ManifestArgs {
        files: if files.is_empty() {
            args.manifests.files.clone()
        } else {
            files
        },
        strict: args.manifests.strict,
    };
    let loaded = load_manifests(&manifests, context.quiet)?;
    let desired = &loaded.desired;
    let mut only = Vec::new();
    for text in &args.workloads {
        only.push(analysis::resolve_workload(desired, text)?);
    }
    for text in maybe_workloads {
        match analysis::resolve_workload(desired, &text) {
            Ok(id) => only.push(id),
            Err(AnalysisError::UnknownWorkload { known, .. }) => {
                return Err(anyhow!(
                    "{text}: no such file or directory, nor a workload of the manifests (workloads: {})",
                    known.join(", ")
                ));
            }
            Err(error) => return Err(error.into()),
        }
    }
    let (base, scheduler) = converge(desired, context, args.scoring, args.timeout, args.prune)?;
    let probing =
        super::terminal::spinner(context, "placing extra replicas until one fits nowhere");
    let headroom = capacity::headroom(&base.desired, &base.state, &scheduler, &only, PROBE_LIMIT);
    // Node groups: the same probe on the fleet grown to every group's maxSize.
    let grown = (!base.desired.node_groups.is_empty()).then(|| {
        let grown =
            crate::autoscale::nodegroup::controller::grown_to_max(&base.desired, &base.state);
        capacity::headroom(&base.desired, &grown, &scheduler, &only, PROBE_LIMIT)
    });
    probing.finish_and_clear();
    if context.output.is_document() {
        out_document(
            &render::capacity::document(&headroom, grown.as_deref(), PROBE_LIMIT),
            context.output,
        );
    } else {
        out(&render::capacity::table_of(&headroom, grown.as_deref()));
    }
    // The process ends here: freeing a large fleet's structures only costs time.
    std::mem::forget((loaded, base));
    Ok(Exit::Success)
}
