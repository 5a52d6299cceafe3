//! `orch plan` and `orch apply`: the same loop; apply persists each step
//! under the state lock, plan never writes the state. `plan --out FILE`
//! also saves the plan, and `apply FILE` carries out exactly its steps
//! (see `saved_plan` for how that is guaranteed). `--atomic` is a run
//! option the executor carries out, so `plan --atomic` shows the rollback
//! `apply --atomic` makes. Both end with the spread audit of the final
//! state, reported as warnings.

use super::ci::{ReportArgs, Reporter};
use super::persister::persisting;
use super::report::{Visual, VisualArgs};
use super::shared::{ManifestArgs, out_document, parse_sources};
use super::{Context, Exit};
use crate::audit;
use crate::executor::{self, RunOptions, RunResult};
use crate::model::state::{API_VERSION, State};
use crate::model::workload::Desired;
use crate::reconcile::{Options, Prune};
use crate::render::{self, Format, documents};
use crate::saved_plan::{self, ManifestSource, PlanError, PlanOptions, SavedPlan, StateRecord};
use crate::scheduler::{Scheduler, ScoringStrategy};
use crate::state_store::{self, StateError, StateLock};
use anyhow::{Context as _, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::{Path, PathBuf};

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
    /// Once converged or blocked, let simulated time run on DURATION more (`6h`, `1d`,
    /// `90m`): CronJobs fire, Jobs run; the outcome is judged at the end.
    #[arg(long, value_name = "DURATION", value_parser = parse_advance)]
    pub advance: Option<u64>,
    /// For a new state: the wall-clock time of simulated second 0, which cron
    /// schedules are read against (RFC 3339; default 2026-01-01T00:00:00Z).
    #[arg(long, value_name = "TIME", value_parser = parse_epoch)]
    pub epoch: Option<i64>,
}

fn parse_epoch(text: &str) -> Result<i64, String> {
    text.parse::<jiff::Timestamp>()
        .map(|t| t.as_second())
        .map_err(|_| format!("`{text}` is not an RFC 3339 time such as 2026-03-01T00:00:00Z"))
}

/// `--epoch`: given to a new state; an existing state keeps the one it was made with.
pub(super) fn seed_epoch(state: &mut State, epoch: Option<i64>) -> Result<()> {
    let Some(epoch) = epoch else {
        return Ok(());
    };
    let new = state.generation == 0 && state.nodes.is_empty() && state.workloads.is_empty();
    if new {
        state.epoch = epoch;
    } else if state.epoch != epoch {
        anyhow::bail!(
            "--epoch {}: the state's epoch is {}, fixed when it was created",
            crate::model::cron::rfc3339(epoch),
            crate::model::cron::rfc3339(state.epoch)
        );
    }
    Ok(())
}

/// `--advance`: a duration as the manifests write them (`30s`, `1h30m`), or days (`2d`).
fn parse_advance(text: &str) -> Result<u64, String> {
    let days = text
        .strip_suffix('d')
        .and_then(|d| d.parse::<u64>().ok())
        .map(|d| d * 86_400);
    days.or_else(|| crate::manifest::parse_duration(text))
        .ok_or_else(|| format!("`{text}` is not a duration such as 30m, 6h, 1h30m or 1d"))
}

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub common: LoopArgs,
    /// Exit 2 when the plan has changes (0 when none).
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Also save the plan to FILE (JSON, kind SavedPlan); `orch apply FILE` carries out exactly its steps.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Show the rollback `apply --atomic` would make of a failed rollout (exit 3 all the same).
    #[arg(long)]
    pub atomic: bool,
    #[command(flatten)]
    pub report: ReportArgs,
    #[command(flatten)]
    pub visual: VisualArgs,
}

#[derive(Debug, clap::Args)]
#[command(
    mut_arg("files", |arg| arg.required(false)),
    group(clap::ArgGroup::new("input").required(true).args(["files", "plan"]))
)]
pub struct ApplyArgs {
    /// A saved plan (`orch plan --out FILE`) to carry out exactly, instead of -f; refused when the state changed since.
    #[arg(
        value_name = "PLAN",
        conflicts_with_all = ["files", "strict", "timeout", "max_steps", "scoring", "no_prune", "prune_all", "atomic", "advance", "epoch"]
    )]
    pub plan: Option<PathBuf>,
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
    #[command(flatten)]
    pub visual: VisualArgs,
}

