//! VolumeBinding (pkg/scheduler/framework/plugins/volumebinding): every
//! claim of the pod must exist and, if its class binds immediately, be
//! bound already (PreFilter, unresolvable); a bound claim's volume must be
//! reachable from the node (`node(s) had volume node affinity conflict`);
//! an unbound WaitForFirstConsumer claim needs a volume it could bind, or a
//! provisioner allowed to make one, reachable from the node
//! (`node(s) didn't find available persistent volumes to bind`).
//!
//! Everything it reads is resolved into the pod's `volumes` where the
//! replica is scheduled, so the verdict depends on the node alone.

use crate::model::pod::PodSpec;
use crate::model::storage::VolumeConstraint;
use crate::scheduler::diagnosis::Reason;
use crate::scheduler::snapshot::NodeInfo;
use crate::scheduler::{CycleState, FilterPlugin, Reads, Signature};

pub struct VolumeBinding;

impl FilterPlugin for VolumeBinding {
    fn name(&self) -> &'static str {
        "VolumeBinding"
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

    fn filter(&self, pod: &PodSpec, node: &NodeInfo, _: &CycleState) -> Result<(), Vec<Reason>> {
        let reachable = |affinity: &Option<crate::model::labels::NodeSelector>| {
            affinity
                .as_ref()
                .is_none_or(|a| a.matches(&node.name, &node.labels))
        };
        // PreFilter: the same verdict on every node.
        for volume in &pod.volumes {
            match volume {
                VolumeConstraint::Missing(name) => {
                    return Err(vec![Reason::ClaimNotFound(name.clone())]);
                }
                VolumeConstraint::UnboundImmediate => {
                    return Err(vec![Reason::UnboundImmediateClaims]);
                }
                _ => {}
            }
        }
        // FindPodVolumes: bound claims, then the unbound ones.
        let mut reasons = Vec::new();
        let bound_ok = pod.volumes.iter().all(|v| match v {
            VolumeConstraint::Bound { node_affinity, .. } => reachable(node_affinity),
            _ => true,
        });
        if !bound_ok {
            reasons.push(Reason::VolumeNodeAffinityConflict);
        }
        let unbound_ok = pod.volumes.iter().all(|v| match v {
            VolumeConstraint::Delayed {
                candidates,
                provision,
            } => candidates.iter().any(reachable) || provision.as_ref().is_some_and(reachable),
            _ => true,
        });
        if !unbound_ok {
            reasons.push(Reason::VolumeBindConflict);
        }
        if reasons.is_empty() {
            Ok(())
        } else {
            Err(reasons)
        }
    }
}
