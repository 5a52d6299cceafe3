//! Placement and readiness: every replica that needs a node goes through the
//! scheduler against a snapshot that already holds every placed replica;
//! bound replicas become ready once their readiness delay has passed.

mod accounting;
mod carry;
mod queue;

pub use carry::Carry;

use super::daemonset::daemon_pod;
use super::{Action, Catalog, NO_NODE, Pass};
use crate::model::pod::{PodSpec, Simulate};
use crate::model::state::{NodeState, Replica, State};
use crate::model::workload::{ObjectRef, Workload};
use crate::scheduler::snapshot::{NodeInfo, Snapshot};
use crate::scheduler::{FitError, Scheduler};
use rustc_hash::FxHashMap;
use std::borrow::Cow;
use std::sync::Arc;

/// Every replica that waits for a node (and every one this pass created)
/// goes through the scheduler, in the queue's order, run by run.
pub(super) fn place(pass: &mut Pass, nodes: &[NodeState], scheduler: &Scheduler) {
    let observed = pass.observed;
    let mut waiting: Vec<&Replica> = Vec::new();
    let mut bound: Vec<usize> = Vec::new();
    for (i, replica) in observed.replicas.iter().enumerate() {
        if !replica.phase.is_active() || pass.deleted.contains(&replica.name) {
            continue;
        }
        match (&replica.node, pass.node_of[i]) {
            (None, _) => waiting.push(replica),
            // Bound to a node that is gone: removed by `remove_orphans`.
            (Some(_), NO_NODE) => {}
            (Some(_), _) => bound.push(i),
        }
    }
    // Over a background (whose replicas, with the pass's own, fit where they
    // are), nothing is scheduled when nothing waits.
    if pass.background.is_some() && waiting.is_empty() && pass.created.is_empty() {
        return;
    }
    let snapshot = accounting::account_oldest_first(pass, nodes, bound);
    // The diagnoses kept from earlier passes were made on this very
    // snapshot, unless this pass changed it before placement.
    let kept = pass
        .diagnoses
        .clone()
        .filter(|_| pass.plan.actions.iter().all(Action::leaves_snapshot));
    let created = std::mem::take(&mut pass.created);
    waiting.extend(created.iter());
    sort_queue(&mut waiting);
    if super::preemption::in_use(pass.desired) {
        super::preemption::sort_by_priority(&mut waiting, &pass.catalog);
    }
    let mut queue = queue::Queue::new(scheduler, nodes, snapshot, kept);
    // Workloads whose replicas have claims of their own (claim templates).
    let templated: FxHashMap<&ObjectRef, &Workload> = pass
        .desired
        .workloads
        .iter()
        .filter(|w| {
            w.stateful
                .as_ref()
                .is_some_and(|s| !s.claim_templates.is_empty())
        })
        .map(|w| (&w.id, w))
        .collect();
    let mut start = 0;
    while start < waiting.len() {
        let first = waiting[start];
        let Some(template) = pass.catalog.pod(&first.workload, &first.hash).cloned() else {
            start += 1;
            continue;
        };
        // Gated pods are not queued; pods that name their node are not
        // scheduled but admitted there by its kubelet.
        let gated = crate::scheduler::plugins::scheduling_gates::pre_enqueue(&template).err();
        if gated.is_some() || (template.node_name.is_some() && first.target_node.is_none()) {
            let mut end = start + 1;
            while waiting
                .get(end)
                .is_some_and(|r| r.workload == first.workload && r.hash == first.hash)
            {
                end += 1;
            }
            queue.hold(pass, &template, &waiting[start..end], gated);
            start = end;
            continue;
        }
        let claims =
            super::storage::claims_of(&template, first, templated.get(&first.workload).copied());
        if !claims.is_empty() {
            start +=
                queue.place_with_claims(pass, &template, &waiting[start..], claims, &templated);
            continue;
        }
        let mut end = start + 1;
        while end < waiting.len()
            && waiting[end].workload == first.workload
            && waiting[end].hash == first.hash
            && waiting[end].target_node.is_none()
            && first.target_node.is_none()
        {
            end += 1;
        }
        queue.place_run(pass, &template, &waiting[start..end]);
        start = end;
    }
    pass.plan.scheduling.merge(&queue.finish());
    pass.created = created;
}

