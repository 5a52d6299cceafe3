//! The three differences the real kube-scheduler's answers
//! (`tests/scheduler-oracle/`) found, each as its minimal case (issue
//! "Proven faithful", causes A, B and C).

use super::*;

fn web(yaml_spec: &str) -> PodSpec {
    let mut p = pod(&format!(
        "metadata:\n  labels: {{app: web}}\nspec:\n{yaml_spec}  containers: [{{name: c}}]\n"
    ));
    p.owner_selector = Some(crate::model::labels::LabelSelector::parse("app=web").unwrap());
    p
}

/// Each feasible node's weighted score from `plugin`, by node name.
fn plugin_scores(pod: &PodSpec, snapshot: &Snapshot, plugin: &str) -> Vec<(String, i64)> {
    scheduler()
        .evaluate(pod, snapshot)
        .nodes
        .into_iter()
        .filter(|v| v.total.is_some())
        .map(|v| {
            let score = v.scores.iter().find(|(name, _)| *name == plugin).unwrap().1;
            (v.node, score)
        })
        .collect()
}

fn zoned(name: &str, zone: Option<&str>) -> NodeBuilder {
    let n = node(name)
        .cpu("8")
        .mem("16Gi")
        .label("kubernetes.io/hostname", name);
    match zone {
        Some(zone) => n.label("topology.kubernetes.io/zone", zone),
        None => n,
    }
}

/// A. `balanced_allocation.go` `PreScore` returns Skip for a pod that
/// requests neither cpu nor memory (kubernetes#129138): the plugin adds
/// nothing, where its formula would favour the node whose use is already
/// balanced.
#[test]
fn balanced_allocation_skips_best_effort_pods() {
    let mut s = snapshot(vec![
        node("big").cpu("32").mem("32Gi"),
        node("small").cpu("4").mem("32Gi"),
    ]);
    s.assume(0, &requesting("4", "0"));
    let best_effort = pod("spec:\n  containers: [{name: c}]\n");
    let balanced = "NodeResourcesBalancedAllocation";
    assert_eq!(
        plugin_scores(&best_effort, &s, balanced),
        [("big".to_string(), 0), ("small".to_string(), 0)]
    );
    let requesting_memory = requesting("0", "1Gi");
    let scores = plugin_scores(&requesting_memory, &s, balanced);
    assert!(
        scores.iter().all(|(_, score)| *score > 0),
        "a pod with a request is scored: {scores:?}"
    );
}

/// B. Under the system default spreading (`requireAllTopologies` false), a
/// node without the zone label is in the zone `""`: `initPreScoreState`
/// counts it as one more domain in `log(size+2)`, and it scores no zone
/// count itself. Three web replicas on `a1`; zones a and b and the
/// zone-less `x`: the zone weight is ln 5, not ln 4. Raw scores 16, 6 and
/// 2 (15, 6 and 2 with ln 4) normalise to 12, 75 and 100 (13, 73, 100),
/// weighted ×2.
#[test]
fn a_zoneless_node_is_one_more_zone_under_the_system_defaults() {
    let mut s = snapshot(vec![
        zoned("a1", Some("a")),
        zoned("b1", Some("b")),
        zoned("x", None),
    ]);
    let p = web("");
    for _ in 0..3 {
        s.assume(0, &p);
    }
    assert_eq!(
        plugin_scores(&p, &s, "PodTopologySpread"),
        [
            ("a1".to_string(), 24),
            ("b1".to_string(), 150),
            ("x".to_string(), 200)
        ]
    );
    // With its own constraint the zone-less node is ignored instead (0).
    let own = web(
        "  topologySpreadConstraints:\n    - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: ScheduleAnyway, labelSelector: {matchLabels: {app: web}}}\n",
    );
    assert_eq!(plugin_scores(&own, &s, "PodTopologySpread")[2].1, 0);
}

fn pinned(names: &[&str]) -> PodSpec {
    let fields: Vec<String> = names
        .iter()
        .map(|n| format!("{{key: metadata.name, operator: In, values: [{n}]}}"))
        .collect();
    pod(&format!(
        "spec:\n  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n        nodeSelectorTerms:\n          - matchFields: [{}]\n  containers: [{{name: c, resources: {{requests: {{cpu: '2'}}}}}}]\n",
        fields.join(", ")
    ))
}

/// C. A DaemonSet replica names its node (`matchFields metadata.name`):
/// NodeAffinity's PreFilter narrows the pod to that node, only it is
/// filtered, and every other node is counted as `didn't satisfy plugin(s)
/// [NodeAffinity]` (`findNodesThatFitPod`, `SetAbsentNodesStatus`). The
/// same requirement twice with different names conflicts (`errReasonConflict`).
#[test]
fn a_pod_naming_its_node_is_filtered_there_alone() {
    let s = snapshot(vec![
        node("a").cpu("1").mem("1Gi").unschedulable(),
        node("b").cpu("1").mem("1Gi"),
        node("c")
            .cpu("1")
            .mem("1Gi")
            .taint("dedicated", "db", TaintEffect::NoSchedule),
    ]);
    assert_eq!(
        message(&pinned(&["b"]), &s),
        "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't satisfy plugin(s) [NodeAffinity]."
    );
    assert_eq!(
        message(&pinned(&["gone"]), &s),
        "0/3 nodes are available: 3 node(s) didn't satisfy plugin(s) [NodeAffinity]."
    );
    assert_eq!(
        message(&pinned(&["a", "b"]), &s),
        "0/3 nodes are available: pod affinity terms conflict."
    );
    let evaluation = scheduler().evaluate(&pinned(&["b"]), &s);
    let reasons: Vec<String> = evaluation
        .nodes
        .iter()
        .map(|v| {
            let (plugin, result) = v.filters.last().unwrap();
            format!("{plugin}: {}", result.clone().unwrap_err()[0])
        })
        .collect();
    assert_eq!(
        reasons,
        [
            "NodeAffinity: node(s) didn't satisfy plugin(s) [NodeAffinity]",
            "NodeResourcesFit: Insufficient cpu",
            "NodeAffinity: node(s) didn't satisfy plugin(s) [NodeAffinity]",
        ]
    );
}
