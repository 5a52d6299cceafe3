//! The reasons of the events orch records, as Kubernetes' components name
//! them (SPEC §7): the closed set the state's event ring holds.

use super::words::words;

words! {
    /// An event's `reason`.
    pub enum EventReason {
        // The scheduler.
        Scheduled => "Scheduled",
        FailedScheduling => "FailedScheduling",
        // The ReplicaSet and DaemonSet controllers, and the kubelet.
        SuccessfulCreate => "SuccessfulCreate",
        Ready => "Ready",
        BackOff => "BackOff",
        /// The kubelet refused a pod bound to its node (`spec.nodeName`).
        OutOfCpu => "OutOfcpu",
        OutOfMemory => "OutOfmemory",
        OutOfEphemeralStorage => "OutOfephemeral-storage",
        OutOfPods => "OutOfpods",
        NodeAffinity => "NodeAffinity",
        TaintToleration => "TaintToleration",
        Killing => "Killing",
        /// By the taint eviction controller, or a drain.
        Evicted => "Evicted",
        /// orch's own: a replica edited into a place it cannot be.
        DriftCorrected => "DriftCorrected",
        /// By the scheduler's DefaultPreemption, on the victim.
        Preempted => "Preempted",
        // The Deployment controller.
        ScalingReplicaSet => "ScalingReplicaSet",
        RevisionRecorded => "RevisionRecorded",
        RolloutProgressing => "RolloutProgressing",
        RolloutComplete => "RolloutComplete",
        ProgressDeadlineExceeded => "ProgressDeadlineExceeded",
        RolloutPaused => "RolloutPaused",
        RolloutResumed => "RolloutResumed",
        /// A workload no longer declared.
        Deleted => "Deleted",
        // Nodes.
        NodeAdded => "NodeAdded",
        NodeUpdated => "NodeUpdated",
        RemovingNode => "RemovingNode",
        RegisteredNode => "RegisteredNode",
        NodeReady => "NodeReady",
        NodeNotReady => "NodeNotReady",
        NodeSchedulable => "NodeSchedulable",
        NodeNotSchedulable => "NodeNotSchedulable",
        /// A class's provisioner made a volume (the external provisioner's reason).
        ProvisioningSucceeded => "ProvisioningSucceeded",
        /// A claim was made, bound or deleted (the PV controller's and the
        /// StatefulSet controller's `SuccessfulCreate`, kept apart here).
        ClaimUpdated => "ClaimUpdated",
        // The Job controller (and the kubelet ending a Job's pod).
        Completed => "Completed",
        Failed => "Failed",
        BackoffLimitExceeded => "BackoffLimitExceeded",
        DeadlineExceeded => "DeadlineExceeded",
        FailedIndexes => "FailedIndexes",
        MaxFailedIndexesExceeded => "MaxFailedIndexesExceeded",
        SuccessfulDelete => "SuccessfulDelete",
        // The CronJob controller.
        MissSchedule => "MissSchedule",
        JobAlreadyActive => "JobAlreadyActive",
        TooManyMissedTimes => "TooManyMissedTimes",
        // cluster-autoscaler.
        TriggeredScaleUp => "TriggeredScaleUp",
        NotTriggerScaleUp => "NotTriggerScaleUp",
        ScaleDown => "ScaleDown",
        // The HorizontalPodAutoscaler controller.
        SuccessfulRescale => "SuccessfulRescale",
        FailedGetResourceMetric => "FailedGetResourceMetric",
        FailedComputeMetricsReplicas => "FailedComputeMetricsReplicas",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each reason serialises to the string orch wrote before reasons were
    /// typed, and reads back to itself.
    #[test]
    fn reasons_round_trip_to_their_words() {
        let words = [
            "Scheduled",
            "FailedScheduling",
            "SuccessfulCreate",
            "Ready",
            "BackOff",
            "OutOfcpu",
            "OutOfmemory",
            "OutOfephemeral-storage",
            "OutOfpods",
            "NodeAffinity",
            "TaintToleration",
            "Killing",
            "Evicted",
            "DriftCorrected",
            "Preempted",
            "ScalingReplicaSet",
            "RevisionRecorded",
            "RolloutProgressing",
            "RolloutComplete",
            "ProgressDeadlineExceeded",
            "RolloutPaused",
            "RolloutResumed",
            "Deleted",
            "NodeAdded",
            "NodeUpdated",
            "RemovingNode",
            "RegisteredNode",
            "NodeReady",
            "NodeNotReady",
            "NodeSchedulable",
            "NodeNotSchedulable",
            "ProvisioningSucceeded",
            "ClaimUpdated",
            "Completed",
            "Failed",
            "BackoffLimitExceeded",
            "DeadlineExceeded",
            "FailedIndexes",
            "MaxFailedIndexesExceeded",
            "SuccessfulDelete",
            "MissSchedule",
            "JobAlreadyActive",
            "TooManyMissedTimes",
            "TriggeredScaleUp",
            "NotTriggerScaleUp",
            "ScaleDown",
            "SuccessfulRescale",
            "FailedGetResourceMetric",
            "FailedComputeMetricsReplicas",
        ];
        assert_eq!(EventReason::ALL.len(), words.len());
        for (&reason, text) in EventReason::ALL.iter().zip(words) {
            assert_eq!(reason.to_string(), text);
            assert_eq!(text.parse::<EventReason>(), Ok(reason));
            let json = serde_json::to_string(&reason).unwrap();
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<EventReason>(&json).unwrap(), reason);
            let yaml = serde_saphyr::to_string(&reason).unwrap();
            assert_eq!(yaml, serde_saphyr::to_string(&text).unwrap());
            assert_eq!(
                serde_saphyr::from_str::<EventReason>(&yaml).unwrap(),
                reason
            );
        }
        assert!(serde_json::from_str::<EventReason>("\"Exploded\"").is_err());
    }
}
