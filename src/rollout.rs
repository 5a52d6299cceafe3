//! Deployment rollout arithmetic, exactly as Kubernetes' deployment controller
//! (`pkg/controller/deployment/rolling.go`, `recreate.go`, `util/deployment_util.go`).
//!
//! orch has no ReplicaSet objects: a revision's "spec replicas" is the number of
//! its replicas that are not terminating, and its annotations are kept on the
//! revision in the state. One call is one controller sync: it returns the
//! replica count each revision should be scaled to. `scale` chooses between
//! scaling and rolling as `syncDeployment` does; `daemonset` is the DaemonSet
//! controller's rolling update.

pub mod daemonset;
mod scale;

pub use scale::{Scale, Spec, is_scaling_event, scale, sync_deployment};

use crate::model::workload::{IntOrPercent, Strategy};

/// One revision's counts, as a ReplicaSet's spec.replicas and
/// status.availableReplicas, and its replicas annotations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevisionCounts {
    pub revision: u64,
    pub replicas: i32,
    pub available: i32,
    /// `deployment.kubernetes.io/desired-replicas`, when written.
    pub desired_replicas: Option<i32>,
    /// `deployment.kubernetes.io/max-replicas`, when written.
    pub max_replicas: Option<i32>,
}

/// What one sync decided: the target size of the newest revision and of each old one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Targets {
    pub new: i32,
    /// (revision, target) for each old revision, oldest first.
    pub old: Vec<(u64, i32)>,
}

/// `ResolveFenceposts`: surge rounds up, unavailable rounds down, both 0 → unavailable 1.
pub fn resolve_fenceposts(
    max_surge: IntOrPercent,
    max_unavailable: IntOrPercent,
    replicas: i32,
) -> (i32, i32) {
    let surge = max_surge.scaled(replicas, true);
    let unavailable = max_unavailable.scaled(replicas, false);
    if surge == 0 && unavailable == 0 {
        (0, 1)
    } else {
        (surge, unavailable)
    }
}

/// `MaxUnavailable(d)`: 0 for non-rolling strategies or 0 replicas, capped at replicas.
pub fn max_unavailable(strategy: &Strategy, replicas: i32) -> i32 {
    match strategy {
        Strategy::RollingUpdate {
            max_surge,
            max_unavailable,
        } if replicas > 0 => resolve_fenceposts(*max_surge, *max_unavailable, replicas)
            .1
            .min(replicas),
        _ => 0,
    }
}

/// `MaxSurge(d)`: 0 for non-rolling strategies.
pub fn max_surge(strategy: &Strategy, replicas: i32) -> i32 {
    match strategy {
        Strategy::RollingUpdate {
            max_surge,
            max_unavailable,
        } => resolve_fenceposts(*max_surge, *max_unavailable, replicas).0,
        _ => 0,
    }
}

/// `NewRSNewReplicas` for RollingUpdate.
fn new_rs_new_replicas(replicas: i32, surge: i32, all_replicas: i32, new_replicas: i32) -> i32 {
    let max_total = replicas + surge;
    if all_replicas >= max_total {
        return new_replicas;
    }
    new_replicas
        + (max_total - all_replicas)
            .min(replicas - new_replicas)
            .max(0)
}

