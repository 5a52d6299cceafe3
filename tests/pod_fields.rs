//! Pod fields that take a pod around kube-scheduler, end to end:
//! `spec.schedulingGates` (the SchedulingGates PreEnqueue plugin) and a
//! user-set `spec.nodeName` (no scheduler: the node's kubelet admits or
//! refuses the pod, `GeneralPredicates`).

use crate::common::Cluster;
use predicates::prelude::*;

fn node(name: &str, extra: &str) -> String {
    format!(
        "---\napiVersion: v1\nkind: Node\nmetadata: {{name: {name}}}\n{extra}\
         status: {{allocatable: {{cpu: \"4\", memory: 8Gi, pods: \"110\"}}}}\n"
    )
}

fn pod(name: &str, spec: &str, cpu: &str) -> String {
    format!(
        "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, labels: {{app: {name}}}}}\nspec:\n{spec}  \
         containers: [{{name: c, image: i, resources: {{requests: {{cpu: {cpu}}}}}}}]\n"
    )
}

fn deployment(name: &str, replicas: i32, spec: &str) -> String {
    format!(
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\nspec:\n  replicas: {replicas}\n  \
         selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    \
         spec:\n{spec}      containers: [{{name: c, image: i, resources: {{requests: {{cpu: 500m}}}}}}]\n"
    )
}

