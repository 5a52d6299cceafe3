//! End-to-end: `orch node drain N --dry-run`, the preview of a drain, against
//! the drain itself.

use crate::common::{Cluster, deployment, node, pdb, yaml};
use predicates::prelude::*;
use serde_json::Value;
use std::fs;

fn preview(cluster: &Cluster, node: &str, code: i32) -> Value {
    let output = cluster
        .orch()
        .args(["node", "drain", node, "--dry-run", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["apiVersion"], "orch.dev/v1");
    assert_eq!(document["kind"], "DrainPreview");
    document
}

#[test]
fn the_preview_lists_budgets_and_predicts_the_drain_exactly() {
    let cluster = Cluster::example();
    cluster.run(&["apply", "-f", "manifests/", "-q"]).success();
    let before = cluster.state_bytes();

    let document = preview(&cluster, "node-b1", 0);
    assert_eq!(document["completes"], true);
    assert_eq!(
        cluster.state_bytes(),
        before,
        "--dry-run must leave the state byte-identical"
    );
    let replicas = document["replicas"].as_array().unwrap();
    let api: Vec<&Value> = replicas
        .iter()
        .filter(|r| r["workload"] == "Deployment/default/api")
        .collect();
    assert_eq!(api.len(), 2, "node-b1 runs two api replicas");
    for replica in &api {
        let budget = &replica["budgets"][0];
        assert_eq!(budget["name"], "PodDisruptionBudget/default/api");
        assert_eq!(budget["minAvailable"], 3);
        assert_eq!(budget["currentHealthy"], 4);
        assert_eq!(budget["desiredHealthy"], 3);
        assert_eq!(budget["disruptionsAllowed"], 1);
    }
    let agent = replicas
        .iter()
        .find(|r| r["workload"] == "DaemonSet/kube-system/log-agent")
        .unwrap();
    assert_eq!(agent["stays"], true);
    assert!(agent["evictionOrder"].is_null());

    // One api replica at a time: the second waits for a replacement to be ready.
    let evictions = document["evictions"].as_array().unwrap();
    assert_eq!(evictions.len(), 2);
    let api_times: Vec<u64> = evictions
        .iter()
        .filter(|e| e["workload"] == "Deployment/default/api")
        .map(|e| e["time"].as_u64().unwrap())
        .collect();
    assert!(api_times[1] > api_times[0], "{api_times:?}");
    // db's replacement has no other high-memory node: a drain of its node
    // completes, with a warning.
    let highmem = preview(&cluster, "highmem-b2", 0);
    assert!(
        highmem["warnings"][0]
            .as_str()
            .unwrap()
            .starts_with("replacements for StatefulSet/default/db cannot be placed")
    );

    cluster
        .run(&["node", "drain", "node-b1", "--dry-run"])
        .success()
        .stdout(predicate::str::starts_with(
            "node/node-b1 drain would complete at t=55s: 2 evictions",
        ));
    assert_eq!(cluster.state_bytes(), before);

    // The drain itself evicts in the predicted order, at the predicted times.
    cluster.run(&["node", "drain", "node-b1"]).success();
    let events = cluster.json(&["get", "events"]);
    let evicted: Vec<(String, u64)> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["reason"] == "Evicted")
        .map(|e| {
            (
                e["object"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("Replica/")
                    .to_string(),
                e["time"].as_u64().unwrap(),
            )
        })
        .collect();
    let predicted: Vec<(String, u64)> = evictions
        .iter()
        .map(|e| {
            (
                e["replica"].as_str().unwrap().to_string(),
                e["time"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(evicted, predicted);
}

#[test]
fn a_budget_that_can_never_allow_an_eviction_is_reported_up_front() {
    for (from, to, reason) in [
        (
            "minAvailable: 3",
            "minAvailable: 4",
            "PodDisruptionBudget/default/api can never allow an eviction: minAvailable 4 needs 4 healthy of the 4 replicas it covers",
        ),
        (
            "minAvailable: 3",
            "maxUnavailable: 0",
            "PodDisruptionBudget/default/api can never allow an eviction: maxUnavailable 0 needs 4 healthy of the 4 replicas it covers",
        ),
    ] {
        let cluster = Cluster::example();
        let api = cluster.path("manifests/api.yaml");
        let text = fs::read_to_string(&api).unwrap();
        fs::write(&api, text.replace(from, to)).unwrap();
        cluster.run(&["apply", "-f", "manifests/", "-q"]).success();
        let before = cluster.state_bytes();

        let document = preview(&cluster, "node-a1", 3);
        assert_eq!(document["completes"], false);
        assert_eq!(document["reasons"][0], reason);
        let api = document["replicas"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["workload"] == "Deployment/default/api")
            .unwrap();
        assert!(api["evictionOrder"].is_null());
        assert_eq!(api["budgets"][0]["disruptionsAllowed"], 0);

        let output = cluster
            .orch()
            .args(["node", "drain", "node-a1", "--dry-run"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(3));
        let stdout = String::from_utf8(output.stdout).unwrap();
        let mut lines = stdout.lines();
        assert_eq!(
            lines.next(),
            Some("node/node-a1 drain can never finish (dry run, nothing changed):")
        );
        assert_eq!(lines.next().map(str::trim), Some(reason));
        assert_eq!(cluster.state_bytes(), before);

        // The drain itself blocks on the same budget.
        cluster
            .run(&["node", "drain", "node-a1"])
            .code(3)
            .stdout(predicate::str::contains("drain blocked"));
    }
}

#[test]
fn replacements_with_nowhere_to_go_block_the_drain_and_say_why() {
    let cluster = Cluster::new();
    cluster.write(
        "cluster.yaml",
        &yaml(&[
            &node("n1").cpu("4").label("pool", "a"),
            &node("n2").cpu("4").label("pool", "b"),
            &deployment("app")
                .replicas(2)
                .cpu("500m")
                .node_selector("pool", "a"),
            &pdb("app").min_available("1"),
        ]),
    );
    cluster
        .run(&["apply", "-f", "cluster.yaml", "-q"])
        .success();
    let before = cluster.state_bytes();
    let document = preview(&cluster, "n1", 3);
    assert_eq!(document["completes"], false);
    assert_eq!(document["evictions"].as_array().unwrap().len(), 1);
    let reason = document["reasons"][0].as_str().unwrap();
    assert!(
        reason.starts_with(
            "replacements for Deployment/default/app cannot be placed (Unschedulable): 0/2 nodes are available"
        ),
        "{reason}"
    );
    assert_eq!(cluster.state_bytes(), before);
}

#[test]
fn previewing_an_unknown_node_is_an_error() {
    let cluster = Cluster::example();
    cluster.run(&["apply", "-f", "manifests/", "-q"]).success();
    cluster
        .run(&["node", "drain", "nope", "--dry-run"])
        .code(1)
        .stderr(predicate::str::contains("node nope not found"));
}
