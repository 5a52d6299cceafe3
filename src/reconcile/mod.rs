//! The diff: `reconcile(desired, observed, now) -> Plan`, a pure function.
//!
//! One call is one pass of every controller, in order: the node fleet, the
//! workloads (each revision scaled as its rollout strategy says), placement of
//! every replica that needs a node, then readiness. The plan lists actions; the
//! executor applies them. Nothing here touches disk, clock or terminal.

mod action;
pub mod admission;
mod catalog;
pub mod cronjob;
mod daemonset;
mod deployment;
pub mod disruption;
pub mod eviction;
pub mod job;
mod names;
pub(crate) mod nodes;
mod placement;
pub mod preemption;
pub mod progress;
mod replicaset;
pub mod statefulset;
pub mod status;
pub mod storage;
pub mod undo;

pub use action::{Action, DeleteReason, PreemptedBy};
pub use catalog::{Catalog, Declared, POD_TEMPLATE_HASH, current_pod};
pub use daemonset::daemon_pod;
pub use deployment::is_available;
pub use placement::{Background, Carry, backoff, occupied_snapshot, occupied_snapshot_of};
pub use status::{WorkloadReport, summarize};

use crate::model::state::{NodeState, Phase, Replica, State, WorkloadState};
use crate::model::workload::{Desired, Kind, ObjectRef};
use crate::scheduler::Scheduler;
use crate::scheduler::remembered::Diagnoses;
use rustc_hash::FxHashMap as HashMap;
use std::collections::BTreeSet;
use std::sync::Arc;

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
    /// The scheduler's view of the replicas the state leaves out, accounted
    /// on the same fleet: placement starts from it instead of an empty
    /// fleet. A state holding only some workloads' replicas is then
    /// scheduled as the whole one would be (what-if's shared scenarios).
    pub background: Option<std::sync::Arc<Background>>,
    /// The diagnoses of pods that fit nowhere, kept from pass to pass of one
    /// run (`Options::for_run`); None diagnoses them again at every pass.
    pub diagnoses: Option<std::sync::Arc<Diagnoses>>,
    /// What the last pass of one run accounted (`Options::for_run`): the
    /// next pass on the same fleet starts from it; None accounts every
    /// bound replica anew at every pass.
    pub carry: Option<std::sync::Arc<placement::Carry>>,
    /// Never keep diagnoses nor the accounted snapshot from pass to pass:
    /// the reference the kept ones are tested against.
    pub plain_diagnoses: bool,
}

impl Options {
    /// The options of one run of the loop: its own diagnoses kept from
    /// pass to pass, unless `plain_diagnoses`.
    pub fn for_run(&self) -> Options {
        Options {
            diagnoses: (!self.plain_diagnoses).then(Default::default),
            carry: (!self.plain_diagnoses).then(Default::default),
            ..self.clone()
        }
    }

    /// `plan` is the pass's: the diagnoses kept go stale when carrying it
    /// out may change the scheduler's snapshot.
    pub fn passed(&self, plan: &Plan) {
        if let Some(diagnoses) = &self.diagnoses
            && !plan.actions.iter().all(Action::leaves_snapshot)
        {
            diagnoses.forget();
        }
    }
}

/// The actions of one pass, and when the next pass has something to do if
/// nothing is done now (a replica becoming ready or available).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub actions: Vec<Action>,
    pub wake_at: Option<u64>,
    /// When something next happens that no run waits for (a CronJob's next
    /// schedule, a finished Job's TTL): time that runs on (`--advance`,
    /// `watch`) meets it; a run that has converged stops before it.
    pub later: Option<u64>,
    /// How the pass's replicas were scheduled (batched or one by one).
    pub scheduling: crate::scheduler::batch::Stats,
}

impl Plan {
    fn wake(&mut self, at: u64) {
        self.wake_at = Some(self.wake_at.map_or(at, |t| t.min(at)));
    }

    fn wake_later(&mut self, at: u64) {
        self.later = Some(self.later.map_or(at, |t| t.min(at)));
    }

