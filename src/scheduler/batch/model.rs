//! The model of one run: every node's profile, the profiles' heaps of
//! fitting nodes, and the counters, built from the pass's caches and kept
//! up to date as the run's replicas are placed.

use super::Batch;
use super::classes::Classes;
use super::counting::{Counting, SpreadFilter, SpreadScore};
use super::keys::{Counter, Key};
use super::shape::{self, Shape};
use super::statics::Statics;
use crate::model::pod::PodSpec;
use crate::scheduler::snapshot::Snapshot;
use crate::scheduler::{Scheduler, Signature};
use rustc_hash::FxHashMap;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::rc::Rc;

pub(super) const MISSING: i64 = i64::MIN;
pub(super) const NO_PROFILE: u32 = u32::MAX;

/// A node in a profile's heap: (usage score, lowest name first, node).
pub(super) type Entry = (i64, Reverse<u32>, u32);

pub(super) struct Profile {
    /// [static raw scores…, ignored, coarse domains…, fine counter values…]
    pub key: Vec<i64>,
    /// Nodes with this profile that also fit by usage.
    pub fitting: usize,
    // Per evaluation:
    pub feasible: bool,
    /// The weighted, normalized scores of every plugin but the usage ones.
    pub phi: i64,
    /// Its fitting nodes by (usage score, lowest name): entries go stale
    /// when a node changes and are dropped when they reach the top.
    pub heap: BinaryHeap<Entry>,
}

pub(super) struct Model {
    pub statics: Rc<Statics>,
    pub keys: Vec<Rc<Key>>,
    pub counters: Vec<Counter>,
    /// For each counter: its slot in the profile key (fine) or the key's slot (coarse).
    pub slot: Vec<usize>,
    pub coarse_slot: Vec<usize>,
    pub ignored_slot: usize,
    pub filters: Vec<SpreadFilter>,
    pub filter_min: Vec<i64>,
    pub scores: Vec<SpreadScore>,
    pub spread_scoring: bool,
    pub ignored: Rc<Vec<bool>>,
    pub anti: Vec<usize>,
    pub existing_anti: Vec<usize>,
    pub topology_score: Vec<usize>,
    pub self_deltas: Vec<(usize, i64)>,
    /// The shape's cache (see `Shape`), held for the run.
    pub shape_key: Signature,
    pub shape: Shape,
    pub n: usize,
    /// A node's profile: its own (`over`, set for the nodes in `touched`),
    /// else its class's (`zero_profile`: the class prefix, then zeros).
    pub classes: Rc<Classes>,
    pub zero_profile: Vec<u32>,
    pub over: Vec<u32>,
    pub touched: Vec<u32>,
    pub profiles: Vec<Profile>,
    pub profile_index: FxHashMap<Vec<i64>, u32>,
    pub rank: Rc<Vec<u32>>,
    /// While the model is built, heaps are filled at the end, in one go.
    pub building: bool,
    /// Length of a profile key, and a buffer to build one in.
    pub width: usize,
    pub scratch: Vec<i64>,
}

impl Model {
    /// The model of a run of `count` replicas of `pod`, or why the run
    /// takes the plain path.
    pub fn new(
        batch: &mut Batch,
        pod: &PodSpec,
        snapshot: &Snapshot,
        count: usize,
    ) -> Result<Model, super::PlainReason> {
        let statics = batch
            .statics
            .get(batch.scheduler, &batch.roles, pod, snapshot);
        let mut counting = Counting::new(batch, &statics, pod, snapshot)?;
        let classes_key = std::mem::take(&mut counting.classes_key);
        let frame = counting.frame.clone();
        let mut model = Model::assemble(batch, statics, counting, snapshot.nodes.len());
        model.take_shape(batch, pod, snapshot);
        let classes = match batch.classes.get(&classes_key) {
            Some(found) => found.clone(),
            None => {
                let mut classes = model.classes(&frame.ok);
                classes.id = batch.classes.len();
                let classes = Rc::new(classes);
                batch.classes.insert(classes_key, classes.clone());
                classes
            }
        };
        model.classes = classes;
        model.build_profiles(batch, count);
        Ok(model)
    }

