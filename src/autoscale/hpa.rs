//! The HorizontalPodAutoscaler controller, a port of Kubernetes 1.34's
//! `pkg/controller/podautoscaler`: `replica_calculator.go` (`GetResourceReplicas`,
//! `GetRawResourceReplicas`, `groupPods`), `metrics/utilization.go` and
//! `horizontal.go` (`reconcileAutoscaler`, `computeReplicasForMetrics`,
//! `normalizeDesiredReplicas[WithBehaviors]`, `stabilizeRecommendation[WithBehaviors]`,
//! `convertDesiredReplicasWithBehaviorRate`, `calculateScale{Up,Down}Limit…`,
//! `storeScaleEvent`). Upstream names are kept so each function can be read
//! beside its original. Time is the simulated clock in whole seconds; the
//! controller's memory (recommendations, scale events) is a value the caller
//! keeps between syncs.

use super::demand::MetricResource;
use super::spec::{
    AutoscalerSpec, Behavior, MetricTarget, PolicyType, ResourceMetric, ScalingRules, SelectPolicy,
};

/// `--horizontal-pod-autoscaler-sync-period`.
pub const SYNC_PERIOD: u64 = 15;
/// `--horizontal-pod-autoscaler-downscale-stabilization`.
pub const DOWNSCALE_STABILISATION_WINDOW: i64 = 300;
/// `--horizontal-pod-autoscaler-cpu-initialization-period`.
pub const CPU_INITIALIZATION_PERIOD: i64 = 300;
/// `--horizontal-pod-autoscaler-initial-readiness-delay`.
pub const DELAY_OF_INITIAL_READINESS_STATUS: i64 = 30;
/// `--horizontal-pod-autoscaler-tolerance`.
pub const TOLERANCE: f64 = 0.1;
const SCALE_UP_LIMIT_FACTOR: f64 = 2.0;
const SCALE_UP_LIMIT_MINIMUM: f64 = 4.0;

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

fn ceil_i32(value: f64) -> i32 {
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

/// `timestampedRecommendation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Recommendation {
    pub replicas: i32,
    pub time: i64,
}

/// `timestampedScaleEvent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScaleEvent {
    pub change: i32,
    pub time: i64,
    #[serde(default)]
    pub outdated: bool,
}

/// What the controller remembers of one HPA between syncs.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Memory {
    #[serde(default)]
    pub recommendations: Vec<Recommendation>,
    #[serde(default)]
    pub scale_up_events: Vec<ScaleEvent>,
    #[serde(default)]
    pub scale_down_events: Vec<ScaleEvent>,
}

/// `NormalizationArg`, with the scale-down window already filled in.
#[derive(Debug, Clone)]
pub struct NormalizationArg<'a> {
    pub scale_up: &'a ScalingRules,
    pub scale_down: &'a ScalingRules,
    pub min_replicas: i32,
    pub max_replicas: i32,
    pub current_replicas: i32,
    pub desired_replicas: i32,
}

fn window(rules: &ScalingRules) -> i64 {
    i64::from(
        rules
            .stabilization_window_seconds
            .unwrap_or(DOWNSCALE_STABILISATION_WINDOW as i32),
    )
}

/// `getReplicasChangePerPeriod`.
pub fn get_replicas_change_per_period(period_seconds: i32, events: &[ScaleEvent], now: i64) -> i32 {
    let cutoff = now - i64::from(period_seconds);
    events
        .iter()
        .filter(|e| e.time > cutoff)
        .map(|e| e.change)
        .sum()
}

