//! Why a replica fits nowhere: every rejected node counted by reason, and the
//! message kube-scheduler prints for it.

use super::snapshot::NodeInfo;
use crate::model::pod::PodSpec;
use crate::model::resources::format_amount;
use std::collections::BTreeMap;
use std::fmt;

/// One reason a filter rejects a node, as data (counted, then rendered).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    Unschedulable,
    NodeName,
    UntoleratedTaint {
        key: String,
        value: String,
    },
    NodeAffinity,
    TooManyPods,
    Insufficient(String),
    SpreadMissingLabel,
    SpreadConstraints,
    AffinityRulesNotMatch,
    AntiAffinityRulesNotMatch,
    ExistingAntiAffinityRulesNotMatch,
    /// The node is not in the PreFilter's result (NodeAffinity's
    /// `metadata.name` terms): it was not filtered at all.
    NotInPreFilterResult,
    /// NodeAffinity PreFilter: the `metadata.name` terms name no node.
    NodeAffinityTermsConflict,
    /// DefaultPreemption: no lower-priority pod on the node.
    NoPreemptionVictims,
    /// DefaultPreemption: the node's failure is not resolved by removing pods.
    PreemptionNotHelpful,
    /// VolumeBinding: a bound volume's node affinity excludes the node.
    VolumeNodeAffinityConflict,
    /// VolumeBinding: no volume to bind (nor provision) reachable from the node.
    VolumeBindConflict,
    /// VolumeZone: a bound volume's zone is not the node's.
    NoVolumeZone,
    /// VolumeBinding PreFilter: a claim of an Immediate class is unbound.
    UnboundImmediateClaims,
    /// VolumeBinding PreFilter: the claim does not exist.
    ClaimNotFound(String),
    /// VolumeRestrictions PreFilter: a ReadWriteOncePod claim is in use.
    ReadWriteOncePodConflict,
}

impl Reason {
    /// A PreFilter's verdict: the same for every node, printed once
    /// (`Diagnosis.PreFilterMsg`) instead of counted per node.
    pub fn is_pre_filter(&self) -> bool {
        matches!(
            self,
            Reason::UnboundImmediateClaims
                | Reason::NodeAffinityTermsConflict
                | Reason::ClaimNotFound(_)
                | Reason::ReadWriteOncePodConflict
        )
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Unschedulable => f.write_str("node(s) were unschedulable"),
            Reason::NodeName => f.write_str("node(s) didn't match the requested node name"),
            Reason::UntoleratedTaint { key, value } => {
                write!(f, "node(s) had untolerated taint {{{key}: {value}}}")
            }
            Reason::NodeAffinity => {
                f.write_str("node(s) didn't match Pod's node affinity/selector")
            }
            Reason::TooManyPods => f.write_str("Too many pods"),
            Reason::Insufficient(resource) => write!(f, "Insufficient {resource}"),
            Reason::SpreadMissingLabel => f.write_str(
                "node(s) didn't match pod topology spread constraints (missing required label)",
            ),
            Reason::SpreadConstraints => {
                f.write_str("node(s) didn't match pod topology spread constraints")
            }
            Reason::AffinityRulesNotMatch => f.write_str("node(s) didn't match pod affinity rules"),
            Reason::AntiAffinityRulesNotMatch => {
                f.write_str("node(s) didn't match pod anti-affinity rules")
            }
            Reason::ExistingAntiAffinityRulesNotMatch => {
                f.write_str("node(s) didn't satisfy existing pods anti-affinity rules")
            }
            Reason::NotInPreFilterResult => {
                f.write_str("node(s) didn't satisfy plugin(s) [NodeAffinity]")
            }
            Reason::NodeAffinityTermsConflict => f.write_str("pod affinity terms conflict"),
            Reason::NoPreemptionVictims => {
                f.write_str("No preemption victims found for incoming pod")
            }
            Reason::PreemptionNotHelpful => f.write_str("Preemption is not helpful for scheduling"),
            Reason::VolumeNodeAffinityConflict => {
                f.write_str("node(s) had volume node affinity conflict")
            }
            Reason::VolumeBindConflict => {
                f.write_str("node(s) didn't find available persistent volumes to bind")
            }
            Reason::NoVolumeZone => f.write_str("node(s) had no available volume zone"),
            Reason::UnboundImmediateClaims => {
                f.write_str("pod has unbound immediate PersistentVolumeClaims")
            }
            Reason::ClaimNotFound(name) => {
                write!(f, "persistentvolumeclaim \"{name}\" not found")
            }
            Reason::ReadWriteOncePodConflict => f.write_str(
                "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode",
            ),
        }
    }
}

