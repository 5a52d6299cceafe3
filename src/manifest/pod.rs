//! A pod template → the scheduling view (`PodSpec`): effective requests as
//! the scheduler counts them, readiness delay, and the validation of every
//! scheduling field.

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
    }
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

/// One container's requests (a missing request defaults to its limit) and
/// its non-zero variant (missing cpu/memory count as 100m/200Mi).
fn container_requests(
    ctx: &mut Ctx,
    path: &str,
    container: &wire::Container,
) -> (Resources, Resources) {
    let requests = amounts(
        ctx,
        &format!("{path}.resources.requests"),
        &container.resources.requests,
    );
    let limits = amounts(
        ctx,
        &format!("{path}.resources.limits"),
        &container.resources.limits,
    );
    let mut effective = Resources::default();
    let mut declared: Vec<&str> = Vec::new();
    for (name, value) in &limits {
        effective.set(name, *value);
        declared.push(name);
    }
    for (name, value) in &requests {
        if let Some(limit) = limits.get(name)
            && value > limit
        {
            ctx.error(
                &format!("{path}.resources.requests"),
                format!(
                    "Invalid value: \"{}\": must be less than or equal to {name} limit of {}",
                    container.resources.requests[name].0, container.resources.limits[name].0
                ),
            );
        }
        effective.set(name, *value);
        declared.push(name);
    }
    let mut non_zero = effective.clone();
    if !declared.contains(&CPU) {
        non_zero.milli_cpu = DEFAULT_MILLI_CPU_REQUEST;
    }
    if !declared.contains(&MEMORY) {
        non_zero.memory = DEFAULT_MEMORY_REQUEST;
    }
    (effective, non_zero)
}

fn amounts(ctx: &mut Ctx, path: &str, list: &wire::ResourceList) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for (name, text) in list {
        let field = format!("{path}.{name}");
        match parse_amount(name, &text.0) {
            Ok(value) if value < 0 => ctx.error(
                &field,
                format!(
                    "Invalid value: \"{}\": must be greater than or equal to 0",
                    text.0
                ),
            ),
            Ok(value) => {
                out.insert(name.clone(), value);
            }
            Err(error) => ctx.error(&field, format!("Invalid value: \"{}\": {error}", text.0)),
        }
    }
    out
}

/// Effective pod requests as the scheduler computes them
/// (`resourcehelper.PodRequests`): the sum of containers and sidecars, or the
/// largest init container (plus the sidecars started before it) if greater,
/// replaced by the pod-level request where one is set, plus the pod overhead.
fn requests(ctx: &mut Ctx, path: &str, spec: &wire::PodSpec) -> (Resources, Resources) {
    let mut sum = (Resources::default(), Resources::default());
    for (i, container) in spec.containers.iter().enumerate() {
        let (r, n) = container_requests(ctx, &format!("{path}.containers[{i}]"), container);
        sum.0.add(&r);
        sum.1.add(&n);
    }
    let mut sidecars = (Resources::default(), Resources::default());
    let mut init_max = (Resources::default(), Resources::default());
    for (i, container) in spec.init_containers.iter().enumerate() {
        let (r, n) = container_requests(ctx, &format!("{path}.initContainers[{i}]"), container);
        if container.restart_policy.as_deref() == Some("Always") {
            sidecars.0.add(&r);
            sidecars.1.add(&n);
            init_max.0.max_with(&sidecars.0);
            init_max.1.max_with(&sidecars.1);
        } else {
            let mut with_sidecars = (r, n);
            with_sidecars.0.add(&sidecars.0);
            with_sidecars.1.add(&sidecars.1);
            init_max.0.max_with(&with_sidecars.0);
            init_max.1.max_with(&with_sidecars.1);
        }
    }
    sum.0.add(&sidecars.0);
    sum.1.add(&sidecars.1);
    sum.0.max_with(&init_max.0);
    sum.1.max_with(&init_max.1);
    if let Some(pod_level) = &spec.resources {
        pod_level_requests(ctx, &format!("{path}.resources"), pod_level, &mut sum);
    }
    if let Some(overhead) = &spec.overhead {
        let amounts = amounts(ctx, &format!("{path}.overhead"), overhead);
        let mut extra = Resources::default();
        for (name, value) in amounts {
            extra.set(&name, value);
        }
        sum.0.add(&extra);
        sum.1.add(&extra);
    }
    sum
}

