use super::*;
use crate::model::workload::IntOrPercent::{self, Int, Percent};

fn rolling(surge: IntOrPercent, unavailable: IntOrPercent) -> Strategy {
    Strategy::RollingUpdate {
        max_surge: surge,
        max_unavailable: unavailable,
    }
}

/// A ReplicaSet annotated as the controller leaves it after scaling it for a
/// Deployment of `desired` replicas and `surge` (`SetReplicasAnnotations`).
fn rs(revision: u64, replicas: i32, available: i32, desired: i32, surge: i32) -> RevisionCounts {
    RevisionCounts {
        revision,
        replicas,
        available,
        desired_replicas: Some(desired),
        max_replicas: Some(desired + surge),
    }
}

/// The sizes after the writes, in the order given.
fn sizes(all: &[RevisionCounts], scales: &[Scale]) -> Vec<i32> {
    all.iter()
        .map(|rs| {
            scales
                .iter()
                .find(|s| s.revision == rs.revision)
                .map_or(rs.replicas, |s| s.replicas)
        })
        .collect()
}

/// `sync_test.go` TestScale, every row of the default feature set (the
/// rows behind the alpha DeploymentPodReplacementPolicy gate are left out).
/// Each ReplicaSet is annotated for the previous Deployment, as the upstream
/// test does; `newDeployment` defaults both maxSurge and maxUnavailable to 0.
/// Revisions are numbered oldest first (foo-v1 is 1); `wasnt_updated` names
/// ReplicaSets `scale` must not write. Long by design: the ported table.
#[test]
fn scale_table_from_sync_test_go() {
    struct Row {
        name: &'static str,
        replicas: i32,
        surge: i32,
        previous: i32,
        previous_surge: i32,
        // (revision, size), the newest first; the new ReplicaSet is `new`.
        new: Option<(u64, i32)>,
        old: &'static [(u64, i32)],
        expected: &'static [(u64, i32)],
        wasnt_updated: &'static [u64],
        desired_annotations: &'static [(u64, i32)],
    }
    let row = |name, replicas, previous, new, old, expected| Row {
        name,
        replicas,
        surge: 0,
        previous,
        previous_surge: 0,
        new,
        old,
        expected,
        wasnt_updated: &[],
        desired_annotations: &[],
    };
    let table = [
        row(
            "normal scaling event: 10 -> 12",
            12,
            10,
            Some((1, 10)),
            &[],
            &[(1, 12)],
        ),
        row(
            "normal scaling event: 10 -> 5",
            5,
            10,
            Some((1, 10)),
            &[],
            &[(1, 5)],
        ),
        row(
            "proportional scaling: 5 -> 10",
            10,
            5,
            Some((2, 2)),
            &[(1, 3)],
            &[(2, 4), (1, 6)],
        ),
        row(
            "proportional scaling: 5 -> 3",
            3,
            5,
            Some((2, 2)),
            &[(1, 3)],
            &[(2, 1), (1, 2)],
        ),
        row(
            "proportional scaling: 9 -> 4",
            4,
            9,
            Some((2, 8)),
            &[(1, 1)],
            &[(2, 4), (1, 0)],
        ),
        row(
            "proportional scaling: 7 -> 10",
            10,
            7,
            Some((3, 2)),
            &[(2, 3), (1, 2)],
            &[(3, 3), (2, 4), (1, 3)],
        ),
        row(
            "proportional scaling: 13 -> 8",
            8,
            13,
            Some((3, 2)),
            &[(2, 8), (1, 3)],
            &[(3, 1), (2, 5), (1, 2)],
        ),
        row(
            "leftover distribution: 3 -> 4",
            4,
            3,
            Some((3, 1)),
            &[(2, 1), (1, 1)],
            &[(3, 2), (2, 1), (1, 1)],
        ),
        row(
            "leftover distribution: 3 -> 2",
            2,
            3,
            Some((3, 1)),
            &[(2, 1), (1, 1)],
            &[(3, 1), (2, 1), (1, 0)],
        ),
        row(
            "proportional scaling (no new rs): 4 -> 5",
            5,
            4,
            None,
            &[(2, 2), (1, 2)],
            &[(2, 3), (1, 2)],
        ),
        row(
            "proportional scaling: 6 -> 0",
            0,
            6,
            Some((3, 3)),
            &[(2, 2), (1, 1)],
            &[(3, 0), (2, 0), (1, 0)],
        ),
        Row {
            wasnt_updated: &[2, 1],
            ..row(
                "proportional scaling: 0 -> 6",
                6,
                6,
                Some((3, 0)),
                &[(2, 0), (1, 0)],
                &[(3, 6), (2, 0), (1, 0)],
            )
        },
        Row {
            wasnt_updated: &[3, 1],
            desired_annotations: &[(2, 3)],
            ..row(
                "failed rs update",
                5,
                5,
                Some((3, 2)),
                &[(2, 1), (1, 1)],
                &[(3, 2), (2, 2), (1, 1)],
            )
        },
        Row {
            surge: 2,
            previous_surge: 2,
            ..row(
                "deployment with surge pods",
                20,
                10,
                Some((2, 6)),
                &[(1, 6)],
                &[(2, 11), (1, 11)],
            )
        },
        Row {
            surge: 6,
            previous_surge: 3,
            ..row(
                "change both surge and size",
                50,
                10,
                Some((2, 5)),
                &[(1, 8)],
                &[(2, 22), (1, 34)],
            )
        },
        row(
            "change both size and template",
            14,
            10,
            None,
            &[(2, 7), (1, 3)],
            &[(2, 10), (1, 4)],
        ),
    ];
    for row in table {
        let annotated = |(revision, size): (u64, i32)| {
            let desired = row
                .desired_annotations
                .iter()
                .find(|(r, _)| *r == revision)
                .map_or(row.previous, |(_, d)| *d);
            rs(revision, size, 0, desired, row.previous_surge)
        };
        let new = row.new.map(annotated);
        let mut old: Vec<RevisionCounts> = row.old.iter().copied().map(annotated).collect();
        old.reverse();
        let strategy = rolling(Int(row.surge), Int(0));
        let spec = Spec {
            strategy: &strategy,
            replicas: row.replicas,
            paused: false,
        };
        let scales = scale(spec, new, &old);
        let all: Vec<RevisionCounts> = new.into_iter().chain(old.iter().rev().copied()).collect();
        let expected: Vec<i32> = row.expected.iter().map(|(_, n)| *n).collect();
        assert_eq!(sizes(&all, &scales), expected, "{}", row.name);
        for revision in row.wasnt_updated {
            assert!(
                scales.iter().all(|s| s.revision != *revision),
                "{}: revision {revision} written: {scales:?}",
                row.name
            );
        }
    }
    // "saturated but broken new replica set does not affect old pods".
    let strategy = rolling(Int(1), Int(1));
    let spec = Spec {
        strategy: &strategy,
        replicas: 2,
        paused: false,
    };
    let scales = scale(spec, Some(rs(2, 2, 0, 2, 1)), &[rs(1, 1, 1, 2, 1)]);
    assert_eq!(scales, []);
}

