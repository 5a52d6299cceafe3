//! Storage in the loop: declared volumes and claims enter the state, a
//! StatefulSet's claim templates make one claim per replica, and the PV
//! controller binds claims (`syncUnboundClaim`: the smallest volume of the
//! class that fits, else a volume provisioned by the class). Claims of a
//! WaitForFirstConsumer class are bound where their first replica is
//! scheduled (VolumeBinding's PreBind), in the topology of its node.
//!
//! A pass sees its own storage decisions through `Overlay`, so a replica
//! created in a pass meets the claims created and bound in that pass.

use super::{Action, Pass};
use crate::model::labels::{
    Labels, NodeSelector, NodeSelectorOperator, NodeSelectorRequirement, NodeSelectorTerm,
};
use crate::model::pod::PodSpec;
use crate::model::state::{Replica, State};
use crate::model::storage::{
    AccessMode, BindingMode, Claim, ClaimPhase, DeclaredStorage, StorageClass, Volume,
    VolumeConstraint, VolumePhase, ZONE_LABELS, best_match, template_claim_name,
};
use crate::model::workload::{Kind, ObjectRef, Workload};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

/// What a pass decided about storage so far (looked up by key: a large
/// StatefulSet makes thousands of claims in one pass).
#[derive(Debug, Default)]
pub struct Overlay {
    /// Claims created in this pass.
    pub created: Vec<Claim>,
    /// Their positions in `created`, by `namespace/name`.
    created_index: HashMap<String, usize>,
    /// Claim key → volume, bound in this pass.
    pub bound: HashMap<String, String>,
    /// Declared volumes added in this pass (free to bind).
    pub volumes: Vec<Volume>,
    /// Volumes provisioned in this pass, by name (bound as they are made).
    provisioned: HashMap<String, Volume>,
    /// Volumes bound in this pass.
    pub taken: HashSet<String>,
    /// ReadWriteOncePod claims (`namespace/name`) of replicas bound in this pass.
    pub read_write_once_pod: HashSet<String>,
}

/// One change to storage.
#[derive(Debug, Clone, PartialEq)]
pub enum StorageAction {
    /// A declared PersistentVolume enters the state.
    AddVolume(Box<Volume>),
    /// A class's provisioner makes a volume for a claim.
    Provision(Box<Volume>),
    /// A claim is made (declared, or from a StatefulSet's claim template).
    CreateClaim(Box<Claim>),
    /// The PV controller binds a claim to a volume.
    Bind { claim: String, volume: String },
    /// A claim is deleted (retention policy `Delete`, or no longer declared);
    /// its volume is deleted or released as its reclaim policy says.
    DeleteClaim { claim: String },
}

impl StorageAction {
    pub fn op(&self) -> &'static str {
        match self {
            StorageAction::AddVolume(_) => "add-volume",
            StorageAction::Provision(_) => "provision",
            StorageAction::CreateClaim(_) => "create-claim",
            StorageAction::Bind { .. } => "bind-volume",
            StorageAction::DeleteClaim { .. } => "delete-claim",
        }
    }

    /// `PersistentVolumeClaim/namespace/name` or `PersistentVolume/name`.
    pub fn object(&self) -> String {
        match self {
            StorageAction::AddVolume(v) | StorageAction::Provision(v) => {
                format!("PersistentVolume/{}", v.name)
            }
            StorageAction::CreateClaim(c) => format!("PersistentVolumeClaim/{}", c.key()),
            StorageAction::Bind { claim, .. } | StorageAction::DeleteClaim { claim } => {
                format!("PersistentVolumeClaim/{claim}")
            }
        }
    }

    /// The volume the action names, shown where a replica's node is.
    pub fn detail(&self) -> Option<String> {
        match self {
            StorageAction::Provision(v) => Some(format!(
                "{} for {}",
                v.name,
                v.claim.as_deref().unwrap_or("?")
            )),
            StorageAction::Bind { volume, .. } => Some(volume.clone()),
            _ => None,
        }
    }
}

