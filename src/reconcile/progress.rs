//! The Deployment controller's status: counts and the `Available` and
//! `Progressing` conditions (`syncRolloutStatus`). Progress is any rise in
//! updated, ready or available replicas, a fall in old ones, or a new
//! revision; no progress for `progressDeadlineSeconds` sets Progressing=False
//! with reason ProgressDeadlineExceeded, which blocks the loop (exit 3).

use super::deployment::is_available;
use super::{Action, Pass};
use crate::model::state::{Condition, Phase, WorkloadStatus};
use crate::model::workload::{Workload, WorkloadKind};
use crate::rollout;

pub const PROGRESSING: &str = "Progressing";
pub const AVAILABLE: &str = "Available";
pub const DEADLINE_EXCEEDED: &str = "ProgressDeadlineExceeded";
pub const COMPLETE: &str = "NewReplicaSetAvailable";
pub const UPDATED: &str = "ReplicaSetUpdated";
pub const PAUSED: &str = "DeploymentPaused";

/// A condition, keeping the previous one's times when nothing changed.
fn condition(
    previous: Option<&Condition>,
    status: &str,
    reason: &str,
    message: String,
    now: u64,
    touch: bool,
) -> Condition {
    let same =
        previous.is_some_and(|p| p.status == status && p.reason == reason && p.message == message);
    Condition {
        kind: String::new(),
        status: status.to_string(),
        reason: reason.to_string(),
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

pub(super) fn sync(pass: &mut Pass, workload: &Workload) {
    if workload.kind() != WorkloadKind::Deployment {
        return;
    }
    let Some(stored) = pass.stored(&workload.id) else {
        return;
    };
    let now = pass.now;
    let previous = &stored.status;
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
        .filter(|r| r.phase != Phase::Terminating)
    {
        status.replicas += 1;
        status.updated += i32::from(replica.hash == workload.template_hash);
        status.ready += i32::from(replica.ready);
        status.available += i32::from(is_available(replica, workload.min_ready_seconds, now));
        unschedulable |= replica.node.is_none() && replica.reason.is_some();
    }
    let desired = workload.replicas;
    let minimum = desired - rollout::max_unavailable(&workload.strategy, desired);
    let available = if status.available >= minimum {
        (
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
        )
    } else {
        (
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
        )
    };
    let mut available = condition(
        previous.condition(AVAILABLE),
        available.0,
        available.1,
        available.2.to_string(),
        now,
        false,
    );
    available.kind = AVAILABLE.to_string();

    let replica_set = format!("{}-{}", workload.id.name, workload.template_hash);
    let last = previous.condition(PROGRESSING);
    let paused = workload.paused || previous.paused;
    let complete =
        status.updated == desired && status.replicas == desired && status.available == desired;
    let old = status.replicas - status.updated;
    let new_rollout = last.is_none_or(|c| !c.message.contains(&format!("\"{replica_set}\"")));
    let progressed = new_rollout
        || status.updated > previous.updated
        || status.ready > previous.ready
        || status.available > previous.available
        || old < previous.replicas - previous.updated;
    let mut progressing = if paused {
        condition(
            last,
            "Unknown",
            PAUSED,
            "Deployment is paused".into(),
            now,
            false,
        )
    } else if complete {
        condition(
            last,
            "True",
            COMPLETE,
            format!("ReplicaSet \"{replica_set}\" has successfully progressed."),
            now,
            false,
        )
    } else if progressed {
        condition(
            last,
            "True",
            UPDATED,
            format!("ReplicaSet \"{replica_set}\" is progressing."),
            now,
            true,
        )
    } else {
        // No progress (a missing condition always counts as a new rollout).
        let last = last.cloned().unwrap_or_default();
        if last.status == "True" && last.last_update_time + workload.progress_deadline_seconds < now
        {
            condition(
                Some(&last),
                "False",
                DEADLINE_EXCEEDED,
                format!("ReplicaSet \"{replica_set}\" has timed out progressing."),
                now,
                false,
            )
        } else {
            last
        }
    };
    progressing.kind = PROGRESSING.to_string();
    // Wake when the deadline would pass, unless only capacity can unblock it.
    if !paused && !complete && !unschedulable && progressing.status == "True" {
        pass.plan
            .wake(progressing.last_update_time + workload.progress_deadline_seconds + 1);
    }
    status.conditions = vec![available, progressing];
    if status != *previous {
        pass.plan.actions.push(Action::SetStatus {
            workload: workload.id.clone(),
            status,
        });
    }
}
