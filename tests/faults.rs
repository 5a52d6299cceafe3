//! The loop that keeps things running: crashes, full nodes, node loss, drift
//! and drains, injected with the real binary on the example platform.

use crate::common::{Cluster, deployment, node, nodes_on, pdb, yaml};
use predicates::prelude::*;
use serde_json::Value;

fn replicas_of(cluster: &Cluster, workload: &str) -> Vec<Value> {
    cluster
        .replicas()
        .into_iter()
        .filter(|r| r["workload"] == workload)
        .collect()
}

#[test]
fn a_deleted_worker_is_replaced_and_a_crashed_one_restarts() {
    let cluster = Cluster::example();
    cluster.run(&["apply", "-f", "manifests/", "-q"]).success();
    let workers = replicas_of(&cluster, "Deployment/default/worker");
    let victim = workers[0]["name"].as_str().unwrap().to_string();
    cluster
        .run(&["replica", "delete", &victim])
        .success()
        .stdout(format!("replica/{victim} deleted\n"));
    assert_eq!(replicas_of(&cluster, "Deployment/default/worker").len(), 1);
    cluster.run(&["apply", "-f", "manifests/"]).success();
    let after = replicas_of(&cluster, "Deployment/default/worker");
    assert_eq!(after.len(), 2);
    assert!(
        after
            .iter()
            .all(|r| r["name"] != victim.as_str() && r["ready"] == true)
    );

    let crashed = after[0]["name"].as_str().unwrap().to_string();
    cluster.run(&["replica", "crash", &crashed]).success();
    let replica = cluster.replica(&crashed);
    assert_eq!(replica["ready"], false);
    cluster.run(&["apply", "-f", "manifests/"]).success();
    let replica = cluster.replica(&crashed);
    assert_eq!(
        replica["ready"], true,
        "restarted in place after the back-off"
    );
    cluster
        .run(&["get", "events", "--for", &crashed])
        .success()
        .stdout(predicate::str::contains("BackOff").and(predicate::str::contains("Ready")));
}

#[test]
fn a_full_fleet_pends_with_the_reason_until_a_node_is_added() {
    let cluster = Cluster::new();
    cluster.write(
        "m.yaml",
        &yaml(&[
            &node("n1").cpu("2"),
            &deployment("web").replicas(2).cpu("1"),
        ]),
    );
    cluster.run(&["apply", "-f", "m.yaml"]).success();
    cluster.write(
        "m.yaml",
        &yaml(&[
            &node("n1").cpu("2"),
            &deployment("web").replicas(3).cpu("1"),
        ]),
    );
    cluster
        .run(&["apply", "-f", "m.yaml"])
        .code(3)
        .stdout(predicate::str::contains(
            "0/1 nodes are available: 1 Insufficient cpu.",
        ));
    cluster
        .run(&["node", "add", "n2", "--cpu", "2", "--memory", "8Gi"])
        .success();
    cluster.run(&["apply", "-f", "m.yaml"]).success();
    assert_eq!(nodes_on(&cluster.replicas()), ["n1", "n1", "n2"]);
}

fn zone(node: &str) -> &'static str {
    match node {
        "node-a1" => "a",
        "node-b1" | "highmem-b2" => "b",
        _ => "c",
    }
}

