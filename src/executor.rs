//! Applies a plan's actions to the in-memory state, and drives the loop:
//! observe → diff → act, advancing the simulated clock to the next event when
//! nothing can be done now, until converged, blocked or out of time.
//! Persisting is the caller's business (a callback per step), which is what
//! makes `plan` exactly `apply` without the writes. With `atomic`, a run
//! whose rollout fails rolls each failed workload back to its previous
//! revision and runs on, so `plan --atomic` shows the rollback `apply
//! --atomic` makes. Single-threaded: a caller that wants the writes off the
//! loop's thread does that in its callback.

use crate::model::state::State;
use crate::model::workload::{Desired, Kind, ObjectRef};
use crate::reconcile::status::{Blocked, BlockedReason, WorkloadReport};
use crate::reconcile::{self, Action, Options, undo};
use crate::scheduler::Scheduler;
use std::collections::BTreeSet;

mod actions;
mod advance;
mod autoscale;
mod nodegroup;
mod storage;
pub use actions::execute;
pub use autoscale::release_target;

pub use crate::outcome::Outcome;

/// The counts of one workload after a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepStatus {
    pub object: String,
    pub current: i32,
    pub ready: i32,
    pub available: i32,
    pub updated: i32,
}

/// An HPA after a step: the count it sets on its target, and the
/// target's replicas (not terminating).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoscalerStatus {
    pub object: String,
    pub target: String,
    pub desired: i32,
    pub current: i32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub time: u64,
    pub actions: Vec<Action>,
    pub status: Vec<StepStatus>,
    /// Ready nodes after the step, where node groups are in play.
    pub nodes: Option<u32>,
    /// The HPAs after the step (empty when none is declared).
    pub autoscalers: Vec<AutoscalerStatus>,
}

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub reconcile: Options,
    /// Simulated seconds the loop may advance the clock.
    pub timeout: u64,
    /// Stop after this many steps (`--max-steps`), as if the time budget ran out.
    pub max_steps: usize,
    /// `--atomic`: when the run ends blocked or out of time, roll every
    /// workload that did not converge back to its previous revision, and run on.
    pub atomic: bool,
    /// `--advance`: once the run would stop (converged or blocked), simulated
    /// time runs on this many seconds more, every controller active; the
    /// outcome is judged at the end.
    pub advance: u64,
    /// Whether `RunResult::steps` keeps every step. A caller that folds the
    /// steps as its callback is handed them (a what-if scenario counting
    /// placements) sets it false: a run of 150,000 placements then holds no
    /// step's actions after its callback returns.
    pub keep_steps: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            reconcile: Options::default(),
            timeout: 3600,
            max_steps: MAX_STEPS,
            atomic: false,
            advance: 0,
            keep_steps: true,
        }
    }
}

#[derive(Debug, Clone)]
pub struct RunResult {
    pub outcome: Outcome,
    /// `--atomic`: what was rolled back, and why.
    pub rolled_back: Vec<Rollback>,
    /// `--atomic`, when something was rolled back: the declared set with the
    /// rollbacks made, which the run ended on (what the final state is audited against).
    pub rolled_back_set: Option<Desired>,
    pub steps: Vec<Step>,
    /// The simulated clock when the run started, and when it ended.
    pub start: u64,
    pub clock: u64,
    pub workloads: Vec<WorkloadReport>,
    /// Findings of the audit of the final state (`audit::spread`), filled by
    /// the caller that wants them.
    pub warnings: Vec<crate::audit::SpreadSkew>,
    /// How the run's replicas were scheduled, over all its passes.
    pub scheduling: crate::scheduler::batch::Stats,
    /// The HorizontalPodAutoscalers at the end of the run, with their status.
    pub autoscalers: Vec<crate::autoscale::status::AutoscalerState>,
    /// The scheduler's view of the final state (`occupied_snapshot`), when
    /// the run's last pass accounted that very state; the audit starts
    /// from it instead of accounting every replica again.
    pub settled: Option<crate::scheduler::snapshot::Snapshot>,
}

/// `--atomic`: one workload rolled back after its rollout failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollback {
    /// `Deployment/default/api`.
    pub object: String,
    /// `rolled back Deployment/default/api to revision 1 (ProgressDeadlineExceeded: …)`.
    pub message: String,
}

