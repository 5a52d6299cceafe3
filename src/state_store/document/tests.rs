use super::*;
use crate::model::condition::{ConditionReason, ConditionStatus, ConditionType};
use crate::model::event::EventReason;
use crate::model::labels::Labels;
use crate::model::pod::{Taint, TaintEffect};
use crate::model::resources::Allocatable;
use crate::model::state::*;
use crate::model::workload::{Kind, ObjectRef};
use proptest::prelude::*;
use serde_json::Value as J;

/// The document as one serializer writes it over the whole state.
fn reference(state: &State, json: bool) -> Vec<u8> {
    if json {
        let mut bytes = Vec::new();
        let mut serializer =
            serde_json::Serializer::with_formatter(&mut bytes, OnePerLine::default());
        state.serialize(&mut serializer).unwrap();
        bytes.push(b'\n');
        bytes
    } else {
        serde_saphyr::to_string(state).unwrap().into_bytes()
    }
}

/// The document in pieces of `chunk` elements, on one core or two.
fn pieces(state: &State, json: bool, chunk: usize, parallel: bool) -> Vec<u8> {
    let mut bytes = Vec::new();
    write_with(state, json, chunk, parallel, &mut bytes).unwrap();
    bytes
}

fn assert_same(state: &State) {
    for json in [true, false] {
        let expected = reference(state, json);
        for chunk in [1, 2, 3, CHUNK] {
            for parallel in [false, true] {
                let written = pieces(state, json, chunk, parallel);
                assert!(
                    written == expected,
                    "{} in pieces of {chunk} (parallel: {parallel}):\n{}\nexpected:\n{}",
                    if json { "JSON" } else { "YAML" },
                    String::from_utf8_lossy(&written),
                    String::from_utf8_lossy(&expected)
                );
            }
        }
    }
}

/// Text that exercises quoting, block and folded scalars, and escapes.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9./-]{0,12}",
        Just(String::new()),
        prop::sample::select(vec![
            "yes",
            "no",
            "null",
            "~",
            "true",
            "007",
            "1.5",
            "-1",
            "0x1f",
            ".inf",
            "-",
            "- a",
            "a: b",
            "a #b",
            "#x",
            " lead",
            "trail ",
            "'q'",
            "\"dq\"",
            "{x}",
            "[y]",
            "&a",
            "*b",
            "!t",
            "%x",
            "@at",
            "`",
            "? k",
            "|",
            ">",
            "---",
            "...",
            "a\tb",
            "\u{7f}",
            "\u{85}",
            "\u{2028}",
            "é ü 日本",
            "\\",
            "a\\nb",
        ])
        .prop_map(String::from),
        // Long lines of words: folded when past the wrap width.
        "[a-z]{1,12}( [a-z]{1,12}){6,20}",
        // Several lines, sometimes with trailing or blank ones.
        "[a-z :]{0,30}(\n[a-z :]{0,30}){1,4}\n{0,2}",
        any::<String>().prop_map(|s| s.chars().take(16).collect()),
    ]
}

fn json_value() -> impl Strategy<Value = J> {
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        any::<i64>().prop_map(J::from),
        any::<u64>().prop_map(J::from),
        (-1e9f64..1e9).prop_map(J::from),
        text().prop_map(J::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(J::Array),
            prop::collection::btree_map(text(), inner, 0..4)
                .prop_map(|m| J::Object(m.into_iter().collect())),
        ]
    })
}

fn labels() -> impl Strategy<Value = Labels> {
    prop::collection::btree_map(text(), text(), 0..3)
}

/// A reason orch writes, or any text a live cluster might give (`Other`).
fn condition_reason() -> impl Strategy<Value = Option<ConditionReason>> {
    prop::option::of(text().prop_map(|text| ConditionReason::from(text.as_str())))
}

fn condition() -> impl Strategy<Value = Condition> {
    (
        prop::sample::select(ConditionType::ALL),
        prop::sample::select(ConditionStatus::ALL),
        condition_reason(),
        text(),
        any::<u64>(),
        any::<u64>(),
    )
        .prop_map(
            |(kind, status, reason, message, last_update_time, last_transition_time)| Condition {
                kind,
                status,
                reason,
                message,
                last_update_time,
                last_transition_time,
            },
        )
}

