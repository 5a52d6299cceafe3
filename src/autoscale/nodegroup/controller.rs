//! The node groups' loop, one pass: what cluster-autoscaler's `RunOnce`
//! decides from the state once the scheduler has done what it can at this
//! instant. Members that are due join; a group seen for the first time
//! starts at its minSize; pods the scheduler could not place, that no
//! member on its way would take, trigger a scale-up (or a
//! `NotTriggerScaleUp`); members unneeded for ten minutes are drained and
//! removed. Pure: actions, and when to look again.

use super::drain::{Budgets, pods_on};
use super::{
    GroupSize, NodeGroup, SCALE_DOWN_DELAY_AFTER_ADD, SCALE_DOWN_UNNEEDED_TIME,
    SCALE_DOWN_UTILIZATION_THRESHOLD, may_remove, not_triggered_message, removable, scale_up,
    utilization, why_not,
};
use crate::model::event::EventReason;
use crate::model::node_group::{GROUP_LABEL, NodeGroupState, NodeTemplate, Provisioning};
use crate::model::pod::PodSpec;
use crate::model::state::{NodeSource, NodeState, Phase, Replica, State};
use crate::model::workload::Desired;
use crate::reconcile::{Action, Catalog, occupied_snapshot_of};
use crate::scheduler::Scheduler;
use crate::scheduler::snapshot::Snapshot;
use std::collections::{BTreeMap, BTreeSet};

pub use super::action::GroupAction;

/// One pass's decisions and when the groups next have something to do.
#[derive(Debug, Default)]
pub struct GroupPlan {
    pub actions: Vec<Action>,
    /// A member joins then: a run waits for it.
    pub wake_at: Option<u64>,
    /// A scale-down timer runs out then: only time that runs on meets it.
    pub later: Option<u64>,
}

/// The members of `group` in the fleet (joined, not leaving), by name.
pub fn members<'s>(state: &'s State, group: &str) -> Vec<&'s NodeState> {
    state
        .nodes
        .iter()
        .filter(|n| {
            n.source == NodeSource::NodeGroup
                && !n.removing
                && n.labels.get(GROUP_LABEL).map(String::as_str) == Some(group)
        })
        .collect()
}

/// The group's record, or the one of a group never seen.
pub fn record<'s>(state: &'s State, group: &str) -> Option<&'s NodeGroupState> {
    state.node_groups.iter().find(|g| g.name == group)
}

/// Pods the scheduler could not place (it recorded why), in state order.
pub fn unschedulable(state: &State) -> Vec<&Replica> {
    state
        .replicas
        .iter()
        .filter(|r| {
            r.phase == Phase::Pending
                && r.node.is_none()
                && r.target_node.is_none()
                && r.reason.is_some()
        })
        .collect()
}

/// One pass of every group's loop. `forget`: groups no longer declared
/// go (as undeclared nodes are pruned).
pub fn sync(
    desired: &Desired,
    state: &State,
    scheduler: &Scheduler,
    catalog: &Catalog,
    forget: bool,
) -> GroupPlan {
    let mut plan = GroupPlan::default();
    membership(desired, state, forget, &mut plan);
    // A fleet that changes is looked at again once it has (in the next pass).
    let fleet_changes = plan
        .actions
        .iter()
        .any(|a| matches!(a, Action::AddNode(_) | Action::UpdateNode(_)));
    if !fleet_changes {
        let before = plan.actions.len();
        scale_up_pending(desired, state, scheduler, catalog, &mut plan);
        if plan.actions.len() == before {
            scale_down(desired, state, scheduler, catalog, &mut plan);
        }
    }
    plan.wake_at = state
        .node_groups
        .iter()
        .flat_map(|g| &g.provisioning)
        .map(|p| p.ready_at)
        .filter(|&at| at > state.clock)
        .min();
    plan
}

/// The part of a pass that needs no look at the pods (records, members
/// joining, groups leaving): it rides along with a pass that acts anyway,
/// so it adds no step of its own.
pub fn sync_membership(desired: &Desired, state: &State, forget: bool) -> Vec<Action> {
    let mut plan = GroupPlan::default();
    membership(desired, state, forget, &mut plan);
    plan.actions
}