/// A guard against a controller that keeps acting without converging.
pub const MAX_STEPS: usize = 100_000;

/// Run the loop on `state`. `persist` is called after every step that changed
/// the state (and once more if only the clock moved at the end). With
/// `options.atomic`, a failed run is followed by the run that rolls it back,
/// persisted the same way; the outcome stays the failed run's.
pub fn run<E>(
    desired: &Desired,
    state: &mut State,
    scheduler: &Scheduler,
    options: &RunOptions,
    mut persist: impl FnMut(&State, Option<&Step>) -> Result<(), E>,
) -> Result<RunResult, E> {
    // The cluster's own imported workloads run too, but the outcome and the
    // counts judge the -f set alone.
    let merged = crate::import::with_cluster_workloads(desired, state);
    let declared: std::collections::HashSet<&ObjectRef> =
        desired.workloads.iter().map(|d| &d.id).collect();
    let own: BTreeSet<String> = merged
        .workloads
        .iter()
        .filter(|w| !declared.contains(&w.id))
        .map(|w| w.id.to_string())
        .collect();
    let desired = &*merged;
    let mut result = run_once(desired, &own, state, scheduler, options, &mut persist)?;
    if !options.atomic || !matches!(result.outcome, Outcome::Blocked | Outcome::Timeout) {
        return Ok(result);
    }
    let (rolled_back_set, rolled_back) = rollback_failed(desired, state, &result.workloads);
    if rolled_back.is_empty() {
        return Ok(result);
    }
    let rollback = run_once(
        &rolled_back_set,
        &own,
        state,
        scheduler,
        options,
        &mut persist,
    )?;
    result.steps.extend(rollback.steps);
    result.clock = rollback.clock;
    result.workloads = rollback.workloads;
    result.scheduling.merge(&rollback.scheduling);
    result.autoscalers = rollback.autoscalers;
    result.settled = rollback.settled;
    result.rolled_back = rolled_back;
    result.rolled_back_set = Some(rolled_back_set);
    Ok(result)
}

/// The objects of the `-f` set are applied at the start of a run, as
/// `kubectl apply` does: an imported workload or node they declare becomes
/// one orch applied (pruned once it leaves the set), whether or not its spec
/// changes.
/// (Only for a `-f` set: the workloads a command reads back from the state
/// adopt nothing.)
pub fn adopt(desired: &Desired, state: &mut State) {
    autoscale::forget_undeclared(desired, state);
    let declared = desired
        .workloads
        .iter()
        .map(|w| &w.id)
        .chain(desired.disruption_budgets.iter().map(|b| &b.id));
    for id in declared {
        if let Some(stored) = state.workload_mut(id) {
            stored.origin = crate::model::state::WorkloadOrigin::Applied;
        }
    }
    for spec in &desired.nodes {
        if let Some(node) = state.node_mut(&spec.name)
            && node.source == crate::model::state::NodeSource::Imported
        {
            node.source = crate::model::state::NodeSource::Manifest;
        }
    }
}

/// `desired` with every workload that did not converge set back to its
/// previous revision, and what was rolled back (nothing when none has one).
fn rollback_failed(
    desired: &Desired,
    state: &State,
    reports: &[WorkloadReport],
) -> (Desired, Vec<Rollback>) {
    let mut rolled_back_set = desired.clone();
    let mut rolled_back = Vec::new();
    for report in reports.iter().filter(|r| !r.converged()) {
        let Some(workload) = desired
            .workloads
            .iter()
            .find(|w| w.id.to_string() == report.object)
        else {
            continue;
        };
        let id = &workload.id;
        if let Ok(revision) = undo::rollback(&mut rolled_back_set, state, id, None) {
            let why = report
                .blocked
                .as_ref()
                .map_or(String::new(), |b| format!(" ({}: {})", b.reason, b.message));
            rolled_back.push(Rollback {
                object: id.to_string(),
                message: format!("rolled back {id} to revision {revision}{why}"),
            });
        }
    }
    (rolled_back_set, rolled_back)
}

