//! Scheduling many identical replicas at once, exactly as one at a time.
//!
//! The replicas of one workload revision share their pod, so most of what
//! kube-scheduler computes per replica is the same for all of them: the
//! static filters and scores (unschedulable, node name, taints, node
//! affinity), and every count of matching replicas except what the previous
//! replicas of the same run added. A run therefore evaluates each node once,
//! and after each placement updates only what that placement changed: the
//! receiving node's resources, and the counters (spread, anti-affinity,
//! affinity scores) of the domains it belongs to.
//!
//! Nodes are grouped into *profiles*: nodes whose static scores, coarse
//! topology domains (zones, with few values) and fine counters (per-host
//! counts) are equal get the same filter verdict and the same score from
//! every plugin but the per-node resource ones. Per placement, each live
//! profile is evaluated once — global aggregates (spread weights, the minimum
//! domain count, normalization bounds over the feasible nodes) are computed
//! from the profiles exactly as the plugins compute them over nodes — and the
//! nodes are scanned once, each adding only its resource score to its
//! profile's. The result is the same placement, score and feasible count as
//! [`Scheduler::schedule`] followed by [`Snapshot::assume`], replica after
//! replica; pods with features the fast path does not model (required pod
//! affinity, spread scoring over fine non-hostname domains) take the plain path.

use super::plugins::inter_pod_affinity::{contributions, preferred, required, resolve};
use super::plugins::node_resources_fit::{fits, scored};
use super::plugins::pod_topology_spread::{
    Constraint, HOSTNAME, constraints, matching_per_node_in, system_defaults,
};
use super::plugins::{
    BalancedAllocation, NodeAffinity, NodeName, NodeResourcesFit, NodeUnschedulable,
    PodTopologySpread, TaintToleration, balanced_allocation::balanced,
};
use super::snapshot::{ReplicaGroup, Snapshot};
use super::{
    CycleState, FilterPlugin, FitError, MAX_NODE_SCORE, Placement, Scheduler, ScorePlugin,
};
use crate::model::labels::LabelSelector;
use crate::model::pod::{PodSpec, WhenUnsatisfiable};
use rustc_hash::FxHashMap;
use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::collections::BinaryHeap;
use std::rc::Rc;

/// The pass's maps are looked up once or more per run: keys hashed with FxHash.
type HashMap<K, V> = FxHashMap<K, V>;

/// Keys with at most this many values are coarse: a node's domain is part of its profile.
const COARSE_DOMAINS: usize = 32;
const MISSING: i64 = i64::MIN;
const NO_PROFILE: u32 = u32::MAX;

/// Static per-node results for one pod shape, shared by every run of a pass.
struct Statics {
    filters: Rc<Filters>,
    /// NodeAffinity's score: the weights of the matching preferred terms.
    affinity: Vec<i64>,
}

/// The static filters and the taint score, which do not depend on preferred
/// node affinity: shared by pods that differ only there (often only by weight).
struct Filters {
    ok: Vec<bool>,
    /// NodeAffinity and TaintToleration alone (spread's inclusion policies).
    affinity_ok: Vec<bool>,
    taints_ok: Vec<bool>,
    taint: Vec<i64>,
}

/// Per-node resource results for one resource shape (requests), valid for a
/// node while its version is the one stamped.
struct Shape {
    stamp: Vec<u32>,
    fit: Vec<bool>,
    resources: Vec<i64>,
    /// A fitting node's heap entry as one number (see `packed`), 0 when it does not fit.
    packed: Vec<u64>,
    /// Every node placed on before this position of the pass's log is up to date.
    cursor: usize,
    /// The nodes whose fit changed, in order (repeats included): what a
    /// count of fitting nodes catches up from.
    flips: Vec<u32>,
}

const NEVER: u32 = u32::MAX;

/// How many nodes of each class fit one shape, kept up to date from the
/// pass's log as the shape's are.
struct Board {
    /// Whether each node was counted as fitting.
    counted: Vec<bool>,
    /// Per class (and last, the nodes in none).
    fitting: Vec<usize>,
    /// The position in its shape's `flips` it is up to date with.
    cursor: usize,
}

/// Nodes grouped by the part of a profile key that does not move during a
/// pass (static scores, ignored, coarse domains), for one pod shape and key
/// layout: a node whose fine counters are all zero joins its class's profile
/// without a key being built and hashed.
#[derive(PartialEq)]
struct Classes {
    /// Each node's class (`count` for a node in none: statically infeasible).
    of: Vec<u32>,
    count: usize,
    /// Each class's first node.
    first: Vec<u32>,
}

/// A scheduling pass over one snapshot: runs of identical replicas.
pub struct Batch<'s> {
    scheduler: &'s Scheduler,
    /// Position of each node in name order (ties go to the lowest name).
    rank: Rc<Vec<u32>>,
    statics: HashMap<String, Rc<Statics>>,
    /// By the pod fields they depend on.
    filters: FxHashMap<String, Rc<Filters>>,
    /// Per preferred node affinity term: the nodes it matches.
    terms: FxHashMap<String, Rc<Vec<bool>>>,
    /// Bumped on every placement a node receives: cached resource results
    /// of a node stay valid until it changes.
    versions: Vec<u32>,
    /// The nodes placed on, in order (with repeats): a shape catches up on
    /// the nodes placed on since it was last used without visiting the others.
    log: Vec<u32>,
    /// Per node, its profile in a run where it differs from its class's
    /// (`NO_PROFILE` elsewhere: the runs reset the nodes they set).
    over: Vec<u32>,
    shapes: FxHashMap<String, Shape>,
    classes: FxHashMap<String, Rc<Classes>>,
    /// By shape and classes (the address of the pass's `Rc`).
    boards: FxHashMap<(String, usize), Board>,
    coarse_limit: usize,
    keys: HashMap<Option<String>, Rc<Key>>,
    /// Counter values handed back zeroed by the runs, for the next.
    pool: Vec<Vec<i64>>,
    frames: FxHashMap<String, Rc<Frame>>,
    groups: GroupIndex,
    weights: Weights,
}

type Mask = Rc<Vec<bool>>;

/// Per-node masks of one constraint layout (static results, the keys and
/// inclusion policies of the pod's spread constraints), shared by every run
/// with that layout.
struct Frame {
    /// Statically feasible and holding every DoNotSchedule key.
    ok: Vec<bool>,
    /// Spread scoring ignores the node (it lacks a ScheduleAnyway key).
    ignored: Mask,
    /// Per DoNotSchedule constraint: where placements count, and the domains it registers.
    hard: Vec<(Mask, Mask)>,
    /// Per scoring constraint over a named key: where placements count.
    soft: Vec<Mask>,
}

