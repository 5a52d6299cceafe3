//! End-to-end: `orch what-if` and `orch capacity` on the example platform
//! and on small fleets whose answers can be worked out by hand. Neither
//! command ever writes the state. The example runs on its fixed fleet
//! (without its node group, which would rescue what a failure strands);
//! `node_groups.rs` asks the same questions with the group.

use crate::common::{Cluster, deployment, node, yaml};
use predicates::prelude::*;
use serde_json::Value;
use std::fs;
use std::time::SystemTime;

/// The example applied for real, and the state file's bytes and mtime.
fn applied_example() -> (Cluster, Vec<u8>, SystemTime) {
    let cluster = Cluster::example_fixed_fleet();
    cluster.run(&["apply", "-f", "manifests/", "-q"]).success();
    let bytes = cluster.state_bytes();
    let mtime = fs::metadata(cluster.state()).unwrap().modified().unwrap();
    (cluster, bytes, mtime)
}

fn assert_untouched(cluster: &Cluster, bytes: &[u8], mtime: SystemTime) {
    assert_eq!(
        cluster.state_bytes(),
        bytes,
        "the state must be byte-identical"
    );
    assert_eq!(
        fs::metadata(cluster.state()).unwrap().modified().unwrap(),
        mtime,
        "the state must not even be rewritten"
    );
}

