//! Topology keys and the counters kept over their domains: every node's
//! domain in a key, matching replicas per domain, and the pass's replica
//! groups indexed by label so that a run visits only those a selector may select.

use super::HashMap;
use crate::model::labels::LabelSelector;
use crate::model::pod::PodSpec;
use crate::scheduler::plugins::pod_topology_spread::{HOSTNAME, matching_per_node_in};
use crate::scheduler::snapshot::{ReplicaGroup, Snapshot};
use std::collections::BTreeMap;
use std::rc::Rc;

/// A topology key in use by this run, with every node's domain in it.
pub(super) struct Key {
    /// Domain of each node (`u32::MAX`: the node lacks the key).
    pub domain: Vec<u32>,
    pub domains: usize,
    pub coarse: bool,
    /// Fine keys: the nodes of each domain (re-profiled when it changes).
    pub members: Vec<Vec<u32>>,
    /// The nodes that lack the key.
    pub missing: Vec<u32>,
    /// Fine keys: the most nodes in one domain.
    pub largest: usize,
}

/// Matching replicas per domain of one key.
pub(super) struct Counter {
    pub key: usize,
    pub values: Vec<i64>,
    /// The domains it was added to (every non-zero one among them).
    pub touched: Vec<u32>,
}

impl Counter {
    pub fn add(&mut self, domain: usize, delta: i64) {
        if self.values[domain] == 0 {
            self.touched.push(domain as u32);
        }
        self.values[domain] += delta;
    }
}

/// The topology keys of a run, by name (`None`: per node, for hostname
/// scoring), shared with the pass's cache.
pub(super) struct KeyTable<'a> {
    pub snapshot: &'a Snapshot,
    pub cache: &'a mut HashMap<Option<String>, Rc<Key>>,
    /// Zeroed counter values, of the lengths the pass's keys have.
    pub pool: &'a mut Vec<Vec<i64>>,
    pub coarse_limit: usize,
    pub keys: Vec<Rc<Key>>,
    pub names: HashMap<Option<String>, usize>,
}

impl KeyTable<'_> {
    pub fn get(&mut self, name: Option<&str>) -> usize {
        let name = name.map(str::to_string);
        if let Some(&found) = self.names.get(&name) {
            return found;
        }
        let (snapshot, limit) = (self.snapshot, self.coarse_limit);
        let key = self
            .cache
            .entry(name.clone())
            .or_insert_with(|| Rc::new(Key::new(snapshot, name.as_deref(), limit)))
            .clone();
        self.keys.push(key);
        self.names.insert(name, self.keys.len() - 1);
        self.keys.len() - 1
    }
}

impl Key {
    pub fn new(snapshot: &Snapshot, name: Option<&str>, coarse_limit: usize) -> Key {
        let nodes = &snapshot.nodes;
        let mut key = match name {
            None => Key {
                // Per node; nodes without a hostname label are not scored by it.
                domain: nodes
                    .iter()
                    .map(|node| {
                        if node.labels.contains_key(HOSTNAME) {
                            node.index as u32
                        } else {
                            u32::MAX
                        }
                    })
                    .collect(),
                domains: nodes.len(),
                coarse: false,
                members: (0..nodes.len() as u32).map(|i| vec![i]).collect(),
                missing: Vec::new(),
                largest: 1,
            },
            Some(name) => {
                let mut values: HashMap<&str, u32> = HashMap::default();
                let domain: Vec<u32> = nodes
                    .iter()
                    .map(|node| match node.labels.get(name) {
                        Some(value) => {
                            let next = values.len() as u32;
                            *values.entry(value.as_str()).or_insert(next)
                        }
                        None => u32::MAX,
                    })
                    .collect();
                let domains = values.len();
                let coarse = domains <= coarse_limit;
                let mut members = Vec::new();
                if !coarse {
                    members = vec![Vec::new(); domains];
                    for (i, &d) in domain.iter().enumerate() {
                        if d != u32::MAX {
                            members[d as usize].push(i as u32);
                        }
                    }
                }
                Key {
                    domain,
                    domains,
                    coarse,
                    largest: members.iter().map(Vec::len).max().unwrap_or(0),
                    members,
                    missing: Vec::new(),
                }
            }
        };
        key.missing = (0..nodes.len() as u32)
            .filter(|&node| key.domain[node as usize] == u32::MAX)
            .collect();
        key
    }
}

/// The pass's replica groups indexed by label, so that a run visits only the
/// groups a selector may select. Groups created during the pass are indexed
/// as they appear. (Groups whose terms may select a pod: `Snapshot::groups_selecting`.)
#[derive(Default)]
pub(super) struct GroupIndex {
    indexed: usize,
    /// By a hash of each of their labels (several labels may share one).
    by_label: HashMap<u64, Vec<usize>>,
}

fn label_hash(key: &str, value: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = rustc_hash::FxHasher::default();
    key.hash(&mut hasher);
    value.hash(&mut hasher);
    hasher.finish()
}

impl GroupIndex {
    pub fn refresh(&mut self, snapshot: &Snapshot) {
        for (g, group) in snapshot.groups.iter().enumerate().skip(self.indexed) {
            for (key, value) in &group.labels {
                self.by_label
                    .entry(label_hash(key, value))
                    .or_default()
                    .push(g);
            }
        }
        self.indexed = snapshot.groups.len();
    }

    /// Groups `selector` may select (a superset; callers still match).
    pub fn selected_by(&self, selector: &LabelSelector) -> Vec<usize> {
        match selector.required_label() {
            Some((key, value)) => self
                .by_label
                .get(&label_hash(&key, &value))
                .cloned()
                .unwrap_or_default(),
            None => (0..self.indexed).collect(),
        }
    }

    /// `matching_per_node` of PodTopologySpread, over the indexed groups only.
    pub fn matching_per_node(
        &self,
        snapshot: &Snapshot,
        pod: &PodSpec,
        selector: &LabelSelector,
    ) -> HashMap<usize, i64> {
        let mut candidates = self.selected_by(selector);
        candidates.sort_unstable();
        candidates.dedup();
        matching_per_node_in(snapshot, candidates, pod, selector)
    }
}

pub(super) fn new_counter(key: usize, table: &mut KeyTable, counters: &mut Vec<Counter>) -> usize {
    let domains = table.keys[key].domains;
    let values = match table.pool.iter().rposition(|v| v.len() == domains) {
        Some(found) => table.pool.swap_remove(found),
        None => vec![0; domains],
    };
    debug_assert!(values.iter().all(|&v| v == 0));
    counters.push(Counter {
        key,
        values,
        touched: Vec::new(),
    });
    counters.len() - 1
}

/// The counter of `name` in `map`, created on first use.
pub(super) fn counter_for(
    map: &mut BTreeMap<String, usize>,
    name: &str,
    table: &mut KeyTable,
    counters: &mut Vec<Counter>,
) -> usize {
    if let Some(&found) = map.get(name) {
        return found;
    }
    let key = table.get(Some(name));
    let counter = new_counter(key, table, counters);
    map.insert(name.to_string(), counter);
    counter
}

/// Add a group's replicas to a counter, at the domains of their nodes.
pub(super) fn add_group(counter: &mut Counter, keys: &[Rc<Key>], group: &ReplicaGroup) {
    let key = &keys[counter.key];
    for (&node, &count) in &group.per_node {
        let d = key.domain[node];
        if d != u32::MAX {
            counter.add(d as usize, i64::from(count));
        }
    }
}
