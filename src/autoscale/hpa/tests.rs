//! Tests ported from Kubernetes' `pkg/controller/podautoscaler`
//! (`replica_calculator_test.go` and `horizontal_test.go`, Kubernetes 1.34),
//! each case under its upstream name, and a differential property test of
//! the normalization arithmetic against a plain model of the Go functions.

use super::*;
use crate::autoscale::spec::{PolicyType, ScalingPolicy, ScalingRules, SelectPolicy};
use proptest::prelude::*;

const NOW: i64 = 1_000_000;

/// `defaultTestingTolerance`, `defaultTestingCPUInitializationPeriod` (2m),
/// `defaultTestingDelayOfInitialReadinessStatus` (10s).
fn testing_calculator() -> Calculator {
    Calculator {
        tolerances: Tolerances::default(),
        cpu_initialization_period: 120,
        delay_of_initial_readiness_status: 10,
    }
}

/// `hotCPUCreationTime` / `coolCPUCreationTime`.
const HOT: i64 = NOW;
const COOL: i64 = NOW - 180;

/// `replicaCalcTestCase` for a cpu `resourceInfo`: two containers per pod,
/// each requesting `requests[i]` and using `levels[i]`; metrics stamped at the
/// zero time with a one-minute window, pods started at the zero time unless
/// `start` says otherwise.
#[derive(Default)]
struct Case {
    current: i32,
    requests: Vec<i64>,
    levels: Vec<i64>,
    readiness: Vec<bool>,
    start: Vec<i64>,
    phase: Vec<PodPhase>,
    deleting: Vec<bool>,
    target: i32,
}

impl Case {
    fn pods(&self) -> Vec<PodSample> {
        let count = (self.current as usize).max(self.phase.len());
        (0..count)
            .map(|i| PodSample {
                phase: self.phase.get(i).copied().unwrap_or(PodPhase::Running),
                deleting: self.deleting.get(i).copied().unwrap_or(false),
                ready: Some(ReadyCondition {
                    status: self.readiness.get(i).copied().unwrap_or(true),
                    last_transition: 0,
                }),
                start_time: Some(self.start.get(i).copied().unwrap_or(0)),
                ..ready_pod(
                    self.requests.get(i).map(|r| 2 * r),
                    self.levels.get(i).map(|l| PodMetric {
                        value: 2 * l,
                        timestamp: 0,
                        window: 60,
                    }),
                )
            })
            .collect()
    }

    /// `GetResourceReplicas` on the case: (replicas, utilization, raw usage).
    fn calculate(&self) -> Result<(i32, i32, i64), MetricError> {
        get_resource_replicas(
            &testing_calculator(),
            self.current,
            self.target,
            MetricResource::Cpu,
            &self.pods(),
            NOW,
        )
    }

    fn run(&self) -> (i32, i32, i64) {
        self.calculate().unwrap()
    }

    /// The calculator's error message, for a case that has one.
    fn error(&self) -> String {
        self.calculate().unwrap_err().0
    }
}

/// A Running pod, Ready since 0 and started then, with its cpu `request`
/// and what metrics-server reports for it.
fn ready_pod(request: Option<i64>, metric: Option<PodMetric>) -> PodSample {
    PodSample {
        phase: PodPhase::Running,
        deleting: false,
        ready: Some(ReadyCondition {
            status: true,
            last_transition: 0,
        }),
        start_time: Some(0),
        request,
        metric,
    }
}

fn ones(n: usize) -> Vec<i64> {
    vec![1000; n]
}

use PodPhase::{Failed, Pending, Running};

/// `generateScalingRules`.
fn rules(
    pods: i32,
    pods_period: i32,
    percent: i32,
    percent_period: i32,
    window: i32,
) -> ScalingRules {
    let mut policies = Vec::new();
    if pods != 0 {
        policies.push(ScalingPolicy {
            kind: PolicyType::Pods,
            value: pods,
            period_seconds: pods_period,
        });
    }
    if percent != 0 {
        policies.push(ScalingPolicy {
            kind: PolicyType::Percent,
            value: percent,
            period_seconds: percent_period,
        });
    }
    ScalingRules {
        stabilization_window_seconds: Some(window),
        select_policy: SelectPolicy::Max,
        policies,
    }
}

/// `generateEventsUniformDistribution`.
fn uniform(raw: &[i32], period: i64) -> Vec<ScaleEvent> {
    let segment = period as f64 / raw.len() as f64;
    raw.iter()
        .enumerate()
        .map(|(i, &change)| {
            let back = (period as f64 - segment * (i as f64 + 1.0) + segment / 2.0) as i64;
            ScaleEvent {
                change,
                time: NOW - back,
                outdated: false,
            }
        })
        .collect()
}

fn rec(replicas: i32, seconds_ago: i64) -> Recommendation {
    Recommendation {
        replicas,
        time: NOW - seconds_ago,
    }
}

fn event(change: i32, seconds_ago: i64) -> ScaleEvent {
    ScaleEvent {
        change,
        time: NOW - seconds_ago,
        outdated: false,
    }
}

/// Pods of a target for `reconcile_autoscaler`: `ready` pods sharing `total` cpu.
struct Fleet {
    ready: usize,
    request: i64,
    total: Option<i64>,
}

impl PodSource for Fleet {
    fn pods(&self, _: MetricResource) -> Vec<PodSample> {
        (0..self.ready)
            .map(|_| {
                ready_pod(
                    Some(self.request),
                    self.total.map(|t| PodMetric {
                        value: t / self.ready as i64,
                        timestamp: NOW,
                        window: 15,
                    }),
                )
            })
            .collect()
    }
}

fn cpu_hpa(min: i32, max: i32, utilization: i32, behavior: Option<Behavior>) -> AutoscalerSpec {
    AutoscalerSpec {
        scale_target_ref: crate::autoscale::spec::ScaleTargetRef {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            name: "api".into(),
        },
        min_replicas: min,
        max_replicas: max,
        metrics: vec![ResourceMetric {
            resource: MetricResource::Cpu,
            target: MetricTarget::Utilization(utilization),
        }],
        behavior,
    }
}

fn condition<'a>(sync: &'a Sync, kind: &str) -> &'a Condition {
    sync.conditions.iter().find(|c| c.kind == kind).unwrap()
}

mod behavior;
mod calculator;
mod differential;
mod rules_table;
mod sync;
