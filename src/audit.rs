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
use crate::model::state::State;
use crate::model::workload::{Desired, Kind};
use crate::reconcile::{Catalog, current_pod, occupied_snapshot};
use crate::scheduler::plugins::pod_topology_spread::{add_selected, constraints, global_minimum};
use crate::scheduler::snapshot::Snapshot;
use rustc_hash::FxHashMap as HashMap;
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

/// Every Deployment's declared spread constraints checked on `state`, in the
/// order of the desired workloads (hard constraints, then soft ones). The
/// replicas are counted for the current template (its labels feed
/// `matchLabelKeys`). DaemonSets are not audited: each of their replicas is
/// pinned to its node, so with the default `nodeAffinityPolicy: Honor` its
/// only domain is its own.
///
/// `settled` is the scheduler's view of `state` when the run that ended
/// on it has one (`RunResult::settled`); None accounts every bound replica
/// again (`occupied_snapshot`), the reference the settled view is tested
/// against.
pub fn spread(desired: &Desired, state: &State, settled: Option<&Snapshot>) -> Vec<SpreadSkew> {
    let audited: Vec<_> = desired
        .workloads
        .iter()
        .filter(|w| w.id.kind == Kind::Deployment && !w.pod.topology_spread_constraints.is_empty())
        .collect();
    if audited.is_empty() {
        return Vec::new();
    }
    let accounted;
    let snapshot = match settled {
        Some(snapshot) => snapshot,
        None => {
            accounted = occupied_snapshot(state, &Catalog::build(desired, state), None);
            &accounted
        }
    };
    let mut findings = Vec::new();
    for workload in audited {
        let pod = &current_pod(workload);
        for mode in [
            WhenUnsatisfiable::DoNotSchedule,
            WhenUnsatisfiable::ScheduleAnyway,
        ] {
            let constraints = constraints(pod, mode);
            if constraints.is_empty() {
                continue;
            }
            // Found once per layout (most workloads share one) by the snapshot.
            let domains = snapshot.eligible_domains(pod, &constraints);
            for (i, constraint) in constraints.iter().enumerate() {
                let mut matching = HashMap::default();
                let counted = &domains.counted[i];
                add_selected(snapshot, pod, constraint, counted, &mut matching);
                let minimum = global_minimum(constraint, domains.empty[i].len(), &matching);
                let most = matching.values().copied().max().unwrap_or(0);
                if most - minimum > constraint.max_skew {
                    let mut all: BTreeMap<String, i64> = domains.empty[i]
                        .iter()
                        .map(|(domain, count)| (domain.clone(), *count))
                        .collect();
                    all.extend(matching);
                    findings.push(SpreadSkew {
                        object: workload.id.to_string(),
                        topology_key: constraint.key.clone(),
                        when_unsatisfiable: mode,
                        max_skew: constraint.max_skew,
                        skew: most - minimum,
                        domains: all,
                    });
                }
            }
        }
    }
    findings
}

#[cfg(test)]
mod tests;
