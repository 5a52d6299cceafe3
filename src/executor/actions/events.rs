//! What the events of a step say: the object each names, its reason and
//! its message, per action.

use crate::model::condition::{ConditionReason, ConditionType};
use crate::model::event::EventReason;
use crate::reconcile::{Action, DeleteReason};

pub(super) fn event_object(action: &Action) -> String {
    match action.replica() {
        Some(replica) => format!("Replica/{replica}"),
        None => action.object(),
    }
}

/// The kubelet's event for a pod it refused: the rejection's reason.
pub(super) fn rejection_event(rejection: &crate::reconcile::admission::Rejection) -> EventReason {
    use crate::reconcile::admission::Rejection;
    match rejection {
        Rejection::NodeAffinity => EventReason::NodeAffinity,
        Rejection::TaintToleration => EventReason::TaintToleration,
        Rejection::OutOf { resource, .. } => match resource.as_str() {
            "cpu" => EventReason::OutOfCpu,
            "memory" => EventReason::OutOfMemory,
            "ephemeral-storage" => EventReason::OutOfEphemeralStorage,
            "pods" => EventReason::OutOfPods,
            // `OutOf<extended resource>` is no word of the closed set.
            _ => EventReason::Failed,
        },
    }
}

/// The message of the event an action records (when it records one).
pub(super) fn event_message(action: &Action) -> String {
    match action {
        Action::AddNode(node) => format!("Node {} added", node.name),
        Action::UpdateNode(node) => format!("Node {} updated from the manifests", node.name),
        Action::RemoveNode { name } => format!("Node {name} removed"),
        Action::RecordRevision { revision, hash, .. } => format!("Revision {revision} ({hash})"),
        Action::RemoveWorkload { workload } => format!("{workload} removed: no longer declared"),
        Action::Create { replica, .. } => format!("Created replica {replica}"),
        Action::Bind { replica, node, .. } => format!("Successfully assigned {replica} to {node}"),
        Action::FailedScheduling { error, .. } => error.to_string(),
        Action::Reject { rejection, .. } => rejection.message(),
        Action::MarkReady { replica, .. } => format!("Replica {replica} is ready"),
        Action::Crash {
            replica,
            restarts,
            backoff,
            ..
        } => {
            format!("Back-off {backoff}s restarting failed replica {replica} (restart {restarts})")
        }
        Action::SetStatus { status, .. } => status
            .condition(ConditionType::Progressing)
            .map(|c| c.message.clone())
            .unwrap_or_default(),
        Action::MarkUnready {
            replica, reason, ..
        } => format!("Replica {replica} is not ready: {reason}"),
        Action::Delete {
            reason: DeleteReason::Preempted(preempted),
            ..
        } => format!(
            "Preempted by pod {} on node {}",
            preempted.by, preempted.node
        ),
        Action::Delete {
            replica, reason, ..
        } => format!("Deleted replica {replica}: {reason}"),
        Action::Storage(action) => super::super::storage::message(action),
        Action::FinishPod {
            replica,
            succeeded: true,
            ..
        } => format!("Replica {replica} completed"),
        Action::FinishPod { replica, .. } => format!("Replica {replica} failed: Error"),
        Action::FinishJob { status, .. } => status
            .outcome
            .map(|o| match o {
                crate::model::job::JobOutcome::Complete => "Job completed".to_string(),
                failed => failed.message().to_string(),
            })
            .unwrap_or_default(),
        Action::CreateJob { job, .. } => format!("Created job {}", job.name),
        Action::DeleteJob { job, .. } => format!("Deleted job {}", job.name),
        Action::SkipSchedule {
            forbidden: true, ..
        } => "Not starting job because prior execution is running and concurrency policy is Forbid"
            .to_string(),
        Action::SkipSchedule { scheduled, .. } => {
            format!("Missed scheduled time to start a job: simulated time {scheduled}s")
        }
        Action::Rescale { to, reason, .. } => format!("New size: {to}; reason: {reason}"),
        Action::Gate { .. }
        | Action::UpdatePod { .. }
        | Action::Admit { .. }
        | Action::ApplyWorkload { .. }
        | Action::ForgetRevision { .. }
        | Action::SetReplicasAnnotations { .. }
        | Action::SetCurrentRevision { .. }
        | Action::SetJobStatus { .. }
        | Action::SetCronStatus { .. }
        | Action::NodeGroup(_) => String::new(),
    }
}

/// The event a Deployment's new Progressing reason is announced with.
pub(super) fn progress_event(reason: Option<&ConditionReason>) -> EventReason {
    match reason {
        Some(ConditionReason::ProgressDeadlineExceeded) => EventReason::ProgressDeadlineExceeded,
        Some(ConditionReason::NewReplicaSetAvailable) => EventReason::RolloutComplete,
        _ => EventReason::RolloutProgressing,
    }
}