/// Pod-level `resources` (`PodRequests`: a pod-level request replaces the
/// containers' aggregate for its resource; cpu and memory only, as
/// `IsSupportedPodLevelResource`). A pod-level limit without a request is the
/// request when no container requests that resource (`defaultPodRequests`);
/// a request below the containers' aggregate is refused as the API server
/// refuses it (`validatePodResourceConsistency`).
fn pod_level_requests(
    ctx: &mut Ctx,
    path: &str,
    resources: &wire::Resources,
    aggregate: &mut (Resources, Resources),
) {
    let requests = amounts(ctx, &format!("{path}.requests"), &resources.requests);
    let limits = amounts(ctx, &format!("{path}.limits"), &resources.limits);
    for (list, amounts) in [("requests", &requests), ("limits", &limits)] {
        for name in amounts
            .keys()
            .filter(|n| ![CPU, MEMORY].contains(&n.as_str()))
        {
            ctx.error(
                &format!("{path}.{list}.{name}"),
                format!("Unsupported value: \"{name}\": supported values: \"cpu\", \"memory\""),
            );
        }
    }
    for name in [CPU, MEMORY] {
        let containers = aggregate.0.get(name);
        let request = match (requests.get(name), limits.get(name)) {
            (Some(&request), limit) => {
                if request < containers {
                    ctx.error(
                        &format!("{path}.requests.{name}"),
                        format!(
                            "Invalid value: \"{}\": must be greater than or equal to aggregate container requests of {}",
                            resources.requests[name].0,
                            crate::model::resources::format_amount(name, containers)
                        ),
                    );
                }
                if let Some(&limit) = limit
                    && request > limit
                {
                    ctx.error(
                        &format!("{path}.requests.{name}"),
                        format!(
                            "Invalid value: \"{}\": must be less than or equal to {name} limit of {}",
                            resources.requests[name].0, resources.limits[name].0
                        ),
                    );
                }
                request
            }
            (None, Some(&limit)) if containers == 0 => limit,
            _ => continue,
        };
        aggregate.0.set(name, request);
        aggregate.1.set(name, request);
    }
}

