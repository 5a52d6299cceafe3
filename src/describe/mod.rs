//! The views `orch describe node|workload|replica` prints, built from the
//! state as `kubectl describe` gathers them: a node's replicas and what they
//! request, a workload's counts, strategy, template and replica sets, a
//! replica's head (the scheduler's verdicts come from `explain`), and each
//! object's events with the component that would have recorded them. Pure:
//! state and desired in, views out; `render::describe` lays them out, and
//! the node and workload views are also the `-o json|yaml` documents.

mod batch;
mod claim;
mod hpa;
mod node;
mod nodegroup;
mod replica;
mod workload;

pub use batch::{CronJobDescription, JobDescription, cron_job, job, wall_time};
pub use claim::{ClaimDescription, claim};
pub use hpa::{AutoscalerDescription, autoscaler};

pub use node::{AllocatedRow, NodeDescription, NodeReplicaRow, node};
pub use nodegroup::{MemberRow, NodeGroupDescription, node_group};
pub use replica::{ContainerStatus, ReplicaDescription, replica};
pub use workload::{ClaimTemplateView, WorkloadDescription, workload};

use crate::model::event::EventReason;
use crate::model::labels::{LabelSelector, SelectorOperator};
use crate::model::pod::{PodSpec, Toleration, TolerationEffect, TolerationOperator};
use crate::model::state::{Event, State};
use crate::model::time::duration;
use crate::model::workload::{Desired, Kind, ObjectRef, Workload};
use crate::reconcile::{WorkloadReport, summarize};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// What cannot be described.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DescribeError {
    #[error("node {0} not found in the state")]
    NodeNotFound(String),
    #[error("{0} is not a Deployment or DaemonSet in the state")]
    NotAWorkload(ObjectRef),
    #[error("{0} has no status")]
    NoStatus(ObjectRef),
    #[error("persistentvolumeclaim {0} not found in the state")]
    ClaimNotFound(String),
    #[error("horizontalpodautoscaler {0} not found in the state")]
    AutoscalerNotFound(String),
}

#[derive(Debug, Clone, Serialize)]
pub struct EventRow {
    #[serde(rename = "type")]
    pub kind: String,
    pub reason: String,
    pub age: String,
    pub from: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionRow {
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
    /// Simulated time of the last transition, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<u64>,
    pub reason: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateView {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub containers: Vec<ContainerView>,
    pub node_selector: BTreeMap<String, String>,
    pub tolerations: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ContainerView {
    pub name: String,
    pub image: String,
    pub ports: Vec<String>,
    pub requests: BTreeMap<String, String>,
    pub limits: BTreeMap<String, String>,
}

/// Which component of a Kubernetes cluster records an event of this reason
/// about this kind of object (kubectl's `From` column).
pub fn event_source(reason: EventReason, object_kind: &str, owner: Option<Kind>) -> &'static str {
    match (object_kind, reason) {
        (_, EventReason::Scheduled | EventReason::FailedScheduling) => "default-scheduler",
        (
            _,
            EventReason::TriggeredScaleUp | EventReason::NotTriggerScaleUp | EventReason::ScaleDown,
        ) => "cluster-autoscaler",
        ("Replica", EventReason::SuccessfulCreate) => match owner {
            Some(Kind::DaemonSet) => "daemonset-controller",
            Some(Kind::StatefulSet) => "statefulset-controller",
            Some(Kind::Job) => "job-controller",
            _ => "replicaset-controller",
        },
        ("Replica", EventReason::Evicted) => "taint-eviction-controller",
        ("Replica", EventReason::DriftCorrected) => "orch",
        ("Replica", _) => "kubelet",
        ("Deployment", _) => "deployment-controller",
        ("HorizontalPodAutoscaler", _) => "horizontal-pod-autoscaler",
        ("DaemonSet", _) => "daemonset-controller",
        ("StatefulSet", _) => "statefulset-controller",
        ("Job", _) => "job-controller",
        ("CronJob", _) => "cronjob-controller",
        ("Node", _) => "node-controller",
        ("PodDisruptionBudget", _) => "controllermanager",
        ("PersistentVolume", EventReason::ProvisioningSucceeded) => "external-provisioner",
        ("PersistentVolumeClaim" | "PersistentVolume", _) => "persistentvolume-controller",
        _ => "orch",
    }
}

/// The events about `object` (`Replica/api-…`, `Node/n1`), oldest first.
/// The declared pod-making workload `id`, the subject of `describe
/// deployment|daemonset|statefulset|job`.
fn declared<'d>(desired: &'d Desired, id: &ObjectRef) -> Result<&'d Workload, DescribeError> {
    desired
        .workloads
        .iter()
        .find(|w| &w.id == id)
        .ok_or_else(|| DescribeError::NotAWorkload(id.clone()))
}

/// What the loop reports of workload `id` now: counts, conditions, a Job's progress.
fn report(
    desired: &Desired,
    state: &State,
    id: &ObjectRef,
) -> Result<WorkloadReport, DescribeError> {
    let object = id.to_string();
    summarize(desired, state, state.clock)
        .into_iter()
        .find(|r| r.object == object)
        .ok_or_else(|| DescribeError::NoStatus(id.clone()))
}

pub fn events<'a>(state: &'a State, object: &str) -> Vec<&'a Event> {
    state.events.iter().filter(|e| e.object == object).collect()
}

