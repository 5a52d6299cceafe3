//! NodeName: a replica naming its node (`spec.nodeName`) fits only there.

use crate::model::pod::PodSpec;
use crate::scheduler::diagnosis::Reason;
use crate::scheduler::snapshot::NodeInfo;
use crate::scheduler::{CycleState, FilterPlugin, Reads, Signature};

pub struct NodeName;

impl FilterPlugin for NodeName {
    fn name(&self) -> &'static str {
        "NodeName"
    }

    fn reads(&self) -> Reads {
        Reads::Node
    }

    fn sign(&self, pod: &PodSpec, signature: &mut Signature) {
        signature.add(&pod.node_name);
    }

    fn filter(&self, pod: &PodSpec, node: &NodeInfo, _: &CycleState) -> Result<(), Vec<Reason>> {
        match &pod.node_name {
            Some(name) if **name != *node.name => Err(vec![Reason::NodeName]),
            _ => Ok(()),
        }
    }
}
