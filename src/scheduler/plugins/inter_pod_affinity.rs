//! InterPodAffinity: required pod affinity (a matching replica must already
//! be in the node's domain, except for the first of a self-affine group),
//! required anti-affinity (no matching replica in the domain), and the
//! symmetric rule: a placed replica's required anti-affinity that selects
//! the incoming one keeps it out of that replica's domain. Preferred terms
//! of both sides (and placed replicas' required affinity, weight 1) score.

use super::terms::Term;
use crate::model::labels::Labels;
use crate::model::pod::{PodAffinity, PodSpec};
use crate::scheduler::diagnosis::Reason;
use crate::scheduler::snapshot::{Domains, NodeInfo, ReplicaGroup, Snapshot};
use crate::scheduler::{CycleState, FilterPlugin, MAX_NODE_SCORE, Reads, ScorePlugin};
use std::collections::HashMap;
use std::sync::Arc;

/// `hardPodAffinityWeight`: how much a placed replica's required affinity
/// for the incoming one counts in scoring.
const HARD_POD_AFFINITY_WEIGHT: i64 = 1;

pub struct InterPodAffinity;

pub(crate) fn required(affinity: &Option<PodAffinity>) -> &[crate::model::pod::PodAffinityTerm] {
    affinity.as_ref().map_or(&[], |a| {
        a.required_during_scheduling_ignored_during_execution
            .as_slice()
    })
}

pub(crate) fn preferred(
    affinity: &Option<PodAffinity>,
) -> &[crate::model::pod::WeightedPodAffinityTerm] {
    affinity.as_ref().map_or(&[], |a| {
        a.preferred_during_scheduling_ignored_during_execution
            .as_slice()
    })
}

pub(crate) fn resolve(
    terms: &[crate::model::pod::PodAffinityTerm],
    namespace: &str,
    labels: &Labels,
) -> Vec<Term> {
    terms
        .iter()
        .map(|t| Term::new(t, namespace, labels))
        .collect()
}

/// The groups a pod's required terms may select, and those whose terms may
/// select the pod (a superset of the groups PreFilter counts), in index order.
fn own_candidates(
    affinity_terms: &[Term],
    anti_terms: &[Term],
    pod: &PodSpec,
    snapshot: &Snapshot,
) -> Vec<usize> {
    // A group matching every affinity term is among any one term's candidates.
    let affinity = if affinity_terms.is_empty() {
        Some(&[][..])
    } else {
        affinity_terms
            .iter()
            .filter_map(|t| t.candidates(snapshot))
            .min_by_key(|c| c.len())
    };
    let mut groups = snapshot.groups_selecting(&pod.labels);
    for found in anti_terms
        .iter()
        .map(|t| t.candidates(snapshot))
        .chain([affinity])
    {
        match found {
            Some(found) => groups.extend_from_slice(found),
            None => return (0..snapshot.groups.len()).collect(),
        }
    }
    groups.sort_unstable();
    groups.dedup();
    groups
}

/// Replicas per domain of one topology key (kube-scheduler's
/// `topologyToMatchedTermCount`, for one key): a table indexed by the
/// snapshot's domain numbers.
#[derive(Debug, Clone)]
struct KeyCounts {
    key: String,
    domains: Arc<Domains>,
    counts: Vec<i64>,
}

impl KeyCounts {
    /// The count of `node`'s domain: `None` when the node lacks the key.
    fn at(&self, node: usize) -> Option<i64> {
        self.domains.of(node).map(|d| self.counts[d])
    }
}

/// Counts for each topology key, in order of first use.
#[derive(Debug, Clone, Default)]
struct DomainCounts(Vec<KeyCounts>);

impl DomainCounts {
    /// The position of `key`'s counts (made, all zero, when new).
    fn slot(&mut self, snapshot: &Snapshot, key: &str) -> usize {
        if let Some(found) = self.0.iter().position(|k| k.key == key) {
            return found;
        }
        let domains = snapshot.domains(key);
        self.0.push(KeyCounts {
            key: key.to_string(),
            counts: vec![0; domains.len()],
            domains,
        });
        self.0.len() - 1
    }

