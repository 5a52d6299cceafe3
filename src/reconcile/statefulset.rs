//! The StatefulSet controller (`updateStatefulSet`,
//! pkg/controller/statefulset/stateful_set_control.go, Kubernetes 1.34):
//! replicas with stable identities `<set>-<ordinal>`, created in ordinal
//! order each once its predecessors are Running and Ready (OrderedReady) or
//! all at once (Parallel); removed from the highest ordinal; updated from
//! the highest ordinal down to `partition`, one replica at a time.
//!
//! A replica being deleted keeps its identity until it is gone: a
//! StatefulSet never runs two replicas of one name, so a replica left
//! Terminating on a lost node holds its ordinal (see `eviction`).

use super::deployment::{self, is_available};
use super::{Action, DeleteReason, Pass};
use crate::model::state::{Phase, Replica};
use crate::model::stateful::{PodManagementPolicy, StatefulSpec, ordinal_of, replica_name};
use crate::model::workload::{Strategy, Workload};
use std::sync::Arc;

/// One replica as the controller sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pod<'a> {
    pub name: &'a str,
    pub ordinal: i32,
    pub hash: &'a str,
    /// Being deleted (`DeletionTimestamp` set).
    pub terminating: bool,
    pub failed: bool,
    /// `isRunningAndReady`.
    pub running_and_ready: bool,
    /// `isRunningAndAvailable` with the set's minReadySeconds.
    pub available: bool,
}

/// What one sync decides.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Decisions {
    /// New replicas: (ordinal, revision hash), in the order they are made.
    pub create: Vec<(i32, String)>,
    /// Replicas to delete, by name, with why.
    pub delete: Vec<(String, Removal)>,
    /// Why the sync stopped early, if it did (the controller's log line).
    pub waiting: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// Failed or succeeded: deleted so that it is made again.
    Failed,
    /// Outside `[start, start + replicas)`.
    ScaledDown,
    /// Not of the update revision (RollingUpdate).
    Updated,
}

/// The spec of one sync, as `updateStatefulSet` reads it.
#[derive(Debug, Clone, Copy)]
pub struct SetSpec<'a> {
    pub replicas: i32,
    pub start: i32,
    pub policy: PodManagementPolicy,
    /// None: OnDelete; Some(partition): RollingUpdate.
    pub partition: Option<i32>,
    pub current_hash: &'a str,
    pub update_hash: &'a str,
}

/// A created replica in the slot of a missing one (`newVersionedStatefulSetPod`):
/// below `start + partition` it takes the current revision, else the update one.
fn new_pod<'a>(spec: &SetSpec<'a>, ordinal: i32) -> Pod<'a> {
    let current = spec
        .partition
        .is_some_and(|partition| ordinal < spec.start + partition);
    Pod {
        name: "",
        ordinal,
        hash: if current {
            spec.current_hash
        } else {
            spec.update_hash
        },
        terminating: false,
        failed: false,
        running_and_ready: false,
        available: false,
    }
}

