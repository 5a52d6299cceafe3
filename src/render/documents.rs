//! The versioned machine-readable documents of SPEC §8. Field names and order
//! are the contract; tests pin them.

use crate::audit::SpreadSkew;
use crate::executor::{RunResult, Step};
use crate::model::condition::ConditionReason;
use crate::model::pod::{Taint, WhenUnsatisfiable};
use crate::model::state::{API_VERSION, Phase};
use crate::reconcile::Action;
use crate::reconcile::status::WorkloadReport;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunDocument<'a> {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub outcome: &'static str,
    pub clock: u64,
    pub steps: Vec<StepDocument<'a>>,
    pub workloads: Vec<WorkloadDocument<'a>>,
    /// What the audit of the final state found (spread skew after a rollout).
    pub warnings: Vec<WarningDocument<'a>>,
    /// `apply --atomic` only: the rollbacks made after a failed rollout.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rolled_back: Vec<&'a str>,
    /// The HorizontalPodAutoscalers at the end of the run (absent when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub autoscalers: Vec<AutoscalerDocument<'a>>,
}

/// An HPA's status at the end of a run.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoscalerDocument<'a> {
    pub object: String,
    /// `Deployment/api`.
    pub reference: &'a str,
    pub min_replicas: i32,
    pub max_replicas: i32,
    pub current_replicas: i32,
    pub desired_replicas: i32,
    pub last_scale_time: Option<u64>,
    pub current_metrics: &'a [crate::autoscale::status::CurrentMetric],
    pub conditions: &'a [crate::autoscale::hpa::Condition],
}

pub fn autoscaler(record: &crate::autoscale::status::AutoscalerState) -> AutoscalerDocument<'_> {
    AutoscalerDocument {
        object: record.id(),
        reference: &record.target,
        min_replicas: record.min_replicas,
        max_replicas: record.max_replicas,
        current_replicas: record.status.current_replicas,
        desired_replicas: record.status.desired_replicas,
        last_scale_time: record.status.last_scale_time,
        current_metrics: &record.status.current_metrics,
        conditions: &record.status.conditions,
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WarningDocument<'a> {
    pub object: &'a str,
    pub kind: &'static str,
    pub topology_key: &'a str,
    pub when_unsatisfiable: WhenUnsatisfiable,
    pub max_skew: i64,
    pub skew: i64,
    pub domains: &'a BTreeMap<String, i64>,
    pub message: String,
}

#[derive(Serialize)]
pub struct StepDocument<'a> {
    pub time: u64,
    pub actions: Vec<ActionDocument>,
    pub status: Vec<StatusDocument<'a>>,
    /// Ready nodes after the step, where node groups are in play.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nodes: Option<u32>,
    /// Each HPA after the step: `{object, target, desired, current}` (absent when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub autoscalers: Vec<StepAutoscalerDocument<'a>>,
}

#[derive(Serialize)]
pub struct StepAutoscalerDocument<'a> {
    pub object: &'a str,
    pub target: &'a str,
    pub desired: i32,
    pub current: i32,
}

#[derive(Serialize)]
pub struct ActionDocument {
    pub op: &'static str,
    pub object: String,
    pub replica: Option<String>,
    pub node: Option<String>,
    pub revision: Option<u64>,
    pub reason: Option<String>,
}

#[derive(Serialize)]
pub struct StatusDocument<'a> {
    pub object: &'a str,
    pub current: i32,
    pub ready: i32,
    pub available: i32,
    pub updated: i32,
}

#[derive(Serialize)]
pub struct ConditionDocument<'a> {
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub status: &'a str,
    pub reason: &'a str,
    pub message: &'a str,
}

#[derive(Serialize)]
pub struct BlockedDocument<'a> {
    pub reason: &'a str,
    pub message: &'a str,
}

#[derive(Serialize)]
pub struct WorkloadDocument<'a> {
    pub object: &'a str,
    pub desired: i32,
    pub current: i32,
    pub ready: i32,
    pub updated: i32,
    pub available: i32,
    pub conditions: Vec<ConditionDocument<'a>>,
    pub blocked: Option<BlockedDocument<'a>>,
    /// Jobs only: `{status, active, succeeded, failed, completions, startTime, completionTime}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<JobDocument>,
    /// CronJobs only: `{active, lastScheduleTime, nextScheduleTime, suspended}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cron: Option<CronDocument>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobDocument {
    pub status: &'static str,
    pub active: i32,
    pub succeeded: i32,
    pub failed: i32,
    pub completions: Option<i32>,
    pub start_time: Option<u64>,
    pub completion_time: Option<u64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CronDocument {
    pub active: i32,
    pub last_schedule_time: Option<u64>,
    pub next_schedule_time: Option<u64>,
    pub suspended: bool,
}

