//! A NodeGroup's record in the state: what cluster-autoscaler keeps in
//! memory between its loops (the members on their way, the last scale-up,
//! since when each member has been unneeded), kept here so that time
//! passing across applies sees it.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The label every member of a group carries, naming its group.
pub const GROUP_LABEL: &str = "orch.dev/node-group";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeGroupState {
    pub name: String,
    /// The sizes and delay last applied (what commands without `-f` show).
    #[serde(default)]
    pub min_size: u32,
    #[serde(default)]
    pub max_size: u32,
    #[serde(default)]
    pub provision_delay: u64,
    /// The node every member is made from, as last applied.
    #[serde(default)]
    pub template: NodeTemplate,
    /// The number the next member takes (`<group>-<n>`).
    #[serde(default)]
    pub next_member: u32,
    /// Members asked for and not joined yet, with the instant they join.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provisioning: Vec<Provisioning>,
    /// The simulated second of the group's last scale-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_scale_up: Option<u64>,
    /// Members found unneeded, and since when (simulated seconds).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unneeded: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Provisioning {
    pub node: String,
    /// When the node joins the cluster, Ready.
    pub ready_at: u64,
}

/// A NodeGroup's template node: what a member is made of but its name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeTemplate {
    #[serde(default)]
    pub labels: crate::model::labels::Labels,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taints: Vec<crate::model::pod::Taint>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unschedulable: bool,
    pub allocatable: crate::model::resources::Allocatable,
}
