//! Every node's filter verdict for one pod: what a FitError counts and what
//! DefaultPreemption reads (the nodes where removing pods may help).
//!
//! A fleet gives few distinct verdicts (a taint, a missing label, a lack of
//! cpu), so each node holds a number into a table of them, and the table
//! counts its nodes: a FitError's counts are read from the table, not
//! gathered node by node.
//!
//! The first filters of the profile read the node alone (`Reads::Node`):
//! while a pass's nodes keep their labels and taints, their first failure is
//! the same for every pod of an equal signature, and [`StaticVerdicts`]
//! keeps it once per signature. `Scheduler::verdicts_cached` runs the other
//! filters only on the nodes that pass those; `Scheduler::verdicts` is the
//! plain path it is tested against (`tests/batch_equivalence.rs`).

use super::diagnosis::Reason;
use super::preemption::unresolvable;
use super::snapshot::{NodeInfo, Snapshot};
use super::{CycleState, Reads, Scheduler, Signature};
use crate::model::pod::PodSpec;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::rc::Rc;

/// Position in a table of the verdict "every filter passes".
const PASSES: u32 = 0;

/// Past this many distinct verdicts (a taint of its own on every node, say),
/// a table finds them by hash rather than one by one.
const SCANNED: usize = 16;

/// Distinct verdicts, numbered in order of first appearance (0: passes).
#[derive(Debug, Clone)]
struct Table {
    verdicts: Vec<Option<Vec<Reason>>>,
    /// Each verdict's number, once there are more than `SCANNED`.
    index: Option<FxHashMap<Vec<Reason>, u32>>,
}

impl Table {
    fn new() -> Table {
        Table {
            verdicts: vec![None],
            index: None,
        }
    }

    /// `verdict`'s number, added when new.
    fn number(&mut self, verdict: Option<Vec<Reason>>) -> u32 {
        let Some(reasons) = verdict else {
            return PASSES;
        };
        let found = match &self.index {
            Some(index) => index.get(&reasons).copied(),
            None => self.verdicts[1..]
                .iter()
                .position(|known| known.as_deref() == Some(&reasons[..]))
                .map(|position| position as u32 + 1),
        };
        if let Some(number) = found {
            return number;
        }
        let number = self.verdicts.len() as u32;
        if let Some(index) = &mut self.index {
            index.insert(reasons.clone(), number);
        }
        self.verdicts.push(Some(reasons));
        if self.index.is_none() && self.verdicts.len() > SCANNED {
            let numbered = self.verdicts.iter().enumerate().skip(1);
            self.index = Some(
                numbered
                    .filter_map(|(n, v)| Some((v.clone()?, n as u32)))
                    .collect(),
            );
        }
        number
    }

    fn get(&self, number: u32) -> Option<&[Reason]> {
        self.verdicts[number as usize].as_deref()
    }
}

/// Each node's filter verdict for one pod, kept up to date node by node
/// while a run of its replicas preempts: a pod that reads no counts across
/// domains is judged on each node by that node alone. With them, what a
/// FitError and the PostFilter count over every node is kept up to date
/// too, so that neither counts the nodes again per replica.
#[derive(Debug, Clone)]
pub struct Verdicts {
    /// Each node's verdict: its number in `table`.
    of_node: Vec<u32>,
    table: Table,
    /// How many nodes give each verdict of the table.
    nodes_with: Vec<usize>,
    /// The pod reads counts across domains (`refresh` judges every node).
    pub(super) sensitive: bool,
    /// Nodes where every reason may be resolved by removing pods.
    pub(super) potential: Vec<bool>,
}

impl PartialEq for Verdicts {
    /// The same verdict on every node, whatever the tables' order.
    fn eq(&self, other: &Verdicts) -> bool {
        self.sensitive == other.sensitive
            && self.potential == other.potential
            && self.reasons() == other.reasons()
    }
}

impl Verdicts {
    /// Verdicts for `pod` on `snapshot`'s nodes, every one passing until `set`.
    fn new(pod: &PodSpec, snapshot: &Snapshot) -> Verdicts {
        let nodes = snapshot.nodes.len();
        let sensitive = reads_domains(pod, snapshot);
        Verdicts {
            of_node: vec![PASSES; nodes],
            table: Table::new(),
            nodes_with: vec![nodes],
            sensitive,
            potential: vec![false; nodes],
        }
    }

    /// Node `node`'s verdict is now the table's `number`.
    fn set_number(&mut self, node: usize, number: u32, pod: &PodSpec, info: &NodeInfo) {
        if self.nodes_with.len() < self.table.verdicts.len() {
            self.nodes_with.resize(self.table.verdicts.len(), 0);
        }
        self.nodes_with[self.of_node[node] as usize] -= 1;
        self.nodes_with[number as usize] += 1;
        self.of_node[node] = number;
        self.potential[node] = self
            .table
            .get(number)
            .is_some_and(|reasons| !reasons.iter().any(|r| unresolvable(r, pod, info)));
    }

    /// Node `node`'s verdict is now `verdict`.
    pub(super) fn set(
        &mut self,
        node: usize,
        verdict: Option<Vec<Reason>>,
        pod: &PodSpec,
        info: &NodeInfo,
    ) {
        let number = self.table.number(verdict);
        self.set_number(node, number, pod, info);
    }

    /// How many nodes pass every filter.
    pub fn passing_nodes(&self) -> usize {
        self.nodes_with[PASSES as usize]
    }

    /// Whether `node` passes every filter.
    pub fn passes(&self, node: usize) -> bool {
        self.of_node[node] == PASSES
    }

