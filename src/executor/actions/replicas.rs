//! How the actions on replicas change the state: one replica's creation,
//! deletion, and every change to a replica already in the state.

use super::{EventRecord, rejection_event};
use crate::model::event::EventReason;
use crate::model::state::{EventType, Phase, Replica, State};
use crate::model::workload::{Kind, ObjectRef};
use crate::reconcile::{Action, DeleteReason};
use rustc_hash::FxHashMap as HashMap;

/// `Action::Delete`: the replica starts terminating (`removed` says some did).
pub(super) fn delete(
    state: &mut State,
    index: &HashMap<&str, usize>,
    removed: &mut bool,
    (replica, workload, reason): (&str, &ObjectRef, &DeleteReason),
    now: u64,
) -> Option<EventRecord> {
    // A bare Pod is not replaced: its loss is kept until the next apply.
    if workload.kind == Kind::Pod
        && let Some(stored) = state.workload_mut(workload)
    {
        stored.status.lost = Some(Box::new(crate::model::state::PodLoss {
            at: now,
            reason: reason.to_string(),
        }));
    }
    let r = &mut state.replicas[*index.get(replica)?];
    r.phase = Phase::Terminating;
    *removed = true;
    let kind = if reason.event() == EventReason::Killing {
        EventType::Normal
    } else {
        EventType::Warning
    };
    Some((kind, reason.event()))
}

/// An action on one replica already in the state (`r`): scheduling,
/// admission, readiness, restarts and the end of its run.
pub(super) fn change(r: &mut Replica, action: &Action, now: u64) -> Option<EventRecord> {
    match action {
        Action::Bind { node, .. } => {
            r.node = Some(node.clone());
            r.phase = Phase::Running;
            r.started_at = Some(now);
            r.reason = None;
            Some((EventType::Normal, EventReason::Scheduled))
        }
        Action::Gate { message, .. } => {
            r.reason = Some(message.clone());
            // PreEnqueue records no event: the pod never reaches a scheduling cycle.
            None
        }
        Action::UpdatePod { revision, hash, .. } => {
            r.revision = *revision;
            r.hash = hash.clone();
            r.reason = None;
            None
        }
        Action::Admit { node, .. } => {
            r.node = Some(node.as_str().into());
            r.phase = Phase::Running;
            r.started_at = Some(now);
            r.reason = None;
            // No scheduler, so no `Scheduled` event: the kubelet starts it.
            None
        }
        Action::Reject {
            node, rejection, ..
        } => {
            r.node = Some(node.as_str().into());
            r.phase = Phase::Failed;
            r.ready = false;
            r.finished_at = Some(now);
            r.reason = Some(rejection.reason());
            Some((EventType::Warning, rejection_event(rejection)))
        }
        Action::FailedScheduling { error, .. } => {
            // The state keeps kube-scheduler's message (SPEC §8: `reason`).
            r.reason = Some(error.to_string());
            Some((EventType::Warning, EventReason::FailedScheduling))
        }
        Action::MarkReady { .. } => {
            r.ready = true;
            r.ready_at = Some(now);
            Some((EventType::Normal, EventReason::Ready))
        }
        Action::Crash {
            restarts, backoff, ..
        } => {
            r.ready = false;
            r.ready_at = None;
            r.restarts = *restarts;
            r.started_at = Some(now + backoff);
            Some((EventType::Warning, EventReason::BackOff))
        }
        Action::MarkUnready { .. } => {
            r.ready = false;
            r.ready_at = None;
            Some((EventType::Warning, EventReason::NodeNotReady))
        }
        Action::FinishPod { succeeded, .. } => {
            r.phase = if *succeeded {
                Phase::Succeeded
            } else {
                Phase::Failed
            };
            r.ready = false;
            r.finished_at = Some(now);
            r.reason = (!*succeeded).then(|| "Error".to_string());
            Some(if *succeeded {
                (EventType::Normal, EventReason::Completed)
            } else {
                (EventType::Warning, EventReason::Failed)
            })
        }
        _ => unreachable!("`change` carries out only actions on a replica in the state"),
    }
}
