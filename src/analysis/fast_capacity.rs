//! Headroom counted instead of placed, where the constraints allow it: the
//! fast path of [`super::capacity::probe`], whose plain path places the
//! copies one by one and is this one's test reference (a property test
//! holds the two equal on random fleets covering every plugin).
//!
//! Copies of one pod are placed, each assumed before the next, until one
//! fits nowhere. A node's verdict for the next copy changes only through
//! the copies placed so far, and only through:
//! - its own usage (NodeResourcesFit): node `n` takes `k_n` copies, the
//!   least of its free pod slots and of `free / request` per requested
//!   resource;
//! - the pod's required anti-affinity toward itself: at most one copy per
//!   domain of the term's key, counted per node when every node carrying
//!   the key has a value of its own (hostnames);
//! - a hard spread constraint whose selector matches the pod: copies go to
//!   a domain while its count stays within `maxSkew` of the global minimum.
//!   Whatever the order, the domain with the fewest copies at the end has
//!   run out of room, so the global minimum ends at
//!   `M = min_d (count_d + room_d)` (0 with fewer domains than minDomains),
//!   and each domain ends at `min(count_d + room_d, max(count_d, M + maxSkew))`.
//!
//! Everything else (taints, selectors, node affinity, cordons, spread
//! constraints and anti-affinity terms that do not select the pod, existing
//! replicas' anti-affinity) is a fixed verdict per node. When the count
//! reaches the probe's limit, that is the answer; otherwise the end state is
//! rebuilt (each node with the copies it took) and the scheduler's own
//! FitError on it is the limit — possible only when where the copies went is
//! known: every spread domain took all its room, none, or had one node to take it. Required pod
//! affinity, several dynamic constraints, shared domains and plugins this
//! module does not know take the plain path.

use crate::model::pod::PodSpec;
use crate::model::pod::WhenUnsatisfiable;
use crate::model::resources::CPU;
use crate::model::resources::{EPHEMERAL_STORAGE, MEMORY};
use crate::scheduler::CycleState;
use crate::scheduler::plugins::inter_pod_affinity::{required, resolve};
use crate::scheduler::plugins::pod_topology_spread::{
    Constraint, EligibleDomains, FilterState, constraints, counts_in, eligible_domains,
};
use crate::scheduler::snapshot::{Domains, NodeInfo, Snapshot};
use crate::scheduler::{FitError, Reads, Scheduler, Signature};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::rc::Rc;
use std::sync::Arc;

/// What probing a workload found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// Extra copies that fit (at most the probe's limit).
    pub fits: usize,
    /// The probe stopped at its limit with room left.
    pub capped: bool,
    /// Why the first copy that did not fit fits nowhere.
    pub limit: Option<FitError>,
}

/// Results shared between the probes of one snapshot (which must not change
/// while they are in use).
#[derive(Default)]
pub struct Shared {
    /// Per signature of the `Reads::Node` filters: which nodes pass them all.
    masks: HashMap<Signature, Rc<Vec<bool>>>,
    /// Per label key: whether every node carrying it has a value of its own.
    unique: HashMap<String, bool>,
    /// Per hard spread layout (constraint keys and inclusion policies, and
    /// the pod fields those policies read): the domains PodTopologySpread's
    /// PreFilter counts in.
    eligible: HashMap<Signature, Rc<Eligible>>,
}

/// A spread layout's eligible domains, and per constraint whether every
/// node carrying its key is in one of them.
struct Eligible {
    domains: EligibleDomains,
    complete: Vec<bool>,
}

