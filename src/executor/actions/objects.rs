//! How the actions on the state's other objects change it: nodes,
//! workloads and their revisions, Jobs and CronJobs.

use super::{EventRecord, progress_event};
use crate::model::condition::{ConditionStatus, ConditionType};
use crate::model::event::EventReason;
use crate::model::state::{EventType, Revision, State, WorkloadState, WorkloadStatus};
use crate::model::workload::{Manifest, ObjectRef};
use crate::reconcile::Action;
use rustc_hash::FxHashMap as HashMap;

/// A node added, replaced by its new version, or removed.
pub(super) fn node(state: &mut State, action: &Action) -> Option<EventRecord> {
    match action {
        Action::AddNode(node) => {
            match state.node_position(&node.name) {
                Ok(i) => state.nodes[i] = (**node).clone(),
                Err(i) => state.nodes.insert(i, (**node).clone()),
            }
            Some((EventType::Normal, EventReason::NodeAdded))
        }
        Action::UpdateNode(node) => {
            if let Some(existing) = state.node_mut(&node.name) {
                *existing = (**node).clone();
            }
            Some((EventType::Normal, EventReason::NodeUpdated))
        }
        Action::RemoveNode { name } => {
            state.nodes.retain(|n| &n.name != name);
            Some((EventType::Normal, EventReason::RemovingNode))
        }
        _ => unreachable!("`node` carries out only the actions on nodes"),
    }
}

/// A workload applied, removed, or given its controller's status.
pub(super) fn workload(state: &mut State, action: &Action) -> Option<EventRecord> {
    match action {
        Action::ApplyWorkload { workload, spec } => {
            match state.workload_position(workload) {
                Ok(i) => {
                    state.workloads[i].spec = spec.clone();
                    state.workloads[i].origin = crate::model::state::WorkloadOrigin::Applied;
                }
                Err(i) => state.workloads.insert(i, new_workload(workload, spec)),
            }
            None
        }
        Action::RemoveWorkload { workload } => {
            if let Ok(i) = state.workload_position(workload) {
                state.workloads.remove(i);
            }
            Some((EventType::Normal, EventReason::Deleted))
        }
        Action::SetStatus { workload, status } => {
            let stored = state.workload_mut(workload)?;
            let before = stored
                .status
                .condition(ConditionType::Progressing)
                .map(|c| (c.status, c.reason.clone()));
            stored.status = (**status).clone();
            let after = status.condition(ConditionType::Progressing)?;
            (before != Some((after.status, after.reason.clone()))).then(|| {
                let kind = if after.status == ConditionStatus::False {
                    EventType::Warning
                } else {
                    EventType::Normal
                };
                (kind, progress_event(after.reason.as_ref()))
            })
        }
        _ => unreachable!("`workload` carries out only the actions on workloads"),
    }
}

/// A workload first stored, as applied.
fn new_workload(id: &ObjectRef, spec: &Manifest) -> WorkloadState {
    WorkloadState {
        kind: id.kind,
        namespace: id.namespace.to_string(),
        name: id.name.to_string(),
        spec: spec.clone(),
        revisions: Vec::new(),
        status: WorkloadStatus::default(),
        origin: Default::default(),
    }
}

