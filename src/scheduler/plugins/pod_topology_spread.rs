//! PodTopologySpread: with `DoNotSchedule`, a node is feasible only if
//! placing the replica keeps `count(domain) + self − global minimum` within
//! `maxSkew` (nodes lacking the key are rejected and are not domains;
//! `minDomains`, `nodeAffinityPolicy` (Honor) and `nodeTaintsPolicy`
//! (Ignore) as Kubernetes defaults them). `ScheduleAnyway` constraints, or
//! the system defaults (hostname skew 3, zone skew 5) for replicas owned by
//! a ReplicaSet that declare none, score nodes with fewer matching replicas higher.

use super::terms::with_label_keys;
use crate::model::labels::{LabelSelector, SelectorOperator};
use crate::model::pod::{
    InclusionPolicy, PodSpec, TaintEffect, TopologySpreadConstraint, WhenUnsatisfiable,
    tolerates_all,
};
use crate::scheduler::diagnosis::Reason;
use crate::scheduler::snapshot::{Domains, NodeInfo, Snapshot};
use crate::scheduler::{CycleState, FilterPlugin, MAX_NODE_SCORE, Reads, ScorePlugin};
use rustc_hash::FxHashMap as HashMap;
use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

pub const HOSTNAME: &str = "kubernetes.io/hostname";
pub const ZONE: &str = "topology.kubernetes.io/zone";

pub struct PodTopologySpread;

/// One constraint, resolved for the incoming replica.
#[derive(Debug, Clone)]
pub struct Constraint {
    pub key: String,
    pub max_skew: i64,
    pub min_domains: i64,
    pub selector: LabelSelector,
    pub honor_affinity: bool,
    pub honor_taints: bool,
}

impl Constraint {
    fn new(c: &TopologySpreadConstraint, pod: &PodSpec) -> Constraint {
        let selector = c.label_selector.clone().unwrap_or_default();
        Constraint {
            key: c.topology_key.clone(),
            max_skew: i64::from(c.max_skew),
            min_domains: i64::from(c.min_domains.unwrap_or(1)),
            selector: with_label_keys(
                &selector,
                &c.match_label_keys,
                &pod.labels,
                SelectorOperator::In,
            ),
            honor_affinity: c.node_affinity_policy.unwrap_or(InclusionPolicy::Honor)
                == InclusionPolicy::Honor,
            honor_taints: c.node_taints_policy.unwrap_or(InclusionPolicy::Ignore)
                == InclusionPolicy::Honor,
        }
    }

    /// `matchNodeInclusionPolicies`.
    pub(crate) fn includes(&self, pod: &PodSpec, node: &NodeInfo) -> bool {
        self.includes_by(|| selects_node(pod, node), || tolerates_node(pod, node))
    }

    /// `matchNodeInclusionPolicies` from the node's two answers, asked
    /// only when the constraint's policies honor them.
    pub(crate) fn includes_by(
        &self,
        selects: impl FnOnce() -> bool,
        tolerates: impl FnOnce() -> bool,
    ) -> bool {
        (!self.honor_affinity || selects()) && (!self.honor_taints || tolerates())
    }
}

/// The nodeAffinity policy's question: the pod's node selector and
/// required node affinity match the node.
pub(crate) fn selects_node(pod: &PodSpec, node: &NodeInfo) -> bool {
    pod.matches_node_selector(&node.name, &node.labels)
}

/// The nodeTaints policy's question: the pod tolerates every NoSchedule and
/// NoExecute taint of the node.
pub(crate) fn tolerates_node(pod: &PodSpec, node: &NodeInfo) -> bool {
    !node.taints.iter().any(|t| {
        matches!(t.effect, TaintEffect::NoSchedule | TaintEffect::NoExecute)
            && !tolerates_all(&pod.tolerations, t)
    })
}

pub fn constraints(pod: &PodSpec, mode: WhenUnsatisfiable) -> Vec<Constraint> {
    pod.topology_spread_constraints
        .iter()
        .filter(|c| c.when_unsatisfiable == mode)
        .map(|c| Constraint::new(c, pod))
        .collect()
}

/// Replicas selected by `selector` in the pod's namespace, per node index.
fn matching_per_node(
    snapshot: &Snapshot,
    pod: &PodSpec,
    selector: &LabelSelector,
) -> HashMap<usize, i64> {
    matching_per_node_in(snapshot, 0..snapshot.groups.len(), pod, selector)
}

