//! Fields the API server refuses to change on update (`field is
//! immutable`): a workload's selector, a StatefulSet's spec beyond the
//! fields it may update, a Job's selector, template, completion mode and
//! completions. An update is an object the state already holds: its stored
//! manifest is the old object, the one from `-f` the new.
//!
//! `changes` compares the two (cheap: a few subtrees per workload);
//! `locate` finds each changed field in the manifests' text, for an error
//! at its line.

use super::Diagnostic;
use super::tree::{Node, Value};
use crate::model::state::State;
use crate::model::workload::Desired;
use crate::sources::Source;
use serde_json::Value as Json;
use std::collections::HashMap;

/// The API server's message (`apivalidation.FieldImmutableErrorMsg`).
pub const FIELD_IS_IMMUTABLE: &str = "field is immutable";

/// A StatefulSet's spec fields that an update may change (`ValidateStatefulSetUpdate`).
const STATEFUL_SET_MUTABLE: [&str; 6] = [
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
];

/// One refused change: which object, which field, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// `Kind/namespace/name`.
    pub object: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub path: String,
    pub message: String,
    /// Where the object was declared (the fallback location).
    pub source: Option<crate::model::workload::SourceLocation>,
}

/// Absent, null, `{}` and `[]` are the same value to the API server's
/// semantic comparison of optional fields.
fn normalized(value: Option<&Json>) -> Option<&Json> {
    match value {
        None | Some(Json::Null) => None,
        Some(Json::Object(map)) if map.is_empty() => None,
        Some(Json::Array(items)) if items.is_empty() => None,
        other => other,
    }
}

fn at<'a>(value: &'a Json, path: &[&str]) -> Option<&'a Json> {
    path.iter().try_fold(value, |v, key| v.get(key))
}

fn show(value: Option<&Json>) -> String {
    value.map_or_else(
        || "null".into(),
        |v| serde_json::to_string(v).unwrap_or_default(),
    )
}

/// The immutable fields of `kind` that differ between `old` and `new`, as
/// (path, message).
pub fn refused(kind: &str, old: &Json, new: &Json) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut immutable = |path: &[&str]| {
        let (before, after) = (normalized(at(old, path)), normalized(at(new, path)));
        if before != after {
            found.push((
                path.join("."),
                format!("Invalid value: {}: {FIELD_IS_IMMUTABLE}", show(after)),
            ));
        }
    };
    match kind {
        "Deployment" | "DaemonSet" | "ReplicaSet" => immutable(&["spec", "selector"]),
        "Job" => {
            immutable(&["spec", "selector"]);
            immutable(&["spec", "completionMode"]);
            immutable(&["spec", "template"]);
            // An indexed Job may change completions together with parallelism (elastic).
            let elastic = at(new, &["spec", "completionMode"]).and_then(Json::as_str)
                == Some("Indexed")
                && at(new, &["spec", "completions"]) == at(new, &["spec", "parallelism"]);
            if !elastic {
                immutable(&["spec", "completions"]);
            }
        }
        "StatefulSet" => {
            let spec = |v: &'_ Json| at(v, &["spec"]).and_then(Json::as_object).cloned();
            let (before, after) = (spec(old).unwrap_or_default(), spec(new).unwrap_or_default());
            let keys: std::collections::BTreeSet<&String> =
                before.keys().chain(after.keys()).collect();
            let changed = keys.into_iter().any(|key| {
                !STATEFUL_SET_MUTABLE.contains(&key.as_str())
                    && normalized(before.get(key)) != normalized(after.get(key))
            });
            if changed {
                found.push((
                    "spec".into(),
                    "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden".into(),
                ));
            }
        }
        _ => {}
    }
    found
}

/// Every refused change of `desired` against the objects `state` holds.
pub fn changes(desired: &Desired, state: &State) -> Vec<Change> {
    let stored: HashMap<_, _> = state
        .workloads
        .iter()
        .map(|w| ((w.kind.as_str(), w.namespace.as_str(), w.name.as_str()), w))
        .collect();
    let mut found = Vec::new();
    for workload in &desired.workloads {
        let id = &workload.id;
        let kind = id.kind.as_str();
        let Some(old) = stored.get(&(kind, &*id.namespace, &*id.name)) else {
            continue;
        };
        // The same text is the same object: nothing of it changed.
        if old.spec.as_str() == workload.manifest.as_str() {
            continue;
        }
        for (path, message) in refused(kind, &old.spec.value(), &workload.manifest.value()) {
            found.push(Change {
                object: id.to_string(),
                kind: kind.to_string(),
                namespace: id.namespace.to_string(),
                name: id.name.to_string(),
                path,
                message,
                source: workload.source.clone(),
            });
        }
    }
    found
}

