//! End-to-end: the real `orch` binary in a temporary directory.

use crate::common::{Cluster, deployment, node, nodes_on, yaml};
use predicates::prelude::*;
use serde_json::Value;
use std::fs;

// ---------------------------------------------------------------- the example

#[test]
fn the_example_converges_and_a_second_apply_changes_nothing() {
    let cluster = Cluster::example();
    cluster
        .run(&["apply", "-f", "manifests/"])
        .success()
        .stdout(predicate::str::contains("converged"));
    let first = cluster.state_bytes();
    let replicas = cluster.replicas();
    assert!(
        replicas.len() >= 16,
        "expected every example replica, got {}",
        replicas.len()
    );
    assert!(
        replicas
            .iter()
            .all(|r| r["phase"] == "Running" && r["ready"] == true && r["node"].is_string())
    );

    cluster
        .run(&["apply", "-f", "manifests/"])
        .success()
        .stdout(predicate::str::contains("No changes"));
    assert_eq!(
        cluster.state_bytes(),
        first,
        "a no-op apply must leave the state byte-identical"
    );
}

#[test]
fn plan_detailed_exitcode_is_2_before_apply_and_0_after_and_plan_never_writes() {
    let cluster = Cluster::example();
    cluster
        .run(&["plan", "-f", "manifests/", "--detailed-exitcode"])
        .code(2);
    assert!(
        !cluster.state().exists(),
        "plan must not create the state file"
    );
    cluster.run(&["plan", "-f", "manifests/"]).success();
    cluster.run(&["apply", "-f", "manifests/"]).success();
    let applied = cluster.state_bytes();
    cluster
        .run(&["plan", "-f", "manifests/", "--detailed-exitcode"])
        .code(0);
    assert_eq!(cluster.state_bytes(), applied);
}

#[test]
fn the_example_honours_the_gpu_taint_and_the_node_selector() {
    let cluster = Cluster::example();
    cluster.run(&["apply", "-f", "manifests/"]).success();
    for replica in cluster.replicas() {
        let workload = replica["workload"].as_str().unwrap();
        let node = replica["node"].as_str().unwrap();
        match workload {
            "Deployment/default/transcoder" => assert_eq!(node, "gpu-c2"),
            "Deployment/default/db" => assert_eq!(node, "highmem-b2"),
            "DaemonSet/kube-system/log-agent" => {}
            other => assert_ne!(
                node, "gpu-c2",
                "{other} must not land on the tainted GPU node"
            ),
        }
    }
}

#[test]
fn two_fresh_runs_give_identical_output_and_state() {
    let (a, b) = (Cluster::example(), Cluster::example());
    let out_a = a
        .orch()
        .args(["apply", "-f", "manifests/", "-o", "json"])
        .output()
        .unwrap();
    let out_b = b
        .orch()
        .args(["apply", "-f", "manifests/", "-o", "json"])
        .output()
        .unwrap();
    assert!(out_a.status.success());
    assert_eq!(out_a.stdout, out_b.stdout);
    assert_eq!(a.state_bytes(), b.state_bytes());
}

// ---------------------------------------------------------------- output contract

