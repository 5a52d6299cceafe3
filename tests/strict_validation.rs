//! Validation as strict as the API server, end to end: what `kubectl apply
//! --validate=strict` refuses, `orch validate`, `plan` and `apply` refuse
//! too (exit 1, each error at its line, the state untouched), and nothing
//! the examples and fixtures hold is a false alarm.

use crate::common::{Cluster, daemonset, node};
use std::path::Path;

const WEB: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx
          resources:
            requests: {cpu: 100m, memory: 64Mi}
";

/// `WEB` with `from` replaced by `to` (once).
fn web(from: &str, to: &str) -> String {
    assert!(WEB.contains(from), "{from}");
    WEB.replacen(from, to, 1)
}

/// A cluster with one node, applied, and its state bytes.
fn applied() -> (Cluster, Vec<u8>) {
    let cluster = Cluster::new();
    cluster.write("nodes.yaml", &node("n1").cpu("8").memory("16Gi").yaml());
    cluster.run(&["apply", "-f", "nodes.yaml", "-q"]).success();
    let state = cluster.state_bytes();
    (cluster, state)
}

/// `validate`, `plan` and `apply` of `file` all exit 1 with `needles` on
/// stderr, and leave the state as it was.
fn refused(cluster: &Cluster, state: &[u8], file: &str, needles: &[&str]) {
    let mut outputs = Vec::new();
    for verb in ["validate", "plan", "apply"] {
        let output = cluster
            .orch()
            .args([verb, "-f", "nodes.yaml", "-f", file])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        assert_eq!(output.status.code(), Some(1), "{verb} {file}: {stderr}");
        for needle in needles {
            assert!(
                stderr.contains(needle),
                "{verb}: want {needle:?} in\n{stderr}"
            );
        }
        assert_eq!(cluster.state_bytes(), state, "{verb} changed the state");
        outputs.push(stderr);
    }
    // One pass: the three commands report the same errors.
    assert_eq!(outputs[0], outputs[1]);
    assert_eq!(outputs[1], outputs[2]);
}

/// Issue 25, finding 6: label keys and values of any length or character.
#[test]
fn label_keys_and_values_are_checked_as_the_api_server_does() {
    let (cluster, state) = applied();
    let long_value = "v".repeat(64);
    let long_key = format!("{}/k", "p".repeat(254));
    cluster.write(
        "labels.yaml",
        &web(
            "labels: {app: web}\nspec",
            &format!(
                "labels: {{app: web, \"{long_key}\": x, tier: {long_value}, \"a b\": c}}\nspec"
            ),
        ),
    );
    refused(
        &cluster,
        &state,
        "labels.yaml",
        &[
            "labels.yaml:5:",
            "metadata.labels: Invalid value: \"ppp",
            "prefix part must be no more than 253 characters",
            &format!(
                "metadata.labels: Invalid value: \"{long_value}\": must be no more than 63 characters"
            ),
            "metadata.labels: Invalid value: \"a b\": name part must consist of alphanumeric characters",
            "3 errors in manifests",
        ],
    );
}

/// Issue 25, finding 6: a 300 KB annotation.
#[test]
fn annotations_beyond_256_kib_are_refused() {
    let (cluster, state) = applied();
    let big = "x".repeat(300_000);
    cluster.write(
        "big.yaml",
        &web(
            "  labels: {app: web}\nspec",
            &format!("  labels: {{app: web}}\n  annotations: {{note: {big}}}\nspec"),
        ),
    );
    refused(
        &cluster,
        &state,
        "big.yaml",
        &["big.yaml:6:16: metadata.annotations: Too long: may not be more than 262144 bytes"],
    );
}

/// Issue 25, finding 6: `containerPort: 70000`.
#[test]
fn container_ports_beyond_65535_are_refused() {
    let (cluster, state) = applied();
    cluster.write(
        "port.yaml",
        &web(
            "image: nginx\n",
            "image: nginx\n          ports: [{containerPort: 70000}]\n",
        ),
    );
    refused(
        &cluster,
        &state,
        "port.yaml",
        &[
            "port.yaml:17:35: spec.template.spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
        ],
    );
}