pub fn action(action: &Action) -> ActionDocument {
    ActionDocument {
        op: action.op(),
        object: action.object(),
        replica: action.replica().map(str::to_string),
        node: action.node().map(str::to_string),
        revision: action.revision(),
        reason: action.reason(),
    }
}

pub fn step(step: &Step) -> StepDocument<'_> {
    StepDocument {
        time: step.time,
        actions: step
            .actions
            .iter()
            .filter(|a| a.is_shown())
            .map(action)
            .collect(),
        status: step
            .status
            .iter()
            .map(|s| StatusDocument {
                object: &s.object,
                current: s.current,
                ready: s.ready,
                available: s.available,
                updated: s.updated,
            })
            .collect(),
        nodes: step.nodes,
        autoscalers: step
            .autoscalers
            .iter()
            .map(|a| StepAutoscalerDocument {
                object: &a.object,
                target: &a.target,
                desired: a.desired,
                current: a.current,
            })
            .collect(),
    }
}

pub fn workload(report: &WorkloadReport) -> WorkloadDocument<'_> {
    WorkloadDocument {
        object: &report.object,
        desired: report.desired,
        current: report.current,
        ready: report.ready,
        updated: report.updated,
        available: report.available,
        conditions: report
            .conditions
            .iter()
            .map(|c| ConditionDocument {
                kind: c.kind.as_str(),
                status: c.status.as_str(),
                reason: c.reason.as_ref().map_or("", ConditionReason::as_str),
                message: &c.message,
            })
            .collect(),
        blocked: report.blocked.as_ref().map(|b| BlockedDocument {
            reason: b.reason.as_str(),
            message: &b.message,
        }),
        job: report.job.as_ref().map(|j| JobDocument {
            status: j.status_word(),
            active: j.active,
            succeeded: j.succeeded,
            failed: j.failed,
            completions: j.completions,
            start_time: j.start_time,
            completion_time: j.finished_at,
        }),
        cron: report.cron.as_ref().map(|c| CronDocument {
            active: c.active,
            last_schedule_time: c.last_schedule,
            next_schedule_time: c.next_schedule,
            suspended: c.suspended,
        }),
    }
}

pub fn warning(finding: &SpreadSkew) -> WarningDocument<'_> {
    WarningDocument {
        object: &finding.object,
        kind: "TopologySpreadSkew",
        topology_key: &finding.topology_key,
        when_unsatisfiable: finding.when_unsatisfiable,
        max_skew: finding.max_skew,
        skew: finding.skew,
        domains: &finding.domains,
        message: finding.message(),
    }
}

/// `plan -o json` (kind Plan) and `apply -o json` (kind ApplyResult).
pub fn run<'a>(result: &'a RunResult, kind: &'static str) -> RunDocument<'a> {
    RunDocument {
        api_version: API_VERSION,
        kind,
        outcome: result.outcome.as_str(),
        clock: result.clock,
        steps: result.steps.iter().map(step).collect(),
        workloads: result.workloads.iter().map(workload).collect(),
        warnings: result.warnings.iter().map(warning).collect(),
        rolled_back: result
            .rolled_back
            .iter()
            .map(|r| r.message.as_str())
            .collect(),
        autoscalers: result.autoscalers.iter().map(autoscaler).collect(),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct List<T> {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub items: Vec<T>,
}

pub fn list<T>(kind: &'static str, items: Vec<T>) -> List<T> {
    List {
        api_version: API_VERSION,
        kind,
        items,
    }
}

#[derive(Serialize)]
pub struct ReplicaItem {
    pub name: String,
    pub workload: String,
    pub revision: u64,
    pub node: Option<String>,
    pub phase: Phase,
    pub ready: bool,
    pub reason: Option<String>,
    /// The pod's priority, where the manifests use priorities.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<i32>,
    /// False for an imported pod orch does not manage (written only then).
    #[serde(skip_serializing_if = "is_true")]
    pub managed: bool,
}

fn is_true(value: &bool) -> bool {
    *value
}

#[derive(Serialize)]
pub struct NodeItem {
    pub name: String,
    pub ready: bool,
    pub unschedulable: bool,
    pub labels: BTreeMap<String, String>,
    pub taints: Vec<Taint>,
    pub allocatable: BTreeMap<String, String>,
    pub requested: BTreeMap<String, String>,
    pub replicas: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadItem<'a> {
    pub object: &'a str,
    pub revision: u64,
    #[serde(flatten)]
    pub counts: WorkloadDocument<'a>,
}
