//! The scheduler's view of the fleet for one pass: each node's labels,
//! effective taints and allocatable, what the replicas placed on it request,
//! and the placed replicas themselves grouped by (namespace, labels,
//! affinity) with a count per node. Updated incrementally (`assume`/`forget`)
//! as replicas are placed or removed, so a placement never rescans every
//! replica: spread and affinity counts come from the groups.

use crate::model::labels::Labels;
use crate::model::pod::{Affinity, PodSpec, Taint, TaintEffect};
use crate::model::resources::{Allocatable, Resources};
use crate::model::state::NodeState;
use crate::scheduler::Signature;
use crate::scheduler::plugins::inter_pod_affinity::{preferred, required, resolve};
use crate::scheduler::plugins::pod_topology_spread::{
    Constraint, EligibleDomains, eligible_domains,
};
use rustc_hash::FxHashMap as HashMap;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, RwLock};

pub const TAINT_NOT_READY: &str = "node.kubernetes.io/not-ready";
pub const TAINT_UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";

#[derive(Debug, Clone, PartialEq)]
pub struct NodeInfo {
    /// Position in `Snapshot::nodes`.
    pub index: usize,
    /// (Shared by the bind actions to the node.)
    pub name: Arc<str>,
    /// (Shared by copies of a snapshot.)
    pub labels: Arc<Labels>,
    /// Declared taints, then those Kubernetes adds from the node's condition
    /// (`TaintNodesByCondition`): not-ready and unschedulable, NoSchedule.
    pub taints: Vec<Taint>,
    pub unschedulable: bool,
    pub ready: bool,
    pub allocatable: Allocatable,
    /// Sum of the requests of the replicas on the node.
    pub requested: Resources,
    /// The same with Kubernetes' scoring defaults for missing requests.
    pub non_zero_requested: Resources,
    /// Replicas on the node.
    pub pods: i64,
}

impl NodeInfo {
    pub fn new(index: usize, node: &NodeState) -> NodeInfo {
        let mut taints = node.taints.clone();
        if !node.ready {
            taints.push(Taint::new(TAINT_NOT_READY, "", TaintEffect::NoSchedule));
        }
        if node.unschedulable {
            taints.push(Taint::new(TAINT_UNSCHEDULABLE, "", TaintEffect::NoSchedule));
        }
        NodeInfo {
            index,
            name: node.name.as_str().into(),
            labels: Arc::new(node.labels.clone()),
            taints,
            unschedulable: node.unschedulable,
            ready: node.ready,
            allocatable: node.allocatable.clone(),
            requested: Resources::default(),
            non_zero_requested: Resources::default(),
            pods: 0,
        }
    }
}

/// Placed replicas that look alike to the scheduler: same namespace, labels
/// and pod (anti-)affinity. Spread and inter-pod affinity count these.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaGroup {
    pub namespace: String,
    pub labels: Labels,
    /// The replicas' pod affinity and anti-affinity (node affinity, which
    /// differs for every DaemonSet replica, plays no part here and is not kept).
    pub affinity: Affinity,
    /// Its required anti-affinity terms, resolved once.
    pub(crate) required_anti: Vec<crate::scheduler::plugins::terms::Term>,
    /// Replicas of the group per node index (only non-zero entries).
    pub per_node: BTreeMap<usize, u32>,
    pub total: u64,
}

impl ReplicaGroup {
    /// Whether any required or preferred (anti-)affinity term is declared.
    pub fn has_affinity(&self) -> bool {
        let pod_terms = |a: &Option<crate::model::pod::PodAffinity>| {
            a.as_ref().is_some_and(|a| {
                !a.required_during_scheduling_ignored_during_execution
                    .is_empty()
                    || !a
                        .preferred_during_scheduling_ignored_during_execution
                        .is_empty()
            })
        };
        pod_terms(&self.affinity.pod_affinity) || pod_terms(&self.affinity.pod_anti_affinity)
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub nodes: Vec<NodeInfo>,
    by_name: HashMap<String, usize>,
    /// (Shared by copies of a snapshot until one changes them.)
    pub groups: Vec<Arc<ReplicaGroup>>,
    /// Groups by a hash of their namespace and labels (several when
    /// affinities differ, or hashes collide).
    group_index: HashMap<u64, Vec<usize>>,
    /// Groups with pod (anti-)affinity terms, by a label each term requires
    /// of the replicas it selects, or in `affine_any` for a term requiring none.
    affine_by_label: HashMap<(String, String), Vec<usize>>,
    affine_any: Vec<usize>,
    /// Groups by a hash of each label their replicas carry (key and value).
    by_label: HashMap<u64, Vec<usize>>,
    /// Each topology key's domains, made on first use (node labels do not
    /// change during a snapshot's life).
    domains: DomainCache,
    /// PodTopologySpread's eligible domains, found once per layout.
    eligible: Layouts,
}

/// The domains of one topology key: each node's value of the key as a
/// small number, so counts per domain are a table indexed by it.
#[derive(Debug)]
pub struct Domains {
    /// Per node (by index): its domain, or `NONE` when it lacks the key.
    of_node: Vec<u32>,
    /// Each domain's value of the key, by its number.
    values: Vec<String>,
}

impl Domains {
    const NONE: u32 = u32::MAX;

