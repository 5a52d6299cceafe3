//! Rolling a workload back to an earlier revision (`orch rollout undo`,
//! `apply --atomic`): the desired state with that revision's pod template,
//! so the ordinary loop rolls it out — and the revision is renumbered as the
//! newest, as the Deployment controller does.

use crate::manifest::pod_spec_from_template;
use crate::model::state::State;
use crate::model::workload::{Desired, ObjectRef};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UndoError {
    #[error("{0} is not in the state")]
    NotFound(ObjectRef),
    #[error("{0} has no previous revision to roll back to")]
    NoPrevious(ObjectRef),
    #[error("{0} has no revision {1} (see `orch rollout history`)")]
    NoRevision(ObjectRef, u64),
    #[error("{0}: the stored template of revision {1} no longer reads as a pod template")]
    Unreadable(ObjectRef, u64),
}

/// `desired` with `workload` set to revision `to` (default: the one before
/// the current template). Returns the revision rolled back to.
pub fn rollback(
    desired: &mut Desired,
    state: &State,
    workload: &ObjectRef,
    to: Option<u64>,
) -> Result<u64, UndoError> {
    let stored = state
        .workload(workload)
        .ok_or_else(|| UndoError::NotFound(workload.clone()))?;
    let target = desired
        .workloads
        .iter_mut()
        .find(|w| &w.id == workload)
        .ok_or_else(|| UndoError::NotFound(workload.clone()))?;
    let revision = match to {
        Some(n) => stored
            .revisions
            .iter()
            .find(|r| r.revision == n)
            .ok_or(UndoError::NoRevision(workload.clone(), n))?,
        None => stored
            .revisions
            .iter()
            .filter(|r| *r.hash != *target.template_hash)
            .max_by_key(|r| r.revision)
            .ok_or_else(|| UndoError::NoPrevious(workload.clone()))?,
    };
    let pod = pod_spec_from_template(&workload.namespace, &revision.template.value())
        .map_err(|_| UndoError::Unreadable(workload.clone(), revision.revision))?;
    target.template = revision.template.clone();
    target.template_hash = revision.hash.as_str().into();
    target.pod = pod;
    let mut manifest = target.manifest.value();
    if let Some(spec) = manifest.get_mut("spec") {
        spec["template"] = revision.template.value();
        target.manifest = manifest.into();
    }
    Ok(revision.revision)
}
