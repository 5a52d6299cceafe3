//! The accounted snapshot carried from one pass of a run to the next.
//!
//! Every pass accounts the replicas already bound before it places any
//! (`accounting`). From one pass to the next most of them are the same
//! replicas on the same nodes, so a run keeps what a pass accounted, per
//! node and template, and the next pass on the same fleet only forgets
//! what is no longer bound and accounts what is new. Whenever the
//! order could matter (a node over its room) or the fleet changed, the pass
//! accounts everything again; `accounting_carried_is_accounting_anew` holds
//! the two equal.

use super::accounting::{selector_drift, within_room};
use super::{Templates, replica_pod};
use crate::model::pod::PodSpec;
use crate::model::state::{NodeState, State};
use crate::reconcile::Pass;
use crate::scheduler::snapshot::Snapshot;
use rustc_hash::FxHashMap;
use std::sync::{Arc, Mutex};

/// A run's accounted snapshot, kept between its passes
/// (`reconcile::Options::carry`).
#[derive(Debug, Default)]
pub struct Carry(Mutex<Option<Accounted>>);

impl Carry {
    /// What the last pass accounted, taken (a pass puts back its own).
    pub(super) fn take(&self) -> Option<Accounted> {
        self.0.lock().expect("never poisoned").take()
    }

    pub(super) fn put(&self, accounted: Accounted) {
        *self.0.lock().expect("never poisoned") = Some(accounted);
    }

    /// The scheduler's view of `state` as it stands, when the last pass
    /// accounted this very state (its generation, its fleet) and so no
    /// step was taken since: the bound replicas on their nodes, as
    /// `occupied_snapshot` makes them (`settled_is_occupied` holds the two
    /// equal). Taken: the run is over.
    pub fn settled(&self, state: &State) -> Option<Snapshot> {
        let kept = self.take()?;
        (kept.generation == state.generation && kept.nodes == state.nodes).then_some(kept.snapshot)
    }
}

/// One pass's accounting: the fleet, the snapshot of the bound replicas
/// before anything was placed, and what it holds on each node.
///
/// What a snapshot accounts of a replica depends only on its node and its
/// template, so a later pass needs no replica's identity: any replica bound
/// to the same node with the same template stands for one held there (its
/// node's labels and its template unchanged, it cannot have drifted; a
/// DaemonSet's replica, pinned to the node it was made for, is never bound
/// elsewhere). When the replicas bound are those accounted, in the same
/// order, the accounting stays as it is.
#[derive(Debug)]
pub(super) struct Accounted {
    /// The generation of the state the pass accounted.
    pub generation: u64,
    pub nodes: Vec<NodeState>,
    pub snapshot: Snapshot,
    /// The replicas it accounted, and what each node holds per template.
    pub held: Holdings,
}

/// The replicas a pass accounted, in the state's order, and what each
/// node holds per template, made from them only when a later pass needs it
/// (a run whose first pass changes nothing never does).
#[derive(Debug)]
pub(super) struct Holdings {
    /// Each replica accounted: its node and its template (a number into
    /// `templates`).
    pub replicas: Vec<(u32, u32)>,
    /// The templates met, with their groups in the snapshot.
    pub templates: Vec<(Arc<PodSpec>, usize)>,
    /// By node, the replicas held there per template.
    by_node: Option<Vec<Vec<Held>>>,
}

impl Holdings {
    pub(super) fn new(replicas: Vec<(u32, u32)>, templates: Vec<(Arc<PodSpec>, usize)>) -> Self {
        Holdings {
            replicas,
            templates,
            by_node: None,
        }
    }

    /// Whether the replicas `bound` are those accounted: the same nodes and
    /// templates, one for one, in the same order.
    fn are(&self, pass: &Pass, bound: &[usize]) -> bool {
        let mut templates = Templates { last: None };
        let mut accounted = self.replicas.iter();
        for &i in bound {
            let Some(template) = templates.of(&pass.catalog, &pass.observed.replicas[i]) else {
                continue;
            };
            match accounted.next() {
                Some(&(node, number))
                    if node == pass.node_of[i]
                        && Arc::ptr_eq(&self.templates[number as usize].0, template) => {}
                _ => return false,
            }
        }
        accounted.next().is_none()
    }
}

