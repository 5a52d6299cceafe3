//! PodDisruptionBudgets as the disruption controller computes them
//! (`getExpectedPodCount`, `countHealthyPods`): how many matching replicas
//! may be evicted right now.

use super::catalog::Catalog;
use crate::model::state::{Replica, State};
use crate::model::workload::{Desired, DisruptionBudget, IntOrPercent, WorkloadKind};
use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetStatus {
    pub id: crate::model::workload::ObjectRef,
    pub expected: i32,
    pub desired_healthy: i32,
    pub current_healthy: i32,
    pub disruptions_allowed: i32,
    /// Replicas the owning workloads want (what "healthy" can reach at most).
    pub scale: i32,
}

/// `minAvailable N` / `maxUnavailable N` as declared.
pub fn rule(budget: &DisruptionBudget) -> String {
    match (budget.min_available, budget.max_unavailable) {
        (Some(v), _) => format!("minAvailable {v}"),
        (_, Some(v)) => format!("maxUnavailable {v}"),
        _ => "no bounds".to_string(),
    }
}

impl BudgetStatus {
    /// Why the budget can never allow an eviction, however healthy its
    /// replicas get (evicting one always leaves fewer than it needs).
    pub fn never_allows(&self, budget: &DisruptionBudget) -> Option<String> {
        (self.scale > 0 && self.desired_healthy >= self.scale).then(|| {
            format!(
                "{} can never allow an eviction: {} needs {} healthy of the {} replicas it covers",
                self.id,
                rule(budget),
                self.desired_healthy,
                self.scale
            )
        })
    }

    /// Kubernetes' eviction refusal, with the numbers.
    pub fn refusal(&self, budget: &DisruptionBudget) -> String {
        let rule = rule(budget);
        format!(
            "Cannot evict pod as it would violate the pod's disruption budget. {} ({rule}) has {} healthy of {} expected, {} needed: {} disruptions allowed",
            self.id,
            self.current_healthy,
            self.expected,
            self.desired_healthy,
            self.disruptions_allowed
        )
    }
}

/// Whether `replica` is selected by `budget` (same namespace, selector on the pod labels).
pub fn selects(budget: &DisruptionBudget, replica: &Replica, catalog: &Catalog) -> bool {
    replica.workload.namespace == budget.id.namespace
        && budget.selector.as_ref().is_some_and(|selector| {
            catalog
                .pod(&replica.workload, &replica.hash)
                .is_some_and(|pod| selector.matches(&pod.labels))
        })
}

/// The budget's status, ignoring replicas already being removed (`gone`).
pub fn status(
    budget: &DisruptionBudget,
    desired: &Desired,
    state: &State,
    catalog: &Catalog,
    gone: &BTreeSet<std::sync::Arc<str>>,
) -> BudgetStatus {
    let matching: Vec<&Replica> = state
        .replicas
        .iter()
        .filter(|r| r.phase.is_active() && !gone.contains(&r.name) && selects(budget, r, catalog))
        .collect();
    let owners: BTreeSet<_> = matching.iter().map(|r| &r.workload).collect();
    let scale: i32 = desired
        .workloads
        .iter()
        .filter(|w| owners.contains(&w.id))
        .map(|w| match w.kind() {
            WorkloadKind::Deployment
            | WorkloadKind::StatefulSet
            | WorkloadKind::Job
            | WorkloadKind::ReplicaSet
            | WorkloadKind::Pod => w.replicas,
            WorkloadKind::DaemonSet => {
                state.replicas.iter().filter(|r| r.workload == w.id).count() as i32
            }
        })
        .sum::<i32>()
        // A pod orch does not manage counts as its owner's scale holds it
        // (the owner's replica count is not known; the pods present are).
        + matching.iter().filter(|r| r.is_unmanaged()).count() as i32;
    let (expected, desired_healthy) = match (budget.min_available, budget.max_unavailable) {
        (_, Some(unavailable)) => (scale, (scale - unavailable.scaled(scale, true)).max(0)),
        (Some(IntOrPercent::Int(n)), _) => (matching.len() as i32, n),
        (Some(percent @ IntOrPercent::Percent(_)), _) => (scale, percent.scaled(scale, true)),
        (None, None) => (matching.len() as i32, 0),
    };
    let current_healthy = matching.iter().filter(|r| r.ready).count() as i32;
    let disruptions_allowed = if expected <= 0 {
        0
    } else {
        (current_healthy - desired_healthy).max(0)
    };
    BudgetStatus {
        id: budget.id.clone(),
        expected,
        desired_healthy,
        current_healthy,
        disruptions_allowed,
        scale,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::workload::{Kind, ObjectRef};

    fn budget(min: Option<IntOrPercent>, max: Option<IntOrPercent>) -> DisruptionBudget {
        DisruptionBudget {
            id: ObjectRef::new(Kind::PodDisruptionBudget, "default", "api"),
            selector: None,
            min_available: min,
            max_unavailable: max,
            manifest: serde_json::Value::Null.into(),
        }
    }

    fn status(desired_healthy: i32, scale: i32) -> BudgetStatus {
        BudgetStatus {
            id: ObjectRef::new(Kind::PodDisruptionBudget, "default", "api"),
            expected: scale,
            desired_healthy,
            current_healthy: scale,
            disruptions_allowed: (scale - desired_healthy).max(0),
            scale,
        }
    }

    #[test]
    fn a_budget_needing_every_replica_never_allows_an_eviction() {
        let all = budget(Some(IntOrPercent::Int(4)), None);
        assert_eq!(
            status(4, 4).never_allows(&all).as_deref(),
            Some(
                "PodDisruptionBudget/default/api can never allow an eviction: minAvailable 4 needs 4 healthy of the 4 replicas it covers"
            )
        );
        let none = budget(None, Some(IntOrPercent::Percent(0)));
        assert!(
            status(4, 4)
                .never_allows(&none)
                .unwrap()
                .contains("maxUnavailable 0%")
        );
        // One to spare: evictions wait for health, but can happen.
        assert_eq!(status(3, 4).never_allows(&all), None);
    }
}
