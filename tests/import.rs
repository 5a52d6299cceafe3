//! End-to-end: `orch import` of a live cluster export (`kubectl get … -o yaml`),
//! then `plan` with the cluster's own manifests.

use crate::common::Cluster;
use predicates::prelude::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name)
        .display()
        .to_string()
}

fn cluster_text() -> String {
    fs::read_to_string(fixture("cluster.yaml")).unwrap()
}

/// The fixture's pods as (name → (namespace, owner kind, node, phase)).
fn fixture_pods() -> BTreeMap<String, (String, String, String, String)> {
    let list: Value = serde_saphyr::from_str(&cluster_text()).unwrap();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| item["kind"] == "Pod")
        .map(|pod| {
            let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
            (
                text(&pod["metadata"]["name"]),
                (
                    text(&pod["metadata"]["namespace"]),
                    text(&pod["metadata"]["ownerReferences"][0]["kind"]),
                    text(&pod["spec"]["nodeName"]),
                    text(&pod["status"]["phase"]),
                ),
            )
        })
        .collect()
}

/// 1-based line of the first line containing `needle` after the line containing `after`.
fn line_of(text: &str, after: &str, needle: &str) -> usize {
    let start = text.lines().position(|l| l.contains(after)).unwrap();
    start
        + text
            .lines()
            .skip(start)
            .position(|l| l.contains(needle))
            .unwrap()
        + 1
}

#[test]
fn an_imported_cluster_plans_no_changes_against_its_own_manifests() {
    let cluster = Cluster::new();
    cluster
        .run(&["import", "-f", &fixture("cluster.yaml")])
        .success()
        .stdout(predicate::str::contains(
            "6 nodes, 5 workloads, 2 disruption budgets, 18 replicas (18 running, 0 pending; 1 unmanaged)",
        ));
    cluster
        .run(&["plan", "-f", &fixture("manifests"), "--detailed-exitcode"])
        .code(0)
        .stdout(predicate::str::contains("No changes."));

    // Every pod of a Deployment or DaemonSet is a replica on its node.
    let replicas: BTreeMap<String, Value> = cluster
        .replicas()
        .into_iter()
        .map(|r| (r["name"].as_str().unwrap().to_string(), r))
        .collect();
    let pods = fixture_pods();
    let managed: Vec<_> = pods
        .iter()
        .filter(|(_, (_, owner, _, phase))| {
            (owner == "ReplicaSet" || owner == "DaemonSet") && phase == "Running"
        })
        .collect();
    assert_eq!(managed.len(), 17);
    // Every running pod is kept; the one without an owner is unmanaged.
    assert_eq!(replicas.len(), managed.len() + 1);
    assert_eq!(replicas["debug-shell"]["managed"], false);
    assert_eq!(
        replicas["debug-shell"]["workload"],
        "Pod/default/debug-shell"
    );
    for (name, (namespace, owner, node, _)) in managed {
        let replica = &replicas[name];
        assert_eq!(replica["node"], node.as_str(), "{name}");
        assert_eq!(replica["phase"], "Running", "{name}");
        assert_eq!(replica["ready"], true, "{name}");
        let workload = replica["workload"].as_str().unwrap();
        let kind = if owner == "DaemonSet" {
            "DaemonSet"
        } else {
            "Deployment"
        };
        assert!(
            workload.starts_with(&format!("{kind}/{namespace}/")),
            "{name} attributed to {workload}"
        );
    }
    // Kubernetes' revision numbers are kept: api runs its third, web its second.
    assert!(
        replicas
            .values()
            .filter(|r| r["workload"] == "Deployment/shop/api")
            .all(|r| r["revision"] == 3)
    );
    assert!(
        replicas
            .values()
            .filter(|r| r["workload"] == "Deployment/default/web")
            .all(|r| r["revision"] == 2)
    );
}

