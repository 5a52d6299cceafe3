use super::*;
use crate::model::condition::{ConditionReason, ConditionStatus, ConditionType};
use crate::model::event::EventReason;
use crate::model::labels::Labels;
use crate::model::pod::{Taint, TaintEffect};
use crate::model::resources::Allocatable;
use crate::model::state::*;
use crate::model::workload::{Kind, ObjectRef};
use serde_json::json;

pub(super) fn populated() -> State {
    let mut allocatable = Allocatable::default();
    allocatable.resources.milli_cpu = 4000;
    allocatable.resources.memory = 16 << 30;
    allocatable.resources.set("nvidia.com/gpu", 2);
    let workload = ObjectRef::new(Kind::Deployment, "default", "api");
    State {
        generation: 7,
        clock: 42,
        nodes: vec![NodeState {
            name: "n1".into(),
            labels: Labels::from([
                ("topology.kubernetes.io/zone".into(), "a".into()),
                ("n".into(), "110".into()),
            ]),
            allocatable,
            taints: vec![Taint::new("gpu", "true", TaintEffect::NoSchedule)],
            unschedulable: true,
            cordoned: true,
            draining: true,
            removing: false,
            not_ready_since: Some(40),
            ready: false,
            conditions: vec![Condition {
                kind: ConditionType::Ready,
                status: ConditionStatus::True,
                reason: Some(ConditionReason::KubeletReady),
                message: "ok: yes".into(),
                last_update_time: 1,
                last_transition_time: 2,
            }],
            source: NodeSource::Imperative,
        }],
        workloads: vec![WorkloadState {
            kind: Kind::Deployment,
            namespace: "default".into(),
            name: "api".into(),
            spec: json!({"spec": {"replicas": 2, "x": [1.5, true, null, "007", "yes"]}}).into(),
            revisions: vec![Revision {
                revision: 1,
                hash: "5d8f9".into(),
                template: json!({"metadata": {"labels": {"app": "api"}}}).into(),
                desired_replicas: Some(2),
                max_replicas: Some(3),
            }],
            status: WorkloadStatus::default(),
            origin: Default::default(),
        }],
        replicas: vec![
            Replica {
                name: "api-5d8f9-abcde".into(),
                workload: workload.clone(),
                revision: 1,
                hash: "5d8f9".into(),
                node: Some("n1".into()),
                target_node: None,
                phase: Phase::Running,
                ready: true,
                created_at: 1,
                started_at: Some(1),
                ready_at: Some(2),
                restarts: 0,
                reason: None,
                unmanaged: None,
                finished_at: None,
            },
            Replica {
                name: "api-5d8f9-fghjk".into(),
                workload,
                revision: 1,
                hash: "5d8f9".into(),
                node: None,
                target_node: None,
                phase: Phase::Pending,
                ready: false,
                created_at: 3,
                started_at: None,
                ready_at: None,
                restarts: 0,
                reason: Some("0/1 nodes are available: 1 Insufficient cpu.".into()),
                unmanaged: None,
                finished_at: None,
            },
        ]
        .into(),
        events: vec![Event {
            time: 3,
            kind: EventType::Warning,
            reason: EventReason::FailedScheduling,
            object: "x".into(),
            message: "m: n".into(),
        }],
        ..State::default()
    }
}

#[test]
fn a_missing_file_is_an_empty_cluster_and_is_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orch.state.yaml");
    assert_eq!(load(&path).unwrap(), State::default());
    assert!(!path.exists());
}

#[test]
fn yaml_and_json_round_trip_exactly() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["s.yaml", "s.json", "s.yml"] {
        let path = dir.path().join(name);
        let lock = lock(&path, false).unwrap();
        lock.save(&populated()).unwrap();
        assert_eq!(lock.load().unwrap(), populated(), "{name}");
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(
            text.trim_start().starts_with('{'),
            name.ends_with(".json"),
            "{name}"
        );
        // Field order on disk is the documented order.
        let at = |field: &str| {
            text.find(field)
                .unwrap_or_else(|| panic!("{field} in {name}"))
        };
        assert!(
            at("apiVersion") < at("generation")
                && at("generation") < at("nodes")
                && at("nodes") < at("events")
        );
    }
}

/// States written by the build before conditions, events and blocked
/// reasons were typed (a pending replica, a deadline exceeded, a failed node
/// whose Ready reason came from a live cluster, paused, every kind of event
/// of such a run) load, and are written back byte for byte.
#[test]
fn states_written_before_typed_outcomes_are_written_back_unchanged() {
    let documents = [
        (
            "before-typed-outcomes.yaml",
            include_str!("fixtures/before-typed-outcomes.yaml"),
        ),
        (
            "before-typed-outcomes.json",
            include_str!("fixtures/before-typed-outcomes.json"),
        ),
    ];
    for (name, text) in documents {
        let path = Path::new(name);
        let state = parse(path, text.as_bytes()).unwrap();
        assert_eq!(
            state.nodes[0].conditions[0].reason,
            Some(ConditionReason::Other("KubeletNotReady".into()))
        );
        assert_eq!(to_text(&state, path).unwrap(), text, "{name}");
    }
}