/// The probe's answer without placing copies one by one, or `None` when the
/// constraints need the placements (the caller then places them).
/// `snapshot` ends as it was (but for an empty group of the pod's replicas).
pub fn count(
    scheduler: &Scheduler,
    snapshot: &mut Snapshot,
    pod: &PodSpec,
    limit: usize,
    shared: &mut Shared,
) -> Option<Probe> {
    let signature = node_filters_signature(scheduler, pod)?;
    if !required(&pod.affinity.pod_affinity).is_empty() {
        return None;
    }
    let (state, eligible) = pre_filter(scheduler, pod, snapshot, shared);
    let statics = node_mask(scheduler, snapshot, pod, &state, signature, shared);
    let own_keys = own_anti_affinity_domains(snapshot, pod, shared)?;
    // Hard spread constraints: fixed verdicts when none selects the pod,
    // else exactly one that does, alone.
    let spread = state.spread.as_ref();
    let dynamic = spread.filter(|s| s.self_match.iter().any(|&m| m > 0));
    if dynamic.is_some_and(|s| s.constraints.len() > 1) {
        return None;
    }
    let affinity = scheduler
        .filters()
        .iter()
        .find(|p| p.name() == "InterPodAffinity");
    let spread_filter = scheduler
        .filters()
        .iter()
        .find(|p| p.name() == "PodTopologySpread");
    let spread_domains = dynamic.map(|s| snapshot.domains(&s.constraints[0].key));
    // What each node takes, cheapest verdicts first (a node without room
    // takes nothing whatever the others say).
    let take = |node: &NodeInfo| -> u64 {
        if !statics[node.index] {
            return 0;
        }
        let room = copies_that_fit(pod, node);
        if room == 0 || !affinity.is_none_or(|p| p.passes(pod, node, &state)) {
            return 0;
        }
        let spread_passes = match dynamic {
            Some(_) => spread_domains
                .as_ref()
                .is_some_and(|d| d.of(node.index).is_some()),
            None => spread_filter.is_none_or(|p| p.passes(pod, node, &state)),
        };
        if !spread_passes {
            0
        } else if own_keys.iter().any(|d| d.of(node.index).is_some()) {
            room.min(1)
        } else {
            room
        }
    };
    let bounded = dynamic.is_some() && eligible.as_ref().is_some_and(|e| e.complete[0]);
    let (takes, sum) = match node_takes(snapshot, take, dynamic, bounded, limit) {
        Ok(found) => found,
        Err(capped) => return Some(capped),
    };
    let (total, ends) = match dynamic {
        None => (sum, Some(takes)),
        Some(s) => spread_ends(snapshot, &takes, s)?,
    };
    if total >= limit as u64 {
        return Some(capped(limit));
    }
    // The end state: every node with the copies it took, assumed on the
    // snapshot for the scheduler's FitError, then forgotten.
    let ends = ends?;
    let group = snapshot.group_of(pod);
    snapshot.assume_copies(pod, group, &ends);
    let error = scheduler.schedule(pod, snapshot).err();
    snapshot.forget_copies(pod, group, &ends);
    Some(Probe {
        fits: total as usize,
        capped: false,
        limit: Some(error?),
    })
}

/// The signature of the pod under the filters that read only the node, or
/// `None` when a filter reads more than this module counts.
fn node_filters_signature(scheduler: &Scheduler, pod: &PodSpec) -> Option<Signature> {
    let mut signature = Signature::default();
    for plugin in scheduler.filters() {
        match (plugin.name(), plugin.reads()) {
            (_, Reads::Node) => plugin.sign(pod, &mut signature),
            ("NodeResourcesFit", Reads::NodeUsage)
            | ("PodTopologySpread" | "InterPodAffinity", Reads::Domains) => {}
            _ => return None,
        }
    }
    Some(signature)
}

/// Which nodes pass every filter that reads only the node, found once per
/// `signature` of the pod under those filters.
fn node_mask(
    scheduler: &Scheduler,
    snapshot: &Snapshot,
    pod: &PodSpec,
    state: &CycleState,
    signature: Signature,
    shared: &mut Shared,
) -> Rc<Vec<bool>> {
    shared
        .masks
        .entry(signature)
        .or_insert_with(|| {
            Rc::new(
                snapshot
                    .nodes
                    .iter()
                    .map(|node| {
                        scheduler
                            .filters()
                            .iter()
                            .filter(|p| p.reads() == Reads::Node)
                            .all(|p| p.passes(pod, node, state))
                    })
                    .collect(),
            )
        })
        .clone()
}

