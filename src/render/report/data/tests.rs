use super::*;
use crate::analysis::fixtures::{DAEMONSET, deployment, desired, node};
use crate::executor::{self, RunOptions};
use crate::model::workload::Desired;
use crate::scheduler::{Scheduler, ScoringStrategy};
use std::collections::BTreeMap;

/// Runs `text` from an empty state with a recorder; the recorder's data
/// and the final state.
fn recorded(text: &str) -> (Data, State, executor::RunResult) {
    let desired = desired(text);
    let mut state = State::default();
    let (data, result) = record(&desired, &mut state, &RunOptions::default());
    (data, state, result)
}

/// Runs `desired` on `state` with a recorder: its data and the run's result.
fn record(
    desired: &Desired,
    state: &mut State,
    options: &RunOptions,
) -> (Data, executor::RunResult) {
    let scheduler = Scheduler::new(ScoringStrategy::LeastAllocated);
    let mut recorder = Recorder::new(desired, state, "t", "plan");
    let result = executor::run(desired, state, &scheduler, options, |state, step| {
        if let Some(step) = step {
            recorder.step(state, step);
        }
        Ok::<(), std::convert::Infallible>(())
    })
    .unwrap();
    recorder.finish(&result, state, "summary");
    recorder.pending(state, &scheduler);
    (recorder.data, result)
}

#[test]
fn frames_replay_to_the_final_placement_and_counts() {
    let text = format!(
        "{}{}{}{}",
        node("n1", "a", "2"),
        node("n2", "b", "2"),
        deployment("web", 3, "500m", ""),
        DAEMONSET
    );
    let (data, state, result) = recorded(&text);
    assert_eq!(data.frames.len(), result.steps.len() + 1);
    assert_eq!(data.nodes.name.len(), 2);
    assert_eq!(data.zones.len(), 2);
    // Replaying every frame's deltas gives where each replica is at the end.
    let mut replayed: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut cpu = [0i64; 2];
    for frame in &data.frames {
        for triple in frame.place.chunks(3) {
            let key = (
                data.nodes.name[triple[0] as usize].clone(),
                data.workloads[triple[1] as usize].name.clone(),
            );
            *replayed.entry(key).or_default() += triple[2];
        }
        for triple in frame.used.chunks(3) {
            cpu[triple[0] as usize] += triple[1];
        }
    }
    replayed.retain(|_, v| *v != 0);
    let mut expected: BTreeMap<(String, String), i64> = BTreeMap::new();
    for replica in &state.replicas {
        let node = replica.node.as_deref().unwrap().to_string();
        *expected
            .entry((node, replica.workload.to_string()))
            .or_default() += 1;
    }
    assert_eq!(replayed, expected);
    // 3 × 500m of web and 2 × 100m of the agent.
    assert_eq!(cpu.iter().sum::<i64>(), 1700);
    // The last frame's counts are the run's final ones.
    let last = data.frames.last().unwrap();
    for report in &result.workloads {
        let w = data
            .workloads
            .iter()
            .position(|x| x.name == report.object)
            .unwrap();
        assert_eq!(
            last.counts[w][..4],
            [
                report.current,
                report.ready,
                report.available,
                report.updated
            ]
        );
        assert_eq!(data.workloads[w].desired, report.desired);
        assert_eq!(data.workloads[w].status, "Converged");
    }
    assert!(data.pending.is_empty());
}

#[test]
fn pending_replicas_are_grouped_with_every_nodes_verdict() {
    let text = format!(
        "{}{}{}",
        node("n1", "a", "1"),
        node("n2", "b", "1"),
        deployment("big", 3, "800m", "")
    );
    let (data, _, result) = recorded(&text);
    assert_eq!(result.outcome, executor::Outcome::Blocked);
    assert_eq!(data.pending.len(), 1);
    let pending = &data.pending[0];
    assert_eq!(
        data.workloads[pending.workload as usize].name,
        "Deployment/default/big"
    );
    assert_eq!(pending.count, 1);
    assert!(
        pending.message.contains("Insufficient cpu"),
        "{}",
        pending.message
    );
    assert_eq!(pending.verdict.len(), 2);
    assert!(pending.verdict.iter().all(|&v| v == 0), "{pending:?}");
    assert_eq!(pending.reasons, ["NodeResourcesFit: Insufficient cpu"]);
    let last = data.frames.last().unwrap();
    assert_eq!(
        last.counts[pending.workload as usize][4], 1,
        "pending counted"
    );
    let big = &data.workloads[pending.workload as usize];
    assert_eq!(big.reason.as_deref(), Some("Unschedulable"));
}

