//! The closed set of things a plan can do.

use crate::model::condition::{ConditionReason, ConditionType};
use crate::model::event::EventReason;
use crate::model::state::{NodeState, WorkloadStatus};
use crate::model::workload::ObjectRef;
use crate::scheduler::FitError;
use std::fmt;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteReason {
    /// Scaled down (or replaced by a newer revision).
    ScaledDown,
    /// An older revision's replica removed by the rollout.
    Superseded,
    /// Its node was removed from the cluster.
    NodeGone,
    /// Its workload is no longer declared.
    WorkloadRemoved,
    /// A DaemonSet replica whose node no longer qualifies.
    NodeNotEligible,
    /// Evicted from its node (not ready too long, or drained).
    Evicted(String),
    /// The state was edited so that the replica no longer fits where it is.
    Drift(String),
    /// A victim of DefaultPreemption (boxed: rare, and every action is as
    /// large as its largest reason).
    Preempted(Box<PreemptedBy>),
    /// A Job's active pod, deleted when the Job is suspended.
    JobSuspended,
    /// A Job's active pod, deleted when the Job finished (its condition's reason).
    JobFinished(String),
    /// A finished Job's pod, deleted once `ttlSecondsAfterFinished` passed.
    TtlExpired,
}

/// Who preempted a victim: `by` (namespace/name) needs its room on `node`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreemptedBy {
    pub by: String,
    pub node: String,
}

impl DeleteReason {
    /// The event reason Kubernetes would record.
    pub fn event(&self) -> EventReason {
        match self {
            DeleteReason::Evicted(_) => EventReason::Evicted,
            DeleteReason::Drift(_) => EventReason::DriftCorrected,
            DeleteReason::Preempted(_) => EventReason::Preempted,
            _ => EventReason::Killing,
        }
    }
}