    /// The model's parts, with the profile key's layout: static scores,
    /// ignored, coarse keys by domain, fine counters by value.
    fn assemble(batch: &mut Batch, statics: Rc<Statics>, c: Counting, n: usize) -> Model {
        let ignored_slot = statics.raws.len();
        let mut coarse_slot = vec![usize::MAX; c.keys.len()];
        let mut width = ignored_slot + 1;
        for (k, key) in c.keys.iter().enumerate() {
            if key.coarse {
                coarse_slot[k] = width;
                width += 1;
            }
        }
        let mut slot = vec![usize::MAX; c.counters.len()];
        for (i, counter) in c.counters.iter().enumerate() {
            if c.keys[counter.key].coarse {
                slot[i] = coarse_slot[counter.key];
            } else {
                slot[i] = width;
                width += 1;
            }
        }
        Model {
            statics,
            keys: c.keys,
            counters: c.counters,
            slot,
            coarse_slot,
            ignored_slot,
            filter_min: vec![0; c.filters.len()],
            filters: c.filters,
            scores: c.scores,
            spread_scoring: c.spread_scoring,
            ignored: c.frame.ignored.clone(),
            anti: c.anti,
            existing_anti: c.existing_anti,
            topology_score: c.topology_score,
            self_deltas: c.self_deltas,
            shape_key: Signature::default(),
            shape: Shape::new(0),
            n,
            classes: Rc::new(Classes::empty()),
            zero_profile: Vec::new(),
            over: std::mem::take(&mut batch.over),
            touched: Vec::new(),
            profiles: Vec::new(),
            profile_index: FxHashMap::default(),
            rank: batch.rank.clone(),
            building: true,
            width,
            scratch: Vec::new(),
        }
    }

    /// Usage results come from the shape's cache where the node has not
    /// changed since they were computed; the model keeps the cache up to
    /// date for the nodes its run places on, and hands it back at the end.
    fn take_shape(&mut self, batch: &mut Batch, pod: &PodSpec, snapshot: &Snapshot) {
        self.shape_key = shape::signature(batch.scheduler, &batch.roles, pod);
        let mut shape = batch
            .shapes
            .remove(&self.shape_key)
            .unwrap_or_else(|| Shape::new(self.n));
        let (scheduler, roles, rank) = (batch.scheduler, &batch.roles, &self.rank);
        let versions = &batch.versions[..self.n];
        // The results for the nodes placed on since it was last used (all
        // of them when that is most).
        let cursor = shape.cursor;
        batch.placed_since(cursor, |i| {
            if shape.stamp[i] != versions[i] {
                shape.stamp[i] = versions[i];
                refresh(&mut shape, scheduler, roles, pod, snapshot, i, rank[i]);
            }
        });
        self.shape = shape;
    }

    /// Hand the shape's cache and the counters back to the pass.
    pub fn finish(mut self, batch: &mut Batch) {
        for &node in &self.touched {
            self.over[node as usize] = NO_PROFILE;
        }
        batch.over = self.over;
        for mut counter in self.counters {
            for &d in &counter.touched {
                counter.values[d as usize] = 0;
            }
            batch.pool.push(counter.values);
        }
        self.shape.cursor = batch.log.len();
        batch.shapes.insert(self.shape_key, self.shape);
    }

    /// `node`'s profile (`NO_PROFILE`: the node is statically infeasible).
    pub fn profile_of(&self, node: usize) -> u32 {
        match self.over[node] {
            NO_PROFILE => self
                .zero_profile
                .get(self.classes.of[node] as usize)
                .copied()
                .unwrap_or(NO_PROFILE),
            own => own,
        }
    }

    /// The profile with `key`, made when there is none yet.
    pub fn profile(&mut self, key: &[i64]) -> u32 {
        if let Some(&found) = self.profile_index.get(key) {
            return found;
        }
        self.profiles.push(Profile {
            key: key.to_vec(),
            fitting: 0,
            feasible: false,
            phi: 0,
            heap: BinaryHeap::new(),
        });
        let index = (self.profiles.len() - 1) as u32;
        self.profile_index.insert(key.to_vec(), index);
        index
    }

    /// (Re)compute a statically feasible node's profile.
    pub fn assign(&mut self, node: usize) {
        let mut key = std::mem::take(&mut self.scratch);
        self.profile_key(node, &mut key);
        let old = self.profile_of(node);
        let fit = self.shape.fit[node];
        if old != NO_PROFILE {
            if self.profiles[old as usize].key == key {
                self.scratch = key;
                return;
            }
            if fit {
                self.profiles[old as usize].fitting -= 1;
            }
        }
        let index = self.profile(&key);
        self.scratch = key;
        self.over[node] = index;
        self.touched.push(node as u32);
        if fit {
            self.profiles[index as usize].fitting += 1;
        }
        self.push(node);
    }

