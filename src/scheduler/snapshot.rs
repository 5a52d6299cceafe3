//! The scheduler's view of the fleet for one pass: each node's labels,
//! effective taints and allocatable, plus what the replicas already placed
//! on it request. Updated incrementally (`assume`/`forget`) as replicas are
//! placed or removed, so one placement never rescans the cluster.

use crate::model::labels::Labels;
use crate::model::pod::{PodSpec, Taint, TaintEffect};
use crate::model::resources::{Allocatable, Resources};
use crate::model::state::NodeState;

pub const TAINT_NOT_READY: &str = "node.kubernetes.io/not-ready";
pub const TAINT_UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";

#[derive(Debug, Clone, PartialEq)]
pub struct NodeInfo {
    pub name: String,
    pub labels: Labels,
    /// Declared taints, then those Kubernetes adds from the node's condition
    /// (`TaintNodesByCondition`): not-ready and unschedulable, NoSchedule.
    pub taints: Vec<Taint>,
    pub unschedulable: bool,
    pub ready: bool,
    pub allocatable: Allocatable,
    /// Sum of the requests of the replicas on the node.
    pub requested: Resources,
    /// The same with Kubernetes' scoring defaults for missing requests.
    pub non_zero_requested: Resources,
    /// Replicas on the node.
    pub pods: i64,
}

impl NodeInfo {
    pub fn new(node: &NodeState) -> NodeInfo {
        let mut taints = node.taints.clone();
        if !node.ready {
            taints.push(Taint::new(TAINT_NOT_READY, "", TaintEffect::NoSchedule));
        }
        if node.unschedulable {
            taints.push(Taint::new(TAINT_UNSCHEDULABLE, "", TaintEffect::NoSchedule));
        }
        NodeInfo {
            name: node.name.clone(),
            labels: node.labels.clone(),
            taints,
            unschedulable: node.unschedulable,
            ready: node.ready,
            allocatable: node.allocatable.clone(),
            requested: Resources::default(),
            non_zero_requested: Resources::default(),
            pods: 0,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub nodes: Vec<NodeInfo>,
    by_name: std::collections::HashMap<String, usize>,
}

impl Snapshot {
    pub fn new(nodes: &[NodeState]) -> Snapshot {
        let nodes: Vec<NodeInfo> = nodes.iter().map(NodeInfo::new).collect();
        let by_name = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name.clone(), i))
            .collect();
        Snapshot { nodes, by_name }
    }

    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// Account a replica of `pod` as running on node `node`.
    pub fn assume(&mut self, node: usize, pod: &PodSpec) {
        let info = &mut self.nodes[node];
        info.requested.add(&pod.requests);
        info.non_zero_requested.add(&pod.non_zero_requests);
        info.pods += 1;
    }

    /// The inverse of `assume`.
    pub fn forget(&mut self, node: usize, pod: &PodSpec) {
        let info = &mut self.nodes[node];
        info.requested.sub(&pod.requests);
        info.non_zero_requested.sub(&pod.non_zero_requests);
        info.pods -= 1;
    }
}