/// Gated replicas record why they wait, once.
fn gate(pass: &mut Pass, run: &[&Replica], message: &str) {
    for replica in run {
        if replica.reason.as_deref() != Some(message) {
            pass.plan.actions.push(Action::Gate {
                replica: replica.name.clone(),
                workload: replica.workload.clone(),
                message: message.to_string(),
            });
        }
    }
}

/// The replica is pending for this very reason already. The state keeps
/// the reason as kube-scheduler's message (its format is fixed), so the
/// comparison is with the message.
pub(super) fn already_recorded(replica: &Replica, error: &FitError) -> bool {
    replica
        .reason
        .as_deref()
        .is_some_and(|recorded| recorded == error.to_string())
}

/// The scheduling queue's order: oldest first, then by workload and name.
/// Replicas usually come grouped by (creation, workload) in that order
/// already (a workload's new replicas are made together): then each group
/// is only sorted by name.
fn sort_queue(waiting: &mut [&Replica]) {
    fn group(r: &Replica) -> (u64, &crate::model::workload::ObjectRef) {
        (r.created_at, &r.workload)
    }
    let mut bounds = vec![0];
    for i in 1..waiting.len() {
        if group(waiting[i]) != group(waiting[i - 1]) {
            bounds.push(i);
        }
    }
    bounds.push(waiting.len());
    let in_order = bounds
        .windows(3)
        .all(|w| group(waiting[w[0]]) < group(waiting[w[1]]));
    if in_order {
        for w in bounds.windows(2) {
            waiting[w[0]..w[1]].sort_unstable_by(|a, b| a.name.cmp(&b.name));
        }
    } else {
        waiting.sort_unstable_by(|a, b| {
            (a.created_at, &a.workload, &a.name).cmp(&(b.created_at, &b.workload, &b.name))
        });
    }
}

/// The pod and replica group of each run of bound replicas of one revision.
struct Templates<'p, 'c> {
    last: Option<(&'p Replica, Option<&'c Arc<PodSpec>>)>,
}

impl<'p, 'c> Templates<'p, 'c> {
    fn of(
        &mut self,
        catalog: &'c super::Catalog,
        replica: &'p Replica,
    ) -> Option<&'c Arc<PodSpec>> {
        if let Some((previous, template)) = self.last
            && previous.hash == replica.hash
            && previous.workload == replica.workload
        {
            return template;
        }
        let template = catalog.pod(&replica.workload, &replica.hash);
        self.last = Some((replica, template));
        template
    }
}

/// The pod a replica runs: its template, pinned to its node for a DaemonSet replica.
fn replica_pod<'a>(template: &'a PodSpec, replica: &Replica) -> Cow<'a, PodSpec> {
    match &replica.target_node {
        Some(target) => Cow::Owned(daemon_pod(template, target)),
        None => Cow::Borrowed(template),
    }
}

/// The scheduler's view of the replicas a pass's state leaves out
/// (`Options::background`): a snapshot of the same fleet, less some of
/// the replicas it accounts.
#[derive(Debug)]
pub struct Background {
    pub snapshot: Arc<Snapshot>,
    /// Replicas accounted in `snapshot` that are not part of the background:
    /// each node's position and the pod.
    pub without: Vec<(usize, Arc<PodSpec>)>,
}

