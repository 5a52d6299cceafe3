//! Conformance: every example manifest, the import fixture (a live cluster
//! export) and its manifests are real Kubernetes objects. Each document is
//! read with serde-saphyr into JSON, then into k8s-openapi's types; since
//! those ignore unknown fields, the typed object is written back and compared
//! with the input, so a misspelt or invented field fails the test.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{
    Node, PersistentVolume, PersistentVolumeClaim, Pod, ReplicationController,
};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::scheduling::v1::PriorityClass;
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta;
use k8s_openapi::{List, ListableResource};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no manifests in {}", dir.display());
    files
}

fn documents(path: &Path) -> Vec<Value> {
    let text = fs::read_to_string(path).unwrap();
    serde_saphyr::from_multiple::<Value>(&text)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_iter()
        .filter(|d| !d.is_null())
        .collect()
}

/// The value without nulls, empty maps and empty lists (absent and empty
/// are the same object to Kubernetes).
fn pruned(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), pruned(v)))
                .filter(|(_, v)| !is_empty(v))
                .collect::<Map<_, _>>(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(pruned).collect()),
        other => other.clone(),
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(map) => map.is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

/// Every field of `input` that the typed round trip lost or changed.
fn differences(input: &Value, output: &Value, path: &str, found: &mut Vec<String>) {
    match (input, output) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, value) in a {
                let at = format!("{path}.{key}");
                match b.get(key) {
                    Some(other) => differences(value, other, &at, found),
                    None => found.push(format!("{at}: not a field of the Kubernetes type")),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                differences(x, y, &format!("{path}[{i}]"), found);
            }
        }
        (a, b) if a == b => {}
        (a, b) => found.push(format!("{path}: {a} read back as {b}")),
    }
}

/// Read `value` as `T`, write it back, and report what did not survive.
fn round_trip<T: DeserializeOwned + Serialize>(value: &Value, at: &str) -> Vec<String> {
    let typed: T = match serde_json::from_value(value.clone()) {
        Ok(typed) => typed,
        Err(error) => return vec![format!("{at}: {error}")],
    };
    let back = serde_json::to_value(&typed).unwrap();
    let mut found = Vec::new();
    differences(&pruned(value), &pruned(&back), at, &mut found);
    found
}

/// orch's NodeGroup: its own fields, and a template that is a Node.
fn node_group(value: &Value, at: &str) -> Vec<String> {
    let known = ["minSize", "maxSize", "provisionDelay", "template"];
    let mut found: Vec<String> = value["spec"]
        .as_object()
        .into_iter()
        .flat_map(|spec| spec.keys())
        .filter(|key| !known.contains(&key.as_str()))
        .map(|key| format!("{at}: spec.{key} is not a NodeGroup field"))
        .collect();
    let mut node = value["spec"]["template"].clone();
    node["apiVersion"] = "v1".into();
    node["kind"] = "Node".into();
    node["metadata"]["name"] = value["metadata"]["name"].clone();
    found.extend(round_trip::<Node>(&node, &format!("{at} (spec.template)")));
    found
}

fn typed_list<T>(items: &[&Value], at: &str) -> Vec<String>
where
    T: ListableResource + DeserializeOwned + Serialize,
{
    let list = serde_json::json!({
        "apiVersion": T::API_VERSION,
        "kind": T::LIST_KIND,
        "metadata": {},
        "items": items,
    });
    round_trip::<List<T>>(&list, at)
}

/// Problems with one document (an object, or a List of objects).
fn check(value: &Value, at: &str) -> Vec<String> {
    let kind = value["kind"].as_str().unwrap_or_default();
    let version = value["apiVersion"].as_str().unwrap_or_default();
    match (version, kind) {
        ("apps/v1", "Deployment") => round_trip::<Deployment>(value, at),
        ("apps/v1", "DaemonSet") => round_trip::<DaemonSet>(value, at),
        ("apps/v1", "ReplicaSet") => round_trip::<ReplicaSet>(value, at),
        ("v1", "Node") => round_trip::<Node>(value, at),
        ("v1", "Pod") => round_trip::<Pod>(value, at),
        ("policy/v1", "PodDisruptionBudget") => round_trip::<PodDisruptionBudget>(value, at),
        ("scheduling.k8s.io/v1", "PriorityClass") => round_trip::<PriorityClass>(value, at),
        ("apps/v1", "StatefulSet") => round_trip::<StatefulSet>(value, at),
        ("batch/v1", "Job") => round_trip::<Job>(value, at),
        ("batch/v1", "CronJob") => round_trip::<CronJob>(value, at),
        ("v1", "ReplicationController") => round_trip::<ReplicationController>(value, at),
        ("orch.dev/v1", "NodeGroup") => node_group(value, at),
        ("v1", "PersistentVolume") => round_trip::<PersistentVolume>(value, at),
        ("v1", "PersistentVolumeClaim") => round_trip::<PersistentVolumeClaim>(value, at),
        ("storage.k8s.io/v1", "StorageClass") => round_trip::<StorageClass>(value, at),
        ("autoscaling/v2", "HorizontalPodAutoscaler") => {
            round_trip::<HorizontalPodAutoscaler>(value, at)
        }
        ("v1", "List") => {
            let mut found = Vec::new();
            for key in value.as_object().unwrap().keys() {
                if !["apiVersion", "kind", "items", "metadata"].contains(&key.as_str()) {
                    found.push(format!("{at}.{key}: not a field of a List"));
                }
            }
            found.extend(round_trip::<ListMeta>(
                &value
                    .get("metadata")
                    .cloned()
                    .unwrap_or_else(|| serde_json::json!({})),
                &format!("{at}.metadata"),
            ));
            let items = value["items"].as_array().cloned().unwrap_or_default();
            let mut by_kind: BTreeMap<(String, String), Vec<&Value>> = BTreeMap::new();
            for (i, item) in items.iter().enumerate() {
                found.extend(check(item, &format!("{at}.items[{i}]")));
                let key = (
                    item["apiVersion"].as_str().unwrap_or_default().to_string(),
                    item["kind"].as_str().unwrap_or_default().to_string(),
                );
                by_kind.entry(key).or_default().push(item);
            }
            // The same items as the typed lists kubectl would print per kind.
            for ((_, kind), items) in &by_kind {
                let at = format!("{at} ({kind} items as a {kind}List)");
                found.extend(match kind.as_str() {
                    "Deployment" => typed_list::<Deployment>(items, &at),
                    "DaemonSet" => typed_list::<DaemonSet>(items, &at),
                    "ReplicaSet" => typed_list::<ReplicaSet>(items, &at),
                    "Node" => typed_list::<Node>(items, &at),
                    "Pod" => typed_list::<Pod>(items, &at),
                    "PodDisruptionBudget" => typed_list::<PodDisruptionBudget>(items, &at),
                    "StatefulSet" => typed_list::<StatefulSet>(items, &at),
                    "Job" => typed_list::<Job>(items, &at),
                    "CronJob" => typed_list::<CronJob>(items, &at),
                    _ => Vec::new(),
                });
            }
            found
        }
        _ => vec![format!(
            "{at}: {version} {kind} is not a kind this test knows"
        )],
    }
}

