//! The fast path makes exactly the placements of the plainest scheduler.
//!
//! The reference here rescans everything: for every replica it builds the
//! snapshot from nothing (the fleet, then every replica placed so far) and
//! runs kube-scheduler's filter → score → select over every node. The fast
//! path (`Batch`) schedules a run of identical replicas sharing work between
//! them. On random fleets — zones, hosts, classes, taints, cordons, tight pod
//! limits — and random pods — requests, selectors, node affinity, tolerations,
//! spread constraints (hard and soft, zone and hostname, minDomains,
//! inclusion policies), the system default spreading, required and preferred
//! (anti-)affinity, pod affinity — every result must be identical: the node,
//! the score, the number of feasible nodes, or the exact FitError.

use orch::manifest::pod_spec_from_template;
use orch::model::pod::{PodSpec, Taint, TaintEffect};
use orch::model::resources::Allocatable;
use orch::model::state::{NodeSource, NodeState};
use orch::scheduler::batch::Batch;
use orch::scheduler::snapshot::Snapshot;
use orch::scheduler::{FitError, Placement, Scheduler, ScoringStrategy};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;

const ZONE: &str = "topology.kubernetes.io/zone";
const HOSTNAME: &str = "kubernetes.io/hostname";

#[derive(Debug, Clone)]
struct NodeShape {
    zone: Option<u8>,
    hostname: bool,
    class: u8,
    cpu: i64,
    pods: i64,
    taint: u8,
    unschedulable: bool,
}

fn node_shape(zones: u8) -> impl Strategy<Value = NodeShape> {
    (
        prop::option::weighted(0.92, 0..zones),
        prop::bool::weighted(0.95),
        0u8..3,
        prop::sample::select(vec![1000i64, 2000, 4000, 8000]),
        prop::sample::select(vec![3i64, 8, 110]),
        0u8..6,
        prop::bool::weighted(0.05),
    )
        .prop_map(
            |(zone, hostname, class, cpu, pods, taint, unschedulable)| NodeShape {
                zone,
                hostname,
                class,
                cpu,
                pods,
                taint,
                unschedulable,
            },
        )
}

fn node(i: usize, shape: &NodeShape) -> NodeState {
    let name = format!("n{i:02}");
    let mut labels = BTreeMap::from([("class".to_string(), format!("c{}", shape.class))]);
    if shape.hostname {
        labels.insert(HOSTNAME.into(), name.clone());
    }
    if let Some(zone) = shape.zone {
        labels.insert(ZONE.into(), format!("z{zone}"));
    }
    let mut allocatable = BTreeMap::from([
        ("cpu".to_string(), format!("{}m", shape.cpu)),
        ("memory".to_string(), "16Gi".to_string()),
        ("pods".to_string(), shape.pods.to_string()),
    ]);
    if shape.taint == 0 {
        allocatable.insert("nvidia.com/gpu".to_string(), "2".to_string());
    }
    let taints = match shape.taint {
        0 => vec![Taint::new("gpu", "true", TaintEffect::NoSchedule)],
        1 => vec![Taint::new("spot", "true", TaintEffect::PreferNoSchedule)],
        _ => Vec::new(),
    };
    NodeState {
        name,
        labels,
        allocatable: Allocatable::from_map(&allocatable).unwrap(),
        taints,
        unschedulable: shape.unschedulable,
        cordoned: false,
        draining: false,
        removing: false,
        not_ready_since: None,
        ready: true,
        conditions: Vec::new(),
        source: NodeSource::Manifest,
    }
}

#[derive(Debug, Clone)]
struct PodShape {
    app: u8,
    namespace: bool,
    cpu: i64,
    class: Option<u8>,
    preferred_class: Option<(u8, i32)>,
    tolerate: bool,
    spread: Vec<(bool, bool, i32, Option<i32>, bool)>,
    defaults: bool,
    anti: Option<(bool, bool)>,
    preferred_anti: Option<(bool, i32, bool)>,
    preferred_affinity: Option<(u8, i32)>,
    affinity: Option<u8>,
    /// Selectors as `app In [...]` (0: matchLabels, 1: one value, 2: two values).
    selector_form: u8,
    /// Pinned to one node by `metadata.name`, as a DaemonSet replica is.
    pin: Option<u8>,
}

