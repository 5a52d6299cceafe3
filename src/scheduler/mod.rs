//! Constrained placement with kube-scheduler's framework: every node goes
//! through the filter plugins (the first failing one rejects it, with its
//! reasons counted); the feasible nodes are scored by the score plugins
//! (normalized to 0..100, weighted, summed); the highest total wins, ties
//! going to the lowest node name (kube-scheduler picks among ties at random).
//! Pure: a pod and a snapshot in, a placement or a `FitError` out.

pub mod batch;
pub mod diagnosis;
pub mod plugins;
pub mod preemption;
pub mod remembered;
pub mod snapshot;
pub mod verdicts;

pub use diagnosis::{FitError, Reason};
use snapshot::{NodeInfo, Snapshot};

use crate::model::pod::PodSpec;
use std::collections::BTreeMap;

/// `framework.MaxNodeScore`.
pub const MAX_NODE_SCORE: i64 = 100;

/// How NodeResourcesFit scores free resources.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ScoringStrategy {
    /// Prefer the emptiest nodes (the default).
    #[default]
    LeastAllocated,
    /// Prefer the fullest nodes that still fit (bin packing).
    MostAllocated,
}

/// Per-pod state computed once per scheduling cycle (PreFilter, PreScore)
/// by the plugins that need a view of the whole cluster.
#[derive(Debug, Default)]
pub struct CycleState {
    /// NodeAffinity's PreFilter result: the only node names the pod may
    /// pass on (`PreFilterResult.NodeNames`); every other node is reported
    /// as not satisfying the plugin, unfiltered. An empty set: the terms
    /// conflict and no node may pass.
    pub pre_filter_nodes: Option<std::collections::BTreeSet<String>>,
    pub spread: Option<plugins::pod_topology_spread::FilterState>,
    pub spread_score: Option<plugins::pod_topology_spread::ScoreState>,
    pub affinity: Option<plugins::inter_pod_affinity::FilterState>,
    pub affinity_score: Option<plugins::inter_pod_affinity::ScoreState>,
}

/// What a plugin's verdict or score on a node depends on, besides the pod:
/// how the batch layer ([`batch`]) may reuse it across the replicas of a run
/// (as kube-scheduler's plugins sign pods for batching in `signature.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reads {
    /// The node's fixed facts (name, labels, taints, unschedulable): computed
    /// once per node for every pod of an equal [`Signature`].
    Node,
    /// Also what is placed on the node itself (requests, pod count):
    /// recomputed for a node when a replica is placed there. A scorer that
    /// reads this must not normalize (its score is final per node).
    NodeUsage,
    /// The replicas across topology domains (PodTopologySpread,
    /// InterPodAffinity): the batch layer keeps the per-domain counts and
    /// calls the plugin's own formulas on them.
    Domains,
    /// Anything else: while such a plugin is in the profile, every pod takes
    /// the plain path (counted in [`batch::Stats`]).
    Cluster,
}

/// The pod fields a plugin reads, written by the plugin itself: results of
/// `Reads::Node` plugins are shared between pods whose signatures are equal,
/// and are never keyed by anything the plugin did not declare.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Signature(Vec<u8>);

impl Signature {
    /// Add one field (its serialised form: equal bytes mean equal fields).
    pub fn add(&mut self, field: &impl serde::Serialize) {
        serde_json::to_writer(&mut self.0, field).expect("pod fields serialise");
        self.0.push(0);
    }
}

pub trait FilterPlugin: Send + Sync {
    fn name(&self) -> &'static str;
    /// Called once per pod before any node is filtered.
    fn pre_filter(&self, _pod: &PodSpec, _snapshot: &Snapshot, _state: &mut CycleState) {}
    fn filter(&self, pod: &PodSpec, node: &NodeInfo, state: &CycleState)
    -> Result<(), Vec<Reason>>;
    /// Whether `filter` passes (a plugin may answer without building reasons).
    fn passes(&self, pod: &PodSpec, node: &NodeInfo, state: &CycleState) -> bool {
        self.filter(pod, node, state).is_ok()
    }
    /// What the verdict depends on (see [`Reads`]).
    fn reads(&self) -> Reads {
        Reads::Cluster
    }
    /// Write the pod fields `filter` reads (used for `Reads::Node` and
    /// `Reads::NodeUsage`).
    fn sign(&self, _pod: &PodSpec, _signature: &mut Signature) {}
    /// Whether the plugin has nothing to say about this pod (its PreFilter
    /// returns Skip): it passes every node and is left out of explanations.
    fn skips(&self, _pod: &PodSpec) -> bool {
        false
    }
}

