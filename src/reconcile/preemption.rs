//! Priorities in a pass: the scheduling queue's PrioritySort (highest
//! priority first, then the oldest), and the replicas that fit nowhere
//! handed to the scheduler's DefaultPreemption ([`crate::scheduler::preemption`]):
//! its victims are deleted (`preempt`), the preemptor bound to their node,
//! and the victims' controllers replace them in the next pass.

use super::placement::bind;
use super::{Action, Catalog, DeleteReason, NO_NODE, Pass, PreemptedBy};
use crate::model::pod::PodSpec;
use crate::model::state::{Phase, Replica, State};
use crate::model::workload::Desired;
use crate::scheduler::preemption::{Occupant, Occupants, Outcome};
use crate::scheduler::remembered::Diagnoses;
use crate::scheduler::snapshot::Snapshot;
use crate::scheduler::{FitError, Scheduler};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Whether the manifests give any pod a priority: only then does the queue
/// sort by priority (a stable sort of equal priorities changes nothing, but
/// costs a pass over the queue). A pod that fits nowhere goes through
/// DefaultPreemption either way, as in kube-scheduler: without priorities it
/// finds no victims, and its message carries the `preemption:` suffix.
pub fn in_use(desired: &Desired) -> bool {
    !desired.priority_classes.is_empty()
        || desired
            .workloads
            .iter()
            .any(|w| !w.pod.priority_class_name.is_empty() || w.pod.priority != 0)
}

/// PrioritySort: a stable sort by priority, highest first, of a queue
/// already in (creation, workload, name) order.
pub(super) fn sort_by_priority(waiting: &mut [&Replica], catalog: &Catalog) {
    let mut last: Option<(&Replica, i32)> = None;
    let mut keyed: Vec<(i32, &Replica)> = waiting
        .iter()
        .map(|&replica| {
            let priority = match last {
                Some((previous, priority))
                    if previous.workload == replica.workload && previous.hash == replica.hash =>
                {
                    priority
                }
                _ => catalog
                    .pod(&replica.workload, &replica.hash)
                    .map_or(0, |pod| pod.priority),
            };
            last = Some((replica, priority));
            (priority, replica)
        })
        .collect();
    keyed.sort_by_key(|&(priority, _)| std::cmp::Reverse(priority));
    for (slot, (_, replica)) in waiting.iter_mut().zip(keyed) {
        *slot = replica;
    }
}

/// The pods on each node as preemption sees them, keyed by their position
/// in `state.replicas`, with the disruption budgets that select them.
pub fn occupants(
    desired: &Desired,
    state: &State,
    catalog: &Catalog,
    snapshot: &Snapshot,
    skip: impl Fn(usize, &Replica) -> bool,
) -> Occupants {
    let mut occupants = Occupants::new(snapshot.nodes.len());
    let budgets = &desired.disruption_budgets;
    for (key, replica) in state.replicas.iter().enumerate() {
        if replica.phase == Phase::Terminating || skip(key, replica) {
            continue;
        }
        let Some(node) = replica.node.as_deref().and_then(|n| snapshot.index_of(n)) else {
            continue;
        };
        let Some(pod) = catalog.pod(&replica.workload, &replica.hash) else {
            continue;
        };
        let selecting = budgets
            .iter()
            .enumerate()
            .filter(|(_, b)| super::disruption::selects(b, replica, catalog))
            .map(|(i, _)| i)
            .collect();
        occupants.add(
            node,
            Occupant {
                key,
                priority: pod.priority,
                start: replica.started_at.unwrap_or(replica.created_at),
                pod: Arc::clone(pod),
                budgets: selecting,
            },
        );
    }
    occupants
}

/// Each disruption budget's `disruptionsAllowed` in the observed state.
pub fn allowed(desired: &Desired, state: &State, catalog: &Catalog) -> Vec<i32> {
    desired
        .disruption_budgets
        .iter()
        .map(|budget| {
            super::disruption::status(budget, desired, state, catalog, &BTreeSet::new())
                .disruptions_allowed
        })
        .collect()
}

/// The pass's preemption bookkeeping, made when the first replica fails.
pub(super) struct Preemptor {
    /// Made when a pod above the lowest priority fails (none else has victims).
    occupants: Option<Occupants>,
    lowest: i32,
    allowed: Vec<i32>,
    /// Whether the snapshot changed outside the batch layer (its caches are stale).
    pub changed: bool,
}

impl Preemptor {
    pub fn new(pass: &Pass) -> Preemptor {
        Preemptor {
            occupants: None,
            lowest: pass.catalog.lowest_priority().unwrap_or(0),
            allowed: Vec::new(),
            changed: false,
        }
    }