/// Anti-affinity terms that select the pod itself: one copy per node, so
/// their keys' domains; `None` when a key's values are shared by nodes.
fn own_anti_affinity_domains(
    snapshot: &Snapshot,
    pod: &PodSpec,
    shared: &mut Shared,
) -> Option<Vec<Arc<Domains>>> {
    let mut own_keys = Vec::new();
    for term in resolve(
        required(&pod.affinity.pod_anti_affinity),
        &pod.namespace,
        &pod.labels,
    ) {
        if term.matches(&pod.namespace, &pod.labels) {
            let key = term.topology_key.clone();
            let unique = *shared
                .unique
                .entry(key.clone())
                .or_insert_with(|| unique_values(snapshot, &key));
            if !unique {
                return None;
            }
            own_keys.push(snapshot.domains(&key));
        }
    }
    Some(own_keys)
}

/// What each node takes (`take`) and their sum, or, as soon as the copies
/// counted reach the limit, the capped answer.
fn node_takes(
    snapshot: &Snapshot,
    take: impl Fn(&NodeInfo) -> u64,
    dynamic: Option<&FilterState>,
    bounded: bool,
    limit: usize,
) -> Result<(Vec<u64>, u64), Probe> {
    // Visited in an order that reaches every domain early (nodes are often
    // listed domain by domain): with a spread constraint, the copies counted
    // so far bound the answer from below once they reach the limit.
    let n = snapshot.nodes.len();
    let mut takes = vec![0u64; n];
    let mut sum = 0u64;
    let mut rooms: HashMap<&str, u64> = HashMap::default();
    // Rounds of one node in `stride`: about √n rounds of √n nodes.
    let stride = n.isqrt().max(1) + 1;
    for start in 0..stride.min(n) {
        for i in (start..n).step_by(stride) {
            let node = &snapshot.nodes[i];
            let took = take(node);
            takes[i] = took;
            sum = sum.saturating_add(took);
            match dynamic {
                // Every node takes all its room: enough so far is the answer.
                None if sum >= limit as u64 => return Err(capped(limit)),
                Some(s) if bounded && took > 0 => {
                    let value = node.labels[&s.constraints[0].key].as_str();
                    *rooms.entry(value).or_insert(0) += took;
                }
                _ => {}
            }
        }
        if let Some(s) = dynamic.filter(|_| bounded) {
            let room_of = |value: &str| rooms.get(value).map_or(0, |&r| r as i64);
            if spread_added(&s.constraints[0], &s.counts[0], room_of).1 >= limit as u64 {
                return Err(capped(limit));
            }
        }
    }
    Ok((takes, sum))
}

/// Under the one hard spread constraint selecting the pod (`s`): how many
/// copies fit, and how many each node ends with when that is known; `None`
/// when a node's domain is not one the constraint counts.
fn spread_ends(
    snapshot: &Snapshot,
    takes: &[u64],
    s: &FilterState,
) -> Option<(u64, Option<Vec<u64>>)> {
    let c = &s.constraints[0];
    let counts = &s.counts[0];
    // Per domain: the room its nodes have, and how many have some.
    let mut room: HashMap<&str, (u64, usize)> = HashMap::default();
    for (node, &took) in snapshot.nodes.iter().zip(takes) {
        if took > 0 {
            let value = node.labels[&c.key].as_str();
            if !counts.contains_key(value) {
                return None;
            }
            let entry = room.entry(value).or_insert((0, 0));
            *entry = (entry.0 + took, entry.1 + 1);
        }
    }
    let room_of = |value: &str| room.get(value).map_or(0, |r| r.0 as i64);
    let (added, total) = spread_added(c, counts, room_of);
    // Where the copies went is known when each domain took all its
    // room, none of it, or has one node to take it.
    let ends = snapshot
        .nodes
        .iter()
        .zip(takes)
        .map(|(node, &took)| {
            if took == 0 {
                return Some(0);
            }
            let value = node.labels[&c.key].as_str();
            let (room, takers) = room[value];
            match added[value] as u64 {
                0 => Some(0),
                all if all == room => Some(took),
                some if takers == 1 => Some(some),
                _ => None,
            }
        })
        .collect::<Option<Vec<u64>>>();
    Some((total, ends))
}