fn pod_shape() -> impl Strategy<Value = PodShape> {
    (
        (
            0u8..4,
            prop::bool::weighted(0.15),
            prop::sample::select(vec![0i64, 100, 250, 500, 1500]),
            prop::option::weighted(0.2, 0u8..3),
            prop::option::weighted(0.25, (0u8..3, 1i32..100)),
            prop::bool::weighted(0.2),
        ),
        (
            prop::collection::vec(
                (
                    any::<bool>(),
                    any::<bool>(),
                    1i32..4,
                    prop::option::weighted(0.2, 1i32..5),
                    prop::bool::weighted(0.2),
                ),
                0..3,
            ),
            prop::bool::weighted(0.6),
            prop::option::weighted(0.25, (any::<bool>(), prop::bool::weighted(0.8))),
            prop::option::weighted(0.25, (any::<bool>(), 1i32..100, prop::bool::weighted(0.8))),
            prop::option::weighted(0.15, (0u8..4, 1i32..100)),
            prop::option::weighted(0.05, 0u8..4),
        ),
        (0u8..3, prop::option::weighted(0.1, 0u8..40)),
    )
        .prop_map(
            |(
                (app, namespace, cpu, class, preferred_class, tolerate),
                (spread, defaults, anti, preferred_anti, preferred_affinity, affinity),
                (selector_form, pin),
            )| PodShape {
                app,
                namespace,
                cpu,
                class,
                preferred_class,
                tolerate,
                spread,
                defaults,
                anti,
                preferred_anti,
                preferred_affinity,
                affinity,
                selector_form,
                pin,
            },
        )
}

fn app_selector(app: u8, form: u8) -> Value {
    match form {
        0 => json!({"matchLabels": {"app": format!("a{app}")}}),
        1 => {
            json!({"matchExpressions": [{"key": "app", "operator": "In", "values": [format!("a{app}")]}]})
        }
        _ => {
            json!({"matchExpressions": [{"key": "app", "operator": "In", "values": [format!("a{app}"), format!("a{}", (app + 1) % 4)]}]})
        }
    }
}