/// `updateStatefulSet`: the decisions of one sync over `pods` (every
/// replica of the set, terminating ones included), in upstream's phases:
/// `processReplica` over the ordinals in range, `processCondemned` over
/// the others, then the rolling update; each may end the sync.
pub fn sync(spec: &SetSpec, pods: &[Pod]) -> Decisions {
    let mut decisions = Decisions::default();
    let count = spec.replicas.max(0) as usize;
    let mut slots: Vec<Option<Pod>> = vec![None; count];
    let mut condemned: Vec<Pod> = Vec::new();
    for pod in pods {
        let index = i64::from(pod.ordinal) - i64::from(spec.start);
        if index >= 0 && (index as usize) < count {
            slots[index as usize] = Some(*pod);
        } else {
            condemned.push(*pod);
        }
    }
    // Highest ordinal first (`descendingOrdinal`).
    condemned.sort_by_key(|p| std::cmp::Reverse(p.ordinal));
    let monotonic = spec.policy == PodManagementPolicy::OrderedReady;
    // The first unavailable replica: in range by ordinal, else condemned from the lowest.
    let first_unavailable: Option<&str> = slots
        .iter()
        .find(|p| p.is_none_or(|p| !p.available))
        .map(|p| p.map_or("", |p| p.name))
        .or_else(|| {
            condemned
                .iter()
                .rev()
                .find(|p| !p.available)
                .map(|p| p.name)
        });
    if process_replicas(spec, &mut slots, monotonic, &mut decisions)
        || process_condemned(&condemned, monotonic, first_unavailable, &mut decisions)
    {
        return decisions;
    }
    // OnDelete: replicas are updated only when deleted.
    let Some(partition) = spec.partition else {
        return decisions;
    };
    // RollingUpdate: the highest ordinal not of the update revision goes first.
    let update_min = partition.max(0) as usize;
    for slot in slots.iter().skip(update_min).rev() {
        let pod = slot.expect("every slot is filled");
        if pod.hash != spec.update_hash && !pod.terminating {
            decisions
                .delete
                .push((pod.name.to_string(), Removal::Updated));
            return decisions;
        }
        if !pod.available {
            decisions.waiting = Some(format!("waiting for {} to update", pod.name));
            return decisions;
        }
    }
    decisions
}

/// `processReplica`, for each ordinal in range (`slots`, whose missing
/// replicas are created): whether the sync ends here.
fn process_replicas<'a>(
    spec: &SetSpec<'a>,
    slots: &mut [Option<Pod<'a>>],
    monotonic: bool,
    decisions: &mut Decisions,
) -> bool {
    for (i, slot) in slots.iter_mut().enumerate() {
        let ordinal = spec.start + i as i32;
        let pod = match slot {
            Some(pod) => *pod,
            None => {
                let pod = new_pod(spec, ordinal);
                decisions.create.push((ordinal, pod.hash.to_string()));
                *slot = Some(pod);
                if monotonic {
                    return true;
                }
                continue;
            }
        };
        if pod.failed && !pod.terminating {
            decisions
                .delete
                .push((pod.name.to_string(), Removal::Failed));
            if monotonic {
                return true;
            }
            continue;
        }
        if !monotonic {
            continue;
        }
        let waiting = if pod.terminating {
            Some("to Terminate")
        } else if !pod.running_and_ready {
            Some("to be Running and Ready")
        } else if !pod.available {
            Some("to be Available")
        } else {
            None
        };
        if let Some(what) = waiting {
            decisions.waiting = Some(format!("waiting for {} {what}", pod.name));
            return true;
        }
    }
    false
}

/// `processCondemned`, highest ordinal first: whether the sync ends here.
fn process_condemned(
    condemned: &[Pod],
    monotonic: bool,
    first_unavailable: Option<&str>,
    decisions: &mut Decisions,
) -> bool {
    for pod in condemned {
        if pod.terminating {
            if monotonic {
                decisions.waiting = Some(format!(
                    "waiting for {} to Terminate prior to scale down",
                    pod.name
                ));
                return true;
            }
            continue;
        }
        if monotonic && !pod.available && first_unavailable != Some(pod.name) {
            let first = first_unavailable.unwrap_or(pod.name);
            decisions.waiting = Some(format!(
                "waiting for {first} to be Running and Available prior to scale down"
            ));
            return true;
        }
        decisions
            .delete
            .push((pod.name.to_string(), Removal::ScaledDown));
        if monotonic {
            return true;
        }
    }
    false
}

/// `completeRollingUpdate`: the update revision becomes the current one once
/// every replica runs it and is ready.
pub fn rolling_update_complete(spec: &SetSpec, pods: &[Pod]) -> bool {
    let live: Vec<&Pod> = pods.iter().filter(|p| !p.terminating).collect();
    spec.partition.is_some()
        && live.len() == spec.replicas.max(0) as usize
        && live
            .iter()
            .all(|p| p.hash == spec.update_hash && p.running_and_ready)
}

/// The StatefulSet's fields, defaulted for a workload built without them.
pub fn spec_of(workload: &Workload) -> StatefulSpec {
    workload.stateful.as_deref().cloned().unwrap_or_default()
}

