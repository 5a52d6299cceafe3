//! VolumeZone (pkg/scheduler/framework/plugins/volumezone): a bound
//! volume labelled with a zone (`topology.kubernetes.io/zone`, values
//! joined by `__`) fits only nodes of one of those zones
//! (`node(s) had no available volume zone`); a node without the zone label
//! passes, as upstream.

use crate::model::pod::PodSpec;
use crate::model::storage::{VolumeConstraint, ZONE_LABELS};
use crate::scheduler::diagnosis::Reason;
use crate::scheduler::snapshot::NodeInfo;
use crate::scheduler::{CycleState, FilterPlugin, Reads, Signature};

pub struct VolumeZone;

impl FilterPlugin for VolumeZone {
    fn name(&self) -> &'static str {
        "VolumeZone"
    }

    fn reads(&self) -> Reads {
        Reads::Node
    }

    fn sign(&self, pod: &PodSpec, signature: &mut Signature) {
        signature.add(&pod.volumes);
    }

    fn skips(&self, pod: &PodSpec) -> bool {
        !pod.volumes
            .iter()
            .any(|v| matches!(v, VolumeConstraint::Bound { zones: Some(_), .. }))
    }

    fn filter(&self, pod: &PodSpec, node: &NodeInfo, _: &CycleState) -> Result<(), Vec<Reason>> {
        // Most pods have no zoned volume: no need to read the node's labels.
        if self.skips(pod) {
            return Ok(());
        }
        let Some(node_zone) = ZONE_LABELS.iter().find_map(|k| node.labels.get(*k)) else {
            return Ok(());
        };
        for volume in &pod.volumes {
            if let VolumeConstraint::Bound {
                zones: Some(zones), ..
            } = volume
                && !zones.iter().any(|z| z == node_zone)
            {
                return Err(vec![Reason::NoVolumeZone]);
            }
        }
        Ok(())
    }
}
