//! The rollout steps where orch once differed from Kubernetes' controllers
//! (issue 21), each told by `plan -o json`'s step-by-step counts: a size and
//! a template changed together, proportional scaling after a surge change,
//! a paused Deployment scaled, a scale to 0 mid-rollout, and DaemonSet
//! surge over unavailable old pods.

use crate::common::{Cluster, node};
use serde_json::Value;

/// A Deployment with its strategy, image and pod annotations.
fn deployment(replicas: i32, strategy: &str, image: &str, annotations: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: {replicas}\n  strategy: {strategy}\n  selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n      annotations: {{{annotations}}}\n    spec:\n      containers:\n        - name: main\n          image: {image}\n          resources:\n            requests: {{cpu: 10m, memory: 16Mi}}\n"
    )
}

fn rolling(surge: &str, unavailable: &str) -> String {
    format!(
        "{{type: RollingUpdate, rollingUpdate: {{maxSurge: {surge}, maxUnavailable: {unavailable}}}}}"
    )
}

/// A cluster of two roomy nodes and `web`.
fn cluster(web: &str) -> Cluster {
    let cluster = Cluster::new();
    let nodes = node("n1").cpu("64").pods("500").yaml() + &node("n2").cpu("64").pods("500").yaml();
    cluster.write("manifests/nodes.yaml", &nodes);
    cluster.write("manifests/web.yaml", web);
    cluster
}

/// `apply`, whatever its outcome (a stalled rollout is set up on purpose).
fn apply(cluster: &Cluster, extra: &[&str]) {
    cluster
        .orch()
        .args(["apply", "-f", "manifests/", "-q"])
        .args(extra)
        .output()
        .unwrap();
}

fn plan(cluster: &Cluster) -> Value {
    cluster.json(&["plan", "-f", "manifests/"])
}

/// Per step, (current, updated) of one workload.
fn counts(doc: &Value, object: &str) -> Vec<(i64, i64)> {
    doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|step| {
            let s = step["status"]
                .as_array()?
                .iter()
                .find(|s| s["object"] == object)?;
            Some((s["current"].as_i64()?, s["updated"].as_i64()?))
        })
        .collect()
}

const WEB: &str = "Deployment/default/web";

/// Case 1: 10 settled replicas, then 20 with a new image. Kubernetes first
/// scales the old ReplicaSet to 20 (a scaling event, `syncDeployment`), then
/// rolls: 5 new at once and the 5 old replicas not yet available go. orch
/// used to start at old 10 / new 15.
#[test]
fn replicas_and_template_changed_together_scale_first() {
    let cluster = cluster(&deployment(10, &rolling("25%", "25%"), "web:1", ""));
    apply(&cluster, &[]);
    cluster.write(
        "manifests/web.yaml",
        &deployment(20, &rolling("25%", "25%"), "web:2", ""),
    );
    let steps = counts(&plan(&cluster), WEB);
    assert_eq!(steps[..2], [(20, 0), (20, 5)], "{steps:?}");
    assert_eq!(steps.last(), Some(&(20, 20)));
}

/// Case 1, Recreate: 3 → 6 with a new image grows the old revision to 6,
/// then removes it, then starts 6 new.
#[test]
fn recreate_with_a_new_size_scales_the_old_revision_first() {
    let cluster = cluster(&deployment(3, "{type: Recreate}", "web:1", ""));
    apply(&cluster, &[]);
    cluster.write(
        "manifests/web.yaml",
        &deployment(6, "{type: Recreate}", "web:2", ""),
    );
    let steps = counts(&plan(&cluster), WEB);
    assert_eq!(steps[..3], [(6, 0), (0, 0), (6, 6)], "{steps:?}");
}

/// Case 1, scaling down: 7 → 1 with a new template and maxUnavailable 100%
/// keeps one replica at every step (old shrinks to 1 first); orch used to
/// remove all 7 before the new one existed.
#[test]
fn scaling_down_with_a_new_template_keeps_a_replica() {
    let cluster = cluster(&deployment(7, &rolling("25%", "100%"), "web:1", ""));
    apply(&cluster, &[]);
    cluster.write(
        "manifests/web.yaml",
        &deployment(1, &rolling("25%", "100%"), "web:2", ""),
    );
    let steps = counts(&plan(&cluster), WEB);
    assert_eq!(steps[..2], [(1, 0), (1, 1)], "{steps:?}");
    assert!(steps.iter().all(|(current, _)| *current >= 1), "{steps:?}");
}

/// Stall `web` at old 8 / new 5: 10 replicas, maxSurge 3, maxUnavailable 2,
/// and a new version that never gets ready.
fn stalled_at_8_and_5() -> Cluster {
    let cluster = cluster(&deployment(10, &rolling("3", "2"), "web:1", ""));
    apply(&cluster, &[]);
    cluster.write(
        "manifests/web.yaml",
        &deployment(
            10,
            &rolling("3", "2"),
            "web:2",
            "orch.dev/simulate: never-ready",
        ),
    );
    apply(&cluster, &["--timeout", "30"]);
    let replicas = cluster.replicas();
    let new = replicas.iter().filter(|r| r["revision"] == 2).count();
    assert_eq!((replicas.len() - new, new), (8, 5));
    cluster
}

/// Case 2 (`sync_test.go` TestScale "change both surge and size"): stalled
/// at 8/5 with maxSurge 3, then replicas 50 and maxSurge 6: each revision
/// grows by the fraction of the `max-replicas` it was annotated with (13),
/// 34/22; orch used to divide by 10 + 6 and give 38/18.
#[test]
fn proportional_scaling_reads_the_previous_max_replicas() {
    let cluster = stalled_at_8_and_5();
    cluster.write(
        "manifests/web.yaml",
        &deployment(
            50,
            &rolling("6", "2"),
            "web:2",
            "orch.dev/simulate: never-ready",
        ),
    );
    let steps = counts(&plan(&cluster), WEB);
    assert_eq!(steps[0], (56, 22), "{steps:?}");
}

