//! The volume plugins' verdicts, after Kubernetes' own tables:
//! volumebinding/volume_binding_test.go (`TestVolumeBinding`: "pod has not
//! pvcs", "all bound", "PVC does not exist", "immediate claims not bound",
//! "unbound claims no matches", "bound and unbound unsatisfied"),
//! volumezone/volume_zone_test.go (`TestSingleZone`, `TestMultiZone`:
//! zone labels matched, not matched, a node without the label, values
//! joined by `__`) and volumerestrictions/volume_restrictions_test.go
//! (`TestAccessModeConflicts`: a ReadWriteOncePod claim in use).

use super::{VolumeBinding, VolumeRestrictions, VolumeZone};
use crate::model::labels::{Labels, NodeSelector};
use crate::model::pod::PodSpec;
use crate::model::resources::Allocatable;
use crate::model::state::{NodeSource, NodeState};
use crate::model::storage::VolumeConstraint;
use crate::scheduler::diagnosis::{FitError, Reason};
use crate::scheduler::snapshot::NodeInfo;
use crate::scheduler::{CycleState, FilterPlugin};

fn node(name: &str, zone: Option<&str>) -> NodeInfo {
    let mut labels = Labels::from([("kubernetes.io/hostname".to_string(), name.to_string())]);
    if let Some(zone) = zone {
        labels.insert("topology.kubernetes.io/zone".into(), zone.into());
    }
    NodeInfo::new(
        0,
        &NodeState {
            name: name.into(),
            labels,
            allocatable: Allocatable::default(),
            taints: Vec::new(),
            unschedulable: false,
            cordoned: false,
            draining: false,
            removing: false,
            ready: true,
            not_ready_since: None,
            conditions: Vec::new(),
            source: NodeSource::Manifest,
        },
    )
}

fn on(key: &str, value: &str) -> NodeSelector {
    serde_json::from_value(serde_json::json!({"nodeSelectorTerms": [{"matchExpressions": [{"key": key, "operator": "In", "values": [value]}]}]}))
        .unwrap()
}

fn pod(volumes: Vec<VolumeConstraint>) -> PodSpec {
    PodSpec {
        volumes,
        ..PodSpec::default()
    }
}

fn bound_to(node: &str) -> VolumeConstraint {
    VolumeConstraint::Bound {
        node_affinity: Some(on("kubernetes.io/hostname", node)),
        zones: None,
    }
}

fn verdict(plugin: &dyn FilterPlugin, pod: &PodSpec, node: &NodeInfo) -> Result<(), Vec<Reason>> {
    plugin.filter(pod, node, &CycleState::default())
}

