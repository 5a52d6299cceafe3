//! A step-for-step differential test of DaemonSet rollouts.
//!
//! `upstream` is a plain model of Kubernetes 1.34's DaemonSet controller
//! written in the test from the Go (`daemon_controller.go` `manage` /
//! `podsShouldBeOnNode`, `update.go` `rollingUpdate`, `findUpdatedPodsOnNode`,
//! `updatedDesiredNodeCounts`; `util.SurgeCount`, `UnavailableCount`,
//! `AllowsSurge`), run as the upstream unit tests run it: `manage`, then
//! `rollingUpdate` on what `manage` left. Random rollouts (nodes 1–8,
//! maxSurge and maxUnavailable as integers and percents, minReadySeconds,
//! readiness delays, never-ready and crashing versions, templates changed
//! mid-rollout, OnDelete) run through orch's loop; before every step the
//! model decides on the same pods, and orch must delete exactly the pods it
//! names and create pods on exactly the nodes it names.

use orch::executor;
use orch::model::labels::{LabelSelector, Labels};
use orch::model::pod::{PodSpec, Simulate};
use orch::model::resources::{Allocatable, Resources};
use orch::model::state::{Phase, State};
use orch::model::workload::{
    Desired, IntOrPercent, Kind, NodeSpec, ObjectRef, Strategy as UpdateStrategy, Workload,
};
use orch::reconcile::{Action, is_available};
use orch::scheduler::{Scheduler, ScoringStrategy};
use proptest::prelude::*;
use serde_json::json;
use std::collections::BTreeMap;

mod upstream {
    use std::collections::BTreeMap;

    #[derive(Debug, Clone, Copy)]
    pub enum IntOrString {
        Int(i32),
        Percent(i32),
    }

    #[derive(Debug, Clone, Copy)]
    pub enum UpdateStrategy {
        RollingUpdate {
            max_surge: IntOrString,
            max_unavailable: IntOrString,
        },
        OnDelete,
    }

    #[derive(Debug, Clone)]
    pub struct Pod {
        pub name: String,
        pub hash: String,
        pub node_name: Option<String>,
        pub ready: bool,
        pub available: bool,
        pub created: u64,
    }

    pub struct DaemonSet {
        pub hash: String,
        pub strategy: UpdateStrategy,
    }

    /// `intstrutil.GetScaledValueFromIntOrPercent(v, total, roundUp=true)`.
    fn scaled(v: IntOrString, total: i32) -> i32 {
        match v {
            IntOrString::Int(n) => n,
            IntOrString::Percent(p) => (f64::from(p) * f64::from(total) / 100.0).ceil() as i32,
        }
    }

    /// `util.SurgeCount`.
    fn surge_count(ds: &DaemonSet, number_to_schedule: i32) -> i32 {
        match ds.strategy {
            UpdateStrategy::RollingUpdate { max_surge, .. } => {
                scaled(max_surge, number_to_schedule)
            }
            UpdateStrategy::OnDelete => 0,
        }
    }

    /// `util.UnavailableCount`.
    fn unavailable_count(ds: &DaemonSet, number_to_schedule: i32) -> i32 {
        match ds.strategy {
            UpdateStrategy::RollingUpdate {
                max_unavailable, ..
            } => scaled(max_unavailable, number_to_schedule),
            UpdateStrategy::OnDelete => 0,
        }
    }

    /// `podByCreationTimestampAndPhase`.
    fn by_creation_timestamp_and_phase(a: &Pod, b: &Pod) -> std::cmp::Ordering {
        b.node_name
            .is_some()
            .cmp(&a.node_name.is_some())
            .then(a.created.cmp(&b.created))
            .then(a.name.cmp(&b.name))
    }

    /// One sync on `nodes` (node name → its pods; every node wants a pod):
    /// (pods deleted, nodes given a pod).
    pub fn sync(ds: &DaemonSet, nodes: &BTreeMap<String, Vec<Pod>>) -> (Vec<String>, Vec<String>) {
        let mut nodes = nodes.clone();
        let (deleted, created) = manage(ds, &nodes);
        // The fake pod control: deleted pods vanish, created ones appear.
        for pods in nodes.values_mut() {
            pods.retain(|p| !deleted.contains(&p.name));
        }
        for node in &created {
            nodes.get_mut(node).unwrap().push(Pod {
                name: format!("created-on-{node}"),
                hash: ds.hash.clone(),
                node_name: None,
                ready: false,
                available: false,
                created: u64::MAX,
            });
        }
        let (mut more_deleted, more_created) = match ds.strategy {
            UpdateStrategy::RollingUpdate { .. } => rolling_update(ds, &nodes),
            UpdateStrategy::OnDelete => (Vec::new(), Vec::new()),
        };
        let mut all_deleted = deleted;
        all_deleted.append(&mut more_deleted);
        let mut all_created = created;
        all_created.extend(more_created);
        (all_deleted, all_created)
    }