pub trait ScorePlugin: Send + Sync {
    fn name(&self) -> &'static str;
    /// Called once per pod with the nodes that passed every filter.
    fn pre_score(
        &self,
        _pod: &PodSpec,
        _snapshot: &Snapshot,
        _feasible: &[usize],
        _state: &mut CycleState,
    ) {
    }
    fn score(&self, pod: &PodSpec, snapshot: &Snapshot, node: usize, state: &CycleState) -> i64;
    /// Scale the raw scores of the feasible nodes to 0..=MAX_NODE_SCORE. It
    /// may depend only on which values are present (their minimum and
    /// maximum), not on how often each occurs: the batch layer calls it on
    /// the raw scores of classes of equal nodes.
    fn normalize(&self, _scores: &mut [i64], _state: &CycleState) {}
    /// What the score depends on (see [`Reads`]).
    fn reads(&self) -> Reads {
        Reads::Cluster
    }
    /// Write the pod fields `score` reads (used for `Reads::Node` and
    /// `Reads::NodeUsage`).
    fn sign(&self, _pod: &PodSpec, _signature: &mut Signature) {}
    /// `score` on every node of `snapshot` (the batch layer's static scores
    /// of a `Reads::Node` plugin): the same numbers, where a plugin may keep
    /// parts shared by many pods in `memo`.
    fn score_all(
        &self,
        pod: &PodSpec,
        snapshot: &Snapshot,
        state: &CycleState,
        _memo: &mut NodeMemo,
    ) -> Vec<i64> {
        (0..snapshot.nodes.len())
            .map(|node| self.score(pod, snapshot, node, state))
            .collect()
    }
}

/// Per-node answers that the pods of one snapshot share, each kept once
/// under the signature of what it answers (a node selector term's matches
/// for NodeAffinity's preferred terms, whatever their weights).
#[derive(Default)]
pub struct NodeMemo {
    answers: rustc_hash::FxHashMap<Signature, std::rc::Rc<Vec<bool>>>,
}

impl NodeMemo {
    /// The answer kept under `key`, made by `answer` on every node when new.
    pub fn get(
        &mut self,
        key: Signature,
        snapshot: &Snapshot,
        answer: impl Fn(&NodeInfo) -> bool,
    ) -> std::rc::Rc<Vec<bool>> {
        self.answers
            .entry(key)
            .or_insert_with(|| std::rc::Rc::new(snapshot.nodes.iter().map(answer).collect()))
            .clone()
    }
}

/// A score plugin and its weight in the profile.
pub struct Weighted {
    pub plugin: Box<dyn ScorePlugin>,
    pub weight: i64,
}

/// Where a replica goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// Index into `Snapshot::nodes`.
    pub node: usize,
    pub score: i64,
    /// How many nodes passed every filter.
    pub feasible: usize,
}