    /// Add `count` to the domain of `node` in slot `slot`; whether the node
    /// has the key.
    fn add(&mut self, slot: usize, node: usize, count: i64) -> bool {
        let k = &mut self.0[slot];
        match k.domains.of(node) {
            Some(domain) => {
                k.counts[domain] += count;
                true
            }
            None => false,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct FilterState {
    /// Per required affinity term: its key's slot in `affinity_counts`.
    affinity_terms: Vec<usize>,
    /// Per required anti-affinity term: its key's slot in `anti_counts`.
    anti_terms: Vec<usize>,
    /// Domains holding replicas that match every required affinity term.
    affinity_counts: DomainCounts,
    /// Whether any replica was counted in `affinity_counts` (a domain of
    /// some term holds one).
    affinity_found: bool,
    /// Domains holding replicas that match a required anti-affinity term.
    anti_counts: DomainCounts,
    /// Domains closed by placed replicas' anti-affinity toward the incoming one.
    existing_anti_counts: DomainCounts,
    /// The incoming replica matches all its own affinity terms.
    self_affine: bool,
}

impl FilterPlugin for InterPodAffinity {
    fn name(&self) -> &'static str {
        "InterPodAffinity"
    }

    fn reads(&self) -> Reads {
        Reads::Domains
    }

    fn pre_filter(&self, pod: &PodSpec, snapshot: &Snapshot, state: &mut CycleState) {
        let affinity_terms = resolve(
            required(&pod.affinity.pod_affinity),
            &pod.namespace,
            &pod.labels,
        );
        let anti_terms = resolve(
            required(&pod.affinity.pod_anti_affinity),
            &pod.namespace,
            &pod.labels,
        );
        let mut s = FilterState {
            self_affine: affinity_terms
                .iter()
                .all(|t| t.matches(&pod.namespace, &pod.labels)),
            ..FilterState::default()
        };
        s.affinity_terms = affinity_terms
            .iter()
            .map(|t| s.affinity_counts.slot(snapshot, &t.topology_key))
            .collect();
        s.anti_terms = anti_terms
            .iter()
            .map(|t| s.anti_counts.slot(snapshot, &t.topology_key))
            .collect();
        // Without terms of its own, only groups whose terms may select the
        // pod matter: the snapshot indexes them.
        let candidates: Vec<usize> = if affinity_terms.is_empty() && anti_terms.is_empty() {
            snapshot.groups_selecting(&pod.labels)
        } else {
            own_candidates(&affinity_terms, &anti_terms, pod, snapshot)
        };
        let mut anti = Vec::new();
        let mut existing = Vec::new();
        for group in candidates
            .into_iter()
            .map(|g| &snapshot.groups[g])
            .filter(|g| g.total > 0)
        {
            let matches_all = !affinity_terms.is_empty()
                && affinity_terms
                    .iter()
                    .all(|t| t.matches(&group.namespace, &group.labels));
            anti.clear();
            anti.extend(
                anti_terms
                    .iter()
                    .zip(&s.anti_terms)
                    .filter(|(t, _)| t.matches(&group.namespace, &group.labels))
                    .map(|(_, &slot)| slot),
            );
            existing.clear();
            for term in &group.required_anti {
                if term.matches(&pod.namespace, &pod.labels) {
                    existing.push(s.existing_anti_counts.slot(snapshot, &term.topology_key));
                }
            }
            if !matches_all && anti.is_empty() && existing.is_empty() {
                continue;
            }
            for (&node, &count) in &group.per_node {
                let count = i64::from(count);
                if matches_all {
                    for &slot in &s.affinity_terms {
                        s.affinity_found |= s.affinity_counts.add(slot, node, count);
                    }
                }
                for &slot in &anti {
                    s.anti_counts.add(slot, node, count);
                }
                for &slot in &existing {
                    s.existing_anti_counts.add(slot, node, count);
                }
            }
        }
        state.affinity = Some(s);
    }

    fn filter(
        &self,
        _pod: &PodSpec,
        node: &NodeInfo,
        state: &CycleState,
    ) -> Result<(), Vec<Reason>> {
        match rejection(node, state) {
            Some(reason) => Err(vec![reason]),
            None => Ok(()),
        }
    }

    fn passes(&self, _pod: &PodSpec, node: &NodeInfo, state: &CycleState) -> bool {
        rejection(node, state).is_none()
    }
}

/// Why the filter rejects `node`, if it does.
fn rejection(node: &NodeInfo, state: &CycleState) -> Option<Reason> {
    let s = state.affinity.as_ref()?;
    let node = node.index;
    // Own required affinity: every term's domain must hold a match.
    let mut pods_exist = true;
    for &slot in &s.affinity_terms {
        match s.affinity_counts.0[slot].at(node) {
            None => return Some(Reason::AffinityRulesNotMatch),
            Some(n) if n <= 0 => pods_exist = false,
            Some(_) => {}
        }
    }
    // The first replica of a group affine to itself may go anywhere.
    let first_of_group = !s.affinity_found && s.self_affine;
    if !(pods_exist || first_of_group) {
        return Some(Reason::AffinityRulesNotMatch);
    }
    for &slot in &s.anti_terms {
        if s.anti_counts.0[slot].at(node).is_some_and(|n| n > 0) {
            return Some(Reason::AntiAffinityRulesNotMatch);
        }
    }
    if s.existing_anti_counts
        .0
        .iter()
        .any(|k| k.at(node).is_some_and(|n| n > 0))
    {
        return Some(Reason::ExistingAntiAffinityRulesNotMatch);
    }
    None
}

/// PreScore: weight per (topology key, value), from both sides' terms.
#[derive(Debug, Clone, Default)]
pub struct ScoreState {
    topology_score: HashMap<String, HashMap<String, i64>>,
}

/// What one placed replica of `group` contributes to its domains (`processExistingPod`).
pub(crate) fn contributions(pod: &PodSpec, group: &ReplicaGroup) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for weighted in preferred(&pod.affinity.pod_affinity) {
        let term = Term::new(&weighted.pod_affinity_term, &pod.namespace, &pod.labels);
        if term.matches(&group.namespace, &group.labels) {
            out.push((term.topology_key, i64::from(weighted.weight)));
        }
    }
    for weighted in preferred(&pod.affinity.pod_anti_affinity) {
        let term = Term::new(&weighted.pod_affinity_term, &pod.namespace, &pod.labels);
        if term.matches(&group.namespace, &group.labels) {
            out.push((term.topology_key, -i64::from(weighted.weight)));
        }
    }
    for term in required(&group.affinity.pod_affinity) {
        let term = Term::new(term, &group.namespace, &group.labels);
        if term.matches(&pod.namespace, &pod.labels) {
            out.push((term.topology_key, HARD_POD_AFFINITY_WEIGHT));
        }
    }
    for (weighted, sign) in preferred(&group.affinity.pod_affinity)
        .iter()
        .map(|w| (w, 1))
        .chain(
            preferred(&group.affinity.pod_anti_affinity)
                .iter()
                .map(|w| (w, -1)),
        )
    {
        let term = Term::new(&weighted.pod_affinity_term, &group.namespace, &group.labels);
        if term.matches(&pod.namespace, &pod.labels) {
            out.push((term.topology_key, sign * i64::from(weighted.weight)));
        }
    }
    out
}

impl ScorePlugin for InterPodAffinity {
    fn name(&self) -> &'static str {
        "InterPodAffinity"
    }

