//! Node groups (`orch.dev/v1 NodeGroup`), scaled as cluster-autoscaler
//! scales them: a template node, a size range and a provisioning delay.

use crate::model::pod::PodSpec;
use crate::model::resources::Resources;
use crate::model::state::NodeState;
use crate::model::workload::NodeSpec;
use crate::reconcile::nodes::new_node;
use crate::scheduler::snapshot::Snapshot;
use crate::scheduler::{Reason, Scheduler};

const CPU: &str = "cpu";
const MEMORY: &str = "memory";

/// cluster-autoscaler's `--scale-down-utilization-threshold`.
pub const SCALE_DOWN_UTILIZATION_THRESHOLD: f64 = 0.5;
/// cluster-autoscaler's `--scale-down-unneeded-time`.
pub const SCALE_DOWN_UNNEEDED_TIME: u64 = 600;
/// cluster-autoscaler's `--scale-down-delay-after-add`.
pub const SCALE_DOWN_DELAY_AFTER_ADD: u64 = 600;
/// A NodeGroup's `provisionDelay` when none is written.
pub const DEFAULT_PROVISION_DELAY: u64 = 60;

#[derive(Debug, Clone, PartialEq)]
pub struct NodeGroup {
    pub name: String,
    pub min_size: u32,
    pub max_size: u32,
    /// Simulated seconds from a scale-up to its node being Ready.
    pub provision_delay: u64,
    /// The node every member is made from (its `name` is empty).
    pub template: NodeSpec,
}

impl NodeGroup {
    /// The `n`th member, `<group>-<n>`, with the template's labels and the
    /// hostname label of its own name.
    pub fn member(&self, n: u32) -> NodeSpec {
        let name = format!("{}-{n}", self.name);
        let mut node = self.template.clone();
        node.labels
            .insert(crate::manifest::HOSTNAME_LABEL.to_string(), name.clone());
        node.labels.insert(
            crate::model::node_group::GROUP_LABEL.to_string(),
            self.name.clone(),
        );
        node.name = name;
        node
    }

    /// The `n`th member as it joins the fleet, owned by the group.
    pub fn member_node(&self, n: u32) -> NodeState {
        NodeState {
            source: crate::model::state::NodeSource::NodeGroup,
            ..new_node(&self.member(n))
        }
    }
}

/// The sizes cluster-autoscaler reasons about, for one group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupSize {
    /// Members that exist or are being provisioned (the group's target size).
    pub target: u32,
    /// The number the next member takes (`<group>-<n>`).
    pub next_member: u32,
}

/// What the binpacking estimator found for one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Estimate {
    pub node_count: u32,
    /// Indices (into the pending pods) of the pods the new nodes would take.
    pub pods: Vec<usize>,
}

/// A node of the fleet as cluster-autoscaler simulates it.
pub type SnapshotOf<'a> = dyn Fn(&[NodeState]) -> Snapshot + 'a;

/// cluster-autoscaler's pod order for binpacking: the biggest share of the
/// template's cpu and memory first (`DecreasingPodOrderer`), then as given.
fn binpacking_order(template: &NodeSpec, pods: &[&PodSpec]) -> Vec<usize> {
    let share = |pod: &PodSpec, name: &str| {
        let capacity = template.allocatable.resources.get(name);
        if capacity > 0 {
            pod.requests.get(name) as f64 / capacity as f64
        } else {
            0.0
        }
    };
    let mut order: Vec<usize> = (0..pods.len()).collect();
    order.sort_by(|&a, &b| {
        let score = |i: usize| share(pods[i], CPU) + share(pods[i], MEMORY);
        score(b).total_cmp(&score(a)).then(a.cmp(&b))
    });
    order
}

/// `BinpackingNodeEstimator.Estimate`: how many members of `group` the
/// pending `pods` need, at most `limit`, placing each pod on the newest
/// added node first, then on the other added ones, else on a new member —
/// with the scheduler's own filters, in a snapshot of the whole fleet.
pub fn estimate(
    scheduler: &Scheduler,
    fleet: &[NodeState],
    group: &NodeGroup,
    size: GroupSize,
    pods: &[&PodSpec],
    limit: u32,
    snapshot_of: &SnapshotOf,
) -> Estimate {
    let mut nodes = fleet.to_vec();
    let mut snapshot = snapshot_of(&nodes);
    let mut added: Vec<usize> = Vec::new();
    let mut placed: Vec<(usize, usize)> = Vec::new();
    for i in binpacking_order(&group.template, pods) {
        let pod = pods[i];
        let on_added = added
            .iter()
            .rev()
            .copied()
            .find(|&node| scheduler.fits(pod, &snapshot, node).is_ok());
        if let Some(node) = on_added {
            snapshot.assume(node, pod);
            placed.push((node, i));
            continue;
        }
        if added.len() as u32 >= limit {
            continue;
        }
        nodes.push(new_node(
            &group.member(size.next_member + added.len() as u32),
        ));
        let mut grown = snapshot_of(&nodes);
        for &(node, j) in &placed {
            grown.assume(node, pods[j]);
        }
        let node = nodes.len() - 1;
        if scheduler.fits(pod, &grown, node).is_ok() {
            grown.assume(node, pod);
            placed.push((node, i));
            added.push(node);
            snapshot = grown;
        } else {
            nodes.pop();
        }
    }
    let mut taken: Vec<usize> = placed.into_iter().map(|(_, i)| i).collect();
    taken.sort_unstable();
    Estimate {
        node_count: added.len() as u32,
        pods: taken,
    }
}

