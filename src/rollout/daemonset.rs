//! One DaemonSet controller sync, as `pkg/controller/daemon` makes it: the
//! per-node part of `manage` (`podsShouldBeOnNode`: create where a pod is
//! missing, delete where none may run, prune excess pods, and with maxSurge
//! drop the old pod once it is not ready or its replacement is available),
//! then `rollingUpdate` (`update.go`, Kubernetes 1.34: an unavailable old
//! pod counts against maxUnavailable, kubernetes#123233; with maxSurge, a
//! node leaving the set keeps its old pod until the others are available,
//! kubernetes#119317) on what `manage` left, as the upstream unit tests run
//! them. Nodes are visited in name order where upstream ranges over a map.

use crate::model::workload::{IntOrPercent, Strategy};

/// A daemon pod as the controller reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pod<'a> {
    pub name: &'a str,
    /// Of the current template (`IsPodUpdated`).
    pub updated: bool,
    pub ready: bool,
    /// `IsPodAvailable` with the DaemonSet's minReadySeconds.
    pub available: bool,
    /// Bound to its node (`Spec.NodeName` set).
    pub scheduled: bool,
    pub created_at: u64,
}

/// A node and its daemon pods (`NodeShouldRunDaemonPod`'s two answers).
#[derive(Debug, Clone)]
pub struct Node<'a> {
    pub should_run: bool,
    pub should_continue_running: bool,
    pub pods: Vec<Pod<'a>>,
}

/// Why a pod is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// The node may not run it.
    NotEligible,
    /// More pods than the node keeps.
    Excess,
    /// An old pod, replaced by the rolling update.
    Replaced,
}

/// What one sync does: pods to delete (node index, pod index, why) and
/// nodes to create a pod on, in the order made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decisions {
    pub delete: Vec<(usize, usize, Removal)>,
    pub create: Vec<usize>,
}

/// `manage`, then `rollingUpdate` for a RollingUpdate strategy.
pub fn sync(strategy: &Strategy, nodes: &[Node]) -> Decisions {
    let mut decisions = Decisions::default();
    let surge = allows_surge(strategy);
    for (i, node) in nodes.iter().enumerate() {
        pods_should_be_on_node(i, node, surge, &mut decisions);
    }
    if let Strategy::RollingUpdate {
        max_surge,
        max_unavailable,
    } = strategy
    {
        // What `manage` left: its deletions gone, its creations new and unavailable.
        let created = Pod {
            name: "",
            updated: true,
            ready: false,
            available: false,
            scheduled: false,
            created_at: u64::MAX,
        };
        let left: Vec<Vec<Option<Pod>>> = nodes
            .iter()
            .enumerate()
            .map(|(i, node)| {
                let mut pods: Vec<Option<Pod>> = node
                    .pods
                    .iter()
                    .enumerate()
                    .map(|(j, pod)| {
                        (!decisions.delete.iter().any(|d| (d.0, d.1) == (i, j))).then_some(*pod)
                    })
                    .collect();
                if decisions.create.contains(&i) {
                    pods.push(Some(created));
                }
                pods
            })
            .collect();
        rolling_update(*max_surge, *max_unavailable, nodes, &left, &mut decisions);
    }
    decisions
}

/// `util.AllowsSurge`: maxSurge scaled against one node is not 0.
fn allows_surge(strategy: &Strategy) -> bool {
    matches!(strategy, Strategy::RollingUpdate { max_surge, .. } if max_surge.scaled(1, true) > 0)
}

/// `podByCreationTimestampAndPhase`: scheduled first, then oldest, then by name.
fn by_creation(a: &Pod, b: &Pod) -> std::cmp::Ordering {
    b.scheduled
        .cmp(&a.scheduled)
        .then(a.created_at.cmp(&b.created_at))
        .then(a.name.cmp(b.name))
}

/// `podsShouldBeOnNode` for one node.
fn pods_should_be_on_node(i: usize, node: &Node, surge: bool, decisions: &mut Decisions) {
    let delete = |decisions: &mut Decisions, j: usize, why: Removal| {
        decisions.delete.push((i, j, why));
    };
    if node.should_run && node.pods.is_empty() {
        decisions.create.push(i);
        return;
    }
    if !node.should_continue_running {
        for j in 0..node.pods.len() {
            delete(decisions, j, Removal::NotEligible);
        }
        return;
    }
    let mut running: Vec<usize> = (0..node.pods.len()).collect();
    running.sort_by(|&a, &b| by_creation(&node.pods[a], &node.pods[b]));
    if !surge {
        // Without surge, more than one pod on a node: all but the oldest go.
        for &j in running.iter().skip(1) {
            delete(decisions, j, Removal::Excess);
        }
        return;
    }
    if running.len() <= 1 {
        return;
    }
    // With surge, two pods only while the oldest new one is not ready and
    // the oldest old one is; every other pod goes.
    let mut oldest_new = None;
    let mut oldest_old = None;
    for &j in &running {
        let slot = if node.pods[j].updated {
            &mut oldest_new
        } else {
            &mut oldest_old
        };
        if slot.is_none() {
            *slot = Some(j);
        } else {
            delete(decisions, j, Removal::Excess);
        }
    }
    if let (Some(new), Some(old)) = (oldest_new, oldest_old)
        && (!node.pods[old].ready || node.pods[new].available)
    {
        delete(decisions, old, Removal::Replaced);
    }
}

/// A pod of a node, with its index there.
type OnNode<'a> = Option<(usize, Pod<'a>)>;