    fn reads(&self) -> Reads {
        Reads::Domains
    }

    fn pre_score(
        &self,
        pod: &PodSpec,
        snapshot: &Snapshot,
        _feasible: &[usize],
        state: &mut CycleState,
    ) {
        let own = !preferred(&pod.affinity.pod_affinity).is_empty()
            || !preferred(&pod.affinity.pod_anti_affinity).is_empty();
        let mut topology_score: HashMap<String, HashMap<String, i64>> = HashMap::new();
        // Without preferred terms of its own, only groups whose terms may
        // select the pod contribute.
        let candidates: Vec<usize> = if own {
            (0..snapshot.groups.len()).collect()
        } else {
            snapshot.groups_selecting(&pod.labels)
        };
        for group in candidates
            .into_iter()
            .map(|g| &snapshot.groups[g])
            .filter(|g| g.total > 0 && (own || g.has_affinity()))
        {
            let contributions = contributions(pod, group);
            if contributions.is_empty() {
                continue;
            }
            for (&node, &count) in &group.per_node {
                let labels = &snapshot.nodes[node].labels;
                for (key, weight) in &contributions {
                    if let Some(value) = labels.get(key) {
                        *topology_score
                            .entry(key.clone())
                            .or_default()
                            .entry(value.clone())
                            .or_insert(0) += weight * i64::from(count);
                    }
                }
            }
        }
        if !topology_score.is_empty() {
            state.affinity_score = Some(ScoreState { topology_score });
        }
    }

    fn score(&self, _pod: &PodSpec, snapshot: &Snapshot, node: usize, state: &CycleState) -> i64 {
        let Some(s) = &state.affinity_score else {
            return 0;
        };
        let labels = &snapshot.nodes[node].labels;
        s.topology_score
            .iter()
            .filter_map(|(key, values)| labels.get(key).and_then(|v| values.get(v)))
            .sum()
    }

    fn normalize(&self, scores: &mut [i64], state: &CycleState) {
        if state.affinity_score.is_some() {
            normalize_scores(scores);
        }
    }
}

/// `NormalizeScore`: min–max scaling to 0..100 (all 0 when equal).
pub fn normalize_scores(scores: &mut [i64]) {
    let min = scores.iter().copied().min().unwrap_or(0);
    let max = scores.iter().copied().max().unwrap_or(0);
    let spread = max - min;
    for score in scores.iter_mut() {
        *score = if spread > 0 {
            (MAX_NODE_SCORE as f64 * ((*score - min) as f64 / spread as f64)) as i64
        } else {
            0
        };
    }
}
