//! The pure core end to end, without files: desired state built in code,
//! the loop run to its outcome, the resulting state checked.

use orch::executor::{self, Outcome, RunOptions, RunResult};
use orch::model::condition::ConditionType;
use orch::model::labels::{LabelSelector, Labels};
use orch::model::pod::PodSpec;
use orch::model::resources::{Allocatable, Resources};
use orch::model::state::{Phase, State};
use orch::model::workload::{Desired, IntOrPercent, Kind, NodeSpec, ObjectRef, Strategy, Workload};
use orch::reconcile::Action;
use orch::scheduler::{Scheduler, ScoringStrategy};
use serde_json::json;

fn node(name: &str, milli_cpu: i64, memory_gi: i64) -> NodeSpec {
    let mut allocatable = Allocatable::default();
    allocatable.resources.milli_cpu = milli_cpu;
    allocatable.resources.memory = memory_gi << 30;
    NodeSpec {
        name: name.to_string(),
        labels: Labels::from([("kubernetes.io/hostname".to_string(), name.to_string())]),
        taints: Vec::new(),
        unschedulable: false,
        allocatable,
    }
}

fn deployment(name: &str, replicas: i32, milli_cpu: i64, version: &str) -> Workload {
    let labels = Labels::from([("app".to_string(), name.to_string())]);
    let template = json!({"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "c", "image": version}]}});
    let requests = Resources {
        milli_cpu,
        memory: 64 << 20,
        ..Default::default()
    };
    Workload {
        id: ObjectRef::new(Kind::Deployment, "default", name),
        labels: labels.clone(),
        replicas,
        selector: LabelSelector {
            match_labels: labels.clone(),
            match_expressions: Vec::new(),
        },
        template: template.clone().into(),
        template_hash: format!("h{}", version.replace(['.', ':'], "")).into(),
        pod: PodSpec {
            namespace: "default".to_string(),
            labels,
            requests: requests.clone(),
            non_zero_requests: requests,
            ready_after: 5,
            ..Default::default()
        },
        strategy: Strategy::RollingUpdate {
            max_surge: IntOrPercent::Percent(25),
            max_unavailable: IntOrPercent::Percent(25),
        },
        min_ready_seconds: 0,
        progress_deadline_seconds: 600,
        revision_history_limit: 10,
        paused: false,
        depends_on: Vec::new(),
        manifest: json!({"kind": "Deployment", "metadata": {"name": name}, "spec": {"replicas": replicas, "template": template}}).into(),
        source: None,
        stateful: None,
        job: None,
    }
}

fn fleet() -> Vec<NodeSpec> {
    vec![
        node("n1", 4000, 16),
        node("n2", 4000, 16),
        node("n3", 4000, 16),
    ]
}

fn run(desired: &Desired, state: &mut State) -> RunResult {
    let scheduler = Scheduler::new(ScoringStrategy::LeastAllocated);
    executor::run(
        desired,
        state,
        &scheduler,
        &RunOptions::default(),
        |_, _| Ok::<(), ()>(()),
    )
    .unwrap()
}

fn running<'a>(state: &'a State, name: &str) -> Vec<&'a orch::model::state::Replica> {
    state
        .replicas
        .iter()
        .filter(|r| &*r.workload.name == name && r.phase == Phase::Running && r.node.is_some())
        .collect()
}

#[test]
fn empty_cluster_converges_and_a_second_run_changes_nothing() {
    let desired = Desired {
        nodes: fleet(),
        workloads: vec![deployment("api", 4, 500, "v1")],
        ..Default::default()
    };
    let mut state = State::default();
    let result = run(&desired, &mut state);
    assert_eq!(result.outcome, Outcome::Converged);
    assert_eq!(state.nodes.len(), 3);
    let api = running(&state, "api");
    assert_eq!(api.len(), 4);
    assert!(api.iter().all(|r| r.ready));
    assert!(
        api.iter()
            .all(|r| r.name.starts_with("api-hv1-") && r.name.len() == "api-hv1-".len() + 5)
    );

    let before = state.clone();
    let again = run(&desired, &mut state);
    assert_eq!(again.outcome, Outcome::NoChanges);
    assert!(again.steps.is_empty());
    assert_eq!(state, before);
}