fn get_replicas(cluster: &Cluster) -> String {
    let output = cluster.orch().args(["get", "replicas"]).output().unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A gated bare Pod stays Pending and unplaced (`SchedulingGated` in
/// `get replicas`), is reported blocked, and is placed once an apply
/// removes its gates.
#[test]
fn a_gated_pod_waits_until_its_gates_are_removed() {
    let cluster = Cluster::new();
    let gated = pod(
        "batch",
        "  schedulingGates: [{name: example.com/quota}, {name: example.com/review}]\n",
        "500m",
    );
    cluster.write("m.yaml", &format!("{}{gated}", node("n1", "")));
    let run = cluster.json(&["apply", "-f", "m.yaml"]);
    assert_eq!(run["outcome"], "Blocked", "{run}");
    let blocked = &run["workloads"][0]["blocked"];
    assert_eq!(blocked["reason"], "SchedulingGated");
    assert_eq!(
        blocked["message"],
        "batch is waiting for scheduling gates: [example.com/quota example.com/review]"
    );
    let batch = cluster.replica("batch");
    assert_eq!(batch["phase"], "Pending");
    assert!(batch["node"].is_null());
    assert!(get_replicas(&cluster).contains("SchedulingGated"));
    cluster
        .run(&["explain", "batch"])
        .success()
        .stdout(predicate::str::contains(
            "gated: the scheduler does not consider it until its scheduling gates are removed",
        ));
    // A second run changes nothing: the gate is recorded once.
    let again = cluster.json(&["apply", "-f", "m.yaml"]);
    assert_eq!(again["steps"].as_array().map_or(0, Vec::len), 0, "{again}");
    // The gates are removed: the same pod is placed, in place.
    cluster.write(
        "m.yaml",
        &format!("{}{}", node("n1", ""), pod("batch", "", "500m")),
    );
    cluster.run(&["apply", "-f", "m.yaml", "-q"]).success();
    let batch = cluster.replica("batch");
    assert_eq!(batch["phase"], "Running");
    assert_eq!(batch["node"], "n1");
}

/// Gated replicas of a Deployment are not placed, and not counted as
/// preemptors: nothing of lower priority is evicted for them.
#[test]
fn gated_replicas_of_a_deployment_are_not_scheduled() {
    let cluster = Cluster::new();
    cluster.write(
        "m.yaml",
        &format!(
            "{}{}",
            node("n1", ""),
            deployment("web", 3, "      schedulingGates: [{name: wait}]\n")
        ),
    );
    cluster
        .run(&["apply", "-f", "m.yaml"])
        .code(3)
        .stdout(predicate::str::contains("SchedulingGated"));
    let replicas = cluster.replicas();
    assert_eq!(replicas.len(), 3);
    assert!(
        replicas
            .iter()
            .all(|r| r["phase"] == "Pending" && r["node"].is_null())
    );
    // Ungated by the next apply: a rollout places the new revision.
    cluster.write(
        "m.yaml",
        &format!("{}{}", node("n1", ""), deployment("web", 3, "")),
    );
    cluster.run(&["apply", "-f", "m.yaml", "-q"]).success();
    assert!(cluster.replicas().iter().all(|r| r["phase"] == "Running"));
}

#[test]
fn a_bad_scheduling_gate_is_an_error_at_its_line() {
    let cluster = Cluster::new();
    cluster.write(
        "m.yaml",
        &format!(
            "{}{}",
            node("n1", ""),
            pod("p", "  schedulingGates: [{name: a}, {name: a}]\n", "1")
        ),
    );
    cluster
        .run(&["validate", "-f", "m.yaml"])
        .code(1)
        .stderr(predicate::str::contains("spec.schedulingGates[1].name"))
        .stderr(predicate::str::contains("Duplicate value: \"a\""));
}

/// A pod naming its node skips the scheduler: it runs there even on a
/// cordoned node behind a NoSchedule taint (the kubelet checks neither).
#[test]
fn a_pod_naming_its_node_bypasses_the_scheduler() {
    let cluster = Cluster::new();
    let tainted =
        "spec: {unschedulable: true, taints: [{key: gpu, value: \"true\", effect: NoSchedule}]}\n";
    cluster.write(
        "m.yaml",
        &format!(
            "{}{}{}",
            node("n1", ""),
            node("n2", tainted),
            pod("pinned", "  nodeName: n2\n", "1")
        ),
    );
    let plan = cluster.json(&["plan", "-f", "m.yaml"]);
    let ops: Vec<&str> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["actions"].as_array().unwrap())
        .map(|a| a["op"].as_str().unwrap())
        .collect();
    assert!(ops.contains(&"admit"), "{ops:?}");
    assert!(!ops.contains(&"bind"), "{ops:?}");
    cluster.run(&["apply", "-f", "m.yaml", "-q"]).success();
    let pinned = cluster.replica("pinned");
    assert_eq!(
        (pinned["node"].as_str(), pinned["phase"].as_str()),
        (Some("n2"), Some("Running"))
    );
}

/// A pod that does not fit on the node it names is refused by the kubelet:
/// phase Failed, reason `OutOfcpu`, with the kubelet's message as an event.
#[test]
fn a_pod_that_does_not_fit_its_named_node_fails_out_of_cpu() {
    let cluster = Cluster::new();
    cluster.write(
        "m.yaml",
        &format!(
            "{}{}{}",
            node("n1", ""),
            pod("first", "  nodeName: n1\n", "3"),
            pod("second", "  nodeName: n1\n", "2")
        ),
    );
    let run = cluster.json(&["apply", "-f", "m.yaml"]);
    assert_eq!(run["outcome"], "Blocked", "{run}");
    let second = cluster.replica("second");
    assert_eq!(second["phase"], "Failed");
    assert_eq!(second["reason"], "OutOfcpu");
    assert_eq!(cluster.replica("first")["phase"], "Running");
    let replicas = get_replicas(&cluster);
    assert!(replicas.contains("OutOfcpu"), "{replicas}");
    cluster
        .run(&["explain", "second"])
        .success()
        .stdout(predicate::str::contains(
            "OutOfcpu: refused by the kubelet of n1, the node it names (spec.nodeName)",
        ));
    let output = cluster.orch().args(["get", "events"]).output().unwrap();
    let events = String::from_utf8_lossy(&output.stdout);
    assert!(
        events.contains(
            "Pod was rejected: Node didn't have enough resource: cpu, requested: 2000, used: 3000, capacity: 4000"
        ),
        "{events}"
    );
    // A Deployment naming the node: its refused replica is kept, not
    // replaced without end, and the workload is blocked on it.
    cluster.write(
        "m.yaml",
        &format!(
            "{}{}",
            node("n1", ""),
            deployment("web", 9, "      nodeName: n1\n")
        ),
    );
    let run = cluster.json(&["apply", "-f", "m.yaml"]);
    assert_eq!(run["outcome"], "Blocked", "{run}");
    let web = run["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["object"] == "Deployment/default/web")
        .unwrap();
    assert_eq!(web["blocked"]["reason"], "Rejected", "{web}");
    let rejected = cluster
        .replicas()
        .iter()
        .filter(|r| r["reason"] == "OutOfcpu")
        .count();
    assert_eq!(rejected, 1, "8 of 500m fit in 4 cpu, the ninth is refused");
}

/// A pod whose named node does not match its node selector fails with
/// `NodeAffinity`; one naming a node that does not exist stays Pending.
#[test]
fn node_affinity_rejections_and_missing_nodes() {
    let cluster = Cluster::new();
    cluster.write(
        "m.yaml",
        &format!(
            "{}{}{}",
            node("n1", ""),
            pod(
                "picky",
                "  nodeName: n1\n  nodeSelector: {disk: ssd}\n",
                "1"
            ),
            pod("nowhere", "  nodeName: n9\n", "1")
        ),
    );
    cluster
        .run(&["apply", "-f", "m.yaml"])
        .code(3)
        .stdout(predicate::str::contains(
            "nowhere names node n9 (spec.nodeName), which does not exist",
        ));
    let picky = cluster.replica("picky");
    assert_eq!(
        (picky["phase"].as_str(), picky["reason"].as_str()),
        (Some("Failed"), Some("NodeAffinity"))
    );
    let nowhere = cluster.replica("nowhere");
    assert_eq!(nowhere["phase"], "Pending");
    assert!(nowhere["node"].is_null());
}
