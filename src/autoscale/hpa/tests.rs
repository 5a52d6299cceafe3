//! Tests ported from Kubernetes' `pkg/controller/podautoscaler`
//! (`replica_calculator_test.go` and `horizontal_test.go`, Kubernetes 1.34),
//! each case under its upstream name, and a differential property test of
//! the normalization arithmetic against a plain model of the Go functions.

use super::*;
use crate::autoscale::spec::{PolicyType, ScalingPolicy};
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
                request: self.requests.get(i).map(|r| 2 * r),
                metric: self.levels.get(i).map(|l| PodMetric {
                    value: 2 * l,
                    timestamp: 0,
                    window: 60,
                }),
            })
            .collect()
    }

    fn run(&self) -> (i32, i32, i64) {
        get_resource_replicas(
            &testing_calculator(),
            self.current,
            self.target,
            MetricResource::Cpu,
            &self.pods(),
            NOW,
        )
        .unwrap()
    }
}

fn ones(n: usize) -> Vec<i64> {
    vec![1000; n]
}

use PodPhase::{Failed, Pending, Running};

#[test]
fn replica_calc_scale_up() {
    let case = Case {
        current: 3,
        requests: ones(3),
        levels: vec![300, 500, 700],
        target: 30,
        ..Case::default()
    };
    assert_eq!(case.run(), (5, 50, 2 * 500));
}

#[test]
fn replica_calc_scale_up_unready_less_scale() {
    let case = Case {
        current: 3,
        readiness: vec![false, true, true],
        requests: ones(3),
        levels: vec![300, 500, 700],
        target: 30,
        ..Case::default()
    };
    assert_eq!(case.run(), (4, 60, 2 * 600));
}

#[test]
fn replica_calc_scale_up_hot_cpu_less_scale() {
    let case = Case {
        current: 3,
        start: vec![HOT, COOL, COOL],
        requests: ones(3),
        levels: vec![300, 500, 700],
        target: 30,
        ..Case::default()
    };
    assert_eq!(case.run(), (4, 60, 2 * 600));
}

#[test]
fn replica_calc_scale_up_unready_no_scale() {
    let case = Case {
        current: 3,
        readiness: vec![true, false, false],
        requests: ones(3),
        levels: vec![400, 500, 700],
        target: 30,
        ..Case::default()
    };
    assert_eq!(case.run(), (3, 40, 2 * 400));
}

#[test]
fn replica_calc_scale_hot_cpu_no_scale() {
    let case = Case {
        current: 3,
        readiness: vec![true, false, false],
        start: vec![COOL, HOT, HOT],
        requests: ones(3),
        levels: vec![400, 500, 700],
        target: 30,
        ..Case::default()
    };
    assert_eq!(case.run(), (3, 40, 2 * 400));
}

#[test]
fn replica_calc_scale_up_ignores_failed_pods() {
    let case = Case {
        current: 2,
        readiness: vec![true, true, false, false],
        phase: vec![Running, Running, Failed, Failed],
        requests: ones(4),
        levels: vec![500, 700],
        target: 30,
        ..Case::default()
    };
    assert_eq!(case.run(), (4, 60, 2 * 600));
}

#[test]
fn replica_calc_scale_up_ignores_deletion_pods() {
    let case = Case {
        current: 2,
        readiness: vec![true, true, false, false],
        phase: vec![Running; 4],
        deleting: vec![false, false, true, true],
        requests: ones(4),
        levels: vec![500, 700],
        target: 30,
        ..Case::default()
    };
    assert_eq!(case.run(), (4, 60, 2 * 600));
}

#[test]
fn replica_calc_scale_down() {
    let case = Case {
        current: 5,
        requests: ones(5),
        levels: vec![100, 300, 500, 250, 250],
        target: 50,
        ..Case::default()
    };
    assert_eq!(case.run(), (3, 28, 2 * 280));
}

#[test]
fn replica_calc_scale_down_include_unready_pods() {
    let case = Case {
        current: 5,
        readiness: vec![true, true, true, false, false],
        requests: ones(5),
        levels: vec![100, 300, 500, 250, 250],
        target: 50,
        ..Case::default()
    };
    assert_eq!(case.run(), (2, 30, 2 * 300));
}

#[test]
fn replica_calc_scale_down_exclude_unscheduled_pods() {
    let case = Case {
        current: 5,
        readiness: vec![true, false, false, false, false],
        phase: vec![Running, Pending, Pending, Pending, Pending],
        requests: ones(5),
        levels: vec![100],
        target: 50,
        ..Case::default()
    };
    assert_eq!(case.run(), (1, 10, 2 * 100));
}

#[test]
fn replica_calc_scale_down_ignore_hot_cpu_pods() {
    let case = Case {
        current: 5,
        start: vec![COOL, COOL, COOL, HOT, HOT],
        requests: ones(5),
        levels: vec![100, 300, 500, 250, 250],
        target: 50,
        ..Case::default()
    };
    assert_eq!(case.run(), (2, 30, 2 * 300));
}

#[test]
fn replica_calc_scale_down_ignores_failed_pods() {
    let case = Case {
        current: 5,
        readiness: vec![true, true, true, true, true, false, false],
        phase: vec![Running, Running, Running, Running, Running, Failed, Failed],
        requests: ones(7),
        levels: vec![100, 300, 500, 250, 250],
        target: 50,
        ..Case::default()
    };
    assert_eq!(case.run(), (3, 28, 2 * 280));
}

#[test]
fn replica_calc_tolerance() {
    let case = Case {
        current: 3,
        requests: vec![900, 1000, 1100],
        levels: vec![1010, 1030, 1020],
        target: 100,
        ..Case::default()
    };
    assert_eq!(case.run(), (3, 102, 2 * 1020));
}

#[test]
fn replica_calc_missing_metrics() {
    let case = Case {
        current: 4,
        requests: ones(4),
        levels: vec![400, 95],
        target: 100,
        ..Case::default()
    };
    assert_eq!(case.run(), (3, 24, 495));
}

#[test]
fn replica_calc_empty_metrics_and_cpu_request() {
    let empty = Case {
        current: 4,
        requests: ones(3),
        target: 100,
        ..Case::default()
    };
    let error = get_resource_replicas(
        &testing_calculator(),
        4,
        100,
        MetricResource::Cpu,
        &empty.pods(),
        NOW,
    );
    assert_eq!(
        error.unwrap_err().0,
        "unable to get metrics for resource cpu: no metrics returned from resource metrics API"
    );
    let no_request = Case {
        current: 1,
        levels: vec![200],
        target: 100,
        ..Case::default()
    };
    let error = get_resource_replicas(
        &testing_calculator(),
        1,
        100,
        MetricResource::Cpu,
        &no_request.pods(),
        NOW,
    );
    assert!(error.unwrap_err().0.contains("missing request for"));
}

