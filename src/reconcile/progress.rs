//! The Deployment controller's status: counts and the `Available` and
//! `Progressing` conditions (`syncRolloutStatus`). Progress is any rise in
//! updated, ready or available replicas, a fall in old ones, or a new
//! revision; no progress for `progressDeadlineSeconds` sets Progressing=False
//! with reason ProgressDeadlineExceeded, which blocks the loop (exit 3).

use super::deployment::is_available;
use super::{Action, Pass};
use crate::model::condition::{ConditionReason, ConditionStatus, ConditionType};
use crate::model::state::{Condition, WorkloadStatus};
use crate::model::workload::{Workload, WorkloadKind};
use crate::rollout;

/// A condition, keeping the previous one's times when nothing changed.
fn condition(
    kind: ConditionType,
    previous: Option<&Condition>,
    status: ConditionStatus,
    reason: ConditionReason,
    message: String,
    now: u64,
    touch: bool,
) -> Condition {
    let same = previous.is_some_and(|p| {
        p.status == status && p.reason.as_ref() == Some(&reason) && p.message == message
    });
    Condition {
        kind,
        status,
        reason: Some(reason),
        message,
        last_update_time: match previous {
            Some(p) if same && !touch => p.last_update_time,
            _ => now,
        },
        last_transition_time: match previous {
            Some(p) if p.status == status => p.last_transition_time,
            _ => now,
        },
    }
}

/// The Progressing message the controller writes with `reason` about the
/// new ReplicaSet `replica_set` (`None`: a reason about no ReplicaSet).
fn progressing_message(reason: &ConditionReason, replica_set: &str) -> Option<String> {
    match reason {
        ConditionReason::NewReplicaSetAvailable => Some(format!(
            "ReplicaSet \"{replica_set}\" has successfully progressed."
        )),
        ConditionReason::ReplicaSetUpdated => {
            Some(format!("ReplicaSet \"{replica_set}\" is progressing."))
        }
        ConditionReason::ProgressDeadlineExceeded => Some(format!(
            "ReplicaSet \"{replica_set}\" has timed out progressing."
        )),
        _ => None,
    }
}

/// Whether `condition` (a Progressing one) is about `replica_set`: one the
/// controller wrote for it. A condition about another one (or none) means
/// a new rollout.
fn about(condition: &Condition, replica_set: &str) -> bool {
    condition
        .reason
        .as_ref()
        .and_then(|reason| progressing_message(reason, replica_set))
        .is_some_and(|message| message == condition.message)
}

/// The Deployment controller's progress and availability conditions for
/// one workload (`syncRolloutStatus`, `progress.go`), in upstream's steps:
/// the counts and the Available condition (`calculateStatus`), then the
/// Progressing condition, then the wake-up for its deadline.
pub(super) fn sync(pass: &mut Pass, workload: &Workload) {
    if workload.kind() != WorkloadKind::Deployment {
        return;
    }
    let Some(stored) = pass.stored(&workload.id) else {
        return;
    };
    let now = pass.now;
    let previous = &stored.status;
    let (mut status, unschedulable) = calculate_status(pass, workload, previous);
    let replica_set = format!("{}-{}", workload.id.name, workload.template_hash);
    let last = previous.condition(ConditionType::Progressing);
    let paused = workload.paused || previous.paused;
    let desired = workload.replicas;
    let complete =
        status.updated == desired && status.replicas == desired && status.available == desired;
    let old = status.replicas - status.updated;
    let new_rollout = last.is_none_or(|c| !about(c, &replica_set));
    let progressed = new_rollout
        || status.updated > previous.updated
        || status.ready > previous.ready
        || status.available > previous.available
        || old < previous.replicas - previous.updated;
    let progressing = progressing_condition(
        workload,
        last,
        &replica_set,
        (paused, complete, progressed),
        now,
    );
    // Wake when the deadline would pass, unless only capacity can unblock it.
    if !paused
        && !complete
        && !unschedulable
        && progressing.status == ConditionStatus::True
        && progressing.reason != Some(ConditionReason::NewReplicaSetAvailable)
    {
        pass.plan
            .wake(progressing.last_update_time + workload.progress_deadline_seconds + 1);
    }
    status.conditions.push(progressing);
    if status != *previous {
        pass.plan.actions.push(Action::SetStatus {
            workload: workload.id.clone(),
            status: Box::new(status),
        });
    }
}