    /// Enter `node`, as it is now, in its profile's heap.
    pub fn push(&mut self, node: usize) {
        let p = self.profile_of(node);
        if self.building || p == NO_PROFILE || !self.shape.fit[node] {
            return;
        }
        let entry = (
            self.shape.usage[node],
            Reverse(self.rank[node]),
            node as u32,
        );
        self.profiles[p as usize].heap.push(entry);
    }

    /// Account a placement on `node` (already assumed on the snapshot).
    pub fn placed(
        &mut self,
        batch: &Batch,
        node: usize,
        version: u32,
        pod: &PodSpec,
        snapshot: &Snapshot,
    ) {
        self.shape.stamp[node] = version;
        let was_fit = self.shape.fit[node];
        let p = self.profile_of(node) as usize;
        refresh(
            &mut self.shape,
            batch.scheduler,
            &batch.roles,
            pod,
            snapshot,
            node,
            self.rank[node],
        );
        if was_fit && !self.shape.fit[node] {
            self.profiles[p].fitting -= 1;
        }
        let changed = self.count_placement(node);
        let mut nodes: Vec<u32> = vec![node as u32];
        for (key, d) in changed {
            nodes.extend_from_slice(&self.keys[key].members[d as usize]);
        }
        nodes.sort_unstable();
        nodes.dedup();
        for n in nodes {
            if self.profile_of(n as usize) != NO_PROFILE {
                self.assign(n as usize);
            }
        }
        // Its usage score changed even if its profile did not.
        self.push(node);
    }

    /// Add a placement on `node` to the counters of its domains; the fine
    /// domains that changed, whose nodes need new profiles.
    fn count_placement(&mut self, node: usize) -> Vec<(usize, u32)> {
        let mut changed: Vec<(usize, u32)> = Vec::new();
        let mut bump = |counters: &mut Vec<Counter>, keys: &[Rc<Key>], counter: usize, delta| {
            let key = counters[counter].key;
            let d = keys[key].domain[node];
            if d != u32::MAX && delta != 0 {
                counters[counter].add(d as usize, delta);
                if !keys[key].coarse {
                    changed.push((key, d));
                }
            }
        };
        for filter in &self.filters {
            if filter.counts_here[node] {
                bump(
                    &mut self.counters,
                    &self.keys,
                    filter.counter,
                    filter.self_match,
                );
            }
        }
        for score in &self.scores {
            if score.hostname || score.counts_here[node] {
                bump(
                    &mut self.counters,
                    &self.keys,
                    score.counter,
                    score.self_match,
                );
            }
        }
        for &(counter, delta) in &self.self_deltas {
            bump(&mut self.counters, &self.keys, counter, delta);
        }
        self.update_minimums();
        changed.sort_unstable();
        changed.dedup();
        changed
    }

    /// Each DoNotSchedule constraint's global minimum over its registered
    /// domains (0 when fewer than minDomains).
    pub fn update_minimums(&mut self) {
        for (f, filter) in self.filters.iter().enumerate() {
            self.filter_min[f] = if (filter.registered_count as i64) < filter.min_domains {
                0
            } else {
                self.counters[filter.counter]
                    .values
                    .iter()
                    .zip(filter.registered.iter())
                    .filter(|(_, r)| **r)
                    .map(|(v, _)| *v)
                    .min()
                    .unwrap_or(0)
            };
        }
    }

    /// A counter's value for a profile (MISSING when its nodes lack the key).
    pub fn value(&self, profile: &Profile, counter: usize) -> i64 {
        let c = &self.counters[counter];
        if self.keys[c.key].coarse {
            let d = profile.key[self.slot[counter]];
            if d == MISSING {
                MISSING
            } else {
                c.values[d as usize]
            }
        } else {
            profile.key[self.slot[counter]]
        }
    }
}

/// Recompute `node`'s usage results in `shape` (its fit, its score, its
/// packed heap entry), recording a change of fit.
fn refresh(
    shape: &mut Shape,
    scheduler: &Scheduler,
    roles: &super::roles::Roles,
    pod: &PodSpec,
    snapshot: &Snapshot,
    node: usize,
    rank: u32,
) {
    let fit = shape::fits(scheduler, roles, pod, snapshot, node);
    let usage = shape::usage_score(scheduler, roles, pod, snapshot, node);
    if shape.fit[node] != fit {
        shape.flips.push(node as u32);
    }
    shape.fit[node] = fit;
    shape.usage[node] = usage;
    shape.packed[node] = if fit { shape::packed(usage, rank) } else { 0 };
}