#[test]
fn replica_calc_missing_metrics_no_change() {
    for (level, utilization) in [(1000, 100), (1900, 190), (600, 60)] {
        let case = Case {
            current: 2,
            requests: ones(2),
            levels: vec![level],
            target: 100,
            ..Case::default()
        };
        assert_eq!(case.run(), (2, utilization, 2 * level), "level {level}");
    }
}

#[test]
fn replica_calc_missing_metrics_unready_and_hot_cpu() {
    let unready = Case {
        current: 3,
        readiness: vec![false, true, true],
        requests: ones(3),
        levels: vec![100, 450],
        target: 50,
        ..Case::default()
    };
    assert_eq!(unready.run(), (3, 45, 900), "UnreadyChange");
    let hot = Case {
        readiness: vec![],
        start: vec![HOT, COOL, COOL],
        ..unready
    };
    assert_eq!(hot.run(), (3, 45, 900), "HotCpuNoChange");
    let up = Case {
        levels: vec![100, 2000],
        readiness: vec![false, true, true],
        start: vec![],
        ..hot
    };
    assert_eq!(up.run(), (4, 200, 4000), "UnreadyScaleUp");
    let hot_up = Case {
        start: vec![HOT, COOL, COOL],
        ..up
    };
    assert_eq!(hot_up.run(), (4, 200, 4000), "HotCpuScaleUp");
    let down = Case {
        current: 4,
        readiness: vec![false, true, true, true],
        requests: ones(4),
        levels: vec![100, 100, 100],
        target: 50,
        ..Case::default()
    };
    assert_eq!(down.run(), (3, 10, 200), "UnreadyScaleDown");
}

#[test]
fn replica_calc_during_rolling_update_with_max_surge() {
    let case = Case {
        current: 2,
        phase: vec![Running; 3],
        requests: ones(3),
        levels: vec![100, 100],
        target: 50,
        ..Case::default()
    };
    assert_eq!(case.run(), (2, 10, 200));
}

/// `TestReplicaCalcComputedToleranceAlgImplementation`: a target just past
/// the tolerance scales 10 pods to 9; one just inside it keeps 10.
#[test]
fn replica_calc_computed_tolerance_alg_implementation() {
    let requested_to_used = 2.0f64;
    let requests = vec![400, 200, 310, 290, 302, 298, 301, 299, 300, 300];
    let mut case = Case {
        current: 10,
        requests,
        levels: vec![150; 10],
        ..Case::default()
    };
    let target = (1.0 / (requested_to_used * (1.0 - TOLERANCE))).abs() + 0.01;
    case.target = (target * 100.0) as i32;
    let used_ratio = 1500.0 / (3000.0 * target);
    assert_eq!(case.run(), ((used_ratio * 10.0).ceil() as i32, 50, 300));
    assert_eq!(case.run().0, 9);
    let close = (1.0 / (requested_to_used * (1.0 - TOLERANCE))).abs() + 0.004;
    case.target = (close * 100.0) as i32;
    assert_eq!(case.run(), (10, 50, 300));
}

/// Missing metrics on a scale-down count as 100% of the request; here that
/// turns the direction around, so the count stays (`GetResourceReplicas`).
#[test]
fn missing_pods_that_would_reverse_a_scale_down_keep_the_count() {
    let case = Case {
        current: 4,
        requests: ones(4),
        levels: vec![400, 95],
        target: 50,
        ..Case::default()
    };
    assert_eq!(case.run(), (4, 24, 495));
}

#[test]
fn no_metrics_at_all_is_kubernetes_error() {
    let case = Case {
        current: 2,
        requests: ones(2),
        target: 50,
        ..Case::default()
    };
    let error = get_resource_replicas(
        &testing_calculator(),
        2,
        50,
        MetricResource::Cpu,
        &case.pods(),
        NOW,
    );
    assert_eq!(
        error.unwrap_err().0,
        "unable to get metrics for resource cpu: no metrics returned from resource metrics API"
    );
}

#[test]
fn tolerance_keeps_the_count_within_ten_percent() {
    // 55% against a 50% target: ratio 1.1, within the band.
    let case = Case {
        current: 4,
        requests: ones(4),
        levels: vec![550; 4],
        target: 50,
        ..Case::default()
    };
    assert_eq!(case.run(), (4, 55, 1100));
    let case = Case {
        current: 4,
        requests: ones(4),
        levels: vec![560; 4],
        target: 50,
        ..Case::default()
    };
    assert_eq!(case.run().0, 5);
}

#[test]
fn average_value_targets_use_the_plain_calculation() {
    // `TestReplicaCalcScaleUpCM`'s arithmetic: levels 20, 10, 30 against 15.
    let pods: Vec<PodSample> = [20000, 10000, 30000]
        .iter()
        .map(|&v| PodSample {
            phase: Running,
            deleting: false,
            ready: Some(ReadyCondition {
                status: true,
                last_transition: 0,
            }),
            start_time: Some(0),
            request: Some(1000),
            metric: Some(PodMetric {
                value: v,
                timestamp: 0,
                window: 60,
            }),
        })
        .collect();
    let result = get_raw_resource_replicas(
        &testing_calculator(),
        3,
        15000,
        MetricResource::Memory,
        &pods,
        NOW,
    );
    assert_eq!(result.unwrap(), (4, 20000));
}

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

