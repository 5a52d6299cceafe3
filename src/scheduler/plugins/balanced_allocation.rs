//! NodeResourcesBalancedAllocation: prefer nodes whose cpu and memory would
//! be used in similar fractions (1 − standard deviation of the fractions).

use crate::model::pod::PodSpec;
use crate::model::resources::{CPU, MEMORY, Resources};
use crate::scheduler::snapshot::Snapshot;
use crate::scheduler::{CycleState, MAX_NODE_SCORE, Reads, ScorePlugin, Signature};

pub struct BalancedAllocation;

pub fn balanced_score(node_requested: &Resources, pod: &Resources, allocatable: &Resources) -> i64 {
    let [cpu, memory] = [CPU, MEMORY].map(|name| {
        (
            node_requested.get(name) + pod.get(name),
            allocatable.get(name),
        )
    });
    balanced(cpu, memory)
}

/// `balanced_score` from (requested with the pod, capacity) of cpu and memory.
pub fn balanced(cpu: (i64, i64), memory: (i64, i64)) -> i64 {
    let fraction = |(requested, capacity): (i64, i64)| {
        (capacity > 0).then(|| (requested as f64 / capacity as f64).min(1.0))
    };
    let std = match (fraction(cpu), fraction(memory)) {
        (Some(a), Some(b)) => (a - b).abs() / 2.0,
        _ => 0.0,
    };
    ((1.0 - std) * MAX_NODE_SCORE as f64) as i64
}

impl ScorePlugin for BalancedAllocation {
    fn name(&self) -> &'static str {
        "NodeResourcesBalancedAllocation"
    }

    fn reads(&self) -> Reads {
        Reads::NodeUsage
    }

    fn sign(&self, pod: &PodSpec, signature: &mut Signature) {
        super::node_resources_fit::sign_resources(&pod.requests, signature);
    }

    fn score(&self, pod: &PodSpec, snapshot: &Snapshot, node: usize, _: &CycleState) -> i64 {
        let node = &snapshot.nodes[node];
        let (used, wanted) = (&node.requested, &pod.requests);
        let capacity = &node.allocatable.resources;
        balanced(
            (used.milli_cpu + wanted.milli_cpu, capacity.milli_cpu),
            (used.memory + wanted.memory, capacity.memory),
        )
    }
}
