//! Applies a plan's actions to the in-memory state, and drives the loop:
//! observe → diff → act, advancing the simulated clock to the next event when
//! nothing can be done now, until converged, blocked or out of time.
//! Persisting is the caller's business (a callback per step), which is what
//! makes `plan` exactly `apply` without the writes. With `atomic`, a run
//! whose rollout fails rolls each failed workload back to its previous
//! revision and runs on, so `plan --atomic` shows the rollback `apply
//! --atomic` makes. Single-threaded: a caller that wants the writes off the
//! loop's thread does that in its callback.

use crate::model::condition::{ConditionReason, ConditionStatus, ConditionType};
use crate::model::event::EventReason;
use crate::model::state::{
    Event, EventType, Phase, Replica, Revision, State, WorkloadState, WorkloadStatus,
};
use crate::model::workload::{Desired, Kind, ObjectRef};
use crate::reconcile::status::{Blocked, BlockedReason, WorkloadReport};
use crate::reconcile::{self, Action, Options, undo};
use crate::scheduler::Scheduler;
use rustc_hash::FxHashMap as HashMap;

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

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub time: u64,
    pub actions: Vec<Action>,
    pub status: Vec<StepStatus>,
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
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            reconcile: Options::default(),
            timeout: 3600,
            max_steps: MAX_STEPS,
            atomic: false,
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
    let mut result = run_once(desired, state, scheduler, options, &mut persist)?;
    if !options.atomic || !matches!(result.outcome, Outcome::Blocked | Outcome::Timeout) {
        return Ok(result);
    }
    let (rolled_back_set, rolled_back) = rollback_failed(desired, state, &result.workloads);
    if rolled_back.is_empty() {
        return Ok(result);
    }
    let rollback = run_once(&rolled_back_set, state, scheduler, options, &mut persist)?;
    result.steps.extend(rollback.steps);
    result.clock = rollback.clock;
    result.workloads = rollback.workloads;
    result.scheduling.merge(&rollback.scheduling);
    result.rolled_back = rolled_back;
    result.rolled_back_set = Some(rolled_back_set);
    Ok(result)
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

