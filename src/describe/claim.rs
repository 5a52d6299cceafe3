//! `describe pvc`: a claim as `kubectl describe pvc` shows it — class,
//! status, volume, capacity, access modes, the replicas using it, and where
//! its volume can be reached — with its events.

use super::{DescribeError, EventRow, event_rows};
use crate::model::quantity::format_binary;
use crate::model::state::{API_VERSION, Phase, State};
use crate::model::storage::ClaimPhase;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimDescription {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub name: String,
    pub namespace: String,
    pub storage_class: String,
    pub status: String,
    pub volume: Option<String>,
    pub capacity: Option<String>,
    pub requested: String,
    pub access_modes: Vec<String>,
    /// The StatefulSet whose claim template made it.
    pub owner: Option<String>,
    /// Replicas that use it (`Used By`).
    pub used_by: Vec<String>,
    /// The node selector terms of its volume, as text.
    pub volume_node_affinity: Vec<String>,
    pub events: Vec<EventRow>,
}

/// The claim `name` (`NAME` in `default`, or `NAMESPACE/NAME`).
pub fn claim(state: &State, name: &str) -> Result<ClaimDescription, DescribeError> {
    let (namespace, short) = name.split_once('/').unwrap_or(("default", name));
    let claim = state
        .claims
        .iter()
        .find(|c| c.namespace == namespace && c.name == short)
        .ok_or_else(|| DescribeError::ClaimNotFound(name.to_string()))?;
    let volume = claim
        .volume
        .as_ref()
        .filter(|_| claim.phase == ClaimPhase::Bound)
        .and_then(|n| state.volumes.iter().find(|v| v.name == *n));
    let used_by = state
        .replicas
        .iter()
        .filter(|r| r.phase != Phase::Terminating && r.workload.namespace.as_ref() == namespace)
        .filter(|r| {
            crate::model::stateful::ordinal_of(&r.workload.name, &r.name).is_some_and(|ordinal| {
                claim.owner.as_ref() == Some(&r.workload)
                    && claim
                        .name
                        .ends_with(&format!("-{}-{ordinal}", r.workload.name))
            })
        })
        .map(|r| r.name.to_string())
        .collect();
    let volume_node_affinity = volume
        .and_then(|v| v.node_affinity.as_ref())
        .map(|a| {
            a.node_selector_terms
                .iter()
                .flat_map(|t| t.match_expressions.iter())
                .map(|r| format!("{} {:?} [{}]", r.key, r.operator, r.values.join(", ")))
                .collect()
        })
        .unwrap_or_default();
    Ok(ClaimDescription {
        api_version: API_VERSION,
        kind: "ClaimDescription",
        name: claim.name.clone(),
        namespace: claim.namespace.clone(),
        storage_class: claim.storage_class.clone(),
        status: claim.phase.to_string(),
        volume: volume.map(|v| v.name.clone()),
        capacity: volume.map(|v| format_binary(v.capacity)),
        requested: format_binary(claim.request),
        access_modes: claim.access_modes.iter().map(ToString::to_string).collect(),
        owner: claim.owner.as_ref().map(ToString::to_string),
        used_by,
        volume_node_affinity,
        events: event_rows(
            state,
            &format!("PersistentVolumeClaim/{}", claim.key()),
            None,
        ),
    })
}
