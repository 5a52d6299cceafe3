//! What a hypothetical change does to the cluster: the loop `plan` runs,
//! on a copy of the state. The manifests are first run to convergence (the
//! "before"); added nodes and scaled Deployments are then applied and run to
//! convergence (the base every failure starts from); failed nodes go NotReady
//! exactly as `orch node fail` makes them, and the loop runs on until their
//! replicas are evicted after their not-ready toleration and replaced where
//! the scheduler finds room — or left pending with its reason.

use super::AnalysisError;
use crate::executor::{self, Outcome, RunOptions, Step};
use crate::model::state::{Phase, State};
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
    /// The scheduler's message for the pending ones (or why the workload is stuck).
    pub reason: Option<String>,
    pub available_before: i32,
    pub available_after: i32,
    /// The fewest available at any moment of the scenario.
    pub available_lowest: i32,
    /// DaemonSet replicas still on failed nodes (they cannot move elsewhere).
    pub on_failed_nodes: i32,
    pub health: Health,
}

impl WorkloadImpact {
    /// Touched by the scenario at all.
    pub fn affected(&self) -> bool {
        self.lost > 0
            || self.pending > 0
            || self.health != Health::Available
            || self.available_lowest < self.available_before
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
    /// Every workload fully available and every disruption budget satisfied.
    pub fn resilient(&self) -> bool {
        self.workloads.iter().all(|w| w.health == Health::Available)
            && self.budgets.iter().all(|b| b.holds)
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
        let Some(workload) = desired.workloads.iter_mut().find(|w| &w.id == id) else {
            continue;
        };
        scaled.push(Scale {
            object: id.clone(),
            from: workload.replicas,
            to: *replicas,
        });
        workload.replicas = *replicas;
        if let Some(spec) = std::sync::Arc::make_mut(&mut workload.manifest).get_mut("spec") {
            spec["replicas"] = serde_json::Value::from(*replicas);
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
        reconcile: Options { prune: Prune::Keep },
        ..options.clone()
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
        Ok(result) => result,
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
    let mut state = base.state.clone();
    let failed_set: BTreeSet<&str> = failed.iter().map(String::as_str).collect();
    let on_failed = |state: &State| -> BTreeMap<String, i32> {
        let mut counts = BTreeMap::new();
        for replica in state.replicas.iter().filter(|r| {
            r.phase != Phase::Terminating
                && r.node.as_deref().is_some_and(|n| failed_set.contains(n))
        }) {
            *counts.entry(replica.workload.to_string()).or_insert(0) += 1;
        }
        counts
    };
    let lost = on_failed(&state);
    let failed_at = state.clock;
    for name in failed {
        state.fail_node(name);
    }
    let desired = &base.desired;
    let at_failure = summarize(desired, &state, state.clock);
    let result = run(desired, &mut state, scheduler, &after_baseline(options));
    let stuck = on_failed(&state);
    let steps = base.steps.iter().chain(&result.steps);
    let mut lowest: BTreeMap<&str, i32> = BTreeMap::new();
    let mut placed: BTreeMap<String, i32> = BTreeMap::new();
    fn note(object: &str, available: i32, lowest: &mut BTreeMap<&str, i32>) {
        if let Some(value) = lowest.get_mut(object) {
            *value = (*value).min(available);
        }
    }
    for report in &result.workloads {
        lowest.insert(report.object.as_str(), report.available);
    }
    for step in steps {
        for status in &step.status {
            note(&status.object, status.available, &mut lowest);
        }
        for action in &step.actions {
            if let Action::Bind { workload, .. } = action {
                *placed.entry(workload.to_string()).or_insert(0) += 1;
            }
        }
    }
    for report in &at_failure {
        note(&report.object, report.available, &mut lowest);
    }
    let pending_reasons = pending_reasons(&state);
    let workloads = desired
        .workloads
        .iter()
        .zip(&result.workloads)
        .map(|(workload, after)| {
            let object = &after.object;
            let count = |map: &BTreeMap<String, i32>| map.get(object).copied().unwrap_or(0);
            let before = base
                .before
                .iter()
                .find(|r| &r.object == object)
                .map_or(0, |r| r.available);
            let on_failed_nodes = match workload.kind() {
                WorkloadKind::DaemonSet => count(&stuck),
                WorkloadKind::Deployment => 0,
            };
            let required = after.desired - on_failed_nodes;
            let health = if after.available >= required && after.pending == 0 {
                Health::Available
            } else if after.available == 0 {
                Health::Unavailable
            } else {
                Health::Degraded
            };
            let reason = pending_reasons.get(object.as_str()).cloned().or_else(|| {
                (health != Health::Available)
                    .then(|| after.blocked.as_ref().map(|b| b.message.clone()))
                    .flatten()
            });
            WorkloadImpact {
                object: object.clone(),
                kind: workload.kind(),
                desired: after.desired,
                lost: count(&lost),
                placed: count(&placed),
                pending: after.pending,
                reason,
                available_before: before,
                available_after: after.available,
                available_lowest: lowest.get(object.as_str()).copied().unwrap_or(0),
                on_failed_nodes,
                health,
            }
        })
        .collect();
    let after = budget_statuses(desired, &state);
    let budgets = desired
        .disruption_budgets
        .iter()
        .zip(after)
        .map(|(budget, status)| {
            let before = base
                .budgets_before
                .iter()
                .find(|b| b.id == budget.id)
                .map_or(0, |b| b.current_healthy);
            BudgetImpact {
                object: budget.id.to_string(),
                rule: rule(budget),
                expected: status.expected,
                desired_healthy: status.desired_healthy,
                healthy_before: before,
                healthy_after: status.current_healthy,
                holds: status.current_healthy >= status.desired_healthy,
            }
        })
        .collect();
    Report {
        failed_nodes: failed.to_vec(),
        failed_at,
        clock: result.clock,
        outcome: result.outcome,
        workloads,
        budgets,
    }
}

/// The scheduler's message of each workload's first pending replica (by name).
fn pending_reasons(state: &State) -> BTreeMap<String, String> {
    let mut pending: Vec<_> = state
        .replicas
        .iter()
        .filter(|r| r.phase != Phase::Terminating && r.node.is_none())
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

#[cfg(test)]
mod tests {
    use super::super::fixtures::{DAEMONSET, deployment, desired, node};
    use super::*;
    use crate::scheduler::ScoringStrategy;

    const PDB: &str = "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: web\nspec:\n  minAvailable: 2\n  selector:\n    matchLabels: {app: web}\n---\n";

    fn fleet() -> String {
        // Two zones: a has two nodes, b one.
        format!(
            "{}{}{}",
            node("a1", "a", "4"),
            node("a2", "a", "4"),
            node("b1", "b", "4")
        )
    }

    fn base(text: &str, scale: &[(ObjectRef, i32)], added: &[String]) -> (Base, Scheduler) {
        let scheduler = Scheduler::new(ScoringStrategy::LeastAllocated);
        let base = prepare(
            &desired(text),
            State::default(),
            added,
            scale,
            &scheduler,
            &RunOptions::default(),
        )
        .unwrap();
        (base, scheduler)
    }

    fn impact<'a>(report: &'a Report, name: &str) -> &'a WorkloadImpact {
        report
            .workloads
            .iter()
            .find(|w| w.object.ends_with(&format!("/{name}")))
            .unwrap()
    }

    #[test]
    fn a_failed_node_loses_its_replicas_and_they_are_placed_elsewhere() {
        let text = format!(
            "{}{}{PDB}{DAEMONSET}",
            fleet(),
            deployment("web", 3, "1", "")
        );
        let (base, scheduler) = base(&text, &[], &[]);
        let where_web: BTreeMap<String, i32> =
            base.state
                .replicas
                .iter()
                .fold(BTreeMap::new(), |mut counts, r| {
                    if &*r.workload.name == "web" {
                        *counts.entry(r.node.clone().unwrap()).or_insert(0) += 1;
                    }
                    counts
                });
        // The system default spreading puts one on each node.
        assert_eq!(where_web.values().copied().collect::<Vec<_>>(), [1, 1, 1]);
        let report = scenario(
            &base,
            &["b1".to_string()],
            &scheduler,
            &RunOptions::default(),
        );
        let web = impact(&report, "web");
        assert_eq!(
            (web.desired, web.lost, web.placed, web.pending),
            (3, 1, 1, 0)
        );
        assert_eq!(
            (
                web.available_before,
                web.available_lowest,
                web.available_after
            ),
            (3, 2, 3)
        );
        assert_eq!(web.health, Health::Available);
        // Evicted after the default 300 s not-ready toleration, then replaced.
        assert!(report.clock >= report.failed_at + 300, "{report:?}");
        let agent = impact(&report, "agent");
        assert_eq!(
            (
                agent.desired,
                agent.lost,
                agent.on_failed_nodes,
                agent.available_after
            ),
            (3, 1, 1, 2)
        );
        assert_eq!(agent.health, Health::Available);
        assert_eq!(report.budgets[0].healthy_after, 3);
        assert!(report.budgets[0].holds);
        assert!(report.resilient());
        // The base is untouched: the next scenario starts from the same cluster.
        assert!(base.state.nodes.iter().all(|n| n.ready));
    }

    #[test]
    fn a_failed_zone_without_room_leaves_replicas_pending_with_the_reason() {
        // 3 cpu per replica: one per node, so losing zone a leaves two pending.
        let text = format!("{}{}{PDB}", fleet(), deployment("web", 3, "3", ""));
        let (base, scheduler) = base(&text, &[], &[]);
        let failed = failures(&base.state, &[], &["a".to_string()]).unwrap();
        assert_eq!(failed, ["a1", "a2"]);
        let report = scenario(&base, &failed, &scheduler, &RunOptions::default());
        let web = impact(&report, "web");
        assert_eq!((web.lost, web.placed, web.pending), (2, 0, 2));
        assert_eq!(web.available_after, 1);
        assert_eq!(web.health, Health::Degraded);
        assert_eq!(
            web.reason.as_deref(),
            Some(
                "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {node.kubernetes.io/not-ready: }."
            )
        );
        let budget = &report.budgets[0];
        assert_eq!(
            (
                budget.healthy_before,
                budget.healthy_after,
                budget.desired_healthy
            ),
            (3, 1, 2)
        );
        assert!(!budget.holds);
        assert!(!report.resilient());
    }

    #[test]
    fn an_added_node_joins_a_fleet_the_manifests_do_not_declare() {
        // The fleet was applied before; this -f set declares workloads only.
        let (applied, scheduler) = base(
            &format!("{}{}", fleet(), deployment("web", 3, "3", "")),
            &[],
            &[],
        );
        let workloads_only = deployment("web", 3, "3", "");
        let grown = format!("{workloads_only}{}", node("c1", "c", "4"));
        let web = ObjectRef::new(crate::model::workload::Kind::Deployment, "default", "web");
        let base = prepare(
            &desired(&grown),
            applied.state.clone(),
            &["c1".to_string()],
            &[(web, 4)],
            &scheduler,
            &RunOptions::default(),
        )
        .unwrap();
        let names: Vec<&str> = base.state.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["a1", "a2", "b1", "c1"]);
        let report = scenario(&base, &[], &scheduler, &RunOptions::default());
        assert!(report.resilient(), "{report:?}");
    }

    #[test]
    fn unknown_nodes_and_zones_are_refused_with_what_exists() {
        let (base, _) = base(&fleet(), &[], &[]);
        assert_eq!(
            failures(&base.state, &["zz".to_string()], &[])
                .unwrap_err()
                .to_string(),
            "node zz not found (nodes: a1, a2, b1)"
        );
        assert_eq!(
            failures(&base.state, &[], &["c".to_string()])
                .unwrap_err()
                .to_string(),
            "no node in zone c (topology.kubernetes.io/zone values: a, b)"
        );
        assert_eq!(zones(&base.state), ["a", "b"]);
    }

    #[test]
    fn scaling_past_the_fleet_leaves_the_rest_pending_and_added_nodes_make_room() {
        let web = ObjectRef::new(crate::model::workload::Kind::Deployment, "default", "web");
        let text = format!("{}{}", fleet(), deployment("web", 3, "3", ""));
        let (scaled, scheduler) = base(&text, &[(web.clone(), 5)], &[]);
        let report = scenario(&scaled, &[], &scheduler, &RunOptions::default());
        let impact_web = impact(&report, "web");
        assert_eq!(
            (impact_web.desired, impact_web.placed, impact_web.pending),
            (5, 0, 2)
        );
        assert_eq!(
            impact_web.reason.as_deref(),
            Some("0/3 nodes are available: 3 Insufficient cpu.")
        );
        assert_eq!(scaled.scale[0].from, 3);
        // With two more nodes (declared beside the fleet), all five run.
        let grown = format!("{text}{}{}", node("c1", "c", "4"), node("c2", "c", "4"));
        let added = ["c1".to_string(), "c2".to_string()];
        let (base, scheduler) = base(&grown, &[(web, 5)], &added);
        assert_eq!(base.before[0].desired, 3, "the baseline has no added node");
        let report = scenario(&base, &[], &scheduler, &RunOptions::default());
        let impact_web = impact(&report, "web");
        assert_eq!((impact_web.placed, impact_web.pending), (2, 0));
        assert!(report.resilient());
    }
}