/// `TestScalingWithRules` (`convertDesiredReplicasWithBehaviorRate`).
#[test]
fn scaling_with_rules() {
    type Row = (
        &'static str,
        Vec<ScaleEvent>,
        Vec<ScaleEvent>,
        i32,
        i32,
        Option<ScalingRules>,
        Option<ScalingRules>,
        i32,
        i32,
        i32,
        &'static str,
    );
    let none = Vec::new;
    let e = uniform;
    let rows: Vec<Row> = vec![
        (
            "within range",
            none(),
            none(),
            3,
            8,
            None,
            None,
            5,
            7,
            7,
            "DesiredWithinRange",
        ),
        (
            "< minReplicas",
            none(),
            none(),
            2,
            8,
            None,
            None,
            3,
            1,
            2,
            "TooFewReplicas",
        ),
        (
            "minReplicas 0",
            none(),
            none(),
            0,
            10,
            None,
            None,
            1,
            0,
            0,
            "DesiredWithinRange",
        ),
        (
            "maxReplicas < scaleUpLimit",
            none(),
            none(),
            1,
            10,
            None,
            None,
            20,
            1000,
            10,
            "TooManyReplicas",
        ),
        (
            "more than maximum",
            none(),
            none(),
            100,
            150,
            None,
            None,
            100,
            1000,
            150,
            "TooManyReplicas",
        ),
        (
            "user scale-up policy",
            none(),
            none(),
            1,
            2000,
            Some(rules(0, 0, 1, 60, 0)),
            None,
            3,
            1000,
            4,
            "ScaleUpLimit",
        ),
        (
            "scaleUp with default behavior",
            none(),
            none(),
            1,
            1000,
            None,
            None,
            10,
            50,
            20,
            "ScaleUpLimit",
        ),
        (
            "pods > percent",
            none(),
            none(),
            1,
            1000,
            Some(rules(100, 60, 100, 60, 0)),
            None,
            10,
            500,
            110,
            "ScaleUpLimit",
        ),
        (
            "percent > pods",
            none(),
            none(),
            1,
            1000,
            Some(rules(2, 60, 100, 60, 0)),
            None,
            10,
            500,
            20,
            "ScaleUpLimit",
        ),
        (
            "large pod policy",
            none(),
            none(),
            1,
            1000,
            Some(rules(100, 60, 0, 0, 0)),
            None,
            10,
            50,
            50,
            "DesiredWithinRange",
        ),
        (
            "large percent policy",
            none(),
            none(),
            1,
            1000,
            Some(rules(10000, 60, 0, 0, 0)),
            None,
            10,
            50,
            50,
            "DesiredWithinRange",
        ),
        (
            "pod policy limitation",
            none(),
            none(),
            1,
            1000,
            Some(rules(30, 60, 0, 0, 0)),
            None,
            10,
            50,
            40,
            "ScaleUpLimit",
        ),
        (
            "percent policy limitation",
            none(),
            none(),
            1,
            1000,
            Some(rules(0, 0, 200, 60, 0)),
            None,
            10,
            50,
            30,
            "ScaleUpLimit",
        ),
        (
            "scaleDown percent > pod",
            none(),
            none(),
            1,
            1000,
            None,
            Some(rules(20, 60, 1, 60, 300)),
            100,
            2,
            80,
            "ScaleDownLimit",
        ),
        (
            "scaleDown pod > percent",
            none(),
            none(),
            1,
            1000,
            None,
            Some(rules(2, 60, 1, 60, 300)),
            100,
            2,
            98,
            "ScaleDownLimit",
        ),
        (
            "scaleDown MinReplicas large pod",
            none(),
            none(),
            1,
            1000,
            None,
            Some(rules(100, 60, 0, 0, 300)),
            10,
            0,
            1,
            "TooFewReplicas",
        ),
        (
            "scaleDown MinReplicas large percent",
            none(),
            none(),
            5,
            1000,
            None,
            Some(rules(0, 0, 100, 60, 300)),
            10,
            2,
            5,
            "TooFewReplicas",
        ),
        (
            "scaleDown pod policy limitation",
            none(),
            none(),
            1,
            1000,
            None,
            Some(rules(5, 60, 0, 0, 300)),
            10,
            2,
            5,
            "ScaleDownLimit",
        ),
        (
            "scaleDown percent policy limitation",
            none(),
            none(),
            1,
            1000,
            None,
            Some(rules(0, 0, 50, 60, 300)),
            10,
            5,
            5,
            "DesiredWithinRange",
        ),
        (
            "max with large pod policy and events",
            e(&[1, 5, 9], 120),
            none(),
            1,
            200,
            Some(rules(300, 60, 0, 0, 0)),
            None,
            100,
            500,
            200,
            "TooManyReplicas",
        ),
        (
            "max with large percent policy and events",
            e(&[1, 5, 9], 120),
            none(),
            1,
            200,
            Some(rules(0, 0, 10000, 60, 0)),
            None,
            100,
            500,
            200,
            "TooManyReplicas",
        ),
        (
            "a lot of recent scale up events",
            e(&[1, 5, 9], 120),
            none(),
            1,
            1000,
            Some(rules(5, 120, 0, 0, 0)),
            None,
            100,
            500,
            100,
            "ScaleUpLimit",
        ),
        (
            "pod policy and previous scale up events",
            e(&[1, 5, 9], 120),
            none(),
            1,
            1000,
            Some(rules(150, 120, 0, 0, 0)),
            None,
            100,
            500,
            235,
            "ScaleUpLimit",
        ),
        (
            "percent policy and previous scale up events",
            e(&[1, 5, 9], 120),
            none(),
            1,
            1000,
            Some(rules(0, 0, 200, 120, 0)),
            None,
            100,
            500,
            255,
            "ScaleUpLimit",
        ),
        (
            "percent policy and previous up and down events",
            e(&[4], 120),
            e(&[2], 120),
            1,
            1000,
            Some(rules(0, 0, 300, 300, 0)),
            None,
            6,
            24,
            16,
            "ScaleUpLimit",
        ),
        (
            "scaleDown default policy and previous events",
            none(),
            e(&[1, 5, 9], 120),
            1,
            1000,
            None,
            None,
            10,
            5,
            5,
            "DesiredWithinRange",
        ),
        (
            "scaleDown MinReplicas=nil, events",
            none(),
            e(&[1, 5, 9], 120),
            1,
            1000,
            None,
            Some(rules(115, 120, 0, 0, 300)),
            100,
            0,
            1,
            "TooFewReplicas",
        ),
        (
            "scaleDown MinReplicas large pod, events",
            none(),
            e(&[1, 5, 9], 120),
            5,
            1000,
            None,
            Some(rules(130, 120, 0, 0, 300)),
            100,
            0,
            5,
            "TooFewReplicas",
        ),
        (
            "scaleDown MinReplicas large percent, events",
            none(),
            e(&[1, 5, 9], 120),
            5,
            1000,
            None,
            Some(rules(0, 0, 100, 120, 300)),
            100,
            2,
            5,
            "TooFewReplicas",
        ),
        (
            "scaleDown pod policy, events",
            none(),
            e(&[1, 5, 9], 120),
            1,
            1000,
            None,
            Some(rules(5, 120, 0, 0, 300)),
            100,
            2,
            100,
            "ScaleDownLimit",
        ),
        (
            "scaleDown percent policy, events",
            none(),
            e(&[2, 4, 6], 120),
            1,
            1000,
            None,
            Some(rules(0, 0, 50, 120, 300)),
            100,
            0,
            56,
            "ScaleDownLimit",
        ),
        (
            "scaleDown percent, up and down events",
            e(&[2], 120),
            e(&[4], 120),
            1,
            1000,
            None,
            Some(rules(0, 0, 50, 180, 0)),
            10,
            1,
            6,
            "ScaleDownLimit",
        ),
        (
            "events preventing further scale down",
            none(),
            e(&[10, 10, 10], 120),
            1,
            1000,
            None,
            Some(rules(0, 0, 10, 120, 300)),
            100,
            0,
            100,
            "ScaleDownLimit",
        ),
        (
            "events still allowing more scale down",
            none(),
            e(&[10, 10, 10], 120),
            1,
            1000,
            None,
            Some(rules(0, 0, 1000, 120, 300)),
            10,
            5,
            5,
            "DesiredWithinRange",
        ),
        (
            "outdated, one policy up",
            e(&[8, 12, 9, 11], 120),
            none(),
            1,
            1000,
            Some(rules(1000, 60, 0, 0, 0)),
            None,
            100,
            200,
            200,
            "DesiredWithinRange",
        ),
        (
            "not outdated, two policies up",
            e(&[8, 12, 9, 11], 120),
            none(),
            1,
            1000,
            Some(rules(1000, 120, 100, 60, 0)),
            None,
            100,
            200,
            200,
            "DesiredWithinRange",
        ),
        (
            "outdated, two policies up",
            e(&[8, 12, 9, 11], 120),
            none(),
            1,
            1000,
            Some(rules(1000, 30, 100, 60, 0)),
            None,
            100,
            200,
            200,
            "DesiredWithinRange",
        ),
        (
            "outdated, one policy down",
            none(),
            e(&[8, 12, 9, 11], 120),
            1,
            1000,
            None,
            Some(rules(1000, 60, 0, 0, 300)),
            100,
            5,
            5,
            "DesiredWithinRange",
        ),
        (
            "not outdated, two policies down",
            none(),
            e(&[8, 12, 9, 11], 120),
            1,
            1000,
            None,
            Some(rules(1000, 120, 100, 60, 300)),
            100,
            5,
            5,
            "DesiredWithinRange",
        ),
        (
            "outdated, two policies down",
            none(),
            e(&[8, 12, 9, 11], 120),
            1,
            1000,
            None,
            Some(rules(1000, 30, 100, 60, 300)),
            100,
            5,
            5,
            "DesiredWithinRange",
        ),
    ];
    for (name, up_events, down_events, min, max, up, down, current, desired, expected, condition) in
        rows
    {
        let scale_up = up.unwrap_or_else(ScalingRules::default_scale_up);
        let scale_down = down.unwrap_or_else(ScalingRules::default_scale_down);
        let memory = Memory {
            recommendations: vec![],
            scale_up_events: up_events,
            scale_down_events: down_events,
        };
        let args = NormalizationArg {
            scale_up: &scale_up,
            scale_down: &scale_down,
            min_replicas: min,
            max_replicas: max,
            current_replicas: current,
            desired_replicas: desired,
        };
        let (replicas, why) = convert_desired_replicas_with_behavior_rate(&args, &memory, NOW);
        assert_eq!((replicas, why.reason), (expected, condition), "{name}");
    }
}

