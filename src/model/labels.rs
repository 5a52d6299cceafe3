//! Labels and the two Kubernetes selector languages: `LabelSelector` (workloads,
//! PDBs, affinity terms, spread constraints) and `NodeSelector` (node affinity).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub type Labels = BTreeMap<String, String>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SelectorOperator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelSelectorRequirement {
    pub key: String,
    pub operator: SelectorOperator,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// `metav1.LabelSelector`: matchLabels and matchExpressions, all ANDed.
/// An empty selector matches every object (as `LabelSelectorAsSelector` does).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelSelector {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: Labels,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

impl LabelSelectorRequirement {
    pub fn matches(&self, labels: &Labels) -> bool {
        let value = labels.get(&self.key);
        match self.operator {
            SelectorOperator::In => value.is_some_and(|v| self.values.contains(v)),
            SelectorOperator::NotIn => value.is_none_or(|v| !self.values.contains(v)),
            SelectorOperator::Exists => value.is_some(),
            SelectorOperator::DoesNotExist => value.is_none(),
        }
    }
}

impl LabelSelector {
    pub fn matches(&self, labels: &Labels) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|r| r.matches(labels))
    }

    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }

    /// The selector with extra `key in (value)` requirements, as `matchLabelKeys` adds.
    pub fn with_labels(&self, extra: impl IntoIterator<Item = (String, String)>) -> LabelSelector {
        let mut selector = self.clone();
        for (key, value) in extra {
            selector.match_expressions.push(LabelSelectorRequirement {
                key,
                operator: SelectorOperator::In,
                values: vec![value],
            });
        }
        selector
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NodeSelectorOperator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
    Gt,
    Lt,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeSelectorRequirement {
    pub key: String,
    pub operator: NodeSelectorOperator,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

impl NodeSelectorRequirement {
    /// Kubernetes `labels.Requirement.Matches`: Gt/Lt parse both sides as
    /// base-10 i64 and compare strictly; a missing or non-integer label never matches.
    pub fn matches(&self, value: Option<&str>) -> bool {
        match self.operator {
            NodeSelectorOperator::In => value.is_some_and(|v| self.values.iter().any(|x| x == v)),
            NodeSelectorOperator::NotIn => {
                value.is_none_or(|v| !self.values.iter().any(|x| x == v))
            }
            NodeSelectorOperator::Exists => value.is_some(),
            NodeSelectorOperator::DoesNotExist => value.is_none(),
            NodeSelectorOperator::Gt | NodeSelectorOperator::Lt => {
                let (Some(v), [bound]) = (value, self.values.as_slice()) else {
                    return false;
                };
                let (Ok(v), Ok(bound)) = (v.parse::<i64>(), bound.parse::<i64>()) else {
                    return false;
                };
                if self.operator == NodeSelectorOperator::Gt {
                    v > bound
                } else {
                    v < bound
                }
            }
        }
    }
}

/// One `nodeSelectorTerms` entry: expressions (on labels) and fields (on
/// `metadata.name`) ANDed. An empty term matches nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeSelectorTerm {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<NodeSelectorRequirement>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_fields: Vec<NodeSelectorRequirement>,
}

impl NodeSelectorTerm {
    /// Its label expressions alone (none: true), fields aside.
    pub fn expressions_match(&self, labels: &Labels) -> bool {
        self.match_expressions
            .iter()
            .all(|r| r.matches(labels.get(&r.key).map(String::as_str)))
    }

    pub fn matches(&self, node_name: &str, labels: &Labels) -> bool {
        if self.match_expressions.is_empty() && self.match_fields.is_empty() {
            return false;
        }
        self.expressions_match(labels)
            && self.match_fields.iter().all(|r| {
                let field = (r.key == "metadata.name").then_some(node_name);
                r.matches(field)
            })
    }
}

/// Required node affinity: terms ORed. An empty list of terms matches nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeSelector {
    pub node_selector_terms: Vec<NodeSelectorTerm>,
}

impl NodeSelector {
    pub fn matches(&self, node_name: &str, labels: &Labels) -> bool {
        self.node_selector_terms
            .iter()
            .any(|t| t.matches(node_name, labels))
    }
}

