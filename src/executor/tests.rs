use super::*;
use crate::manifest::{ParseOptions, parse};
use crate::model::event::EventReason;
use crate::model::state::MAX_EVENTS;
use crate::scheduler::ScoringStrategy;
use crate::sources::Source;

/// A step with more events than the state keeps writes only the newest
/// ones: the state is the one of carrying the actions out one by one.
#[test]
fn a_large_step_keeps_the_events_of_one_action_at_a_time() {
    let mut text = String::from(
        "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nstatus:\n  allocatable: {cpu: \"64\", memory: 64Gi, pods: \"2000\"}\n---\n",
    );
    text += "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 1500\n  \
             selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    \
             spec: {containers: [{name: c, image: i}]}\n";
    let sources = [Source {
        name: "fleet.yaml".into(),
        text,
    }];
    let desired = parse(&sources, &ParseOptions::default())
        .expect("valid manifests")
        .desired;
    let mut state = State::default();
    run(
        &desired,
        &mut state,
        &Scheduler::new(ScoringStrategy::LeastAllocated),
        &RunOptions::default(),
        |_, _| Ok::<(), ()>(()),
    )
    .expect("converges");
    assert_eq!(state.replicas.len(), 1500);
    for replica in &mut state.replicas {
        replica.ready = false;
        replica.ready_at = None;
    }
    state.clock += 7;
    let mut actions: Vec<Action> = state
        .replicas
        .iter()
        .map(|r| Action::MarkReady {
            replica: r.name.clone(),
            workload: r.workload.clone(),
        })
        .collect();
    actions.insert(
        700,
        Action::MarkUnready {
            replica: state.replicas[3].name.clone(),
            workload: state.replicas[3].workload.clone(),
            reason: "node n1 is not ready".into(),
        },
    );
    let mut one_by_one = state.clone();
    for action in &actions {
        execute(&mut one_by_one, std::slice::from_ref(action));
    }
    execute(&mut state, &actions);
    assert_eq!(state.events.len(), MAX_EVENTS);
    assert_eq!(
        state.events.last().map(|e| e.message.as_str()),
        Some(format!("Replica {} is ready", state.replicas[1499].name).as_str())
    );
    assert!(
        state
            .events
            .iter()
            .any(|e| e.reason == EventReason::NodeNotReady)
    );
    assert_eq!(state, one_by_one);
}

/// A run that does not keep its steps (`RunOptions::keep_steps`) hands the
/// same steps to its callback and ends where the run that keeps them ends,
/// `--advance` and `--max-steps` included (they count the steps taken).
#[test]
fn a_run_that_folds_its_steps_is_the_run_that_keeps_them() {
    let text = "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nstatus:\n  allocatable: {cpu: \"4\", memory: 8Gi, pods: \"110\"}\n---\n\
                apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 6\n  \
                strategy: {rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}\n  \
                selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    \
                spec: {containers: [{name: c, image: i, resources: {requests: {cpu: 500m}}}]}\n---\n\
                apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: tick}\nspec:\n  schedule: \"*/10 * * * *\"\n  \
                jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          \
                containers: [{name: c, image: i}]\n";
    let sources = [Source {
        name: "fleet.yaml".into(),
        text: text.into(),
    }];
    let desired = parse(&sources, &ParseOptions::default())
        .expect("valid manifests")
        .desired;
    let scheduler = Scheduler::new(ScoringStrategy::LeastAllocated);
    for (advance, max_steps) in [(0, MAX_STEPS), (3600, MAX_STEPS), (3600, 4), (0, 2)] {
        let run_with = |keep_steps: bool| {
            let mut state = State::default();
            let mut handed = Vec::new();
            let options = RunOptions {
                advance,
                max_steps,
                keep_steps,
                ..RunOptions::default()
            };
            let result = run(&desired, &mut state, &scheduler, &options, |_, step| {
                if let Some(step) = step {
                    handed.push((step.time, step.actions.clone()));
                }
                Ok::<(), ()>(())
            })
            .expect("runs");
            (result, state, handed)
        };
        let (kept, kept_state, kept_handed) = run_with(true);
        let (folded, folded_state, folded_handed) = run_with(false);
        assert!(
            !kept.steps.is_empty(),
            "advance {advance}: the run takes steps"
        );
        assert!(folded.steps.is_empty(), "advance {advance}: no step kept");
        let kept_steps: Vec<_> = kept
            .steps
            .iter()
            .map(|s| (s.time, s.actions.clone()))
            .collect();
        assert_eq!(kept_handed, kept_steps, "advance {advance}");
        assert_eq!(
            folded_handed, kept_handed,
            "advance {advance}, {max_steps} steps"
        );
        assert_eq!(
            folded.outcome, kept.outcome,
            "advance {advance}, {max_steps} steps"
        );
        assert_eq!(folded.clock, kept.clock);
        assert_eq!(folded.workloads, kept.workloads);
        assert_eq!(folded_state, kept_state);
    }
}

/// A rollout's steps keep room for the actions they took, not for a cold
/// start's: a DaemonSet rolled over 30 nodes beside five Deployments, one
/// replica replaced per step.
#[test]
fn a_kept_step_holds_room_for_its_own_actions_only() {
    use crate::analysis::fixtures::{DAEMONSET, converged, deployment, desired};
    let fleet = |version: u32| {
        let mut text = String::new();
        for n in 0..30 {
            text += &format!(
                "apiVersion: v1\nkind: Node\nmetadata: {{name: n{n:02}}}\nstatus:\n  allocatable: {{cpu: \"8\", memory: 16Gi, pods: \"110\"}}\n---\n"
            );
        }
        for w in 0..5 {
            text += &deployment(&format!("w{w}"), 3, "100m", "");
        }
        text += &DAEMONSET.replace("example/agent:1", &format!("example/agent:{version}"));
        desired(&text)
    };
    let mut state = converged(&fleet(1));
    let result = run(
        &fleet(2),
        &mut state,
        &Scheduler::new(ScoringStrategy::LeastAllocated),
        &RunOptions::default(),
        |_, _| Ok::<(), ()>(()),
    )
    .expect("rolls");
    assert!(result.steps.len() >= 60, "{} steps", result.steps.len());
    for (i, step) in result.steps.iter().enumerate() {
        let (len, capacity) = (step.actions.len(), step.actions.capacity());
        assert!(
            capacity <= 2 * len + 16,
            "step {i}: {len} actions, room for {capacity}"
        );
    }
}