/// `TestCalculateScaleUpLimitWithScalingRules`, `TestCalculateScaleDownLimitWithBehaviors`.
#[test]
fn scale_limits_with_the_min_select_policy() {
    let mut rules = rules(2, 60, 50, 60, 300);
    rules.select_policy = SelectPolicy::Min;
    assert_eq!(
        calculate_scale_up_limit_with_scaling_rules(1, &[], &[], &rules, NOW),
        2
    );
    assert_eq!(
        calculate_scale_down_limit_with_behaviors(5, &[], &[], &rules, NOW),
        3
    );
    rules.select_policy = SelectPolicy::Disabled;
    assert_eq!(
        calculate_scale_up_limit_with_scaling_rules(7, &[], &[], &rules, NOW),
        7
    );
    assert_eq!(
        calculate_scale_down_limit_with_behaviors(7, &[], &[], &rules, NOW),
        7
    );
}

/// `TestConvertDesiredReplicasWithRules`.
#[test]
fn convert_desired_replicas_with_rules_cases() {
    let cases = [
        (5, 7, 3, 8, 7, "DesiredWithinRange"),
        (3, 1, 2, 8, 2, "TooFewReplicas"),
        (1, 0, 0, 10, 0, "DesiredWithinRange"),
        (20, 1000, 1, 10, 10, "TooManyReplicas"),
        (
            3,
            1000,
            1,
            2000,
            calculate_scale_up_limit(3),
            "ScaleUpLimit",
        ),
    ];
    for (current, desired, min, max, expected, condition) in cases {
        let (replicas, why) = convert_desired_replicas_with_rules(current, desired, min, max);
        assert_eq!((replicas, why.reason), (expected, condition));
    }
    assert_eq!(calculate_scale_up_limit(3), 6);
    assert_eq!(calculate_scale_up_limit(1), 4);
}

fn rec(replicas: i32, seconds_ago: i64) -> Recommendation {
    Recommendation {
        replicas,
        time: NOW - seconds_ago,
    }
}

/// `TestNormalizeDesiredReplicas` (`stabilizeRecommendation`, 5-minute window).
#[test]
fn normalize_desired_replicas() {
    let cases = [
        (vec![], 5, 5, 1),
        (vec![rec(4, 120), rec(5, 60)], 3, 5, 3),
        (vec![rec(1, 120), rec(2, 60)], 3, 3, 3),
        (vec![rec(10, 600), rec(9, 540)], 3, 3, 2),
        (
            vec![rec(10, 600), rec(4, 60), rec(5, 120), rec(9, 540)],
            3,
            5,
            4,
        ),
    ];
    for (recommendations, prenormalized, expected, length) in cases {
        let mut memory = Memory {
            recommendations,
            ..Memory::default()
        };
        assert_eq!(
            stabilize_recommendation(prenormalized, &mut memory, NOW),
            expected
        );
        assert_eq!(memory.recommendations.len(), length);
    }
}