#[test]
fn same_inputs_give_the_same_plan_and_names() {
    let desired = Desired {
        nodes: fleet(),
        workloads: vec![deployment("api", 5, 500, "v1")],
        ..Default::default()
    };
    let (mut a, mut b) = (State::default(), State::default());
    let (ra, rb) = (run(&desired, &mut a), run(&desired, &mut b));
    assert_eq!(ra.steps, rb.steps);
    assert_eq!(a, b);
}

#[test]
fn scaling_up_and_down_keeps_existing_replicas_where_possible() {
    let mut desired = Desired {
        nodes: fleet(),
        workloads: vec![deployment("api", 2, 500, "v1")],
        ..Default::default()
    };
    let mut state = State::default();
    run(&desired, &mut state);
    let first: Vec<String> = running(&state, "api")
        .iter()
        .map(|r| r.name.to_string())
        .collect();
    desired.workloads[0] = deployment("api", 5, 500, "v1");
    assert_eq!(run(&desired, &mut state).outcome, Outcome::Converged);
    let grown: Vec<String> = running(&state, "api")
        .iter()
        .map(|r| r.name.to_string())
        .collect();
    assert_eq!(grown.len(), 5);
    assert!(
        first.iter().all(|n| grown.contains(n)),
        "scaling up must keep the existing replicas"
    );
    desired.workloads[0] = deployment("api", 1, 500, "v1");
    let result = run(&desired, &mut state);
    assert_eq!(result.outcome, Outcome::Converged);
    let deletes = result
        .steps
        .iter()
        .flat_map(|s| &s.actions)
        .filter(|a| matches!(a, Action::Delete { .. }))
        .count();
    assert_eq!(deletes, 4);
    assert_eq!(running(&state, "api").len(), 1);
    assert_eq!(state.replicas.len(), 1);
}

#[test]
fn no_node_is_ever_over_its_allocatable() {
    let desired = Desired {
        nodes: fleet(),
        workloads: vec![deployment("big", 10, 1500, "v1")],
        ..Default::default()
    };
    let mut state = State::default();
    let result = run(&desired, &mut state);
    // 3 nodes × 4 cpu fit two 1.5-cpu replicas each: 6 run, 4 stay pending.
    assert_eq!(result.outcome, Outcome::Blocked);
    assert_eq!(running(&state, "big").len(), 6);
    for node in &state.nodes {
        let used: i64 = state
            .replicas
            .iter()
            .filter(|r| r.node.as_deref() == Some(&node.name))
            .count() as i64
            * 1500;
        assert!(
            used <= node.allocatable.resources.milli_cpu,
            "{} over-committed",
            node.name
        );
    }
    let pending: Vec<_> = state.replicas.iter().filter(|r| r.node.is_none()).collect();
    assert_eq!(pending.len(), 4);
    assert!(pending.iter().all(|r| {
        r.reason
            .as_deref()
            .is_some_and(|m| m.starts_with("0/3 nodes are available"))
    }));
    let report = &result.workloads[0];
    assert!(report.blocked.is_some());
}

