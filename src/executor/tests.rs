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
