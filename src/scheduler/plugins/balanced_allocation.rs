//! NodeResourcesBalancedAllocation: prefer nodes whose cpu and memory would
//! be used in similar fractions (1 − standard deviation of the fractions).
//!
//! A pod that requests neither cpu nor memory is not scored at all, as
//! kube-scheduler's `PreScore` returns `Skip` for it (`isBestEffortPod` in
//! `noderesources/balanced_allocation.go`, kubernetes#129138): otherwise
//! request-less replicas would all be drawn to the same balanced node.

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

/// `isBestEffortPod`: the pod requests none of the plugin's resources (cpu
/// and memory, as requested, without the scoring defaults).
pub fn is_best_effort(requests: &Resources) -> bool {
    requests.milli_cpu == 0 && requests.memory == 0
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
        if is_best_effort(wanted) {
            // Skipped: the same 0 on every node adds nothing to any total.
            return 0;
        }
        let capacity = &node.allocatable.resources;
        balanced(
            (used.milli_cpu + wanted.milli_cpu, capacity.milli_cpu),
            (used.memory + wanted.memory, capacity.memory),
        )
    }
}
