//! cluster-autoscaler's decisions on small fleets: the binpacking estimate
//! (`estimator/binpacking_estimator_test.go`'s shape: identical pods packed
//! onto as few template nodes as fit, capped by the limit), the least-waste
//! expander (`expander/waste/waste_test.go`: the option wasting less cpu and
//! memory wins), and the scale-down simulation's blockers
//! (`simulator/drain_test.go`: not replicated, local storage, PDB).

use super::*;
use crate::model::labels::Labels;
use crate::model::pod::{Taint, TaintEffect};
use crate::model::resources::Allocatable;
use crate::scheduler::ScoringStrategy;

fn pod(cpu: &str, memory: &str) -> PodSpec {
    let yaml = format!(
        "spec:\n  containers:\n    - name: c\n      resources:\n        requests: {{cpu: \"{cpu}\", memory: \"{memory}\"}}\n"
    );
    let template: serde_json::Value = serde_saphyr::from_str(&yaml).unwrap();
    crate::manifest::pod_spec_from_template("default", &template).unwrap()
}

fn spec(name: &str, cpu: &str, memory: &str) -> NodeSpec {
    let mut map = std::collections::BTreeMap::new();
    map.insert("cpu".to_string(), cpu.to_string());
    map.insert("memory".to_string(), memory.to_string());
    map.insert("pods".to_string(), "110".to_string());
    NodeSpec {
        name: name.into(),
        labels: Labels::new(),
        taints: Vec::new(),
        unschedulable: false,
        allocatable: Allocatable::from_map(&map).unwrap(),
    }
}

fn group(name: &str, cpu: &str, memory: &str, max: u32) -> NodeGroup {
    NodeGroup {
        name: name.into(),
        min_size: 0,
        max_size: max,
        provision_delay: DEFAULT_PROVISION_DELAY,
        template: spec("", cpu, memory),
    }
}

fn scheduler() -> Scheduler {
    Scheduler::new(ScoringStrategy::LeastAllocated)
}

