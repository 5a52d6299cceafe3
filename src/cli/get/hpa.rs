//! `orch get hpa`: the HorizontalPodAutoscalers of the state, as
//! `kubectl get hpa` lists them (NAME REFERENCE TARGETS MINPODS MAXPODS
//! REPLICAS AGE; NAMESPACE first when one is outside `default`).

use super::listing::{Listing, Shape, fill};
use crate::autoscale::hpa::Condition;
use crate::autoscale::status::{CurrentMetric, MetricSpecRecord};
use crate::model::state::State;
use crate::render;
use serde::Serialize;

/// One HPA of `get hpa -o json`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoscalerItem {
    pub name: String,
    pub namespace: String,
    pub reference: String,
    pub metrics: Vec<MetricSpecRecord>,
    pub min_replicas: i32,
    pub max_replicas: i32,
    pub current_replicas: i32,
    pub desired_replicas: i32,
    pub last_scale_time: Option<u64>,
    pub current_metrics: Vec<CurrentMetric>,
    pub conditions: Vec<Condition>,
    #[serde(skip)]
    targets: String,
    #[serde(skip)]
    age: u64,
}

pub fn autoscalers(state: &State, shape: Shape) -> Listing {
    let items: Vec<AutoscalerItem> = state
        .autoscalers
        .iter()
        .map(|a| AutoscalerItem {
            name: a.name.clone(),
            namespace: a.namespace.clone(),
            reference: a.target.clone(),
            metrics: a.metrics.clone(),
            min_replicas: a.min_replicas,
            max_replicas: a.max_replicas,
            current_replicas: a.status.current_replicas,
            desired_replicas: a.status.desired_replicas,
            last_scale_time: a.status.last_scale_time,
            current_metrics: a.status.current_metrics.clone(),
            conditions: a.status.conditions.clone(),
            targets: render::hpa::targets(a),
            age: state.clock.saturating_sub(a.created_at),
        })
        .collect();
    let namespaced = items.iter().any(|i| i.namespace != "default");
    let mut headers = vec![
        "NAME",
        "REFERENCE",
        "TARGETS",
        "MINPODS",
        "MAXPODS",
        "REPLICAS",
        "AGE",
    ];
    if namespaced {
        headers.insert(0, "NAMESPACE");
    }
    let mut listing = Listing {
        volatile: vec![headers.len() - 1],
        headers,
        ..Listing::default()
    };
    fill(
        &mut listing,
        "HorizontalPodAutoscalerList",
        items,
        |i| format!("{}/{}", i.namespace, i.name),
        |_, i| {
            let mut row = vec![
                i.name.clone(),
                i.reference.clone(),
                i.targets.clone(),
                i.min_replicas.to_string(),
                i.max_replicas.to_string(),
                i.current_replicas.to_string(),
                render::duration(i.age),
            ];
            if namespaced {
                row.insert(0, i.namespace.clone());
            }
            row
        },
        shape,
    );
    listing
}
