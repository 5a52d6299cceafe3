//! Node groups end to end: cluster-autoscaler's loop on the simulated
//! clock. A scale-up's node joins exactly after the provisioning delay, an
//! idle member goes after exactly ten unneeded minutes (under `--advance`),
//! minSize holds, and a pod no group would take says why.

use crate::common::{Cluster, actions_showing};
use predicates::str::contains;
use serde_json::Value;

const BASE: &str = "apiVersion: v1\nkind: Node\nmetadata: {name: base}\n\
                    status: {allocatable: {cpu: \"2\", memory: 8Gi, pods: \"110\"}}\n";

fn group(min: u32, max: u32, delay: &str) -> String {
    format!(
        "---\napiVersion: orch.dev/v1\nkind: NodeGroup\nmetadata: {{name: general}}\nspec:\n  \
         minSize: {min}\n  maxSize: {max}\n  provisionDelay: {delay}\n  template:\n    \
         status: {{allocatable: {{cpu: \"4\", memory: 16Gi, pods: \"110\"}}}}\n"
    )
}

fn api(replicas: u32) -> String {
    format!(
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: api}}\nspec:\n  \
         replicas: {replicas}\n  selector: {{matchLabels: {{app: api}}}}\n  template:\n    \
         metadata: {{labels: {{app: api}}}}\n    spec: {{containers: [{{name: c, image: i, \
         resources: {{requests: {{cpu: \"1\", memory: 1Gi}}}}}}]}}\n"
    )
}

fn times(run: &Value, op: &str, object: &str) -> Vec<u64> {
    actions_showing(run, "node")
        .into_iter()
        .filter(|(_, o, obj, _)| o == op && obj == object)
        .map(|(t, _, _, _)| t)
        .collect()
}

fn node_names(cluster: &Cluster) -> Vec<String> {
    cluster.json(&["get", "nodes"])["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_scale_up_node_joins_exactly_after_the_provisioning_delay() {
    let cluster = Cluster::new();
    cluster.write("m.yaml", &format!("{BASE}{}{}", group(0, 3, "90s"), api(4)));
    // One second short of the delay: the node is asked for, not there.
    cluster
        .run(&["apply", "-f", "m.yaml", "--timeout", "89"])
        .code(3);
    assert_eq!(node_names(&cluster), ["base"]);
    let groups = cluster.json(&["get", "nodegroups"]);
    assert_eq!(groups["items"][0]["current"], 0, "{groups}");
    assert_eq!(
        groups["items"][0]["provisioning"]["general-0"], 90,
        "{groups}"
    );
    // The run goes on from there: the node joins at 90s and takes the pods.
    let run = cluster.json(&["apply", "-f", "m.yaml"]);
    assert_eq!(run["outcome"], "Converged", "{run}");
    assert_eq!(times(&run, "add-node", "Node/general-0"), [90]);
    assert_eq!(node_names(&cluster), ["base", "general-0"]);
    let on_member = cluster
        .replicas()
        .iter()
        .filter(|r| r["node"] == "general-0")
        .count();
    assert_eq!(on_member, 2);
    // Converged with the group at rest: a second apply does nothing.
    cluster
        .run(&["apply", "-f", "m.yaml"])
        .code(0)
        .stdout(contains("No changes"));
}

#[test]
fn the_first_run_waits_for_the_node_and_says_cluster_autoscalers_words() {
    let cluster = Cluster::new();
    cluster.write("m.yaml", &format!("{BASE}{}{}", group(0, 3, "60s"), api(4)));
    let run = cluster.json(&["apply", "-f", "m.yaml"]);
    assert_eq!(run["outcome"], "Converged", "{run}");
    assert_eq!(times(&run, "scale-up", "NodeGroup/general"), [0]);
    assert_eq!(times(&run, "add-node", "Node/general-0"), [60]);
    let steps = run["steps"].as_array().unwrap();
    assert_eq!(steps.last().unwrap()["nodes"], 2, "{run}");
    cluster
        .run(&["get", "events"])
        .stdout(contains("TriggeredScaleUp     Replica/api-"))
        .stdout(contains(
            "pod triggered scale-up: [{general 0->1 (max: 3)}]",
        ));
}

#[test]
fn an_idle_member_goes_after_exactly_ten_unneeded_minutes() {
    let cluster = Cluster::new();
    cluster.write("m.yaml", &format!("{BASE}{}{}", group(0, 3, "60s"), api(4)));
    cluster.run(&["apply", "-f", "m.yaml"]).code(0);
    cluster.write("m.yaml", &format!("{BASE}{}{}", group(0, 3, "60s"), api(2)));
    // A plain apply converges without waiting for the scale-down timer.
    let plain = cluster.json(&["plan", "-f", "m.yaml"]);
    assert_eq!(plain["outcome"], "Converged", "{plain}");
    assert!(times(&plain, "scale-down", "NodeGroup/general").is_empty());
    let run = cluster.json(&["apply", "-f", "m.yaml", "--advance", "15m"]);
    assert_eq!(run["outcome"], "Converged", "{run}");
    let idle_since = times(&run, "delete", "Deployment/default/api")[0];
    assert_eq!(
        times(&run, "scale-down", "NodeGroup/general"),
        [idle_since + 600],
        "{run}"
    );
    assert_eq!(
        times(&run, "remove-node", "Node/general-0"),
        [idle_since + 600]
    );
    assert_eq!(node_names(&cluster), ["base"]);
    cluster
        .run(&["get", "events"])
        .stdout(contains("ScaleDown"))
        .stdout(contains("marked the node as toBeDeleted/unschedulable"));
}

#[test]
fn min_size_members_join_at_once_and_stay() {
    let cluster = Cluster::new();
    cluster.write("m.yaml", &format!("{BASE}{}{}", group(1, 3, "60s"), api(1)));
    let run = cluster.json(&["apply", "-f", "m.yaml", "--advance", "30m"]);
    assert_eq!(run["outcome"], "Converged", "{run}");
    assert_eq!(times(&run, "add-node", "Node/general-0"), [0]);
    assert!(times(&run, "scale-down", "NodeGroup/general").is_empty());
    assert_eq!(node_names(&cluster), ["base", "general-0"]);
}

#[test]
fn a_pod_no_group_would_take_says_why_and_explain_tells_it() {
    let cluster = Cluster::new();
    cluster.write("m.yaml", &format!("{BASE}{}{}", group(0, 1, "60s"), api(8)));
    // 2 cpu on base, 4 on the one member: two replicas are left pending.
    let run = cluster.json(&["apply", "-f", "m.yaml"]);
    assert_eq!(run["outcome"], "Blocked", "{run}");
    cluster.run(&["get", "events"]).stdout(contains(
        "pod didn't trigger scale-up: 1 max node group size reached",
    ));
    let pending = cluster
        .replicas()
        .into_iter()
        .find(|r| r["node"].is_null())
        .unwrap();
    let name = pending["name"].as_str().unwrap();
    cluster.run(&["explain", name]).code(0).stdout(contains(
        "* no node group would take it: pod didn't trigger scale-up: 1 max node group size reached.",
    ));
}

#[test]
fn explain_names_the_member_on_its_way() {
    let cluster = Cluster::new();
    cluster.write("m.yaml", &format!("{BASE}{}{}", group(0, 3, "60s"), api(4)));
    cluster
        .run(&["apply", "-f", "m.yaml", "--timeout", "20"])
        .code(3);
    let pending = cluster
        .replicas()
        .into_iter()
        .find(|r| r["node"].is_null())
        .unwrap();
    let name = pending["name"].as_str().unwrap();
    let explained = cluster.json(&["explain", name]);
    let said = explained["nodeGroup"].as_str().unwrap();
    assert!(
        said.starts_with("node general-0 of its node group joins at +")
            && said.ends_with("and would take it"),
        "{said}"
    );
}

#[test]
fn capacity_counts_the_room_the_groups_can_give() {
    let cluster = Cluster::new();
    cluster.write("m.yaml", &format!("{BASE}{}{}", group(0, 3, "60s"), api(2)));
    let capacity = cluster.json(&["capacity", "-f", "m.yaml"]);
    let api = &capacity["workloads"][0];
    // Base is full; three members of 4 cpu would take 12 more.
    assert_eq!(api["fitsMore"], 0, "{capacity}");
    assert_eq!(api["withNodeGroups"]["fitsMore"], 12, "{capacity}");
}

#[test]
fn a_group_removed_from_the_set_drains_its_members() {
    let cluster = Cluster::new();
    cluster.write("m.yaml", &format!("{BASE}{}{}", group(1, 3, "60s"), api(1)));
    cluster.run(&["apply", "-f", "m.yaml"]).code(0);
    assert_eq!(node_names(&cluster), ["base", "general-0"]);
    let other = group(0, 2, "60s").replace("name: general", "name: spare");
    cluster.write("m.yaml", &format!("{BASE}{other}{}", api(1)));
    cluster.run(&["apply", "-f", "m.yaml"]).code(0);
    assert_eq!(node_names(&cluster), ["base"]);
    let groups = cluster.json(&["get", "nodegroups"]);
    assert_eq!(groups["items"].as_array().unwrap().len(), 1, "{groups}");
    assert_eq!(groups["items"][0]["name"], "spare");
}

/// What `capacity` counts with the groups at their maxSize is what the
/// loop places when a what-if scales the workload that far: the groups
/// grow to take them, and one more stays pending.
#[test]
fn capacity_with_node_groups_matches_what_the_loop_places() {
    let cluster = Cluster::new();
    cluster.write("m.yaml", &format!("{BASE}{}{}", group(0, 3, "60s"), api(2)));
    cluster.run(&["apply", "-f", "m.yaml"]).code(0);
    cluster
        .run(&["what-if", "-f", "m.yaml", "--scale", "api=14"])
        .code(0);
    cluster
        .run(&["what-if", "-f", "m.yaml", "--scale", "api=15"])
        .code(3)
        .stdout(contains("Deployment/default/api 1 pending"));
}

/// The example platform losing zone b: its general group (zone a) takes
/// the video worker the fixed fleet strands; the API's zone spread and the
/// database's node affinity are beyond any group.
#[test]
fn the_examples_general_group_takes_what_losing_zone_b_strands() {
    let cluster = Cluster::example();
    cluster.run(&["apply", "-f", "manifests/", "-q"]).code(0);
    let output = cluster
        .orch()
        .args([
            "what-if",
            "-f",
            "manifests/",
            "--fail-zone",
            "zone-b",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let status = |object: &str| {
        report["workloads"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["object"] == object)
            .map(|w| w["status"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(status("Deployment/default/video-worker"), "Available");
    assert_eq!(status("Deployment/default/api"), "Degraded");
    // db-0 keeps its identity, Terminating on its dead node.
    assert_eq!(status("StatefulSet/default/db"), "Unavailable");
}

/// The tables people read, whole (as `outputs.rs` keeps the others).
#[test]
fn get_and_describe_nodegroup_tables() {
    let cluster = Cluster::new();
    cluster.write("m.yaml", &format!("{BASE}{}{}", group(0, 3, "60s"), api(4)));
    cluster.run(&["apply", "-f", "m.yaml"]).code(0);
    cluster.write("m.yaml", &format!("{BASE}{}{}", group(0, 3, "60s"), api(8)));
    cluster
        .run(&["apply", "-f", "m.yaml", "--timeout", "30"])
        .code(3);
    let text = |args: &[&str]| {
        let output = cluster.orch().args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{args:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let tables = format!(
        "$ orch get nodegroups\n{}\n$ orch describe nodegroup general\n{}",
        text(&["get", "nodegroups"]),
        text(&["describe", "nodegroup", "general"])
    );
    insta::with_settings!({
        prepend_module_to_snapshot => false,
        omit_expression => true,
        description => "orch get nodegroups; orch describe nodegroup general (a member on its way)",
    }, {
        insta::assert_snapshot!("node_groups_tables", tables);
    });
}

/// The group's record reads back from a JSON state as from a YAML one:
/// a second apply does nothing.
#[test]
fn a_json_state_keeps_the_groups_record() {
    let cluster = Cluster::new();
    cluster.write("m.yaml", &format!("{BASE}{}{}", group(0, 3, "60s"), api(4)));
    cluster
        .run(&["apply", "-f", "m.yaml", "--state", "state.json"])
        .code(0);
    let state: Value =
        serde_json::from_slice(&std::fs::read(cluster.path("state.json")).unwrap()).unwrap();
    assert_eq!(state["nodeGroups"][0]["name"], "general", "{state}");
    assert_eq!(state["nodeGroups"][0]["lastScaleUp"], 0, "{state}");
    cluster
        .run(&["apply", "-f", "m.yaml", "--state", "state.json"])
        .code(0)
        .stdout(contains("No changes"));
}