/// One way to scale up: a group, how many nodes, which pods they take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleUpOption {
    pub group: usize,
    pub estimate: Estimate,
}

/// The `least-waste` expander: the option leaving the smallest share of its
/// new nodes' cpu and memory unrequested; ties go to the first group by name
/// (cluster-autoscaler then picks at random).
pub fn least_waste<'o>(
    options: &'o [ScaleUpOption],
    groups: &[NodeGroup],
    pods: &[&PodSpec],
) -> Option<&'o ScaleUpOption> {
    let wasted = |option: &ScaleUpOption| {
        let template = &groups[option.group].template.allocatable.resources;
        let count = i64::from(option.estimate.node_count);
        let mut score = 0.0;
        for name in [CPU, MEMORY] {
            let available = template.get(name) * count;
            let requested: i64 = option
                .estimate
                .pods
                .iter()
                .map(|&i| pods[i].requests.get(name))
                .sum();
            if available > 0 {
                score += (available - requested) as f64 / available as f64;
            }
        }
        score
    };
    options
        .iter()
        .filter(|o| o.estimate.node_count > 0)
        .min_by(|a, b| {
            wasted(a)
                .total_cmp(&wasted(b))
                .then_with(|| groups[a.group].name.cmp(&groups[b.group].name))
        })
}

/// Why a group takes none of a pending pod (`NotTriggerScaleUp`'s reasons).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoScaleUp {
    MaxSizeReached,
    /// The scheduler's reasons on an empty member of the group.
    Filtered(Vec<Reason>),
}

/// A scale-up: the group, its size before and after, the pods it is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleUp {
    pub group: usize,
    pub from: u32,
    pub to: u32,
    pub pods: Vec<usize>,
}

/// cluster-autoscaler's `ScaleUp` for the `pods` that fit no node: every
/// group below its maxSize is estimated, the least-waste option wins.
pub fn scale_up(
    scheduler: &Scheduler,
    fleet: &[NodeState],
    groups: &[NodeGroup],
    sizes: &[GroupSize],
    pods: &[&PodSpec],
    snapshot_of: &SnapshotOf,
) -> Option<ScaleUp> {
    let options: Vec<ScaleUpOption> = groups
        .iter()
        .enumerate()
        .filter(|(g, group)| sizes[*g].target < group.max_size)
        .map(|(g, group)| ScaleUpOption {
            group: g,
            estimate: estimate(
                scheduler,
                fleet,
                group,
                sizes[g],
                pods,
                group.max_size - sizes[g].target,
                snapshot_of,
            ),
        })
        .collect();
    let best = least_waste(&options, groups, pods)?;
    let from = sizes[best.group].target;
    Some(ScaleUp {
        group: best.group,
        from,
        to: from + best.estimate.node_count,
        pods: best.estimate.pods.clone(),
    })
}

/// Why each group would not take `pod`: max size, or the filters that
/// reject it on an empty member (what `explain` reports).
pub fn why_not(
    scheduler: &Scheduler,
    fleet: &[NodeState],
    groups: &[NodeGroup],
    sizes: &[GroupSize],
    pod: &PodSpec,
    snapshot_of: &SnapshotOf,
) -> Vec<Option<NoScaleUp>> {
    groups
        .iter()
        .enumerate()
        .map(|(g, group)| {
            let mut nodes = fleet.to_vec();
            nodes.push(new_node(&group.member(sizes[g].next_member)));
            let snapshot = snapshot_of(&nodes);
            match scheduler.fits(pod, &snapshot, nodes.len() - 1) {
                Err(reasons) => Some(NoScaleUp::Filtered(reasons)),
                Ok(()) if sizes[g].target >= group.max_size => Some(NoScaleUp::MaxSizeReached),
                Ok(()) => None,
            }
        })
        .collect()
}

/// A node's utilization as cluster-autoscaler computes it: the larger of
/// its cpu and memory requested shares.
pub fn utilization(allocatable: &Resources, requested: &Resources) -> f64 {
    [CPU, MEMORY]
        .into_iter()
        .map(|name| {
            let capacity = allocatable.get(name);
            if capacity > 0 {
                requested.get(name) as f64 / capacity as f64
            } else {
                0.0
            }
        })
        .fold(0.0, f64::max)
}

/// cluster-autoscaler's `TriggeredScaleUp` event message on a pod:
/// `pod triggered scale-up: [{general 2->4 (max: 6)}]`.
pub fn triggered_scale_up_message(groups: &[NodeGroup], up: &ScaleUp) -> String {
    let group = &groups[up.group];
    format!(
        "pod triggered scale-up: [{{{} {}->{} (max: {})}}]",
        group.name, up.from, up.to, group.max_size
    )
}

