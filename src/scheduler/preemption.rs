//! DefaultPreemption, kube-scheduler's PostFilter: when a pod fits nowhere,
//! find the nodes where removing lower-priority pods lets it fit, choose the
//! victims on each (`SelectVictimsOnNode`) and one node among them
//! (`pickOneNodeForPreemption`), with the same filter plugins as scheduling.
//! A port of `pkg/scheduler/framework/preemption/preemption.go` and
//! `plugins/defaultpreemption/default_preemption.go` (Kubernetes 1.34),
//! deterministic where kube-scheduler picks at random (the candidates are
//! tried from the first node in name order, ties go to the first node).
//!
//! The pods on each node are kept in [`Occupants`], with an index of the
//! nodes by the lowest priority they hold: the victim search visits only the
//! nodes that hold a pod below the preemptor's priority.

use super::diagnosis::{FitError, Reason};
use super::snapshot::{NodeInfo, Snapshot};
pub use super::verdicts::Verdicts;
use super::{CycleState, Scheduler};
use crate::model::pod::PodSpec;
use crate::model::priority::PreemptionPolicy;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// `DefaultPreemptionArgs` defaults: `minCandidateNodesPercentage`, `minCandidateNodesAbsolute`.
const MIN_CANDIDATE_NODES_PERCENTAGE: usize = 10;
const MIN_CANDIDATE_NODES_ABSOLUTE: usize = 100;

/// One pod placed on a node, as preemption sees it.
#[derive(Debug, Clone)]
pub struct Occupant {
    /// The caller's key for the pod (a replica's position, say).
    pub key: usize,
    pub priority: i32,
    /// When it started (`GetPodStartTime`), simulated seconds.
    pub start: u64,
    pub pod: Arc<PodSpec>,
    /// The disruption budgets that select it (indexes into `Budgets::allowed`).
    pub budgets: Vec<usize>,
}

/// The pods on every node, and the nodes by the lowest priority they hold.
#[derive(Debug, Clone, Default)]
pub struct Occupants {
    pods: Vec<Vec<Occupant>>,
    /// Lowest priority on a node → those nodes (non-empty nodes only).
    lowest: BTreeMap<i32, BTreeSet<usize>>,
    /// Each node's lowest priority.
    lowest_by_node: Vec<Option<i32>>,
}

impl Occupants {
    pub fn new(nodes: usize) -> Occupants {
        Occupants {
            pods: vec![Vec::new(); nodes],
            lowest: BTreeMap::new(),
            lowest_by_node: vec![None; nodes],
        }
    }

    pub fn on(&self, node: usize) -> &[Occupant] {
        &self.pods[node]
    }

    fn lowest_on(&self, node: usize) -> Option<i32> {
        self.pods[node].iter().map(|o| o.priority).min()
    }

    fn reindex(&mut self, node: usize, before: Option<i32>) {
        let after = self.lowest_on(node);
        self.lowest_by_node[node] = after;
        if before == after {
            return;
        }
        if let Some(before) = before
            && let Some(nodes) = self.lowest.get_mut(&before)
        {
            nodes.remove(&node);
            if nodes.is_empty() {
                self.lowest.remove(&before);
            }
        }
        if let Some(after) = after {
            self.lowest.entry(after).or_default().insert(node);
        }
    }

    pub fn add(&mut self, node: usize, occupant: Occupant) {
        let before = self.lowest_on(node);
        self.pods[node].push(occupant);
        self.reindex(node, before);
    }

    /// Remove the pod of `key` from `node`, if it is there.
    pub fn remove(&mut self, node: usize, key: usize) -> Option<Occupant> {
        let at = self.pods[node].iter().position(|o| o.key == key)?;
        let before = self.lowest_on(node);
        let occupant = self.pods[node].remove(at);
        self.reindex(node, before);
        Some(occupant)
    }

    /// The nodes holding a pod of priority below `priority`, in node order.
    pub fn nodes_below(&self, priority: i32) -> BTreeSet<usize> {
        let mut nodes = BTreeSet::new();
        for set in self.lowest.range(..priority).map(|(_, set)| set) {
            nodes.extend(set.iter().copied());
        }
        nodes
    }

    /// Whether `node` holds a pod of priority below `priority`.
    pub fn has_below(&self, node: usize, priority: i32) -> bool {
        self.lowest_by_node
            .get(node)
            .copied()
            .flatten()
            .is_some_and(|lowest| lowest < priority)
    }

