//! Invariants of placement on random fleets, through the whole loop: no node
//! over its allocatable, no DoNotSchedule spread above maxSkew, no required
//! anti-affinity violated, and the same input always gives the same placement.

use orch::executor::{self, RunOptions};
use orch::model::labels::{LabelSelector, Labels};
use orch::model::pod::{
    Affinity, PodAffinity, PodAffinityTerm, PodSpec, TopologySpreadConstraint, WhenUnsatisfiable,
};
use orch::model::resources::{Allocatable, Resources};
use orch::model::state::State;
use orch::model::workload::{
    Desired, IntOrPercent, Kind, NodeSpec, ObjectRef, Strategy as Rollout, Workload,
};
use orch::scheduler::{Scheduler, ScoringStrategy};
use proptest::prelude::*;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};

const ZONE: &str = "topology.kubernetes.io/zone";
const HOSTNAME: &str = "kubernetes.io/hostname";

fn node(i: usize, zones: usize, milli_cpu: i64) -> NodeSpec {
    let name = format!("n{i:02}");
    let mut allocatable = Allocatable::default();
    allocatable.resources.milli_cpu = milli_cpu;
    allocatable.resources.memory = 64 << 30;
    NodeSpec {
        labels: Labels::from([
            (HOSTNAME.into(), name.clone()),
            (ZONE.into(), format!("z{}", i % zones)),
        ]),
        name,
        taints: Vec::new(),
        unschedulable: false,
        allocatable,
    }
}

#[derive(Debug, Clone)]
struct Shape {
    replicas: i32,
    milli_cpu: i64,
    spread: Option<i32>,
    anti_affinity: bool,
}

fn workload(i: usize, shape: &Shape) -> Workload {
    let name = format!("w{i}");
    let labels = Labels::from([("app".to_string(), name.clone())]);
    let selector = LabelSelector {
        match_labels: labels.clone(),
        match_expressions: Vec::new(),
    };
    let requests = Resources {
        milli_cpu: shape.milli_cpu,
        memory: 1 << 20,
        ..Default::default()
    };
    let mut pod = PodSpec {
        namespace: "default".into(),
        labels: labels.clone(),
        requests: requests.clone(),
        non_zero_requests: requests,
        ready_after: 1,
        ..Default::default()
    };
    if let Some(max_skew) = shape.spread {
        pod.topology_spread_constraints
            .push(TopologySpreadConstraint {
                max_skew,
                topology_key: ZONE.into(),
                when_unsatisfiable: WhenUnsatisfiable::DoNotSchedule,
                label_selector: Some(selector.clone()),
                min_domains: None,
                node_affinity_policy: None,
                node_taints_policy: None,
                match_label_keys: Vec::new(),
            });
    }
    if shape.anti_affinity {
        pod.affinity = Affinity {
            pod_anti_affinity: Some(PodAffinity {
                required_during_scheduling_ignored_during_execution: vec![PodAffinityTerm {
                    label_selector: Some(selector.clone()),
                    topology_key: HOSTNAME.into(),
                    ..Default::default()
                }],
                preferred_during_scheduling_ignored_during_execution: Vec::new(),
            }),
            ..Default::default()
        };
    }
    let template = json!({"name": name, "spread": shape.spread, "anti": shape.anti_affinity, "cpu": shape.milli_cpu});
    Workload {
        id: ObjectRef::new(Kind::Deployment, "default", &name),
        labels,
        replicas: shape.replicas,
        selector,
        template_hash: orch::model::hash::template_hash(&template).into(),
        template: template.clone().into(),
        pod,
        strategy: Rollout::RollingUpdate {
            max_surge: IntOrPercent::Percent(25),
            max_unavailable: IntOrPercent::Percent(25),
        },
        min_ready_seconds: 0,
        progress_deadline_seconds: 600,
        revision_history_limit: 10,
        paused: false,
        depends_on: Vec::new(),
        manifest: template.into(),
        source: None,
        stateful: None,
        job: None,
    }
}

fn shapes() -> impl Strategy<Value = Vec<Shape>> {
    prop::collection::vec(
        (0i32..9, 1i64..20, prop::option::of(1i32..3), any::<bool>()).prop_map(
            |(replicas, cpu, spread, anti_affinity)| Shape {
                replicas,
                milli_cpu: cpu * 100,
                spread,
                anti_affinity,
            },
        ),
        1..5,
    )
}

fn run(desired: &Desired) -> State {
    let mut state = State::default();
    let scheduler = Scheduler::new(ScoringStrategy::LeastAllocated);
    executor::run(
        desired,
        &mut state,
        &scheduler,
        &RunOptions::default(),
        |_, _| Ok::<(), ()>(()),
    )
    .unwrap();
    state
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn placement_respects_capacity_spread_and_anti_affinity(
        node_cpus in prop::collection::vec(1i64..8, 1..9),
        zones in 1usize..4,
        shapes in shapes(),
    ) {
        let desired = Desired {
            nodes: node_cpus.iter().enumerate().map(|(i, cpu)| node(i, zones, cpu * 1000)).collect(),
            workloads: shapes.iter().enumerate().map(|(i, s)| workload(i, s)).collect(),
            ..Default::default()
        };
        let state = run(&desired);
        let zone_of: HashMap<&str, &str> = desired.nodes.iter().map(|n| (n.name.as_str(), n.labels[ZONE].as_str())).collect();
        // No node over its allocatable.
        for node in &desired.nodes {
            let used: i64 = state
                .replicas
                .iter()
                .filter(|r| r.node.as_deref() == Some(node.name.as_str()))
                .map(|r| desired.workloads.iter().find(|w| w.id == r.workload).unwrap().pod.requests.milli_cpu)
                .sum();
            prop_assert!(used <= node.allocatable.resources.milli_cpu, "{} over-committed", node.name);
        }
        for (workload, shape) in desired.workloads.iter().zip(&shapes) {
            let placed: Vec<&str> = state
                .replicas
                .iter()
                .filter(|r| r.workload == workload.id)
                .filter_map(|r| r.node.as_deref())
                .collect();
            // No DoNotSchedule spread above maxSkew (every zone is a domain).
            if let Some(max_skew) = shape.spread {
                let mut per_zone: BTreeMap<&str, i32> = zone_of.values().map(|z| (*z, 0)).collect();
                for node in &placed {
                    *per_zone.get_mut(zone_of[node]).unwrap() += 1;
                }
                let (min, max) = (per_zone.values().min().unwrap(), per_zone.values().max().unwrap());
                prop_assert!(max - min <= max_skew, "{}: zones {per_zone:?} skew above {max_skew}", workload.id);
            }
            // No required anti-affinity violated: one replica per node.
            if shape.anti_affinity {
                let mut seen = std::collections::HashSet::new();
                for node in &placed {
                    prop_assert!(seen.insert(*node), "{}: two replicas on {node}", workload.id);
                }
            }
        }
        // Same input, same placement.
        prop_assert_eq!(run(&desired), state);
    }
}
