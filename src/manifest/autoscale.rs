//! HorizontalPodAutoscalers (autoscaling/v2, and v1's cpu-only form),
//! NodeGroups (orch.dev/v1) and `orch.dev/demand`: read, defaulted and
//! validated as the API server does (`pkg/apis/autoscaling/validation`), then
//! checked against the whole set (the scale target exists and can be scaled).

use super::fields::{dns_label, dns_subdomain};
use super::objects::{MAX_REPLICAS, node_shape};
use super::tree::Node;
use super::wire::{self, QuantityText};
use super::{Ctx, Diagnostic, parse_duration};
use crate::autoscale::demand::{self, DEMAND, MetricResource};
use crate::autoscale::nodegroup::{DEFAULT_PROVISION_DELAY, NodeGroup};
use crate::autoscale::spec::{
    Autoscaler, AutoscalerSpec, Behavior, MetricTarget, PolicyType, ResourceMetric, ScaleTargetRef,
    ScalingPolicy, ScalingRules, SelectPolicy,
};
use crate::model::quantity::Quantity;
use crate::model::workload::{Desired, Kind, NodeSpec, ObjectRef};
use serde::Deserialize;
use serde::de::IgnoredAny;
use std::collections::HashMap;

/// The kinds this module reads.
pub const KINDS: [&str; 2] = ["HorizontalPodAutoscaler", "NodeGroup"];
/// `MaxPeriodSeconds` and `MaxStabilizationWindowSeconds` of the API server.
const MAX_PERIOD_SECONDS: i32 = 1800;
const MAX_STABILIZATION_WINDOW_SECONDS: i32 = 3600;
/// Kinds with a scale subresource an HPA may target.
const SCALABLE: [&str; 4] = [
    "Deployment",
    "StatefulSet",
    "ReplicaSet",
    "ReplicationController",
];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)] // fields accepted as Kubernetes writes them, not acted on
struct HorizontalPodAutoscaler<S> {
    api_version: Option<IgnoredAny>,
    kind: Option<IgnoredAny>,
    #[serde(default)]
    metadata: wire::ObjectMeta,
    spec: Option<S>,
    status: Option<IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SpecV2 {
    scale_target_ref: Option<TargetRef>,
    min_replicas: Option<i32>,
    max_replicas: Option<i32>,
    metrics: Option<Vec<MetricSpec>>,
    behavior: Option<BehaviorSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SpecV1 {
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

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)] // fields accepted as Kubernetes writes them, not acted on
struct NodeGroupObject {
    api_version: Option<IgnoredAny>,
    kind: Option<IgnoredAny>,
    #[serde(default)]
    metadata: wire::ObjectMeta,
    spec: Option<NodeGroupSpec>,
    status: Option<IgnoredAny>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NodeGroupSpec {
    min_size: Option<i64>,
    max_size: Option<i64>,
    provision_delay: Option<String>,
    template: Option<wire::Node>,
}

/// What the documents gave, kept until the whole set is known.
#[derive(Default)]
pub(super) struct Collected<'b> {
    autoscalers: Vec<(Autoscaler, &'b str, &'b Node)>,
    node_groups: Vec<NodeGroup>,
    seen: HashMap<String, String>,
}

impl<'b> Collected<'b> {
    pub fn document(
        &mut self,
        ctx: &mut Ctx,
        file: &'b str,
        root: &'b Node,
        kind: &str,
        version: &str,
    ) {
        match (kind, version) {
            ("HorizontalPodAutoscaler", "autoscaling/v2") => {
                if let Some(object) = ctx.read::<HorizontalPodAutoscaler<SpecV2>>(root, "") {
                    self.autoscaler_v2(ctx, file, root, object);
                }
            }
            ("HorizontalPodAutoscaler", "autoscaling/v1") => {
                if let Some(object) = ctx.read::<HorizontalPodAutoscaler<SpecV1>>(root, "") {
                    self.autoscaler_v1(ctx, file, root, object);
                }
            }
            ("NodeGroup", "orch.dev/v1") => {
                if let Some(object) = ctx.read::<NodeGroupObject>(root, "") {
                    self.node_group(ctx, object);
                }
            }
            _ => {
                let served = if kind == "NodeGroup" {
                    "orch.dev/v1"
                } else {
                    "autoscaling/v2 (or autoscaling/v1)"
                };
                ctx.error(
                    "apiVersion",
                    format!("Unsupported value: \"{version}\": {kind} is served as {served}"),
                );
            }
        }
    }