/// The loop, once: until converged, blocked or out of time.
fn run_once<E>(
    desired: &Desired,
    state: &mut State,
    scheduler: &Scheduler,
    options: &RunOptions,
    mut persist: impl FnMut(&State, Option<&Step>) -> Result<(), E>,
) -> Result<RunResult, E> {
    let start = state.clock;
    let mut persisted_clock = state.clock;
    let mut steps = Vec::new();
    // The reports of the state the loop ended on, when it ended by finding
    // nothing more to do (the state and clock do not change after that).
    let mut final_reports = None;
    let declared = reconcile::Declared::new(desired);
    let reconcile = |state: &State| {
        reconcile::reconcile_with(
            &declared,
            desired,
            state,
            state.clock,
            scheduler,
            &options.reconcile,
        )
    };
    let mut scheduling = crate::scheduler::batch::Stats::default();
    let outcome = loop {
        let plan = reconcile(state);
        scheduling.merge(&plan.scheduling);
        if !plan.actions.is_empty() {
            execute(state, &plan.actions);
            state.generation += 1;
            let reports = reconcile::summarize(desired, state, state.clock);
            let step = Step {
                time: state.clock,
                actions: plan.actions,
                status: step_status(&reports),
            };
            persist(state, Some(&step))?;
            persisted_clock = state.clock;
            steps.push(step);
            if steps.len() >= options.max_steps.min(MAX_STEPS) {
                let next = reconcile(state);
                let done = next.actions.is_empty()
                    && next.wake_at.is_none()
                    && reconcile::summarize(desired, state, state.clock)
                        .iter()
                        .all(WorkloadReport::converged);
                break if done {
                    Outcome::Converged
                } else {
                    Outcome::Timeout
                };
            }
            if stuck(&reports) {
                break Outcome::Blocked;
            }
            continue;
        }
        if plan.wake_at.is_some() && stuck(&reconcile::summarize(desired, state, state.clock)) {
            break Outcome::Blocked;
        }
        match plan.wake_at {
            Some(at) if at.saturating_sub(start) <= options.timeout => state.clock = at,
            Some(_) => break Outcome::Timeout,
            None => {
                let reports = reconcile::summarize(desired, state, state.clock);
                let outcome = if !reports.iter().all(WorkloadReport::converged) {
                    Outcome::Blocked
                } else if steps.is_empty() {
                    Outcome::NoChanges
                } else {
                    Outcome::Converged
                };
                final_reports = Some(reports);
                break outcome;
            }
        }
    };
    if state.clock != persisted_clock && !steps.is_empty() {
        state.generation += 1;
        persist(state, None)?;
    }
    let mut workloads =
        final_reports.unwrap_or_else(|| reconcile::summarize(desired, state, state.clock));
    if matches!(outcome, Outcome::Blocked | Outcome::Timeout) {
        for report in workloads
            .iter_mut()
            .filter(|r| !r.converged() && r.blocked.is_none())
        {
            report.blocked = Some(stalled(report, outcome));
        }
    }
    Ok(RunResult {
        outcome,
        rolled_back: Vec::new(),
        rolled_back_set: None,
        steps,
        start,
        clock: state.clock,
        workloads,
        warnings: Vec::new(),
        scheduling,
    })
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

/// Apply actions to the state, in order, recording an event for each.
/// Live replicas of each Deployment revision (its ReplicaSet), by workload and hash.
fn replica_sets(state: &State) -> HashMap<ObjectRef, HashMap<String, i32>> {
    let mut sets: HashMap<ObjectRef, HashMap<String, i32>> = HashMap::default();
    let mut add = |workload: &ObjectRef, hash: &str, count: i32| {
        let by_hash = match sets.get_mut(workload) {
            Some(found) => found,
            None => sets.entry(workload.clone()).or_default(),
        };
        match by_hash.get_mut(hash) {
            Some(total) => *total += count,
            None => {
                by_hash.insert(hash.to_string(), count);
            }
        }
    };
    // Replicas of one revision mostly sit next to each other: counted in runs.
    let mut run: Option<(&ObjectRef, &str, i32)> = None;
    for r in state
        .replicas
        .iter()
        .filter(|r| r.phase != Phase::Terminating && r.workload.kind == Kind::Deployment)
    {
        match &mut run {
            Some((workload, hash, count)) if *hash == &*r.hash && **workload == r.workload => {
                *count += 1;
            }
            _ => {
                if let Some((workload, hash, count)) = run {
                    add(workload, hash, count);
                }
                run = Some((&r.workload, &r.hash, 1));
            }
        }
    }
    if let Some((workload, hash, count)) = run {
        add(workload, hash, count);
    }
    sets
}

pub fn execute(state: &mut State, actions: &[Action]) {
    // Only creations and deletions change how many replicas a revision has.
    let scales = actions
        .iter()
        .any(|a| matches!(a, Action::Create { .. } | Action::Delete { .. }));
    if !scales {
        execute_actions(state, actions);
        return;
    }
    let sets_before = replica_sets(state);
    execute_actions(state, actions);
    // `ScalingReplicaSet`, as the Deployment controller reports each scale.
    let sets_after = replica_sets(state);
    // (workload, replica set) in the order of their names, as events are recorded.
    let mut keys: Vec<(String, String, &ObjectRef, &String)> = Vec::new();
    for sets in [&sets_before, &sets_after] {
        for (workload, by_hash) in sets {
            for hash in by_hash.keys() {
                keys.push((
                    workload.to_string(),
                    format!("{}-{hash}", workload.name),
                    workload,
                    hash,
                ));
            }
        }
    }
    keys.sort();
    keys.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    let count =
        |sets: &HashMap<ObjectRef, HashMap<String, i32>>, workload: &ObjectRef, hash: &String| {
            sets.get(workload)
                .and_then(|by_hash| by_hash.get(hash))
                .copied()
                .unwrap_or(0)
        };
    let mut events = Vec::new();
    for (object, set, workload, hash) in keys {
        let (before, after) = (
            count(&sets_before, workload, hash),
            count(&sets_after, workload, hash),
        );
        if before != after {
            let direction = if after > before { "up" } else { "down" };
            events.push(Event {
                time: state.clock,
                kind: EventType::Normal,
                reason: EventReason::ScalingReplicaSet,
                object,
                message: format!("Scaled {direction} replica set {set} from {before} to {after}"),
            });
        }
    }
    for event in events {
        state.record_event(event);
    }
    state.trim_events();
}

fn execute_actions(state: &mut State, actions: &[Action]) {
    let now = state.clock;
    // Positions of the replicas the actions name (not of every replica: a
    // step touches few of a large fleet's).
    // (A created replica is new: it enters the index as it is created.)
    let creates = actions
        .iter()
        .filter(|a| matches!(a, Action::Create { .. }))
        .count();
    let mut index: HashMap<&str, usize> = HashMap::default();
    index.reserve(actions.len() - creates);
    index.extend(
        actions
            .iter()
            .filter(|a| !matches!(a, Action::Create { .. }))
            .filter_map(Action::replica)
            .map(|name| (name, NOT_FOUND)),
    );
    for (i, replica) in state.replicas.iter().enumerate() {
        if let Some(position) = index.get_mut(replica.name.as_str()) {
            *position = i;
        }
    }
    index.retain(|_, &mut position| position != NOT_FOUND);
    index.reserve(creates);
    state.replicas.reserve(creates);
    let mut removed = false;
    let mut revisions = HashMap::default();
    let mut events: Vec<(&Action, EventType, EventReason)> = Vec::new();
    for action in actions {
        if let Some((kind, reason)) =
            apply_one(state, &mut index, &mut revisions, &mut removed, action, now)
        {
            events.push((action, kind, reason));
        }
    }
    // The state keeps the newest `MAX_EVENTS` events: older ones of a large
    // step are not even written.
    let kept = events.len().saturating_sub(crate::model::state::MAX_EVENTS);
    for &(action, kind, reason) in &events[kept..] {
        state.record_event(Event {
            time: now,
            kind,
            reason,
            object: event_object(action),
            message: event_message(action),
        });
    }
    if !revisions.is_empty() {
        for replica in &mut state.replicas {
            if let Some(&revision) = revisions
                .get(&replica.workload)
                .and_then(|by_hash| by_hash.get(&*replica.hash))
            {
                replica.revision = revision;
            }
        }
    }
    if removed {
        state.replicas.retain(|r| r.phase != Phase::Terminating);
    }
    state.trim_events();
    state.nodes.sort_by(|a, b| a.name.cmp(&b.name));
    state
        .workloads
        .sort_by(|a, b| a.id_order().cmp(&b.id_order()));
}

fn event_object(action: &Action) -> String {
    match action.replica() {
        Some(replica) => format!("Replica/{replica}"),
        None => action.object(),
    }
}

/// Not (yet) in the state.
const NOT_FOUND: usize = usize::MAX;

/// The message of the event an action records (when it records one).
fn event_message(action: &Action) -> String {
    match action {
        Action::AddNode(node) => format!("Node {} added", node.name),
        Action::UpdateNode(node) => format!("Node {} updated from the manifests", node.name),
        Action::RemoveNode { name } => format!("Node {name} removed"),
        Action::RecordRevision { revision, hash, .. } => format!("Revision {revision} ({hash})"),
        Action::RemoveWorkload { workload } => format!("{workload} removed: no longer declared"),
        Action::Create { replica, .. } => format!("Created replica {replica}"),
        Action::Bind { replica, node, .. } => format!("Successfully assigned {replica} to {node}"),
        Action::FailedScheduling { error, .. } => error.to_string(),
        Action::MarkReady { replica, .. } => format!("Replica {replica} is ready"),
        Action::Crash {
            replica,
            restarts,
            backoff,
            ..
        } => {
            format!("Back-off {backoff}s restarting failed replica {replica} (restart {restarts})")
        }
        Action::SetStatus { status, .. } => status
            .condition(ConditionType::Progressing)
            .map(|c| c.message.clone())
            .unwrap_or_default(),
        Action::MarkUnready {
            replica, reason, ..
        } => format!("Replica {replica} is not ready: {reason}"),
        Action::Delete {
            replica, reason, ..
        } => format!("Deleted replica {replica}: {reason}"),
        Action::ApplyWorkload { .. }
        | Action::ForgetRevision { .. }
        | Action::SetReplicasAnnotations { .. } => String::new(),
    }
}

type EventRecord = (EventType, EventReason);

/// The event a Deployment's new Progressing reason is announced with.
fn progress_event(reason: Option<&ConditionReason>) -> EventReason {
    match reason {
        Some(ConditionReason::ProgressDeadlineExceeded) => EventReason::ProgressDeadlineExceeded,
        Some(ConditionReason::NewReplicaSetAvailable) => EventReason::RolloutComplete,
        _ => EventReason::RolloutProgressing,
    }
}

fn apply_one<'a>(
    state: &mut State,
    index: &mut HashMap<&'a str, usize>,
    revisions: &mut HashMap<ObjectRef, HashMap<String, u64>>,
    removed: &mut bool,
    action: &'a Action,
    now: u64,
) -> Option<EventRecord> {
    match action {
        Action::AddNode(node) => {
            match state.node_position(&node.name) {
                Ok(i) => state.nodes[i] = (**node).clone(),
                Err(i) => state.nodes.insert(i, (**node).clone()),
            }
            Some((EventType::Normal, EventReason::NodeAdded))
        }
        Action::UpdateNode(node) => {
            if let Some(existing) = state.node_mut(&node.name) {
                *existing = (**node).clone();
            }
            Some((EventType::Normal, EventReason::NodeUpdated))
        }
        Action::RemoveNode { name } => {
            state.nodes.retain(|n| &n.name != name);
            Some((EventType::Normal, EventReason::RemovingNode))
        }
        Action::ApplyWorkload { workload, spec } => {
            match state.workload_position(workload) {
                Ok(i) => state.workloads[i].spec = spec.clone(),
                Err(i) => state.workloads.insert(
                    i,
                    WorkloadState {
                        kind: workload.kind,
                        namespace: workload.namespace.to_string(),
                        name: workload.name.to_string(),
                        spec: spec.clone(),
                        revisions: Vec::new(),
                        status: WorkloadStatus::default(),
                    },
                ),
            }
            None
        }
        Action::RecordRevision {
            workload,
            revision,
            hash,
            template,
        } => {
            let stored = state.workload_mut(workload)?;
            // A template seen before keeps its ReplicaSet's bookkeeping (a rollback).
            let (desired_replicas, max_replicas) = stored
                .revisions
                .iter()
                .find(|r| &r.hash == hash)
                .map_or((None, None), |r| (r.desired_replicas, r.max_replicas));
            stored.revisions.retain(|r| &r.hash != hash);
            stored.revisions.push(Revision {
                revision: *revision,
                hash: hash.clone(),
                template: template.clone(),
                desired_replicas,
                max_replicas,
            });
            // Existing replicas of the template take the number once every
            // action is carried out (one pass over the replicas, not one each).
            revisions
                .entry(workload.clone())
                .or_default()
                .insert(hash.clone(), *revision);
            Some((EventType::Normal, EventReason::RevisionRecorded))
        }
        Action::SetReplicasAnnotations {
            workload,
            hash,
            desired_replicas,
            max_replicas,
        } => {
            let stored = state.workload_mut(workload)?;
            let revision = stored.revisions.iter_mut().find(|r| *r.hash == **hash)?;
            revision.desired_replicas = Some(*desired_replicas);
            revision.max_replicas = Some(*max_replicas);
            None
        }
        Action::ForgetRevision { workload, revision } => {
            let stored = state.workload_mut(workload)?;
            stored.revisions.retain(|r| r.revision != *revision);
            None
        }
        Action::RemoveWorkload { workload } => {
            if let Ok(i) = state.workload_position(workload) {
                state.workloads.remove(i);
            }
            Some((EventType::Normal, EventReason::Deleted))
        }
        Action::Create {
            replica,
            workload,
            revision,
            hash,
            target_node,
        } => {
            index.insert(replica.as_str(), state.replicas.len());
            state.replicas.push(Replica {
                name: replica.clone(),
                workload: workload.clone(),
                revision: *revision,
                hash: hash.clone(),
                node: None,
                target_node: target_node.clone(),
                phase: Phase::Pending,
                ready: false,
                created_at: now,
                started_at: None,
                ready_at: None,
                restarts: 0,
                reason: None,
            });
            Some((EventType::Normal, EventReason::SuccessfulCreate))
        }
        Action::Bind { replica, node, .. } => {
            let r = &mut state.replicas[*index.get(replica.as_str())?];
            r.node = Some(node.clone());
            r.phase = Phase::Running;
            r.started_at = Some(now);
            r.reason = None;
            Some((EventType::Normal, EventReason::Scheduled))
        }
        Action::FailedScheduling { replica, error, .. } => {
            let r = &mut state.replicas[*index.get(replica.as_str())?];
            // The state keeps kube-scheduler's message (SPEC §8: `reason`).
            r.reason = Some(error.to_string());
            Some((EventType::Warning, EventReason::FailedScheduling))
        }
        Action::MarkReady { replica, .. } => {
            let r = &mut state.replicas[*index.get(replica.as_str())?];
            r.ready = true;
            r.ready_at = Some(now);
            Some((EventType::Normal, EventReason::Ready))
        }
        Action::Crash {
            replica,
            restarts,
            backoff,
            ..
        } => {
            let r = &mut state.replicas[*index.get(replica.as_str())?];
            r.ready = false;
            r.ready_at = None;
            r.restarts = *restarts;
            r.started_at = Some(now + backoff);
            Some((EventType::Warning, EventReason::BackOff))
        }
        Action::SetStatus { workload, status } => {
            let stored = state.workload_mut(workload)?;
            let before = stored
                .status
                .condition(ConditionType::Progressing)
                .map(|c| (c.status, c.reason.clone()));
            stored.status = status.clone();
            let after = status.condition(ConditionType::Progressing)?;
            (before != Some((after.status, after.reason.clone()))).then(|| {
                let kind = if after.status == ConditionStatus::False {
                    EventType::Warning
                } else {
                    EventType::Normal
                };
                (kind, progress_event(after.reason.as_ref()))
            })
        }
        Action::MarkUnready { replica, .. } => {
            let r = &mut state.replicas[*index.get(replica.as_str())?];
            r.ready = false;
            r.ready_at = None;
            Some((EventType::Warning, EventReason::NodeNotReady))
        }
        Action::Delete {
            replica, reason, ..
        } => {
            let r = &mut state.replicas[*index.get(replica.as_str())?];
            r.phase = Phase::Terminating;
            *removed = true;
            let kind = if reason.event() == EventReason::Killing {
                EventType::Normal
            } else {
                EventType::Warning
            };
            Some((kind, reason.event()))
        }
    }
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
    loop {
        let plan = reconcile::reconcile(desired, state, state.clock, scheduler, &options.reconcile);
        if plan.actions.is_empty() || steps.len() >= MAX_STEPS {
            return Ok((steps, plan.wake_at));
        }
        execute(state, &plan.actions);
        state.generation += 1;
        let step = Step {
            time: state.clock,
            actions: plan.actions,
            status: step_status(&reconcile::summarize(desired, state, state.clock)),
        };
        persist(state, &step)?;
        steps.push(step);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{ParseOptions, parse};
    use crate::model::state::MAX_EVENTS;
    use crate::scheduler::ScoringStrategy;
    use crate::sources::Source;

    /// A step with more events than the state keeps writes only the newest
    /// ones: the state is the one of carrying the actions out one by one.
    #[test]
    fn a_large_step_keeps_the_events_of_one_action_at_a_time() {
        let mut text = String::from(
            "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nstatus:\n  allocatable: {cpu: \"64\", memory: 64Gi, pods: \"2000\"}\n---\n",
        );
        text += "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 1500\n  \
                 selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    \
                 spec: {containers: [{name: c, image: i}]}\n";
        let sources = [Source {
            name: "fleet.yaml".into(),
            text,
        }];
        let desired = parse(&sources, &ParseOptions::default())
            .expect("valid manifests")
            .desired;
        let mut state = State::default();
        run(
            &desired,
            &mut state,
            &Scheduler::new(ScoringStrategy::LeastAllocated),
            &RunOptions::default(),
            |_, _| Ok::<(), ()>(()),
        )
        .expect("converges");
        assert_eq!(state.replicas.len(), 1500);
        for replica in &mut state.replicas {
            replica.ready = false;
            replica.ready_at = None;
        }
        state.clock += 7;
        let mut actions: Vec<Action> = state
            .replicas
            .iter()
            .map(|r| Action::MarkReady {
                replica: r.name.clone(),
                workload: r.workload.clone(),
            })
            .collect();
        actions.insert(
            700,
            Action::MarkUnready {
                replica: state.replicas[3].name.clone(),
                workload: state.replicas[3].workload.clone(),
                reason: "node n1 is not ready".into(),
            },
        );
        let mut one_by_one = state.clone();
        for action in &actions {
            execute(&mut one_by_one, std::slice::from_ref(action));
        }
        execute(&mut state, &actions);
        assert_eq!(state.events.len(), MAX_EVENTS);
        assert_eq!(
            state.events.last().map(|e| e.message.as_str()),
            Some(format!("Replica {} is ready", state.replicas[1499].name).as_str())
        );
        assert!(
            state
                .events
                .iter()
                .any(|e| e.reason == EventReason::NodeNotReady)
        );
        assert_eq!(state, one_by_one);
    }
}