/// `TestNormalizeDesiredReplicasWithBehavior` (`stabilizeRecommendationWithBehaviors`).
#[test]
fn normalize_desired_replicas_with_behavior() {
    type Row = (
        &'static str,
        Vec<Recommendation>,
        i32,
        i32,
        i32,
        Option<Vec<i32>>,
        i32,
        i32,
    );
    let rows: Vec<Row> = vec![
        (
            "empty recommendations for scaling down",
            vec![],
            100,
            5,
            5,
            Some(vec![5]),
            0,
            0,
        ),
        (
            "simple scale down stabilization",
            vec![rec(4, 120), rec(5, 60)],
            100,
            3,
            5,
            Some(vec![4, 5, 3]),
            0,
            180,
        ),
        (
            "simple scale up stabilization",
            vec![rec(4, 120), rec(5, 60)],
            1,
            7,
            4,
            Some(vec![4, 5, 7]),
            300,
            0,
        ),
        (
            "no scale down stabilization",
            vec![rec(1, 120), rec(2, 60)],
            100,
            3,
            3,
            Some(vec![1, 2, 3]),
            300,
            0,
        ),
        (
            "no scale up stabilization",
            vec![rec(4, 120), rec(5, 60)],
            1,
            3,
            3,
            Some(vec![4, 5, 3]),
            0,
            300,
        ),
        (
            "no scale down stabilization, reuse",
            vec![rec(10, 600), rec(9, 540)],
            100,
            3,
            3,
            Some(vec![10, 3]),
            0,
            0,
        ),
        (
            "no scale up stabilization, reuse",
            vec![rec(10, 600), rec(9, 540)],
            1,
            100,
            100,
            Some(vec![10, 100]),
            0,
            0,
        ),
        (
            "scale down stabilization, reuse obsolete",
            vec![rec(10, 600), rec(4, 60), rec(5, 120), rec(9, 540)],
            100,
            3,
            5,
            Some(vec![10, 4, 5, 3]),
            0,
            180,
        ),
        (
            "scale up stabilization, reuse obsolete",
            vec![rec(10, 6000), rec(6, 60), rec(5, 120), rec(9, 180)],
            1,
            100,
            5,
            Some(vec![100, 6, 5, 9]),
            300,
            0,
        ),
        (
            "do not scale up when prenormalized goes down",
            vec![rec(2, 6000), rec(3, 180)],
            2,
            1,
            2,
            None,
            300,
            300,
        ),
        (
            "do not scale down when prenormalized goes up",
            vec![rec(2, 6000), rec(1, 180)],
            2,
            3,
            2,
            None,
            300,
            300,
        ),
    ];
    for (name, recommendations, current, prenormalized, expected, stored, up_window, down_window) in
        rows
    {
        let mut memory = Memory {
            recommendations,
            ..Memory::default()
        };
        let scale_up = ScalingRules {
            stabilization_window_seconds: Some(up_window),
            ..ScalingRules::default_scale_up()
        };
        let scale_down = ScalingRules {
            stabilization_window_seconds: Some(down_window),
            ..ScalingRules::default_scale_down()
        };
        let args = NormalizationArg {
            scale_up: &scale_up,
            scale_down: &scale_down,
            min_replicas: 1,
            max_replicas: 1000,
            current_replicas: current,
            desired_replicas: prenormalized,
        };
        let (replicas, _) = stabilize_recommendation_with_behaviors(&args, &mut memory, NOW);
        assert_eq!(replicas, expected, "{name}");
        if let Some(stored) = stored {
            let got: Vec<i32> = memory.recommendations.iter().map(|r| r.replicas).collect();
            assert_eq!(got, stored, "{name}");
        }
    }
}

fn event(change: i32, seconds_ago: i64) -> ScaleEvent {
    ScaleEvent {
        change,
        time: NOW - seconds_ago,
        outdated: false,
    }
}

