//! Capacity counted equals capacity placed: wherever `fast_capacity::count`
//! answers, its answer (copies that fit, capped or not, and the exact
//! FitError of the first copy that does not) is the one of placing the
//! copies one by one with the scheduler (`capacity::one_by_one`), on the
//! random fleets and pods of the batch equivalence test (zones, hosts,
//! classes, taints, cordons, pod limits, extended resources; selectors, node
//! affinity, tolerations, hard and soft spread, minDomains, inclusion
//! policies, required and preferred (anti-)affinity, pod affinity, pinned
//! replicas), with replicas already placed, hostnames shared by several
//! nodes, and profiles with test-only plugins.

use crate::batch_equivalence::{
    NodeShape, PodShape, WebOffClassTwo, extended, node, node_shape, pod, pod_shape,
};
use orch::analysis::capacity::one_by_one;
use orch::analysis::fast_capacity::{self, Probe, Shared};
use orch::model::state::NodeState;
use orch::scheduler::batch::Batch;
use orch::scheduler::snapshot::Snapshot;
use orch::scheduler::{Scheduler, ScoringStrategy};
use proptest::prelude::*;

const HOSTNAME: &str = "kubernetes.io/hostname";

fn fleet(zones: u8, shapes: &[NodeShape], shared_hosts: bool) -> Vec<NodeState> {
    shapes
        .iter()
        .enumerate()
        .map(|(i, shape)| {
            let mut shape = shape.clone();
            shape.zone = shape.zone.map(|z| z % zones);
            let mut node = node(i, &shape);
            if shared_hosts && i % 3 == 1 && node.labels.contains_key(HOSTNAME) {
                node.labels.insert(HOSTNAME.into(), "shared".into());
            }
            node
        })
        .collect()
}

/// Place `existing`, then probe each of `probes`: (answers by counting, by placing).
fn check(
    scheduler: &Scheduler,
    nodes: &[NodeState],
    existing: &[(PodShape, usize)],
    probes: &[PodShape],
    limit: usize,
) -> Result<(usize, usize), TestCaseError> {
    let mut snapshot = Snapshot::new(nodes);
    let mut batch = Batch::new(scheduler, &snapshot);
    for (shape, count) in existing {
        batch.run(&pod(shape), &mut snapshot, *count, |_| {});
    }
    let mut shared = Shared::default();
    let (mut counted, mut placed) = (0, 0);
    for shape in existing.iter().map(|(s, _)| s).chain(probes) {
        let pod = pod(shape);
        let plain: Probe = one_by_one(scheduler, &snapshot, &pod, limit);
        match fast_capacity::count(scheduler, &mut snapshot, &pod, limit, &mut shared) {
            Some(fast) => {
                counted += 1;
                prop_assert_eq!(fast, plain, "{:?}", shape);
            }
            None => placed += 1,
        }
    }
    Ok((counted, placed))
}

fn cases() -> u32 {
    std::env::var("ORCH_EQUIVALENCE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn capacity_counted_is_capacity_placed(
        zones in 1u8..5,
        shapes in (3usize..30).prop_flat_map(|n| prop::collection::vec(node_shape(4), n)),
        shared_hosts in prop::bool::weighted(0.2),
        existing in prop::collection::vec((pod_shape(), 1usize..14), 0..5),
        probes in prop::collection::vec(pod_shape(), 1..4),
        limit in prop::sample::select(vec![0usize, 4, 30, 5000]),
        profile in 0u8..5,
    ) {
        let nodes = fleet(zones, &shapes, shared_hosts);
        let strategy = if profile == 1 { ScoringStrategy::MostAllocated } else { ScoringStrategy::LeastAllocated };
        let scheduler = match profile {
            // A filter reading the node alone is counted like the built-in ones.
            3 => Scheduler::new(strategy).with_filter(Box::new(WebOffClassTwo)),
            // One reading the node's usage is not: placed one by one.
            4 => extended(strategy),
            _ => Scheduler::new(strategy),
        };
        let (_, placed) = check(&scheduler, &nodes, &existing, &probes, limit)?;
        if profile == 4 {
            prop_assert_eq!(placed, existing.len() + probes.len());
        }
    }
}
