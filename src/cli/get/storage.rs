//! `orch get pvc|pv`: the claims and volumes of the state, as
//! `kubectl get pvc|pv` lists them, with where each volume can be reached.

use super::listing::{Listing, Shape, fill};
use crate::model::labels::NodeSelector;
use crate::model::quantity::format_binary;
use crate::model::state::State;
use crate::model::storage::{AccessMode, ClaimPhase, VolumePhase, ZONE_LABELS};
use serde::Serialize;

/// One claim or volume of `get pvc|pv -o json`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageItem {
    pub name: String,
    /// Claims only (volumes are cluster-scoped).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub storage_class: String,
    pub capacity: Option<String>,
    pub access_modes: Vec<AccessMode>,
    pub phase: String,
    /// Claims: the volume bound to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_name: Option<Option<String>>,
    /// Volumes: the claim bound to (`namespace/name`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim: Option<Option<String>>,
    /// The one node the volume can be reached from (a local volume).
    pub node: Option<String>,
    /// The zone the volume lives in.
    pub zone: Option<String>,
}

/// kubectl's short access modes (`RWO,ROX`).
fn modes(modes: &[AccessMode]) -> String {
    modes
        .iter()
        .map(|m| match m {
            AccessMode::ReadWriteOnce => "RWO",
            AccessMode::ReadOnlyMany => "ROX",
            AccessMode::ReadWriteMany => "RWX",
            AccessMode::ReadWriteOncePod => "RWOP",
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The single value a selector requires for `keys`, if it names one.
fn single(affinity: Option<&NodeSelector>, keys: &[&str]) -> Option<String> {
    let terms = &affinity?.node_selector_terms;
    let [term] = terms.as_slice() else {
        return None;
    };
    term.match_expressions
        .iter()
        .find(|r| keys.contains(&r.key.as_str()) && r.values.len() == 1)
        .map(|r| r.values[0].clone())
}

/// Node and zone of a volume: from its node affinity, else its labels.
fn place(volume: Option<&crate::model::storage::Volume>) -> (Option<String>, Option<String>) {
    let Some(volume) = volume else {
        return (None, None);
    };
    let affinity = volume.node_affinity.as_ref();
    let node = single(affinity, &["kubernetes.io/hostname"]);
    let zone = single(affinity, &ZONE_LABELS).or_else(|| {
        volume
            .zones()
            .and_then(|z| (z.len() == 1).then(|| z[0].to_string()))
    });
    (node, zone)
}

pub fn claims(state: &State, shape: Shape) -> Listing {
    let items: Vec<StorageItem> = state
        .claims
        .iter()
        .map(|c| {
            let volume = c
                .volume
                .as_ref()
                .and_then(|n| state.volumes.iter().find(|v| v.name == *n));
            let (node, zone) = place(volume.filter(|_| c.phase == ClaimPhase::Bound));
            StorageItem {
                name: c.name.clone(),
                namespace: Some(c.namespace.clone()),
                storage_class: c.storage_class.clone(),
                capacity: volume
                    .filter(|_| c.phase == ClaimPhase::Bound)
                    .map(|v| format_binary(v.capacity)),
                access_modes: c.access_modes.clone(),
                phase: c.phase.to_string(),
                volume_name: Some(c.volume.clone().filter(|_| c.phase == ClaimPhase::Bound)),
                claim: None,
                node,
                zone,
            }
        })
        .collect();
    let mut listing = Listing {
        headers: vec![
            "NAMESPACE",
            "NAME",
            "STATUS",
            "VOLUME",
            "CAPACITY",
            "ACCESS MODES",
            "STORAGECLASS",
            "NODE",
            "ZONE",
        ],
        ..Listing::default()
    };
    fill(
        &mut listing,
        "PersistentVolumeClaimList",
        items,
        |i| format!("{}/{}", i.namespace.as_deref().unwrap_or(""), i.name),
        |_, i| {
            vec![
                i.namespace.clone().unwrap_or_default(),
                i.name.clone(),
                i.phase.clone(),
                i.volume_name.clone().flatten().unwrap_or_default(),
                i.capacity.clone().unwrap_or_default(),
                modes(&i.access_modes),
                i.storage_class.clone(),
                i.node.clone().unwrap_or_default(),
                i.zone.clone().unwrap_or_default(),
            ]
        },
        shape,
    );
    listing
}

pub fn volumes(state: &State, shape: Shape) -> Listing {
    let items: Vec<(StorageItem, String)> = state
        .volumes
        .iter()
        .map(|v| {
            let (node, zone) = place(Some(v));
            let item = StorageItem {
                name: v.name.clone(),
                namespace: None,
                storage_class: v.storage_class.clone(),
                capacity: Some(format_binary(v.capacity)),
                access_modes: v.access_modes.clone(),
                phase: v.phase.to_string(),
                volume_name: None,
                claim: Some(
                    v.claim
                        .clone()
                        .filter(|_| v.phase != VolumePhase::Available),
                ),
                node,
                zone,
            };
            (item, v.reclaim_policy.to_string())
        })
        .collect();
    let policies: Vec<String> = items.iter().map(|(_, p)| p.clone()).collect();
    let items: Vec<StorageItem> = items.into_iter().map(|(i, _)| i).collect();
    let mut listing = Listing {
        headers: vec![
            "NAME",
            "CAPACITY",
            "ACCESS MODES",
            "RECLAIM POLICY",
            "STATUS",
            "CLAIM",
            "STORAGECLASS",
            "NODE",
            "ZONE",
        ],
        ..Listing::default()
    };
    fill(
        &mut listing,
        "PersistentVolumeList",
        items,
        |i| i.name.clone(),
        |index, i| {
            vec![
                i.name.clone(),
                i.capacity.clone().unwrap_or_default(),
                modes(&i.access_modes),
                policies[index].clone(),
                i.phase.clone(),
                i.claim.clone().flatten().unwrap_or_default(),
                i.storage_class.clone(),
                i.node.clone().unwrap_or_default(),
                i.zone.clone().unwrap_or_default(),
            ]
        },
        shape,
    );
    listing
}
