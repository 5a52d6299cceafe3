//! `orch validate`: parse and check; touches no state.

use super::shared::{ManifestArgs, load_manifests};
use super::{Context, Exit};
use anyhow::Result;

pub fn run(context: &Context, args: ManifestArgs) -> Result<Exit> {
    let loaded = load_manifests(&args, context.quiet)?;
    if !context.quiet {
        let desired = &loaded.desired;
        eprintln!(
            "valid: {} node(s), {} workload(s), {} PodDisruptionBudget(s)",
            desired.nodes.len(),
            desired.workloads.len(),
            desired.disruption_budgets.len()
        );
    }
    Ok(Exit::Success)
}
