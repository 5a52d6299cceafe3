//! The node fleet: nodes declared in the manifests are added, updated and
//! removed to match; nodes added with `orch node add` stay until removed.
//! Cordons (`orch node cordon`) and readiness are observed facts and survive.

use super::{Action, Pass, Prune};
use crate::model::state::{NodeSource, NodeState};
use crate::model::workload::NodeSpec;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Emits the node actions and returns the fleet as it will be after them, sorted by name:
/// one merge of the declared and the observed nodes by name, each case
/// (kept, changed, drained, removed, added) an arm.
pub(super) fn sync<'a>(pass: &mut Pass<'a>, prune: Prune) -> Cow<'a, [NodeState]> {
    let declared: BTreeMap<&str, &NodeSpec> = pass
        .desired
        .nodes
        .iter()
        .map(|n| (n.name.as_str(), n))
        .collect();
    let remove_undeclared = match prune {
        Prune::Keep => false,
        Prune::All => true,
        Prune::Auto => !pass.desired.nodes.is_empty(),
    };
    // Usually nothing changes: every node stays as it is, none is added.
    let observed: &'a [NodeState] = &pass.observed.nodes;
    if unchanged(observed, &declared, remove_undeclared) {
        return Cow::Borrowed(observed);
    }
    let mut fleet: BTreeMap<String, NodeState> = BTreeMap::new();
    let holding = holding_replicas(pass, &declared, remove_undeclared);
    for node in &pass.observed.nodes {
        let holds_replicas = holding.contains(node.name.as_str());
        let undeclared = !declared.contains_key(node.name.as_str());
        if node.removing && (undeclared || node.source != NodeSource::Manifest) {
            if holds_replicas {
                fleet.insert(node.name.clone(), node.clone());
            } else {
                pass.plan.actions.push(Action::RemoveNode {
                    name: node.name.clone(),
                });
            }
            continue;
        }
        match declared.get(node.name.as_str()) {
            Some(spec) if is_current(node, spec) => {
                fleet.insert(node.name.clone(), node.clone());
            }
            Some(spec) => {
                let updated = updated_node(node, spec);
                if &updated != node {
                    pass.plan
                        .actions
                        .push(Action::UpdateNode(Box::new(updated.clone())));
                }
                fleet.insert(node.name.clone(), updated);
            }
            None if node.source == NodeSource::Manifest && remove_undeclared => {
                if holds_replicas {
                    // Drained first, as `kubectl drain` before deleting a node.
                    let leaving = NodeState {
                        draining: true,
                        removing: true,
                        unschedulable: true,
                        ..node.clone()
                    };
                    pass.plan
                        .actions
                        .push(Action::UpdateNode(Box::new(leaving.clone())));
                    fleet.insert(node.name.clone(), leaving);
                } else {
                    pass.plan.actions.push(Action::RemoveNode {
                        name: node.name.clone(),
                    });
                }
            }
            None => {
                fleet.insert(node.name.clone(), node.clone());
            }
        }
    }
    for spec in &pass.desired.nodes {
        if !fleet.contains_key(&spec.name) && pass.observed.node(&spec.name).is_none() {
            let node = new_node(spec);
            pass.plan
                .actions
                .push(Action::AddNode(Box::new(node.clone())));
            fleet.insert(spec.name.clone(), node);
        }
    }
    Cow::Owned(fleet.into_values().collect())
}

/// Whether the fleet stays as it is: sorted, every declared node current,
/// no node leaving or pruned, none to add.
fn unchanged(
    observed: &[NodeState],
    declared: &BTreeMap<&str, &NodeSpec>,
    remove_undeclared: bool,
) -> bool {
    let mut still_declared = 0;
    observed.windows(2).all(|w| w[0].name < w[1].name)
        && observed
            .iter()
            .all(|node| match declared.get(node.name.as_str()) {
                Some(spec) => {
                    still_declared += 1;
                    is_current(node, spec)
                }
                // Kept as it is (not leaving, not pruned).
                None => {
                    let pruned = node.source == NodeSource::Manifest && remove_undeclared;
                    !(node.removing || pruned)
                }
            })
        && still_declared == declared.len()
}

/// The nodes that hold replicas (but DaemonSet ones): a node on its way
/// out leaves once no replica (but DaemonSet ones) is left on it.
/// (Collected only when some node is leaving or may be.)
fn holding_replicas<'a>(
    pass: &Pass<'a>,
    declared: &BTreeMap<&str, &NodeSpec>,
    remove_undeclared: bool,
) -> rustc_hash::FxHashSet<&'a str> {
    let may_leave = pass.observed.nodes.iter().any(|n| {
        n.removing
            || (n.source == NodeSource::Manifest
                && remove_undeclared
                && !declared.contains_key(n.name.as_str()))
    });
    if !may_leave {
        return Default::default();
    }
    pass.observed
        .replicas
        .iter()
        .filter(|r| r.workload.kind != crate::model::workload::Kind::DaemonSet)
        // A node's mirror pods and the pods orch does not manage leave with it.
        .filter(|r| !r.is_unmanaged())
        // (A replica left Terminating on a lost node goes with it.)
        .filter(|r| r.phase != crate::model::state::Phase::Terminating)
        .filter_map(|r| r.node.as_deref())
        .collect()
}