#[test]
fn revision_history_and_the_next_rollout_continue_from_kubernetes_numbers() {
    let cluster = Cluster::new();
    cluster
        .run(&["import", "-f", &fixture("cluster.yaml")])
        .success();
    cluster
        .run(&["rollout", "history", "Deployment/shop/api"])
        .success()
        .stdout(predicate::str::contains(
            "registry.example.com/shop/api:2.7.0",
        ))
        .stdout(predicate::str::contains(
            "registry.example.com/shop/api:2.8.0",
        ))
        .stdout(
            predicate::str::is_match(
                r"3 \(current\)\s+\S+\s+4\s+registry.example.com/shop/api:2.8.1",
            )
            .unwrap(),
        );

    let manifests = cluster.path("manifests");
    fs::create_dir_all(&manifests).unwrap();
    for entry in fs::read_dir(fixture("manifests")).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), manifests.join(entry.file_name())).unwrap();
    }
    let web = fs::read_to_string(manifests.join("web.yaml")).unwrap();
    fs::write(
        manifests.join("web.yaml"),
        web.replace("nginx:1.27.3", "nginx:1.27.4"),
    )
    .unwrap();
    let plan = cluster.json(&["plan", "-f", "manifests/"]);
    let actions: Vec<&Value> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["actions"].as_array().unwrap())
        .collect();
    assert!(
        actions
            .iter()
            .any(|a| a["op"] == "record-revision" && a["revision"] == 3),
        "the web rollout records revision 3: {actions:?}"
    );
    let touched: Vec<&str> = actions
        .iter()
        .filter(|a| a["op"] == "create" || a["op"] == "delete")
        .map(|a| a["object"].as_str().unwrap())
        .collect();
    assert!(!touched.is_empty());
    assert!(
        touched.iter().all(|o| *o == "Deployment/default/web"),
        "{touched:?}"
    );
}

#[test]
fn skipped_pods_and_unknown_kinds_are_noted_not_fatal() {
    let cluster = Cluster::new();
    let text = cluster_text().replacen(
        "items:\n",
        "items:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: settings\n    namespace: shop\n  data:\n    mode: live\n",
        1,
    );
    cluster.write("cluster.yaml", &text);
    cluster
        .run(&["import", "-f", "cluster.yaml"])
        .success()
        .stderr(predicate::str::contains(
            "cluster.yaml:5: skipping 1 ConfigMap (v1) object",
        ))
        .stderr(predicate::str::contains("kept 1 pod as unmanaged"))
        .stderr(predicate::str::contains("1 without an owner (debug-shell)"))
        .stderr(predicate::str::contains(
            "not kept 1 pod that finished or are terminating: 1 finished (Succeeded) (db-migrate-29410560-x7k2p)",
        ))
        .stderr(predicate::str::contains("dropped").not())
        .stderr(predicate::str::contains("skipped").not());
}

