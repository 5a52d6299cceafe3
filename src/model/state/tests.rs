use super::*;

fn workload(name: &str, origin: WorkloadOrigin) -> WorkloadState {
    WorkloadState {
        kind: Kind::Deployment,
        namespace: "default".into(),
        name: name.into(),
        spec: serde_json::Value::Null.into(),
        revisions: Vec::new(),
        status: WorkloadStatus::default(),
        origin,
    }
}

fn event() -> Event {
    Event {
        time: 1,
        kind: EventType::Normal,
        reason: EventReason::Scheduled,
        object: "Replica/x".into(),
        message: String::new(),
    }
}

/// States written before origins were recorded: an import no loop ran
/// on is the cluster's own; anything else was applied, as it always was.
#[test]
fn old_states_migrate_to_the_origin_they_had() {
    let untouched_import = State {
        generation: 1,
        clock: 5000,
        workloads: vec![workload("a", WorkloadOrigin::Applied)],
        ..State::default()
    };
    let mut migrated = untouched_import.clone();
    migrated.migrate_origins();
    assert_eq!(migrated.workloads[0].origin, WorkloadOrigin::Imported);

    for mut applied in [
        // A loop ran on it.
        State {
            events: vec![event()],
            ..untouched_import.clone()
        },
        // Written by apply (generation past the first step).
        State {
            generation: 7,
            ..untouched_import.clone()
        },
        // Applied at once, no time passed.
        State {
            clock: 0,
            ..untouched_import.clone()
        },
    ] {
        applied.migrate_origins();
        assert_eq!(applied.workloads[0].origin, WorkloadOrigin::Applied);
    }
    // A state that records origins is never rewritten.
    let mut recorded = State {
        workloads: vec![
            workload("a", WorkloadOrigin::Applied),
            workload("b", WorkloadOrigin::Imported),
        ],
        ..untouched_import
    };
    let before = recorded.clone();
    recorded.migrate_origins();
    assert_eq!(recorded, before);
}
