//! NodeAffinity: `nodeSelector` and required node affinity must match;
//! matching preferred terms add their weights to the score.

use super::default_normalize;
use crate::model::labels::NodeSelectorOperator;
use crate::model::pod::PodSpec;
use crate::scheduler::diagnosis::Reason;
use crate::scheduler::snapshot::{NodeInfo, Snapshot};
use crate::scheduler::{CycleState, FilterPlugin, NodeMemo, Reads, ScorePlugin, Signature};
use std::collections::BTreeSet;

pub struct NodeAffinity;

impl FilterPlugin for NodeAffinity {
    fn name(&self) -> &'static str {
        "NodeAffinity"
    }

    fn reads(&self) -> Reads {
        Reads::Node
    }

    fn sign(&self, pod: &PodSpec, signature: &mut Signature) {
        signature.add(&pod.node_selector);
        signature.add(&pod.required_node_affinity());
    }

    fn pre_filter(&self, pod: &PodSpec, _: &Snapshot, state: &mut CycleState) {
        state.pre_filter_nodes = pre_filter_names(pod);
    }

    fn filter(&self, pod: &PodSpec, node: &NodeInfo, _: &CycleState) -> Result<(), Vec<Reason>> {
        if pod.matches_node_selector(&node.name, &node.labels) {
            Ok(())
        } else {
            Err(vec![Reason::NodeAffinity])
        }
    }
}

/// NodeAffinity's `PreFilter` result: when every required term names nodes
/// (`matchFields metadata.name In`, the requirements of a term intersected,
/// the terms united), the only nodes the pod may pass on, as a DaemonSet's
/// replica names its node. None when some term names none (all nodes are
/// candidates); an empty set when the terms conflict.
pub fn pre_filter_names(pod: &PodSpec) -> Option<BTreeSet<String>> {
    let terms = &pod.required_node_affinity()?.node_selector_terms;
    if terms.is_empty() {
        return None;
    }
    let mut names = BTreeSet::new();
    for term in terms {
        let mut in_term: Option<BTreeSet<String>> = None;
        let requirements = term
            .match_fields
            .iter()
            .filter(|r| r.key == "metadata.name" && r.operator == NodeSelectorOperator::In);
        for requirement in requirements {
            let values: BTreeSet<String> = requirement.values.iter().cloned().collect();
            in_term = Some(match in_term {
                None => values,
                Some(before) => before.intersection(&values).cloned().collect(),
            });
        }
        names.extend(in_term?);
    }
    Some(names)
}

impl ScorePlugin for NodeAffinity {
    fn name(&self) -> &'static str {
        "NodeAffinity"
    }

    fn reads(&self) -> Reads {
        Reads::Node
    }

    fn sign(&self, pod: &PodSpec, signature: &mut Signature) {
        let preferred = pod
            .affinity
            .node_affinity
            .as_ref()
            .map(|a| &a.preferred_during_scheduling_ignored_during_execution);
        signature.add(&preferred);
    }

    fn score(&self, pod: &PodSpec, snapshot: &Snapshot, node: usize, _: &CycleState) -> i64 {
        let node = &snapshot.nodes[node];
        pod.affinity.node_affinity.as_ref().map_or(0, |affinity| {
            affinity
                .preferred_during_scheduling_ignored_during_execution
                .iter()
                .filter(|term| {
                    term.weight != 0 && term.preference.matches(&node.name, &node.labels)
                })
                .map(|term| i64::from(term.weight))
                .sum()
        })
    }

    /// Each preferred term's matches are kept once for every pod that
    /// prefers it (the pods of a fleet share a few terms at many weights).
    fn score_all(
        &self,
        pod: &PodSpec,
        snapshot: &Snapshot,
        _: &CycleState,
        memo: &mut NodeMemo,
    ) -> Vec<i64> {
        let mut scores = vec![0; snapshot.nodes.len()];
        let terms = pod
            .affinity
            .node_affinity
            .iter()
            .flat_map(|a| &a.preferred_during_scheduling_ignored_during_execution)
            .filter(|term| term.weight != 0);
        for term in terms {
            let mut key = Signature::default();
            key.add(&"NodeAffinity/preference");
            key.add(&term.preference);
            let matches = memo.get(key, snapshot, |node| {
                term.preference.matches(&node.name, &node.labels)
            });
            for (score, _) in scores.iter_mut().zip(matches.iter()).filter(|(_, m)| **m) {
                *score += i64::from(term.weight);
            }
        }
        scores
    }

    fn normalize(&self, scores: &mut [i64], _: &CycleState) {
        default_normalize(scores, false);
    }
}