/// `calculateScaleUpLimitWithScalingRules`.
pub fn calculate_scale_up_limit_with_scaling_rules(
    current_replicas: i32,
    scale_up_events: &[ScaleEvent],
    scale_down_events: &[ScaleEvent],
    rules: &ScalingRules,
    now: i64,
) -> i32 {
    let (mut result, select): (i32, fn(i32, i32) -> i32) = match rules.select_policy {
        SelectPolicy::Disabled => return current_replicas,
        SelectPolicy::Min => (i32::MAX, std::cmp::min),
        SelectPolicy::Max => (i32::MIN, std::cmp::max),
    };
    for policy in &rules.policies {
        let added = get_replicas_change_per_period(policy.period_seconds, scale_up_events, now);
        let deleted = get_replicas_change_per_period(policy.period_seconds, scale_down_events, now);
        let period_start = current_replicas - added + deleted;
        let proposed = match policy.kind {
            PolicyType::Pods => period_start + policy.value,
            PolicyType::Percent => {
                ceil_i32(f64::from(period_start) * (1.0 + f64::from(policy.value) / 100.0))
            }
        };
        result = select(result, proposed);
    }
    result
}

/// `calculateScaleDownLimitWithBehaviors`.
pub fn calculate_scale_down_limit_with_behaviors(
    current_replicas: i32,
    scale_up_events: &[ScaleEvent],
    scale_down_events: &[ScaleEvent],
    rules: &ScalingRules,
    now: i64,
) -> i32 {
    let (mut result, select): (i32, fn(i32, i32) -> i32) = match rules.select_policy {
        SelectPolicy::Disabled => return current_replicas,
        SelectPolicy::Min => (i32::MIN, std::cmp::max),
        SelectPolicy::Max => (i32::MAX, std::cmp::min),
    };
    for policy in &rules.policies {
        let added = get_replicas_change_per_period(policy.period_seconds, scale_up_events, now);
        let deleted = get_replicas_change_per_period(policy.period_seconds, scale_down_events, now);
        let period_start = current_replicas - added + deleted;
        let proposed = match policy.kind {
            PolicyType::Pods => period_start - policy.value,
            PolicyType::Percent => {
                (f64::from(period_start) * (1.0 - f64::from(policy.value) / 100.0)) as i32
            }
        };
        result = select(result, proposed);
    }
    result
}

/// A reason and message for a condition, as upstream words them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Why {
    pub reason: &'static str,
    pub message: &'static str,
}

const DESIRED_WITHIN_RANGE: Why = Why {
    reason: "DesiredWithinRange",
    message: "the desired count is within the acceptable range",
};
const SCALE_UP_LIMIT: Why = Why {
    reason: "ScaleUpLimit",
    message: "the desired replica count is increasing faster than the maximum scale rate",
};
const TOO_MANY_REPLICAS: Why = Why {
    reason: "TooManyReplicas",
    message: "the desired replica count is more than the maximum replica count",
};
const SCALE_DOWN_LIMIT: Why = Why {
    reason: "ScaleDownLimit",
    message: "the desired replica count is decreasing faster than the maximum scale rate",
};
const TOO_FEW_REPLICAS: Why = Why {
    reason: "TooFewReplicas",
    message: "the desired replica count is less than the minimum replica count",
};
const SCALE_UP_STABILIZED: Why = Why {
    reason: "ScaleUpStabilized",
    message: "recent recommendations were lower than current one, applying the lowest recent recommendation",
};
const SCALE_DOWN_STABILIZED: Why = Why {
    reason: "ScaleDownStabilized",
    message: "recent recommendations were higher than current one, applying the highest recent recommendation",
};
const READY_FOR_NEW_SCALE: Why = Why {
    reason: "ReadyForNewScale",
    message: "recommended size matches current size",
};