#[test]
fn a_new_template_rolls_out_within_surge_and_unavailability() {
    let mut desired = Desired {
        nodes: fleet(),
        workloads: vec![deployment("api", 4, 500, "v1")],
        ..Default::default()
    };
    let mut state = State::default();
    run(&desired, &mut state);
    desired.workloads[0] = deployment("api", 4, 500, "v2");
    let result = run(&desired, &mut state);
    assert_eq!(result.outcome, Outcome::Converged);
    // maxSurge 25% of 4 = 1 → at most 5 replicas; maxUnavailable 25% = 1 → at least 3 available.
    for step in &result.steps {
        let status = &step.status[0];
        assert!(
            status.current <= 5,
            "surge exceeded at t={}: {status:?}",
            step.time
        );
        assert!(
            status.available >= 3,
            "unavailability exceeded at t={}: {status:?}",
            step.time
        );
    }
    let api = running(&state, "api");
    assert_eq!(api.len(), 4);
    assert!(api.iter().all(|r| &*r.hash == "hv2" && r.revision == 2));
    assert!(
        result.steps.len() > 2,
        "a rolling update takes several steps"
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever the fleet and workloads: no node is ever over-committed,
        /// the loop ends, and a state it leaves converged plans nothing more;
        /// the run is the one that keeps no diagnosis from pass to pass.
        #[test]
        fn the_loop_never_overcommits_and_converged_states_are_fixed_points(
            nodes in prop::collection::vec((1i64..16, 1i64..32), 1..6),
            workloads in prop::collection::vec((0i32..12, 1i64..40), 1..5),
        ) {
            let desired = Desired {
                nodes: nodes.iter().enumerate().map(|(i, (cpu, mem))| node(&format!("n{i}"), cpu * 1000, *mem)).collect(),
                workloads: workloads.iter().enumerate().map(|(i, (replicas, cpu))| deployment(&format!("w{i}"), *replicas, cpu * 100, "v1")).collect(),
                ..Default::default()
            };
            let mut state = State::default();
            let result = run(&desired, &mut state);
            prop_assert!(result.outcome != Outcome::Timeout);
            // Diagnoses kept from pass to pass change nothing: every pending
            // replica diagnosed again at every pass gives the same run.
            let mut plain_state = State::default();
            let plain = executor::run(
                &desired,
                &mut plain_state,
                &Scheduler::new(ScoringStrategy::LeastAllocated),
                &RunOptions {
                    reconcile: orch::reconcile::Options {
                        plain_diagnoses: true,
                        ..Default::default()
                    },
                    ..RunOptions::default()
                },
                |_, _| Ok::<(), ()>(()),
            )
            .unwrap();
            prop_assert_eq!(&plain.steps, &result.steps);
            prop_assert_eq!(&plain_state, &state);
            for node in &state.nodes {
                let used: i64 = state
                    .replicas
                    .iter()
                    .filter(|r| r.node.as_deref() == Some(node.name.as_str()))
                    .map(|r| desired.workloads.iter().find(|w| w.id == r.workload).unwrap().pod.requests.milli_cpu)
                    .sum();
                prop_assert!(used <= node.allocatable.resources.milli_cpu);
            }
            for (workload, (replicas, _)) in desired.workloads.iter().zip(&workloads) {
                let count = state.replicas.iter().filter(|r| r.workload == workload.id).count();
                prop_assert_eq!(count as i32, *replicas);
            }
            if result.outcome == Outcome::Converged {
                let before = state.clone();
                let again = run(&desired, &mut state);
                prop_assert_eq!(again.outcome, Outcome::NoChanges);
                prop_assert_eq!(state, before);
            }
        }
    }
}

#[test]
fn a_dependent_starts_only_once_its_dependency_is_available() {
    let mut db = deployment("db", 1, 500, "v1");
    db.pod.ready_after = 20;
    let mut api = deployment("api", 2, 500, "v1");
    api.depends_on = vec![db.id.clone()];
    let desired = Desired {
        nodes: fleet(),
        workloads: vec![api, db],
        ..Default::default()
    };
    let mut state = State::default();
    let result = run(&desired, &mut state);
    assert_eq!(result.outcome, Outcome::Converged);
    let db_ready = running(&state, "db")[0].ready_at.unwrap();
    assert!(db_ready >= 20);
    for replica in running(&state, "api") {
        assert!(
            replica.created_at >= db_ready,
            "{} created at {} before db was available at {db_ready}",
            replica.name,
            replica.created_at
        );
    }
}

