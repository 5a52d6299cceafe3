//! `replica_calculator_test.go`: the replica calculator's cases.

use super::*;

/// `current` pods of one cpu each (`ones`), reporting `levels` (a pod past
/// the last level reports nothing), against a `target` utilization.
fn cpu_case(current: i32, levels: Vec<i64>, target: i32) -> Case {
    Case {
        current,
        requests: ones(current as usize),
        levels,
        target,
        ..Case::default()
    }
}

#[test]
fn replica_calc_scale_up() {
    let case = cpu_case(3, vec![300, 500, 700], 30);
    assert_eq!(case.run(), (5, 50, 2 * 500));
}

#[test]
fn replica_calc_scale_up_unready_less_scale() {
    let case = Case {
        readiness: vec![false, true, true],
        ..cpu_case(3, vec![300, 500, 700], 30)
    };
    assert_eq!(case.run(), (4, 60, 2 * 600));
}

#[test]
fn replica_calc_scale_up_hot_cpu_less_scale() {
    let case = Case {
        start: vec![HOT, COOL, COOL],
        ..cpu_case(3, vec![300, 500, 700], 30)
    };
    assert_eq!(case.run(), (4, 60, 2 * 600));
}

#[test]
fn replica_calc_scale_up_unready_no_scale() {
    let case = Case {
        readiness: vec![true, false, false],
        ..cpu_case(3, vec![400, 500, 700], 30)
    };
    assert_eq!(case.run(), (3, 40, 2 * 400));
}

#[test]
fn replica_calc_scale_hot_cpu_no_scale() {
    let case = Case {
        readiness: vec![true, false, false],
        start: vec![COOL, HOT, HOT],
        ..cpu_case(3, vec![400, 500, 700], 30)
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
    let case = cpu_case(5, vec![100, 300, 500, 250, 250], 50);
    assert_eq!(case.run(), (3, 28, 2 * 280));
}

#[test]
fn replica_calc_scale_down_include_unready_pods() {
    let case = Case {
        readiness: vec![true, true, true, false, false],
        ..cpu_case(5, vec![100, 300, 500, 250, 250], 50)
    };
    assert_eq!(case.run(), (2, 30, 2 * 300));
}

#[test]
fn replica_calc_scale_down_exclude_unscheduled_pods() {
    let case = Case {
        readiness: vec![true, false, false, false, false],
        phase: vec![Running, Pending, Pending, Pending, Pending],
        ..cpu_case(5, vec![100], 50)
    };
    assert_eq!(case.run(), (1, 10, 2 * 100));
}

#[test]
fn replica_calc_scale_down_ignore_hot_cpu_pods() {
    let case = Case {
        start: vec![COOL, COOL, COOL, HOT, HOT],
        ..cpu_case(5, vec![100, 300, 500, 250, 250], 50)
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
    let case = cpu_case(4, vec![400, 95], 100);
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
    assert_eq!(
        empty.error(),
        "unable to get metrics for resource cpu: no metrics returned from resource metrics API"
    );
    let no_request = Case {
        current: 1,
        levels: vec![200],
        target: 100,
        ..Case::default()
    };
    assert!(no_request.error().contains("missing request for"));
}

#[test]
fn replica_calc_missing_metrics_no_change() {
    for (level, utilization) in [(1000, 100), (1900, 190), (600, 60)] {
        let case = cpu_case(2, vec![level], 100);
        assert_eq!(case.run(), (2, utilization, 2 * level), "level {level}");
    }
}

#[test]
fn replica_calc_missing_metrics_unready_and_hot_cpu() {
    let unready = Case {
        readiness: vec![false, true, true],
        ..cpu_case(3, vec![100, 450], 50)
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
        readiness: vec![false, true, true, true],
        ..cpu_case(4, vec![100, 100, 100], 50)
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
    let case = cpu_case(4, vec![400, 95], 50);
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
    assert_eq!(
        case.error(),
        "unable to get metrics for resource cpu: no metrics returned from resource metrics API"
    );
}

#[test]
fn tolerance_keeps_the_count_within_ten_percent() {
    // 55% against a 50% target: ratio 1.1, within the band.
    let case = cpu_case(4, vec![550; 4], 50);
    assert_eq!(case.run(), (4, 55, 1100));
    let case = cpu_case(4, vec![560; 4], 50);
    assert_eq!(case.run().0, 5);
}

#[test]
fn average_value_targets_use_the_plain_calculation() {
    // `TestReplicaCalcScaleUpCM`'s arithmetic: levels 20, 10, 30 against 15.
    let pods: Vec<PodSample> = [20000, 10000, 30000]
        .iter()
        .map(|&value| {
            ready_pod(
                Some(1000),
                Some(PodMetric {
                    value,
                    timestamp: 0,
                    window: 60,
                }),
            )
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