/// One node's verdict, for explaining a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeVerdict {
    pub node: String,
    /// Filters run, in order, until the first failure.
    pub filters: Vec<(&'static str, Result<(), Vec<Reason>>)>,
    /// Weighted, normalized scores (feasible nodes only).
    pub scores: Vec<(&'static str, i64)>,
    pub total: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub nodes: Vec<NodeVerdict>,
    pub result: Result<Placement, FitError>,
}

pub struct Scheduler {
    pub strategy: ScoringStrategy,
    filters: Vec<Box<dyn FilterPlugin>>,
    scorers: Vec<Weighted>,
}

impl Scheduler {
    /// The default profile: its plugins in its order, with its weights. The
    /// one place that lists them; the batch layer reads this profile.
    pub fn new(strategy: ScoringStrategy) -> Scheduler {
        let weighted = |plugin: Box<dyn ScorePlugin>, weight| Weighted { plugin, weight };
        Scheduler {
            strategy,
            filters: vec![
                Box::new(plugins::NodeUnschedulable),
                Box::new(plugins::NodeName),
                Box::new(plugins::TaintToleration),
                Box::new(plugins::NodeAffinity),
                Box::new(plugins::NodeResourcesFit { strategy }),
                Box::new(plugins::VolumeRestrictions),
                Box::new(plugins::VolumeBinding),
                Box::new(plugins::VolumeZone),
                Box::new(plugins::PodTopologySpread),
                Box::new(plugins::InterPodAffinity),
            ],
            scorers: vec![
                weighted(Box::new(plugins::TaintToleration), 3),
                weighted(Box::new(plugins::NodeAffinity), 2),
                weighted(Box::new(plugins::NodeResourcesFit { strategy }), 1),
                weighted(Box::new(plugins::PodTopologySpread), 2),
                weighted(Box::new(plugins::InterPodAffinity), 2),
                weighted(Box::new(plugins::BalancedAllocation), 1),
            ],
        }
    }

    /// The profile with one more filter, run after the others.
    pub fn with_filter(mut self, plugin: Box<dyn FilterPlugin>) -> Scheduler {
        self.filters.push(plugin);
        self
    }

    /// The profile with one more score plugin, of `weight`.
    pub fn with_scorer(mut self, plugin: Box<dyn ScorePlugin>, weight: i64) -> Scheduler {
        self.scorers.push(Weighted { plugin, weight });
        self
    }

    /// The profile's filters, in order.
    pub fn filters(&self) -> &[Box<dyn FilterPlugin>] {
        &self.filters
    }

    /// The profile's score plugins with their weights, in order.
    pub fn scorers(&self) -> &[Weighted] {
        &self.scorers
    }

    /// Every filter's PreFilter for `pod`: the state its filters read.
    pub fn pre_filter(&self, pod: &PodSpec, snapshot: &Snapshot) -> CycleState {
        let mut state = CycleState::default();
        for plugin in &self.filters {
            plugin.pre_filter(pod, snapshot, &mut state);
        }
        state
    }

    /// The first failing filter's reasons on `node`, or None when every
    /// filter passes. A node outside the PreFilter's result is not filtered
    /// (`findNodesThatFitPod` gives it the absent nodes' status).
    fn first_failure(
        &self,
        pod: &PodSpec,
        node: &NodeInfo,
        state: &CycleState,
    ) -> Option<Vec<Reason>> {
        if let Some(reason) = outside_pre_filter_result(node, state) {
            return Some(vec![reason]);
        }
        self.filters
            .iter()
            .find_map(|plugin| plugin.filter(pod, node, state).err())
    }

    /// Weighted, normalized scores of each feasible node, per plugin.
    fn scores(
        &self,
        pod: &PodSpec,
        snapshot: &Snapshot,
        feasible: &[usize],
        state: &mut CycleState,
    ) -> Vec<Vec<i64>> {
        for scorer in &self.scorers {
            scorer.plugin.pre_score(pod, snapshot, feasible, state);
        }
        let state: &CycleState = state;
        self.scorers
            .iter()
            .map(|Weighted { plugin, weight }| {
                let mut scores: Vec<i64> = feasible
                    .iter()
                    .map(|&i| plugin.score(pod, snapshot, i, state))
                    .collect();
                plugin.normalize(&mut scores, state);
                scores.iter_mut().for_each(|s| *s *= weight);
                scores
            })
            .collect()
    }

    fn select(
        &self,
        snapshot: &Snapshot,
        feasible: &[usize],
        per_plugin: &[Vec<i64>],
    ) -> Placement {
        let mut best: Option<(i64, usize)> = None;
        for (k, &node) in feasible.iter().enumerate() {
            let total: i64 = per_plugin.iter().map(|scores| scores[k]).sum();
            let better = match best {
                None => true,
                Some((score, current)) => {
                    total > score
                        || (total == score
                            && snapshot.nodes[node].name < snapshot.nodes[current].name)
                }
            };
            if better {
                best = Some((total, node));
            }
        }
        let (score, node) = best.unwrap_or((0, feasible[0]));
        Placement {
            node,
            score,
            feasible: feasible.len(),
        }
    }

    pub fn schedule(&self, pod: &PodSpec, snapshot: &Snapshot) -> Result<Placement, FitError> {
        let mut state = self.pre_filter(pod, snapshot);
        // A pod pinned to named nodes (spec.nodeName, or a DaemonSet replica's
        // metadata.name affinity) can only pass on those: filter them alone,
        // and all nodes only to explain a failure.
        if let Some(candidates) = pinned_nodes(pod, snapshot) {
            let feasible: Vec<usize> = candidates
                .into_iter()
                .filter(|&i| {
                    self.first_failure(pod, &snapshot.nodes[i], &state)
                        .is_none()
                })
                .collect();
            if !feasible.is_empty() {
                return Ok(self.choose(pod, snapshot, feasible, &mut state));
            }
        }
        let mut feasible = Vec::new();
        let mut reasons: BTreeMap<Reason, usize> = BTreeMap::new();
        for (i, node) in snapshot.nodes.iter().enumerate() {
            match self.first_failure(pod, node, &state) {
                None => feasible.push(i),
                Some(failed) => {
                    for reason in failed {
                        *reasons.entry(reason).or_insert(0) += 1;
                    }
                }
            }
        }
        if feasible.is_empty() {
            return Err(FitError {
                nodes: snapshot.nodes.len(),
                reasons,
                post_filter: None,
            });
        }
        Ok(self.choose(pod, snapshot, feasible, &mut state))
    }

    /// Score the feasible nodes (at least one) and pick the best.
    fn choose(
        &self,
        pod: &PodSpec,
        snapshot: &Snapshot,
        feasible: Vec<usize>,
        state: &mut CycleState,
    ) -> Placement {
        if feasible.len() == 1 {
            // As kube-scheduler: a single feasible node needs no scoring.
            return Placement {
                node: feasible[0],
                score: 0,
                feasible: 1,
            };
        }
        let per_plugin = self.scores(pod, snapshot, &feasible, state);
        self.select(snapshot, &feasible, &per_plugin)
    }

    /// Whether `pod` passes every filter on one node of `snapshot`, or the
    /// first failing filter's reasons (cluster-autoscaler asks this of
    /// template nodes).
    pub fn fits(&self, pod: &PodSpec, snapshot: &Snapshot, node: usize) -> Result<(), Vec<Reason>> {
        let mut state = self.pre_filter(pod, snapshot);
        // The question is asked of one node by name: no narrowing by name.
        state.pre_filter_nodes = None;
        match self.first_failure(pod, &snapshot.nodes[node], &state) {
            None => Ok(()),
            Some(reasons) => Err(reasons),
        }
    }

    /// Every node's verdict: which filter rejected it and why, or its scores.
    pub fn evaluate(&self, pod: &PodSpec, snapshot: &Snapshot) -> Evaluation {
        let mut state = self.pre_filter(pod, snapshot);
        let mut verdicts = Vec::new();
        let mut feasible = Vec::new();
        for (i, node) in snapshot.nodes.iter().enumerate() {
            let mut filters = Vec::new();
            let outside = outside_pre_filter_result(node, &state);
            if let Some(reason) = outside.clone() {
                filters.push((
                    FilterPlugin::name(&plugins::NodeAffinity),
                    Err(vec![reason]),
                ));
            }
            for plugin in self
                .filters
                .iter()
                .filter(|p| !p.skips(pod) && outside.is_none())
            {
                let result = plugin.filter(pod, node, &state);
                let failed = result.is_err();
                filters.push((plugin.name(), result));
                if failed {
                    break;
                }
            }
            if filters.iter().all(|(_, r)| r.is_ok()) {
                feasible.push(i);
            }
            verdicts.push(NodeVerdict {
                node: node.name.to_string(),
                filters,
                scores: Vec::new(),
                total: None,
            });
        }
        let per_plugin = self.scores(pod, snapshot, &feasible, &mut state);
        for (k, &i) in feasible.iter().enumerate() {
            let scores: Vec<(&'static str, i64)> = self
                .scorers
                .iter()
                .zip(&per_plugin)
                .map(|(scorer, scores)| (scorer.plugin.name(), scores[k]))
                .collect();
            verdicts[i].total = Some(scores.iter().map(|(_, s)| s).sum());
            verdicts[i].scores = scores;
        }
        Evaluation {
            nodes: verdicts,
            result: self.schedule(pod, snapshot),
        }
    }
}

/// Why a node outside NodeAffinity's PreFilter result fails, if it is.
fn outside_pre_filter_result(node: &NodeInfo, state: &CycleState) -> Option<Reason> {
    let names = state.pre_filter_nodes.as_ref()?;
    if names.is_empty() {
        Some(Reason::NodeAffinityTermsConflict)
    } else if names.contains(&*node.name) {
        None
    } else {
        Some(Reason::NotInPreFilterResult)
    }
}

/// The only nodes a pod can pass on, when it names them: `spec.nodeName`, or
/// NodeAffinity's PreFilter result (every term with `metadata.name In`).
pub(crate) fn pinned_nodes(pod: &PodSpec, snapshot: &Snapshot) -> Option<Vec<usize>> {
    if let Some(name) = &pod.node_name {
        return Some(snapshot.index_of(name).into_iter().collect());
    }
    let names = plugins::node_affinity::pre_filter_names(pod)?;
    Some(names.iter().filter_map(|n| snapshot.index_of(n)).collect())
}

#[cfg(test)]
mod tests;
