//! The per-domain counts that the `Reads::Domains` plugins read
//! (PodTopologySpread, InterPodAffinity), built for a run from the
//! snapshot's replica groups and kept up to date placement by placement.
//! What a count means stays in the plugins: the run asks them for their
//! constraints and terms, and evaluates counts with their formulas.

use super::keys::{Counter, GroupIndex, Key, KeyTable, add_group, counter_for, new_counter};
use super::statics::Statics;
use super::{Batch, HashMap, PlainReason};
use crate::model::pod::{PodSpec, WhenUnsatisfiable};
use crate::scheduler::Signature;
use crate::scheduler::plugins::inter_pod_affinity::{contributions, preferred, required, resolve};
use crate::scheduler::plugins::pod_topology_spread::{
    Constraint, HOSTNAME, constraints, selects_node, system_defaults, tolerates_node,
};
use crate::scheduler::plugins::terms::Term;
use crate::scheduler::snapshot::{NodeInfo, ReplicaGroup, Snapshot};
use std::collections::BTreeMap;
use std::rc::Rc;

type Mask = Rc<Vec<bool>>;

/// Per-node masks of one constraint layout (static results, the keys and
/// inclusion policies of the pod's spread constraints), shared by every run
/// with that layout.
pub(super) struct Frame {
    /// Statically feasible and holding every DoNotSchedule key.
    pub ok: Vec<bool>,
    /// Spread scoring ignores the node (it lacks a ScheduleAnyway key).
    pub ignored: Mask,
    /// Per DoNotSchedule constraint: where placements count, and the domains it registers.
    hard: Vec<(Mask, Mask)>,
    /// Per scoring constraint over a named key: where placements count.
    soft: Vec<Mask>,
}

/// One DoNotSchedule spread constraint.
pub(super) struct SpreadFilter {
    pub counter: usize,
    pub max_skew: i64,
    pub self_match: i64,
    /// Domains holding an eligible node the constraint includes.
    pub registered: Rc<Vec<bool>>,
    pub registered_count: usize,
    pub min_domains: i64,
    /// Per node: placing here adds to the count (eligible and included).
    pub counts_here: Rc<Vec<bool>>,
}

/// One scoring spread constraint.
pub(super) struct SpreadScore {
    pub counter: usize,
    pub hostname: bool,
    pub max_skew: i64,
    pub self_match: i64,
    /// Non-hostname keys, per node: replicas placed here count.
    pub counts_here: Rc<Vec<bool>>,
}

/// The spread constraints of a pod as the profile applies them.
struct Constraints {
    hard: Vec<Constraint>,
    hard_keys: Vec<usize>,
    soft: Vec<Constraint>,
    soft_keys: Vec<usize>,
    /// Explicit soft constraints: nodes lacking a key are ignored by scoring.
    require_all: bool,
}

/// The counters of one run and what reads them.
pub(super) struct Counting {
    pub keys: Vec<Rc<Key>>,
    pub counters: Vec<Counter>,
    pub filters: Vec<SpreadFilter>,
    pub scores: Vec<SpreadScore>,
    /// Spread scoring applies (constraints, or the system defaults).
    pub spread_scoring: bool,
    pub frame: Rc<Frame>,
    /// Counters of anti-affinity (own terms), existing anti-affinity, and affinity scores.
    pub anti: Vec<usize>,
    pub existing_anti: Vec<usize>,
    pub topology_score: Vec<usize>,
    /// Per placement: counter → delta at the receiving node's domain.
    pub self_deltas: Vec<(usize, i64)>,
    /// What the nodes' classes depend on besides the statics (see `classes`).
    pub classes_key: Signature,
}

/// The counters by topology key of each kind of inter-pod term.
#[derive(Default)]
struct Terms {
    anti: BTreeMap<String, usize>,
    existing: BTreeMap<String, usize>,
    score: BTreeMap<String, usize>,
}