    /// `manage` → `podsShouldBeOnNode` for nodes where the pod should run.
    fn manage(ds: &DaemonSet, nodes: &BTreeMap<String, Vec<Pod>>) -> (Vec<String>, Vec<String>) {
        let mut nodes_needing_daemon_pods = Vec::new();
        let mut pods_to_delete = Vec::new();
        let allows_surge = surge_count(ds, 1) > 0;
        for (node, daemon_pods) in nodes {
            if daemon_pods.is_empty() {
                nodes_needing_daemon_pods.push(node.clone());
                continue;
            }
            let mut daemon_pods_running = daemon_pods.clone();
            if !allows_surge {
                if daemon_pods_running.len() <= 1 {
                    continue;
                }
                daemon_pods_running.sort_by(by_creation_timestamp_and_phase);
                for pod in &daemon_pods_running[1..] {
                    pods_to_delete.push(pod.name.clone());
                }
                continue;
            }
            if daemon_pods_running.len() <= 1 {
                continue;
            }
            let mut oldest_new_pod: Option<&Pod> = None;
            let mut oldest_old_pod: Option<&Pod> = None;
            daemon_pods_running.sort_by(by_creation_timestamp_and_phase);
            for pod in &daemon_pods_running {
                if pod.hash == ds.hash {
                    if oldest_new_pod.is_none() {
                        oldest_new_pod = Some(pod);
                        continue;
                    }
                } else if oldest_old_pod.is_none() {
                    oldest_old_pod = Some(pod);
                    continue;
                }
                pods_to_delete.push(pod.name.clone());
            }
            if let (Some(new), Some(old)) = (oldest_new_pod, oldest_old_pod)
                && (!old.ready || new.available)
            {
                pods_to_delete.push(old.name.clone());
            }
        }
        (pods_to_delete, nodes_needing_daemon_pods)
    }

    /// `findUpdatedPodsOnNode`.
    fn find_updated_pods_on_node<'a>(
        ds: &DaemonSet,
        pods: &'a [Pod],
    ) -> Option<(Option<&'a Pod>, Option<&'a Pod>)> {
        let mut new_pod = None;
        let mut old_pod = None;
        for pod in pods {
            if pod.hash == ds.hash {
                if new_pod.is_some() {
                    return None;
                }
                new_pod = Some(pod);
            } else {
                if old_pod.is_some() {
                    return None;
                }
                old_pod = Some(pod);
            }
        }
        Some((new_pod, old_pod))
    }

    /// `rollingUpdate` (every node wants a pod, so none sunsets).
    fn rolling_update(
        ds: &DaemonSet,
        nodes: &BTreeMap<String, Vec<Pod>>,
    ) -> (Vec<String>, Vec<String>) {
        // updatedDesiredNodeCounts
        let desired_number_scheduled = nodes.len() as i32;
        let mut max_unavailable = unavailable_count(ds, desired_number_scheduled);
        let max_surge = surge_count(ds, desired_number_scheduled);
        if desired_number_scheduled > 0 && max_unavailable == 0 && max_surge == 0 {
            max_unavailable = 1;
        }
        if max_surge == 0 {
            let mut num_unavailable = 0;
            let mut allowed_replacement_pods = Vec::new();
            let mut candidate_pods_to_delete = Vec::new();
            for pods in nodes.values() {
                let Some((new_pod, old_pod)) = find_updated_pods_on_node(ds, pods) else {
                    num_unavailable += 1;
                    continue;
                };
                match (new_pod, old_pod) {
                    (None, None) | (Some(_), Some(_)) => num_unavailable += 1,
                    (Some(new_pod), None) => {
                        if !new_pod.available {
                            num_unavailable += 1;
                        }
                    }
                    (None, Some(old_pod)) => {
                        if !old_pod.available {
                            allowed_replacement_pods.push(old_pod.name.clone());
                            num_unavailable += 1;
                        } else if num_unavailable >= max_unavailable {
                            continue;
                        } else {
                            candidate_pods_to_delete.push(old_pod.name.clone());
                        }
                    }
                }
            }
            let remaining_unavailable = (max_unavailable - num_unavailable)
                .max(0)
                .min(candidate_pods_to_delete.len() as i32);
            let mut old_pods_to_delete = allowed_replacement_pods;
            old_pods_to_delete.extend(
                candidate_pods_to_delete
                    .into_iter()
                    .take(remaining_unavailable as usize),
            );
            return (old_pods_to_delete, Vec::new());
        }
        let mut old_pods_to_delete = Vec::new();
        let mut candidate_new_nodes = Vec::new();
        let mut allowed_new_nodes = Vec::new();
        let mut num_surge = 0;
        for (node, pods) in nodes {
            let Some((new_pod, old_pod)) = find_updated_pods_on_node(ds, pods) else {
                num_surge += 1;
                continue;
            };
            match (new_pod, old_pod) {
                (_, None) => {}
                (None, Some(old_pod)) => {
                    if !old_pod.available {
                        allowed_new_nodes.push(node.clone());
                    } else if num_surge >= max_surge {
                        continue;
                    } else {
                        candidate_new_nodes.push(node.clone());
                    }
                }
                (Some(new_pod), Some(old_pod)) => {
                    if !new_pod.available {
                        num_surge += 1;
                        continue;
                    }
                    old_pods_to_delete.push(old_pod.name.clone());
                }
            }
        }
        let remaining_surge = (max_surge - num_surge)
            .max(0)
            .min(candidate_new_nodes.len() as i32);
        let mut new_nodes_to_create = allowed_new_nodes;
        new_nodes_to_create.extend(
            candidate_new_nodes
                .into_iter()
                .take(remaining_surge as usize),
        );
        (old_pods_to_delete, new_nodes_to_create)
    }
}

