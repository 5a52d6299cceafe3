//! What cluster-autoscaler reads off each pod of a node it considers
//! removing (`simulator/drain.go` and its drainability rules): whether a
//! controller recreates it, local storage, kube-system, the safe-to-evict
//! annotation, and the PodDisruptionBudgets it would break.

use super::PodOnNode;
use crate::model::state::{Replica, State};
use crate::model::workload::{Desired, Kind, ObjectRef};
use crate::reconcile::Catalog;
use crate::reconcile::disruption::{self, BudgetStatus};
use std::collections::BTreeSet;

/// `cluster-autoscaler.kubernetes.io/safe-to-evict` on a pod.
pub const SAFE_TO_EVICT: &str = "cluster-autoscaler.kubernetes.io/safe-to-evict";

/// The budgets of the set and how many disruptions each allows now.
pub struct Budgets<'a> {
    budgets: Vec<(&'a crate::model::workload::DisruptionBudget, BudgetStatus)>,
}

impl<'a> Budgets<'a> {
    pub fn new(desired: &'a Desired, state: &State, catalog: &Catalog) -> Budgets<'a> {
        let budgets = desired
            .disruption_budgets
            .iter()
            .map(|b| {
                let status = disruption::status(b, desired, state, catalog, &BTreeSet::new());
                (b, status)
            })
            .collect();
        Budgets { budgets }
    }
}

/// The pod template a replica was made from: its workload's declared one,
/// else the stored revision's.
fn template<'s>(
    desired: &'s Desired,
    state: &'s State,
    replica: &Replica,
) -> Option<&'s crate::model::json::Json> {
    if let Some(workload) = desired
        .workloads
        .iter()
        .find(|w| w.id == replica.workload && *w.template_hash == *replica.hash)
    {
        return Some(&workload.template);
    }
    state
        .workload(&replica.workload)?
        .revisions
        .iter()
        .find(|r| r.hash == *replica.hash)
        .map(|r| &r.template)
}

/// Whether the template mounts node-local storage (an `emptyDir` or a
/// `hostPath` volume), as `--skip-nodes-with-local-storage` reads it.
fn has_local_storage(template: &serde_json::Value) -> bool {
    template
        .pointer("/spec/volumes")
        .and_then(serde_json::Value::as_array)
        .is_some_and(|volumes| {
            volumes
                .iter()
                .any(|v| v.get("emptyDir").is_some() || v.get("hostPath").is_some())
        })
}

fn safe_to_evict(template: &serde_json::Value) -> Option<bool> {
    let value = template
        .pointer("/metadata/annotations")?
        .get(SAFE_TO_EVICT)?;
    match value.as_str()? {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// The pods bound to `node` as the removal simulation reads them, in state
/// order; pods whose template is unknown request nothing and are skipped.
pub fn pods_on<'s>(
    node: &str,
    desired: &'s Desired,
    state: &'s State,
    catalog: &'s Catalog,
    budgets: &Budgets,
) -> Vec<PodOnNode<'s>> {
    let replicas: Vec<&Replica> = state
        .replicas
        .iter()
        .filter(|r| r.phase.is_active() && r.node.as_deref() == Some(node))
        .collect();
    // A budget allowing fewer disruptions than the node's pods it selects
    // blocks the node (`checkPdbs`).
    let mut blocking: Vec<Option<&ObjectRef>> = vec![None; replicas.len()];
    let mut covered = vec![false; replicas.len()];
    for (budget, status) in &budgets.budgets {
        let selected: Vec<usize> = (0..replicas.len())
            .filter(|&i| disruption::selects(budget, replicas[i], catalog))
            .collect();
        for &i in &selected {
            covered[i] = true;
            if selected.len() as i32 > status.disruptions_allowed && blocking[i].is_none() {
                blocking[i] = Some(&budget.id);
            }
        }
    }
    let mut pods = Vec::new();
    for (i, replica) in replicas.into_iter().enumerate() {
        let Some(pod) = catalog.pod(&replica.workload, &replica.hash) else {
            continue;
        };
        // Parsed only when its text names what is read of it (the text is
        // serde_json's, keys unescaped): most templates mention neither.
        let template = template(desired, state, replica)
            .filter(|t| {
                let text = t.as_str();
                text.contains("emptyDir")
                    || text.contains("hostPath")
                    || text.contains(SAFE_TO_EVICT)
            })
            .map(crate::model::json::Json::value);
        let unmanaged_owner = replica
            .unmanaged
            .as_ref()
            .is_some_and(|u| u.owner.is_some());
        pods.push(PodOnNode {
            name: &replica.name,
            pod,
            replicated: (replica.workload.kind != Kind::Pod && !replica.is_unmanaged())
                || unmanaged_owner,
            daemon: replica.workload.kind == Kind::DaemonSet,
            local_storage: template.as_ref().is_some_and(has_local_storage),
            system: pod.namespace == "kube-system" && !covered[i],
            safe_to_evict: template.as_ref().and_then(safe_to_evict),
            blocking_budget: blocking[i].map(ToString::to_string),
        });
    }
    pods
}
