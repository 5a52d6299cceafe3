//! `describe deployment|daemonset`: the workload's counts from its status,
//! its strategy and pod template, and its replica sets (new and old).

use super::{
    ConditionRow, DescribeError, EventRow, TemplateView, declared, event_rows, report,
    selector_text, string_map, template_view,
};
use crate::model::state::{API_VERSION, Phase, Replica, State};
use crate::model::workload::{Desired, Kind, ObjectRef, Strategy};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadDescription {
    pub api_version: &'static str,
    pub kind: &'static str,
    /// `Deployment/default/api`.
    pub object: String,
    pub workload_kind: String,
    pub name: String,
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub selector: String,
    pub desired: i32,
    pub updated: i32,
    pub total: i32,
    pub ready: i32,
    pub available: i32,
    pub unavailable: i32,
    /// DaemonSets: replicas by phase.
    pub running: usize,
    pub waiting: usize,
    pub failed: usize,
    pub strategy: String,
    /// `25% max unavailable, 25% max surge`, for RollingUpdate.
    pub rolling_update: Option<String>,
    pub min_ready_seconds: u64,
    pub template: TemplateView,
    pub conditions: Vec<ConditionRow>,
    /// `api-d475665c9 (4/4 replicas created)`.
    pub new_replica_set: Option<String>,
    pub old_replica_sets: Vec<String>,
    /// A StatefulSet's `volumeClaimTemplates`, as kubectl's `Volume Claims:` block.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_claims: Option<Vec<ClaimTemplateView>>,
    pub events: Vec<EventRow>,
}

/// One claim template as `kubectl describe statefulset` lists it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimTemplateView {
    pub name: String,
    /// As written (empty when the template names no class).
    pub storage_class: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// The storage request as written (`<default>` without one).
    pub capacity: String,
    pub access_modes: Vec<String>,
}

/// The claim templates of a StatefulSet's manifest.
fn claim_templates(manifest: &serde_json::Value) -> Vec<ClaimTemplateView> {
    let templates = manifest["spec"]["volumeClaimTemplates"].as_array();
    templates
        .into_iter()
        .flatten()
        .map(|t| {
            let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
            let capacity = &t["spec"]["resources"]["requests"]["storage"];
            ClaimTemplateView {
                name: text(&t["metadata"]["name"]),
                storage_class: text(&t["spec"]["storageClassName"]),
                labels: string_map(&t["metadata"]["labels"]),
                annotations: string_map(&t["metadata"]["annotations"]),
                capacity: match capacity {
                    serde_json::Value::Null => "<default>".into(),
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                },
                access_modes: t["spec"]["accessModes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(text)
                    .collect(),
            }
        })
        .collect()
}

/// The workload `id` as `kubectl describe deployment|daemonset` shows it.
pub fn workload(
    desired: &Desired,
    state: &State,
    id: &ObjectRef,
) -> Result<WorkloadDescription, DescribeError> {
    let workload = declared(desired, id)?;
    let object = id.to_string();
    let report = report(desired, state, id)?;
    let stored = state.workload(id);
    let current = stored.and_then(|w| w.current_revision());
    let live: Vec<&Replica> = state
        .replicas
        .iter()
        .filter(|r| &r.workload == id && r.phase.is_active())
        .collect();
    let mut annotations = string_map(&workload.manifest.value()["metadata"]["annotations"]);
    if id.kind == Kind::Deployment
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
    let (strategy, mut rolling_update) = strategy(&workload.strategy, id.kind);
    if let Some(stateful) = &workload.stateful
        && rolling_update.is_some()
    {
        // A StatefulSet's RollingUpdate has a partition, not surge limits.
        rolling_update = Some(stateful.partition.to_string());
    }
    let count = |phase: Phase| live.iter().filter(|r| r.phase == phase).count();
    Ok(WorkloadDescription {
        api_version: API_VERSION,
        kind: "WorkloadDescription",
        object: object.clone(),
        workload_kind: id.kind.to_string(),
        name: id.name.to_string(),
        namespace: id.namespace.to_string(),
        labels: workload.labels.clone(),
        annotations,
        selector: selector_text(&workload.selector),
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
        template: template_view(&workload.template.value(), &workload.pod),
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
        new_replica_set: (id.kind == Kind::Deployment)
            .then_some(new_replica_set)
            .flatten(),
        old_replica_sets,
        volume_claims: (id.kind == Kind::StatefulSet)
            .then(|| claim_templates(&workload.manifest.value())),
        events: event_rows(state, &object, Some(id.kind)),
    })
}

/// The strategy's name and, for RollingUpdate, its limits as kubectl words them.
fn strategy(strategy: &Strategy, kind: Kind) -> (&'static str, Option<String>) {
    match strategy {
        Strategy::RollingUpdate {
            max_surge,
            max_unavailable,
        } => (
            "RollingUpdate",
            Some(match kind {
                Kind::DaemonSet => {
                    format!("Max Unavailable: {max_unavailable}, Max Surge: {max_surge}")
                }
                _ => format!("{max_unavailable} max unavailable, {max_surge} max surge"),
            }),
        ),
        Strategy::Recreate => ("Recreate", None),
        Strategy::OnDelete => ("OnDelete", None),
    }
}
