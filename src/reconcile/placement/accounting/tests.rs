use super::*;
use crate::analysis::fixtures::{DAEMONSET, converged, deployment, desired};
use crate::reconcile::{Action, begin, with_pass};
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
fn changed(ssd: &[bool], shrink: &[u32], relabel: &[bool], workloads: &[(u8, u8, bool)]) -> String {
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
        let (mut pass, nodes_before) = begin(&declared, &fleet, &state, 0, &options);
        account_oldest_first(&mut pass, &nodes_before, bound(&state));
        let (mut pass, nodes_later) = begin(&declared, &fleet, &later, 0, &options);
        let kept = account_oldest_first(&mut pass, &nodes_later, bound(&later));
        let reference = with_pass(&fleet, &later, |pass, nodes| {
            account_in_order(pass, nodes, bound(&later)).0
        });
        prop_assert_eq!(nodes(&kept), nodes(&reference));
        prop_assert_eq!(groups(&kept), groups(&reference));
    }
}