    /// Name, namespace and duplicates; the `(namespace, name)` if usable.
    fn identity(
        &mut self,
        ctx: &mut Ctx,
        kind: &str,
        metadata: &wire::ObjectMeta,
        namespaced: bool,
    ) -> Option<(String, String)> {
        let Some(name) = metadata.name.clone() else {
            ctx.error(
                "metadata.name",
                "Required value: name or generateName is required",
            );
            return None;
        };
        let check = if namespaced { dns_subdomain } else { dns_label };
        let mut valid = true;
        if let Some(problem) = check(&name) {
            ctx.error(
                "metadata.name",
                format!("Invalid value: \"{name}\": {problem}"),
            );
            valid = false;
        }
        let namespace = metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        if namespaced && let Some(problem) = dns_label(&namespace) {
            ctx.error(
                "metadata.namespace",
                format!("Invalid value: \"{namespace}\": {problem}"),
            );
            valid = false;
        }
        let id = if namespaced {
            format!("{kind}/{namespace}/{name}")
        } else {
            format!("{kind}/{name}")
        };
        let here = ctx.location("metadata.name");
        if let Some(first) = self.seen.get(&id) {
            ctx.error(
                "metadata.name",
                format!("Duplicate value: \"{name}\": {id} is also defined at {first}"),
            );
            return None;
        }
        self.seen.insert(id, here);
        valid.then_some((namespace, name))
    }

