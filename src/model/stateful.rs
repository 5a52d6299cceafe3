//! A StatefulSet's own fields (apps/v1), typed and defaulted as the API
//! server defaults them, and the identities its replicas take:
//! `<set>-<ordinal>` (`getPodName`, `getParentNameAndOrdinal`).

use super::state::{NodeState, Replica};
use super::workload::Kind;

/// `spec.podManagementPolicy`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PodManagementPolicy {
    /// Create in ordinal order, each once its predecessors are Running and
    /// Ready; remove from the highest ordinal, one at a time.
    #[default]
    OrderedReady,
    /// Create and remove every replica at once.
    Parallel,
}

impl PodManagementPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            PodManagementPolicy::OrderedReady => "OrderedReady",
            PodManagementPolicy::Parallel => "Parallel",
        }
    }
}

/// The fields a StatefulSet adds to a workload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatefulSpec {
    pub pod_management_policy: PodManagementPolicy,
    /// `updateStrategy.rollingUpdate.partition` (0 by default; OnDelete: 0).
    pub partition: i32,
    /// `ordinals.start` (0 by default).
    pub ordinals_start: i32,
    /// `serviceName`, kept for `describe`.
    pub service_name: Option<String>,
    /// `volumeClaimTemplates`: one claim per template per replica.
    pub claim_templates: Vec<super::storage::ClaimTemplate>,
    /// `persistentVolumeClaimRetentionPolicy`.
    pub retention: super::storage::RetentionPolicy,
}

/// `getPodName`: the replica of `set` at `ordinal`.
pub fn replica_name(set: &str, ordinal: i32) -> String {
    format!("{set}-{ordinal}")
}

/// `getParentNameAndOrdinal` for a replica of `set`: its ordinal, None when
/// the name is not `<set>-<non-negative integer>`.
pub fn ordinal_of(set: &str, replica: &str) -> Option<i32> {
    let digits = replica.strip_prefix(set)?.strip_prefix('-')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The taint that tells Kubernetes a not-ready node is really down: its
/// pods are force-deleted (non-graceful node shutdown).
pub const OUT_OF_SERVICE: &str = "node.kubernetes.io/out-of-service";

/// Whether a deleted replica stays Terminating: a StatefulSet replica on a
/// node that is not ready (no kubelet confirms the deletion, and the
/// StatefulSet controller never runs two replicas of one identity) until
/// the node comes back, is removed, or is tainted out-of-service.
pub fn stays_terminating(replica: &Replica, node: Option<&NodeState>) -> bool {
    replica.workload.kind == Kind::StatefulSet
        && node.is_some_and(|n| !n.ready && !n.taints.iter().any(|t| t.key == OUT_OF_SERVICE))
}

/// Why a replica stays Terminating (`explain`, `describe`, blocked reasons).
pub fn terminating_message(replica: &Replica) -> String {
    let node = replica.node.as_deref().unwrap_or("?");
    format!(
        "{} is Terminating on node {node}, which is not ready: a StatefulSet makes no replacement of the same identity until the node is removed (`orch node remove {node}`), recovers, or is tainted {OUT_OF_SERVICE}:NoExecute",
        replica.name
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// After `TestGetParentNameAndOrdinal` / `TestIdentityMatches`
    /// (pkg/controller/statefulset/stateful_set_utils_test.go).
    #[test]
    fn names_carry_the_ordinal_and_only_the_set_own_names_parse() {
        assert_eq!(replica_name("web", 0), "web-0");
        assert_eq!(ordinal_of("web", "web-0"), Some(0));
        assert_eq!(ordinal_of("web", "web-17"), Some(17));
        assert_eq!(ordinal_of("web", "web-"), None);
        assert_eq!(ordinal_of("web", "web-x"), None);
        assert_eq!(ordinal_of("web", "web-1-2"), None);
        assert_eq!(ordinal_of("web", "webb-1"), None);
        assert_eq!(ordinal_of("web", "web--1"), None);
        assert_eq!(ordinal_of("a-b", "a-b-3"), Some(3));
    }
}
