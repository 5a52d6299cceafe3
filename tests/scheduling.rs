//! Table-driven scheduling cases, one file per plugin in `tests/scheduling/`,
//! written from kube-scheduler's documented behaviour and its own tests (each
//! case credits its source). A case declares nodes, the replicas already
//! placed, the incoming replica, and what kube-scheduler would decide.

use orch::manifest::pod_spec_from_template;
use orch::model::pod::{PodSpec, Taint};
use orch::model::resources::Allocatable;
use orch::model::state::{NodeSource, NodeState};
use orch::scheduler::snapshot::Snapshot;
use orch::scheduler::{Scheduler, ScoringStrategy};
use serde_json::{Value, json};
use std::collections::BTreeMap;

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn node(spec: &Value) -> NodeState {
    let name = text(&spec["name"]);
    let mut labels: BTreeMap<String, String> = spec["labels"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), text(v))).collect())
        .unwrap_or_default();
    labels
        .entry("kubernetes.io/hostname".into())
        .or_insert_with(|| name.clone());
    if spec["noHostname"] == true {
        labels.remove("kubernetes.io/hostname");
    }
    let allocatable: BTreeMap<String, String> = spec["allocatable"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), text(v))).collect())
        .unwrap_or_default();
    let taints: Vec<Taint> =
        serde_json::from_value(spec.get("taints").cloned().unwrap_or(json!([]))).unwrap();
    NodeState {
        name,
        labels,
        allocatable: Allocatable::from_map(&allocatable).unwrap(),
        taints,
        unschedulable: spec["unschedulable"] == true,
        cordoned: false,
        draining: false,
        removing: false,
        not_ready_since: None,
        ready: spec["ready"] != false,
        conditions: Vec::new(),
        source: NodeSource::Manifest,
    }
}

/// A replica from `{namespace, labels, requests, spec}`: `spec` is a pod
/// spec; `requests` a shorthand for one container's requests.
fn pod(spec: &Value) -> PodSpec {
    let mut pod_spec = spec.get("spec").cloned().unwrap_or(json!({}));
    if pod_spec.get("containers").is_none() {
        let requests = spec.get("requests").cloned().unwrap_or(json!({}));
        let limits = spec.get("limits").cloned().unwrap_or(json!({}));
        pod_spec["containers"] =
            json!([{"name": "c", "resources": {"requests": requests, "limits": limits}}]);
    }
    let template = json!({"metadata": {
        "labels": spec.get("labels").cloned().unwrap_or(json!({})),
        "annotations": spec.get("annotations").cloned().unwrap_or(json!({})),
    }, "spec": pod_spec});
    let namespace = spec.get("namespace").map_or("default".to_string(), text);
    let mut pod = pod_spec_from_template(&namespace, &template).unwrap_or_else(|d| {
        panic!(
            "{}",
            d.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    if let Some(selector) = spec.get("ownerSelector") {
        pod.owner_selector = Some(serde_json::from_value(selector.clone()).unwrap());
    }
    pod
}

fn names(value: &Value) -> Vec<String> {
    let mut names: Vec<String> = value.as_array().unwrap().iter().map(text).collect();
    names.sort();
    names
}

fn run_case(file: &str, case: &Value) -> Result<(), String> {
    let name = format!("{file}: {}", text(&case["name"]));
    let nodes: Vec<NodeState> = case["nodes"].as_array().unwrap().iter().map(node).collect();
    let mut snapshot = Snapshot::new(&nodes);
    for existing in case
        .get("existing")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let index = snapshot
            .index_of(&text(&existing["node"]))
            .ok_or(format!("{name}: unknown node"))?;
        let count = existing.get("count").and_then(Value::as_u64).unwrap_or(1);
        let replica = pod(existing);
        for _ in 0..count {
            snapshot.assume(index, &replica);
        }
    }
    let strategy = match case.get("scoring").map(text).as_deref() {
        Some("MostAllocated") => ScoringStrategy::MostAllocated,
        _ => ScoringStrategy::LeastAllocated,
    };
    let scheduler = Scheduler::new(strategy);
    let incoming = pod(&case["pod"]);
    let evaluation = scheduler.evaluate(&incoming, &snapshot);
    let expect = &case["expect"];
    let fail = |what: &str, expected: &dyn std::fmt::Debug, got: &dyn std::fmt::Debug| {
        Err(format!(
            "{name}: {what}: expected {expected:?}, got {got:?}"
        ))
    };
    let mut feasible: Vec<String> = evaluation
        .nodes
        .iter()
        .filter(|v| v.total.is_some())
        .map(|v| v.node.clone())
        .collect();
    feasible.sort();
    if let Some(expected) = expect.get("feasible")
        && names(expected) != feasible
    {
        return fail("feasible", &names(expected), &feasible);
    }
    match (
        &evaluation.result,
        expect.get("chosen"),
        expect.get("message"),
    ) {
        (Ok(placement), Some(chosen), _) => {
            let got = &snapshot.nodes[placement.node].name;
            if **got != *text(chosen) {
                return fail("chosen", &text(chosen), got);
            }
        }
        (Err(error), _, Some(message)) if error.to_string() != text(message) => {
            return fail("message", &text(message), &error.to_string());
        }
        (Ok(p), None, Some(message)) => {
            return fail("message", &text(message), &snapshot.nodes[p.node].name);
        }
        (Err(e), Some(chosen), _) => return fail("chosen", &text(chosen), &e.to_string()),
        _ => {}
    }
    if let Some(reasons) = expect.get("reasons").and_then(Value::as_object) {
        for (node, expected) in reasons {
            let verdict = evaluation
                .nodes
                .iter()
                .find(|v| v.node == *node)
                .ok_or(format!("{name}: no node {node}"))?;
            let got: Vec<String> = verdict
                .filters
                .iter()
                .filter_map(|(_, r)| r.as_ref().err())
                .flatten()
                .map(ToString::to_string)
                .collect();
            let expected: Vec<String> = match expected {
                Value::Array(a) => a.iter().map(text).collect(),
                other => vec![text(other)],
            };
            if got != expected {
                return fail(&format!("reasons of {node}"), &expected, &got);
            }
        }
    }
    if let Some(scores) = expect.get("scores").and_then(Value::as_object) {
        for (plugin, per_node) in scores {
            for (node, expected) in per_node.as_object().unwrap() {
                let verdict = evaluation
                    .nodes
                    .iter()
                    .find(|v| v.node == *node)
                    .ok_or(format!("{name}: no node {node}"))?;
                let got = verdict
                    .scores
                    .iter()
                    .find(|(p, _)| p == plugin)
                    .map(|(_, s)| *s);
                if got != expected.as_i64() {
                    return fail(
                        &format!("{plugin} score of {node}"),
                        &expected.as_i64(),
                        &got,
                    );
                }
            }
        }
    }
    Ok(())
}

#[test]
fn scheduling_cases() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scheduling");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut failures = Vec::new();
    let mut count = 0;
    for path in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
    {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let doc: Value = serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        for case in doc["cases"].as_array().unwrap() {
            count += 1;
            if let Err(failure) = run_case(&file, case) {
                failures.push(failure);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(count >= 80, "only {count} cases");
}
