//! The profiles of a new run: nodes with non-zero fine counters get their
//! own, every other node its class's; each profile's heap starts with only
//! the nodes that can still become its best during the run.

use super::Batch;
use super::catch_up;
use super::model::{Entry, Model, NO_PROFILE};
use super::shape::{Board, packed};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

impl Model {
    /// Profiles, fitting counts and heaps for a run of `count` replicas.
    pub(super) fn build_profiles(&mut self, batch: &mut Batch, count: usize) {
        let own = self.own_nodes();
        for &node in &own {
            self.assign(node as usize);
        }
        let fine_start = self.fine_start();
        let mut key = Vec::new();
        let classes = self.classes.clone();
        self.zero_profile = vec![NO_PROFILE; classes.count];
        for (class, &first) in classes.first.iter().enumerate() {
            self.class_key(first as usize, fine_start, &mut key);
            key.resize(self.width, 0);
            self.zero_profile[class] = self.profile(&key);
        }
        let mut fitting = self.fitting_per_class(batch);
        // The classes' fitting nodes, less the own ones (which count in
        // their own profiles).
        for &node in &own {
            if self.shape.fit[node as usize] {
                fitting[classes.of[node as usize] as usize] -= 1;
            }
        }
        for (class, &p) in self.zero_profile.iter().enumerate() {
            self.profiles[p as usize].fitting += fitting[class];
        }
        let entries = self.best_of_classes(&own, self.keep(count));
        self.building = false;
        self.fill_heaps(entries, &own);
        self.update_minimums();
    }

    /// Nodes with a non-zero fine counter, or lacking a fine key, have a
    /// profile of their own (among the statically feasible ones).
    fn own_nodes(&self) -> Vec<u32> {
        let mut own: Vec<u32> = Vec::new();
        for counter in &self.counters {
            let key = &self.keys[counter.key];
            if key.coarse {
                continue;
            }
            own.extend_from_slice(&key.missing);
            for &d in &counter.touched {
                if counter.values[d as usize] != 0 {
                    own.extend_from_slice(&key.members[d as usize]);
                }
            }
        }
        own.sort_unstable();
        own.dedup();
        own.retain(|&node| self.classes.of[node as usize] as usize != self.classes.count);
        own
    }

    /// Each placement takes at most `per_placement` nodes out of a class
    /// profile: the receiving node, and the other nodes of its fine
    /// domains, which are re-profiled (nodes that join a profile are pushed
    /// as they do). So before each placement, the profile's best node is
    /// among its `keep` best at the start of the run, or among those pushed
    /// since: its heap starts with those alone.
    fn keep(&self, count: usize) -> usize {
        let mut seen: Vec<usize> = Vec::new();
        let mut per_placement = 1usize;
        for counter in &self.counters {
            if !self.keys[counter.key].coarse && !seen.contains(&counter.key) {
                seen.push(counter.key);
                per_placement += self.keys[counter.key].largest.saturating_sub(1);
            }
        }
        (count - 1).saturating_mul(per_placement).saturating_add(1)
    }

    /// How many nodes of each class fit, from the nodes whose fit changed
    /// since the last count (every node when that is most, or for a new count).
    fn fitting_per_class(&self, batch: &mut Batch) -> Vec<usize> {
        let (n, classes) = (self.n, &self.classes);
        let board_key = (self.shape_key.clone(), classes.id);
        let mut board = batch.boards.remove(&board_key).unwrap_or_else(|| Board {
            counted: vec![false; n],
            fitting: vec![0; classes.count + 1],
            cursor: usize::MAX,
        });
        let (of, fit) = (&classes.of[..n], &self.shape.fit);
        let count = |i: usize| {
            if board.counted[i] != fit[i] {
                board.counted[i] = fit[i];
                let class = &mut board.fitting[of[i] as usize];
                if fit[i] {
                    *class += 1;
                } else {
                    *class -= 1;
                }
            }
        };
        catch_up(&self.shape.flips, board.cursor, n, count);
        board.cursor = self.shape.flips.len();
        let fitting = board.fitting.clone();
        batch.boards.insert(board_key, board);
        fitting
    }

    /// Per class, its best `keep` fitting nodes (the own ones left out),
    /// worst on top.
    fn best_of_classes(&mut self, own: &[u32], keep: usize) -> Vec<BinaryHeap<Reverse<Entry>>> {
        let (n, classes) = (self.n, self.classes.clone());
        let mut entries: Vec<BinaryHeap<Reverse<Entry>>> = Vec::new();
        entries.resize_with(classes.count, BinaryHeap::new);
        // A node below this cannot enter its class's best: the worst kept,
        // once `keep` are, as one number (0 until then: below any node; the
        // nodes in no class: above all).
        let mut threshold = vec![0u64; classes.count + 1];
        threshold[classes.count] = u64::MAX;
        let own_packed: Vec<u64> = own
            .iter()
            .map(|&node| std::mem::take(&mut self.shape.packed[node as usize]))
            .collect();
        let (usage, rank) = (&self.shape.usage[..n], &self.rank[..n]);
        let (of, packed_of) = (&classes.of[..n], &self.shape.packed[..n]);
        for i in 0..n {
            let value = packed_of[i];
            let class = of[i] as usize;
            if value <= threshold[class] {
                continue;
            }
            let entry = (usage[i], Reverse(rank[i]), i as u32);
            let best = &mut entries[class];
            if best.len() < keep {
                best.push(Reverse(entry));
            } else if let Some(mut top) = best.peek_mut()
                && entry > top.0
            {
                *top = Reverse(entry);
            }
            if best.len() == keep {
                // (A worst that does not pack leaves every node to the exact comparison.)
                threshold[class] = match best.peek().map(|w| packed(w.0.0, w.0.1.0)) {
                    Some(u64::MAX) | None => 0,
                    Some(worst) => worst,
                };
            }
        }
        for (&node, value) in own.iter().zip(own_packed) {
            self.shape.packed[node as usize] = value;
        }
        entries
    }

    /// Each profile's heap: its class's best, or its own fitting nodes.
    fn fill_heaps(&mut self, entries: Vec<BinaryHeap<Reverse<Entry>>>, own: &[u32]) {
        let mut heaps: Vec<Vec<Entry>> = Vec::new();
        heaps.resize_with(self.profiles.len(), Vec::new);
        for (class, best) in entries.into_iter().enumerate() {
            heaps[self.zero_profile[class] as usize]
                .extend(best.into_vec().into_iter().map(|e| e.0));
        }
        for &node in own {
            let node = node as usize;
            if self.shape.fit[node] {
                let p = self.profile_of(node) as usize;
                heaps[p].push((
                    self.shape.usage[node],
                    Reverse(self.rank[node]),
                    node as u32,
                ));
            }
        }
        for (profile, heap) in self.profiles.iter_mut().zip(heaps) {
            profile.heap = BinaryHeap::from(heap);
        }
    }
}