/// Why a `-l` selector string does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SelectorParseError(String);

impl LabelSelector {
    /// A label every object this selector selects carries, if there is one
    /// (for indexes; a superset is then matched in full).
    pub fn required_label(&self) -> Option<(String, String)> {
        if let Some((key, value)) = self.match_labels.iter().next() {
            return Some((key.clone(), value.clone()));
        }
        self.match_expressions
            .iter()
            .find(|r| r.operator == SelectorOperator::In && r.values.len() == 1)
            .map(|r| (r.key.clone(), r.values[0].clone()))
    }

    /// Parses kubectl's selector syntax: `k=v`, `k==v`, `k!=v`, `k in (a,b)`,
    /// `k notin (a,b)`, `k` (exists), `!k` (does not exist), comma-separated, ANDed.
    /// `k!=v` matches objects without `k`, as in Kubernetes.
    pub fn parse(text: &str) -> Result<LabelSelector, SelectorParseError> {
        let mut selector = LabelSelector::default();
        if text.trim().is_empty() {
            // As kubectl: an empty selector selects everything.
            return Ok(selector);
        }
        for clause in split_clauses(text)? {
            let clause = clause.trim();
            if clause.is_empty() {
                return Err(SelectorParseError(format!("empty requirement in `{text}`")));
            }
            let requirement = parse_clause(clause)?;
            selector.match_expressions.push(requirement);
        }
        Ok(selector)
    }
}

/// Split on commas outside parentheses.
fn split_clauses(text: &str) -> Result<Vec<&str>, SelectorParseError> {
    let mut clauses = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return Err(SelectorParseError(format!("unbalanced `)` in `{text}`")));
                }
            }
            ',' if depth == 0 => {
                clauses.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err(SelectorParseError(format!("unbalanced `(` in `{text}`")));
    }
    clauses.push(&text[start..]);
    Ok(clauses)
}

fn parse_clause(clause: &str) -> Result<LabelSelectorRequirement, SelectorParseError> {
    let requirement = |key: &str, operator, values: Vec<String>| {
        let key = key.trim();
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err(SelectorParseError(format!(
                "invalid label key in `{clause}`"
            )));
        }
        Ok(LabelSelectorRequirement {
            key: key.to_string(),
            operator,
            values,
        })
    };
    if let Some(key) = clause.strip_prefix('!') {
        return requirement(key, SelectorOperator::DoesNotExist, Vec::new());
    }
    if let Some((key, value)) = clause.split_once("!=") {
        return requirement(key, SelectorOperator::NotIn, vec![value.trim().to_string()]);
    }
    if let Some((key, value)) = clause.split_once("==").or_else(|| clause.split_once('=')) {
        return requirement(key, SelectorOperator::In, vec![value.trim().to_string()]);
    }
    for (word, operator) in [
        (" notin ", SelectorOperator::NotIn),
        (" in ", SelectorOperator::In),
    ] {
        if let Some((key, rest)) = clause.split_once(word) {
            let inner = rest
                .trim()
                .strip_prefix('(')
                .and_then(|r| r.strip_suffix(')'))
                .ok_or_else(|| {
                    SelectorParseError(format!(
                        "expected `(values)` after `{}` in `{clause}`",
                        word.trim()
                    ))
                })?;
            let values: Vec<String> = inner.split(',').map(|v| v.trim().to_string()).collect();
            return requirement(key, operator, values);
        }
    }
    requirement(clause, SelectorOperator::Exists, Vec::new())
}

