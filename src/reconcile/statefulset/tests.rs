//! The StatefulSet controller's decisions, table by table, after
//! Kubernetes' own tests in pkg/controller/statefulset/stateful_set_control_test.go
//! (`TestStatefulSetControl` with its scaleUp / scaleDown /
//! replacesPods / recreatesFailedPod / updateSetStatusFailure cases,
//! `TestStatefulSetControlRollingUpdate`, `TestStatefulSetControlOnDeleteUpdate`,
//! `TestStatefulSetControlRollingUpdateWithPartition`,
//! `TestStatefulSetControlLimitsHistory` aside) and stateful_set_utils_test.go
//! (`TestNewVersionedStatefulSetPod`-style revision choice with
//! `ordinals.start`): each case is one sync over a described set of pods.

use super::*;

/// A pod as the tests of the controller describe it: `"2:v1:ready"`.
fn pod(text: &str) -> (String, i32, String, &'static str) {
    let parts: Vec<&str> = text.split(':').collect();
    let ordinal: i32 = parts[0].parse().unwrap();
    let state = match parts.get(2).copied().unwrap_or("ready") {
        "ready" => "ready",
        "running" => "running",
        "pending" => "pending",
        "terminating" => "terminating",
        "failed" => "failed",
        "unavailable" => "unavailable",
        other => panic!("{other}"),
    };
    (
        format!("web-{ordinal}"),
        ordinal,
        parts[1].to_string(),
        state,
    )
}

struct Case {
    policy: PodManagementPolicy,
    replicas: i32,
    start: i32,
    partition: Option<i32>,
    pods: &'static [&'static str],
}

const ORDERED: PodManagementPolicy = PodManagementPolicy::OrderedReady;
const PARALLEL: PodManagementPolicy = PodManagementPolicy::Parallel;

fn run(case: &Case) -> Decisions {
    let described: Vec<(String, i32, String, &str)> = case.pods.iter().map(|p| pod(p)).collect();
    let pods: Vec<Pod> = described
        .iter()
        .map(|(name, ordinal, hash, state)| Pod {
            name,
            ordinal: *ordinal,
            hash,
            terminating: *state == "terminating",
            failed: *state == "failed",
            running_and_ready: matches!(*state, "ready" | "unavailable"),
            available: *state == "ready",
        })
        .collect();
    let spec = SetSpec {
        replicas: case.replicas,
        start: case.start,
        policy: case.policy,
        partition: case.partition,
        current_hash: "v1",
        update_hash: "v2",
    };
    sync(&spec, &pods)
}

fn created(decisions: &Decisions) -> Vec<String> {
    decisions
        .create
        .iter()
        .map(|(ordinal, hash)| format!("{ordinal}:{hash}"))
        .collect()
}

fn deleted(decisions: &Decisions) -> Vec<&str> {
    decisions.delete.iter().map(|(n, _)| n.as_str()).collect()
}

/// scaleUp: OrderedReady makes one replica per sync, each only once every
/// lower ordinal is Running and Ready (and available after minReadySeconds).
#[test]
fn ordered_ready_creates_in_ordinal_order_one_at_a_time() {
    let table: [(&[&str], &[&str], Option<&str>); 6] = [
        (&[], &["0:v2"], None),
        (
            &["0:v2:pending"],
            &[],
            Some("waiting for web-0 to be Running and Ready"),
        ),
        (
            &["0:v2:running"],
            &[],
            Some("waiting for web-0 to be Running and Ready"),
        ),
        (
            &["0:v2:unavailable"],
            &[],
            Some("waiting for web-0 to be Available"),
        ),
        (&["0:v2"], &["1:v2"], None),
        (&["0:v2", "2:v2"], &["1:v2"], None),
    ];
    for (pods, create, waiting) in table {
        let decisions = run(&Case {
            policy: ORDERED,
            replicas: 3,
            start: 0,
            partition: Some(0),
            pods,
        });
        assert_eq!(created(&decisions), create, "{pods:?}");
        assert_eq!(decisions.waiting.as_deref(), waiting, "{pods:?}");
        assert!(decisions.delete.is_empty());
    }
}