/// No node passed every filter (`framework.FitError`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FitError {
    pub nodes: usize,
    /// How many nodes each reason rejected.
    pub reasons: BTreeMap<Reason, usize>,
    /// DefaultPreemption's message (`preemption: …`), printed after the
    /// reasons and DynamicResources' PostFilter message, as kube-scheduler
    /// joins its PostFilter plugins' reasons; None before PostFilter ran.
    pub post_filter: Option<String>,
}

impl std::error::Error for FitError {}

impl fmt::Display for FitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.nodes == 0 {
            // `ErrNoNodesAvailable`.
            return f.write_str("no nodes available to schedule pods");
        }
        // A PreFilter rejection is printed alone (`FitError.Error`).
        if let Some(reason) = self.reasons.keys().find(|r| r.is_pre_filter()) {
            write!(f, "0/{} nodes are available: {reason}.", self.nodes)?;
            return self.write_post_filter(f);
        }
        // kube-scheduler sorts the "<count> <reason>" strings as plain strings.
        let mut entries: Vec<String> = self
            .reasons
            .iter()
            .map(|(reason, count)| format!("{count} {reason}"))
            .collect();
        entries.sort();
        write!(
            f,
            "0/{} nodes are available: {}.",
            self.nodes,
            entries.join(", ")
        )?;
        self.write_post_filter(f)
    }
}

/// DynamicResources' PostFilter reason for a pod without resource claims;
/// it runs before DefaultPreemption in the default profile.
pub const NO_CLAIMS_TO_DEALLOCATE: &str = "no new claims to deallocate";

impl FitError {
    /// ` no new claims to deallocate, preemption: …`: the PostFilter
    /// plugins' reasons, joined as `RunPostFilterPlugins` joins them.
    fn write_post_filter(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.post_filter {
            Some(message) => write!(f, " {NO_CLAIMS_TO_DEALLOCATE}, {message}"),
            None => Ok(()),
        }
    }
}