/// Groups no longer declared are forgotten (their members drain); due
/// members join; a new group's minSize members join at once.
fn membership(desired: &Desired, state: &State, forget: bool, plan: &mut GroupPlan) {
    let now = state.clock;
    for old in &state.node_groups {
        if !forget || desired.node_groups.iter().any(|g| g.name == old.name) {
            continue;
        }
        for node in members(state, &old.name) {
            plan.actions.push(Action::UpdateNode(Box::new(NodeState {
                draining: true,
                removing: true,
                unschedulable: true,
                ..node.clone()
            })));
        }
        plan.actions
            .push(Action::NodeGroup(Box::new(GroupAction::Forget {
                group: old.name.clone(),
            })));
    }
    for group in &desired.node_groups {
        let Some(old) = record(state, &group.name) else {
            for n in 0..group.min_size {
                plan.actions
                    .push(Action::AddNode(Box::new(group.member_node(n))));
            }
            plan.actions
                .push(Action::NodeGroup(Box::new(GroupAction::SetStatus(
                    NodeGroupState {
                        next_member: group.min_size,
                        ..specified(group, &NodeGroupState::default())
                    },
                ))));
            continue;
        };
        let (due, waiting): (Vec<&Provisioning>, Vec<&Provisioning>) =
            old.provisioning.iter().partition(|p| p.ready_at <= now);
        let respecified = specified(group, old) != *old;
        if due.is_empty() && !respecified {
            continue;
        }
        for member in due {
            let n = member_number(&group.name, &member.node);
            let node = NodeState {
                name: member.node.clone(),
                ..group.member_node(n)
            };
            plan.actions.push(Action::AddNode(Box::new(node)));
        }
        plan.actions
            .push(Action::NodeGroup(Box::new(GroupAction::SetStatus(
                NodeGroupState {
                    provisioning: waiting.into_iter().cloned().collect(),
                    ..specified(group, old)
                },
            ))));
    }
}

/// `record` with the group's spec as declared now.
fn specified(group: &NodeGroup, record: &NodeGroupState) -> NodeGroupState {
    NodeGroupState {
        name: group.name.clone(),
        min_size: group.min_size,
        max_size: group.max_size,
        provision_delay: group.provision_delay,
        template: NodeTemplate {
            labels: group.template.labels.clone(),
            taints: group.template.taints.clone(),
            unschedulable: group.template.unschedulable,
            allocatable: group.template.allocatable.clone(),
        },
        ..record.clone()
    }
}

/// The groups as last applied, read back from their records (for commands
/// that run without `-f`).
pub fn stored_groups(state: &State) -> Vec<NodeGroup> {
    state
        .node_groups
        .iter()
        .map(|g| NodeGroup {
            name: g.name.clone(),
            min_size: g.min_size,
            max_size: g.max_size,
            provision_delay: g.provision_delay,
            template: crate::model::workload::NodeSpec {
                name: String::new(),
                labels: g.template.labels.clone(),
                taints: g.template.taints.clone(),
                unschedulable: g.template.unschedulable,
                allocatable: g.template.allocatable.clone(),
            },
        })
        .collect()
}

