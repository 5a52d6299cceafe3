//! Bare Pods, standalone ReplicaSets and ReplicationControllers end to end.

use crate::common::Cluster;

fn node(name: &str) -> String {
    format!(
        "---\napiVersion: v1\nkind: Node\nmetadata: {{name: {name}}}\n\
         status: {{allocatable: {{cpu: \"4\", memory: 8Gi, pods: \"110\"}}}}\n"
    )
}

const POD: &str = "---\napiVersion: v1\nkind: Pod\nmetadata: {name: debug, labels: {app: debug}}\n\
                   spec:\n  containers: [{name: c, image: i, resources: {requests: {cpu: 500m}}}]\n";

fn replica_set(kind: &str, image: &str, replicas: i32) -> String {
    let (version, selector) = if kind == "ReplicaSet" {
        ("apps/v1", "{matchLabels: {app: web}}")
    } else {
        ("v1", "{app: web}")
    };
    format!(
        "---\napiVersion: {version}\nkind: {kind}\nmetadata: {{name: web}}\nspec:\n  replicas: {replicas}\n  \
         selector: {selector}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec:\n      \
         containers: [{{name: c, image: {image}, resources: {{requests: {{cpu: 100m}}}}}}]\n"
    )
}

/// A bare Pod is placed once under its own name; when its node fails it is
/// evicted and nothing replaces it: the run reports it (exit 3) until the
/// manifest is applied again.
#[test]
fn a_bare_pod_is_lost_with_its_node() {
    let cluster = Cluster::new();
    cluster.write("m.yaml", &format!("{}{}{POD}", node("n1"), node("n2")));
    cluster.run(&["apply", "-f", "m.yaml"]).code(0);
    let replicas = cluster.replicas();
    assert_eq!(replicas.len(), 1);
    assert_eq!(replicas[0]["name"], "debug");
    assert_eq!(replicas[0]["workload"], "Pod/default/debug");
    let placed = replicas[0]["node"].as_str().unwrap().to_string();
    cluster.run(&["node", "fail", &placed]).code(0);
    // The eviction comes after the not-ready toleration (300s); nothing replaces it.
    let output = cluster
        .orch()
        .args(["apply", "-f", "m.yaml", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let run: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let pod = &run["workloads"][0];
    assert_eq!(pod["object"], "Pod/default/debug");
    assert_eq!(pod["blocked"]["reason"], "PodLost", "{run}");
    let state = std::fs::read_to_string(cluster.state()).unwrap();
    assert!(state.contains("lost:"), "{state}");
    assert!(cluster.replicas().is_empty());
    let output = cluster.orch().args(["get", "events"]).output().unwrap();
    assert!(String::from_utf8_lossy(&output.stdout).contains("Evicted"));
    // The next apply creates it again, on the node that is left.
    let again = cluster.json(&["apply", "-f", "m.yaml"]);
    assert_eq!(again["outcome"], "Converged", "{again}");
    let replicas = cluster.replicas();
    assert_eq!(replicas.len(), 1);
    assert_ne!(replicas[0]["node"].as_str().unwrap(), placed);
}

/// Within one run, a lost bare Pod is reported: blocked, exit 3.
#[test]
fn a_run_that_loses_a_bare_pod_is_blocked() {
    let cluster = Cluster::new();
    cluster.write("m.yaml", &format!("{}{POD}", node("n1")));
    cluster.run(&["apply", "-f", "m.yaml"]).code(0);
    // The node leaves the manifests: drained and removed, the Pod with it.
    cluster.write("m.yaml", &format!("{}{POD}", node("n2")));
    let output = cluster
        .orch()
        .args(["apply", "-f", "m.yaml", "-o", "json"])
        .output()
        .unwrap();
    let run: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let pod = run["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["object"] == "Pod/default/debug")
        .unwrap()
        .clone();
    assert_eq!(output.status.code(), Some(3), "{run}");
    assert_eq!(pod["blocked"]["reason"], "PodLost", "{run}");
    assert!(cluster.replicas().is_empty());
}

/// A ReplicaSet keeps its count; a template change touches no running
/// replica (and converges), a scale change does.
#[test]
fn a_replica_set_keeps_its_count_and_its_old_pods() {
    for kind in ["ReplicaSet", "ReplicationController"] {
        let cluster = Cluster::new();
        cluster.write(
            "m.yaml",
            &format!("{}{}", node("n1"), replica_set(kind, "v1", 3)),
        );
        cluster.run(&["apply", "-f", "m.yaml"]).code(0);
        let before: Vec<String> = cluster
            .replicas()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(before.len(), 3, "{kind}");
        assert!(
            before.iter().all(|n| n.starts_with("web-") && n.len() == 9),
            "{before:?}"
        );
        cluster.write(
            "m.yaml",
            &format!("{}{}", node("n1"), replica_set(kind, "v2", 3)),
        );
        let run = cluster.json(&["apply", "-f", "m.yaml"]);
        assert_eq!(run["outcome"], "Converged", "{kind}: {run}");
        let after: Vec<String> = cluster
            .replicas()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(before, after, "{kind}: a template change replaced pods");
        cluster.write(
            "m.yaml",
            &format!("{}{}", node("n1"), replica_set(kind, "v2", 5)),
        );
        cluster.run(&["apply", "-f", "m.yaml"]).code(0);
        assert_eq!(cluster.replicas().len(), 5, "{kind}");
        cluster.write(
            "m.yaml",
            &format!("{}{}", node("n1"), replica_set(kind, "v2", 1)),
        );
        cluster.run(&["apply", "-f", "m.yaml"]).code(0);
        assert_eq!(cluster.replicas().len(), 1, "{kind}");
    }
}

/// A ReplicaSet's selector must match its template's labels, as for a Deployment.
#[test]
fn a_replica_set_whose_selector_misses_its_template_is_refused() {
    let cluster = Cluster::new();
    let text = replica_set("ReplicaSet", "v1", 2)
        .replace("matchLabels: {app: web}", "matchLabels: {app: api}");
    cluster.write("m.yaml", &format!("{}{text}", node("n1")));
    cluster
        .run(&["apply", "-f", "m.yaml"])
        .code(1)
        .stderr(predicates::str::contains(
            "`selector` does not match template `labels`",
        ));
    assert!(!cluster.state().exists());
}
