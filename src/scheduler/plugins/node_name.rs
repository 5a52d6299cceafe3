//! NodeName: a replica naming its node (`spec.nodeName`) fits only there.

use crate::model::pod::PodSpec;
use crate::scheduler::diagnosis::Reason;
use crate::scheduler::snapshot::NodeInfo;
use crate::scheduler::{CycleState, FilterPlugin};

pub struct NodeName;

impl FilterPlugin for NodeName {
    fn name(&self) -> &'static str {
        "NodeName"
    }

    fn filter(&self, pod: &PodSpec, node: &NodeInfo, _: &CycleState) -> Result<(), Vec<Reason>> {
        match &pod.node_name {
            Some(name) if *name != node.name => Err(vec![Reason::NodeName]),
            _ => Ok(()),
        }
    }
}
