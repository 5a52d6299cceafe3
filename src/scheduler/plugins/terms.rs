//! Which placed replicas a pod affinity term or a spread selector counts:
//! namespaces (the owner's by default, a list, or a namespace selector over
//! `kubernetes.io/metadata.name`), the label selector (absent selects
//! nothing), and `matchLabelKeys`/`mismatchLabelKeys` taken from the owner.

use crate::model::labels::{LabelSelector, LabelSelectorRequirement, Labels, SelectorOperator};
use crate::model::pod::PodAffinityTerm;
use crate::scheduler::snapshot::Snapshot;

pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// Whether `term`, declared by a pod in `owner_namespace`, covers `namespace`.
pub fn covers_namespace(term: &PodAffinityTerm, owner_namespace: &str, namespace: &str) -> bool {
    if term.namespaces.is_empty() && term.namespace_selector.is_none() {
        return namespace == owner_namespace;
    }
    if term.namespaces.iter().any(|n| n == namespace) {
        return true;
    }
    term.namespace_selector.as_ref().is_some_and(|s| {
        s.matches(&Labels::from([(
            NAMESPACE_NAME_LABEL.to_string(),
            namespace.to_string(),
        )]))
    })
}

/// The selector with `key In [owner's value]` for each match key the owner has.
pub fn with_label_keys(
    selector: &LabelSelector,
    keys: &[String],
    owner: &Labels,
    operator: SelectorOperator,
) -> LabelSelector {
    let mut selector = selector.clone();
    for key in keys {
        if let Some(value) = owner.get(key) {
            selector.match_expressions.push(LabelSelectorRequirement {
                key: key.clone(),
                operator,
                values: vec![value.clone()],
            });
        }
    }
    selector
}

/// A term resolved against the pod that declares it.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    pub topology_key: String,
    selector: Option<LabelSelector>,
    term: PodAffinityTerm,
    owner_namespace: String,
}

impl Term {
    pub fn new(term: &PodAffinityTerm, owner_namespace: &str, owner_labels: &Labels) -> Term {
        let selector = term.label_selector.as_ref().map(|s| {
            let s = with_label_keys(
                s,
                &term.match_label_keys,
                owner_labels,
                SelectorOperator::In,
            );
            with_label_keys(
                &s,
                &term.mismatch_label_keys,
                owner_labels,
                SelectorOperator::NotIn,
            )
        });
        Term {
            topology_key: term.topology_key.clone(),
            selector,
            term: term.clone(),
            owner_namespace: owner_namespace.to_string(),
        }
    }

    /// The replica groups of `snapshot` this term may select (a superset),
    /// or `None` when it may select any.
    pub fn candidates<'a>(&self, snapshot: &'a Snapshot) -> Option<&'a [usize]> {
        match &self.selector {
            // A term without a selector selects nothing.
            None => Some(&[]),
            Some(selector) => selector
                .required_label()
                .map(|(key, value)| snapshot.groups_with_label(&key, &value)),
        }
    }

    /// Whether a replica in `namespace` with `labels` is selected by this term.
    pub fn matches(&self, namespace: &str, labels: &Labels) -> bool {
        self.selector.as_ref().is_some_and(|s| s.matches(labels))
            && covers_namespace(&self.term, &self.owner_namespace, namespace)
    }
}
