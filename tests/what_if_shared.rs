//! Shared what-if scenarios equal scenarios run alone: on random fleets
//! (zones, hostnames, node labels, taints, pod limits) and workloads
//! (Deployments, StatefulSets, DaemonSets; requests, node selectors,
//! tolerations of taints and of not-ready nodes, readiness delays, hard and
//! soft spread, required and preferred pod (anti-)affinity; and, now and
//! then, a disruption budget or a priority, which make each scenario run
//! alone), every single-node and single-zone failure reports the same with
//! `what_if::Shared` as with `what_if::scenario` on its own copy of the base,
//! and both as a scenario run alone that diagnoses every pending pod at
//! every pass (`reconcile::Options::plain_diagnoses`: no diagnosis kept
//! from one pass to the next).

use orch::analysis::what_if::{self, Shared, WorkloadImpact};
use orch::executor::RunOptions;
use orch::manifest::{ParseOptions, parse};
use orch::model::state::State;
use orch::reconcile::Options;
use orch::scheduler::{Scheduler, ScoringStrategy};
use orch::sources::Source;
use proptest::prelude::*;
use std::fmt::Write as _;

#[derive(Debug, Clone)]
struct NodeShape {
    cpu: u32,
    ssd: bool,
    tainted: bool,
    pods: u32,
}

#[derive(Debug, Clone)]
struct Shape {
    kind: u8,
    replicas: u32,
    milli_cpu: u32,
    ssd: bool,
    tolerates_taint: bool,
    not_ready_seconds: Option<u32>,
    ready_after: u32,
    spread: u8,
    anti_affinity: bool,
    affinity_to: Option<(usize, bool)>,
    budget: bool,
    priority: bool,
}

fn node_shape() -> impl Strategy<Value = NodeShape> {
    (
        2u32..9,
        prop::bool::weighted(0.4),
        prop::bool::weighted(0.2),
        prop::sample::select(vec![3u32, 6, 110]),
    )
        .prop_map(|(cpu, ssd, tainted, pods)| NodeShape {
            cpu,
            ssd,
            tainted,
            pods,
        })
}

fn shape() -> impl Strategy<Value = Shape> {
    (
        (0u8..6, 0u32..6, 1u32..10, prop::bool::weighted(0.15)),
        (
            prop::bool::weighted(0.2),
            prop::option::weighted(0.2, 0u32..400),
            prop::sample::select(vec![0u32, 5, 40]),
            0u8..5,
        ),
        (
            prop::bool::weighted(0.15),
            prop::option::weighted(0.25, (0usize..6, any::<bool>())),
            prop::bool::weighted(0.05),
            prop::bool::weighted(0.05),
        ),
    )
        .prop_map(
            |(
                (kind, replicas, cpu, ssd),
                (tolerates_taint, not_ready_seconds, ready_after, spread),
                (anti_affinity, affinity_to, budget, priority),
            )| Shape {
                kind,
                replicas,
                milli_cpu: cpu * 100,
                ssd,
                tolerates_taint,
                not_ready_seconds,
                ready_after,
                spread,
                anti_affinity,
                affinity_to,
                budget,
                priority,
            },
        )
}

