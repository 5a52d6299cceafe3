//! TaintToleration: NoSchedule and NoExecute taints must be tolerated (the
//! first untolerated one is reported); untolerated PreferNoSchedule taints
//! lower the score.

use super::default_normalize;
use crate::model::pod::{PodSpec, TaintEffect, TolerationEffect, tolerates_all};
use crate::scheduler::diagnosis::Reason;
use crate::scheduler::snapshot::{NodeInfo, Snapshot};
use crate::scheduler::{CycleState, FilterPlugin, Reads, ScorePlugin, Signature};

pub struct TaintToleration;

impl FilterPlugin for TaintToleration {
    fn name(&self) -> &'static str {
        "TaintToleration"
    }

    fn reads(&self) -> Reads {
        Reads::Node
    }

    fn sign(&self, pod: &PodSpec, signature: &mut Signature) {
        signature.add(&pod.tolerations);
    }

    fn filter(&self, pod: &PodSpec, node: &NodeInfo, _: &CycleState) -> Result<(), Vec<Reason>> {
        let untolerated = node.taints.iter().find(|taint| {
            matches!(
                taint.effect,
                TaintEffect::NoSchedule | TaintEffect::NoExecute
            ) && !tolerates_all(&pod.tolerations, taint)
        });
        match untolerated {
            Some(taint) => Err(vec![Reason::UntoleratedTaint {
                key: taint.key.clone(),
                value: taint.value.clone(),
            }]),
            None => Ok(()),
        }
    }
}

impl ScorePlugin for TaintToleration {
    fn name(&self) -> &'static str {
        "TaintToleration"
    }

    fn reads(&self) -> Reads {
        Reads::Node
    }

    fn sign(&self, pod: &PodSpec, signature: &mut Signature) {
        signature.add(&pod.tolerations);
    }

    /// Untolerated PreferNoSchedule taints, counting only tolerations whose
    /// effect is empty or PreferNoSchedule (`getAllTolerationPreferNoSchedule`).
    fn score(&self, pod: &PodSpec, snapshot: &Snapshot, node: usize, _: &CycleState) -> i64 {
        let node = &snapshot.nodes[node];
        let tolerations: Vec<_> = pod
            .tolerations
            .iter()
            .filter(|t| {
                matches!(
                    t.effect,
                    TolerationEffect::Any | TolerationEffect::PreferNoSchedule
                )
            })
            .cloned()
            .collect();
        node.taints
            .iter()
            .filter(|t| {
                t.effect == TaintEffect::PreferNoSchedule && !tolerates_all(&tolerations, t)
            })
            .count() as i64
    }

    fn normalize(&self, scores: &mut [i64], _: &CycleState) {
        default_normalize(scores, true);
    }
}
