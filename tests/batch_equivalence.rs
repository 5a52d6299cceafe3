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
//! (anti-)affinity, pod affinity, extended resources, replicas pinned to a
//! node as DaemonSet replicas are (with the DaemonSet tolerations), claims
//! (bound to a node's or a zone's volume, waiting for a first consumer,
//! unbound, missing, in use) — every
//! result must be identical: the node, the score, the number of feasible
//! nodes, or the exact FitError.
//!
//! The batch layer calls the profile's plugins, so a profile with plugins
//! it has never heard of is checked the same way: test-only filter and
//! score plugins join the default profile, and the two paths still agree
//! with no change to the batch code.

use orch::manifest::pod_spec_from_template;
use orch::model::labels::NodeSelector;
use orch::model::pod::{PodSpec, Taint, TaintEffect};
use orch::model::resources::Allocatable;
use orch::model::state::{NodeSource, NodeState};
use orch::model::storage::VolumeConstraint;
use orch::scheduler::batch::{Batch, PlainReason};
use orch::scheduler::snapshot::{NodeInfo, Snapshot};
use orch::scheduler::{
    CycleState, FilterPlugin, FitError, Placement, Reads, Reason, Scheduler, ScorePlugin,
    ScoringStrategy, Signature,
};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;

const ZONE: &str = "topology.kubernetes.io/zone";
const HOSTNAME: &str = "kubernetes.io/hostname";

#[derive(Debug, Clone)]
pub(crate) struct NodeShape {
    pub(crate) zone: Option<u8>,
    hostname: bool,
    class: u8,
    cpu: i64,
    pods: i64,
    taint: u8,
    unschedulable: bool,
}