/// Case 4: scaled to 0 mid-rollout with an integer maxSurge, every replica
/// goes in one step (`allowedSize` is 0); orch used to keep 3 a step longer.
#[test]
fn scaling_to_zero_mid_rollout_takes_one_step() {
    let cluster = stalled_at_8_and_5();
    cluster.write(
        "manifests/web.yaml",
        &deployment(
            0,
            &rolling("3", "2"),
            "web:2",
            "orch.dev/simulate: never-ready",
        ),
    );
    let steps = counts(&plan(&cluster), WEB);
    assert_eq!(steps[0], (0, 0), "{steps:?}");
}

/// Case 3: a paused Deployment is still scaled (`syncDeployment` → `sync`
/// → `scale`). Settled at 4 and paused, replicas 6: 6, and the paused new
/// template is not rolled out.
#[test]
fn a_paused_deployment_is_scaled() {
    let cluster = cluster(&deployment(4, &rolling("25%", "25%"), "web:1", ""));
    apply(&cluster, &[]);
    cluster.run(&["rollout", "pause", "web"]).success();
    cluster.write(
        "manifests/web.yaml",
        &deployment(6, &rolling("25%", "25%"), "web:2", ""),
    );
    let doc = plan(&cluster);
    let steps = counts(&doc, WEB);
    assert!(
        !steps.is_empty() && steps.iter().all(|s| *s == (6, 0)),
        "{steps:?}"
    );
    let workload = &doc["workloads"][0];
    assert_eq!(workload["blocked"]["reason"], "Paused", "{workload}");
}

/// Case 3, mid-rollout: paused at old 3 / new 2 (maxSurge 0,
/// maxUnavailable 2, 5 replicas), then 10 replicas: proportionally 6/4.
#[test]
fn a_paused_rollout_is_scaled_proportionally() {
    let cluster = cluster(&deployment(5, &rolling("0", "2"), "web:1", ""));
    apply(&cluster, &[]);
    cluster.write(
        "manifests/web.yaml",
        &deployment(
            5,
            &rolling("0", "2"),
            "web:2",
            "orch.dev/simulate: never-ready",
        ),
    );
    apply(&cluster, &["--timeout", "30"]);
    cluster.run(&["rollout", "pause", "web"]).success();
    cluster.write(
        "manifests/web.yaml",
        &deployment(
            10,
            &rolling("0", "2"),
            "web:2",
            "orch.dev/simulate: never-ready",
        ),
    );
    let steps = counts(&plan(&cluster), WEB);
    assert_eq!(steps[0], (10, 4), "{steps:?}");
}

fn daemonset(strategy: &str, image: &str, annotations: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: agent\nspec:\n  selector:\n    matchLabels: {{app: agent}}\n  updateStrategy: {strategy}\n  template:\n    metadata:\n      labels: {{app: agent}}\n      annotations: {{{annotations}}}\n    spec:\n      containers:\n        - name: main\n          image: {image}\n          resources:\n            requests: {{cpu: 10m, memory: 16Mi}}\n"
    )
}

/// Case 5 (`update_test.go` TestDaemonSetUpdatesAllOldPodsNotReadyMaxSurge):
/// with maxSurge, every node whose old pod is unavailable gets its new pod
/// beside it at once, beyond maxSurge, and the old pods go on the next
/// sync; orch used to delete the old pods first.
#[test]
fn a_daemonset_surges_over_unavailable_old_pods() {
    let surge = "{type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}";
    let cluster = cluster(&daemonset(
        surge,
        "agent:1",
        "orch.dev/simulate: never-ready",
    ));
    apply(&cluster, &[]);
    cluster.write("manifests/web.yaml", &daemonset(surge, "agent:2", ""));
    let steps = counts(&plan(&cluster), "DaemonSet/default/agent");
    assert_eq!(steps[..2], [(4, 2), (2, 2)], "{steps:?}");
}

/// Case 6, as Kubernetes 1.34 does it (`rollingUpdate` counts an old pod
/// that is not available against maxUnavailable since kubernetes#123233,
/// v1.31): 4 nodes, maxUnavailable 1, one old replica crashed: the crashed
/// one is replaced, and no available one goes with it. (The "2" is
/// the controller before v1.31; orch already did this.)
#[test]
fn a_crashed_old_daemon_replica_uses_the_unavailability_budget() {
    let cluster = Cluster::new();
    let mut nodes = String::new();
    for name in ["n1", "n2", "n3", "n4"] {
        nodes += &node(name).cpu("8").yaml();
    }
    cluster.write("manifests/nodes.yaml", &nodes);
    let unavailable = "{type: RollingUpdate, rollingUpdate: {maxUnavailable: 1}}";
    cluster.write(
        "manifests/agent.yaml",
        &daemonset(unavailable, "agent:1", ""),
    );
    apply(&cluster, &[]);
    let replicas = cluster.replicas();
    let crashed = replicas[2]["name"].as_str().unwrap().to_string();
    cluster.run(&["replica", "crash", &crashed]).success();
    cluster.write(
        "manifests/agent.yaml",
        &daemonset(unavailable, "agent:2", ""),
    );
    let doc = plan(&cluster);
    let first = &doc["steps"][0]["actions"];
    let deleted: Vec<&str> = first
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["op"] == "delete")
        .map(|a| a["replica"].as_str().unwrap())
        .collect();
    assert_eq!(deleted, [crashed.as_str()], "{first}");
}
