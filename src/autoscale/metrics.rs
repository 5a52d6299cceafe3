//! What metrics-server would report: a workload's `orch.dev/demand` total
//! split evenly over its Ready replicas, per pod, for the HPA's replica
//! calculator. Running replicas that are not Ready serve no traffic and
//! report zero; replicas that have not started report nothing (metrics-server
//! has not scraped them), as Pending pods do.

use super::demand::{Demand, MetricResource};
use super::hpa::{PodMetric, PodPhase, PodSample, ReadyCondition};

/// metrics-server's `--metric-resolution`: the window of each sample.
pub const METRIC_RESOLUTION: i64 = 15;

/// A replica of the target as the metrics pipeline sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicaView {
    /// Bound and started (`None` while Pending).
    pub started_at: Option<u64>,
    pub ready_at: Option<u64>,
    pub ready: bool,
    pub terminating: bool,
    pub failed: bool,
    /// The pod's request of the resource (milli-value), if it has one.
    pub request: Option<i64>,
}

/// The target's pods at `now`, with `demand`'s share of `resource` on each
/// Ready one; no metric at all when the workload declares no demand for it.
pub fn samples(
    demand: Option<&Demand>,
    resource: MetricResource,
    replicas: &[ReplicaView],
    now: u64,
) -> Vec<PodSample> {
    let total = demand.and_then(|d| d.total(resource, now));
    let ready = replicas
        .iter()
        .filter(|r| r.ready && !r.terminating && !r.failed)
        .count() as i64;
    let share = match (total, ready) {
        (Some(total), n) if n > 0 => Some(total / n),
        _ => None,
    };
    let now = now as i64;
    replicas
        .iter()
        .map(|r| {
            let phase = if r.failed {
                PodPhase::Failed
            } else if r.started_at.is_none() {
                PodPhase::Pending
            } else {
                PodPhase::Running
            };
            let metric = match (total, phase) {
                (Some(_), PodPhase::Running) => Some(PodMetric {
                    value: if r.ready { share.unwrap_or(0) } else { 0 },
                    timestamp: now,
                    window: METRIC_RESOLUTION,
                }),
                _ => None,
            };
            PodSample {
                phase,
                deleting: r.terminating,
                ready: r.started_at.map(|started| ReadyCondition {
                    status: r.ready,
                    last_transition: r.ready_at.unwrap_or(started) as i64,
                }),
                start_time: r.started_at.map(|s| s as i64),
                request: r.request,
                metric,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autoscale::demand::parse;

    fn running(ready: bool) -> ReplicaView {
        ReplicaView {
            started_at: Some(0),
            ready_at: ready.then_some(10),
            ready,
            terminating: false,
            failed: false,
            request: Some(500),
        }
    }

    #[test]
    fn the_total_is_split_over_ready_replicas() {
        let demand = parse("cpu: 0s=3").unwrap();
        let pending = ReplicaView {
            started_at: None,
            ..running(false)
        };
        let pods = samples(
            Some(&demand),
            MetricResource::Cpu,
            &[running(true), running(true), running(false), pending],
            100,
        );
        let values: Vec<Option<i64>> = pods.iter().map(|p| p.metric.map(|m| m.value)).collect();
        assert_eq!(values, [Some(1500), Some(1500), Some(0), None]);
        assert_eq!(pods[3].phase, PodPhase::Pending);
        assert_eq!(pods[0].ready.unwrap().last_transition, 10);
        assert_eq!(
            pods[2].ready.unwrap(),
            ReadyCondition {
                status: false,
                last_transition: 0
            }
        );
    }

    #[test]
    fn without_a_demand_there_are_no_metrics() {
        let pods = samples(None, MetricResource::Cpu, &[running(true)], 0);
        assert_eq!(pods[0].metric, None);
        let memory_only = parse("memory: 0s=1Gi").unwrap();
        let pods = samples(Some(&memory_only), MetricResource::Cpu, &[running(true)], 0);
        assert_eq!(pods[0].metric, None);
    }
}
