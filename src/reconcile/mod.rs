//! The diff: `reconcile(desired, observed, now) -> Plan`, a pure function.
//!
//! One call is one pass of every controller, in order: the node fleet, the
//! workloads (each revision scaled as its rollout strategy says), placement of
//! every replica that needs a node, then readiness. The plan lists actions; the
//! executor applies them. Nothing here touches disk, clock or terminal.

mod action;
mod catalog;
mod daemonset;
mod deployment;
pub mod disruption;
pub mod eviction;
mod names;
mod nodes;
mod placement;
pub mod progress;
pub mod status;
pub mod undo;

pub use action::{Action, DeleteReason};
pub use catalog::{Catalog, POD_TEMPLATE_HASH};
pub use daemonset::daemon_pod;
pub use deployment::is_available;
pub use placement::{backoff, occupied_snapshot};
pub use status::{WorkloadReport, summarize};

use crate::model::state::{Phase, Replica, State};
use crate::model::workload::{Desired, ObjectRef};
use crate::scheduler::Scheduler;
use rustc_hash::FxHashMap as HashMap;
use std::collections::BTreeSet;

/// What happens to workloads that were applied before and are absent now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Prune {
    /// Remove them, unless the `-f` set declares no workload at all.
    #[default]
    Auto,
    /// `--no-prune`: keep them.
    Keep,
    /// `--prune-all`: remove them even when the set is empty.
    All,
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub prune: Prune,
}

/// The actions of one pass, and when the next pass has something to do if
/// nothing is done now (a replica becoming ready or available).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub actions: Vec<Action>,
    pub wake_at: Option<u64>,
}

impl Plan {
    fn wake(&mut self, at: u64) {
        self.wake_at = Some(self.wake_at.map_or(at, |t| t.min(at)));
    }
}

/// The working view of one pass: the observed state plus the decisions made so
/// far, so later phases see earlier ones (deleted replicas free their node,
/// created replicas get placed).
pub(crate) struct Pass<'a> {
    pub desired: &'a Desired,
    pub observed: &'a State,
    pub now: u64,
    pub catalog: Catalog,
    pub plan: Plan,
    /// Replica indexes (into `observed.replicas`) grouped by workload.
    pub by_workload: HashMap<ObjectRef, Vec<usize>>,
    /// Replica indexes grouped by the node they are bound to.
    pub by_node: HashMap<&'a str, Vec<usize>>,
    pub deleted: BTreeSet<String>,
    /// Replicas created in this pass (not in `observed` yet).
    pub created: Vec<Replica>,
    pub names: names::NameGenerator<'a>,
}

impl<'a> Pass<'a> {
    /// Replicas bound to `node`, in state order.
    pub fn replicas_on(&self, node: &str) -> impl Iterator<Item = &'a Replica> + '_ {
        let observed = self.observed;
        self.by_node
            .get(node)
            .into_iter()
            .flatten()
            .map(move |&i| &observed.replicas[i])
    }

    pub fn replicas_of(&self, workload: &ObjectRef) -> impl Iterator<Item = &'a Replica> + '_ {
        let observed = self.observed;
        self.by_workload
            .get(workload)
            .into_iter()
            .flatten()
            .map(move |&i| &observed.replicas[i])
            .filter(|r| r.phase != Phase::Terminating && !self.deleted.contains(&r.name))
    }

    pub fn delete(&mut self, replica: &Replica, reason: DeleteReason) {
        if self.deleted.insert(replica.name.clone()) {
            self.plan.actions.push(Action::Delete {
                replica: replica.name.clone(),
                workload: replica.workload.clone(),
                node: replica.node.clone(),
                reason,
            });
        }
    }
}