/// Issue 25, finding 6: two containers with one name (and an init container).
#[test]
fn container_names_are_unique_across_containers_and_init_containers() {
    let (cluster, state) = applied();
    cluster.write(
        "twins.yaml",
        &web(
            "      containers:\n",
            "      initContainers:\n        - {name: web, image: busybox}\n      containers:\n        - {name: web, image: sidecar}\n",
        ),
    );
    refused(
        &cluster,
        &state,
        "twins.yaml",
        &[
            "twins.yaml:18:17: spec.template.spec.containers[1].name: Duplicate value: \"web\"",
            "twins.yaml:15:18: spec.template.spec.initContainers[0].name: Duplicate value: \"web\"",
        ],
    );
}

/// Issue 25, finding 6: a Node with `pods: "1.5"`.
#[test]
fn a_node_pods_count_must_be_an_integer() {
    let (cluster, state) = applied();
    cluster.write("half.yaml", &node("n2").pods("1.5").yaml());
    refused(
        &cluster,
        &state,
        "half.yaml",
        &["status.allocatable.pods: Invalid value: \"1.5\": must be an integer"],
    );
}

/// Issue 25, finding 6: half a GPU is bad input (exit 1), not an
/// unschedulable replica (exit 3).
#[test]
fn extended_resources_must_be_whole_and_limited() {
    let (cluster, state) = applied();
    cluster.write(
        "gpu.yaml",
        &web(
            "requests: {cpu: 100m, memory: 64Mi}",
            "requests: {cpu: 100m, memory: 64Mi, nvidia.com/gpu: \"0.5\"}\n            limits: {nvidia.com/gpu: \"0.5\"}",
        ),
    );
    refused(
        &cluster,
        &state,
        "gpu.yaml",
        &[
            "spec.template.spec.containers[0].resources.requests.nvidia.com/gpu: Invalid value: \"0.5\": must be an integer",
            "spec.template.spec.containers[0].resources.limits.nvidia.com/gpu: Invalid value: \"0.5\": must be an integer",
        ],
    );
}

/// Issue 25, finding 6: a JSON manifest with a trailing comma.
#[test]
fn a_json_manifest_must_be_json() {
    let (cluster, state) = applied();
    cluster.write(
        "web.json",
        "{\"apiVersion\": \"apps/v1\", \"kind\": \"Deployment\",\n \"metadata\": {\"name\": \"web\",},\n \"spec\": {}}\n",
    );
    refused(
        &cluster,
        &state,
        "web.json",
        &["web.json:2:29: invalid JSON: trailing comma"],
    );
}

/// Issue 25, finding 8: `.nan` in orch's words, with the field path.
#[test]
fn a_nan_quantity_names_its_field() {
    let (cluster, state) = applied();
    cluster.write("nan.yaml", &web("cpu: 100m", "cpu: .nan"));
    refused(
        &cluster,
        &state,
        "nan.yaml",
        &[
            "nan.yaml:18:29: spec.template.spec.containers[0].resources.requests.cpu: Invalid value: \".nan\": quantities must match the regular expression",
        ],
    );
}

/// Issue 24: typos below the first level, all reported at once, each at
/// its line.
#[test]
fn nested_typos_are_all_reported_at_their_lines() {
    let (cluster, state) = applied();
    let text = web(
        "image: nginx\n",
        "image: nginx\n          ports: [{containerport: 80}]\n          volumeMounts: [{name: d, mountpath: /d}]\n          livenessProbe: {initialDelaySecond: 5}\n          securityContext: {runAsUsr: 1}\n",
    ) + "---\n"
        + &web("name: web\n  labels", "name: web2\n  labels").replace("replicas: 1", "replica: 1");
    cluster.write("typos.yaml", &text);
    refused(
        &cluster,
        &state,
        "typos.yaml",
        &[
            "typos.yaml:17:20: spec.template.spec.containers[0].ports[0].containerport: unknown field `containerport`: did you mean `containerPort`?",
            "typos.yaml:18:36: spec.template.spec.containers[0].volumeMounts[0].mountpath: unknown field `mountpath`: did you mean `mountPath`?",
            "typos.yaml:19:27: spec.template.spec.containers[0].livenessProbe.initialDelaySecond: unknown field `initialDelaySecond`: did you mean `initialDelaySeconds`?",
            "typos.yaml:20:29: spec.template.spec.containers[0].securityContext.runAsUsr: unknown field `runAsUsr`: did you mean `runAsUser`?",
            "typos.yaml:30:3: spec.replica: unknown field `replica`: did you mean `replicas`?",
            "5 errors in manifests",
        ],
    );
}

