//! "Why is this replica pending?" and "why is it on this node?": the
//! scheduler's verdict on every node for one replica, against the cluster as
//! it stands without that replica, and what would let it onto each node that
//! rejects it. Pure: state and desired in, an explanation out.

use crate::model::state::{Replica, State};
use crate::model::workload::Desired;
use crate::reconcile::{Catalog, daemon_pod};
use crate::scheduler::diagnosis::remedy;
use crate::scheduler::{Evaluation, Scheduler};

#[derive(Debug, Clone)]
pub struct Explanation {
    pub replica: Replica,
    pub evaluation: Evaluation,
    /// Per rejected node: what would let the replica on.
    pub remedies: Vec<(String, Vec<String>)>,
    /// Where the scheduler would place it now, if anywhere.
    pub chosen: Option<String>,
    /// Where it fits nowhere: DefaultPreemption's answer, where the
    /// manifests use priorities.
    pub preemption: Option<Preemption>,
    /// Where it is pending and node groups are declared: whether one would
    /// take it, and when (cluster-autoscaler's view).
    pub node_group: Option<String>,
}

/// What DefaultPreemption would do for a replica that fits nowhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Preemption {
    /// Remove these replicas (name, priority) from `node` to make room.
    Would {
        node: String,
        victims: Vec<(String, i32)>,
    },
    /// Preemption cannot help: its message.
    Not(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExplainError {
    #[error("replica {0} not found in the state")]
    NotFound(String),
    #[error("replica {0}: no pod template is recorded for its revision")]
    NoTemplate(String),
}

pub fn explain(
    desired: &Desired,
    state: &State,
    name: &str,
    scheduler: &Scheduler,
) -> Result<Explanation, ExplainError> {
    let replica = state
        .replicas
        .iter()
        .find(|r| *r.name == *name)
        .ok_or_else(|| ExplainError::NotFound(name.into()))?;
    let catalog = Catalog::build(desired, state);
    let snapshot = crate::reconcile::occupied_snapshot(state, &catalog, Some(&replica.name));
    let template = catalog
        .pod(&replica.workload, &replica.hash)
        .ok_or_else(|| ExplainError::NoTemplate(name.into()))?;
    let mut pod = match &replica.target_node {
        Some(node) => daemon_pod(template, node),
        None => template.as_ref().clone(),
    };
    let workload = desired.workloads.iter().find(|w| w.id == replica.workload);
    let claims = crate::reconcile::storage::claims_of(&pod, replica, workload);
    if !claims.is_empty() {
        pod.volumes = crate::reconcile::storage::constraints(
            &claims,
            &pod.namespace,
            replica,
            state,
            &catalog,
            &desired.storage,
            &Default::default(),
        );
    }
    let evaluation = scheduler.evaluate(&pod, &snapshot);
    let mut remedies = Vec::new();
    for (verdict, node) in evaluation.nodes.iter().zip(&snapshot.nodes) {
        let reasons: Vec<String> = verdict
            .filters
            .iter()
            .filter_map(|(_, result)| result.as_ref().err())
            .flatten()
            .map(|reason| remedy(reason, &pod, node))
            .collect();
        if !reasons.is_empty() {
            remedies.push((verdict.node.clone(), reasons));
        }
    }
    let chosen = evaluation
        .result
        .as_ref()
        .ok()
        .map(|p| snapshot.nodes[p.node].name.to_string());
    let preemption = evaluation.result.is_err().then(|| {
        preemption(
            desired,
            state,
            &catalog,
            snapshot,
            &pod,
            scheduler,
            &replica.name,
        )
    });
    let mut evaluation = evaluation;
    if let (Err(error), Some(Preemption::Not(message))) = (&mut evaluation.result, &preemption) {
        error.post_filter = Some(message.clone());
    }
    let node_group = (replica.node.is_none() && !desired.node_groups.is_empty())
        .then(|| node_group(desired, state, &catalog, scheduler, replica))
        .flatten();
    Ok(Explanation {
        replica: replica.clone(),
        evaluation,
        remedies,
        chosen,
        preemption,
        node_group,
    })
}

/// What the node groups would do for a pending replica, in a sentence.
fn node_group(
    desired: &Desired,
    state: &State,
    catalog: &Catalog,
    scheduler: &Scheduler,
    replica: &crate::model::state::Replica,
) -> Option<String> {
    use crate::autoscale::nodegroup::controller::{PendingOutlook, outlook};
    let now = state.clock;
    Some(
        match outlook(desired, state, scheduler, catalog).remove(&*replica.name)? {
            PendingOutlook::Upcoming { node, ready_at } => format!(
                "node {node} of its node group joins at +{}s and would take it",
                ready_at.saturating_sub(now)
            ),
            PendingOutlook::WouldScaleUp { group, delay } => {
                format!("node group {group} would add a node at +{delay}s")
            }
            PendingOutlook::NoScaleUp(message) => format!("no node group would take it: {message}"),
        },
    )
}

fn preemption(
    desired: &Desired,
    state: &State,
    catalog: &Catalog,
    mut snapshot: crate::scheduler::snapshot::Snapshot,
    pod: &crate::model::pod::PodSpec,
    scheduler: &Scheduler,
    name: &str,
) -> Preemption {
    use crate::reconcile::preemption::{allowed, occupants};
    let occupants = occupants(desired, state, catalog, &snapshot, |_, r| *r.name == *name);
    let allowed = allowed(desired, state, catalog);
    match scheduler.preempt(pod, &mut snapshot, &occupants, &allowed) {
        crate::scheduler::preemption::Outcome::Preempt(victims) => Preemption::Would {
            node: snapshot.nodes[victims.node].name.to_string(),
            victims: victims
                .keys
                .iter()
                .zip(&victims.pods)
                .map(|(&key, &(priority, _))| (state.replicas[key].name.to_string(), priority))
                .collect(),
        },
        crate::scheduler::preemption::Outcome::NotHelpful(message) => Preemption::Not(message),
    }
}