    /// How many nodes give each reason (the FitError when none passes).
    pub fn counts(&self) -> BTreeMap<Reason, usize> {
        let mut counts = BTreeMap::new();
        for (number, &nodes) in self.nodes_with.iter().enumerate() {
            let Some(reasons) = self.table.get(number as u32).filter(|_| nodes > 0) else {
                continue;
            };
            for reason in reasons {
                *counts.entry(reason.clone()).or_insert(0) += nodes;
            }
        }
        counts
    }

    /// Each node's verdict (`None`: it passes).
    pub fn reasons(&self) -> Vec<Option<&[Reason]>> {
        self.of_node.iter().map(|&n| self.table.get(n)).collect()
    }
}

/// The first failure among the profile's leading `Reads::Node` filters on
/// every node, for one signature of those filters.
struct Leading {
    of_node: Vec<u32>,
    table: Table,
}

/// [`Leading`] verdicts per signature, for one pass: valid while its nodes
/// keep their names, labels, taints and schedulability.
#[derive(Default)]
pub struct StaticVerdicts {
    by_signature: FxHashMap<Signature, Rc<Leading>>,
}

impl Scheduler {
    /// How many filters lead the profile that read the node alone.
    fn leading_node_filters(&self) -> usize {
        self.filters
            .iter()
            .take_while(|f| f.reads() == Reads::Node)
            .count()
    }

    /// Every node's verdict for `pod`.
    pub fn verdicts(&self, pod: &PodSpec, snapshot: &Snapshot) -> Verdicts {
        let state = self.pre_filter(pod, snapshot);
        let mut verdicts = Verdicts::new(pod, snapshot);
        for (node, info) in snapshot.nodes.iter().enumerate() {
            verdicts.set(node, self.first_failure(pod, info, &state), pod, info);
        }
        verdicts
    }

    /// `verdicts`, with the leading `Reads::Node` filters' failures kept in
    /// `statics` for the pods of an equal signature.
    pub fn verdicts_cached(
        &self,
        pod: &PodSpec,
        snapshot: &Snapshot,
        statics: &mut StaticVerdicts,
    ) -> Verdicts {
        let leading = self.leading_node_filters();
        let mut signature = Signature::default();
        for (position, filter) in self.filters[..leading].iter().enumerate() {
            let mut own = Signature::default();
            filter.sign(pod, &mut own);
            signature.nest(position, &own);
        }
        let found = statics
            .by_signature
            .entry(signature)
            .or_insert_with(|| {
                // (`Reads::Node` filters read no cycle state.)
                let state = CycleState::default();
                let mut table = Table::new();
                let of_node = snapshot
                    .nodes
                    .iter()
                    .map(|info| {
                        let first = self.filters[..leading]
                            .iter()
                            .find_map(|f| f.filter(pod, info, &state).err());
                        table.number(first)
                    })
                    .collect();
                Rc::new(Leading { of_node, table })
            })
            .clone();
        let state = self.pre_filter(pod, snapshot);
        let mut verdicts = Verdicts::new(pod, snapshot);
        // The leading table's numbers in the verdicts' table.
        let mut numbers: Vec<Option<u32>> = vec![None; found.table.verdicts.len()];
        for (node, info) in snapshot.nodes.iter().enumerate() {
            let number = match super::outside_pre_filter_result(info, &state) {
                Some(reason) => verdicts.table.number(Some(vec![reason])),
                None if found.of_node[node] != PASSES => {
                    let leading = found.of_node[node] as usize;
                    *numbers[leading].get_or_insert_with(|| {
                        verdicts.table.number(found.table.verdicts[leading].clone())
                    })
                }
                None => verdicts.table.number(
                    self.filters[leading..]
                        .iter()
                        .find_map(|f| f.filter(pod, info, &state).err()),
                ),
            };
            verdicts.set_number(node, number, pod, info);
        }
        verdicts
    }
}

/// Whether the pod's Domains filters read counts that removing pods changes:
/// then the cycle state is computed again after each removal or reprieve
/// (kube-scheduler's `RunPreFilterExtensionRemovePod`/`AddPod`).
fn reads_domains(pod: &PodSpec, snapshot: &Snapshot) -> bool {
    use crate::model::pod::WhenUnsatisfiable;
    let required = |a: &Option<crate::model::pod::PodAffinity>| {
        a.as_ref().is_some_and(|a| {
            !a.required_during_scheduling_ignored_during_execution
                .is_empty()
        })
    };
    pod.topology_spread_constraints
        .iter()
        .any(|c| c.when_unsatisfiable == WhenUnsatisfiable::DoNotSchedule)
        || required(&pod.affinity.pod_affinity)
        || required(&pod.affinity.pod_anti_affinity)
        || !snapshot.groups_selecting(&pod.labels).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taint(n: usize) -> Option<Vec<Reason>> {
        Some(vec![Reason::UntoleratedTaint {
            key: format!("dedicated-{n}"),
            value: String::new(),
        }])
    }

    /// A verdict keeps its number whether the table scans for it or finds
    /// it by hash (past `SCANNED` distinct verdicts), and "passes" is 0.
    #[test]
    fn a_verdict_keeps_its_number_as_the_table_grows() {
        let mut table = Table::new();
        let first: Vec<u32> = (0..40).map(|n| table.number(taint(n))).collect();
        assert_eq!(first, (1..=40).collect::<Vec<u32>>());
        assert!(table.index.is_some());
        let again: Vec<u32> = [0, 5, 15, 16, 17, 39]
            .iter()
            .map(|&n| table.number(taint(n)))
            .collect();
        assert_eq!(again, vec![1, 6, 16, 17, 18, 40]);
        assert_eq!(table.number(None), PASSES);
        assert_eq!(table.verdicts.len(), 41);
        assert_eq!(table.get(40), taint(39).as_deref());
    }
}
