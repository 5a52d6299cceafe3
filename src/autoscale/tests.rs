//! The loop's arithmetic over time, without the rest of orch: a demand
//! spike, metrics-server's split, the HPA's syncs every 15 s and a target
//! whose new replicas are Ready 20 s after they start. Each expected count is
//! worked out below from the upstream functions, sync by sync.

use super::demand::{Demand, MetricResource, parse};
use super::hpa::{Memory, PodSample, PodSource, SYNC_PERIOD, reconcile_autoscaler};
use super::metrics::{ReplicaView, samples};
use super::spec::{AutoscalerSpec, MetricTarget, ResourceMetric, ScaleTargetRef};

struct Target {
    demand: Demand,
    replicas: Vec<ReplicaView>,
    now: u64,
}

impl PodSource for Target {
    fn pods(&self, resource: MetricResource) -> Vec<PodSample> {
        let views: Vec<ReplicaView> = self
            .replicas
            .iter()
            .map(|r| ReplicaView {
                ready: r.ready_at.is_some_and(|at| at <= self.now),
                ..*r
            })
            .collect();
        samples(Some(&self.demand), resource, &views, self.now)
    }
}

fn started(at: u64, ready_after: u64) -> ReplicaView {
    ReplicaView {
        started_at: Some(at),
        ready_at: Some(at + ready_after),
        ready: false,
        terminating: false,
        failed: false,
        request: Some(500),
    }
}

/// Every sync from 0 to `until`: (time, new count) for each rescale.
fn run(spec: &AutoscalerSpec, demand: &str, until: u64) -> (Vec<(u64, i32)>, Vec<String>) {
    let mut target = Target {
        demand: parse(demand).unwrap(),
        replicas: vec![started(0, 0), started(0, 0)],
        now: 0,
    };
    let mut memory = Memory::default();
    let mut rescales = Vec::new();
    let mut limited = Vec::new();
    while target.now <= until {
        let current = target.replicas.len() as i32;
        let sync = reconcile_autoscaler(spec, current, &target, &mut memory, target.now as i64);
        if let Some(c) = sync.conditions.iter().find(|c| c.kind == "ScalingLimited")
            && c.status == "True"
        {
            limited.push(format!("{}:{}", target.now, c.reason));
        }
        if sync.rescale {
            rescales.push((target.now, sync.desired_replicas));
            let desired = sync.desired_replicas as usize;
            while target.replicas.len() < desired {
                target.replicas.push(started(target.now, 20));
            }
            target.replicas.truncate(desired);
        }
        target.now += SYNC_PERIOD;
    }
    (rescales, limited)
}

fn api_hpa() -> AutoscalerSpec {
    AutoscalerSpec {
        scale_target_ref: ScaleTargetRef {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            name: "api".into(),
        },
        min_replicas: 2,
        max_replicas: 10,
        metrics: vec![ResourceMetric {
            resource: MetricResource::Cpu,
            target: MetricTarget::Utilization(50),
        }],
        behavior: None,
    }
}

/// Pods request 500m; the HPA targets 50%. Without `behavior` the controller
/// limits a scale-up to max(2 × current, 4) per sync and keeps the highest
/// recommendation of the last 300 s.
///
/// - 0–45 s: 500m over 2 pods is 50%: ratio 1, within tolerance.
/// - 60 s: 4 cores over 2 pods: 400%, ratio 8, ceil(8 × 2) = 16, limited to 4.
/// - 75 s: 2 new pods not Ready count 0 on a scale-up: 4000m over 2000m of
///   requests is 200%, ratio 4, ceil(4 × 4) = 16, limited to 8.
/// - 90 s: the first two new pods turned Ready at 80 s, less than a metric
///   window (15 s) ago inside the cpu initialization period: still unready.
///   Ready pods use 1000m each (4 cores over 4 Ready); with the 6 unready at 0:
///   2000m over 4000m = 50%, ratio 1: the metrics alone keep 8. But without
///   `behavior`, `stabilizeRecommendation` takes the highest recommendation
///   of the last 300 s in either direction — 16, from 60 s and 75 s — and
///   `convertDesiredReplicasWithRules` caps it at maxReplicas: 10.
/// - 105–585 s: 10 pods, 16 still recommended (80% over 10 Ready pods is
///   ratio 1.6): ScalingLimited TooManyReplicas.
/// - 600 s: the spike ends (500m: 10%), 2 wanted, but 16 was recommended at
///   585 s; it leaves the 300 s window at 900 s: down to 2.
#[test]
fn a_spike_is_absorbed_sync_by_sync_as_upstream_computes() {
    let (rescales, limited) = run(&api_hpa(), "cpu: 0s=500m, 60s=4, 600s=500m", 1200);
    assert_eq!(rescales, [(60, 4), (75, 8), (90, 10), (900, 2)]);
    assert_eq!(limited.first().map(String::as_str), Some("60:ScaleUpLimit"));
    assert!(limited.contains(&"135:TooManyReplicas".to_string()));
    assert!(limited.contains(&"885:TooManyReplicas".to_string()));
}

/// The same spike with `behavior: {}` (Kubernetes' generated rules): each
/// scale-up adds at most max(4 pods, 100%) per 15 s, recommendations of
/// either direction no longer hold a scale-up back, and the scale-down comes
/// exactly when the last high recommendation (585 s) is 300 s old: `After`
/// is strict, so at 885 s.
#[test]
fn with_generated_behavior_the_spike_follows_the_policies() {
    use super::spec::{Behavior, ScalingRules};
    let spec = AutoscalerSpec {
        behavior: Some(Behavior {
            scale_up: ScalingRules::default_scale_up(),
            scale_down: ScalingRules::default_scale_down(),
        }),
        ..api_hpa()
    };
    let (rescales, _) = run(&spec, "cpu: 0s=500m, 60s=4, 600s=500m", 1200);
    let mut previous = (0, 2);
    for &(at, count) in &rescales {
        if count > previous.1 {
            assert!(count - previous.1 <= (previous.1).max(4), "{rescales:?}");
        }
        previous = (at, count);
    }
    // 60 s: ratio 8 wants 16; the policies allow 2 + max(4, 2) = 6.
    assert_eq!(rescales[0], (60, 6));
    assert_eq!(rescales.last(), Some(&(885, 2)));
    assert!(rescales.iter().all(|&(_, c)| c <= 10));
}