#[test]
fn corrupt_documents_are_located() {
    let path = Path::new("dir/orch.state.yaml");
    let error = parse(
        path,
        b"apiVersion: orch.dev/v1\nkind: State\ngeneration: [\n",
    )
    .unwrap_err();
    assert!(
        error.to_string().starts_with("state dir/orch.state.yaml:"),
        "{error}"
    );
    let error = parse(
        path,
        b"apiVersion: orch.dev/v1\nkind: State\ngeneration: 1\nclock: 0\nnodes: 3\n",
    )
    .unwrap_err();
    match &error {
        StateError::Parse { line, .. } => assert_eq!(*line, 5, "{error}"),
        other => panic!("{other}"),
    }
    let json = parse(
        Path::new("s.json"),
        b"{\"apiVersion\": \"orch.dev/v1\",\n \"kind\": \"State\",\n \"generation\": \"x\"}",
    )
    .unwrap_err();
    assert!(json.to_string().starts_with("state s.json:3:"), "{json}");
    assert!(parse(path, b"").unwrap_err().to_string().contains("empty"));
    assert!(
        parse(
            path,
            b"apiVersion: orch.dev/v1\nkind: State\ngeneration: 1\nclock: 0\nbogus: 1\n"
        )
        .is_err()
    );
}

#[test]
fn unknown_versions_and_kinds_are_refused() {
    let path = Path::new("s.yaml");
    let future = parse(
        path,
        b"apiVersion: orch.dev/v2\nkind: State\nsomethingNew: 1\n",
    )
    .unwrap_err();
    assert!(
        future
            .to_string()
            .contains("apiVersion orch.dev/v2 is not supported"),
        "{future}"
    );
    let kind = parse(path, b"apiVersion: orch.dev/v1\nkind: Deployment\n").unwrap_err();
    assert!(
        kind.to_string().contains("kind Deployment is not State"),
        "{kind}"
    );
}

#[test]
fn duplicates_are_refused() {
    let mut state = populated();
    state.replicas[1].name = state.replicas[0].name.clone();
    let text = to_text(&state, Path::new("s.yaml")).unwrap();
    let error = parse(Path::new("s.yaml"), text.as_bytes()).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("replica api-5d8f9-abcde appears twice"),
        "{error}"
    );
    let mut state = populated();
    state.nodes.push(state.nodes[0].clone());
    let text = to_text(&state, Path::new("s.json")).unwrap();
    assert!(
        parse(Path::new("s.json"), text.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("node n1 appears twice")
    );
}

#[test]
fn alias_bombs_are_refused() {
    let mut bomb = String::from(
        "apiVersion: orch.dev/v1\nkind: State\ngeneration: 1\nclock: 0\na0: &a0 [x,x,x,x,x,x,x,x,x]\n",
    );
    for i in 1..10 {
        bomb.push_str(&format!(
            "a{i}: &a{i} [{}]\n",
            vec![format!("*a{}", i - 1); 9].join(",")
        ));
    }
    assert!(parse(Path::new("s.yaml"), bomb.as_bytes()).is_err());
}

#[test]
fn a_second_lock_is_refused_with_the_holder_pid_and_wait_waits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orch.state.yaml");
    let first = lock(&path, false).unwrap();
    let error = lock(&path, false).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "state {} is locked by pid {} (use --wait-lock to wait)",
            path.display(),
            std::process::id()
        )
    );
    let waiter = {
        let path = path.clone();
        std::thread::spawn(move || lock(&path, true).map(|_| ()))
    };
    std::thread::sleep(std::time::Duration::from_millis(100));
    drop(first);
    waiter.join().unwrap().unwrap();
}

#[test]
fn saving_replaces_atomically_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orch.state.yaml");
    let held = lock(&path, false).unwrap();
    held.save(&State::default()).unwrap();
    held.save(&populated()).unwrap();
    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let mut names = names;
    names.sort();
    assert_eq!(names, ["orch.state.yaml", "orch.state.yaml.lock"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        held.save(&State::default()).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o644,
            "an existing file keeps its mode"
        );
    }
}

/// A save that fails part way (here: after megabytes were written) leaves
/// the old state as it was and no temporary file.
#[test]
fn a_failed_write_leaves_the_old_state_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orch.state.json");
    let held = lock(&path, false).unwrap();
    held.save(&populated()).unwrap();
    let before = fs::read(&path).unwrap();
    let error = replace_with(
        &path,
        0o600,
        |out| {
            out.write_all(&vec![b'x'; 3 * WRITE_BUFFER + 7])
                .map_err(|e| e.to_string())?;
            Err("stopped".to_string())
        },
        |action, source| format!("{action}: {source}"),
    )
    .unwrap_err();
    assert_eq!(error, "stopped");
    assert_eq!(fs::read(&path).unwrap(), before);
    let mut names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["orch.state.json", "orch.state.json.lock"]);
}

#[test]
fn a_missing_directory_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope/orch.state.yaml");
    assert!(
        lock(&path, false)
            .unwrap_err()
            .to_string()
            .contains("does not exist")
    );
}

