//! The spread audit end to end: a rolling update whose new replicas were
//! placed while the old ones still counted ends skewed beyond maxSkew, and
//! plan and apply say so with the numbers; a balanced state says nothing.

use crate::common::{self, Cluster};

const NODES: &str = "apiVersion: v1
kind: Node
metadata: {name: node-a1, labels: {topology.kubernetes.io/zone: zone-a}}
status: {allocatable: {cpu: \"8\", memory: 16Gi, pods: \"110\"}}
---
apiVersion: v1
kind: Node
metadata: {name: node-b1, labels: {topology.kubernetes.io/zone: zone-b}}
status: {allocatable: {cpu: \"8\", memory: 16Gi, pods: \"110\"}}
---
apiVersion: v1
kind: Node
metadata: {name: node-c1, labels: {topology.kubernetes.io/zone: zone-c}}
status: {allocatable: {cpu: \"8\", memory: 16Gi, pods: \"110\"}}
";

/// `api` ×3, surging 100 % without going unavailable; `pod` is the rest of
/// the pod spec (placement rules).
fn api(image: &str, pod: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata: {{name: api}}
spec:
  replicas: 3
  selector: {{matchLabels: {{app: api}}}}
  strategy: {{type: RollingUpdate, rollingUpdate: {{maxSurge: 100%, maxUnavailable: 0}}}}
  template:
    metadata: {{labels: {{app: api}}}}
    spec:
{pod}      containers:
        - name: api
          image: {image}
          resources: {{requests: {{cpu: 500m, memory: 256Mi}}}}
"
    )
}

const PINNED_TO_ZONE_A: &str = "      nodeSelector: {topology.kubernetes.io/zone: zone-a}\n";
const ZONE_SPREAD: &str = "      topologySpreadConstraints:
        - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: api}}}
";
const WARNING: &str = "warning: Deployment/default/api: topology spread on topology.kubernetes.io/zone: skew 2 exceeds maxSkew 1 (zone-a 0, zone-b 2, zone-c 1)\n";

/// Three replicas all in zone-a, then a template that spreads over the zones.
fn rolled_off_zone_a() -> Cluster {
    let cluster = Cluster::new();
    cluster.write("m/nodes.yaml", NODES);
    cluster.write("m/api.yaml", &api("example/api:1", PINNED_TO_ZONE_A));
    cluster.run(&["apply", "-f", "m", "-q"]).success();
    cluster.write("m/api.yaml", &api("example/api:2", ZONE_SPREAD));
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
    cluster.write("m/nodes.yaml", NODES);
    cluster.write("m/api.yaml", &api("example/api:1", ZONE_SPREAD));
    cluster.run(&["apply", "-f", "m"]).success().stderr("");
    cluster.write("m/api.yaml", &api("example/api:2", ZONE_SPREAD));
    cluster.run(&["apply", "-f", "m"]).success().stderr("");
    assert_eq!(
        common::nodes_on(&cluster.replicas()),
        ["node-a1", "node-b1", "node-c1"]
    );
    let document = cluster.json(&["plan", "-f", "m"]);
    assert_eq!(document["warnings"], serde_json::json!([]));
}
