//! `bench run`'s autoscaling figure: 2,000 HorizontalPodAutoscalers on the
//! fleet's Deployments, their demand spiking and falling back, over an hour
//! of simulated time (240 syncs each), planned in memory as `plan
//! --advance 1h` would.

use crate::autoscale::demand::{Demand, MetricResource, Point};
use crate::autoscale::spec::{
    Autoscaler, AutoscalerSpec, MetricTarget, ResourceMetric, ScaleTargetRef,
};
use crate::executor::{self, RunOptions};
use crate::model::state::State;
use crate::model::workload::{Desired, Kind};
use crate::scheduler::Scheduler;

/// How many HPAs, and the simulated time they run for.
pub const AUTOSCALERS: usize = 2_000;
pub const WINDOW: u64 = 3_600;

/// `desired` with an HPA (60% cpu, between the declared count and twice
/// it) on each of its first `AUTOSCALERS` Deployments that request cpu,
/// their total demand at 50% of the requests, 90% from 10m to 30m.
pub fn with_autoscalers(desired: &Desired) -> (Desired, usize) {
    let mut desired = desired.clone();
    let mut count = 0;
    for workload in &desired.workloads {
        if count == AUTOSCALERS {
            break;
        }
        let request = workload.pod.requests.milli_cpu;
        if workload.id.kind != Kind::Deployment || request == 0 || workload.replicas < 1 {
            continue;
        }
        let total = request * i64::from(workload.replicas);
        desired.demands.insert(
            workload.id.clone(),
            Demand {
                cpu: vec![
                    Point {
                        at: 0,
                        milli: total / 2,
                    },
                    Point {
                        at: 600,
                        milli: total * 9 / 10,
                    },
                    Point {
                        at: 1800,
                        milli: total / 2,
                    },
                ],
                memory: Vec::new(),
            },
        );
        desired.autoscalers.push(Autoscaler {
            namespace: workload.id.namespace.to_string(),
            name: workload.id.name.to_string(),
            spec: AutoscalerSpec {
                scale_target_ref: ScaleTargetRef {
                    api_version: "apps/v1".into(),
                    kind: "Deployment".into(),
                    name: workload.id.name.to_string(),
                },
                min_replicas: workload.replicas,
                max_replicas: workload.replicas * 2,
                metrics: vec![ResourceMetric {
                    resource: MetricResource::Cpu,
                    target: MetricTarget::Utilization(60),
                }],
                behavior: None,
            },
        });
        count += 1;
    }
    desired
        .autoscalers
        .sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    (desired, count)
}

/// What the run did: (outcome, steps, rescales).
pub fn run(desired: &Desired, state: &mut State, scheduler: &Scheduler) -> (String, usize, usize) {
    let options = RunOptions {
        advance: WINDOW,
        ..RunOptions::default()
    };
    let result = executor::run(desired, state, scheduler, &options, |_, _| {
        Ok::<(), std::convert::Infallible>(())
    });
    let Ok(result) = result;
    let rescales = result
        .steps
        .iter()
        .flat_map(|s| &s.actions)
        .filter(|a| a.op() == "rescale")
        .count();
    (
        result.outcome.as_str().to_string(),
        result.steps.len(),
        rescales,
    )
}