#[test]
fn apply_json_has_the_documented_shape() {
    let cluster = Cluster::new();
    cluster.write(
        "m.yaml",
        &yaml(&[
            &node("n1").cpu("4"),
            &deployment("web").replicas(2).cpu("500m"),
        ]),
    );
    let output = cluster
        .orch()
        .args(["apply", "-f", "m.yaml", "-o", "json"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let doc: Value =
        serde_json::from_slice(&output.stdout).expect("stdout is exactly one JSON document");
    assert_eq!(doc["apiVersion"], "orch.dev/v1");
    assert_eq!(doc["kind"], "ApplyResult");
    assert_eq!(doc["outcome"], "Converged");
    assert!(doc["clock"].as_u64().unwrap() > 0);
    let steps = doc["steps"].as_array().unwrap();
    assert!(!steps.is_empty());
    for step in steps {
        assert!(step["time"].is_u64());
        for action in step["actions"].as_array().unwrap() {
            let keys: Vec<&str> = action
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(
                keys,
                ["node", "object", "op", "reason", "replica", "revision"]
            );
        }
        for status in step["status"].as_array().unwrap() {
            assert_eq!(status["object"], "Deployment/default/web");
            for key in ["current", "ready", "available", "updated"] {
                assert!(status[key].is_i64(), "{key} in {status}");
            }
        }
    }
    let ops: Vec<&str> = steps
        .iter()
        .flat_map(|s| s["actions"].as_array().unwrap())
        .map(|a| a["op"].as_str().unwrap())
        .collect();
    assert_eq!(
        ops.iter().filter(|op| **op == "create").count(),
        2,
        "{ops:?}"
    );
    let last = steps.last().unwrap()["status"][0].clone();
    assert_eq!(
        (last["current"].as_i64(), last["ready"].as_i64()),
        (Some(2), Some(2))
    );
    let workload = &doc["workloads"][0];
    assert_eq!(workload["object"], "Deployment/default/web");
    for key in ["desired", "current", "ready", "updated", "available"] {
        assert_eq!(workload[key], 2, "{key}");
    }
    assert!(workload["blocked"].is_null());
    assert_eq!(workload["conditions"][0]["type"], "Available");

    let plan = cluster.json(&["plan", "-f", "m.yaml"]);
    assert_eq!(
        (plan["kind"].as_str(), plan["outcome"].as_str()),
        (Some("Plan"), Some("NoChanges"))
    );

    let nodes = cluster.json(&["get", "nodes"]);
    let n1 = &nodes["items"][0];
    assert_eq!(n1["name"], "n1");
    assert_eq!(n1["replicas"], 2);
    assert_eq!(n1["requested"]["cpu"], "1");
    assert_eq!(n1["allocatable"]["cpu"], "4");
}

#[test]
fn yaml_output_and_tables_work_for_every_listing() {
    let cluster = Cluster::new();
    cluster.write(
        "m.yaml",
        &yaml(&[&node("n1").cpu("4"), &deployment("web").cpu("500m")]),
    );
    cluster.run(&["apply", "-f", "m.yaml", "-q"]).success();
    cluster
        .run(&["get", "nodes"])
        .success()
        .stdout(predicate::str::contains("NAME").and(predicate::str::contains("n1")));
    cluster
        .run(&["get", "workloads", "-o", "wide"])
        .success()
        .stdout(predicate::str::contains("Deployment/default/web"));
    cluster
        .run(&["get", "replicas", "-o", "yaml"])
        .success()
        .stdout(predicate::str::contains("workload: Deployment/default/web"));
    cluster
        .run(&["get", "replicas", "-l", "app=web"])
        .success()
        .stdout(predicate::str::contains("web-"));
    cluster
        .run(&["get", "replicas", "-l", "app=other"])
        .success()
        .stdout(predicate::str::contains("web-").not());
}

/// `orch apply -o json | head`: the document stops where stdout closed, the
/// state is saved all the same, and nothing is said about the pipe.
#[test]
fn a_closed_stdout_ends_a_large_document_quietly() {
    use std::io::Read;
    use std::process::Stdio;
    let cluster = Cluster::new();
    cluster
        .run(&[
            "bench",
            "generate",
            "--nodes",
            "30",
            "--replicas",
            "1000",
            "--out",
            "fleet",
            "-q",
        ])
        .success();
    for format in ["json", "yaml"] {
        let state = format!("state.{format}");
        for args in [
            vec!["apply", "-f", "fleet", "--state", &state, "-o", format],
            vec!["get", "replicas", "--state", &state, "-o", format],
        ] {
            // Run to the end once for the exit code and the document.
            let whole = cluster.orch().args(&args).output().unwrap();
            assert!(whole.stdout.len() > 1 << 17, "{} bytes", whole.stdout.len());
            if args[0] == "apply" {
                fs::remove_file(cluster.path(&state)).unwrap();
            }
            let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("orch"))
                .current_dir(cluster.path(""))
                .args(&args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let mut head = [0; 100];
            child.stdout.take().unwrap().read_exact(&mut head).unwrap();
            let output = child.wait_with_output().unwrap();
            assert_eq!(&head[..], &whole.stdout[..100], "{args:?}");
            assert_eq!(
                String::from_utf8_lossy(&output.stderr),
                "",
                "{args:?}: nothing about the closed pipe"
            );
            assert_eq!(output.status.code(), whole.status.code(), "{args:?}");
        }
        cluster
            .run(&["get", "nodes", "--state", &state, "-q"])
            .success();
    }
}

// ---------------------------------------------------------------- scheduling

#[test]
fn scaling_up_and_down() {
    let cluster = Cluster::new();
    cluster.write(
        "m.yaml",
        &yaml(&[
            &node("n1").cpu("4"),
            &node("n2").cpu("4"),
            &deployment("web").replicas(2).cpu("500m"),
        ]),
    );
    cluster.run(&["apply", "-f", "m.yaml"]).success();
    let before: Vec<String> = cluster
        .replicas()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    cluster.write(
        "m.yaml",
        &yaml(&[
            &node("n1").cpu("4"),
            &node("n2").cpu("4"),
            &deployment("web").replicas(5).cpu("500m"),
        ]),
    );
    cluster.run(&["apply", "-f", "m.yaml"]).success();
    let after = cluster.replicas();
    assert_eq!(after.len(), 5);
    assert!(
        before
            .iter()
            .all(|name| after.iter().any(|r| r["name"] == name.as_str()))
    );
    cluster.write(
        "m.yaml",
        &yaml(&[
            &node("n1").cpu("4"),
            &node("n2").cpu("4"),
            &deployment("web").cpu("500m"),
        ]),
    );
    cluster.run(&["apply", "-f", "m.yaml"]).success();
    assert_eq!(cluster.replicas().len(), 1);
}

#[test]
fn insufficient_cpu_blocks_with_kubernetes_message_and_exit_3() {
    let cluster = Cluster::new();
    cluster.write(
        "m.yaml",
        &yaml(&[
            &node("n1").cpu("1"),
            &node("n2").cpu("1"),
            &node("n3").cpu("1"),
            &deployment("big").cpu("2"),
        ]),
    );
    let output = cluster
        .orch()
        .args(["apply", "-f", "m.yaml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let replicas = cluster.replicas();
    assert_eq!(replicas[0]["node"], Value::Null);
    assert_eq!(replicas[0]["phase"], "Pending");
    assert_eq!(
        replicas[0]["reason"],
        "0/3 nodes are available: 3 Insufficient cpu. no new claims to deallocate, preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
    );
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .contains("0/3 nodes are available: 3 Insufficient cpu.")
    );
}

#[test]
fn cordoned_node_gets_nothing_and_is_named_in_the_message() {
    let cluster = Cluster::new();
    cluster.write(
        "nodes.yaml",
        &yaml(&[
            &node("n1").cpu("4"),
            &node("n2").cpu("1"),
            &node("n3").cpu("1"),
        ]),
    );
    cluster.run(&["apply", "-f", "nodes.yaml"]).success();
    cluster
        .run(&["node", "cordon", "n1"])
        .success()
        .stdout("node/n1 cordoned\n");
    cluster.write("big.yaml", &deployment("big").cpu("2").yaml());
    cluster
        .run(&["apply", "-f", "nodes.yaml", "-f", "big.yaml"])
        .code(3);
    assert_eq!(
        cluster.replicas()[0]["reason"],
        "0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu. no new claims to deallocate, preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
    );
    let nodes = cluster.json(&["get", "nodes"]);
    assert_eq!(nodes["items"][0]["unschedulable"], true);
    cluster.run(&["node", "uncordon", "n1"]).success();
    cluster
        .run(&["apply", "-f", "nodes.yaml", "-f", "big.yaml"])
        .success();
    assert_eq!(nodes_on(&cluster.replicas()), ["n1"]);
}

#[test]
fn node_selector_restricts_placement() {
    let cluster = Cluster::new();
    cluster.write(
        "m.yaml",
        &yaml(&[
            &node("n1").cpu("4"),
            &node("n2").cpu("4"),
            &node("n3").cpu("4").label("disk", "ssd"),
            &deployment("db")
                .replicas(3)
                .cpu("100m")
                .node_selector("disk", "ssd"),
        ]),
    );
    cluster.run(&["apply", "-f", "m.yaml"]).success();
    assert_eq!(nodes_on(&cluster.replicas()), ["n3", "n3", "n3"]);
}

#[test]
fn taints_repel_unless_tolerated() {
    let cluster = Cluster::new();
    cluster.write(
        "m.yaml",
        &yaml(&[
            &node("n1").cpu("1"),
            &node("gpu").cpu("8").taint("dedicated=gpu:NoSchedule"),
            &deployment("plain").replicas(2).cpu("1"),
            &deployment("ml")
                .replicas(2)
                .cpu("1")
                .toleration("dedicated=gpu:NoSchedule"),
        ]),
    );
    cluster.run(&["apply", "-f", "m.yaml"]).code(3);
    for replica in cluster.replicas() {
        match replica["workload"].as_str().unwrap() {
            "Deployment/default/ml" => assert_eq!(replica["node"], "gpu"),
            _ => assert_ne!(replica["node"], "gpu"),
        }
    }
    let pending: Vec<Value> = cluster
        .replicas()
        .into_iter()
        .filter(|r| r["node"].is_null())
        .collect();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        pending[0]["reason"],
        "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {dedicated: gpu}. no new claims to deallocate, preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling."
    );
}

#[test]
fn imperative_nodes_join_the_fleet() {
    let cluster = Cluster::new();
    cluster.write(
        "web.yaml",
        &deployment("web").replicas(2).cpu("500m").yaml(),
    );
    cluster
        .run(&[
            "node",
            "add",
            "extra",
            "--cpu",
            "2",
            "--memory",
            "4Gi",
            "--zone",
            "zone-x",
            "--taint",
            "a=b:PreferNoSchedule",
        ])
        .success();
    cluster
        .run(&["node", "add", "extra", "--cpu", "2", "--memory", "4Gi"])
        .code(1)
        .stderr(predicate::str::contains("already exists"));
    cluster
        .run(&["node", "add", "bad", "--cpu", "lots", "--memory", "4Gi"])
        .code(1)
        .stderr(predicate::str::contains("--cpu lots"));
    cluster.run(&["apply", "-f", "web.yaml"]).success();
    assert_eq!(nodes_on(&cluster.replicas()), ["extra", "extra"]);
    cluster.run(&["node", "remove", "extra"]).success();
    cluster
        .run(&["node", "remove", "extra"])
        .code(1)
        .stderr(predicate::str::contains("not found"));
}

#[test]
fn init_writes_the_example_and_refuses_to_overwrite() {
    let cluster = Cluster::new();
    cluster.run(&["init"]).success();
    assert!(cluster.path("manifests/api.yaml").exists());
    assert!(cluster.state().exists());
    cluster
        .run(&["init"])
        .code(1)
        .stderr(predicate::str::contains("already exists"));
    cluster.run(&["apply", "-f", "manifests"]).success();
}

#[test]
fn manifests_can_come_from_stdin_and_json() {
    let cluster = Cluster::new();
    let json = r#"{"apiVersion": "v1", "kind": "List", "items": [
      {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}, "status": {"allocatable": {"cpu": "2", "memory": "4Gi"}}}
    ]}"#;
    cluster.write("nodes.json", json);
    cluster
        .orch()
        .args(["apply", "-f", "nodes.json", "-f", "-"])
        .write_stdin(deployment("web").cpu("100m").yaml())
        .assert()
        .success();
    assert_eq!(nodes_on(&cluster.replicas()), ["n1"]);
}

