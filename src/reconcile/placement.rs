//! Placement and readiness: every replica that needs a node goes through the
//! scheduler against a snapshot that already holds every placed replica;
//! bound replicas become ready once their readiness delay has passed.

use super::daemonset::daemon_pod;
use super::{Action, Catalog, DeleteReason, Pass};
use crate::model::pod::{PodSpec, Simulate};
use crate::model::state::{NodeState, Phase, Replica, State};
use crate::scheduler::batch::Batch;
use crate::scheduler::plugins::NodeResourcesFit;
use crate::scheduler::snapshot::Snapshot;
use crate::scheduler::{CycleState, FilterPlugin, Scheduler, ScoringStrategy};
use rustc_hash::FxHashMap;
use std::borrow::Cow;
use std::sync::Arc;

pub(super) fn place(pass: &mut Pass, nodes: &[NodeState], scheduler: &Scheduler) {
    let mut snapshot = Snapshot::new(nodes);
    let observed = pass.observed;
    let mut waiting: Vec<&Replica> = Vec::new();
    let mut bound: Vec<&Replica> = Vec::new();
    for replica in &observed.replicas {
        if pass.deleted.contains(&replica.name) || replica.phase == Phase::Terminating {
            continue;
        }
        match &replica.node {
            Some(_) => bound.push(replica),
            None => waiting.push(replica),
        }
    }
    // Older replicas keep their place; one that no longer fits where the
    // state says it runs (an edit by hand) is drift, corrected by moving it.
    // (Names are unique: the unstable sort gives the same order.)
    bound.sort_unstable_by(|a, b| (a.created_at, &a.name).cmp(&(b.created_at, &b.name)));
    let fit = NodeResourcesFit {
        strategy: ScoringStrategy::LeastAllocated,
    };
    // Replicas of one template share its pod and its replica group (a
    // DaemonSet's per-node pods differ only in node affinity, which groups ignore).
    let mut last: Option<(&Replica, Arc<PodSpec>)> = None;
    let mut groups: FxHashMap<*const PodSpec, usize> = FxHashMap::default();
    for replica in bound {
        let template = match &last {
            Some((previous, template))
                if previous.hash == replica.hash && previous.workload == replica.workload =>
            {
                Some(template.clone())
            }
            _ => pass.catalog.pod(&replica.workload, &replica.hash).cloned(),
        };
        let (Some(node), Some(template)) = (replica.node.as_deref(), template) else {
            continue;
        };
        last = Some((replica, template.clone()));
        let Some(index) = snapshot.index_of(node) else {
            continue;
        };
        let pod = replica_pod(&template, replica);
        let info = &snapshot.nodes[index];
        let drift = if !pod.matches_node_selector(&info.name, &info.labels) {
            Some(format!(
                "{node} does not match its node selector or affinity"
            ))
        } else {
            fit.filter(&pod, info, &CycleState::default())
                .err()
                .map(|reasons| {
                    let reasons: Vec<String> = reasons.iter().map(ToString::to_string).collect();
                    format!("{node} has no room for it ({})", reasons.join(", "))
                })
        };
        match drift {
            Some(why) => pass.delete(replica, DeleteReason::Drift(why)),
            None => {
                let group = *groups
                    .entry(Arc::as_ptr(&template))
                    .or_insert_with(|| snapshot.group_of(&template));
                snapshot.assume_in(index, &pod, group);
            }
        }
    }
    let created = std::mem::take(&mut pass.created);
    waiting.extend(created.iter());
    // The scheduling queue: oldest first, then by workload and name.
    waiting.sort_by(|a, b| {
        (a.created_at, &a.workload, &a.name).cmp(&(b.created_at, &b.workload, &b.name))
    });
    // Runs of identical replicas (one workload revision) are scheduled together:
    // the same placements as one at a time, with the shared work done once.
    let node_names: Vec<String> = snapshot.nodes.iter().map(|n| n.name.clone()).collect();
    let mut batch = Batch::new(scheduler, &snapshot);
    let mut start = 0;
    while start < waiting.len() {
        let first = waiting[start];
        let mut end = start + 1;
        while end < waiting.len()
            && waiting[end].workload == first.workload
            && waiting[end].hash == first.hash
            && waiting[end].target_node.is_none()
            && first.target_node.is_none()
        {
            end += 1;
        }
        let run = &waiting[start..end];
        start = end;
        let Some(template) = pass.catalog.pod(&first.workload, &first.hash) else {
            continue;
        };
        let pod = replica_pod(template, first);
        let mut replicas = run.iter();
        batch.run(&pod, &mut snapshot, run.len(), |result| {
            let replica = replicas.next().expect("one result per replica");
            match result {
                Ok(placement) => {
                    pass.plan.actions.push(Action::Bind {
                        replica: replica.name.clone(),
                        workload: replica.workload.clone(),
                        node: node_names[placement.node].clone(),
                    });
                    pass.plan.wake(pass.now + pod.ready_after);
                }
                Err(error) => {
                    let message = error.to_string();
                    if replica.reason.as_deref() != Some(message.as_str()) {
                        pass.plan.actions.push(Action::FailedScheduling {
                            replica: replica.name.clone(),
                            workload: replica.workload.clone(),
                            message,
                        });
                    }
                }
            }
        });
    }
    pass.created = created;
}

