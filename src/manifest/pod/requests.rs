//! A pod's effective requests as the scheduler counts them: containers,
//! init containers and sidecars, pod-level resources, overhead.

use super::*;

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
pub(super) fn requests(ctx: &mut Ctx, path: &str, spec: &wire::PodSpec) -> (Resources, Resources) {
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
