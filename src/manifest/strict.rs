//! Strict validation of one document, as the API server does it before any
//! kind-specific reading: every field checked against Kubernetes' schema of
//! its kind (`schema`), and the API server's checks on names, labels,
//! annotations, containers, ports and resources (`api_validation`). Every
//! problem is reported, not only the first.
//!
//! The typed reading of a kind (`objects`) still runs and may find the same
//! problem (it stops at its first unknown field): a problem already reported
//! at a position is not reported twice (`same_problem`).

use super::Diagnostic;
use super::api_validation::{ApiChecks, object_name};
use super::schema::{self, Problem, Segment, Type, Walker};
use super::tree::{Node, Value};
use std::collections::HashMap;

/// Check `root` (an object or a `List` of them) and merge its problems into
/// `diagnostics`, of which those from `typed_from` on are this document's
/// from the typed reading.
pub(super) fn check_document(
    file: &str,
    root: &Node,
    diagnostics: &mut Vec<Diagnostic>,
    typed_from: usize,
) {
    let mut problems = Vec::new();
    document(root, &mut problems);
    if problems.is_empty() {
        return;
    }
    let typed_from = typed_from.min(diagnostics.len());
    let mut reported: HashMap<(usize, usize), Vec<&str>> = HashMap::new();
    for diagnostic in diagnostics[typed_from..].iter().filter(|d| d.file == file) {
        reported
            .entry((diagnostic.line, diagnostic.column))
            .or_default()
            .push(&diagnostic.message);
    }
    let fresh: Vec<Problem> = problems
        .into_iter()
        .filter(|problem| {
            reported
                .get(&(problem.line, problem.column))
                .is_none_or(|typed| !typed.iter().any(|t| same_problem(t, &problem.message)))
        })
        .collect();
    let mut added = false;
    for problem in fresh {
        added = true;
        diagnostics.push(Diagnostic {
            file: file.to_string(),
            line: problem.line,
            column: problem.column,
            field: problem.path,
            message: problem.message,
        });
    }
    if added {
        diagnostics[typed_from..].sort_by_key(|d| (d.line, d.column));
    }
}

/// Whether the typed reading's `typed` message at a position says what
/// `strict` says there: the same words, or both a decoding failure (an
/// unknown field or a wrong type, which the two word differently).
fn same_problem(typed: &str, strict: &str) -> bool {
    let decoding = |m: &str| {
        m.starts_with("unknown field")
            || m.starts_with("invalid type")
            || m.starts_with("expected ")
    };
    typed == strict || decoding(typed) && decoding(strict)
}

/// The problems of one document: each object of a `List`, or the object.
pub fn document(root: &Node, problems: &mut Vec<Problem>) {
    let Value::Map(_) = root.value else {
        return;
    };
    let kind = root.get("kind").and_then(Node::as_str);
    let version = root.get("apiVersion").and_then(Node::as_str);
    let (Some(kind), Some(version)) = (kind, version) else {
        return;
    };
    if kind == "List" || kind.ends_with("List") && root.get("items").is_some() {
        if let Some(Value::Seq(items)) = root.get("items").map(|n| &n.value) {
            // Paths start at the item, as for the typed reading of a List.
            for item in items {
                document(item, problems);
            }
        }
        return;
    }
    object(root, version, kind, problems);
}

fn object(root: &Node, version: &str, kind: &str, problems: &mut Vec<Problem>) {
    let schema = schema::schema();
    let mut hook = ApiChecks;
    let mut walker = Walker::new(schema, &mut hook);
    match schema.kind(version, kind) {
        Some(index) => walker.check(root, &Type::Object(index)),
        // A kind without a schema (a custom resource): its metadata is still
        // an ObjectMeta, checked as the API server checks every object's.
        None => {
            if let (Some(metadata), Some(index)) = (
                root.get("metadata"),
                schema.object_index("meta.v1.ObjectMeta"),
            ) {
                walker.path.push(Segment::Key("metadata"));
                walker.check(metadata, &Type::Object(index));
            }
        }
    }
    problems.append(&mut walker.problems);
    let metadata = root.get("metadata");
    let named = |key: &str| {
        metadata
            .and_then(|m| m.get(key))
            .and_then(Node::as_str)
            .is_some_and(|n| !n.is_empty())
    };
    let known = schema.kind(version, kind).is_some();
    if known && !named("name") && !named("generateName") {
        problems.push(Problem::at(
            root.locate("metadata.name"),
            "metadata.name".into(),
            "Required value: name or generateName is required",
        ));
    }
    if let Some(name_node) = root.get("metadata").and_then(|m| m.get("name"))
        && let Some(name) = name_node.as_str()
        && !name.is_empty()
        && let Some(messages) = object_name(kind, name)
    {
        for message in messages {
            problems.push(Problem::at(
                name_node,
                "metadata.name".into(),
                format!("Invalid value: \"{name}\": {message}"),
            ));
        }
    }
}

/// The first JSON syntax error of a text of JSON values, located.
pub(super) fn json_syntax(text: &str) -> Option<(usize, usize, String)> {
    let mut values = serde_json::Deserializer::from_str(text).into_iter::<serde_json::Value>();
    values.find_map(Result::err).map(|error| {
        let message = error.to_string();
        let message = message.split(" at line ").next().unwrap_or(&message);
        (
            error.line().max(1),
            error.column().max(1),
            format!("invalid JSON: {message}"),
        )
    })
}