#[test]
fn node_loss_replaces_replicas_elsewhere_keeping_the_zone_spread() {
    let cluster = Cluster::example();
    cluster.run(&["apply", "-f", "manifests/", "-q"]).success();
    // The node of zone b that holds two api replicas.
    const LOST: &str = "node-b1";
    let before = replicas_of(&cluster, "Deployment/default/api");
    assert_eq!(
        before.iter().filter(|r| r["node"] == LOST).count(),
        2,
        "the example puts two api replicas on {LOST}: {before:?}"
    );
    cluster
        .run(&["node", "fail", LOST])
        .success()
        .stdout(format!("node/{LOST} failed\n"));
    // At once: its replicas are not ready.
    assert!(
        replicas_of(&cluster, "Deployment/default/api")
            .iter()
            .filter(|r| r["node"] == LOST)
            .all(|r| r["ready"] == false)
    );
    let output = cluster
        .orch()
        .args(["apply", "-f", "manifests/", "-o", "json"])
        .output()
        .unwrap();
    // Blocked only by the log agent, whose replica cannot leave the dead node.
    assert_eq!(output.status.code(), Some(3));
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    let blocked: Vec<&str> = doc["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| !w["blocked"].is_null())
        .map(|w| w["object"].as_str().unwrap())
        .collect();
    assert_eq!(blocked, ["DaemonSet/kube-system/log-agent"]);
    assert!(
        doc["clock"].as_u64().unwrap() >= 300,
        "evicted after the 300 s not-ready toleration"
    );
    let api = replicas_of(&cluster, "Deployment/default/api");
    assert_eq!(api.len(), 4);
    assert!(
        api.iter().all(|r| r["node"] != LOST && r["ready"] == true),
        "{api:?}"
    );
    let mut zones: Vec<&str> = api
        .iter()
        .map(|r| zone(r["node"].as_str().unwrap()))
        .collect();
    zones.sort();
    zones.dedup();
    assert_eq!(
        zones,
        ["a", "b", "c"],
        "zone b keeps its api replicas, on highmem-b2"
    );
    // The log agent tolerates everything and stays.
    assert!(
        replicas_of(&cluster, "DaemonSet/kube-system/log-agent")
            .iter()
            .any(|r| r["node"] == LOST)
    );
    let events = cluster.json(&["get", "events"]);
    assert!(
        events["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["reason"] == "Evicted")
    );
    cluster.run(&["node", "recover", LOST]).success();
    cluster.run(&["apply", "-f", "manifests/"]).success();
}

#[test]
fn drift_in_the_state_is_corrected() {
    let cluster = Cluster::example();
    let state = cluster.path("state.json");
    let orch = |args: &[&str]| cluster.orch().env("ORCH_STATE", &state).args(args).assert();
    orch(&["apply", "-f", "manifests/", "-q"]).success();
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    // By hand: a worker vanishes, a transcoder moves to a node without GPUs,
    // and node-a1 loses its zone label.
    let replicas = doc["replicas"].as_array_mut().unwrap();
    let worker = replicas
        .iter()
        .position(|r| r["workload"] == "Deployment/default/worker")
        .unwrap();
    replicas.remove(worker);
    let transcoder = replicas
        .iter_mut()
        .find(|r| r["workload"] == "Deployment/default/transcoder")
        .unwrap();
    let moved = transcoder["name"].as_str().unwrap().to_string();
    transcoder["node"] = Value::from("node-a1");
    let a1 = doc["nodes"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|n| n["name"] == "node-a1")
        .unwrap();
    a1["labels"]
        .as_object_mut()
        .unwrap()
        .remove("topology.kubernetes.io/zone");
    std::fs::write(&state, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();

    orch(&["apply", "-f", "manifests/"]).success();
    let doc: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    let of = |w: &str| {
        doc["replicas"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["workload"] == w)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(of("Deployment/default/worker").len(), 2);
    assert!(
        of("Deployment/default/transcoder")
            .iter()
            .all(|r| r["node"] == "gpu-c2")
    );
    let a1 = doc["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "node-a1")
        .unwrap();
    assert_eq!(a1["labels"]["topology.kubernetes.io/zone"], "zone-a");
    let drift = doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["reason"] == "DriftCorrected")
        .unwrap();
    assert_eq!(drift["object"], format!("Replica/{moved}"));
    assert!(
        drift["message"]
            .as_str()
            .unwrap()
            .contains("node-a1 has no room for it (Insufficient nvidia.com/gpu)"),
        "{drift}"
    );
}

#[test]
fn a_drain_blocked_by_a_budget_proceeds_after_scaling_up() {
    let cluster = Cluster::new();
    let fleet = |replicas| {
        yaml(&[
            &node("n1").cpu("4"),
            &node("n2").cpu("4"),
            &node("n3").cpu("4"),
            &pdb("web").min_available("3"),
            &deployment("web").replicas(replicas).cpu("1"),
        ])
    };
    cluster.write("m.yaml", &fleet(3));
    cluster.run(&["apply", "-f", "m.yaml", "-q"]).success();
    let node_of_first = cluster.replicas()[0]["node"].as_str().unwrap().to_string();
    cluster
        .run(&["node", "drain", &node_of_first])
        .code(3)
        .stdout(predicate::str::contains("drain blocked").and(predicate::str::contains(
            "Cannot evict pod as it would violate the pod's disruption budget. PodDisruptionBudget/default/web (minAvailable 3) has 3 healthy of 3 expected, 3 needed: 0 disruptions allowed",
        )));
    assert!(
        cluster
            .replicas()
            .iter()
            .any(|r| r["node"] == node_of_first.as_str()),
        "nothing was evicted"
    );
    // One more replica gives the budget room; the drain carries on during the apply.
    cluster.write("m.yaml", &fleet(4));
    cluster.run(&["apply", "-f", "m.yaml", "-q"]).success();
    assert!(
        cluster
            .replicas()
            .iter()
            .all(|r| r["node"] != node_of_first.as_str())
    );
    cluster
        .run(&["node", "drain", &node_of_first])
        .success()
        .stdout(predicate::str::contains("drained"));
    cluster
        .run(&["node", "remove", &node_of_first])
        .success()
        .stdout(predicate::str::contains("drained and removed"));
    assert!(
        cluster.json(&["get", "nodes"])["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["name"] != node_of_first.as_str())
    );
}

#[test]
fn scaling_is_recorded_as_kubernetes_does() {
    let cluster = Cluster::new();
    cluster.write(
        "m.yaml",
        &yaml(&[
            &node("n1").cpu("4"),
            &deployment("web").replicas(2).cpu("100m"),
        ]),
    );
    cluster.run(&["apply", "-f", "m.yaml", "-q"]).success();
    cluster
        .run(&["get", "events", "--for", "Deployment/web"])
        .success()
        .stdout(predicate::str::is_match("ScalingReplicaSet +Deployment/default/web +Scaled up replica set web-[a-z0-9]+ from 0 to 2").unwrap());
}