/// The fleet's snapshot with `placed` pods (node name, pod) accounted.
fn snapshots(placed: Vec<(&'static str, PodSpec)>) -> impl Fn(&[NodeState]) -> Snapshot {
    move |nodes: &[NodeState]| {
        let mut snapshot = Snapshot::new(nodes);
        for (node, pod) in &placed {
            if let Some(i) = snapshot.index_of(node) {
                snapshot.assume(i, pod);
            }
        }
        snapshot
    }
}

const EMPTY: GroupSize = GroupSize {
    target: 0,
    next_member: 0,
};

#[test]
fn identical_pods_pack_onto_as_few_template_nodes_as_fit() {
    let pods: Vec<PodSpec> = (0..5).map(|_| pod("1500m", "1Gi")).collect();
    let pods: Vec<&PodSpec> = pods.iter().collect();
    let general = group("general", "4", "16Gi", 10);
    let of = snapshots(vec![]);
    let estimate = estimate(&scheduler(), &[], &general, EMPTY, &pods, 10, &of);
    assert_eq!(estimate.node_count, 3);
    assert_eq!(estimate.pods, vec![0, 1, 2, 3, 4]);
    let capped = super::estimate(&scheduler(), &[], &general, EMPTY, &pods, 2, &of);
    assert_eq!((capped.node_count, capped.pods.len()), (2, 4));
}

#[test]
fn least_waste_prefers_the_group_whose_nodes_the_pods_fill() {
    let pods: Vec<PodSpec> = (0..2).map(|_| pod("1500m", "6Gi")).collect();
    let pods: Vec<&PodSpec> = pods.iter().collect();
    let groups = vec![
        group("big", "16", "64Gi", 5),
        group("small", "4", "16Gi", 5),
    ];
    let of = snapshots(vec![]);
    let up = scale_up(&scheduler(), &[], &groups, &[EMPTY, EMPTY], &pods, &of).unwrap();
    assert_eq!(
        (groups[up.group].name.as_str(), up.from, up.to),
        ("small", 0, 1)
    );
    assert_eq!(up.pods, vec![0, 1]);
}

#[test]
fn a_template_the_pod_does_not_tolerate_takes_nothing() {
    let mut gpu = group("gpu", "8", "32Gi", 3);
    gpu.template.taints = vec![Taint::new("gpu", "true", TaintEffect::NoSchedule)];
    let pending = pod("1", "1Gi");
    let of = snapshots(vec![]);
    let groups = vec![gpu];
    assert_eq!(
        scale_up(&scheduler(), &[], &groups, &[EMPTY], &[&pending], &of),
        None
    );
    let why = why_not(&scheduler(), &[], &groups, &[EMPTY], &pending, &of);
    match &why[0] {
        Some(NoScaleUp::Filtered(reasons)) => assert_eq!(
            reasons[0].to_string(),
            "node(s) had untolerated taint {gpu: true}"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_group_at_its_max_size_is_not_estimated() {
    let general = group("general", "4", "16Gi", 2);
    let full = GroupSize {
        target: 2,
        next_member: 2,
    };
    let pending = pod("1", "1Gi");
    let of = snapshots(vec![]);
    let groups = vec![general];
    assert_eq!(
        scale_up(&scheduler(), &[], &groups, &[full], &[&pending], &of),
        None
    );
    assert_eq!(
        why_not(&scheduler(), &[], &groups, &[full], &pending, &of),
        vec![Some(NoScaleUp::MaxSizeReached)]
    );
}

#[test]
fn new_members_continue_the_numbering() {
    let general = group("general", "4", "16Gi", 5);
    let size = GroupSize {
        target: 1,
        next_member: 7,
    };
    let pods = [pod("3", "1Gi"), pod("3", "1Gi")];
    let pods: Vec<&PodSpec> = pods.iter().collect();
    let existing = new_node(&general.member(6));
    let of = snapshots(vec![("general-6", pod("3", "1Gi"))]);
    let estimate = estimate(&scheduler(), &[existing], &general, size, &pods, 4, &of);
    assert_eq!(estimate.node_count, 2);
    assert_eq!(general.member(size.next_member).name, "general-7");
}

#[test]
fn utilization_is_the_larger_share_of_cpu_and_memory() {
    let node = spec("n", "4", "16Gi");
    let mut requested = Resources::default();
    requested.add(&pod("1", "12Gi").requests);
    assert_eq!(utilization(&node.allocatable.resources, &requested), 0.75);
    let mut light = Resources::default();
    light.add(&pod("1", "2Gi").requests);
    assert_eq!(utilization(&node.allocatable.resources, &light), 0.25);
}

fn on_node<'a>(name: &'a str, pod: &'a PodSpec) -> PodOnNode<'a> {
    PodOnNode {
        name,
        pod,
        replicated: true,
        daemon: false,
        local_storage: false,
        system: false,
        safe_to_evict: None,
        blocking_budget: None,
    }
}

#[test]
fn a_node_whose_pods_fit_elsewhere_can_go_and_blockers_say_why_not() {
    let others = vec![new_node(&spec("b", "4", "16Gi"))];
    let small = pod("1", "1Gi");
    let huge = pod("6", "1Gi");
    let of = snapshots(vec![]);
    let s = scheduler();
    assert_eq!(
        removable(&s, &others, &[on_node("api-1", &small)], &of),
        Ok(())
    );
    let daemon = PodOnNode {
        daemon: true,
        replicated: false,
        ..on_node("agent-x", &huge)
    };
    assert_eq!(removable(&s, &others, &[daemon], &of), Ok(()));
    let bare = PodOnNode {
        replicated: false,
        ..on_node("debug", &small)
    };
    assert_eq!(
        removable(&s, &others, &[bare], &of),
        Err(Blocker::NotReplicated("debug".into()))
    );
    let stored = PodOnNode {
        local_storage: true,
        ..on_node("cache-0", &small)
    };
    assert_eq!(
        removable(&s, &others, &[stored], &of),
        Err(Blocker::LocalStorage("cache-0".into()))
    );
    let budgeted = PodOnNode {
        blocking_budget: Some("PodDisruptionBudget/default/api".into()),
        ..on_node("api-1", &small)
    };
    assert_eq!(
        removable(&s, &others, &[budgeted], &of)
            .unwrap_err()
            .to_string(),
        "pod api-1 is protected by PodDisruptionBudget/default/api, which allows no disruption"
    );
    assert_eq!(
        removable(&s, &others, &[on_node("batch-1", &huge)], &of),
        Err(Blocker::NoPlaceToMove("batch-1".into()))
    );
    // Two pods that fit one at a time but not together: the second has nowhere to go.
    let three = pod("3", "1Gi");
    assert_eq!(
        removable(
            &s,
            &others,
            &[on_node("a", &three), on_node("b", &three)],
            &of
        ),
        Err(Blocker::NoPlaceToMove("b".into()))
    );
}

#[test]
fn removal_waits_ten_unneeded_minutes_and_ten_after_a_scale_up() {
    assert!(!may_remove(100, None, 699));
    assert!(may_remove(100, None, 700));
    assert!(!may_remove(100, Some(200), 700));
    assert!(may_remove(100, Some(200), 800));
}

#[test]
fn scale_up_messages_read_as_cluster_autoscaler_writes_them() {
    let groups = vec![group("general", "4", "16Gi", 6)];
    let up = ScaleUp {
        group: 0,
        from: 2,
        to: 4,
        pods: vec![0],
    };
    assert_eq!(
        triggered_scale_up_message(&groups, &up),
        "pod triggered scale-up: [{general 2->4 (max: 6)}]"
    );
    let mut gpu = group("gpu", "8", "32Gi", 3);
    gpu.template.taints = vec![Taint::new("gpu", "true", TaintEffect::NoSchedule)];
    let pending = pod("1", "1Gi");
    let groups = vec![group("general", "4", "16Gi", 2), gpu.clone(), gpu];
    let full = GroupSize {
        target: 2,
        next_member: 2,
    };
    let why = why_not(
        &scheduler(),
        &[],
        &groups,
        &[full, EMPTY, EMPTY],
        &pending,
        &snapshots(vec![]),
    );
    assert_eq!(
        not_triggered_message(&why).unwrap(),
        "pod didn't trigger scale-up: 1 max node group size reached, 2 node(s) had untolerated taint {gpu: true}"
    );
    assert_eq!(
        not_triggered_message(&[None, Some(NoScaleUp::MaxSizeReached)]),
        None
    );
}
