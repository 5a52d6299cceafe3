//! End-to-end rollouts of the real binary: rolling updates within surge and
//! unavailability, bad versions stopped at the deadline, --atomic, Recreate,
//! deadlock, undo, pause/resume, DaemonSets, dependency order.

use crate::common::{Cluster, deployment, node, yaml};
use predicates::prelude::*;
use serde_json::Value;

fn change_api_image(cluster: &Cluster, image: &str, annotation: Option<&str>) {
    let path = cluster.path("manifests/api.yaml");
    let mut text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("api:1.4.2", image);
    if let Some(annotation) = annotation {
        text = text.replace(
            "labels: {app: api, tier: frontend}",
            &format!("labels: {{app: api, tier: frontend}}\n      annotations: {{{annotation}}}"),
        );
    }
    std::fs::write(path, text).unwrap();
}

fn apply_json(cluster: &Cluster, extra: &[&str]) -> (Option<i32>, Value) {
    let output = cluster
        .orch()
        .args(["apply", "-f", "manifests/", "-o", "json"])
        .args(extra)
        .output()
        .unwrap();
    let doc = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    (output.status.code(), doc)
}

/// Per step, the status counts of one workload.
fn timeline(doc: &Value, object: &str) -> Vec<(u64, i64, i64, i64, i64)> {
    doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|step| {
            let s = step["status"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["object"] == object)?;
            Some((
                step["time"].as_u64().unwrap(),
                s["current"].as_i64().unwrap(),
                s["ready"].as_i64().unwrap(),
                s["available"].as_i64().unwrap(),
                s["updated"].as_i64().unwrap(),
            ))
        })
        .collect()
}

fn workload<'a>(doc: &'a Value, object: &str) -> &'a Value {
    doc["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["object"] == object)
        .unwrap()
}

const API: &str = "Deployment/default/api";

#[test]
fn the_example_api_rolls_out_within_surge_and_unavailability() {
    let cluster = Cluster::example();
    cluster.run(&["apply", "-f", "manifests/"]).success();
    change_api_image(&cluster, "api:1.5.0", None);
    let (code, doc) = apply_json(&cluster, &[]);
    assert_eq!(code, Some(0));
    let steps = timeline(&doc, API);
    assert!(
        steps.len() >= 4,
        "a rolling update takes several steps: {steps:?}"
    );
    for (time, current, _, available, _) in &steps {
        // 4 replicas, 25%/25%: at most 5, at least 3 available.
        assert!(
            *current <= 5 && *available >= 3,
            "t={time}: current {current}, available {available}"
        );
    }
    assert_eq!(workload(&doc, API)["updated"], 4);
    cluster
        .run(&["rollout", "history", "api"])
        .success()
        .stdout(predicate::str::contains("2 (current)").and(predicate::str::contains("api:1.5.0")));
    cluster
        .run(&["rollout", "status", "api"])
        .success()
        .stdout("deployment \"api\" successfully rolled out\n");
}

#[test]
fn a_never_ready_version_stops_at_the_deadline_with_the_old_replicas_serving() {
    let cluster = Cluster::example();
    cluster.run(&["apply", "-f", "manifests/"]).success();
    change_api_image(
        &cluster,
        "api:2.0.0",
        Some("orch.dev/simulate: never-ready"),
    );
    let (code, doc) = apply_json(&cluster, &[]);
    assert_eq!(code, Some(3));
    assert_eq!(doc["outcome"], "Blocked");
    let api = workload(&doc, API);
    assert_eq!(api["blocked"]["reason"], "ProgressDeadlineExceeded");
    assert!(
        api["blocked"]["message"]
            .as_str()
            .unwrap()
            .ends_with("has timed out progressing.")
    );
    assert!(
        api["available"].as_i64().unwrap() >= 3,
        "old replicas keep serving: {api}"
    );
    // Nothing changes after the first steps, so the deadline (600s) passes.
    assert!(doc["clock"].as_u64().unwrap() >= 600);
    cluster
        .run(&["rollout", "status", "api"])
        .code(3)
        .stdout(predicate::str::contains("exceeded its progress deadline"));
}

#[test]
fn atomic_rolls_a_failed_rollout_back() {
    let cluster = Cluster::example();
    cluster.run(&["apply", "-f", "manifests/"]).success();
    change_api_image(
        &cluster,
        "api:2.0.0",
        Some("orch.dev/simulate: never-ready"),
    );
    let (code, doc) = apply_json(&cluster, &["--atomic"]);
    assert_eq!(code, Some(3));
    let rolled = doc["rolledBack"][0].as_str().unwrap();
    assert!(
        rolled.starts_with(
            "rolled back Deployment/default/api to revision 1 (ProgressDeadlineExceeded"
        ),
        "{rolled}"
    );
    let api = workload(&doc, API);
    assert_eq!(
        (api["updated"].as_i64(), api["available"].as_i64()),
        (Some(4), Some(4))
    );
    cluster
        .run(&["rollout", "history", "api"])
        .success()
        .stdout(predicate::str::contains("3 (current)").and(predicate::str::contains("api:1.4.2")));
}

