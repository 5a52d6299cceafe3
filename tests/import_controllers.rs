//! Import of the pods of every controller orch simulates
//! (`tests/fixtures/import/controllers.yaml`): a StatefulSet's pods join it
//! by their ownerReferences (revision by `controller-revision-hash`), a
//! running Job keeps its pods (the finished one counts as its progress), a
//! finished Job is skipped, and a ReplicaSet no Deployment owns is a
//! workload of its own — none of them is left unmanaged.

use crate::common::Cluster;
use predicates::prelude::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

fn fixture() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import/controllers.yaml")
        .display()
        .to_string()
}

fn replicas(cluster: &Cluster) -> BTreeMap<String, Value> {
    cluster
        .replicas()
        .into_iter()
        .map(|r| (r["name"].as_str().unwrap().to_string(), r))
        .collect()
}

#[test]
fn pods_join_their_stateful_sets_jobs_and_replica_sets() {
    let cluster = Cluster::new();
    cluster
        .run(&["import", "-f", &fixture()])
        .success()
        .stderr(predicate::str::contains(
            "attributed 7 pods to 3 workloads (StatefulSets, Jobs, ReplicaSets)",
        ))
        .stderr(predicate::str::contains(
            "skipping Job/batch/cleanup-29410560 (Complete): a finished Job holds nothing",
        ))
        .stderr(predicate::str::contains("unmanaged").not());
    let replicas = replicas(&cluster);
    let owner = |name: &str| {
        let replica = &replicas[name];
        assert!(
            replica.get("managed").is_none(),
            "{name} is managed: {replica}"
        );
        replica["workload"].as_str().unwrap().to_string()
    };
    for ordinal in 0..3 {
        assert_eq!(
            owner(&format!("kafka-{ordinal}")),
            "StatefulSet/queues/kafka"
        );
    }
    assert_eq!(owner("reindex-m4q9z"), "Job/batch/reindex");
    assert_eq!(owner("reindex-x7k2p"), "Job/batch/reindex");
    assert_eq!(replicas["reindex-x7k2p"]["phase"], "Succeeded");
    assert_eq!(
        owner("legacy-cache-q2w8r"),
        "ReplicaSet/default/legacy-cache"
    );
    assert_eq!(
        owner("legacy-cache-z9t4k"),
        "ReplicaSet/default/legacy-cache"
    );
    assert!(!replicas.contains_key("cleanup-29410560-abcde"));
    // The imported set is up to date: one revision, its replicas on it.
    let rollout = cluster
        .orch()
        .args(["rollout", "history", "StatefulSet/queues/kafka"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&rollout.stdout).contains("1 (current)"));
}

/// Planned against with an unrelated application, the imported controllers
/// change nothing: no deletion, no replacement, no rollout (the Job runs on
/// to its completions, as it would).
#[test]
fn an_unrelated_plan_leaves_the_imported_controllers_alone() {
    let cluster = Cluster::new();
    cluster.run(&["import", "-f", &fixture()]).success();
    cluster.write(
        "other.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: cart}\nspec:\n  replicas: 1\n  \
         selector: {matchLabels: {app: cart}}\n  template:\n    metadata: {labels: {app: cart}}\n    \
         spec: {containers: [{name: c, image: i, resources: {requests: {cpu: 100m}}}]}\n",
    );
    let plan = cluster.json(&["plan", "-f", "other.yaml"]);
    let actions: Vec<&Value> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["actions"].as_array().unwrap())
        .collect();
    let touched: Vec<String> = actions
        .iter()
        .filter(|a| {
            let object = a["object"].as_str().unwrap();
            (object.starts_with("StatefulSet/") || object.starts_with("ReplicaSet/"))
                && a["op"] != "status"
        })
        .map(|a| format!("{} {}", a["op"], a["object"]))
        .collect();
    assert!(touched.is_empty(), "{touched:?}");
    assert!(
        !actions
            .iter()
            .any(|a| a["op"] == "delete" || a["op"] == "remove-workload"),
        "{actions:#?}"
    );
}
