//! HorizontalPodAutoscalers end to end: the real binary on a temporary
//! cluster, the demand moving over `--advance`, and the counts each sync
//! sets checked against the upstream arithmetic computed here
//! (`replica_calculator.go`'s `GetRawResourceReplicas`, `horizontal.go`'s
//! `stabilizeRecommendation` and `convertDesiredReplicasWithRules`), not
//! against recorded output.

use crate::common::{Cluster, deployment, node, yaml};
use serde_json::Value;

const GI: i64 = 1 << 30;
const MI: i64 = 1 << 20;

/// An `autoscaling/v2` HPA on `Deployment/api`.
fn hpa(min: i32, max: i32, metric: &str) -> String {
    format!(
        "apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {{name: api}}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: api}}
  minReplicas: {min}
  maxReplicas: {max}
  metrics:
    - type: Resource
      resource:
        name: {metric}
"
    )
}

/// The rescales of a run: (time, from, to), from each `rescale` action's detail.
fn rescales(run: &Value) -> Vec<(u64, i32, i32)> {
    let mut found = Vec::new();
    for step in run["steps"].as_array().unwrap() {
        for action in step["actions"].as_array().unwrap() {
            if action["op"] == "rescale" {
                let reason = action["reason"].as_str().unwrap();
                // `Deployment/default/api 2 → 4: …`
                let counts = reason.split(':').next().unwrap();
                let mut words = counts.split_whitespace().skip(1);
                let from = words.next().unwrap().parse().unwrap();
                let to = words.nth(1).unwrap().parse().unwrap();
                found.push((step["time"].as_u64().unwrap(), from, to));
            }
        }
    }
    found
}

/// The HPA controller's arithmetic for an `AverageValue` memory target on
/// replicas that are all Ready at every sync, without `behavior`: the
/// count each sync sets, as (time, from, to) for each change.
fn model(
    demand: &[(u64, i64)],
    target: i64,
    (min, max): (i32, i32),
    start: i32,
    syncs: impl Iterator<Item = u64>,
) -> Vec<(u64, i32, i32)> {
    let total = |now: u64| {
        demand
            .iter()
            .take_while(|(at, _)| *at <= now)
            .last()
            .map_or(0, |(_, milli)| *milli)
    };
    let mut current = start;
    // `a.recommendations[key]` starts with the count at the first sync.
    let mut recommendations: Vec<(u64, i32)> = Vec::new();
    let mut changes = Vec::new();
    for now in syncs {
        if recommendations.is_empty() {
            recommendations.push((now, current));
        }
        // metrics-server: the total split evenly over the Ready replicas.
        let per_pod = total(now) / i64::from(current);
        let usage = per_pod; // every pod reports the same share
        let ratio = usage as f64 / target as f64;
        let proposal = if (1.0 - 0.1..=1.0 + 0.1).contains(&ratio) {
            current
        } else {
            (ratio * f64::from(current)).ceil() as i32
        };
        // stabilizeRecommendation: the highest of the recommendations not
        // `Before` the cutoff 300 s ago (one exactly at it counts), this one included.
        let cutoff = now as i64 - 300;
        recommendations.retain(|(at, _)| *at as i64 >= cutoff);
        recommendations.push((now, proposal));
        let stabilized = recommendations.iter().map(|(_, r)| *r).max().unwrap();
        // convertDesiredReplicasWithRules.
        let limit = (2 * current).max(4);
        let desired = stabilized.max(min).min(max.min(limit));
        if desired != current {
            changes.push((now, current, desired));
            current = desired;
        }
    }
    changes
}

fn spike_cluster() -> Cluster {
    let cluster = Cluster::new();
    let demand = "memory: 0s=1Gi, 1m=6Gi, 3m=1Gi";
    cluster.write(
        "m.yaml",
        &format!(
            "{}{}\n        target: {{type: AverageValue, averageValue: 512Mi}}\n",
            yaml(&[
                &node("n1").cpu("64").memory("256Gi"),
                &deployment("api")
                    .replicas(2)
                    .annotation("orch.dev/demand", demand),
            ]),
            hpa(2, 10, "memory"),
        ),
    );
    cluster
}