/// The same, over the given groups only (a superset of those that match).
pub(crate) fn matching_per_node_in(
    snapshot: &Snapshot,
    groups: impl IntoIterator<Item = usize>,
    pod: &PodSpec,
    selector: &LabelSelector,
) -> HashMap<usize, i64> {
    let mut counts: HashMap<usize, i64> = HashMap::default();
    for group in groups.into_iter().map(|g| &snapshot.groups[g]) {
        if group.total == 0 || group.namespace != pod.namespace || !selector.matches(&group.labels)
        {
            continue;
        }
        for (&node, &count) in &group.per_node {
            *counts.entry(node).or_insert(0) += i64::from(count);
        }
    }
    counts
}

pub(crate) fn has_all_keys(node: &NodeInfo, constraints: &[Constraint]) -> bool {
    constraints.iter().all(|c| node.labels.contains_key(&c.key))
}

/// Matching replicas per domain of each constraint, and the global minimum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainCounts {
    /// Per constraint: domain value → matching replicas (every eligible domain, zeros included).
    pub counts: Vec<HashMap<String, i64>>,
    /// Per constraint: the global minimum (0 when fewer domains than minDomains).
    pub minimum: Vec<i64>,
}

/// The domains PreFilter counts in: a node is in one only when it carries
/// every constraint's topology key and passes the constraint's node
/// inclusion policies (nodeAffinity/nodeSelector when Honor, taints when
/// Honor). Depends on the pod's node selection, not on the replicas placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EligibleDomains {
    /// Per constraint: every eligible domain value, each with 0.
    pub empty: Vec<HashMap<String, i64>>,
    /// Per constraint, per node index: whether its replicas count.
    pub counted: Vec<Vec<bool>>,
}

pub fn eligible_domains(
    pod: &PodSpec,
    snapshot: &Snapshot,
    constraints: &[Constraint],
) -> EligibleDomains {
    let mut empty: Vec<HashMap<String, i64>> = vec![HashMap::default(); constraints.len()];
    let mut counted = vec![vec![false; snapshot.nodes.len()]; constraints.len()];
    for node in &snapshot.nodes {
        if !has_all_keys(node, constraints) {
            continue;
        }
        for (i, c) in constraints.iter().enumerate() {
            if c.includes(pod, node) {
                counted[i][node.index] = true;
                let value = &node.labels[&c.key];
                if !empty[i].contains_key(value) {
                    empty[i].insert(value.clone(), 0);
                }
            }
        }
    }
    EligibleDomains { empty, counted }
}

/// Add the replicas `c` selects, over the given groups (a superset of those
/// that match), to `counts` by domain, on the nodes `counted` (per node
/// index; `EligibleDomains::counted`). A domain missing from `counts` is
/// added only if it has matching replicas.
pub fn add_matching(
    snapshot: &Snapshot,
    groups: impl IntoIterator<Item = usize>,
    pod: &PodSpec,
    c: &Constraint,
    counted: &[bool],
    counts: &mut HashMap<String, i64>,
) {
    // A node's value of the key read from the snapshot's numbering, not
    // looked up in the node's labels (a counted node has the key).
    let domains = snapshot.domains(&c.key);
    for (node, count) in matching_per_node_in(snapshot, groups, pod, &c.selector) {
        if let (true, Some(domain)) = (counted[node], domains.of(node)) {
            let value = domains.value(domain);
            match counts.get_mut(value) {
                Some(total) => *total += count,
                None => {
                    counts.insert(value.to_string(), count);
                }
            }
        }
    }
}

/// `add_matching` over the groups `c`'s selector may select: those with a
/// label it requires (the snapshot's index), or every group.
pub fn add_selected(
    snapshot: &Snapshot,
    pod: &PodSpec,
    c: &Constraint,
    counted: &[bool],
    counts: &mut HashMap<String, i64>,
) {
    match c.selector.required_label() {
        Some((key, value)) => {
            let groups = snapshot.groups_with_label(&key, &value).iter().copied();
            add_matching(snapshot, groups, pod, c, counted, counts);
        }
        None => add_matching(snapshot, 0..snapshot.groups.len(), pod, c, counted, counts),
    }
}

/// The global minimum of a constraint over `counts` (which may leave out
/// domains without matching replicas): 0 when there are fewer eligible
/// domains than `minDomains` or some eligible domain has no matching replica.
pub fn global_minimum(
    constraint: &Constraint,
    eligible: usize,
    counts: &HashMap<String, i64>,
) -> i64 {
    if (eligible as i64) < constraint.min_domains || counts.len() < eligible {
        0
    } else {
        counts.values().copied().min().unwrap_or(0)
    }
}

/// PreFilter's count, every eligible domain included.
pub fn domain_counts(
    pod: &PodSpec,
    snapshot: &Snapshot,
    constraints: &[Constraint],
) -> DomainCounts {
    counts_in(
        pod,
        snapshot,
        constraints,
        &snapshot.eligible_domains(pod, constraints),
    )
}