/// `TestStoreScaleEvents`, both directions.
#[test]
fn store_scale_events() {
    type Row = (
        &'static str,
        Vec<ScaleEvent>,
        Vec<(i32, bool)>,
        Option<ScalingRules>,
        i32,
    );
    let rows: Vec<Row> = vec![
        (
            "empty entries with default behavior",
            vec![],
            vec![],
            None,
            0,
        ),
        (
            "empty entries with two-policy-behavior",
            vec![],
            vec![(5, false)],
            Some(rules(10, 60, 100, 60, 0)),
            0,
        ),
        (
            "one outdated entry kept without behavior",
            vec![event(7, 61)],
            vec![(7, false)],
            None,
            0,
        ),
        (
            "one outdated entry replaced with behavior",
            vec![event(7, 61)],
            vec![(5, false)],
            Some(rules(10, 60, 100, 60, 0)),
            0,
        ),
        (
            "one actual entry not touched",
            vec![event(7, 58)],
            vec![(7, false), (5, false)],
            Some(rules(10, 60, 100, 60, 0)),
            7,
        ),
        (
            "two entries, one replaced",
            vec![event(7, 61), event(6, 59)],
            vec![(5, false), (6, false)],
            Some(rules(10, 60, 0, 0, 0)),
            6,
        ),
        (
            "replace one entry, policies with different periods",
            vec![event(8, 29), event(6, 59), event(7, 61), event(9, 61)],
            vec![(8, false), (6, false), (7, true), (5, false)],
            Some(rules(10, 60, 100, 30, 0)),
            14,
        ),
        (
            "two entries, both actual",
            vec![event(7, 58), event(6, 59)],
            vec![(7, false), (6, false), (5, false)],
            Some(rules(10, 120, 100, 30, 0)),
            13,
        ),
    ];
    for (name, previous, expected, scaling_rules, change_before) in rows {
        for up in [true, false] {
            let behavior = scaling_rules.clone().map(|r| Behavior {
                scale_up: if up {
                    r.clone()
                } else {
                    ScalingRules::default_scale_up()
                },
                scale_down: if up {
                    ScalingRules::default_scale_down()
                } else {
                    r
                },
            });
            let mut memory = Memory::default();
            let events = if up {
                &mut memory.scale_up_events
            } else {
                &mut memory.scale_down_events
            };
            events.extend(previous.iter().copied());
            assert_eq!(
                get_replicas_change_per_period(60, events, NOW),
                change_before,
                "{name}"
            );
            let new = if up { 15 } else { 5 };
            store_scale_event(behavior.as_ref(), &mut memory, 10, new, NOW);
            let events = if up {
                &memory.scale_up_events
            } else {
                &memory.scale_down_events
            };
            let got: Vec<(i32, bool)> = events.iter().map(|e| (e.change, e.outdated)).collect();
            assert_eq!(got, expected, "{name} (up: {up})");
        }
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
            .map(|_| PodSample {
                phase: Running,
                deleting: false,
                ready: Some(ReadyCondition {
                    status: true,
                    last_transition: 0,
                }),
                start_time: Some(0),
                request: Some(self.request),
                metric: self.total.map(|t| PodMetric {
                    value: t / self.ready as i64,
                    timestamp: NOW,
                    window: 15,
                }),
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

#[test]
fn a_sync_scales_up_with_kubernetes_events_and_conditions() {
    let spec = cpu_hpa(1, 10, 50, None);
    let mut memory = Memory::default();
    // 2 pods of 500m each using 4 cores in all: 400% of request against 50%.
    let sync = reconcile_autoscaler(
        &spec,
        2,
        &Fleet {
            ready: 2,
            request: 500,
            total: Some(4000),
        },
        &mut memory,
        NOW,
    );
    // ceil(8 × 2) = 16, limited to max(2 × 2, 4) = 4 without a behavior.
    assert_eq!((sync.desired_replicas, sync.rescale), (4, true));
    assert_eq!(condition(&sync, "ScalingLimited").reason, "ScaleUpLimit");
    assert_eq!(condition(&sync, "ScalingLimited").status, "True");
    assert_eq!(condition(&sync, "AbleToScale").reason, "SucceededRescale");
    assert_eq!(
        condition(&sync, "ScalingActive").message,
        "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)"
    );
    assert_eq!(
        sync.events[0].message,
        "New size: 4; reason: cpu resource utilization (percentage of request) above target"
    );
    assert_eq!(sync.current_metrics[0].average_utilization, Some(400));
}

#[test]
fn a_target_without_metrics_reports_failed_get_resource_metric() {
    let spec = cpu_hpa(1, 10, 50, None);
    let mut memory = Memory::default();
    let sync = reconcile_autoscaler(
        &spec,
        2,
        &Fleet {
            ready: 2,
            request: 500,
            total: None,
        },
        &mut memory,
        NOW,
    );
    assert_eq!((sync.desired_replicas, sync.rescale), (2, false));
    let active = condition(&sync, "ScalingActive");
    assert_eq!(
        (active.status.as_str(), active.reason.as_str()),
        ("False", "FailedGetResourceMetric")
    );
    let reasons: Vec<&str> = sync.events.iter().map(|e| e.reason).collect();
    assert_eq!(
        reasons,
        ["FailedGetResourceMetric", "FailedComputeMetricsReplicas"]
    );
    assert_eq!(
        sync.events[1].message,
        "invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: \
         failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API"
    );
}

#[test]
fn scale_down_waits_for_the_stabilization_window() {
    let behavior = Behavior {
        scale_up: ScalingRules::default_scale_up(),
        scale_down: ScalingRules::default_scale_down(),
    };
    let spec = cpu_hpa(1, 10, 50, Some(behavior));
    let mut memory = Memory::default();
    let high = Fleet {
        ready: 4,
        request: 1000,
        total: Some(2000),
    };
    let sync = reconcile_autoscaler(&spec, 4, &high, &mut memory, 0);
    assert!(!sync.rescale);
    // The load drops to a quarter at t=15: every sync until the 300 s window
    // has passed over the last recommendation of 4 keeps 4.
    let low = Fleet {
        ready: 4,
        request: 1000,
        total: Some(500),
    };
    let mut t = 15;
    loop {
        let sync = reconcile_autoscaler(&spec, 4, &low, &mut memory, t);
        if sync.rescale {
            assert_eq!(sync.desired_replicas, 1);
            break;
        }
        assert_eq!(
            condition(&sync, "AbleToScale").reason,
            "ScaleDownStabilized"
        );
        t += 15;
    }
    // The last recommendation of 4 was made at 0; `After(cutoff)` is strict,
    // so it has left the 300 s window at exactly 300.
    assert_eq!(t, 300);
}

#[test]
fn legacy_path_scale_down_includes_a_recommendation_exactly_at_the_cutoff() {
    let spec = cpu_hpa(1, 10, 50, None);
    let mut memory = Memory::default();
    reconcile_autoscaler(
        &spec,
        4,
        &Fleet {
            ready: 4,
            request: 1000,
            total: Some(2000),
        },
        &mut memory,
        0,
    );
    let low = Fleet {
        ready: 4,
        request: 1000,
        total: Some(500),
    };
    let at_300 = reconcile_autoscaler(&spec, 4, &low, &mut memory, 300);
    assert!(!at_300.rescale);
    let at_315 = reconcile_autoscaler(&spec, 4, &low, &mut memory, 315);
    assert_eq!(at_315.desired_replicas, 1);
}

// ---- Differential test: a plain model written from the Go functions ----

/// The Go code as written: a map of keys to slices, `time.Now()` as a value,
/// `After`/`Before` as strict comparisons, each function on its own.
mod model {
    use std::collections::HashMap;

    #[derive(Clone, Copy)]
    pub struct Rec {
        pub recommendation: i32,
        pub timestamp: i64,
    }
    #[derive(Clone, Copy)]
    pub struct Ev {
        pub replica_change: i32,
        pub timestamp: i64,
    }
    #[derive(Clone, Debug)]
    pub struct Policy {
        pub pods: bool,
        pub value: i32,
        pub period: i32,
    }
    #[derive(Clone, Debug)]
    pub struct Rules {
        pub window: i32,
        pub select: &'static str,
        pub policies: Vec<Policy>,
    }

    pub struct Controller {
        pub recommendations: HashMap<String, Vec<Rec>>,
        pub scale_up_events: HashMap<String, Vec<Ev>>,
        pub scale_down_events: HashMap<String, Vec<Ev>>,
        pub now: i64,
    }

    fn change_per_period(now: i64, period: i32, events: &[Ev]) -> i32 {
        let cutoff = now - period as i64;
        let mut replicas = 0;
        for rec in events {
            if rec.timestamp > cutoff {
                replicas += rec.replica_change;
            }
        }
        replicas
    }

    fn up_limit(now: i64, current: i32, up: &[Ev], down: &[Ev], rules: &Rules) -> i32 {
        if rules.select == "Disabled" {
            return current;
        }
        let mut result = if rules.select == "Min" {
            i32::MAX
        } else {
            i32::MIN
        };
        for p in &rules.policies {
            let start = current - change_per_period(now, p.period, up)
                + change_per_period(now, p.period, down);
            let proposed = if p.pods {
                start + p.value
            } else {
                (start as f64 * (1.0 + p.value as f64 / 100.0)).ceil() as i32
            };
            result = if rules.select == "Min" {
                result.min(proposed)
            } else {
                result.max(proposed)
            };
        }
        result
    }

    fn down_limit(now: i64, current: i32, up: &[Ev], down: &[Ev], rules: &Rules) -> i32 {
        if rules.select == "Disabled" {
            return current;
        }
        let mut result = if rules.select == "Min" {
            i32::MIN
        } else {
            i32::MAX
        };
        for p in &rules.policies {
            let start = current - change_per_period(now, p.period, up)
                + change_per_period(now, p.period, down);
            let proposed = if p.pods {
                start - p.value
            } else {
                (start as f64 * (1.0 - p.value as f64 / 100.0)) as i32
            };
            result = if rules.select == "Min" {
                result.max(proposed)
            } else {
                result.min(proposed)
            };
        }
        result
    }

    impl Controller {
        /// `stabilizeRecommendationWithBehaviors` then `convertDesiredReplicasWithBehaviorRate`.
        #[allow(clippy::too_many_arguments)] // the Go function's NormalizationArg, spelled out
        pub fn normalize(
            &mut self,
            key: &str,
            up: &Rules,
            down: &Rules,
            min: i32,
            max: i32,
            current: i32,
            desired: i32,
        ) -> (i32, i32) {
            let now = self.now;
            let up_cutoff = now - up.window as i64;
            let down_cutoff = now - down.window as i64;
            let mut up_rec = desired;
            let mut down_rec = desired;
            let mut found = false;
            let mut index = 0;
            let recs = self.recommendations.entry(key.to_string()).or_default();
            for (i, rec) in recs.iter().enumerate() {
                if rec.timestamp > up_cutoff && rec.recommendation < up_rec {
                    up_rec = rec.recommendation;
                }
                if rec.timestamp > down_cutoff && rec.recommendation > down_rec {
                    down_rec = rec.recommendation;
                }
                if rec.timestamp < up_cutoff && rec.timestamp < down_cutoff {
                    found = true;
                    index = i;
                }
            }
            let mut stabilized = current;
            if stabilized < up_rec {
                stabilized = up_rec;
            }
            if stabilized > down_rec {
                stabilized = down_rec;
            }
            let new = Rec {
                recommendation: desired,
                timestamp: now,
            };
            if found {
                recs[index] = new;
            } else {
                recs.push(new);
            }
            let ups = self.scale_up_events.get(key).cloned().unwrap_or_default();
            let downs = self.scale_down_events.get(key).cloned().unwrap_or_default();
            let result = if stabilized > current {
                let mut limit = up_limit(now, current, &ups, &downs, up);
                if limit < current {
                    limit = current;
                }
                let allowed = if max > limit { limit } else { max };
                if stabilized > allowed {
                    allowed
                } else {
                    stabilized
                }
            } else if stabilized < current {
                let mut limit = down_limit(now, current, &ups, &downs, down);
                if limit > current {
                    limit = current;
                }
                let allowed = if min < limit { limit } else { min };
                if stabilized < allowed {
                    allowed
                } else {
                    stabilized
                }
            } else {
                stabilized
            };
            (stabilized, result)
        }
    }
}

fn arb_rules() -> impl Strategy<Value = (model::Rules, ScalingRules)> {
    // Windows and periods on the 15 s sync grid, so that recommendations and
    // events fall exactly on cutoffs often (`After` and `Before` are strict).
    (
        (0..27i32).prop_map(|w| w * 15),
        prop_oneof![Just("Max"), Just("Min"), Just("Disabled")],
        prop::collection::vec(
            (any::<bool>(), 1..300i32, (1..27i32).prop_map(|p| p * 15)),
            1..4,
        ),
    )
        .prop_map(|(window, select, policies)| {
            let plain = model::Rules {
                window,
                select,
                policies: policies
                    .iter()
                    .map(|&(pods, value, period)| model::Policy {
                        pods,
                        value,
                        period,
                    })
                    .collect(),
            };
            let ours = ScalingRules {
                stabilization_window_seconds: Some(window),
                select_policy: match select {
                    "Max" => SelectPolicy::Max,
                    "Min" => SelectPolicy::Min,
                    _ => SelectPolicy::Disabled,
                },
                policies: policies
                    .iter()
                    .map(|&(pods, value, period)| ScalingPolicy {
                        kind: if pods {
                            PolicyType::Pods
                        } else {
                            PolicyType::Percent
                        },
                        value,
                        period_seconds: period,
                    })
                    .collect(),
            };
            (plain, ours)
        })
}

proptest! {
    #[test]
    fn normalization_matches_the_plain_model(
        (up_plain, up) in arb_rules(),
        (down_plain, down) in arb_rules(),
        recommendations in prop::collection::vec((0..60i32, (0..60i64).prop_map(|a| a * 15)), 0..12),
        up_events in prop::collection::vec((1..20i32, (0..30i64).prop_map(|a| a * 15)), 0..6),
        down_events in prop::collection::vec((1..20i32, (0..30i64).prop_map(|a| a * 15)), 0..6),
        min in 1..10i32,
        extra in 0..50i32,
        current in 1..60i32,
        desired in 0..120i32,
    ) {
        let max = min + extra;
        let mut memory = Memory {
            recommendations: recommendations.iter().map(|&(r, ago)| rec(r, ago)).collect(),
            scale_up_events: up_events.iter().map(|&(c, ago)| event(c, ago)).collect(),
            scale_down_events: down_events.iter().map(|&(c, ago)| event(c, ago)).collect(),
        };
        let mut plain = model::Controller {
            recommendations: Default::default(),
            scale_up_events: Default::default(),
            scale_down_events: Default::default(),
            now: NOW,
        };
        plain.recommendations.insert("k".into(), recommendations.iter().map(|&(r, ago)| model::Rec { recommendation: r, timestamp: NOW - ago }).collect());
        plain.scale_up_events.insert("k".into(), up_events.iter().map(|&(c, ago)| model::Ev { replica_change: c, timestamp: NOW - ago }).collect());
        plain.scale_down_events.insert("k".into(), down_events.iter().map(|&(c, ago)| model::Ev { replica_change: c, timestamp: NOW - ago }).collect());

        let mut args = NormalizationArg {
            scale_up: &up,
            scale_down: &down,
            min_replicas: min,
            max_replicas: max,
            current_replicas: current,
            desired_replicas: desired,
        };
        let (stabilized, _) = stabilize_recommendation_with_behaviors(&args, &mut memory, NOW);
        args.desired_replicas = stabilized;
        let (ours, _) = convert_desired_replicas_with_behavior_rate(&args, &memory, NOW);
        let (plain_stabilized, theirs) = plain.normalize("k", &up_plain, &down_plain, min, max, current, desired);
        prop_assert_eq!(stabilized, plain_stabilized);
        prop_assert_eq!(ours, theirs);
        let stored: Vec<(i32, i64)> = memory.recommendations.iter().map(|r| (r.replicas, r.time)).collect();
        let plain_stored: Vec<(i32, i64)> = plain.recommendations["k"].iter().map(|r| (r.recommendation, r.timestamp)).collect();
        prop_assert_eq!(stored, plain_stored);
    }
}

// ---- Differential test of the replica calculator ----

/// `GetResourceReplicas`, `groupPods` and `GetResourceUtilizationRatio`
/// transliterated: pods by name, metrics in a map, sets of names.
mod calculator_model {
    use std::collections::{BTreeMap, BTreeSet};

    pub struct Pod {
        pub name: String,
        pub phase: &'static str,
        pub deleted: bool,
        pub ready: Option<(bool, i64)>,
        pub start: Option<i64>,
        pub request: i64,
    }

    pub struct Metric {
        pub value: i64,
        pub timestamp: i64,
        pub window: i64,
    }

    fn utilization_ratio(
        metrics: &BTreeMap<String, i64>,
        requests: &BTreeMap<String, i64>,
        target: i32,
    ) -> Option<(f64, i32, i64)> {
        let (mut total, mut requests_total, mut entries) = (0i64, 0i64, 0i64);
        for (name, value) in metrics {
            let Some(request) = requests.get(name) else {
                continue;
            };
            total += value;
            requests_total += request;
            entries += 1;
        }
        if requests_total == 0 {
            return None;
        }
        let utilization = ((total * 100) / requests_total) as i32;
        Some((
            utilization as f64 / target as f64,
            utilization,
            total / entries,
        ))
    }

    #[allow(clippy::type_complexity)]
    pub fn get_resource_replicas(
        current: i32,
        target: i32,
        pods: &[Pod],
        raw_metrics: &BTreeMap<String, Metric>,
        now: i64,
        init_period: i64,
        readiness_delay: i64,
    ) -> Option<(i32, i32, i64)> {
        if raw_metrics.is_empty() || pods.is_empty() {
            return None;
        }
        let mut ready_count = 0;
        let mut unready = BTreeSet::new();
        let mut missing = BTreeSet::new();
        let mut ignored = BTreeSet::new();
        for pod in pods {
            if pod.deleted || pod.phase == "Failed" {
                ignored.insert(pod.name.clone());
                continue;
            }
            if pod.phase == "Pending" {
                unready.insert(pod.name.clone());
                continue;
            }
            let Some(metric) = raw_metrics.get(&pod.name) else {
                missing.insert(pod.name.clone());
                continue;
            };
            let is_unready = match (pod.ready, pod.start) {
                (Some((status, transition)), Some(start)) => {
                    if start + init_period > now {
                        !status || metric.timestamp < transition + metric.window
                    } else {
                        !status && start + readiness_delay > transition
                    }
                }
                _ => true,
            };
            if is_unready {
                unready.insert(pod.name.clone());
                continue;
            }
            ready_count += 1;
        }
        let mut metrics: BTreeMap<String, i64> = raw_metrics
            .iter()
            .map(|(k, m)| (k.clone(), m.value))
            .collect();
        for name in ignored.iter().chain(&unready) {
            metrics.remove(name);
        }
        if metrics.is_empty() {
            return None;
        }
        let requests: BTreeMap<String, i64> =
            pods.iter().map(|p| (p.name.clone(), p.request)).collect();
        let (ratio, utilization, raw) = utilization_ratio(&metrics, &requests, target)?;
        let within = |r: f64| (0.9..=1.1).contains(&r);
        let scale_up_with_unready = !unready.is_empty() && ratio > 1.0;
        if !scale_up_with_unready && missing.is_empty() {
            if within(ratio) {
                return Some((current, utilization, raw));
            }
            return Some(((ratio * ready_count as f64).ceil() as i32, utilization, raw));
        }
        if !missing.is_empty() {
            if ratio < 1.0 {
                let fallback = target.max(100) as i64;
                for name in &missing {
                    metrics.insert(name.clone(), requests[name] * fallback / 100);
                }
            } else if ratio > 1.0 {
                for name in &missing {
                    metrics.insert(name.clone(), 0);
                }
            }
        }
        if scale_up_with_unready {
            for name in &unready {
                metrics.insert(name.clone(), 0);
            }
        }
        let (new_ratio, _, _) = utilization_ratio(&metrics, &requests, target)?;
        if within(new_ratio) || (ratio < 1.0 && new_ratio > 1.0) || (ratio > 1.0 && new_ratio < 1.0)
        {
            return Some((current, utilization, raw));
        }
        let new_replicas = (new_ratio * metrics.len() as f64).ceil() as i32;
        if (new_ratio < 1.0 && new_replicas > current)
            || (new_ratio > 1.0 && new_replicas < current)
        {
            return Some((current, utilization, raw));
        }
        Some((new_replicas, utilization, raw))
    }
}

fn arb_pod() -> impl Strategy<Value = PodSample> {
    (
        prop_oneof![4 => Just(Running), 1 => Just(Pending), 1 => Just(Failed)],
        prop::bool::weighted(0.1),
        prop::option::weighted(0.9, (any::<bool>(), 0..400i64)),
        prop::option::weighted(0.9, 0..400i64),
        1..4000i64,
        prop::option::weighted(0.85, (0..4000i64, 0..400i64, 1..90i64)),
    )
        .prop_map(
            |(phase, deleting, ready, start, request, metric)| PodSample {
                phase,
                deleting,
                ready: ready.map(|(status, at)| ReadyCondition {
                    status,
                    last_transition: NOW - at,
                }),
                start_time: start.map(|s| NOW - s),
                request: Some(request),
                metric: metric.map(|(value, ago, window)| PodMetric {
                    value,
                    timestamp: NOW - ago,
                    window,
                }),
            },
        )
}

proptest! {
    #[test]
    fn the_replica_calculator_matches_the_plain_model(
        pods in prop::collection::vec(arb_pod(), 0..12),
        current in 1..20i32,
        target in 1..300i32,
    ) {
        let calculator = Calculator::default();
        let ours = get_resource_replicas(&calculator, current, target, MetricResource::Cpu, &pods, NOW).ok();
        let model_pods: Vec<calculator_model::Pod> = pods
            .iter()
            .enumerate()
            .map(|(i, p)| calculator_model::Pod {
                name: format!("pod-{i}"),
                phase: match p.phase { Running => "Running", Pending => "Pending", Failed => "Failed" },
                deleted: p.deleting,
                ready: p.ready.map(|r| (r.status, r.last_transition)),
                start: p.start_time,
                request: p.request.unwrap(),
            })
            .collect();
        let metrics = pods
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.metric.map(|m| (format!("pod-{i}"), calculator_model::Metric {
                value: m.value,
                timestamp: m.timestamp,
                window: m.window,
            })))
            .collect();
        let theirs = calculator_model::get_resource_replicas(
            current,
            target,
            &model_pods,
            &metrics,
            NOW,
            CPU_INITIALIZATION_PERIOD,
            DELAY_OF_INITIAL_READINESS_STATUS,
        );
        prop_assert_eq!(ours, theirs);
    }
}