    /// The pods on each node, made once per pass when first needed.
    fn make_occupants(&mut self, pass: &Pass, snapshot: &Snapshot) {
        if self.occupants.is_none() {
            let deleted = &pass.deleted;
            let node_of = &pass.node_of;
            self.occupants = Some(occupants(
                pass.desired,
                pass.observed,
                &pass.catalog,
                snapshot,
                |key, replica| node_of[key] == NO_NODE || deleted.contains(&replica.name),
            ));
            self.allowed = allowed(pass.desired, pass.observed, &pass.catalog);
        }
    }

    /// The replicas of one run that fit nowhere, in queue order: after a
    /// preemption the next one is scheduled again (the room left may fit
    /// it), else it preempts in turn, else it stays Pending with the
    /// PostFilter's message. `kept`: the diagnoses kept for the snapshot
    /// as it is (`scheduler::remembered`), if it is still that one;
    /// `verdicts`: the pod's verdicts on it, if made already.
    #[allow(clippy::too_many_arguments)]
    pub fn resolve(
        &mut self,
        pass: &mut Pass,
        scheduler: &Scheduler,
        snapshot: &mut Snapshot,
        pod: &PodSpec,
        failed: Vec<(&Replica, FitError)>,
        mut kept: Option<std::sync::Arc<Diagnoses>>,
        verdicts: Option<crate::scheduler::preemption::Verdicts>,
    ) {
        let mut fresh = true;
        let mut last: Option<FitError> = None;
        // The pod's verdict on every node, kept up to date as nodes change.
        let mut verdicts = verdicts;
        for (replica, error) in failed {
            let error = match (&last, fresh) {
                (Some(previous), true) => {
                    record(pass, replica, previous.clone());
                    continue;
                }
                (_, true) => error,
                (_, false) => {
                    let current = verdicts.as_ref().expect("made by the preemption before");
                    match scheduler.schedule_with(pod, snapshot, current) {
                        Ok(placement) => {
                            snapshot.assume(placement.node, pod);
                            self.changed = true;
                            let verdicts = verdicts.as_mut().expect("checked above");
                            scheduler.refresh(pod, snapshot, verdicts, &[placement.node]);
                            bind(pass, replica, &snapshot.nodes[placement.node].name, pod);
                            continue;
                        }
                        Err(error) => error,
                    }
                }
            };
            if pod.priority > self.lowest {
                self.make_occupants(pass, snapshot);
                // (Then the message reads the pods and budgets too.)
                kept = None;
            }
            // Without a pod to preempt, the message is the snapshot's alone.
            let kept = kept.take();
            if let Some(message) = kept.as_ref().and_then(|k| k.post_filter(pod)) {
                let mut error = error;
                error.post_filter = Some(message);
                record(pass, replica, error.clone());
                last = Some(error);
                continue;
            }
            let empty = Occupants::new(0);
            let occupants = self.occupants.as_ref().unwrap_or(&empty);
            let current = verdicts.get_or_insert_with(|| scheduler.verdicts(pod, snapshot));
            match scheduler.preempt_with(pod, snapshot, occupants, &self.allowed, current) {
                Outcome::Preempt(victims) => {
                    let node = victims.node;
                    let node_name = snapshot.nodes[node].name.clone();
                    let by = format!("{}/{}", pod.namespace, replica.name);
                    for key in victims.keys {
                        let occupants = self.occupants.as_mut().expect("victims come from them");
                        if let Some(victim) = occupants.remove(node, key) {
                            snapshot.forget(node, &victim.pod);
                            let budgets = victim.budgets;
                            for budget in budgets {
                                self.allowed[budget] -= 1;
                            }
                        }
                        let observed = pass.observed;
                        pass.delete(
                            &observed.replicas[key],
                            DeleteReason::Preempted(Box::new(PreemptedBy {
                                by: by.clone(),
                                node: node_name.to_string(),
                            })),
                        );
                    }
                    snapshot.assume(node, pod);
                    if let Some(verdicts) = verdicts.as_mut() {
                        scheduler.refresh(pod, snapshot, verdicts, &[node]);
                    }
                    self.changed = true;
                    fresh = false;
                    last = None;
                    bind(pass, replica, &node_name, pod);
                }
                Outcome::NotHelpful(message) => {
                    if let Some(kept) = &kept {
                        kept.remember_post_filter(pod, &message);
                    }
                    let mut error = error;
                    error.post_filter = Some(message);
                    record(pass, replica, error.clone());
                    fresh = true;
                    last = Some(error);
                }
            }
        }
    }
}

fn record(pass: &mut Pass, replica: &Replica, error: FitError) {
    if !super::placement::already_recorded(replica, &error) {
        pass.plan.actions.push(Action::FailedScheduling {
            replica: replica.name.clone(),
            workload: replica.workload.clone(),
            error: Box::new(error),
        });
    }
}
