//! The scheduling-relevant part of a pod template: taints and tolerations,
//! affinity, topology spread constraints, and the computed resource requests.

use super::labels::{LabelSelector, Labels, NodeSelector, NodeSelectorTerm};
use super::resources::Resources;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TaintEffect {
    NoSchedule,
    PreferNoSchedule,
    NoExecute,
}

impl fmt::Display for TaintEffect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TaintEffect::NoSchedule => "NoSchedule",
            TaintEffect::PreferNoSchedule => "PreferNoSchedule",
            TaintEffect::NoExecute => "NoExecute",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Taint {
    pub key: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub value: String,
    pub effect: TaintEffect,
    /// Simulated second at which the taint was added (NoExecute eviction timing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_added: Option<u64>,
}

impl Taint {
    pub fn new(key: &str, value: &str, effect: TaintEffect) -> Taint {
        Taint {
            key: key.into(),
            value: value.into(),
            effect,
            time_added: None,
        }
    }
}

impl fmt::Display for Taint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.value.is_empty() {
            write!(f, "{}:{}", self.key, self.effect)
        } else {
            write!(f, "{}={}:{}", self.key, self.value, self.effect)
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TolerationOperator {
    #[default]
    #[serde(rename = "Equal", alias = "")]
    Equal,
    Exists,
}

/// A toleration's effect; empty matches every effect.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TolerationEffect {
    #[default]
    #[serde(rename = "")]
    Any,
    NoSchedule,
    PreferNoSchedule,
    NoExecute,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Toleration {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub key: String,
    #[serde(default)]
    pub operator: TolerationOperator,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub value: String,
    #[serde(default)]
    pub effect: TolerationEffect,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toleration_seconds: Option<i64>,
}

impl Toleration {
    /// `Toleration.ToleratesTaint` from component-helpers: empty effect matches
    /// all effects, empty key with Exists matches every key, Equal compares values.
    pub fn tolerates(&self, taint: &Taint) -> bool {
        let effect_matches = match self.effect {
            TolerationEffect::Any => true,
            TolerationEffect::NoSchedule => taint.effect == TaintEffect::NoSchedule,
            TolerationEffect::PreferNoSchedule => taint.effect == TaintEffect::PreferNoSchedule,
            TolerationEffect::NoExecute => taint.effect == TaintEffect::NoExecute,
        };
        if !effect_matches || (!self.key.is_empty() && self.key != taint.key) {
            return false;
        }
        match self.operator {
            TolerationOperator::Exists => true,
            TolerationOperator::Equal => self.value == taint.value,
        }
    }
}

pub fn tolerates_all(tolerations: &[Toleration], taint: &Taint) -> bool {
    tolerations.iter().any(|t| t.tolerates(taint))
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreferredSchedulingTerm {
    pub weight: i32,
    pub preference: NodeSelectorTerm,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeAffinity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_during_scheduling_ignored_during_execution: Option<NodeSelector>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preferred_during_scheduling_ignored_during_execution: Vec<PreferredSchedulingTerm>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodAffinityTerm {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_selector: Option<LabelSelector>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
    pub topology_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<LabelSelector>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_label_keys: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mismatch_label_keys: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WeightedPodAffinityTerm {
    pub weight: i32,
    pub pod_affinity_term: PodAffinityTerm,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodAffinity {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_during_scheduling_ignored_during_execution: Vec<PodAffinityTerm>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preferred_during_scheduling_ignored_during_execution: Vec<WeightedPodAffinityTerm>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Affinity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_affinity: Option<NodeAffinity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_affinity: Option<PodAffinity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_anti_affinity: Option<PodAffinity>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WhenUnsatisfiable {
    DoNotSchedule,
    ScheduleAnyway,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum InclusionPolicy {
    #[default]
    Honor,
    Ignore,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TopologySpreadConstraint {
    pub max_skew: i32,
    pub topology_key: String,
    pub when_unsatisfiable: WhenUnsatisfiable,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_selector: Option<LabelSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_domains: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_affinity_policy: Option<InclusionPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_taints_policy: Option<InclusionPolicy>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_label_keys: Vec<String>,
}

/// `orch.dev/simulate`: a bad version, for rollout and rollback scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Simulate {
    /// Starts but never passes its readiness check.
    NeverReady,
    /// Crashes this many seconds after each start, then restarts with back-off.
    CrashAfter(u64),
    /// A Job's pod: fails (phase Failed) this many seconds after it starts.
    FailAfter(u64),
}

/// Everything the scheduler and the loop need to know about one pod template,
/// derived once per revision from the manifest (or from the stored template).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PodSpec {
    pub namespace: String,
    pub labels: Labels,
    pub node_name: Option<String>,
    pub node_selector: Labels,
    pub affinity: Affinity,
    pub tolerations: Vec<Toleration>,
    pub topology_spread_constraints: Vec<TopologySpreadConstraint>,
    /// Effective requests: max(sum of containers, each init container) + overhead;
    /// a container's missing request defaults to its limit.
    pub requests: Resources,
    /// Requests with Kubernetes' scoring defaults (100m cpu, 200Mi memory) for
    /// containers that request nothing.
    pub non_zero_requests: Resources,
    /// Simulated seconds from start to ready.
    pub ready_after: u64,
    /// The selector of the replica's owner as Kubernetes would build it (a
    /// Deployment's ReplicaSet: its selector plus `pod-template-hash`); the
    /// system default topology spread applies to replicas that have one.
    pub owner_selector: Option<LabelSelector>,
    pub simulate: Option<Simulate>,
    /// `spec.priorityClassName` as declared (empty: the global default).
    pub priority_class_name: String,
    /// `spec.priority` as the Priority admission plugin resolves it.
    pub priority: i32,
    /// `spec.preemptionPolicy`, likewise.
    pub preemption_policy: super::priority::PreemptionPolicy,
    /// The claims its `volumes` name (`persistentVolumeClaim.claimName`).
    pub claims: Vec<String>,
    /// What the scheduler knows of each claim of one replica (empty on a
    /// template: filled per replica where it is scheduled).
    pub volumes: Vec<crate::model::storage::VolumeConstraint>,
    /// A Job's pod: simulated seconds from start to success (`orch.dev/run-for`, default 1).
    pub run_for: u64,
    /// `spec.schedulingGates`' names: while any is left, the pod is not scheduled.
    pub scheduling_gates: Vec<String>,
}

impl PodSpec {
    pub fn required_node_affinity(&self) -> Option<&NodeSelector> {
        self.affinity.node_affinity.as_ref().and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_ref()
        })
    }

    /// The nodeSelector alone.
    pub fn selector_matches(&self, labels: &Labels) -> bool {
        self.node_selector
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
    }

    /// nodeSelector AND required node affinity (`GetRequiredNodeAffinity`).
    pub fn matches_node_selector(&self, node_name: &str, labels: &Labels) -> bool {
        self.selector_matches(labels)
            && self
                .required_node_affinity()
                .is_none_or(|s| s.matches(node_name, labels))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toleration(
        key: &str,
        op: TolerationOperator,
        value: &str,
        effect: TolerationEffect,
    ) -> Toleration {
        Toleration {
            key: key.into(),
            operator: op,
            value: value.into(),
            effect,
            toleration_seconds: None,
        }
    }

    #[test]
    fn empty_effect_tolerates_every_effect() {
        let t = toleration(
            "gpu",
            TolerationOperator::Equal,
            "true",
            TolerationEffect::Any,
        );
        assert!(t.tolerates(&Taint::new("gpu", "true", TaintEffect::NoSchedule)));
        assert!(t.tolerates(&Taint::new("gpu", "true", TaintEffect::NoExecute)));
        assert!(!t.tolerates(&Taint::new("gpu", "false", TaintEffect::NoSchedule)));
    }

    #[test]
    fn empty_key_with_exists_tolerates_everything() {
        let t = toleration("", TolerationOperator::Exists, "", TolerationEffect::Any);
        assert!(t.tolerates(&Taint::new("anything", "x", TaintEffect::NoExecute)));
    }

    #[test]
    fn effects_must_match_exactly_when_set() {
        let t = toleration(
            "gpu",
            TolerationOperator::Exists,
            "",
            TolerationEffect::NoSchedule,
        );
        assert!(t.tolerates(&Taint::new("gpu", "true", TaintEffect::NoSchedule)));
        assert!(!t.tolerates(&Taint::new("gpu", "true", TaintEffect::NoExecute)));
    }

    #[test]
    fn equal_with_empty_value_matches_only_empty_taint_value() {
        let t = toleration(
            "dedicated",
            TolerationOperator::Equal,
            "",
            TolerationEffect::Any,
        );
        assert!(t.tolerates(&Taint::new("dedicated", "", TaintEffect::NoSchedule)));
        assert!(!t.tolerates(&Taint::new("dedicated", "infra", TaintEffect::NoSchedule)));
    }
}
