//! Replicas leaving their node: taint-based eviction from a node that is not
//! ready (after the not-ready toleration, 300 s by default as the
//! DefaultTolerationSeconds admission adds it), and drains that evict one
//! replica at a time only while every matching PodDisruptionBudget allows.

use super::daemonset::daemon_pod;
use super::disruption;
use super::{Action, DeleteReason, Pass};
use crate::model::pod::{Taint, TaintEffect, tolerates_all};
use crate::model::state::{NodeState, Phase};
use crate::model::workload::Kind;
use std::collections::BTreeSet;

pub const NOT_READY: &str = "node.kubernetes.io/not-ready";
/// `DefaultTolerationSeconds`: replicas without their own not-ready toleration get this one.
pub const DEFAULT_TOLERATION_SECONDS: u64 = 300;

/// Replicas on not-ready nodes stop being ready at once and are evicted
/// when their toleration of the not-ready NoExecute taint runs out.
pub(super) fn node_loss(pass: &mut Pass, nodes: &[NodeState]) {
    let taint = Taint::new(NOT_READY, "", TaintEffect::NoExecute);
    for node in nodes.iter().filter(|n| !n.ready) {
        let since = node.not_ready_since.unwrap_or(pass.now);
        let on_node: Vec<&crate::model::state::Replica> = pass.replicas_on(&node.name).collect();
        for replica in on_node {
            if !replica.phase.is_active() || pass.deleted.contains(&replica.name) {
                continue;
            }
            if replica.ready {
                pass.plan.actions.push(Action::MarkUnready {
                    replica: replica.name.clone(),
                    workload: replica.workload.clone(),
                    reason: format!("node {} is not ready", node.name),
                });
            }
            // A pod orch does not manage stays where it is, unready.
            if replica.is_unmanaged() {
                continue;
            }
            let Some(template) = pass.catalog.pod(&replica.workload, &replica.hash) else {
                continue;
            };
            let pod: std::borrow::Cow<_> = match &replica.target_node {
                Some(target) => std::borrow::Cow::Owned(daemon_pod(template, target)),
                None => std::borrow::Cow::Borrowed(template.as_ref()),
            };
            let toleration = pod.tolerations.iter().find(|t| t.tolerates(&taint));
            let seconds = match toleration {
                Some(t) => match t.toleration_seconds {
                    Some(s) => s.max(0) as u64,
                    None => continue, // tolerated for ever
                },
                None if tolerates_all(&pod.tolerations, &taint) => continue,
                None => DEFAULT_TOLERATION_SECONDS,
            };
            let due = since + seconds;
            if due <= pass.now {
                pass.delete(
                    replica,
                    DeleteReason::Evicted(format!("node {} not ready for {seconds}s", node.name)),
                );
            } else {
                pass.plan.wake(due);
            }
        }
    }
}

/// Replicas left Terminating on a lost node (`stays_terminating`) are gone
/// once their node is back, removed, or tainted out-of-service.
pub(super) fn finish_terminations(pass: &mut Pass) {
    let observed = pass.observed;
    for replica in observed
        .replicas
        .iter()
        .filter(|r| r.phase == Phase::Terminating)
    {
        let node = replica.node.as_deref().and_then(|n| observed.node(n));
        if !crate::model::stateful::stays_terminating(replica, node) {
            let why = match node {
                Some(node) if node.ready => format!("node {} is ready again", node.name),
                Some(node) => format!("node {} is out of service", node.name),
                None => "its node was removed".to_string(),
            };
            pass.delete(replica, DeleteReason::Evicted(why));
        }
    }
}

/// Draining nodes: evict their replicas (DaemonSet replicas stay, as with
/// `kubectl drain --ignore-daemonsets`) as the disruption budgets allow.
pub(super) fn drain(pass: &mut Pass, nodes: &[NodeState]) {
    let observed = pass.observed;
    for node in nodes.iter().filter(|n| n.draining) {
        let mut replicas: Vec<_> = pass
            .replicas_on(&node.name)
            .filter(|r| r.phase.is_active() && evicted_by_drain(r))
            .collect();
        replicas.sort_by(|a, b| a.name.cmp(&b.name));
        for replica in replicas {
            if pass.deleted.contains(&replica.name) {
                continue;
            }
            // Unready replicas are evicted without a budget check while budgets hold.
            let blocked = pass.desired.disruption_budgets.iter().any(|budget| {
                disruption::selects(budget, replica, &pass.catalog) && {
                    let status = disruption::status(
                        budget,
                        pass.desired,
                        observed,
                        &pass.catalog,
                        &pass.deleted,
                    );
                    if replica.ready {
                        status.disruptions_allowed <= 0
                    } else {
                        status.current_healthy < status.desired_healthy
                    }
                }
            });
            if !blocked {
                pass.delete(
                    replica,
                    DeleteReason::Evicted(format!("node {} drained", node.name)),
                );
            }
        }
    }
}

/// DaemonSet replicas stay, as with `kubectl drain --ignore-daemonsets`;
/// so do the pods orch does not manage (mirror pods, which drain skips, and
/// the pods of owners orch does not simulate).
fn evicted_by_drain(replica: &crate::model::state::Replica) -> bool {
    replica.workload.kind != Kind::DaemonSet && !replica.is_unmanaged()
}

/// Why a drain is not finished: each replica still on the node and the budget holding it.
pub fn drain_blockers(
    pass_desired: &crate::model::workload::Desired,
    state: &crate::model::state::State,
    node: &str,
) -> Vec<String> {
    let catalog = super::Catalog::build(pass_desired, state);
    let none = BTreeSet::new();
    state
        .replicas
        .iter()
        .filter(|r| r.node.as_deref() == Some(node) && evicted_by_drain(r) && r.phase.is_active())
        .map(|replica| {
            let budgets: Vec<String> = pass_desired
                .disruption_budgets
                .iter()
                .filter(|b| disruption::selects(b, replica, &catalog))
                .map(|b| disruption::status(b, pass_desired, state, &catalog, &none).refusal(b))
                .collect();
            if budgets.is_empty() {
                format!("{} is still on {node}", replica.name)
            } else {
                format!("{}: {}", replica.name, budgets.join("; "))
            }
        })
        .collect()
}
