//! A pod template → the scheduling view (`PodSpec`): orch's annotations,
//! claims, scheduling gates and readiness delay here; effective requests in
//! `requests`, the API server's checks of the scheduling fields in
//! `validate` (both read this module's imports).

use super::Ctx;
use super::wire;
use crate::model::labels::{
    LabelSelector, NodeSelector, NodeSelectorOperator, NodeSelectorRequirement, NodeSelectorTerm,
    SelectorOperator,
};
use crate::model::pod::{
    Affinity, NodeAffinity, PodAffinityTerm, PodSpec, PreferredSchedulingTerm, Simulate,
    TolerationEffect, TolerationOperator, WhenUnsatisfiable,
};
use crate::model::resources::{
    CPU, DEFAULT_MEMORY_REQUEST, DEFAULT_MILLI_CPU_REQUEST, MEMORY, Resources, parse_amount,
};
use std::collections::BTreeMap;

mod requests;
mod validate;

use requests::requests;
pub(super) use validate::validate_selector;
use validate::{validate_affinity, validate_spread, validate_tolerations};

pub const READY_AFTER: &str = "orch.dev/ready-after";
pub const DATA_LOCALITY: &str = "orch.dev/data-locality";
pub const SIMULATE: &str = "orch.dev/simulate";
/// Preferred-affinity weight of `orch.dev/data-locality`.
pub const DATA_LOCALITY_WEIGHT: i32 = 50;

/// `path` is where the template sits in the object (`spec.template`, or empty
/// for a stored template); `object_annotations` are the object's own.
pub(super) fn pod_spec(
    ctx: &mut Ctx,
    path: &str,
    namespace: &str,
    template: &wire::PodTemplateSpec,
    object_annotations: &BTreeMap<String, String>,
) -> PodSpec {
    let at = |field: &str| join(path, field);
    let empty = wire::PodSpec::default();
    let spec = match &template.spec {
        Some(spec) => spec,
        None => {
            ctx.error(&at("spec.containers"), "Required value");
            &empty
        }
    };
    if template.spec.is_some() && spec.containers.is_empty() {
        ctx.error(&at("spec.containers"), "Required value");
    }
    validate_container_names(ctx, &at("spec"), spec);
    // An orch annotation of the template, else of the object, with its field path.
    let annotation = |key: &str| {
        template
            .metadata
            .annotations
            .get(key)
            .map(|v| (v, at(&format!("metadata.annotations.{key}"))))
            .or_else(|| {
                object_annotations
                    .get(key)
                    .map(|v| (v, format!("metadata.annotations.{key}")))
            })
    };
    let (requests, non_zero_requests) = requests(ctx, &at("spec"), spec);
    let mut affinity = spec.affinity.clone().unwrap_or_default();
    if let Some((text, field)) = annotation(DATA_LOCALITY) {
        data_locality(ctx, &field, text, &mut affinity);
    }
    let simulate = annotation(SIMULATE).and_then(|(text, field)| simulate(ctx, &field, text));
    let ready_after = match annotation(READY_AFTER) {
        Some((text, field)) => parse_duration(text).unwrap_or_else(|| {
            ctx.error(
                &field,
                format!("Invalid value: \"{text}\": must be a duration such as 20s, 1m30s or 2m"),
            );
            1
        }),
        None => probe_ready_after(spec),
    };
    let run_for = match annotation(crate::model::job::RUN_FOR) {
        Some((text, field)) => parse_duration(text).unwrap_or_else(|| {
            ctx.error(
                &field,
                format!("Invalid value: \"{text}\": must be a duration such as 45s, 10m or 1h"),
            );
            1
        }),
        None => 1,
    };
    validate_tolerations(ctx, &at("spec.tolerations"), spec);
    validate_spread(ctx, &at("spec.topologySpreadConstraints"), spec);
    validate_affinity(ctx, &at("spec.affinity"), &affinity);
    PodSpec {
        namespace: namespace.to_string(),
        labels: template.metadata.labels.clone(),
        node_name: spec.node_name.clone().filter(|n| !n.is_empty()),
        node_selector: spec.node_selector.clone(),
        affinity,
        tolerations: spec.tolerations.clone(),
        topology_spread_constraints: spec.topology_spread_constraints.clone(),
        requests,
        non_zero_requests,
        ready_after,
        owner_selector: None,
        simulate,
        priority_class_name: spec.priority_class_name.clone().unwrap_or_default(),
        priority: 0,
        preemption_policy: Default::default(),
        claims: claims(ctx, &at("spec.volumes"), spec),
        volumes: Vec::new(),
        run_for,
        scheduling_gates: scheduling_gates(ctx, &at("spec.schedulingGates"), spec),
    }
}