    /// The lowest priority of any pod, if any pod is placed.
    pub fn lowest(&self) -> Option<i32> {
        self.lowest.keys().next().copied()
    }
}

/// The victims chosen on one node (`extenderv1.Victims`), most important first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Victims {
    pub node: usize,
    /// The victims' keys.
    pub keys: Vec<usize>,
    /// (priority, start) of each victim, in the same order.
    pub pods: Vec<(i32, u64)>,
    pub pdb_violations: usize,
}

/// What DefaultPreemption does for a pod that fits nowhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Remove these pods; the preemptor is nominated to their node.
    Preempt(Victims),
    /// Preemption cannot help: the PostFilter message
    /// (`preemption: …`) to append to the FitError.
    NotHelpful(String),
}

/// `corev1helpers.PodPriority` order of importance (`util.MoreImportantPod`):
/// higher priority first, then the one that started earlier.
fn more_important(a: &Occupant, b: &Occupant) -> std::cmp::Ordering {
    b.priority
        .cmp(&a.priority)
        .then(a.start.cmp(&b.start))
        .then(a.key.cmp(&b.key))
}

/// Whether a filter's reason is `UnschedulableAndUnresolvable`: removing
/// pods from the node cannot resolve it (such nodes are not preemption
/// candidates, `nodesWherePreemptionMightHelp`).
pub fn unresolvable(reason: &Reason, pod: &PodSpec, node: &NodeInfo) -> bool {
    match reason {
        Reason::Unschedulable
        | Reason::NodeName
        | Reason::UntoleratedTaint { .. }
        | Reason::NodeAffinity
        | Reason::NotInPreFilterResult
        | Reason::NodeAffinityTermsConflict
        | Reason::SpreadMissingLabel
        | Reason::AffinityRulesNotMatch
        | Reason::NoPreemptionVictims
        | Reason::PreemptionNotHelpful
        // The volume plugins' rejections are UnschedulableAndUnresolvable
        // (the claims a replica may bind do not change when pods go).
        | Reason::VolumeNodeAffinityConflict
        | Reason::VolumeBindConflict
        | Reason::NoVolumeZone
        | Reason::UnboundImmediateClaims
        | Reason::ClaimNotFound(_)
        | Reason::ReadWriteOncePodConflict => true,
        // NodeResourcesFit: a request above the node's whole allocatable.
        Reason::Insufficient(resource) => {
            pod.requests.get(resource) > node.allocatable.resources.get(resource)
        }
        Reason::TooManyPods
        | Reason::SpreadConstraints
        | Reason::AntiAffinityRulesNotMatch
        | Reason::ExistingAntiAffinityRulesNotMatch => false,
    }
}

/// `calculateNumCandidates`.
pub fn candidates_wanted(nodes: usize) -> usize {
    (nodes * MIN_CANDIDATE_NODES_PERCENTAGE / 100)
        .max(MIN_CANDIDATE_NODES_ABSOLUTE)
        .min(nodes)
}

impl Scheduler {
    /// `verdicts` after `changed` nodes changed (all of them again when the
    /// pod reads counts across domains).
    pub fn refresh(
        &self,
        pod: &PodSpec,
        snapshot: &Snapshot,
        verdicts: &mut Verdicts,
        changed: &[usize],
    ) {
        if verdicts.sensitive {
            *verdicts = self.verdicts(pod, snapshot);
            return;
        }
        let state = self.pre_filter(pod, snapshot);
        for &node in changed {
            let info = &snapshot.nodes[node];
            verdicts.set(node, self.first_failure(pod, info, &state), pod, info);
        }
    }

    /// `schedule`, from up-to-date verdicts: the same placement or FitError.
    pub fn schedule_with(
        &self,
        pod: &PodSpec,
        snapshot: &Snapshot,
        verdicts: &Verdicts,
    ) -> Result<super::Placement, FitError> {
        if verdicts.passing_nodes() == 0 {
            return Err(FitError {
                nodes: snapshot.nodes.len(),
                reasons: verdicts.counts(),
                post_filter: None,
            });
        }
        let feasible: Vec<usize> = (0..snapshot.nodes.len())
            .filter(|&i| verdicts.passes(i))
            .collect();
        let mut state = self.pre_filter(pod, snapshot);
        Ok(self.choose(pod, snapshot, feasible, &mut state))
    }

