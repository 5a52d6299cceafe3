//! The replicas already bound, accounted on their nodes before a pass
//! places anything: oldest first, so that a replica that no longer fits
//! next to the older ones is drift.

use super::carry::Holdings;
use super::{Templates, replica_pod};
use crate::model::pod::PodSpec;
use crate::model::resources::Resources;
use crate::model::state::{NodeState, State};
use crate::reconcile::{DeleteReason, Pass};
use crate::scheduler::plugins::NodeResourcesFit;
use crate::scheduler::snapshot::{NodeInfo, Snapshot};
use crate::scheduler::{CycleState, FilterPlugin, ScoringStrategy};
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// Why a bound replica cannot stay where it is, if it cannot: its node no
/// longer matches its selector or affinity, or lacks room for it next to the
/// replicas already accounted there.
#[cfg(test)]
fn drift(pod: &PodSpec, info: &NodeInfo) -> Option<String> {
    selector_drift(pod, info).or_else(|| room_drift(pod, info))
}

/// `drift`'s first half: the node no longer matches the replica's selector
/// or affinity (whatever else is on the node).
pub(super) fn selector_drift(pod: &PodSpec, info: &NodeInfo) -> Option<String> {
    let node = &info.name;
    (!pod.matches_node_selector(node, &info.labels))
        .then(|| format!("{node} does not match its node selector or affinity"))
}

/// `drift`'s second half: the node lacks room for the replica next to those
/// accounted there.
fn room_drift(pod: &PodSpec, info: &NodeInfo) -> Option<String> {
    let node = &info.name;
    let fit = NodeResourcesFit {
        strategy: ScoringStrategy::LeastAllocated,
    };
    fit.filter(pod, info, &CycleState::default())
        .err()
        .map(|reasons| {
            let reasons: Vec<String> = reasons.iter().map(ToString::to_string).collect();
            format!("{node} has no room for it ({})", reasons.join(", "))
        })
}

/// Every bound replica accounted on its node, oldest first (by creation,
/// then name): a replica that does not fit next to the older ones is drift,
/// deleted so that it is placed again.
///
/// Whether a replica fits next to the older ones depends on the order only
/// on a node whose replicas together exceed what it has room for (requests
/// only add up), so the replicas are accounted in the state's order, and
/// only such a node's are accounted again one by one, oldest first
/// (`account_in_order` is the reference: `accounting_is_oldest_first`).
///
/// A run's later passes on the same fleet start from what the pass before
/// accounted (`carry`), and put back what they account.
pub(super) fn account_oldest_first(
    pass: &mut Pass,
    nodes: &[NodeState],
    bound: Vec<usize>,
) -> Snapshot {
    let carry = pass.carry.clone().filter(|_| pass.background.is_none());
    let Some(carry) = carry else {
        return account_anew(pass, nodes, bound).0;
    };
    let mut kept = carry.take();
    let carried = kept
        .as_mut()
        .and_then(|kept| super::carry::account(pass, nodes, &bound, kept));
    let kept = match (carried, kept) {
        (Some(drifted), Some(mut kept)) => {
            delete_drift(pass, drifted);
            kept.generation = pass.observed.generation;
            kept
        }
        _ => match account_anew(pass, nodes, bound) {
            (snapshot, Some(held)) => super::carry::Accounted {
                generation: pass.observed.generation,
                nodes: nodes.to_vec(),
                snapshot,
                held,
            },
            (snapshot, None) => return snapshot,
        },
    };
    let snapshot = kept.snapshot.clone();
    carry.put(kept);
    snapshot
}

/// Drift is deleted in the order it is met oldest first.
fn delete_drift(pass: &mut Pass, mut drifted: Vec<(usize, String)>) {
    let observed = pass.observed;
    drifted.sort_unstable_by(|&(a, _), &(b, _)| oldest_first(observed, a, b));
    for (i, why) in drifted {
        pass.delete(&observed.replicas[i], DeleteReason::Drift(why));
    }
}