pub(crate) fn node_shape(zones: u8) -> impl Strategy<Value = NodeShape> {
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

pub(crate) fn node(i: usize, shape: &NodeShape) -> NodeState {
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
pub(crate) struct PodShape {
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
    /// With the DaemonSet controller's default tolerations.
    daemon: bool,
    /// A required node affinity expression: class NotIn [c<n>].
    not_class: Option<u8>,
    /// What the pod's claims allow (VolumeBinding, VolumeZone,
    /// VolumeRestrictions): see `volumes`.
    volumes: Option<(u8, u8)>,
}

pub(crate) fn pod_shape() -> impl Strategy<Value = PodShape> {
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
        (
            0u8..3,
            prop::option::weighted(0.1, 0u8..40),
            prop::bool::weighted(0.1),
            prop::option::weighted(0.1, 0u8..3),
            prop::option::weighted(0.15, (0u8..7, 0u8..12)),
        ),
    )
        .prop_map(
            |(
                (app, namespace, cpu, class, preferred_class, tolerate),
                (spread, defaults, anti, preferred_anti, preferred_affinity, affinity),
                (selector_form, pin, daemon, not_class, volumes),
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
                daemon,
                not_class,
                volumes,
            },
        )
}

/// A claim constraint of each kind, bound or reachable from node or zone `target`.
fn volumes(kind: u8, target: u8) -> Vec<VolumeConstraint> {
    let selector = |key: &str, value: String| -> NodeSelector {
        serde_json::from_value(json!({"nodeSelectorTerms": [{"matchExpressions": [{"key": key, "operator": "In", "values": [value]}]}]}))
            .unwrap()
    };
    let node = format!("n{:02}", target);
    let zone = format!("z{}", target % 3);
    vec![match kind {
        0 => VolumeConstraint::Bound {
            node_affinity: Some(selector(HOSTNAME, node)),
            zones: None,
        },
        1 => VolumeConstraint::Bound {
            node_affinity: None,
            zones: Some(vec![zone]),
        },
        2 => VolumeConstraint::Delayed {
            candidates: vec![Some(selector(ZONE, zone)), Some(selector(HOSTNAME, node))],
            provision: None,
        },
        3 => VolumeConstraint::Delayed {
            candidates: Vec::new(),
            provision: Some(target.is_multiple_of(2).then(|| selector(ZONE, zone))),
        },
        4 => VolumeConstraint::UnboundImmediate,
        5 => VolumeConstraint::Missing("data".into()),
        _ => VolumeConstraint::InUseReadWriteOncePod,
    }]
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

pub(crate) fn pod(shape: &PodShape) -> PodSpec {
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
    } else if let Some(class) = shape.not_class {
        spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = json!({
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "class", "operator": "NotIn", "values": [format!("c{class}")]}]}]
        });
    }
    if shape.tolerate && shape.app == 3 {
        spec["containers"][0]["resources"]["limits"] = json!({"nvidia.com/gpu": "1"});
    }
    if shape.tolerate {
        spec["tolerations"] = json!([{"key": "gpu", "operator": "Exists"}, {"key": "spot", "operator": "Exists", "effect": "PreferNoSchedule"}]);
    }
    if shape.daemon {
        // `util.AddOrUpdateDaemonPodTolerations`.
        let mut tolerations = spec["tolerations"].as_array().cloned().unwrap_or_default();
        for (key, effect) in [
            ("node.kubernetes.io/not-ready", "NoExecute"),
            ("node.kubernetes.io/unreachable", "NoExecute"),
            ("node.kubernetes.io/disk-pressure", "NoSchedule"),
            ("node.kubernetes.io/memory-pressure", "NoSchedule"),
            ("node.kubernetes.io/pid-pressure", "NoSchedule"),
            ("node.kubernetes.io/unschedulable", "NoSchedule"),
        ] {
            tolerations.push(json!({"key": key, "operator": "Exists", "effect": effect}));
        }
        spec["tolerations"] = Value::Array(tolerations);
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
    if let Some((kind, target)) = shape.volumes {
        pod.volumes = volumes(kind, target);
    }
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

/// DefaultPreemption for `pod` on the batch's snapshot and on the
/// reference's (rebuilt from `placed`): the same victims, applied to both.
fn preempt(
    scheduler: &Scheduler,
    nodes: &[NodeState],
    placed: &mut Vec<(usize, PodSpec)>,
    snapshot: &mut Snapshot,
    pod: &PodSpec,
) -> Result<bool, TestCaseError> {
    use orch::scheduler::preemption::{Occupant, Occupants, Outcome};
    let mut occupants = Occupants::new(nodes.len());
    for (key, (node, placed_pod)) in placed.iter().enumerate() {
        occupants.add(
            *node,
            Occupant {
                key,
                priority: placed_pod.priority,
                start: key as u64,
                pod: std::sync::Arc::new(placed_pod.clone()),
                budgets: Vec::new(),
            },
        );
    }
    let mut fresh = Snapshot::new(nodes);
    for (node, placed_pod) in placed.iter() {
        fresh.assume(*node, placed_pod);
    }
    let expected = scheduler.preempt(pod, &mut fresh, &occupants, &[]);
    let actual = scheduler.preempt(pod, snapshot, &occupants, &[]);
    prop_assert_eq!(&actual, &expected);
    let Outcome::Preempt(victims) = actual else {
        return Ok(false);
    };
    for &key in &victims.keys {
        snapshot.forget(victims.node, &placed[key].1);
    }
    let mut keys = victims.keys.clone();
    keys.sort_unstable();
    for key in keys.into_iter().rev() {
        placed.remove(key);
    }
    snapshot.assume(victims.node, pod);
    placed.push((victims.node, pod.clone()));
    Ok(true)
}

fn check(
    strategy: ScoringStrategy,
    nodes: &[NodeState],
    runs: &[(PodShape, usize)],
    coarse_limit: usize,
) -> Result<(), TestCaseError> {
    check_with(&Scheduler::new(strategy), nodes, runs, coarse_limit).map(|_| ())
}

/// The two paths agree under `scheduler`'s profile; the batch's counts.
fn check_with(
    scheduler: &Scheduler,
    nodes: &[NodeState],
    runs: &[(PodShape, usize)],
    coarse_limit: usize,
) -> Result<orch::scheduler::batch::Stats, TestCaseError> {
    let mut snapshot = Snapshot::new(nodes);
    // A low limit makes hostname-like keys fine on these small fleets, as
    // they are on large ones.
    let mut batch = Batch::new(scheduler, &snapshot).with_coarse_limit(coarse_limit);
    let mut placed: Vec<(usize, PodSpec)> = Vec::new();
    let mut stats = orch::scheduler::batch::Stats::default();
    for (r, (shape, count)) in runs.iter().enumerate() {
        let mut pod = pod(shape);
        // Priorities by app: later runs may preempt earlier ones.
        pod.priority = i32::from(shape.app) * 100;
        let mut fast = Vec::new();
        batch.run(&pod, &mut snapshot, *count, |result| fast.push(result));
        prop_assert_eq!(fast.len(), *count);
        // The verdicts the batch diagnosed with (its leading filters'
        // failures kept per signature) are the plain path's, node by node.
        if let Some(verdicts) = batch.take_verdicts() {
            prop_assert_eq!(verdicts, scheduler.verdicts(&pod, &snapshot));
        }
        for (i, result) in fast.into_iter().enumerate() {
            let expected = reference(scheduler, nodes, &placed, &pod);
            prop_assert_eq!(&result, &expected, "run {} ({:?}), replica {}", r, shape, i);
            match expected {
                Ok(placement) => placed.push((placement.node, pod.clone())),
                Err(_) => {
                    // The first replica that fits nowhere preempts (as the
                    // loop does) on the batch's snapshot and on the
                    // reference's alike; the batch then starts anew.
                    if preempt(scheduler, nodes, &mut placed, &mut snapshot, &pod)? {
                        stats.merge(batch.stats());
                        batch = Batch::new(scheduler, &snapshot).with_coarse_limit(coarse_limit);
                    }
                    break;
                }
            }
        }
    }
    stats.merge(batch.stats());
    Ok(stats)
}

fn cases() -> u32 {
    std::env::var("ORCH_EQUIVALENCE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600)
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
        daemon: false,
        not_class: None,
        volumes: None,
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

/// A test-only filter that reads the node alone: pods of the web tier keep
/// off class c2 nodes.
pub(crate) struct WebOffClassTwo;

impl FilterPlugin for WebOffClassTwo {
    fn name(&self) -> &'static str {
        "WebOffClassTwo"
    }

    fn filter(&self, pod: &PodSpec, node: &NodeInfo, _: &CycleState) -> Result<(), Vec<Reason>> {
        let web = pod.labels.get("tier").is_some_and(|t| t == "web");
        if web && node.labels.get("class").is_some_and(|c| c == "c2") {
            return Err(vec![Reason::Insufficient("example.com/web-slots".into())]);
        }
        Ok(())
    }

    fn reads(&self) -> Reads {
        Reads::Node
    }

    fn sign(&self, pod: &PodSpec, signature: &mut Signature) {
        signature.add(&pod.labels.get("tier"));
    }
}

/// A test-only score that reads the node alone and normalizes: prefer
/// nodes whose name ends in a higher digit, reversed for batch pods.
struct NameDigit;

impl ScorePlugin for NameDigit {
    fn name(&self) -> &'static str {
        "NameDigit"
    }

    fn score(&self, pod: &PodSpec, snapshot: &Snapshot, node: usize, _: &CycleState) -> i64 {
        let digit = snapshot.nodes[node]
            .name
            .bytes()
            .last()
            .map_or(0, |b| i64::from(b - b'0'));
        let batch = pod.labels.get("tier").is_some_and(|t| t == "batch");
        if batch { 9 - digit } else { digit }
    }

    fn normalize(&self, scores: &mut [i64], _: &CycleState) {
        let max = scores.iter().copied().max().unwrap_or(0).max(1);
        scores.iter_mut().for_each(|s| *s = *s * 100 / max);
    }

    fn reads(&self) -> Reads {
        Reads::Node
    }

    fn sign(&self, pod: &PodSpec, signature: &mut Signature) {
        signature.add(&pod.labels.get("tier"));
    }
}

/// A test-only score that reads the node's usage: fewer replicas score higher.
struct FewestReplicas;

impl ScorePlugin for FewestReplicas {
    fn name(&self) -> &'static str {
        "FewestReplicas"
    }

    fn score(&self, _: &PodSpec, snapshot: &Snapshot, node: usize, _: &CycleState) -> i64 {
        (100 - 7 * snapshot.nodes[node].pods).max(0)
    }

    fn reads(&self) -> Reads {
        Reads::NodeUsage
    }
}