#[test]
fn a_spike_is_followed_sync_by_sync_as_upstream_computes_it() {
    let cluster = spike_cluster();
    let run = cluster.json(&["apply", "-f", "m.yaml", "--advance", "10m"]);
    assert_eq!(run["outcome"], "Converged", "{run}");
    let expected = model(
        &[(0, GI * 1000), (60, 6 * GI * 1000), (180, GI * 1000)],
        512 * MI * 1000,
        (2, 10),
        2,
        (0..=600).step_by(15),
    );
    // Up by the scale-up limit (max(2×, 4)) to maxReplicas, then down to minReplicas.
    assert!(expected.len() >= 3, "{expected:?}");
    assert_eq!(expected.first().unwrap().1, 2);
    assert_eq!(expected.last().unwrap().2, 2);
    assert_eq!(rescales(&run), expected);
    // The state keeps the status and the controller's memory.
    let listed = cluster.json(&["get", "hpa"]);
    assert_eq!(listed["items"][0]["desiredReplicas"], 2, "{listed}");
    let state = std::fs::read_to_string(cluster.state()).unwrap();
    assert!(
        state.contains("autoscalers:") && state.contains("recommendations:"),
        "{state}"
    );
}

#[test]
fn the_scale_down_waits_exactly_the_stabilization_window() {
    let cluster = spike_cluster();
    let run = cluster.json(&["apply", "-f", "m.yaml", "--advance", "10m"]);
    let changes = rescales(&run);
    let down = changes.iter().find(|(_, from, to)| to < from).unwrap();
    // The demand falls at 3m, a sync time: the last high recommendation
    // (2m45s) holds the count until a sync finds it more than 300 s old,
    // which is 300 s after the first sync that saw the lower demand.
    assert_eq!(down.0, 180 + 300, "{changes:?}");
    // Nothing moved between the fall and the end of the window.
    assert!(
        !changes.iter().any(|(at, _, _)| *at > 180 && *at < down.0),
        "{changes:?}"
    );
}

#[test]
fn without_advance_a_steady_demand_converges() {
    let cluster = spike_cluster();
    let run = cluster.json(&["apply", "-f", "m.yaml"]);
    assert_eq!(run["outcome"], "Converged", "{run}");
    // The run ends once the HPA has settled, before the spike at 1m.
    assert!(rescales(&run).is_empty(), "{run}");
    assert!(run["clock"].as_u64().unwrap() < 60, "{run}");
    cluster
        .run(&["get", "hpa"])
        .success()
        .stdout(predicates::str::contains("memory: 512Mi/512Mi"));
}

#[test]
fn an_hpa_at_max_with_pending_pods_is_blocked_for_both_reasons() {
    let cluster = Cluster::new();
    cluster.write(
        "m.yaml",
        &format!(
            "{}{}\n        target: {{type: Utilization, averageUtilization: 50}}\n",
            yaml(&[
                &node("n1").cpu("1").memory("8Gi"),
                &deployment("api")
                    .replicas(1)
                    .cpu("400m")
                    .annotation("orch.dev/demand", "cpu: 0s=4"),
            ]),
            hpa(1, 4, "cpu"),
        ),
    );
    let output = cluster
        .orch()
        .args(["apply", "-f", "m.yaml", "--advance", "3m", "-o", "json"])
        .output()
        .unwrap();
    let run: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_ne!(output.status.code(), Some(0), "{run}");
    assert_eq!(run["outcome"], "Blocked", "{run}");
    let api = &run["workloads"][0];
    assert_eq!(api["desired"], 4, "{run}");
    let message = api["blocked"]["message"].as_str().unwrap();
    assert_eq!(api["blocked"]["reason"], "Unschedulable", "{run}");
    assert!(
        message.contains("HorizontalPodAutoscaler/default/api is at maxReplicas 4")
            && message.contains("ScalingLimited")
            && message.contains("FailedScheduling")
            && message.contains("Insufficient cpu"),
        "{message}"
    );
    // The HPA's own record says why it stopped at 4.
    let hpa = &run["autoscalers"][0];
    assert_eq!(hpa["desiredReplicas"], 4, "{run}");
    assert!(
        hpa["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["type"] == "ScalingLimited"
                && c["status"] == "True"
                && c["reason"] == "TooManyReplicas"),
        "{run}"
    );
    // CI reports name the HPA at its limit.
    cluster
        .orch()
        .args([
            "plan",
            "-f",
            "m.yaml",
            "--advance",
            "3m",
            "--junit",
            "r.xml",
        ])
        .assert()
        .code(predicates::ord::ne(0));
    let junit = std::fs::read_to_string(cluster.path("r.xml")).unwrap();
    assert!(
        junit.contains("HorizontalPodAutoscaler/default/api") && junit.contains("ScalingLimited"),
        "{junit}"
    );
}