    fn autoscaler_v2(
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

    fn autoscaler_v1(
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

    fn node_group(&mut self, ctx: &mut Ctx, object: NodeGroupObject) {
        let identity = self.identity(ctx, "NodeGroup", &object.metadata, false);
        let Some(spec) = object.spec else {
            ctx.error("spec", "Required value");
            return;
        };
        let min = spec.min_size.unwrap_or(0);
        if min < 0 {
            ctx.error(
                "spec.minSize",
                format!("Invalid value: {min}: must be greater than or equal to 0"),
            );
        }
        let max = match spec.max_size {
            Some(max) => max,
            None => {
                ctx.error("spec.maxSize", "Required value");
                min.max(0)
            }
        };
        if max < 1 {
            ctx.error(
                "spec.maxSize",
                format!("Invalid value: {max}: must be greater than 0"),
            );
        } else if max < min {
            ctx.error(
                "spec.maxSize",
                format!("Invalid value: {max}: must be greater than or equal to `minSize`"),
            );
        } else if max > 10_000 {
            ctx.error(
                "spec.maxSize",
                format!("Invalid value: {max}: must be at most 10000"),
            );
        }
        let delay = match &spec.provision_delay {
            None => DEFAULT_PROVISION_DELAY,
            Some(text) => parse_duration(text).unwrap_or_else(|| {
                ctx.error(
                    "spec.provisionDelay",
                    format!("Invalid value: \"{text}\": must be a duration such as 60s or 2m"),
                );
                DEFAULT_PROVISION_DELAY
            }),
        };
        let Some(template) = &spec.template else {
            ctx.error(
                "spec.template",
                "Required value: the node every member is made from",
            );
            return;
        };
        if template.status.allocatable.is_none() && template.status.capacity.is_none() {
            ctx.error(
                "spec.template.status.allocatable",
                "Required value: a NodeGroup's template needs allocatable resources (cpu, memory, pods)",
            );
            return;
        }
        let (taints, allocatable) = node_shape(ctx, "spec.template.", template);
        if let Some((_, name)) = identity {
            self.node_groups.push(NodeGroup {
                name,
                min_size: min.clamp(0, 10_000) as u32,
                max_size: max.clamp(0, 10_000) as u32,
                provision_delay: delay,
                template: NodeSpec {
                    name: String::new(),
                    labels: template.metadata.labels.clone(),
                    taints,
                    unschedulable: template.spec.unschedulable,
                    allocatable,
                },
            });
        }
    }

    /// Demand annotations and scale targets, once every workload is known.
    pub fn finish(
        mut self,
        desired: &mut Desired,
        roots: &HashMap<ObjectRef, (&str, &Node)>,
        diagnostics: &mut Vec<Diagnostic>,
        notices: &mut Vec<Diagnostic>,
    ) {
        for workload in &desired.workloads {
            let Some(&(file, root)) = roots.get(&workload.id) else {
                continue;
            };
            let mut ctx = Ctx {
                file,
                root,
                diagnostics,
            };
            if let Some(demand) = read_demand(&mut ctx, root) {
                desired.demands.insert(workload.id.clone(), demand);
            }
        }
        let mut targets: HashMap<ObjectRef, String> = HashMap::new();
        for (autoscaler, file, root) in &self.autoscalers {
            let mut ctx = Ctx {
                file,
                root,
                diagnostics,
            };
            let target = &autoscaler.spec.scale_target_ref;
            if !SCALABLE.contains(&target.kind.as_str()) {
                ctx.error(
                    "spec.scaleTargetRef.kind",
                    format!(
                        "Invalid value: \"{}\": the HPA can scale a {} (a kind with a scale subresource)",
                        target.kind,
                        SCALABLE.join(", ")
                    ),
                );
                continue;
            }
            let id = Kind::parse(&target.kind)
                .map(|kind| ObjectRef::new(kind, &autoscaler.namespace, &target.name));
            match id {
                Some(id) if desired.workloads.iter().any(|w| w.id == id) => {
                    let at = ctx.source("kind");
                    notices.push(Diagnostic {
                        file: at.file,
                        line: at.line,
                        column: at.column,
                        field: String::new(),
                        message: format!(
                            "{} is validated but its loop does not run yet: {id} keeps spec.replicas",
                            autoscaler.id()
                        ),
                    });
                    let here = ctx.location("spec.scaleTargetRef.name");
                    if let Some(first) = targets.get(&id) {
                        ctx.error(
                            "spec.scaleTargetRef.name",
                            format!("Duplicate value: \"{}\": {id} is also scaled by the HPA at {first} (the controller would report AmbiguousSelector)", target.name),
                        );
                    } else {
                        targets.insert(id, here);
                    }
                }
                _ => ctx.error(
                    "spec.scaleTargetRef.name",
                    format!(
                        "Invalid value: \"{}\": {}/{}/{} is not declared in the manifests",
                        target.name, target.kind, autoscaler.namespace, target.name
                    ),
                ),
            }
        }
        self.autoscalers
            .sort_by(|a, b| (&a.0.namespace, &a.0.name).cmp(&(&b.0.namespace, &b.0.name)));
        desired.autoscalers = self.autoscalers.into_iter().map(|(a, _, _)| a).collect();
        self.node_groups.sort_by(|a, b| a.name.cmp(&b.name));
        desired.node_groups = self.node_groups;
    }
}

/// `orch.dev/demand` of the object, else of its pod template.
fn read_demand(ctx: &mut Ctx, root: &Node) -> Option<demand::Demand> {
    fn annotation(node: Option<&Node>) -> Option<&Node> {
        node?.get("metadata")?.get("annotations")?.get(DEMAND)
    }
    let template = root.get("spec").and_then(|s| s.get("template"));
    let (field, node) = match (annotation(Some(root)), annotation(template)) {
        (Some(node), _) => (format!("metadata.annotations.{DEMAND}"), node),
        (None, Some(node)) => (format!("spec.template.metadata.annotations.{DEMAND}"), node),
        (None, None) => return None,
    };
    match demand::parse(&node.scalar_text()) {
        Ok(demand) => Some(demand),
        Err(error) => {
            ctx.error(&field, error.to_string());
            None
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
    const TYPES: &str = "\"ContainerResource\", \"External\", \"Object\", \"Pods\", \"Resource\"";
    let Some(kind) = spec.kind.as_deref() else {
        ctx.error(
            &format!("{at}.type"),
            "Required value: must specify a metric source type",
        );
        return None;
    };
    match kind {
        "Resource" => {}
        "ContainerResource" | "External" | "Object" | "Pods" => {
            ctx.error(
                &format!("{at}.type"),
                format!("Unsupported value: \"{kind}\": orch simulates Resource metrics (cpu, memory) from orch.dev/demand; {kind} metrics need a metrics adapter it does not have"),
            );
            return None;
        }
        _ => {
            ctx.error(
                &format!("{at}.type"),
                format!("Unsupported value: \"{kind}\": supported values: {TYPES}"),
            );
            return None;
        }
    }
    let Some(source) = &spec.resource else {
        ctx.error(
            &format!("{at}.resource"),
            "Required value: must populate information for the given metric source",
        );
        return None;
    };
    let at = format!("{at}.resource");
    let resource = match source.name.as_deref() {
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
    };
    let empty = Target::default();
    let target = source.target.as_ref().unwrap_or(&empty);
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
    let target = match (average_value, target.average_utilization) {
        (Some(milli), _) => MetricTarget::AverageValue(milli),
        (None, Some(utilization)) => MetricTarget::Utilization(utilization),
        (None, None) => return None,
    };
    (valid && resource.is_some()).then(|| ResourceMetric {
        resource: resource.unwrap_or(MetricResource::Cpu),
        target,
    })
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

#[cfg(test)]
mod tests;