/// A test-only filter that reads the node's usage: at most five replicas.
struct AtMostFive;

impl FilterPlugin for AtMostFive {
    fn name(&self) -> &'static str {
        "AtMostFive"
    }

    fn filter(&self, _: &PodSpec, node: &NodeInfo, _: &CycleState) -> Result<(), Vec<Reason>> {
        if node.pods >= 5 {
            return Err(vec![Reason::TooManyPods]);
        }
        Ok(())
    }

    fn reads(&self) -> Reads {
        Reads::NodeUsage
    }
}

/// A test-only filter that declares nothing: the batch layer cannot batch it.
struct Opaque;

impl FilterPlugin for Opaque {
    fn name(&self) -> &'static str {
        "Opaque"
    }

    fn filter(&self, _: &PodSpec, node: &NodeInfo, _: &CycleState) -> Result<(), Vec<Reason>> {
        match node.name.ends_with('3') {
            true => Err(vec![Reason::NodeName]),
            false => Ok(()),
        }
    }
}

pub(crate) fn extended(strategy: ScoringStrategy) -> Scheduler {
    Scheduler::new(strategy)
        .with_filter(Box::new(WebOffClassTwo))
        .with_filter(Box::new(AtMostFive))
        .with_scorer(Box::new(NameDigit), 3)
        .with_scorer(Box::new(FewestReplicas), 2)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases() / 2, ..ProptestConfig::default() })]

    /// Plugins the batch code has never heard of, declaring what they read,
    /// are batched and place exactly as the plain path places.
    #[test]
    fn test_only_plugins_place_alike_on_both_paths(
        zones in 1u8..4,
        fleet in (3usize..24).prop_flat_map(|n| prop::collection::vec(node_shape(4), n)),
        runs in prop::collection::vec((pod_shape(), 1usize..10), 1..5),
        coarse_limit in prop::sample::select(vec![32usize, 0]),
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
        let scheduler = extended(ScoringStrategy::LeastAllocated);
        let stats = check_with(&scheduler, &nodes, &runs, coarse_limit)?;
        let plain: usize = stats.plain_replicas.values().sum();
        prop_assert_eq!(stats.batched_replicas + plain, runs.iter().map(|r| r.1).sum::<usize>());
        prop_assert!(!stats.plain_replicas.keys().any(|r| matches!(r, PlainReason::Plugin(_))));
    }
}

