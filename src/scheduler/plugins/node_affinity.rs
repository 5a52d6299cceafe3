//! NodeAffinity: `nodeSelector` and required node affinity must match;
//! matching preferred terms add their weights to the score.

use super::default_normalize;
use crate::model::pod::PodSpec;
use crate::scheduler::diagnosis::Reason;
use crate::scheduler::snapshot::{NodeInfo, Snapshot};
use crate::scheduler::{CycleState, FilterPlugin, Reads, ScorePlugin, Signature};

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

    fn normalize(&self, scores: &mut [i64], _: &CycleState) {
        default_normalize(scores, false);
    }
}
