//! One Deployment controller sync, as `syncDeployment` chooses it
//! (`pkg/controller/deployment/deployment_controller.go`): a paused
//! Deployment or a scaling event is only scaled (`sync` → `scale` in
//! `sync.go`); otherwise the strategy rolls it (`rolloutRolling`,
//! `rolloutRecreate`). A scaling event is read from the `desired-replicas`
//! annotation of the active ReplicaSets, and proportional scaling from their
//! `max-replicas` (`deployment_util.go`), which orch keeps per revision.

use super::{RevisionCounts, Targets, max_surge, recreate_sync, rolling_sync};
use crate::model::workload::Strategy;

/// One `scaleReplicaSet`: the revision's ReplicaSet set to `replicas`, and
/// its replicas annotations rewritten to the Deployment's current
/// `spec.replicas` and `spec.replicas + MaxSurge` (`SetReplicasAnnotations`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    pub revision: u64,
    pub replicas: i32,
}

/// The Deployment as one sync reads it.
#[derive(Debug, Clone, Copy)]
pub struct Spec<'a> {
    pub strategy: &'a Strategy,
    pub replicas: i32,
    pub paused: bool,
}

/// `syncDeployment` after the listings: what one sync writes to the
/// ReplicaSets. `new` is the newest template's ReplicaSet, `None` until it
/// is created (as revision `new_revision`); `old` is sorted oldest first.
pub fn sync_deployment(
    spec: Spec,
    new_revision: u64,
    new: Option<RevisionCounts>,
    old: &[RevisionCounts],
) -> Vec<Scale> {
    // `if d.Spec.Paused { return dc.sync(...) }`, then `isScalingEvent`.
    if spec.paused || is_scaling_event(spec.replicas, new.as_ref(), old) {
        return scale(spec, new, old);
    }
    match spec.strategy {
        Strategy::Recreate => {
            let targets = recreate_sync(spec.replicas, new, old);
            // `rolloutRecreate` creates the new ReplicaSet only once no old pod runs.
            let create = old.iter().all(|r| r.replicas == 0);
            writes(new_revision, new, old, &targets, create)
        }
        _ => {
            let targets = rolling_sync(spec.strategy, spec.replicas, new, old);
            writes(new_revision, new, old, &targets, true)
        }
    }
}

/// A rollout's targets as ReplicaSet writes: a ReplicaSet is written when
/// created or when its size changes (`scaleReplicaSetAndRecordEvent`).
fn writes(
    new_revision: u64,
    new: Option<RevisionCounts>,
    old: &[RevisionCounts],
    targets: &Targets,
    create: bool,
) -> Vec<Scale> {
    let mut scales = Vec::new();
    let changed = match new {
        None => create,
        Some(n) => targets.new != n.replicas,
    };
    if changed {
        scales.push(Scale {
            revision: new.map_or(new_revision, |n| n.revision),
            replicas: targets.new,
        });
    }
    for (rs, &(revision, target)) in old.iter().zip(&targets.old) {
        if target != rs.replicas {
            scales.push(Scale {
                revision,
                replicas: target,
            });
        }
    }
    scales
}

/// `isScalingEvent`: an active ReplicaSet whose `desired-replicas`
/// annotation is not `spec.replicas`. A ReplicaSet without the annotation
/// says nothing.
pub fn is_scaling_event(
    replicas: i32,
    new: Option<&RevisionCounts>,
    old: &[RevisionCounts],
) -> bool {
    old.iter()
        .chain(new)
        .filter(|rs| rs.replicas > 0)
        .any(|rs| {
            rs.desired_replicas
                .is_some_and(|desired| desired != replicas)
        })
}

/// `FindActiveOrLatest`: the one active ReplicaSet, or the newest when none
/// is active; `None` when several are.
fn find_active_or_latest(
    new: Option<&RevisionCounts>,
    old: &[RevisionCounts],
) -> Option<RevisionCounts> {
    let mut active = old.iter().chain(new).filter(|rs| rs.replicas > 0);
    match (active.next(), active.next()) {
        (Some(only), None) => Some(*only),
        (None, _) => new
            .or_else(|| old.iter().max_by_key(|rs| rs.revision))
            .copied(),
        _ => None,
    }
}

/// `IsSaturated`: the new ReplicaSet has all the replicas, annotated so,
/// and all available.
fn is_saturated(replicas: i32, new: Option<&RevisionCounts>) -> bool {
    new.is_some_and(|rs| {
        rs.replicas == replicas && rs.desired_replicas == Some(replicas) && rs.available == replicas
    })
}

/// `ReplicasAnnotationsNeedUpdate`.
fn annotations_need_update(rs: &RevisionCounts, desired: i32, max: i32) -> bool {
    rs.desired_replicas != Some(desired) || rs.max_replicas != Some(max)
}