#[derive(Debug, Clone, Copy)]
struct Weights {
    taint: i64,
    affinity: i64,
    fit: i64,
    spread: i64,
    inter_pod: i64,
    balanced: i64,
}

impl<'s> Batch<'s> {
    /// A pass over `snapshot`, which from now on changes only through this
    /// batch's runs (cached per-node results rely on it).
    pub fn new(scheduler: &'s Scheduler, snapshot: &Snapshot) -> Batch<'s> {
        let mut order: Vec<usize> = (0..snapshot.nodes.len()).collect();
        order.sort_by(|&a, &b| snapshot.nodes[a].name.cmp(&snapshot.nodes[b].name));
        let mut rank = vec![0u32; order.len()];
        for (position, &node) in order.iter().enumerate() {
            rank[node] = position as u32;
        }
        let fit = NodeResourcesFit {
            strategy: scheduler.strategy,
        };
        Batch {
            scheduler,
            rank: Rc::new(rank),
            statics: HashMap::default(),
            filters: FxHashMap::default(),
            terms: FxHashMap::default(),
            versions: vec![0; snapshot.nodes.len()],
            log: Vec::new(),
            over: vec![NO_PROFILE; snapshot.nodes.len()],
            shapes: FxHashMap::default(),
            classes: FxHashMap::default(),
            boards: FxHashMap::default(),
            coarse_limit: COARSE_DOMAINS,
            keys: HashMap::default(),
            pool: Vec::new(),
            frames: FxHashMap::default(),
            groups: GroupIndex::default(),
            weights: Weights {
                taint: TaintToleration.weight(),
                affinity: NodeAffinity.weight(),
                fit: fit.weight(),
                spread: PodTopologySpread.weight(),
                inter_pod: super::plugins::InterPodAffinity.weight(),
                balanced: BalancedAllocation.weight(),
            },
        }
    }

    /// Treat keys with more than `limit` values as fine (tests use a low
    /// limit to exercise fine keys on small fleets). Call before any run.
    #[doc(hidden)]
    pub fn with_coarse_limit(mut self, limit: usize) -> Self {
        self.coarse_limit = limit;
        self
    }

    /// Schedule `count` replicas of `pod` one after another, each placed one
    /// assumed on `snapshot` before the next, and report each result.
    pub fn run(
        &mut self,
        pod: &PodSpec,
        snapshot: &mut Snapshot,
        count: usize,
        mut report: impl FnMut(Result<Placement, FitError>),
    ) {
        // Pods pinned to named nodes are cheaper on the plain path, which
        // filters those nodes alone.
        let model = if count > 0 && super::pinned_nodes(pod, snapshot).is_none() {
            Model::new(self, pod, snapshot, count)
        } else {
            None
        };
        let Some(mut model) = model else {
            for _ in 0..count {
                let result = self.scheduler.schedule(pod, snapshot);
                if let Ok(placement) = &result {
                    snapshot.assume(placement.node, pod);
                    self.versions[placement.node] += 1;
                    self.log.push(placement.node as u32);
                }
                report(result);
            }
            return;
        };
        let group = snapshot.group_of(pod);
        for done in 0..count {
            match model.best(self.weights) {
                Some(placement) => {
                    snapshot.assume_in(placement.node, pod, group);
                    self.versions[placement.node] += 1;
                    self.log.push(placement.node as u32);
                    let version = self.versions[placement.node];
                    model.placed(placement.node, version, pod, snapshot, self.weights);
                    report(Ok(placement));
                }
                None => {
                    // Nothing fits; nothing changes until the run ends, so every
                    // remaining replica gets the same (exactly diagnosed) error.
                    let error = match self.scheduler.schedule(pod, snapshot) {
                        Err(error) => error,
                        Ok(_) => unreachable!("the fast path found no node the plain path finds"),
                    };
                    for _ in done..count {
                        report(Err(error.clone()));
                    }
                    break;
                }
            }
        }
        model.finish(self);
    }

    /// Call `each` with every node placed on since log position `cursor`
    /// (repeats included), or with every node when that is most of them or
    /// `cursor` is past the log (`usize::MAX`: never caught up).
    fn placed_since(&self, cursor: usize, each: impl FnMut(usize)) {
        catch_up(&self.log, cursor, self.versions.len(), each);
    }

    fn statics(&mut self, pod: &PodSpec, snapshot: &Snapshot) -> Rc<Statics> {
        let key = format!(
            "{:?}|{:?}|{:?}|{:?}",
            pod.node_name, pod.node_selector, pod.affinity.node_affinity, pod.tolerations
        );
        if let Some(found) = self.statics.get(&key) {
            return found.clone();
        }
        let node_affinity = pod.affinity.node_affinity.as_ref();
        let filters_key = format!(
            "{:?}|{:?}|{:?}|{:?}",
            pod.node_name,
            pod.node_selector,
            node_affinity.map(|a| &a.required_during_scheduling_ignored_during_execution),
            pod.tolerations
        );
        let filters = self
            .filters
            .entry(filters_key)
            .or_insert_with(|| {
                let state = CycleState::default();
                let mut filters = Filters {
                    ok: Vec::with_capacity(snapshot.nodes.len()),
                    affinity_ok: Vec::with_capacity(snapshot.nodes.len()),
                    taints_ok: Vec::with_capacity(snapshot.nodes.len()),
                    taint: Vec::with_capacity(snapshot.nodes.len()),
                };
                for node in &snapshot.nodes {
                    let taints_ok = TaintToleration.filter(pod, node, &state).is_ok();
                    let affinity_ok = NodeAffinity.filter(pod, node, &state).is_ok();
                    let ok = NodeUnschedulable.filter(pod, node, &state).is_ok()
                        && NodeName.filter(pod, node, &state).is_ok()
                        && taints_ok
                        && affinity_ok;
                    filters.ok.push(ok);
                    filters.affinity_ok.push(affinity_ok);
                    filters.taints_ok.push(taints_ok);
                    filters
                        .taint
                        .push(TaintToleration.score(pod, snapshot, node.index, &state));
                }
                Rc::new(filters)
            })
            .clone();
        // NodeAffinity's score, each preferred term's matches computed once.
        let mut affinity = vec![0i64; snapshot.nodes.len()];
        for term in node_affinity
            .into_iter()
            .flat_map(|a| &a.preferred_during_scheduling_ignored_during_execution)
            .filter(|term| term.weight != 0)
        {
            let matches = self
                .terms
                .entry(format!("{:?}", term.preference))
                .or_insert_with(|| {
                    Rc::new(
                        snapshot
                            .nodes
                            .iter()
                            .map(|node| term.preference.matches(&node.name, &node.labels))
                            .collect(),
                    )
                });
            for (score, &matched) in affinity.iter_mut().zip(matches.iter()) {
                if matched {
                    *score += i64::from(term.weight);
                }
            }
        }
        let statics = Rc::new(Statics { filters, affinity });
        self.statics.insert(key, statics.clone());
        statics
    }
}

impl Frame {
    /// The masks of one layout: `Constraint::includes` and `has_all_keys`
    /// over every node, from the static results and the keys' domains.
    fn new(
        statics: &Filters,
        keys: &[Rc<Key>],
        (hard, hard_keys): (&[Constraint], &[usize]),
        (soft, soft_keys, require_all): (&[Constraint], &[usize], bool),
    ) -> Frame {
        let n = statics.ok.len();
        let includes = |c: &Constraint, node: usize| {
            (!c.honor_affinity || statics.affinity_ok[node])
                && (!c.honor_taints || statics.taints_ok[node])
        };
        let has_all = |keys_of: &[usize]| -> Vec<bool> {
            (0..n)
                .map(|node| keys_of.iter().all(|&k| keys[k].domain[node] != u32::MAX))
                .collect()
        };
        let eligible = has_all(hard_keys);
        let ok = (0..n)
            .map(|node| statics.ok[node] && eligible[node])
            .collect();
        let hard = hard
            .iter()
            .zip(hard_keys)
            .map(|(c, &key)| {
                let counts_here: Vec<bool> = (0..n)
                    .map(|node| eligible[node] && includes(c, node))
                    .collect();
                let mut registered = vec![false; keys[key].domains];
                for (node, &here) in counts_here.iter().enumerate() {
                    if here {
                        registered[keys[key].domain[node] as usize] = true;
                    }
                }
                (Rc::new(counts_here), Rc::new(registered))
            })
            .collect();
        let with_keys = has_all(soft_keys);
        let ignored = with_keys.iter().map(|all| require_all && !all).collect();
        let soft = soft
            .iter()
            .map(|c| {
                if c.key == HOSTNAME {
                    return Rc::new(Vec::new());
                }
                Rc::new(
                    (0..n)
                        .map(|node| with_keys[node] && includes(c, node))
                        .collect(),
                )
            })
            .collect();
        Frame {
            ok,
            ignored: Rc::new(ignored),
            hard,
            soft,
        }
    }
}

/// A topology key in use by this run, with every node's domain in it.
struct Key {
    /// Domain of each node (`u32::MAX`: the node lacks the key).
    domain: Vec<u32>,
    domains: usize,
    coarse: bool,
    /// Fine keys: the nodes of each domain (re-profiled when it changes).
    members: Vec<Vec<u32>>,
    /// The nodes that lack the key.
    missing: Vec<u32>,
    /// Fine keys: the most nodes in one domain.
    largest: usize,
}

/// Matching replicas per domain of one key.
struct Counter {
    key: usize,
    values: Vec<i64>,
    /// The domains it was added to (every non-zero one among them).
    touched: Vec<u32>,
}

impl Counter {
    fn add(&mut self, domain: usize, delta: i64) {
        if self.values[domain] == 0 {
            self.touched.push(domain as u32);
        }
        self.values[domain] += delta;
    }
}

/// One DoNotSchedule spread constraint.
struct SpreadFilter {
    counter: usize,
    max_skew: i64,
    self_match: i64,
    /// Domains holding an eligible node the constraint includes.
    registered: Rc<Vec<bool>>,
    registered_count: usize,
    min_domains: i64,
    /// Per node: placing here adds to the count (eligible and included).
    counts_here: Rc<Vec<bool>>,
}

/// One scoring spread constraint.
struct SpreadScore {
    counter: usize,
    hostname: bool,
    max_skew: i64,
    self_match: i64,
    /// Non-hostname keys, per node: replicas placed here count.
    counts_here: Rc<Vec<bool>>,
}

struct Profile {
    /// [taint, affinity, ignored, coarse domains…, fine counter values…]
    key: Vec<i64>,
    /// Nodes with this profile that also fit by resources.
    fitting: usize,
    // Per evaluation:
    feasible: bool,
    raw_spread: i64,
    raw_inter_pod: i64,
    phi: i64,
    /// Its fitting nodes by (resource score, lowest name): entries go stale
    /// when a node changes and are dropped when they reach the top.
    heap: BinaryHeap<Entry>,
}

/// A node in a profile's heap: (resource score, lowest name first, node).
type Entry = (i64, Reverse<u32>, u32);

struct Model {
    statics: Rc<Statics>,
    keys: Vec<Rc<Key>>,
    /// Node-index pseudo key (hostname spread scoring counts per node).
    counters: Vec<Counter>,
    /// For each counter: its slot in the profile key (fine) or the key's slot (coarse).
    slot: Vec<usize>,
    coarse_slot: Vec<usize>,
    filters: Vec<SpreadFilter>,
    filter_min: Vec<i64>,
    scores: Vec<SpreadScore>,
    /// Spread scoring applies (constraints, or the system defaults).
    spread_scoring: bool,
    ignored: Rc<Vec<bool>>,
    /// Counters of anti-affinity (own terms), existing anti-affinity, and affinity scores.
    anti: Vec<usize>,
    existing_anti: Vec<usize>,
    topology_score: Vec<usize>,
    /// Per placement: counter → delta at the receiving node's domain.
    self_deltas: Vec<(usize, i64)>,
    /// The shape's cache (see `Shape`), held for the run.
    shape_key: String,
    stamp: Vec<u32>,
    fit: Vec<bool>,
    resources: Vec<i64>,
    packed: Vec<u64>,
    flips: Vec<u32>,
    n: usize,
    /// A node's profile: its own (`over`, set for the nodes in `touched`),
    /// else its class's (`zero_profile`: the class prefix, then zeros).
    classes: Rc<Classes>,
    zero_profile: Vec<u32>,
    over: Vec<u32>,
    touched: Vec<u32>,
    profiles: Vec<Profile>,
    profile_index: FxHashMap<Vec<i64>, u32>,
    rank: Rc<Vec<u32>>,
    /// While the model is built, heaps are filled at the end, in one go.
    building: bool,
    /// Length of a profile key, and a buffer to build one in.
    width: usize,
    scratch: Vec<i64>,
    strategy: super::ScoringStrategy,
}

impl Model {
    /// The model of a run of `count` replicas of `pod`.
    fn new(batch: &mut Batch, pod: &PodSpec, snapshot: &Snapshot, count: usize) -> Option<Model> {
        if !required(&pod.affinity.pod_affinity).is_empty() {
            return None; // required pod affinity: the plain path
        }
        let statics = batch.statics(pod, snapshot);
        batch.groups.refresh(snapshot);
        let groups = &batch.groups;
        let n = snapshot.nodes.len();
        let mut table = KeyTable {
            snapshot,
            cache: &mut batch.keys,
            pool: &mut batch.pool,
            coarse_limit: batch.coarse_limit,
            keys: Vec::new(),
            names: HashMap::default(),
        };
        let mut counters: Vec<Counter> = Vec::new();

        // PodTopologySpread: the constraints, their keys (looked up in this
        // order, which fixes each key's slot), and the per-node masks of
        // their layout, computed once per layout in a pass.
        let hard = constraints(pod, WhenUnsatisfiable::DoNotSchedule);
        let hard_keys: Vec<usize> = hard.iter().map(|c| table.get(Some(&c.key))).collect();
        let (soft, require_all): (Vec<Constraint>, bool) =
            if pod.topology_spread_constraints.is_empty() {
                (system_defaults(pod), false)
            } else {
                (constraints(pod, WhenUnsatisfiable::ScheduleAnyway), true)
            };
        let soft_keys: Vec<usize> = soft.iter().map(|c| table.get(Some(&c.key))).collect();
        let layout = format!(
            "{:p}|{require_all}|{:?}|{:?}",
            Rc::as_ptr(&statics),
            hard.iter()
                .map(|c| (&c.key, c.honor_affinity, c.honor_taints))
                .collect::<Vec<_>>(),
            soft.iter()
                .map(|c| (&c.key, c.honor_affinity, c.honor_taints))
                .collect::<Vec<_>>(),
        );
        let frame = match batch.frames.get(&layout) {
            Some(found) => found.clone(),
            None => {
                let frame = Rc::new(Frame::new(
                    &statics.filters,
                    &table.keys,
                    (&hard, &hard_keys),
                    (&soft, &soft_keys, require_all),
                ));
                batch.frames.insert(layout.clone(), frame.clone());
                frame
            }
        };

        // PodTopologySpread, DoNotSchedule.
        let mut filters = Vec::new();
        for ((c, &key), (counts_here, registered)) in hard.iter().zip(&hard_keys).zip(&frame.hard) {
            let counter = new_counter(key, &mut table, &mut counters);
            for (node, count) in groups.matching_per_node(snapshot, pod, &c.selector) {
                if counts_here[node] {
                    counters[counter].add(table.keys[key].domain[node] as usize, count);
                }
            }
            filters.push(SpreadFilter {
                counter,
                max_skew: c.max_skew,
                self_match: i64::from(c.selector.matches(&pod.labels)),
                registered_count: registered.iter().filter(|r| **r).count(),
                registered: registered.clone(),
                min_domains: c.min_domains,
                counts_here: counts_here.clone(),
            });
        }

        // PodTopologySpread, scoring.
        let mut scores = Vec::new();
        for (s, c) in soft.iter().enumerate() {
            let hostname = c.key == HOSTNAME;
            let per_node = groups.matching_per_node(snapshot, pod, &c.selector);
            let (counter, counts_here) = if hostname {
                let key = table.get(None);
                let counter = new_counter(key, &mut table, &mut counters);
                for (&node, &count) in &per_node {
                    counters[counter].add(node, count);
                }
                (counter, Rc::new(Vec::new()))
            } else {
                let key = table.get(Some(&c.key));
                if !table.keys[key].coarse {
                    return None; // spread weights over many domains: the plain path
                }
                let counter = new_counter(key, &mut table, &mut counters);
                let counts_here = frame.soft[s].clone();
                for (&node, &count) in &per_node {
                    let domain = table.keys[key].domain[node];
                    if counts_here[node] && domain != u32::MAX {
                        counters[counter].add(domain as usize, count);
                    }
                }
                (counter, counts_here)
            };
            scores.push(SpreadScore {
                counter,
                hostname,
                max_skew: c.max_skew,
                self_match: i64::from(c.selector.matches(&pod.labels)),
                counts_here,
            });
        }
        let ignored = frame.ignored.clone();
        // InterPodAffinity.
        let anti_terms = resolve(
            required(&pod.affinity.pod_anti_affinity),
            &pod.namespace,
            &pod.labels,
        );
        let own_group = ReplicaGroup {
            required_anti: Vec::new(),
            namespace: pod.namespace.clone(),
            labels: pod.labels.clone(),
            affinity: pod.affinity.clone(),
            per_node: BTreeMap::new(),
            total: 0,
        };
        let mut anti_by_key: BTreeMap<String, usize> = BTreeMap::new();
        let mut existing_by_key: BTreeMap<String, usize> = BTreeMap::new();
        let mut score_by_key: BTreeMap<String, usize> = BTreeMap::new();
        for term in &anti_terms {
            counter_for(
                &mut anti_by_key,
                &term.topology_key,
                &mut table,
                &mut counters,
            );
        }
        let own_preferred = {
            let a = |p: &Option<crate::model::pod::PodAffinity>| {
                p.as_ref().is_some_and(|a| {
                    !a.preferred_during_scheduling_ignored_during_execution
                        .is_empty()
                })
            };
            a(&pod.affinity.pod_affinity) || a(&pod.affinity.pod_anti_affinity)
        };
        // Only groups that this pod's terms may select, or whose terms may select it.
        let mut candidates = snapshot.groups_selecting(&pod.labels);
        for term in required(&pod.affinity.pod_anti_affinity)
            .iter()
            .chain(
                preferred(&pod.affinity.pod_affinity)
                    .iter()
                    .map(|w| &w.pod_affinity_term),
            )
            .chain(
                preferred(&pod.affinity.pod_anti_affinity)
                    .iter()
                    .map(|w| &w.pod_affinity_term),
            )
        {
            if let Some(selector) = &term.label_selector {
                candidates.extend(groups.selected_by(selector));
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        for group in candidates
            .into_iter()
            .map(|g| &snapshot.groups[g])
            .filter(|g| g.total > 0)
        {
            let existing_anti = &group.required_anti;
            for term in &anti_terms {
                if term.matches(&group.namespace, &group.labels) {
                    let counter = counter_for(
                        &mut anti_by_key,
                        &term.topology_key,
                        &mut table,
                        &mut counters,
                    );
                    add_group(&mut counters[counter], &table.keys, group);
                }
            }
            for term in existing_anti {
                if term.matches(&pod.namespace, &pod.labels) {
                    let counter = counter_for(
                        &mut existing_by_key,
                        &term.topology_key,
                        &mut table,
                        &mut counters,
                    );
                    add_group(&mut counters[counter], &table.keys, group);
                }
            }
            if own_preferred || group.has_affinity() {
                for (key, weight) in contributions(pod, group) {
                    let counter = counter_for(&mut score_by_key, &key, &mut table, &mut counters);
                    let k = &table.keys[counters[counter].key];
                    for (&node, &count) in &group.per_node {
                        let d = k.domain[node];
                        if d != u32::MAX {
                            counters[counter].add(d as usize, weight * i64::from(count));
                        }
                    }
                }
            }
        }
        // What each placement of this pod adds, at the receiving node's domains.
        let mut self_deltas = Vec::new();
        for term in &anti_terms {
            if term.matches(&pod.namespace, &pod.labels) {
                let counter = counter_for(
                    &mut anti_by_key,
                    &term.topology_key,
                    &mut table,
                    &mut counters,
                );
                self_deltas.push((counter, 1));
                // The placed replica's own term now also closes its domain to the next.
                let counter = counter_for(
                    &mut existing_by_key,
                    &term.topology_key,
                    &mut table,
                    &mut counters,
                );
                self_deltas.push((counter, 1));
            }
        }
        if own_preferred || own_group.has_affinity() {
            for (key, weight) in contributions(pod, &own_group) {
                let counter = counter_for(&mut score_by_key, &key, &mut table, &mut counters);
                self_deltas.push((counter, weight));
            }
        }

        // Profile slots: coarse keys by domain, fine counters by value.
        let mut names: Vec<&Option<String>> = vec![&None; table.keys.len()];
        for (name, &k) in &table.names {
            names[k] = name;
        }
        let signature = format!(
            "{layout}|{:p}|{require_all}|{:?}|{:?}",
            Rc::as_ptr(&statics),
            soft.iter().map(|c| &c.key).collect::<Vec<_>>(),
            names
                .iter()
                .zip(&table.keys)
                .filter(|(_, k)| k.coarse)
                .map(|(name, _)| name)
                .collect::<Vec<_>>()
        );
        let keys = table.keys;
        let mut coarse_slot = vec![usize::MAX; keys.len()];
        let mut width = 3;
        for (k, key) in keys.iter().enumerate() {
            if key.coarse {
                coarse_slot[k] = width;
                width += 1;
            }
        }
        let mut slot = vec![usize::MAX; counters.len()];
        for (c, counter) in counters.iter().enumerate() {
            if keys[counter.key].coarse {
                slot[c] = coarse_slot[counter.key];
            } else {
                slot[c] = width;
                width += 1;
            }
        }
        let mut model = Model {
            statics,
            keys,
            counters,
            slot,
            coarse_slot,
            filter_min: vec![0; filters.len()],
            filters,
            spread_scoring: !soft.is_empty(),
            scores,
            ignored,
            anti: anti_by_key.into_values().collect(),
            existing_anti: existing_by_key.into_values().collect(),
            topology_score: score_by_key.into_values().collect(),
            self_deltas,
            shape_key: String::new(),
            stamp: Vec::new(),
            fit: Vec::new(),
            resources: Vec::new(),
            packed: Vec::new(),
            flips: Vec::new(),
            n,
            classes: Rc::new(Classes {
                of: Vec::new(),
                count: 0,
                first: Vec::new(),
            }),
            zero_profile: Vec::new(),
            over: std::mem::take(&mut batch.over),
            touched: Vec::new(),
            profiles: Vec::new(),
            profile_index: FxHashMap::default(),
            rank: batch.rank.clone(),
            building: true,
            width,
            scratch: Vec::new(),
            strategy: batch.scheduler.strategy,
        };
        // Resource results come from the shape's cache where the node has not
        // changed since they were computed; the model keeps the cache up to
        // date for the nodes its run places on, and hands it back at the end.
        let shape_key = format!("{:?}|{:?}", pod.requests, pod.non_zero_requests);
        let shape = batch.shapes.remove(&shape_key).unwrap_or_else(|| Shape {
            stamp: vec![NEVER; n],
            fit: vec![false; n],
            resources: vec![0; n],
            packed: vec![0; n],
            cursor: usize::MAX,
            flips: Vec::new(),
        });
        model.shape_key = shape_key;
        (
            model.stamp,
            model.fit,
            model.resources,
            model.packed,
            model.flips,
        ) = (
            shape.stamp,
            shape.fit,
            shape.resources,
            shape.packed,
            shape.flips,
        );
        let classes = batch
            .classes
            .entry(signature)
            .or_insert_with(|| Rc::new(model.classes(&frame.ok)))
            .clone();
        model.classes = classes.clone();
        // Nodes with a non-zero fine counter, or lacking a fine key, have a
        // profile of their own; every other node has its class's.
        let mut own: Vec<u32> = Vec::new();
        for counter in &model.counters {
            let key = &model.keys[counter.key];
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
        own.retain(|&node| classes.of[node as usize] as usize != classes.count);
        // Each placement takes at most `per_placement` nodes out of a class
        // profile: the receiving node, and the other nodes of its fine
        // domains, which are re-profiled (nodes that join a profile are pushed
        // as they do). So before each placement, the profile's best node is
        // among its `keep` best at the start of the run, or among those pushed
        // since: its heap starts with those alone.
        let mut seen: Vec<usize> = Vec::new();
        let mut per_placement = 1usize;
        for counter in &model.counters {
            if !model.keys[counter.key].coarse && !seen.contains(&counter.key) {
                seen.push(counter.key);
                per_placement += model.keys[counter.key].largest.saturating_sub(1);
            }
        }
        let keep = (count - 1).saturating_mul(per_placement).saturating_add(1);
        // Per class, its best `keep` nodes so far, worst on top.
        let mut entries: Vec<BinaryHeap<Reverse<Entry>>> = Vec::new();
        entries.resize_with(classes.count, BinaryHeap::new);
        let strategy = model.strategy;
        let versions = &batch.versions[..n];
        // The shape's results for the nodes placed on since it was last used
        // (all of them when that is most).
        let refresh = |i: usize| {
            if model.stamp[i] != versions[i] {
                model.stamp[i] = versions[i];
                let fit = fits(pod, &snapshot.nodes[i]);
                let resources = resource_score(strategy, pod, snapshot, i, batch.weights);
                if model.fit[i] != fit {
                    model.flips.push(i as u32);
                }
                model.fit[i] = fit;
                model.resources[i] = resources;
                model.packed[i] = if fit {
                    packed(resources, model.rank[i])
                } else {
                    0
                };
            }
        };
        batch.placed_since(shape.cursor, refresh);
        // Profiles: each own node's, then each class's.
        for &node in &own {
            model.assign(node as usize);
        }
        let fine_start = model.fine_start();
        let mut key = Vec::new();
        model.zero_profile = vec![NO_PROFILE; classes.count];
        for (class, &first) in classes.first.iter().enumerate() {
            model.class_key(first as usize, fine_start, &mut key);
            key.resize(model.width, 0);
            model.zero_profile[class] = model.profile(&key);
        }
        // How many nodes of each class fit, from the nodes whose fit changed
        // since the last count (every node when that is most, or for a new count).
        let board_key = (model.shape_key.clone(), Rc::as_ptr(&classes) as usize);
        let mut board = batch.boards.remove(&board_key).unwrap_or_else(|| Board {
            counted: vec![false; n],
            fitting: vec![0; classes.count + 1],
            cursor: usize::MAX,
        });
        {
            let of = &classes.of[..n];
            let count = |i: usize| {
                let fit = model.fit[i];
                if board.counted[i] != fit {
                    board.counted[i] = fit;
                    let class = &mut board.fitting[of[i] as usize];
                    if fit {
                        *class += 1;
                    } else {
                        *class -= 1;
                    }
                }
            };
            catch_up(&model.flips, board.cursor, n, count);
        }
        board.cursor = model.flips.len();
        // The classes' fitting nodes, less the own ones (which count in
        // their own profiles); each class's best `keep` are kept.
        let mut fitting = board.fitting.clone();
        for &node in &own {
            if model.fit[node as usize] {
                fitting[classes.of[node as usize] as usize] -= 1;
            }
        }
        batch.boards.insert(board_key, board);
        // A node below this cannot enter its class's best: the worst kept,
        // once `keep` are, as one number (0 until then: below any node; the
        // nodes in no class: above all).
        let mut threshold = vec![0u64; classes.count + 1];
        threshold[classes.count] = u64::MAX;
        {
            let own_packed: Vec<u64> = own
                .iter()
                .map(|&node| std::mem::take(&mut model.packed[node as usize]))
                .collect();
            let (resources, rank) = (&model.resources[..n], &model.rank[..n]);
            let (of, packed_of) = (&classes.of[..n], &model.packed[..n]);
            for i in 0..n {
                let value = packed_of[i];
                let class = of[i] as usize;
                if value <= threshold[class] {
                    continue;
                }
                let entry = (resources[i], Reverse(rank[i]), i as u32);
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
                model.packed[node as usize] = value;
            }
        }
        for (class, &p) in model.zero_profile.iter().enumerate() {
            model.profiles[p as usize].fitting += fitting[class];
        }
        model.building = false;
        let mut heaps: Vec<Vec<Entry>> = Vec::new();
        heaps.resize_with(model.profiles.len(), Vec::new);
        for (class, best) in entries.into_iter().enumerate() {
            heaps[model.zero_profile[class] as usize]
                .extend(best.into_vec().into_iter().map(|e| e.0));
        }
        for &node in &own {
            let node = node as usize;
            if model.fit[node] {
                let p = model.profile_of(node) as usize;
                heaps[p].push((
                    model.resources[node],
                    Reverse(model.rank[node]),
                    node as u32,
                ));
            }
        }
        for (profile, heap) in model.profiles.iter_mut().zip(heaps) {
            profile.heap = BinaryHeap::from(heap);
        }
        model.update_minimums();
        Some(model)
    }

    /// Hand the shape's cache back to the pass.
    fn finish(mut self, batch: &mut Batch) {
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
        batch.shapes.insert(
            self.shape_key,
            Shape {
                stamp: self.stamp,
                fit: self.fit,
                resources: self.resources,
                packed: self.packed,
                cursor: batch.log.len(),
                flips: self.flips,
            },
        );
    }
}

/// A heap entry's order as one number, for a quick first comparison: the
/// resource score above, the rank inverted below (ranks are unique, so the
/// node never decides), plus one so that every node is above 0. A score
/// outside 0..2^31 (the plugins give 0..=100 per weight) maps to `u64::MAX`,
/// above any threshold: such a node always takes the exact comparison (and
/// as the worst kept, it sets no threshold).
/// Call `each` with every node of `log` from position `cursor` on (repeats
/// included), or with each of the `n` nodes when that is fewer or `cursor`
/// is past the log (`usize::MAX`: never caught up).
fn catch_up(log: &[u32], cursor: usize, n: usize, each: impl FnMut(usize)) {
    match log.get(cursor..) {
        Some(logged) if logged.len() < n => logged.iter().map(|&i| i as usize).for_each(each),
        _ => (0..n).for_each(each),
    }
}

fn packed(score: i64, rank: u32) -> u64 {
    if (0..1 << 31).contains(&score) {
        (((score as u64) << 32) | u64::from(!rank)) + 1
    } else {
        u64::MAX
    }
}

/// NodeResourcesFit's and BalancedAllocation's weighted scores (the
/// plugins' own arithmetic, on cpu and memory read directly).
fn resource_score(
    strategy: super::ScoringStrategy,
    pod: &PodSpec,
    snapshot: &Snapshot,
    node: usize,
    w: Weights,
) -> i64 {
    let info = &snapshot.nodes[node];
    let capacity = &info.allocatable.resources;
    let fit = scored(
        strategy,
        (
            info.non_zero_requested.milli_cpu + pod.non_zero_requests.milli_cpu,
            capacity.milli_cpu,
        ),
        (
            info.non_zero_requested.memory + pod.non_zero_requests.memory,
            capacity.memory,
        ),
    );
    let balance = balanced(
        (
            info.requested.milli_cpu + pod.requests.milli_cpu,
            capacity.milli_cpu,
        ),
        (info.requested.memory + pod.requests.memory, capacity.memory),
    );
    fit * w.fit + balance * w.balanced
}

/// Numbers for keys in order of first appearance: few keys are searched
/// in a list, more in a map.
struct Numbering<K> {
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

    fn number(&mut self, key: K) -> u32 {
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

    fn len(&self) -> usize {
        self.keys.len()
    }
}

impl Classes {
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
        Classes { of, count, first }
    }
}

impl Model {
    /// `node`'s profile (`NO_PROFILE`: the node is statically infeasible).
    fn profile_of(&self, node: usize) -> u32 {
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
    fn profile(&mut self, key: &[i64]) -> u32 {
        if let Some(&found) = self.profile_index.get(key) {
            return found;
        }
        self.profiles.push(Profile {
            key: key.to_vec(),
            fitting: 0,
            feasible: false,
            raw_spread: 0,
            raw_inter_pod: 0,
            phi: 0,
            heap: BinaryHeap::new(),
        });
        let index = (self.profiles.len() - 1) as u32;
        self.profile_index.insert(key.to_vec(), index);
        index
    }

    /// Write `node`'s profile key into `key`.
    fn profile_key(&self, node: usize, key: &mut Vec<i64>) {
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
    fn class_key(&self, node: usize, fine_start: usize, key: &mut Vec<i64>) {
        key.clear();
        key.resize(fine_start, 0);
        self.class_slots(node, key);
    }

    /// Write `node`'s slots before the fine counters into `key`.
    fn class_slots(&self, node: usize, key: &mut [i64]) {
        key[0] = self.statics.filters.taint[node];
        key[1] = self.statics.affinity[node];
        key[2] = i64::from(self.ignored[node]);
        for (k, info) in self.keys.iter().enumerate() {
            if info.coarse {
                let d = info.domain[node];
                key[self.coarse_slot[k]] = if d == u32::MAX { MISSING } else { i64::from(d) };
            }
        }
    }

    /// Every node's class: the profile key up to the fine counters
    /// (`NO_PROFILE` for the nodes that are not `ok`).
    fn classes(&self, ok: &[bool]) -> Classes {
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
        let (taint, affinity) = (&self.statics.filters.taint, &self.statics.affinity);
        let mut statics = Numbering::default();
        let mut index = Numbering::default();
        let mut of = Vec::with_capacity(n);
        for (node, &ok) in ok.iter().enumerate().take(n) {
            if !ok {
                of.push(NO_PROFILE);
                continue;
            }
            let mut key =
                u64::from(statics.number((taint[node], affinity[node], self.ignored[node])));
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
    fn fine_start(&self) -> usize {
        self.width
            - self
                .counters
                .iter()
                .filter(|c| !self.keys[c.key].coarse)
                .count()
    }

    /// (Re)compute a statically feasible node's profile.
    fn assign(&mut self, node: usize) {
        let mut key = std::mem::take(&mut self.scratch);
        self.profile_key(node, &mut key);
        let old = self.profile_of(node);
        if old != NO_PROFILE {
            if self.profiles[old as usize].key == key {
                self.scratch = key;
                return;
            }
            if self.fit[node] {
                self.profiles[old as usize].fitting -= 1;
            }
        }
        let index = self.profile(&key);
        self.scratch = key;
        self.over[node] = index;
        self.touched.push(node as u32);
        if self.fit[node] {
            self.profiles[index as usize].fitting += 1;
        }
        self.push(node);
    }

    /// Enter `node`, as it is now, in its profile's heap.
    fn push(&mut self, node: usize) {
        let p = self.profile_of(node);
        if self.building || p == NO_PROFILE || !self.fit[node] {
            return;
        }
        let entry = (self.resources[node], Reverse(self.rank[node]), node as u32);
        self.profiles[p as usize].heap.push(entry);
    }

    /// A counter's value for a profile (MISSING when its nodes lack the key).
    fn value(&self, profile: &Profile, counter: usize) -> i64 {
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

    fn update_minimums(&mut self) {
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

    /// Evaluate every live profile; then the best node, as `schedule` picks it.
    fn best(&mut self, w: Weights) -> Option<Placement> {
        // Filters per profile.
        let mut feasible_nodes = 0usize;
        for p in 0..self.profiles.len() {
            if self.profiles[p].fitting == 0 {
                self.profiles[p].feasible = false;
                continue;
            }
            let profile = &self.profiles[p];
            let mut feasible = true;
            for (f, filter) in self.filters.iter().enumerate() {
                let count = self.value(profile, filter.counter);
                if count + filter.self_match - self.filter_min[f] > filter.max_skew {
                    feasible = false;
                    break;
                }
            }
            if feasible {
                feasible = self.anti.iter().chain(&self.existing_anti).all(|&c| {
                    let v = self.value(profile, c);
                    v == MISSING || v <= 0
                });
            }
            self.profiles[p].feasible = feasible;
            if feasible {
                feasible_nodes += self.profiles[p].fitting;
            }
        }
        if feasible_nodes == 0 {
            return None;
        }
        // Spread weights over the feasible, non-ignored nodes.
        let mut considered = 0usize;
        let mut domains: Vec<Vec<bool>> = self
            .scores
            .iter()
            .map(|s| {
                if s.hostname {
                    Vec::new()
                } else {
                    vec![false; self.keys[self.counters[s.counter].key].domains]
                }
            })
            .collect();
        for profile in self.profiles.iter().filter(|p| p.feasible && p.key[2] == 0) {
            considered += profile.fitting;
            for (s, score) in self.scores.iter().enumerate() {
                if !score.hostname {
                    let d = profile.key[self.slot[score.counter]];
                    if d != MISSING {
                        domains[s][d as usize] = true;
                    }
                }
            }
        }
        let weights: Vec<f64> = self
            .scores
            .iter()
            .zip(&domains)
            .map(|(s, seen)| {
                let size = if s.hostname {
                    considered
                } else {
                    seen.iter().filter(|d| **d).count()
                };
                ((size + 2) as f64).ln()
            })
            .collect();
        // Raw scores and normalization bounds.
        let (mut taint_max, mut affinity_max) = (0i64, 0i64);
        let (mut spread_min, mut spread_max) = (i64::MAX, i64::MIN);
        let (mut ipa_min, mut ipa_max) = (i64::MAX, i64::MIN);
        let mut first = true;
        for p in 0..self.profiles.len() {
            if !self.profiles[p].feasible {
                continue;
            }
            let profile = &self.profiles[p];
            let mut spread = 0.0f64;
            for (s, score) in self.scores.iter().enumerate() {
                let count = self.value(profile, score.counter);
                if count == MISSING {
                    continue;
                }
                spread += count as f64 * weights[s] + (score.max_skew - 1) as f64;
            }
            let raw_spread = spread.round() as i64;
            let raw_inter_pod: i64 = self
                .topology_score
                .iter()
                .map(|&c| self.value(profile, c))
                .filter(|&v| v != MISSING)
                .sum();
            let (taint, affinity, ignored) = (profile.key[0], profile.key[1], profile.key[2] != 0);
            if first {
                taint_max = taint;
                affinity_max = affinity;
                first = false;
            } else {
                taint_max = taint_max.max(taint);
                affinity_max = affinity_max.max(affinity);
            }
            if !ignored {
                spread_min = spread_min.min(raw_spread);
                spread_max = spread_max.max(raw_spread);
            }
            ipa_min = ipa_min.min(raw_inter_pod);
            ipa_max = ipa_max.max(raw_inter_pod);
            let profile = &mut self.profiles[p];
            profile.raw_spread = raw_spread;
            profile.raw_inter_pod = raw_inter_pod;
        }
        if spread_min == i64::MAX {
            (spread_min, spread_max) = (0, 0);
        }
        for profile in self.profiles.iter_mut().filter(|p| p.feasible) {
            let taint = if taint_max == 0 {
                MAX_NODE_SCORE
            } else {
                MAX_NODE_SCORE - MAX_NODE_SCORE * profile.key[0] / taint_max
            };
            let affinity = if affinity_max == 0 {
                profile.key[1]
            } else {
                MAX_NODE_SCORE * profile.key[1] / affinity_max
            };
            let spread = if !self.spread_scoring || profile.key[2] != 0 {
                0
            } else if spread_max == 0 {
                MAX_NODE_SCORE
            } else {
                MAX_NODE_SCORE * (spread_max + spread_min - profile.raw_spread) / spread_max
            };
            let range = ipa_max - ipa_min;
            let inter_pod = if range > 0 {
                (MAX_NODE_SCORE as f64 * ((profile.raw_inter_pod - ipa_min) as f64 / range as f64))
                    as i64
            } else {
                0
            };
            profile.phi = taint * w.taint
                + affinity * w.affinity
                + spread * w.spread
                + inter_pod * w.inter_pod;
        }
        // Each feasible profile's best node (the top of its heap, once stale
        // entries are dropped), plus the profile's score.
        let mut best: Option<(i64, u32, usize)> = None;
        for p in 0..self.profiles.len() {
            if !self.profiles[p].feasible {
                continue;
            }
            let top = loop {
                let Some(&(resources, Reverse(rank), node)) = self.profiles[p].heap.peek() else {
                    break None;
                };
                let node = node as usize;
                if self.profile_of(node) as usize == p
                    && self.fit[node]
                    && self.resources[node] == resources
                {
                    break Some((resources, rank, node));
                }
                self.profiles[p].heap.pop();
            };
            let Some((resources, rank, node)) = top else {
                continue;
            };
            let total = resources + self.profiles[p].phi;
            let better = match best {
                None => true,
                Some((score, r, _)) => total > score || (total == score && rank < r),
            };
            if better {
                best = Some((total, rank, node));
            }
        }
        let (score, _, node) = best?;
        Some(Placement {
            node,
            score: if feasible_nodes == 1 { 0 } else { score },
            feasible: feasible_nodes,
        })
    }

    /// Account a placement on `node` (already assumed on the snapshot).
    fn placed(
        &mut self,
        node: usize,
        version: u32,
        pod: &PodSpec,
        snapshot: &Snapshot,
        w: Weights,
    ) {
        let fits = fits(pod, &snapshot.nodes[node]);
        self.stamp[node] = version;
        let p = self.profile_of(node) as usize;
        if self.fit[node] && !fits {
            self.profiles[p].fitting -= 1;
        }
        if self.fit[node] != fits {
            self.flips.push(node as u32);
        }
        self.fit[node] = fits;
        let resources = resource_score(self.strategy, pod, snapshot, node, w);
        self.resources[node] = resources;
        self.packed[node] = if fits {
            packed(resources, self.rank[node])
        } else {
            0
        };
        // Counter deltas at the node's domains.
        let mut changed: Vec<(usize, u32)> = Vec::new();
        let mut bump =
            |counters: &mut Vec<Counter>, keys: &[Rc<Key>], counter: usize, delta: i64| {
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
        // Its resource score changed even if its profile did not.
        self.push(node);
    }
}

/// The topology keys of a run, by name (`None`: per node, for hostname
/// scoring), shared with the pass's cache.
struct KeyTable<'a> {
    snapshot: &'a Snapshot,
    cache: &'a mut HashMap<Option<String>, Rc<Key>>,
    /// Zeroed counter values, of the lengths the pass's keys have.
    pool: &'a mut Vec<Vec<i64>>,
    coarse_limit: usize,
    keys: Vec<Rc<Key>>,
    names: HashMap<Option<String>, usize>,
}

impl KeyTable<'_> {
    fn get(&mut self, name: Option<&str>) -> usize {
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
    fn new(snapshot: &Snapshot, name: Option<&str>, coarse_limit: usize) -> Key {
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
struct GroupIndex {
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
    fn refresh(&mut self, snapshot: &Snapshot) {
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
    fn selected_by(&self, selector: &LabelSelector) -> Vec<usize> {
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
    fn matching_per_node(
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

fn new_counter(key: usize, table: &mut KeyTable, counters: &mut Vec<Counter>) -> usize {
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
fn counter_for(
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
fn add_group(counter: &mut Counter, keys: &[Rc<Key>], group: &ReplicaGroup) {
    let key = &keys[counter.key];
    for (&node, &count) in &group.per_node {
        let d = key.domain[node];
        if d != u32::MAX {
            counter.add(d as usize, i64::from(count));
        }
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
            let mut reference: HashMap<u8, u32> = HashMap::default();
            for key in keys {
                let next = reference.len() as u32;
                let expected = *reference.entry(key).or_insert(next);
                prop_assert_eq!(numbering.number(key), expected);
                prop_assert_eq!(numbering.len(), reference.len());
            }
        }

        /// The packed number orders entries as the heap does, and a score it
        /// cannot pack is above every threshold.
        #[test]
        fn packed_entries_order_as_entries(
            a in (-3i64..300, any::<u32>()),
            b in (-3i64..300, any::<u32>()),
            huge in (1i64 << 31)..i64::MAX,
        ) {
            prop_assume!(a.1 != b.1);
            let entry = |(score, rank): (i64, u32)| (score, Reverse(rank));
            if a.0 >= 0 && b.0 >= 0 {
                prop_assert_eq!(packed(a.0, a.1).cmp(&packed(b.0, b.1)), entry(a).cmp(&entry(b)));
                prop_assert!(packed(a.0, a.1) > 0);
            } else {
                let out = if a.0 < 0 { a } else { b };
                prop_assert_eq!(packed(out.0, out.1), u64::MAX);
            }
            prop_assert_eq!(packed(huge, a.1), u64::MAX);
        }
    }
}