/// `account_oldest_first` from an empty fleet (or the background), and what
/// it holds per node and template, for the next pass to start from (None
/// when a replica's requests are negative: those are accounted anew).
fn account_anew(
    pass: &mut Pass,
    nodes: &[NodeState],
    bound: Vec<usize>,
) -> (Snapshot, Option<Holdings>) {
    let observed = pass.observed;
    let mut snapshot = match &pass.background {
        Some(background) => background.snapshot(nodes),
        None => Snapshot::new(nodes),
    };
    // What each node holds before this pass's replicas (a background's).
    let start: Vec<(Resources, Resources, i64)> = snapshot
        .nodes
        .iter()
        .map(|n| (n.requested.clone(), n.non_zero_requested.clone(), n.pods))
        .collect();
    let mut templates = Templates { last: None };
    // The templates met, numbered, with their groups.
    let mut numbers: FxHashMap<*const PodSpec, u32> = FxHashMap::default();
    let mut met: Vec<(Arc<PodSpec>, usize)> = Vec::new();
    let mut last: Option<(*const PodSpec, u32)> = None;
    let mut drifted: Vec<(usize, String)> = Vec::new();
    // Replicas accounted, in the state's order: (replica, node, group), and
    // each one's template number.
    let mut accounted: Vec<(usize, usize, usize)> = Vec::with_capacity(bound.len());
    let mut templates_of: Vec<u32> = Vec::with_capacity(bound.len());
    let mut negative = vec![false; snapshot.nodes.len()];
    for i in bound {
        let replica = &observed.replicas[i];
        let Some(template) = templates.of(&pass.catalog, replica) else {
            continue;
        };
        let index = pass.node_of[i] as usize;
        let pod = replica_pod(template, replica);
        // A pod orch does not manage is never moved: it is where it is.
        if !replica.is_unmanaged()
            && let Some(why) = selector_drift(&pod, &snapshot.nodes[index])
        {
            drifted.push((i, why));
            continue;
        }
        // (Replicas of one revision mostly come together in the state.)
        let number = match last {
            Some((pod, number)) if std::ptr::eq(pod, Arc::as_ptr(template)) => number,
            _ => {
                let number = *numbers.entry(Arc::as_ptr(template)).or_insert_with(|| {
                    met.push((template.clone(), snapshot.group_of(template)));
                    (met.len() - 1) as u32
                });
                last = Some((Arc::as_ptr(template), number));
                number
            }
        };
        let group = met[number as usize].1;
        negative[index] |= pod.requests.has_negative();
        snapshot.assume_in(index, &pod, group);
        accounted.push((i, index, group));
        templates_of.push(number);
    }
    // The nodes where the order may matter: over their room in all.
    let over: Vec<bool> = snapshot
        .nodes
        .iter()
        .map(|info| negative[info.index] || !within_room(info))
        .collect();
    let mut room_drift_met: rustc_hash::FxHashSet<usize> = Default::default();
    if over.iter().any(|&o| o) {
        let again = Over {
            over: &over,
            start: &start,
        };
        for (i, why) in again.account_again(pass, &mut snapshot, &accounted) {
            room_drift_met.insert(i);
            drifted.push((i, why));
        }
    }
    delete_drift(pass, drifted);
    let keep = pass.carry.is_some() && pass.background.is_none();
    let held = match keep && !negative.iter().any(|&n| n) {
        true => {
            let replicas = accounted
                .iter()
                .zip(templates_of)
                .filter(|((i, ..), _)| !room_drift_met.contains(i))
                .map(|(&(_, node, _), number)| (node as u32, number))
                .collect();
            Some(Holdings::new(replicas, met))
        }
        false => None,
    };
    (snapshot, held)
}

/// The nodes over their room, and what each held before this pass's
/// replicas.
struct Over<'a> {
    over: &'a [bool],
    start: &'a [(Resources, Resources, i64)],
}

