//! Carrying out a pass's actions on the state, in order, each recorded as
//! an event with Kubernetes' reason: how every action changes the state.

use crate::model::event::EventReason;
use crate::model::state::{Event, EventType, Phase, Replica, State};
use crate::model::workload::{Kind, ObjectRef};
use crate::reconcile::Action;
use rustc_hash::FxHashMap as HashMap;

mod events;
mod objects;
mod replicas;
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
        if let Some(position) = index.get_mut(&*replica.name) {
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

/// Carry out one action on the state and say which event records it:
/// each group of actions (nodes, workloads, revisions, Jobs, replicas) is
/// carried out where it is described, read (and extended, see
/// ARCHITECTURE.md) in one place per group.
fn apply_one<'a>(
    state: &mut State,
    index: &mut HashMap<&'a str, usize>,
    revisions: &mut HashMap<ObjectRef, HashMap<String, u64>>,
    removed: &mut bool,
    action: &'a Action,
    now: u64,
) -> Option<EventRecord> {
    match action {
        Action::AddNode(_) | Action::UpdateNode(_) | Action::RemoveNode { .. } => {
            objects::node(state, action)
        }
        Action::ApplyWorkload { .. } | Action::RemoveWorkload { .. } | Action::SetStatus { .. } => {
            objects::workload(state, action)
        }
        Action::RecordRevision { .. }
        | Action::SetReplicasAnnotations { .. }
        | Action::SetCurrentRevision { .. }
        | Action::ForgetRevision { .. } => objects::revision(state, revisions, action),
        Action::FinishJob { .. }
        | Action::SetJobStatus { .. }
        | Action::CreateJob { .. }
        | Action::DeleteJob { .. }
        | Action::SkipSchedule { .. }
        | Action::SetCronStatus { .. } => objects::job(state, action),
        Action::Storage(action) => {
            let mut storage = super::storage::Index::default();
            let event = storage.apply(state, action);
            storage.finish(state);
            event
        }
        Action::Create {
            replica,
            workload,
            revision,
            hash,
            target_node,
        } => {
            index.insert(&**replica, state.replicas.len());
            state.replicas.push(Replica::pending(
                replica.clone(),
                workload.clone(),
                *revision,
                hash.clone(),
                target_node.clone(),
                now,
            ));
            Some((EventType::Normal, EventReason::SuccessfulCreate))
        }
        Action::Bind { replica, .. }
        | Action::Gate { replica, .. }
        | Action::UpdatePod { replica, .. }
        | Action::Admit { replica, .. }
        | Action::Reject { replica, .. }
        | Action::FailedScheduling { replica, .. }
        | Action::MarkReady { replica, .. }
        | Action::Crash { replica, .. }
        | Action::MarkUnready { replica, .. }
        | Action::FinishPod { replica, .. } => {
            let r = &mut state.replicas[*index.get(&**replica)?];
            replicas::change(r, action, now)
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
        // (Carried out by `execute_actions`, which records its own events.)
        Action::NodeGroup(_) => None,
        Action::Delete {
            replica,
            reason,
            workload,
            ..
        } => replicas::delete(state, index, removed, (replica, workload, reason), now),
    }
}