impl fmt::Display for DeleteReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DeleteReason::ScaledDown => "scaled down",
            DeleteReason::Superseded => "replaced by a newer revision",
            DeleteReason::NodeGone => "node removed",
            DeleteReason::WorkloadRemoved => "workload removed",
            DeleteReason::NodeNotEligible => "node no longer eligible",
            DeleteReason::Evicted(why) => return write!(f, "evicted: {why}"),
            DeleteReason::Drift(why) => return write!(f, "drift: {why}"),
            DeleteReason::Preempted(preempted) => {
                let PreemptedBy { by, node } = &**preempted;
                return write!(f, "preempted by pod {by} on node {node}");
            }
            DeleteReason::JobSuspended => "job suspended",
            DeleteReason::JobFinished(why) => return write!(f, "job finished ({why})"),
            DeleteReason::TtlExpired => "ttlSecondsAfterFinished passed",
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    AddNode(Box<NodeState>),
    UpdateNode(Box<NodeState>),
    RemoveNode {
        name: String,
    },
    /// Record the manifest as last applied (new workload or changed spec).
    ApplyWorkload {
        workload: ObjectRef,
        spec: crate::model::workload::Manifest,
    },
    RecordRevision {
        workload: ObjectRef,
        revision: u64,
        hash: String,
        template: crate::model::json::Json,
    },
    /// The bookkeeping the Deployment controller writes on a revision's
    /// ReplicaSet whenever it creates or scales it (`SetReplicasAnnotations`):
    /// `desired-replicas` and `max-replicas`. Kept in the state, not shown as
    /// a step's action.
    SetReplicasAnnotations {
        workload: ObjectRef,
        hash: Arc<str>,
        desired_replicas: i32,
        max_replicas: i32,
    },
    /// A StatefulSet's `status.currentRevision` (`completeRollingUpdate`).
    /// Kept in the state, not shown as a step's action.
    SetCurrentRevision {
        workload: ObjectRef,
        hash: Arc<str>,
    },
    /// An old revision beyond `revisionHistoryLimit`, with no replicas left.
    ForgetRevision {
        workload: ObjectRef,
        revision: u64,
    },
    RemoveWorkload {
        workload: ObjectRef,
    },
    Create {
        replica: Arc<str>,
        workload: ObjectRef,
        revision: u64,
        hash: Arc<str>,
        target_node: Option<String>,
    },
    Bind {
        replica: Arc<str>,
        workload: ObjectRef,
        node: Arc<str>,
    },
    /// No node fits: every node's reason, counted. Rendered as
    /// kube-scheduler's message only where it is shown or recorded.
    FailedScheduling {
        replica: Arc<str>,
        workload: ObjectRef,
        error: Box<FitError>,
    },
    /// The replica carries scheduling gates: it is not queued (SchedulingGates'
    /// PreEnqueue) and waits, Pending, until they are removed.
    Gate {
        replica: Arc<str>,
        workload: ObjectRef,
        message: String,
    },
    /// A gated bare Pod takes its applied spec in place (its gates removed).
    UpdatePod {
        replica: Arc<str>,
        workload: ObjectRef,
        revision: u64,
        hash: Arc<str>,
    },
    /// The pod names its node (`spec.nodeName`): the scheduler is bypassed
    /// and the kubelet admits it there.
    Admit {
        replica: Arc<str>,
        workload: ObjectRef,
        node: String,
    },
    /// The kubelet of its named node refused it: phase Failed, with the reason.
    Reject {
        replica: Arc<str>,
        workload: ObjectRef,
        node: String,
        rejection: Box<super::admission::Rejection>,
    },
    MarkReady {
        replica: Arc<str>,
        workload: ObjectRef,
    },
    /// The replica stops being ready (its node failed).
    MarkUnready {
        replica: Arc<str>,
        workload: ObjectRef,
        reason: String,
    },
    /// The replica's container exits (`orch.dev/simulate: crash-after`): it is
    /// not ready, and restarts after the back-off.
    Crash {
        replica: Arc<str>,
        workload: ObjectRef,
        restarts: u32,
        backoff: u64,
    },
    /// The workload's status as the Deployment controller would write it.
    SetStatus {
        workload: ObjectRef,
        status: Box<WorkloadStatus>,
    },
    Delete {
        replica: Arc<str>,
        workload: ObjectRef,
        node: Option<Arc<str>>,
        reason: DeleteReason,
    },
    /// Volumes and claims: made, provisioned, bound, deleted.
    Storage(super::storage::StorageAction),
    /// A Job's pod ran to its end: phase Succeeded (`complete`) or Failed (`fail`).
    FinishPod {
        replica: Arc<str>,
        workload: ObjectRef,
        succeeded: bool,
    },
    /// A Job reached its terminal condition: Complete or Failed.
    FinishJob {
        workload: ObjectRef,
        status: crate::model::job::JobStatus,
    },
    /// The Job controller's bookkeeping: start time, expiry. Kept in the
    /// state, not shown as a step's action.
    SetJobStatus {
        workload: ObjectRef,
        status: crate::model::job::JobStatus,
    },
    /// A CronJob starts the Job of the schedule time `scheduled`
    /// (simulated seconds): the Job is recorded, with `spec`, and the
    /// CronJob's `lastScheduleTime` is that time.
    CreateJob {
        cronjob: ObjectRef,
        job: ObjectRef,
        spec: crate::model::workload::Manifest,
        scheduled: u64,
    },
    /// A CronJob deletes one of its Jobs (history limits, or `Replace`).
    DeleteJob {
        cronjob: ObjectRef,
        job: ObjectRef,
        reason: String,
    },
    /// A CronJob passes over a schedule time: too late for
    /// `startingDeadlineSeconds`, or `Forbid` with a Job still running.
    SkipSchedule {
        cronjob: ObjectRef,
        scheduled: u64,
        forbidden: bool,
    },
    /// A CronJob's record (its creation time when first seen); not shown.
    SetCronStatus {
        cronjob: ObjectRef,
        status: Box<crate::model::cron::CronStatus>,
    },
    /// cluster-autoscaler's decisions on a NodeGroup.
    NodeGroup(Box<crate::autoscale::nodegroup::controller::GroupAction>),
    /// A HorizontalPodAutoscaler sets its target's replicas (`SuccessfulRescale`).
    Rescale {
        /// `HorizontalPodAutoscaler/namespace/name`.
        autoscaler: String,
        target: ObjectRef,
        from: i32,
        to: i32,
        /// The controller's reason: `cpu resource utilization (percentage of request) above target`.
        reason: String,
    },
}

