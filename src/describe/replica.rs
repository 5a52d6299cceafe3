//! `describe replica`: the kubectl-style head of a replica (labels, owner,
//! container, conditions, scheduling fields) and its events; the
//! scheduler's verdicts that follow it are `explain`'s.

use super::{ContainerView, EventRow, containers, event_rows, toleration_text};
use crate::explain::Explanation;
use crate::model::condition::{ConditionStatus, ConditionType};
use crate::model::state::{Phase, State};
use crate::model::time::duration;
use crate::model::workload::{Desired, Kind};
use crate::reconcile::{Catalog, POD_TEMPLATE_HASH};
use serde_json::Value;
use std::collections::BTreeMap;

/// The head of `describe replica`, and the replica's events.
#[derive(Debug, Clone)]
pub struct ReplicaDescription {
    pub name: String,
    pub namespace: String,
    /// Priority and class name, where the manifests use priorities.
    pub priority: Option<(i32, String)>,
    pub node: Option<String>,
    pub start_time: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub status: String,
    pub reason: Option<String>,
    pub controlled_by: String,
    pub containers: Vec<ContainerView>,
    pub container_status: ContainerStatus,
    pub conditions: Vec<(String, String)>,
    pub node_selector: BTreeMap<String, String>,
    pub tolerations: Vec<String>,
    pub events: Vec<EventRow>,
}

#[derive(Debug, Clone)]
pub struct ContainerStatus {
    pub state: String,
    pub ready: bool,
    pub restarts: u32,
}

/// The explained replica as `kubectl describe pod` shows it.
pub fn replica(desired: &Desired, state: &State, explanation: &Explanation) -> ReplicaDescription {
    let replica = &explanation.replica;
    let catalog = Catalog::build(desired, state);
    let pod = catalog.pod(&replica.workload, &replica.hash);
    let template = state
        .workload(&replica.workload)
        .and_then(|w| w.revisions.iter().find(|r| *r.hash == *replica.hash))
        .map(|r| r.template.value())
        .unwrap_or(Value::Null);
    let mut labels = pod.map(|p| p.labels.clone()).unwrap_or_default();
    let (controlled_by, hash_label) = match replica.workload.kind {
        Kind::DaemonSet => (
            format!("DaemonSet/{}", replica.workload.name),
            "controller-revision-hash",
        ),
        Kind::StatefulSet => (
            format!("StatefulSet/{}", replica.workload.name),
            "controller-revision-hash",
        ),
        _ => (
            format!("ReplicaSet/{}-{}", replica.workload.name, replica.hash),
            POD_TEMPLATE_HASH,
        ),
    };
    labels.insert(hash_label.into(), replica.hash.to_string());
    let scheduled = replica.node.is_some();
    let conditions: Vec<(ConditionType, bool)> = if scheduled {
        vec![
            (ConditionType::Initialized, true),
            (ConditionType::Ready, replica.ready),
            (ConditionType::ContainersReady, replica.ready),
            (ConditionType::PodScheduled, true),
        ]
    } else {
        vec![(ConditionType::PodScheduled, false)]
    };
    let conditions = conditions
        .into_iter()
        .map(|(kind, status)| (kind.to_string(), ConditionStatus::from(status).to_string()))
        .collect();
    let state_word = match replica.phase {
        Phase::Running => "Running",
        Phase::Pending => "Waiting",
        Phase::Terminating | Phase::Failed | Phase::Succeeded => "Terminated",
    };
    ReplicaDescription {
        name: replica.name.to_string(),
        namespace: replica.workload.namespace.to_string(),
        priority: crate::reconcile::preemption::in_use(desired)
            .then(|| pod.map(|p| (p.priority, p.priority_class_name.clone())))
            .flatten(),
        node: replica.node.as_deref().map(str::to_string),
        start_time: replica.started_at.map(|t| format!("t={}", duration(t))),
        labels,
        status: format!("{:?}", replica.phase),
        reason: replica.reason.clone(),
        controlled_by,
        containers: containers(&template),
        container_status: ContainerStatus {
            state: state_word.into(),
            ready: replica.ready,
            restarts: replica.restarts,
        },
        conditions,
        node_selector: pod.map(|p| p.node_selector.clone()).unwrap_or_default(),
        tolerations: pod
            .map(|p| p.tolerations.iter().map(toleration_text).collect())
            .unwrap_or_default(),
        events: event_rows(
            state,
            &format!("Replica/{}", replica.name),
            Some(replica.workload.kind),
        ),
    }
}