impl Over<'_> {
    /// The replicas `accounted` (replica, node, group) on the nodes over
    /// their room accounted again one by one, oldest first; those that no
    /// longer fit, with why.
    fn account_again(
        &self,
        pass: &Pass,
        snapshot: &mut Snapshot,
        accounted: &[(usize, usize, usize)],
    ) -> Vec<(usize, String)> {
        let observed = pass.observed;
        let mut again: FxHashMap<usize, Vec<(usize, usize)>> = FxHashMap::default();
        for &(i, index, group) in accounted {
            if self.over[index] {
                again.entry(index).or_default().push((i, group));
            }
        }
        let mut again: Vec<_> = again.into_iter().collect();
        again.sort_unstable_by_key(|(index, _)| *index);
        let mut drifted = Vec::new();
        for (index, mut replicas) in again {
            let info = &mut snapshot.nodes[index];
            (info.requested, info.non_zero_requested, info.pods) = self.start[index].clone();
            for &(_, group) in &replicas {
                snapshot.uncount_in_group(group, index);
            }
            replicas.sort_unstable_by(|&(a, _), &(b, _)| oldest_first(observed, a, b));
            for (i, group) in replicas {
                let replica = &observed.replicas[i];
                let Some(template) = pass.catalog.pod(&replica.workload, &replica.hash) else {
                    continue;
                };
                let pod = replica_pod(template, replica);
                match replica.is_unmanaged() {
                    false => match room_drift(&pod, &snapshot.nodes[index]) {
                        Some(why) => drifted.push((i, why)),
                        None => snapshot.assume_in(index, &pod, group),
                    },
                    true => snapshot.assume_in(index, &pod, group),
                }
            }
        }
        drifted
    }
}

/// Replicas `a` and `b` of `observed` by creation, then name (names are
/// unique: an unstable sort gives the one order).
fn oldest_first(observed: &State, a: usize, b: usize) -> std::cmp::Ordering {
    let (a, b) = (&observed.replicas[a], &observed.replicas[b]);
    (a.created_at, &a.name).cmp(&(b.created_at, &b.name))
}

/// Whether everything accounted on the node fits its room: then each of its
/// replicas fits next to any of the others (`NodeResourcesFit`'s checks on
/// amounts that only add up).
pub(super) fn within_room(info: &NodeInfo) -> bool {
    let (room, used) = (&info.allocatable.resources, &info.requested);
    info.pods <= info.allocatable.pods
        && used.milli_cpu <= room.milli_cpu
        && used.memory <= room.memory
        && used.ephemeral_storage <= room.ephemeral_storage
        && used
            .scalar
            .iter()
            .all(|(name, &amount)| amount <= room.get(name))
}

/// The reference for `account_oldest_first`: every bound replica accounted
/// one by one, oldest first; the snapshot and the drift found, in order.
#[cfg(test)]
pub(super) fn account_in_order(
    pass: &Pass,
    nodes: &[NodeState],
    mut bound: Vec<usize>,
) -> (Snapshot, Vec<(String, String)>) {
    let observed = pass.observed;
    let mut snapshot = match &pass.background {
        Some(background) => background.snapshot(nodes),
        None => Snapshot::new(nodes),
    };
    bound.sort_unstable_by(|&a, &b| oldest_first(observed, a, b));
    let mut drifted = Vec::new();
    for i in bound {
        let replica = &observed.replicas[i];
        let Some(template) = pass.catalog.pod(&replica.workload, &replica.hash) else {
            continue;
        };
        let index = pass.node_of[i] as usize;
        let pod = replica_pod(template, replica);
        let drifted_from = match replica.is_unmanaged() {
            true => None,
            false => drift(&pod, &snapshot.nodes[index]),
        };
        match drifted_from {
            Some(why) => drifted.push((replica.name.to_string(), why)),
            None => {
                let group = snapshot.group_of(template);
                snapshot.assume_in(index, &pod, group);
            }
        }
    }
    (snapshot, drifted)
}

#[cfg(test)]
mod tests;
