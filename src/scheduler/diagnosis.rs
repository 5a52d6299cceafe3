//! Why a replica fits nowhere: every rejected node counted by reason, and the
//! message kube-scheduler prints for it.

use std::collections::BTreeMap;
use std::fmt;

/// One reason a filter rejects a node, as data (counted, then rendered).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    Unschedulable,
    NodeName,
    UntoleratedTaint { key: String, value: String },
    NodeAffinity,
    TooManyPods,
    Insufficient(String),
    SpreadMissingLabel,
    SpreadConstraints,
    AffinityRulesNotMatch,
    AntiAffinityRulesNotMatch,
    ExistingAntiAffinityRulesNotMatch,
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
        }
    }
}

/// No node passed every filter (`framework.FitError`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FitError {
    pub nodes: usize,
    /// How many nodes each reason rejected.
    pub reasons: BTreeMap<Reason, usize>,
}

impl std::error::Error for FitError {}

impl fmt::Display for FitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.nodes == 0 {
            // `ErrNoNodesAvailable`.
            return f.write_str("no nodes available to schedule pods");
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
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(nodes: usize, reasons: &[(Reason, usize)]) -> String {
        FitError {
            nodes,
            reasons: reasons.iter().cloned().collect(),
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