impl Background {
    /// The background on the fleet as it is now (nodes may have become
    /// ready or not, cordoned or not, since the snapshot was taken).
    fn snapshot(&self, nodes: &[NodeState]) -> Snapshot {
        let mut snapshot = Snapshot::clone(&self.snapshot);
        assert_eq!(
            snapshot.nodes.len(),
            nodes.len(),
            "a background of the same fleet"
        );
        for (node, pod) in &self.without {
            snapshot.forget(*node, pod);
        }
        for (info, node) in snapshot.nodes.iter_mut().zip(nodes) {
            if info.ready != node.ready || info.unschedulable != node.unschedulable {
                let fresh = NodeInfo::new(info.index, node);
                info.taints = fresh.taints;
                info.ready = fresh.ready;
                info.unschedulable = fresh.unschedulable;
            }
        }
        snapshot
    }
}

/// A revision's scheduling view and its replica group in a snapshot.
type PodAndGroup<'a> = (&'a Arc<PodSpec>, usize);

/// The scheduler's view of `state` as it stands: every node, with every bound
/// replica that is not terminating (but `except`) accounted on its node —
/// what the next replica to be placed would meet.
pub fn occupied_snapshot(state: &State, catalog: &Catalog, except: Option<&str>) -> Snapshot {
    occupied_snapshot_of(&state.nodes, state, catalog, except)
}

/// `occupied_snapshot` of another fleet: `nodes` (some of the state's, and
/// maybe nodes that do not exist yet), with the state's replicas bound to
/// them accounted.
pub fn occupied_snapshot_of(
    nodes: &[NodeState],
    state: &State,
    catalog: &Catalog,
    except: Option<&str>,
) -> Snapshot {
    let mut snapshot = Snapshot::new(nodes);
    // Replicas of one revision are mostly adjacent: their pod and group are
    // looked up once per run of them, not once per replica.
    let mut last: Option<(&Replica, Option<PodAndGroup>)> = None;
    for replica in &state.replicas {
        if Some(&*replica.name) == except || !replica.phase.is_active() {
            continue;
        }
        let Some(index) = replica.node.as_deref().and_then(|n| snapshot.index_of(n)) else {
            continue;
        };
        let found = match last {
            Some((previous, found))
                if previous.hash == replica.hash && previous.workload == replica.workload =>
            {
                found
            }
            _ => catalog
                .pod(&replica.workload, &replica.hash)
                .map(|pod| (pod, snapshot.group_of(pod))),
        };
        last = Some((replica, found));
        if let Some((pod, group)) = found {
            snapshot.assume_in(index, pod, group);
        }
    }
    snapshot
}

/// Crash-loop back-off: 10s doubling per restart, at most 5 minutes (the kubelet's).
pub fn backoff(restarts: u32) -> u64 {
    (10u64 << restarts.min(5)).min(300)
}

