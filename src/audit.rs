//! Checks on a finished state that the loop itself does not make. A rollout
//! places new replicas while the old ones still count for topology spread;
//! once the old ones are gone, the survivors may be skewed beyond a
//! constraint's `maxSkew` — Kubernetes does not rebalance either (that is
//! the descheduler's job). The spread audit reports each such constraint with
//! its numbers, counted exactly as PodTopologySpread's filter counts them
//! (`pod_topology_spread::domain_counts`: same eligible domains, node
//! inclusion policies, `minDomains`, `matchLabelKeys`). Pure: desired and
//! state in, findings out.

use crate::model::pod::WhenUnsatisfiable;
use crate::model::state::{Phase, State};
use crate::model::workload::{Desired, Kind};
use crate::reconcile::Catalog;
use crate::scheduler::plugins::pod_topology_spread::{constraints, domain_counts};
use crate::scheduler::snapshot::Snapshot;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One topology spread constraint whose skew exceeds its `maxSkew`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpreadSkew {
    /// The workload, `Kind/namespace/name`.
    pub object: String,
    pub topology_key: String,
    pub when_unsatisfiable: WhenUnsatisfiable,
    pub max_skew: i64,
    /// The most matching replicas in a domain minus the global minimum.
    pub skew: i64,
    /// Every eligible domain and its matching replicas, zeros included.
    pub domains: BTreeMap<String, i64>,
}

impl SpreadSkew {
    /// `topology spread on KEY: skew S exceeds maxSkew M (zone-a 5, zone-b 2)`.
    pub fn message(&self) -> String {
        let soft = match self.when_unsatisfiable {
            WhenUnsatisfiable::DoNotSchedule => "",
            WhenUnsatisfiable::ScheduleAnyway => " (ScheduleAnyway)",
        };
        let mut message = format!(
            "topology spread{soft} on {}: skew {} exceeds maxSkew {} (",
            self.topology_key, self.skew, self.max_skew
        );
        for (i, (domain, count)) in self.domains.iter().enumerate() {
            let separator = if i == 0 { "" } else { ", " };
            let _ = write!(message, "{separator}{domain} {count}");
        }
        message.push(')');
        message
    }
}

/// The scheduler's view of `state`: every placed replica that is not
/// terminating, except `except`, assumed on its node.
pub fn placed_snapshot(state: &State, catalog: &Catalog, except: Option<&str>) -> Snapshot {
    let mut snapshot = Snapshot::new(&state.nodes);
    for replica in &state.replicas {
        if Some(replica.name.as_str()) == except || replica.phase == Phase::Terminating {
            continue;
        }
        if let (Some(node), Some(pod)) = (
            replica.node.as_deref(),
            catalog.pod(&replica.workload, &replica.hash),
        ) && let Some(index) = snapshot.index_of(node)
        {
            snapshot.assume(index, pod);
        }
    }
    snapshot
}

/// Every Deployment's declared spread constraints checked on `state`, in the
/// order of the desired workloads, then of the constraints. The replicas are
/// counted for the current template (its labels feed `matchLabelKeys`).
/// DaemonSets are not audited: each of their replicas is pinned to its node,
/// so with the default `nodeAffinityPolicy: Honor` its only domain is its own.
pub fn spread(desired: &Desired, state: &State) -> Vec<SpreadSkew> {
    let audited: Vec<_> = desired
        .workloads
        .iter()
        .filter(|w| w.id.kind == Kind::Deployment && !w.pod.topology_spread_constraints.is_empty())
        .collect();
    if audited.is_empty() {
        return Vec::new();
    }
    let catalog = Catalog::build(desired, state);
    let snapshot = placed_snapshot(state, &catalog, None);
    let mut findings = Vec::new();
    for workload in audited {
        let Some(pod) = catalog.pod(&workload.id, &workload.template_hash) else {
            continue;
        };
        for mode in [
            WhenUnsatisfiable::DoNotSchedule,
            WhenUnsatisfiable::ScheduleAnyway,
        ] {
            let constraints = constraints(pod, mode);
            if constraints.is_empty() {
                continue;
            }
            let counted = domain_counts(pod, &snapshot, &constraints);
            for ((constraint, counts), minimum) in
                constraints.iter().zip(counted.counts).zip(counted.minimum)
            {
                let most = counts.values().copied().max().unwrap_or(0);
                let skew = most - minimum;
                if skew > constraint.max_skew {
                    findings.push(SpreadSkew {
                        object: workload.id.to_string(),
                        topology_key: constraint.key.clone(),
                        when_unsatisfiable: mode,
                        max_skew: constraint.max_skew,
                        skew,
                        domains: counts.into_iter().collect(),
                    });
                }
            }
        }
    }
    findings
}

#[cfg(test)]
mod tests;