fn validate_tolerations(ctx: &mut Ctx, path: &str, spec: &wire::PodSpec) {
    for (i, toleration) in spec.tolerations.iter().enumerate() {
        let at = format!("{path}[{i}]");
        if toleration.key.is_empty() && toleration.operator != TolerationOperator::Exists {
            ctx.error(
                &format!("{at}.operator"),
                "Invalid value: \"Equal\": operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            );
        }
        if toleration.operator == TolerationOperator::Exists && !toleration.value.is_empty() {
            ctx.error(
                &format!("{at}.operator"),
                "Invalid value: \"Exists\": value must be empty when `operator` is 'Exists'",
            );
        }
        if toleration.toleration_seconds.is_some()
            && toleration.effect != TolerationEffect::NoExecute
        {
            ctx.error(
                &format!("{at}.effect"),
                "Invalid value: effect must be 'NoExecute' when `tolerationSeconds` is set",
            );
        }
    }
}

fn validate_spread(ctx: &mut Ctx, path: &str, spec: &wire::PodSpec) {
    let mut seen = Vec::new();
    for (i, constraint) in spec.topology_spread_constraints.iter().enumerate() {
        let at = format!("{path}[{i}]");
        if constraint.max_skew <= 0 {
            ctx.error(
                &format!("{at}.maxSkew"),
                format!(
                    "Invalid value: {}: must be greater than zero",
                    constraint.max_skew
                ),
            );
        }
        if constraint.topology_key.is_empty() {
            ctx.error(
                &format!("{at}.topologyKey"),
                "Required value: can not be empty",
            );
        }
        if let Some(min) = constraint.min_domains {
            if min <= 0 {
                ctx.error(
                    &format!("{at}.minDomains"),
                    format!("Invalid value: {min}: must be greater than zero"),
                );
            } else if constraint.when_unsatisfiable != WhenUnsatisfiable::DoNotSchedule {
                ctx.error(
                    &format!("{at}.minDomains"),
                    format!("Invalid value: {min}: can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ScheduleAnyway"),
                );
            }
        }
        if let Some(selector) = &constraint.label_selector {
            validate_selector(ctx, &format!("{at}.labelSelector"), selector);
        }
        let pair = (
            constraint.topology_key.clone(),
            constraint.when_unsatisfiable,
        );
        if seen.contains(&pair) {
            ctx.error(
                &format!("{at}.{{topologyKey, whenUnsatisfiable}}"),
                format!("Duplicate value: \"{}, {:?}\"", pair.0, pair.1),
            );
        }
        seen.push(pair);
    }
}

pub(super) fn validate_selector(ctx: &mut Ctx, path: &str, selector: &LabelSelector) {
    for (i, requirement) in selector.match_expressions.iter().enumerate() {
        let at = format!("{path}.matchExpressions[{i}]");
        match requirement.operator {
            SelectorOperator::In | SelectorOperator::NotIn if requirement.values.is_empty() => ctx
                .error(
                    &format!("{at}.values"),
                    "Required value: must be specified when `operator` is 'In' or 'NotIn'",
                ),
            SelectorOperator::Exists | SelectorOperator::DoesNotExist
                if !requirement.values.is_empty() =>
            {
                ctx.error(
                    &format!("{at}.values"),
                    "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                )
            }
            _ => {}
        }
    }
}

fn validate_node_selector_term(ctx: &mut Ctx, path: &str, term: &NodeSelectorTerm) {
    for (field, requirements) in [
        ("matchExpressions", &term.match_expressions),
        ("matchFields", &term.match_fields),
    ] {
        for (i, requirement) in requirements.iter().enumerate() {
            let at = format!("{path}.{field}[{i}]");
            let values = requirement.values.len();
            match requirement.operator {
                NodeSelectorOperator::In | NodeSelectorOperator::NotIn if values == 0 => ctx.error(
                    &format!("{at}.values"),
                    "Required value: must be specified when `operator` is 'In' or 'NotIn'",
                ),
                NodeSelectorOperator::Exists | NodeSelectorOperator::DoesNotExist if values > 0 => ctx.error(
                    &format!("{at}.values"),
                    "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                ),
                NodeSelectorOperator::Gt | NodeSelectorOperator::Lt
                    if values != 1 || requirement.values[0].parse::<i64>().is_err() =>
                {
                    ctx.error(
                        &format!("{at}.values"),
                        "Required value: must be specified single value when `operator` is 'Lt' or 'Gt'",
                    )
                }
                _ => {}
            }
            if field == "matchFields" && requirement.key != "metadata.name" {
                ctx.error(
                    &format!("{at}.key"),
                    format!(
                        "Invalid value: \"{}\": not a valid field selector key",
                        requirement.key
                    ),
                );
            }
        }
    }
}

fn validate_weight(ctx: &mut Ctx, path: &str, weight: i32) {
    if !(1..=100).contains(&weight) {
        ctx.error(
            path,
            format!("Invalid value: {weight}: must be in the range 1-100"),
        );
    }
}

fn validate_affinity(ctx: &mut Ctx, path: &str, affinity: &crate::model::pod::Affinity) {
    if let Some(node) = &affinity.node_affinity {
        let at = format!("{path}.nodeAffinity");
        if let Some(required) = &node.required_during_scheduling_ignored_during_execution {
            validate_required(
                ctx,
                &format!("{at}.requiredDuringSchedulingIgnoredDuringExecution"),
                required,
            );
        }
        for (i, term) in node
            .preferred_during_scheduling_ignored_during_execution
            .iter()
            .enumerate()
        {
            let term_at = format!("{at}.preferredDuringSchedulingIgnoredDuringExecution[{i}]");
            validate_weight(ctx, &format!("{term_at}.weight"), term.weight);
            validate_node_selector_term(ctx, &format!("{term_at}.preference"), &term.preference);
        }
    }
    for (name, pod_affinity) in [
        ("podAffinity", &affinity.pod_affinity),
        ("podAntiAffinity", &affinity.pod_anti_affinity),
    ] {
        let Some(pod_affinity) = pod_affinity else {
            continue;
        };
        let at = format!("{path}.{name}");
        for (i, term) in pod_affinity
            .required_during_scheduling_ignored_during_execution
            .iter()
            .enumerate()
        {
            validate_pod_term(
                ctx,
                &format!("{at}.requiredDuringSchedulingIgnoredDuringExecution[{i}]"),
                term,
            );
        }
        for (i, weighted) in pod_affinity
            .preferred_during_scheduling_ignored_during_execution
            .iter()
            .enumerate()
        {
            let term_at = format!("{at}.preferredDuringSchedulingIgnoredDuringExecution[{i}]");
            validate_weight(ctx, &format!("{term_at}.weight"), weighted.weight);
            validate_pod_term(
                ctx,
                &format!("{term_at}.podAffinityTerm"),
                &weighted.pod_affinity_term,
            );
        }
    }
}

fn validate_required(ctx: &mut Ctx, path: &str, required: &NodeSelector) {
    if required.node_selector_terms.is_empty() {
        ctx.error(
            &format!("{path}.nodeSelectorTerms"),
            "Required value: must have at least one node selector term",
        );
    }
    for (i, term) in required.node_selector_terms.iter().enumerate() {
        validate_node_selector_term(ctx, &format!("{path}.nodeSelectorTerms[{i}]"), term);
    }
}

fn validate_pod_term(ctx: &mut Ctx, path: &str, term: &PodAffinityTerm) {
    if term.topology_key.is_empty() {
        ctx.error(
            &format!("{path}.topologyKey"),
            "Required value: can not be empty",
        );
    }
    if let Some(selector) = &term.label_selector {
        validate_selector(ctx, &format!("{path}.labelSelector"), selector);
    }
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
