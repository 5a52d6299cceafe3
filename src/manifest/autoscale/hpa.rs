//! HorizontalPodAutoscalers as written (autoscaling/v2, and v1's cpu-only
//! form): read, defaulted and validated field by field as the API server does
//! (`pkg/apis/autoscaling/validation`).

use super::super::Ctx;
use super::super::objects::MAX_REPLICAS;
use super::super::tree::Node;
use super::super::wire::{self, QuantityText};
use super::{Collected, MAX_PERIOD_SECONDS, MAX_STABILIZATION_WINDOW_SECONDS};
use crate::autoscale::demand::MetricResource;
use crate::autoscale::spec::{
    Autoscaler, AutoscalerSpec, Behavior, MetricTarget, PolicyType, ResourceMetric, ScaleTargetRef,
    ScalingPolicy, ScalingRules, SelectPolicy,
};
use crate::model::quantity::Quantity;
use serde::Deserialize;
use serde::de::IgnoredAny;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)] // fields accepted as Kubernetes writes them, not acted on
pub(super) struct HorizontalPodAutoscaler<S> {
    api_version: Option<IgnoredAny>,
    kind: Option<IgnoredAny>,
    #[serde(default)]
    metadata: wire::ObjectMeta,
    spec: Option<S>,
    status: Option<IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct SpecV2 {
    scale_target_ref: Option<TargetRef>,
    min_replicas: Option<i32>,
    max_replicas: Option<i32>,
    metrics: Option<Vec<MetricSpec>>,
    behavior: Option<BehaviorSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct SpecV1 {
    scale_target_ref: Option<TargetRef>,
    min_replicas: Option<i32>,
    max_replicas: Option<i32>,
    #[serde(rename = "targetCPUUtilizationPercentage")]
    target_cpu_utilization_percentage: Option<i32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TargetRef {
    api_version: Option<String>,
    kind: Option<String>,
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)] // fields accepted as Kubernetes writes them, not acted on
struct MetricSpec {
    #[serde(rename = "type")]
    kind: Option<String>,
    resource: Option<ResourceSource>,
    pods: Option<IgnoredAny>,
    object: Option<IgnoredAny>,
    external: Option<IgnoredAny>,
    container_resource: Option<IgnoredAny>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ResourceSource {
    name: Option<String>,
    target: Option<Target>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Target {
    #[serde(rename = "type")]
    kind: Option<String>,
    average_utilization: Option<i32>,
    average_value: Option<QuantityText>,
    value: Option<QuantityText>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BehaviorSpec {
    scale_up: Option<RulesSpec>,
    scale_down: Option<RulesSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)] // fields accepted as Kubernetes writes them, not acted on
struct RulesSpec {
    stabilization_window_seconds: Option<i32>,
    select_policy: Option<String>,
    policies: Option<Vec<PolicySpec>>,
    /// Alpha (`HPAConfigurableTolerance`, off in Kubernetes 1.34): accepted, not acted on.
    tolerance: Option<IgnoredAny>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PolicySpec {
    #[serde(rename = "type")]
    kind: Option<String>,
    value: Option<i32>,
    period_seconds: Option<i32>,
}

impl<'b> Collected<'b> {
    pub(super) fn autoscaler_v2(
        &mut self,
        ctx: &mut Ctx,
        file: &'b str,
        root: &'b Node,
        object: HorizontalPodAutoscaler<SpecV2>,
    ) {
        let identity = self.identity(ctx, "HorizontalPodAutoscaler", &object.metadata, true);
        let spec = object.spec.unwrap_or_default();
        let common = common_spec(
            ctx,
            spec.scale_target_ref.as_ref(),
            spec.min_replicas,
            spec.max_replicas,
        );
        let metrics = match &spec.metrics {
            Some(metrics) if !metrics.is_empty() => metrics
                .iter()
                .enumerate()
                .filter_map(|(i, m)| metric(ctx, &format!("spec.metrics[{i}]"), m))
                .collect(),
            _ => vec![default_metric()],
        };
        let behavior = spec.behavior.as_ref().map(|b| Behavior {
            scale_up: rules(ctx, "spec.behavior.scaleUp", b.scale_up.as_ref(), true),
            scale_down: rules(ctx, "spec.behavior.scaleDown", b.scale_down.as_ref(), false),
        });
        if let (Some((namespace, name)), Some((target, min, max))) = (identity, common) {
            self.autoscalers.push((
                Autoscaler {
                    namespace,
                    name,
                    spec: AutoscalerSpec {
                        scale_target_ref: target,
                        min_replicas: min,
                        max_replicas: max,
                        metrics,
                        behavior,
                    },
                },
                file,
                root,
            ));
        }
    }

    pub(super) fn autoscaler_v1(
        &mut self,
        ctx: &mut Ctx,
        file: &'b str,
        root: &'b Node,
        object: HorizontalPodAutoscaler<SpecV1>,
    ) {
        let identity = self.identity(ctx, "HorizontalPodAutoscaler", &object.metadata, true);
        let spec = object.spec.unwrap_or_default();
        let common = common_spec(
            ctx,
            spec.scale_target_ref.as_ref(),
            spec.min_replicas,
            spec.max_replicas,
        );
        let metric = match spec.target_cpu_utilization_percentage {
            Some(target) if target < 1 => {
                ctx.error(
                    "spec.targetCPUUtilizationPercentage",
                    format!("Invalid value: {target}: must be greater than 0"),
                );
                default_metric()
            }
            Some(target) => ResourceMetric {
                resource: MetricResource::Cpu,
                target: MetricTarget::Utilization(target),
            },
            None => default_metric(),
        };
        if let (Some((namespace, name)), Some((target, min, max))) = (identity, common) {
            self.autoscalers.push((
                Autoscaler {
                    namespace,
                    name,
                    spec: AutoscalerSpec {
                        scale_target_ref: target,
                        min_replicas: min,
                        max_replicas: max,
                        metrics: vec![metric],
                        behavior: None,
                    },
                },
                file,
                root,
            ));
        }
    }
}

/// The cpu 80% metric the API server fills in when none is listed.
fn default_metric() -> ResourceMetric {
    ResourceMetric {
        resource: MetricResource::Cpu,
        target: MetricTarget::Utilization(80),
    }
}

/// scaleTargetRef, minReplicas (default 1) and maxReplicas.
fn common_spec(
    ctx: &mut Ctx,
    target: Option<&TargetRef>,
    min: Option<i32>,
    max: Option<i32>,
) -> Option<(ScaleTargetRef, i32, i32)> {
    let mut valid = true;
    let min_replicas = min.unwrap_or(1);
    if min_replicas < 1 {
        ctx.error(
            "spec.minReplicas",
            format!("Invalid value: {min_replicas}: must be greater than or equal to 1"),
        );
        valid = false;
    }
    let max_replicas = match max {
        Some(max) => max,
        None => {
            ctx.error("spec.maxReplicas", "Required value");
            return None;
        }
    };
    if max_replicas < 1 {
        ctx.error(
            "spec.maxReplicas",
            format!("Invalid value: {max_replicas}: must be greater than 0"),
        );
        valid = false;
    } else if max_replicas < min_replicas {
        ctx.error(
            "spec.maxReplicas",
            format!(
                "Invalid value: {max_replicas}: must be greater than or equal to `minReplicas`"
            ),
        );
        valid = false;
    } else if max_replicas > MAX_REPLICAS {
        ctx.error(
            "spec.maxReplicas",
            format!(
                "Invalid value: {max_replicas}: must be at most {} (orch simulates every replica)",
                MAX_REPLICAS
            ),
        );
        valid = false;
    }
    let Some(target) = target else {
        ctx.error("spec.scaleTargetRef", "Required value");
        return None;
    };
    let mut segment = |field: &str, value: &Option<String>| -> Option<String> {
        let path = format!("spec.scaleTargetRef.{field}");
        match value.as_deref() {
            None | Some("") => {
                ctx.error(&path, "Required value");
                None
            }
            Some(text) => match path_segment_problem(text) {
                Some(problem) => {
                    ctx.error(&path, format!("Invalid value: \"{text}\": {problem}"));
                    None
                }
                None => Some(text.to_string()),
            },
        }
    };
    let kind = segment("kind", &target.kind);
    let name = segment("name", &target.name);
    let reference = ScaleTargetRef {
        api_version: target.api_version.clone().unwrap_or_default(),
        kind: kind?,
        name: name?,
    };
    valid.then_some((reference, min_replicas, max_replicas))
}

/// `IsValidPathSegmentName`.
fn path_segment_problem(text: &str) -> Option<String> {
    if text == "." || text == ".." {
        return Some(format!("may not be '{text}'"));
    }
    for bad in ["/", "%"] {
        if text.contains(bad) {
            return Some(format!("may not contain '{bad}'"));
        }
    }
    None
}

/// One `metrics[i]` entry: a `Resource` metric on cpu or memory.
fn metric(ctx: &mut Ctx, at: &str, spec: &MetricSpec) -> Option<ResourceMetric> {
    if !resource_type(ctx, at, spec.kind.as_deref()) {
        return None;
    }
    let Some(source) = &spec.resource else {
        ctx.error(
            &format!("{at}.resource"),
            "Required value: must populate information for the given metric source",
        );
        return None;
    };
    let at = format!("{at}.resource");
    let resource = resource_name(ctx, &at, source.name.as_deref());
    let empty = Target::default();
    let (target, valid) = metric_target(ctx, &at, source.target.as_ref().unwrap_or(&empty));
    let target = target?;
    (valid && resource.is_some()).then(|| ResourceMetric {
        resource: resource.unwrap_or(MetricResource::Cpu),
        target,
    })
}

/// Whether a metric's `type` is `Resource`, the one orch simulates.
fn resource_type(ctx: &mut Ctx, at: &str, kind: Option<&str>) -> bool {
    const TYPES: &str = "\"ContainerResource\", \"External\", \"Object\", \"Pods\", \"Resource\"";
    let Some(kind) = kind else {
        ctx.error(
            &format!("{at}.type"),
            "Required value: must specify a metric source type",
        );
        return false;
    };
    match kind {
        "Resource" => true,
        "ContainerResource" | "External" | "Object" | "Pods" => {
            ctx.error(
                &format!("{at}.type"),
                format!("Unsupported value: \"{kind}\": orch simulates Resource metrics (cpu, memory) from orch.dev/demand; {kind} metrics need a metrics adapter it does not have"),
            );
            false
        }
        _ => {
            ctx.error(
                &format!("{at}.type"),
                format!("Unsupported value: \"{kind}\": supported values: {TYPES}"),
            );
            false
        }
    }
}

/// A `Resource` metric's `name`: cpu or memory.
fn resource_name(ctx: &mut Ctx, at: &str, name: Option<&str>) -> Option<MetricResource> {
    match name {
        None | Some("") => {
            ctx.error(
                &format!("{at}.name"),
                "Required value: must specify a resource name",
            );
            None
        }
        Some(name) => {
            let resource = MetricResource::parse(name);
            if resource.is_none() {
                ctx.error(
                    &format!("{at}.name"),
                    format!("Unsupported value: \"{name}\": supported values: \"cpu\", \"memory\""),
                );
            }
            resource
        }
    }
}

/// A `Resource` metric's `target` (at `{at}.target`): what it aims at, if
/// anything, and whether it is valid.
fn metric_target(ctx: &mut Ctx, at: &str, target: &Target) -> (Option<MetricTarget>, bool) {
    let at = format!("{at}.target");
    let mut valid = true;
    match target.kind.as_deref() {
        None => {
            ctx.error(
                &format!("{at}.type"),
                "Required value: must specify a metric target type",
            );
            valid = false;
        }
        Some("Utilization" | "Value" | "AverageValue") => {}
        Some(other) => {
            ctx.error(
                &format!("{at}.type"),
                format!(
                    "Invalid value: \"{other}\": must be either Utilization, Value, or AverageValue"
                ),
            );
            valid = false;
        }
    }
    if let Some(value) = &target.value
        && !positive(&value.0)
    {
        ctx.error(
            &format!("{at}.value"),
            format!("Invalid value: \"{}\": must be positive", value.0),
        );
        valid = false;
    }
    let average_value = match &target.average_value {
        Some(value) => match Quantity::parse(&value.0)
            .ok()
            .and_then(|q| q.checked_milli_value())
        {
            Some(milli) if milli > 0 => Some(milli),
            _ => {
                ctx.error(
                    &format!("{at}.averageValue"),
                    format!("Invalid value: \"{}\": must be positive", value.0),
                );
                valid = false;
                None
            }
        },
        None => None,
    };
    if let Some(utilization) = target.average_utilization
        && utilization < 1
    {
        ctx.error(
            &format!("{at}.averageUtilization"),
            format!("Invalid value: {utilization}: must be greater than 0"),
        );
        valid = false;
    }
    match (target.average_utilization, &target.average_value) {
        (None, None) => {
            ctx.error(
                &format!("{at}.averageUtilization"),
                "Required value: must set either a target raw value or a target utilization",
            );
            valid = false;
        }
        (Some(_), Some(_)) => {
            ctx.error(
                &format!("{at}.averageValue"),
                "Forbidden: may not set both a target raw value and a target utilization",
            );
            valid = false;
        }
        _ => {}
    }
    let aim = match (average_value, target.average_utilization) {
        (Some(milli), _) => Some(MetricTarget::AverageValue(milli)),
        (None, Some(utilization)) => Some(MetricTarget::Utilization(utilization)),
        (None, None) => None,
    };
    (aim, valid)
}

fn positive(text: &str) -> bool {
    Quantity::parse(text).is_ok_and(|q| q.checked_milli_value().is_some_and(|m| m > 0))
}

/// `GenerateHPAScale{Up,Down}Rules` over the written rules, then `validateScalingRules`.
fn rules(ctx: &mut Ctx, at: &str, spec: Option<&RulesSpec>, up: bool) -> ScalingRules {
    let defaults = if up {
        ScalingRules::default_scale_up()
    } else {
        ScalingRules::default_scale_down()
    };
    let Some(spec) = spec else {
        return defaults;
    };
    let window = spec
        .stabilization_window_seconds
        .or(defaults.stabilization_window_seconds);
    if let Some(window) = spec.stabilization_window_seconds {
        if window < 0 {
            ctx.error(
                &format!("{at}.stabilizationWindowSeconds"),
                format!("Invalid value: {window}: must be greater than or equal to zero"),
            );
        } else if window > MAX_STABILIZATION_WINDOW_SECONDS {
            ctx.error(
                &format!("{at}.stabilizationWindowSeconds"),
                format!("Invalid value: {window}: must be less than or equal to {MAX_STABILIZATION_WINDOW_SECONDS}"),
            );
        }
    }
    let select_policy = match spec.select_policy.as_deref() {
        None | Some("Max") => SelectPolicy::Max,
        Some("Min") => SelectPolicy::Min,
        Some("Disabled") => SelectPolicy::Disabled,
        Some(other) => {
            ctx.error(
                &format!("{at}.selectPolicy"),
                format!("Unsupported value: \"{other}\": supported values: \"Disabled\", \"Max\", \"Min\""),
            );
            SelectPolicy::Max
        }
    };
    let policies = match &spec.policies {
        None => defaults.policies,
        Some(list) => {
            if list.is_empty() {
                ctx.error(
                    &format!("{at}.policies"),
                    "Required value: must specify at least one Policy",
                );
            }
            list.iter()
                .enumerate()
                .filter_map(|(i, p)| policy(ctx, &format!("{at}.policies[{i}]"), p))
                .collect()
        }
    };
    ScalingRules {
        stabilization_window_seconds: window,
        select_policy,
        policies,
    }
}

/// `validateScalingPolicy`.
fn policy(ctx: &mut Ctx, at: &str, spec: &PolicySpec) -> Option<ScalingPolicy> {
    let kind = match spec.kind.as_deref() {
        Some("Pods") => Some(PolicyType::Pods),
        Some("Percent") => Some(PolicyType::Percent),
        other => {
            ctx.error(
                &format!("{at}.type"),
                format!(
                    "Unsupported value: \"{}\": supported values: \"Percent\", \"Pods\"",
                    other.unwrap_or_default()
                ),
            );
            None
        }
    };
    let value = spec.value.unwrap_or(0);
    if value <= 0 {
        ctx.error(
            &format!("{at}.value"),
            format!("Invalid value: {value}: must be greater than zero"),
        );
    }
    let period = spec.period_seconds.unwrap_or(0);
    if period <= 0 {
        ctx.error(
            &format!("{at}.periodSeconds"),
            format!("Invalid value: {period}: must be greater than zero"),
        );
    } else if period > MAX_PERIOD_SECONDS {
        ctx.error(
            &format!("{at}.periodSeconds"),
            format!("Invalid value: {period}: must be less than or equal to {MAX_PERIOD_SECONDS}"),
        );
    }
    (value > 0 && period > 0 && period <= MAX_PERIOD_SECONDS).then_some(ScalingPolicy {
        kind: kind?,
        value,
        period_seconds: period,
    })
}