impl LoopArgs {
    /// The options that change the loop's decisions, as a saved plan records them.
    pub(super) fn plan_options(&self, atomic: bool) -> PlanOptions {
        PlanOptions {
            scoring: match self.scoring {
                Scoring::LeastAllocated => saved_plan::Scoring::LeastAllocated,
                Scoring::MostAllocated => saved_plan::Scoring::MostAllocated,
            },
            timeout: self.timeout,
            max_steps: self.max_steps,
            prune: if self.no_prune {
                saved_plan::Prune::Keep
            } else if self.prune_all {
                saved_plan::Prune::All
            } else {
                saved_plan::Prune::Auto
            },
            strict: self.manifests.strict,
            atomic,
            advance: self.advance.unwrap_or(0),
            epoch: self.epoch,
        }
    }

    pub(super) fn run_options(&self, atomic: bool) -> RunOptions {
        run_options(&self.plan_options(atomic))
    }

    pub(super) fn scheduler(&self) -> Scheduler {
        scheduler(&self.plan_options(false))
    }
}

fn run_options(options: &PlanOptions) -> RunOptions {
    RunOptions {
        reconcile: Options {
            prune: match options.prune {
                saved_plan::Prune::Auto => Prune::Auto,
                saved_plan::Prune::Keep => Prune::Keep,
                saved_plan::Prune::All => Prune::All,
            },
            ..Default::default()
        },
        timeout: options.timeout,
        max_steps: options.max_steps.map_or(executor::MAX_STEPS, |n| {
            n.min(executor::MAX_STEPS as u64) as usize
        }),
        atomic: options.atomic,
        advance: options.advance,
        keep_steps: true,
    }
}

fn scheduler(options: &PlanOptions) -> Scheduler {
    Scheduler::new(match options.scoring {
        saved_plan::Scoring::LeastAllocated => ScoringStrategy::LeastAllocated,
        saved_plan::Scoring::MostAllocated => ScoringStrategy::MostAllocated,
    })
}

/// The state and, when asked, the digest of the exact bytes it was read from.
fn load_state(path: &Path, digest: bool) -> Result<(State, Option<String>), StateError> {
    let mut hasher = digest.then(sha2::Sha256::default);
    let state = state_store::load_streamed(path, hasher.as_mut())?;
    let digest = match state {
        Some(_) => hasher.map(saved_plan::digest_of),
        None => None,
    };
    Ok((state.unwrap_or_default(), digest))
}

pub fn plan(context: &Context, args: PlanArgs) -> Result<Exit> {
    Reporter::new(context, "plan", &args.report).run(|ci| {
        // The state loads on a second core while the manifests are read; a
        // manifest error is still the one reported first.
        let (loaded, state) = std::thread::scope(|scope| {
            let state = scope.spawn(|| load_state(&context.state, args.out.is_some()));
            let loaded = ci.load_with_sources(&args.common.manifests);
            (loaded, state.join())
        });
        let (loaded, sources) = loaded?;
        let (mut state, digest) =
            state.map_err(|_| anyhow::anyhow!("loading the state failed"))??;
        ci.check_updates(&loaded.desired, &sources, &state)?;
        executor::adopt(&loaded.desired, &mut state);
        let mut visual = Visual::new(context, &args.visual, &loaded.desired, &state, "plan")?;
        let scheduler = args.common.scheduler();
        let progress = progress_bar(context);
        seed_epoch(&mut state, args.common.epoch)?;
        let mut result = executor::run(
            &loaded.desired,
            &mut state,
            &scheduler,
            &args.common.run_options(args.atomic),
            |state, step| {
                visual.step(state, step);
                if let Some(step) = step {
                    show_step(&progress, step);
                }
                Ok::<(), anyhow::Error>(())
            },
        )?;
        progress.finish_and_clear();
        if let Some(path) = &args.out {
            let saved = SavedPlan {
                api_version: API_VERSION.to_string(),
                kind: saved_plan::KIND.to_string(),
                state: StateRecord { digest },
                options: args.common.plan_options(args.atomic),
                manifests: sources.iter().map(ManifestSource::from).collect(),
                outcome: result.outcome.as_str().to_string(),
                clock: result.clock,
                steps: result
                    .steps
                    .iter()
                    .map(|step| serde_json::to_value(documents::step(step)))
                    .collect::<Result<_, _>>()?,
            };
            saved_plan::save(path, &saved)?;
        }
        finish(ci, context, &loaded.desired, &state, &mut result, "Plan")?;
        let line = render::plan::summary_line(&result, "Plan");
        visual.finish(context, "plan", &result, &state, &scheduler, &line)?;
        if let Some(path) = &args.out
            && !context.quiet
        {
            eprintln!(
                "Saved the plan to {path}. To carry out exactly these steps: orch apply {path}",
                path = path.display()
            );
        }
        // The process ends here: freeing a large fleet's structures only costs time.
        let outcome = result.outcome;
        std::mem::forget((loaded, sources, state, result.steps, result.settled));
        Ok(if args.detailed_exitcode {
            outcome.detailed_exit_code()
        } else {
            outcome.exit_code()
        })
    })
}