#[test]
fn json_states_hold_one_object_per_line() {
    let state = populated();
    let text = to_text(&state, Path::new("s.json")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "{");
    assert_eq!(lines[1], r#"  "apiVersion": "orch.dev/v1","#);
    assert_eq!(*lines.last().unwrap(), "}");
    // Each replica, node and event is one line of compact JSON.
    for replica in &state.replicas {
        let line = lines
            .iter()
            .find(|l| l.contains(&format!(r#""name":"{}""#, replica.name)))
            .unwrap_or_else(|| panic!("{} on a line of its own", replica.name));
        let item: serde_json::Value =
            serde_json::from_str(line.trim().trim_end_matches(',')).unwrap();
        assert_eq!(item, serde_json::to_value(replica).unwrap());
    }
    assert_eq!(
        lines.len(),
        // Braces, the scalar fields and each list's brackets, plus one line per item.
        2 + 4
            + 4 * 2
            + state.nodes.len()
            + state.workloads.len()
            + state.replicas.len()
            + state.events.len()
            - [
                &state.nodes.is_empty(),
                &state.workloads.is_empty(),
                &state.replicas.is_empty(),
                &state.events.is_empty()
            ]
            .iter()
            .filter(|e| ***e)
            .count(),
        "{text}"
    );
    let parsed: State = serde_json::from_str(&text).unwrap();
    assert_eq!(parsed, state);
}

/// A converged fleet's YAML state takes the fast path, and it reads exactly
/// what serde-saphyr reads.
#[test]
fn yaml_states_orch_writes_read_fast_and_the_same() {
    use crate::bench::{FleetSpec, Mix, generate};
    use crate::manifest::ParseOptions;
    use crate::scheduler::{Scheduler, ScoringStrategy};
    use crate::sources::Source;
    let sources: Vec<Source> = generate(FleetSpec {
        nodes: 40,
        replicas: 400,
        seed: 3,
        updated_every: 0,
        stateful_percent: 0,
        mix: Mix::Mixed,
        jobs_percent: 0,
    })
    .into_iter()
    .map(|(name, text)| Source { name, text })
    .collect();
    let desired = crate::manifest::parse(&sources, &ParseOptions::default())
        .unwrap()
        .desired;
    let mut state = State::default();
    crate::executor::run(
        &desired,
        &mut state,
        &Scheduler::new(ScoringStrategy::LeastAllocated),
        &crate::executor::RunOptions::default(),
        |_, _| Ok::<(), ()>(()),
    )
    .unwrap();
    // The generated fleet is orch's layout throughout; `populated` holds a
    // float in a workload spec, which the fast path leaves to serde-saphyr.
    for (state, fast_path) in [(state, true), (populated(), false)] {
        let text = to_text(&state, Path::new("s.yaml")).unwrap();
        let json = fast_yaml::to_json(&text);
        assert_eq!(json.is_some(), fast_path);
        if let Some(json) = json {
            let fast: State = serde_json::from_str(&json).unwrap();
            let slow: State = serde_saphyr::from_str_with_options(&text, state_options()).unwrap();
            assert_eq!(fast, slow);
        }
        let mut sorted = state;
        sorted.sort();
        assert_eq!(parse(Path::new("s.yaml"), text.as_bytes()).unwrap(), sorted);
    }
}

/// Every time, clock and revision of a state is checked, and the first one
/// out of range, in the state's order, is the one reported.
#[test]
fn the_first_value_out_of_range_is_found_wherever_it_is() {
    type Edit = fn(&mut State, u64);
    let too_big = MAX_VALUE + 1;
    let edits: [(&str, Edit); 8] = [
        ("clock", |s, v| s.clock = v),
        ("notReadySince", |s, v| s.nodes[0].not_ready_since = Some(v)),
        ("lastTransitionTime", |s, v| {
            s.nodes[0].conditions[0].last_transition_time = v
        }),
        ("revision", |s, v| s.workloads[0].revisions[0].revision = v),
        ("createdAt", |s, v| s.replicas[0].created_at = v),
        ("startedAt", |s, v| s.replicas[0].started_at = Some(v)),
        ("readyAt", |s, v| s.replicas[1].ready_at = Some(v)),
        ("time", |s, v| {
            s.events.push(Event {
                time: v,
                ..s.events.first().cloned().unwrap_or_else(|| Event {
                    time: 0,
                    kind: EventType::Normal,
                    reason: EventReason::Scheduled,
                    object: "Replica/x".into(),
                    message: String::new(),
                })
            })
        }),
    ];
    let path = Path::new("orch.state.json");
    for (i, (key, edit)) in edits.iter().enumerate() {
        let mut state = populated();
        assert!(check_ranges(path, "", &state).is_ok());
        edit(&mut state, too_big);
        // A later value out of range too does not change which is reported.
        for (_, later) in &edits[i + 1..] {
            later(&mut state, too_big + 1);
        }
        match check_ranges(path, "", &state) {
            Err(StateError::Parse { message, .. }) => assert_eq!(
                message,
                format!("{key}: {too_big} is out of range (at most {MAX_VALUE})")
            ),
            other => panic!("{key}: {other:?}"),
        }
    }
}