fn push(pass: &mut Pass, action: StorageAction) {
    pass.plan.actions.push(Action::Storage(action));
}

/// Declared volumes and claims not yet in the state enter it, and the
/// declared objects are kept as applied; then unbound claims of classes
/// that bind at once are bound.
pub(super) fn sync(pass: &mut Pass) {
    let declared = &pass.desired.storage;
    for (id, manifest) in &declared.manifests {
        if pass
            .stored(id)
            .is_none_or(|stored| stored.spec != *manifest)
        {
            pass.plan.actions.push(Action::ApplyWorkload {
                workload: id.clone(),
                spec: manifest.clone(),
            });
        }
    }
    let observed = pass.observed;
    for volume in &declared.volumes {
        if observed.volumes.iter().all(|v| v.name != volume.name) {
            pass.storage.volumes.push(volume.clone());
            push(pass, StorageAction::AddVolume(Box::new(volume.clone())));
        }
    }
    for claim in &declared.claims {
        if find_claim(observed, &pass.storage, &claim.key()).is_none() {
            create_claim(pass, claim.clone());
        }
    }
}

/// `syncUnboundClaim` for every pending claim whose class binds at once
/// (or that has no class): the best volume, else one provisioned.
pub(super) fn bind_immediate(pass: &mut Pass) {
    let pending: Vec<Claim> = pass
        .observed
        .claims
        .iter()
        .chain(pass.storage.created.iter())
        .filter(|c| c.phase == ClaimPhase::Pending)
        .filter(|c| !pass.storage.bound.contains_key(&c.key()))
        .cloned()
        .collect();
    for claim in pending {
        let class = pass.desired.storage.class(&claim.storage_class).cloned();
        if class
            .as_ref()
            .is_some_and(|c| c.binding_mode == BindingMode::WaitForFirstConsumer)
        {
            continue;
        }
        let topology = class.as_ref().and_then(|c| c.allowed_topologies.clone());
        bind(pass, &claim, class.as_ref(), topology, None);
    }
}

/// Bind `claim` to its best volume reachable from `node` (any node when
/// None), or provision one in `topology`; false when neither is possible.
fn bind(
    pass: &mut Pass,
    claim: &Claim,
    class: Option<&StorageClass>,
    topology: Option<NodeSelector>,
    node: Option<(&str, &Labels)>,
) -> bool {
    let key = claim.key();
    let chosen = {
        let candidates = available(pass.observed, &pass.storage).filter(|v| {
            node.is_none_or(|(name, labels)| v.reachable_from(name, labels))
                && claim.volume.as_ref().is_none_or(|n| *n == v.name)
        });
        best_match(claim, candidates).map(|v| v.name.clone())
    };
    let volume = match chosen {
        Some(name) => name,
        None => match class.filter(|c| c.provisions() && claim.volume.is_none()) {
            Some(class) => {
                let volume = provisioned(claim, class, topology);
                let name = volume.name.clone();
                pass.storage
                    .provisioned
                    .insert(name.clone(), volume.clone());
                push(pass, StorageAction::Provision(Box::new(volume)));
                name
            }
            None => return false,
        },
    };
    pass.storage.taken.insert(volume.clone());
    pass.storage.bound.insert(key.clone(), volume.clone());
    push(pass, StorageAction::Bind { claim: key, volume });
    true
}

/// Volumes free to bind: in the state or made in this pass, not taken.
fn available<'a>(state: &'a State, overlay: &'a Overlay) -> impl Iterator<Item = &'a Volume> + 'a {
    state
        .volumes
        .iter()
        .chain(overlay.volumes.iter())
        .filter(|v| v.phase == VolumePhase::Available && !overlay.taken.contains(&v.name))
}