/// The loop, persisting the state after every step under `lock` (in the
/// background).
fn run_persisting(
    lock: &StateLock,
    progress: &ProgressBar,
    visual: &mut Visual,
    desired: &Desired,
    state: &mut State,
    scheduler: &Scheduler,
    options: &RunOptions,
) -> Result<RunResult> {
    executor::adopt(desired, state);
    persisting(lock, |persister| {
        executor::run(desired, state, scheduler, options, |state, step| {
            persister.save(state)?;
            visual.step(state, step);
            if let Some(step) = step {
                show_step(progress, step);
            }
            Ok::<(), anyhow::Error>(())
        })
    })
}

/// The spread audit of the final state (against the set the run ended on),
/// then the report: the result, the CI annotations and the summary.
fn finish(
    ci: &Reporter,
    context: &Context,
    desired: &Desired,
    state: &State,
    result: &mut RunResult,
    kind: &'static str,
) -> Result<()> {
    let verb = if kind == "Plan" { "Plan" } else { "Apply" };
    let audited = result.rolled_back_set.as_ref().unwrap_or(desired);
    result.warnings = audit::spread(audited, state, result.settled.as_ref());
    report(ci, context, result, kind, verb);
    let rolled_back: Vec<(String, String)> = result
        .rolled_back
        .iter()
        .map(|r| (r.object.clone(), r.message.clone()))
        .collect();
    ci.finished(
        desired,
        result,
        &rolled_back,
        &render::plan::summary_line(result, verb),
    )
}

pub fn apply(context: &Context, args: ApplyArgs) -> Result<Exit> {
    Reporter::new(context, "apply", &args.report).run(|ci| match &args.plan {
        Some(plan) => apply_saved(ci, context, plan, args.wait_lock, &args.visual),
        None => apply_reported(ci, context, &args),
    })
}

fn apply_reported(ci: &Reporter, context: &Context, args: &ApplyArgs) -> Result<Exit> {
    let (loaded, sources) = ci.load_with_sources(&args.common.manifests)?;
    let lock = state_store::lock(&context.state, args.wait_lock)?;
    let mut state = lock.load()?;
    ci.check_updates(&loaded.desired, &sources, &state)?;
    seed_epoch(&mut state, args.common.epoch)?;
    let progress = progress_bar(context);
    let mut visual = Visual::new(context, &args.visual, &loaded.desired, &state, "apply")?;
    let scheduler = args.common.scheduler();
    let mut result = run_persisting(
        &lock,
        &progress,
        &mut visual,
        &loaded.desired,
        &mut state,
        &scheduler,
        &args.common.run_options(args.atomic),
    )?;
    progress.finish_and_clear();
    finish(
        ci,
        context,
        &loaded.desired,
        &state,
        &mut result,
        "ApplyResult",
    )?;
    let line = render::plan::summary_line(&result, "Apply");
    visual.finish(context, "apply", &result, &state, &scheduler, &line)?;
    let exit = result.outcome.exit_code();
    // The process ends here: freeing a large fleet's structures only costs time.
    std::mem::forget((loaded, sources, state, result));
    Ok(exit)
}