/// The loop, once: until converged, blocked or out of time
/// (`converge`), then on to `--advance`'s end (`advance_on`).
fn run_once<E>(
    desired: &Desired,
    own: &BTreeSet<String>,
    state: &mut State,
    scheduler: &Scheduler,
    options: &RunOptions,
    mut persist: impl FnMut(&State, Option<&Step>) -> Result<(), E>,
) -> Result<RunResult, E> {
    let options = &RunOptions {
        reconcile: options.reconcile.for_run(),
        ..options.clone()
    };
    let start = state.clock;
    // The run applies the manifests: a bare Pod lost in an earlier run is
    // declared again, and created again.
    for pod in desired.workloads.iter().filter(|w| w.id.kind == Kind::Pod) {
        if let Some(stored) = state.workload_mut(&pod.id) {
            stored.status.lost = None;
        }
    }
    let declared = reconcile::Declared::new(desired);
    let reconcile = |desired: &Desired, state: &State| {
        controllers_pass(&declared, desired, state, scheduler, options)
    };
    let run = Run {
        declared: desired,
        own,
        options,
        start,
        reconcile: &reconcile,
    };
    // The HPAs' syncs come first at each instant: a rescale is a step of its own.
    let mut autoscaling = autoscale::Autoscaling::new(desired, state);
    let mut progress = Progress {
        steps: Steps::new(options.keep_steps),
        scheduling: crate::scheduler::batch::Stats::default(),
        persisted_clock: state.clock,
    };
    // The reports of the state the loop ended on, when it ended by finding
    // nothing more to do (the state and clock do not change after that).
    let (outcome, mut final_reports) =
        run.converge(&mut autoscaling, state, &mut progress, &mut persist)?;
    let outcome = if options.advance > 0 && outcome != Outcome::Timeout {
        final_reports = None;
        run.advance_on(&mut autoscaling, state, &mut progress, &mut persist)?
    } else {
        outcome
    };
    let Progress {
        steps,
        scheduling,
        persisted_clock,
    } = progress;
    let settled = options
        .reconcile
        .carry
        .as_ref()
        .and_then(|carry| carry.settled(state));
    if state.clock != persisted_clock && (steps.taken > 0 || options.advance > 0) {
        state.generation += 1;
        persist(state, None)?;
    }
    let desired = autoscaling.desired(run.declared);
    let mut workloads = final_reports.unwrap_or_else(|| run.reports(desired, state));
    if matches!(outcome, Outcome::Blocked | Outcome::Timeout) {
        for report in workloads
            .iter_mut()
            .filter(|r| !r.converged() && r.blocked.is_none())
        {
            report.blocked = Some(stalled(report, outcome));
        }
    }
    autoscale::annotate_blocked(&mut workloads, state);
    Ok(RunResult {
        outcome,
        rolled_back: Vec::new(),
        rolled_back_set: None,
        steps: steps.kept,
        start,
        clock: state.clock,
        workloads,
        warnings: Vec::new(),
        scheduling,
        autoscalers: state.autoscalers.clone(),
        settled,
    })
}

/// What one run of the loop works with: the declared set, the workloads it
/// is judged on, its options, when it started, and one pass of the
/// controllers.
struct Run<'r> {
    declared: &'r Desired,
    own: &'r BTreeSet<String>,
    options: &'r RunOptions,
    start: u64,
    reconcile: &'r dyn Fn(&Desired, &State) -> reconcile::Plan,
}

/// The steps a run took: how many, and every one of them unless the
/// caller folds them as they come (`RunOptions::keep_steps`).
struct Steps {
    kept: Vec<Step>,
    taken: usize,
    keep: bool,
}

impl Steps {
    fn new(keep: bool) -> Steps {
        Steps {
            kept: Vec::new(),
            taken: 0,
            keep,
        }
    }

    fn push(&mut self, step: Step) {
        self.taken += 1;
        if self.keep {
            self.kept.push(step);
        }
    }
}

/// What the loop has done so far: its steps, the scheduler's counts, and
/// the clock the state was last persisted at.
struct Progress {
    steps: Steps,
    scheduling: crate::scheduler::batch::Stats,
    persisted_clock: u64,
}