fn event_rows(state: &State, object: &str, owner: Option<Kind>) -> Vec<EventRow> {
    let kind = object.split('/').next().unwrap_or("");
    events(state, object)
        .into_iter()
        .map(|e| EventRow {
            kind: format!("{:?}", e.kind),
            reason: e.reason.to_string(),
            age: duration(state.clock.saturating_sub(e.time)),
            from: event_source(e.reason, kind, owner).to_string(),
            message: e.message.clone(),
        })
        .collect()
}

/// `app=api,tier in (a,b),!canary` — a selector as kubectl prints it.
pub fn selector_text(selector: &LabelSelector) -> String {
    let mut parts: Vec<String> = selector
        .match_labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    for requirement in &selector.match_expressions {
        let values = requirement.values.join(",");
        parts.push(match requirement.operator {
            SelectorOperator::In => format!("{} in ({values})", requirement.key),
            SelectorOperator::NotIn => format!("{} notin ({values})", requirement.key),
            SelectorOperator::Exists => requirement.key.clone(),
            SelectorOperator::DoesNotExist => format!("!{}", requirement.key),
        });
    }
    parts.join(",")
}

/// A JSON object of scalars as a sorted map of strings.
fn string_map(value: &Value) -> BTreeMap<String, String> {
    value
        .as_object()
        .map(|map| map.iter().map(|(k, v)| (k.clone(), scalar(v))).collect())
        .unwrap_or_default()
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// kubectl's toleration text: `key=value:Effect`, `op=Exists`, `for 300s`.
fn toleration_text(toleration: &Toleration) -> String {
    let mut text = toleration.key.clone();
    if !toleration.value.is_empty() {
        text.push_str(&format!("={}", toleration.value));
    }
    let effect = match toleration.effect {
        TolerationEffect::Any => "",
        TolerationEffect::NoSchedule => "NoSchedule",
        TolerationEffect::PreferNoSchedule => "PreferNoSchedule",
        TolerationEffect::NoExecute => "NoExecute",
    };
    if !effect.is_empty() {
        text.push_str(&format!(":{effect}"));
    }
    if toleration.operator == TolerationOperator::Exists && toleration.value.is_empty() {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str("op=Exists");
    }
    if let Some(seconds) = toleration.toleration_seconds {
        text.push_str(&format!(" for {seconds}s"));
    }
    text
}

fn containers(template: &Value) -> Vec<ContainerView> {
    let list = template["spec"]["containers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    list.iter()
        .map(|c| ContainerView {
            name: scalar(&c["name"]),
            image: c["image"].as_str().unwrap_or("").to_string(),
            ports: c["ports"]
                .as_array()
                .map(|ports| ports.iter().map(port_text).collect())
                .unwrap_or_default(),
            requests: string_map(&c["resources"]["requests"]),
            limits: string_map(&c["resources"]["limits"]),
        })
        .collect()
}

/// `8080/TCP (http)`, or `8080/TCP` for an unnamed port.
fn port_text(port: &Value) -> String {
    let protocol = port["protocol"].as_str().unwrap_or("TCP");
    match port["name"].as_str() {
        Some(name) => format!("{}/{protocol} ({name})", scalar(&port["containerPort"])),
        None => format!("{}/{protocol}", scalar(&port["containerPort"])),
    }
}

fn template_view(template: &Value, pod: &PodSpec) -> TemplateView {
    TemplateView {
        labels: string_map(&template["metadata"]["labels"]),
        annotations: string_map(&template["metadata"]["annotations"]),
        containers: containers(template),
        node_selector: pod.node_selector.clone(),
        tolerations: pod.tolerations.iter().map(toleration_text).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_name_the_component_kubernetes_would() {
        assert_eq!(
            event_source(EventReason::Scheduled, "Replica", Some(Kind::Deployment)),
            "default-scheduler"
        );
        assert_eq!(
            event_source(
                EventReason::SuccessfulCreate,
                "Replica",
                Some(Kind::Deployment)
            ),
            "replicaset-controller"
        );
        assert_eq!(
            event_source(
                EventReason::SuccessfulCreate,
                "Replica",
                Some(Kind::DaemonSet)
            ),
            "daemonset-controller"
        );
        assert_eq!(event_source(EventReason::Ready, "Replica", None), "kubelet");
        assert_eq!(
            event_source(EventReason::ScalingReplicaSet, "Deployment", None),
            "deployment-controller"
        );
        assert_eq!(
            event_source(EventReason::NodeNotReady, "Node", None),
            "node-controller"
        );
    }

    #[test]
    fn tolerations_read_like_kubectl() {
        let mut t = Toleration {
            key: "nvidia.com/gpu".into(),
            value: "present".into(),
            effect: TolerationEffect::NoSchedule,
            ..Default::default()
        };
        assert_eq!(toleration_text(&t), "nvidia.com/gpu=present:NoSchedule");
        t = Toleration {
            key: "node.kubernetes.io/not-ready".into(),
            operator: TolerationOperator::Exists,
            effect: TolerationEffect::NoExecute,
            toleration_seconds: Some(300),
            ..Default::default()
        };
        assert_eq!(
            toleration_text(&t),
            "node.kubernetes.io/not-ready:NoExecute op=Exists for 300s"
        );
        t = Toleration {
            operator: TolerationOperator::Exists,
            ..Default::default()
        };
        assert_eq!(toleration_text(&t), "op=Exists");
    }
}