/// By node, the replicas `accounted` (node, template number) held there,
/// per template.
fn per_node(
    accounted: &[(u32, u32)],
    templates: &[(Arc<PodSpec>, usize)],
    nodes: usize,
) -> Vec<Vec<Held>> {
    let mut held: Vec<Vec<Held>> = (0..nodes).map(|_| Vec::new()).collect();
    for &(node, number) in accounted {
        let (template, group) = &templates[number as usize];
        hold(&mut held[node as usize], template, *group, number);
    }
    held
}

/// The replicas of one template held on a node.
#[derive(Debug)]
pub(super) struct Held {
    /// The template (the pod's requests; a DaemonSet replica's pin adds none).
    pub template: Arc<PodSpec>,
    pub group: usize,
    /// The template's number in `Holdings::templates`.
    pub number: u32,
    /// How many the snapshot accounts.
    pub count: u32,
    /// How many the accounting under way found bound.
    pub found: u32,
}

/// Count one replica of `template` held on a node; its entry.
pub(super) fn hold<'h>(
    on_node: &'h mut Vec<Held>,
    template: &Arc<PodSpec>,
    group: usize,
    number: u32,
) -> &'h mut Held {
    let at = match on_node
        .iter()
        .position(|h| Arc::ptr_eq(&h.template, template))
    {
        Some(at) => {
            on_node[at].count += 1;
            at
        }
        None => {
            on_node.push(Held {
                template: template.clone(),
                group,
                number,
                count: 1,
                found: 0,
            });
            on_node.len() - 1
        }
    };
    &mut on_node[at]
}

/// The bound replicas `bound` accounted from what an earlier pass accounted
/// on the same fleet: that accounting brought up to date (what is no longer
/// bound forgotten, what is new accounted), and the drift met (replica,
/// why), in the state's order. None when it cannot be (a node over its
/// room, negative requests): account everything anew.
pub(super) fn account(
    pass: &Pass,
    nodes: &[NodeState],
    bound: &[usize],
    kept: &mut Accounted,
) -> Option<Vec<(usize, String)>> {
    if kept.nodes != nodes {
        return None;
    }
    // From one pass to the next, the replicas bound often stay as they
    // were: then so does the accounting.
    if kept.held.are(pass, bound) {
        return kept.snapshot.nodes.iter().all(within_room).then(Vec::new);
    }
    let observed = pass.observed;
    let Accounted { snapshot, held, .. } = kept;
    let Holdings {
        replicas: listed,
        templates: met,
        by_node,
    } = held;
    let mut numbers: FxHashMap<*const PodSpec, u32> = met
        .iter()
        .enumerate()
        .map(|(number, (template, _))| (Arc::as_ptr(template), number as u32))
        .collect();
    let by_node = by_node.get_or_insert_with(|| per_node(listed, met, snapshot.nodes.len()));
    let mut accounted = Vec::with_capacity(listed.len());
    let mut templates = Templates { last: None };
    let mut drifted = Vec::new();
    for &i in bound {
        let replica = &observed.replicas[i];
        let Some(template) = templates.of(&pass.catalog, replica) else {
            continue;
        };
        let index = pass.node_of[i] as usize;
        let on_node = &mut by_node[index];
        let same = on_node
            .iter_mut()
            .find(|h| Arc::ptr_eq(&h.template, template));
        if let Some(h) = same
            && h.found < h.count
        {
            h.found += 1;
            accounted.push((index as u32, h.number));
            continue;
        }
        if template.requests.has_negative() {
            return None;
        }
        let pod = replica_pod(template, replica);
        if !replica.is_unmanaged()
            && let Some(why) = selector_drift(&pod, &snapshot.nodes[index])
        {
            drifted.push((i, why));
            continue;
        }
        let number = *numbers.entry(Arc::as_ptr(template)).or_insert_with(|| {
            met.push((template.clone(), snapshot.group_of(template)));
            (met.len() - 1) as u32
        });
        let group = met[number as usize].1;
        snapshot.assume_in(index, &pod, group);
        hold(on_node, template, group, number).found += 1;
        accounted.push((index as u32, number));
    }
    *listed = accounted;
    for (node, on_node) in by_node.iter_mut().enumerate() {
        for h in on_node.iter_mut() {
            for _ in h.found..h.count {
                snapshot.forget_in(node, &h.template, h.group);
            }
            (h.count, h.found) = (h.found, 0);
        }
        on_node.retain(|h| h.count > 0);
    }
    if !snapshot.nodes.iter().all(within_room) {
        return None;
    }
    Some(drifted)
}
