//! `reconcileAutoscaler`: whole syncs, with their conditions and events.

use super::*;

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