/// What would let a replica onto a node that rejected it for `reason`.
/// One arm per reason, kept as one table beside `Reason`'s messages
/// rather than split (hence its length).
pub fn remedy(reason: &Reason, pod: &PodSpec, node: &NodeInfo) -> String {
    match reason {
        Reason::Unschedulable => format!(
            "{} is cordoned: `orch node uncordon {}`",
            node.name, node.name
        ),
        Reason::NodeName => format!(
            "the replica names node {}",
            pod.node_name.as_deref().unwrap_or("?")
        ),
        Reason::UntoleratedTaint { key, value } => {
            let effect = node
                .taints
                .iter()
                .find(|t| &t.key == key && &t.value == value)
                .map_or("NoSchedule".to_string(), |t| t.effect.to_string());
            let taint = if value.is_empty() {
                key.clone()
            } else {
                format!("{key}={value}")
            };
            format!("add a toleration for {taint}:{effect}")
        }
        Reason::NodeAffinity => {
            let wanted: Vec<String> = pod
                .node_selector
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            if wanted.is_empty() {
                format!("{} does not match the required node affinity", node.name)
            } else {
                format!("{} lacks the labels {}", node.name, wanted.join(","))
            }
        }
        Reason::TooManyPods => format!(
            "{} already runs {} replicas, its limit",
            node.name, node.pods
        ),
        Reason::Insufficient(resource) => {
            let wanted = pod.requests.get(resource);
            let free = node.allocatable.resources.get(resource) - node.requested.get(resource);
            format!(
                "{} lacks {} {resource}",
                node.name,
                format_amount(resource, wanted - free.max(0))
            )
        }
        Reason::SpreadMissingLabel => {
            let keys: Vec<&str> = pod
                .topology_spread_constraints
                .iter()
                .map(|c| c.topology_key.as_str())
                .collect();
            format!("{} has no {} label", node.name, keys.join("/"))
        }
        Reason::SpreadConstraints => format!(
            "one more replica here would exceed maxSkew; add capacity in the emptier {} domains",
            pod.topology_spread_constraints
                .iter()
                .map(|c| c.topology_key.as_str())
                .collect::<Vec<_>>()
                .join("/")
        ),
        Reason::AffinityRulesNotMatch => {
            format!(
                "no replica its pod affinity requires runs in {}'s topology domain",
                node.name
            )
        }
        Reason::AntiAffinityRulesNotMatch => {
            format!(
                "a replica its pod anti-affinity excludes already runs in {}'s topology domain",
                node.name
            )
        }
        Reason::ExistingAntiAffinityRulesNotMatch => {
            format!(
                "a replica on {}'s topology domain has anti-affinity against this one",
                node.name
            )
        }
        Reason::NoPreemptionVictims | Reason::PreemptionNotHelpful => {
            format!(
                "{} holds no replica of lower priority to preempt",
                node.name
            )
        }
        Reason::VolumeNodeAffinityConflict => format!(
            "its volume cannot be reached from {}: the claim is bound to a volume of other nodes (delete the claim to let it bind elsewhere)",
            node.name
        ),
        Reason::VolumeBindConflict => format!(
            "no volume of the claim's class, access modes and size is reachable from {}, and its class provisions none there",
            node.name
        ),
        Reason::NoVolumeZone => format!("{} is not in its volume's zone", node.name),
        Reason::UnboundImmediateClaims => {
            "a claim of an Immediate class is unbound: add a volume that fits it, or a provisioner to its StorageClass".to_string()
        }
        Reason::ClaimNotFound(name) => {
            format!("declare the PersistentVolumeClaim {name}")
        }
        Reason::ReadWriteOncePodConflict => {
            "its ReadWriteOncePod claim is used by another replica".to_string()
        }
        Reason::NotInPreFilterResult => format!(
            "the replica is for another node than {} (its node affinity names it)",
            node.name
        ),
        Reason::NodeAffinityTermsConflict => {
            "the required node affinity's metadata.name terms name no node in common".to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(nodes: usize, reasons: &[(Reason, usize)]) -> String {
        FitError {
            nodes,
            reasons: reasons.iter().cloned().collect(),
            post_filter: None,
        }
        .to_string()
    }

    #[test]
    fn reasons_sort_as_plain_strings() {
        assert_eq!(
            error(
                3,
                &[
                    (Reason::Insufficient("cpu".into()), 2),
                    (Reason::Unschedulable, 1)
                ]
            ),
            "0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu."
        );
        // "10 …" sorts before "2 …", upper case before lower case.
        assert_eq!(
            error(
                12,
                &[
                    (Reason::Insufficient("cpu".into()), 10),
                    (Reason::NodeAffinity, 2)
                ]
            ),
            "0/12 nodes are available: 10 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector."
        );
        assert_eq!(
            error(
                2,
                &[
                    (Reason::TooManyPods, 1),
                    (Reason::Insufficient("memory".into()), 1),
                    (
                        Reason::UntoleratedTaint {
                            key: "gpu".into(),
                            value: "".into()
                        },
                        1
                    )
                ]
            ),
            "0/2 nodes are available: 1 Insufficient memory, 1 Too many pods, 1 node(s) had untolerated taint {gpu: }."
        );
    }

    #[test]
    fn an_empty_cluster_says_so() {
        assert_eq!(error(0, &[]), "no nodes available to schedule pods");
    }
}