#[test]
fn a_dependent_of_a_blocked_workload_reports_what_it_waits_for() {
    let db = deployment("db", 1, 64_000, "v1");
    let mut api = deployment("api", 1, 500, "v1");
    api.depends_on = vec![db.id.clone()];
    let desired = Desired {
        nodes: fleet(),
        workloads: vec![api, db],
        ..Default::default()
    };
    let mut state = State::default();
    let result = run(&desired, &mut state);
    assert_eq!(result.outcome, Outcome::Blocked);
    assert!(running(&state, "api").is_empty());
    let api_report = result
        .workloads
        .iter()
        .find(|r| r.object == "Deployment/default/api")
        .unwrap();
    let blocked = api_report.blocked.as_ref().unwrap();
    assert_eq!(blocked.reason.as_str(), "WaitingForDependency");
    assert_eq!(
        blocked.message,
        "waiting for Deployment/default/db to be available"
    );
}

mod rollout_properties {
    use super::{Desired, IntOrPercent, Outcome, State, deployment, fleet, run, running};
    use orch::model::workload::Strategy;
    use proptest::prelude::{ProptestConfig, prop_assert, prop_assert_eq, prop_oneof, proptest};
    use proptest::strategy::Strategy as _;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// From a healthy state, every step of a template change keeps
        /// current ≤ replicas + maxSurge and available ≥ replicas − maxUnavailable,
        /// and the rollout converges when capacity allows.
        #[test]
        fn rolling_updates_stay_within_surge_and_unavailability(
            replicas in 1i32..12,
            surge in prop_oneof![(0i32..4).prop_map(IntOrPercent::Int), (0i32..101).prop_map(IntOrPercent::Percent)],
            unavailable in prop_oneof![(0i32..4).prop_map(IntOrPercent::Int), (0i32..101).prop_map(IntOrPercent::Percent)],
            ready_after in 1u64..60,
            min_ready in 0u64..20,
        ) {
            let strategy = Strategy::RollingUpdate { max_surge: surge, max_unavailable: unavailable };
            let shaped = |version: &str| {
                let mut w = deployment("api", replicas, 100, version);
                w.strategy = strategy.clone();
                w.pod.ready_after = ready_after;
                w.min_ready_seconds = min_ready;
                w
            };
            let mut desired = Desired { nodes: fleet(), workloads: vec![shaped("v1")], ..Default::default() };
            let mut state = State::default();
            prop_assert_eq!(run(&desired, &mut state).outcome, Outcome::Converged);
            desired.workloads[0] = shaped("v2");
            let max_surge = orch::rollout::max_surge(&strategy, replicas);
            let max_unavailable = orch::rollout::max_unavailable(&strategy, replicas);
            let result = run(&desired, &mut state);
            prop_assert_eq!(result.outcome, Outcome::Converged);
            for step in &result.steps {
                let status = &step.status[0];
                prop_assert!(status.current <= replicas + max_surge, "t={}: {:?}", step.time, status);
                prop_assert!(status.available >= replicas - max_unavailable, "t={}: {:?}", step.time, status);
            }
            let api = running(&state, "api");
            prop_assert_eq!(api.len() as i32, replicas);
            prop_assert!(api.iter().all(|r| &*r.hash == "hv2"));
        }
    }
}

/// `../shared/reference/k8s-cases/25-revision-history-limit.yaml`: the oldest
/// old revisions beyond the limit are forgotten.
#[test]
fn revision_history_is_limited() {
    let mut state = State::default();
    for version in ["v1", "v2", "v3", "v4", "v5"] {
        let mut web = deployment("web", 2, 100, version);
        web.revision_history_limit = 2;
        let desired = Desired {
            nodes: fleet(),
            workloads: vec![web],
            ..Default::default()
        };
        assert_eq!(run(&desired, &mut state).outcome, Outcome::Converged);
    }
    let mut kept: Vec<u64> = state.workloads[0]
        .revisions
        .iter()
        .map(|r| r.revision)
        .collect();
    kept.sort_unstable();
    assert_eq!(kept, [3, 4, 5]);
}

