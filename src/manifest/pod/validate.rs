//! The API server's checks of a pod's scheduling fields: tolerations,
//! topology spread, selectors and affinity, each error at its field.

use super::*;

pub(super) fn validate_tolerations(ctx: &mut Ctx, path: &str, spec: &wire::PodSpec) {
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

pub(super) fn validate_spread(ctx: &mut Ctx, path: &str, spec: &wire::PodSpec) {
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

pub(crate) fn validate_selector(ctx: &mut Ctx, path: &str, selector: &LabelSelector) {
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

pub(super) fn validate_affinity(ctx: &mut Ctx, path: &str, affinity: &crate::model::pod::Affinity) {
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