/// `domain_counts` in the `eligible` domains, found before.
pub fn counts_in(
    pod: &PodSpec,
    snapshot: &Snapshot,
    constraints: &[Constraint],
    eligible: &EligibleDomains,
) -> DomainCounts {
    let mut counts = eligible.empty.clone();
    let mut minimum = Vec::with_capacity(constraints.len());
    for ((c, counts), counted) in constraints.iter().zip(&mut counts).zip(&eligible.counted) {
        // Every eligible domain is present, so the count adds without allocating.
        add_selected(snapshot, pod, c, counted, counts);
        minimum.push(global_minimum(c, counts.len(), counts));
    }
    DomainCounts { counts, minimum }
}

/// PreFilter: matching replicas per domain of every hard constraint.
#[derive(Debug, Clone)]
pub struct FilterState {
    pub constraints: Vec<Constraint>,
    /// Per constraint: domain value → matching replicas.
    pub counts: Vec<HashMap<String, i64>>,
    /// Per constraint: the global minimum (0 when fewer domains than minDomains).
    pub minimum: Vec<i64>,
    /// Per constraint: whether the incoming replica matches its own selector.
    pub self_match: Vec<i64>,
    /// Per constraint: its key's domains over the snapshot's nodes, and
    /// (made on the first node filtered) `counts` by domain number.
    domains: Vec<Arc<Domains>>,
    by_domain: OnceLock<Vec<Vec<i64>>>,
}

impl FilterState {
    /// The PreFilter's state for `pod` from its constraints' domain counts.
    pub fn new(
        pod: &PodSpec,
        snapshot: &Snapshot,
        constraints: Vec<Constraint>,
        DomainCounts { counts, minimum }: DomainCounts,
    ) -> FilterState {
        let self_match = constraints
            .iter()
            .map(|c| i64::from(c.selector.matches(&pod.labels)))
            .collect();
        let domains = constraints
            .iter()
            .map(|c| snapshot.domains(&c.key))
            .collect();
        FilterState {
            constraints,
            counts,
            minimum,
            self_match,
            domains,
            by_domain: OnceLock::new(),
        }
    }
}

impl FilterPlugin for PodTopologySpread {
    fn name(&self) -> &'static str {
        "PodTopologySpread"
    }

    fn reads(&self) -> Reads {
        Reads::Domains
    }

    fn pre_filter(&self, pod: &PodSpec, snapshot: &Snapshot, state: &mut CycleState) {
        let constraints = constraints(pod, WhenUnsatisfiable::DoNotSchedule);
        if constraints.is_empty() {
            return;
        }
        let counts = domain_counts(pod, snapshot, &constraints);
        state.spread = Some(FilterState::new(pod, snapshot, constraints, counts));
    }

    fn filter(
        &self,
        _pod: &PodSpec,
        node: &NodeInfo,
        state: &CycleState,
    ) -> Result<(), Vec<Reason>> {
        let Some(spread) = &state.spread else {
            return Ok(());
        };
        let by_domain = spread.by_domain.get_or_init(|| {
            (spread.domains.iter().zip(&spread.counts))
                .map(|(domains, counts)| {
                    (0..domains.len())
                        .map(|d| counts.get(domains.value(d)).copied().unwrap_or(0))
                        .collect()
                })
                .collect()
        });
        for (i, c) in spread.constraints.iter().enumerate() {
            let Some(domain) = spread.domains[i].of(node.index) else {
                return Err(vec![Reason::SpreadMissingLabel]);
            };
            let count = by_domain[i][domain];
            if !within_skew(count, spread.self_match[i], spread.minimum[i], c.max_skew) {
                return Err(vec![Reason::SpreadConstraints]);
            }
        }
        Ok(())
    }
}

/// PreScore: domain counts and weights of the soft constraints.
#[derive(Debug, Clone)]
pub struct ScoreState {
    constraints: Vec<Constraint>,
    ignored: HashSet<usize>,
    /// (constraint, domain) → matching replicas, for domains of feasible nodes.
    counts: Vec<HashMap<String, i64>>,
    hostname_counts: Vec<HashMap<usize, i64>>,
    weights: Vec<f64>,
}

/// The system default constraints (`ScheduleAnyway`), for replicas that
/// declare none and have an owner selector.
pub(crate) fn system_defaults(pod: &PodSpec) -> Vec<Constraint> {
    let Some(selector) = &pod.owner_selector else {
        return Vec::new();
    };
    [(HOSTNAME, 3), (ZONE, 5)]
        .into_iter()
        .map(|(key, max_skew)| Constraint {
            key: key.to_string(),
            max_skew,
            min_domains: 1,
            selector: selector.clone(),
            honor_affinity: true,
            honor_taints: false,
        })
        .collect()
}