/// `findUpdatedPodsOnNode`: the node's new and old pod, `None` when it has
/// more than one of either.
fn find_updated_pods_on_node<'a>(pods: &[Option<Pod<'a>>]) -> Option<(OnNode<'a>, OnNode<'a>)> {
    let mut new = None;
    let mut old = None;
    for (j, pod) in pods.iter().enumerate() {
        let Some(pod) = pod else { continue };
        let slot = if pod.updated { &mut new } else { &mut old };
        if slot.is_some() {
            return None;
        }
        *slot = Some((j, *pod));
    }
    Some((new, old))
}

/// `rollingUpdate` (`update.go`), on the pods `manage` left. Nodes that
/// want a pod count even without one (`updatedDesiredNodeCounts`). A
/// line-by-line port, to be read beside upstream's: its two branches
/// (without surge, with surge) are the two functions that follow.
fn rolling_update(
    max_surge: IntOrPercent,
    max_unavailable: IntOrPercent,
    nodes: &[Node],
    left: &[Vec<Option<Pod>>],
    decisions: &mut Decisions,
) {
    let desired = nodes.iter().filter(|n| n.should_run).count() as i32;
    // `SurgeCount` and `UnavailableCount` round up; both 0 accepts one unavailable.
    let max_surge = max_surge.scaled(desired, true);
    let mut max_unavailable = max_unavailable.scaled(desired, true);
    if desired > 0 && max_surge == 0 && max_unavailable == 0 {
        max_unavailable = 1;
    }
    if max_surge == 0 {
        replace_without_surge(nodes, left, max_unavailable, decisions);
    } else {
        replace_with_surge(nodes, left, desired, max_surge, decisions);
    }
}

/// The nodes `getNodesToDaemonPods` lists: those with a pod, and those that want one.
fn listed(nodes: &[Node], left: &[Vec<Option<Pod>>], i: usize) -> bool {
    nodes[i].should_run || left[i].iter().any(Option::is_some)
}

/// Without surge: an old pod goes before its replacement comes, as far
/// as `max_unavailable` allows; an unavailable old pod goes in any case.
fn replace_without_surge(
    nodes: &[Node],
    left: &[Vec<Option<Pod>>],
    max_unavailable: i32,
    decisions: &mut Decisions,
) {
    let mut unavailable = 0;
    let mut allowed_replacements = Vec::new();
    let mut candidates = Vec::new();
    for (i, pods) in left
        .iter()
        .enumerate()
        .filter(|(i, _)| listed(nodes, left, *i))
    {
        let Some((new, old)) = find_updated_pods_on_node(pods) else {
            unavailable += 1;
            continue;
        };
        match (new, old) {
            (None, None) | (Some(_), Some(_)) => unavailable += 1,
            (Some((_, new)), None) => unavailable += i32::from(!new.available),
            (None, Some((j, old))) => {
                if !old.available {
                    // An old pod that is not available is replaced, and
                    // counts against maxUnavailable (kubernetes#123233).
                    allowed_replacements.push((i, j));
                    unavailable += 1;
                } else if unavailable < max_unavailable {
                    candidates.push((i, j));
                }
            }
        }
    }
    let remaining = (max_unavailable - unavailable).clamp(0, candidates.len() as i32);
    for (i, j) in allowed_replacements
        .into_iter()
        .chain(candidates.into_iter().take(remaining as usize))
    {
        decisions.delete.push((i, j, Removal::Replaced));
    }
}

/// With surge: a new pod comes beside the old one, up to `max_surge` at
/// once; the old one goes once the new one is available.
fn replace_with_surge(
    nodes: &[Node],
    left: &[Vec<Option<Pod>>],
    desired: i32,
    max_surge: i32,
    decisions: &mut Decisions,
) {
    let mut surging = 0;
    let mut available = 0;
    let mut old_pods_to_delete = Vec::new();
    // Old pods on nodes that may no longer run one (kubernetes#119317).
    let mut should_not_run = Vec::new();
    let mut allowed_new_nodes = Vec::new();
    let mut candidate_new_nodes = Vec::new();
    for (i, pods) in left
        .iter()
        .enumerate()
        .filter(|(i, _)| listed(nodes, left, *i))
    {
        let Some((new, old)) = find_updated_pods_on_node(pods) else {
            surging += 1;
            continue;
        };
        // Availability first, counted on every node.
        match (new, old) {
            (_, Some((_, old))) => available += i32::from(old.available),
            (Some((_, new)), None) => available += i32::from(new.available),
            (None, None) => {}
        }
        match (new, old) {
            (_, None) => {}
            (None, Some((j, old))) => {
                if !old.available {
                    if !nodes[i].should_run {
                        old_pods_to_delete.push((i, j));
                    } else {
                        // An old pod that is not available gets its replacement at once.
                        allowed_new_nodes.push(i);
                    }
                } else if !nodes[i].should_run {
                    should_not_run.push((i, j));
                } else if surging < max_surge {
                    candidate_new_nodes.push(i);
                }
            }
            (Some((_, new)), Some((j, _))) => {
                if new.available {
                    old_pods_to_delete.push((i, j));
                } else {
                    surging += 1;
                }
            }
        }
    }
    let remaining = max_surge - surging;
    // An old pod on a node leaving the set goes only while the others keep
    // every node served.
    let deletable = (available - desired).clamp(0, should_not_run.len() as i32);
    old_pods_to_delete.extend(should_not_run.into_iter().take(deletable as usize));
    let remaining = remaining.clamp(0, candidate_new_nodes.len() as i32);
    decisions.create.extend(
        allowed_new_nodes
            .into_iter()
            .chain(candidate_new_nodes.into_iter().take(remaining as usize)),
    );
    for (i, j) in old_pods_to_delete {
        decisions.delete.push((i, j, Removal::Replaced));
    }
}

#[cfg(test)]
mod tests;
