//! What a hypothetical change does to the cluster: the loop `plan` runs,
//! on a copy of the state. The manifests are first run to convergence (the
//! "before"); added nodes and scaled Deployments are then applied and run to
//! convergence (the base every failure starts from); failed nodes go NotReady
//! exactly as `orch node fail` makes them, and the loop runs on until their
//! replicas are evicted after their not-ready toleration and replaced where
//! the scheduler finds room — or left pending with its reason.

use super::AnalysisError;
use crate::executor::{self, Outcome, RunOptions, Step};
use crate::model::state::State;
use crate::model::workload::{Desired, DisruptionBudget, ObjectRef, WorkloadKind};
use crate::reconcile::disruption::{self, BudgetStatus};
use crate::reconcile::status::WorkloadReport;
use crate::reconcile::{Action, Catalog, Options, Prune, summarize};
use crate::scheduler::Scheduler;
use std::collections::{BTreeMap, BTreeSet};

pub const ZONE_LABEL: &str = "topology.kubernetes.io/zone";

/// A Deployment's replica count, as declared and as supposed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scale {
    pub object: ObjectRef,
    pub from: i32,
    pub to: i32,
}

/// The cluster with the non-failure changes applied, converged: the starting
/// point of every failure scenario (cloned for each, never written).
#[derive(Debug, Clone)]
pub struct Base {
    /// The manifests with the changes (added nodes, scaled Deployments).
    pub desired: Desired,
    pub state: State,
    pub added_nodes: Vec<String>,
    pub scale: Vec<Scale>,
    /// Per workload, as the manifests alone converge.
    pub before: Vec<WorkloadReport>,
    pub budgets_before: Vec<BudgetStatus>,
    /// What the changes did on the way to the base.
    steps: Vec<Step>,
}

/// How a workload ends a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Every desired replica available (a DaemonSet: on every node that is still ready).
    Available,
    /// Some, not all.
    Degraded,
    /// None.
    Unavailable,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Available => "Available",
            Health::Degraded => "Degraded",
            Health::Unavailable => "Unavailable",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadImpact {
    pub object: String,
    pub kind: WorkloadKind,
    pub desired: i32,
    /// Replicas that were on the failed nodes when they failed.
    pub lost: i32,
    /// Replicas that got a node during the scenario: replacements, and those added by scaling.
    pub placed: i32,
    /// Replicas left without a node at the end.
    pub pending: i32,
    /// Replicas removed by DefaultPreemption for higher-priority ones.
    pub preempted: i32,
    /// The scheduler's message for the pending ones (or why the workload is stuck).
    pub reason: Option<String>,
    pub available_before: i32,
    pub available_after: i32,
    /// The fewest available at any moment of the scenario.
    pub available_lowest: i32,
    /// DaemonSet replicas still on failed nodes (they cannot move elsewhere).
    pub on_failed_nodes: i32,
    pub health: Health,
    /// Not fully available before the change either (pending, or short of replicas).
    pub degraded_before: bool,
}

impl WorkloadImpact {
    /// Touched by the scenario at all.
    pub fn affected(&self) -> bool {
        self.lost > 0
            || self.pending > 0
            || self.preempted > 0
            || self.health != Health::Available
            || self.available_lowest < self.available_before
    }

    /// Short of availability because of the change: not fully available at
    /// the end, unless it was so before and the change took nothing more.
    pub fn hurt(&self) -> bool {
        // (A DaemonSet's replicas on the failed nodes are gone with their nodes.)
        self.health != Health::Available
            && !(self.degraded_before
                && self.available_after + self.on_failed_nodes >= self.available_before)
    }

