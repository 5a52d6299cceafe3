//! `orch describe node|workload|replica NAME` (as `kubectl describe` prints
//! them) and `orch explain NAME`: for a replica, the scheduler's verdict on
//! every node, and what would make it fit.

use super::apply::Scoring;
use super::get::stored_desired;
use super::shared::{hint, out, out_document};
use super::{Context, Exit};
use crate::explain::{ExplainError, explain};
use crate::model::condition::{ConditionReason, ConditionStatus, ConditionType};
use crate::model::event::EventReason;
use crate::model::labels::Labels;
use crate::model::pod::{PodSpec, Toleration, TolerationEffect, TolerationOperator};
use crate::model::resources::{CPU, EPHEMERAL_STORAGE, MEMORY, PODS, Resources, format_amount};
use crate::model::state::{API_VERSION, Event, Phase, Replica, State};
use crate::model::workload::{Kind as ObjectKind, Strategy};

use crate::reconcile::{Catalog, POD_TEMPLATE_HASH, summarize};
use crate::render::describe::{
    self as view, AllocatedRow, ConditionRow, ContainerStatus, ContainerView, EventRow,
    NodeDescription, NodeReplicaRow, ReplicaDescription, TemplateView, WorkloadDescription,
};
use crate::render::{self, explain as explain_view};
use crate::scheduler::{Scheduler, ScoringStrategy};
use crate::state_store;
use anyhow::{Result, anyhow, bail};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    #[value(alias = "nodes", alias = "no")]
    Node,
    #[value(
        alias = "workloads",
        alias = "deployment",
        alias = "deployments",
        alias = "deploy",
        alias = "daemonset",
        alias = "daemonsets",
        alias = "ds"
    )]
    Workload,
    #[value(alias = "replicas", alias = "pod", alias = "po")]
    Replica,
}

#[derive(Debug, clap::Args)]
pub struct DescribeArgs {
    #[arg(value_enum)]
    pub kind: Kind,
    #[command(flatten)]
    pub explain: ExplainArgs,
}

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// Replica name (as `orch get replicas` lists it); for describe, the node or workload
    /// (`api`, `Deployment/api`, `DaemonSet/kube-system/log-agent`).
    pub name: String,
    /// Node scoring for resources, as given to plan/apply.
    #[arg(long, value_enum, default_value_t)]
    pub scoring: Scoring,
}

pub fn describe(context: &Context, args: DescribeArgs) -> Result<Exit> {
    match args.kind {
        Kind::Replica => replica(context, args.explain),
        Kind::Node => node(context, &args.explain.name),
        Kind::Workload => workload(context, &args.explain.name),
    }
}

fn scheduler(scoring: Scoring) -> Scheduler {
    Scheduler::new(match scoring {
        Scoring::LeastAllocated => ScoringStrategy::LeastAllocated,
        Scoring::MostAllocated => ScoringStrategy::MostAllocated,
    })
}

/// The replica's explanation, or a not-found error naming the closest replicas.
fn explained(
    state: &State,
    args: &ExplainArgs,
) -> Result<(crate::model::workload::Desired, crate::explain::Explanation)> {
    let desired = stored_desired(state)?;
    match explain(&desired, state, &args.name, &scheduler(args.scoring)) {
        Ok(explanation) => Ok((desired, explanation)),
        Err(error @ ExplainError::NotFound(_)) => Err(anyhow!(
            "{error}{}",
            hint(&args.name, state.replicas.iter().map(|r| r.name.as_str()))
        )),
        Err(error) => Err(error.into()),
    }
}

/// `orch explain NAME`.
pub fn run(context: &Context, args: ExplainArgs) -> Result<Exit> {
    let state = state_store::load(&context.state)?;
    let (_, explanation) = explained(&state, &args)?;
    if context.output.is_document() {
        out_document(&explain_view::document(&explanation), context.output);
    } else {
        let object = format!("Replica/{}", args.name);
        let events: Vec<_> = state.events.iter().filter(|e| e.object == object).collect();
        out(&explain_view::text(&explanation, &events));
    }
    Ok(Exit::Success)
}

/// Which component of a Kubernetes cluster records an event of this reason
/// about this kind of object (kubectl's `From` column).
pub fn event_source(
    reason: EventReason,
    object_kind: &str,
    owner: Option<ObjectKind>,
) -> &'static str {
    match (object_kind, reason) {
        (_, EventReason::Scheduled | EventReason::FailedScheduling) => "default-scheduler",
        ("Replica", EventReason::SuccessfulCreate) => match owner {
            Some(ObjectKind::DaemonSet) => "daemonset-controller",
            _ => "replicaset-controller",
        },
        ("Replica", EventReason::Evicted) => "taint-eviction-controller",
        ("Replica", EventReason::DriftCorrected) => "orch",
        ("Replica", _) => "kubelet",
        ("Deployment", _) => "deployment-controller",
        ("DaemonSet", _) => "daemonset-controller",
        ("Node", _) => "node-controller",
        ("PodDisruptionBudget", _) => "controllermanager",
        _ => "orch",
    }
}