    /// The next instant anything happens, waited for or not.
    pub fn next_event(&self) -> Option<u64> {
        match (self.wake_at, self.later) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
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
    /// Replica indexes grouped by the node they are bound to, for the nodes
    /// that are not ready or draining (the only ones whose replicas are
    /// looked up by node).
    pub by_node: HashMap<&'a str, Vec<usize>>,
    /// Per replica (by index into `observed.replicas`): the position of its
    /// node in the pass's fleet, `NO_NODE` when unbound or the node is gone.
    pub node_of: Vec<u32>,
    pub deleted: BTreeSet<Arc<str>>,
    /// The stored workloads by identity: looked up several times per
    /// workload in a pass, where a binary search over the state's list reads
    /// a dozen scattered names.
    pub stored: HashMap<WorkloadKey<'a>, &'a WorkloadState>,
    /// Replicas created in this pass (not in `observed` yet).
    pub created: Vec<Replica>,
    /// Claims and volumes made or bound in this pass.
    pub storage: storage::Overlay,
    pub names: names::NameGenerator<'a>,
    /// `Options::background`.
    pub background: Option<std::sync::Arc<Background>>,
    /// `Options::diagnoses`.
    pub diagnoses: Option<std::sync::Arc<Diagnoses>>,
    /// `Options::carry`.
    pub carry: Option<std::sync::Arc<placement::Carry>>,
}

/// A stored workload's identity as `State::workload` matches it.
pub(crate) type WorkloadKey<'a> = (Kind, &'a str, &'a str);

/// `State::workload` for many lookups: the stored workloads indexed once.
pub(crate) fn stored_workloads(state: &State) -> HashMap<WorkloadKey<'_>, &WorkloadState> {
    state
        .workloads
        .iter()
        .map(|w| ((w.kind, w.namespace.as_str(), w.name.as_str()), w))
        .collect()
}

/// What `stored_workloads` holds for `id` (`State::workload`).
pub(crate) fn stored_workload<'a>(
    stored: &HashMap<WorkloadKey<'a>, &'a WorkloadState>,
    id: &ObjectRef,
) -> Option<&'a WorkloadState> {
    stored.get(&(id.kind, &*id.namespace, &*id.name)).copied()
}

impl<'a> Pass<'a> {
    /// A new Pending replica: the `create` action and the replica later
    /// phases of this pass see (placement, readiness). Every controller
    /// creates through here.
    pub fn create_replica(
        &mut self,
        name: impl Into<Arc<str>>,
        workload: &ObjectRef,
        revision: u64,
        hash: std::sync::Arc<str>,
        target_node: Option<String>,
    ) {
        let name: Arc<str> = name.into();
        self.plan.actions.push(Action::Create {
            replica: name.clone(),
            workload: workload.clone(),
            revision,
            hash: hash.clone(),
            target_node: target_node.clone(),
        });
        self.created.push(Replica::pending(
            name,
            workload.clone(),
            revision,
            hash,
            target_node,
            self.now,
        ));
    }

    /// The stored workload `id` (`observed.workload(id)`).
    pub fn stored(&self, id: &ObjectRef) -> Option<&'a WorkloadState> {
        stored_workload(&self.stored, id)
    }

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
            .filter(|r| {
                (r.phase.is_active() || admission::is_rejected(r))
                    && !self.deleted.contains(&r.name)
            })
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
    reconcile_with(
        &Declared::new(desired),
        desired,
        observed,
        now,
        scheduler,
        options,
    )
}

/// A pass's start: its indexes over the observed state, and the node fleet
/// synced with the declared one.
fn begin<'a>(
    declared: &std::sync::Arc<Declared>,
    desired: &'a Desired,
    observed: &'a State,
    now: u64,
    options: &Options,
) -> (Pass<'a>, std::borrow::Cow<'a, [NodeState]>) {
    let mut pass = Pass {
        desired,
        observed,
        now,
        catalog: Catalog::with_declared(declared.clone(), desired, observed),
        plan: Plan::default(),
        by_workload: index_by_workload(observed),
        by_node: HashMap::default(),
        node_of: Vec::new(),
        deleted: BTreeSet::new(),
        stored: stored_workloads(observed),
        created: Vec::new(),
        storage: storage::Overlay::default(),
        names: names::NameGenerator::new(observed),
        background: options.background.clone(),
        diagnoses: options.diagnoses.clone(),
        carry: options.carry.clone(),
    };
    let nodes = nodes::sync(&mut pass, options.prune);
    pass.node_of = node_positions(observed, &nodes);
    pass.by_node = index_by_node(observed, &nodes, &pass.node_of);
    (pass, nodes)
}

/// A pass begun on `observed` (no controller run yet), for tests of one
/// controller's part.
#[cfg(test)]
pub(crate) fn with_pass<R>(
    desired: &Desired,
    observed: &State,
    f: impl FnOnce(&mut Pass, &[NodeState]) -> R,
) -> R {
    let declared = Declared::new(desired);
    let (mut pass, nodes) = begin(&declared, desired, observed, 0, &Options::default());
    f(&mut pass, &nodes)
}