fn pod(shape: &PodShape) -> PodSpec {
    let mut spec = json!({
        "containers": [{"name": "c", "resources": {"requests": {"cpu": format!("{}m", shape.cpu), "memory": "256Mi"}}}],
    });
    if let Some(class) = shape.class {
        spec["nodeSelector"] = json!({"class": format!("c{class}")});
    }
    if let Some((class, weight)) = shape.preferred_class {
        let term = |weight: i32, class: u8| json!({"weight": weight, "preference": {"matchExpressions": [{"key": "class", "operator": "In", "values": [format!("c{class}")]}]}});
        let mut terms = vec![term(weight, class)];
        // Odd weights: a second term of another weight, so that weights
        // matter after normalization.
        if weight % 2 == 1 {
            terms.push(term(weight * 7 % 100 + 1, (class + 1) % 3));
        }
        spec["affinity"]["nodeAffinity"] =
            json!({"preferredDuringSchedulingIgnoredDuringExecution": terms});
    }
    if let Some(node) = shape.pin {
        spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = json!({
            "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [format!("n{node:02}")]}]}]
        });
    }
    if shape.tolerate && shape.app == 3 {
        spec["containers"][0]["resources"]["limits"] = json!({"nvidia.com/gpu": "1"});
    }
    if shape.tolerate {
        spec["tolerations"] = json!([{"key": "gpu", "operator": "Exists"}, {"key": "spot", "operator": "Exists", "effect": "PreferNoSchedule"}]);
    }
    let mut seen = std::collections::HashSet::new();
    let constraints: Vec<Value> = shape
        .spread
        .iter()
        .filter(|(zone, hard, ..)| seen.insert((*zone, *hard)))
        .map(|(zone, hard, max_skew, min_domains, honor_taints)| {
            let mut c = json!({
                "maxSkew": max_skew,
                "topologyKey": if *zone { ZONE } else { HOSTNAME },
                "whenUnsatisfiable": if *hard { "DoNotSchedule" } else { "ScheduleAnyway" },
                "labelSelector": app_selector(shape.app, shape.selector_form),
            });
            if *hard && let Some(min) = min_domains {
                c["minDomains"] = json!(min);
            }
            if *honor_taints {
                c["nodeTaintsPolicy"] = json!("Honor");
            }
            c
        })
        .collect();
    if !constraints.is_empty() {
        spec["topologySpreadConstraints"] = Value::Array(constraints);
    }
    let key = |zone: bool| if zone { ZONE } else { HOSTNAME };
    if let Some((zone, own)) = shape.anti {
        let app = if own { shape.app } else { (shape.app + 1) % 4 };
        spec["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = json!([{"topologyKey": key(zone), "labelSelector": app_selector(app, shape.selector_form)}]);
    }
    if let Some((zone, weight, own)) = shape.preferred_anti {
        let app = if own { shape.app } else { (shape.app + 2) % 4 };
        spec["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"] = json!([
            {"weight": weight, "podAffinityTerm": {"topologyKey": key(zone), "labelSelector": app_selector(app, shape.selector_form)}}
        ]);
    }
    if let Some((app, weight)) = shape.preferred_affinity {
        spec["affinity"]["podAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"] = json!([
            {"weight": weight, "podAffinityTerm": {"topologyKey": ZONE, "labelSelector": app_selector(app, shape.selector_form)}}
        ]);
    }
    if let Some(app) = shape.affinity {
        spec["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] =
            json!([{"topologyKey": ZONE, "labelSelector": app_selector(app, shape.selector_form)}]);
    }
    let labels = json!({"app": format!("a{}", shape.app), "tier": if shape.app.is_multiple_of(2) { "web" } else { "batch" }});
    let template = json!({"metadata": {"labels": labels}, "spec": spec});
    let namespace = if shape.namespace { "other" } else { "default" };
    let mut pod = pod_spec_from_template(namespace, &template).unwrap_or_else(|d| {
        panic!(
            "{}",
            d.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    if shape.defaults {
        pod.owner_selector = Some(
            serde_json::from_value(json!({"matchLabels": {"app": format!("a{}", shape.app), "pod-template-hash": "h"}}))
                .unwrap(),
        );
    }
    pod
}

/// The plainest scheduler: a snapshot rebuilt from nothing for every replica.
fn reference(
    scheduler: &Scheduler,
    nodes: &[NodeState],
    placed: &[(usize, PodSpec)],
    pod: &PodSpec,
) -> Result<Placement, FitError> {
    let mut snapshot = Snapshot::new(nodes);
    for (node, placed_pod) in placed {
        snapshot.assume(*node, placed_pod);
    }
    scheduler.schedule(pod, &snapshot)
}

fn check(
    strategy: ScoringStrategy,
    nodes: &[NodeState],
    runs: &[(PodShape, usize)],
    coarse_limit: usize,
) -> Result<(), TestCaseError> {
    let scheduler = Scheduler::new(strategy);
    let mut snapshot = Snapshot::new(nodes);
    // A low limit makes hostname-like keys fine on these small fleets, as
    // they are on large ones.
    let mut batch = Batch::new(&scheduler, &snapshot).with_coarse_limit(coarse_limit);
    let mut placed: Vec<(usize, PodSpec)> = Vec::new();
    for (r, (shape, count)) in runs.iter().enumerate() {
        let pod = pod(shape);
        let mut fast = Vec::new();
        batch.run(&pod, &mut snapshot, *count, |result| fast.push(result));
        prop_assert_eq!(fast.len(), *count);
        for (i, result) in fast.into_iter().enumerate() {
            let expected = reference(&scheduler, nodes, &placed, &pod);
            prop_assert_eq!(&result, &expected, "run {} ({:?}), replica {}", r, shape, i);
            if let Ok(placement) = expected {
                placed.push((placement.node, pod.clone()));
            }
        }
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("ORCH_EQUIVALENCE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(96)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn the_fast_path_places_exactly_as_the_reference(
        zones in 1u8..5,
        fleet in (3usize..30).prop_flat_map(|n| prop::collection::vec(node_shape(4), n)),
        runs in prop::collection::vec((pod_shape(), 1usize..14), 1..7),
        most_allocated in prop::bool::weighted(0.2),
        coarse_limit in prop::sample::select(vec![32usize, 4, 0]),
    ) {
        let nodes: Vec<NodeState> = fleet
            .iter()
            .enumerate()
            .map(|(i, shape)| {
                let mut shape = shape.clone();
                shape.zone = shape.zone.map(|z| z % zones);
                node(i, &shape)
            })
            .collect();
        let strategy = if most_allocated { ScoringStrategy::MostAllocated } else { ScoringStrategy::LeastAllocated };
        check(strategy, &nodes, &runs, coarse_limit)?;
    }
}

/// Many nodes per host label value and more than the coarse limit of zones:
/// fine domains shared by several nodes.
#[test]
fn fine_domains_shared_by_several_nodes_agree() {
    let nodes: Vec<NodeState> = (0..80)
        .map(|i| {
            let mut n = node(
                i,
                &NodeShape {
                    zone: Some((i % 40) as u8),
                    hostname: true,
                    class: (i % 3) as u8,
                    cpu: 4000,
                    pods: 110,
                    taint: 5,
                    unschedulable: false,
                },
            );
            // Pairs of nodes share a hostname label value.
            n.labels.insert(HOSTNAME.into(), format!("h{}", i / 2));
            n
        })
        .collect();
    let shape = PodShape {
        app: 1,
        namespace: false,
        cpu: 250,
        class: None,
        preferred_class: None,
        tolerate: false,
        spread: vec![(true, true, 1, None, false), (false, true, 2, None, false)],
        defaults: true,
        anti: None,
        preferred_anti: Some((false, 50, true)),
        preferred_affinity: None,
        affinity: None,
        selector_form: 0,
        pin: None,
    };
    let anti = PodShape {
        app: 2,
        anti: Some((false, true)),
        spread: Vec::new(),
        ..shape.clone()
    };
    check(
        ScoringStrategy::LeastAllocated,
        &nodes,
        &[(shape, 120), (anti, 50)],
        32,
    )
    .unwrap();
}