#[test]
fn import_is_deterministic_private_and_refuses_to_overwrite_without_force() {
    let cluster = Cluster::new();
    cluster
        .run(&["import", "-f", &fixture("cluster.yaml")])
        .success();
    let first = cluster.state_bytes();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(cluster.state()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    cluster
        .run(&["import", "-f", &fixture("cluster.yaml")])
        .code(1)
        .stderr(predicate::str::contains(
            "already holds 6 nodes, 7 workloads and 18 replicas; use --force to replace it",
        ));
    assert_eq!(cluster.state_bytes(), first);
    cluster
        .run(&["import", "-f", &fixture("cluster.yaml"), "--force"])
        .success();
    assert_eq!(
        cluster.state_bytes(),
        first,
        "the same export imports to the same state"
    );
}

#[test]
fn the_import_document_maps_kubernetes_hashes_to_revisions() {
    let cluster = Cluster::new();
    let document = cluster.json(&["import", "-f", &fixture("cluster.yaml")]);
    assert_eq!(document["apiVersion"], "orch.dev/v1");
    assert_eq!(document["kind"], "ImportResult");
    let api = document["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["object"] == "Deployment/shop/api")
        .unwrap();
    assert_eq!(api["specFrom"], "live");
    let revisions = api["revisions"].as_array().unwrap();
    assert_eq!(revisions.len(), 3);
    let current = &revisions[2];
    assert_eq!(current["revision"], 3);
    assert_eq!(current["replicas"], 4);
    // The pods' pod-template-hash maps to the current revision.
    let pod_hash = fixture_pods()
        .keys()
        .find(|name| name.starts_with("api-"))
        .map(|name| name.split('-').nth(1).unwrap().to_string())
        .unwrap();
    assert_eq!(current["kubernetesHashes"][0], pod_hash.as_str());
    assert_ne!(current["hash"], pod_hash.as_str());
}

#[test]
fn bad_exports_are_located_and_nothing_is_written() {
    let text = cluster_text();
    // Replace `from` with `to` on the first line containing `needle` after `after`;
    // the error must point at that line and the column of the new value.
    let broken = |after: &str, needle: &str, from: &str, to: &str| -> (String, String) {
        let line = line_of(&text, after, needle);
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        lines[line - 1] = lines[line - 1].replacen(from, to, 1);
        let column = lines[line - 1].find(to).unwrap() + 1;
        (lines.join("\n"), format!("cluster.yaml:{line}:{column}: "))
    };
    let (unknown_node, at) = broken("name: web-", "nodeName:", "worker-", "ghost-");
    let (bad_quantity, quantity_at) = broken("allocatable:", "cpu: 3920m", "3920m", "3.9.2");
    let (not_json, _) = broken(
        "last-applied-configuration",
        "{\"apiVersion\"",
        "{\"apiVersion\"",
        "{{\"apiVersion\"",
    );
    let cases: Vec<(String, Vec<String>)> = vec![
        (
            unknown_node,
            vec![format!(
                "{at}spec.nodeName: Invalid value: \"ghost-a1\": pod default/web-"
            )],
        ),
        (
            bad_quantity,
            vec![format!(
                "{quantity_at}status.allocatable.cpu: Invalid value: \"3.9.2\""
            )],
        ),
        (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n".to_string(),
            vec!["cluster.yaml:2:7: kind: expected a List".to_string()],
        ),
        (
            not_json,
            vec![
                "last-applied-configuration: Invalid value: not JSON".to_string(),
                "cluster.yaml:".to_string(),
            ],
        ),
    ];
    for (input, expected) in cases {
        let cluster = Cluster::new();
        cluster.write("cluster.yaml", &input);
        let mut assert = cluster
            .run(&["import", "-f", "cluster.yaml"])
            .code(1)
            .stderr(predicate::str::contains("nothing was written"));
        for part in &expected {
            assert = assert.stderr(predicate::str::contains(part.as_str()));
        }
        assert!(!cluster.state().exists(), "{expected:?}: no state written");
    }
}

#[test]
fn live_fields_orch_does_not_know_are_dropped_with_a_notice() {
    let text = cluster_text();
    let api = text.find("name: api\n    namespace: shop").unwrap();
    let at = api + text[api..].find("terminationMessagePath").unwrap();
    let indent = &text[text[..at].rfind('\n').unwrap() + 1..at];
    let text = format!(
        "{}restartPolicyRules: []\n{indent}{}",
        &text[..at],
        &text[at..]
    );
    let cluster = Cluster::new();
    cluster.write("cluster.yaml", &text);
    cluster
        .run(&["import", "-f", "cluster.yaml"])
        .success()
        .stderr(predicate::str::contains(
            "Deployment/shop/api: dropped fields orch does not know: spec.template.spec.containers[0].restartPolicyRules",
        ));
    cluster
        .run(&["plan", "-f", &fixture("manifests"), "--detailed-exitcode"])
        .code(0);
}