impl Action {
    /// Whether carrying the action out leaves the scheduler's snapshot as
    /// it was (the nodes and every bound replica): readiness, records of
    /// status and why a replica waits, and new replicas not yet bound. The
    /// rest may change it, and make the diagnoses remembered on it stale
    /// (`scheduler::remembered`).
    pub fn leaves_snapshot(&self) -> bool {
        matches!(
            self,
            Action::Create { .. }
                | Action::FailedScheduling { .. }
                | Action::Gate { .. }
                | Action::MarkReady { .. }
                | Action::MarkUnready { .. }
                | Action::SetStatus { .. }
                | Action::SetReplicasAnnotations { .. }
                | Action::SetCurrentRevision { .. }
                | Action::SetJobStatus { .. }
                | Action::SetCronStatus { .. }
        )
    }

    /// The stable `op` name used in JSON output and plan tables.
    pub fn op(&self) -> &'static str {
        match self {
            Action::AddNode(_) => "add-node",
            Action::UpdateNode(_) => "update-node",
            Action::RemoveNode { .. } => "remove-node",
            Action::ApplyWorkload { .. } => "apply-workload",
            Action::RecordRevision { .. } => "record-revision",
            Action::RemoveWorkload { .. } => "remove-workload",
            Action::ForgetRevision { .. } => "forget-revision",
            Action::SetReplicasAnnotations { .. } => "annotate-revision",
            Action::SetCurrentRevision { .. } => "current-revision",
            Action::Create { .. } => "create",
            Action::Bind { .. } => "bind",
            Action::FailedScheduling { .. } => "pending",
            Action::Gate { .. } => "gated",
            Action::UpdatePod { .. } => "update-pod",
            Action::Admit { .. } => "admit",
            Action::Reject { .. } => "reject",
            Action::MarkReady { .. } => "mark-ready",
            Action::MarkUnready { .. } => "mark-unready",
            Action::Crash { .. } => "crash",
            Action::SetStatus { .. } => "status",
            Action::Delete {
                reason: DeleteReason::Preempted(_),
                ..
            } => "preempt",
            Action::Delete { .. } => "delete",
            Action::Storage(action) => action.op(),
            Action::FinishPod {
                succeeded: true, ..
            } => "complete",
            Action::FinishPod { .. } => "fail",
            Action::FinishJob { status, .. } => match status.outcome {
                Some(crate::model::job::JobOutcome::Complete) => "job-complete",
                _ => "job-failed",
            },
            Action::SetJobStatus { .. } => "job-status",
            Action::CreateJob { .. } => "create-job",
            Action::DeleteJob { .. } => "delete-job",
            Action::SkipSchedule { .. } => "skip-schedule",
            Action::SetCronStatus { .. } => "cron-status",
            Action::NodeGroup(action) => action.op(),
            Action::Rescale { .. } => "rescale",
        }
    }

    /// Whether outputs list the action: the controller's bookkeeping on its
    /// ReplicaSets is state, not a step a user audits.
    pub fn is_shown(&self) -> bool {
        if let Action::NodeGroup(action) = self {
            return action.is_shown();
        }
        !matches!(
            self,
            Action::SetReplicasAnnotations { .. }
                | Action::SetCurrentRevision { .. }
                | Action::SetJobStatus { .. }
                | Action::SetCronStatus { .. }
        )
    }

    /// The object the action is about, `Kind/namespace/name`.
    pub fn object(&self) -> String {
        match self {
            Action::AddNode(node) | Action::UpdateNode(node) => format!("Node/{}", node.name),
            Action::RemoveNode { name } => format!("Node/{name}"),
            Action::ApplyWorkload { workload, .. }
            | Action::RecordRevision { workload, .. }
            | Action::ForgetRevision { workload, .. }
            | Action::SetReplicasAnnotations { workload, .. }
            | Action::SetCurrentRevision { workload, .. }
            | Action::RemoveWorkload { workload }
            | Action::Create { workload, .. }
            | Action::Bind { workload, .. }
            | Action::FailedScheduling { workload, .. }
            | Action::Gate { workload, .. }
            | Action::UpdatePod { workload, .. }
            | Action::Admit { workload, .. }
            | Action::Reject { workload, .. }
            | Action::MarkReady { workload, .. }
            | Action::MarkUnready { workload, .. }
            | Action::Crash { workload, .. }
            | Action::SetStatus { workload, .. }
            | Action::Delete { workload, .. }
            | Action::FinishPod { workload, .. }
            | Action::FinishJob { workload, .. }
            | Action::SetJobStatus { workload, .. } => workload.to_string(),
            Action::CreateJob { cronjob, .. }
            | Action::DeleteJob { cronjob, .. }
            | Action::SkipSchedule { cronjob, .. }
            | Action::SetCronStatus { cronjob, .. } => cronjob.to_string(),
            Action::Storage(action) => action.object(),
            Action::NodeGroup(action) => action.object(),
            Action::Rescale { autoscaler, .. } => autoscaler.clone(),
        }
    }

    pub fn replica(&self) -> Option<&str> {
        match self {
            Action::Create { replica, .. }
            | Action::Bind { replica, .. }
            | Action::FailedScheduling { replica, .. }
            | Action::Gate { replica, .. }
            | Action::UpdatePod { replica, .. }
            | Action::Admit { replica, .. }
            | Action::Reject { replica, .. }
            | Action::MarkReady { replica, .. }
            | Action::MarkUnready { replica, .. }
            | Action::Crash { replica, .. }
            | Action::FinishPod { replica, .. }
            | Action::Delete { replica, .. } => Some(replica),
            Action::NodeGroup(action) => action.replica(),
            _ => None,
        }
    }

    pub fn node(&self) -> Option<&str> {
        match self {
            Action::Bind { node, .. } => Some(node),
            Action::Admit { node, .. } | Action::Reject { node, .. } => Some(node),
            Action::Create { target_node, .. } => target_node.as_deref(),
            Action::Delete { node, .. } => node.as_deref(),
            Action::NodeGroup(action) => action.node(),
            _ => None,
        }
    }

    pub fn revision(&self) -> Option<u64> {
        match self {
            Action::Create { revision, .. }
            | Action::UpdatePod { revision, .. }
            | Action::RecordRevision { revision, .. }
            | Action::ForgetRevision { revision, .. } => Some(*revision),
            _ => None,
        }
    }

    pub fn reason(&self) -> Option<String> {
        match self {
            Action::FailedScheduling { error, .. } => Some(error.to_string()),
            Action::Gate { message, .. } => Some(message.clone()),
            Action::Reject { rejection, .. } => {
                Some(format!("{}: {}", rejection.reason(), rejection.message()))
            }
            Action::Delete { reason, .. } => Some(reason.to_string()),
            Action::MarkUnready { reason, .. } => Some(reason.clone()),
            Action::Storage(action) => action.detail(),
            Action::NodeGroup(action) => action.detail(),
            Action::Rescale {
                target,
                from,
                to,
                reason,
                ..
            } => Some(format!("{target} {from} → {to}: {reason}")),
            Action::Crash {
                restarts, backoff, ..
            } => Some(format!("restart {restarts}, back-off {backoff}s")),
            Action::FinishPod {
                succeeded: false, ..
            } => Some("Error".into()),
            Action::FinishJob { status, .. } => status
                .outcome
                .map(|o| format!("{}: {}", o.reason(), o.message())),
            Action::CreateJob { job, .. } => Some(format!("Job/{}/{}", job.namespace, job.name)),
            Action::DeleteJob { job, reason, .. } => {
                Some(format!("Job/{}/{}: {reason}", job.namespace, job.name))
            }
            Action::SkipSchedule { forbidden, .. } => Some(if *forbidden {
                "JobAlreadyActive: prior execution still running, concurrencyPolicy Forbid".into()
            } else {
                "MissSchedule: past startingDeadlineSeconds".into()
            }),
            Action::SetStatus { status, .. } => {
                status.condition(ConditionType::Progressing).map(|c| {
                    let reason = c.reason.as_ref().map_or("", ConditionReason::as_str);
                    format!("{reason}: {}", c.message)
                })
            }
            _ => None,
        }
    }
}

// A cold apply's steps keep an action per replica created, bound and made
// ready: millions on a large fleet. A rare large variant is boxed so that
// it does not make every action as large (a NodeGroup's status made them
// 224, a workload's status 144), and the replica's name and workload are
// shared with the state's replica (`Arc`), not copied.
const _: () = assert!(std::mem::size_of::<Action>() <= 80);
