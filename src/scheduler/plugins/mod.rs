//! kube-scheduler's default plugins, one per file, in the default profile's order.

pub mod balanced_allocation;
pub mod inter_pod_affinity;
pub mod node_affinity;
mod node_name;
pub mod node_resources_fit;
mod node_unschedulable;
pub mod pod_topology_spread;
pub mod scheduling_gates;
mod taint_toleration;
pub(crate) mod terms;
mod volume_binding;
mod volume_restrictions;
#[cfg(test)]
mod volume_tests;
mod volume_zone;

pub use balanced_allocation::BalancedAllocation;
pub use inter_pod_affinity::InterPodAffinity;
pub use node_affinity::NodeAffinity;
pub use node_name::NodeName;
pub use node_resources_fit::NodeResourcesFit;
pub use node_unschedulable::NodeUnschedulable;
pub use pod_topology_spread::PodTopologySpread;
pub use taint_toleration::TaintToleration;
pub use volume_binding::VolumeBinding;
pub use volume_restrictions::VolumeRestrictions;
pub use volume_zone::VolumeZone;

use super::MAX_NODE_SCORE;

/// `helper.DefaultNormalizeScore`: scale to 0..100 by the highest score,
/// reversed when fewer is better.
pub fn default_normalize(scores: &mut [i64], reverse: bool) {
    let max = scores.iter().copied().max().unwrap_or(0);
    if max == 0 {
        if reverse {
            scores.iter_mut().for_each(|s| *s = MAX_NODE_SCORE);
        }
        return;
    }
    for score in scores {
        *score = MAX_NODE_SCORE * *score / max;
        if reverse {
            *score = MAX_NODE_SCORE - *score;
        }
    }
}
