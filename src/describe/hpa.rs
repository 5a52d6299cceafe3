//! `describe hpa`: a HorizontalPodAutoscaler as the state keeps it — its
//! bounds and metrics, the status its last sync wrote, and its events.

use super::{DescribeError, EventRow, event_rows};
use crate::autoscale::hpa::Condition;
use crate::autoscale::status::{AutoscalerState, CurrentMetric, MetricSpecRecord};
use crate::model::state::State;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoscalerDescription {
    pub name: String,
    pub namespace: String,
    /// Simulated second of its first sync.
    pub created_at: u64,
    /// `Deployment/api`.
    pub reference: String,
    pub metrics: Vec<MetricSpecRecord>,
    pub current_metrics: Vec<CurrentMetric>,
    pub min_replicas: i32,
    pub max_replicas: i32,
    pub current_replicas: i32,
    pub desired_replicas: i32,
    pub last_scale_time: Option<u64>,
    pub conditions: Vec<Condition>,
    pub events: Vec<EventRow>,
}

/// The HPA `name` (`NAME` in `default`, or `NAMESPACE/NAME`).
pub fn autoscaler(state: &State, name: &str) -> Result<AutoscalerDescription, DescribeError> {
    let (namespace, short) = name.split_once('/').unwrap_or(("default", name));
    let record: &AutoscalerState = state
        .autoscalers
        .iter()
        .find(|a| a.namespace == namespace && a.name == short)
        .ok_or_else(|| DescribeError::AutoscalerNotFound(name.to_string()))?;
    Ok(AutoscalerDescription {
        name: record.name.clone(),
        namespace: record.namespace.clone(),
        created_at: record.created_at,
        reference: record.target.clone(),
        metrics: record.metrics.clone(),
        current_metrics: record.status.current_metrics.clone(),
        min_replicas: record.min_replicas,
        max_replicas: record.max_replicas,
        current_replicas: record.status.current_replicas,
        desired_replicas: record.status.desired_replicas,
        last_scale_time: record.status.last_scale_time,
        conditions: record.status.conditions.clone(),
        events: event_rows(state, &record.id(), None),
    })
}