fn node() -> impl Strategy<Value = NodeState> {
    let effect = prop::sample::select(vec![
        TaintEffect::NoSchedule,
        TaintEffect::PreferNoSchedule,
        TaintEffect::NoExecute,
    ]);
    let taint = (text(), text(), effect, any::<Option<u64>>()).prop_map(
        |(key, value, effect, time_added)| Taint {
            key,
            value,
            effect,
            time_added,
        },
    );
    (
        (text(), labels(), 0i64..1 << 40, 0i64..200, 0i64..8),
        prop::collection::vec(taint, 0..3),
        prop::array::uniform5(any::<bool>()),
        any::<Option<u64>>(),
        prop::collection::vec(condition(), 0..2),
    )
        .prop_map(
            |((name, labels, memory, pods, gpus), taints, flags, not_ready_since, conditions)| {
                let mut allocatable = Allocatable {
                    pods,
                    ..Allocatable::default()
                };
                allocatable.resources.milli_cpu = memory % 64_000;
                allocatable.resources.memory = memory;
                if gpus > 0 {
                    allocatable.resources.set("nvidia.com/gpu", gpus);
                }
                NodeState {
                    name,
                    labels,
                    allocatable,
                    taints,
                    unschedulable: flags[0],
                    cordoned: flags[1],
                    draining: flags[2],
                    removing: flags[3],
                    ready: flags[4],
                    not_ready_since,
                    conditions,
                    source: if flags[0] {
                        NodeSource::Imperative
                    } else {
                        NodeSource::Manifest
                    },
                }
            },
        )
}

fn kind() -> impl Strategy<Value = Kind> {
    prop::sample::select(vec![Kind::Deployment, Kind::DaemonSet])
}

fn workload() -> impl Strategy<Value = WorkloadState> {
    let annotations = (any::<Option<i32>>(), any::<Option<i32>>());
    let revision = (any::<u64>(), text(), json_value(), annotations).prop_map(
        |(revision, hash, template, (desired_replicas, max_replicas))| Revision {
            revision,
            hash,
            template: template.into(),
            desired_replicas,
            max_replicas,
        },
    );
    let status = (
        any::<bool>(),
        prop::array::uniform5(any::<i32>()),
        prop::collection::vec(condition(), 0..2),
        prop::option::of(text()),
    )
        .prop_map(
            |(paused, counts, conditions, current_revision)| WorkloadStatus {
                paused,
                desired: counts[0],
                replicas: counts[1],
                updated: counts[2],
                ready: counts[3],
                available: counts[4],
                conditions,
                current_revision,
                job: None,
                cron: None,
                lost: None,
            },
        );
    (
        kind(),
        text(),
        text(),
        json_value(),
        prop::collection::vec(revision, 0..3),
        status,
    )
        .prop_map(
            |(kind, namespace, name, spec, revisions, status)| WorkloadState {
                kind,
                namespace,
                name,
                spec: spec.into(),
                revisions,
                origin: if restarts_like(&status) {
                    crate::model::state::WorkloadOrigin::Imported
                } else {
                    crate::model::state::WorkloadOrigin::Applied
                },
                status,
            },
        )
}

/// Some workloads imported, some applied, as the status happens to say.
fn restarts_like(status: &crate::model::state::WorkloadStatus) -> bool {
    status.paused
}

fn replica() -> impl Strategy<Value = Replica> {
    let phase = prop::sample::select(vec![
        Phase::Pending,
        Phase::Running,
        Phase::Terminating,
        Phase::Failed,
    ]);
    (
        (text(), kind(), text(), text(), any::<u64>(), text()),
        (any::<Option<String>>(), proptest::option::of(text()), phase),
        (
            any::<bool>(),
            any::<u64>(),
            any::<Option<u64>>(),
            any::<Option<u64>>(),
        ),
        (any::<u32>(), proptest::option::of(text())),
    )
        .prop_map(
            |(
                (name, kind, namespace, workload, revision, hash),
                (node, target_node, phase),
                (ready, created_at, started_at, ready_at),
                (restarts, reason),
            )| Replica {
                name: name.into(),
                workload: ObjectRef::new(kind, &namespace, &workload),
                revision,
                hash: hash.into(),
                node: node.map(Into::into),
                target_node,
                phase,
                ready,
                created_at,
                started_at,
                ready_at,
                restarts,
                unmanaged: (restarts % 3 == 0).then(|| {
                    Box::new(crate::model::state::Unmanaged {
                        owner: reason.clone().map(|r| format!("Node/{r}")),
                        template: serde_json::json!({"spec": {"containers": []}}).into(),
                    })
                }),
                reason,
                finished_at: None,
            },
        )
}

