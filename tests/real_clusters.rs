//! End-to-end: a realistic export of a small GKE-like cluster
//! (`tests/fixtures/import/gke-cluster.yaml`: system DaemonSets, kube-proxy
//! mirror pods owned by their Node, an operator's pods owned by its custom
//! resource, a StatefulSet's pods, four PDBs, a NotReady node, managedFields
//! and status as kubectl prints them) imported, then planned against with an
//! unrelated application, failed node by node, drained; and the Helm and
//! kustomize inputs orch answers with the command that renders them.

use crate::common::Cluster;
use predicates::prelude::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

const NODE_A: &str = "gke-prod-pool-1-7c1a2b3d-0k2m";
const NODE_B: &str = "gke-prod-pool-1-7c1a2b3d-5x9q";
const NOT_READY: &str = "gke-prod-pool-1-9e8f7d6c-w7tr";

/// An application other than the fixture's `myapp/`.
const OTHER: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: cart\n  namespace: shop\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: cart}\n  template:\n    metadata:\n      labels: {app: cart}\n    spec:\n      containers:\n      - name: cart\n        resources:\n          requests: {cpu: 100m}\n";

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name)
        .display()
        .to_string()
}

fn imported() -> Cluster {
    let cluster = Cluster::new();
    cluster
        .run(&["import", "-f", &fixture("gke-cluster.yaml")])
        .success();
    cluster
}

fn export() -> Value {
    serde_saphyr::from_str(&fs::read_to_string(fixture("gke-cluster.yaml")).unwrap()).unwrap()
}