/// `orch apply PLAN`: the saved plan's steps, exactly, or nothing.
fn apply_saved(
    ci: &Reporter,
    context: &Context,
    path: &Path,
    wait_lock: bool,
    visual_args: &VisualArgs,
) -> Result<Exit> {
    let saved = saved_plan::load(path)?;
    let sources: Vec<_> = saved
        .manifests
        .iter()
        .map(ManifestSource::to_source)
        .collect();
    let loaded = parse_sources(&sources, saved.options.strict, true)
        .with_context(|| format!("plan {}: the recorded manifests", path.display()))?;
    let lock = state_store::lock(&context.state, wait_lock)?;
    let bytes = state_store::read(lock.path())?;
    let now = saved_plan::digest(bytes.as_deref());
    if now != saved.state.digest {
        return Err(PlanError::Stale {
            state: context.state.clone(),
            recorded: saved.state.digest.clone(),
            now,
        }
        .into());
    }
    let mut state = match bytes {
        Some(bytes) => state_store::parse(lock.path(), &bytes)?,
        None => State::default(),
    };
    seed_epoch(&mut state, saved.options.epoch)?;
    // The whole run is checked in memory before the first write: exactly
    // the recorded plan, or nothing.
    executor::adopt(&loaded.desired, &mut state);
    let mut visual = Visual::new(context, visual_args, &loaded.desired, &state, "apply")?;
    let scheduler = scheduler(&saved.options);
    let mut result = executor::run(
        &loaded.desired,
        &mut state,
        &scheduler,
        &run_options(&saved.options),
        |state, step| {
            visual.step(state, step);
            Ok::<(), anyhow::Error>(())
        },
    )?;
    let steps = result
        .steps
        .iter()
        .map(|step| serde_json::to_value(documents::step(step)))
        .collect::<Result<Vec<_>, _>>()?;
    let computed = saved_plan::Computed {
        steps: &steps,
        outcome: result.outcome.as_str(),
        clock: result.clock,
    };
    saved_plan::verify(path, &saved, &computed)?;
    // The state a direct apply persists last (it saves nothing without a step).
    if !result.steps.is_empty() {
        lock.save(&state)
            .with_context(|| format!("saving state {}", context.state.display()))?;
    }
    finish(
        ci,
        context,
        &loaded.desired,
        &state,
        &mut result,
        "ApplyResult",
    )?;
    let line = render::plan::summary_line(&result, "Apply");
    visual.finish(context, "apply", &result, &state, &scheduler, &line)?;
    Ok(result.outcome.exit_code())
}

fn show_step(progress: &ProgressBar, step: &executor::Step) {
    progress.inc(1);
    progress.set_message(format!(
        "t={} {} actions",
        render::duration(step.time),
        step.actions.len()
    ));
}

fn progress_bar(context: &Context) -> ProgressBar {
    if !super::terminal::shows_progress(context) {
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
    if context.verbose > 0 {
        eprintln!("{}", render::plan::scheduling(&result.scheduling));
    }
    if context.output.is_document() {
        out_document(&documents::run(result, kind), context.output);
        return;
    }
    // Every row with --verbose or -o wide; a large run summarised otherwise.
    let whole = context.verbose > 0 || context.output == Format::Wide;
    let scaled = &render::scaled::Limits::of(result);
    if !context.quiet && !result.steps.is_empty() {
        if whole || scaled.timeline_fits {
            ci.human(&render::plan::timeline(result));
        } else {
            ci.human(&render::scaled::timeline(result));
        }
        ci.human("\n");
        let steps = render::plan::steps(result);
        if whole || steps.lines().count() <= render::scaled::STEP_ROWS + 1 {
            ci.human(&steps);
        } else {
            ci.human(&render::scaled::steps(result));
        }
        ci.human("\n");
        if let Some(autoscalers) = render::hpa::steps(result) {
            ci.human(&autoscalers);
            ci.human("\n");
        }
    }
    if !result.workloads.is_empty() && !context.quiet {
        if whole || result.workloads.len() <= render::scaled::WORKLOAD_ROWS {
            ci.human(&render::plan::workloads(&result.workloads));
        } else {
            ci.human(&render::scaled::workloads(&result.workloads));
        }
        ci.human("\n");
    }
    let blocked = render::plan::blocked(&result.workloads);
    ci.human(&if whole {
        blocked
    } else {
        render::scaled::blocked(&blocked)
    });
    for rollback in &result.rolled_back {
        ci.human(&format!("{}\n", rollback.message));
    }
    if !context.quiet {
        ci.human(&format!("{}\n", render::plan::summary_line(result, verb)));
        for warning in &result.warnings {
            eprintln!("warning: {}: {}", warning.object, warning.message());
        }
    }
}