/// The pod a replica runs: its template, pinned to its node for a DaemonSet replica.
fn replica_pod<'a>(template: &'a PodSpec, replica: &Replica) -> Cow<'a, PodSpec> {
    match &replica.target_node {
        Some(target) => Cow::Owned(daemon_pod(template, target)),
        None => Cow::Borrowed(template),
    }
}

/// A revision's scheduling view and its replica group in a snapshot.
type PodAndGroup<'a> = (&'a Arc<PodSpec>, usize);

/// The scheduler's view of `state` as it stands: every node, with every bound
/// replica that is not terminating (but `except`) accounted on its node —
/// what the next replica to be placed would meet.
pub fn occupied_snapshot(state: &State, catalog: &Catalog, except: Option<&str>) -> Snapshot {
    let mut snapshot = Snapshot::new(&state.nodes);
    // Replicas of one revision are mostly adjacent: their pod and group are
    // looked up once per run of them, not once per replica.
    let mut last: Option<(&Replica, Option<PodAndGroup>)> = None;
    for replica in &state.replicas {
        if Some(replica.name.as_str()) == except || replica.phase == Phase::Terminating {
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
    let not_ready: std::collections::HashSet<&str> = nodes
        .iter()
        .filter(|n| !n.ready)
        .map(|n| n.name.as_str())
        .collect();
    let min_ready: std::collections::HashMap<_, _> = pass
        .desired
        .workloads
        .iter()
        .map(|w| (&w.id, w.min_ready_seconds))
        .collect();
    let observed = pass.observed;
    for replica in &observed.replicas {
        if pass.deleted.contains(&replica.name) || replica.node.is_none() {
            continue;
        }
        // Nothing becomes ready on a node that is not (node_loss handles those).
        if replica
            .node
            .as_deref()
            .is_some_and(|n| not_ready.contains(n))
        {
            continue;
        }
        let Some(pod) = pass.catalog.pod(&replica.workload, &replica.hash) else {
            continue;
        };
        let started = replica.started_at.unwrap_or(replica.created_at);
        if let Some(Simulate::CrashAfter(after)) = pod.simulate {
            let crash_at = started + after;
            if crash_at <= pass.now {
                pass.plan.actions.push(Action::Crash {
                    replica: replica.name.clone(),
                    workload: replica.workload.clone(),
                    restarts: replica.restarts + 1,
                    backoff: backoff(replica.restarts),
                });
                continue;
            }
            pass.plan.wake(crash_at);
        }
        if replica.ready {
            let min_ready = min_ready.get(&replica.workload).copied().unwrap_or(0);
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
            pass.plan.actions.push(Action::MarkReady {
                replica: replica.name.clone(),
                workload: replica.workload.clone(),
            });
        } else {
            pass.plan.wake(due);
        }
    }
}
