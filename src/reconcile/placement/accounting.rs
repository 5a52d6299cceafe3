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
mod tests {
    use super::*;
    use crate::analysis::fixtures::{DAEMONSET, converged, deployment, desired};
    use crate::reconcile::{Action, with_pass, with_run_pass};
    use proptest::prelude::*;

    fn fleet(cpus: &[u32], ssd: &[bool], workloads: &[(u8, u8, bool)]) -> String {
        let mut text = String::new();
        for (i, (&cpu, &ssd)) in cpus.iter().zip(ssd).enumerate() {
            let disk = if ssd { ", disk: ssd" } else { "" };
            text.push_str(&format!(
                "apiVersion: v1\nkind: Node\nmetadata:\n  name: n{i}\n  labels: {{topology.kubernetes.io/zone: z{}{disk}}}\nstatus:\n  allocatable: {{cpu: \"{cpu}\", memory: 16Gi, pods: \"110\"}}\n---\n",
                i % 2
            ));
        }
        for (w, &(replicas, cpu, on_ssd)) in workloads.iter().enumerate() {
            let selector = if on_ssd {
                "      nodeSelector: {disk: ssd}\n"
            } else {
                ""
            };
            let cpu = format!("{}m", 250 * u32::from(cpu));
            text.push_str(&deployment(
                &format!("w{w}"),
                i32::from(replicas),
                &cpu,
                selector,
            ));
        }
        text.push_str(DAEMONSET);
        text
    }

    /// The fleet's manifests with nodes shrunk to `shrink` cpus and the
    /// `relabel`ed ones' disks swapped.
    fn changed(
        ssd: &[bool],
        shrink: &[u32],
        relabel: &[bool],
        workloads: &[(u8, u8, bool)],
    ) -> String {
        let cpus: Vec<u32> = shrink.iter().take(ssd.len()).copied().collect();
        let ssd: Vec<bool> = ssd.iter().zip(relabel).map(|(&s, &r)| s != r).collect();
        fleet(&cpus, &ssd, workloads)
    }

    /// The fleet's manifests with the workloads `rolled` marks on a new image.
    fn rolled_out(mut text: String, rolled: &[bool]) -> String {
        for (w, _) in rolled.iter().enumerate().filter(|(_, r)| **r) {
            text = text.replace(&format!("example/w{w}:1"), &format!("example/w{w}:2"));
        }
        text
    }

    /// A group as a comparable value: who it is, where its replicas are.
    fn groups(snapshot: &Snapshot) -> Vec<String> {
        let mut groups: Vec<String> = snapshot
            .groups
            .iter()
            .filter(|g| g.total > 0)
            .map(|g| {
                format!(
                    "{}/{:?}: {:?} {}",
                    g.namespace, g.labels, g.per_node, g.total
                )
            })
            .collect();
        groups.sort();
        groups
    }

    fn nodes(snapshot: &Snapshot) -> Vec<String> {
        snapshot
            .nodes
            .iter()
            .map(|n| {
                format!(
                    "{} {:?} {:?} {}",
                    n.name, n.requested, n.non_zero_requested, n.pods
                )
            })
            .collect()
    }

    /// The replicas the pass deleted as drift, with why, in order.
    fn drift_deleted(pass: &Pass) -> Vec<(String, String)> {
        pass.plan
            .actions
            .iter()
            .filter_map(|a| match a {
                Action::Delete {
                    replica,
                    reason: DeleteReason::Drift(why),
                    ..
                } => Some((replica.to_string(), why.clone())),
                _ => None,
            })
            .collect()
    }

