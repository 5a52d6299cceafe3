//! `orch describe nodegroup NAME`: a NodeGroup's sizes and template, its
//! members with their use, the members on their way and those found
//! unneeded, and cluster-autoscaler's events about it.

use super::{EventRow, event_source};
use crate::autoscale::nodegroup::controller::members;
use crate::autoscale::nodegroup::{
    SCALE_DOWN_DELAY_AFTER_ADD, SCALE_DOWN_UNNEEDED_TIME, utilization,
};
use crate::model::event::EventReason;
use crate::model::node_group::NodeTemplate;
use crate::model::resources::Resources;
use crate::model::state::State;
use crate::model::time::duration;
use crate::model::workload::Desired;
use crate::reconcile::{Catalog, occupied_snapshot};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeGroupDescription {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub name: String,
    pub min_size: u32,
    pub max_size: u32,
    pub provision_delay: String,
    pub template: Vec<String>,
    pub members: Vec<MemberRow>,
    /// `general-2 joins at t=3m (in 45s)`.
    pub provisioning: Vec<String>,
    /// `general-0 since t=5m (removable at t=15m)`.
    pub unneeded: Vec<String>,
    pub last_scale_up: Option<String>,
    pub events: Vec<EventRow>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberRow {
    pub name: String,
    pub status: String,
    /// The larger of the cpu and memory requested shares, in percent.
    pub utilization: u32,
    pub replicas: usize,
}

/// The group's view, or None when the state has no such group.
pub fn node_group(desired: &Desired, state: &State, name: &str) -> Option<NodeGroupDescription> {
    let record = state.node_groups.iter().find(|g| g.name == name)?;
    let now = state.clock;
    Some(NodeGroupDescription {
        api_version: crate::model::state::API_VERSION,
        kind: "NodeGroupDescription",
        name: name.to_string(),
        min_size: record.min_size,
        max_size: record.max_size,
        provision_delay: duration(record.provision_delay),
        template: template_lines(&record.template),
        members: member_rows(desired, state, name),
        provisioning: record
            .provisioning
            .iter()
            .map(|p| {
                format!(
                    "{} joins at t={} (in {})",
                    p.node,
                    duration(p.ready_at),
                    duration(p.ready_at.saturating_sub(now))
                )
            })
            .collect(),
        unneeded: record
            .unneeded
            .iter()
            .map(|(node, since)| {
                let at = (since + SCALE_DOWN_UNNEEDED_TIME).max(
                    record
                        .last_scale_up
                        .map_or(0, |t| t + SCALE_DOWN_DELAY_AFTER_ADD),
                );
                format!(
                    "{node} since t={} (removable at t={})",
                    duration(*since),
                    duration(at)
                )
            })
            .collect(),
        last_scale_up: record.last_scale_up.map(|t| format!("t={}", duration(t))),
        events: group_events(state, name),
    })
}

/// The group's members: status, use of the larger resource, replicas.
fn member_rows(desired: &Desired, state: &State, name: &str) -> Vec<MemberRow> {
    let catalog = Catalog::build(desired, state);
    let snapshot = occupied_snapshot(state, &catalog, None);
    let nodes = members(state, name);
    nodes
        .iter()
        .map(|node| {
            let requested = snapshot
                .index_of(&node.name)
                .map_or_else(Resources::default, |i| snapshot.nodes[i].requested.clone());
            let mut status = if node.ready { "Ready" } else { "NotReady" }.to_string();
            if node.unschedulable {
                status.push_str(",SchedulingDisabled");
            }
            MemberRow {
                name: node.name.clone(),
                status,
                utilization: (utilization(&node.allocatable.resources, &requested) * 100.0).round()
                    as u32,
                replicas: state
                    .replicas
                    .iter()
                    .filter(|r| r.phase.is_active() && r.node.as_deref() == Some(&node.name))
                    .count(),
            }
        })
        .collect()
}

/// The shape of the group's nodes: allocatable, labels, taints.
fn template_lines(template: &NodeTemplate) -> Vec<String> {
    let mut shape = vec![format!(
        "allocatable: {}",
        template
            .allocatable
            .to_map()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    )];
    shape.extend(
        template
            .labels
            .iter()
            .map(|(k, v)| format!("label: {k}={v}")),
    );
    shape.extend(template.taints.iter().map(|t| format!("taint: {t}")));
    shape
}

/// cluster-autoscaler's events about the group: its scale-ups, and the
/// scale-downs of its members.
fn group_events(state: &State, name: &str) -> Vec<EventRow> {
    let now = state.clock;
    let group_marker = format!("{{{name} ");
    let member_objects: Vec<String> = state
        .nodes
        .iter()
        .filter(|n| {
            n.labels
                .get(crate::model::node_group::GROUP_LABEL)
                .map(String::as_str)
                == Some(name)
        })
        .map(|n| format!("Node/{}", n.name))
        .collect();
    state
        .events
        .iter()
        .filter(|e| match e.reason {
            EventReason::TriggeredScaleUp => e.message.contains(&group_marker),
            EventReason::ScaleDown => member_objects.contains(&e.object),
            _ => false,
        })
        .map(|e| EventRow {
            kind: format!("{:?}", e.kind),
            reason: e.reason.to_string(),
            age: duration(now.saturating_sub(e.time)),
            from: event_source(e.reason, "NodeGroup", None).to_string(),
            message: format!("{}: {}", e.object, e.message),
        })
        .collect()
}