#[cfg(test)]
mod selector_text_tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn kubectl_selector_syntax() {
        let s =
            LabelSelector::parse("app=api,tier!=batch,env in (prod, stage),!canary,team").unwrap();
        assert!(s.matches(&labels(&[("app", "api"), ("env", "prod"), ("team", "a")])));
        assert!(!s.matches(&labels(&[
            ("app", "api"),
            ("env", "prod"),
            ("team", "a"),
            ("canary", "1")
        ])));
        assert!(!s.matches(&labels(&[("app", "api"), ("env", "dev"), ("team", "a")])));
        assert!(!s.matches(&labels(&[
            ("app", "api"),
            ("env", "prod"),
            ("team", "a"),
            ("tier", "batch")
        ])));
        assert!(!s.matches(&labels(&[("app", "api"), ("env", "prod")])));
        assert!(
            LabelSelector::parse("a==b")
                .unwrap()
                .matches(&labels(&[("a", "b")]))
        );
        assert!(
            LabelSelector::parse("a notin (x)")
                .unwrap()
                .matches(&labels(&[]))
        );
    }

    #[test]
    fn malformed_selectors_are_refused() {
        assert!(
            LabelSelector::parse("")
                .unwrap()
                .matches(&labels(&[("a", "b")]))
        );
        assert!(LabelSelector::parse("a in x").is_err());
        assert!(LabelSelector::parse("a in (x").is_err());
        assert!(LabelSelector::parse("=b").is_err());
        assert!(LabelSelector::parse("a,,b").is_err());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn req(key: &str, op: NodeSelectorOperator, values: &[&str]) -> NodeSelectorRequirement {
        NodeSelectorRequirement {
            key: key.into(),
            operator: op,
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    #[test]
    fn empty_label_selector_matches_everything() {
        assert!(LabelSelector::default().matches(&labels(&[("a", "b")])));
        assert!(LabelSelector::default().matches(&Labels::new()));
    }

    #[test]
    fn match_labels_and_expressions_are_anded() {
        let selector = LabelSelector {
            match_labels: labels(&[("app", "api")]),
            match_expressions: vec![LabelSelectorRequirement {
                key: "tier".into(),
                operator: SelectorOperator::NotIn,
                values: vec!["db".into()],
            }],
        };
        assert!(selector.matches(&labels(&[("app", "api")])));
        assert!(selector.matches(&labels(&[("app", "api"), ("tier", "web")])));
        assert!(!selector.matches(&labels(&[("app", "api"), ("tier", "db")])));
        assert!(!selector.matches(&labels(&[("app", "web")])));
    }

    #[test]
    fn not_in_matches_a_missing_key() {
        let r = req("zone", NodeSelectorOperator::NotIn, &["a"]);
        assert!(r.matches(None));
        assert!(!r.matches(Some("a")));
        assert!(r.matches(Some("b")));
    }

    #[test]
    fn gt_and_lt_compare_integers_not_strings() {
        // "10" > "9" numerically although "10" < "9" as strings.
        assert!(req("cores", NodeSelectorOperator::Gt, &["9"]).matches(Some("10")));
        assert!(!req("cores", NodeSelectorOperator::Gt, &["10"]).matches(Some("10")));
        assert!(req("cores", NodeSelectorOperator::Lt, &["10"]).matches(Some("9")));
        assert!(req("cores", NodeSelectorOperator::Lt, &["0"]).matches(Some("-1")));
        assert!(!req("cores", NodeSelectorOperator::Gt, &["1"]).matches(Some("abc")));
        assert!(!req("cores", NodeSelectorOperator::Gt, &["1"]).matches(None));
        assert!(!req("cores", NodeSelectorOperator::Gt, &["x"]).matches(Some("5")));
    }

    #[test]
    fn node_selector_terms_are_ored_and_empty_term_matches_nothing() {
        let selector = NodeSelector {
            node_selector_terms: vec![
                NodeSelectorTerm::default(),
                NodeSelectorTerm {
                    match_expressions: vec![req("zone", NodeSelectorOperator::In, &["b"])],
                    match_fields: vec![],
                },
            ],
        };
        assert!(selector.matches("n1", &labels(&[("zone", "b")])));
        assert!(!selector.matches("n1", &labels(&[("zone", "a")])));
        assert!(!NodeSelector::default().matches("n1", &Labels::new()));
    }

    #[test]
    fn match_fields_select_by_node_name() {
        let term = NodeSelectorTerm {
            match_expressions: vec![],
            match_fields: vec![req("metadata.name", NodeSelectorOperator::In, &["n2"])],
        };
        assert!(term.matches("n2", &Labels::new()));
        assert!(!term.matches("n1", &Labels::new()));
    }
}