/// `../shared/reference/k8s-cases/23`: a DaemonSet with maxSurge 1 and
/// maxUnavailable 0 starts each new replica beside the old one and removes
/// the old one only once the new one is available.
#[test]
fn a_daemonset_surges_node_by_node() {
    let daemon = |version: &str| {
        let mut w = deployment("agent", 0, 100, version);
        w.id = ObjectRef::new(Kind::DaemonSet, "default", "agent");
        w.strategy = Strategy::RollingUpdate {
            max_surge: IntOrPercent::Int(1),
            max_unavailable: IntOrPercent::Int(0),
        };
        w.pod.ready_after = 5;
        w
    };
    let mut desired = Desired {
        nodes: fleet(),
        workloads: vec![daemon("v1")],
        ..Default::default()
    };
    let mut state = State::default();
    assert_eq!(run(&desired, &mut state).outcome, Outcome::Converged);
    assert_eq!(state.replicas.len(), 3);
    desired.workloads[0] = daemon("v2");
    let result = run(&desired, &mut state);
    assert_eq!(result.outcome, Outcome::Converged);
    for step in &result.steps {
        let status = &step.status[0];
        assert!(status.available >= 3, "t={}: {status:?}", step.time);
        assert!(status.current <= 4, "t={}: {status:?}", step.time);
    }
    assert!(state.replicas.iter().all(|r| &*r.hash == "hv2") && state.replicas.len() == 3);
    let nodes: std::collections::BTreeSet<_> = state
        .replicas
        .iter()
        .filter_map(|r| r.node.clone())
        .collect();
    assert_eq!(nodes.len(), 3, "one per node");
}

/// Scaling in the middle of a rollout spreads the change over the active
/// revisions (the Kubernetes documentation's example: 8 old + 5 new, scaled
/// from 10 to 15 with maxSurge 3, gives 3 more old and 2 more new).
#[test]
fn scaling_mid_rollout_is_proportional() {
    let shaped = |version: &str, replicas: i32| {
        let mut w = deployment("api", replicas, 10, version);
        w.strategy = Strategy::RollingUpdate {
            max_surge: IntOrPercent::Int(3),
            max_unavailable: IntOrPercent::Int(2),
        };
        if version == "v2" {
            w.pod.ready_after = 10_000;
        }
        w
    };
    let mut desired = Desired {
        nodes: fleet(),
        workloads: vec![shaped("v1", 10)],
        ..Default::default()
    };
    let mut state = State::default();
    run(&desired, &mut state);
    desired.workloads[0] = shaped("v2", 10);
    let scheduler = Scheduler::new(ScoringStrategy::LeastAllocated);
    let options = RunOptions {
        timeout: 60,
        ..RunOptions::default()
    };
    executor::run(&desired, &mut state, &scheduler, &options, |_, _| {
        Ok::<(), ()>(())
    })
    .unwrap();
    let count =
        |state: &State, hash: &str| state.replicas.iter().filter(|r| &*r.hash == hash).count();
    assert_eq!((count(&state, "hv1"), count(&state, "hv2")), (8, 5));
    desired.workloads[0] = shaped("v2", 15);
    let plan = orch::reconcile::reconcile(
        &desired,
        &state,
        state.clock,
        &scheduler,
        &Default::default(),
    );
    let created = |hash: &str| {
        plan.actions
            .iter()
            .filter(|a| matches!(a, Action::Create { hash: h, .. } if &**h == hash))
            .count()
    };
    assert_eq!((created("hv1"), created("hv2")), (3, 2));
}

