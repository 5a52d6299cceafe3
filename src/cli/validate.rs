//! `orch validate`: parse and check; touches no state.

use super::ci::{ReportArgs, Reporter};
use super::shared::ManifestArgs;
use super::{Context, Exit};
use anyhow::Result;

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub manifests: ManifestArgs,
    #[command(flatten)]
    pub report: ReportArgs,
}

pub fn run(context: &Context, args: ValidateArgs) -> Result<Exit> {
    Reporter::new(context, "validate", &args.report).run(|ci| {
        let loaded = ci.load(&args.manifests)?;
        let desired = &loaded.desired;
        let summary = format!(
            "valid: {} node(s), {} workload(s), {} PodDisruptionBudget(s)",
            desired.nodes.len(),
            desired.workloads.len() + desired.cron_jobs.len(),
            desired.disruption_budgets.len()
        );
        if !context.quiet {
            eprintln!("{summary}");
        }
        ci.valid(desired, &summary)?;
        Ok(Exit::Success)
    })
}