fn manifests(nodes: &[NodeShape], zones: usize, shapes: &[Shape]) -> String {
    let mut text = String::new();
    for (i, node) in nodes.iter().enumerate() {
        let name = format!("n{i:02}");
        let ssd = if node.ssd { ", disk: ssd" } else { "" };
        let taint = if node.tainted {
            "spec:\n  taints: [{key: dedicated, value: batch, effect: NoSchedule}]\n"
        } else {
            ""
        };
        let _ = write!(
            text,
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\n  labels: {{topology.kubernetes.io/zone: z{}, kubernetes.io/hostname: {name}{ssd}}}\n{taint}status:\n  allocatable: {{cpu: \"{}\", memory: 16Gi, pods: \"{}\"}}\n---\n",
            i % zones,
            node.cpu,
            node.pods
        );
    }
    if shapes.iter().any(|s| s.priority) {
        text += "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: high}\nvalue: 1000\n---\n";
    }
    for (i, shape) in shapes.iter().enumerate() {
        text += &workload(i, shape, shapes.len());
    }
    text
}

fn workload(i: usize, shape: &Shape, count: usize) -> String {
    let name = format!("w{i}");
    let mut spec = String::new();
    if shape.ssd {
        spec += "      nodeSelector: {disk: ssd}\n";
    }
    let mut tolerations = Vec::new();
    if shape.tolerates_taint {
        tolerations.push("{key: dedicated, operator: Exists, effect: NoSchedule}".to_string());
    }
    if let Some(seconds) = shape.not_ready_seconds {
        tolerations.push(format!("{{key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: {seconds}}}"));
    }
    if !tolerations.is_empty() {
        let _ = writeln!(spec, "      tolerations: [{}]", tolerations.join(", "));
    }
    let spread = match shape.spread {
        1 => Some(("topology.kubernetes.io/zone", "DoNotSchedule")),
        2 => Some(("kubernetes.io/hostname", "ScheduleAnyway")),
        3 => Some(("topology.kubernetes.io/zone", "ScheduleAnyway")),
        _ => None,
    };
    if let Some((key, when)) = spread {
        let _ = writeln!(
            spec,
            "      topologySpreadConstraints: [{{maxSkew: 1, topologyKey: {key}, whenUnsatisfiable: {when}, labelSelector: {{matchLabels: {{app: {name}}}}}}}]"
        );
    }
    let mut affinity = String::new();
    if shape.anti_affinity {
        let _ = write!(
            affinity,
            "        podAntiAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n            - {{topologyKey: kubernetes.io/hostname, labelSelector: {{matchLabels: {{app: {name}}}}}}}\n"
        );
    }
    if let Some((other, required)) = shape.affinity_to {
        let other = format!("w{}", other % count);
        if required {
            let _ = write!(
                affinity,
                "        podAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n            - {{topologyKey: topology.kubernetes.io/zone, labelSelector: {{matchLabels: {{app: {other}}}}}}}\n"
            );
        } else {
            let _ = write!(
                affinity,
                "        podAffinity:\n          preferredDuringSchedulingIgnoredDuringExecution:\n            - weight: 50\n              podAffinityTerm: {{topologyKey: kubernetes.io/hostname, labelSelector: {{matchLabels: {{app: {other}}}}}}}\n"
            );
        }
    }
    if !affinity.is_empty() {
        spec += "      affinity:\n";
        spec += &affinity;
    }
    if shape.priority {
        spec += "      priorityClassName: high\n";
    }
    let (kind, api, replicas, extra) = match shape.kind {
        0..=2 => ("Deployment", "apps/v1", true, ""),
        3 => (
            "StatefulSet",
            "apps/v1",
            true,
            "  serviceName: svc\n  podManagementPolicy: Parallel\n",
        ),
        4 => ("StatefulSet", "apps/v1", true, "  serviceName: svc\n"),
        _ => ("DaemonSet", "apps/v1", false, ""),
    };
    let replicas = if replicas {
        format!("  replicas: {}\n", shape.replicas)
    } else {
        String::new()
    };
    let mut text = format!(
        "apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {name}\nspec:\n{replicas}{extra}  selector:\n    matchLabels: {{app: {name}}}\n  template:\n    metadata:\n      labels: {{app: {name}}}\n      annotations: {{orch.dev/ready-after: {}s}}\n    spec:\n{spec}      containers:\n        - name: main\n          image: example/{name}:1\n          resources:\n            requests: {{cpu: {}m, memory: 256Mi}}\n---\n",
        shape.ready_after, shape.milli_cpu
    );
    if shape.budget {
        let _ = write!(
            text,
            "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: {name}\nspec:\n  minAvailable: 1\n  selector:\n    matchLabels: {{app: {name}}}\n---\n"
        );
    }
    text
}

fn cases() -> u32 {
    std::env::var("ORCH_EQUIVALENCE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40)
}

/// The property on one random fleet; whether the scenarios were shared.
fn check(
    nodes: &[NodeShape],
    zones: usize,
    shapes: &[Shape],
    most_allocated: bool,
) -> Result<bool, TestCaseError> {
    let text = manifests(nodes, zones, shapes);
    let sources = [Source {
        name: "fleet.yaml".into(),
        text: text.clone(),
    }];
    let desired = match parse(&sources, &ParseOptions::default()) {
        Ok(loaded) => loaded.desired,
        Err(diagnostics) => panic!("bad manifests: {diagnostics:?}\n{text}"),
    };
    let scheduler = Scheduler::new(if most_allocated {
        ScoringStrategy::MostAllocated
    } else {
        ScoringStrategy::LeastAllocated
    });
    let options = RunOptions::default();
    let base = what_if::prepare(&desired, State::default(), &[], &[], &scheduler, &options)
        .expect("a base");
    let shared = Shared::new(&base, &scheduler, &options);
    let mut scenarios: Vec<Vec<String>> = base
        .state
        .nodes
        .iter()
        .map(|n| vec![n.name.clone()])
        .collect();
    scenarios.extend(
        what_if::zones(&base.state)
            .iter()
            .map(|z| what_if::nodes_in_zone(&base.state, z)),
    );
    let plain = RunOptions {
        reconcile: Options {
            plain_diagnoses: true,
            ..Options::default()
        },
        ..RunOptions::default()
    };
    for failed in &scenarios {
        let alone = what_if::scenario(&base, failed, &scheduler, &plain);
        prop_assert_eq!(
            what_if::scenario(&base, failed, &scheduler, &options),
            alone.clone(),
            "{:?} with diagnoses kept from pass to pass\n{}",
            failed,
            text
        );
        prop_assert_eq!(
            shared.scenario(failed),
            alone.clone(),
            "{:?} shared: {:?}\n{}",
            failed,
            shared.shared(),
            text
        );
        let mut touched = alone;
        touched.workloads.retain(WorkloadImpact::affected);
        prop_assert_eq!(shared.scenario_of(failed, false), touched);
    }
    Ok(shared.shared().is_ok())
}

#[test]
fn shared_what_if_is_what_if_alone() {
    let strategy = (
        prop::collection::vec(node_shape(), 1..8),
        1usize..4,
        prop::collection::vec(shape(), 1..6),
        prop::bool::weighted(0.3),
    );
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: cases(),
        ..ProptestConfig::default()
    });
    let (shared, alone) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
    let outcome = runner.run(&strategy, |(nodes, zones, shapes, most_allocated)| {
        let counter = if check(&nodes, zones, &shapes, most_allocated)? {
            &shared
        } else {
            &alone
        };
        counter.set(counter.get() + 1);
        Ok(())
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
    // The fast path is what is tested: most fleets must take it.
    assert!(
        shared.get() * 2 >= shared.get() + alone.get(),
        "{} fleets shared, {} alone",
        shared.get(),
        alone.get()
    );
}