/// A second template change while a rollout is in progress: both older
/// revisions are scaled down and the newest converges.
#[test]
fn a_second_template_change_mid_rollout_converges_on_the_newest() {
    let mut desired = Desired {
        nodes: fleet(),
        workloads: vec![deployment("api", 6, 100, "v1")],
        ..Default::default()
    };
    let mut state = State::default();
    run(&desired, &mut state);
    desired.workloads[0] = deployment("api", 6, 100, "v2");
    let scheduler = Scheduler::new(ScoringStrategy::LeastAllocated);
    let options = RunOptions {
        timeout: 2,
        ..RunOptions::default()
    };
    executor::run(&desired, &mut state, &scheduler, &options, |_, _| {
        Ok::<(), ()>(())
    })
    .unwrap();
    let hashes: std::collections::BTreeSet<&str> =
        state.replicas.iter().map(|r| &*r.hash).collect();
    assert_eq!(hashes.len(), 2, "mid-rollout: {hashes:?}");
    desired.workloads[0] = deployment("api", 6, 100, "v3");
    let result = run(&desired, &mut state);
    assert_eq!(result.outcome, Outcome::Converged);
    for step in &result.steps {
        // 6 replicas, 25%/25%: surge 2, unavailable 1.
        assert!(
            step.status[0].current <= 8 && step.status[0].available >= 5,
            "{:?}",
            step.status[0]
        );
    }
    assert!(running(&state, "api").iter().all(|r| &*r.hash == "hv3"));
    assert_eq!(state.workloads[0].current_revision().unwrap().revision, 3);
}

/// `../shared/reference/k8s-cases/08-progress-deadline-minready.yaml`: a new
/// version that never becomes ready times out at the first sync strictly after
/// lastUpdateTime + progressDeadlineSeconds; Available stays True (2 ≥ 2 − 0).
#[test]
fn the_progress_deadline_is_exceeded_strictly_after_it_passes() {
    let web = |version: &str| {
        let mut w = deployment("web", 2, 100, version);
        w.progress_deadline_seconds = 60;
        w.min_ready_seconds = 10;
        w.pod.ready_after = 5;
        if version == "broken" {
            w.pod.simulate = Some(orch::model::pod::Simulate::NeverReady);
        }
        w
    };
    let mut desired = Desired {
        nodes: fleet(),
        workloads: vec![web("v1")],
        ..Default::default()
    };
    let mut state = State::default();
    run(&desired, &mut state);
    let start = state.clock;
    desired.workloads[0] = web("broken");
    let result = run(&desired, &mut state);
    assert_eq!(result.outcome, Outcome::Blocked);
    let count = |hash: &str| state.replicas.iter().filter(|r| &*r.hash == hash).count();
    // Fenceposts for 2 replicas at 25%/25%: surge 1, unavailable 0 → (old, new) = (2, 1).
    assert_eq!((count("hv1"), count("hbroken")), (2, 1));
    assert_eq!(state.clock, start + 61);
    let status = &state.workloads[0].status;
    let progressing = status.condition(ConditionType::Progressing).unwrap();
    assert_eq!(
        (
            progressing.status.as_str(),
            progressing.reason.as_ref().unwrap().as_str()
        ),
        ("False", "ProgressDeadlineExceeded")
    );
    assert_eq!(
        progressing.message,
        "ReplicaSet \"web-hbroken\" has timed out progressing."
    );
    let available = status.condition(ConditionType::Available).unwrap();
    assert_eq!(
        (
            available.status.as_str(),
            available.reason.as_ref().unwrap().as_str()
        ),
        ("True", "MinimumReplicasAvailable")
    );
}

#[test]
fn availability_after_min_ready_seconds_is_strict() {
    use orch::model::state::{Phase, Replica};
    use orch::reconcile::is_available;
    let replica = Replica {
        name: "r".into(),
        workload: ObjectRef::new(Kind::Deployment, "default", "web"),
        revision: 1,
        hash: "h".into(),
        node: Some("n1".into()),
        target_node: None,
        phase: Phase::Running,
        ready: true,
        created_at: 0,
        started_at: Some(0),
        ready_at: Some(5),
        restarts: 0,
        reason: None,
        unmanaged: None,
        finished_at: None,
    };
    assert!(!is_available(&replica, 10, 15));
    assert!(is_available(&replica, 10, 16));
    assert!(is_available(&replica, 0, 5));
}

