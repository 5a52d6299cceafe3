//! One placement's decision: every live profile through the filters, the
//! profiles' raw scores normalized by the plugins' own normalizations (over
//! the profiles' values, which the framework allows), then the best node of
//! the best profile, as `Scheduler::schedule` picks it.

use super::model::{MISSING, Model};
use super::roles::Roles;
use crate::scheduler::plugins::{inter_pod_affinity, pod_topology_spread as spread};
use crate::scheduler::{CycleState, Placement, Scheduler};
use std::cmp::Reverse;

impl Model {
    /// Evaluate every live profile; then the best node, as `schedule` picks it.
    pub(super) fn best(&mut self, roles: &Roles, scheduler: &Scheduler) -> Option<Placement> {
        let feasible_nodes = self.filter_profiles();
        if feasible_nodes == 0 {
            return None;
        }
        let feasible: Vec<usize> = (0..self.profiles.len())
            .filter(|&p| self.profiles[p].feasible)
            .collect();
        let mut phi = vec![0i64; feasible.len()];
        self.add_static_scores(roles, scheduler, &feasible, &mut phi);
        if let Some(weight) = roles.spread_weight
            && self.spread_scoring
        {
            let mut raw = self.spread_raw(&feasible);
            spread::normalize_scores(&mut raw);
            add_weighted(&mut phi, &raw, weight);
        }
        if let Some(weight) = roles.affinity_weight {
            let mut raw = self.inter_pod_raw(&feasible);
            inter_pod_affinity::normalize_scores(&mut raw);
            add_weighted(&mut phi, &raw, weight);
        }
        for (&p, phi) in feasible.iter().zip(phi) {
            self.profiles[p].phi = phi;
        }
        let (score, node) = self.pick(&feasible)?;
        Some(Placement {
            node,
            score: if feasible_nodes == 1 { 0 } else { score },
            feasible: feasible_nodes,
        })
    }

    /// Mark each profile feasible or not (it has fitting nodes and passes
    /// the domain filters); the number of feasible nodes.
    fn filter_profiles(&mut self) -> usize {
        let mut feasible_nodes = 0usize;
        for p in 0..self.profiles.len() {
            let profile = &self.profiles[p];
            let feasible = profile.fitting > 0 && self.passes_domains(profile);
            self.profiles[p].feasible = feasible;
            if feasible {
                feasible_nodes += self.profiles[p].fitting;
            }
        }
        feasible_nodes
    }

    /// PodTopologySpread's skew rule and InterPodAffinity's anti-affinity
    /// rules on a profile's counts.
    fn passes_domains(&self, profile: &super::model::Profile) -> bool {
        let skew_ok = self.filters.iter().enumerate().all(|(f, filter)| {
            let count = self.value(profile, filter.counter);
            spread::within_skew(
                count,
                filter.self_match,
                self.filter_min[f],
                filter.max_skew,
            )
        });
        skew_ok
            && self.anti.iter().chain(&self.existing_anti).all(|&c| {
                let v = self.value(profile, c);
                v == MISSING || v <= 0
            })
    }

    /// The `Reads::Node` scorers: each one's raw scores (the first slots of
    /// a profile key), normalized by the plugin over the feasible profiles.
    fn add_static_scores(
        &self,
        roles: &Roles,
        scheduler: &Scheduler,
        feasible: &[usize],
        phi: &mut [i64],
    ) {
        let state = CycleState::default();
        for (slot, &s) in roles.node_scorers.iter().enumerate() {
            let scorer = &scheduler.scorers()[s];
            let mut raw: Vec<i64> = feasible
                .iter()
                .map(|&p| self.profiles[p].key[slot])
                .collect();
            scorer.plugin.normalize(&mut raw, &state);
            add_weighted(phi, &raw, scorer.weight);
        }
    }

    /// PodTopologySpread's raw scores of the feasible profiles (`IGNORED`
    /// for those the scoring ignores), with its domain weights over the
    /// feasible nodes it scores.
    fn spread_raw(&self, feasible: &[usize]) -> Vec<i64> {
        let mut considered = 0usize;
        let mut domains: Vec<Vec<bool>> = self
            .scores
            .iter()
            .map(|s| match s.hostname {
                true => Vec::new(),
                false => vec![false; self.keys[self.counters[s.counter].key].domains],
            })
            .collect();
        let mut keyless = vec![false; self.scores.len()];
        for &p in feasible {
            let profile = &self.profiles[p];
            if profile.key[self.ignored_slot] != 0 {
                continue;
            }
            considered += profile.fitting;
            for (s, score) in self.scores.iter().enumerate() {
                if !score.hostname {
                    // A node without the key (scored only under the system
                    // defaults) is in one more domain, `""`.
                    let d = profile.key[self.slot[score.counter]];
                    if d != MISSING {
                        domains[s][d as usize] = true;
                    } else {
                        keyless[s] = true;
                    }
                }
            }
        }
        let weights: Vec<f64> = self
            .scores
            .iter()
            .zip(domains.iter().zip(&keyless))
            .map(|(s, (seen, &keyless))| match s.hostname {
                true => spread::domain_weight(considered),
                false => spread::domain_weight(
                    seen.iter().filter(|d| **d).count() + usize::from(keyless),
                ),
            })
            .collect();
        feasible
            .iter()
            .map(|&p| {
                let profile = &self.profiles[p];
                if profile.key[self.ignored_slot] != 0 {
                    return spread::IGNORED;
                }
                let mut total = 0.0f64;
                for (s, score) in self.scores.iter().enumerate() {
                    let count = self.value(profile, score.counter);
                    if count != MISSING {
                        total += spread::constraint_score(count, weights[s], score.max_skew);
                    }
                }
                total.round() as i64
            })
            .collect()
    }

    /// InterPodAffinity's raw scores of the feasible profiles.
    fn inter_pod_raw(&self, feasible: &[usize]) -> Vec<i64> {
        feasible
            .iter()
            .map(|&p| {
                self.topology_score
                    .iter()
                    .map(|&c| self.value(&self.profiles[p], c))
                    .filter(|&v| v != MISSING)
                    .sum()
            })
            .collect()
    }

    /// Each feasible profile's best node (the top of its heap, once stale
    /// entries are dropped) with the profile's score; the best of them
    /// (lowest name on ties).
    fn pick(&mut self, feasible: &[usize]) -> Option<(i64, usize)> {
        let mut best: Option<(i64, u32, usize)> = None;
        for &p in feasible {
            let Some((usage, rank, node)) = self.top(p) else {
                continue;
            };
            let total = usage + self.profiles[p].phi;
            let better = match best {
                None => true,
                Some((score, r, _)) => total > score || (total == score && rank < r),
            };
            if better {
                best = Some((total, rank, node));
            }
        }
        best.map(|(score, _, node)| (score, node))
    }

    /// A profile's best node, stale heap entries dropped.
    fn top(&mut self, p: usize) -> Option<(i64, u32, usize)> {
        loop {
            let &(usage, Reverse(rank), node) = self.profiles[p].heap.peek()?;
            let node = node as usize;
            if self.profile_of(node) as usize == p
                && self.shape.fit[node]
                && self.shape.usage[node] == usage
            {
                return Some((usage, rank, node));
            }
            self.profiles[p].heap.pop();
        }
    }
}

fn add_weighted(phi: &mut [i64], scores: &[i64], weight: i64) {
    for (phi, score) in phi.iter_mut().zip(scores) {
        *phi += score * weight;
    }
}