/// A workload's revisions (its ReplicaSets' bookkeeping): recorded,
/// annotated, made current or forgotten. A recorded revision's number
/// goes into `revisions`, for the replicas of its template.
pub(super) fn revision(
    state: &mut State,
    revisions: &mut HashMap<ObjectRef, HashMap<String, u64>>,
    action: &Action,
) -> Option<EventRecord> {
    match action {
        Action::RecordRevision {
            workload,
            revision,
            hash,
            template,
        } => {
            let stored = state.workload_mut(workload)?;
            // A template seen before keeps its ReplicaSet's bookkeeping (a rollback).
            let (desired_replicas, max_replicas) = stored
                .revisions
                .iter()
                .find(|r| &r.hash == hash)
                .map_or((None, None), |r| (r.desired_replicas, r.max_replicas));
            stored.revisions.retain(|r| &r.hash != hash);
            stored.revisions.push(Revision {
                revision: *revision,
                hash: hash.clone(),
                template: template.clone(),
                desired_replicas,
                max_replicas,
            });
            // Existing replicas of the template take the number once every
            // action is carried out (one pass over the replicas, not one each).
            revisions
                .entry(workload.clone())
                .or_default()
                .insert(hash.clone(), *revision);
            Some((EventType::Normal, EventReason::RevisionRecorded))
        }
        Action::SetReplicasAnnotations {
            workload,
            hash,
            desired_replicas,
            max_replicas,
        } => {
            let stored = state.workload_mut(workload)?;
            let revision = stored.revisions.iter_mut().find(|r| *r.hash == **hash)?;
            revision.desired_replicas = Some(*desired_replicas);
            revision.max_replicas = Some(*max_replicas);
            None
        }
        Action::SetCurrentRevision { workload, hash } => {
            let stored = state.workload_mut(workload)?;
            stored.status.current_revision = Some(hash.to_string());
            None
        }
        Action::ForgetRevision { workload, revision } => {
            let stored = state.workload_mut(workload)?;
            stored.revisions.retain(|r| r.revision != *revision);
            None
        }
        _ => unreachable!("`revision` carries out only the actions on revisions"),
    }
}

/// A Job's status and end, and a CronJob's Jobs and schedule.
pub(super) fn job(state: &mut State, action: &Action) -> Option<EventRecord> {
    match action {
        Action::FinishJob { workload, status } => {
            let stored = state.workload_mut(workload)?;
            stored.status.job = Some(Box::new(status.clone()));
            let outcome = status.outcome?;
            Some(match outcome {
                crate::model::job::JobOutcome::Complete => {
                    (EventType::Normal, EventReason::Completed)
                }
                crate::model::job::JobOutcome::BackoffLimitExceeded => {
                    (EventType::Warning, EventReason::BackoffLimitExceeded)
                }
                crate::model::job::JobOutcome::DeadlineExceeded => {
                    (EventType::Warning, EventReason::DeadlineExceeded)
                }
                crate::model::job::JobOutcome::FailedIndexes => {
                    (EventType::Warning, EventReason::FailedIndexes)
                }
                crate::model::job::JobOutcome::MaxFailedIndexesExceeded => {
                    (EventType::Warning, EventReason::MaxFailedIndexesExceeded)
                }
            })
        }
        Action::SetJobStatus { workload, status } => {
            let stored = state.workload_mut(workload)?;
            stored.status.job = Some(Box::new(status.clone()));
            None
        }
        Action::CreateJob {
            cronjob,
            job,
            spec,
            scheduled,
        } => {
            if let Err(i) = state.workload_position(job) {
                state.workloads.insert(i, new_workload(job, spec));
            }
            let cron = state
                .workload_mut(cronjob)?
                .status
                .cron
                .get_or_insert_default();
            cron.last_schedule_time = Some(*scheduled);
            if !cron.jobs.iter().any(|n| **n == *job.name) {
                cron.jobs.push(job.name.to_string());
            }
            Some((EventType::Normal, EventReason::SuccessfulCreate))
        }
        Action::DeleteJob { cronjob, job, .. } => {
            if let Ok(i) = state.workload_position(job) {
                state.workloads.remove(i);
            }
            if let Some(cron) = state
                .workload_mut(cronjob)
                .and_then(|w| w.status.cron.as_mut())
            {
                cron.jobs.retain(|n| **n != *job.name);
            }
            Some((EventType::Normal, EventReason::SuccessfulDelete))
        }
        Action::SkipSchedule {
            cronjob,
            scheduled,
            forbidden,
        } => {
            let cron = state
                .workload_mut(cronjob)?
                .status
                .cron
                .get_or_insert_default();
            cron.last_skipped = Some(*scheduled);
            Some(if *forbidden {
                (EventType::Normal, EventReason::JobAlreadyActive)
            } else {
                (EventType::Warning, EventReason::MissSchedule)
            })
        }
        Action::SetCronStatus { cronjob, status } => {
            state.workload_mut(cronjob)?.status.cron = Some(status.clone());
            None
        }
        _ => unreachable!("`job` carries out only the actions on Jobs and CronJobs"),
    }
}