/// Copies added per domain of a hard spread constraint selecting the pod,
/// given each domain's room (`counts`: its matching replicas now), and their
/// sum. The global minimum ends at `M = min_d (count_d + room_d)` (0 with
/// fewer domains than minDomains), each domain at
/// `min(count_d + room_d, max(count_d, M + maxSkew))`: both grow with the
/// rooms, so rooms counted in part give a lower bound.
fn spread_added<'a>(
    c: &Constraint,
    counts: &'a HashMap<String, i64>,
    room_of: impl Fn(&str) -> i64,
) -> (HashMap<&'a str, i64>, u64) {
    let minimum = if (counts.len() as i64) < c.min_domains {
        0
    } else {
        counts
            .iter()
            .map(|(value, &count)| count.saturating_add(room_of(value)))
            .min()
            .unwrap_or(0)
    };
    let ceiling = minimum.saturating_add(c.max_skew);
    let added: HashMap<&str, i64> = counts
        .iter()
        .map(|(value, &count)| {
            let end = count.saturating_add(room_of(value)).min(count.max(ceiling));
            (value.as_str(), end - count)
        })
        .collect();
    let total = added.values().map(|&a| a as u64).sum();
    (added, total)
}

/// PreFilter of every filter, PodTopologySpread's from the eligible domains
/// of its layout, found once per layout (they depend on the nodes and on
/// the pod's node selection and tolerations only); those domains.
fn pre_filter(
    scheduler: &Scheduler,
    pod: &PodSpec,
    snapshot: &Snapshot,
    shared: &mut Shared,
) -> (CycleState, Option<Rc<Eligible>>) {
    let mut state = CycleState::default();
    let mut found = None;
    for plugin in scheduler.filters() {
        if plugin.name() != "PodTopologySpread" {
            plugin.pre_filter(pod, snapshot, &mut state);
            continue;
        }
        let constraints = constraints(pod, WhenUnsatisfiable::DoNotSchedule);
        if constraints.is_empty() {
            continue;
        }
        let mut layout = Signature::default();
        for c in &constraints {
            layout.add(&(&c.key, c.honor_affinity, c.honor_taints));
        }
        layout.add(&pod.node_selector);
        layout.add(&pod.required_node_affinity());
        layout.add(&pod.tolerations);
        let eligible = shared
            .eligible
            .entry(layout)
            .or_insert_with(|| {
                let domains = eligible_domains(pod, snapshot, &constraints);
                let complete = domains
                    .empty
                    .iter()
                    .zip(&constraints)
                    .map(|(empty, c)| {
                        snapshot
                            .nodes
                            .iter()
                            .filter_map(|node| node.labels.get(&c.key))
                            .all(|value| empty.contains_key(value))
                    })
                    .collect();
                Rc::new(Eligible { domains, complete })
            })
            .clone();
        let counts = counts_in(pod, snapshot, &constraints, &eligible.domains);
        state.spread = Some(FilterState::new(pod, snapshot, constraints, counts));
        found = Some(eligible);
    }
    (state, found)
}

/// The answer of a probe that reached its limit.
fn capped(limit: usize) -> Probe {
    Probe {
        fits: limit,
        capped: true,
        limit: None,
    }
}

/// How many copies of `pod` the node takes, one after another
/// (NodeResourcesFit's filter, solved for the count).
fn copies_that_fit(pod: &PodSpec, node: &NodeInfo) -> u64 {
    let mut copies = (node.allocatable.pods - node.pods).max(0);
    let (capacity, used) = (&node.allocatable.resources, &node.requested);
    let requests = &pod.requests;
    let fixed = [
        (requests.milli_cpu, capacity.get(CPU), used.get(CPU)),
        (requests.memory, capacity.get(MEMORY), used.get(MEMORY)),
        (
            requests.ephemeral_storage,
            capacity.get(EPHEMERAL_STORAGE),
            used.get(EPHEMERAL_STORAGE),
        ),
    ];
    let scalar = requests
        .scalar
        .iter()
        .map(|(name, &wanted)| (wanted, capacity.get(name), used.get(name)));
    for (wanted, capacity, taken) in fixed.into_iter().chain(scalar) {
        if wanted > 0 {
            copies = copies.min((capacity - taken).max(0) / wanted);
        }
    }
    copies as u64
}

/// Whether no two nodes carry `key` with the same value.
fn unique_values(snapshot: &Snapshot, key: &str) -> bool {
    let mut seen = HashSet::default();
    snapshot
        .nodes
        .iter()
        .filter_map(|n| n.labels.get(key))
        .all(|value| seen.insert(value.as_str()))
}
