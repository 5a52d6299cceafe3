//! NodeUnschedulable: a cordoned or `spec.unschedulable` node takes only
//! replicas tolerating `node.kubernetes.io/unschedulable:NoSchedule`.

use crate::model::pod::{PodSpec, Taint, TaintEffect, tolerates_all};
use crate::scheduler::diagnosis::Reason;
use crate::scheduler::snapshot::{NodeInfo, TAINT_UNSCHEDULABLE};
use crate::scheduler::{CycleState, FilterPlugin, Reads, Signature};

pub struct NodeUnschedulable;

impl FilterPlugin for NodeUnschedulable {
    fn name(&self) -> &'static str {
        "NodeUnschedulable"
    }

    fn reads(&self) -> Reads {
        Reads::Node
    }

    fn sign(&self, pod: &PodSpec, signature: &mut Signature) {
        signature.add(&pod.tolerations);
    }

    fn filter(&self, pod: &PodSpec, node: &NodeInfo, _: &CycleState) -> Result<(), Vec<Reason>> {
        if node.unschedulable
            && !tolerates_all(
                &pod.tolerations,
                &Taint::new(TAINT_UNSCHEDULABLE, "", TaintEffect::NoSchedule),
            )
        {
            return Err(vec![Reason::Unschedulable]);
        }
        Ok(())
    }
}