impl Run<'_> {
    /// The reports of `state` the run is judged on.
    fn reports(&self, desired: &Desired, state: &State) -> Vec<WorkloadReport> {
        judged(reconcile::summarize(desired, state, state.clock), self.own)
    }

    /// Observe, act, persist, until converged, blocked or out of time; the
    /// reports of the state it ended on when it ended finding nothing to do.
    fn converge<E>(
        &self,
        autoscaling: &mut autoscale::Autoscaling,
        state: &mut State,
        progress: &mut Progress,
        persist: &mut impl FnMut(&State, Option<&Step>) -> Result<(), E>,
    ) -> Result<(Outcome, Option<Vec<WorkloadReport>>), E> {
        let declared = self.declared;
        loop {
            let plan = autoscaling.pass(declared, state, self.reconcile);
            progress.scheduling.merge(&plan.scheduling);
            if !plan.actions.is_empty() {
                execute(state, &plan.actions);
                autoscaling.refresh(state);
                state.generation += 1;
                let desired = autoscaling.desired(declared);
                let reports = self.reports(desired, state);
                let step = Step {
                    time: state.clock,
                    actions: plan.actions,
                    autoscalers: autoscale::step_status(state, &reports),
                    status: step_status(&reports),
                    nodes: nodegroup::fleet_size(desired, state),
                };
                persist(state, Some(&step))?;
                progress.persisted_clock = state.clock;
                progress.steps.push(step);
                if progress.steps.taken >= self.options.max_steps.min(MAX_STEPS) {
                    let outcome = if self.converged_at_budget(autoscaling, state) {
                        Outcome::Converged
                    } else {
                        Outcome::Timeout
                    };
                    return Ok((outcome, None));
                }
                if stuck(&reports) {
                    return Ok((Outcome::Blocked, None));
                }
                continue;
            }
            let desired = autoscaling.desired(declared);
            let wake =
                autoscale::earliest(plan.wake_at, autoscaling.next_sync(declared, state, false));
            if wake.is_some() && stuck(&self.reports(desired, state)) {
                return Ok((Outcome::Blocked, None));
            }
            match wake {
                Some(at) if at.saturating_sub(self.start) <= self.options.timeout => {
                    state.clock = at
                }
                Some(_) => return Ok((Outcome::Timeout, None)),
                None => {
                    let reports = self.reports(desired, state);
                    let outcome = ended(&reports, progress.steps.taken);
                    return Ok((outcome, Some(reports)));
                }
            }
        }
    }

    /// At the step budget: whether the run is done all the same (nothing
    /// to do or wait for, every workload converged, the HPAs quiet).
    fn converged_at_budget(&self, autoscaling: &autoscale::Autoscaling, state: &mut State) -> bool {
        let declared = self.declared;
        let desired = autoscaling.desired(declared);
        let next = (self.reconcile)(desired, state);
        next.actions.is_empty()
            && next.wake_at.is_none()
            && self
                .reports(desired, state)
                .iter()
                .all(WorkloadReport::converged)
            && (autoscaling.next_sync(declared, state, false).is_none()
                || autoscaling.quiet_end(
                    declared,
                    state,
                    self.reconcile,
                    self.start.saturating_add(self.options.timeout),
                ))
    }

    /// `--advance`: the clock runs on to its end, every step persisted;
    /// the outcome is judged there.
    fn advance_on<E>(
        &self,
        autoscaling: &mut autoscale::Autoscaling,
        state: &mut State,
        progress: &mut Progress,
        persist: &mut impl FnMut(&State, Option<&Step>) -> Result<(), E>,
    ) -> Result<Outcome, E> {
        let declared = self.declared;
        let pass = |autoscaling: &mut autoscale::Autoscaling, state: &mut State| {
            autoscaling.pass(declared, state, self.reconcile)
        };
        let end = state.clock.saturating_add(self.options.advance);
        let budget = self.options.max_steps.min(MAX_STEPS);
        let persisted_clock = &mut progress.persisted_clock;
        advance::run_on(
            &pass,
            declared,
            autoscaling,
            state,
            end,
            budget,
            &mut progress.steps,
            &mut progress.scheduling,
            &mut |desired, state, step| {
                if let Some(step) = step {
                    let reports = reconcile::summarize(desired, state, state.clock);
                    let step = Step {
                        autoscalers: autoscale::step_status(state, &reports),
                        status: step_status(&reports),
                        nodes: nodegroup::fleet_size(desired, state),
                        ..step.clone()
                    };
                    persist(state, Some(&step))?;
                    *persisted_clock = state.clock;
                    return Ok(Some(step));
                }
                Ok(None)
            },
        )?;
        let reports = reconcile::summarize(autoscaling.desired(declared), state, state.clock);
        Ok(ended(&reports, progress.steps.taken))
    }
}

