//! `describe node`: the node's fields and conditions, its replicas with
//! what they request, and the requests summed against allocatable.

use super::{ConditionRow, DescribeError, EventRow, event_rows};
use crate::model::condition::{ConditionReason, ConditionStatus, ConditionType};
use crate::model::labels::Labels;
use crate::model::resources::{CPU, EPHEMERAL_STORAGE, MEMORY, PODS, Resources, format_amount};
use crate::model::state::{API_VERSION, NodeState, Replica, State};
use crate::model::time::duration;
use crate::model::workload::Desired;
use crate::reconcile::Catalog;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeDescription {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub name: String,
    pub roles: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub taints: Vec<String>,
    pub unschedulable: bool,
    pub conditions: Vec<ConditionRow>,
    pub allocatable: BTreeMap<String, String>,
    /// `Namespace/name` order, as kubectl lists a node's pods.
    pub replicas: Vec<NodeReplicaRow>,
    /// Per resource: the requests of the replicas on the node, and their share of allocatable.
    pub allocated: Vec<AllocatedRow>,
    pub events: Vec<EventRow>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeReplicaRow {
    pub namespace: String,
    pub name: String,
    pub cpu_requests: String,
    pub memory_requests: String,
    pub age: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AllocatedRow {
    pub resource: String,
    pub requests: String,
    pub percent: i64,
}

/// The node `name` as `kubectl describe node` shows it.
pub fn node(
    desired: &Desired,
    state: &State,
    name: &str,
) -> Result<NodeDescription, DescribeError> {
    let node = state
        .node(name)
        .ok_or_else(|| DescribeError::NodeNotFound(name.into()))?;
    let catalog = Catalog::build(desired, state);
    let mut on_node: Vec<&Replica> = state
        .replicas
        .iter()
        .filter(|r| r.node.as_deref() == Some(name) && r.phase.is_active())
        .collect();
    on_node.sort_by(|a, b| (&a.workload.namespace, &a.name).cmp(&(&b.workload.namespace, &b.name)));
    let mut total = Resources::default();
    let mut replicas = Vec::new();
    for replica in &on_node {
        let requests = catalog
            .pod(&replica.workload, &replica.hash)
            .map(|pod| pod.requests.clone())
            .unwrap_or_default();
        total.add(&requests);
        let share = |resource: &str| {
            let (amount, percent) = with_share(
                resource,
                requests.get(resource),
                node.allocatable.resources.get(resource),
            );
            format!("{amount} ({percent}%)")
        };
        replicas.push(NodeReplicaRow {
            namespace: replica.workload.namespace.to_string(),
            name: replica.name.to_string(),
            cpu_requests: share(CPU),
            memory_requests: share(MEMORY),
            age: duration(state.clock.saturating_sub(replica.created_at)),
        });
    }
    Ok(NodeDescription {
        api_version: API_VERSION,
        kind: "NodeDescription",
        name: node.name.clone(),
        roles: roles(&node.labels),
        labels: node.labels.clone(),
        taints: node.taints.iter().map(ToString::to_string).collect(),
        unschedulable: node.unschedulable,
        conditions: conditions(node),
        allocatable: node.allocatable.to_map(),
        replicas,
        allocated: allocated(node, &total),
        events: event_rows(state, &format!("Node/{name}"), None),
    })
}

/// cpu, memory and ephemeral-storage always, then every extended resource
/// the node offers or its replicas ask for: the requests and their share.
fn allocated(node: &NodeState, total: &Resources) -> Vec<AllocatedRow> {
    let mut resources: Vec<String> = vec![CPU.into(), MEMORY.into(), EPHEMERAL_STORAGE.into()];
    for extra in node
        .allocatable
        .resources
        .names()
        .into_iter()
        .chain(total.names())
    {
        if extra != PODS && !resources.iter().any(|r| r == extra) {
            resources.push(extra.to_string());
        }
    }
    resources
        .iter()
        .map(|resource| {
            let (requests, percent) = with_share(
                resource,
                total.get(resource),
                node.allocatable.resources.get(resource),
            );
            AllocatedRow {
                resource: resource.clone(),
                requests,
                percent,
            }
        })
        .collect()
}

/// The node's conditions; a node without any is `Ready` as its flag says.
fn conditions(node: &NodeState) -> Vec<ConditionRow> {
    if node.conditions.is_empty() {
        return vec![ConditionRow {
            kind: ConditionType::Ready.to_string(),
            status: ConditionStatus::from(node.ready).to_string(),
            last_transition_time: None,
            reason: ConditionReason::KubeletReady.to_string(),
            message: "kubelet is posting ready status".into(),
        }];
    }
    node.conditions
        .iter()
        .map(|c| ConditionRow {
            kind: c.kind.to_string(),
            status: c.status.to_string(),
            last_transition_time: Some(c.last_transition_time),
            reason: c
                .reason
                .as_ref()
                .map_or_else(String::new, ToString::to_string),
            message: c.message.clone(),
        })
        .collect()
}

/// `500m (12%)`: an amount and its share of the allocatable amount, truncated as kubectl does.
fn with_share(name: &str, requested: i64, allocatable: i64) -> (String, i64) {
    let percent = if allocatable > 0 {
        ((requested as f64 / allocatable as f64) * 100.0) as i64
    } else {
        0
    };
    (format_amount(name, requested), percent)
}

/// kubectl's node roles: `node-role.kubernetes.io/<role>` labels and `kubernetes.io/role`.
fn roles(labels: &Labels) -> Vec<String> {
    let mut roles: Vec<String> = labels
        .iter()
        .filter_map(|(key, value)| {
            if let Some(role) = key.strip_prefix("node-role.kubernetes.io/") {
                (!role.is_empty()).then(|| role.to_string())
            } else if key == "kubernetes.io/role" && !value.is_empty() {
                Some(value.clone())
            } else {
                None
            }
        })
        .collect();
    roles.sort();
    roles.dedup();
    roles
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_truncate_like_kubectl() {
        assert_eq!(with_share(CPU, 2100, 4000), ("2100m".to_string(), 52));
        assert_eq!(with_share(MEMORY, 0, 0), ("0".to_string(), 0));
    }
}
