//! Cases from kube-scheduler's own tests and documentation
//! (`../shared/reference/k8s-cases/09..13, 20, 21`), on fixtures built like
//! Kubernetes' `MakeNode()`/`MakePod()` wrappers.

use super::snapshot::Snapshot;
use super::*;
use crate::model::labels::Labels;
use crate::model::pod::{Taint, TaintEffect};
use crate::model::resources::{Allocatable, parse_amount};
use crate::model::state::{NodeSource, NodeState};

struct NodeBuilder(NodeState);

fn node(name: &str) -> NodeBuilder {
    NodeBuilder(NodeState {
        name: name.to_string(),
        labels: Labels::new(),
        allocatable: Allocatable::default(),
        taints: Vec::new(),
        unschedulable: false,
        cordoned: false,
        draining: false,
        removing: false,
        not_ready_since: None,
        ready: true,
        conditions: Vec::new(),
        source: NodeSource::Manifest,
    })
}

impl NodeBuilder {
    fn res(mut self, name: &str, amount: &str) -> Self {
        let value = parse_amount(name, amount).unwrap();
        if name == "pods" {
            self.0.allocatable.pods = value;
        } else {
            self.0.allocatable.resources.set(name, value);
        }
        self
    }
    fn cpu(self, amount: &str) -> Self {
        self.res("cpu", amount)
    }
    fn mem(self, amount: &str) -> Self {
        self.res("memory", amount)
    }
    fn label(mut self, key: &str, value: &str) -> Self {
        self.0.labels.insert(key.into(), value.into());
        self
    }
    fn taint(mut self, key: &str, value: &str, effect: TaintEffect) -> Self {
        self.0.taints.push(Taint::new(key, value, effect));
        self
    }
    fn unschedulable(mut self) -> Self {
        self.0.unschedulable = true;
        self
    }
    fn not_ready(mut self) -> Self {
        self.0.ready = false;
        self
    }
}

/// A pod from a YAML pod template, through the manifest reader.
fn pod(yaml: &str) -> PodSpec {
    let template: serde_json::Value = serde_saphyr::from_str(yaml).unwrap();
    crate::manifest::pod_spec_from_template("default", &template).unwrap()
}

fn requesting(cpu: &str, memory: &str) -> PodSpec {
    pod(&format!(
        "spec:\n  containers:\n    - name: c\n      resources:\n        requests: {{cpu: \"{cpu}\", memory: \"{memory}\"}}\n"
    ))
}

fn snapshot(nodes: Vec<NodeBuilder>) -> Snapshot {
    let nodes: Vec<NodeState> = nodes.into_iter().map(|b| b.0).collect();
    Snapshot::new(&nodes)
}

fn scheduler() -> Scheduler {
    Scheduler::new(ScoringStrategy::LeastAllocated)
}

fn chosen(pod: &PodSpec, snapshot: &Snapshot) -> String {
    let placement = scheduler()
        .schedule(pod, snapshot)
        .unwrap_or_else(|e| panic!("{e}"));
    snapshot.nodes[placement.node].name.to_string()
}

fn message(pod: &PodSpec, snapshot: &Snapshot) -> String {
    scheduler().schedule(pod, snapshot).unwrap_err().to_string()
}