fn node(name: &str) -> NodeSpec {
    let mut allocatable = Allocatable::default();
    allocatable.resources.milli_cpu = 8_000;
    allocatable.resources.memory = 16 << 30;
    NodeSpec {
        name: name.to_string(),
        labels: Labels::from([("kubernetes.io/hostname".to_string(), name.to_string())]),
        taints: Vec::new(),
        unschedulable: false,
        allocatable,
    }
}

#[derive(Debug, Clone, Copy)]
enum Health {
    ReadyAfter(u64),
    NeverReady,
    CrashAfter(u64),
}

#[derive(Debug, Clone, Copy)]
struct Spec {
    rolling: Option<(IntOrPercent, IntOrPercent)>,
    min_ready_seconds: u64,
    version: u32,
    health: Health,
}

fn daemonset(spec: &Spec) -> Workload {
    let labels = Labels::from([("app".to_string(), "agent".to_string())]);
    let template = json!({"metadata": {"labels": {"app": "agent"}}, "spec": {"containers": [{"name": "c", "image": format!("agent:{}", spec.version)}]}});
    let requests = Resources {
        milli_cpu: 10,
        memory: 16 << 20,
        ..Default::default()
    };
    let (ready_after, simulate) = match spec.health {
        Health::ReadyAfter(s) => (s, None),
        Health::NeverReady => (1, Some(Simulate::NeverReady)),
        Health::CrashAfter(s) => (1, Some(Simulate::CrashAfter(s))),
    };
    Workload {
        id: ObjectRef::new(Kind::DaemonSet, "default", "agent"),
        labels: labels.clone(),
        replicas: 0,
        selector: LabelSelector {
            match_labels: labels.clone(),
            match_expressions: Vec::new(),
        },
        template: template.clone().into(),
        template_hash: format!("hv{}", spec.version).into(),
        pod: PodSpec {
            namespace: "default".to_string(),
            labels,
            requests: requests.clone(),
            non_zero_requests: requests,
            ready_after,
            simulate,
            ..Default::default()
        },
        strategy: match spec.rolling {
            Some((max_surge, max_unavailable)) => UpdateStrategy::RollingUpdate {
                max_surge,
                max_unavailable,
            },
            None => UpdateStrategy::OnDelete,
        },
        min_ready_seconds: spec.min_ready_seconds,
        progress_deadline_seconds: 600,
        revision_history_limit: 10,
        paused: false,
        depends_on: Vec::new(),
        manifest: json!({"kind": "DaemonSet", "metadata": {"name": "agent"}, "spec": {"template": template, "v": format!("{spec:?}")}}).into(),
        source: None,
        stateful: None,
        job: None,
    }
}

fn model_daemonset(spec: &Spec) -> upstream::DaemonSet {
    let convert = |v: IntOrPercent| match v {
        IntOrPercent::Int(n) => upstream::IntOrString::Int(n),
        IntOrPercent::Percent(p) => upstream::IntOrString::Percent(p),
    };
    upstream::DaemonSet {
        hash: format!("hv{}", spec.version),
        strategy: match spec.rolling {
            Some((s, u)) => upstream::UpdateStrategy::RollingUpdate {
                max_surge: convert(s),
                max_unavailable: convert(u),
            },
            None => upstream::UpdateStrategy::OnDelete,
        },
    }
}

fn int_or_percent() -> impl Strategy<Value = IntOrPercent> {
    prop_oneof![
        (0i32..=3).prop_map(IntOrPercent::Int),
        prop::sample::select(vec![0, 10, 25, 50, 100]).prop_map(IntOrPercent::Percent),
    ]
}

fn rolling() -> impl Strategy<Value = Option<(IntOrPercent, IntOrPercent)>> {
    prop_oneof![
        5 => (int_or_percent(), int_or_percent()).prop_map(Some),
        1 => Just(None),
    ]
}

