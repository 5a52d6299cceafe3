//! StatefulSets end to end through the real binary: ordered identities in
//! the plan's timeline, partitioned rollouts, scale-down order, and a
//! replica that keeps its identity through the loss of its node.

use crate::common::{Cluster, node, stateful_set, text, timeline};
use predicates::prelude::*;
use serde_json::Value;

/// A StatefulSet `db` with `replicas`, ready 10 s after start, at
/// `version`, and `extra` lines under `spec` (indented by two spaces).
fn db(replicas: i32, version: &str, extra: &str) -> String {
    stateful_set("db")
        .replicas(replicas)
        .version(version)
        .spec(extra)
        .yaml()
}

fn fleet() -> String {
    [
        node("n1").zone("a").yaml(),
        node("n2").zone("b").yaml(),
        node("n3").zone("c").yaml(),
    ]
    .concat()
}

fn cluster_with(set: &str) -> Cluster {
    let cluster = Cluster::new();
    cluster.write("manifests/nodes.yaml", &fleet());
    cluster.write("manifests/db.yaml", set);
    cluster
}

/// (time, op, replica) of every shown action of a plan or apply document.
fn actions(document: &Value) -> Vec<(u64, String, String)> {
    timeline(document)
        .into_iter()
        .map(|(time, action)| (time, text(action, "op"), text(action, "replica")))
        .collect()
}

fn first(actions: &[(u64, String, String)], op: &str, replica: &str) -> usize {
    actions
        .iter()
        .position(|(_, o, r)| o == op && r == replica)
        .unwrap_or_else(|| panic!("no {op} of {replica} in {actions:?}"))
}

#[test]
fn ordered_ready_starts_each_ordinal_after_the_previous_is_ready() {
    let cluster = cluster_with(&db(3, "1", ""));
    let plan = cluster.json(&["plan", "-f", "manifests/"]);
    assert_eq!(plan["outcome"], "Converged");
    let actions = actions(&plan);
    for ordinal in 1..3 {
        let previous_ready = first(&actions, "mark-ready", &format!("db-{}", ordinal - 1));
        let created = first(&actions, "create", &format!("db-{ordinal}"));
        assert!(previous_ready < created, "{actions:?}");
        assert!(actions[previous_ready].0 <= actions[created].0);
    }
    let created: Vec<&str> = actions
        .iter()
        .filter(|(_, op, _)| op == "create")
        .map(|(_, _, r)| r.as_str())
        .collect();
    assert_eq!(created, ["db-0", "db-1", "db-2"]);
    assert_eq!(plan["clock"], 30, "three replicas ready 10 s apart");
    let workload = &plan["workloads"][0];
    assert_eq!(workload["object"], "StatefulSet/default/db");
    assert_eq!(workload["desired"], 3);
}

#[test]
fn parallel_starts_every_replica_at_once() {
    let cluster = cluster_with(&db(3, "1", "  podManagementPolicy: Parallel\n"));
    let plan = cluster.json(&["plan", "-f", "manifests/"]);
    let actions = actions(&plan);
    let creations: Vec<u64> = actions
        .iter()
        .filter(|(_, op, _)| op == "create")
        .map(|(t, _, _)| *t)
        .collect();
    assert_eq!(creations, [0, 0, 0]);
    assert_eq!(plan["clock"], 10);
}

#[test]
fn scale_down_removes_the_highest_ordinal_first_one_at_a_time() {
    let cluster = cluster_with(&db(4, "1", ""));
    cluster.run(&["apply", "-f", "manifests/", "-q"]).success();
    cluster.write("manifests/db.yaml", &db(1, "1", ""));
    let result = cluster.json(&["apply", "-f", "manifests/"]);
    assert_eq!(result["outcome"], "Converged");
    let steps = result["steps"].as_array().unwrap();
    let deletions: Vec<Vec<&str>> = steps
        .iter()
        .map(|s| {
            s["actions"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| a["op"] == "delete")
                .map(|a| a["replica"].as_str().unwrap())
                .collect::<Vec<_>>()
        })
        .filter(|d| !d.is_empty())
        .collect();
    assert_eq!(deletions, [["db-3"], ["db-2"], ["db-1"]]);
    let names: Vec<String> = cluster
        .replicas()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["db-0"]);
}