/// A case: its upstream name, the pod's claims, the verdict.
type Case = (&'static str, Vec<VolumeConstraint>, Result<(), Vec<Reason>>);

#[test]
fn volume_binding_as_its_upstream_table() {
    let n1 = node("n1", Some("a"));
    let table: Vec<Case> = vec![
        ("pod has not pvcs", vec![], Ok(())),
        ("all bound", vec![bound_to("n1")], Ok(())),
        (
            "PVC does not exist",
            vec![VolumeConstraint::Missing("pvc-a".into())],
            Err(vec![Reason::ClaimNotFound("pvc-a".into())]),
        ),
        (
            "Part of PVCs do not exist",
            vec![bound_to("n1"), VolumeConstraint::Missing("pvc-b".into())],
            Err(vec![Reason::ClaimNotFound("pvc-b".into())]),
        ),
        (
            "immediate claims not bound",
            vec![VolumeConstraint::UnboundImmediate],
            Err(vec![Reason::UnboundImmediateClaims]),
        ),
        (
            "unbound claims no matches",
            vec![VolumeConstraint::Delayed {
                candidates: vec![],
                provision: None,
            }],
            Err(vec![Reason::VolumeBindConflict]),
        ),
        (
            "unbound claim with a volume on the node",
            vec![VolumeConstraint::Delayed {
                candidates: vec![
                    Some(on("kubernetes.io/hostname", "n2")),
                    Some(on("kubernetes.io/hostname", "n1")),
                ],
                provision: None,
            }],
            Ok(()),
        ),
        (
            "unbound claim its class provisions in the node's zone",
            vec![VolumeConstraint::Delayed {
                candidates: vec![],
                provision: Some(Some(on("topology.kubernetes.io/zone", "a"))),
            }],
            Ok(()),
        ),
        (
            "unbound claim its class provisions only elsewhere",
            vec![VolumeConstraint::Delayed {
                candidates: vec![],
                provision: Some(Some(on("topology.kubernetes.io/zone", "b"))),
            }],
            Err(vec![Reason::VolumeBindConflict]),
        ),
        (
            "bound and unbound unsatisfied",
            vec![
                bound_to("n2"),
                VolumeConstraint::Delayed {
                    candidates: vec![Some(on("kubernetes.io/hostname", "n2"))],
                    provision: None,
                },
            ],
            Err(vec![
                Reason::VolumeNodeAffinityConflict,
                Reason::VolumeBindConflict,
            ]),
        ),
    ];
    for (name, volumes, expected) in table {
        let pod = pod(volumes);
        assert_eq!(verdict(&VolumeBinding, &pod, &n1), expected, "{name}");
        assert_eq!(VolumeBinding.skips(&pod), pod.volumes.is_empty(), "{name}");
    }
}

#[test]
fn volume_zone_as_its_upstream_tables() {
    let zoned = |zones: &[&str]| VolumeConstraint::Bound {
        node_affinity: None,
        zones: Some(zones.iter().map(|z| z.to_string()).collect()),
    };
    let table: Vec<(&str, Vec<VolumeConstraint>, NodeInfo, bool)> = vec![
        ("pod without volume", vec![], node("n1", Some("a")), true),
        (
            "node without labels",
            vec![zoned(&["a"])],
            node("n1", None),
            true,
        ),
        (
            "label zone matched",
            vec![zoned(&["a"])],
            node("n1", Some("a")),
            true,
        ),
        (
            "label zone failure domain matched",
            vec![zoned(&["b", "a"])],
            node("n1", Some("a")),
            true,
        ),
        (
            "label zone not matched",
            vec![zoned(&["b"])],
            node("n1", Some("a")),
            false,
        ),
        (
            "one of two volumes not matched",
            vec![zoned(&["a"]), zoned(&["c"])],
            node("n1", Some("a")),
            false,
        ),
        (
            "a volume without zone",
            vec![bound_to("n1")],
            node("n1", Some("a")),
            true,
        ),
    ];
    for (name, volumes, node, passes) in table {
        let expected = if passes {
            Ok(())
        } else {
            Err(vec![Reason::NoVolumeZone])
        };
        assert_eq!(
            verdict(&VolumeZone, &pod(volumes), &node),
            expected,
            "{name}"
        );
    }
}

#[test]
fn volume_restrictions_refuses_a_read_write_once_pod_claim_in_use() {
    let n1 = node("n1", None);
    assert_eq!(
        verdict(&VolumeRestrictions, &pod(vec![bound_to("n1")]), &n1),
        Ok(())
    );
    assert_eq!(
        verdict(
            &VolumeRestrictions,
            &pod(vec![VolumeConstraint::InUseReadWriteOncePod]),
            &n1
        ),
        Err(vec![Reason::ReadWriteOncePodConflict])
    );
}

/// A PreFilter rejection is kube-scheduler's `PreFilterMsg`, printed once;
/// node reasons are counted and sorted.
#[test]
fn pre_filter_rejections_print_once_and_node_reasons_are_counted() {
    let unbound = FitError {
        nodes: 3,
        reasons: [(Reason::UnboundImmediateClaims, 3)].into_iter().collect(),
        post_filter: None,
    };
    assert_eq!(
        unbound.to_string(),
        "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims."
    );
    let missing = FitError {
        nodes: 2,
        reasons: [(Reason::ClaimNotFound("data-db-0".into()), 2)]
            .into_iter()
            .collect(),
        post_filter: None,
    };
    assert_eq!(
        missing.to_string(),
        "0/2 nodes are available: persistentvolumeclaim \"data-db-0\" not found."
    );
    let conflicts = FitError {
        nodes: 3,
        reasons: [
            (Reason::VolumeNodeAffinityConflict, 2),
            (Reason::NoVolumeZone, 1),
        ]
        .into_iter()
        .collect(),
        post_filter: None,
    };
    assert_eq!(
        conflicts.to_string(),
        "0/3 nodes are available: 1 node(s) had no available volume zone, 2 node(s) had volume node affinity conflict."
    );
}