fn event() -> impl Strategy<Value = Event> {
    (
        any::<u64>(),
        any::<bool>(),
        prop::sample::select(EventReason::ALL),
        text(),
        text(),
    )
        .prop_map(|(time, warning, reason, object, message)| Event {
            time,
            kind: if warning {
                EventType::Warning
            } else {
                EventType::Normal
            },
            reason,
            object,
            message,
        })
}

fn state() -> impl Strategy<Value = State> {
    (
        (any::<u64>(), any::<u64>(), text(), text()),
        prop::collection::vec(node(), 0..5),
        prop::collection::vec(workload(), 0..4),
        prop::collection::vec(replica(), 0..7),
        prop::collection::vec(event(), 0..4),
    )
        .prop_map(
            |((generation, clock, api_version, kind), nodes, workloads, replicas, events)| {
                let mut state = State {
                    generation,
                    clock,
                    nodes,
                    workloads,
                    replicas: replicas.into(),
                    events,
                    ..State::default()
                };
                // Mostly the default epoch; sometimes one of its own.
                if generation % 3 == 0 {
                    state.epoch = clock as i64;
                }
                // Mostly the real header; sometimes text that needs quoting.
                if generation % 4 == 0 {
                    state.api_version = api_version;
                    state.kind = kind;
                }
                state
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Written in pieces, on one core or two, the document is byte for byte
    /// what one serializer writes over the whole state.
    #[test]
    fn pieces_write_exactly_what_one_serializer_writes(state in state()) {
        assert_same(&state);
    }
}

#[test]
fn empty_and_tiny_states_are_written_exactly() {
    assert_same(&State::default());
    let one_replica = State {
        replicas: vec![Replica::pending(
            "api-1".into(),
            ObjectRef::new(Kind::Deployment, "default", "api"),
            1,
            "5d8f9".into(),
            None,
            0,
        )]
        .into(),
        ..State::default()
    };
    assert_same(&one_replica);
    let only_events = State {
        events: vec![
            Event {
                time: 1,
                kind: EventType::Normal,
                reason: EventReason::Scheduled,
                object: "Replica/default/api-1".into(),
                message: "".into(),
            };
            5
        ],
        ..State::default()
    };
    assert_same(&only_events);
}

/// Volumes and claims are written only when there are some, each list
/// alone or both, in JSON and YAML alike.
#[test]
fn storage_lists_are_written_exactly_when_present() {
    use crate::model::storage::{
        AccessMode, Claim, ClaimPhase, ReclaimPolicy, Volume, VolumePhase,
    };
    let volume = Volume {
        name: "pvc-1".into(),
        labels: Labels::new(),
        storage_class: "zonal".into(),
        capacity: 10 << 30,
        access_modes: vec![AccessMode::ReadWriteOnce],
        node_affinity: None,
        reclaim_policy: ReclaimPolicy::Delete,
        claim: Some("default/data-db-0".into()),
        phase: VolumePhase::Bound,
        provisioned: true,
    };
    let claim = Claim {
        namespace: "default".into(),
        name: "data-db-0".into(),
        storage_class: "zonal".into(),
        access_modes: vec![AccessMode::ReadWriteOnce],
        request: 10 << 30,
        volume: Some("pvc-1".into()),
        phase: ClaimPhase::Bound,
        owner: Some(ObjectRef::new(Kind::StatefulSet, "default", "db")),
    };
    for (volumes, claims) in [
        (vec![volume.clone()], vec![]),
        (vec![], vec![claim.clone()]),
        (vec![volume.clone(); 3], vec![claim.clone(); 2]),
    ] {
        assert_same(&State {
            volumes,
            claims,
            ..State::default()
        });
    }
}

/// A failed write stops the writer; nothing after the failure is written.
#[test]
fn a_failing_writer_stops_both_cores() {
    struct Fails(usize);
    impl Write for Fails {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            if self.0 == 0 {
                return Err(std::io::Error::other("disk full"));
            }
            self.0 -= 1;
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let state = State {
        events: vec![
            Event {
                time: 1,
                kind: EventType::Normal,
                reason: EventReason::Killing,
                object: "o".into(),
                message: "m".into(),
            };
            50
        ],
        ..State::default()
    };
    for json in [true, false] {
        for writes in [0, 1, 5] {
            let error = write_with(&state, json, 2, true, &mut Fails(writes)).unwrap_err();
            assert!(matches!(error, WriteError::Io(_)), "{error:?}");
        }
    }
}