/// Parallel (`allowsBurst`): every missing replica at once, whatever the
/// others' readiness.
#[test]
fn parallel_creates_every_missing_replica_at_once() {
    let decisions = run(&Case {
        policy: PARALLEL,
        replicas: 4,
        start: 0,
        partition: Some(0),
        pods: &["1:v2:pending"],
    });
    assert_eq!(created(&decisions), ["0:v2", "2:v2", "3:v2"]);
}

/// scaleDown: the highest ordinal goes first, one per sync, and only while
/// every remaining replica is Running and Ready; Parallel removes all.
#[test]
fn scale_down_removes_from_the_highest_ordinal() {
    let ordered = run(&Case {
        policy: ORDERED,
        replicas: 2,
        start: 0,
        partition: Some(0),
        pods: &["0:v2", "1:v2", "2:v2", "3:v2"],
    });
    assert_eq!(deleted(&ordered), ["web-3"]);
    // A terminating condemned replica is waited for.
    let waiting = run(&Case {
        policy: ORDERED,
        replicas: 2,
        start: 0,
        partition: Some(0),
        pods: &["0:v2", "1:v2", "2:v2", "3:v2:terminating"],
    });
    assert!(deleted(&waiting).is_empty());
    // An unready replica in range blocks the scale-down.
    let blocked = run(&Case {
        policy: ORDERED,
        replicas: 2,
        start: 0,
        partition: Some(0),
        pods: &["0:v2", "1:v2:running", "2:v2", "3:v2"],
    });
    assert!(deleted(&blocked).is_empty());
    // The first unhealthy condemned replica (lowest ordinal) may go; a
    // higher unhealthy one that is not it blocks (`processCondemned`).
    let first_unhealthy = run(&Case {
        policy: ORDERED,
        replicas: 1,
        start: 0,
        partition: Some(0),
        pods: &["0:v2", "1:v2:pending"],
    });
    assert_eq!(deleted(&first_unhealthy), ["web-1"]);
    let not_first = run(&Case {
        policy: ORDERED,
        replicas: 1,
        start: 0,
        partition: Some(0),
        pods: &["0:v2", "1:v2:pending", "2:v2:pending"],
    });
    assert!(deleted(&not_first).is_empty());
    let parallel = run(&Case {
        policy: PARALLEL,
        replicas: 1,
        start: 0,
        partition: Some(0),
        pods: &["0:v2", "1:v2:pending", "2:v2", "3:v2:terminating"],
    });
    assert_eq!(deleted(&parallel), ["web-2", "web-1"]);
}

/// recreatesFailedPod: a failed replica is deleted, to be made again under
/// the same name on a later sync.
#[test]
fn a_failed_replica_is_deleted_to_be_made_again() {
    let decisions = run(&Case {
        policy: ORDERED,
        replicas: 3,
        start: 0,
        partition: Some(0),
        pods: &["0:v2", "1:v2:failed", "2:v2"],
    });
    assert_eq!(deleted(&decisions), ["web-1"]);
    assert_eq!(decisions.delete[0].1, Removal::Failed);
    assert!(decisions.create.is_empty());
}

