//! The kubelet's admission of a pod bound to its node by the user
//! (`spec.nodeName`): such a pod bypasses the scheduler, and the kubelet's
//! `GeneralPredicates` (pkg/kubelet/lifecycle/predicate.go,
//! `scheduler.AdmissionCheck`) decide whether it runs. A pod that does not
//! fit is rejected: phase Failed, with the first failure as its reason
//! (`OutOfcpu`, `OutOfmemory`, `NodeAffinity`, `TaintToleration`…).

use super::Action;
use crate::model::pod::{PodSpec, TaintEffect, tolerates_all};
use crate::model::resources::{CPU, EPHEMERAL_STORAGE, MEMORY, PODS};
use crate::model::state::Replica;
use crate::scheduler::snapshot::{NodeInfo, Snapshot};

/// Why the kubelet refused a pod (its `PodAdmitResult`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// `InsufficientResourceError`.
    OutOf {
        resource: String,
        requested: i64,
        used: i64,
        capacity: i64,
    },
    /// `PredicateFailureError` of the NodeAffinity plugin (node selector or
    /// required node affinity).
    NodeAffinity,
    /// An untolerated NoExecute taint (the kubelet looks at no other effect).
    TaintToleration,
}

impl Rejection {
    /// The pod's `status.reason`.
    pub fn reason(&self) -> String {
        match self {
            Rejection::OutOf { resource, .. } => format!("OutOf{resource}"),
            Rejection::NodeAffinity => "NodeAffinity".into(),
            Rejection::TaintToleration => "TaintToleration".into(),
        }
    }

    /// The pod's `status.message`: `Pod was rejected: ` and the failure's `Error()`.
    pub fn message(&self) -> String {
        let detail = match self {
            Rejection::OutOf {
                resource,
                requested,
                used,
                capacity,
            } => format!(
                "Node didn't have enough resource: {resource}, requested: {requested}, used: {used}, capacity: {capacity}"
            ),
            Rejection::NodeAffinity => {
                "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector"
                    .into()
            }
            Rejection::TaintToleration => {
                "Predicate TaintToleration failed: node(s) had taints that the pod didn't tolerate"
                    .into()
            }
        };
        format!("Pod was rejected: {detail}")
    }
}

/// Whether the kubelet refused the replica (phase Failed with a rejection's
/// reason). Kubernetes' controllers replace such a pod at once, and the
/// kubelet refuses the replacement too, without end; orch keeps the refused
/// replica in its place instead, so the workload stops, blocked, on it.
pub fn is_rejected(replica: &Replica) -> bool {
    replica.phase == crate::model::state::Phase::Failed
        && replica.node.is_some()
        && replica.reason.as_deref().is_some_and(is_rejection)
}

/// Whether a failed replica's reason is one of a kubelet's rejections.
pub fn is_rejection(reason: &str) -> bool {
    reason.starts_with("OutOf") || reason == "NodeAffinity" || reason == "TaintToleration"
}

/// `generalFilter`: the first failure, in `AdmissionCheck`'s order —
/// resources (pod count, cpu, memory, ephemeral storage, extended), node
/// affinity, then NoExecute taints. NoSchedule taints and a cordoned node
/// do not stop a pod the user bound.
pub fn admit(pod: &PodSpec, node: &NodeInfo) -> Result<(), Rejection> {
    if node.pods + 1 > node.allocatable.pods {
        return Err(Rejection::OutOf {
            resource: PODS.into(),
            requested: 1,
            used: node.pods,
            capacity: node.allocatable.pods,
        });
    }
    let (requests, capacity, used) = (&pod.requests, &node.allocatable.resources, &node.requested);
    let fixed = [CPU, MEMORY, EPHEMERAL_STORAGE].map(|name| name.to_string());
    let names = fixed.into_iter().chain(requests.scalar.keys().cloned());
    for name in names {
        let (wanted, room, taken) = (requests.get(&name), capacity.get(&name), used.get(&name));
        if wanted > 0 && wanted > room - taken {
            return Err(Rejection::OutOf {
                resource: name,
                requested: wanted,
                used: taken,
                capacity: room,
            });
        }
    }
    if !pod.matches_node_selector(&node.name, &node.labels) {
        return Err(Rejection::NodeAffinity);
    }
    let untolerated = node
        .taints
        .iter()
        .any(|t| t.effect == TaintEffect::NoExecute && !tolerates_all(&pod.tolerations, t));
    if untolerated {
        return Err(Rejection::TaintToleration);
    }
    Ok(())
}

