//! The node groups' loop on the simulated clock: once a pass of the
//! controllers has nothing more to do at this instant, cluster-autoscaler
//! looks at what the scheduler left pending and at the members' use
//! (`autoscale::nodegroup::controller`); and how its decisions change the
//! state, each recorded with cluster-autoscaler's event.

use crate::autoscale::nodegroup::controller::{self, GroupAction};
use crate::model::node_group::{NodeGroupState, Provisioning};
use crate::model::state::{Event, EventType, State};
use crate::model::workload::Desired;
use crate::reconcile::{Catalog, Declared, Plan, Prune};
use crate::scheduler::Scheduler;
use std::sync::Arc;

/// A quiet pass (no action) gets the node groups' decisions, and the
/// instants they next have something to do; a busy one only their
/// bookkeeping (records, members joining).
pub(super) fn extend(
    plan: &mut Plan,
    declared: &Arc<Declared>,
    desired: &Desired,
    state: &State,
    scheduler: &Scheduler,
    prune: Prune,
) {
    if desired.node_groups.is_empty() && state.node_groups.is_empty() {
        return;
    }
    // Groups go as undeclared nodes do: not with `--no-prune`, nor when the
    // set declares none (unless `--prune-all`).
    let forget = match prune {
        Prune::Keep => false,
        Prune::All => true,
        Prune::Auto => !desired.node_groups.is_empty(),
    };
    if !plan.actions.is_empty() {
        plan.actions
            .extend(controller::sync_membership(desired, state, forget));
        return;
    }
    let catalog = Catalog::with_declared(declared.clone(), desired, state);
    let groups = controller::sync(desired, state, scheduler, &catalog, forget);
    plan.actions = groups.actions;
    let earliest = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    plan.wake_at = earliest(plan.wake_at, groups.wake_at);
    plan.later = earliest(plan.later, groups.later);
}

/// The ready nodes a step ends with, where node groups are in play.
pub(super) fn fleet_size(desired: &Desired, state: &State) -> Option<u32> {
    (!desired.node_groups.is_empty() || !state.node_groups.is_empty()).then(|| {
        state
            .nodes
            .iter()
            .filter(|n| n.ready && !n.removing)
            .count() as u32
    })
}

fn record_mut<'s>(state: &'s mut State, group: &str) -> &'s mut NodeGroupState {
    let i = match state
        .node_groups
        .binary_search_by(|g| g.name.as_str().cmp(group))
    {
        Ok(i) => i,
        Err(i) => {
            state.node_groups.insert(
                i,
                NodeGroupState {
                    name: group.to_string(),
                    ..NodeGroupState::default()
                },
            );
            i
        }
    };
    &mut state.node_groups[i]
}

/// Carry out one decision; its events are recorded here.
pub(super) fn apply(state: &mut State, action: &GroupAction, now: u64) {
    let event = |state: &mut State, object: String, message: String| {
        if let Some(reason) = action.event() {
            state.record_event(Event {
                time: now,
                kind: EventType::Normal,
                reason,
                object,
                message,
            });
        }
    };
    match action {
        GroupAction::ScaleUp {
            group,
            from,
            to,
            max,
            nodes,
            ready_at,
            pods,
        } => {
            let record = record_mut(state, group);
            for node in nodes {
                record.provisioning.push(Provisioning {
                    node: node.clone(),
                    ready_at: *ready_at,
                });
            }
            record.next_member += nodes.len() as u32;
            record.last_scale_up = Some(now);
            let message =
                format!("pod triggered scale-up: [{{{group} {from}->{to} (max: {max})}}]");
            for (replica, _) in pods {
                event(state, format!("Replica/{replica}"), message.clone());
            }
        }
        GroupAction::NotTriggered {
            replica, message, ..
        } => event(state, format!("Replica/{replica}"), message.clone()),
        GroupAction::ScaleDown { group, node, .. } => {
            record_mut(state, group).unneeded.remove(node);
            if let Some(member) = state.node_mut(node) {
                member.draining = true;
                member.removing = true;
                member.unschedulable = true;
            }
            event(
                state,
                format!("Node/{node}"),
                "marked the node as toBeDeleted/unschedulable".to_string(),
            );
        }
        GroupAction::SetStatus(status) => *record_mut(state, &status.name) = status.clone(),
        GroupAction::Forget { group } => state.node_groups.retain(|g| &g.name != group),
    }
}