/// Bound replicas whose readiness delay has passed become ready; a simulated
/// bad version never does, or crashes and restarts with back-off. Otherwise
/// the pass asks to be woken when the next one changes (or becomes available).
pub(super) fn readiness(pass: &mut Pass, nodes: &[NodeState]) {
    let min_ready: FxHashMap<_, _> = pass
        .desired
        .workloads
        .iter()
        .map(|w| (&w.id, w.min_ready_seconds))
        .collect();
    let observed = pass.observed;
    // Looked up once per run of replicas of one revision.
    let mut templates = Templates { last: None };
    let mut last_min_ready: Option<(&Replica, u64)> = None;
    // The replicas that crash (true) or become ready (false), in state order:
    // their actions are made at the end, in a list that grows once.
    let mut changes: Vec<(&Replica, bool)> = Vec::new();
    for (i, replica) in observed.replicas.iter().enumerate() {
        if replica.node.is_none()
            || !replica.phase.is_active()
            || pass.deleted.contains(&replica.name)
        {
            continue;
        }
        // Nothing becomes ready on a node that is not (node_loss handles
        // those); a node that is gone has no replica left (remove_orphans).
        let node = pass.node_of[i];
        if node == NO_NODE || !nodes[node as usize].ready {
            continue;
        }
        let Some(pod) = templates.of(&pass.catalog, replica) else {
            continue;
        };
        let started = replica.started_at.unwrap_or(replica.created_at);
        if let Some(Simulate::CrashAfter(after)) = pod.simulate {
            let crash_at = started + after;
            if crash_at <= pass.now {
                changes.push((replica, true));
                continue;
            }
            pass.plan.wake(crash_at);
        }
        if replica.ready {
            let min_ready = match last_min_ready {
                Some((previous, seconds)) if previous.workload == replica.workload => seconds,
                _ => {
                    let seconds = min_ready.get(&replica.workload).copied().unwrap_or(0);
                    last_min_ready = Some((replica, seconds));
                    seconds
                }
            };
            if let Some(at) = replica.ready_at
                && min_ready > 0
                && at + min_ready >= pass.now
            {
                pass.plan.wake(at + min_ready + 1);
            }
            continue;
        }
        if pod.simulate == Some(Simulate::NeverReady) {
            continue;
        }
        let due = started + pod.ready_after;
        if due <= pass.now {
            changes.push((replica, false));
        } else {
            pass.plan.wake(due);
        }
    }
    pass.plan.actions.reserve(changes.len());
    pass.plan
        .actions
        .extend(changes.into_iter().map(|(replica, crash)| match crash {
            true => Action::Crash {
                replica: replica.name.clone(),
                workload: replica.workload.clone(),
                restarts: replica.restarts + 1,
                backoff: backoff(replica.restarts),
            },
            false => Action::MarkReady {
                replica: replica.name.clone(),
                workload: replica.workload.clone(),
            },
        }));
}

/// A replica placed: bound to its node, and the pass woken when it is ready.
pub(super) fn bind(pass: &mut Pass, replica: &Replica, node: &Arc<str>, pod: &PodSpec) {
    pass.plan.actions.push(Action::Bind {
        replica: replica.name.clone(),
        workload: replica.workload.clone(),
        node: node.clone(),
    });
    pass.plan.wake(pass.now + pod.ready_after);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn replica(created_at: u64, workload: u8, name: u16) -> Replica {
        Replica::pending(
            format!("r{name}").into(),
            crate::model::workload::ObjectRef::new(
                crate::model::workload::Kind::Deployment,
                "default",
                &format!("w{workload}"),
            ),
            1,
            "h".into(),
            None,
            created_at,
        )
    }

    proptest! {
        /// Sorting group by group is the queue's full sort, in or out of order.
        #[test]
        fn the_queue_is_sorted_as_a_whole(
            groups in prop::collection::vec((0u64..3, 0u8..4, 1usize..5), 0..8),
            sorted_groups in any::<bool>(),
        ) {
            let mut groups = groups;
            if sorted_groups {
                groups.sort_by_key(|&(at, w, _)| (at, w));
                groups.dedup_by_key(|g| (g.0, g.1));
            }
            let mut next = 0u16;
            let replicas: Vec<Replica> = groups
                .iter()
                .flat_map(|&(at, w, n)| (0..n).map(move |k| (at, w, k)))
                .map(|(at, w, _)| {
                    // Names out of order within a group.
                    next += 7;
                    replica(at, w, next % 97)
                })
                .collect();
            let mut names: Vec<&str> = replicas.iter().map(|r| &*r.name).collect();
            names.sort_unstable();
            names.dedup();
            prop_assume!(names.len() == replicas.len());
            let mut fast: Vec<&Replica> = replicas.iter().collect();
            sort_queue(&mut fast);
            let mut full: Vec<&Replica> = replicas.iter().collect();
            full.sort_by(|a, b| {
                (a.created_at, &a.workload, &a.name).cmp(&(b.created_at, &b.workload, &b.name))
            });
            let order = |v: &[&Replica]| v.iter().map(|r| r.name.clone()).collect::<Vec<_>>();
            prop_assert_eq!(order(&fast), order(&full));
        }
    }
}