    /// Fully available at the end, after fewer were available on the way.
    pub fn dipped(&self) -> bool {
        self.health == Health::Available
            && self.available_lowest + self.on_failed_nodes < self.available_before
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetImpact {
    pub object: String,
    /// `minAvailable 3` / `maxUnavailable 25%`.
    pub rule: String,
    pub expected: i32,
    pub desired_healthy: i32,
    pub healthy_before: i32,
    pub healthy_after: i32,
    pub holds: bool,
    /// Satisfied before the change.
    pub held_before: bool,
}

impl BudgetImpact {
    /// Violated by the change: it held before and does not after.
    pub fn broken(&self) -> bool {
        self.held_before && !self.holds
    }

    /// Violated before the change and still: not the change's doing.
    pub fn violated_before(&self) -> bool {
        !self.held_before && !self.holds
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub failed_nodes: Vec<String>,
    /// Simulated time of the failure, and where the loop stopped.
    pub failed_at: u64,
    pub clock: u64,
    pub outcome: Outcome,
    pub workloads: Vec<WorkloadImpact>,
    pub budgets: Vec<BudgetImpact>,
}

impl Report {
    /// The change hurt no workload and broke no disruption budget (what
    /// was short before the change and is no worse is not its doing).
    pub fn resilient(&self) -> bool {
        !self.workloads.iter().any(WorkloadImpact::hurt)
            && !self.budgets.iter().any(BudgetImpact::broken)
    }
}

/// Converge the manifests (`desired` holds the added nodes too; they join
/// only in the base), then apply `added_nodes` and `scale` and converge again.
pub fn prepare(
    desired: &Desired,
    mut state: State,
    added_nodes: &[String],
    scale: &[(ObjectRef, i32)],
    scheduler: &Scheduler,
    options: &RunOptions,
) -> Result<Base, AnalysisError> {
    executor::adopt(desired, &mut state);
    // The cluster's own imported workloads and budgets are reported too.
    let merged = crate::import::with_cluster_workloads(desired, &state).into_owned();
    let desired = &merged;
    let added: BTreeSet<&str> = added_nodes.iter().map(String::as_str).collect();
    let mut before_changes = desired.clone();
    before_changes
        .nodes
        .retain(|n| !added.contains(n.name.as_str()));
    let baseline = run(&before_changes, &mut state, scheduler, options);
    if let Some(name) = added_nodes.iter().find(|n| state.node(n).is_some()) {
        return Err(AnalysisError::NodeExists { name: name.clone() });
    }
    let budgets_before = budget_statuses(&before_changes, &state);
    let mut desired = desired.clone();
    let mut scaled = Vec::new();
    for (id, replicas) in scale {
        // A scaled target leaves its HPA: the question is the count asked for.
        let held = executor::release_target(&mut desired, &mut state, id);
        let Some(workload) = desired.workloads.iter_mut().find(|w| &w.id == id) else {
            continue;
        };
        scaled.push(Scale {
            object: id.clone(),
            from: held.unwrap_or(workload.replicas),
            to: *replicas,
        });
        workload.replicas = *replicas;
        let mut manifest = workload.manifest.value();
        if let Some(spec) = manifest.get_mut("spec") {
            spec["replicas"] = serde_json::Value::from(*replicas);
            workload.manifest = manifest.into();
        }
    }
    let changes = run(&desired, &mut state, scheduler, &after_baseline(options));
    Ok(Base {
        desired,
        state,
        added_nodes: added_nodes.to_vec(),
        scale: scaled,
        before: baseline.workloads,
        budgets_before,
        steps: changes.steps,
    })
}

/// The baseline has pruned what the -f set no longer declares; later runs
/// keep the rest, so that added nodes do not make the -f set own the fleet.
fn after_baseline(options: &RunOptions) -> RunOptions {
    RunOptions {
        reconcile: Options {
            prune: Prune::Keep,
            ..options.reconcile.clone()
        },
        ..options.clone()
    }
}

/// A scenario's run: after the baseline, its steps counted as they come
/// (`StepCounts::add`) rather than kept.
fn scenario_options(options: &RunOptions) -> RunOptions {
    RunOptions {
        keep_steps: false,
        ..after_baseline(options)
    }
}

fn run(
    desired: &Desired,
    state: &mut State,
    scheduler: &Scheduler,
    options: &RunOptions,
) -> executor::RunResult {
    let never_fails = |_: &State, _: Option<&Step>| Ok::<(), std::convert::Infallible>(());
    match executor::run(desired, state, scheduler, options, never_fails) {
        // A scenario audits nothing: its final snapshot goes now, with the
        // rest of the run, not when the scenario's report is done.
        Ok(result) => executor::RunResult {
            settled: None,
            ..result
        },
        Err(never) => match never {},
    }
}

/// The zones of the base fleet (`topology.kubernetes.io/zone`), sorted.
pub fn zones(state: &State) -> Vec<String> {
    let zones: BTreeSet<&String> = state
        .nodes
        .iter()
        .filter_map(|n| n.labels.get(ZONE_LABEL))
        .collect();
    zones.into_iter().cloned().collect()
}

pub fn nodes_in_zone(state: &State, zone: &str) -> Vec<String> {
    state
        .nodes
        .iter()
        .filter(|n| n.labels.get(ZONE_LABEL).is_some_and(|z| z == zone))
        .map(|n| n.name.clone())
        .collect()
}

/// `--fail-node` and `--fail-zone` as one sorted list of node names.
pub fn failures(
    state: &State,
    nodes: &[String],
    zones_: &[String],
) -> Result<Vec<String>, AnalysisError> {
    let mut failed = BTreeSet::new();
    for name in nodes {
        if state.node(name).is_none() {
            return Err(AnalysisError::UnknownNode {
                name: name.clone(),
                known: state.nodes.iter().map(|n| n.name.clone()).collect(),
            });
        }
        failed.insert(name.clone());
    }
    for zone in zones_ {
        let members = nodes_in_zone(state, zone);
        if members.is_empty() {
            return Err(AnalysisError::UnknownZone {
                zone: zone.clone(),
                known: zones(state),
            });
        }
        failed.extend(members);
    }
    Ok(failed.into_iter().collect())
}

/// Fail `failed` (known nodes of the base) on a copy of the base and run the
/// loop until it converges or can do nothing more.
pub fn scenario(
    base: &Base,
    failed: &[String],
    scheduler: &Scheduler,
    options: &RunOptions,
) -> Report {
    scenario_watched(base, failed, scheduler, options, |_, _| {}).0
}

/// `scenario`, handing each step of the loop after the failure to `watch`
/// (a report records them), and returning the state it ended in.
pub fn scenario_watched(
    base: &Base,
    failed: &[String],
    scheduler: &Scheduler,
    options: &RunOptions,
    mut watch: impl FnMut(&State, Option<&Step>),
) -> (Report, State) {
    let mut state = base.state.clone();
    let failed_set: BTreeSet<&str> = failed.iter().map(String::as_str).collect();
    let lost = on_nodes(&state, &failed_set);
    let failed_at = state.clock;
    state.fail_nodes(failed);
    let desired = &base.desired;
    let at_failure = summarize(desired, &state, state.clock);
    // The steps are counted as they come, not kept.
    let mut counts = StepCounts::of(base.steps.iter());
    let never_fails = |state: &State, step: Option<&Step>| {
        watch(state, step);
        if let Some(step) = step {
            counts.add(step);
        }
        Ok::<(), std::convert::Infallible>(())
    };
    let result = match executor::run(
        desired,
        &mut state,
        scheduler,
        &scenario_options(options),
        never_fails,
    ) {
        Ok(result) => result,
        Err(never) => match never {},
    };
    let tallies = Tallies {
        stuck: on_nodes(&state, &failed_set),
        lowest: lowest_available(&result, &counts.lowest, &at_failure),
        placed: counts.placed,
        preempted: counts.preempted,
        lost,
        pending_reasons: pending_reasons(&state),
    };
    let report = Report {
        failed_nodes: failed.to_vec(),
        failed_at,
        clock: result.clock,
        outcome: result.outcome,
        workloads: workload_impacts(base, &base.desired.workloads, &result, &tallies),
        budgets: budget_impacts(base, &state),
    };
    (report, state)
}

/// What a scenario counted, per workload (`Kind/namespace/name`).
struct Tallies {
    /// Replicas on the failed nodes when they failed, and still there at the end.
    lost: BTreeMap<String, i32>,
    stuck: BTreeMap<String, i32>,
    /// Replicas bound during the run (the baseline's steps included).
    placed: BTreeMap<String, i32>,
    /// Replicas preempted, the same way.
    preempted: BTreeMap<String, i32>,
    /// The fewest available at any step.
    lowest: BTreeMap<String, i32>,
    pending_reasons: BTreeMap<String, String>,
}

/// Live replicas on the given nodes, per workload.
fn on_nodes(state: &State, nodes: &BTreeSet<&str>) -> BTreeMap<String, i32> {
    let mut counts = BTreeMap::new();
    for replica in state
        .replicas
        .iter()
        .filter(|r| r.phase.is_active() && r.node.as_deref().is_some_and(|n| nodes.contains(n)))
    {
        *counts.entry(replica.workload.to_string()).or_insert(0) += 1;
    }
    counts
}

/// What steps did to each workload (`Kind/namespace/name`): replicas bound,
/// replicas preempted, and the fewest available after any of them.
#[derive(Debug, Clone, Default)]
struct StepCounts {
    placed: BTreeMap<String, i32>,
    preempted: BTreeMap<String, i32>,
    lowest: BTreeMap<String, i32>,
}

impl StepCounts {
    fn of<'s>(steps: impl Iterator<Item = &'s Step>) -> StepCounts {
        let mut counts = StepCounts::default();
        for step in steps {
            counts.add(step);
        }
        counts
    }

    /// Count one more step.
    fn add(&mut self, step: &Step) {
        for action in &step.actions {
            match action {
                Action::Bind { workload, .. } => {
                    *self.placed.entry(workload.to_string()).or_insert(0) += 1;
                }
                Action::Delete {
                    workload,
                    reason: crate::reconcile::DeleteReason::Preempted(_),
                    ..
                } => *self.preempted.entry(workload.to_string()).or_insert(0) += 1,
                _ => {}
            }
        }
        for status in &step.status {
            let lowest = self
                .lowest
                .entry(status.object.clone())
                .or_insert(status.available);
            *lowest = (*lowest).min(status.available);
        }
    }
}

/// Each workload's fewest available replicas: at the failure, at every
/// step of the baseline and of the run (`in_steps`), and at the end.
fn lowest_available(
    result: &executor::RunResult,
    in_steps: &BTreeMap<String, i32>,
    at_failure: &[WorkloadReport],
) -> BTreeMap<String, i32> {
    let mut lowest: BTreeMap<String, i32> = result
        .workloads
        .iter()
        .map(|r| (r.object.clone(), r.available))
        .collect();
    let mut note = |object: &str, available: i32| {
        if let Some(value) = lowest.get_mut(object) {
            *value = (*value).min(available);
        }
    };
    for (object, available) in in_steps {
        note(object, *available);
    }
    for report in at_failure {
        note(&report.object, report.available);
    }
    lowest
}

/// The impact on each of `workloads` (the ones the run was given, in its order).
fn workload_impacts(
    base: &Base,
    workloads: &[crate::model::workload::Workload],
    result: &executor::RunResult,
    tallies: &Tallies,
) -> Vec<WorkloadImpact> {
    workloads
        .iter()
        .zip(&result.workloads)
        .map(|(workload, after)| {
            let object = &after.object;
            let count = |map: &BTreeMap<String, i32>| map.get(object).copied().unwrap_or(0);
            let before_report = base.before.iter().find(|r| &r.object == object);
            let before = before_report.map_or(0, |r| r.available);
            let degraded_before =
                before_report.is_some_and(|r| r.available < r.desired || r.pending > 0);
            let on_failed_nodes = match workload.kind() {
                WorkloadKind::DaemonSet => count(&tallies.stuck),
                WorkloadKind::Deployment
                | WorkloadKind::StatefulSet
                | WorkloadKind::Job
                | WorkloadKind::ReplicaSet
                | WorkloadKind::Pod => 0,
            };
            let required = after.desired - on_failed_nodes;
            let health = if after.available >= required && after.pending == 0 {
                Health::Available
            } else if after.available == 0 {
                Health::Unavailable
            } else {
                Health::Degraded
            };
            let reason = tallies
                .pending_reasons
                .get(object.as_str())
                .cloned()
                .or_else(|| {
                    (health != Health::Available)
                        .then(|| after.blocked.as_ref().map(|b| b.message.clone()))
                        .flatten()
                });
            WorkloadImpact {
                object: object.clone(),
                kind: workload.kind(),
                desired: after.desired,
                lost: count(&tallies.lost),
                placed: count(&tallies.placed),
                pending: after.pending,
                preempted: count(&tallies.preempted),
                reason,
                available_before: before,
                available_after: after.available,
                available_lowest: count(&tallies.lowest),
                on_failed_nodes,
                health,
                degraded_before,
            }
        })
        .collect()
}

fn budget_impacts(base: &Base, state: &State) -> Vec<BudgetImpact> {
    let desired = &base.desired;
    let after = budget_statuses(desired, state);
    desired
        .disruption_budgets
        .iter()
        .zip(after)
        .map(|(budget, status)| {
            let before_status = base.budgets_before.iter().find(|b| b.id == budget.id);
            let before = before_status.map_or(0, |b| b.current_healthy);
            let held_before = before_status.is_none_or(|b| b.current_healthy >= b.desired_healthy);
            BudgetImpact {
                object: budget.id.to_string(),
                rule: rule(budget),
                expected: status.expected,
                desired_healthy: status.desired_healthy,
                healthy_before: before,
                healthy_after: status.current_healthy,
                holds: status.current_healthy >= status.desired_healthy,
                held_before,
            }
        })
        .collect()
}

/// The scheduler's message of each workload's first pending replica (by name).
fn pending_reasons(state: &State) -> BTreeMap<String, String> {
    let mut pending: Vec<_> = state
        .replicas
        .iter()
        .filter(|r| r.phase.is_active() && r.node.is_none())
        .filter_map(|r| {
            r.reason
                .as_ref()
                .map(|reason| (&r.name, &r.workload, reason))
        })
        .collect();
    pending.sort();
    let mut reasons = BTreeMap::new();
    for (_, workload, reason) in pending {
        reasons
            .entry(workload.to_string())
            .or_insert_with(|| reason.clone());
    }
    reasons
}

fn budget_statuses(desired: &Desired, state: &State) -> Vec<BudgetStatus> {
    let catalog = Catalog::build(desired, state);
    let none = BTreeSet::new();
    desired
        .disruption_budgets
        .iter()
        .map(|budget| disruption::status(budget, desired, state, &catalog, &none))
        .collect()
}

fn rule(budget: &DisruptionBudget) -> String {
    match (budget.min_available, budget.max_unavailable) {
        (Some(v), _) => format!("minAvailable {v}"),
        (_, Some(v)) => format!("maxUnavailable {v}"),
        _ => "none".to_string(),
    }
}

mod shared;
pub use shared::Shared;

#[cfg(test)]
mod tests;
