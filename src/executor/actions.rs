//! Carrying out a pass's actions on the state, in order, each recorded as
//! an event with Kubernetes' reason: how every action changes the state.

use crate::model::condition::{ConditionStatus, ConditionType};
use crate::model::event::EventReason;
use crate::model::state::{
    Event, EventType, Phase, Replica, Revision, State, WorkloadState, WorkloadStatus,
};
use crate::model::workload::{Kind, ObjectRef};
use crate::reconcile::Action;
use rustc_hash::FxHashMap as HashMap;

mod events;
use events::{event_message, event_object, progress_event, rejection_event};

/// Live replicas of each Deployment revision (its ReplicaSet), by workload and hash.
fn replica_sets(state: &State) -> HashMap<ObjectRef, HashMap<String, i32>> {
    let mut sets: HashMap<ObjectRef, HashMap<String, i32>> = HashMap::default();
    let mut add = |workload: &ObjectRef, hash: &str, count: i32| {
        let by_hash = match sets.get_mut(workload) {
            Some(found) => found,
            None => sets.entry(workload.clone()).or_default(),
        };
        match by_hash.get_mut(hash) {
            Some(total) => *total += count,
            None => {
                by_hash.insert(hash.to_string(), count);
            }
        }
    };
    // Replicas of one revision mostly sit next to each other: counted in runs.
    let mut run: Option<(&ObjectRef, &str, i32)> = None;
    for r in state
        .replicas
        .iter()
        .filter(|r| r.phase.is_active() && r.workload.kind == Kind::Deployment)
    {
        match &mut run {
            Some((workload, hash, count)) if *hash == &*r.hash && **workload == r.workload => {
                *count += 1;
            }
            _ => {
                if let Some((workload, hash, count)) = run {
                    add(workload, hash, count);
                }
                run = Some((&r.workload, &r.hash, 1));
            }
        }
    }
    if let Some((workload, hash, count)) = run {
        add(workload, hash, count);
    }
    sets
}

pub fn execute(state: &mut State, actions: &[Action]) {
    // Only creations and deletions change how many replicas a revision has.
    let scales = actions
        .iter()
        .any(|a| matches!(a, Action::Create { .. } | Action::Delete { .. }));
    if !scales {
        execute_actions(state, actions);
        return;
    }
    let sets_before = replica_sets(state);
    execute_actions(state, actions);
    // `ScalingReplicaSet`, as the Deployment controller reports each scale.
    let sets_after = replica_sets(state);
    // (workload, replica set) in the order of their names, as events are recorded.
    let mut keys: Vec<(String, String, &ObjectRef, &String)> = Vec::new();
    for sets in [&sets_before, &sets_after] {
        for (workload, by_hash) in sets {
            for hash in by_hash.keys() {
                keys.push((
                    workload.to_string(),
                    format!("{}-{hash}", workload.name),
                    workload,
                    hash,
                ));
            }
        }
    }
    keys.sort();
    keys.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    let count =
        |sets: &HashMap<ObjectRef, HashMap<String, i32>>, workload: &ObjectRef, hash: &String| {
            sets.get(workload)
                .and_then(|by_hash| by_hash.get(hash))
                .copied()
                .unwrap_or(0)
        };
    let mut events = Vec::new();
    for (object, set, workload, hash) in keys {
        let (before, after) = (
            count(&sets_before, workload, hash),
            count(&sets_after, workload, hash),
        );
        if before != after {
            let direction = if after > before { "up" } else { "down" };
            events.push(Event {
                time: state.clock,
                kind: EventType::Normal,
                reason: EventReason::ScalingReplicaSet,
                object,
                message: format!("Scaled {direction} replica set {set} from {before} to {after}"),
            });
        }
    }
    for event in events {
        state.record_event(event);
    }
    state.trim_events();
}

