//! The Deployment controller: record the applied spec and revisions, then one
//! rollout sync (see `rollout`) turned into replica creations and deletions.

use super::{Action, DeleteReason, Pass};
use crate::model::state::{Replica, WorkloadState};
use crate::model::workload::{Workload, WorkloadKind};
use crate::rollout::{self, RevisionCounts};
use std::collections::BTreeMap;

/// Record the manifest as last applied, and a revision for a new template.
pub(super) fn record_spec(pass: &mut Pass, workload: &Workload) {
    let stored = pass.stored(&workload.id);
    if stored.is_none_or(|s| s.spec != workload.manifest) {
        pass.plan.actions.push(Action::ApplyWorkload {
            workload: workload.id.clone(),
            spec: workload.manifest.clone(),
        });
    }
    let newest = stored.and_then(WorkloadState::current_revision);
    // A paused Deployment starts no new revision until resumed.
    if is_paused(pass, workload) && newest.is_some() {
        return;
    }
    if newest.is_none_or(|r| *r.hash != *workload.template_hash) {
        pass.plan.actions.push(Action::RecordRevision {
            workload: workload.id.clone(),
            revision: newest.map_or(1, |r| r.revision + 1),
            hash: workload.template_hash.to_string(),
            template: workload.template.clone(),
        });
    }
    // revisionHistoryLimit (`cleanupDeployment`): of the old revisions, the
    // oldest beyond the limit are forgotten, skipping any that still has replicas.
    if let Some(stored) = stored {
        let mut old: Vec<&crate::model::state::Revision> = stored
            .revisions
            .iter()
            .filter(|r| *r.hash != *workload.template_hash)
            .collect();
        old.sort_by_key(|r| r.revision);
        let excess = old
            .len()
            .saturating_sub(workload.revision_history_limit as usize);
        for revision in old.into_iter().take(excess) {
            let observed = pass.observed;
            let alive = pass
                .by_workload
                .get(&workload.id)
                .into_iter()
                .flatten()
                .any(|&i| *observed.replicas[i].hash == *revision.hash);
            if !alive {
                pass.plan.actions.push(Action::ForgetRevision {
                    workload: workload.id.clone(),
                    revision: revision.revision,
                });
            }
        }
    }
}

/// `spec.paused`, or paused with `orch rollout pause`.
pub fn is_paused(pass: &Pass, workload: &Workload) -> bool {
    workload.paused || pass.stored(&workload.id).is_some_and(|w| w.status.paused)
}

/// The revision number the workload's current template has (or gets in this pass).
pub(super) fn current_revision(pass: &Pass, workload: &Workload) -> u64 {
    let stored = pass.stored(&workload.id);
    let newest = stored.and_then(WorkloadState::current_revision);
    match newest {
        Some(r) if *r.hash == *workload.template_hash => r.revision,
        Some(r) => r.revision + 1,
        None => 1,
    }
}

/// Whether a replica counts as available: ready for longer than minReadySeconds
/// (`IsPodAvailable`, strict comparison).
pub fn is_available(replica: &Replica, min_ready_seconds: u64, now: u64) -> bool {
    match (replica.ready, replica.ready_at) {
        (true, _) if min_ready_seconds == 0 => true,
        (true, Some(at)) => at + min_ready_seconds < now,
        _ => false,
    }
}

/// A Deployment's revisions as the controller lists its ReplicaSets.
struct ReplicaSets<'a> {
    /// Live replicas by template hash.
    by_hash: BTreeMap<&'a str, Vec<&'a Replica>>,
    /// The current template's ReplicaSet, once it exists.
    new: Option<RevisionCounts>,
    /// The others, oldest first, with their hashes.
    old: Vec<(RevisionCounts, &'a str)>,
}

/// `getAllReplicaSetsAndSyncRevision(createIfNotExisted=false)` over orch's
/// revisions: a revision's ReplicaSet has its live replicas and the
/// annotations stored on it.
fn replica_sets<'a>(pass: &Pass<'a>, workload: &'a Workload) -> ReplicaSets<'a> {
    let stored_revisions = pass
        .stored(&workload.id)
        .map_or(&[][..], |w| w.revisions.as_slice());
    let recorded = |hash: &str| stored_revisions.iter().find(|r| *r.hash == *hash);
    let mut by_hash: BTreeMap<&str, Vec<&Replica>> = BTreeMap::new();
    for replica in pass.replicas_of(&workload.id) {
        by_hash.entry(&*replica.hash).or_default().push(replica);
    }
    let counts = |hash: &str, members: &[&Replica]| {
        let revision = recorded(hash);
        RevisionCounts {
            revision: revision.map_or(0, |r| r.revision),
            replicas: members.len() as i32,
            available: members
                .iter()
                .filter(|r| is_available(r, workload.min_ready_seconds, pass.now))
                .count() as i32,
            desired_replicas: revision.and_then(|r| r.desired_replicas),
            max_replicas: revision.and_then(|r| r.max_replicas),
        }
    };
    let new_hash = &*workload.template_hash;
    let new_members = by_hash.get(new_hash).map_or(&[][..], Vec::as_slice);
    // The new ReplicaSet exists once it has replicas or the controller has
    // written its annotations (a revision recorded in a pass that only
    // scaled has neither: `getNewReplicaSet` creates it on the next).
    let new = (!new_members.is_empty()
        || recorded(new_hash).is_some_and(|r| r.desired_replicas.is_some()))
    .then(|| counts(new_hash, new_members));
    // Old ReplicaSets: revisions with replicas, and those the controller
    // made that are scaled to 0 (kept until `cleanupDeployment`).
    let mut old: Vec<(RevisionCounts, &str)> = by_hash
        .iter()
        .filter(|(hash, _)| **hash != new_hash)
        .map(|(hash, members)| (counts(hash, members), *hash))
        .collect();
    for revision in stored_revisions {
        if *revision.hash != *new_hash
            && revision.desired_replicas.is_some()
            && !by_hash.contains_key(revision.hash.as_str())
        {
            old.push((counts(&revision.hash, &[]), revision.hash.as_str()));
        }
    }
    old.sort_by_key(|(c, hash)| (c.revision, *hash));
    ReplicaSets { by_hash, new, old }
}

