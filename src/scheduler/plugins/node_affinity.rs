//! NodeAffinity: `nodeSelector` and required node affinity must match;
//! matching preferred terms add their weights to the score.

use super::default_normalize;
use crate::model::pod::PodSpec;
use crate::scheduler::diagnosis::Reason;
use crate::scheduler::snapshot::{NodeInfo, Snapshot};
use crate::scheduler::{CycleState, FilterPlugin, NodeMemo, Reads, ScorePlugin, Signature};

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

    fn filter(&self, pod: &PodSpec, node: &NodeInfo, _: &CycleState) -> Result<(), Vec<Reason>> {
        if pod.matches_node_selector(&node.name, &node.labels) {
            Ok(())
        } else {
            Err(vec![Reason::NodeAffinity])
        }
    }
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