fn event_rows(state: &State, object: &str, owner: Option<ObjectKind>) -> Vec<EventRow> {
    let kind = object.split('/').next().unwrap_or("");
    state
        .events
        .iter()
        .filter(|e: &&Event| e.object == object)
        .map(|e| EventRow {
            kind: format!("{:?}", e.kind),
            reason: e.reason.to_string(),
            age: render::duration(state.clock.saturating_sub(e.time)),
            from: event_source(e.reason, kind, owner).to_string(),
            message: e.message.clone(),
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

fn node(context: &Context, name: &str) -> Result<Exit> {
    let state = state_store::load(&context.state)?;
    let Some(node) = state.node(name) else {
        bail!(
            "node {name} not found in state {}{}",
            context.state.display(),
            hint(name, state.nodes.iter().map(|n| n.name.as_str()))
        );
    };
    let desired = stored_desired(&state)?;
    let catalog = Catalog::build(&desired, &state);
    let mut on_node: Vec<&Replica> = state
        .replicas
        .iter()
        .filter(|r| r.node.as_deref() == Some(name) && r.phase != Phase::Terminating)
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
            name: replica.name.clone(),
            cpu_requests: share(CPU),
            memory_requests: share(MEMORY),
            age: render::duration(state.clock.saturating_sub(replica.created_at)),
        });
    }
    // cpu, memory and ephemeral-storage always, then every extended resource
    // the node offers or its replicas ask for.
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
    let allocated = resources
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
        .collect();
    let conditions = if node.conditions.is_empty() {
        vec![ConditionRow {
            kind: ConditionType::Ready.to_string(),
            status: ConditionStatus::from(node.ready).to_string(),
            last_transition_time: None,
            reason: ConditionReason::KubeletReady.to_string(),
            message: "kubelet is posting ready status".into(),
        }]
    } else {
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
    };
    let description = NodeDescription {
        api_version: API_VERSION,
        kind: "NodeDescription",
        name: node.name.clone(),
        roles: roles(&node.labels),
        labels: node.labels.clone(),
        taints: node.taints.iter().map(ToString::to_string).collect(),
        unschedulable: node.unschedulable,
        conditions,
        allocatable: node.allocatable.to_map(),
        replicas,
        allocated,
        events: event_rows(&state, &format!("Node/{name}"), None),
    };
    print(context, &description, view::node)
}