fn health() -> impl Strategy<Value = Health> {
    prop_oneof![
        5 => (1u64..=15).prop_map(Health::ReadyAfter),
        2 => Just(Health::NeverReady),
        1 => (5u64..=20).prop_map(Health::CrashAfter),
    ]
}

/// (nodes, first spec, changes: steps to wait, new health, new strategy).
type Scenario = (
    usize,
    Spec,
    Vec<(usize, Health, Option<(IntOrPercent, IntOrPercent)>, u64)>,
);

fn scenario() -> impl Strategy<Value = Scenario> {
    let first =
        (rolling(), 0u64..=5, health()).prop_map(|(rolling, min_ready_seconds, health)| Spec {
            rolling,
            min_ready_seconds,
            version: 1,
            health,
        });
    (
        1usize..=8,
        first,
        prop::collection::vec((0usize..8, health(), rolling(), 0u64..=5), 1..4),
    )
}

fn differential(scenario: &Scenario) -> Result<usize, String> {
    let (count, first, changes) = scenario;
    let scheduler = Scheduler::new(ScoringStrategy::LeastAllocated);
    let nodes: Vec<NodeSpec> = (1..=*count).map(|i| node(&format!("n{i}"))).collect();
    let mut spec = *first;
    let mut state = State::default();
    let mut changes = changes.iter().peekable();
    let mut waited = usize::MAX / 2;
    let mut first_change = true;
    let mut compared = 0;
    for _ in 0..300 {
        if let Some(&&(after, health, rolling, min_ready_seconds)) = changes.peek()
            && (waited >= after && !first_change || waited == usize::MAX)
        {
            changes.next();
            first_change = false;
            waited = 0;
            spec.version += 1;
            spec.health = health;
            spec.rolling = rolling;
            spec.min_ready_seconds = min_ready_seconds;
        }
        let desired = Desired {
            nodes: nodes.clone(),
            workloads: vec![daemonset(&spec)],
            ..Default::default()
        };
        let plan = orch::reconcile::reconcile(
            &desired,
            &state,
            state.clock,
            &scheduler,
            &Default::default(),
        );
        let mut pods: BTreeMap<String, Vec<upstream::Pod>> =
            nodes.iter().map(|n| (n.name.clone(), Vec::new())).collect();
        for replica in state
            .replicas
            .iter()
            .filter(|r| r.phase != Phase::Terminating)
        {
            let Some(node) = replica.node.as_deref().or(replica.target_node.as_deref()) else {
                continue;
            };
            pods.entry(node.to_string())
                .or_default()
                .push(upstream::Pod {
                    name: replica.name.to_string(),
                    hash: replica.hash.to_string(),
                    node_name: replica.node.as_deref().map(str::to_string),
                    ready: replica.ready,
                    available: is_available(replica, spec.min_ready_seconds, state.clock),
                    created: replica.created_at,
                });
        }
        let (mut deleted, mut created) = upstream::sync(&model_daemonset(&spec), &pods);
        deleted.sort();
        deleted.dedup();
        created.sort();
        let mut orch_deleted: Vec<String> = Vec::new();
        let mut orch_created: Vec<String> = Vec::new();
        for action in &plan.actions {
            match action {
                Action::Delete { replica, .. } => orch_deleted.push(replica.to_string()),
                Action::Create { target_node, .. } => {
                    orch_created.push(target_node.clone().unwrap_or_default())
                }
                _ => {}
            }
        }
        orch_deleted.sort();
        orch_created.sort();
        if (&orch_deleted, &orch_created) != (&deleted, &created) {
            return Err(format!(
                "t={} {spec:?}: orch deletes {orch_deleted:?} and creates on {orch_created:?}; Kubernetes deletes {deleted:?} and creates on {created:?}\n  pods {pods:?}",
                state.clock
            ));
        }
        if plan.actions.is_empty() {
            match plan.wake_at {
                Some(at) if changes.peek().is_none() || at <= state.clock + 60 => state.clock = at,
                _ if changes.peek().is_some() => {
                    waited = usize::MAX;
                    continue;
                }
                _ => return Ok(compared),
            }
            waited = waited.saturating_add(1);
            continue;
        }
        executor::execute(&mut state, &plan.actions);
        state.generation += 1;
        waited = waited.saturating_add(1);
        compared += 1;
    }
    Ok(compared)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("ORCH_ROLLOUT_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(1000)
    ))]

    /// Every step of random DaemonSet rollouts: orch deletes and creates
    /// exactly what the DaemonSet controller does.
    #[test]
    fn daemonset_rollouts_step_as_the_controller(scenario in scenario()) {
        let compared = differential(&scenario).map_err(TestCaseError::fail)?;
        prop_assert!(compared > 0);
    }
}