/// A provisioned volume: named `pvc-<hash of the claim>`, of the claim's
/// size and modes, reachable from `topology`.
fn provisioned(claim: &Claim, class: &StorageClass, topology: Option<NodeSelector>) -> Volume {
    let key = claim.key();
    let hash = crate::model::hash::fnv1a32(key.as_bytes());
    Volume {
        name: format!("pvc-{hash:08x}"),
        labels: Labels::new(),
        storage_class: class.name.clone(),
        capacity: claim.request,
        access_modes: claim.access_modes.clone(),
        node_affinity: topology,
        reclaim_policy: class.reclaim_policy,
        claim: Some(key),
        phase: VolumePhase::Available,
        provisioned: true,
    }
}

fn find_claim<'a>(state: &'a State, overlay: &'a Overlay, key: &str) -> Option<&'a Claim> {
    if let Some(&i) = overlay.created_index.get(key) {
        return Some(&overlay.created[i]);
    }
    let (namespace, name) = key.split_once('/')?;
    state
        .claims
        .binary_search_by(|c| (c.namespace.as_str(), c.name.as_str()).cmp(&(namespace, name)))
        .ok()
        .map(|i| &state.claims[i])
}

/// A volume by name: in the state (sorted by name) or made in this pass.
fn find_volume<'a>(state: &'a State, overlay: &'a Overlay, name: &str) -> Option<&'a Volume> {
    overlay
        .provisioned
        .get(name)
        .or_else(|| overlay.volumes.iter().find(|v| v.name == name))
        .or_else(|| {
            state
                .volumes
                .binary_search_by(|v| v.name.as_str().cmp(name))
                .ok()
                .map(|i| &state.volumes[i])
        })
}

fn create_claim(pass: &mut Pass, claim: Claim) {
    pass.storage
        .created_index
        .insert(claim.key(), pass.storage.created.len());
    pass.storage.created.push(claim.clone());
    push(pass, StorageAction::CreateClaim(Box::new(claim)));
}

/// `createMissingPersistentVolumeClaims`: the claims of replica `ordinal`
/// of a StatefulSet, made when missing.
pub(super) fn create_template_claims(pass: &mut Pass, workload: &Workload, ordinal: i32) {
    let Some(stateful) = workload.stateful.as_deref() else {
        return;
    };
    for template in &stateful.claim_templates {
        let claim = Claim {
            namespace: workload.id.namespace.to_string(),
            name: template_claim_name(&template.name, &workload.id.name, ordinal),
            storage_class: template.storage_class.clone(),
            access_modes: template.access_modes.clone(),
            request: template.request,
            volume: None,
            phase: ClaimPhase::Pending,
            owner: Some(workload.id.clone()),
        };
        if find_claim(pass.observed, &pass.storage, &claim.key()).is_none() {
            create_claim(pass, claim);
        }
    }
}

/// The retention policy's `Delete`: the claims of `ordinal` go with it.
pub(super) fn delete_template_claims(
    pass: &mut Pass,
    set: &ObjectRef,
    templates: &[String],
    ordinal: i32,
) {
    for template in templates {
        let key = format!(
            "{}/{}",
            set.namespace,
            template_claim_name(template, &set.name, ordinal)
        );
        if find_claim(pass.observed, &pass.storage, &key).is_some() {
            push(pass, StorageAction::DeleteClaim { claim: key });
        }
    }
}

/// The claims a replica uses: its template's volumes, and for a
/// StatefulSet replica one per claim template.
pub fn claims_of(pod: &PodSpec, replica: &Replica, workload: Option<&Workload>) -> Vec<String> {
    let mut claims = Vec::new();
    if let Some(stateful) = workload.and_then(|w| w.stateful.as_deref())
        && let Some(ordinal) =
            crate::model::stateful::ordinal_of(&replica.workload.name, &replica.name)
    {
        for template in &stateful.claim_templates {
            claims.push(template_claim_name(
                &template.name,
                &replica.workload.name,
                ordinal,
            ));
        }
    }
    for claim in &pod.claims {
        if !claims.contains(claim) {
            claims.push(claim.clone());
        }
    }
    claims
}