/// The export's running pods: name → (node, owner kind, cpu millicores requested).
fn exported_pods() -> BTreeMap<String, (String, String, i64)> {
    export()["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| item["kind"] == "Pod" && item["status"]["phase"] == "Running")
        .map(|pod| {
            let cpu: i64 = pod["spec"]["containers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| millicores(c["resources"]["requests"]["cpu"].as_str().unwrap_or("0")))
                .sum();
            (
                pod["metadata"]["name"].as_str().unwrap().to_string(),
                (
                    pod["spec"]["nodeName"].as_str().unwrap().to_string(),
                    pod["metadata"]["ownerReferences"][0]["kind"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    cpu,
                ),
            )
        })
        .collect()
}

/// `250m` or `2` (the only spellings the fixture uses).
fn millicores(text: &str) -> i64 {
    match text.strip_suffix('m') {
        Some(milli) => milli.parse().unwrap(),
        None => text.parse::<i64>().unwrap() * 1000,
    }
}

fn actions(plan: &Value) -> Vec<&Value> {
    plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["actions"].as_array().unwrap())
        .collect()
}

#[test]
fn import_keeps_every_running_pod_and_says_where_each_went() {
    let cluster = Cluster::new();
    let assert = cluster
        .run(&["import", "-f", &fixture("gke-cluster.yaml")])
        .success()
        .stdout(predicate::str::contains(
            "4 nodes, 5 workloads, 4 disruption budgets, 18 replicas (18 running, 0 pending; 6 unmanaged)",
        ))
        .stdout(predicate::str::contains("kept as unmanaged replicas"))
        .stderr(predicate::str::contains(
            "attributed 12 pods to 5 workloads (Deployments, DaemonSets, StatefulSets)",
        ))
        .stderr(predicate::str::contains("kept 6 pods as unmanaged"))
        .stderr(predicate::str::contains("4 mirror pods of static pods"))
        .stderr(predicate::str::contains("2 owned by a Cluster (pg-main-1, pg-main-2)"))
        .stderr(predicate::str::contains("owned by a StatefulSet").not());
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(
        !stderr.contains("dropped") && !stderr.contains("skipped 8"),
        "{stderr}"
    );

    let replicas: BTreeMap<String, Value> = cluster
        .replicas()
        .into_iter()
        .map(|r| (r["name"].as_str().unwrap().to_string(), r))
        .collect();
    let pods = exported_pods();
    assert_eq!(
        replicas.keys().collect::<Vec<_>>(),
        pods.keys().collect::<Vec<_>>()
    );
    for (name, (node, owner, _)) in &pods {
        let replica = &replicas[name];
        assert_eq!(replica["node"], node.as_str(), "{name}");
        let simulated = matches!(owner.as_str(), "ReplicaSet" | "DaemonSet" | "StatefulSet");
        // `managed` is written only for the pods orch does not manage.
        assert_eq!(replica.get("managed").is_none(), simulated, "{name}");
    }
    // The owner as its ownerReference names it: a mirror pod's Node, the
    // operator's custom resource; the StatefulSet's pods join it.
    let owner = |name: &str| replicas[name]["workload"].as_str().unwrap().to_string();
    assert_eq!(
        owner(&format!("kube-proxy-{NODE_A}")),
        format!("Node/{NODE_A}")
    );
    assert_eq!(owner("pg-main-1"), "Cluster/databases/pg-main");
    assert_eq!(
        owner("prometheus-k8s-0"),
        "StatefulSet/monitoring/prometheus-k8s"
    );
    // The table marks the unmanaged ones.
    cluster
        .run(&["get", "replicas"])
        .success()
        .stdout(predicate::str::contains(
            "Cluster/databases/pg-main (unmanaged)",
        ))
        .stdout(
            predicate::str::contains("StatefulSet/monitoring/prometheus-k8s (unmanaged)").not(),
        );
    // A selector reaches them by their own labels.
    let selected = cluster.json(&["get", "replicas", "-l", "cnpg.io/cluster=pg-main"]);
    assert_eq!(selected["items"].as_array().unwrap().len(), 2);
}

#[test]
fn node_usage_is_the_sum_of_every_pods_requests() {
    let cluster = imported();
    let mut expected: BTreeMap<String, (i64, usize)> = BTreeMap::new();
    for (node, _, cpu) in exported_pods().values() {
        let entry = expected.entry(node.clone()).or_default();
        entry.0 += cpu;
        entry.1 += 1;
    }
    let nodes = cluster.json(&["get", "nodes"]);
    let nodes = nodes["items"].as_array().unwrap();
    assert_eq!(nodes.len(), 4);
    for node in nodes {
        let name = node["name"].as_str().unwrap();
        let (cpu, pods) = expected[name];
        assert_eq!(
            millicores(node["requested"]["cpu"].as_str().unwrap()),
            cpu,
            "{name}"
        );
        assert_eq!(node["replicas"], pods as u64, "{name}");
    }
    assert_eq!(expected[NODE_B].0, 1005);
}

#[test]
fn an_unrelated_manifest_plans_on_the_cluster_and_deletes_nothing() {
    let cluster = imported();
    let plan = cluster.json(&["plan", "-f", &fixture("myapp")]);
    assert_eq!(plan["outcome"], "Converged");
    let ops: Vec<&str> = actions(&plan)
        .iter()
        .map(|a| a["op"].as_str().unwrap())
        .collect();
    assert!(
        !ops.iter()
            .any(|op| matches!(*op, "delete" | "evict" | "remove-workload" | "remove-node")),
        "{ops:?}"
    );
    assert_eq!(ops.iter().filter(|op| **op == "create").count(), 2);
    // The plan is judged on the -f set: the cluster's own DaemonSet, short a
    // replica on its NotReady node, does not block it.
    assert_eq!(plan["workloads"].as_array().unwrap().len(), 1);
    // Apply, then a plan without the application removes it and nothing else.
    cluster.run(&["apply", "-f", &fixture("myapp")]).success();
    cluster.write("other.yaml", OTHER);
    let plan = cluster.json(&["plan", "-f", "other.yaml"]);
    let removed: Vec<&str> = actions(&plan)
        .iter()
        .filter(|a| a["op"] == "remove-workload")
        .map(|a| a["object"].as_str().unwrap())
        .collect();
    assert_eq!(removed, ["Deployment/shop/checkout"]);
    let deleted: Vec<&str> = actions(&plan)
        .iter()
        .filter(|a| a["op"] == "delete")
        .map(|a| a["replica"].as_str().unwrap())
        .collect();
    assert_eq!(deleted.len(), 2);
    assert!(
        deleted.iter().all(|r| r.starts_with("checkout-")),
        "{deleted:?}"
    );
    // --no-prune keeps it; --prune-all with an empty set still leaves the
    // imported workloads alone.
    let kept = cluster.json(&["plan", "-f", "other.yaml", "--no-prune"]);
    assert!(!actions(&kept).iter().any(|a| a["op"] == "remove-workload"));
}

#[test]
fn declaring_an_imported_workload_adopts_it_for_pruning() {
    let cluster = imported();
    // The cluster's own manifest for web, applied: orch owns it from now on.
    let web = export()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "Deployment" && i["metadata"]["name"] == "web")
        .unwrap()["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
        .as_str()
        .unwrap()
        .to_string();
    cluster.write("web.json", &web);
    cluster
        .run(&["apply", "-f", "web.json", "-f", &fixture("myapp")])
        .success();
    let plan = cluster.json(&["plan", "-f", &fixture("myapp")]);
    let removed: Vec<&str> = actions(&plan)
        .iter()
        .filter(|a| a["op"] == "remove-workload")
        .map(|a| a["object"].as_str().unwrap())
        .collect();
    assert_eq!(removed, ["Deployment/shop/web"]);
}

#[test]
fn a_node_failure_is_blamed_only_for_what_it_breaks() {
    let cluster = imported();
    let before = cluster.state_bytes();
    let report = cluster.json(&["what-if", "-f", &fixture("myapp"), "--fail-node", NODE_A]);
    let budgets: BTreeMap<&str, &Value> = report["disruptionBudgets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["object"].as_str().unwrap(), b))
        .collect();
    // The replica budget of the database was unmet before (its replica runs
    // on the NotReady node): reported as such, not blamed on the failure.
    let replica = budgets["PodDisruptionBudget/databases/pg-main"];
    assert_eq!(replica["holds"], false);
    assert_eq!(replica["violatedBefore"], true);
    // Prometheus' budget counts the StatefulSet's pods orch does not manage:
    // two healthy before, one after (prometheus-k8s-0 was on the node).
    let prometheus = budgets["PodDisruptionBudget/monitoring/prometheus-k8s"];
    assert_eq!(
        (
            prometheus["healthyBefore"].as_i64(),
            prometheus["healthyAfter"].as_i64()
        ),
        (Some(2), Some(1))
    );
    assert_eq!(prometheus["holds"], true);
    assert_eq!(
        budgets["PodDisruptionBudget/kube-system/kube-dns"]["holds"],
        true
    );
    let workloads: BTreeMap<&str, &Value> = report["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["object"].as_str().unwrap(), w))
        .collect();
    // The cluster's own Deployments replace what the node held (completed
    // rollouts run no progress deadline), and the DaemonSet short before is no worse.
    for name in [
        "Deployment/kube-system/kube-dns",
        "Deployment/shop/web",
        "Deployment/shop/checkout",
    ] {
        assert_eq!(workloads[name]["status"], "Available", "{name}");
        assert_eq!(workloads[name]["lost"], 1, "{name}");
        assert_eq!(workloads[name]["placed"], 1, "{name}");
    }
    let daemon = workloads["DaemonSet/kube-system/fluentbit-gke"];
    assert_eq!(daemon["degradedBefore"], true);
    assert_eq!(daemon["onFailedNodes"], 1);
    // The StatefulSet's replica on the node keeps its identity, Terminating:
    // no replacement until the node is removed, as on a real cluster. That
    // is the one loss the failure causes.
    let set = workloads["StatefulSet/monitoring/prometheus-k8s"];
    assert_eq!(
        (
            set["status"].as_str(),
            set["lost"].as_i64(),
            set["placed"].as_i64()
        ),
        (Some("Degraded"), Some(1), Some(0))
    );
    assert_eq!(report["outcome"], "Degraded");

    let text = cluster
        .run(&["what-if", "-f", &fixture("myapp"), "--fail-node", NODE_A])
        .code(3)
        .stdout(predicate::str::contains("Violated (before too)"))
        .stdout(predicate::str::contains(
            "1 of 6 workloads lose availability; 0 of 4 disruption budgets violated.",
        ))
        .stdout(predicate::str::contains(
            "prometheus-k8s-0 is Terminating on node",
        ))
        // kube-dns dipped to 1 on the way (LOWEST), and ended whole.
        .stdout(
            predicate::str::is_match(
                r"Deployment/kube-system/kube-dns +2 +1 +1 +0 +2 → 2 +1 +Available",
            )
            .unwrap(),
        )
        .stdout(predicate::str::contains(
            "Already violated before the change: PodDisruptionBudget/databases/pg-main.",
        ))
        .stdout(predicate::str::contains("timed out progressing").not())
        .get_output()
        .stdout
        .clone();
    assert!(!text.is_empty());
    // The node holding the database primary: its budget is broken by the
    // failure (the pod is unmanaged: it stays, unready, and is never replaced).
    cluster
        .run(&["what-if", "-f", &fixture("myapp"), "--fail-node", NODE_B])
        .code(3)
        .stdout(predicate::str::contains(
            "PodDisruptionBudget/databases/pg-main-primary   minAvailable 1     1 → 0",
        ));
    assert_eq!(cluster.state_bytes(), before, "what-if never writes");
}

#[test]
fn what_if_and_capacity_prune_as_plan_does() {
    let cluster = imported();
    cluster.run(&["apply", "-f", &fixture("myapp")]).success();
    // With another set, checkout is pruned by default and kept with --no-prune.
    cluster.write("other.yaml", OTHER);
    let objects = |report: &Value| -> Vec<String> {
        report["workloads"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["object"].as_str().unwrap().to_string())
            .collect()
    };
    let pruned = cluster.json(&["what-if", "-f", "other.yaml", "--fail-node", NODE_A]);
    assert!(!objects(&pruned).contains(&"Deployment/shop/checkout".to_string()));
    assert!(objects(&pruned).contains(&"Deployment/shop/web".to_string()));
    // capacity converges the same way: checkout's 600m freed by default,
    // held with --no-prune.
    let cart_fits = |extra: &[&str]| -> i64 {
        let mut args = vec!["capacity", "-f", "other.yaml"];
        args.extend(extra);
        let document = cluster.json(&args);
        let cart = document["workloads"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["object"] == "Deployment/shop/cart")
            .unwrap()
            .clone();
        cart["fitsMore"].as_i64().unwrap()
    };
    assert_eq!((cart_fits(&[]), cart_fits(&["--no-prune"])), (28, 22));
    cluster
        .run(&["capacity", "-f", "other.yaml", "--prune-all", "--no-prune"])
        .code(1)
        .stderr(predicate::str::contains("cannot be used with"));
}

#[test]
fn unmanaged_pods_are_never_evicted_replaced_or_drained() {
    // The imported StatefulSet is not in `myapp`: its replica on the failed
    // node holds its identity and the apply reports it (exit 3).
    let cluster = imported();
    cluster.run(&["node", "fail", NODE_A]).success();
    cluster
        .run(&["apply", "-f", &fixture("myapp"), "--timeout", "900"])
        .success();
    let replicas: BTreeMap<String, Value> = cluster
        .replicas()
        .into_iter()
        .map(|r| (r["name"].as_str().unwrap().to_string(), r))
        .collect();
    // Past the eviction delay: the managed replicas left the failed node, the
    // unmanaged ones are still there (unready), and none was made anew.
    for name in [
        format!("kube-proxy-{NODE_A}"),
        "prometheus-k8s-0".to_string(),
    ] {
        assert_eq!(replicas[&name]["node"], NODE_A, "{name}");
        assert_eq!(replicas[&name]["ready"], false, "{name}");
    }
    // (The StatefulSet's replica stays too, Terminating: its identity is
    // not replaced while the node is there.)
    assert_eq!(replicas["prometheus-k8s-0"]["phase"], "Terminating");
    assert!(!replicas.values().any(|r| r["node"] == NODE_A
        && r.get("managed").is_none()
        && !r["workload"].as_str().unwrap().starts_with("DaemonSet/")
        && !r["workload"].as_str().unwrap().starts_with("StatefulSet/")));
    assert_eq!(
        replicas
            .keys()
            .filter(|n| n.starts_with("prometheus-k8s-"))
            .count(),
        2
    );
    // A drain passes over them (as over mirror pods) and finishes.
    cluster.run(&["node", "drain", NODE_B]).success();
    let after = cluster.replicas();
    assert!(
        after
            .iter()
            .any(|r| r["name"] == "pg-main-1" && r["node"] == NODE_B),
        "the operator's pod stays on the drained node"
    );
}

#[test]
fn a_budget_counts_every_pod_it_selects_whoever_owns_it() {
    let cluster = imported();
    // kubectl drain would be refused here as well: the primary's budget
    // (minAvailable 1, its only pod healthy) allows no eviction, and the
    // drain of the node that holds it passes the pod over rather than evict it.
    let report = cluster.json(&["what-if", "-f", &fixture("myapp"), "--fail-node", NOT_READY]);
    let budgets = report["disruptionBudgets"].as_array().unwrap();
    let primary = budgets
        .iter()
        .find(|b| b["object"] == "PodDisruptionBudget/databases/pg-main-primary")
        .unwrap();
    assert_eq!(primary["expected"], 1);
    assert_eq!(primary["healthyBefore"], 1);
}

#[test]
fn an_old_imported_state_migrates_to_imported_ownership() {
    let cluster = imported();
    // The same state as an orch that did not record origins wrote it.
    let text = String::from_utf8(cluster.state_bytes()).unwrap();
    let old: String = text
        .lines()
        .filter(|l| l.trim() != "origin: Imported")
        .map(|l| l.replace("source: Imported", "source: Manifest") + "\n")
        .collect();
    assert_ne!(old, text);
    cluster.write("orch.state.yaml", &old);
    let plan = cluster.json(&["plan", "-f", &fixture("myapp")]);
    assert!(
        !actions(&plan).iter().any(|a| matches!(
            a["op"].as_str(),
            Some("delete" | "remove-workload" | "remove-node")
        )),
        "an untouched old import is the cluster's own, never pruned"
    );
    // Once a loop ran on it (events), the workloads without an origin are
    // the ones apply wrote: an applied state keeps pruning as it did.
    let applied = Cluster::new();
    applied
        .run(&[
            "apply",
            "-f",
            &fixture("manifests/nodes.yaml"),
            "-f",
            &fixture("myapp"),
        ])
        .success();
    let text = String::from_utf8(applied.state_bytes()).unwrap();
    assert!(
        !text.contains("origin:"),
        "applied workloads write no origin"
    );
    applied.write("other.yaml", OTHER);
    let plan = applied.json(&[
        "plan",
        "-f",
        &fixture("manifests/nodes.yaml"),
        "-f",
        "other.yaml",
    ]);
    assert!(actions(&plan).iter().any(|a| a["op"] == "remove-workload"));
}

#[test]
fn the_time_column_keeps_seconds_past_an_hour() {
    let cluster = imported();
    // The export's clock: 1441h41m13s after its oldest object.
    cluster
        .run(&["plan", "-f", &fixture("myapp")])
        .success()
        .stdout(predicate::str::contains("1441h41m13s   + create"));
}

#[test]
fn helm_charts_and_kustomizations_are_answered_with_the_command_that_renders_them() {
    let cluster = Cluster::new();
    cluster.write(
        "chart/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    );
    let template = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}-web\n  labels:\n    {{- include \"web.labels\" . | nindent 4 }}\nspec:\n  replicas: {{ .Values.replicas }}\n";
    cluster.write("chart/templates/deployment.yaml", template);
    cluster.write("overlay/kustomization.yaml", "resources:\n- ../base\n");
    cluster.write(
        "overlay/patch.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n",
    );
    cluster.write(
        "build.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- deployment.yaml\n",
    );
    for (args, message) in [
        (
            vec!["plan", "-f", "chart"],
            "chart: a Helm chart (Chart.yaml); orch reads the manifests it renders: helm template RELEASE chart",
        ),
        (
            vec!["validate", "-f", "chart/Chart.yaml"],
            "a Helm chart (Chart.yaml)",
        ),
        (
            vec!["apply", "-f", "overlay"],
            "overlay: a kustomization (kustomization.yaml); orch reads the manifests it builds: kubectl kustomize overlay",
        ),
        (
            vec!["validate", "-f", "chart/templates"],
            "chart/templates/deployment.yaml:4:9: a Helm (Go) template, not a manifest: render it first with `helm template RELEASE CHART > rendered.yaml`",
        ),
        (
            vec!["validate", "-f", "build.yaml"],
            "kubectl kustomize DIR > rendered.yaml",
        ),
    ] {
        let assert = cluster
            .run(&args)
            .code(1)
            .stderr(predicate::str::contains(message));
        // One clear error, not the parser's view of template syntax.
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
        assert!(!stderr.contains("only valid inside"), "{args:?}: {stderr}");
        assert!(!cluster.state().exists());
    }
    // A quoted template action in a valid manifest is a value like any other.
    cluster.write(
        "alerts.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: alerts\ndata:\n  summary: \"{{ $labels.instance }} is down\"\n",
    );
    cluster.run(&["validate", "-f", "alerts.yaml"]).success();
}

#[test]
fn explain_of_a_workload_explains_its_pending_replicas() {
    let cluster = Cluster::new();
    cluster.write(
        "m.yaml",
        "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nstatus: {allocatable: {cpu: \"2\", memory: 4Gi}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  replicas: 3\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n    spec:\n      containers:\n      - name: api\n        resources: {requests: {cpu: 900m}}\n",
    );
    cluster.run(&["apply", "-f", "m.yaml"]).code(3);
    for name in ["Deployment/default/api", "Deployment/api"] {
        cluster
            .run(&["explain", name])
            .success()
            .stdout(predicate::str::contains(
                "Deployment/default/api: 1 of 3 replicas pending (api-",
            ))
            .stdout(predicate::str::contains("Phase:     Pending"))
            .stdout(predicate::str::contains(
                "NodeResourcesFit: Insufficient cpu",
            ));
    }
    cluster.write(
        "m.yaml",
        &fs::read_to_string(cluster.path("m.yaml"))
            .unwrap()
            .replace("replicas: 3", "replicas: 2"),
    );
    cluster.run(&["apply", "-f", "m.yaml"]).success();
    cluster
        .run(&["explain", "Deployment/default/api"])
        .code(1)
        .stderr(predicate::str::contains("has no pending replica"));
}