/// Two replicas of 500m whose total cpu demand is 200m, 2 cores from 2m
/// to 5m, kept at 50% of their requests by an HPA of 2 to 6.
const SPIKE: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  annotations: {orch.dev/demand: \"cpu: 0s=200m, 2m=2, 5m=200m\"}
spec:
  replicas: 2
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
        - name: main
          image: example/api:1
          resources:
            requests: {cpu: 500m, memory: 1Gi}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  minReplicas: 2
  maxReplicas: 6
  metrics:
    - type: Resource
      resource:
        name: cpu
        target: {type: Utilization, averageUtilization: 50}
---
";

/// Each frame's (desired, current) of the first HPA, from its change list;
/// `None` before it appears.
fn expand(series: &Autoscaler, frames: usize) -> Vec<Option<(i32, i32)>> {
    let mut out = vec![None; frames];
    for (k, &(frame, desired, current)) in series.counts.iter().enumerate() {
        let end = series
            .counts
            .get(k + 1)
            .map_or(frames, |next| next.0 as usize);
        for slot in &mut out[frame as usize..end] {
            *slot = Some((desired, current));
        }
    }
    out
}

#[test]
fn an_hpas_demand_and_counts_follow_the_spike_on_the_frames_axis() {
    let desired = desired(&format!("{}{SPIKE}", node("n1", "a", "16")));
    let mut state = State::default();
    let options = RunOptions {
        advance: 20 * 60,
        ..RunOptions::default()
    };
    let (data, result) = record(&desired, &mut state, &options);
    assert_eq!(data.autoscalers.len(), 1);
    let hpa = &data.autoscalers[0];
    assert_eq!(hpa.name, "HorizontalPodAutoscaler/default/api");
    assert_eq!(hpa.target, "Deployment/default/api");
    assert_eq!((hpa.min, hpa.max, hpa.resource.as_str()), (2, 6, "cpu"));
    // The curve's own breakpoints, not its value at the steps around them.
    let first = data.frames[hpa.counts[0].0 as usize].time;
    assert_eq!(hpa.demand, [(first, 200), (120, 2000), (300, 200)]);
    // Every frame's counts are the step's, from the first step with the HPA on.
    let series = expand(hpa, data.frames.len());
    assert_eq!(series[0], None, "no HPA before the run");
    for (k, step) in result.steps.iter().enumerate() {
        let status = &step.autoscalers[0];
        assert_eq!(
            series[k + 1],
            Some((status.desired, status.current)),
            "frame {}",
            k + 1
        );
    }
    // The upstream arithmetic: at 2m, 1000m per pod is 200% of the request,
    // four times the target, but a scale-up without `behavior` at most
    // doubles (2 → 4); then the maximum, 6. The scale-down to the minimum
    // waits out the 300 s window after the last high recommendation (4m45s).
    let at = |time: u64| {
        let k = (0..data.frames.len())
            .find(|&k| data.frames[k].time >= time && series[k].is_some())
            .unwrap();
        series[k].unwrap()
    };
    assert_eq!(at(0).0, 2);
    assert_eq!(at(120).0, 4);
    let peak = series.iter().flatten().map(|c| c.0).max();
    assert_eq!(peak, Some(6));
    let last_high = data
        .frames
        .iter()
        .zip(&series)
        .filter(|(_, c)| c.is_some_and(|c| c.0 > 2))
        .map(|(f, _)| f.time)
        .max();
    let lowered = data
        .frames
        .iter()
        .zip(&series)
        .find(|(f, c)| Some(f.time) > last_high && c.is_some_and(|c| c.0 == 2));
    assert_eq!(lowered.map(|(f, _)| f.time), Some(600));
    assert_eq!(series.last().copied().flatten(), Some((2, 2)));
    // Counts are recorded only where they change.
    for pair in hpa.counts.windows(2) {
        assert_ne!((pair[0].1, pair[0].2), (pair[1].1, pair[1].2));
    }
}

#[test]
fn a_second_runs_first_frame_has_the_stored_hpa_and_a_run_without_has_none() {
    let desired = desired(&format!("{}{SPIKE}", node("n1", "a", "16")));
    let mut state = State::default();
    let options = RunOptions {
        advance: 3 * 60,
        ..RunOptions::default()
    };
    record(&desired, &mut state, &options);
    let stored = state.autoscalers[0].status.desired_replicas;
    assert!(stored > 2, "the spike scaled it: {stored}");
    let (data, _) = record(&desired, &mut state, &RunOptions::default());
    assert_eq!(data.autoscalers[0].counts[0], (0, stored, stored));
    // The clock is past the spike's start: the curve starts where it is.
    assert_eq!(data.autoscalers[0].demand[0], (data.frames[0].time, 2000));
    // No HPA, no series and no key in the page's data.
    let (data, _, _) = recorded(&format!(
        "{}{}",
        node("n1", "a", "2"),
        deployment("web", 1, "100m", "")
    ));
    assert!(data.autoscalers.is_empty());
    let json = serde_json::to_value(&data).unwrap();
    assert!(json.get("autoscalers").is_none(), "{json}");
}