/// One Deployment controller sync (`syncDeployment`): the revisions as
/// ReplicaSets, `rollout::sync_deployment`'s writes turned into replica
/// creations and deletions and the annotations written with them.
pub(super) fn sync(pass: &mut Pass, workload: &Workload) {
    let sets = replica_sets(pass, workload);
    let old_counts: Vec<RevisionCounts> = sets.old.iter().map(|(c, _)| *c).collect();
    let spec = rollout::Spec {
        strategy: &workload.strategy,
        replicas: workload.replicas,
        paused: is_paused(pass, workload),
    };
    let scaling =
        spec.paused || rollout::is_scaling_event(spec.replicas, sets.new.as_ref(), &old_counts);
    let new_revision = current_revision(pass, workload);
    let new_hash = &*workload.template_hash;
    let max_replicas =
        workload.replicas + rollout::max_surge(&workload.strategy, workload.replicas);
    for scale in rollout::sync_deployment(spec, new_revision, sets.new, &old_counts) {
        let (hash, have) = match sets.old.iter().find(|(c, _)| c.revision == scale.revision) {
            Some((c, hash)) if scale.revision != new_revision => (*hash, c.replicas),
            _ => (new_hash, sets.new.map_or(0, |n| n.replicas)),
        };
        if scale.replicas > have {
            for _ in have..scale.replicas {
                if hash == new_hash {
                    create(pass, workload, new_revision, None);
                } else {
                    // Old revisions grow too: their replicas keep the old template.
                    create_old(pass, workload, scale.revision, hash);
                }
            }
        } else if scale.replicas < have {
            let reason = if scaling || hash == new_hash {
                DeleteReason::ScaledDown
            } else {
                DeleteReason::Superseded
            };
            let members = sets.by_hash.get(hash).cloned().unwrap_or_default();
            let count = (have - scale.replicas) as usize;
            scale_down(pass, workload, members, count, reason);
        }
        pass.plan.actions.push(Action::SetReplicasAnnotations {
            workload: workload.id.clone(),
            hash: hash.into(),
            desired_replicas: workload.replicas,
            max_replicas,
        });
    }
}

/// A replica of an older revision (proportional scaling of an old ReplicaSet).
fn create_old(pass: &mut Pass, workload: &Workload, revision: u64, hash: &str) {
    let name = pass.names.next(&workload.id, Some(hash));
    pass.create_replica(name, &workload.id, revision, hash.into(), None);
}

pub(super) fn create(
    pass: &mut Pass,
    workload: &Workload,
    revision: u64,
    target_node: Option<String>,
) {
    let hash = (workload.kind() == WorkloadKind::Deployment).then_some(&*workload.template_hash);
    let name = pass.names.next(&workload.id, hash);
    pass.create_replica(
        name,
        &workload.id,
        revision,
        workload.template_hash.clone(),
        target_node,
    );
}

/// Pick victims as the ReplicaSet controller ranks pods (`ActivePodsWithRanks`):
/// unscheduled first, then not ready, then those sharing a node with more of
/// their siblings, then ready for the shortest time, more restarts, newest.
pub(super) fn scale_down(
    pass: &mut Pass,
    workload: &Workload,
    mut members: Vec<&Replica>,
    count: usize,
    reason: DeleteReason,
) {
    let mut per_node: BTreeMap<&str, usize> = BTreeMap::new();
    for replica in pass.replicas_of(&workload.id) {
        if let Some(node) = &replica.node {
            *per_node.entry(&**node).or_default() += 1;
        }
    }
    members.sort_by(|a, b| {
        let siblings = |r: &Replica| {
            r.node
                .as_deref()
                .map_or(0, |n| per_node.get(n).copied().unwrap_or(0))
        };
        a.node
            .is_some()
            .cmp(&b.node.is_some())
            .then(a.ready.cmp(&b.ready))
            .then(siblings(b).cmp(&siblings(a)))
            .then(b.ready_at.cmp(&a.ready_at))
            .then(b.restarts.cmp(&a.restarts))
            .then(b.created_at.cmp(&a.created_at))
            .then(b.name.cmp(&a.name))
    });
    for replica in members.into_iter().take(count) {
        pass.delete(replica, reason.clone());
    }
}