/// `reconcile`, with the declared pods made once for many passes over the
/// same manifests (`Declared::new(desired)`).
pub fn reconcile_with(
    declared: &std::sync::Arc<Declared>,
    desired: &Desired,
    observed: &State,
    now: u64,
    scheduler: &Scheduler,
    options: &Options,
) -> Plan {
    let (mut pass, nodes) = begin(declared, desired, observed, now, options);
    // The Jobs CronJobs started: not declared, but theirs.
    let owned = cronjob::owned_jobs(desired, observed);
    remove_orphans(&mut pass, options.prune, &owned);
    record_policies(&mut pass, desired);
    storage::sync(&mut pass);
    eviction::finish_terminations(&mut pass);
    eviction::node_loss(&mut pass, &nodes);
    eviction::drain(&mut pass, &nodes);
    reserve_for_lacking(&mut pass, desired, observed, nodes.len());
    let gated = sync_workloads(&mut pass, desired, observed, &nodes, now);
    for job in &owned {
        deployment::record_spec(&mut pass, job);
        job::sync(&mut pass, job, &nodes);
    }
    for cron in &desired.cron_jobs {
        cronjob::sync(&mut pass, cron, &owned);
    }
    // A workload waiting on its dependencies is not failing to progress.
    for workload in desired.workloads.iter().filter(|w| !gated.contains(&w.id)) {
        progress::sync(&mut pass, workload);
    }
    storage::bind_immediate(&mut pass);
    placement::place(&mut pass, &nodes, scheduler);
    placement::readiness(&mut pass, &nodes);
    pass.plan
}

/// Budgets and PriorityClasses are kept in the state as applied.
fn record_policies(pass: &mut Pass, desired: &Desired) {
    // Budgets are kept in the state so that drains between applies honour them.
    for budget in &desired.disruption_budgets {
        if pass
            .stored(&budget.id)
            .is_none_or(|stored| stored.spec != budget.manifest)
        {
            pass.plan.actions.push(Action::ApplyWorkload {
                workload: budget.id.clone(),
                spec: budget.manifest.clone(),
            });
        }
    }
    // PriorityClasses too: commands without `-f` resolve priorities from them.
    for class in &desired.priority_classes {
        let Some(manifest) = &class.manifest else {
            continue;
        };
        let id = ObjectRef::new(Kind::PriorityClass, "", &class.name);
        if pass
            .stored(&id)
            .is_none_or(|stored| stored.spec != *manifest)
        {
            pass.plan.actions.push(Action::ApplyWorkload {
                workload: id,
                spec: manifest.clone(),
            });
        }
    }
}

/// Room for the replicas the workloads lack, created and then bound in
/// this pass (the lists grow once, not by doubling, on a cold start).
fn reserve_for_lacking(pass: &mut Pass, desired: &Desired, observed: &State, nodes: usize) {
    let declared_replicas: usize = desired
        .workloads
        .iter()
        .map(|w| match w.kind() {
            crate::model::workload::WorkloadKind::Deployment
            | crate::model::workload::WorkloadKind::StatefulSet => w.replicas.max(0) as usize,
            crate::model::workload::WorkloadKind::DaemonSet => nodes,
            crate::model::workload::WorkloadKind::Job
            | crate::model::workload::WorkloadKind::ReplicaSet
            | crate::model::workload::WorkloadKind::Pod => w.replicas.max(0) as usize,
        })
        .sum();
    let lacking = declared_replicas.saturating_sub(observed.replicas.len());
    pass.created.reserve(lacking);
    // A create and a bind per lacking replica, and room for the pass's other
    // actions (a workload's records and status, a node's): reserved exactly
    // that, the vector does not double past it (a million replicas' pass
    // just over 2^21 actions would hold room for 2^22). Only a pass that
    // creates more replicas than that room: a rollout's step that replaces
    // one replica would keep room for thousands of actions with it.
    let others = 8 * desired.workloads.len() + 2 * nodes;
    if lacking > others {
        pass.plan.actions.reserve(2 * lacking + others);
    }
}

/// Each declared workload's controller syncs it, but a workload waiting on
/// its dependencies for a rollout: those are returned.
fn sync_workloads<'d>(
    pass: &mut Pass,
    desired: &'d Desired,
    observed: &State,
    nodes: &[NodeState],
    now: u64,
) -> BTreeSet<&'d ObjectRef> {
    let mut gated = BTreeSet::new();
    for workload in &desired.workloads {
        deployment::record_spec(pass, workload);
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
            crate::model::workload::WorkloadKind::Deployment => deployment::sync(pass, workload),
            crate::model::workload::WorkloadKind::DaemonSet => {
                daemonset::sync(pass, workload, nodes)
            }
            crate::model::workload::WorkloadKind::StatefulSet => {
                statefulset::sync_set(pass, workload)
            }
            crate::model::workload::WorkloadKind::Job => job::sync(pass, workload, nodes),
            crate::model::workload::WorkloadKind::ReplicaSet => replicaset::sync(pass, workload),
            crate::model::workload::WorkloadKind::Pod => replicaset::sync_pod(pass, workload),
        }
    }
    gated
}

