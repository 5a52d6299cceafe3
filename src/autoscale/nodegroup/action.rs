//! cluster-autoscaler's decisions as actions of a plan: a scale-up, a
//! scale-down, a pod no group would take, and the group's record.

use super::SCALE_DOWN_UNNEEDED_TIME;
use crate::model::event::EventReason;
use crate::model::node_group::NodeGroupState;
use crate::model::workload::ObjectRef;

/// cluster-autoscaler's decisions, as a plan shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupAction {
    /// `nodes` asked of the cloud, joining at `ready_at`; `pods` triggered it.
    ScaleUp {
        group: String,
        from: u32,
        to: u32,
        max: u32,
        nodes: Vec<String>,
        ready_at: u64,
        pods: Vec<(String, ObjectRef)>,
    },
    /// A pending pod no group would take, and why (`NotTriggerScaleUp`).
    NotTriggered {
        replica: String,
        workload: ObjectRef,
        message: String,
    },
    /// A member unneeded long enough: cordoned, drained, then removed.
    ScaleDown {
        group: String,
        node: String,
        utilization: u32,
    },
    /// The group's record (members on their way, timers). Not shown.
    SetStatus(NodeGroupState),
    /// A group no longer declared: its record goes, its members drain. Not shown.
    Forget { group: String },
}

impl GroupAction {
    pub fn op(&self) -> &'static str {
        match self {
            GroupAction::ScaleUp { .. } => "scale-up",
            GroupAction::NotTriggered { .. } => "no-scale-up",
            GroupAction::ScaleDown { .. } => "scale-down",
            GroupAction::SetStatus(_) => "node-group-status",
            GroupAction::Forget { .. } => "forget-node-group",
        }
    }

    pub fn is_shown(&self) -> bool {
        !matches!(self, GroupAction::SetStatus(_) | GroupAction::Forget { .. })
    }

    /// `NodeGroup/general`, or the pod for a `NotTriggerScaleUp`.
    pub fn object(&self) -> String {
        match self {
            GroupAction::ScaleUp { group, .. }
            | GroupAction::ScaleDown { group, .. }
            | GroupAction::Forget { group } => format!("NodeGroup/{group}"),
            GroupAction::SetStatus(status) => format!("NodeGroup/{}", status.name),
            GroupAction::NotTriggered { workload, .. } => workload.to_string(),
        }
    }

    pub fn replica(&self) -> Option<&str> {
        match self {
            GroupAction::NotTriggered { replica, .. } => Some(replica),
            _ => None,
        }
    }

    pub fn node(&self) -> Option<&str> {
        match self {
            GroupAction::ScaleDown { node, .. } => Some(node),
            _ => None,
        }
    }

    /// The action's detail in a plan: cluster-autoscaler's words.
    pub fn detail(&self) -> Option<String> {
        match self {
            GroupAction::ScaleUp {
                group,
                from,
                to,
                max,
                nodes,
                ready_at,
                ..
            } => Some(format!(
                "{{{group} {from}->{to} (max: {max})}}: {} ready at {ready_at}s",
                nodes.join(", ")
            )),
            GroupAction::NotTriggered { message, .. } => Some(message.clone()),
            GroupAction::ScaleDown {
                node, utilization, ..
            } => Some(format!(
                "node {node} unneeded for {}s (utilization {utilization}%)",
                SCALE_DOWN_UNNEEDED_TIME
            )),
            GroupAction::SetStatus(_) | GroupAction::Forget { .. } => None,
        }
    }

    /// The event the action records (the executor writes them).
    pub fn event(&self) -> Option<EventReason> {
        match self {
            GroupAction::ScaleUp { .. } => Some(EventReason::TriggeredScaleUp),
            GroupAction::NotTriggered { .. } => Some(EventReason::NotTriggerScaleUp),
            GroupAction::ScaleDown { .. } => Some(EventReason::ScaleDown),
            GroupAction::SetStatus(_) | GroupAction::Forget { .. } => None,
        }
    }
}