/// `scale` (`sync.go`), the sync of a paused Deployment or of a scaling
/// event: the only active ReplicaSet takes `spec.replicas`; a saturated new
/// one leaves the old ones nothing; otherwise, in a rolling update, the
/// difference to `spec.replicas + maxSurge` is spread over the active
/// ReplicaSets in proportion to their size (`GetProportion`), the largest
/// taking the leftover.
pub fn scale(spec: Spec, new: Option<RevisionCounts>, old: &[RevisionCounts]) -> Vec<Scale> {
    let surge = max_surge(spec.strategy, spec.replicas);
    if let Some(rs) = find_active_or_latest(new.as_ref(), old) {
        if rs.replicas == spec.replicas {
            // Kubernetes writes nothing here; its ReplicaSet keeps the size it
            // was scaled to, where orch's is the replicas still alive, so a
            // ReplicaSet can already be at `spec.replicas` with the old
            // annotations. They are brought up to date so the scaling event
            // ends (otherwise no rollout would ever start).
            return if annotations_need_update(&rs, spec.replicas, spec.replicas + surge) {
                vec![Scale {
                    revision: rs.revision,
                    replicas: rs.replicas,
                }]
            } else {
                Vec::new()
            };
        }
        return vec![Scale {
            revision: rs.revision,
            replicas: spec.replicas,
        }];
    }
    if is_saturated(spec.replicas, new.as_ref()) {
        return old
            .iter()
            .filter(|rs| rs.replicas > 0)
            .map(|rs| Scale {
                revision: rs.revision,
                replicas: 0,
            })
            .collect();
    }
    if !matches!(spec.strategy, Strategy::RollingUpdate { .. }) {
        return Vec::new();
    }
    let mut active: Vec<RevisionCounts> = old
        .iter()
        .chain(new.as_ref())
        .filter(|rs| rs.replicas > 0)
        .copied()
        .collect();
    // `Status.Replicas`, the fallback of a missing `max-replicas`.
    let status_replicas: i32 = old.iter().chain(new.as_ref()).map(|rs| rs.replicas).sum();
    let all_replicas: i32 = active.iter().map(|rs| rs.replicas).sum();
    let allowed_size = if spec.replicas > 0 {
        spec.replicas + surge
    } else {
        0
    };
    let to_add = allowed_size - all_replicas;
    // ReplicaSetsBySizeNewer when growing, ReplicaSetsBySizeOlder when shrinking.
    if to_add > 0 {
        active.sort_by(|a, b| {
            b.replicas
                .cmp(&a.replicas)
                .then(b.revision.cmp(&a.revision))
        });
    } else if to_add < 0 {
        active.sort_by(|a, b| {
            b.replicas
                .cmp(&a.replicas)
                .then(a.revision.cmp(&b.revision))
        });
    }
    let mut added = 0;
    let mut sizes: Vec<i32> = Vec::with_capacity(active.len());
    for rs in &active {
        if to_add != 0 {
            let proportion =
                get_proportion(rs, spec.replicas, surge, status_replicas, to_add, added);
            sizes.push(rs.replicas + proportion);
            added += proportion;
        } else {
            sizes.push(rs.replicas);
        }
    }
    let mut scales = Vec::new();
    for (i, (rs, size)) in active.iter().zip(sizes).enumerate() {
        let mut size = size;
        // Any leftover goes to the largest ReplicaSet.
        if i == 0 && to_add != 0 {
            size = (size + to_add - added).max(0);
        }
        // `scaleReplicaSet`: written when the size or the annotations change.
        if size != rs.replicas || annotations_need_update(rs, spec.replicas, spec.replicas + surge)
        {
            scales.push(Scale {
                revision: rs.revision,
                replicas: size,
            });
        }
    }
    scales
}

/// `GetProportion`: this ReplicaSet's share of the replicas to add (or
/// remove), never more than what is left to add.
fn get_proportion(
    rs: &RevisionCounts,
    replicas: i32,
    surge: i32,
    status_replicas: i32,
    to_add: i32,
    added: i32,
) -> i32 {
    if rs.replicas == 0 || to_add == 0 || to_add == added {
        return 0;
    }
    let fraction = get_replica_set_fraction(rs, replicas, surge, status_replicas);
    let allowed = to_add - added;
    if to_add > 0 {
        fraction.min(allowed)
    } else {
        fraction.max(allowed)
    }
}

/// `getReplicaSetFraction`: the ReplicaSet's size scaled from the
/// `max-replicas` it was last annotated with (else the Deployment's
/// `status.replicas`) to the new `replicas + maxSurge`, minus its size.
fn get_replica_set_fraction(
    rs: &RevisionCounts,
    replicas: i32,
    surge: i32,
    status_replicas: i32,
) -> i32 {
    if replicas == 0 {
        return -rs.replicas;
    }
    let max_replicas = replicas + surge;
    let before = match rs.max_replicas {
        Some(annotated) if annotated != 0 => annotated,
        _ if status_replicas == 0 => return 0,
        _ => status_replicas,
    };
    let size = f64::from(rs.replicas * max_replicas) / f64::from(before);
    round_to_i32(size) - rs.replicas
}

/// `integer.RoundToInt32` (k8s.io/utils): half away from zero.
fn round_to_i32(value: f64) -> i32 {
    if value < 0.0 {
        (value - 0.5) as i32
    } else {
        (value + 0.5) as i32
    }
}

#[cfg(test)]
mod tests;