pub(super) fn execute_actions(state: &mut State, actions: &[Action]) {
    let now = state.clock;
    // Positions of the replicas the actions name (not of every replica: a
    // step touches few of a large fleet's).
    // (A created replica is new: it enters the index as it is created.)
    let creates = actions
        .iter()
        .filter(|a| matches!(a, Action::Create { .. }))
        .count();
    let mut index: HashMap<&str, usize> = HashMap::default();
    index.reserve(actions.len() - creates);
    index.extend(
        actions
            .iter()
            .filter(|a| !matches!(a, Action::Create { .. }))
            .filter_map(Action::replica)
            .map(|name| (name, NOT_FOUND)),
    );
    for (i, replica) in state.replicas.iter().enumerate() {
        if let Some(position) = index.get_mut(replica.name.as_str()) {
            *position = i;
        }
    }
    index.retain(|_, &mut position| position != NOT_FOUND);
    index.reserve(creates);
    state.replicas.reserve(creates);
    let mut removed = false;
    let mut revisions = HashMap::default();
    let mut events: Vec<(&Action, EventType, EventReason)> = Vec::new();
    let mut storage = super::storage::Index::default();
    for action in actions {
        let event = match action {
            Action::Storage(change) => storage.apply(state, change),
            Action::NodeGroup(decision) => {
                super::nodegroup::apply(state, decision, now);
                None
            }
            _ => apply_one(state, &mut index, &mut revisions, &mut removed, action, now),
        };
        if let Some((kind, reason)) = event {
            events.push((action, kind, reason));
        }
    }
    storage.finish(state);
    // The state keeps the newest `MAX_EVENTS` events: older ones of a large
    // step are not even written.
    let kept = events.len().saturating_sub(crate::model::state::MAX_EVENTS);
    for &(action, kind, reason) in &events[kept..] {
        state.record_event(Event {
            time: now,
            kind,
            reason,
            object: event_object(action),
            message: event_message(action),
        });
    }
    if !revisions.is_empty() {
        for replica in &mut state.replicas {
            if let Some(&revision) = revisions
                .get(&replica.workload)
                .and_then(|by_hash| by_hash.get(&*replica.hash))
            {
                replica.revision = revision;
            }
        }
    }
    if removed {
        let nodes = &state.nodes;
        let node = |name: &str| {
            nodes
                .binary_search_by(|n| n.name.as_str().cmp(name))
                .ok()
                .map(|i| &nodes[i])
        };
        state.replicas.retain_mut(|r| {
            if r.phase != Phase::Terminating {
                return true;
            }
            let stays =
                crate::model::stateful::stays_terminating(r, r.node.as_deref().and_then(node));
            if stays {
                r.ready = false;
                r.reason = Some(crate::model::stateful::terminating_message(r));
            }
            stays
        });
    }
    state.trim_events();
    state.nodes.sort_by(|a, b| a.name.cmp(&b.name));
    state
        .workloads
        .sort_by(|a, b| a.id_order().cmp(&b.id_order()));
}

/// Not (yet) in the state.
const NOT_FOUND: usize = usize::MAX;

type EventRecord = (EventType, EventReason);

