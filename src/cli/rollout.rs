//! `orch rollout status|history|undo|pause|resume WORKLOAD`, as `kubectl rollout`.
//! WORKLOAD is `Kind/namespace/name`, `Kind/name` or a bare name.

use super::get::stored_desired;
use super::persister::persisting;
use super::shared::{hint, out, out_document};
use super::{Context, Exit};
use crate::executor;
use crate::model::event::EventReason;
use crate::model::state::{Event, EventType, State};
use crate::model::workload::{Kind, ObjectRef};
use crate::reconcile::status::BlockedReason;
use crate::reconcile::{summarize, undo};
use crate::render::{self, tables::table};
use crate::state_store;
use anyhow::{Result, anyhow, bail};

#[derive(Debug, clap::Subcommand)]
pub enum RolloutCommand {
    /// Whether the latest rollout has finished (exit 0), or why not (exit 3).
    Status(Target),
    /// The recorded revisions.
    History(Target),
    /// Roll back to the previous revision, or to --to-revision N.
    Undo(UndoArgs),
    /// Stop rolling out new templates until resumed.
    Pause(Target),
    /// Resume a paused rollout (the next apply rolls it out).
    Resume(Target),
}

#[derive(Debug, clap::Args)]
pub struct Target {
    /// `Deployment/api`, `Deployment/default/api` or `api`.
    pub workload: String,
}

#[derive(Debug, clap::Args)]
pub struct UndoArgs {
    pub workload: String,
    #[arg(long)]
    pub to_revision: Option<u64>,
    #[arg(long, default_value_t = 3600)]
    pub timeout: u64,
    #[arg(long)]
    pub wait_lock: bool,
}