/// RollingUpdate: from the highest ordinal down, one replica at a time,
/// each once the one above it is available again; the partition stops it.
#[test]
fn rolling_update_goes_down_from_the_highest_ordinal_to_the_partition() {
    let table: [(Option<i32>, &[&str], &[&str]); 7] = [
        (Some(0), &["0:v1", "1:v1", "2:v1"], &["web-2"]),
        (Some(0), &["0:v1", "1:v1", "2:v2:pending"], &[]),
        (Some(0), &["0:v1", "1:v1", "2:v2"], &["web-1"]),
        (Some(0), &["0:v1", "1:v2", "2:v2"], &["web-0"]),
        (Some(2), &["0:v1", "1:v1", "2:v2"], &[]),
        (Some(1), &["0:v1", "1:v1", "2:v2"], &["web-1"]),
        (Some(5), &["0:v1", "1:v1", "2:v1"], &[]),
    ];
    for (partition, pods, delete) in table {
        let decisions = run(&Case {
            policy: ORDERED,
            replicas: 3,
            start: 0,
            partition,
            pods,
        });
        assert_eq!(deleted(&decisions), delete, "{partition:?} {pods:?}");
    }
}

/// OnDelete: nothing is replaced; a replica deleted by hand comes back at
/// the update revision.
#[test]
fn on_delete_updates_only_replicas_deleted_by_hand() {
    let untouched = run(&Case {
        policy: ORDERED,
        replicas: 3,
        start: 0,
        partition: None,
        pods: &["0:v1", "1:v1", "2:v1"],
    });
    assert!(untouched.delete.is_empty() && untouched.create.is_empty());
    let recreated = run(&Case {
        policy: ORDERED,
        replicas: 3,
        start: 0,
        partition: None,
        pods: &["0:v1", "2:v1"],
    });
    assert_eq!(created(&recreated), ["1:v2"]);
}

/// `newVersionedStatefulSetPod`: below `start + partition` a replica is made
/// at the current revision, at or above at the update revision.
#[test]
fn replicas_below_the_partition_are_made_at_the_current_revision() {
    let decisions = run(&Case {
        policy: PARALLEL,
        replicas: 4,
        start: 0,
        partition: Some(2),
        pods: &[],
    });
    assert_eq!(created(&decisions), ["0:v1", "1:v1", "2:v2", "3:v2"]);
    let shifted = run(&Case {
        policy: PARALLEL,
        replicas: 3,
        start: 5,
        partition: Some(1),
        pods: &[],
    });
    assert_eq!(created(&shifted), ["5:v1", "6:v2", "7:v2"]);
}

/// `ordinals.start`: replicas are numbered from it; ordinals below it or
/// past the end are condemned (scaled down from the highest).
#[test]
fn ordinals_start_shifts_the_identities() {
    let decisions = run(&Case {
        policy: ORDERED,
        replicas: 2,
        start: 3,
        partition: Some(0),
        pods: &["0:v2", "1:v2", "3:v2"],
    });
    assert_eq!(created(&decisions), ["4:v2"]);
    let condemned = run(&Case {
        policy: ORDERED,
        replicas: 2,
        start: 3,
        partition: Some(0),
        pods: &["0:v2", "1:v2", "3:v2", "4:v2"],
    });
    assert_eq!(deleted(&condemned), ["web-1"]);
}

/// `completeRollingUpdate`: the update revision becomes current once every
/// replica runs it and is ready; a partition keeps it from completing.
#[test]
fn a_rolling_update_completes_when_every_replica_is_updated_and_ready() {
    let described: Vec<(String, i32, String, &str)> =
        ["0:v2", "1:v2"].iter().map(|p| pod(p)).collect();
    let pods: Vec<Pod> = described
        .iter()
        .map(|(name, ordinal, hash, _)| Pod {
            name,
            ordinal: *ordinal,
            hash,
            terminating: false,
            failed: false,
            running_and_ready: true,
            available: true,
        })
        .collect();
    let mut spec = SetSpec {
        replicas: 2,
        start: 0,
        policy: ORDERED,
        partition: Some(0),
        current_hash: "v1",
        update_hash: "v2",
    };
    assert!(rolling_update_complete(&spec, &pods));
    spec.replicas = 3;
    assert!(!rolling_update_complete(&spec, &pods));
    spec.replicas = 2;
    spec.partition = None;
    assert!(!rolling_update_complete(&spec, &pods));
}
