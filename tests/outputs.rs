//! Snapshots (insta) of what people read: the `get` tables, `plan` as a
//! table and as JSON, `describe` of a pending replica, the `what-if` report
//! and a JUnit report. Each is the whole output, so any change to a column,
//! a word or a field shows up in review as a diff of `tests/snapshots/`.
//!
//! Everything here is deterministic without redactions: names are seeded
//! from the state, times are simulated seconds, and paths are the relative
//! ones given on the command line. `cargo insta review` (or
//! `INSTA_UPDATE=always cargo test --test tests outputs`) accepts a change;
//! CI sets `INSTA_UPDATE=no`, so there a difference fails and nothing is
//! written.

use crate::common::{Cluster, deployment, node, snapshot, yaml};
use std::fs;

fn applied_example() -> Cluster {
    let cluster = Cluster::example();
    cluster.run(&["apply", "-f", "manifests/", "-q"]).success();
    cluster
}

/// The example with five video workers: hostname anti-affinity leaves one
/// pending, as only four untainted nodes exist.
/// (On the fixed fleet: the example's node group would take the fifth.)
fn example_with_five_video_workers() -> Cluster {
    let cluster = Cluster::example_fixed_fleet();
    let path = cluster.path("manifests/workers.yaml");
    let text = fs::read_to_string(&path).unwrap();
    let video_worker = "  name: video-worker\n";
    let at = text
        .find(video_worker)
        .expect("video-worker in workers.yaml");
    let (before, after) = text.split_at(at);
    assert!(after.contains("  replicas: 3\n"), "{after}");
    fs::write(
        &path,
        format!(
            "{before}{}",
            after.replacen("  replicas: 3\n", "  replicas: 5\n", 1)
        ),
    )
    .unwrap();
    cluster
}

#[test]
fn get_tables_of_the_applied_example() {
    let cluster = applied_example();
    for what in ["nodes", "workloads", "replicas"] {
        let text = cluster.stdout(&["get", what], 0);
        snapshot!(&format!("get_{what}"), &format!("orch get {what}"), &text);
    }
}

#[test]
fn plan_of_the_example_as_a_table() {
    let cluster = Cluster::example();
    let text = cluster.stdout(&["plan", "-f", "manifests/"], 0);
    snapshot!("plan", "orch plan -f manifests/", &text);
}

#[test]
fn plan_of_the_example_as_json() {
    let cluster = Cluster::example();
    let text = cluster.stdout(&["plan", "-f", "manifests/", "-o", "json"], 0);
    serde_json::from_str::<serde_json::Value>(&text).expect("a JSON document");
    snapshot!("plan_json", "orch plan -f manifests/ -o json", &text);
}

#[test]
fn describe_of_a_replica_no_node_can_take() {
    let cluster = Cluster::new();
    cluster.write(
        "m.yaml",
        &yaml(&[
            &node("big").cpu("8").taint("gpu=true:NoSchedule"),
            &node("small").cpu("1"),
            &deployment("web").cpu("2"),
        ]),
    );
    cluster.run(&["apply", "-f", "m.yaml", "-q"]).code(3);
    let replicas = cluster.replicas();
    let name = replicas[0]["name"].as_str().unwrap();
    let text = cluster.stdout(&["describe", "replica", name], 0);
    snapshot!(
        "describe_pending_replica",
        "orch describe replica WEB-REPLICA (2 CPUs; big is tainted, small has 1)",
        &text,
    );
}

#[test]
fn what_if_zone_b_fails() {
    let cluster = applied_example();
    let text = cluster.stdout(&["what-if", "-f", "manifests/", "--fail-zone", "zone-b"], 3);
    snapshot!(
        "what_if_fail_zone_b",
        "orch what-if -f manifests/ --fail-zone zone-b",
        &text,
    );
}

#[test]
fn junit_of_a_blocked_plan() {
    let cluster = example_with_five_video_workers();
    cluster.stdout(
        &["plan", "-f", "manifests/", "--junit", "report.xml", "-q"],
        3,
    );
    let text = fs::read_to_string(cluster.path("report.xml")).unwrap();
    snapshot!(
        "junit_blocked_plan",
        "orch plan -f manifests/ --junit report.xml (video-worker scaled to 5)",
        &text,
    );
}

#[test]
fn get_and_describe_hpa_after_the_example_spike() {
    let cluster = Cluster::example();
    cluster
        .run(&["apply", "-f", "manifests/", "--advance", "1h50m", "-q"])
        .success();
    let text = cluster.stdout(&["get", "hpa"], 0);
    snapshot!(
        "get_hpa",
        "orch get hpa (after apply --advance 1h50m)",
        &text,
    );
    let text = cluster.stdout(&["describe", "hpa", "api"], 0);
    snapshot!(
        "describe_hpa",
        "orch describe hpa api (after apply --advance 1h50m)",
        &text,
    );
}
