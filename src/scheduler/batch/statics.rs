//! Results of the `Reads::Node` plugins: once per node for every pod whose
//! signature for that plugin is equal, cached per plugin for the pass.

use super::HashMap;
use super::classes::Numbering;
use super::roles::Roles;
use crate::model::pod::PodSpec;
use crate::scheduler::snapshot::Snapshot;
use crate::scheduler::{CycleState, Scheduler, Signature};
use std::rc::Rc;

/// The static results for one pod, shared by the runs of equal signatures.
pub(super) struct Statics {
    /// This pass's number for it (keys of the caches built on it).
    pub id: usize,
    /// Every `Reads::Node` filter passes.
    pub ok: Vec<bool>,
    /// Per `Reads::Node` scorer (in the profile's order): each node's raw score.
    pub raws: Vec<Rc<Vec<i64>>>,
    /// Each node's raw scores as one number (equal numbers, equal scores),
    /// numbered in order of first appearance.
    pub scored: Vec<u32>,
}

#[derive(Default)]
pub(super) struct Cache {
    by_pod: HashMap<Signature, Rc<Statics>>,
    /// By (the filter's position in the profile, its signature of the pod).
    filters: HashMap<(usize, Signature), Rc<Vec<bool>>>,
    scores: HashMap<(usize, Signature), Rc<Vec<i64>>>,
    /// Parts of scores shared between signatures (`ScorePlugin::score_all`).
    memo: crate::scheduler::NodeMemo,
}

impl Cache {
    /// The static results for `pod`, computed by each plugin only for a
    /// signature it has not seen in this pass.
    pub fn get(
        &mut self,
        scheduler: &Scheduler,
        roles: &Roles,
        pod: &PodSpec,
        snapshot: &Snapshot,
    ) -> Rc<Statics> {
        let state = CycleState::default();
        let sign = |sign: &dyn Fn(&mut Signature)| {
            let mut signature = Signature::default();
            sign(&mut signature);
            signature
        };
        let filter_keys: Vec<(usize, Signature)> = roles
            .node_filters
            .iter()
            .map(|&f| (f, sign(&|s| scheduler.filters()[f].sign(pod, s))))
            .collect();
        let score_keys: Vec<(usize, Signature)> = roles
            .node_scorers
            .iter()
            .map(|&s| (s, sign(&|sig| scheduler.scorers()[s].plugin.sign(pod, sig))))
            .collect();
        let mut whole = Signature::default();
        for (position, signature) in filter_keys.iter().chain(&score_keys) {
            whole.nest(*position, signature);
        }
        if let Some(found) = self.by_pod.get(&whole) {
            return found.clone();
        }
        let nodes = &snapshot.nodes;
        let mut ok = vec![true; nodes.len()];
        for key in filter_keys {
            let plugin = &scheduler.filters()[key.0];
            let passes = self.filters.entry(key).or_insert_with(|| {
                Rc::new(
                    nodes
                        .iter()
                        .map(|n| plugin.passes(pod, n, &state))
                        .collect(),
                )
            });
            ok.iter_mut()
                .zip(passes.iter())
                .for_each(|(ok, p)| *ok &= p);
        }
        let raws: Vec<Rc<Vec<i64>>> = score_keys
            .into_iter()
            .map(|key| {
                let plugin = &scheduler.scorers()[key.0].plugin;
                let memo = &mut self.memo;
                let scores = self
                    .scores
                    .entry(key)
                    .or_insert_with(|| Rc::new(plugin.score_all(pod, snapshot, &state, memo)));
                scores.clone()
            })
            .collect();
        let statics = Rc::new(Statics {
            id: self.by_pod.len(),
            ok,
            scored: number_tuples(&raws, nodes.len()),
            raws,
        });
        self.by_pod.insert(whole, statics.clone());
        statics
    }
}

/// Number each node's tuple of raw scores, one score at a time.
fn number_tuples(raws: &[Rc<Vec<i64>>], n: usize) -> Vec<u32> {
    let mut numbers = vec![0u32; n];
    for scores in raws {
        let mut numbering: Numbering<(u32, i64)> = Numbering::default();
        for (number, &score) in numbers.iter_mut().zip(scores.iter()) {
            *number = numbering.number((*number, score));
        }
    }
    numbers
}

impl Signature {
    /// Add another signature, tagged (length-prefixed: never ambiguous).
    pub(crate) fn nest(&mut self, tag: usize, inner: &Signature) {
        self.add(&(tag, inner.0.len()));
        self.0.extend_from_slice(&inner.0);
    }
}
