//! Live objects into the state's records: nodes, replicas, and the clock
//! their times are counted on.

use super::Input;
use super::cluster::{self, Object, at, condition, is_true, items, parse_time};
use crate::manifest::tree::{Node, Value};
use crate::manifest::{self, Diagnostic};
use crate::model::condition::{ConditionReason, ConditionStatus, ConditionType};
use crate::model::state::{Condition, NodeSource, NodeState, Phase, Replica, Unmanaged};
use crate::model::workload::{Kind, ObjectRef};
use std::collections::BTreeMap;

/// Wall-clock times become simulated seconds since the oldest object was
/// created; the state's clock is the newest time in the input.
pub(super) struct Clock {
    epoch: i64,
    pub now: u64,
}

impl Clock {
    pub(super) fn new(input: &Input) -> Clock {
        let mut times = Vec::new();
        for object in input.objects.values().flat_map(BTreeMap::values) {
            collect_times(object.root, &mut times);
        }
        let epoch = times.iter().copied().min().unwrap_or(0);
        let newest = times.iter().copied().max().unwrap_or(0);
        Clock {
            epoch,
            now: (newest - epoch).max(0) as u64,
        }
    }

    /// The wall-clock time (Unix seconds) of simulated second 0, when the
    /// export has any time at all.
    pub(super) fn epoch(&self) -> Option<i64> {
        (self.epoch != 0 || self.now != 0).then_some(self.epoch)
    }

    fn at(&self, text: Option<&str>) -> Option<u64> {
        text.and_then(parse_time)
            .map(|t| (t - self.epoch).clamp(0, self.now as i64) as u64)
    }
}

/// The times that say when things happened (creation, start, conditions).
fn collect_times(node: &Node, times: &mut Vec<i64>) {
    const KEYS: [&str; 4] = [
        "creationTimestamp",
        "startTime",
        "lastTransitionTime",
        "startedAt",
    ];
    match &node.value {
        Value::Map(entries) => {
            for (key, value) in entries {
                if key.as_str() == Some("managedFields") {
                    continue;
                }
                match value.as_str() {
                    Some(text) if key.as_str().is_some_and(|k| KEYS.contains(&k)) => {
                        times.extend(parse_time(text));
                    }
                    _ => collect_times(value, times),
                }
            }
        }
        Value::Seq(list) => list.iter().for_each(|item| collect_times(item, times)),
        _ => {}
    }
}

/// A condition's status as the API server writes it; anything else (a
/// hand-made export) reads as Unknown, as the node controller would say.
fn condition_status(text: &str) -> ConditionStatus {
    text.parse().unwrap_or(ConditionStatus::Unknown)
}

pub(super) fn node(object: &Object, clock: &Clock, diagnostics: &mut Vec<Diagnostic>) -> NodeState {
    let mut labels = object.labels();
    labels
        .entry(manifest::HOSTNAME_LABEL.to_string())
        .or_insert_with(|| object.name().to_string());
    let unschedulable = is_true(at(object.root, &["spec", "unschedulable"]));
    let ready = condition(object, ConditionType::Ready.as_str());
    let (is_ready, conditions, not_ready_since) = match ready {
        Some([status, reason, message, since]) => {
            let since = clock.at(Some(since)).unwrap_or(clock.now);
            let status = condition_status(status);
            let reason = (!reason.is_empty()).then(|| ConditionReason::from(reason));
            let ready = status == ConditionStatus::True;
            (
                ready,
                vec![Condition::ready(status, reason, message, since)],
                (!ready).then_some(since),
            )
        }
        // A node that never reported is not ready (the node controller's Unknown).
        None => (false, Vec::new(), Some(clock.now)),
    };
    NodeState {
        name: object.name().to_string(),
        labels,
        allocatable: cluster::allocatable(object, diagnostics),
        taints: cluster::taints(object, diagnostics),
        unschedulable,
        // A cordon is an operator's act, not part of a node's manifest.
        cordoned: unschedulable,
        draining: false,
        removing: false,
        ready: is_ready,
        not_ready_since,
        conditions,
        source: NodeSource::Imported,
    }
}