/// cluster-autoscaler's `NotTriggerScaleUp` message: each group's reason,
/// counted, as `pod didn't trigger scale-up: 1 max node group size reached,
/// 2 node(s) had untolerated taint {gpu: true}`; `None` when some group
/// would take the pod.
pub fn not_triggered_message(why: &[Option<NoScaleUp>]) -> Option<String> {
    let mut counts: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for reason in why {
        let text = match reason.as_ref()? {
            NoScaleUp::MaxSizeReached => "max node group size reached".to_string(),
            NoScaleUp::Filtered(reasons) => reasons
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        };
        *counts.entry(text).or_insert(0) += 1;
    }
    let parts: Vec<String> = counts
        .iter()
        .map(|(text, n)| format!("{n} {text}"))
        .collect();
    Some(format!("pod didn't trigger scale-up: {}", parts.join(", ")))
}

/// A pod on a node considered for removal.
#[derive(Debug, Clone)]
pub struct PodOnNode<'a> {
    pub name: &'a str,
    pub pod: &'a PodSpec,
    /// Owned by a controller that recreates it elsewhere.
    pub replicated: bool,
    /// A DaemonSet's pod: it goes with its node and needs no new place.
    pub daemon: bool,
    pub local_storage: bool,
    /// In `kube-system` and selected by no PodDisruptionBudget.
    pub system: bool,
    /// `cluster-autoscaler.kubernetes.io/safe-to-evict`, when written.
    pub safe_to_evict: Option<bool>,
    /// The budget that allows no disruption of this pod, if any.
    pub blocking_budget: Option<String>,
}

/// Why a node cannot be removed (cluster-autoscaler's `drain` blockers and
/// its rescheduling simulation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocker {
    NotReplicated(String),
    LocalStorage(String),
    NotSafeToEvict(String),
    SystemPod(String),
    NotEnoughPdb(String, String),
    NoPlaceToMove(String),
}

impl std::fmt::Display for Blocker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Blocker::NotReplicated(pod) => write!(f, "pod {pod} is not replicated"),
            Blocker::LocalStorage(pod) => write!(f, "pod {pod} has local storage"),
            Blocker::NotSafeToEvict(pod) => {
                write!(f, "pod {pod} is annotated safe-to-evict: false")
            }
            Blocker::SystemPod(pod) => write!(
                f,
                "pod {pod} is a kube-system pod without a PodDisruptionBudget"
            ),
            Blocker::NotEnoughPdb(pod, budget) => {
                write!(
                    f,
                    "pod {pod} is protected by {budget}, which allows no disruption"
                )
            }
            Blocker::NoPlaceToMove(pod) => write!(f, "no other node can take pod {pod}"),
        }
    }
}

/// Whether the node's pods can all leave it, in the order of
/// cluster-autoscaler's drainability rules: `safe-to-evict: "true"` lets a
/// pod go whatever else holds it, `"false"` keeps it; otherwise a
/// kube-system pod without a budget, local storage or no controller keep
/// it; a budget allowing no disruption keeps any pod; and each is placed by
/// the scheduler on one of `others` (the fleet without this node and those
/// already leaving).
pub fn removable(
    scheduler: &Scheduler,
    others: &[NodeState],
    pods: &[PodOnNode],
    snapshot_of: &SnapshotOf,
) -> Result<(), Blocker> {
    let movable: Vec<&PodOnNode> = pods.iter().filter(|p| !p.daemon).collect();
    for pod in &movable {
        let name = || pod.name.to_string();
        match pod.safe_to_evict {
            Some(true) => {}
            Some(false) => return Err(Blocker::NotSafeToEvict(name())),
            None if pod.system => return Err(Blocker::SystemPod(name())),
            None if pod.local_storage => return Err(Blocker::LocalStorage(name())),
            None if !pod.replicated => return Err(Blocker::NotReplicated(name())),
            None => {}
        }
        if let Some(budget) = &pod.blocking_budget {
            return Err(Blocker::NotEnoughPdb(pod.name.to_string(), budget.clone()));
        }
    }
    let mut snapshot = snapshot_of(others);
    for pod in movable {
        match scheduler.schedule(pod.pod, &snapshot) {
            Ok(placement) => snapshot.assume(placement.node, pod.pod),
            Err(_) => return Err(Blocker::NoPlaceToMove(pod.name.to_string())),
        }
    }
    Ok(())
}

/// Whether a node unneeded since `since` may go at `now`: unneeded for
/// `--scale-down-unneeded-time`, and no scale-up within
/// `--scale-down-delay-after-add` (both 10 minutes).
pub fn may_remove(since: u64, last_scale_up: Option<u64>, now: u64) -> bool {
    now.saturating_sub(since) >= SCALE_DOWN_UNNEEDED_TIME
        && last_scale_up.is_none_or(|t| now.saturating_sub(t) >= SCALE_DOWN_DELAY_AFTER_ADD)
}

mod action;
pub mod controller;
mod drain;

#[cfg(test)]
mod tests;