/// The changes as diagnostics, each at the changed field in the manifests
/// (or where its object is declared).
pub fn locate(changes: &[Change], sources: &[Source]) -> Vec<Diagnostic> {
    let (documents, _) = super::documents(sources);
    let mut objects: Vec<(&str, &Node)> = Vec::new();
    for (file, root) in &documents {
        match root.get("items").map(|n| &n.value) {
            Some(Value::Seq(items)) => objects.extend(items.iter().map(|i| (*file, i))),
            _ => objects.push((file, root)),
        }
    }
    changes
        .iter()
        .map(|change| {
            let found = objects.iter().find(|(_, root)| {
                let text = |path: &str| root.locate(path).as_str().map(str::to_string);
                root.get("kind").and_then(Node::as_str) == Some(change.kind.as_str())
                    && text("metadata.name").as_deref() == Some(change.name.as_str())
                    && text("metadata.namespace").unwrap_or_else(|| "default".into())
                        == change.namespace
            });
            let (file, line, column) = match (found, &change.source) {
                (Some((file, root)), _) => {
                    let node = root.locate(&change.path);
                    (file.to_string(), node.line as usize, node.column as usize)
                }
                (None, Some(source)) => (source.file.clone(), source.line, source.column),
                (None, None) => (change.object.clone(), 1, 1),
            };
            Diagnostic {
                file,
                line,
                column,
                field: change.path.clone(),
                message: format!("{} ({} exists in the state)", change.message, change.object),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn selector(app: &str) -> Json {
        json!({"spec": {"selector": {"matchLabels": {"app": app}}, "template": {}}})
    }

    #[test]
    fn workload_selectors_are_immutable() {
        for kind in ["Deployment", "DaemonSet", "ReplicaSet"] {
            assert!(refused(kind, &selector("a"), &selector("a")).is_empty());
            let refused = refused(kind, &selector("a"), &selector("b"));
            assert_eq!(refused.len(), 1, "{kind}");
            assert_eq!(refused[0].0, "spec.selector");
            assert!(
                refused[0].1.ends_with("field is immutable"),
                "{}",
                refused[0].1
            );
        }
        assert!(refused("PodDisruptionBudget", &selector("a"), &selector("b")).is_empty());
    }

    #[test]
    fn a_stateful_set_may_change_only_some_fields() {
        let old = json!({"spec": {"replicas": 1, "serviceName": "db", "template": {"a": 1}}});
        let scaled = json!({"spec": {"replicas": 3, "serviceName": "db", "template": {"a": 2}}});
        assert!(refused("StatefulSet", &old, &scaled).is_empty());
        let renamed =
            json!({"spec": {"replicas": 1, "serviceName": "other", "template": {"a": 1}}});
        let found = refused("StatefulSet", &old, &renamed);
        assert_eq!(found.len(), 1);
        assert!(
            found[0]
                .1
                .starts_with("Forbidden: updates to statefulset spec")
        );
        let claims = json!({"spec": {"replicas": 1, "serviceName": "db", "template": {"a": 1},
            "volumeClaimTemplates": [{"metadata": {"name": "data"}}]}});
        assert_eq!(refused("StatefulSet", &old, &claims).len(), 1);
    }

    #[test]
    fn a_job_keeps_its_template_and_completions() {
        let old = json!({"spec": {"completions": 3, "parallelism": 1, "template": {"a": 1}}});
        let more = json!({"spec": {"completions": 4, "parallelism": 2, "template": {"a": 1}}});
        let found = refused("Job", &old, &more);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "spec.completions");
        let parallel = json!({"spec": {"completions": 3, "parallelism": 2, "template": {"a": 1}}});
        assert!(refused("Job", &old, &parallel).is_empty());
        let template = json!({"spec": {"completions": 3, "parallelism": 1, "template": {"a": 2}}});
        assert_eq!(refused("Job", &old, &template)[0].0, "spec.template");
        let elastic_old =
            json!({"spec": {"completionMode": "Indexed", "completions": 3, "parallelism": 3}});
        let elastic =
            json!({"spec": {"completionMode": "Indexed", "completions": 5, "parallelism": 5}});
        assert!(refused("Job", &elastic_old, &elastic).is_empty());
    }
}