/// The Kubernetes documentation's proportional scaling example: 10 replicas,
/// maxSurge 3, maxUnavailable 2, mid-rollout with 8 old and 5 new, scaled
/// to 15: of the 5 extra replicas, 3 go to the old revision and 2 to the new.
#[test]
fn proportional_scaling_mid_rollout() {
    let strategy = rolling(Int(3), Int(2));
    let spec = |replicas| Spec {
        strategy: &strategy,
        replicas,
        paused: false,
    };
    let new = rs(2, 5, 0, 10, 3);
    let old = [rs(1, 8, 8, 10, 3)];
    assert_eq!(
        sizes(&[old[0], new], &scale(spec(15), Some(new), &old)),
        [11, 7]
    );
    // Scaling down spreads the removal the same way, down to 5 + maxSurge.
    assert_eq!(
        sizes(&[old[0], new], &scale(spec(5), Some(new), &old)),
        [5, 3]
    );
}

/// Issue 21, case 2: the fraction divides by the `max-replicas` written with
/// the previous maxSurge (3), not by the previous replicas plus the new
/// surge (6): old 8 / new 5 scaled to 50 gives 34/22 (orch gave 38/18).
#[test]
fn proportional_scaling_reads_the_previous_max_replicas() {
    let strategy = rolling(Int(6), Int(2));
    let spec = Spec {
        strategy: &strategy,
        replicas: 50,
        paused: false,
    };
    let new = rs(2, 5, 0, 10, 3);
    let old = [rs(1, 8, 8, 10, 3)];
    let scales = sync_deployment(spec, 2, Some(new), &old);
    assert_eq!(sizes(&[old[0], new], &scales), [34, 22]);
}

/// Issue 21, case 4: scaling to 0 mid-rollout allows no surge
/// (`allowedSize` is 0 when `spec.replicas` is 0), so every revision goes
/// to 0 in one sync even with an integer maxSurge.
#[test]
fn scaling_to_zero_mid_rollout_leaves_no_surge() {
    let strategy = rolling(Int(3), Int(2));
    let spec = Spec {
        strategy: &strategy,
        replicas: 0,
        paused: false,
    };
    let new = rs(2, 5, 0, 10, 3);
    let old = [rs(1, 8, 8, 10, 3)];
    let scales = sync_deployment(spec, 2, Some(new), &old);
    assert_eq!(sizes(&[old[0], new], &scales), [0, 0]);
}