    fn new(nodes: &[NodeInfo], key: &str) -> Domains {
        let mut ids: HashMap<&str, u32> = HashMap::default();
        let mut values = Vec::new();
        let of_node = nodes
            .iter()
            .map(|node| match node.labels.get(key) {
                Some(value) => *ids.entry(value.as_str()).or_insert_with(|| {
                    values.push(value.clone());
                    values.len() as u32 - 1
                }),
                None => Domains::NONE,
            })
            .collect();
        Domains { of_node, values }
    }

    /// Domain `domain`'s value of the key.
    pub fn value(&self, domain: usize) -> &str {
        &self.values[domain]
    }

    /// The domain of node `node`, or `None` when the node lacks the key.
    pub fn of(&self, node: usize) -> Option<usize> {
        let id = self.of_node[node];
        (id != Domains::NONE).then_some(id as usize)
    }

    /// How many domains (distinct values of the key).
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// A group's per-node counts combined with `copies` per node index (only
/// non-zero results kept), built in node order.
fn merge(
    per_node: &BTreeMap<usize, u32>,
    copies: &[u64],
    combine: impl Fn(u32, u32) -> u32,
) -> BTreeMap<usize, u32> {
    let mut held = per_node.iter().map(|(&n, &c)| (n, c)).peekable();
    let mut merged = Vec::with_capacity(per_node.len() + copies.len());
    for (node, &n) in copies.iter().enumerate() {
        while let Some(&(before, count)) = held.peek().filter(|(h, _)| *h < node) {
            merged.push((before, count));
            held.next();
        }
        let count = match held.peek() {
            Some(&(h, count)) if h == node => {
                held.next();
                count
            }
            _ => 0,
        };
        let count = if n == 0 {
            count
        } else {
            combine(count, n as u32)
        };
        if count > 0 {
            merged.push((node, count));
        }
    }
    merged.extend(held);
    merged.into_iter().collect()
}

/// The key of `Snapshot::by_label`.
fn label_hash(key: &str, value: &str) -> u64 {
    let mut hasher = rustc_hash::FxHasher::default();
    (key, value).hash(&mut hasher);
    hasher.finish()
}

/// Topology key → its domains, shared by the snapshot's clones (a cache:
/// equal whatever it holds).
#[derive(Default)]
struct DomainCache(RwLock<HashMap<String, Arc<Domains>>>);

impl Clone for DomainCache {
    fn clone(&self) -> DomainCache {
        DomainCache(RwLock::new(
            self.0.read().expect("domain cache lock").clone(),
        ))
    }
}

impl PartialEq for DomainCache {
    fn eq(&self, _: &DomainCache) -> bool {
        true
    }
}

impl std::fmt::Debug for DomainCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DomainCache")
    }
}

/// The eligible domains of each spread layout (the constraints' keys and
/// inclusion policies, and the pod fields those policies read), found on
/// the snapshot's nodes: they depend on the nodes' names, labels and
/// taints alone, which a snapshot's placements leave as they are. A copy
/// starts without them (its nodes may be changed before it is used).
#[derive(Debug, Default)]
struct Layouts(Mutex<HashMap<Signature, Arc<EligibleDomains>>>);

impl Clone for Layouts {
    fn clone(&self) -> Self {
        Layouts::default()
    }
}

impl PartialEq for Layouts {
    /// (A cache: equal snapshots find equal domains.)
    fn eq(&self, _: &Layouts) -> bool {
        true
    }
}