/// One sync of `rolloutRolling`. `new` is `None` when the newest revision has no
/// replica set yet (it is then created at its surge-allowed size); `old` is
/// sorted oldest first.
pub fn rolling_sync(
    strategy: &Strategy,
    replicas: i32,
    new: Option<RevisionCounts>,
    old: &[RevisionCounts],
) -> Targets {
    let surge = max_surge(strategy, replicas);
    let old_total: i32 = old.iter().map(|r| r.replicas).sum();
    let mut new_replicas = new.map_or(0, |n| n.replicas);
    let new_available = new.map_or(0, |n| n.available);
    if new.is_none() {
        new_replicas = new_rs_new_replicas(replicas, surge, old_total, 0);
    }
    let mut targets = Targets {
        new: new_replicas,
        old: old.iter().map(|r| (r.revision, r.replicas)).collect(),
    };

    // reconcileNewReplicaSet: a scale of the new revision ends the sync.
    if new_replicas > replicas {
        targets.new = replicas;
        return targets;
    }
    if new_replicas < replicas {
        let wanted = new_rs_new_replicas(replicas, surge, old_total + new_replicas, new_replicas);
        if wanted != new_replicas {
            targets.new = wanted;
            return targets;
        }
    }

    // reconcileOldReplicaSets
    if old_total == 0 {
        return targets;
    }
    let all_replicas = old_total + new_replicas;
    let min_available = replicas - max_unavailable(strategy, replicas);
    let new_unavailable = new_replicas - new_available;
    let max_scaled_down = all_replicas - min_available - new_unavailable;
    if max_scaled_down <= 0 {
        return targets;
    }
    // cleanupUnhealthyReplicas: unavailable old replicas go first, oldest revision first.
    let mut cleaned = 0;
    let mut old_state: Vec<RevisionCounts> = old.to_vec();
    for rs in old_state.iter_mut() {
        if cleaned >= max_scaled_down {
            break;
        }
        let unhealthy = rs.replicas - rs.available;
        if rs.replicas == 0 || unhealthy <= 0 {
            continue;
        }
        let n = (max_scaled_down - cleaned).min(unhealthy);
        rs.replicas -= n;
        cleaned += n;
    }
    // scaleDownOldReplicaSetsForRollingUpdate
    let available: i32 = old_state
        .iter()
        .map(|r| r.available.min(r.replicas))
        .sum::<i32>()
        + new_available;
    if available > min_available {
        let mut remaining = available - min_available;
        for rs in old_state.iter_mut() {
            if remaining <= 0 {
                break;
            }
            let n = rs.replicas.min(remaining);
            rs.replicas -= n;
            remaining -= n;
        }
    }
    targets.old = old_state.iter().map(|r| (r.revision, r.replicas)).collect();
    targets
}

