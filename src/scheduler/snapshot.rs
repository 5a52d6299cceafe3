//! STUB
use crate::model::pod::PodSpec;
use crate::model::resources::{Allocatable, Resources};
use crate::model::state::NodeState;
pub struct NodeInfo {
    pub name: String,
    pub unschedulable: bool,
    pub ready: bool,
    pub allocatable: Allocatable,
    pub requested: Resources,
    pub pods: i64,
}
pub struct Snapshot {
    pub nodes: Vec<NodeInfo>,
}
impl Snapshot {
    pub fn new(nodes: &[NodeState]) -> Snapshot {
        Snapshot {
            nodes: nodes
                .iter()
                .map(|n| NodeInfo {
                    name: n.name.clone(),
                    unschedulable: n.unschedulable,
                    ready: n.ready,
                    allocatable: n.allocatable.clone(),
                    requested: Resources::default(),
                    pods: 0,
                })
                .collect(),
        }
    }
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }
    pub fn assume(&mut self, node: usize, pod: &PodSpec) {
        self.nodes[node].requested.add(&pod.requests);
        self.nodes[node].pods += 1;
    }
}
