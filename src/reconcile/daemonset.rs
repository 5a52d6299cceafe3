//! The DaemonSet controller: one replica on every eligible node
//! (`NodeShouldRunDaemonPod`: node selector and required affinity, and no
//! untolerated NoSchedule/NoExecute taint once Kubernetes' default DaemonSet
//! tolerations are added). A changed template replaces replicas node by node
//! within maxUnavailable or maxSurge (`rollout::daemonset`).

use super::deployment::{self, is_available};
use super::{DeleteReason, Pass};
use crate::model::labels::{
    NodeSelector, NodeSelectorOperator, NodeSelectorRequirement, NodeSelectorTerm,
};
use crate::model::pod::{
    NodeAffinity, PodSpec, TaintEffect, Toleration, TolerationEffect, TolerationOperator,
};
use crate::model::state::{NodeState, Replica};
use crate::model::workload::Workload;
use crate::rollout::{
    self,
    daemonset::{Node, Pod, Removal},
};
use rustc_hash::FxHashMap;

/// `AddOrUpdateDaemonPodTolerations` (pkg/controller/daemon/util).
pub fn default_tolerations() -> Vec<Toleration> {
    let toleration = |key: &str, effect: TolerationEffect| Toleration {
        key: key.to_string(),
        operator: TolerationOperator::Exists,
        value: String::new(),
        effect,
        toleration_seconds: None,
    };
    vec![
        toleration("node.kubernetes.io/not-ready", TolerationEffect::NoExecute),
        toleration(
            "node.kubernetes.io/unreachable",
            TolerationEffect::NoExecute,
        ),
        toleration(
            "node.kubernetes.io/disk-pressure",
            TolerationEffect::NoSchedule,
        ),
        toleration(
            "node.kubernetes.io/memory-pressure",
            TolerationEffect::NoSchedule,
        ),
        toleration(
            "node.kubernetes.io/pid-pressure",
            TolerationEffect::NoSchedule,
        ),
        toleration(
            "node.kubernetes.io/unschedulable",
            TolerationEffect::NoSchedule,
        ),
    ]
}

/// The pod a DaemonSet creates for one node: its template plus the default
/// tolerations, pinned to the node with required affinity on `metadata.name`
/// (`ReplaceDaemonSetPodNodeNameNodeAffinity`). An empty `node` gives the
/// unpinned pod used to decide which nodes are eligible.
pub fn daemon_pod(template: &PodSpec, node: &str) -> PodSpec {
    let mut pod = template.clone();
    for toleration in default_tolerations() {
        if !pod.tolerations.contains(&toleration) {
            pod.tolerations.push(toleration);
        }
    }
    if node.is_empty() {
        // The template for eligibility checks: tolerations only, no pin.
        return pod;
    }
    let pin = NodeSelectorRequirement {
        key: "metadata.name".to_string(),
        operator: NodeSelectorOperator::In,
        values: vec![node.to_string()],
    };
    let affinity = pod
        .affinity
        .node_affinity
        .get_or_insert_with(NodeAffinity::default);
    let required = affinity
        .required_during_scheduling_ignored_during_execution
        .get_or_insert_with(NodeSelector::default);
    if required.node_selector_terms.is_empty() {
        required
            .node_selector_terms
            .push(NodeSelectorTerm::default());
    }
    for term in &mut required.node_selector_terms {
        term.match_fields = vec![pin.clone()];
    }
    pod
}

/// (should run a new replica, may keep an existing one) for this node.
pub fn node_should_run(pod: &PodSpec, node: &NodeState) -> (bool, bool) {
    if !pod.matches_node_selector(&node.name, &node.labels) {
        return (false, false);
    }
    let mut should_run = true;
    let mut may_continue = true;
    for taint in &node.taints {
        if pod.tolerations.iter().any(|t| t.tolerates(taint)) {
            continue;
        }
        match taint.effect {
            TaintEffect::NoSchedule => should_run = false,
            TaintEffect::NoExecute => (should_run, may_continue) = (false, false),
            TaintEffect::PreferNoSchedule => {}
        }
    }
    (should_run, may_continue)
}

/// One DaemonSet controller sync (`rollout::daemonset::sync`: `manage`,
/// then `rollingUpdate`) turned into replica creations and deletions.
pub(super) fn sync(pass: &mut Pass, workload: &Workload, nodes: &[NodeState]) {
    let template = daemon_pod(&workload.pod, "");
    let replicas: Vec<&Replica> = pass.replicas_of(&workload.id).collect();
    let mut by_node: FxHashMap<&str, Vec<&Replica>> = FxHashMap::default();
    for replica in &replicas {
        if let Some(node) = replica.node.as_deref().or(replica.target_node.as_deref()) {
            by_node.entry(node).or_default().push(replica);
        }
    }
    let mut on_node: Vec<Vec<&Replica>> = Vec::with_capacity(nodes.len());
    let mut views: Vec<Node> = Vec::with_capacity(nodes.len());
    for node in nodes {
        let (should_run, should_continue_running) = node_should_run(&template, node);
        let here = by_node.remove(node.name.as_str()).unwrap_or_default();
        views.push(Node {
            should_run,
            should_continue_running,
            pods: here
                .iter()
                .map(|r| Pod {
                    name: &r.name,
                    updated: r.hash == workload.template_hash,
                    ready: r.ready,
                    available: is_available(r, workload.min_ready_seconds, pass.now),
                    scheduled: r.node.is_some(),
                    created_at: r.created_at,
                })
                .collect(),
        });
        on_node.push(here);
    }
    let decisions = rollout::daemonset::sync(&workload.strategy, &views);
    drop(views);
    let revision = deployment::current_revision(pass, workload);
    for (i, j, removal) in decisions.delete {
        let reason = match removal {
            Removal::NotEligible => DeleteReason::NodeNotEligible,
            Removal::Excess => DeleteReason::ScaledDown,
            Removal::Replaced => DeleteReason::Superseded,
        };
        pass.delete(on_node[i][j], reason);
    }
    for i in decisions.create {
        deployment::create(pass, workload, revision, Some(nodes[i].name.clone()));
    }
    // Replicas left in by_node sit on nodes that are gone; remove_orphans
    // handled bound ones. (In the order of their nodes' names.)
    let mut gone: Vec<(&str, Vec<&Replica>)> = by_node.into_iter().collect();
    gone.sort_unstable_by_key(|(node, _)| *node);
    for replica in gone.into_iter().flat_map(|(_, replicas)| replicas) {
        pass.delete(replica, DeleteReason::NodeGone);
    }
}