/// `plan --atomic` runs the rollback `apply --atomic` makes: the same steps,
/// rollbacks and final counts, and the state is left untouched.
#[test]
fn plan_atomic_shows_the_rollback_apply_atomic_makes() {
    let cluster = Cluster::example();
    cluster.run(&["apply", "-f", "manifests/"]).success();
    change_api_image(
        &cluster,
        "api:2.0.0",
        Some("orch.dev/simulate: never-ready"),
    );
    let path = cluster.path("manifests/api.yaml");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "  minReadySeconds: 5\n",
        "  minReadySeconds: 5\n  progressDeadlineSeconds: 30\n",
    );
    std::fs::write(&path, text).unwrap();
    let before = cluster.state_bytes();
    let output = cluster
        .orch()
        .args(["plan", "--atomic", "-f", "manifests/", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let plan: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(cluster.state_bytes(), before, "plan never writes");
    let (code, applied) = apply_json(&cluster, &["--atomic"]);
    assert_eq!(code, Some(3));
    let rolled = plan["rolledBack"][0].as_str().unwrap();
    assert!(
        rolled.starts_with(
            "rolled back Deployment/default/api to revision 1 (ProgressDeadlineExceeded"
        ),
        "{rolled}"
    );
    for field in ["steps", "rolledBack", "workloads", "outcome", "clock"] {
        assert_eq!(plan[field], applied[field], "{field} differs");
    }
    assert_eq!(workload(&plan, API)["updated"], 4);
}

#[test]
fn recreate_never_overlaps_old_and_new() {
    let cluster = Cluster::example();
    // The database as a Deployment with the Recreate strategy.
    cluster.write("manifests/db.yaml", RECREATE_DB);
    let api = cluster.path("manifests/api.yaml");
    let text = std::fs::read_to_string(&api).unwrap();
    std::fs::write(&api, text.replace("StatefulSet/db", "Deployment/db")).unwrap();
    cluster.run(&["apply", "-f", "manifests/"]).success();
    let path = cluster.path("manifests/db.yaml");
    std::fs::write(
        &path,
        std::fs::read_to_string(&path)
            .unwrap()
            .replace("postgres:16", "postgres:17"),
    )
    .unwrap();
    let (code, doc) = apply_json(&cluster, &[]);
    assert_eq!(code, Some(0));
    let steps = timeline(&doc, "Deployment/default/db");
    assert!(!steps.is_empty());
    for (time, current, _, _, updated) in &steps {
        assert!(
            *updated == 0 || current == updated,
            "t={time}: old and new together ({current} current, {updated} updated)"
        );
        assert!(*current <= 1, "t={time}: {current} replicas");
    }
    assert!(
        steps.iter().any(|s| s.1 == 0),
        "the old replica goes before the new one starts: {steps:?}"
    );
}

#[test]
fn a_rollout_with_no_room_is_reported_as_deadlocked() {
    let cluster = Cluster::new();
    // Two CPUs, two one-CPU replicas, and no surge room for a third.
    let web = |image: &str| {
        yaml(&[
            &node("n1").cpu("2"),
            &deployment("web")
                .replicas(2)
                .cpu("1")
                .rolling_update("1", "0")
                .image(image),
        ])
    };
    cluster.write("m.yaml", &web("web:1"));
    cluster.run(&["apply", "-f", "m.yaml"]).success();
    cluster.write("m.yaml", &web("web:2"));
    let output = cluster
        .orch()
        .args(["apply", "-f", "m.yaml", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    let blocked = &workload(&doc, "Deployment/default/web")["blocked"];
    assert_eq!(blocked["reason"], "RolloutDeadlock");
    assert!(
        blocked["message"]
            .as_str()
            .unwrap()
            .contains("0/1 nodes are available: 1 Insufficient cpu."),
        "{blocked}"
    );
    assert!(
        doc["clock"].as_u64().unwrap() < 600,
        "reported at once, not after the deadline"
    );
}

#[test]
fn undo_to_a_chosen_revision() {
    let cluster = Cluster::example();
    cluster.run(&["apply", "-f", "manifests/", "-q"]).success();
    change_api_image(&cluster, "api:1.5.0", None);
    cluster.run(&["apply", "-f", "manifests/", "-q"]).success();
    let path = cluster.path("manifests/api.yaml");
    std::fs::write(
        &path,
        std::fs::read_to_string(&path)
            .unwrap()
            .replace("api:1.5.0", "api:1.6.0"),
    )
    .unwrap();
    cluster.run(&["apply", "-f", "manifests/", "-q"]).success();
    cluster
        .run(&["rollout", "undo", "api", "--to-revision", "1"])
        .success()
        .stdout(predicate::str::contains("rolled back to revision 1"));
    cluster
        .run(&["rollout", "history", "api"])
        .success()
        .stdout(predicate::str::contains("4 (current)").and(predicate::str::contains("api:1.4.2")));
    cluster
        .run(&["rollout", "undo", "api", "--to-revision", "9"])
        .code(1)
        .stderr(predicate::str::contains("no revision 9"));
    // The manifests still say 1.6.0: the next apply rolls forward again.
    cluster.run(&["apply", "-f", "manifests/", "-q"]).success();
    cluster
        .run(&["rollout", "history", "api"])
        .success()
        .stdout(predicate::str::contains("5 (current)"));
}

#[test]
fn pause_holds_a_new_template_until_resume() {
    let cluster = Cluster::example();
    cluster.run(&["apply", "-f", "manifests/", "-q"]).success();
    cluster
        .run(&["rollout", "pause", "api"])
        .success()
        .stdout("Deployment/default/api paused\n");
    change_api_image(&cluster, "api:1.5.0", None);
    let (code, doc) = apply_json(&cluster, &[]);
    assert_eq!(code, Some(3));
    assert_eq!(workload(&doc, API)["blocked"]["reason"], "Paused");
    assert_eq!(workload(&doc, API)["updated"], 0);
    cluster.run(&["rollout", "resume", "api"]).success();
    let (code, doc) = apply_json(&cluster, &[]);
    assert_eq!(code, Some(0));
    assert_eq!(workload(&doc, API)["updated"], 4);
}

#[test]
fn a_daemonset_rolls_node_by_node() {
    let cluster = Cluster::example();
    cluster.run(&["apply", "-f", "manifests/", "-q"]).success();
    let path = cluster.path("manifests/log-agent.yaml");
    std::fs::write(
        &path,
        std::fs::read_to_string(&path)
            .unwrap()
            .replace("fluent-bit:3.0", "fluent-bit:3.1"),
    )
    .unwrap();
    let (code, doc) = apply_json(&cluster, &[]);
    assert_eq!(code, Some(0));
    let steps = timeline(&doc, "DaemonSet/kube-system/log-agent");
    for (time, _, _, available, _) in &steps {
        assert!(
            *available >= 4,
            "t={time}: maxUnavailable 1 of 5, but {available} available"
        );
    }
    assert!(steps.len() >= 5, "one node at a time: {steps:?}");
    assert_eq!(
        workload(&doc, "DaemonSet/kube-system/log-agent")["updated"],
        5
    );
}

#[test]
fn dependencies_start_in_order() {
    let cluster = Cluster::example();
    let (_, doc) = apply_json(&cluster, &[]);
    let mut db_ready = None;
    let mut api_created = None;
    for step in doc["steps"].as_array().unwrap() {
        for action in step["actions"].as_array().unwrap() {
            let time = step["time"].as_u64();
            if action["object"] == "StatefulSet/default/db" && action["op"] == "mark-ready" {
                db_ready = db_ready.or(time);
            }
            if action["object"] == API && action["op"] == "create" {
                api_created = api_created.or(time);
            }
        }
    }
    assert!(
        api_created.unwrap() >= db_ready.unwrap(),
        "api created at {api_created:?}, db ready at {db_ready:?}"
    );
    cluster
        .run(&["graph", "-f", "manifests/"])
        .success()
        .stdout(predicate::str::contains(
            "2. Deployment/default/api (after StatefulSet/default/db)",
        ));
}

#[test]
fn crash_looping_replicas_restart_with_back_off() {
    let cluster = Cluster::example();
    let state = cluster.path("state.json");
    cluster
        .orch()
        .env("ORCH_STATE", &state)
        .args(["apply", "-f", "manifests/", "-q"])
        .assert()
        .success();
    change_api_image(
        &cluster,
        "api:3.0.0",
        Some("orch.dev/simulate: crash-after=30s"),
    );
    cluster
        .orch()
        .env("ORCH_STATE", &state)
        .args(["apply", "-f", "manifests/", "--timeout", "400"])
        .assert()
        .code(3);
    let doc: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    let restarts: Vec<u64> = doc["replicas"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["workload"] == API && r["restarts"].as_u64().unwrap() > 0)
        .map(|r| r["restarts"].as_u64().unwrap())
        .collect();
    assert!(
        !restarts.is_empty(),
        "crash-looping replicas count restarts"
    );
    let backoffs = doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["reason"] == "BackOff")
        .count();
    assert!(backoffs >= restarts.len());
}

/// A database replica as a Deployment that is replaced with `Recreate`.
const RECREATE_DB: &str = r#"# A single database replica pinned to the high-memory node class.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: db
  labels: {app: db}
spec:
  replicas: 1
  strategy:
    type: Recreate
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
      annotations:
        orch.dev/ready-after: 20s
    spec:
      nodeSelector:
        node.orch.dev/class: highmem
      containers:
        - name: postgres
          image: postgres:16
          ports: [{containerPort: 5432}]
          env:
            - {name: POSTGRES_DB, value: app}
          resources:
            requests: {cpu: "2", memory: 24Gi}
            limits: {memory: 24Gi}
          volumeMounts:
            - {name: data, mountPath: /var/lib/postgresql/data}
      volumes:
        - name: data
          emptyDir: {}
"#;
