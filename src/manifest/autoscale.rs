//! HorizontalPodAutoscalers (autoscaling/v2, and v1's cpu-only form),
//! NodeGroups (orch.dev/v1) and `orch.dev/demand`: read, defaulted and
//! validated as the API server does (`pkg/apis/autoscaling/validation`), then
//! checked against the whole set (the scale target exists and can be scaled).

use super::fields::{dns_label, dns_subdomain};
use super::objects::node_shape;
use super::tree::Node;
use super::wire;
use super::{Ctx, Diagnostic, parse_duration};
use crate::autoscale::demand::{self, DEMAND};
use crate::autoscale::nodegroup::{DEFAULT_PROVISION_DELAY, NodeGroup};
use crate::autoscale::spec::Autoscaler;
use crate::model::workload::{Desired, Kind, NodeSpec, ObjectRef};
use hpa::{HorizontalPodAutoscaler, SpecV1, SpecV2};
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
        _notices: &mut Vec<Diagnostic>,
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

mod hpa;

#[cfg(test)]
mod tests;