/// `spec.schedulingGates`: each a qualified name, none twice
/// (`validateSchedulingGates`).
fn scheduling_gates(ctx: &mut Ctx, path: &str, spec: &wire::PodSpec) -> Vec<String> {
    let mut gates: Vec<String> = Vec::new();
    for (i, gate) in spec.scheduling_gates.iter().flatten().enumerate() {
        let at = format!("{path}[{i}].name");
        let name = gate.name.clone().unwrap_or_default();
        if name.is_empty() {
            ctx.error(&at, "Required value");
            continue;
        }
        for problem in super::api_validation::qualified_name(&name) {
            ctx.error(&at, format!("Invalid value: \"{name}\": {problem}"));
        }
        if gates.contains(&name) {
            ctx.error(&at, format!("Duplicate value: \"{name}\""));
        }
        gates.push(name);
    }
    gates
}

/// The claims the pod's volumes name, each volume with a name.
fn claims(ctx: &mut Ctx, path: &str, spec: &wire::PodSpec) -> Vec<String> {
    let mut claims = Vec::new();
    for (i, volume) in spec.volumes.iter().flatten().enumerate() {
        if volume.name.as_deref().is_none_or(str::is_empty) {
            ctx.error(&format!("{path}[{i}].name"), "Required value");
        }
        if let Some(source) = &volume.persistent_volume_claim {
            match source.claim_name.as_deref() {
                Some(name) if !name.is_empty() => claims.push(name.to_string()),
                _ => ctx.error(
                    &format!("{path}[{i}].persistentVolumeClaim.claimName"),
                    "Required value",
                ),
            }
        }
    }
    claims
}

/// Every container and init container has a name.
fn validate_container_names(ctx: &mut Ctx, spec_path: &str, spec: &wire::PodSpec) {
    for (field, containers) in [
        ("containers", &spec.containers),
        ("initContainers", &spec.init_containers),
    ] {
        for (i, container) in containers.iter().enumerate() {
            if container.name.as_deref().is_none_or(str::is_empty) {
                ctx.error(
                    &join(spec_path, &format!("{field}[{i}].name")),
                    "Required value",
                );
            }
        }
    }
}

/// `orch.dev/data-locality: <label-key>=<value>`: a preferred node affinity
/// term of weight 50.
fn data_locality(ctx: &mut Ctx, field: &str, text: &str, affinity: &mut Affinity) {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            let node_affinity = affinity
                .node_affinity
                .get_or_insert_with(NodeAffinity::default);
            node_affinity
                .preferred_during_scheduling_ignored_during_execution
                .push(PreferredSchedulingTerm {
                    weight: DATA_LOCALITY_WEIGHT,
                    preference: NodeSelectorTerm {
                        match_expressions: vec![NodeSelectorRequirement {
                            key: key.trim().to_string(),
                            operator: NodeSelectorOperator::In,
                            values: vec![value.trim().to_string()],
                        }],
                        match_fields: Vec::new(),
                    },
                });
        }
        _ => ctx.error(
            field,
            format!("Invalid value: \"{text}\": must be <label-key>=<value>"),
        ),
    }
}

/// `orch.dev/simulate: never-ready | crash-after=<duration> | fail-after=<duration>`.
fn simulate(ctx: &mut Ctx, field: &str, text: &str) -> Option<Simulate> {
    let parsed = match text {
        "never-ready" => Some(Simulate::NeverReady),
        other => match other.split_once('=') {
            Some(("crash-after", after)) => parse_duration(after).map(Simulate::CrashAfter),
            Some(("fail-after", after)) => parse_duration(after).map(Simulate::FailAfter),
            _ => None,
        },
    };
    if parsed.is_none() {
        ctx.error(
            field,
            format!(
                "Invalid value: \"{text}\": must be never-ready, crash-after=<duration> or fail-after=<duration>"
            ),
        );
    }
    parsed
}

/// Seconds to ready from the first readiness probe:
/// `initialDelaySeconds + periodSeconds × successThreshold` (else 1).
fn probe_ready_after(spec: &wire::PodSpec) -> u64 {
    spec.containers
        .iter()
        .find_map(|c| c.readiness_probe.as_ref())
        .map_or(1, |probe| {
            let delay = i64::from(probe.initial_delay_seconds.unwrap_or(0).max(0));
            let period = i64::from(probe.period_seconds.unwrap_or(10).max(1));
            let successes = i64::from(probe.success_threshold.unwrap_or(1).max(1));
            (delay + period * successes) as u64
        })
}

pub(super) fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

/// A Go-style duration (`20s`, `1m30s`, `1h`, `500ms`) in whole seconds, rounded up.
pub fn parse_duration(text: &str) -> Option<u64> {
    let text = text.trim();
    if text == "0" {
        return Some(0);
    }
    let mut millis: u64 = 0;
    let mut rest = text;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let value: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            _ => return None,
        };
        millis = millis.checked_add(value.checked_mul(factor)?)?;
        rest = &rest[unit_len..];
    }
    Some(millis.div_ceil(1000))
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations_are_go_style_and_round_up() {
        assert_eq!(parse_duration("20s"), Some(20));
        assert_eq!(parse_duration("1m30s"), Some(90));
        assert_eq!(parse_duration("2h"), Some(7200));
        assert_eq!(parse_duration("1500ms"), Some(2));
        assert_eq!(parse_duration("0"), Some(0));
        for bad in ["", "20", "s", "1x", "-5s", "1.5s"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