    /// DefaultPreemption's PostFilter for `pod`, which fits on no node of
    /// `snapshot`. `allowed` holds each disruption budget's
    /// `disruptionsAllowed`. The snapshot is left as it was.
    pub fn preempt(
        &self,
        pod: &PodSpec,
        snapshot: &mut Snapshot,
        occupants: &Occupants,
        allowed: &[i32],
    ) -> Outcome {
        let verdicts = self.verdicts(pod, snapshot);
        self.preempt_with(pod, snapshot, occupants, allowed, &verdicts)
    }

    /// `preempt`, with the pod's verdicts on every node already made.
    pub fn preempt_with(
        &self,
        pod: &PodSpec,
        snapshot: &mut Snapshot,
        occupants: &Occupants,
        allowed: &[i32],
        verdicts: &Verdicts,
    ) -> Outcome {
        // `PodEligibleToPreemptOthers`.
        if pod.preemption_policy == PreemptionPolicy::Never {
            return Outcome::NotHelpful(
                "preemption: not eligible due to preemptionPolicy=Never.".into(),
            );
        }
        // Each node's filter status: resolvable failures are the potential nodes.
        let mut statuses: BTreeMap<Reason, usize> = BTreeMap::new();
        let potential: Vec<usize> = (0..snapshot.nodes.len())
            .filter(|&node| verdicts.potential[node])
            .collect();
        let not_helpful = snapshot.nodes.len() - potential.len();
        if not_helpful > 0 {
            statuses.insert(Reason::PreemptionNotHelpful, not_helpful);
        }
        if potential.is_empty() {
            return Outcome::NotHelpful(format!(
                "preemption: {}",
                FitError {
                    nodes: snapshot.nodes.len(),
                    reasons: statuses,
                    post_filter: None,
                }
            ));
        }
        // (PreFilter only for a node with victims to try.)
        let mut state: Option<CycleState> = None;
        let wanted = candidates_wanted(potential.len());
        let sensitive = verdicts.sensitive;
        let mut fitting = Vec::new();
        let mut violating = Vec::new();
        let mut no_victims = 0;
        for &node in &potential {
            if !fitting.is_empty() && fitting.len() + violating.len() >= wanted {
                break;
            }
            let result = if occupants.has_below(node, pod.priority) {
                if state.is_none() {
                    state = Some(self.pre_filter(pod, snapshot));
                }
                self.select_victims_on_node(
                    pod,
                    snapshot,
                    node,
                    occupants.on(node),
                    allowed,
                    state.as_mut().expect("made above"),
                    sensitive,
                )
            } else {
                // (Counted below: most nodes hold no victim at all.)
                no_victims += 1;
                continue;
            };
            match result {
                Ok(victims) if victims.pdb_violations == 0 => fitting.push(victims),
                Ok(victims) => violating.push(victims),
                Err(reasons) => {
                    for reason in reasons {
                        *statuses.entry(reason).or_insert(0) += 1;
                    }
                }
            }
        }
        if no_victims > 0 {
            *statuses.entry(Reason::NoPreemptionVictims).or_insert(0) += no_victims;
        }
        fitting.extend(violating);
        match pick_one_node_for_preemption(&fitting) {
            Some(best) => Outcome::Preempt(fitting.swap_remove(best)),
            None => Outcome::NotHelpful(format!(
                "preemption: {}",
                FitError {
                    nodes: snapshot.nodes.len(),
                    reasons: statuses,
                    post_filter: None,
                }
            )),
        }
    }