impl Snapshot {
    pub fn new(nodes: &[NodeState]) -> Snapshot {
        let nodes: Vec<NodeInfo> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| NodeInfo::new(i, n))
            .collect();
        let by_name = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name.to_string(), i))
            .collect();
        Snapshot {
            nodes,
            by_name,
            groups: Vec::new(),
            group_index: HashMap::default(),
            affine_by_label: HashMap::default(),
            affine_any: Vec::new(),
            by_label: HashMap::default(),
            domains: DomainCache::default(),
            eligible: Layouts::default(),
        }
    }

    /// Groups whose replicas may carry the label `key=value` (a superset:
    /// callers still match), in index order.
    pub fn groups_with_label(&self, key: &str, value: &str) -> &[usize] {
        self.by_label
            .get(&label_hash(key, value))
            .map_or(&[], Vec::as_slice)
    }

    /// The domains of topology key `key` over this snapshot's nodes.
    pub fn domains(&self, key: &str) -> Arc<Domains> {
        if let Some(found) = self.domains.0.read().expect("domain cache lock").get(key) {
            return found.clone();
        }
        let made = Arc::new(Domains::new(&self.nodes, key));
        self.domains
            .0
            .write()
            .expect("domain cache lock")
            .entry(key.to_string())
            .or_insert(made)
            .clone()
    }

    /// Groups whose pod (anti-)affinity terms may select a replica with
    /// `labels` (a superset: callers still match the terms), in index order.
    pub fn groups_selecting(&self, labels: &Labels) -> Vec<usize> {
        let mut groups = self.affine_any.clone();
        for (key, value) in labels {
            if let Some(found) = self.affine_by_label.get(&(key.clone(), value.clone())) {
                groups.extend_from_slice(found);
            }
        }
        groups.sort_unstable();
        groups.dedup();
        groups
    }

    /// `pod_topology_spread::eligible_domains` of `pod`'s hard constraints,
    /// found once per layout on this snapshot.
    pub fn eligible_domains(
        &self,
        pod: &PodSpec,
        constraints: &[Constraint],
    ) -> Arc<EligibleDomains> {
        let mut layout = Signature::default();
        for c in constraints {
            layout.add(&(&c.key, c.honor_affinity, c.honor_taints));
        }
        layout.add(&pod.node_selector);
        layout.add(&pod.required_node_affinity());
        layout.add(&pod.tolerations);
        let mut known = self.eligible.0.lock().expect("never poisoned");
        known
            .entry(layout)
            .or_insert_with(|| Arc::new(eligible_domains(pod, self, constraints)))
            .clone()
    }

    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// The group of `pod`'s replicas (created, empty, when new).
    pub fn group_of(&mut self, pod: &PodSpec) -> usize {
        let key = {
            let mut hasher = rustc_hash::FxHasher::default();
            pod.namespace.hash(&mut hasher);
            pod.labels.hash(&mut hasher);
            hasher.finish()
        };
        let candidates = self.group_index.entry(key).or_default();
        if let Some(&found) = candidates.iter().find(|&&g| {
            let group = &self.groups[g];
            group.namespace == pod.namespace
                && group.labels == pod.labels
                && group.affinity.pod_affinity == pod.affinity.pod_affinity
                && group.affinity.pod_anti_affinity == pod.affinity.pod_anti_affinity
        }) {
            return found;
        }
        candidates.push(self.groups.len());
        let index = self.groups.len();
        for (key, value) in &pod.labels {
            self.by_label
                .entry(label_hash(key, value))
                .or_default()
                .push(index);
        }
        let affinity = &pod.affinity;
        let terms = required(&affinity.pod_affinity)
            .iter()
            .chain(required(&affinity.pod_anti_affinity))
            .chain(
                preferred(&affinity.pod_affinity)
                    .iter()
                    .map(|w| &w.pod_affinity_term),
            )
            .chain(
                preferred(&affinity.pod_anti_affinity)
                    .iter()
                    .map(|w| &w.pod_affinity_term),
            );
        for term in terms {
            // A term without a selector selects nothing.
            let Some(selector) = &term.label_selector else {
                continue;
            };
            match selector.required_label() {
                Some(label) => self.affine_by_label.entry(label).or_default().push(index),
                None => self.affine_any.push(index),
            }
        }
        self.groups.push(Arc::new(ReplicaGroup {
            namespace: pod.namespace.clone(),
            labels: pod.labels.clone(),
            affinity: Affinity {
                node_affinity: None,
                pod_affinity: pod.affinity.pod_affinity.clone(),
                pod_anti_affinity: pod.affinity.pod_anti_affinity.clone(),
            },
            required_anti: resolve(
                required(&pod.affinity.pod_anti_affinity),
                &pod.namespace,
                &pod.labels,
            ),
            per_node: BTreeMap::new(),
            total: 0,
        }));
        self.groups.len() - 1
    }

    /// Account a replica of `pod` as running on node `node`.
    pub fn assume(&mut self, node: usize, pod: &PodSpec) {
        let group = self.group_of(pod);
        self.assume_in(node, pod, group);
    }

    /// `assume`, with the pod's group already known (`group_of`).
    pub fn assume_in(&mut self, node: usize, pod: &PodSpec, group: usize) {
        let info = &mut self.nodes[node];
        info.requested.add(&pod.requests);
        info.non_zero_requested.add(&pod.non_zero_requests);
        info.pods += 1;
        let group = Arc::make_mut(&mut self.groups[group]);
        *group.per_node.entry(node).or_insert(0) += 1;
        group.total += 1;
    }

    /// The group part of `assume_in` for one replica on each of `nodes`, in
    /// node order (whose node totals the caller has accounted).
    pub fn count_in_group(&mut self, group: usize, nodes: &[u32]) {
        debug_assert!(nodes.is_sorted(), "nodes in node order");
        let group = Arc::make_mut(&mut self.groups[group]);
        group.total += nodes.len() as u64;
        // Counted per node in node order: a new group's map is built in one go.
        let counts = nodes
            .chunk_by(|a, b| a == b)
            .map(|same| (same[0] as usize, same.len() as u32));
        if group.per_node.is_empty() {
            group.per_node = counts.collect();
        } else {
            for (node, count) in counts {
                *group.per_node.entry(node).or_insert(0) += count;
            }
        }
    }

    /// The group part of `assume_in` undone for one replica on `node`.
    pub fn uncount_in_group(&mut self, group: usize, node: usize) {
        if !self.groups[group].per_node.contains_key(&node) {
            return;
        }
        let group = Arc::make_mut(&mut self.groups[group]);
        if let Some(count) = group.per_node.get_mut(&node) {
            *count -= 1;
            if *count == 0 {
                group.per_node.remove(&node);
            }
            group.total -= 1;
        }
    }

    /// `assume_in` of `copies[n]` replicas on each node `n`, the group's
    /// per-node map merged in one go.
    pub fn assume_copies(&mut self, pod: &PodSpec, group: usize, copies: &[u64]) {
        self.account_copies(copies, |info| {
            info.requested.add(&pod.requests);
            info.non_zero_requested.add(&pod.non_zero_requests);
            info.pods += 1;
        });
        let group = Arc::make_mut(&mut self.groups[group]);
        group.total += copies.iter().sum::<u64>();
        group.per_node = merge(&group.per_node, copies, |held, added| held + added);
    }

    /// The inverse of `assume_copies`.
    pub fn forget_copies(&mut self, pod: &PodSpec, group: usize, copies: &[u64]) {
        self.account_copies(copies, |info| {
            info.requested.sub(&pod.requests);
            info.non_zero_requested.sub(&pod.non_zero_requests);
            info.pods -= 1;
        });
        let group = Arc::make_mut(&mut self.groups[group]);
        group.total -= copies.iter().sum::<u64>();
        group.per_node = merge(&group.per_node, copies, |held, taken| held - taken);
    }

    /// Apply `one` to each node once per copy it holds in `copies`.
    fn account_copies(&mut self, copies: &[u64], one: impl Fn(&mut NodeInfo)) {
        for (info, &n) in self.nodes.iter_mut().zip(copies) {
            for _ in 0..n {
                one(info);
            }
        }
    }

    /// The inverse of `assume`.
    pub fn forget(&mut self, node: usize, pod: &PodSpec) {
        let group = self.group_of(pod);
        self.forget_in(node, pod, group);
    }

    /// `forget`, with the pod's group already known (`group_of`).
    pub fn forget_in(&mut self, node: usize, pod: &PodSpec, group: usize) {
        let info = &mut self.nodes[node];
        info.requested.sub(&pod.requests);
        info.non_zero_requested.sub(&pod.non_zero_requests);
        info.pods -= 1;
        self.uncount_in_group(group, node);
    }
}