// ---------------------------------------------------------------- bad input

const GOOD: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
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

/// (case, file contents, line the error must point at, text the error must contain)
fn bad_inputs() -> Vec<(&'static str, String, usize, &'static str)> {
    let with = |from: &str, to: &str| {
        assert!(GOOD.contains(from), "{from}");
        GOOD.replacen(from, to, 1)
    };
    let strategy = |block: &str| with("  selector:\n", &format!("{block}  selector:\n"));
    let pod = |block: &str| {
        with(
            "      containers:\n",
            &format!("{block}      containers:\n"),
        )
    };
    let other = |name: &str, annotation: &str| {
        format!(
            "---\n{}",
            with(
                "  name: web\n",
                &format!("  name: {name}\n  annotations:\n    orch.dev/depends-on: {annotation}\n")
            )
            .replace("app: web", &format!("app: {name}"))
        )
    };
    vec![
        ("invalid yaml", with("    matchLabels: {app: web}", "    matchLabels: {app: web"), 9, "flow mapping"),
        ("wrong type", with("replicas: 2", "replicas: three"), 6, "spec.replicas"),
        ("unknown field", with("replicas: 2", "replcas: 2"), 6, "replcas"),
        ("negative replicas", with("replicas: 2", "replicas: -1"), 6, "spec.replicas"),
        ("wrong apiVersion", with("apps/v1", "apps/v9"), 1, "apiVersion"),
        ("missing name", with("  name: web\n", "  labels: {a: b}\n"), 4, "metadata.name: Required value"),
        ("selector mismatch", with("      labels: {app: web}", "      labels: {app: other}"), 11, "selector"),
        ("bad cpu quantity", with("cpu: 100m", "cpu: 1.2.3"), 17, "quantities must match"),
        ("bad memory suffix", with("memory: 64Mi", "memory: 64MiB"), 17, "memory"),
        ("bad percent", strategy("  strategy:\n    rollingUpdate: {maxSurge: 25, maxUnavailable: \"x%\"}\n"), 8, "a valid percent string"),
        ("surge and unavailable both zero", strategy("  strategy:\n    rollingUpdate:\n      maxSurge: 0\n      maxUnavailable: 0\n"), 10, "may not be 0"),
        ("unknown toleration operator", pod("      tolerations:\n        - key: a\n          operator: Maybe\n"), 15, "operator"),
        ("unknown toleration effect", pod("      tolerations:\n        - key: a\n          operator: Exists\n          effect: Sometimes\n"), 16, "effect"),
        (
            "maxSkew below 1",
            pod("      topologySpreadConstraints:\n        - maxSkew: 0\n          topologyKey: zone\n          whenUnsatisfiable: DoNotSchedule\n"),
            14,
            "maxSkew",
        ),
        ("duplicate object", format!("{GOOD}---\n{GOOD}"), 22, "is also defined at bad.yaml:4:9"),
        ("missing dependency", with("  name: web\n", "  name: web\n  annotations:\n    orch.dev/depends-on: Deployment/ghost\n"), 6, "Deployment/default/ghost"),
        (
            "dependency cycle",
            format!("{}{}", with("  name: web\n", "  name: web\n  annotations:\n    orch.dev/depends-on: Deployment/db\n"), other("db", "Deployment/web")),
            0,
            "cycle",
        ),
        ("request above limit", with("requests: {cpu: 100m, memory: 64Mi}", "requests: {cpu: 100m, memory: 64Mi}\n            limits: {cpu: 50m}"), 17, "limit"),
        (
            "node with a bad taint effect",
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\nspec:\n  taints:\n    - {key: a, effect: Never}\nstatus:\n  allocatable: {cpu: \"1\", memory: 1Gi}\n".to_string(),
            7,
            "effect",
        ),
        (
            "node with negative cpu",
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\nstatus:\n  allocatable: {cpu: \"-1\", memory: 1Gi}\n".to_string(),
            6,
            "cpu",
        ),
        (
            "disruption budget with both bounds",
            "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: p\nspec:\n  minAvailable: 1\n  maxUnavailable: 1\n  selector:\n    matchLabels: {app: web}\n".to_string(),
            0,
            "",
        ),
        ("alias bomb", billion_laughs(), 0, ""),
        ("deep nesting", format!("apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n  labels: {}{}\n", "[".repeat(5000), "]".repeat(5000)), 0, ""),
    ]
}

fn billion_laughs() -> String {
    let mut text = String::from(
        "a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for i in 1..10 {
        let prev = format!("*a{}", i - 1);
        text.push_str(&format!("a{i}: &a{i} [{}]\n", [prev.as_str(); 9].join(",")));
    }
    text.push_str("kind: Node\napiVersion: v1\nmetadata: {name: bomb}\n");
    text
}

#[test]
fn every_bad_input_is_refused_with_its_location_and_the_state_untouched() {
    let cluster = Cluster::new();
    cluster.write("ok.yaml", &node("n1").cpu("4").yaml());
    cluster.run(&["apply", "-f", "ok.yaml"]).success();
    let state = cluster.state_bytes();
    let cases = bad_inputs();
    assert!(cases.len() >= 15);
    let mut failures = Vec::new();
    for (case, text, line, needle) in cases {
        let file = "bad.yaml";
        cluster.write(file, &text);
        for command in ["validate", "plan", "apply"] {
            let output = cluster.orch().args([command, "-f", file]).output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            let located = if line > 0 {
                format!("{file}:{line}:")
            } else {
                format!("{file}:")
            };
            if output.status.code() != Some(1)
                || stderr.contains("panicked")
                || !stderr.contains(&located)
                || !stderr.contains(needle)
            {
                failures.push(format!(
                    "{case}/{command}: exit {:?}, expected `{located}` and `{needle}` in:\n{stderr}",
                    output.status.code()
                ));
            }
        }
        if cluster.state_bytes() != state {
            failures.push(format!("{case}: state changed"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn validate_reports_every_error_at_once() {
    let cluster = Cluster::new();
    let text = GOOD
        .replace("replicas: 2", "replicas: -1")
        .replace("cpu: 100m", "cpu: lots")
        .replace("      labels: {app: web}", "      labels: {app: x}");
    cluster.write("bad.yaml", &text);
    let output = cluster
        .orch()
        .args(["validate", "-f", "bad.yaml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for line in [6, 11, 17] {
        assert!(
            stderr.contains(&format!("bad.yaml:{line}:")),
            "line {line} missing in:\n{stderr}"
        );
    }
}

#[test]
fn unreadable_and_odd_sources_are_errors() {
    let cluster = Cluster::new();
    fs::create_dir_all(cluster.path("empty")).unwrap();
    cluster
        .run(&["validate", "-f", "empty"])
        .code(1)
        .stderr(predicate::str::contains("empty"));
    cluster
        .run(&["validate", "-f", "missing.yaml"])
        .code(1)
        .stderr(predicate::str::contains("missing.yaml"));
    fs::write(
        cluster.path("latin1.yaml"),
        b"kind: Node\nmetadata: {name: caf\xe9}\n",
    )
    .unwrap();
    cluster
        .run(&["validate", "-f", "latin1.yaml"])
        .code(1)
        .stderr(predicate::str::contains("latin1.yaml"));
    cluster.write(
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\n",
    );
    cluster
        .run(&["validate", "-f", "cm.yaml"])
        .success()
        .stderr(predicate::str::contains("ConfigMap"));
    cluster
        .run(&["validate", "--strict", "-f", "cm.yaml"])
        .code(1)
        .stderr(predicate::str::contains("cm.yaml:2:"));
}

// ---------------------------------------------------------------- state file

#[test]
fn a_corrupt_or_future_state_is_refused_and_left_alone() {
    let cluster = Cluster::new();
    cluster.write("m.yaml", &node("n1").cpu("4").yaml());
    for (case, text, needle) in [
        (
            "corrupt",
            "apiVersion: orch.dev/v1\nkind: State\ngeneration: [\n",
            "orch.state.yaml:",
        ),
        (
            "future",
            "apiVersion: orch.dev/v2\nkind: State\ngeneration: 1\nclock: 0\n",
            "orch.dev/v2",
        ),
        (
            "wrong kind",
            "apiVersion: orch.dev/v1\nkind: Deployment\ngeneration: 1\nclock: 0\n",
            "State",
        ),
    ] {
        fs::write(cluster.state(), text).unwrap();
        for args in [
            &["apply", "-f", "m.yaml"][..],
            &["plan", "-f", "m.yaml"],
            &["get", "nodes"],
            &["node", "cordon", "n1"],
        ] {
            let output = cluster.orch().args(args).output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(1), "{case} {args:?}: {stderr}");
            assert!(
                stderr.contains(needle),
                "{case} {args:?}: expected `{needle}` in {stderr}"
            );
        }
        assert_eq!(
            fs::read_to_string(cluster.state()).unwrap(),
            text,
            "{case}: state was rewritten"
        );
    }
}

#[test]
fn a_held_lock_is_refused_with_the_holder_pid() {
    let cluster = Cluster::new();
    cluster.write("m.yaml", &node("n1").cpu("4").yaml());
    cluster.run(&["apply", "-f", "m.yaml"]).success();
    let state = cluster.state_bytes();
    let lock_path = cluster.path("orch.state.yaml.lock");
    let holder = fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(&lock_path)
        .unwrap();
    holder.try_lock().unwrap();
    fs::write(&lock_path, "4242\n").unwrap();
    cluster
        .run(&["apply", "-f", "m.yaml"])
        .code(1)
        .stderr(predicate::str::contains("locked by pid 4242"));
    cluster
        .run(&["node", "cordon", "n1"])
        .code(1)
        .stderr(predicate::str::contains("locked by pid"));
    // Reading never needs the lock.
    cluster.run(&["plan", "-f", "m.yaml"]).success();
    cluster.run(&["get", "nodes"]).success();
    assert_eq!(cluster.state_bytes(), state);
    drop(holder);
    cluster.run(&["node", "cordon", "n1"]).success();
}

#[test]
fn json_state_files_work_like_yaml_ones() {
    let cluster = Cluster::new();
    cluster.write(
        "m.yaml",
        &yaml(&[
            &node("n1").cpu("4"),
            &deployment("web").replicas(2).cpu("500m"),
        ]),
    );
    let state = cluster.path("state.json");
    cluster
        .orch()
        .env("ORCH_STATE", &state)
        .args(["apply", "-f", "m.yaml"])
        .assert()
        .success();
    let doc: Value = serde_json::from_slice(&fs::read(&state).unwrap()).unwrap();
    assert_eq!(doc["apiVersion"], "orch.dev/v1");
    assert_eq!(doc["replicas"].as_array().unwrap().len(), 2);
    cluster
        .orch()
        .args(["--state", state.to_str().unwrap(), "apply", "-f", "m.yaml"])
        .assert()
        .success()
        .stdout(predicate::str::contains("No changes"));
}

#[test]
fn init_into_a_project_directory() {
    let cluster = Cluster::new();
    cluster
        .orch()
        .env_remove("ORCH_STATE")
        .args(["init", "platform"])
        .assert()
        .success();
    assert!(cluster.path("platform/manifests/nodes.yaml").exists());
    assert!(cluster.path("platform/orch.state.yaml").exists());
}

#[test]
fn the_simulated_time_budget_ends_the_loop_with_exit_3() {
    let cluster = Cluster::example();
    cluster
        .run(&["apply", "-f", "manifests/", "--timeout", "10"])
        .code(3)
        .stdout(predicate::str::contains("TIMED OUT"));
    let doc = cluster.json(&["plan", "-f", "manifests/", "--timeout", "10"]);
    assert_eq!(doc["outcome"], "Timeout");
    // The state holds what was done before time ran out; the next apply finishes the job.
    cluster.run(&["apply", "-f", "manifests/"]).success();
}

// ---------------------------------------------------------------- the example's constraints

fn zone_of(node: &str) -> &'static str {
    match node {
        "node-a1" => "zone-a",
        "node-b1" | "highmem-b2" => "zone-b",
        "node-c1" | "gpu-c2" => "zone-c",
        other => panic!("unknown node {other}"),
    }
}

#[test]
fn the_example_spreads_api_pins_transcoders_and_separates_video_workers() {
    let cluster = Cluster::example();
    cluster.run(&["apply", "-f", "manifests/"]).success();
    let replicas = cluster.replicas();
    let on = |workload: &str| -> Vec<String> {
        replicas
            .iter()
            .filter(|r| r["workload"] == workload)
            .map(|r| r["node"].as_str().unwrap().to_string())
            .collect()
    };
    let api = on("Deployment/default/api");
    assert_eq!(api.len(), 4);
    let mut zones: Vec<&str> = api.iter().map(|n| zone_of(n)).collect();
    zones.sort();
    zones.dedup();
    assert_eq!(zones, ["zone-a", "zone-b", "zone-c"], "api on {api:?}");
    assert_eq!(on("Deployment/default/transcoder"), ["gpu-c2", "gpu-c2"]);
    let mut video = on("Deployment/default/video-worker");
    assert_eq!(video.len(), 3);
    video.sort();
    video.dedup();
    assert_eq!(video.len(), 3, "two video workers share a node");
}

#[test]
fn explain_shows_every_node_and_what_would_help() {
    let cluster = Cluster::new();
    cluster.write(
        "m.yaml",
        &yaml(&[
            &node("big").cpu("8").taint("gpu=true:NoSchedule"),
            &node("small").cpu("1"),
            &deployment("web").cpu("2"),
        ]),
    );
    cluster.run(&["apply", "-f", "m.yaml"]).code(3);
    let name = cluster.replicas()[0]["name"].as_str().unwrap().to_string();
    cluster
        .run(&["explain", &name])
        .success()
        .stdout(predicate::str::contains("Message:   0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {gpu: true}."))
        .stdout(predicate::str::contains("TaintToleration: node(s) had untolerated taint {gpu: true}"))
        .stdout(predicate::str::contains("add a toleration for gpu=true:NoSchedule"))
        .stdout(predicate::str::contains("small lacks 1 cpu"));
    let doc = cluster.json(&["describe", "replica", &name]);
    assert_eq!(doc["kind"], "ReplicaExplanation");
    assert_eq!(doc["phase"], "Pending");
    assert!(doc["node"].is_null());
    assert_eq!(doc["nodes"][0]["name"], "big");
    assert_eq!(
        doc["nodes"][0]["filters"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()["plugin"],
        "TaintToleration"
    );
    assert_eq!(
        doc["nodes"][0]["filters"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()["verdict"],
        "Failed"
    );
    assert_eq!(
        doc["nodes"][1]["filters"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()["reason"],
        "Insufficient cpu"
    );
    assert!(doc["nodes"][1]["total"].is_null());
    cluster
        .run(&["explain", "nope"])
        .code(1)
        .stderr(predicate::str::contains("replica nope not found"));
}

#[test]
fn explain_a_running_replica_marks_the_winner_with_scores() {
    let cluster = Cluster::new();
    cluster.write(
        "m.yaml",
        &yaml(&[
            &node("a").cpu("4"),
            &node("b").cpu("8"),
            &deployment("web").cpu("1"),
        ]),
    );
    cluster.run(&["apply", "-f", "m.yaml"]).success();
    let name = cluster.replicas()[0]["name"].as_str().unwrap().to_string();
    let doc = cluster.json(&["explain", &name]);
    assert_eq!(doc["node"], "b");
    assert_eq!(doc["chosen"], "b");
    let totals: Vec<i64> = doc["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["total"].as_i64().unwrap())
        .collect();
    assert!(totals[1] > totals[0], "{totals:?}");
    let plugins: Vec<&str> = doc["nodes"][1]["scores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["plugin"].as_str().unwrap())
        .collect();
    assert_eq!(
        plugins,
        [
            "TaintToleration",
            "NodeAffinity",
            "NodeResourcesFit",
            "PodTopologySpread",
            "InterPodAffinity",
            "NodeResourcesBalancedAllocation"
        ]
    );
    cluster
        .run(&["explain", &name])
        .success()
        .stdout(predicate::str::contains("b is still the best node for it"));
}

#[test]
fn max_steps_walks_an_apply_one_step_at_a_time() {
    let whole = Cluster::example();
    let output = whole
        .run(&["apply", "-f", "manifests/", "-o", "json"])
        .success();
    let document: serde_json::Value = serde_json::from_slice(&output.get_output().stdout).unwrap();
    let total = document["steps"].as_array().unwrap().len();
    assert!(total > 2, "the example takes several steps");

    let stepped = Cluster::example();
    for taken in 1..total {
        let output = stepped
            .run(&[
                "apply",
                "-f",
                "manifests/",
                "--max-steps",
                "1",
                "-o",
                "json",
            ])
            .code(3);
        let document: serde_json::Value =
            serde_json::from_slice(&output.get_output().stdout).unwrap();
        assert_eq!(
            document["steps"].as_array().unwrap().len(),
            1,
            "step {taken}"
        );
    }
    stepped
        .run(&["apply", "-f", "manifests/", "--max-steps", "1"])
        .success();
    assert_eq!(
        stepped.state_bytes(),
        whole.state_bytes(),
        "stepping one at a time ends where one apply does"
    );
    stepped
        .run(&["apply", "-f", "manifests/", "--max-steps", "0"])
        .code(1)
        .stderr(predicates::str::contains("--max-steps"));
}