/// How a run that found nothing more to do ended: blocked unless every
/// workload converged, else converged, or without changes if it took no step.
fn ended(reports: &[WorkloadReport], steps: usize) -> Outcome {
    if !reports.iter().all(WorkloadReport::converged) {
        Outcome::Blocked
    } else if steps == 0 {
        Outcome::NoChanges
    } else {
        Outcome::Converged
    }
}

/// The reports of the workloads a run is judged on (not the cluster's own).
/// One pass of the controllers at `state.clock`, with the node groups'
/// decisions added: what both the main loop and `settle` run at each instant.
fn controllers_pass(
    declared: &std::sync::Arc<reconcile::Declared>,
    desired: &Desired,
    state: &State,
    scheduler: &Scheduler,
    options: &RunOptions,
) -> reconcile::Plan {
    let mut plan = reconcile::reconcile_with(
        declared,
        desired,
        state,
        state.clock,
        scheduler,
        &options.reconcile,
    );
    nodegroup::extend(
        &mut plan,
        declared,
        desired,
        state,
        scheduler,
        options.reconcile.prune,
    );
    options.reconcile.passed(&plan);
    plan
}

fn judged(mut reports: Vec<WorkloadReport>, own: &BTreeSet<String>) -> Vec<WorkloadReport> {
    if !own.is_empty() {
        reports.retain(|r| !own.contains(&r.object));
    }
    reports
}

/// Every workload that has not converged is blocked for good.
fn stuck(reports: &[WorkloadReport]) -> bool {
    let mut open = reports.iter().filter(|r| !r.converged()).peekable();
    open.peek().is_some() && open.all(|r| r.blocked.as_ref().is_some_and(Blocked::is_terminal))
}

fn stalled(report: &WorkloadReport, outcome: Outcome) -> Blocked {
    let message = format!(
        "{} of {} replicas available, {} updated",
        report.available, report.desired, report.updated
    );
    Blocked {
        reason: if outcome == Outcome::Timeout {
            BlockedReason::Timeout
        } else {
            BlockedReason::RolloutStalled
        },
        message,
    }
}

fn step_status(reports: &[WorkloadReport]) -> Vec<StepStatus> {
    reports
        .iter()
        .map(|r| StepStatus {
            object: r.object.clone(),
            current: r.current,
            ready: r.ready,
            available: r.available,
            updated: r.updated,
        })
        .collect()
}

/// One tick of a continuously running loop (`orch watch`): at the simulated
/// time `now`, run passes until nothing more can be done right now. Returns
/// the steps taken and when the next one is due (simulated seconds).
pub fn settle<E>(
    desired: &Desired,
    state: &mut State,
    now: u64,
    scheduler: &Scheduler,
    options: &RunOptions,
    mut persist: impl FnMut(&State, &Step) -> Result<(), E>,
) -> Result<(Vec<Step>, Option<u64>), E> {
    state.clock = state.clock.max(now);
    let mut steps = Vec::new();
    // The HPAs sync on the simulated clock here too: each sync is an event.
    let mut autoscaling = autoscale::Autoscaling::new(desired, state);
    let declared = reconcile::Declared::new(desired);
    let reconcile = |desired: &Desired, state: &State| {
        controllers_pass(&declared, desired, state, scheduler, options)
    };
    loop {
        let plan = autoscaling.pass(desired, state, &reconcile);
        if plan.actions.is_empty() || steps.len() >= MAX_STEPS {
            let next = autoscale::earliest(
                plan.next_event(),
                autoscaling.next_sync(desired, state, true),
            );
            return Ok((steps, next));
        }
        execute(state, &plan.actions);
        autoscaling.refresh(state);
        state.generation += 1;
        let reports = reconcile::summarize(autoscaling.desired(desired), state, state.clock);
        let step = Step {
            time: state.clock,
            actions: plan.actions,
            autoscalers: autoscale::step_status(state, &reports),
            status: step_status(&reports),
            nodes: nodegroup::fleet_size(desired, state),
        };
        persist(state, &step)?;
        steps.push(step);
    }
}

#[cfg(test)]
mod tests;
