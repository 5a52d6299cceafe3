//! How storage actions change the state: volumes and claims looked up by
//! key through an index made once per step (a large StatefulSet makes and
//! binds thousands of claims in one step), appended, and put back in order
//! at the end of the step; a claim's deletion releases or deletes its
//! volume as the volume's reclaim policy says.

use crate::model::event::EventReason;
use crate::model::state::{EventType, State};
use crate::model::storage::{ClaimPhase, ReclaimPolicy, VolumePhase};
use crate::reconcile::storage::StorageAction;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

/// Positions of the step's claims and volumes, built on the first storage action.
#[derive(Default)]
pub(super) struct Index {
    built: bool,
    claims: HashMap<String, usize>,
    volumes: HashMap<String, usize>,
    /// Appended out of order: sort at the end of the step.
    unsorted: bool,
    removed_claims: HashSet<usize>,
    removed_volumes: HashSet<usize>,
}

impl Index {
    fn build(&mut self, state: &State) {
        if self.built {
            return;
        }
        self.built = true;
        self.claims = state
            .claims
            .iter()
            .enumerate()
            .map(|(i, c)| (c.key(), i))
            .collect();
        self.volumes = state
            .volumes
            .iter()
            .enumerate()
            .map(|(i, v)| (v.name.clone(), i))
            .collect();
    }

    fn put_volume(&mut self, state: &mut State, volume: &crate::model::storage::Volume) {
        match self.volumes.get(&volume.name) {
            Some(&i) => {
                state.volumes[i] = volume.clone();
                self.removed_volumes.remove(&i);
            }
            None => {
                self.volumes
                    .insert(volume.name.clone(), state.volumes.len());
                state.volumes.push(volume.clone());
                self.unsorted = true;
            }
        }
    }

    pub(super) fn apply(
        &mut self,
        state: &mut State,
        action: &StorageAction,
    ) -> Option<(EventType, EventReason)> {
        self.build(state);
        match action {
            StorageAction::AddVolume(volume) => {
                self.put_volume(state, volume);
                Some((EventType::Normal, EventReason::ClaimUpdated))
            }
            StorageAction::Provision(volume) => {
                self.put_volume(state, volume);
                Some((EventType::Normal, EventReason::ProvisioningSucceeded))
            }
            StorageAction::CreateClaim(claim) => {
                match self.claims.get(&claim.key()) {
                    Some(&i) => {
                        state.claims[i] = (**claim).clone();
                        self.removed_claims.remove(&i);
                    }
                    None => {
                        self.claims.insert(claim.key(), state.claims.len());
                        state.claims.push((**claim).clone());
                        self.unsorted = true;
                    }
                }
                Some((EventType::Normal, EventReason::ClaimUpdated))
            }
            StorageAction::Bind { claim, volume } => {
                let c = *self.claims.get(claim)?;
                let v = *self.volumes.get(volume)?;
                let bound = &mut state.claims[c];
                bound.volume = Some(volume.clone());
                bound.phase = ClaimPhase::Bound;
                let target = &mut state.volumes[v];
                target.claim = Some(claim.clone());
                target.phase = VolumePhase::Bound;
                Some((EventType::Normal, EventReason::ClaimUpdated))
            }
            StorageAction::DeleteClaim { claim } => {
                let c = *self.claims.get(claim)?;
                if !self.removed_claims.insert(c) {
                    return None;
                }
                if let Some(name) = state.claims[c].volume.clone()
                    && let Some(&v) = self.volumes.get(&name)
                {
                    match state.volumes[v].reclaim_policy {
                        ReclaimPolicy::Delete => {
                            self.removed_volumes.insert(v);
                        }
                        ReclaimPolicy::Retain => state.volumes[v].phase = VolumePhase::Released,
                    }
                }
                Some((EventType::Normal, EventReason::ClaimUpdated))
            }
        }
    }

    /// Drop what was deleted and restore the state's order.
    pub(super) fn finish(self, state: &mut State) {
        if !self.removed_claims.is_empty() {
            let mut i = 0;
            state.claims.retain(|_| {
                i += 1;
                !self.removed_claims.contains(&(i - 1))
            });
        }
        if !self.removed_volumes.is_empty() {
            let mut i = 0;
            state.volumes.retain(|_| {
                i += 1;
                !self.removed_volumes.contains(&(i - 1))
            });
        }
        if self.unsorted {
            state.volumes.sort_by(|a, b| a.name.cmp(&b.name));
            state
                .claims
                .sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        }
    }
}

pub(super) fn message(action: &StorageAction) -> String {
    match action {
        StorageAction::AddVolume(volume) => format!("Volume {} added", volume.name),
        StorageAction::Provision(volume) => format!(
            "Successfully provisioned volume {} for claim {}",
            volume.name,
            volume.claim.as_deref().unwrap_or("?")
        ),
        StorageAction::CreateClaim(claim) => format!("Claim {} created", claim.name),
        StorageAction::Bind { claim, volume } => {
            format!("Claim {claim} bound to volume {volume}")
        }
        StorageAction::DeleteClaim { claim } => format!("Claim {claim} deleted"),
    }
}
