//! The words of a condition (`status.conditions[]` of a node, a workload or
//! a pod): its status, type and reason, as Kubernetes spells them.

use super::words::words;
use std::fmt;

words! {
    /// `True`, `False` or `Unknown`, as every Kubernetes condition.
    pub enum ConditionStatus {
        True => "True",
        False => "False",
        Unknown => "Unknown",
    }
}

impl From<bool> for ConditionStatus {
    fn from(value: bool) -> Self {
        if value {
            ConditionStatus::True
        } else {
            ConditionStatus::False
        }
    }
}

words! {
    /// A condition's `type`.
    pub enum ConditionType {
        /// A node's (the kubelet posts it) or a pod's.
        Ready => "Ready",
        /// A Deployment's: minimum availability.
        Available => "Available",
        /// A Deployment's: the rollout moves (or has timed out).
        Progressing => "Progressing",
        /// A pod's, as `kubectl describe pod` lists them.
        Initialized => "Initialized",
        ContainersReady => "ContainersReady",
        PodScheduled => "PodScheduled",
        /// A Job's terminal conditions, and its suspension.
        Complete => "Complete",
        Failed => "Failed",
        Suspended => "Suspended",
    }
}

/// A condition's `reason`: the Deployment controller's and the node
/// lifecycle's as orch writes them, or any reason a live cluster gave
/// (`orch import` keeps a node's Ready condition as read).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ConditionReason {
    MinimumReplicasAvailable,
    MinimumReplicasUnavailable,
    /// Progressing=True: the rollout has finished.
    NewReplicaSetAvailable,
    /// Progressing=True: the rollout moved.
    ReplicaSetUpdated,
    /// Progressing=False: no progress for `progressDeadlineSeconds`.
    ProgressDeadlineExceeded,
    /// Progressing=Unknown.
    DeploymentPaused,
    KubeletReady,
    NodeStatusUnknown,
    /// Read from a live cluster, kept as written.
    Other(String),
}

impl ConditionReason {
    const KNOWN: [ConditionReason; 8] = [
        ConditionReason::MinimumReplicasAvailable,
        ConditionReason::MinimumReplicasUnavailable,
        ConditionReason::NewReplicaSetAvailable,
        ConditionReason::ReplicaSetUpdated,
        ConditionReason::ProgressDeadlineExceeded,
        ConditionReason::DeploymentPaused,
        ConditionReason::KubeletReady,
        ConditionReason::NodeStatusUnknown,
    ];

    pub fn as_str(&self) -> &str {
        match self {
            ConditionReason::MinimumReplicasAvailable => "MinimumReplicasAvailable",
            ConditionReason::MinimumReplicasUnavailable => "MinimumReplicasUnavailable",
            ConditionReason::NewReplicaSetAvailable => "NewReplicaSetAvailable",
            ConditionReason::ReplicaSetUpdated => "ReplicaSetUpdated",
            ConditionReason::ProgressDeadlineExceeded => "ProgressDeadlineExceeded",
            ConditionReason::DeploymentPaused => "DeploymentPaused",
            ConditionReason::KubeletReady => "KubeletReady",
            ConditionReason::NodeStatusUnknown => "NodeStatusUnknown",
            ConditionReason::Other(text) => text,
        }
    }
}

impl From<&str> for ConditionReason {
    /// A known reason's variant; anything else is `Other`.
    fn from(text: &str) -> Self {
        ConditionReason::KNOWN
            .into_iter()
            .find(|known| known.as_str() == text)
            .unwrap_or_else(|| ConditionReason::Other(text.to_string()))
    }
}

impl fmt::Display for ConditionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for ConditionReason {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for ConditionReason {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
        Ok(ConditionReason::from(&*text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each word serialises to the string orch wrote before it was typed,
    /// and reads back to itself, in JSON and in YAML.
    fn round_trip<T>(value: &T, text: &str)
    where
        T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + fmt::Debug,
    {
        let json = serde_json::to_string(value).unwrap();
        assert_eq!(json, serde_json::to_string(text).unwrap());
        assert_eq!(&serde_json::from_str::<T>(&json).unwrap(), value);
        let yaml = serde_saphyr::to_string(value).unwrap();
        assert_eq!(yaml, serde_saphyr::to_string(&text).unwrap());
        assert_eq!(&serde_saphyr::from_str::<T>(&yaml).unwrap(), value);
    }

    #[test]
    fn statuses_are_kubernetes_words() {
        let words = [
            (ConditionStatus::True, "True"),
            (ConditionStatus::False, "False"),
            (ConditionStatus::Unknown, "Unknown"),
        ];
        assert_eq!(ConditionStatus::ALL.len(), words.len());
        for (status, text) in words {
            assert_eq!(status.to_string(), text);
            assert_eq!(text.parse::<ConditionStatus>(), Ok(status));
            round_trip(&status, text);
        }
        assert_eq!(ConditionStatus::from(true), ConditionStatus::True);
        assert_eq!(ConditionStatus::from(false), ConditionStatus::False);
        assert!("true".parse::<ConditionStatus>().is_err());
        assert!(serde_json::from_str::<ConditionStatus>("\"Maybe\"").is_err());
    }

    #[test]
    fn types_are_kubernetes_words() {
        let words = [
            (ConditionType::Ready, "Ready"),
            (ConditionType::Available, "Available"),
            (ConditionType::Progressing, "Progressing"),
            (ConditionType::Initialized, "Initialized"),
            (ConditionType::ContainersReady, "ContainersReady"),
            (ConditionType::PodScheduled, "PodScheduled"),
            (ConditionType::Complete, "Complete"),
            (ConditionType::Failed, "Failed"),
            (ConditionType::Suspended, "Suspended"),
        ];
        assert_eq!(ConditionType::ALL.len(), words.len());
        for (kind, text) in words {
            assert_eq!(kind.to_string(), text);
            round_trip(&kind, text);
        }
    }

    #[test]
    fn reasons_are_kubernetes_words_and_others_are_kept() {
        let words = [
            "MinimumReplicasAvailable",
            "MinimumReplicasUnavailable",
            "NewReplicaSetAvailable",
            "ReplicaSetUpdated",
            "ProgressDeadlineExceeded",
            "DeploymentPaused",
            "KubeletReady",
            "NodeStatusUnknown",
        ];
        for (known, text) in ConditionReason::KNOWN.iter().zip(words) {
            assert_eq!(known.as_str(), text);
            assert_eq!(&ConditionReason::from(text), known);
            round_trip(known, text);
        }
        let imported = ConditionReason::from("KubeletNotReady");
        assert_eq!(
            imported,
            ConditionReason::Other("KubeletNotReady".to_string())
        );
        round_trip(&imported, "KubeletNotReady");
    }
}
