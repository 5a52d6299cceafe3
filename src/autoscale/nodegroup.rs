//! Node groups (`orch.dev/v1 NodeGroup`), scaled as cluster-autoscaler
//! scales them: a template node, a size range and a provisioning delay.

use crate::model::workload::NodeSpec;

/// cluster-autoscaler's `--scale-down-utilization-threshold`.
pub const SCALE_DOWN_UTILIZATION_THRESHOLD: f64 = 0.5;
/// cluster-autoscaler's `--scale-down-unneeded-time`.
pub const SCALE_DOWN_UNNEEDED_TIME: u64 = 600;
/// A NodeGroup's `provisionDelay` when none is written.
pub const DEFAULT_PROVISION_DELAY: u64 = 60;

#[derive(Debug, Clone, PartialEq)]
pub struct NodeGroup {
    pub name: String,
    pub min_size: u32,
    pub max_size: u32,
    /// Simulated seconds from a scale-up to its node being Ready.
    pub provision_delay: u64,
    /// The node every member is made from (its `name` is empty).
    pub template: NodeSpec,
}

impl NodeGroup {
    /// The `n`th member, `<group>-<n>`, with the template's labels and the
    /// hostname label of its own name.
    pub fn member(&self, n: u32) -> NodeSpec {
        let name = format!("{}-{n}", self.name);
        let mut node = self.template.clone();
        node.labels
            .insert(crate::manifest::HOSTNAME_LABEL.to_string(), name.clone());
        node.name = name;
        node
    }
}
