//! NodeResourcesBalancedAllocation: prefer nodes whose cpu and memory would
//! be used in similar fractions (1 − standard deviation of the fractions).

use crate::model::pod::PodSpec;
use crate::model::resources::{CPU, MEMORY, Resources};
use crate::scheduler::snapshot::Snapshot;
use crate::scheduler::{CycleState, MAX_NODE_SCORE, ScorePlugin};

pub struct BalancedAllocation;

pub fn balanced_score(node_requested: &Resources, pod: &Resources, allocatable: &Resources) -> i64 {
    let fractions: Vec<f64> = [CPU, MEMORY]
        .iter()
        .filter_map(|name| {
            let capacity = allocatable.get(name);
            (capacity > 0).then(|| {
                ((node_requested.get(name) + pod.get(name)) as f64 / capacity as f64).min(1.0)
            })
        })
        .collect();
    let std = match fractions.as_slice() {
        [a, b] => (a - b).abs() / 2.0,
        [] | [_] => 0.0,
        many => {
            let mean = many.iter().sum::<f64>() / many.len() as f64;
            (many.iter().map(|f| (f - mean).powi(2)).sum::<f64>() / many.len() as f64).sqrt()
        }
    };
    ((1.0 - std) * MAX_NODE_SCORE as f64) as i64
}

impl ScorePlugin for BalancedAllocation {
    fn name(&self) -> &'static str {
        "NodeResourcesBalancedAllocation"
    }

    fn weight(&self) -> i64 {
        1
    }

    fn score(&self, pod: &PodSpec, snapshot: &Snapshot, node: usize, _: &CycleState) -> i64 {
        let node = &snapshot.nodes[node];
        balanced_score(&node.requested, &pod.requests, &node.allocatable.resources)
    }
}