/// `calculateStatus`: the workload's replica counts and its Available
/// condition (the status's first), and whether a replica waits for room.
fn calculate_status(
    pass: &Pass,
    workload: &Workload,
    previous: &WorkloadStatus,
) -> (WorkloadStatus, bool) {
    let now = pass.now;
    let mut status = WorkloadStatus {
        paused: previous.paused,
        desired: workload.replicas,
        ..WorkloadStatus::default()
    };
    let mut unschedulable = false;
    let observed = pass.observed;
    for replica in pass
        .by_workload
        .get(&workload.id)
        .into_iter()
        .flatten()
        .map(|&i| &observed.replicas[i])
        .filter(|r| r.phase.is_active())
    {
        status.replicas += 1;
        status.updated += i32::from(replica.hash == workload.template_hash);
        status.ready += i32::from(replica.ready);
        status.available += i32::from(is_available(replica, workload.min_ready_seconds, now));
        unschedulable |= replica.node.is_none() && replica.reason.is_some();
    }
    let desired = workload.replicas;
    let minimum = desired - rollout::max_unavailable(&workload.strategy, desired);
    let (available_status, available_reason, available_message) = if status.available >= minimum {
        (
            ConditionStatus::True,
            ConditionReason::MinimumReplicasAvailable,
            "Deployment has minimum availability.",
        )
    } else {
        (
            ConditionStatus::False,
            ConditionReason::MinimumReplicasUnavailable,
            "Deployment does not have minimum availability.",
        )
    };
    let available = condition(
        ConditionType::Available,
        previous.condition(ConditionType::Available),
        available_status,
        available_reason,
        available_message.to_string(),
        now,
        false,
    );
    status.conditions = vec![available];
    (status, unschedulable)
}

/// The Progressing condition after `last`, about the new ReplicaSet
/// `replica_set`, for a rollout `(paused, complete, progressed)`.
fn progressing_condition(
    workload: &Workload,
    last: Option<&Condition>,
    replica_set: &str,
    (paused, complete, progressed): (bool, bool, bool),
    now: u64,
) -> Condition {
    let progressing = |status, reason, touch| {
        let message = progressing_message(&reason, replica_set).unwrap_or_default();
        condition(
            ConditionType::Progressing,
            last,
            status,
            reason,
            message,
            now,
            touch,
        )
    };
    match last {
        _ if paused => condition(
            ConditionType::Progressing,
            last,
            ConditionStatus::Unknown,
            ConditionReason::DeploymentPaused,
            "Deployment is paused".into(),
            now,
            false,
        ),
        _ if complete => progressing(
            ConditionStatus::True,
            ConditionReason::NewReplicaSetAvailable,
            false,
        ),
        // No progress (a missing condition always counts as a new rollout).
        // After a completed rollout (NewReplicaSetAvailable) no deadline
        // runs: replicas lost later are not a rollout failing to progress
        // (`DeploymentTimedOut`, deployment/util/deployment_util.go).
        Some(last) if !progressed => {
            if last.status == ConditionStatus::True
                && last.reason != Some(ConditionReason::NewReplicaSetAvailable)
                && last.last_update_time + workload.progress_deadline_seconds < now
            {
                progressing(
                    ConditionStatus::False,
                    ConditionReason::ProgressDeadlineExceeded,
                    false,
                )
            } else {
                last.clone()
            }
        }
        _ => progressing(
            ConditionStatus::True,
            ConditionReason::ReplicaSetUpdated,
            true,
        ),
    }
}