/// Carry out one action on the state and say which event records it.
/// Long by design: one arm per action, the table of how each action
/// changes the state, read (and extended, see ARCHITECTURE.md) in one place.
fn apply_one<'a>(
    state: &mut State,
    index: &mut HashMap<&'a str, usize>,
    revisions: &mut HashMap<ObjectRef, HashMap<String, u64>>,
    removed: &mut bool,
    action: &'a Action,
    now: u64,
) -> Option<EventRecord> {
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
        Action::ApplyWorkload { workload, spec } => {
            match state.workload_position(workload) {
                Ok(i) => {
                    state.workloads[i].spec = spec.clone();
                    state.workloads[i].origin = crate::model::state::WorkloadOrigin::Applied;
                }
                Err(i) => state.workloads.insert(
                    i,
                    WorkloadState {
                        kind: workload.kind,
                        namespace: workload.namespace.to_string(),
                        name: workload.name.to_string(),
                        spec: spec.clone(),
                        revisions: Vec::new(),
                        status: WorkloadStatus::default(),
                        origin: Default::default(),
                    },
                ),
            }
            None
        }
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
        Action::Storage(action) => {
            let mut storage = super::storage::Index::default();
            let event = storage.apply(state, action);
            storage.finish(state);
            event
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
        Action::RemoveWorkload { workload } => {
            if let Ok(i) = state.workload_position(workload) {
                state.workloads.remove(i);
            }
            Some((EventType::Normal, EventReason::Deleted))
        }
        Action::Create {
            replica,
            workload,
            revision,
            hash,
            target_node,
        } => {
            index.insert(replica.as_str(), state.replicas.len());
            state.replicas.push(Replica {
                name: replica.clone(),
                workload: workload.clone(),
                revision: *revision,
                hash: hash.clone(),
                node: None,
                target_node: target_node.clone(),
                phase: Phase::Pending,
                ready: false,
                created_at: now,
                started_at: None,
                ready_at: None,
                restarts: 0,
                reason: None,
                unmanaged: None,
                finished_at: None,
            });
            Some((EventType::Normal, EventReason::SuccessfulCreate))
        }
        Action::Bind { replica, node, .. } => {
            let r = &mut state.replicas[*index.get(replica.as_str())?];
            r.node = Some(node.clone());
            r.phase = Phase::Running;
            r.started_at = Some(now);
            r.reason = None;
            Some((EventType::Normal, EventReason::Scheduled))
        }
        Action::Gate {
            replica, message, ..
        } => {
            let r = &mut state.replicas[*index.get(replica.as_str())?];
            r.reason = Some(message.clone());
            // PreEnqueue records no event: the pod never reaches a scheduling cycle.
            None
        }
        Action::UpdatePod {
            replica,
            revision,
            hash,
            ..
        } => {
            let r = &mut state.replicas[*index.get(replica.as_str())?];
            r.revision = *revision;
            r.hash = hash.clone();
            r.reason = None;
            None
        }
        Action::Admit { replica, node, .. } => {
            let r = &mut state.replicas[*index.get(replica.as_str())?];
            r.node = Some(node.clone());
            r.phase = Phase::Running;
            r.started_at = Some(now);
            r.reason = None;
            // No scheduler, so no `Scheduled` event: the kubelet starts it.
            None
        }
        Action::Reject {
            replica,
            node,
            rejection,
            ..
        } => {
            let r = &mut state.replicas[*index.get(replica.as_str())?];
            r.node = Some(node.clone());
            r.phase = Phase::Failed;
            r.ready = false;
            r.finished_at = Some(now);
            r.reason = Some(rejection.reason());
            Some((EventType::Warning, rejection_event(rejection)))
        }
        Action::FailedScheduling { replica, error, .. } => {
            let r = &mut state.replicas[*index.get(replica.as_str())?];
            // The state keeps kube-scheduler's message (SPEC §8: `reason`).
            r.reason = Some(error.to_string());
            Some((EventType::Warning, EventReason::FailedScheduling))
        }
        Action::MarkReady { replica, .. } => {
            let r = &mut state.replicas[*index.get(replica.as_str())?];
            r.ready = true;
            r.ready_at = Some(now);
            Some((EventType::Normal, EventReason::Ready))
        }
        Action::Crash {
            replica,
            restarts,
            backoff,
            ..
        } => {
            let r = &mut state.replicas[*index.get(replica.as_str())?];
            r.ready = false;
            r.ready_at = None;
            r.restarts = *restarts;
            r.started_at = Some(now + backoff);
            Some((EventType::Warning, EventReason::BackOff))
        }
        Action::SetStatus { workload, status } => {
            let stored = state.workload_mut(workload)?;
            let before = stored
                .status
                .condition(ConditionType::Progressing)
                .map(|c| (c.status, c.reason.clone()));
            stored.status = status.clone();
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
        Action::MarkUnready { replica, .. } => {
            let r = &mut state.replicas[*index.get(replica.as_str())?];
            r.ready = false;
            r.ready_at = None;
            Some((EventType::Warning, EventReason::NodeNotReady))
        }
        Action::FinishPod {
            replica, succeeded, ..
        } => {
            let r = &mut state.replicas[*index.get(replica.as_str())?];
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
                state.workloads.insert(
                    i,
                    WorkloadState {
                        kind: job.kind,
                        namespace: job.namespace.to_string(),
                        name: job.name.to_string(),
                        spec: spec.clone(),
                        revisions: Vec::new(),
                        status: WorkloadStatus::default(),
                        origin: Default::default(),
                    },
                );
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
        Action::Rescale { autoscaler, to, .. } => {
            let record = state
                .autoscalers
                .iter_mut()
                .find(|a| a.id() == *autoscaler)?;
            record.status.desired_replicas = *to;
            record.status.last_scale_time = Some(now);
            Some((EventType::Normal, EventReason::SuccessfulRescale))
        }
        Action::SetCronStatus { cronjob, status } => {
            state.workload_mut(cronjob)?.status.cron = Some(status.clone());
            None
        }
        // (Carried out by `execute_actions`, which records its own events.)
        Action::NodeGroup(_) => None,
        Action::Delete {
            replica,
            reason,
            workload,
            ..
        } => {
            // A bare Pod is not replaced: its loss is kept until the next apply.
            if workload.kind == Kind::Pod
                && let Some(stored) = state.workload_mut(workload)
            {
                stored.status.lost = Some(Box::new(crate::model::state::PodLoss {
                    at: now,
                    reason: reason.to_string(),
                }));
            }
            let r = &mut state.replicas[*index.get(replica.as_str())?];
            r.phase = Phase::Terminating;
            *removed = true;
            let kind = if reason.event() == EventReason::Killing {
                EventType::Normal
            } else {
                EventType::Warning
            };
            Some((kind, reason.event()))
        }
    }
}