#[test]
fn fit_uses_the_init_container_max_rule() {
    let p = pod("spec:
  initContainers:
    - {name: ic1, resources: {requests: {cpu: '2', memory: 1Gi}}}
    - {name: ic2, resources: {requests: {cpu: '2', memory: 3Gi}}}
  containers:
    - {name: c1, resources: {requests: {cpu: '2', memory: 1Gi}}}
    - {name: c2, resources: {requests: {cpu: '1', memory: 1Gi}}}
");
    assert_eq!((p.requests.milli_cpu, p.requests.memory), (3000, 3 << 30));
    let hog = requesting("6", "1Gi");
    let nodes = || {
        vec![
            node("node-a").cpu("3").mem("3Gi"),
            node("node-b").cpu("4").mem("2560Mi"),
            node("node-c").cpu("2500m").mem("8Gi"),
            node("node-d").cpu("8").mem("8Gi"),
        ]
    };
    let mut all = snapshot(nodes());
    all.assume(3, &hog);
    assert_eq!(chosen(&p, &all), "node-a");
    let mut without_a = snapshot(nodes().into_iter().skip(1).collect());
    without_a.assume(2, &hog);
    assert_eq!(
        message(&p, &without_a),
        "0/3 nodes are available: 1 Insufficient memory, 2 Insufficient cpu."
    );
}

#[test]
fn extended_resources_fit_like_cpu() {
    let gpu = pod(
        "spec:\n  containers:\n    - name: c\n      resources:\n        requests: {cpu: '1', memory: 1Gi}\n        limits: {nvidia.com/gpu: 1}\n",
    );
    assert_eq!(
        gpu.requests.get("nvidia.com/gpu"),
        1,
        "a limit without a request defaults the request"
    );
    let nodes = || {
        vec![
            node("cpu-1").cpu("8").mem("16Gi"),
            node("gpu-1")
                .cpu("8")
                .mem("16Gi")
                .res("nvidia.com/gpu", "1"),
            node("gpu-2")
                .cpu("8")
                .mem("16Gi")
                .res("nvidia.com/gpu", "2"),
        ]
    };
    let mut s = snapshot(nodes());
    s.assume(1, &gpu);
    assert_eq!(chosen(&gpu, &s), "gpu-2");
    let three = pod(
        "spec:\n  containers:\n    - name: c\n      resources:\n        limits: {nvidia.com/gpu: 3}\n",
    );
    assert_eq!(
        message(&three, &snapshot(nodes())),
        "0/3 nodes are available: 3 Insufficient nvidia.com/gpu."
    );
}

#[test]
fn too_many_pods_is_checked_first_and_always() {
    let mut s = snapshot(vec![node("n1").cpu("1").mem("1Gi").res("pods", "1")]);
    let p = requesting("2", "64Mi");
    s.assume(0, &requesting("100m", "1Mi"));
    assert_eq!(
        message(&p, &s),
        "0/1 nodes are available: 1 Insufficient cpu, 1 Too many pods."
    );
    let nothing = pod("spec:\n  containers: [{name: c}]\n");
    assert_eq!(
        message(&nothing, &s),
        "0/1 nodes are available: 1 Too many pods."
    );
}

fn taint_nodes() -> Vec<NodeBuilder> {
    vec![
        node("n1")
            .cpu("4")
            .mem("8Gi")
            .taint("dedicated", "gpu", TaintEffect::NoSchedule)
            .taint("dedicated", "gpu", TaintEffect::NoExecute),
        node("n2")
            .cpu("4")
            .mem("8Gi")
            .taint("dedicated", "db", TaintEffect::NoSchedule),
        node("n3")
            .cpu("4")
            .mem("8Gi")
            .taint("maintenance", "", TaintEffect::NoExecute),
        node("n4")
            .cpu("4")
            .mem("8Gi")
            .taint("soft", "", TaintEffect::PreferNoSchedule),
    ]
}

fn feasible(pod: &PodSpec, snapshot: &Snapshot) -> Vec<String> {
    scheduler()
        .evaluate(pod, snapshot)
        .nodes
        .into_iter()
        .filter(|v| v.total.is_some())
        .map(|v| v.node)
        .collect()
}

#[test]
fn toleration_matching_as_kubernetes() {
    let s = snapshot(taint_nodes());
    let a = pod(
        "spec:\n  tolerations: [{key: dedicated, operator: Equal, value: gpu}]\n  containers: [{name: c}]\n",
    );
    assert_eq!(feasible(&a, &s), ["n1", "n4"]);
    assert_eq!(chosen(&a, &s), "n1", "PreferNoSchedule lowers n4's score");
    let b = pod(
        "spec:\n  tolerations: [{key: dedicated, operator: Exists, effect: NoSchedule}]\n  containers: [{name: c}]\n",
    );
    assert_eq!(feasible(&b, &s), ["n2", "n4"]);
    let c = pod("spec:\n  tolerations: [{operator: Exists}]\n  containers: [{name: c}]\n");
    assert_eq!(feasible(&c, &s), ["n1", "n2", "n3", "n4"]);
    let d = pod("spec:\n  containers: [{name: c}]\n");
    assert_eq!(feasible(&d, &s), ["n4"]);
    let without_n4 = snapshot(taint_nodes().into_iter().take(3).collect());
    assert_eq!(
        message(&d, &without_n4),
        "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: db}, 1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) had untolerated taint {maintenance: }."
    );
}

#[test]
fn only_the_first_failing_filter_is_reported() {
    let mut s = snapshot(vec![
        node("n1").label("disk", "ssd").cpu("1").mem("1Gi").taint(
            "dedicated",
            "infra",
            TaintEffect::NoSchedule,
        ),
        node("n2").label("disk", "hdd").cpu("1").mem("1Gi"),
        node("n3").label("disk", "ssd").cpu("4").mem("4Gi"),
    ]);
    s.assume(2, &requesting("3", "3Gi"));
    let p = pod(
        "spec:\n  nodeSelector: {disk: ssd}\n  containers: [{name: c, resources: {requests: {cpu: '2', memory: 2Gi}}}]\n",
    );
    assert_eq!(
        message(&p, &s),
        "0/3 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {dedicated: infra}."
    );
}

#[test]
fn unschedulable_and_not_ready_nodes() {
    let s = snapshot(vec![
        node("a").cpu("4").mem("4Gi").unschedulable(),
        node("b").cpu("1").mem("4Gi"),
        node("c").cpu("1").mem("4Gi"),
        node("d").cpu("4").mem("4Gi").not_ready(),
    ]);
    let p = requesting("2", "1Gi");
    assert_eq!(
        message(&p, &s),
        "0/4 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) were unschedulable, 2 Insufficient cpu."
    );
    let tolerant = pod(
        "spec:\n  tolerations: [{key: node.kubernetes.io/unschedulable, operator: Exists, effect: NoSchedule}]\n  containers: [{name: c, resources: {requests: {cpu: '2'}}}]\n",
    );
    assert_eq!(chosen(&tolerant, &s), "a");
}

#[test]
fn node_name_pins_a_replica() {
    let s = snapshot(vec![
        node("a").cpu("4").mem("4Gi"),
        node("b").cpu("4").mem("4Gi"),
    ]);
    let p = pod("spec:\n  nodeName: b\n  containers: [{name: c}]\n");
    assert_eq!(chosen(&p, &s), "b");
    let gone = pod("spec:\n  nodeName: z\n  containers: [{name: c}]\n");
    assert_eq!(
        message(&gone, &s),
        "0/2 nodes are available: 2 node(s) didn't match the requested node name."
    );
}

#[test]
fn node_affinity_operators() {
    let s = snapshot(vec![
        node("small")
            .label("gen", "3")
            .label("zone", "a")
            .cpu("4")
            .mem("4Gi"),
        node("big")
            .label("gen", "5")
            .label("zone", "b")
            .cpu("4")
            .mem("4Gi"),
        node("bare").cpu("4").mem("4Gi"),
    ]);
    let affinity = |expression: &str| {
        pod(&format!(
            "spec:\n  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n        nodeSelectorTerms:\n          - matchExpressions: [{expression}]\n  containers: [{{name: c}}]\n"
        ))
    };
    assert_eq!(
        feasible(&affinity("{key: gen, operator: Gt, values: ['4']}"), &s),
        ["big"]
    );
    assert_eq!(
        feasible(&affinity("{key: gen, operator: Lt, values: ['4']}"), &s),
        ["small"]
    );
    assert_eq!(
        feasible(&affinity("{key: zone, operator: NotIn, values: [a]}"), &s),
        ["big", "bare"]
    );
    assert_eq!(
        feasible(&affinity("{key: zone, operator: DoesNotExist}"), &s),
        ["bare"]
    );
    assert_eq!(
        feasible(&affinity("{key: zone, operator: Exists}"), &s),
        ["small", "big"]
    );
}

#[test]
fn least_allocated_and_balanced_scores_match_kubernetes_tables() {
    use plugins::{balanced_allocation::balanced_score, node_resources_fit::resource_score};
    let s = snapshot(vec![
        node("node1").cpu("4000m").mem("10000"),
        node("node2").cpu("6000m").mem("10000"),
    ]);
    let p = requesting("3000m", "5000");
    let fit: Vec<i64> = s
        .nodes
        .iter()
        .map(|n| {
            resource_score(
                ScoringStrategy::LeastAllocated,
                &n.non_zero_requested,
                &p.non_zero_requests,
                &n.allocatable.resources,
            )
        })
        .collect();
    assert_eq!(fit, [37, 50]);
    let balanced: Vec<i64> = s
        .nodes
        .iter()
        .map(|n| balanced_score(&n.requested, &p.requests, &n.allocatable.resources))
        .collect();
    assert_eq!(balanced, [87, 100]);
    assert_eq!(chosen(&p, &s), "node2");
    // 50 + 100 from resources, plus TaintToleration's 100 × 3 on an untainted node.
    assert_eq!(scheduler().schedule(&p, &s).unwrap().score, 450);
}

#[test]
fn pods_without_requests_are_scored_with_the_defaults() {
    use plugins::node_resources_fit::resource_score;
    let s = snapshot(vec![
        node("a").cpu("1").mem("1Gi"),
        node("b").cpu("2").mem("1Gi"),
    ]);
    let p = pod("spec:\n  containers: [{name: c}]\n");
    let fit: Vec<i64> = s
        .nodes
        .iter()
        .map(|n| {
            resource_score(
                ScoringStrategy::LeastAllocated,
                &n.non_zero_requested,
                &p.non_zero_requests,
                &n.allocatable.resources,
            )
        })
        .collect();
    assert_eq!(fit, [85, 87]);
    assert_eq!(chosen(&p, &s), "b");
}

#[test]
fn preferred_node_affinity_weights() {
    let s = snapshot(vec![
        node("x")
            .label("zone", "a")
            .label("disk", "hdd")
            .cpu("4")
            .mem("8Gi"),
        node("y")
            .label("zone", "b")
            .label("disk", "ssd")
            .cpu("4")
            .mem("8Gi"),
        node("z")
            .label("zone", "a")
            .label("disk", "ssd")
            .cpu("4")
            .mem("8Gi"),
    ]);
    let p = pod("spec:
  affinity:
    nodeAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
        - {weight: 80, preference: {matchExpressions: [{key: zone, operator: In, values: [a]}]}}
        - {weight: 20, preference: {matchExpressions: [{key: disk, operator: In, values: [ssd]}]}}
  containers: [{name: c}]
");
    let evaluation = scheduler().evaluate(&p, &s);
    let affinity: Vec<i64> = evaluation
        .nodes
        .iter()
        .map(|v| {
            v.scores
                .iter()
                .find(|(name, _)| *name == "NodeAffinity")
                .unwrap()
                .1
        })
        .collect();
    assert_eq!(affinity, [160, 40, 200]);
    assert_eq!(chosen(&p, &s), "z");
}

#[test]
fn ties_go_to_the_lowest_name_and_most_allocated_packs() {
    let s = snapshot(vec![
        node("b").cpu("4").mem("4Gi"),
        node("a").cpu("4").mem("4Gi"),
        node("c").cpu("4").mem("4Gi"),
    ]);
    let p = requesting("1", "1Gi");
    assert_eq!(chosen(&p, &s), "a");
    let mut packed = s.clone();
    packed.assume(2, &p);
    assert_eq!(
        chosen(&p, &packed),
        "a",
        "least allocated avoids the used node"
    );
    let most = Scheduler::new(ScoringStrategy::MostAllocated);
    assert_eq!(
        &*packed.nodes[most.schedule(&p, &packed).unwrap().node].name,
        "c",
        "most allocated fills it"
    );
}

#[test]
fn assume_and_forget_are_inverse() {
    let mut s = snapshot(vec![node("a").cpu("4").mem("4Gi")]);
    let before = s.clone();
    let p = requesting("1", "1Gi");
    s.assume(0, &p);
    assert_eq!((s.nodes[0].requested.milli_cpu, s.nodes[0].pods), (1000, 1));
    assert_eq!(s.groups[0].per_node.get(&0), Some(&1));
    s.forget(0, &p);
    assert_eq!(s.nodes, before.nodes);
    assert!(
        s.groups
            .iter()
            .all(|g| g.total == 0 && g.per_node.is_empty())
    );
}

#[test]
fn an_empty_fleet_has_no_nodes_available() {
    assert_eq!(
        message(&requesting("1", "1Gi"), &snapshot(Vec::new())),
        "no nodes available to schedule pods"
    );
}

#[test]
fn copies_assumed_at_once_are_copies_assumed_one_by_one() {
    let nodes = || {
        (0..6).map(|i| {
            node(&format!("n{i}"))
                .cpu("8")
                .mem("8Gi")
                .res("pods", "110")
        })
    };
    let web = requesting("100m", "64Mi");
    let mut one_by_one = snapshot(nodes().collect());
    // Replicas already on n1 and n4, kept in the group's map.
    for n in [1, 4, 4] {
        one_by_one.assume(n, &web);
    }
    let before = one_by_one.clone();
    let mut at_once = before.clone();
    let copies = [2, 0, 1, 3, 1, 0];
    for (n, &k) in copies.iter().enumerate() {
        for _ in 0..k {
            one_by_one.assume(n, &web);
        }
    }
    let group = at_once.group_of(&web);
    at_once.assume_copies(&web, group, &copies);
    assert_eq!(at_once, one_by_one);
    assert_eq!(at_once.groups[group].per_node.len(), 5);
    at_once.forget_copies(&web, group, &copies);
    assert_eq!(at_once, before);
}

#[test]
fn domains_number_each_value_of_a_key_and_skip_nodes_without_it() {
    let s = snapshot(vec![
        node("a1").label("zone", "a"),
        node("b1").label("zone", "b"),
        node("none"),
        node("a2").label("zone", "a"),
    ]);
    let zones = s.domains("zone");
    assert_eq!(zones.len(), 2);
    assert_eq!(zones.of(0), zones.of(3));
    assert_ne!(zones.of(0), zones.of(1));
    assert_eq!(zones.of(2), None);
    assert!(s.domains("rack").is_empty());
}

mod oracle_cases;