fn daemon(version: &str, strategy: Strategy) -> Workload {
    let mut w = deployment("agent", 0, 100, version);
    w.id = ObjectRef::new(Kind::DaemonSet, "default", "agent");
    w.strategy = strategy;
    w
}

fn taint(key: &str, value: &str, effect: orch::model::pod::TaintEffect) -> orch::model::pod::Taint {
    orch::model::pod::Taint::new(key, value, effect)
}

/// `../shared/reference/k8s-cases/23-daemonset-targets-and-rolling-update.yaml`:
/// default tolerations cover cordoned and disk-pressure nodes but not the
/// control plane; a replica stays on a node newly tainted NoSchedule and
/// leaves one newly tainted NoExecute.
#[test]
fn daemonset_targets_follow_kubernetes_rules() {
    use orch::model::pod::TaintEffect::{NoExecute, NoSchedule};
    let strategy = Strategy::RollingUpdate {
        max_surge: IntOrPercent::Int(0),
        max_unavailable: IntOrPercent::Int(1),
    };
    let mut nodes: Vec<NodeSpec> = ["cp", "w1", "w2", "w3", "w4", "w5"]
        .iter()
        .map(|n| node(n, 4000, 8))
        .collect();
    nodes[0].taints.push(taint(
        "node-role.kubernetes.io/control-plane",
        "",
        NoSchedule,
    ));
    nodes[2].unschedulable = true;
    nodes[4]
        .taints
        .push(taint("node.kubernetes.io/disk-pressure", "", NoSchedule));
    let mut desired = Desired {
        nodes: nodes.clone(),
        workloads: vec![daemon("v1", strategy.clone())],
        ..Default::default()
    };
    let mut state = State::default();
    assert_eq!(run(&desired, &mut state).outcome, Outcome::Converged);
    let on = |state: &State| -> Vec<String> {
        let mut n: Vec<String> = state
            .replicas
            .iter()
            .filter_map(|r| r.node.as_deref().map(str::to_string))
            .collect();
        n.sort();
        n
    };
    assert_eq!(on(&state), ["w1", "w2", "w3", "w4", "w5"]);
    desired.nodes[3]
        .taints
        .push(taint("dedicated", "gpu", NoSchedule));
    desired.nodes[5]
        .taints
        .push(taint("dedicated", "gpu", NoExecute));
    let result = run(&desired, &mut state);
    assert_eq!(result.outcome, Outcome::Converged);
    assert_eq!(
        on(&state),
        ["w1", "w2", "w3", "w4"],
        "w3 keeps its replica, w5 loses it"
    );
    assert_eq!(result.workloads[0].desired, 3);
}

/// OnDelete: a new template replaces nothing until a replica is deleted.
#[test]
fn on_delete_replaces_only_deleted_replicas() {
    let mut desired = Desired {
        nodes: fleet(),
        workloads: vec![daemon("v1", Strategy::OnDelete)],
        ..Default::default()
    };
    let mut state = State::default();
    run(&desired, &mut state);
    desired.workloads[0] = daemon("v2", Strategy::OnDelete);
    assert_eq!(run(&desired, &mut state).outcome, Outcome::Converged);
    assert!(
        state.replicas.iter().all(|r| &*r.hash == "hv1"),
        "OnDelete replaces nothing by itself"
    );
    let gone = state.replicas.remove(0);
    run(&desired, &mut state);
    let replaced: Vec<_> = state
        .replicas
        .iter()
        .filter(|r| r.node == gone.node)
        .collect();
    assert_eq!(replaced.len(), 1);
    assert_eq!(&*replaced[0].hash, "hv2");
    assert_eq!(
        state.replicas.iter().filter(|r| &*r.hash == "hv1").count(),
        2
    );
}