    /// A view accounted before the state's last step, or on another
    /// fleet, is no view of the state as it stands.
    #[test]
    fn only_the_state_last_accounted_is_settled() {
        let desired = desired(&fleet(&[4, 4, 4], &[true, false, true], &[(3, 1, false)]));
        let mut state = converged(&desired);
        let options = crate::reconcile::Options::default().for_run();
        let declared = crate::reconcile::Declared::new(&desired);
        let scheduler = crate::scheduler::Scheduler::new(ScoringStrategy::LeastAllocated);
        let carry = options.carry.clone().expect("a run carries its accounting");
        let pass = |state: &State| {
            crate::reconcile::reconcile_with(&declared, &desired, state, 0, &scheduler, &options)
        };
        assert!(pass(&state).actions.is_empty());
        state.generation += 1;
        assert!(carry.settled(&state).is_none(), "a step was taken since");
        pass(&state);
        let mut fleet = state.clone();
        fleet.nodes[0].unschedulable = true;
        assert!(carry.settled(&fleet).is_none(), "the fleet changed since");
        pass(&state);
        assert!(carry.settled(&state).is_some());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// `account_oldest_first` accounts what one by one, oldest first,
        /// accounts, and finds the same drift in the same order, on a
        /// converged fleet whose nodes then shrink and lose labels.
        #[test]
        fn accounting_is_oldest_first(
            ssd in prop::collection::vec(any::<bool>(), 3..6),
            shrink in prop::collection::vec(1u32..=4, 6),
            relabel in prop::collection::vec(any::<bool>(), 6),
            workloads in prop::collection::vec((1u8..6, 1u8..6, any::<bool>()), 1..5),
            ages in prop::collection::vec(0u64..3, 40),
        ) {
            let before = desired(&fleet(&vec![4; ssd.len()], &ssd, &workloads));
            let mut state = converged(&before);
            // Replicas of several ages, names out of their creation order.
            for (replica, &age) in state.replicas.iter_mut().zip(ages.iter().cycle()) {
                replica.created_at = age;
            }
            let after = desired(&changed(&ssd, &shrink, &relabel, &workloads));
            let bound: Vec<usize> = (0..state.replicas.len())
                .filter(|&i| state.replicas[i].node.is_some())
                .collect();
            let ((reference, drift), (fast, deleted)) = with_pass(&after, &state, |pass, nodes| {
                let reference = account_in_order(pass, nodes, bound.clone());
                let fast = account_oldest_first(pass, nodes, bound.clone());
                let deleted = drift_deleted(pass);
                (reference, (fast, deleted))
            });
            prop_assert_eq!(deleted, drift);
            prop_assert_eq!(nodes(&fast), nodes(&reference));
            prop_assert_eq!(groups(&fast), groups(&reference));
        }

        /// The view a run hands the audit (`Carry::settled`) is the one
        /// `occupied_snapshot` makes of the state the run ended on: from a
        /// state converged on one fleet, a run on the fleet changed (nodes
        /// shrunk or relabeled: drift placed again) and some templates
        /// rolled out ends with the same nodes and groups either way.
        #[test]
        fn settled_is_occupied(
            ssd in prop::collection::vec(any::<bool>(), 3..6),
            shrink in prop::collection::vec(1u32..=4, 6),
            relabel in prop::collection::vec(any::<bool>(), 6),
            workloads in prop::collection::vec((1u8..6, 1u8..6, any::<bool>()), 1..5),
            rolled in prop::collection::vec(any::<bool>(), 5),
            change in any::<bool>(),
        ) {
            let before = desired(&fleet(&vec![4; ssd.len()], &ssd, &workloads));
            let mut state = converged(&before);
            let after = match change {
                true => changed(&ssd, &shrink, &relabel, &workloads),
                false => fleet(&vec![4; ssd.len()], &ssd, &workloads),
            };
            let after = desired(&rolled_out(after, &rolled));
            let scheduler = crate::scheduler::Scheduler::new(ScoringStrategy::LeastAllocated);
            let options = crate::executor::RunOptions::default();
            let ran = crate::executor::run(&after, &mut state, &scheduler, &options, |_, _| {
                Ok::<(), ()>(())
            });
            let result = ran.expect("the loop runs");
            // Only a run whose last step was taken before its last pass has one.
            let last_pass_acted = result.steps.len() >= crate::executor::MAX_STEPS;
            prop_assert!(result.settled.is_some() || last_pass_acted || result.outcome == crate::executor::Outcome::Blocked);
            if let Some(settled) = &result.settled {
                let catalog = crate::reconcile::Catalog::build(&after, &state);
                let occupied = super::super::occupied_snapshot(&state, &catalog, None);
                prop_assert_eq!(nodes(settled), nodes(&occupied));
                prop_assert_eq!(groups(settled), groups(&occupied));
            }
        }

        /// An accounting carried from an earlier one (of some of the bound
        /// replicas, on the same fleet) accounts what accounting anew does
        /// and finds the same drift: replicas gone, new, drifted, on nodes
        /// that shrank (where it accounts anew) or lost labels.
        #[test]
        fn accounting_carried_is_accounting_anew(
            ssd in prop::collection::vec(any::<bool>(), 3..6),
            shrink in prop::collection::vec(1u32..=4, 6),
            relabel in prop::collection::vec(any::<bool>(), 6),
            workloads in prop::collection::vec((1u8..6, 1u8..6, any::<bool>()), 1..5),
            earlier in prop::collection::vec(any::<bool>(), 40),
            now in prop::collection::vec(any::<bool>(), 40),
            change in any::<bool>(),
        ) {
            let before = desired(&fleet(&vec![4; ssd.len()], &ssd, &workloads));
            let state = converged(&before);
            let after = match change {
                true => desired(&changed(&ssd, &shrink, &relabel, &workloads)),
                false => before.clone(),
            };
            let some = |mask: &[bool]| -> Vec<usize> {
                (0..state.replicas.len())
                    .filter(|&i| state.replicas[i].node.is_some() && mask[i % mask.len()])
                    .collect()
            };
            let (earlier, now) = (some(&earlier), some(&now));
            let ((reference, drift), (carried, deleted)) = with_pass(&after, &state, |pass, nodes| {
                let reference = account_in_order(pass, nodes, now.clone());
                pass.carry = Some(Default::default());
                account_oldest_first(pass, nodes, earlier.clone());
                pass.plan.actions.clear();
                pass.deleted.clear();
                let carried = account_oldest_first(pass, nodes, now.clone());
                let deleted = drift_deleted(pass);
                (reference, (carried, deleted))
            });
            prop_assert_eq!(deleted, drift);
            prop_assert_eq!(nodes(&carried), nodes(&reference));
            prop_assert_eq!(groups(&carried), groups(&reference));
        }

        /// A later pass whose bound replicas are those the last one
        /// accounted (same nodes, same templates, same order) keeps its
        /// accounting as it is; one where some moved (another node of the
        /// same fleet) or were swapped brings it up to date. Either way it
        /// accounts what accounting anew does.
        #[test]
        fn accounting_kept_is_accounting_anew(
            ssd in prop::collection::vec(any::<bool>(), 3..6),
            workloads in prop::collection::vec((1u8..6, 1u8..4, any::<bool>()), 1..5),
            moved in prop::collection::vec(0usize..8, 0..3),
            swapped in any::<bool>(),
        ) {
            let fleet = desired(&fleet(&vec![8; ssd.len()], &ssd, &workloads));
            let state = converged(&fleet);
            // Only a replica the scheduler placed can be somewhere else; a
            // DaemonSet's is bound to the node it was made for.
            let mut later = state.clone();
            let movable: Vec<usize> = (0..later.replicas.len())
                .filter(|&i| later.replicas[i].target_node.is_none())
                .collect();
            for &m in moved.iter().filter(|_| !movable.is_empty()) {
                let i = movable[m % movable.len()];
                let to = format!("n{}", (m + 1) % ssd.len());
                later.replicas[i].node = Some(to.as_str().into());
            }
            if let (true, Some(&a), Some(&b)) = (swapped, movable.first(), movable.last()) {
                let (to_a, to_b) = (later.replicas[b].node.clone(), later.replicas[a].node.clone());
                (later.replicas[a].node, later.replicas[b].node) = (to_a, to_b);
            }
            let bound = |state: &State| -> Vec<usize> {
                (0..state.replicas.len())
                    .filter(|&i| state.replicas[i].node.is_some())
                    .collect()
            };
            // Two passes of one run: the same declared pods, the same carry.
            let declared = crate::reconcile::Declared::new(&fleet);
            let options = crate::reconcile::Options::default().for_run();
            with_run_pass(&declared, &options, &fleet, &state, |pass, nodes| {
                account_oldest_first(pass, nodes, bound(&state));
            });
            let (reference, kept) = with_run_pass(&declared, &options, &fleet, &later, |pass, nodes| {
                let reference = with_pass(&fleet, &later, |pass, nodes| {
                    account_in_order(pass, nodes, bound(&later)).0
                });
                (reference, account_oldest_first(pass, nodes, bound(&later)))
            });
            prop_assert_eq!(nodes(&kept), nodes(&reference));
            prop_assert_eq!(groups(&kept), groups(&reference));
        }
    }
}