/// Every document of every file, with the number of objects checked.
fn check_files(files: &[PathBuf]) -> (usize, Vec<String>) {
    let mut objects = 0;
    let mut found = Vec::new();
    for file in files {
        for (i, document) in documents(file).iter().enumerate() {
            objects += document["items"].as_array().map_or(1, Vec::len);
            found.extend(check(
                document,
                &format!("{} document {}", file.display(), i + 1),
            ));
        }
    }
    (objects, found)
}

fn assert_conforms(files: &[PathBuf], at_least: usize) {
    let (objects, found) = check_files(files);
    assert!(
        found.is_empty(),
        "not valid Kubernetes objects:\n{}",
        found.join("\n")
    );
    assert!(
        objects >= at_least,
        "only {objects} objects checked, expected at least {at_least}"
    );
}

#[test]
fn the_example_manifests_are_kubernetes_objects() {
    assert_conforms(&yaml_files(&root().join("manifests")), 12);
}

#[test]
fn the_examples_beside_the_platform_are_kubernetes_objects() {
    assert_conforms(&yaml_files(&root().join("examples")), 3);
}

#[test]
fn the_import_fixture_is_a_kubernetes_list() {
    let fixture = root().join("tests/fixtures/import/cluster.yaml");
    let (objects, found) = check_files(std::slice::from_ref(&fixture));
    assert!(found.is_empty(), "{}", found.join("\n"));
    // 6 nodes, 19 pods, 4 Deployments, 1 DaemonSet, 7 ReplicaSets, 2 PDBs.
    assert_eq!(objects, 39);
}

#[test]
fn the_import_fixture_manifests_are_kubernetes_objects() {
    assert_conforms(
        &yaml_files(&root().join("tests/fixtures/import/manifests")),
        13,
    );
}

#[test]
fn orch_init_writes_kubernetes_objects() {
    let dir = tempfile::tempdir().unwrap();
    assert_cmd::Command::cargo_bin("orch")
        .unwrap()
        .current_dir(dir.path())
        .env("ORCH_STATE", dir.path().join("orch.state.yaml"))
        .args(["init", "."])
        .assert()
        .success();
    let written = yaml_files(&dir.path().join("manifests"));
    assert_conforms(&written, 12);
    // They are the example manifests themselves; checked here in case that changes.
    for file in &written {
        let example = root().join("manifests").join(file.file_name().unwrap());
        if fs::read(file).unwrap() != fs::read(&example).unwrap_or_default() {
            eprintln!("{} differs from manifests/ (checked above)", file.display());
        }
    }
}

#[test]
fn a_misspelt_or_invented_field_is_caught() {
    let deployment = serde_json::json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicaz": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx", "imagePulPolicy": "Always"}]}
            }
        }
    });
    let found = check(&deployment, "typo");
    assert_eq!(
        found,
        vec![
            "typo.spec.replicaz: not a field of the Kubernetes type".to_string(),
            "typo.spec.template.spec.containers[0].imagePulPolicy: not a field of the Kubernetes type"
                .to_string(),
        ]
    );
    let list =
        serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [deployment], "itemz": []});
    let found = check(&list, "list");
    assert!(
        found
            .iter()
            .any(|f| f.starts_with("list.items[0].spec.replicaz")),
        "{found:?}"
    );
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [], "itemz": [1]});
    assert_eq!(
        check(&list, "list"),
        vec!["list.itemz: not a field of a List".to_string()]
    );
}