/// `convertDesiredReplicasWithBehaviorRate`.
pub fn convert_desired_replicas_with_behavior_rate(
    args: &NormalizationArg,
    memory: &Memory,
    now: i64,
) -> (i32, Why) {
    if args.desired_replicas > args.current_replicas {
        let limit = calculate_scale_up_limit_with_scaling_rules(
            args.current_replicas,
            &memory.scale_up_events,
            &memory.scale_down_events,
            args.scale_up,
            now,
        )
        .max(args.current_replicas);
        let (maximum, why) = if args.max_replicas > limit {
            (limit, SCALE_UP_LIMIT)
        } else {
            (args.max_replicas, TOO_MANY_REPLICAS)
        };
        if args.desired_replicas > maximum {
            return (maximum, why);
        }
    } else if args.desired_replicas < args.current_replicas {
        let limit = calculate_scale_down_limit_with_behaviors(
            args.current_replicas,
            &memory.scale_up_events,
            &memory.scale_down_events,
            args.scale_down,
            now,
        )
        .min(args.current_replicas);
        let (minimum, why) = if args.min_replicas < limit {
            (limit, SCALE_DOWN_LIMIT)
        } else {
            (args.min_replicas, TOO_FEW_REPLICAS)
        };
        if args.desired_replicas < minimum {
            return (minimum, why);
        }
    }
    (args.desired_replicas, DESIRED_WITHIN_RANGE)
}

/// `stabilizeRecommendationWithBehaviors`: records the unstabilized
/// recommendation and returns the stabilized one.
pub fn stabilize_recommendation_with_behaviors(
    args: &NormalizationArg,
    memory: &mut Memory,
    now: i64,
) -> (i32, Why) {
    let up_cutoff = now - window(args.scale_up);
    let down_cutoff = now - window(args.scale_down);
    let (mut up, mut down) = (args.desired_replicas, args.desired_replicas);
    let mut old_sample = None;
    for (i, rec) in memory.recommendations.iter().enumerate() {
        if rec.time > up_cutoff {
            up = up.min(rec.replicas);
        }
        if rec.time > down_cutoff {
            down = down.max(rec.replicas);
        }
        if rec.time < up_cutoff && rec.time < down_cutoff {
            old_sample = Some(i);
        }
    }
    let recommendation = args.current_replicas.max(up).min(down);
    let new = Recommendation {
        replicas: args.desired_replicas,
        time: now,
    };
    match old_sample {
        Some(i) => memory.recommendations[i] = new,
        None => memory.recommendations.push(new),
    }
    let why = if args.desired_replicas >= args.current_replicas {
        SCALE_UP_STABILIZED
    } else {
        SCALE_DOWN_STABILIZED
    };
    (recommendation, why)
}

/// `stabilizeRecommendation` (no `behavior`): the highest recommendation of
/// the last five minutes.
pub fn stabilize_recommendation(prenormalized: i32, memory: &mut Memory, now: i64) -> i32 {
    let cutoff = now - DOWNSCALE_STABILISATION_WINDOW;
    let mut max = prenormalized;
    let mut old_sample = None;
    for (i, rec) in memory.recommendations.iter().enumerate() {
        if rec.time < cutoff {
            old_sample = Some(i);
        } else if rec.replicas > max {
            max = rec.replicas;
        }
    }
    let new = Recommendation {
        replicas: prenormalized,
        time: now,
    };
    match old_sample {
        Some(i) => memory.recommendations[i] = new,
        None => memory.recommendations.push(new),
    }
    max
}

/// `calculateScaleUpLimit`.
pub fn calculate_scale_up_limit(current_replicas: i32) -> i32 {
    (SCALE_UP_LIMIT_FACTOR * f64::from(current_replicas)).max(SCALE_UP_LIMIT_MINIMUM) as i32
}

/// `convertDesiredReplicasWithRules`.
pub fn convert_desired_replicas_with_rules(
    current_replicas: i32,
    desired_replicas: i32,
    min_replicas: i32,
    max_replicas: i32,
) -> (i32, Why) {
    let limit = calculate_scale_up_limit(current_replicas);
    let (maximum, why) = if max_replicas > limit {
        (limit, SCALE_UP_LIMIT)
    } else {
        (max_replicas, TOO_MANY_REPLICAS)
    };
    if desired_replicas < min_replicas {
        return (min_replicas, TOO_FEW_REPLICAS);
    }
    if desired_replicas > maximum {
        return (maximum, why);
    }
    (desired_replicas, DESIRED_WITHIN_RANGE)
}