/// Every replica of the set in the state, terminating ones included (a
/// replica deleted earlier in this pass is terminating).
fn all_replicas<'a>(pass: &Pass<'a>, workload: &Workload) -> Vec<&'a Replica> {
    let observed = pass.observed;
    pass.by_workload
        .get(&workload.id)
        .into_iter()
        .flatten()
        .map(|&i| &observed.replicas[i])
        .collect()
}

/// One StatefulSet controller sync, turned into replica creations and deletions.
pub(super) fn sync_set(pass: &mut Pass, workload: &Workload) {
    let stateful = spec_of(workload);
    let update_hash: &str = &workload.template_hash;
    let stored = pass.stored(&workload.id);
    let update_revision = deployment::current_revision(pass, workload);
    // The current revision, while it is one the set still has.
    let current = stored.and_then(|w| {
        let hash = w.status.current_revision.as_deref()?;
        let revision = w.revisions.iter().find(|r| r.hash == hash)?;
        pass.catalog
            .pod(&workload.id, hash)
            .map(|_| (revision.revision, revision.hash.clone()))
    });
    let (current_revision, current_hash) = current
        .clone()
        .unwrap_or_else(|| (update_revision, update_hash.to_string()));
    let spec = SetSpec {
        replicas: workload.replicas,
        start: stateful.ordinals_start,
        policy: stateful.pod_management_policy,
        partition: match workload.strategy {
            Strategy::OnDelete => None,
            _ => Some(stateful.partition),
        },
        current_hash: &current_hash,
        update_hash,
    };
    let replicas = all_replicas(pass, workload);
    let pods: Vec<Pod> = replicas
        .iter()
        .filter_map(|r| {
            let ordinal = ordinal_of(&workload.id.name, &r.name)?;
            let running_and_ready = r.phase == Phase::Running && r.node.is_some() && r.ready;
            Some(Pod {
                name: &r.name,
                ordinal,
                hash: &r.hash,
                terminating: r.phase == Phase::Terminating || pass.deleted.contains(&r.name),
                // A replica its kubelet refused is kept, not recreated without end.
                failed: r.phase == Phase::Failed && !super::admission::is_rejected(r),
                running_and_ready,
                available: running_and_ready
                    && is_available(r, workload.min_ready_seconds, pass.now),
            })
        })
        .collect();
    let decisions = sync(&spec, &pods);
    let complete = rolling_update_complete(&spec, &pods);
    drop(pods);
    let templates: Vec<String> = stateful
        .claim_templates
        .iter()
        .map(|t| t.name.clone())
        .collect();
    for (name, removal) in decisions.delete {
        let reason = match removal {
            Removal::Failed | Removal::ScaledDown => DeleteReason::ScaledDown,
            Removal::Updated => DeleteReason::Superseded,
        };
        if let Some(replica) = replicas.iter().find(|r| *r.name == *name) {
            pass.delete(replica, reason);
        }
        // persistentVolumeClaimRetentionPolicy.whenScaled: Delete.
        if removal == Removal::ScaledDown
            && stateful.retention.when_scaled == crate::model::storage::ReclaimPolicy::Delete
            && let Some(ordinal) = ordinal_of(&workload.id.name, &name)
        {
            super::storage::delete_template_claims(pass, &workload.id, &templates, ordinal);
        }
    }
    for (ordinal, hash) in decisions.create {
        let revision = if hash == update_hash {
            update_revision
        } else {
            current_revision
        };
        create(pass, workload, ordinal, revision, hash.into());
    }
    let recorded = stored.and_then(|w| w.status.current_revision.as_deref());
    if current.is_none() || (complete && recorded != Some(update_hash)) {
        pass.plan.actions.push(Action::SetCurrentRevision {
            workload: workload.id.clone(),
            hash: update_hash.into(),
        });
    }
}

fn create(pass: &mut Pass, workload: &Workload, ordinal: i32, revision: u64, hash: Arc<str>) {
    super::storage::create_template_claims(pass, workload, ordinal);
    let name = replica_name(&workload.id.name, ordinal);
    pass.create_replica(name, &workload.id, revision, hash, None);
}

#[cfg(test)]
mod tests;
