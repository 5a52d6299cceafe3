//! `orch plan` and `orch apply`: the same loop; apply persists each step
//! under the state lock, plan never writes.

use super::ci::{ReportArgs, Reporter};
use super::shared::{ManifestArgs, out};
use super::{Context, Exit};
use crate::executor::{self, Outcome, RunOptions, RunResult};
use crate::model::state::State;
use crate::model::workload::Desired;
use crate::reconcile::{Options, Prune, undo};
use crate::render::{self, Format, documents};
use crate::scheduler::{Scheduler, ScoringStrategy};
use crate::state_store;
use anyhow::{Context as _, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Scoring {
    /// Spread load: prefer the emptiest nodes (kube-scheduler's default).
    #[default]
    LeastAllocated,
    /// Bin packing: prefer the fullest nodes that still fit.
    MostAllocated,
}

#[derive(Debug, clap::Args)]
pub struct LoopArgs {
    #[command(flatten)]
    pub manifests: ManifestArgs,
    /// Simulated seconds the loop may run before giving up (exit 3).
    #[arg(long, default_value_t = 3600)]
    pub timeout: u64,
    /// Stop after N steps (exit 3 when not converged by then): step through a rollout.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_steps: Option<u64>,
    /// Node scoring for resources.
    #[arg(long, value_enum, default_value_t)]
    pub scoring: Scoring,
    /// Keep workloads that were applied before but are absent from the -f set.
    #[arg(long, conflicts_with = "prune_all")]
    pub no_prune: bool,
    /// Remove every applied workload absent from the -f set, even when the set is empty.
    #[arg(long)]
    pub prune_all: bool,
}

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub common: LoopArgs,
    /// Exit 2 when the plan has changes (0 when none).
    #[arg(long)]
    pub detailed_exitcode: bool,
    #[command(flatten)]
    pub report: ReportArgs,
}

#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub common: LoopArgs,
    /// Wait for the state lock instead of failing when another orch holds it.
    #[arg(long)]
    pub wait_lock: bool,
    /// Roll a failed rollout back to the previous revision (exit 3 all the same).
    #[arg(long)]
    pub atomic: bool,
    #[command(flatten)]
    pub report: ReportArgs,
}

impl LoopArgs {
    pub(super) fn run_options(&self) -> RunOptions {
        RunOptions {
            reconcile: Options {
                prune: if self.no_prune {
                    Prune::Keep
                } else if self.prune_all {
                    Prune::All
                } else {
                    Prune::Auto
                },
            },
            timeout: self.timeout,
            max_steps: self.max_steps.map_or(executor::MAX_STEPS, |n| {
                n.min(executor::MAX_STEPS as u64) as usize
            }),
        }
    }

    pub(super) fn scheduler(&self) -> Scheduler {
        Scheduler::new(match self.scoring {
            Scoring::LeastAllocated => ScoringStrategy::LeastAllocated,
            Scoring::MostAllocated => ScoringStrategy::MostAllocated,
        })
    }
}

pub fn plan(context: &Context, args: PlanArgs) -> Result<Exit> {
    Reporter::new(context, "plan", &args.report).run(|ci| {
        // The state loads on a second core while the manifests are read; a
        // manifest error is still the one reported first.
        let (loaded, state) = std::thread::scope(|scope| {
            let state = scope.spawn(|| state_store::load(&context.state));
            let loaded = ci.load(&args.common.manifests);
            (loaded, state.join())
        });
        let loaded = loaded?;
        let mut state = state.map_err(|_| anyhow::anyhow!("loading the state failed"))??;
        let result = executor::run(
            &loaded.desired,
            &mut state,
            &args.common.scheduler(),
            &args.common.run_options(),
            |_, _| Ok::<(), anyhow::Error>(()),
        )?;
        report(ci, context, &result, "Plan", "Plan");
        ci.finished(
            &loaded.desired,
            &result,
            &[],
            &render::plan::summary_line(&result, "Plan"),
        )?;
        // The process ends here: freeing a large fleet's structures only costs time.
        let outcome = result.outcome;
        std::mem::forget((loaded, state, result.steps));
        Ok(match outcome {
            Outcome::NoChanges => Exit::Success,
            Outcome::Converged if args.detailed_exitcode => Exit::Changes,
            Outcome::Converged => Exit::Success,
            Outcome::Blocked | Outcome::Timeout => Exit::NotConverged,
        })
    })
}