fn json_of(cluster: &Cluster, args: &[&str], code: i32) -> Value {
    let output = cluster
        .orch()
        .args(args)
        .args(["-o", "json"])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(code),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// (lost, placed, pending, availableBefore, availableAfter, status) of each workload.
fn impacts(document: &Value) -> Vec<(String, i64, i64, i64, i64, i64, String)> {
    document["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["object"].as_str().unwrap().to_string(),
                w["lost"].as_i64().unwrap(),
                w["placed"].as_i64().unwrap(),
                w["pending"].as_i64().unwrap(),
                w["availableBefore"].as_i64().unwrap(),
                w["availableAfter"].as_i64().unwrap(),
                w["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn row(
    object: &str,
    l: i64,
    p: i64,
    q: i64,
    b: i64,
    a: i64,
    s: &str,
) -> (String, i64, i64, i64, i64, i64, String) {
    (object.to_string(), l, p, q, b, a, s.to_string())
}

fn workload<'a>(document: &'a Value, object: &str) -> &'a Value {
    document["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["object"] == object)
        .unwrap()
}

// Where the example runs (README): node-a1: api, video-worker, worker;
// node-b1: video-worker, worker; highmem-b2: db, api ×2; node-c1: api,
// video-worker; gpu-c2: transcoder ×2; log-agent on all five.

#[test]
fn losing_zone_b_strands_api_db_and_a_video_worker_and_breaks_the_api_budget() {
    let (cluster, bytes, mtime) = applied_example();
    let document = json_of(
        &cluster,
        &["what-if", "-f", "manifests/", "--fail-zone", "zone-b"],
        3,
    );
    assert_eq!(document["apiVersion"], "orch.dev/v1");
    assert_eq!(document["kind"], "WhatIf");
    assert_eq!(document["scenario"]["failZones"][0], "zone-b");
    assert_eq!(document["outcome"], "Degraded");
    assert_eq!(
        document["failedNodes"],
        serde_json::json!(["highmem-b2", "node-b1"])
    );
    // Evicted after the 300 s not-ready toleration: the clock got there.
    assert!(document["clock"].as_u64().unwrap() >= document["failedAt"].as_u64().unwrap() + 300);
    // api: its two zone-b replicas cannot go to zone a or c (maxSkew 1 against
    // an empty zone b); db-0 keeps its identity, Terminating on its dead node
    // (a StatefulSet replaces it only once the node is removed); video-worker
    // has no free untainted host; worker fits on node-c1; transcoder is
    // untouched; the log agent cannot leave its two dead nodes but runs on
    // every live one.
    assert_eq!(
        impacts(&document),
        vec![
            row("Deployment/default/api", 2, 0, 2, 4, 2, "Degraded"),
            row("Deployment/default/transcoder", 0, 0, 0, 2, 2, "Available"),
            row("Deployment/default/video-worker", 1, 0, 1, 3, 2, "Degraded"),
            row("Deployment/default/worker", 1, 1, 0, 2, 2, "Available"),
            row(
                "DaemonSet/kube-system/log-agent",
                2,
                0,
                0,
                5,
                3,
                "Available"
            ),
            row("StatefulSet/default/db", 1, 0, 0, 1, 0, "Unavailable"),
        ]
    );
    assert_eq!(
        workload(&document, "Deployment/default/api")["reason"],
        "0/5 nodes are available: 1 node(s) had untolerated taint {nvidia.com/gpu: present}, 2 node(s) didn't match pod topology spread constraints, 2 node(s) had untolerated taint {node.kubernetes.io/not-ready: }. no new claims to deallocate, preemption: 0/5 nodes are available: 2 node(s) didn't match pod topology spread constraints, 3 Preemption is not helpful for scheduling."
    );
    assert!(
        workload(&document, "StatefulSet/default/db")["reason"]
            .as_str()
            .unwrap()
            .starts_with("db-0 is Terminating on node highmem-b2, which is not ready")
    );
    assert_eq!(
        workload(&document, "DaemonSet/kube-system/log-agent")["onFailedNodes"],
        2
    );
    // The worker was down to one while its replacement waited for the eviction.
    assert_eq!(
        workload(&document, "Deployment/default/worker")["availableLowest"],
        1
    );
    assert_eq!(
        document["disruptionBudgets"],
        serde_json::json!([{
            "object": "PodDisruptionBudget/default/api",
            "rule": "minAvailable 3",
            "expected": 4,
            "desiredHealthy": 3,
            "healthyBefore": 4,
            "healthyAfter": 2,
            "holds": false
        }])
    );
    // The same as a table.
    let output = cluster
        .orch()
        .args(["what-if", "-f", "manifests/", "--fail-zone", "zone-b"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let text = String::from_utf8(output.stdout).unwrap();
    for line in [
        "What if zone zone-b fails (highmem-b2, node-b1):",
        "Deployment/default/api            4         2      0        2         4 → 2       2        Degraded",
        "StatefulSet/default/db            1         1      0        0         1 → 0       0        Unavailable",
        "Deployment/default/worker         2         1      1        0         2 → 2       1        Available",
        "DaemonSet/kube-system/log-agent   5         2      0        0         5 → 3       3        Available (2 on failed nodes)",
        "PodDisruptionBudget/default/api   minAvailable 3   4 → 2     3        Violated",
        "3 of 6 workloads lose availability; 1 of 1 disruption budgets violated.",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    assert_untouched(&cluster, &bytes, mtime);
}

#[test]
fn losing_node_b1_is_survived_and_exits_0() {
    let (cluster, bytes, mtime) = applied_example();
    let document = json_of(
        &cluster,
        &["what-if", "-f", "manifests/", "--fail-node", "node-b1"],
        0,
    );
    assert_eq!(document["outcome"], "Available");
    // Its two api replicas move to highmem-b2, the other node of zone b.
    assert_eq!(
        impacts(&document),
        vec![
            row("Deployment/default/api", 2, 2, 0, 4, 4, "Available"),
            row("Deployment/default/transcoder", 0, 0, 0, 2, 2, "Available"),
            row(
                "Deployment/default/video-worker",
                0,
                0,
                0,
                3,
                3,
                "Available"
            ),
            row("Deployment/default/worker", 0, 0, 0, 2, 2, "Available"),
            row(
                "DaemonSet/kube-system/log-agent",
                1,
                0,
                0,
                5,
                4,
                "Available"
            ),
            row("StatefulSet/default/db", 0, 0, 0, 1, 1, "Available"),
        ]
    );
    assert_eq!(document["disruptionBudgets"][0]["holds"], true);
    cluster
        .run(&["what-if", "-f", "manifests/", "--fail-node", "node-b1"])
        .code(0)
        // Replicas were lost until replaced: the verdict says so, with the
        // dip (the DaemonSet replica left with its node is no dip).
        .stdout(predicate::str::contains(
            "Every workload ends fully available and every disruption budget holds. \
             Availability dipped on the way: Deployment/default/api 4 → 2 (at the lowest).",
        ));
    assert_untouched(&cluster, &bytes, mtime);
}

#[test]
fn scaling_past_the_fleet_leaves_replicas_pending_with_the_scheduler_reason() {
    let (cluster, bytes, mtime) = applied_example();
    // Two GPUs, both in use: a third transcoder fits nowhere (node-a1 is short
    // of cpu as well: 1900m free for 2).
    let document = json_of(
        &cluster,
        &["what-if", "-f", "manifests/", "--scale", "transcoder=3"],
        3,
    );
    assert_eq!(
        document["scenario"]["scale"],
        serde_json::json!([{"object": "Deployment/default/transcoder", "from": 2, "to": 3}])
    );
    let transcoder = workload(&document, "Deployment/default/transcoder");
    assert_eq!(transcoder["desired"], 3);
    assert_eq!(transcoder["pending"], 1);
    assert_eq!(transcoder["availableAfter"], 2);
    assert_eq!(
        transcoder["reason"],
        "0/5 nodes are available: 1 Insufficient cpu, 5 Insufficient nvidia.com/gpu. no new claims to deallocate, preemption: 0/5 nodes are available: 1 No preemption victims found for incoming pod, 4 Preemption is not helpful for scheduling."
    );
    cluster
        .run(&["what-if", "-f", "manifests/", "--scale", "Deployment/default/transcoder=3"])
        .code(3)
        .stdout(predicate::str::contains(
            "Deployment/default/transcoder 1 pending: 0/5 nodes are available: 1 Insufficient cpu, 5 Insufficient nvidia.com/gpu.",
        ));
    assert_untouched(&cluster, &bytes, mtime);
}

#[test]
fn an_added_node_makes_room_for_a_fifth_video_worker() {
    let (cluster, bytes, mtime) = applied_example();
    // Five video workers need five untainted hosts; there are four.
    let short = json_of(
        &cluster,
        &["what-if", "-f", "manifests/", "--scale", "video-worker=5"],
        3,
    );
    let video = workload(&short, "Deployment/default/video-worker");
    assert_eq!(
        (video["placed"].as_i64(), video["pending"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        video["reason"],
        "0/5 nodes are available: 1 node(s) had untolerated taint {nvidia.com/gpu: present}, 4 node(s) didn't match pod anti-affinity rules. no new claims to deallocate, preemption: 0/5 nodes are available: 1 Preemption is not helpful for scheduling, 4 No preemption victims found for incoming pod."
    );
    cluster.write(
        "extra/node-a2.yaml",
        &node("node-a2")
            .cpu("4")
            .memory("16Gi")
            .zone("zone-a")
            .yaml(),
    );
    let grown = json_of(
        &cluster,
        &[
            "what-if",
            "-f",
            "manifests/",
            "--scale",
            "video-worker=5",
            "--add-node",
            "extra/node-a2.yaml",
        ],
        0,
    );
    assert_eq!(
        grown["scenario"]["addNodes"],
        serde_json::json!(["node-a2"])
    );
    let video = workload(&grown, "Deployment/default/video-worker");
    assert_eq!(
        (
            video["desired"].as_i64(),
            video["placed"].as_i64(),
            video["pending"].as_i64()
        ),
        (Some(5), Some(2), Some(0))
    );
    // The log agent follows the new node.
    let agent = workload(&grown, "DaemonSet/kube-system/log-agent");
    assert_eq!(
        (agent["desired"].as_i64(), agent["availableAfter"].as_i64()),
        (Some(6), Some(6))
    );
    assert_untouched(&cluster, &bytes, mtime);
}

#[test]
fn all_zones_gives_one_row_per_zone_and_exit_3_when_any_hurts() {
    let (cluster, bytes, mtime) = applied_example();
    let document = json_of(&cluster, &["what-if", "-f", "manifests/", "--all-zones"], 3);
    assert_eq!(document["kind"], "Resilience");
    assert_eq!(document["scenario"]["failureDomain"], "zone");
    let failures = document["failures"].as_array().unwrap();
    let summary: Vec<(String, Value, i64, i64)> = failures
        .iter()
        .map(|f| {
            (
                f["failure"].as_str().unwrap().to_string(),
                f["nodes"].clone(),
                f["lost"].as_i64().unwrap(),
                f["pending"].as_i64().unwrap(),
            )
        })
        .collect();
    // Zone a: node-a1's api (pending: zone a would be empty), video-worker,
    // worker and log agent. Zone b: db-0 is lost but not pending (its
    // identity stays Terminating on its node). Zone c: node-c1's api (pending), video-worker,
    // both transcoders (no other GPU), two log agents.
    assert_eq!(
        summary,
        vec![
            ("zone-a".to_string(), serde_json::json!(["node-a1"]), 4, 1),
            (
                "zone-b".to_string(),
                serde_json::json!(["highmem-b2", "node-b1"]),
                7,
                3
            ),
            (
                "zone-c".to_string(),
                serde_json::json!(["gpu-c2", "node-c1"]),
                6,
                3
            ),
        ]
    );
    let transcoder_in_c = failures[2]["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["object"] == "Deployment/default/transcoder")
        .unwrap();
    assert_eq!(transcoder_in_c["status"], "Unavailable");
    assert_eq!(failures[1]["disruptionBudgets"][0]["holds"], false);
    assert_eq!(failures[0]["disruptionBudgets"][0]["holds"], true);

    let output = cluster
        .orch()
        .args(["what-if", "-f", "manifests/", "--all-zones"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let text = String::from_utf8(output.stdout).unwrap();
    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("zone-")).collect();
    assert_eq!(rows.len(), 3, "{text}");
    assert!(rows[1].contains("PodDisruptionBudget/default/api: 2 healthy, 3 needed"));
    assert!(
        text.contains("3 of 3 single zone failures hurt availability: zone-a, zone-b, zone-c.")
    );
    assert_untouched(&cluster, &bytes, mtime);
}

#[test]
fn all_nodes_on_a_fleet_with_room_everywhere_exits_0() {
    let cluster = Cluster::new();
    cluster.write(
        "m.yaml",
        &yaml(&[
            &node("n1").cpu("4"),
            &node("n2").cpu("4"),
            &node("n3").cpu("4"),
            &deployment("web").replicas(2).cpu("1"),
        ]),
    );
    let document = json_of(&cluster, &["what-if", "-f", "m.yaml", "--all-nodes"], 0);
    let failures = document["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 3);
    assert!(failures.iter().all(|f| f["outcome"] == "Available"));
    // Whichever node fails, whatever it ran is placed again.
    for failure in failures {
        let web = &failure["workloads"][0];
        assert_eq!(web["lost"], web["placed"]);
    }
    assert!(
        !cluster.state().exists(),
        "what-if must not create the state"
    );
}

#[test]
fn bad_scenarios_are_refused_with_exit_1_and_nothing_written() {
    let (cluster, bytes, mtime) = applied_example();
    cluster.write(
        "not-a-node.yaml",
        &yaml(&[&node("n9").cpu("4"), &deployment("web").cpu("1")]),
    );
    for (args, message) in [
        (
            vec!["--fail-zone", "zone-q"],
            "no node in zone zone-q (topology.kubernetes.io/zone values: zone-a, zone-b, zone-c)",
        ),
        (
            vec!["--fail-node", "node-z9"],
            "node node-z9 not found (nodes: gpu-c2, highmem-b2, node-a1, node-b1, node-c1)",
        ),
        (
            vec!["--scale", "nothing=3"],
            "no workload nothing in the manifests",
        ),
        (
            vec!["--scale", "api=-2"],
            "--scale api=-2: the replica count must be between 0 and 1000000",
        ),
        (
            vec!["--scale", "log-agent=2"],
            "--scale DaemonSet/kube-system/log-agent: a DaemonSet runs one replica per eligible node",
        ),
        (
            vec!["--add-node", "not-a-node.yaml"],
            "not-a-node.yaml:13:7: kind: --add-node takes Node objects; this is Deployment",
        ),
        (
            vec!["--add-node", "manifests/nodes.yaml"],
            "metadata.name: Duplicate value: \"node-a1\"",
        ),
    ] {
        let mut full = vec!["what-if", "-f", "manifests/"];
        full.extend(args);
        cluster
            .run(&full)
            .code(1)
            .stderr(predicate::str::contains(message));
    }
    cluster
        .run(&[
            "what-if",
            "-f",
            "manifests/",
            "--all-zones",
            "--fail-node",
            "node-a1",
        ])
        .code(1); // a usage error: exit 1, never "changes pending" (2)
    assert_untouched(&cluster, &bytes, mtime);
}

#[test]
fn what_if_is_deterministic() {
    let (cluster, _, _) = applied_example();
    let run = || {
        cluster
            .orch()
            .args(["what-if", "-f", "manifests/", "--all-nodes", "-o", "yaml"])
            .output()
            .unwrap()
            .stdout
    };
    let first = run();
    assert!(!first.is_empty());
    assert_eq!(first, run());
}

// ---------------------------------------------------------------- capacity

fn headroom(document: &Value) -> Vec<(String, Value, Value)> {
    document["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["object"].as_str().unwrap().to_string(),
                w["fitsMore"].clone(),
                w["limitedBy"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["reason"].clone())
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn two_four_cpu_nodes_take_five_more_one_cpu_replicas() {
    let cluster = Cluster::new();
    cluster.write(
        "m.yaml",
        &yaml(&[
            &node("n1").cpu("4"),
            &node("n2").cpu("4"),
            &deployment("web").replicas(3).cpu("1"),
        ]),
    );
    let document = json_of(&cluster, &["capacity", "-f", "m.yaml"], 0);
    assert_eq!(document["apiVersion"], "orch.dev/v1");
    assert_eq!(document["kind"], "Capacity");
    // 8 cpu, 3 used: five more, then both nodes are full.
    assert_eq!(
        headroom(&document),
        vec![(
            "Deployment/default/web".to_string(),
            serde_json::json!(5),
            serde_json::json!(["Insufficient cpu"])
        )]
    );
    assert_eq!(
        document["workloads"][0]["message"],
        "0/2 nodes are available: 2 Insufficient cpu."
    );
    let output = cluster
        .orch()
        .args(["capacity", "-f", "m.yaml", "web"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "WORKLOAD                 REPLICAS   FITS MORE   LIMITED BY\nDeployment/default/web   3          5           2 Insufficient cpu\n"
    );
    assert!(
        !cluster.state().exists(),
        "capacity must not create the state"
    );
}

#[test]
fn hostname_anti_affinity_runs_out_before_cpu() {
    let cluster = Cluster::new();
    cluster.write(
        "m.yaml",
        &yaml(&[
            &node("n1").cpu("8"),
            &node("n2").cpu("8"),
            &node("n3").cpu("8"),
            &deployment("solo")
                .replicas(2)
                .cpu("100m")
                .anti_affinity("kubernetes.io/hostname"),
        ]),
    );
    // Three hosts, two taken: one more, though cpu would allow hundreds.
    let document = json_of(&cluster, &["capacity", "-f", "m.yaml"], 0);
    assert_eq!(
        headroom(&document),
        vec![(
            "Deployment/default/solo".to_string(),
            serde_json::json!(1),
            serde_json::json!(["node(s) didn't match pod anti-affinity rules"])
        )]
    );
}

#[test]
fn capacity_of_the_example_matches_what_the_loop_places() {
    let (cluster, bytes, mtime) = applied_example();
    let document = json_of(&cluster, &["capacity", "-f", "manifests/"], 0);
    // api: zone a (node-a1, 1900m free) takes 3 more, so zones b and c may
    // hold one more than its 4: 4 + 5 + 5 = 14, ten more. worker: 1, 2, 2 and
    // 4 whole cpus free on the untainted nodes. db: highmem-b2 has 38.9Gi free
    // for 24Gi each. video-worker: one free untainted host. transcoder: no GPU left.
    assert_eq!(
        headroom(&document),
        vec![
            (
                "Deployment/default/api".to_string(),
                serde_json::json!(10),
                serde_json::json!([
                    "Insufficient cpu",
                    "node(s) didn't match pod topology spread constraints"
                ])
            ),
            (
                "Deployment/default/transcoder".to_string(),
                serde_json::json!(0),
                serde_json::json!(["Insufficient cpu", "Insufficient nvidia.com/gpu"])
            ),
            (
                "Deployment/default/video-worker".to_string(),
                serde_json::json!(1),
                serde_json::json!(["node(s) didn't match pod anti-affinity rules"])
            ),
            (
                "Deployment/default/worker".to_string(),
                serde_json::json!(9),
                serde_json::json!(["Insufficient cpu"])
            ),
            (
                "DaemonSet/kube-system/log-agent".to_string(),
                Value::Null,
                serde_json::json!([])
            ),
            (
                "StatefulSet/default/db".to_string(),
                serde_json::json!(1),
                serde_json::json!(["Insufficient memory"])
            ),
        ]
    );
    // The API has the highest priority: 8 more fit by preempting others.
    assert_eq!(document["workloads"][0]["byPreemption"], 8);
    assert_eq!(
        document["workloads"][1].get("byPreemption"),
        Some(&serde_json::json!(0))
    );
    // The loop agrees: 4 + 10 api replicas all run without preempting, 4 +
    // 10 + 8 by preempting lower-priority ones, a twenty-third stays pending.
    cluster
        .run(&["what-if", "-f", "manifests/", "--scale", "api=14"])
        .code(0);
    let most = json_of(
        &cluster,
        &["what-if", "-f", "manifests/", "--scale", "api=22"],
        3,
    );
    assert_eq!(workload(&most, "Deployment/default/api")["pending"], 0);
    assert!(workload(&most, "Deployment/default/worker")["preempted"].as_i64() > Some(0));
    let over = json_of(
        &cluster,
        &["what-if", "-f", "manifests/", "--scale", "api=23"],
        3,
    );
    assert_eq!(workload(&over, "Deployment/default/api")["pending"], 1);
    cluster
        .run(&["what-if", "-f", "manifests/", "--scale", "worker=11"])
        .code(0);
    cluster
        .run(&["what-if", "-f", "manifests/", "--scale", "worker=12"])
        .code(3);
    // Named workloads, even right after -f.
    let only = json_of(
        &cluster,
        &["capacity", "-f", "manifests/", "db", "Deployment/worker"],
        0,
    );
    assert_eq!(only["workloads"].as_array().unwrap().len(), 2);
    cluster
        .run(&["capacity", "-f", "manifests/", "nothing"])
        .code(1)
        .stderr(predicate::str::contains(
            "nothing: no such file or directory, nor a workload of the manifests",
        ));
    assert_untouched(&cluster, &bytes, mtime);
}
