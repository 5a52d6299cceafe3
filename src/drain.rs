//! Draining a node, for real or as a preview: mark it (cordon, draining),
//! then run the loop on the workloads as last applied, which evicts its
//! replicas one at a time as the PodDisruptionBudgets allow and places their
//! replacements. The preview runs exactly that in memory and reports every
//! replica with its budgets, the order evictions succeed in, and why a drain
//! that cannot finish never will. Pure: the state comes in, nothing is written.

use crate::executor::{self, RunOptions, RunResult};
use crate::model::event::EventReason;
use crate::model::state::{Event, EventType, State};
use crate::model::workload::{Desired, DisruptionBudget, IntOrPercent, Kind, ObjectRef};
use crate::reconcile::disruption::{self, BudgetStatus};
use crate::reconcile::{Action, Catalog, DeleteReason, Options, Prune, eviction};
use crate::scheduler::{Scheduler, ScoringStrategy};
use std::collections::BTreeSet;

/// Cordon `name` for a drain (and removal); false when the node is unknown.
/// A node already marked so is left as it is, with no second event: a drain
/// run again (after an interruption, or by a retrying script) goes on where
/// the first stopped, as `kubectl drain` does on a cordoned node.
pub fn mark(state: &mut State, name: &str, remove: bool) -> bool {
    let Some(node) = state.node_mut(name) else {
        return false;
    };
    if node.draining && node.cordoned && node.removing >= remove {
        return true;
    }
    node.cordoned = true;
    node.unschedulable = true;
    node.draining = true;
    node.removing |= remove;
    state.generation += 1;
    state.record_event(Event {
        time: state.clock,
        kind: EventType::Normal,
        reason: EventReason::NodeNotSchedulable,
        object: format!("Node/{name}"),
        message: format!("Node {name} cordoned for drain"),
    });
    state.trim_events();
    true
}

/// The loop a drain runs: the stored workloads, nothing pruned.
pub fn run<E>(
    desired: &Desired,
    state: &mut State,
    timeout: u64,
    persist: impl FnMut(&State, Option<&executor::Step>) -> Result<(), E>,
) -> Result<RunResult, E> {
    let scheduler = Scheduler::new(ScoringStrategy::LeastAllocated);
    let options = RunOptions {
        reconcile: Options {
            prune: Prune::Keep,
            ..Default::default()
        },
        timeout,
        ..Default::default()
    };
    executor::run(desired, state, &scheduler, &options, persist)
}

/// One budget governing a replica, as `kubectl get pdb` / `describe pdb` show it.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetView {
    pub min_available: Option<IntOrPercent>,
    pub max_unavailable: Option<IntOrPercent>,
    pub status: BudgetStatus,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaView {
    pub name: String,
    pub workload: ObjectRef,
    /// DaemonSet replicas stay (as `kubectl drain --ignore-daemonsets`).
    pub stays: bool,
    pub budgets: Vec<BudgetView>,
    /// Index into `Preview::evictions`.
    pub eviction: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eviction {
    pub replica: String,
    pub workload: ObjectRef,
    pub time: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    pub node: String,
    pub remove: bool,
    /// Every replica on the node before the drain, by name.
    pub replicas: Vec<ReplicaView>,
    /// In the order they succeed.
    pub evictions: Vec<Eviction>,
    pub completes: bool,
    /// When the last eviction happens (when blocked: where the simulation stopped).
    pub clock: u64,
    /// Why the drain can never finish (empty when it completes).
    pub reasons: Vec<String>,
    /// A drain that completes may still leave replacements with no place to run.
    pub warnings: Vec<String>,
}

/// Simulate draining `node` (None when the state has no such node).
pub fn preview(
    desired: &Desired,
    state: &State,
    node: &str,
    remove: bool,
    timeout: u64,
) -> Option<Preview> {
    state.node(node)?;
    let catalog = Catalog::build(desired, state);
    let none = BTreeSet::new();
    let mut never = BTreeSet::new();
    let mut replicas: Vec<ReplicaView> = state
        .replicas
        .iter()
        .filter(|r| r.node.as_deref() == Some(node) && r.phase.is_active())
        .map(|replica| {
            let stays = replica.workload.kind == Kind::DaemonSet;
            let mut budgets = Vec::new();
            for budget in desired
                .disruption_budgets
                .iter()
                .filter(|b| disruption::selects(b, replica, &catalog))
            {
                let view = view(budget, desired, state, &catalog, &none);
                if !stays {
                    never.extend(view.status.never_allows(budget));
                }
                budgets.push(view);
            }
            ReplicaView {
                name: replica.name.to_string(),
                workload: replica.workload.clone(),
                stays,
                budgets,
                eviction: None,
            }
        })
        .collect();
    replicas.sort_by(|a, b| a.name.cmp(&b.name));

    let mut simulated = state.clone();
    mark(&mut simulated, node, remove);
    let result = run(desired, &mut simulated, timeout, |_, _| {
        Ok::<(), std::convert::Infallible>(())
    })
    .unwrap_or_else(|never| match never {});
    let evictions = evictions(&result, node);
    for replica in &mut replicas {
        replica.eviction = evictions.iter().position(|e| e.replica == replica.name);
    }
    let blockers = eviction::drain_blockers(desired, &simulated, node);
    let completes = blockers.is_empty();
    let stuck: Vec<String> = result
        .workloads
        .iter()
        .filter(|r| !r.converged())
        .filter_map(|report| {
            let blocked = report.blocked.as_ref()?;
            Some(format!(
                "replacements for {} cannot be placed ({}): {}",
                report.object, blocked.reason, blocked.message
            ))
        })
        .collect();
    let (mut reasons, mut warnings) = (Vec::new(), Vec::new());
    if completes {
        warnings = stuck;
    } else {
        reasons.extend(never);
        reasons.extend(stuck);
        if reasons.is_empty() {
            reasons = blockers;
        }
    }
    Some(Preview {
        node: node.to_string(),
        remove,
        replicas,
        clock: match evictions.last() {
            Some(last) if completes => last.time,
            _ => result.clock,
        },
        evictions,
        completes,
        reasons,
        warnings,
    })
}

fn view(
    budget: &DisruptionBudget,
    desired: &Desired,
    state: &State,
    catalog: &Catalog,
    gone: &BTreeSet<std::sync::Arc<str>>,
) -> BudgetView {
    BudgetView {
        min_available: budget.min_available,
        max_unavailable: budget.max_unavailable,
        status: disruption::status(budget, desired, state, catalog, gone),
    }
}

/// The drain's evictions from `node`, in the order the loop made them.
pub fn evictions(result: &RunResult, node: &str) -> Vec<Eviction> {
    result
        .steps
        .iter()
        .flat_map(|step| step.actions.iter().map(move |action| (step.time, action)))
        .filter_map(|(time, action)| match action {
            Action::Delete {
                replica,
                workload,
                node: Some(on),
                reason: DeleteReason::Evicted(_),
            } if **on == *node => Some(Eviction {
                replica: replica.to_string(),
                workload: workload.clone(),
                time,
            }),
            _ => None,
        })
        .collect()
}