/// What the scheduler knows of each claim of `replica` (see `VolumeConstraint`).
pub fn constraints(
    claims: &[String],
    namespace: &str,
    replica: &Replica,
    state: &State,
    catalog: &super::Catalog,
    declared: &DeclaredStorage,
    overlay: &Overlay,
) -> Vec<VolumeConstraint> {
    claims
        .iter()
        .map(|name| {
            let key = format!("{namespace}/{name}");
            let Some(claim) = find_claim(state, overlay, &key) else {
                return VolumeConstraint::Missing(name.clone());
            };
            if claim.access_modes.contains(&AccessMode::ReadWriteOncePod)
                && (overlay.read_write_once_pod.contains(&key)
                    || in_use_elsewhere(state, catalog, replica, &key))
            {
                return VolumeConstraint::InUseReadWriteOncePod;
            }
            let bound = overlay.bound.get(&key).or(match claim.phase {
                ClaimPhase::Bound => claim.volume.as_ref(),
                _ => None,
            });
            if let Some(volume) = bound {
                let found = find_volume(state, overlay, volume);
                return VolumeConstraint::Bound {
                    node_affinity: found.and_then(|v| v.node_affinity.clone()),
                    zones: found
                        .and_then(Volume::zones)
                        .map(|z| z.into_iter().map(String::from).collect()),
                };
            }
            match declared.class(&claim.storage_class) {
                Some(class) if class.binding_mode == BindingMode::WaitForFirstConsumer => {
                    let mut candidates: Vec<Option<NodeSelector>> = available(state, overlay)
                        .filter(|v| v.satisfies(claim))
                        .map(|v| v.node_affinity.clone())
                        .collect();
                    candidates.sort_by_key(|a| serde_json::to_string(a).unwrap_or_default());
                    candidates.dedup();
                    VolumeConstraint::Delayed {
                        candidates,
                        provision: class.provisions().then(|| class.allowed_topologies.clone()),
                    }
                }
                _ => VolumeConstraint::UnboundImmediate,
            }
        })
        .collect()
}

/// Whether another live, bound replica uses the claim `key` (VolumeRestrictions
/// counts the pods on every node that reference the claim, whatever their owner).
fn in_use_elsewhere(state: &State, catalog: &super::Catalog, replica: &Replica, key: &str) -> bool {
    let (namespace, name) = key.split_once('/').unwrap_or(("", key));
    state.replicas.iter().any(|other| {
        other.name != replica.name
            && other.node.is_some()
            && other.phase.is_active()
            && other.workload.namespace.as_ref() == namespace
            && uses_claim(other, catalog, name)
    })
}

/// Whether a replica uses the claim: by its StatefulSet's claim template,
/// or by name in its pod's volumes.
fn uses_claim(replica: &Replica, catalog: &super::Catalog, claim: &str) -> bool {
    let by_template = replica.workload.kind == Kind::StatefulSet
        && crate::model::stateful::ordinal_of(&replica.workload.name, &replica.name).is_some_and(
            |ordinal| claim.ends_with(&format!("-{}-{ordinal}", replica.workload.name)),
        );
    by_template
        || catalog
            .pod(&replica.workload, &replica.hash)
            .is_some_and(|pod| pod.claims.iter().any(|c| c == claim))
}

/// Whether one of the claims is ReadWriteOncePod: a replica using it is
/// scheduled alone, since binding it takes the claim from the next.
pub fn has_read_write_once_pod(
    claims: &[String],
    namespace: &str,
    state: &State,
    overlay: &Overlay,
) -> bool {
    claims.iter().any(|name| {
        find_claim(state, overlay, &format!("{namespace}/{name}"))
            .is_some_and(|c| c.access_modes.contains(&AccessMode::ReadWriteOncePod))
    })
}

