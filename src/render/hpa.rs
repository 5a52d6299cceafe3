//! HorizontalPodAutoscalers in the outputs: `get hpa`'s TARGETS cell,
//! `describe hpa` in kubectl's layout, and the per-step table of a run
//! (each HPA's desired and current replicas after the steps that moved it).

use super::describe::Describer;
use super::tables::table;
use crate::autoscale::status::{AutoscalerState, quantity};
use crate::describe::AutoscalerDescription;
use crate::executor::RunResult;
use std::collections::HashSet;

/// The target of a stored HPA as runs name objects: `Deployment/default/api`.
pub fn target_object(record: &AutoscalerState) -> String {
    let (kind, name) = record
        .target
        .split_once('/')
        .unwrap_or(("", &record.target));
    format!("{kind}/{}/{name}", record.namespace)
}

/// kubectl's TARGETS: `cpu: 45%/50%`, `memory: 200Mi/256Mi`, `<unknown>`
/// before a value is known.
pub fn targets(record: &AutoscalerState) -> String {
    record
        .metrics
        .iter()
        .map(|metric| {
            let current = record
                .status
                .current_metrics
                .iter()
                .find(|c| c.resource == metric.resource);
            let (now, target) = match (metric.average_utilization, metric.average_value) {
                (Some(percent), _) => (
                    current
                        .and_then(|c| c.average_utilization)
                        .map_or("<unknown>".to_string(), |u| format!("{u}%")),
                    format!("{percent}%"),
                ),
                (None, value) => (
                    current.map_or("<unknown>".to_string(), |c| {
                        quantity(&metric.resource, c.average_value)
                    }),
                    quantity(&metric.resource, value.unwrap_or(0)),
                ),
            };
            format!("{}: {now}/{target}", metric.resource)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The HPAs' rows of a run's steps: after each step that rescaled an HPA
/// or changed its target, the count the HPA set and the target's replicas.
/// `None` when the run has no HPA.
pub fn steps(result: &RunResult) -> Option<String> {
    let mut rows = Vec::new();
    let mut last: std::collections::HashMap<&str, (i32, i32)> = std::collections::HashMap::new();
    for step in &result.steps {
        if step.autoscalers.is_empty() {
            continue;
        }
        let touched: HashSet<String> = step
            .actions
            .iter()
            .filter(|a| a.is_shown())
            .map(|a| a.object())
            .collect();
        for hpa in &step.autoscalers {
            let counts = (hpa.desired, hpa.current);
            let moved = last.insert(&hpa.object, counts) != Some(counts);
            if moved && (touched.contains(&hpa.object) || touched.contains(&hpa.target)) {
                rows.push(vec![
                    super::duration(step.time),
                    hpa.object.clone(),
                    hpa.target.clone(),
                    hpa.desired.to_string(),
                    hpa.current.to_string(),
                ]);
            }
        }
    }
    (!rows.is_empty()).then(|| {
        table(
            &["TIME", "AUTOSCALER", "TARGET", "DESIRED", "CURRENT"],
            rows,
        )
    })
}

/// `kubectl describe hpa`: identity, metrics (current / target), bounds,
/// the target's replicas, conditions and the HPA's events.
pub fn describe(d: &AutoscalerDescription) -> String {
    let mut out = Describer::default();
    out.field(0, "Name", &d.name);
    out.field(0, "Namespace", &d.namespace);
    out.field(0, "Labels", "");
    out.field(0, "Annotations", "");
    out.field(
        0,
        "CreationTimestamp",
        format!("simulated {}s", d.created_at),
    );
    out.field(0, "Reference", &d.reference);
    out.field(0, "Metrics", "( current / target )");
    for metric in &d.metrics {
        let current = d
            .current_metrics
            .iter()
            .find(|c| c.resource == metric.resource);
        let (label, value) = match (metric.average_utilization, metric.average_value) {
            (Some(percent), _) => (
                format!(
                    "resource {} on pods  (as a percentage of request)",
                    metric.resource
                ),
                format!(
                    "{} / {percent}%",
                    current.map_or("<unknown>".to_string(), |c| format!(
                        "{}% ({})",
                        c.average_utilization.unwrap_or(0),
                        quantity(&metric.resource, c.average_value)
                    ))
                ),
            ),
            (None, value) => (
                format!("resource {} on pods", metric.resource),
                format!(
                    "{} / {}",
                    current.map_or("<unknown>".to_string(), |c| quantity(
                        &metric.resource,
                        c.average_value
                    )),
                    quantity(&metric.resource, value.unwrap_or(0))
                ),
            ),
        };
        out.field(1, &label, value);
    }
    out.field(0, "Min replicas", d.min_replicas.to_string());
    out.field(0, "Max replicas", d.max_replicas.to_string());
    let kind = d.reference.split('/').next().unwrap_or_default();
    out.field(
        0,
        &format!("{kind} pods"),
        format!(
            "{} current / {} desired",
            d.current_replicas, d.desired_replicas
        ),
    );
    if d.conditions.is_empty() {
        out.field(0, "Conditions", "");
    } else {
        out.section(0, "Conditions");
        let rows: Vec<Vec<String>> = d
            .conditions
            .iter()
            .map(|c| {
                vec![
                    c.kind.clone(),
                    c.status.clone(),
                    c.reason.clone(),
                    c.message.clone(),
                ]
            })
            .collect();
        out.table(1, &["Type", "Status", "Reason", "Message"], &rows);
    }
    out.events(&d.events);
    out.finish()
}
