//! The replica calculator: `replica_calculator.go` (`GetResourceReplicas`,
//! `GetRawResourceReplicas`, `groupPods`) and `metrics/utilization.go`, the
//! count one metric asks for from the pods' samples.

use super::{CPU_INITIALIZATION_PERIOD, DELAY_OF_INITIAL_READINESS_STATUS, TOLERANCE};
use crate::autoscale::demand::MetricResource;

/// `Tolerances`: the band around a usage ratio of 1 where nothing changes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerances {
    pub scale_down: f64,
    pub scale_up: f64,
}

impl Default for Tolerances {
    fn default() -> Self {
        Tolerances {
            scale_down: TOLERANCE,
            scale_up: TOLERANCE,
        }
    }
}

impl Tolerances {
    pub fn is_within(&self, usage_ratio: f64) -> bool {
        (1.0 - self.scale_down) <= usage_ratio && usage_ratio <= (1.0 + self.scale_up)
    }
}

/// A pod's phase as the replica calculator sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodPhase {
    Pending,
    Running,
    Failed,
}

/// The pod's `Ready` condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadyCondition {
    pub status: bool,
    pub last_transition: i64,
}

/// What metrics-server reports for one pod and one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PodMetric {
    /// Milli-value.
    pub value: i64,
    pub timestamp: i64,
    pub window: i64,
}

/// One pod selected by the target, with what the calculator reads of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodSample {
    pub phase: PodPhase,
    pub deleting: bool,
    pub ready: Option<ReadyCondition>,
    pub start_time: Option<i64>,
    /// The pod's request of the metric's resource (milli-value); `None`
    /// when a container has none.
    pub request: Option<i64>,
    pub metric: Option<PodMetric>,
}

/// Why a metric gave no replica count: upstream's error text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricError(pub String);

/// `ReplicaCalculator`'s settings: the controller manager's flags.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calculator {
    pub tolerances: Tolerances,
    pub cpu_initialization_period: i64,
    pub delay_of_initial_readiness_status: i64,
}

impl Default for Calculator {
    fn default() -> Self {
        Calculator {
            tolerances: Tolerances::default(),
            cpu_initialization_period: CPU_INITIALIZATION_PERIOD,
            delay_of_initial_readiness_status: DELAY_OF_INITIAL_READINESS_STATUS,
        }
    }
}

/// `groupPods`: ready count, and the unready, missing and ignored pods (indices).
pub fn group_pods(
    calculator: &Calculator,
    pods: &[PodSample],
    resource: Option<MetricResource>,
    now: i64,
) -> (usize, Vec<usize>, Vec<usize>, Vec<usize>) {
    let (mut ready, mut unready, mut missing, mut ignored) = (0, vec![], vec![], vec![]);
    for (i, pod) in pods.iter().enumerate() {
        if pod.deleting || pod.phase == PodPhase::Failed {
            ignored.push(i);
            continue;
        }
        if pod.phase == PodPhase::Pending {
            unready.push(i);
            continue;
        }
        let Some(metric) = pod.metric else {
            missing.push(i);
            continue;
        };
        if resource == Some(MetricResource::Cpu) {
            let is_unready = match (pod.ready, pod.start_time) {
                (Some(condition), Some(start)) => {
                    if start + calculator.cpu_initialization_period > now {
                        !condition.status
                            || metric.timestamp < condition.last_transition + metric.window
                    } else {
                        !condition.status
                            && start + calculator.delay_of_initial_readiness_status
                                > condition.last_transition
                    }
                }
                _ => true,
            };
            if is_unready {
                unready.push(i);
                continue;
            }
        }
        ready += 1;
    }
    (ready, unready, missing, ignored)
}

/// `PodMetricsInfo`: the metric value of each pod by its index, if any.
struct Metrics {
    values: Vec<Option<i64>>,
    len: usize,
}

impl Metrics {
    /// The metrics of the pods that are neither unready nor ignored.
    fn counted(pods: &[PodSample], unready: &[usize], ignored: &[usize]) -> Metrics {
        let mut values: Vec<Option<i64>> = pods.iter().map(|p| p.metric.map(|m| m.value)).collect();
        for &i in unready.iter().chain(ignored) {
            values[i] = None;
        }
        let len = values.iter().flatten().count();
        Metrics { values, len }
    }

    fn set(&mut self, pod: usize, value: i64) {
        if self.values[pod].replace(value).is_none() {
            self.len += 1;
        }
    }

    fn iter(&self) -> impl Iterator<Item = (usize, i64)> + '_ {
        self.values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| (i, v)))
    }
}

/// `GetResourceUtilizationRatio`: (ratio, utilization %, raw average).
fn resource_utilization_ratio(
    metrics: &Metrics,
    requests: &[i64],
    target_utilization: i32,
) -> Result<(f64, i32, i64), MetricError> {
    let (mut metrics_total, mut requests_total, mut entries) = (0i64, 0i64, 0i64);
    for (pod, value) in metrics.iter() {
        metrics_total += value;
        requests_total += requests[pod];
        entries += 1;
    }
    if requests_total == 0 {
        return Err(MetricError("no metrics returned matched known pods".into()));
    }
    let utilization = ((metrics_total * 100) / requests_total) as i32;
    Ok((
        f64::from(utilization) / f64::from(target_utilization),
        utilization,
        metrics_total / entries,
    ))
}

/// `GetMetricUsageRatio`: (ratio, average usage).
fn metric_usage_ratio(metrics: &Metrics, target_usage: i64) -> (f64, i64) {
    let total: i64 = metrics.iter().map(|(_, v)| v).sum();
    let usage = total / metrics.len as i64;
    (usage as f64 / target_usage as f64, usage)
}