#[test]
fn describe_hpa_shows_metrics_conditions_and_events() {
    let cluster = spike_cluster();
    cluster
        .run(&["apply", "-f", "m.yaml", "--advance", "2m", "-q"])
        .success();
    let output = cluster
        .orch()
        .args(["describe", "hpa", "api"])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    for expected in [
        "Reference:",
        "Deployment/api",
        "resource memory on pods:",
        "Min replicas:",
        "Max replicas:",
        "Deployment pods:",
        "ScalingActive",
        "SuccessfulRescale",
        "New size: 4; reason: memory resource above target",
    ] {
        assert!(text.contains(expected), "{expected} in\n{text}");
    }
    cluster
        .run(&["describe", "hpa", "web"])
        .failure()
        .stderr(predicates::str::contains(
            "horizontalpodautoscaler web not found",
        ));
}

#[test]
fn an_hpa_removed_from_the_manifests_hands_the_count_back() {
    let cluster = spike_cluster();
    cluster
        .run(&["apply", "-f", "m.yaml", "--advance", "2m", "-q"])
        .success();
    let text = std::fs::read_to_string(cluster.path("m.yaml")).unwrap();
    let without = text.split("apiVersion: autoscaling/v2").next().unwrap();
    cluster.write("m.yaml", without);
    let run = cluster.json(&["apply", "-f", "m.yaml"]);
    assert_eq!(run["workloads"][0]["desired"], 2, "{run}");
    let state = std::fs::read_to_string(cluster.state()).unwrap();
    assert!(!state.contains("autoscalers:"), "{state}");
}

/// An HPA whose target waits for a dependency that never becomes available:
/// the target has no replica to measure, no sync can change that, so the run
/// ends Blocked on the dependency instead of syncing until its timeout.
#[test]
fn an_hpa_on_a_target_blocked_before_its_replicas_exist_does_not_hold_the_clock() {
    let cluster = Cluster::new();
    cluster.write(
        "m.yaml",
        &format!(
            "{}{}\n        target: {{type: Utilization, averageUtilization: 50}}\n",
            yaml(&[
                &node("n1").cpu("1").memory("8Gi"),
                &deployment("db").replicas(1).cpu("2"),
                &deployment("api")
                    .replicas(2)
                    .cpu("100m")
                    .depends_on("Deployment/db")
                    .annotation("orch.dev/demand", "cpu: 0s=100m"),
            ]),
            hpa(2, 4, "cpu"),
        ),
    );
    let output = cluster
        .orch()
        .args(["plan", "-f", "m.yaml", "-o", "json"])
        .output()
        .unwrap();
    let run: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(run["outcome"], "Blocked", "{run}");
    assert!(run["clock"].as_u64().unwrap() < 60, "{run}");
    let api = run["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["object"] == "Deployment/default/api")
        .unwrap_or_else(|| panic!("{run}"));
    assert_eq!(api["blocked"]["reason"], "WaitingForDependency", "{run}");
}
