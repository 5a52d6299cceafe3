//! Nodes grouped by the part of a profile key that does not move during a
//! pass (static scores, ignored, coarse domains), for one pod's layout: a
//! node whose fine counters are all zero joins its class's profile without
//! a key being built and hashed.

use super::keys::Key;
use super::model::{MISSING, Model, NO_PROFILE};
use rustc_hash::FxHashMap;

#[derive(PartialEq)]
pub(super) struct Classes {
    /// Each node's class (`count` for a node in none: statically infeasible).
    pub of: Vec<u32>,
    pub count: usize,
    /// Each class's first node.
    pub first: Vec<u32>,
    /// This pass's number for it (the key of the fitting counts built on it).
    pub id: usize,
}

impl Classes {
    /// No classes (a model's, until its own are found).
    pub fn empty() -> Classes {
        Classes::new(Vec::new(), 0)
    }

    /// From each node's class (`NO_PROFILE`: none), classes numbered `0..count`.
    fn new(mut of: Vec<u32>, count: usize) -> Classes {
        let mut first = vec![NO_PROFILE; count];
        for (node, class) in of.iter_mut().enumerate() {
            if *class == NO_PROFILE {
                *class = count as u32;
            } else if first[*class as usize] == NO_PROFILE {
                first[*class as usize] = node as u32;
            }
        }
        Classes {
            of,
            count,
            first,
            id: 0,
        }
    }
}

/// Numbers for keys in order of first appearance: few keys are searched
/// in a list, more in a map.
pub(super) struct Numbering<K> {
    keys: Vec<K>,
    map: FxHashMap<K, u32>,
}

impl<K> Default for Numbering<K> {
    fn default() -> Self {
        Numbering {
            keys: Vec::new(),
            map: FxHashMap::default(),
        }
    }
}

impl<K: Copy + Eq + std::hash::Hash> Numbering<K> {
    const LISTED: usize = 16;

    pub fn number(&mut self, key: K) -> u32 {
        let found = if self.keys.len() <= Self::LISTED {
            self.keys.iter().position(|k| *k == key).map(|p| p as u32)
        } else {
            self.map.get(&key).copied()
        };
        if let Some(number) = found {
            return number;
        }
        let number = self.keys.len() as u32;
        self.keys.push(key);
        if self.keys.len() > Self::LISTED {
            if self.map.is_empty() {
                self.map = self
                    .keys
                    .iter()
                    .enumerate()
                    .map(|(i, &k)| (k, i as u32))
                    .collect();
            } else {
                self.map.insert(key, number);
            }
        }
        number
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }
}

impl Model {
    /// Write `node`'s profile key into `key`.
    pub(super) fn profile_key(&self, node: usize, key: &mut Vec<i64>) {
        key.clear();
        key.resize(self.width, 0);
        self.class_slots(node, key);
        for (c, counter) in self.counters.iter().enumerate() {
            let info = &self.keys[counter.key];
            if !info.coarse {
                let d = info.domain[node];
                key[self.slot[c]] = if d == u32::MAX {
                    MISSING
                } else {
                    counter.values[d as usize]
                };
            }
        }
    }

    /// `node`'s profile key up to the fine counters (its first `fine_start`
    /// slots: static scores, ignored, coarse domains).
    pub(super) fn class_key(&self, node: usize, fine_start: usize, key: &mut Vec<i64>) {
        key.clear();
        key.resize(fine_start, 0);
        self.class_slots(node, key);
    }

    /// Write `node`'s slots before the fine counters into `key`.
    fn class_slots(&self, node: usize, key: &mut [i64]) {
        for (slot, raws) in key.iter_mut().zip(&self.statics.raws) {
            *slot = raws[node];
        }
        key[self.ignored_slot] = i64::from(self.ignored[node]);
        for (k, info) in self.keys.iter().enumerate() {
            if info.coarse {
                let d = info.domain[node];
                key[self.coarse_slot[k]] = if d == u32::MAX { MISSING } else { i64::from(d) };
            }
        }
    }

    /// Every node's class: the profile key up to the fine counters
    /// (`NO_PROFILE` for the nodes that are not `ok`).
    pub(super) fn classes(&self, ok: &[bool]) -> Classes {
        match self.packed_classes(ok) {
            Some(classes) => {
                // (Every test run through the batch path checks the packing.)
                debug_assert!(classes == self.keyed_classes(ok));
                classes
            }
            None => self.keyed_classes(ok),
        }
    }

    /// `classes`, keyed by the profile key's first slots themselves.
    fn keyed_classes(&self, ok: &[bool]) -> Classes {
        let fine_start = self.fine_start();
        let mut index: FxHashMap<Vec<i64>, u32> = FxHashMap::default();
        let mut of = Vec::with_capacity(self.n);
        let mut key = Vec::new();
        for (node, &ok) in ok.iter().enumerate().take(self.n) {
            if !ok {
                of.push(NO_PROFILE);
                continue;
            }
            self.class_key(node, fine_start, &mut key);
            // (Classes are few: the key is copied only for a new one.)
            let class = match index.get(key.as_slice()) {
                Some(&class) => class,
                None => {
                    let class = index.len() as u32;
                    index.insert(key.clone(), class);
                    class
                }
            };
            of.push(class);
        }
        Classes::new(of, index.len())
    }

    /// `classes`, with each node's class key packed into one number: its
    /// static scores and ignored flag numbered in order of appearance, then
    /// its domain in each coarse key (the same classes, numbered alike).
    /// `None` when the packed key could overflow.
    fn packed_classes(&self, ok: &[bool]) -> Option<Classes> {
        let n = self.n;
        let coarse: Vec<&Key> = self
            .keys
            .iter()
            .filter(|k| k.coarse)
            .map(|k| &**k)
            .collect();
        // Domain codes: 0..domains, and `domains` for a node lacking the key.
        let base = coarse
            .iter()
            .map(|k| k.domains as u64 + 1)
            .max()
            .unwrap_or(1);
        base.checked_pow(coarse.len() as u32)?
            .checked_mul(n as u64 + 1)?;
        let scored = &self.statics.scored;
        let mut statics = Numbering::default();
        let mut index = Numbering::default();
        let mut of = Vec::with_capacity(n);
        for (node, &ok) in ok.iter().enumerate().take(n) {
            if !ok {
                of.push(NO_PROFILE);
                continue;
            }
            let mut key = u64::from(statics.number((scored[node], self.ignored[node])));
            for k in &coarse {
                let d = k.domain[node];
                key = key * base
                    + if d == u32::MAX {
                        k.domains as u64
                    } else {
                        u64::from(d)
                    };
            }
            of.push(index.number(key));
        }
        Some(Classes::new(of, index.len()))
    }

    /// Where a profile key's fine counters start (the class prefix's length).
    pub(super) fn fine_start(&self) -> usize {
        self.width
            - self
                .counters
                .iter()
                .filter(|c| !self.keys[c.key].coarse)
                .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Keys are numbered in order of first appearance, in the list and
        /// past it, in the map.
        #[test]
        fn numbering_counts_keys_in_order_of_first_appearance(
            keys in prop::collection::vec(0u8..40, 0..200),
        ) {
            let mut numbering = Numbering::default();
            let mut reference: std::collections::HashMap<u8, u32> = Default::default();
            for key in keys {
                let next = reference.len() as u32;
                let expected = *reference.entry(key).or_insert(next);
                prop_assert_eq!(numbering.number(key), expected);
                prop_assert_eq!(numbering.len(), reference.len());
            }
        }
    }
}
