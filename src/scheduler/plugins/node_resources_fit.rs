//! NodeResourcesFit: the replica's requests must fit in what the node has
//! left (pod count first, then cpu, memory, ephemeral storage, extended
//! resources); scored LeastAllocated (spread) or MostAllocated (bin packing)
//! over cpu and memory with Kubernetes' non-zero request defaults.

use crate::model::pod::PodSpec;
use crate::model::resources::{CPU, EPHEMERAL_STORAGE, MEMORY, Resources};
use crate::scheduler::diagnosis::Reason;
use crate::scheduler::snapshot::{NodeInfo, Snapshot};
use crate::scheduler::{CycleState, FilterPlugin, MAX_NODE_SCORE, ScorePlugin, ScoringStrategy};

pub struct NodeResourcesFit {
    pub strategy: ScoringStrategy,
}

/// Resources scored and their weights (the default `resources` argument).
const SCORED: [(&str, i64); 2] = [(CPU, 1), (MEMORY, 1)];

impl FilterPlugin for NodeResourcesFit {
    fn name(&self) -> &'static str {
        "NodeResourcesFit"
    }

    fn filter(&self, pod: &PodSpec, node: &NodeInfo, _: &CycleState) -> Result<(), Vec<Reason>> {
        let reasons = shortfalls(pod, node, false);
        if reasons.is_empty() {
            Ok(())
        } else {
            Err(reasons)
        }
    }
}

/// Whether `filter` passes, stopping at the first shortfall.
pub fn fits(pod: &PodSpec, node: &NodeInfo) -> bool {
    shortfalls(pod, node, true).is_empty()
}

/// What the node lacks for the pod (all of it, or only the first found).
fn shortfalls(pod: &PodSpec, node: &NodeInfo, first_only: bool) -> Vec<Reason> {
    let mut reasons = Vec::new();
    if node.pods + 1 > node.allocatable.pods {
        reasons.push(Reason::TooManyPods);
        if first_only {
            return reasons;
        }
    }
    let requests = &pod.requests;
    if requests.is_zero() {
        return reasons;
    }
    let (capacity, used) = (&node.allocatable.resources, &node.requested);
    let fixed = [
        (CPU, requests.milli_cpu, capacity.milli_cpu, used.milli_cpu),
        (MEMORY, requests.memory, capacity.memory, used.memory),
        (
            EPHEMERAL_STORAGE,
            requests.ephemeral_storage,
            capacity.ephemeral_storage,
            used.ephemeral_storage,
        ),
    ];
    let scalar = requests
        .scalar
        .iter()
        .map(|(name, wanted)| (name.as_str(), *wanted, capacity.get(name), used.get(name)));
    for (name, wanted, capacity, taken) in fixed.into_iter().chain(scalar) {
        if wanted > 0 && wanted > capacity - taken {
            reasons.push(Reason::Insufficient(name.to_string()));
            if first_only {
                break;
            }
        }
    }
    reasons
}

fn least_requested(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 || requested > capacity {
        return 0;
    }
    (capacity - requested) * MAX_NODE_SCORE / capacity
}

fn most_requested(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 {
        return 0;
    }
    // Pods without requests count the defaults, which may exceed capacity.
    requested.min(capacity) * MAX_NODE_SCORE / capacity
}

/// Weighted average over the scored resources the node has.
pub fn resource_score(
    strategy: ScoringStrategy,
    node_requested: &Resources,
    pod: &Resources,
    allocatable: &Resources,
) -> i64 {
    let [cpu, memory] = SCORED.map(|(name, _)| {
        (
            node_requested.get(name) + pod.get(name),
            allocatable.get(name),
        )
    });
    scored(strategy, cpu, memory)
}

/// `resource_score` from (requested with the pod, capacity) of cpu and memory.
pub fn scored(strategy: ScoringStrategy, cpu: (i64, i64), memory: (i64, i64)) -> i64 {
    let (mut total, mut weights) = (0, 0);
    for ((requested, capacity), (_, weight)) in [cpu, memory].into_iter().zip(SCORED) {
        if capacity == 0 {
            continue;
        }
        let score = match strategy {
            ScoringStrategy::LeastAllocated => least_requested(requested, capacity),
            ScoringStrategy::MostAllocated => most_requested(requested, capacity),
        };
        total += score * weight;
        weights += weight;
    }
    if weights == 0 { 0 } else { total / weights }
}

impl ScorePlugin for NodeResourcesFit {
    fn name(&self) -> &'static str {
        "NodeResourcesFit"
    }

    fn weight(&self) -> i64 {
        1
    }

    fn score(&self, pod: &PodSpec, snapshot: &Snapshot, node: usize, _: &CycleState) -> i64 {
        let node = &snapshot.nodes[node];
        resource_score(
            self.strategy,
            &node.non_zero_requested,
            &pod.non_zero_requests,
            &node.allocatable.resources,
        )
    }
}
