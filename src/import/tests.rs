//! The importer on small exports: nodes, DaemonSet revisions, pending pods.

use super::*;
use crate::model::state::Phase;

const LIST: &str = r#"
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Node
  metadata: {name: n1, creationTimestamp: "2026-11-01T00:00:00Z"}
  spec:
    unschedulable: true
    taints:
    - {key: node.kubernetes.io/unschedulable, effect: NoSchedule, timeAdded: "2026-11-01T01:00:00Z"}
    - {key: dedicated, value: db, effect: NoSchedule}
  status:
    capacity: {cpu: "4", memory: 16Gi, pods: "110", hugepages-2Mi: "0"}
    conditions:
    - {type: Ready, status: "True", reason: KubeletReady, lastTransitionTime: "2026-11-01T00:00:30Z"}
- apiVersion: v1
  kind: Node
  metadata: {name: n2, creationTimestamp: "2026-11-01T00:00:00Z"}
  status:
    allocatable: {cpu: 3500m, memory: 15Gi}
    conditions:
    - {type: Ready, status: Unknown, reason: NodeStatusUnknown, message: Kubelet stopped posting node status., lastTransitionTime: "2026-11-01T02:00:00Z"}
- apiVersion: apps/v1
  kind: DaemonSet
  metadata:
    name: agent
    namespace: ops
    annotations: {deprecated.daemonset.template.generation: "3"}
  spec:
    selector: {matchLabels: {app: agent}}
    template:
      metadata: {labels: {app: agent}}
      spec:
        containers: [{name: agent, image: agent:1}]
- apiVersion: v1
  kind: Pod
  metadata:
    name: agent-x1
    namespace: ops
    creationTimestamp: "2026-11-01T03:00:00Z"
    labels: {app: agent, controller-revision-hash: abc, pod-template-generation: "3"}
    ownerReferences: [{kind: DaemonSet, name: agent, controller: true}]
  spec:
    affinity:
      nodeAffinity:
        requiredDuringSchedulingIgnoredDuringExecution:
          nodeSelectorTerms:
          - matchFields: [{key: metadata.name, operator: In, values: [n1]}]
    containers: [{name: agent, image: agent:1}]
  status:
    phase: Pending
    conditions:
    - {type: PodScheduled, status: "False", reason: Unschedulable, message: "0/2 nodes are available: 2 Insufficient cpu."}
- apiVersion: v1
  kind: Pod
  metadata:
    name: agent-old
    namespace: ops
    creationTimestamp: "2026-11-01T00:10:00Z"
    labels: {app: agent, controller-revision-hash: old, pod-template-generation: "2"}
    ownerReferences: [{kind: DaemonSet, name: agent, controller: true}]
  spec:
    nodeName: n2
    containers: [{name: agent, image: agent:0}]
  status:
    phase: Running
    startTime: "2026-11-01T00:10:02Z"
    containerStatuses: [{name: agent, restartCount: 4}]
    conditions:
    - {type: Ready, status: "True", lastTransitionTime: "2026-11-01T00:10:05Z"}
"#;

fn imported() -> Imported {
    import(&[Source {
        name: "cluster.yaml".into(),
        text: LIST.into(),
    }])
    .unwrap_or_else(|e| panic!("{e:?}"))
}

#[test]
fn nodes_keep_cordons_readiness_and_their_own_taints() {
    let state = imported().state;
    let n1 = state.node("n1").unwrap();
    assert!(n1.cordoned && n1.unschedulable && n1.ready);
    assert_eq!(
        n1.taints,
        vec![crate::model::pod::Taint::new(
            "dedicated",
            "db",
            crate::model::pod::TaintEffect::NoSchedule
        )]
    );
    assert_eq!(n1.allocatable.resources.get("cpu"), 4000);
    assert!(!n1.allocatable.to_map().contains_key("hugepages-2Mi"));
    let n2 = state.node("n2").unwrap();
    assert!(!n2.ready);
    assert_eq!(n2.not_ready_since, Some(7200));
    assert_eq!(
        n2.conditions[0].status,
        crate::model::condition::ConditionStatus::Unknown
    );
    assert_eq!(state.clock, 3 * 3600);
}

#[test]
fn daemon_set_pods_map_by_template_generation() {
    let Imported {
        state, workloads, ..
    } = imported();
    let pending = state
        .replicas
        .iter()
        .find(|r| &*r.name == "agent-x1")
        .unwrap();
    assert_eq!(pending.phase, Phase::Pending);
    assert_eq!(pending.node, None);
    assert_eq!(pending.target_node.as_deref(), Some("n1"));
    assert_eq!(
        pending.reason.as_deref(),
        Some("0/2 nodes are available: 2 Insufficient cpu.")
    );
    assert_eq!(pending.revision, 3);
    let old = state
        .replicas
        .iter()
        .find(|r| &*r.name == "agent-old")
        .unwrap();
    assert_eq!(
        (old.revision, old.restarts, old.node.as_deref()),
        (2, 4, Some("n2"))
    );
    assert_eq!(
        (old.created_at, old.started_at, old.ready_at),
        (600, Some(602), Some(605))
    );
    assert_ne!(old.hash, pending.hash);
    let agent = state.workloads.iter().find(|w| w.name == "agent").unwrap();
    let numbers: Vec<u64> = agent.revisions.iter().map(|r| r.revision).collect();
    assert_eq!(numbers, vec![2, 3]);
    // The old revision's template is the pod's, without the controller's labels.
    assert_eq!(
        agent.revisions[0].template.value()["metadata"]["labels"],
        serde_json::json!({"app": "agent"})
    );
    assert!(!workloads[0].last_applied);
}
