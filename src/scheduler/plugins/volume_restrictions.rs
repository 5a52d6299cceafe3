//! VolumeRestrictions (pkg/scheduler/framework/plugins/volumerestrictions):
//! a ReadWriteOncePod claim already used by another pod rejects the pod at
//! PreFilter, on every node (`node has pod using PersistentVolumeClaim with
//! the same name and ReadWriteOncePod access mode`).

use crate::model::pod::PodSpec;
use crate::model::storage::VolumeConstraint;
use crate::scheduler::diagnosis::Reason;
use crate::scheduler::snapshot::NodeInfo;
use crate::scheduler::{CycleState, FilterPlugin, Reads, Signature};

pub struct VolumeRestrictions;

impl FilterPlugin for VolumeRestrictions {
    fn name(&self) -> &'static str {
        "VolumeRestrictions"
    }

    fn reads(&self) -> Reads {
        Reads::Node
    }

    fn sign(&self, pod: &PodSpec, signature: &mut Signature) {
        signature.add(&pod.volumes);
    }

    fn skips(&self, pod: &PodSpec) -> bool {
        pod.volumes.is_empty()
    }

    fn filter(&self, pod: &PodSpec, _: &NodeInfo, _: &CycleState) -> Result<(), Vec<Reason>> {
        if pod
            .volumes
            .contains(&VolumeConstraint::InUseReadWriteOncePod)
        {
            Err(vec![Reason::ReadWriteOncePodConflict])
        } else {
            Ok(())
        }
    }
}