#[test]
fn a_partitioned_rollout_updates_the_ordinals_at_and_above_the_partition() {
    let cluster = cluster_with(&db(3, "1", ""));
    cluster.run(&["apply", "-f", "manifests/", "-q"]).success();
    cluster.write(
        "manifests/db.yaml",
        &db(
            3,
            "2",
            "  updateStrategy:\n    rollingUpdate: {partition: 1}\n",
        ),
    );
    let result = cluster.json(&["apply", "-f", "manifests/"]);
    assert_eq!(result["outcome"], "Converged", "{result}");
    let actions = actions(&result);
    let deleted: Vec<&str> = actions
        .iter()
        .filter(|(_, op, _)| op == "delete")
        .map(|(_, _, r)| r.as_str())
        .collect();
    assert_eq!(deleted, ["db-2", "db-1"], "highest ordinal first");
    assert!(
        first(&actions, "mark-ready", "db-2") < first(&actions, "delete", "db-1"),
        "one at a time: db-1 goes once db-2 is back"
    );
    let revisions: Vec<(String, u64)> = cluster
        .replicas()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["revision"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        revisions,
        [("db-0".into(), 1), ("db-1".into(), 2), ("db-2".into(), 2)]
    );
    cluster
        .run(&["rollout", "status", "db"])
        .success()
        .stdout("partitioned roll out complete: 2 new pods have been updated...\n");
    // A replica below the partition deleted by hand comes back at the old revision.
    cluster.run(&["replica", "delete", "db-0"]).success();
    cluster.run(&["apply", "-f", "manifests/", "-q"]).success();
    let db0 = cluster.replica("db-0");
    assert_eq!(db0["revision"], 1);
    // Lowering the partition to 0 finishes the rollout; history and undo work.
    cluster.write("manifests/db.yaml", &db(3, "2", ""));
    cluster.run(&["apply", "-f", "manifests/", "-q"]).success();
    assert!(cluster.replicas().iter().all(|r| r["revision"] == 2));
    cluster
        .run(&["rollout", "history", "db"])
        .success()
        .stdout(predicate::str::contains("2 (current)"));
    cluster
        .run(&["rollout", "pause", "db"])
        .failure()
        .stderr(predicate::str::contains("pausing is not supported"));
}

#[test]
fn a_replica_on_a_lost_node_keeps_its_identity_until_the_node_is_removed() {
    let cluster = cluster_with(&db(3, "1", ""));
    cluster.run(&["apply", "-f", "manifests/", "-q"]).success();
    let lost = cluster.node_of("db-1");
    cluster.run(&["node", "fail", &lost]).success();
    let result = cluster.json(&["apply", "-f", "manifests/"]);
    assert_eq!(result["outcome"], "Blocked");
    let blocked = &result["workloads"][0]["blocked"];
    assert_eq!(blocked["reason"], "StuckTerminating");
    assert!(
        blocked["message"]
            .as_str()
            .unwrap()
            .contains("makes no replacement of the same identity")
    );
    let db1 = cluster.replica("db-1");
    assert_eq!(db1["phase"], "Terminating");
    assert_eq!(db1["node"], lost.as_str());
    cluster
        .run(&["explain", "db-1"])
        .success()
        .stdout(predicate::str::contains("is Terminating on node"));
    // A second apply waits too: no replacement, no new name.
    cluster.run(&["apply", "-f", "manifests/", "-q"]).code(3);
    assert_eq!(cluster.replicas().len(), 3);
    // The node leaves the fleet: db-1 is made again, under its own name.
    let remaining: Vec<String> = ["n1", "n2", "n3"]
        .iter()
        .filter(|n| **n != lost)
        .map(|n| node(n).yaml())
        .collect();
    cluster.write("manifests/nodes.yaml", &remaining.concat());
    cluster.run(&["apply", "-f", "manifests/", "-q"]).success();
    let db1 = cluster.replica("db-1");
    assert_eq!(db1["phase"], "Running");
    assert_ne!(db1["node"], lost.as_str());
}

#[test]
fn an_out_of_service_taint_releases_the_identity() {
    let cluster = cluster_with(&db(2, "1", ""));
    cluster.run(&["apply", "-f", "manifests/", "-q"]).success();
    let lost = cluster.node_of("db-1");
    cluster.run(&["node", "fail", &lost]).success();
    cluster.run(&["apply", "-f", "manifests/", "-q"]).code(3);
    let nodes: Vec<String> = ["n1", "n2", "n3"]
        .iter()
        .map(|n| {
            let node = node(n);
            if **n == lost {
                node.taint("node.kubernetes.io/out-of-service=nodeshutdown:NoExecute")
                    .yaml()
            } else {
                node.yaml()
            }
        })
        .collect();
    cluster.write("manifests/nodes.yaml", &nodes.concat());
    cluster.run(&["apply", "-f", "manifests/", "-q"]).success();
    let db1 = cluster.replica("db-1");
    assert_ne!(db1["node"], lost.as_str());
}

