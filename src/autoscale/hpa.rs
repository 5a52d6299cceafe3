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
use super::spec::{AutoscalerSpec, Behavior, MetricTarget, ResourceMetric};

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

mod calculator;
mod normalize;

pub use calculator::*;
pub use normalize::*;

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
/// updated as the controller's maps are. Long by design: a transcription
/// of upstream's function (horizontal.go), branch for branch, to be read
/// and diffed beside it; its helpers (`computeReplicasForMetrics`, the
/// normalizations) are already functions of their own here as there.
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
