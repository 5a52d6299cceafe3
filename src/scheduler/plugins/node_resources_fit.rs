//! NodeResourcesFit: the replica's requests must fit in what the node has
//! left (pod count first, then cpu, memory, ephemeral storage, extended
//! resources); scored LeastAllocated (spread) or MostAllocated (bin packing)
//! over cpu and memory with Kubernetes' non-zero request defaults.

use crate::model::pod::PodSpec;
use crate::model::resources::{CPU, EPHEMERAL_STORAGE, MEMORY, Resources};
use crate::scheduler::diagnosis::Reason;
use crate::scheduler::snapshot::{NodeInfo, Snapshot};
use crate::scheduler::{
    CycleState, FilterPlugin, MAX_NODE_SCORE, Reads, ScorePlugin, ScoringStrategy, Signature,
};

pub struct NodeResourcesFit {
    pub strategy: ScoringStrategy,
}

/// Resources scored and their weights (the default `resources` argument).
const SCORED: [(&str, i64); 2] = [(CPU, 1), (MEMORY, 1)];

impl FilterPlugin for NodeResourcesFit {
    fn name(&self) -> &'static str {
        "NodeResourcesFit"
    }

    fn reads(&self) -> Reads {
        Reads::NodeUsage
    }

    fn sign(&self, pod: &PodSpec, signature: &mut Signature) {
        sign_resources(&pod.requests, signature);
    }

    fn passes(&self, pod: &PodSpec, node: &NodeInfo, _: &CycleState) -> bool {
        fits(pod, node)
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

/// Write every amount of `resources` into `signature`.
pub(crate) fn sign_resources(resources: &Resources, signature: &mut Signature) {
    signature.add(&(
        resources.milli_cpu,
        resources.memory,
        resources.ephemeral_storage,
        &resources.scalar,
    ));
}

/// Whether `filter` passes: `shortfalls` finds nothing (the same checks,
/// without building the list; the batch scheduler asks this of every node
/// a placement changed).
pub fn fits(pod: &PodSpec, node: &NodeInfo) -> bool {
    if node.pods + 1 > node.allocatable.pods {
        return false;
    }
    let requests = &pod.requests;
    let (capacity, used) = (&node.allocatable.resources, &node.requested);
    let room = |wanted: i64, capacity: i64, taken: i64| wanted <= 0 || wanted <= capacity - taken;
    room(requests.milli_cpu, capacity.milli_cpu, used.milli_cpu)
        && room(requests.memory, capacity.memory, used.memory)
        && room(
            requests.ephemeral_storage,
            capacity.ephemeral_storage,
            used.ephemeral_storage,
        )
        && requests
            .scalar
            .iter()
            .all(|(name, &wanted)| room(wanted, capacity.get(name), used.get(name)))
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

    fn reads(&self) -> Reads {
        Reads::NodeUsage
    }

    fn sign(&self, pod: &PodSpec, signature: &mut Signature) {
        sign_resources(&pod.non_zero_requests, signature);
    }

    fn score(&self, pod: &PodSpec, snapshot: &Snapshot, node: usize, _: &CycleState) -> i64 {
        let node = &snapshot.nodes[node];
        let (used, wanted) = (&node.non_zero_requested, &pod.non_zero_requests);
        let capacity = &node.allocatable.resources;
        scored(
            self.strategy,
            (used.milli_cpu + wanted.milli_cpu, capacity.milli_cpu),
            (used.memory + wanted.memory, capacity.memory),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// `fits` is `filter` passing, on every mix of requests and room.
        #[test]
        fn fits_is_no_shortfall(
            wanted in prop::collection::vec(-1i64..4, 4),
            capacity in prop::collection::vec(0i64..4, 4),
            taken in prop::collection::vec(0i64..4, 4),
            pods in (0i64..3, 0i64..3),
            gpu_declared in any::<bool>(),
        ) {
            let resources = |v: &[i64]| {
                let mut r = Resources {
                    milli_cpu: v[0],
                    memory: v[1],
                    ephemeral_storage: v[2],
                    ..Default::default()
                };
                r.scalar.insert("nvidia.com/gpu".to_string(), v[3]);
                r
            };
            let spec = crate::model::workload::NodeSpec {
                name: "n".into(),
                labels: Default::default(),
                taints: Vec::new(),
                unschedulable: false,
                allocatable: Default::default(),
            };
            let mut node = NodeInfo::new(0, &crate::reconcile::nodes::new_node(&spec));
            node.allocatable.resources = resources(&capacity);
            if !gpu_declared {
                node.allocatable.resources.scalar.clear();
            }
            node.allocatable.pods = pods.0;
            node.pods = pods.1;
            node.requested = resources(&taken);
            let pod = PodSpec {
                requests: resources(&wanted),
                ..Default::default()
            };
            prop_assert_eq!(fits(&pod, &node), shortfalls(&pod, &node, false).is_empty());
        }
    }
}