/// One sync of `rolloutRecreate`: every old replica goes, and only when none is
/// left does the new revision start, at full size.
pub fn recreate_sync(
    replicas: i32,
    new: Option<RevisionCounts>,
    old: &[RevisionCounts],
) -> Targets {
    let old_running = old.iter().any(|r| r.replicas > 0);
    Targets {
        new: if old_running {
            new.map_or(0, |n| n.replicas)
        } else {
            replicas
        },
        old: old.iter().map(|r| (r.revision, 0)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use IntOrPercent::{Int, Percent};

    fn rolling(surge: IntOrPercent, unavailable: IntOrPercent) -> Strategy {
        Strategy::RollingUpdate {
            max_surge: surge,
            max_unavailable: unavailable,
        }
    }

    fn rs(revision: u64, replicas: i32, available: i32) -> RevisionCounts {
        RevisionCounts {
            revision,
            replicas,
            available,
            desired_replicas: None,
            max_replicas: None,
        }
    }

    /// k8s-cases/01-fenceposts-rounding.yaml (deployment_util.go ResolveFenceposts).
    #[test]
    fn fenceposts_round_surge_up_and_unavailable_down() {
        let table = [
            (10, Percent(25), Percent(25), 3, 2),
            (4, Percent(25), Percent(25), 1, 1),
            (3, Percent(25), Percent(25), 1, 0),
            (1, Percent(25), Percent(25), 1, 0),
            (2, Percent(0), Percent(1), 0, 1),
            (1, Percent(1), Percent(25), 1, 0),
            (2, Percent(1), Percent(0), 1, 0),
            (5, Int(2), Int(10), 2, 5),
            (0, Percent(25), Percent(25), 0, 0),
        ];
        for (replicas, s, u, surge, unavailable) in table {
            let strategy = rolling(s, u);
            assert_eq!(
                max_surge(&strategy, replicas),
                surge,
                "surge for {replicas} {s} {u}"
            );
            assert_eq!(
                max_unavailable(&strategy, replicas),
                unavailable,
                "unavailable for {replicas} {s} {u}"
            );
        }
        assert_eq!(max_unavailable(&Strategy::Recreate, 10), 0);
    }

    /// rolling_test.go TestDeploymentController_reconcileNewReplicaSet (k8s-cases/02).
    #[test]
    fn reconcile_new_replica_set_table() {
        let table = [
            (10, 0, 10, 0, 0),
            (10, 2, 10, 0, 2),
            (10, 2, 5, 0, 7),
            (10, 2, 10, 2, 2),
            (10, 2, 2, 11, 10),
        ];
        for (replicas, surge, old, new, expect) in table {
            let strategy = rolling(Int(surge), Int(0));
            let targets = rolling_sync(
                &strategy,
                replicas,
                Some(rs(2, new, new)),
                &[rs(1, old, old)],
            );
            assert_eq!(
                targets.new, expect,
                "replicas {replicas} surge {surge} old {old} new {new}"
            );
        }
    }

    /// rolling_test.go TestDeploymentController_reconcileOldReplicaSets (k8s-cases/03).
    #[test]
    fn reconcile_old_replica_sets_table() {
        let table = [
            (10, 0, (10, 10), (0, 0), 9),
            (10, 2, (10, 10), (0, 0), 8),
            (10, 2, (10, 8), (0, 0), 8),
            (10, 2, (10, 9), (0, 0), 8),
            (10, 2, (8, 8), (2, 0), 8),
        ];
        for (replicas, unavailable, (old, old_available), (new, new_available), expect) in table {
            let strategy = rolling(Int(0), Int(unavailable));
            let targets = rolling_sync(
                &strategy,
                replicas,
                Some(rs(2, new, new_available)),
                &[rs(1, old, old_available)],
            );
            assert_eq!(
                targets.old,
                vec![(1, expect)],
                "case unav {unavailable} old {old}/{old_available} new {new}/{new_available}"
            );
        }
    }

    /// Drive syncs, making every new replica available between syncs.
    fn simulate(
        strategy: &Strategy,
        replicas: i32,
        old: i32,
        new_ready: bool,
        syncs: usize,
    ) -> Vec<(i32, i32)> {
        let mut old_rs = rs(1, old, old);
        let mut new_rs: Option<RevisionCounts> = None;
        let mut seen = vec![(old, 0)];
        for _ in 0..syncs {
            let targets = rolling_sync(strategy, replicas, new_rs, &[old_rs]);
            let new_replicas = targets.new;
            let available = if new_ready { new_replicas } else { 0 };
            new_rs = Some(rs(2, new_replicas, available));
            old_rs = rs(1, targets.old[0].1, targets.old[0].1);
            if seen.last() != Some(&(old_rs.replicas, new_replicas)) {
                seen.push((old_rs.replicas, new_replicas));
            }
        }
        seen
    }

    /// k8s-cases/04-rollout-3-replicas-defaults.yaml.
    #[test]
    fn three_replicas_with_defaults_roll_one_at_a_time() {
        let strategy = rolling(Percent(25), Percent(25));
        let steps = simulate(&strategy, 3, 3, true, 10);
        assert_eq!(
            steps,
            vec![(3, 0), (3, 1), (2, 1), (2, 2), (1, 2), (1, 3), (0, 3)]
        );
        assert_eq!(simulate(&strategy, 3, 3, false, 10), vec![(3, 0), (3, 1)]);
    }

    /// k8s-cases/05-rollout-10-replicas-first-sync.yaml: create at surge size and
    /// scale old down in the same sync.
    #[test]
    fn ten_replicas_first_sync_scales_both_ways() {
        let strategy = rolling(Percent(25), Percent(25));
        let steps = simulate(&strategy, 10, 10, true, 10);
        assert_eq!(
            steps,
            vec![(10, 0), (8, 3), (8, 5), (3, 5), (3, 10), (0, 10)]
        );
        assert_eq!(
            simulate(&strategy, 10, 10, false, 10),
            vec![(10, 0), (8, 3), (8, 5)]
        );
    }

    /// k8s-cases/06-rollout-maxsurge0-maxunavailable-1pct.yaml.
    #[test]
    fn zero_surge_one_percent_unavailable_alternates() {
        let strategy = rolling(Percent(0), Percent(1));
        assert_eq!(
            simulate(&strategy, 2, 2, true, 10),
            vec![(2, 0), (1, 0), (1, 1), (0, 1), (0, 2)]
        );
        assert_eq!(
            simulate(&strategy, 2, 2, false, 10),
            vec![(2, 0), (1, 0), (1, 1)]
        );
    }

    /// k8s-cases/07-recreate.yaml.
    #[test]
    fn recreate_scales_old_to_zero_before_new_starts() {
        let first = recreate_sync(3, None, &[rs(1, 3, 3)]);
        assert_eq!(
            first,
            Targets {
                new: 0,
                old: vec![(1, 0)]
            }
        );
        let second = recreate_sync(3, None, &[rs(1, 0, 0)]);
        assert_eq!(
            second,
            Targets {
                new: 3,
                old: vec![(1, 0)]
            }
        );
    }

    #[test]
    fn scaling_a_settled_deployment_moves_only_the_new_revision() {
        let strategy = rolling(Percent(25), Percent(25));
        assert_eq!(rolling_sync(&strategy, 6, Some(rs(1, 4, 4)), &[]).new, 6);
        assert_eq!(rolling_sync(&strategy, 2, Some(rs(1, 4, 4)), &[]).new, 2);
        assert_eq!(rolling_sync(&strategy, 4, None, &[]).new, 4);
    }
}