    /// `SelectVictimsOnNode`: remove every lower-priority pod; if the pod
    /// then fits, reprieve as many as possible, most important first,
    /// those whose removal would violate a disruption budget before the
    /// others. `Err` is the node's status when preemption cannot help there.
    #[allow(clippy::too_many_arguments)]
    fn select_victims_on_node(
        &self,
        pod: &PodSpec,
        snapshot: &mut Snapshot,
        node: usize,
        on_node: &[Occupant],
        allowed: &[i32],
        state: &mut CycleState,
        sensitive: bool,
    ) -> Result<Victims, Vec<Reason>> {
        let mut potential: Vec<&Occupant> = on_node
            .iter()
            .filter(|o| o.priority < pod.priority)
            .collect();
        if potential.is_empty() {
            return Err(vec![Reason::NoPreemptionVictims]);
        }
        let mut info = snapshot.nodes[node].clone();
        let remove = |info: &mut NodeInfo, snapshot: &mut Snapshot, victim: &Occupant| {
            info.requested.sub(&victim.pod.requests);
            info.non_zero_requested.sub(&victim.pod.non_zero_requests);
            info.pods -= 1;
            if sensitive {
                snapshot.forget(node, &victim.pod);
            }
        };
        let add = |info: &mut NodeInfo, snapshot: &mut Snapshot, victim: &Occupant| {
            info.requested.add(&victim.pod.requests);
            info.non_zero_requested.add(&victim.pod.non_zero_requests);
            info.pods += 1;
            if sensitive {
                snapshot.assume(node, &victim.pod);
            }
        };
        let fits = |snapshot: &Snapshot, info: &NodeInfo, state: &mut CycleState| {
            if sensitive {
                *state = self.pre_filter(pod, snapshot);
            }
            self.first_failure(pod, info, state)
        };
        for victim in &potential {
            remove(&mut info, snapshot, victim);
        }
        if let Some(reasons) = fits(snapshot, &info, state) {
            for victim in &potential {
                add(&mut info, snapshot, victim);
            }
            if sensitive {
                *state = self.pre_filter(pod, snapshot);
            }
            return Err(reasons);
        }
        potential.sort_by(|a, b| more_important(a, b));
        // `filterPodsWithPDBViolation`, in that order.
        let mut left = allowed.to_vec();
        let (mut breaking, mut keeping) = (Vec::new(), Vec::new());
        for victim in potential {
            let mut violated = false;
            for &budget in &victim.budgets {
                if let Some(left) = left.get_mut(budget) {
                    *left -= 1;
                    violated |= *left < 0;
                }
            }
            if violated {
                breaking.push(victim);
            } else {
                keeping.push(victim);
            }
        }
        let both = !breaking.is_empty() && !keeping.is_empty();
        let mut victims: Vec<&Occupant> = Vec::new();
        let mut pdb_violations = 0;
        for (group, counts) in [(breaking, true), (keeping, false)] {
            for victim in group {
                add(&mut info, snapshot, victim);
                if fits(snapshot, &info, state).is_some() {
                    remove(&mut info, snapshot, victim);
                    victims.push(victim);
                    pdb_violations += usize::from(counts);
                }
            }
        }
        // Leave the snapshot as it was.
        for victim in &victims {
            add(&mut info, snapshot, victim);
        }
        if sensitive {
            *state = self.pre_filter(pod, snapshot);
        }
        if both {
            victims.sort_by(|a, b| more_important(a, b));
        }
        Ok(Victims {
            node,
            keys: victims.iter().map(|v| v.key).collect(),
            pods: victims.iter().map(|v| (v.priority, v.start)).collect(),
            pdb_violations,
        })
    }
}

/// `GetEarliestPodStartTime`: the earliest start among the highest-priority victims.
fn earliest_start_of_highest(pods: &[(i32, u64)]) -> u64 {
    let highest = pods.iter().map(|p| p.0).max().unwrap_or(i32::MIN);
    pods.iter()
        .filter(|p| p.0 == highest)
        .map(|p| p.1)
        .min()
        .unwrap_or(0)
}

/// `pickOneNodeForPreemption`: fewest PDB violations, then the lowest
/// highest-priority victim, the smallest sum of priorities, the fewest
/// victims, the latest start of the highest-priority victims; then the first.
/// Returns the position of the chosen candidate.
pub fn pick_one_node_for_preemption(candidates: &[Victims]) -> Option<usize> {
    type Score = fn(&Victims) -> i64;
    let scores: [Score; 5] = [
        |v| -(v.pdb_violations as i64),
        |v| -i64::from(v.pods.first().map_or(i32::MIN, |p| p.0)),
        |v| {
            -v.pods
                .iter()
                .map(|p| i64::from(p.0) + i64::from(i32::MAX) + 1)
                .sum::<i64>()
        },
        |v| -(v.pods.len() as i64),
        |v| earliest_start_of_highest(&v.pods) as i64,
    ];
    let mut remaining: Vec<usize> = (0..candidates.len()).collect();
    for score in scores {
        if remaining.len() <= 1 {
            break;
        }
        let best = remaining
            .iter()
            .map(|&i| score(&candidates[i]))
            .max()
            .unwrap_or(0);
        remaining.retain(|&i| score(&candidates[i]) == best);
    }
    remaining.first().copied()
}

#[cfg(test)]
mod tests;