/// The test-only plugins change placements (so the agreement above is not
/// an agreement on the default profile's results), and runs are batched.
#[test]
fn test_only_plugins_are_batched_and_decide() {
    let nodes: Vec<NodeState> = (0..12)
        .map(|i| {
            node(
                i,
                &NodeShape {
                    zone: Some((i % 3) as u8),
                    hostname: true,
                    class: (i % 3) as u8,
                    cpu: 8000,
                    pods: 110,
                    taint: 5,
                    unschedulable: false,
                },
            )
        })
        .collect();
    let shape = PodShape {
        app: 0,
        namespace: false,
        cpu: 100,
        class: None,
        preferred_class: None,
        tolerate: false,
        spread: Vec::new(),
        defaults: true,
        anti: None,
        preferred_anti: None,
        preferred_affinity: None,
        affinity: None,
        selector_form: 0,
        pin: None,
        daemon: false,
        not_class: None,
        volumes: None,
    };
    let runs = [(shape.clone(), 30)];
    let stats = check_with(
        &extended(ScoringStrategy::LeastAllocated),
        &nodes,
        &runs,
        32,
    )
    .unwrap();
    assert_eq!(stats.batched_replicas, 30);
    assert!(stats.plain_replicas.is_empty());
    // On the extended profile the web pods avoid class c2 and stop at five per node.
    let scheduler = extended(ScoringStrategy::LeastAllocated);
    let mut snapshot = Snapshot::new(&nodes);
    let mut batch = Batch::new(&scheduler, &snapshot);
    let mut placed = Vec::new();
    batch.run(&pod(&shape), &mut snapshot, 30, |r| {
        placed.push(r.unwrap().node)
    });
    let mut per_node = BTreeMap::new();
    for node in &placed {
        *per_node.entry(*node).or_insert(0) += 1;
    }
    assert!(per_node.keys().all(|&n| n % 3 != 2), "{per_node:?}");
    assert!(per_node.values().all(|&c| c <= 5), "{per_node:?}");
    assert_eq!(per_node.len(), 6);
}

/// A plugin that does not say what it reads sends every run to the plain
/// path, counted under its name, and the placements still agree.
#[test]
fn an_undeclared_plugin_takes_the_plain_path_and_is_counted() {
    let nodes: Vec<NodeState> = (0..8)
        .map(|i| {
            node(
                i,
                &NodeShape {
                    zone: Some((i % 2) as u8),
                    hostname: true,
                    class: 0,
                    cpu: 4000,
                    pods: 110,
                    taint: 5,
                    unschedulable: false,
                },
            )
        })
        .collect();
    let shape = PodShape {
        app: 1,
        namespace: false,
        cpu: 250,
        class: None,
        preferred_class: None,
        tolerate: false,
        spread: Vec::new(),
        defaults: true,
        anti: None,
        preferred_anti: None,
        preferred_affinity: None,
        affinity: None,
        selector_form: 0,
        pin: None,
        daemon: false,
        not_class: None,
        volumes: None,
    };
    let scheduler = Scheduler::new(ScoringStrategy::LeastAllocated).with_filter(Box::new(Opaque));
    let stats = check_with(&scheduler, &nodes, &[(shape, 12)], 32).unwrap();
    assert_eq!(stats.batched_replicas, 0);
    assert_eq!(
        stats.plain_replicas.get(&PlainReason::Plugin("Opaque")),
        Some(&12)
    );
}