pub(super) fn replica(
    pod: &Object,
    workload: &ObjectRef,
    revision: u64,
    hash: String,
    clock: &Clock,
) -> Replica {
    let node = pod.str(&["spec", "nodeName"]).map(str::to_string);
    let ready = condition(pod, ConditionType::Ready.as_str());
    let is_ready = node.is_some()
        && ready.is_some_and(|[status, ..]| condition_status(status) == ConditionStatus::True);
    let scheduled = condition(pod, ConditionType::PodScheduled.as_str());
    let restarts = items(at(pod.root, &["status", "containerStatuses"]))
        .iter()
        .filter_map(|s| match s.get("restartCount").map(|n| &n.value) {
            Some(Value::Int(n)) => u32::try_from(*n).ok(),
            Some(Value::UInt(n)) => u32::try_from(*n).ok(),
            _ => None,
        })
        .sum();
    // A DaemonSet pod is pinned to its node by a matchFields term on metadata.name.
    let target_node = (workload.kind == Kind::DaemonSet).then(|| {
        node.clone().or_else(|| {
            let terms = at(
                pod.root,
                &[
                    "spec",
                    "affinity",
                    "nodeAffinity",
                    "requiredDuringSchedulingIgnoredDuringExecution",
                    "nodeSelectorTerms",
                ],
            );
            items(terms).iter().find_map(|term| {
                items(term.get("matchFields")).iter().find_map(|field| {
                    (field.get("key").and_then(Node::as_str) == Some("metadata.name"))
                        .then(|| items(field.get("values")).first().and_then(Node::as_str))
                        .flatten()
                        .map(str::to_string)
                })
            })
        })
    });
    let created_at = clock
        .at(pod.str(&["metadata", "creationTimestamp"]))
        .unwrap_or(0);
    Replica {
        name: pod.name().into(),
        workload: workload.clone(),
        revision,
        hash: hash.into(),
        target_node: target_node.flatten(),
        // orch starts a replica when it binds it; a pod still creating its containers is not ready yet.
        phase: if node.is_some() {
            Phase::Running
        } else {
            Phase::Pending
        },
        ready: is_ready,
        created_at,
        started_at: node.as_ref().map(|_| {
            clock
                .at(pod.str(&["status", "startTime"]))
                .unwrap_or(created_at)
        }),
        ready_at: is_ready.then(|| clock.at(ready.map(|r| r[3])).unwrap_or(created_at)),
        restarts,
        unmanaged: None,
        reason: match scheduled {
            Some([status, _, message, _])
                if node.is_none()
                    && condition_status(status) == ConditionStatus::False
                    && !message.is_empty() =>
            {
                Some(message.to_string())
            }
            _ => None,
        },
        finished_at: None,
        node: node.map(Into::into),
    }
}

/// A Job's pod that ran to its end: Succeeded or Failed, holding nothing,
/// finished when its last container did.
pub(super) fn finish(replica: &mut Replica, pod: &Object, clock: &Clock) {
    replica.phase = match pod.str(&["status", "phase"]) {
        Some("Succeeded") => Phase::Succeeded,
        _ => Phase::Failed,
    };
    replica.ready = false;
    replica.ready_at = None;
    let finished_at = items(at(pod.root, &["status", "containerStatuses"]))
        .iter()
        .filter_map(|s| {
            let node = s.get("state")?.get("terminated")?.get("finishedAt")?;
            clock.at(node.as_str())
        })
        .max();
    replica.finished_at = Some(finished_at.unwrap_or(clock.now));
    if replica.phase == Phase::Failed {
        replica.reason = Some("Error".into());
    }
}

/// An imported pod that no simulated workload owns: a replica of the pod
/// itself, with its owner and the scheduling part of its spec kept.
pub(super) fn unmanaged(pod: &Object, owner: Option<String>, clock: &Clock) -> Replica {
    let template = super::spec::scheduling_template(pod);
    let hash = crate::model::hash::template_hash(&template);
    let id = ObjectRef::new(Kind::Pod, pod.namespace(), pod.name());
    let mut replica = replica(pod, &id, 0, hash, clock);
    replica.unmanaged = Some(Box::new(Unmanaged {
        owner,
        template: template.into(),
    }));
    replica
}