#[test]
fn stateful_sets_appear_in_every_report() {
    let cluster = cluster_with(&db(2, "1", ""));
    cluster
        .run(&["apply", "-f", "manifests/", "-q", "--junit", "report.xml"])
        .success();
    let junit = std::fs::read_to_string(cluster.path("report.xml")).unwrap();
    assert!(
        junit.contains("<testcase name=\"StatefulSet/default/db\""),
        "{junit}"
    );
    cluster
        .run(&["get", "workloads"])
        .success()
        .stdout(predicate::str::contains("StatefulSet/default/db   2/2"));
    cluster
        .run(&["describe", "workload", "db"])
        .success()
        .stdout(
            predicate::str::contains("Replicas:         2 desired | 2 total")
                .and(predicate::str::contains("Partition:      0")),
        );
    cluster
        .run(&["describe", "replica", "db-0"])
        .success()
        .stdout(predicate::str::contains("StatefulSet/db"));
}

#[test]
fn stateful_set_input_is_checked_where_it_is_written() {
    let cluster = cluster_with(&db(
        2,
        "1",
        "  podManagementPolicy: Sometimes\n  updateStrategy:\n    rollingUpdate: {partition: -1}\n",
    ));
    cluster
        .run(&["validate", "-f", "manifests/"])
        .code(1)
        .stderr(
            predicate::str::contains("db.yaml:10:24")
                .and(predicate::str::contains(
                    "spec.podManagementPolicy: Unsupported value: \"Sometimes\"",
                ))
                .and(predicate::str::contains(
                    "spec.updateStrategy.rollingUpdate.partition: Invalid value: -1",
                )),
        );
    let cluster = cluster_with(&db(
        2,
        "1",
        "  updateStrategy:\n    rollingUpdate: {maxUnavailable: 2}\n",
    ));
    cluster
        .run(&["apply", "-f", "manifests/"])
        .success()
        .stderr(predicate::str::contains(
            "maxUnavailable: 2 is ignored: the MaxUnavailableStatefulSet feature is alpha",
        ));
}

/// `node drain` of a node holding ordinals 0 and 2 of an OrderedReady set:
/// both are evicted (the drain evicts while budgets allow), and the
/// StatefulSet controller (`updateStatefulSet`, monotonic) makes ordinal 0
/// again first, then ordinal 2 only once every lower ordinal is Running
/// and Ready — never both at once.
#[test]
fn a_drain_refills_ordinals_in_order() {
    let cluster = Cluster::new();
    cluster.write(
        "manifests/nodes.yaml",
        &[node("n1").zone("a").yaml(), node("n2").zone("a").yaml()].concat(),
    );
    cluster.write("manifests/db.yaml", &db(3, "1", ""));
    cluster.run(&["apply", "-f", "manifests/", "-q"]).success();
    let on = |name: &str| cluster.node_of(name);
    // The spread puts ordinals 0 and 2 together.
    let held = on("db-0");
    assert_eq!(on("db-2"), held);
    let start = cluster.json(&["get", "events"])["items"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()["time"]
        .as_u64()
        .unwrap();
    cluster.run(&["node", "drain", &held, "-q"]).success();
    let events = cluster.json(&["get", "events"]);
    let after: Vec<&Value> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["time"].as_u64().unwrap() >= start)
        .collect();
    let time_of = |message: &str| {
        after
            .iter()
            .rev()
            .find(|e| e["message"].as_str().unwrap().starts_with(message))
            .unwrap_or_else(|| panic!("no event {message:?} in {after:#?}"))["time"]
            .as_u64()
            .unwrap()
    };
    let (created_0, ready_0) = (
        time_of("Created replica db-0"),
        time_of("Replica db-0 is ready"),
    );
    let created_2 = time_of("Created replica db-2");
    assert!(created_0 < ready_0, "db-0 is made again and becomes ready");
    assert!(
        created_2 >= ready_0,
        "db-2 waits for db-0 to be Running and Ready: created at {created_2}, db-0 ready at {ready_0}"
    );
    let replicas = cluster.replicas();
    assert!(
        replicas
            .iter()
            .all(|r| r["phase"] == "Running" && r["node"] != held.as_str())
    );
    // Only the evicted ordinals were made again: db-1 kept its place.
    assert!(after.iter().all(|e| e["message"] != "Created replica db-1"));
}