/// `getLongestPolicyPeriod`.
fn longest_policy_period(rules: &ScalingRules) -> i64 {
    rules
        .policies
        .iter()
        .map(|p| i64::from(p.period_seconds))
        .max()
        .unwrap_or(0)
}

/// `storeScaleEvent`: kept only when the HPA has a `behavior`.
pub fn store_scale_event(
    behavior: Option<&Behavior>,
    memory: &mut Memory,
    previous: i32,
    new: i32,
    now: i64,
) {
    let Some(behavior) = behavior else {
        return;
    };
    let (events, rules, change) = if new > previous {
        (
            &mut memory.scale_up_events,
            &behavior.scale_up,
            new - previous,
        )
    } else {
        (
            &mut memory.scale_down_events,
            &behavior.scale_down,
            previous - new,
        )
    };
    let cutoff = now - longest_policy_period(rules);
    for event in events.iter_mut() {
        if event.time < cutoff {
            event.outdated = true;
        }
    }
    let event = ScaleEvent {
        change,
        time: now,
        outdated: false,
    };
    match events.iter().rposition(|e| e.outdated) {
        Some(i) => events[i] = event,
        None => events.push(event),
    }
}

/// A condition of the HPA's status.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Condition {
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
    pub reason: String,
    pub message: String,
}

/// An event the controller records on the HPA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HpaEvent {
    pub warning: bool,
    pub reason: &'static str,
    pub message: String,
}

/// What the pods of the target look like at a sync, per metric resource.
pub trait PodSource {
    /// The target's pods, with the resource's requests and metrics.
    fn pods(&self, resource: MetricResource) -> Vec<PodSample>;
}

/// The current value of one metric, as `status.currentMetrics` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricValue {
    pub resource: MetricResource,
    pub average_utilization: Option<i32>,
    /// Milli-value.
    pub average_value: i64,
}

/// The result of one sync (`reconcileAutoscaler`).
#[derive(Debug, Clone, PartialEq)]
pub struct Sync {
    /// The count the target should have after this sync.
    pub desired_replicas: i32,
    pub rescale: bool,
    pub conditions: Vec<Condition>,
    pub events: Vec<HpaEvent>,
    pub current_metrics: Vec<MetricValue>,
}

fn set_condition(
    conditions: &mut Vec<Condition>,
    kind: &str,
    status: bool,
    reason: &str,
    message: String,
) {
    let condition = Condition {
        kind: kind.to_string(),
        status: if status { "True" } else { "False" }.to_string(),
        reason: reason.to_string(),
        message,
    };
    match conditions.iter_mut().find(|c| c.kind == kind) {
        Some(existing) => *existing = condition,
        None => conditions.push(condition),
    }
}

/// `computeReplicasForMetrics` (every metric of the spec is a `Resource` one).
fn compute_replicas_for_metrics(
    spec: &AutoscalerSpec,
    spec_replicas: i32,
    pods: &dyn PodSource,
    now: i64,
    conditions: &mut Vec<Condition>,
    events: &mut Vec<HpaEvent>,
    statuses: &mut Vec<MetricValue>,
) -> Result<(i32, String), String> {
    let (mut replicas, mut metric) = (0i32, String::new());
    let mut invalid = 0usize;
    let mut first: Option<(String, Condition)> = None;
    for spec_metric in &spec.metrics {
        match compute_for_resource_metric(spec_replicas, spec_metric, pods, now) {
            Ok((proposal, name, status)) => {
                statuses.push(status);
                if replicas == 0 || proposal > replicas {
                    replicas = proposal;
                    metric = name;
                }
            }
            Err(error) => {
                let message = error.0;
                events.push(HpaEvent {
                    warning: true,
                    reason: "FailedGetResourceMetric",
                    message: message.clone(),
                });
                if invalid == 0 {
                    first = Some((
                        format!(
                            "failed to get {} resource metric value: {message}",
                            spec_metric.resource
                        ),
                        Condition {
                            kind: "ScalingActive".into(),
                            status: "False".into(),
                            reason: "FailedGetResourceMetric".into(),
                            message: format!(
                                "the HPA was unable to compute the replica count: {message}"
                            ),
                        },
                    ));
                }
                invalid += 1;
            }
        }
    }
    if let Some((error, condition)) = first
        && (invalid >= spec.metrics.len() || replicas < spec_replicas)
    {
        set_condition(
            conditions,
            &condition.kind,
            false,
            &condition.reason,
            condition.message,
        );
        return Err(format!(
            "invalid metrics ({invalid} invalid out of {}), first error is: {error}",
            spec.metrics.len()
        ));
    }
    set_condition(
        conditions,
        "ScalingActive",
        true,
        "ValidMetricFound",
        format!("the HPA was able to successfully calculate a replica count from {metric}"),
    );
    Ok((replicas, metric))
}