/// `n` of a member named `<group>-<n>`.
fn member_number(group: &str, node: &str) -> u32 {
    node.strip_prefix(group)
        .and_then(|rest| rest.strip_prefix('-'))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The sizes of every declared group: members plus those on their way.
pub fn sizes(desired: &Desired, state: &State) -> Vec<GroupSize> {
    desired
        .node_groups
        .iter()
        .map(|g| {
            let record = record(state, &g.name);
            GroupSize {
                target: members(state, &g.name).len() as u32
                    + record.map_or(0, |r| r.provisioning.len() as u32),
                next_member: record.map_or(g.min_size, |r| r.next_member),
            }
        })
        .collect()
}

/// The fleet with the members on their way as if they had joined: pods that
/// one of them will take wait for it, as cluster-autoscaler's upcoming nodes.
pub fn with_upcoming(desired: &Desired, state: &State) -> Vec<NodeState> {
    let mut fleet = state.nodes.clone();
    for group in &desired.node_groups {
        for member in record(state, &group.name).map_or(&[][..], |r| &r.provisioning) {
            fleet.push(NodeState {
                name: member.node.clone(),
                ..group.member_node(member_number(&group.name, &member.node))
            });
        }
    }
    fleet
}

/// `state` with every group grown to its maxSize (the members on their way
/// joined, the missing ones added): the room the groups can give.
pub fn grown_to_max(desired: &Desired, state: &State) -> State {
    let mut grown = state.clone();
    grown.nodes = with_upcoming(desired, state);
    for (group, size) in desired.node_groups.iter().zip(sizes(desired, state)) {
        for k in 0..group.max_size.saturating_sub(size.target) {
            grown.nodes.push(group.member_node(size.next_member + k));
        }
    }
    grown.nodes.sort_by(|a, b| a.name.cmp(&b.name));
    grown
}

/// Where each pending pod stands with the node groups (what `explain` says).
#[derive(Debug, Clone, PartialEq)]
pub enum PendingOutlook {
    /// A member on its way will take it, joining at `ready_at`.
    Upcoming { node: String, ready_at: u64 },
    /// A scale-up of `group` would take it; its nodes would join `delay` after.
    WouldScaleUp { group: String, delay: u64 },
    /// No group would: cluster-autoscaler's `NotTriggerScaleUp` message.
    NoScaleUp(String),
}

/// The pending `pods` sorted out: those an upcoming member takes (placed
/// one after the other, as the scheduler would), and the others.
fn upcoming_or_not<'p>(
    scheduler: &Scheduler,
    fleet: &[NodeState],
    pods: &[&'p PodSpec],
    snapshot_of: &dyn Fn(&[NodeState]) -> Snapshot,
) -> (Vec<Option<usize>>, Vec<usize>) {
    let mut snapshot = snapshot_of(fleet);
    let mut placed = vec![None; pods.len()];
    let mut helpless = Vec::new();
    for (i, pod) in pods.iter().enumerate() {
        match scheduler.schedule(pod, &snapshot) {
            Ok(placement) => {
                snapshot.assume(placement.node, pod);
                placed[i] = Some(placement.node);
            }
            Err(_) => helpless.push(i),
        }
    }
    (placed, helpless)
}

/// What would become of each pending pod (`explain`, `describe`).
pub fn outlook(
    desired: &Desired,
    state: &State,
    scheduler: &Scheduler,
    catalog: &Catalog,
) -> BTreeMap<String, PendingOutlook> {
    let mut out = BTreeMap::new();
    if desired.node_groups.is_empty() {
        return out;
    }
    let pending = unschedulable(state);
    let pods: Vec<&PodSpec> = pending
        .iter()
        .filter_map(|r| catalog.pod(&r.workload, &r.hash).map(|p| &**p))
        .collect();
    if pods.len() != pending.len() {
        return out;
    }
    let fleet = with_upcoming(desired, state);
    let snapshot_of = |nodes: &[NodeState]| occupied_snapshot_of(nodes, state, catalog, None);
    let (placed, helpless) = upcoming_or_not(scheduler, &fleet, &pods, &snapshot_of);
    for (i, node) in placed.iter().enumerate() {
        if let Some(node) = node {
            let name = &fleet[*node].name;
            let ready_at = state
                .node_groups
                .iter()
                .flat_map(|g| &g.provisioning)
                .find(|p| &p.node == name)
                .map_or(state.clock, |p| p.ready_at);
            out.insert(
                pending[i].name.to_string(),
                PendingOutlook::Upcoming {
                    node: name.clone(),
                    ready_at,
                },
            );
        }
    }
    let groups = &desired.node_groups;
    let sizes = sizes(desired, state);
    let helpless_pods: Vec<&PodSpec> = helpless.iter().map(|&i| pods[i]).collect();
    let up = scale_up(
        scheduler,
        &fleet,
        groups,
        &sizes,
        &helpless_pods,
        &snapshot_of,
    );
    for (k, &i) in helpless.iter().enumerate() {
        let outlook = match &up {
            Some(up) if up.pods.contains(&k) => PendingOutlook::WouldScaleUp {
                group: groups[up.group].name.clone(),
                delay: groups[up.group].provision_delay,
            },
            _ => {
                let why = why_not(scheduler, &fleet, groups, &sizes, pods[i], &snapshot_of);
                match not_triggered_message(&why) {
                    Some(message) => PendingOutlook::NoScaleUp(message),
                    // A group would take it alone, not with the others.
                    None => PendingOutlook::NoScaleUp(
                        "pod didn't trigger scale-up: the pods ahead of it fill the groups' room"
                            .to_string(),
                    ),
                }
            }
        };
        out.insert(pending[i].name.to_string(), outlook);
    }
    out
}

/// Pending pods that no member on its way takes trigger the least-waste
/// scale-up; those no group takes get a `NotTriggerScaleUp` (once per reason).
fn scale_up_pending(
    desired: &Desired,
    state: &State,
    scheduler: &Scheduler,
    catalog: &Catalog,
    plan: &mut GroupPlan,
) {
    let outlook = outlook(desired, state, scheduler, catalog);
    if outlook.is_empty() {
        return;
    }
    let pending = unschedulable(state);
    let pods: Vec<&PodSpec> = pending
        .iter()
        .filter_map(|r| catalog.pod(&r.workload, &r.hash).map(|p| &**p))
        .collect();
    let fleet = with_upcoming(desired, state);
    let snapshot_of = |nodes: &[NodeState]| occupied_snapshot_of(nodes, state, catalog, None);
    let helpless: Vec<usize> = (0..pending.len())
        .filter(|&i| {
            !matches!(
                outlook.get(&*pending[i].name),
                Some(PendingOutlook::Upcoming { .. })
            )
        })
        .collect();
    let helpless_pods: Vec<&PodSpec> = helpless.iter().map(|&i| pods[i]).collect();
    let groups = &desired.node_groups;
    let sizes = sizes(desired, state);
    if let Some(up) = scale_up(
        scheduler,
        &fleet,
        groups,
        &sizes,
        &helpless_pods,
        &snapshot_of,
    ) {
        let group = &groups[up.group];
        let first = sizes[up.group].next_member;
        plan.actions
            .push(Action::NodeGroup(Box::new(GroupAction::ScaleUp {
                group: group.name.clone(),
                from: up.from,
                to: up.to,
                max: group.max_size,
                nodes: (first..first + (up.to - up.from))
                    .map(|n| group.member(n).name)
                    .collect(),
                ready_at: state.clock + group.provision_delay,
                pods: up
                    .pods
                    .iter()
                    .map(|&k| {
                        let r = pending[helpless[k]];
                        (r.name.to_string(), r.workload.clone())
                    })
                    .collect(),
            })));
        return;
    }
    let recorded: BTreeSet<(&str, &str)> = state
        .events
        .iter()
        .filter(|e| e.reason == EventReason::NotTriggerScaleUp)
        .map(|e| (e.object.as_str(), e.message.as_str()))
        .collect();
    for &i in &helpless {
        if let Some(PendingOutlook::NoScaleUp(message)) = outlook.get(&*pending[i].name) {
            let object = format!("Replica/{}", pending[i].name);
            if !recorded.contains(&(object.as_str(), message.as_str())) {
                plan.actions
                    .push(Action::NodeGroup(Box::new(GroupAction::NotTriggered {
                        replica: pending[i].name.to_string(),
                        workload: pending[i].workload.clone(),
                        message: message.clone(),
                    })));
            }
        }
    }
}

/// Members whose requested share is below the threshold and whose pods
/// fit elsewhere are unneeded (since when is kept); one unneeded for ten
/// minutes, with no scale-up in the last ten, is removed while the group
/// stays at or above its minSize.
fn scale_down(
    desired: &Desired,
    state: &State,
    scheduler: &Scheduler,
    catalog: &Catalog,
    plan: &mut GroupPlan,
) {
    let now = state.clock;
    if state.node_groups.is_empty() {
        return;
    }
    let occupied = occupied_snapshot_of(&state.nodes, state, catalog, None);
    let budgets = Budgets::new(desired, state, catalog);
    let sizes = sizes(desired, state);
    for (group, size) in desired.node_groups.iter().zip(&sizes) {
        let Some(old) = record(state, &group.name) else {
            continue;
        };
        let mut unneeded = BTreeMap::new();
        for node in members(state, &group.name) {
            if !node.ready || node.draining || node.unschedulable {
                continue;
            }
            let Some(info) = occupied.index_of(&node.name).map(|i| &occupied.nodes[i]) else {
                continue;
            };
            let used = utilization(&node.allocatable.resources, &info.requested);
            if used >= SCALE_DOWN_UTILIZATION_THRESHOLD {
                continue;
            }
            let others: Vec<NodeState> = state
                .nodes
                .iter()
                .filter(|n| n.name != node.name && !n.removing)
                .cloned()
                .collect();
            let pods = pods_on(&node.name, desired, state, catalog, &budgets);
            // The node's own pods are not on `others`: only theirs are accounted.
            let snapshot_of =
                |nodes: &[NodeState]| occupied_snapshot_of(nodes, state, catalog, None);
            if removable(scheduler, &others, &pods, &snapshot_of).is_ok() {
                let since = old.unneeded.get(&node.name).copied().unwrap_or(now);
                unneeded.insert(node.name.clone(), (since, used));
            }
        }
        let timers: BTreeMap<String, u64> = unneeded
            .iter()
            .map(|(n, (since, _))| (n.clone(), *since))
            .collect();
        if timers != old.unneeded {
            plan.actions
                .push(Action::NodeGroup(Box::new(GroupAction::SetStatus(
                    NodeGroupState {
                        unneeded: timers.clone(),
                        ..specified(group, old)
                    },
                ))));
        }
        // Empty members first, as cluster-autoscaler deletes them before
        // the ones whose pods must move; then the least used.
        let removable_now = unneeded
            .iter()
            .filter(|(_, (since, _))| may_remove(*since, old.last_scale_up, now))
            .min_by(|a, b| a.1.1.total_cmp(&b.1.1).then_with(|| a.0.cmp(b.0)));
        match removable_now {
            Some((node, (_, used))) if size.target > group.min_size => {
                plan.actions
                    .push(Action::NodeGroup(Box::new(GroupAction::ScaleDown {
                        group: group.name.clone(),
                        node: node.clone(),
                        utilization: (used * 100.0).round() as u32,
                    })));
            }
            _ if size.target > group.min_size => {
                for since in timers.values() {
                    let at = (since + SCALE_DOWN_UNNEEDED_TIME).max(
                        old.last_scale_up
                            .map_or(0, |t| t + SCALE_DOWN_DELAY_AFTER_ADD),
                    );
                    if at > now {
                        plan.later = Some(plan.later.map_or(at, |l| l.min(at)));
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests;