/// Issue 24: a DaemonSet's selector is immutable; changing it is refused
/// with the API server's words, at its line, and nothing is rolled out.
#[test]
fn an_immutable_selector_change_is_refused_on_update() {
    let cluster = Cluster::new();
    cluster.write("nodes.yaml", &node("n1").yaml());
    let agent = daemonset("agent").yaml();
    cluster.write("agent.yaml", &agent);
    cluster
        .run(&["apply", "-f", "nodes.yaml", "-f", "agent.yaml", "-q"])
        .success();
    let state = cluster.state_bytes();
    let changed = agent.replace("app: agent", "app: agent-v2");
    assert_ne!(changed, agent);
    cluster.write("agent.yaml", &changed);
    // The selector's value starts on the line after `selector:`.
    let line = changed
        .lines()
        .position(|l| l.contains("selector"))
        .unwrap()
        + 2;
    for verb in ["plan", "apply"] {
        let output = cluster
            .orch()
            .args([verb, "-f", "nodes.yaml", "-f", "agent.yaml"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{verb}: {stderr}");
        assert!(
            stderr.contains(&format!("agent.yaml:{line}:")),
            "{verb}: line {line} in {stderr}"
        );
        assert!(
            stderr.contains("spec.selector: Invalid value: {\"matchLabels\":{\"app\":\"agent-v2\"}}: field is immutable"),
            "{verb}: {stderr}"
        );
        assert_eq!(cluster.state_bytes(), state, "{verb} changed the state");
    }
    // A new object with that selector is a creation, not an update.
    cluster.write(
        "agent.yaml",
        &changed.replace("name: agent", "name: agent-v2"),
    );
    cluster
        .run(&["plan", "-f", "nodes.yaml", "-f", "agent.yaml", "--no-prune"])
        .code(predicates::ord::ne(1));
}

fn yaml_files(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            yaml_files(&path, found);
        } else if path
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        {
            found.push(path);
        }
    }
}

/// No false alarms: every field of every example and fixture, of `orch
/// init`'s platform and of a generated fleet is known to the schema.
#[test]
fn every_example_and_fixture_is_known_to_the_schema() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    yaml_files(&root.join("manifests"), &mut files);
    yaml_files(&root.join("tests/fixtures"), &mut files);
    let cluster = Cluster::new();
    cluster.run(&["init", "platform"]).success();
    cluster
        .run(&[
            "bench",
            "generate",
            "--nodes",
            "20",
            "--replicas",
            "300",
            "--seed",
            "3",
            "--out",
            "fleet",
            "-q",
        ])
        .success();
    cluster
        .run(&[
            "bench",
            "generate",
            "--nodes",
            "20",
            "--replicas",
            "300",
            "--seed",
            "3",
            "--mix",
            "prioritized",
            "--out",
            "prioritized",
            "-q",
        ])
        .success();
    yaml_files(&cluster.path("platform/manifests"), &mut files);
    yaml_files(&cluster.path("fleet"), &mut files);
    yaml_files(&cluster.path("prioritized"), &mut files);
    assert!(files.len() >= 10, "{files:?}");
    // Each directory is one set (objects depend on each other within it).
    let mut sets: std::collections::BTreeMap<&Path, Vec<&Path>> = Default::default();
    for file in &files {
        sets.entry(file.parent().unwrap()).or_default().push(file);
    }
    for (dir, files) in sets {
        let output = cluster
            .orch()
            .arg("validate")
            .args(files.iter().flat_map(|f| [Path::new("-f"), f]))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}: {}",
            dir.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