/// `computeStatusForResourceMetricGeneric`: (proposal, metric name, status).
fn compute_for_resource_metric(
    current_replicas: i32,
    metric: &ResourceMetric,
    source: &dyn PodSource,
    now: i64,
) -> Result<(i32, String, MetricValue), MetricError> {
    let pods = source.pods(metric.resource);
    let resource = metric.resource;
    match metric.target {
        MetricTarget::AverageValue(target) => {
            let (replicas, usage) = get_raw_resource_replicas(
                &Calculator::default(),
                current_replicas,
                target,
                resource,
                &pods,
                now,
            )
            .map_err(|e| MetricError(format!("failed to get {resource} usage: {}", e.0)))?;
            Ok((
                replicas,
                format!("{resource} resource"),
                MetricValue {
                    resource,
                    average_utilization: None,
                    average_value: usage,
                },
            ))
        }
        MetricTarget::Utilization(target) => {
            let (replicas, utilization, raw) = get_resource_replicas(
                &Calculator::default(),
                current_replicas,
                target,
                resource,
                &pods,
                now,
            )
            .map_err(|e| MetricError(format!("failed to get {resource} utilization: {}", e.0)))?;
            Ok((
                replicas,
                format!("{resource} resource utilization (percentage of request)"),
                MetricValue {
                    resource,
                    average_utilization: Some(utilization),
                    average_value: raw,
                },
            ))
        }
    }
}