impl Counting {
    /// The counts of a run of `pod`, or why it takes the plain path.
    pub fn new(
        batch: &mut Batch,
        statics: &Statics,
        pod: &PodSpec,
        snapshot: &Snapshot,
    ) -> Result<Counting, PlainReason> {
        let roles = &batch.roles;
        if roles.affinity_filter && !required(&pod.affinity.pod_affinity).is_empty() {
            return Err(PlainReason::RequiredPodAffinity);
        }
        let (spread_filter, spread_score) = (roles.spread_filter, roles.spread_weight.is_some());
        let (affinity_filter, affinity_score) =
            (roles.affinity_filter, roles.affinity_weight.is_some());
        batch.groups.refresh(snapshot);
        let groups = &batch.groups;
        let mut table = KeyTable {
            snapshot,
            cache: &mut batch.keys,
            pool: &mut batch.pool,
            coarse_limit: batch.coarse_limit,
            keys: Vec::new(),
            names: HashMap::default(),
        };
        let mut counters: Vec<Counter> = Vec::new();
        let c = Constraints::of(pod, spread_filter, spread_score, &mut table);
        let (frame, frame_key) = frame(&mut batch.frames, statics, pod, snapshot, &table, &c);
        let filters = spread_filters(&c, &frame, groups, pod, snapshot, &mut table, &mut counters);
        let scores = spread_scores(&c, &frame, groups, pod, snapshot, &mut table, &mut counters)?;
        let mut terms = Terms::default();
        let self_deltas = inter_pod(
            (affinity_filter, affinity_score),
            groups,
            pod,
            snapshot,
            &mut table,
            &mut counters,
            &mut terms,
        );
        let mut classes_key = Signature::default();
        classes_key.nest(0, &frame_key);
        let soft_names: Vec<&String> = c.soft.iter().map(|c| &c.key).collect();
        let mut names: Vec<&Option<String>> = vec![&None; table.keys.len()];
        for (name, &k) in &table.names {
            names[k] = name;
        }
        let coarse: Vec<&Option<String>> = names
            .iter()
            .zip(&table.keys)
            .filter(|(_, k)| k.coarse)
            .map(|(name, _)| *name)
            .collect();
        classes_key.add(&(soft_names, coarse));
        Ok(Counting {
            keys: table.keys,
            counters,
            filters,
            spread_scoring: !c.soft.is_empty(),
            scores,
            frame,
            anti: terms.anti.into_values().collect(),
            existing_anti: terms.existing.into_values().collect(),
            topology_score: terms.score.into_values().collect(),
            self_deltas,
            classes_key,
        })
    }
}

impl Constraints {
    /// The pod's DoNotSchedule and scoring constraints (or the system
    /// defaults), their keys looked up in this order, which fixes each key's slot.
    fn of(pod: &PodSpec, filter: bool, score: bool, table: &mut KeyTable) -> Constraints {
        let hard = if filter {
            constraints(pod, WhenUnsatisfiable::DoNotSchedule)
        } else {
            Vec::new()
        };
        let hard_keys: Vec<usize> = hard.iter().map(|c| table.get(Some(&c.key))).collect();
        let (soft, require_all) = if !score {
            (Vec::new(), false)
        } else if pod.topology_spread_constraints.is_empty() {
            (system_defaults(pod), false)
        } else {
            (constraints(pod, WhenUnsatisfiable::ScheduleAnyway), true)
        };
        let soft_keys: Vec<usize> = soft.iter().map(|c| table.get(Some(&c.key))).collect();
        Constraints {
            hard,
            hard_keys,
            soft,
            soft_keys,
            require_all,
        }
    }
}

/// The layout's masks, from the pass's cache, and the layout's key.
fn frame(
    frames: &mut HashMap<Signature, Rc<Frame>>,
    statics: &Statics,
    pod: &PodSpec,
    snapshot: &Snapshot,
    table: &KeyTable,
    c: &Constraints,
) -> (Rc<Frame>, Signature) {
    let layout = |cs: &[Constraint]| -> Vec<(String, bool, bool)> {
        cs.iter()
            .map(|c| (c.key.clone(), c.honor_affinity, c.honor_taints))
            .collect()
    };
    // The masks read the statics, the constraints' keys and policies, and
    // (through the inclusion policies) the pod's node selection and tolerations.
    let mut key = Signature::default();
    key.add(&(statics.id, c.require_all, layout(&c.hard), layout(&c.soft)));
    key.add(&(
        &pod.node_selector,
        pod.required_node_affinity(),
        &pod.tolerations,
    ));
    let frame = frames
        .entry(key.clone())
        .or_insert_with(|| Rc::new(Frame::new(statics, pod, snapshot, &table.keys, c)))
        .clone();
    (frame, key)
}