pub fn reconcile(
    desired: &Desired,
    observed: &State,
    now: u64,
    scheduler: &Scheduler,
    options: &Options,
) -> Plan {
    let mut by_workload: HashMap<ObjectRef, Vec<usize>> = HashMap::default();
    let mut by_node: HashMap<&str, Vec<usize>> = HashMap::default();
    for (i, replica) in observed.replicas.iter().enumerate() {
        match by_workload.get_mut(&replica.workload) {
            Some(indexes) => indexes.push(i),
            None => {
                by_workload.insert(replica.workload.clone(), vec![i]);
            }
        }
        if let Some(node) = &replica.node {
            by_node.entry(node.as_str()).or_default().push(i);
        }
    }
    let mut pass = Pass {
        desired,
        observed,
        now,
        catalog: Catalog::build(desired, observed),
        plan: Plan::default(),
        by_workload,
        by_node,
        deleted: BTreeSet::new(),
        created: Vec::new(),
        names: names::NameGenerator::new(observed),
    };
    let nodes = nodes::sync(&mut pass, options.prune);
    remove_orphans(&mut pass, &nodes, options.prune);
    // Budgets are kept in the state so that drains between applies honour them.
    for budget in &desired.disruption_budgets {
        if observed
            .workload(&budget.id)
            .is_none_or(|stored| stored.spec != budget.manifest)
        {
            pass.plan.actions.push(Action::ApplyWorkload {
                workload: budget.id.clone(),
                spec: budget.manifest.clone(),
            });
        }
    }
    eviction::node_loss(&mut pass, &nodes);
    eviction::drain(&mut pass, &nodes);
    let mut gated = BTreeSet::new();
    for workload in &desired.workloads {
        deployment::record_spec(&mut pass, workload);
        // `orch.dev/depends-on`: created or rolled out only once every
        // dependency is available; scaling and repair go on regardless.
        let needs_rollout = {
            let mut replicas = pass.replicas_of(&workload.id).peekable();
            replicas.peek().is_none() || replicas.any(|r| r.hash != workload.template_hash)
        };
        if needs_rollout && status::waiting_for(desired, workload, observed, now).is_some() {
            gated.insert(&workload.id);
            continue;
        }
        match workload.kind() {
            crate::model::workload::WorkloadKind::Deployment => {
                deployment::sync(&mut pass, workload)
            }
            crate::model::workload::WorkloadKind::DaemonSet => {
                daemonset::sync(&mut pass, workload, &nodes)
            }
        }
    }
    // A workload waiting on its dependencies is not failing to progress.
    for workload in desired.workloads.iter().filter(|w| !gated.contains(&w.id)) {
        progress::sync(&mut pass, workload);
    }
    placement::place(&mut pass, &nodes, scheduler);
    placement::readiness(&mut pass, &nodes);
    pass.plan
}

/// Replicas whose node or workload no longer exists, and workloads no longer declared.
fn remove_orphans(pass: &mut Pass, nodes: &[crate::model::state::NodeState], prune: Prune) {
    let node_names: rustc_hash::FxHashSet<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
    let declared: rustc_hash::FxHashSet<&ObjectRef> = pass
        .desired
        .workloads
        .iter()
        .map(|w| &w.id)
        .chain(pass.desired.disruption_budgets.iter().map(|b| &b.id))
        .collect();
    let prune = match prune {
        Prune::Keep => false,
        Prune::All => true,
        Prune::Auto => !pass.desired.workloads.is_empty(),
    };
    let observed = pass.observed;
    for replica in &observed.replicas {
        if let Some(node) = &replica.node
            && !node_names.contains(node.as_str())
        {
            pass.delete(replica, DeleteReason::NodeGone);
        }
    }
    for workload in &observed.workloads {
        let id = workload.id();
        if declared.contains(&id) || !prune {
            continue;
        }
        let replicas: Vec<&Replica> = pass.replicas_of(&id).collect();
        for replica in replicas {
            pass.delete(replica, DeleteReason::WorkloadRemoved);
        }
        pass.plan
            .actions
            .push(Action::RemoveWorkload { workload: id });
    }
    let known: rustc_hash::FxHashSet<ObjectRef> =
        observed.workloads.iter().map(|w| w.id()).collect();
    for replica in &observed.replicas {
        if !known.contains(&replica.workload) && !declared.contains(&replica.workload) {
            pass.delete(replica, DeleteReason::WorkloadRemoved);
        }
    }
}