/// Replica indexes by workload. A workload's replicas mostly sit together in
/// the state, so the map is looked up once per run of them.
fn index_by_workload(observed: &State) -> HashMap<ObjectRef, Vec<usize>> {
    let mut by_workload: HashMap<ObjectRef, Vec<usize>> = HashMap::default();
    let replicas = &observed.replicas;
    let mut start = 0;
    while start < replicas.len() {
        let workload = &replicas[start].workload;
        let mut end = start + 1;
        while end < replicas.len() && replicas[end].workload == *workload {
            end += 1;
        }
        match by_workload.get_mut(workload) {
            Some(indexes) => indexes.extend(start..end),
            None => {
                by_workload.insert(workload.clone(), (start..end).collect());
            }
        }
        start = end;
    }
    by_workload
}

/// No node: unbound, or bound to a node that is not in the fleet.
pub(crate) const NO_NODE: u32 = u32::MAX;

/// Each replica's node as a position in `nodes` (one lookup per replica per pass).
fn node_positions(observed: &State, nodes: &[crate::model::state::NodeState]) -> Vec<u32> {
    let position: HashMap<&str, u32> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.name.as_str(), i as u32))
        .collect();
    observed
        .replicas
        .iter()
        .map(|r| {
            r.node
                .as_deref()
                .and_then(|n| position.get(n).copied())
                .unwrap_or(NO_NODE)
        })
        .collect()
}

/// Replica indexes of the nodes that are not ready or draining, the only
/// ones `Pass::replicas_on` is asked about.
fn index_by_node<'a>(
    observed: &'a State,
    nodes: &[crate::model::state::NodeState],
    node_of: &[u32],
) -> HashMap<&'a str, Vec<usize>> {
    let mut by_node: HashMap<&str, Vec<usize>> = HashMap::default();
    let watched: Vec<bool> = nodes.iter().map(|n| !n.ready || n.draining).collect();
    if !watched.contains(&true) {
        return by_node;
    }
    for (i, (replica, &node)) in observed.replicas.iter().zip(node_of).enumerate() {
        if node != NO_NODE
            && watched[node as usize]
            && let Some(name) = replica.node.as_deref()
        {
            by_node.entry(name).or_default().push(i);
        }
    }
    by_node
}

/// Replicas whose node or workload no longer exists, and workloads no longer declared.
fn remove_orphans(pass: &mut Pass, prune: Prune, owned: &[crate::model::workload::Workload]) {
    let classes: Vec<ObjectRef> = pass
        .desired
        .priority_classes
        .iter()
        .map(|c| ObjectRef::new(Kind::PriorityClass, "", &c.name))
        .collect();
    let declared: rustc_hash::FxHashSet<&ObjectRef> = pass
        .desired
        .workloads
        .iter()
        .map(|w| &w.id)
        .chain(pass.desired.disruption_budgets.iter().map(|b| &b.id))
        .chain(&classes)
        .chain(pass.desired.storage.manifests.iter().map(|(id, _)| id))
        .chain(pass.desired.cron_jobs.iter().map(|c| &c.id))
        .chain(owned.iter().map(|w| &w.id))
        .collect();
    let prune = match prune {
        Prune::Keep => false,
        Prune::All => true,
        // The imported workloads that run on their own are not the -f set's.
        Prune::Auto => {
            pass.desired.workloads.iter().any(|w| {
                pass.stored(&w.id)
                    .is_none_or(|stored| stored.origin.is_applied())
            }) || !pass.desired.cron_jobs.is_empty()
        }
    };
    let observed = pass.observed;
    // (The positions first: most replicas are bound to a node that exists.)
    for i in 0..observed.replicas.len() {
        if pass.node_of[i] == NO_NODE && observed.replicas[i].node.is_some() {
            pass.delete(&observed.replicas[i], DeleteReason::NodeGone);
        }
    }
    for workload in &observed.workloads {
        let id = workload.id();
        // Only what orch applied is pruned; an imported workload is left alone.
        if declared.contains(&id) || !prune || !workload.origin.is_applied() {
            continue;
        }
        let replicas: Vec<&Replica> = pass.replicas_of(&id).collect();
        for replica in replicas {
            pass.delete(replica, DeleteReason::WorkloadRemoved);
        }
        storage::workload_removed(pass, workload);
        pass.plan
            .actions
            .push(Action::RemoveWorkload { workload: id });
    }
    // Replicas of workloads neither stored nor declared, in state order.
    let mut unknown: Vec<usize> = pass
        .by_workload
        .iter()
        .filter(|(id, _)| pass.stored(id).is_none() && !declared.contains(id))
        .flat_map(|(_, indexes)| indexes.iter().copied())
        .filter(|&i| !observed.replicas[i].is_unmanaged())
        .collect();
    unknown.sort_unstable();
    for i in unknown {
        // (A replica left Terminating is already being deleted.)
        if observed.replicas[i].phase != Phase::Terminating {
            pass.delete(&observed.replicas[i], DeleteReason::WorkloadRemoved);
        }
    }
}