/// `reconcileAutoscaler` for a target whose scale is `current_replicas`:
/// the count it should have, the HPA's conditions and events. `memory` is
/// updated as the controller's maps are.
pub fn reconcile_autoscaler(
    spec: &AutoscalerSpec,
    current_replicas: i32,
    pods: &dyn PodSource,
    memory: &mut Memory,
    now: i64,
) -> Sync {
    let mut conditions = Vec::new();
    let mut events = Vec::new();
    let mut current_metrics = Vec::new();
    set_condition(
        &mut conditions,
        "AbleToScale",
        true,
        "SucceededGetScale",
        "the HPA controller was able to get the target's current scale".into(),
    );
    if memory.recommendations.is_empty() {
        memory.recommendations.push(Recommendation {
            replicas: current_replicas,
            time: now,
        });
    }
    let min_replicas = spec.min_replicas;
    let mut desired = 0;
    let mut rescale = true;
    let mut reason = String::new();
    if current_replicas == 0 && min_replicas != 0 {
        rescale = false;
        set_condition(
            &mut conditions,
            "ScalingActive",
            false,
            "ScalingDisabled",
            "scaling is disabled since the replica count of the target is zero".into(),
        );
    } else if current_replicas > spec.max_replicas {
        reason = "Current number of replicas above Spec.MaxReplicas".into();
        desired = spec.max_replicas;
    } else if current_replicas < min_replicas {
        reason = "Current number of replicas below Spec.MinReplicas".into();
        desired = min_replicas;
    } else {
        match compute_replicas_for_metrics(
            spec,
            current_replicas,
            pods,
            now,
            &mut conditions,
            &mut events,
            &mut current_metrics,
        ) {
            Err(error) => {
                events.push(HpaEvent {
                    warning: true,
                    reason: "FailedComputeMetricsReplicas",
                    message: error,
                });
                return Sync {
                    desired_replicas: current_replicas,
                    rescale: false,
                    conditions,
                    events,
                    current_metrics,
                };
            }
            Ok((metric_desired, metric_name)) => {
                let mut rescale_metric = String::new();
                if metric_desired > desired {
                    desired = metric_desired;
                    rescale_metric = metric_name;
                }
                if desired > current_replicas {
                    reason = format!("{rescale_metric} above target");
                }
                if desired < current_replicas {
                    reason = "All metrics below target".into();
                }
                desired = match &spec.behavior {
                    None => normalize_desired_replicas(
                        spec,
                        current_replicas,
                        desired,
                        memory,
                        now,
                        &mut conditions,
                    ),
                    Some(behavior) => normalize_desired_replicas_with_behaviors(
                        spec,
                        behavior,
                        current_replicas,
                        desired,
                        memory,
                        now,
                        &mut conditions,
                    ),
                };
                rescale = desired != current_replicas;
            }
        }
    }
    if rescale {
        set_condition(
            &mut conditions,
            "AbleToScale",
            true,
            "SucceededRescale",
            format!("the HPA controller was able to update the target scale to {desired}"),
        );
        events.push(HpaEvent {
            warning: false,
            reason: "SuccessfulRescale",
            message: format!("New size: {desired}; reason: {reason}"),
        });
        store_scale_event(
            spec.behavior.as_ref(),
            memory,
            current_replicas,
            desired,
            now,
        );
    } else {
        desired = current_replicas;
    }
    Sync {
        desired_replicas: desired,
        rescale,
        conditions,
        events,
        current_metrics,
    }
}

/// `normalizeDesiredReplicas`.
fn normalize_desired_replicas(
    spec: &AutoscalerSpec,
    current_replicas: i32,
    prenormalized: i32,
    memory: &mut Memory,
    now: i64,
    conditions: &mut Vec<Condition>,
) -> i32 {
    let stabilized = stabilize_recommendation(prenormalized, memory, now);
    let why = if stabilized != prenormalized {
        SCALE_DOWN_STABILIZED
    } else {
        READY_FOR_NEW_SCALE
    };
    set_condition(
        conditions,
        "AbleToScale",
        true,
        why.reason,
        why.message.into(),
    );
    let (desired, why) = convert_desired_replicas_with_rules(
        current_replicas,
        stabilized,
        spec.min_replicas,
        spec.max_replicas,
    );
    set_condition(
        conditions,
        "ScalingLimited",
        desired != stabilized,
        why.reason,
        why.message.into(),
    );
    desired
}

/// `normalizeDesiredReplicasWithBehaviors`.
fn normalize_desired_replicas_with_behaviors(
    spec: &AutoscalerSpec,
    behavior: &Behavior,
    current_replicas: i32,
    prenormalized: i32,
    memory: &mut Memory,
    now: i64,
    conditions: &mut Vec<Condition>,
) -> i32 {
    let mut args = NormalizationArg {
        scale_up: &behavior.scale_up,
        scale_down: &behavior.scale_down,
        min_replicas: spec.min_replicas,
        max_replicas: spec.max_replicas,
        current_replicas,
        desired_replicas: prenormalized,
    };
    let (stabilized, why) = stabilize_recommendation_with_behaviors(&args, memory, now);
    args.desired_replicas = stabilized;
    let why = if stabilized != prenormalized {
        why
    } else {
        READY_FOR_NEW_SCALE
    };
    set_condition(
        conditions,
        "AbleToScale",
        true,
        why.reason,
        why.message.into(),
    );
    let (desired, why) = convert_desired_replicas_with_behavior_rate(&args, memory, now);
    set_condition(
        conditions,
        "ScalingLimited",
        desired != stabilized,
        why.reason,
        why.message.into(),
    );
    desired
}

#[cfg(test)]
mod tests;