/// Replicas of one revision that name their node, each admitted or
/// rejected by that node's kubelet in turn; true when any was admitted (the
/// snapshot changed). A node that does not exist, or is not ready, runs no
/// kubelet to decide: the replica stays Pending.
pub(super) fn admit_all(
    pass: &mut super::Pass,
    snapshot: &mut Snapshot,
    pod: &PodSpec,
    run: &[&Replica],
) -> bool {
    let Some(name) = &pod.node_name else {
        return false;
    };
    let Some(index) = snapshot.index_of(name) else {
        return false;
    };
    if !snapshot.nodes[index].ready {
        return false;
    }
    let group = snapshot.group_of(pod);
    let mut admitted = false;
    for replica in run {
        match admit(pod, &snapshot.nodes[index]) {
            Ok(()) => {
                snapshot.assume_in(index, pod, group);
                admitted = true;
                pass.plan.actions.push(Action::Admit {
                    replica: replica.name.clone(),
                    workload: replica.workload.clone(),
                    node: name.clone(),
                });
                pass.plan.wake(pass.now + pod.ready_after);
            }
            Err(rejection) => pass.plan.actions.push(Action::Reject {
                replica: replica.name.clone(),
                workload: replica.workload.clone(),
                node: name.clone(),
                rejection: Box::new(rejection),
            }),
        }
    }
    admitted
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::labels::Labels;
    use crate::model::pod::{Taint, Toleration};
    use crate::model::resources::{Allocatable, Resources};
    use crate::model::state::{NodeSource, NodeState};

    fn node(cpu: i64, pods: i64, taints: Vec<Taint>) -> NodeInfo {
        let mut allocatable = Allocatable::default();
        allocatable.resources.milli_cpu = cpu;
        allocatable.resources.memory = 8 << 30;
        allocatable.pods = pods;
        NodeInfo::new(
            0,
            &NodeState {
                name: "n1".into(),
                labels: Labels::from([("disk".to_string(), "ssd".to_string())]),
                allocatable,
                taints,
                unschedulable: true,
                cordoned: true,
                draining: false,
                removing: false,
                ready: true,
                not_ready_since: None,
                conditions: Vec::new(),
                source: NodeSource::Manifest,
            },
        )
    }

    fn pod(cpu: i64) -> PodSpec {
        PodSpec {
            requests: Resources {
                milli_cpu: cpu,
                ..Resources::default()
            },
            node_name: Some("n1".into()),
            ..PodSpec::default()
        }
    }

    /// After `TestGeneralPredicates` (kubelet/lifecycle/predicate_test.go):
    /// no resources requested always fits; insufficient cpu is `OutOfcpu`
    /// with requested/used/capacity; a node selector that does not match is
    /// `NodeAffinity`; a cordoned node (unschedulable) admits.
    #[test]
    fn general_predicates() {
        let free = node(4000, 110, Vec::new());
        assert_eq!(admit(&pod(0), &free), Ok(()));
        assert_eq!(admit(&pod(4000), &free), Ok(()));
        let mut busy = node(4000, 110, Vec::new());
        busy.requested.milli_cpu = 3500;
        busy.pods = 3;
        let rejected = admit(&pod(1000), &busy).unwrap_err();
        assert_eq!(rejected.reason(), "OutOfcpu");
        assert_eq!(
            rejected.message(),
            "Pod was rejected: Node didn't have enough resource: cpu, requested: 1000, used: 3500, capacity: 4000"
        );
        let full = node(4000, 3, Vec::new());
        let mut full = full;
        full.pods = 3;
        assert_eq!(admit(&pod(0), &full).unwrap_err().reason(), "OutOfpods");
        let mut selecting = pod(0);
        selecting.node_selector = Labels::from([("disk".to_string(), "hdd".to_string())]);
        assert_eq!(admit(&selecting, &free), Err(Rejection::NodeAffinity));
    }

    /// `TestRejectPodAdmissionBasedOnTaints`-like cases: only NoExecute
    /// taints reject, unless tolerated.
    #[test]
    fn only_untolerated_no_execute_taints_reject() {
        let no_schedule = node(
            4000,
            110,
            vec![Taint::new("gpu", "true", TaintEffect::NoSchedule)],
        );
        assert_eq!(admit(&pod(0), &no_schedule), Ok(()));
        let no_execute = node(
            4000,
            110,
            vec![Taint::new("maintenance", "", TaintEffect::NoExecute)],
        );
        let rejected = admit(&pod(0), &no_execute).unwrap_err();
        assert_eq!(rejected, Rejection::TaintToleration);
        let mut tolerating = pod(0);
        tolerating.tolerations = vec![Toleration {
            key: "maintenance".into(),
            operator: Default::default(),
            value: String::new(),
            effect: Default::default(),
            toleration_seconds: None,
        }];
        assert_eq!(admit(&tolerating, &no_execute), Ok(()));
    }
}