/// Issue 21, case 3: a paused Deployment is still scaled (`syncDeployment`
/// → `sync` → `scale`): alone, to `spec.replicas`; mid-rollout,
/// proportionally (maxSurge 0: old 3 / new 2 at 5 replicas gives 6/4 at 10).
#[test]
fn a_paused_deployment_is_scaled() {
    let strategy = rolling(Percent(25), Percent(25));
    let spec = Spec {
        strategy: &strategy,
        replicas: 6,
        paused: true,
    };
    let settled = rs(1, 4, 4, 4, 1);
    assert_eq!(
        sync_deployment(spec, 2, None, &[settled]),
        [Scale {
            revision: 1,
            replicas: 6
        }]
    );
    let strategy = rolling(Int(0), Int(2));
    let spec = Spec {
        strategy: &strategy,
        replicas: 10,
        paused: true,
    };
    let new = rs(2, 2, 2, 5, 0);
    let old = [rs(1, 3, 3, 5, 0)];
    let scales = sync_deployment(spec, 2, Some(new), &old);
    assert_eq!(sizes(&[old[0], new], &scales), [6, 4]);
    // Paused and at size: nothing, not even the rollout of a new template.
    let spec = Spec {
        strategy: &strategy,
        replicas: 4,
        paused: true,
    };
    assert_eq!(sync_deployment(spec, 2, None, &[rs(1, 4, 4, 4, 0)]), []);
}

/// Issue 21, case 1: replicas and template changed in one apply is a
/// scaling event first (the old ReplicaSet's `desired-replicas` is not
/// `spec.replicas`): the only active ReplicaSet, the old one, is scaled to
/// the new size, and only the next sync starts the rollout.
#[test]
fn a_size_and_template_change_scales_before_it_rolls() {
    let strategy = rolling(Percent(25), Percent(25));
    let spec = Spec {
        strategy: &strategy,
        replicas: 20,
        paused: false,
    };
    let settled = rs(1, 10, 10, 10, 3);
    assert_eq!(
        sync_deployment(spec, 2, None, &[settled]),
        [Scale {
            revision: 1,
            replicas: 20
        }]
    );
    // Next sync: annotated for 20, 10 of the 20 available; the new
    // ReplicaSet starts at its surge (5) and the 5 unavailable old go.
    let grown = rs(1, 20, 10, 20, 5);
    assert_eq!(
        sync_deployment(spec, 2, None, &[grown]),
        [
            Scale {
                revision: 2,
                replicas: 5
            },
            Scale {
                revision: 1,
                replicas: 15
            }
        ]
    );
    // Recreate, 3 → 6: the old ReplicaSet grows to 6 first, then goes.
    let spec = Spec {
        strategy: &Strategy::Recreate,
        replicas: 6,
        paused: false,
    };
    let settled = rs(1, 3, 3, 3, 0);
    assert_eq!(
        sync_deployment(spec, 2, None, &[settled]),
        [Scale {
            revision: 1,
            replicas: 6
        }]
    );
    // 7 → 1 with maxUnavailable 100%: the old ReplicaSet shrinks to 1 first,
    // so a replica is kept; the rollout then replaces it.
    let strategy = rolling(Percent(25), Percent(100));
    let spec = Spec {
        strategy: &strategy,
        replicas: 1,
        paused: false,
    };
    let settled = rs(1, 7, 7, 7, 2);
    assert_eq!(
        sync_deployment(spec, 2, None, &[settled]),
        [Scale {
            revision: 1,
            replicas: 1
        }]
    );
    let shrunk = rs(1, 1, 1, 1, 1);
    assert_eq!(
        sync_deployment(spec, 2, None, &[shrunk]),
        [
            Scale {
                revision: 2,
                replicas: 1
            },
            Scale {
                revision: 1,
                replicas: 0
            }
        ]
    );
}

/// `isScalingEvent` reads only active ReplicaSets that carry the annotation.
#[test]
fn a_scaling_event_needs_an_active_annotated_replica_set() {
    let annotated = rs(1, 4, 4, 4, 1);
    assert!(!is_scaling_event(4, None, &[annotated]));
    assert!(is_scaling_event(5, None, &[annotated]));
    let inactive = rs(1, 0, 0, 4, 1);
    assert!(!is_scaling_event(5, None, &[inactive]));
    let bare = RevisionCounts {
        desired_replicas: None,
        max_replicas: None,
        ..annotated
    };
    assert!(!is_scaling_event(5, Some(&bare), &[]));
}

/// `FindActiveOrLatest` upstream returns without writing when the one
/// active ReplicaSet is at size; orch brings its annotations up to date so
/// a ReplicaSet shrunk by lost replicas does not hold a rollout forever.
#[test]
fn a_replica_set_already_at_size_has_its_annotations_updated() {
    let strategy = rolling(Int(1), Int(0));
    let spec = Spec {
        strategy: &strategy,
        replicas: 3,
        paused: false,
    };
    let shrunk = rs(1, 3, 3, 4, 1);
    assert_eq!(
        scale(spec, None, &[shrunk]),
        [Scale {
            revision: 1,
            replicas: 3
        }]
    );
    assert_eq!(scale(spec, None, &[rs(1, 3, 3, 3, 1)]), []);
}