pub fn new_node(spec: &NodeSpec) -> NodeState {
    NodeState {
        name: spec.name.clone(),
        labels: node_labels(spec),
        allocatable: spec.allocatable.clone(),
        taints: spec.taints.clone(),
        unschedulable: spec.unschedulable,
        cordoned: false,
        draining: false,
        removing: false,
        not_ready_since: None,
        ready: true,
        conditions: Vec::new(),
        source: NodeSource::Manifest,
    }
}

fn updated_node(current: &NodeState, spec: &NodeSpec) -> NodeState {
    NodeState {
        labels: node_labels(spec),
        allocatable: spec.allocatable.clone(),
        taints: spec.taints.clone(),
        // Declared again after being removed from the manifests: wanted after all.
        draining: current.draining && !current.removing,
        removing: false,
        unschedulable: spec.unschedulable
            || current.cordoned
            || (current.draining && !current.removing),
        source: NodeSource::Manifest,
        ..current.clone()
    }
}

/// Whether `updated_node(current, spec)` would be `current` unchanged
/// (checked without building it: a fleet's nodes are mostly unchanged).
fn is_current(current: &NodeState, spec: &NodeSpec) -> bool {
    let hostname_declared = spec.labels.contains_key(HOSTNAME_LABEL);
    let labels_current = current.labels.len()
        == spec.labels.len() + usize::from(!hostname_declared)
        && current.labels.iter().all(|(key, value)| {
            if key == HOSTNAME_LABEL && !hostname_declared {
                *value == spec.name
            } else {
                spec.labels.get(key) == Some(value)
            }
        });
    let draining = current.draining && !current.removing;
    labels_current
        && current.allocatable == spec.allocatable
        && current.taints == spec.taints
        && !current.removing
        && current.draining == draining
        && current.unschedulable == (spec.unschedulable || current.cordoned || draining)
        && current.source == NodeSource::Manifest
}

/// The kubelet always labels its node with `kubernetes.io/hostname`.
fn node_labels(spec: &NodeSpec) -> crate::model::labels::Labels {
    let mut labels = spec.labels.clone();
    labels
        .entry(HOSTNAME_LABEL.to_string())
        .or_insert_with(|| spec.name.clone());
    labels
}

pub const HOSTNAME_LABEL: &str = "kubernetes.io/hostname";

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn labels(picks: &[(u8, u8)], name: &str) -> crate::model::labels::Labels {
        picks
            .iter()
            .map(|&(key, value)| match key % 4 {
                0 => (
                    HOSTNAME_LABEL.to_string(),
                    if value % 2 == 0 {
                        name.to_string()
                    } else {
                        format!("h{value}")
                    },
                ),
                k => (format!("k{k}"), format!("v{}", value % 3)),
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// The shortcut agrees with building the updated node and comparing.
        #[test]
        fn is_current_is_updated_node_unchanged(
            spec_labels in prop::collection::vec((any::<u8>(), any::<u8>()), 0..4),
            node_labels_ in prop::collection::vec((any::<u8>(), any::<u8>()), 0..4),
            same_labels in any::<bool>(),
            flags in prop::collection::vec(prop::bool::weighted(0.2), 8),
            cpu in (1i64..3, 1i64..3),
        ) {
            let name = "n1";
            let mut spec = NodeSpec {
                name: name.to_string(),
                labels: labels(&spec_labels, name),
                taints: Vec::new(),
                unschedulable: flags[0],
                allocatable: Default::default(),
            };
            spec.allocatable.resources.milli_cpu = cpu.0 * 1000;
            let mut current = new_node(&spec);
            if !same_labels {
                current.labels = labels(&node_labels_, name);
            }
            current.allocatable.resources.milli_cpu = cpu.1 * 1000;
            current.unschedulable = flags[1];
            current.cordoned = flags[2];
            current.draining = flags[3];
            current.removing = flags[4];
            current.ready = flags[5];
            if flags[6] {
                current.source = NodeSource::Imperative;
            }
            if flags[7] {
                current.taints.push(crate::model::pod::Taint::new(
                    "k",
                    "",
                    crate::model::pod::TaintEffect::NoSchedule,
                ));
            }
            prop_assert_eq!(is_current(&current, &spec), updated_node(&current, &spec) == current);
        }
    }
}