pub fn apply(context: &Context, args: ApplyArgs) -> Result<Exit> {
    Reporter::new(context, "apply", &args.report).run(|ci| apply_reported(ci, context, &args))
}

fn apply_reported(ci: &Reporter, context: &Context, args: &ApplyArgs) -> Result<Exit> {
    let loaded = ci.load(&args.common.manifests)?;
    let lock = state_store::lock(&context.state, args.wait_lock)?;
    let mut state = lock.load()?;
    let progress = progress_bar(context);
    let run = |desired: &Desired, state: &mut State| {
        executor::run(
            desired,
            state,
            &args.common.scheduler(),
            &args.common.run_options(),
            |state, step| {
                lock.save(state)
                    .with_context(|| format!("saving state {}", context.state.display()))?;
                if let Some(step) = step {
                    progress.inc(1);
                    progress.set_message(format!(
                        "t={} {} actions",
                        render::duration(step.time),
                        step.actions.len()
                    ));
                }
                Ok::<(), anyhow::Error>(())
            },
        )
    };
    let mut result = run(&loaded.desired, &mut state)?;
    let failed = matches!(result.outcome, Outcome::Blocked | Outcome::Timeout);
    // `--atomic`: each rolled-back workload, and what was done.
    let mut rolled_back: Vec<(String, String)> = Vec::new();
    if args.atomic && failed {
        // Every workload whose rollout failed goes back to its previous revision.
        let mut desired = loaded.desired.clone();
        for report in result.workloads.iter().filter(|r| !r.converged()) {
            let Some(workload) = desired
                .workloads
                .iter()
                .find(|w| w.id.to_string() == report.object)
            else {
                continue;
            };
            let id = workload.id.clone();
            if let Ok(revision) = undo::rollback(&mut desired, &state, &id, None) {
                let why = report
                    .blocked
                    .as_ref()
                    .map_or(String::new(), |b| format!(" ({}: {})", b.reason, b.message));
                rolled_back.push((
                    id.to_string(),
                    format!("rolled back {id} to revision {revision}{why}"),
                ));
            }
        }
        if !rolled_back.is_empty() {
            let rollback = run(&desired, &mut state)?;
            progress.finish_and_clear();
            result.steps.extend(rollback.steps);
            result.clock = rollback.clock;
            result.workloads = rollback.workloads;
            result.rolled_back = rolled_back.iter().map(|(_, line)| line.clone()).collect();
        }
    }
    progress.finish_and_clear();
    report(ci, context, &result, "ApplyResult", "Apply");
    ci.finished(
        &loaded.desired,
        &result,
        &rolled_back,
        &render::plan::summary_line(&result, "Apply"),
    )?;
    // The process ends here: freeing a large fleet's structures only costs time.
    std::mem::forget((loaded, state, result.steps));
    Ok(if failed {
        Exit::NotConverged
    } else {
        Exit::Success
    })
}

fn progress_bar(context: &Context) -> ProgressBar {
    if context.quiet || context.output != Format::Table && context.output != Format::Wide {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} step {pos} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar
}

fn report(ci: &Reporter, context: &Context, result: &RunResult, kind: &'static str, verb: &str) {
    if context.output.is_document() {
        out(&render::document(
            &documents::run(result, kind),
            context.output,
        ));
        return;
    }
    if !context.quiet && !result.steps.is_empty() {
        ci.human(&render::plan::timeline(result));
        ci.human("\n");
        ci.human(&render::plan::steps(result));
        ci.human("\n");
    }
    if !result.workloads.is_empty() && !context.quiet {
        ci.human(&render::plan::workloads(&result.workloads));
        ci.human("\n");
    }
    ci.human(&render::plan::blocked(&result.workloads));
    for line in &result.rolled_back {
        ci.human(&format!("{line}\n"));
    }
    if !context.quiet {
        ci.human(&format!("{}\n", render::plan::summary_line(result, verb)));
    }
}
