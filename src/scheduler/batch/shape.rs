//! Results of the `Reads::NodeUsage` plugins for one resource shape (the
//! pod fields they sign): kept per node for the pass, recomputed for a node
//! only after a placement changed it.

use super::roles::Roles;
use crate::model::pod::PodSpec;
use crate::scheduler::snapshot::Snapshot;
use crate::scheduler::{CycleState, Scheduler, Signature};

/// Per-node usage results for one shape, valid for a node while its
/// version is the one stamped.
pub(super) struct Shape {
    pub stamp: Vec<u32>,
    /// Every `NodeUsage` filter passes.
    pub fit: Vec<bool>,
    /// The weighted sum of the `NodeUsage` scores.
    pub usage: Vec<i64>,
    /// A fitting node's heap entry as one number (see `packed`), 0 when it does not fit.
    pub packed: Vec<u64>,
    /// Every node placed on before this position of the pass's log is up to date.
    pub cursor: usize,
    /// The nodes whose fit changed, in order (repeats included): what a
    /// count of fitting nodes catches up from.
    pub flips: Vec<u32>,
}

pub(super) const NEVER: u32 = u32::MAX;

impl Shape {
    pub fn new(n: usize) -> Shape {
        Shape {
            stamp: vec![NEVER; n],
            fit: vec![false; n],
            usage: vec![0; n],
            packed: vec![0; n],
            cursor: usize::MAX,
            flips: Vec::new(),
        }
    }
}

/// How many nodes of each class fit one shape, kept up to date from the
/// shape's `flips` as the shape is.
pub(super) struct Board {
    /// Whether each node was counted as fitting.
    pub counted: Vec<bool>,
    /// Per class (and last, the nodes in none).
    pub fitting: Vec<usize>,
    /// The position in its shape's `flips` it is up to date with.
    pub cursor: usize,
}

/// The shape of `pod`: what the `NodeUsage` plugins sign.
pub(super) fn signature(scheduler: &Scheduler, roles: &Roles, pod: &PodSpec) -> Signature {
    let mut signature = Signature::default();
    for &f in &roles.usage_filters {
        let mut own = Signature::default();
        scheduler.filters()[f].sign(pod, &mut own);
        signature.nest(f, &own);
    }
    for &s in &roles.usage_scorers {
        let mut own = Signature::default();
        scheduler.scorers()[s].plugin.sign(pod, &mut own);
        signature.nest(s, &own);
    }
    signature
}

/// Whether every `NodeUsage` filter passes on `node`.
pub(super) fn fits(
    scheduler: &Scheduler,
    roles: &Roles,
    pod: &PodSpec,
    snapshot: &Snapshot,
    node: usize,
) -> bool {
    let (state, info) = (CycleState::default(), &snapshot.nodes[node]);
    roles
        .usage_filters
        .iter()
        .all(|&f| scheduler.filters()[f].passes(pod, info, &state))
}

/// The weighted sum of the `NodeUsage` scores of `node` (which do not normalize).
pub(super) fn usage_score(
    scheduler: &Scheduler,
    roles: &Roles,
    pod: &PodSpec,
    snapshot: &Snapshot,
    node: usize,
) -> i64 {
    let state = CycleState::default();
    roles
        .usage_scorers
        .iter()
        .map(|&s| {
            let scorer = &scheduler.scorers()[s];
            scorer.weight * scorer.plugin.score(pod, snapshot, node, &state)
        })
        .sum()
}

/// A heap entry's order as one number, for a quick first comparison: the
/// usage score above, the rank inverted below (ranks are unique, so the
/// node never decides), plus one so that every node is above 0. A score
/// outside 0..2^31 (the plugins give 0..=100 per weight) maps to `u64::MAX`,
/// above any threshold: such a node always takes the exact comparison (and
/// as the worst kept, it sets no threshold).
pub(super) fn packed(score: i64, rank: u32) -> u64 {
    if (0..1 << 31).contains(&score) {
        (((score as u64) << 32) | u64::from(!rank)) + 1
    } else {
        u64::MAX
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::cmp::Reverse;

    proptest! {
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
