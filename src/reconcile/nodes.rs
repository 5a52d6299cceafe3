//! The node fleet: nodes declared in the manifests are added, updated and
//! removed to match; nodes added with `orch node add` stay until removed.
//! Cordons (`orch node cordon`) and readiness are observed facts and survive.

use super::{Action, Pass, Prune};
use crate::model::state::{NodeSource, NodeState};
use crate::model::workload::NodeSpec;
use std::collections::BTreeMap;

/// Emits the node actions and returns the fleet as it will be after them, sorted by name.
pub(super) fn sync(pass: &mut Pass, prune: Prune) -> Vec<NodeState> {
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
    let mut fleet: BTreeMap<String, NodeState> = BTreeMap::new();
    // A node on its way out leaves once no replica (but DaemonSet ones) is left on it.
    // (Collected only when some node is leaving or may be.)
    let may_leave = pass.observed.nodes.iter().any(|n| {
        n.removing
            || (n.source == NodeSource::Manifest
                && remove_undeclared
                && !declared.contains_key(n.name.as_str()))
    });
    let holding: rustc_hash::FxHashSet<&str> = if may_leave {
        pass.observed
            .replicas
            .iter()
            .filter(|r| r.workload.kind != crate::model::workload::Kind::DaemonSet)
            .filter_map(|r| r.node.as_deref())
            .collect()
    } else {
        Default::default()
    };
    for node in &pass.observed.nodes {
        let holds_replicas = holding.contains(node.name.as_str());
        let undeclared = !declared.contains_key(node.name.as_str());
        if node.removing && (undeclared || node.source == NodeSource::Imperative) {
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
            Some(spec) => {
                let updated = updated_node(node, spec);
                if &updated != node {
                    pass.plan.actions.push(Action::UpdateNode(updated.clone()));
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
                    pass.plan.actions.push(Action::UpdateNode(leaving.clone()));
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
            pass.plan.actions.push(Action::AddNode(node.clone()));
            fleet.insert(spec.name.clone(), node);
        }
    }
    fleet.into_values().collect()
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

/// The kubelet always labels its node with `kubernetes.io/hostname`.
fn node_labels(spec: &NodeSpec) -> crate::model::labels::Labels {
    let mut labels = spec.labels.clone();
    labels
        .entry(HOSTNAME_LABEL.to_string())
        .or_insert_with(|| spec.name.clone());
    labels
}

pub const HOSTNAME_LABEL: &str = "kubernetes.io/hostname";