pub(super) fn ceil_i32(value: f64) -> i32 {
    value.ceil() as i32
}

fn no_metrics(resource: MetricResource) -> MetricError {
    MetricError(format!(
        "unable to get metrics for resource {resource}: no metrics returned from resource metrics API"
    ))
}

/// `GetResourceReplicas`: (replicas, utilization %, raw average usage).
pub fn get_resource_replicas(
    calculator: &Calculator,
    current_replicas: i32,
    target_utilization: i32,
    resource: MetricResource,
    pods: &[PodSample],
    now: i64,
) -> Result<(i32, i32, i64), MetricError> {
    if pods.iter().all(|p| p.metric.is_none()) {
        return Err(no_metrics(resource));
    }
    if pods.is_empty() {
        return Err(MetricError(
            "no pods returned by selector while calculating replica count".into(),
        ));
    }
    let (ready_count, unready, missing, ignored) =
        group_pods(calculator, pods, Some(resource), now);
    let tolerances = calculator.tolerances;
    let mut metrics = Metrics::counted(pods, &unready, &ignored);
    if metrics.len == 0 {
        return Err(MetricError(
            "did not receive metrics for targeted pods (pods might be unready)".into(),
        ));
    }
    let requests = pods
        .iter()
        .map(|p| {
            p.request.ok_or_else(|| {
                MetricError(format!("missing request for {resource} in a container"))
            })
        })
        .collect::<Result<Vec<i64>, MetricError>>()?;
    let (usage_ratio, utilization, raw) =
        resource_utilization_ratio(&metrics, &requests, target_utilization)?;

    let scale_up_with_unready = !unready.is_empty() && usage_ratio > 1.0;
    if !scale_up_with_unready && missing.is_empty() {
        if tolerances.is_within(usage_ratio) {
            return Ok((current_replicas, utilization, raw));
        }
        return Ok((ceil_i32(usage_ratio * ready_count as f64), utilization, raw));
    }
    if !missing.is_empty() {
        if usage_ratio < 1.0 {
            let fallback = i64::from(target_utilization.max(100));
            for &pod in &missing {
                metrics.set(pod, requests[pod] * fallback / 100);
            }
        } else if usage_ratio > 1.0 {
            for &pod in &missing {
                metrics.set(pod, 0);
            }
        }
    }
    if scale_up_with_unready {
        for &pod in &unready {
            metrics.set(pod, 0);
        }
    }
    let (new_usage_ratio, _, _) =
        resource_utilization_ratio(&metrics, &requests, target_utilization)?;
    if tolerances.is_within(new_usage_ratio)
        || (usage_ratio < 1.0 && new_usage_ratio > 1.0)
        || (usage_ratio > 1.0 && new_usage_ratio < 1.0)
    {
        return Ok((current_replicas, utilization, raw));
    }
    let new_replicas = ceil_i32(new_usage_ratio * metrics.len as f64);
    if (new_usage_ratio < 1.0 && new_replicas > current_replicas)
        || (new_usage_ratio > 1.0 && new_replicas < current_replicas)
    {
        return Ok((current_replicas, utilization, raw));
    }
    Ok((new_replicas, utilization, raw))
}

/// `GetRawResourceReplicas` (through `calcPlainMetricReplicas`): (replicas, average usage).
pub fn get_raw_resource_replicas(
    calculator: &Calculator,
    current_replicas: i32,
    target_usage: i64,
    resource: MetricResource,
    pods: &[PodSample],
    now: i64,
) -> Result<(i32, i64), MetricError> {
    if pods.iter().all(|p| p.metric.is_none()) {
        return Err(no_metrics(resource));
    }
    let (ready_count, unready, missing, ignored) =
        group_pods(calculator, pods, Some(resource), now);
    let tolerances = calculator.tolerances;
    let mut metrics = Metrics::counted(pods, &unready, &ignored);
    if metrics.len == 0 {
        return Err(MetricError(
            "did not receive metrics for targeted pods (pods might be unready)".into(),
        ));
    }
    let (usage_ratio, usage) = metric_usage_ratio(&metrics, target_usage);
    let scale_up_with_unready = !unready.is_empty() && usage_ratio > 1.0;
    if !scale_up_with_unready && missing.is_empty() {
        if tolerances.is_within(usage_ratio) {
            return Ok((current_replicas, usage));
        }
        return Ok((ceil_i32(usage_ratio * ready_count as f64), usage));
    }
    if !missing.is_empty() {
        if usage_ratio < 1.0 {
            for &pod in &missing {
                metrics.set(pod, target_usage);
            }
        } else if usage_ratio > 1.0 {
            for &pod in &missing {
                metrics.set(pod, 0);
            }
        }
    }
    if scale_up_with_unready {
        for &pod in &unready {
            metrics.set(pod, 0);
        }
    }
    let (new_usage_ratio, _) = metric_usage_ratio(&metrics, target_usage);
    if tolerances.is_within(new_usage_ratio)
        || (usage_ratio < 1.0 && new_usage_ratio > 1.0)
        || (usage_ratio > 1.0 && new_usage_ratio < 1.0)
    {
        return Ok((current_replicas, usage));
    }
    let new_replicas = ceil_i32(new_usage_ratio * metrics.len as f64);
    if (new_usage_ratio < 1.0 && new_replicas > current_replicas)
        || (new_usage_ratio > 1.0 && new_replicas < current_replicas)
    {
        return Ok((current_replicas, usage));
    }
    Ok((new_replicas, usage))
}