/// Resolve a workload reference against the state.
pub(super) fn resolve(state: &State, text: &str) -> Result<ObjectRef> {
    if let Some(id) = ObjectRef::parse(text, "default") {
        return state.workload(&id).map(|w| w.id()).ok_or_else(|| {
            let known: Vec<String> = state.workloads.iter().map(|w| w.id().to_string()).collect();
            anyhow!(
                "{id} is not in the state{}",
                hint(&id.to_string(), known.iter().map(String::as_str))
            )
        });
    }
    let found: Vec<ObjectRef> = state
        .workloads
        .iter()
        .filter(|w| {
            w.name == text
                && matches!(
                    w.kind,
                    Kind::Deployment | Kind::DaemonSet | Kind::StatefulSet
                )
        })
        .map(|w| w.id())
        .collect();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => bail!(
            "no workload named {text} in the state{}",
            hint(
                text,
                state
                    .workloads
                    .iter()
                    .filter(|w| {
                        matches!(
                            w.kind,
                            Kind::Deployment | Kind::DaemonSet | Kind::StatefulSet
                        )
                    })
                    .map(|w| w.name.as_str())
            )
        ),
        many => bail!(
            "{text} is ambiguous: {}",
            many.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

pub fn run(context: &Context, command: RolloutCommand) -> Result<Exit> {
    match command {
        RolloutCommand::Status(target) => status(context, &target.workload),
        RolloutCommand::History(target) => history(context, &target.workload),
        RolloutCommand::Undo(args) => undo_rollout(context, args),
        RolloutCommand::Pause(target) => set_paused(context, &target.workload, true),
        RolloutCommand::Resume(target) => set_paused(context, &target.workload, false),
    }
}

fn status(context: &Context, text: &str) -> Result<Exit> {
    let state = state_store::load(&context.state)?;
    let id = resolve(&state, text)?;
    let desired = stored_desired(&state)?;
    let report = summarize(&desired, &state, state.clock)
        .into_iter()
        .find(|r| r.object == id.to_string())
        .ok_or_else(|| anyhow!("{id} is not in the state"))?;
    let kind = id.kind.as_str().to_lowercase();
    let name = &id.name;
    let converged = report.converged();
    let stateful = id.kind == Kind::StatefulSet;
    let line = match &report.blocked {
        // kubectl's StatefulSet status viewer.
        _ if converged && stateful && report.partition > 0 => format!(
            "partitioned roll out complete: {} new pods have been updated...\n",
            report.desired - report.partition
        ),
        _ if converged && stateful => format!(
            "statefulset rolling update complete {} pods at revision {}...\n",
            report.desired,
            state
                .workload(&id)
                .and_then(|w| w.current_revision())
                .map_or(String::new(), |r| format!("{name}-{}", r.hash))
        ),
        _ if converged => format!("{kind} \"{name}\" successfully rolled out\n"),
        Some(b) if b.reason == BlockedReason::ProgressDeadlineExceeded => {
            format!("error: {kind} \"{name}\" exceeded its progress deadline\n")
        }
        Some(b) => format!(
            "{kind} \"{name}\" is blocked ({}): {}\n",
            b.reason, b.message
        ),
        None if report.updated < report.desired => format!(
            "Waiting for {kind} \"{name}\" rollout to finish: {} out of {} new replicas have been updated...\n",
            report.updated, report.desired
        ),
        None if report.current > report.updated => format!(
            "Waiting for {kind} \"{name}\" rollout to finish: {} old replicas are pending termination...\n",
            report.current - report.updated
        ),
        None => format!(
            "Waiting for {kind} \"{name}\" rollout to finish: {} of {} updated replicas are available...\n",
            report.available, report.updated
        ),
    };
    out(&line);
    Ok(Exit::from_check(converged))
}

fn history(context: &Context, text: &str) -> Result<Exit> {
    let state = state_store::load(&context.state)?;
    let id = resolve(&state, text)?;
    let stored = state
        .workload(&id)
        .ok_or_else(|| anyhow!("{id} is not in the state"))?;
    let current = stored.current_revision().map(|r| r.revision);
    let mut revisions: Vec<_> = stored.revisions.iter().collect();
    revisions.sort_by_key(|r| r.revision);
    let rows = revisions
        .iter()
        .map(|r| {
            let images: Vec<String> = r.template.value()["spec"]["containers"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| c["image"].as_str().unwrap_or("<no image>").to_string())
                .collect();
            let replicas = state
                .replicas
                .iter()
                .filter(|x| x.workload == id && *x.hash == *r.hash)
                .count();
            vec![
                format!(
                    "{}{}",
                    r.revision,
                    if Some(r.revision) == current {
                        " (current)"
                    } else {
                        ""
                    }
                ),
                r.hash.clone(),
                replicas.to_string(),
                images.join(","),
            ]
        })
        .collect();
    out(&format!("{id}\n"));
    out(&table(&["REVISION", "HASH", "REPLICAS", "IMAGES"], rows));
    Ok(Exit::Success)
}

fn undo_rollout(context: &Context, args: UndoArgs) -> Result<Exit> {
    let lock = state_store::lock(&context.state, args.wait_lock)?;
    let mut state = lock.load()?;
    let id = resolve(&state, &args.workload)?;
    if id.kind != Kind::Deployment {
        bail!("{id}: only Deployments keep revisions to roll back to");
    }
    let mut desired = stored_desired(&state)?;
    let revision = undo::rollback(&mut desired, &state, &id, args.to_revision)?;
    let scheduler =
        crate::scheduler::Scheduler::new(crate::scheduler::ScoringStrategy::LeastAllocated);
    let options = crate::executor::RunOptions {
        reconcile: crate::reconcile::Options {
            prune: crate::reconcile::Prune::Keep,
            ..Default::default()
        },
        timeout: args.timeout,
        ..Default::default()
    };
    let result = persisting(&lock, |persister| {
        executor::run(&desired, &mut state, &scheduler, &options, |state, _| {
            persister.save(state)
        })
    })?;
    if context.output.is_document() {
        out_document(
            &render::documents::run(&result, "ApplyResult"),
            context.output,
        );
    } else {
        out(&format!("{id} rolled back to revision {revision}\n"));
        if !context.quiet {
            out(&format!(
                "{}\n",
                render::plan::summary_line(&result, "Undo")
            ));
        }
    }
    Ok(result.outcome.exit_code())
}

fn set_paused(context: &Context, text: &str, paused: bool) -> Result<Exit> {
    let lock = state_store::lock(&context.state, false)?;
    let mut state = lock.load()?;
    let id = resolve(&state, text)?;
    // As kubectl: only Deployments can be paused.
    if id.kind == Kind::StatefulSet {
        bail!(
            "statefulsets.apps \"{}\" {} is not supported",
            id.name,
            if paused { "pausing" } else { "resuming" }
        );
    }
    let verb = if paused { "paused" } else { "resumed" };
    let clock = state.clock;
    let stored = state
        .workloads
        .iter_mut()
        .find(|w| w.id() == id)
        .ok_or_else(|| anyhow!("{id} is not in the state"))?;
    if stored.status.paused == paused {
        out(&format!("{id} already {verb}\n"));
        return Ok(Exit::Success);
    }
    stored.status.paused = paused;
    state.generation += 1;
    state.record_event(Event {
        time: clock,
        kind: EventType::Normal,
        reason: if paused {
            EventReason::RolloutPaused
        } else {
            EventReason::RolloutResumed
        },
        object: id.to_string(),
        message: format!("rollout {verb}"),
    });
    state.trim_events();
    lock.save(&state)?;
    out(&format!("{id} {verb}\n"));
    Ok(Exit::Success)
}