fn print<T: serde::Serialize>(
    context: &Context,
    description: &T,
    text: fn(&T) -> String,
) -> Result<Exit> {
    if context.output.is_document() {
        out_document(description, context.output);
    } else {
        out(&text(description));
    }
    Ok(Exit::Success)
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

fn workload(context: &Context, name: &str) -> Result<Exit> {
    let state = state_store::load(&context.state)?;
    let id = super::rollout::resolve(&state, name)?;
    let desired = stored_desired(&state)?;
    let Some(workload) = desired.workloads.iter().find(|w| w.id == id) else {
        bail!("{id} is not a Deployment or DaemonSet in the state");
    };
    let object = id.to_string();
    let reports = summarize(&desired, &state, state.clock);
    let report = reports
        .iter()
        .find(|r| r.object == object)
        .ok_or_else(|| anyhow!("{id} has no status"))?;
    let stored = state.workload(&id);
    let current = stored.and_then(|w| w.current_revision());
    let live: Vec<&Replica> = state
        .replicas
        .iter()
        .filter(|r| r.workload == id && r.phase != Phase::Terminating)
        .collect();
    let mut annotations = string_map(&workload.manifest["metadata"]["annotations"]);
    if id.kind == ObjectKind::Deployment
        && let Some(revision) = current
    {
        annotations.insert(
            "deployment.kubernetes.io/revision".into(),
            revision.revision.to_string(),
        );
    }
    let replica_set = |hash: &str, desired: usize| {
        let count = live.iter().filter(|r| &*r.hash == hash).count();
        format!("{}-{hash} ({count}/{desired} replicas created)", id.name)
    };
    let new_replica_set = current.map(|r| replica_set(&r.hash, report.desired.max(0) as usize));
    let old_replica_sets = stored
        .map(|w| {
            let mut old: Vec<_> = w
                .revisions
                .iter()
                .filter(|r| Some(r.revision) != current.map(|c| c.revision))
                .collect();
            old.sort_by_key(|r| r.revision);
            old.iter()
                .filter(|r| live.iter().any(|l| *l.hash == *r.hash))
                .map(|r| {
                    let count = live.iter().filter(|l| *l.hash == *r.hash).count();
                    replica_set(&r.hash, count)
                })
                .collect()
        })
        .unwrap_or_default();
    let (strategy, rolling_update) = match &workload.strategy {
        Strategy::RollingUpdate {
            max_surge,
            max_unavailable,
        } => (
            "RollingUpdate",
            Some(match workload.id.kind {
                ObjectKind::DaemonSet => {
                    format!("Max Unavailable: {max_unavailable}, Max Surge: {max_surge}")
                }
                _ => format!("{max_unavailable} max unavailable, {max_surge} max surge"),
            }),
        ),
        Strategy::Recreate => ("Recreate", None),
        Strategy::OnDelete => ("OnDelete", None),
    };
    let count = |phase: Phase| live.iter().filter(|r| r.phase == phase).count();
    let description = WorkloadDescription {
        api_version: API_VERSION,
        kind: "WorkloadDescription",
        object: object.clone(),
        workload_kind: id.kind.to_string(),
        name: id.name.to_string(),
        namespace: id.namespace.to_string(),
        labels: workload.labels.clone(),
        annotations,
        selector: view::selector_text(&workload.selector),
        desired: report.desired,
        updated: report.updated,
        total: report.current,
        ready: report.ready,
        available: report.available,
        unavailable: (report.desired - report.available).max(0),
        running: count(Phase::Running),
        waiting: count(Phase::Pending),
        failed: count(Phase::Failed),
        strategy: strategy.into(),
        rolling_update,
        min_ready_seconds: workload.min_ready_seconds,
        template: template_view(&workload.template, &workload.pod),
        conditions: report
            .conditions
            .iter()
            .map(|c| ConditionRow {
                kind: c.kind.to_string(),
                status: c.status.to_string(),
                last_transition_time: None,
                reason: c
                    .reason
                    .as_ref()
                    .map_or_else(String::new, ToString::to_string),
                message: c.message.clone(),
            })
            .collect(),
        new_replica_set: (id.kind == ObjectKind::Deployment)
            .then_some(new_replica_set)
            .flatten(),
        old_replica_sets,
        events: event_rows(&state, &object, Some(id.kind)),
    };
    print(context, &description, view::workload)
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
                .map(|ports| {
                    ports
                        .iter()
                        .map(|p| {
                            let protocol = p["protocol"].as_str().unwrap_or("TCP");
                            match p["name"].as_str() {
                                Some(name) => {
                                    format!("{}/{protocol} ({name})", scalar(&p["containerPort"]))
                                }
                                None => format!("{}/{protocol}", scalar(&p["containerPort"])),
                            }
                        })
                        .collect()
                })
                .unwrap_or_default(),
            requests: string_map(&c["resources"]["requests"]),
            limits: string_map(&c["resources"]["limits"]),
        })
        .collect()
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

fn replica(context: &Context, args: ExplainArgs) -> Result<Exit> {
    let state = state_store::load(&context.state)?;
    let (desired, explanation) = explained(&state, &args)?;
    if context.output.is_document() {
        out_document(&explain_view::document(&explanation), context.output);
        return Ok(Exit::Success);
    }
    let replica = &explanation.replica;
    let catalog = Catalog::build(&desired, &state);
    let pod = catalog.pod(&replica.workload, &replica.hash);
    let template = state
        .workload(&replica.workload)
        .and_then(|w| w.revisions.iter().find(|r| *r.hash == *replica.hash))
        .map(|r| (*r.template).clone())
        .unwrap_or(Value::Null);
    let mut labels = pod.map(|p| p.labels.clone()).unwrap_or_default();
    let (controlled_by, hash_label) = match replica.workload.kind {
        ObjectKind::DaemonSet => (
            format!("DaemonSet/{}", replica.workload.name),
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
        Phase::Terminating | Phase::Failed => "Terminated",
    };
    let description = ReplicaDescription {
        name: replica.name.clone(),
        namespace: replica.workload.namespace.to_string(),
        node: replica.node.clone(),
        start_time: replica
            .started_at
            .map(|t| format!("t={}", render::duration(t))),
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
    };
    let events = event_rows(
        &state,
        &format!("Replica/{}", replica.name),
        Some(replica.workload.kind),
    );
    out(&view::replica(
        &description,
        &explain_view::verdicts(&explanation),
        &events,
    ));
    Ok(Exit::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_name_the_component_kubernetes_would() {
        assert_eq!(
            event_source(
                EventReason::Scheduled,
                "Replica",
                Some(ObjectKind::Deployment)
            ),
            "default-scheduler"
        );
        assert_eq!(
            event_source(
                EventReason::SuccessfulCreate,
                "Replica",
                Some(ObjectKind::Deployment)
            ),
            "replicaset-controller"
        );
        assert_eq!(
            event_source(
                EventReason::SuccessfulCreate,
                "Replica",
                Some(ObjectKind::DaemonSet)
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

    #[test]
    fn shares_truncate_like_kubectl() {
        assert_eq!(with_share(CPU, 2100, 4000), ("2100m".to_string(), 52));
        assert_eq!(with_share(MEMORY, 0, 0), ("0".to_string(), 0));
    }
}
