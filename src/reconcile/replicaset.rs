//! Standalone ReplicaSets and ReplicationControllers (`pkg/controller/replicaset`):
//! keep `replicas` pods, whatever template they run — a template change
//! touches no existing pod, only the ones created afterwards — and scale
//! down in `getPodsToDelete`'s order. Bare Pods (v1): placed once, never
//! replaced; one lost in a run (evicted, its node gone) stays gone until the
//! next run applies its manifest again.

use super::{DeleteReason, Pass};
use crate::model::state::Replica;
use crate::model::workload::Workload;

/// One ReplicaSet (or ReplicationController) sync: create or delete to the count.
pub(super) fn sync(pass: &mut Pass, workload: &Workload) {
    let members: Vec<&Replica> = pass.replicas_of(&workload.id).collect();
    let have = members.len() as i32;
    if have < workload.replicas {
        let revision = super::deployment::current_revision(pass, workload);
        for _ in have..workload.replicas {
            super::deployment::create(pass, workload, revision, None);
        }
    } else if have > workload.replicas {
        let count = (have - workload.replicas) as usize;
        super::deployment::scale_down(pass, workload, members, count, DeleteReason::ScaledDown);
    }
}

/// A bare Pod: created under its own name when missing; once lost, never
/// replaced (the executor forgets the loss when a run applies the manifest).
pub(super) fn sync_pod(pass: &mut Pass, workload: &Workload) {
    // Still there, or going in this very pass (evicted, its node gone):
    // then it is lost, not replaced.
    if let Some(indexes) = pass.by_workload.get(&workload.id)
        && let Some(&first) = indexes.first()
    {
        let replica = &pass.observed.replicas[first];
        // A pod's scheduling gates may be removed by an update (the API
        // server allows that change of a pod): the gated pod takes the
        // applied spec in place, and is queued.
        if replica.node.is_none()
            && replica.hash != workload.template_hash
            && crate::scheduler::plugins::scheduling_gates::is_gated(replica.reason.as_deref())
        {
            let revision = super::deployment::current_revision(pass, workload);
            pass.plan.actions.push(super::Action::UpdatePod {
                replica: replica.name.clone(),
                workload: workload.id.clone(),
                revision,
                hash: workload.template_hash.clone(),
            });
        }
        return;
    }
    if pass
        .stored(&workload.id)
        .is_some_and(|w| w.status.lost.is_some())
    {
        return;
    }
    let revision = super::deployment::current_revision(pass, workload);
    let name = workload.id.name.to_string();
    pass.create_replica(
        name,
        &workload.id,
        revision,
        workload.template_hash.clone(),
        None,
    );
}
