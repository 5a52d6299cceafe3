//! The loop's pieces on real manifests: cluster-autoscaler's drainability
//! rules (`simulator/drain_test.go` and `simulator/drainability/rules/*`'s
//! cases: kube-system pods without a budget, local storage, the
//! safe-to-evict annotation both ways, pods without a controller, a budget
//! that allows no disruption), and what a pending pod is told.

use super::super::drain::{Budgets, pods_on};
use super::super::{Blocker, removable};
use super::*;
use crate::analysis::fixtures::{converged, desired};
use crate::scheduler::ScoringStrategy;

const N1: &str = "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n\
                  status: {allocatable: {cpu: \"4\", memory: 16Gi, pods: \"110\"}}\n";

fn scheduler() -> Scheduler {
    Scheduler::new(ScoringStrategy::LeastAllocated)
}

/// A Deployment of `replicas` pods asking for `cpu` each.
fn deployment(name: &str, replicas: u32, cpu: &str) -> String {
    format!(
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\nspec:\n  replicas: {replicas}\n  \
         selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    \
         spec: {{containers: [{{name: c, image: i, resources: {{requests: {{cpu: \"{cpu}\"}}}}}}]}}\n"
    )
}

/// A Deployment (or bare Pod) of one replica, with extra pod-template text.
fn workload(kind: &str, name: &str, namespace: &str, annotations: &str, volumes: &str) -> String {
    let pod = format!(
        "metadata: {{labels: {{app: {name}}}, annotations: {{{annotations}}}}}\n    spec:\n      \
         containers: [{{name: c, image: i, resources: {{requests: {{cpu: 500m}}}}}}]\n{volumes}"
    );
    match kind {
        "Pod" => format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {namespace}, labels: {{app: {name}}}, annotations: {{{annotations}}}}}\nspec:\n  containers: [{{name: c, image: i, resources: {{requests: {{cpu: 500m}}}}}}]\n{}",
            volumes.replace("      ", "  ")
        ),
        _ => format!(
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: {namespace}}}\nspec:\n  \
             replicas: 1\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    {pod}"
        ),
    }
}

const EMPTY_DIR: &str = "      volumes: [{name: scratch, emptyDir: {}}]\n";

/// Whether n1 could go, its pods moving to a roomy n2.
fn verdict(manifests: &str) -> Result<(), Blocker> {
    let desired = desired(&format!("{N1}{manifests}"));
    let state = converged(&desired);
    let catalog = Catalog::build(&desired, &state);
    let budgets = Budgets::new(&desired, &state, &catalog);
    let pods = pods_on("n1", &desired, &state, &catalog, &budgets);
    let mut n2 = state.nodes[0].clone();
    n2.name = "n2".into();
    let others = vec![n2];
    let snapshot_of = |nodes: &[NodeState]| occupied_snapshot_of(nodes, &state, &catalog, None);
    removable(&scheduler(), &others, &pods, &snapshot_of)
}

#[test]
fn drainability_rules_read_as_cluster_autoscalers() {
    let plain = workload("Deployment", "api", "default", "", "");
    assert_eq!(verdict(&plain), Ok(()));
    let system = workload("Deployment", "dns", "kube-system", "", "");
    assert_eq!(verdict(&system), Err(Blocker::SystemPod(name_of(&system))));
    let budget = "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: dns, namespace: kube-system}\nspec: {maxUnavailable: 1, selector: {matchLabels: {app: dns}}}\n";
    assert_eq!(verdict(&format!("{system}{budget}")), Ok(()));
    let local = workload("Deployment", "cache", "default", "", EMPTY_DIR);
    assert_eq!(verdict(&local), Err(Blocker::LocalStorage(name_of(&local))));
    let evictable = workload(
        "Deployment",
        "cache",
        "default",
        "cluster-autoscaler.kubernetes.io/safe-to-evict: \"true\"",
        EMPTY_DIR,
    );
    assert_eq!(verdict(&evictable), Ok(()));
    let kept = workload(
        "Deployment",
        "api",
        "default",
        "cluster-autoscaler.kubernetes.io/safe-to-evict: \"false\"",
        "",
    );
    assert_eq!(verdict(&kept), Err(Blocker::NotSafeToEvict(name_of(&kept))));
    let bare = workload("Pod", "debug", "default", "", "");
    assert_eq!(verdict(&bare), Err(Blocker::NotReplicated("debug".into())));
    let bare_evictable = workload(
        "Pod",
        "debug",
        "default",
        "cluster-autoscaler.kubernetes.io/safe-to-evict: \"true\"",
        "",
    );
    assert_eq!(verdict(&bare_evictable), Ok(()));
    let strict = "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: api}\nspec: {minAvailable: 1, selector: {matchLabels: {app: api}}}\n";
    assert_eq!(
        verdict(&format!("{plain}{strict}")),
        Err(Blocker::NotEnoughPdb(
            name_of(&plain),
            "PodDisruptionBudget/default/api".into()
        ))
    );
}

/// The name of the one replica a manifest makes (run again: names are deterministic).
fn name_of(manifests: &str) -> String {
    let desired = desired(&format!("{N1}{manifests}"));
    let state = converged(&desired);
    state.replicas[0].name.to_string()
}

const GROUPS: &str = "---\napiVersion: orch.dev/v1\nkind: NodeGroup\nmetadata: {name: general}\n\
                      spec:\n  maxSize: 2\n  provisionDelay: 2m\n  template:\n    \
                      status: {allocatable: {cpu: \"4\", memory: 16Gi, pods: \"110\"}}\n\
                      ---\napiVersion: orch.dev/v1\nkind: NodeGroup\nmetadata: {name: gpu}\n\
                      spec:\n  maxSize: 2\n  template:\n    spec: {taints: [{key: gpu, value: \"true\", effect: NoSchedule}]}\n    \
                      status: {allocatable: {cpu: \"8\", memory: 32Gi, pods: \"110\"}}\n";

/// The state of a run that stopped before any group acted: every replica
/// the scheduler could not place is pending with its reason.
fn pending_state(desired: &Desired) -> State {
    let mut plain = desired.clone();
    plain.node_groups.clear();
    converged(&plain)
}

/// `scale_up_test.go`'s shape: the group whose template takes the pod
/// would add a node after its own delay; the tainted group is not asked.
#[test]
fn a_pending_pod_is_told_which_group_would_add_a_node_and_when() {
    let big = deployment("api", 3, "3");
    let desired = desired(&format!("{N1}{GROUPS}{big}"));
    let state = pending_state(&desired);
    let catalog = Catalog::build(&desired, &state);
    let outlook = outlook(&desired, &state, &scheduler(), &catalog);
    assert_eq!(outlook.len(), 2);
    for said in outlook.values() {
        assert_eq!(
            *said,
            PendingOutlook::WouldScaleUp {
                group: "general".into(),
                delay: 120
            }
        );
    }
    let plan = sync(&desired, &state, &scheduler(), &catalog, true);
    // The groups never seen get their records, and the scale-up follows in
    // the same pass: one pod per 4-cpu member, two members.
    let ops: Vec<&str> = plan.actions.iter().map(Action::op).collect();
    assert_eq!(ops, ["node-group-status", "node-group-status", "scale-up"]);
    let Action::NodeGroup(decision) = &plan.actions[2] else {
        panic!("{:?}", plan.actions);
    };
    let GroupAction::ScaleUp {
        group,
        from,
        to,
        nodes,
        ready_at,
        pods,
        ..
    } = &**decision
    else {
        panic!("{:?}", plan.actions);
    };
    assert_eq!((group.as_str(), *from, *to), ("general", 0, 2));
    assert_eq!(nodes, &["general-0", "general-1"]);
    assert_eq!(*ready_at, state.clock + 120);
    assert_eq!(pods.len(), 2);
    assert_eq!(plan.wake_at, None);
}

#[test]
fn a_pod_too_big_for_every_template_gets_not_trigger_scale_up() {
    let huge = deployment("batch", 1, "16");
    let desired = desired(&format!("{N1}{GROUPS}{huge}"));
    let state = pending_state(&desired);
    let catalog = Catalog::build(&desired, &state);
    let outlook = outlook(&desired, &state, &scheduler(), &catalog);
    let said: Vec<&PendingOutlook> = outlook.values().collect();
    assert_eq!(
        said,
        [&PendingOutlook::NoScaleUp(
            "pod didn't trigger scale-up: 1 Insufficient cpu, 1 node(s) had untolerated taint {gpu: true}"
                .into()
        )]
    );
}

#[test]
fn grown_to_max_adds_the_missing_members_by_name() {
    let desired = desired(&format!("{N1}{GROUPS}"));
    let state = pending_state(&desired);
    let grown = grown_to_max(&desired, &state);
    let names: Vec<&str> = grown.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["general-0", "general-1", "gpu-0", "gpu-1", "n1"]);
    assert!(
        grown.nodes[0]
            .labels
            .get(GROUP_LABEL)
            .is_some_and(|g| g == "general")
    );
}

/// `scale_up_test.go`'s upcoming-nodes cases: a pod that a member already
/// on its way will take triggers no second scale-up; the pass waits for
/// the member instead, and the pod is told when it joins.
#[test]
fn a_pod_an_upcoming_member_takes_triggers_no_second_scale_up() {
    let two = deployment("api", 2, "3");
    let desired = desired(&format!("{N1}{GROUPS}{two}"));
    let mut state = pending_state(&desired);
    for group in &desired.node_groups {
        state.node_groups.push(NodeGroupState {
            next_member: 1,
            provisioning: if group.name == "general" {
                vec![Provisioning {
                    node: "general-0".into(),
                    ready_at: state.clock + 90,
                }]
            } else {
                Vec::new()
            },
            ..specified(group, &NodeGroupState::default())
        });
    }
    state.node_groups.sort_by(|a, b| a.name.cmp(&b.name));
    let catalog = Catalog::build(&desired, &state);
    let plan = sync(&desired, &state, &scheduler(), &catalog, true);
    assert!(plan.actions.is_empty(), "{:?}", plan.actions);
    assert_eq!(plan.wake_at, Some(state.clock + 90));
    let outlook = outlook(&desired, &state, &scheduler(), &catalog);
    assert_eq!(
        outlook.values().collect::<Vec<_>>(),
        [&PendingOutlook::Upcoming {
            node: "general-0".into(),
            ready_at: state.clock + 90
        }]
    );
}