impl ScorePlugin for PodTopologySpread {
    fn name(&self) -> &'static str {
        "PodTopologySpread"
    }

    fn reads(&self) -> Reads {
        Reads::Domains
    }

    fn pre_score(
        &self,
        pod: &PodSpec,
        snapshot: &Snapshot,
        feasible: &[usize],
        state: &mut CycleState,
    ) {
        let (constraints, require_all) = if pod.topology_spread_constraints.is_empty() {
            (system_defaults(pod), false)
        } else {
            (constraints(pod, WhenUnsatisfiable::ScheduleAnyway), true)
        };
        if constraints.is_empty() {
            return;
        }
        let mut ignored = HashSet::new();
        let mut counts: Vec<HashMap<String, i64>> = vec![HashMap::default(); constraints.len()];
        for &i in feasible {
            let node = &snapshot.nodes[i];
            if require_all && !has_all_keys(node, &constraints) {
                ignored.insert(i);
                continue;
            }
            // Under the system defaults a node without the key is in the
            // domain `""` (`initPreScoreState` reads `labels[key]`): it adds
            // one domain to the weight, and scores no count of its own.
            for (c, counts) in constraints.iter().zip(&mut counts) {
                if c.key != HOSTNAME {
                    let value = node.labels.get(&c.key).map_or("", String::as_str);
                    counts.entry(value.to_string()).or_insert(0);
                }
            }
        }
        let weights = constraints
            .iter()
            .zip(&counts)
            .map(|(c, counts)| {
                let size = if c.key == HOSTNAME {
                    feasible.len() - ignored.len()
                } else {
                    counts.len()
                };
                domain_weight(size)
            })
            .collect();
        let mut hostname_counts = Vec::new();
        for (c, counts) in constraints.iter().zip(&mut counts) {
            let per_node = matching_per_node(snapshot, pod, &c.selector);
            for (&node, &count) in &per_node {
                let info = &snapshot.nodes[node];
                if !has_all_keys(info, &constraints) || !c.includes(pod, info) || c.key == HOSTNAME
                {
                    continue;
                }
                if let Some(total) = counts.get_mut(&info.labels[&c.key]) {
                    *total += count;
                }
            }
            hostname_counts.push(per_node);
        }
        state.spread_score = Some(ScoreState {
            constraints,
            ignored,
            counts,
            hostname_counts,
            weights,
        });
    }

    fn score(&self, _pod: &PodSpec, snapshot: &Snapshot, node: usize, state: &CycleState) -> i64 {
        let Some(spread) = &state.spread_score else {
            return 0;
        };
        if spread.ignored.contains(&node) {
            return IGNORED;
        }
        let labels = &snapshot.nodes[node].labels;
        let mut score = 0.0;
        for (i, c) in spread.constraints.iter().enumerate() {
            let Some(value) = labels.get(&c.key) else {
                continue;
            };
            let count = if c.key == HOSTNAME {
                spread.hostname_counts[i].get(&node).copied().unwrap_or(0)
            } else {
                spread.counts[i].get(value).copied().unwrap_or(0)
            };
            score += constraint_score(count, spread.weights[i], c.max_skew);
        }
        score.round() as i64
    }

    fn normalize(&self, scores: &mut [i64], state: &CycleState) {
        if state.spread_score.is_some() {
            normalize_scores(scores);
        }
    }
}

/// The raw score of a node the scoring ignores (it lacks a constraint's key).
pub const IGNORED: i64 = i64::MIN;

/// `filteringFn`: placing here keeps the domain within `max_skew` of the
/// global minimum.
pub fn within_skew(count: i64, self_match: i64, minimum: i64, max_skew: i64) -> bool {
    count + self_match - minimum <= max_skew
}

/// `topologyNormalizingWeight`: a constraint's weight over `size` domains
/// (or, for the hostname key, the nodes scored).
pub fn domain_weight(size: usize) -> f64 {
    ((size + 2) as f64).ln()
}

/// `scoreForCount`: one constraint's part of a node's raw score.
pub fn constraint_score(count: i64, weight: f64, max_skew: i64) -> f64 {
    count as f64 * weight + (max_skew - 1) as f64
}

/// `NormalizeScore`: fewer matching replicas score higher; ignored nodes 0.
pub fn normalize_scores(scores: &mut [i64]) {
    let considered = || scores.iter().copied().filter(|&s| s != IGNORED);
    let min = considered().min().unwrap_or(0);
    let max = considered().max().unwrap_or(0);
    for score in scores.iter_mut() {
        *score = if *score == IGNORED {
            0
        } else if max == 0 {
            MAX_NODE_SCORE
        } else {
            MAX_NODE_SCORE * (max + min - *score) / max
        };
    }
}
