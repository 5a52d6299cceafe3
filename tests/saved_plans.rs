//! Saved plans end to end: `plan --out FILE` then `apply FILE` does exactly
//! the recorded steps and nothing else, or refuses with the state untouched.

use crate::common::Cluster;
use serde_json::Value;
use std::fs;

fn read_json(cluster: &Cluster, name: &str) -> Value {
    serde_json::from_slice(&fs::read(cluster.path(name)).unwrap()).unwrap()
}

fn stderr(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

/// Copy the cluster's state to `name`, for a direct apply to compare with.
fn copy_state(cluster: &Cluster, name: &str) {
    if cluster.state().exists() {
        fs::copy(cluster.state(), cluster.path(name)).unwrap();
    }
}

/// `apply -o json` on the saved plan, checked against the plan; returns the
/// state it leaves, which must equal what a direct apply leaves.
fn plan_then_apply_matches_a_direct_apply(cluster: &Cluster, exit: i32) {
    copy_state(cluster, "direct.yaml");
    let planned = cluster.json(&["plan", "-f", "manifests", "--out", "plan.json"]);
    let saved = read_json(cluster, "plan.json");
    assert_eq!(saved["apiVersion"], "orch.dev/v1");
    assert_eq!(saved["kind"], "SavedPlan");
    assert_eq!(saved["steps"], planned["steps"]);
    assert!(!saved["steps"].as_array().unwrap().is_empty());

    let output = cluster
        .orch()
        .args(["apply", "plan.json", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(exit), "{output:?}");
    let applied: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(applied["kind"], "ApplyResult");
    assert_eq!(applied["steps"], saved["steps"]);
    assert_eq!(applied["outcome"], saved["outcome"]);
    assert_eq!(applied["clock"], saved["clock"]);

    cluster
        .orch()
        .env("ORCH_STATE", cluster.path("direct.yaml"))
        .args(["apply", "-f", "manifests", "-q"])
        .assert()
        .code(exit);
    assert_eq!(
        cluster.state_bytes(),
        fs::read(cluster.path("direct.yaml")).unwrap(),
        "a saved plan must end in the state a direct apply reaches"
    );
}

#[test]
fn a_saved_plan_ends_in_the_state_a_direct_apply_reaches() {
    let cluster = Cluster::example();
    // From no state at all...
    plan_then_apply_matches_a_direct_apply(&cluster, 0);
    // ...and a rolling update from an existing one.
    let api = fs::read_to_string(cluster.path("manifests/api.yaml")).unwrap();
    cluster.write("manifests/api.yaml", &api.replace("api:1.4.2", "api:1.5.0"));
    plan_then_apply_matches_a_direct_apply(&cluster, 0);
}

#[test]
fn a_blocked_plan_applies_to_the_same_blocked_state_with_exit_3() {
    let cluster = Cluster::example();
    cluster.run(&["apply", "-f", "manifests", "-q"]).success();
    let workers = fs::read_to_string(cluster.path("manifests/workers.yaml")).unwrap();
    let more = workers.replacen(
        "replicas: 2\n  selector:\n    matchLabels: {app: transcoder}",
        "replicas: 3\n  selector:\n    matchLabels: {app: transcoder}",
        1,
    );
    assert_ne!(
        more, workers,
        "the transcoder's replica count is where the test expects it"
    );
    cluster.write("manifests/workers.yaml", &more);
    plan_then_apply_matches_a_direct_apply(&cluster, 3);
}

#[test]
fn a_changed_state_makes_the_plan_stale() {
    let cluster = Cluster::example();
    cluster.run(&["apply", "-f", "manifests", "-q"]).success();
    let api = fs::read_to_string(cluster.path("manifests/api.yaml")).unwrap();
    cluster.write("manifests/api.yaml", &api.replace("api:1.4.2", "api:1.5.0"));
    cluster
        .run(&["plan", "-f", "manifests", "--out", "plan.json", "-q"])
        .success();

    // A fleet change in between.
    cluster.run(&["node", "cordon", "node-c1"]).success();
    let before = cluster.state_bytes();
    let refused = cluster.run(&["apply", "plan.json"]).code(1);
    let message = stderr(&refused);
    assert!(message.contains("plan is stale"), "{message}");
    assert!(message.contains("nothing was changed"), "{message}");
    assert_eq!(cluster.state_bytes(), before);

    // Another apply in between: the plan was made against the state before it.
    cluster.run(&["node", "uncordon", "node-c1"]).success();
    cluster
        .run(&["plan", "-f", "manifests", "--out", "plan.json", "-q"])
        .success();
    cluster.run(&["apply", "-f", "manifests", "-q"]).success();
    let before = cluster.state_bytes();
    let message = stderr(&cluster.run(&["apply", "plan.json"]).code(1));
    assert!(message.contains("plan is stale"), "{message}");
    assert_eq!(cluster.state_bytes(), before);

    // A plan made before any state existed is stale once one does.
    let fresh = Cluster::example();
    fresh
        .run(&["plan", "-f", "manifests", "--out", "plan.json", "-q"])
        .success();
    fresh
        .run(&["node", "add", "n9", "--cpu", "4", "--memory", "16Gi"])
        .success();
    let before = fresh.state_bytes();
    let message = stderr(&fresh.run(&["apply", "plan.json"]).code(1));
    assert!(message.contains("plan is stale"), "{message}");
    assert!(message.contains("recorded no state file"), "{message}");
    assert_eq!(fresh.state_bytes(), before);
}

#[test]
fn corrupt_foreign_and_tampered_plans_are_refused_and_change_nothing() {
    let cluster = Cluster::example();
    cluster.run(&["apply", "-f", "manifests", "-q"]).success();
    let api = fs::read_to_string(cluster.path("manifests/api.yaml")).unwrap();
    cluster.write("manifests/api.yaml", &api.replace("api:1.4.2", "api:1.5.0"));
    cluster
        .run(&["plan", "-f", "manifests", "--out", "plan.json", "-q"])
        .success();
    let text = fs::read_to_string(cluster.path("plan.json")).unwrap();
    let before = cluster.state_bytes();
    let refuse = |name: &str, contents: &str, expected: &str| {
        cluster.write(name, contents);
        let message = stderr(&cluster.run(&["apply", name]).code(1));
        assert!(
            message.contains(expected),
            "{name}: expected {expected:?} in {message}"
        );
        assert!(!message.contains("panicked"), "{message}");
        assert_eq!(cluster.state_bytes(), before, "{name} changed the state");
    };
    refuse("truncated.json", &text[..text.len() / 2], "truncated.json:");
    refuse("binary.json", "\u{0}\u{1}garbage", "not a saved plan");
    let document = cluster.json(&["plan", "-f", "manifests"]);
    refuse(
        "document.json",
        &document.to_string(),
        "kind Plan is not SavedPlan",
    );
    refuse(
        "newer.json",
        &text.replacen("orch.dev/v1", "orch.dev/v2", 1),
        "apiVersion orch.dev/v2 is not supported",
    );
    let mut value: Value = serde_json::from_str(&text).unwrap();
    value["options"]["scoring"] = "random".into();
    refuse(
        "options.json",
        &value.to_string(),
        "unknown variant `random`",
    );
    let message = stderr(&cluster.run(&["apply", "missing.json"]).code(1));
    assert!(message.contains("reading plan missing.json"), "{message}");

    // A recorded step edited: the loop's own first step differs from it, so
    // nothing is persisted.
    let mut value: Value = serde_json::from_str(&text).unwrap();
    let action = value["steps"][0]["actions"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|a| a["op"] == "create")
        .unwrap();
    action["replica"] = "api-forged-00000".into();
    refuse(
        "tampered.json",
        &value.to_string(),
        "step 1 diverged from the recorded plan",
    );

    // Issue 25, finding 3: every kind of tampering is found in memory before
    // the first write — a later step changed, a step appended, a step
    // removed, the outcome or final clock changed — and nothing is persisted.
    let original: Value = serde_json::from_str(&text).unwrap();
    let steps = original["steps"].as_array().unwrap().len();
    assert!(steps >= 3, "the fixture plan has {steps} steps");
    let tampered = |name: &str, edit: &dyn Fn(&mut Value), expected: &str| {
        let mut value = original.clone();
        edit(&mut value);
        refuse(name, &value.to_string(), expected);
        let message = stderr(&cluster.run(&["apply", name]).code(1));
        assert!(message.contains("nothing was changed"), "{name}: {message}");
    };
    tampered(
        "late.json",
        &|v| v["steps"][1]["status"][0]["ready"] = 99.into(),
        "step 2 diverged",
    );
    tampered(
        "last.json",
        &|v| v["steps"][steps - 1]["time"] = 999_999.into(),
        &format!("step {steps} diverged"),
    );
    tampered(
        "appended.json",
        &|v| {
            let copy = v["steps"][steps - 1].clone();
            v["steps"].as_array_mut().unwrap().push(copy);
        },
        &format!("step {} diverged", steps + 1),
    );
    tampered(
        "removed.json",
        &|v| {
            v["steps"].as_array_mut().unwrap().pop();
        },
        &format!("step {steps} diverged"),
    );
    tampered(
        "removed-middle.json",
        &|v| {
            v["steps"].as_array_mut().unwrap().remove(1);
        },
        "step 2 diverged",
    );
    tampered(
        "outcome.json",
        &|v| v["outcome"] = "Blocked".into(),
        "the recorded outcome differs",
    );
    tampered(
        "clock.json",
        &|v| v["clock"] = 1.into(),
        "the recorded final clock differs",
    );

    // The untouched plan still applies.
    cluster.run(&["apply", "plan.json", "-q"]).success();
    assert_ne!(cluster.state_bytes(), before);
}

#[test]
fn a_plan_with_no_changes_applies_as_a_no_op() {
    let cluster = Cluster::example();
    cluster.run(&["apply", "-f", "manifests", "-q"]).success();
    let before = cluster.state_bytes();
    let planned = cluster.json(&["plan", "-f", "manifests", "--out", "plan.json"]);
    assert_eq!(planned["outcome"], "NoChanges");
    let saved = read_json(&cluster, "plan.json");
    assert_eq!(saved["steps"], serde_json::json!([]));
    assert_eq!(saved["outcome"], "NoChanges");
    cluster
        .run(&["apply", "plan.json"])
        .success()
        .stdout(predicates::str::contains("No changes."));
    assert_eq!(cluster.state_bytes(), before);
    // Nothing changed, so the same plan still applies.
    cluster.run(&["apply", "plan.json", "-q"]).success();
    assert_eq!(cluster.state_bytes(), before);
}

#[test]
fn plan_output_is_the_same_with_or_without_out() {
    let cluster = Cluster::example();
    let plain = cluster.run(&["plan", "-f", "manifests"]).success();
    let saved = cluster
        .run(&["plan", "-f", "manifests", "--out", "plan.json"])
        .success();
    assert_eq!(plain.get_output().stdout, saved.get_output().stdout);
    assert!(stderr(&saved).contains("Saved the plan to plan.json"));
    assert!(!cluster.state().exists(), "plan never writes the state");
    // The plan file is private like the state (it holds the manifests).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(cluster.path("plan.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Options are fixed by the plan.
    cluster
        .run(&["apply", "plan.json", "--scoring", "most-allocated"])
        .failure();
    cluster
        .run(&["apply", "plan.json", "-f", "manifests"])
        .failure();
    assert!(!cluster.state().exists());
}

/// `plan --atomic --out FILE` records the rollback of a failed rollout;
/// `apply FILE` carries it out and ends where `apply --atomic` ends.
#[test]
fn a_saved_atomic_plan_carries_out_its_rollback() {
    let cluster = Cluster::example();
    cluster.run(&["apply", "-f", "manifests"]).success();
    let path = cluster.path("manifests/api.yaml");
    let text = fs::read_to_string(&path)
        .unwrap()
        .replace("api:1.4.2", "api:2.0.0")
        .replace(
            "labels: {app: api, tier: frontend}",
            "labels: {app: api, tier: frontend}\n      annotations: {orch.dev/simulate: never-ready}",
        )
        .replace(
            "  minReadySeconds: 5\n",
            "  minReadySeconds: 5\n  progressDeadlineSeconds: 30\n",
        );
    fs::write(&path, text).unwrap();
    copy_state(&cluster, "direct.yaml");
    let planned = cluster
        .orch()
        .args(["plan", "--atomic", "-f", "manifests", "--out", "plan.json"])
        .args(["-o", "json"])
        .output()
        .unwrap();
    assert_eq!(planned.status.code(), Some(3), "{planned:?}");
    let planned: Value = serde_json::from_slice(&planned.stdout).unwrap();
    let saved = read_json(&cluster, "plan.json");
    assert_eq!(saved["options"]["atomic"], true);
    assert_eq!(saved["steps"], planned["steps"]);

    let output = cluster
        .orch()
        .args(["apply", "plan.json", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    let applied: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(applied["steps"], saved["steps"]);
    assert_eq!(applied["rolledBack"], planned["rolledBack"]);
    assert!(!applied["rolledBack"].as_array().unwrap().is_empty());

    cluster
        .orch()
        .env("ORCH_STATE", cluster.path("direct.yaml"))
        .args(["apply", "--atomic", "-f", "manifests", "-q"])
        .assert()
        .code(3);
    assert_eq!(
        cluster.state_bytes(),
        fs::read(cluster.path("direct.yaml")).unwrap(),
        "the saved atomic plan ends in the state apply --atomic reaches"
    );
}