/// A replica using these claims was bound in this pass: its ReadWriteOncePod
/// claims are taken for the rest of the pass.
pub(super) fn take_read_write_once_pod(pass: &mut Pass, claims: &[String], namespace: &str) {
    for name in claims {
        let key = format!("{namespace}/{name}");
        if find_claim(pass.observed, &pass.storage, &key)
            .is_some_and(|c| c.access_modes.contains(&AccessMode::ReadWriteOncePod))
        {
            pass.storage.read_write_once_pod.insert(key);
        }
    }
}

/// VolumeBinding's PreBind for a replica placed on `node`: each unbound
/// WaitForFirstConsumer claim is bound to its best volume reachable from
/// the node, or provisioned in the node's zone (its hostname without one).
pub(super) fn bind_for_node(
    pass: &mut Pass,
    claims: &[String],
    namespace: &str,
    node: &str,
    labels: &Labels,
) {
    for name in claims {
        let key = format!("{namespace}/{name}");
        if pass.storage.bound.contains_key(&key) {
            continue;
        }
        let Some(claim) = find_claim(pass.observed, &pass.storage, &key).cloned() else {
            continue;
        };
        if claim.phase != ClaimPhase::Pending {
            continue;
        }
        let Some(class) = pass.desired.storage.class(&claim.storage_class).cloned() else {
            continue;
        };
        if class.binding_mode != BindingMode::WaitForFirstConsumer {
            continue;
        }
        let topology = node_topology(node, labels);
        bind(
            pass,
            &claim,
            Some(&class),
            Some(topology),
            Some((node, labels)),
        );
    }
}

/// Where a volume provisioned for a node lives: its zone, else the node.
fn node_topology(node: &str, labels: &Labels) -> NodeSelector {
    let (key, value) = ZONE_LABELS
        .iter()
        .find_map(|k| labels.get(*k).map(|v| (k.to_string(), v.clone())))
        .unwrap_or_else(|| ("kubernetes.io/hostname".to_string(), node.to_string()));
    NodeSelector {
        node_selector_terms: vec![NodeSelectorTerm {
            match_expressions: vec![NodeSelectorRequirement {
                key,
                operator: NodeSelectorOperator::In,
                values: vec![value],
            }],
            match_fields: Vec::new(),
        }],
    }
}

/// A StatefulSet no longer declared: with `whenDeleted: Delete` its
/// claims go with it. A claim, volume or class no longer declared is
/// deleted (a volume only while nothing is bound to it).
pub(super) fn workload_removed(pass: &mut Pass, stored: &crate::model::state::WorkloadState) {
    let observed = pass.observed;
    match stored.kind {
        Kind::StatefulSet => {
            let policy =
                &stored.spec.value()["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDeleted"];
            if policy == "Delete" {
                let id = stored.id();
                for claim in observed
                    .claims
                    .iter()
                    .filter(|c| c.owner.as_ref() == Some(&id))
                {
                    push(pass, StorageAction::DeleteClaim { claim: claim.key() });
                }
            }
        }
        Kind::PersistentVolumeClaim => {
            let key = format!("{}/{}", stored.namespace, stored.name);
            if observed.claims.iter().any(|c| c.key() == key) {
                push(pass, StorageAction::DeleteClaim { claim: key });
            }
        }
        _ => {}
    }
}

/// Whether replicas with these constraints can share one scheduling run:
/// binding one leaves the next's constraints as they are (no volume to
/// choose among, no claim held by one replica alone).
pub fn stable(constraints: &[VolumeConstraint]) -> bool {
    constraints.iter().all(|c| match c {
        VolumeConstraint::Delayed { candidates, .. } => candidates.is_empty(),
        VolumeConstraint::InUseReadWriteOncePod => false,
        _ => true,
    })
}
