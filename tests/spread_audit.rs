//! The spread audit end to end: a rolling update whose new replicas were
//! placed while the old ones still counted ends skewed beyond maxSkew, and
//! plan and apply say so with the numbers; a balanced state says nothing.

use crate::common::{self, Cluster, Deployment, deployment, node, yaml};

const ZONE: &str = "topology.kubernetes.io/zone";

/// One 8-CPU node in each of three zones.
fn nodes() -> String {
    yaml(&[
        &node("node-a1").cpu("8").memory("16Gi").zone("zone-a"),
        &node("node-b1").cpu("8").memory("16Gi").zone("zone-b"),
        &node("node-c1").cpu("8").memory("16Gi").zone("zone-c"),
    ])
}

/// `api` ×3, surging 100 % without going unavailable.
fn api(image: &str) -> Deployment {
    deployment("api")
        .replicas(3)
        .rolling_update("100%", "0")
        .cpu("500m")
        .memory("256Mi")
        .image(image)
}

const WARNING: &str = "warning: Deployment/default/api: topology spread on topology.kubernetes.io/zone: skew 2 exceeds maxSkew 1 (zone-a 0, zone-b 2, zone-c 1)\n";

/// Three replicas all in zone-a, then a template that spreads over the zones.
fn rolled_off_zone_a() -> Cluster {
    let cluster = Cluster::new();
    cluster.write("m/nodes.yaml", &nodes());
    cluster.write(
        "m/api.yaml",
        &api("example/api:1").node_selector(ZONE, "zone-a").yaml(),
    );
    cluster.run(&["apply", "-f", "m", "-q"]).success();
    cluster.write("m/api.yaml", &api("example/api:2").spread(ZONE, 1).yaml());
    cluster
}

#[test]
fn a_rollout_that_ends_skewed_is_reported_with_its_numbers() {
    let cluster = rolled_off_zone_a();
    // The new replicas went to zone-b, zone-c, zone-b: zone-a still held the
    // three old ones, so it was the fullest domain each time; once the old
    // replicas are gone, zone-a is empty.
    let plan = cluster.run(&["plan", "-f", "m"]).success();
    let stderr = String::from_utf8(plan.get_output().stderr.clone()).unwrap();
    assert_eq!(stderr, WARNING);

    let applied = cluster.run(&["apply", "-f", "m"]).code(0);
    let stderr = String::from_utf8(applied.get_output().stderr.clone()).unwrap();
    assert_eq!(stderr, WARNING);
    assert_eq!(
        common::nodes_on(&cluster.replicas()),
        ["node-b1", "node-b1", "node-c1"]
    );

    // The state stays skewed (Kubernetes does not rebalance): a later plan
    // with nothing to do reports it again, and the document carries it.
    let document = cluster.json(&["plan", "-f", "m"]);
    assert_eq!(document["outcome"], "NoChanges");
    assert_eq!(
        document["warnings"],
        serde_json::json!([{
            "object": "Deployment/default/api",
            "kind": "TopologySpreadSkew",
            "topologyKey": "topology.kubernetes.io/zone",
            "whenUnsatisfiable": "DoNotSchedule",
            "maxSkew": 1,
            "skew": 2,
            "domains": {"zone-a": 0, "zone-b": 2, "zone-c": 1},
            "message": "topology spread on topology.kubernetes.io/zone: skew 2 exceeds maxSkew 1 (zone-a 0, zone-b 2, zone-c 1)"
        }])
    );
    // In document mode stderr stays free of it; -q silences it in tables.
    let output = cluster
        .orch()
        .args(["plan", "-f", "m", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
    cluster.run(&["plan", "-f", "m", "-q"]).stderr("");
    // In CI, a warning annotation at the Deployment's declaration.
    let github = cluster.run(&["plan", "-f", "m", "-o", "github"]).success();
    let stdout = String::from_utf8(github.get_output().stdout.clone()).unwrap();
    let line = stdout
        .lines()
        .find(|l| l.contains("topology spread skewed"))
        .unwrap_or_else(|| panic!("a spread annotation in {stdout}"));
    assert!(line.starts_with("::warning file=m/"), "{line}");
    assert!(
        line.ends_with(",title=Deployment/default/api topology spread skewed::topology spread on topology.kubernetes.io/zone: skew 2 exceeds maxSkew 1 (zone-a 0, zone-b 2, zone-c 1)"),
        "{line}"
    );
}

#[test]
fn a_balanced_rollout_prints_no_warning() {
    let cluster = Cluster::new();
    cluster.write("m/nodes.yaml", &nodes());
    cluster.write("m/api.yaml", &api("example/api:1").spread(ZONE, 1).yaml());
    cluster.run(&["apply", "-f", "m"]).success().stderr("");
    cluster.write("m/api.yaml", &api("example/api:2").spread(ZONE, 1).yaml());
    cluster.run(&["apply", "-f", "m"]).success().stderr("");
    assert_eq!(
        common::nodes_on(&cluster.replicas()),
        ["node-a1", "node-b1", "node-c1"]
    );
    let document = cluster.json(&["plan", "-f", "m"]);
    assert_eq!(document["warnings"], serde_json::json!([]));
}