impl Frame {
    /// The masks of one layout: `Constraint::includes` and `has_all_keys`
    /// over every node, from the static results and the keys' domains.
    fn new(
        statics: &Statics,
        pod: &PodSpec,
        snapshot: &Snapshot,
        keys: &[Rc<Key>],
        c: &Constraints,
    ) -> Frame {
        let n = statics.ok.len();
        // Each node's two inclusion answers, asked once for all constraints.
        let ask = |honored: bool, question: fn(&PodSpec, &NodeInfo) -> bool| -> Vec<bool> {
            match honored {
                true => snapshot
                    .nodes
                    .iter()
                    .map(|node| question(pod, node))
                    .collect(),
                false => Vec::new(),
            }
        };
        let all = c.hard.iter().chain(&c.soft);
        let selects = ask(all.clone().any(|c| c.honor_affinity), selects_node);
        let tolerates = ask(all.clone().any(|c| c.honor_taints), tolerates_node);
        let includes =
            |c: &Constraint, node: usize| c.includes_by(|| selects[node], || tolerates[node]);
        let has_all = |keys_of: &[usize]| -> Vec<bool> {
            (0..n)
                .map(|node| keys_of.iter().all(|&k| keys[k].domain[node] != u32::MAX))
                .collect()
        };
        let eligible = has_all(&c.hard_keys);
        let ok = (0..n)
            .map(|node| statics.ok[node] && eligible[node])
            .collect();
        let hard = c
            .hard
            .iter()
            .zip(&c.hard_keys)
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
        let with_keys = has_all(&c.soft_keys);
        let ignored = with_keys.iter().map(|all| c.require_all && !all).collect();
        let soft = c
            .soft
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

/// PodTopologySpread, DoNotSchedule: a counter per constraint.
fn spread_filters(
    c: &Constraints,
    frame: &Frame,
    groups: &GroupIndex,
    pod: &PodSpec,
    snapshot: &Snapshot,
    table: &mut KeyTable,
    counters: &mut Vec<Counter>,
) -> Vec<SpreadFilter> {
    let mut filters = Vec::new();
    for ((c, &key), (counts_here, registered)) in c.hard.iter().zip(&c.hard_keys).zip(&frame.hard) {
        let counter = new_counter(key, table, counters);
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
    filters
}

/// PodTopologySpread, scoring: a counter per constraint (per node for the
/// hostname key). Scoring over a fine key other than hostname (the domain
/// weights would need every domain's nodes) takes the plain path.
fn spread_scores(
    c: &Constraints,
    frame: &Frame,
    groups: &GroupIndex,
    pod: &PodSpec,
    snapshot: &Snapshot,
    table: &mut KeyTable,
    counters: &mut Vec<Counter>,
) -> Result<Vec<SpreadScore>, PlainReason> {
    let mut scores = Vec::new();
    for (s, c) in c.soft.iter().enumerate() {
        let hostname = c.key == HOSTNAME;
        let per_node = groups.matching_per_node(snapshot, pod, &c.selector);
        let (counter, counts_here) = if hostname {
            let key = table.get(None);
            let counter = new_counter(key, table, counters);
            for (&node, &count) in &per_node {
                counters[counter].add(node, count);
            }
            (counter, Rc::new(Vec::new()))
        } else {
            let key = table.get(Some(&c.key));
            if !table.keys[key].coarse {
                return Err(PlainReason::SpreadOverManyDomains);
            }
            let counter = new_counter(key, table, counters);
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
    Ok(scores)
}

/// InterPodAffinity: counters of the pod's anti-affinity terms, of existing
/// replicas' anti-affinity that selects the pod, and of the preferred
/// terms' weights; returns what each placement of the pod adds.
fn inter_pod(
    (filter, score): (bool, bool),
    groups: &GroupIndex,
    pod: &PodSpec,
    snapshot: &Snapshot,
    table: &mut KeyTable,
    counters: &mut Vec<Counter>,
    terms: &mut Terms,
) -> Vec<(usize, i64)> {
    let anti_terms = if filter {
        resolve(
            required(&pod.affinity.pod_anti_affinity),
            &pod.namespace,
            &pod.labels,
        )
    } else {
        Vec::new()
    };
    for term in &anti_terms {
        counter_for(&mut terms.anti, &term.topology_key, table, counters);
    }
    let own_preferred = score && {
        let some = |p: &Option<crate::model::pod::PodAffinity>| {
            p.as_ref().is_some_and(|a| {
                !a.preferred_during_scheduling_ignored_during_execution
                    .is_empty()
            })
        };
        some(&pod.affinity.pod_affinity) || some(&pod.affinity.pod_anti_affinity)
    };
    for group in candidate_groups(groups, pod, snapshot) {
        add_existing(
            (filter, score, own_preferred),
            group,
            &anti_terms,
            pod,
            table,
            counters,
            terms,
        );
    }
    own_deltas(
        score,
        own_preferred,
        &anti_terms,
        pod,
        table,
        counters,
        terms,
    )
}

/// Only groups that this pod's terms may select, or whose terms may select it.
fn candidate_groups<'a>(
    groups: &GroupIndex,
    pod: &PodSpec,
    snapshot: &'a Snapshot,
) -> impl Iterator<Item = &'a ReplicaGroup> {
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
    candidates
        .into_iter()
        .map(|g| &*snapshot.groups[g])
        .filter(|g| g.total > 0)
}

/// Add one existing group's replicas to the counters whose terms select it
/// (or whose own terms select the pod).
fn add_existing(
    (filter, score, own_preferred): (bool, bool, bool),
    group: &ReplicaGroup,
    anti_terms: &[Term],
    pod: &PodSpec,
    table: &mut KeyTable,
    counters: &mut Vec<Counter>,
    terms: &mut Terms,
) {
    for term in anti_terms {
        if term.matches(&group.namespace, &group.labels) {
            let counter = counter_for(&mut terms.anti, &term.topology_key, table, counters);
            add_group(&mut counters[counter], &table.keys, group);
        }
    }
    if filter {
        for term in &group.required_anti {
            if term.matches(&pod.namespace, &pod.labels) {
                let counter = counter_for(&mut terms.existing, &term.topology_key, table, counters);
                add_group(&mut counters[counter], &table.keys, group);
            }
        }
    }
    if score && (own_preferred || group.has_affinity()) {
        for (key, weight) in contributions(pod, group) {
            let counter = counter_for(&mut terms.score, &key, table, counters);
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

/// What each placement of this pod adds, at the receiving node's domains.
fn own_deltas(
    score: bool,
    own_preferred: bool,
    anti_terms: &[Term],
    pod: &PodSpec,
    table: &mut KeyTable,
    counters: &mut Vec<Counter>,
    terms: &mut Terms,
) -> Vec<(usize, i64)> {
    let mut self_deltas = Vec::new();
    for term in anti_terms {
        if term.matches(&pod.namespace, &pod.labels) {
            let counter = counter_for(&mut terms.anti, &term.topology_key, table, counters);
            self_deltas.push((counter, 1));
            // The placed replica's own term now also closes its domain to the next.
            let counter = counter_for(&mut terms.existing, &term.topology_key, table, counters);
            self_deltas.push((counter, 1));
        }
    }
    let own_group = ReplicaGroup {
        required_anti: Vec::new(),
        namespace: pod.namespace.clone(),
        labels: pod.labels.clone(),
        affinity: pod.affinity.clone(),
        per_node: BTreeMap::new(),
        total: 0,
    };
    if score && (own_preferred || own_group.has_affinity()) {
        for (key, weight) in contributions(pod, &own_group) {
            let counter = counter_for(&mut terms.score, &key, table, counters);
            self_deltas.push((counter, weight));
        }
    }
    self_deltas
}
