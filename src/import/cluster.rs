//! Reading live Kubernetes objects as `kubectl get -o yaml` prints them:
//! lenient (fields orch does not know are ignored, unlike manifests), but
//! located, so a bad quantity or a dangling reference points at its line.

use crate::manifest::Diagnostic;
use crate::manifest::tree::{Node, Value};
use crate::model::labels::Labels;
use crate::model::pod::{Taint, TaintEffect};
use crate::model::resources::{Allocatable, CPU, EPHEMERAL_STORAGE, MEMORY, PODS, parse_amount};
use std::collections::BTreeMap;

/// One object of the input, with the file it came from.
pub struct Object<'a> {
    pub file: &'a str,
    pub root: &'a Node,
}

impl<'a> Object<'a> {
    pub fn str(&self, path: &[&str]) -> Option<&'a str> {
        at(self.root, path).and_then(Node::as_str)
    }

    pub fn kind(&self) -> &'a str {
        self.str(&["kind"]).unwrap_or_default()
    }

    pub fn name(&self) -> &'a str {
        self.str(&["metadata", "name"]).unwrap_or_default()
    }

    pub fn namespace(&self) -> &'a str {
        self.str(&["metadata", "namespace"]).unwrap_or("default")
    }

    pub fn labels(&self) -> Labels {
        string_map(at(self.root, &["metadata", "labels"]))
    }

    pub fn annotation(&self, key: &str) -> Option<&'a str> {
        at(self.root, &["metadata", "annotations", key]).and_then(Node::as_str)
    }

    /// `ownerReferences` entries as (kind, name), the controller first.
    pub fn owners(&self) -> Vec<(&'a str, &'a str)> {
        let mut owners: Vec<(bool, &str, &str)> =
            items(at(self.root, &["metadata", "ownerReferences"]))
                .iter()
                .filter_map(|owner| {
                    let kind = owner.get("kind")?.as_str()?;
                    let name = owner.get("name")?.as_str()?;
                    let controller = matches!(
                        owner.get("controller").map(|c| &c.value),
                        Some(Value::Bool(true))
                    );
                    Some((!controller, kind, name))
                })
                .collect();
        owners.sort_by_key(|(not_controller, _, _)| *not_controller);
        owners.into_iter().map(|(_, k, n)| (k, n)).collect()
    }

    /// A diagnostic at `path` in this object (the deepest node that exists).
    pub fn error(&self, path: &str, message: impl Into<String>) -> Diagnostic {
        let node = self.root.locate(path);
        Diagnostic {
            file: self.file.to_string(),
            line: node.line as usize,
            column: node.column as usize,
            field: path.to_string(),
            message: message.into(),
        }
    }

    /// `file:line` of the object, for notices.
    pub fn location(&self) -> String {
        format!("{}:{}", self.file, self.root.line)
    }

    /// `Kind/namespace/name` (cluster-scoped: `Kind/name`), as orch names objects.
    pub fn id(&self) -> String {
        if self.kind() == "Node" {
            format!("Node/{}", self.name())
        } else {
            format!("{}/{}/{}", self.kind(), self.namespace(), self.name())
        }
    }
}

pub fn at<'a>(node: &'a Node, path: &[&str]) -> Option<&'a Node> {
    path.iter().try_fold(node, |node, key| node.get(key))
}

pub fn items(node: Option<&Node>) -> &[Node] {
    match node.map(|n| &n.value) {
        Some(Value::Seq(items)) => items,
        _ => &[],
    }
}

pub fn string_map(node: Option<&Node>) -> BTreeMap<String, String> {
    match node.map(|n| &n.value) {
        Some(Value::Map(entries)) => entries
            .iter()
            .filter(|(_, v)| !matches!(v.value, Value::Map(_) | Value::Seq(_) | Value::Null))
            .map(|(k, v)| (k.scalar_text(), v.scalar_text()))
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// The condition of `kind` in `status.conditions`: (status, reason, message, lastTransitionTime).
pub fn condition<'a>(object: &Object<'a>, kind: &str) -> Option<[&'a str; 4]> {
    items(at(object.root, &["status", "conditions"]))
        .iter()
        .find(|c| c.get("type").and_then(Node::as_str) == Some(kind))
        .map(|c| {
            let text = |key: &str| c.get(key).and_then(Node::as_str).unwrap_or_default();
            [
                text("status"),
                text("reason"),
                text("message"),
                text("lastTransitionTime"),
            ]
        })
}

/// A node's allocatable resources (`status.allocatable`, else `status.capacity`).
pub fn allocatable(node: &Object, diagnostics: &mut Vec<Diagnostic>) -> Allocatable {
    let field = if at(node.root, &["status", "allocatable"]).is_some() {
        "allocatable"
    } else {
        "capacity"
    };
    let mut allocatable = Allocatable::default();
    if let Some(Value::Map(entries)) = at(node.root, &["status", field]).map(|n| &n.value) {
        for (key, value) in entries {
            let name = key.scalar_text();
            let text = value.scalar_text();
            let path = format!("status.{field}.{name}");
            match parse_amount(&name, &text) {
                Ok(amount) if amount < 0 => diagnostics.push(node.error(
                    &path,
                    format!("Invalid value: \"{text}\": must be greater than or equal to 0"),
                )),
                Ok(amount) if name == PODS => allocatable.pods = amount,
                // Kubelets list every extended resource they know, hugepages at 0 included.
                Ok(0) if ![CPU, MEMORY, EPHEMERAL_STORAGE].contains(&name.as_str()) => {}
                Ok(amount) => allocatable.resources.set(&name, amount),
                Err(error) => diagnostics
                    .push(node.error(&path, format!("Invalid value: \"{text}\": {error}"))),
            }
        }
    }
    allocatable
}

/// Taints the node controllers add for a condition orch models itself
/// (`unschedulable`, readiness, pressure).
const CONDITION_TAINTS: [&str; 7] = [
    "node.kubernetes.io/unschedulable",
    "node.kubernetes.io/not-ready",
    "node.kubernetes.io/unreachable",
    "node.kubernetes.io/memory-pressure",
    "node.kubernetes.io/disk-pressure",
    "node.kubernetes.io/pid-pressure",
    "node.kubernetes.io/network-unavailable",
];

/// The node's own taints (the node controllers' condition taints left out).
pub fn taints(node: &Object, diagnostics: &mut Vec<Diagnostic>) -> Vec<Taint> {
    let mut taints = Vec::new();
    for (i, taint) in items(at(node.root, &["spec", "taints"])).iter().enumerate() {
        let text = |key: &str| taint.get(key).and_then(Node::as_str).unwrap_or_default();
        if CONDITION_TAINTS.contains(&text("key")) {
            continue;
        }
        let effect = match text("effect") {
            "NoSchedule" => TaintEffect::NoSchedule,
            "PreferNoSchedule" => TaintEffect::PreferNoSchedule,
            "NoExecute" => TaintEffect::NoExecute,
            other => {
                diagnostics.push(node.error(
                    &format!("spec.taints[{i}].effect"),
                    format!("Unsupported value: \"{other}\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\""),
                ));
                continue;
            }
        };
        taints.push(Taint::new(text("key"), text("value"), effect));
    }
    taints
}

pub fn is_true(node: Option<&Node>) -> bool {
    matches!(node.map(|n| &n.value), Some(Value::Bool(true)))
}

/// Seconds since the Unix epoch of an RFC 3339 time as the API server writes
/// it (`2026-11-30T08:15:00Z`, optionally with fractions or an offset).
pub fn parse_time(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() < 20 || bytes[4] != b'-' || bytes[7] != b'-' || bytes[10] != b'T' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        rest = &fraction[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return None,
            };
            let hours: i64 = rest.get(1..3)?.parse().ok()?;
            let minutes: i64 = rest.get(4..6)?.parse().ok()?;
            sign * (hours * 3600 + minutes * 60)
        }
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_server_times_parse_to_unix_seconds() {
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_time("2000-03-01T00:00:00Z"), Some(951_868_800));
        assert_eq!(parse_time("2026-11-30T08:15:30Z"), Some(1_796_026_530));
        assert_eq!(
            parse_time("2026-11-30T09:15:30.123456+01:00"),
            Some(1_796_026_530)
        );
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(parse_time("2026-13-30T08:15:30Z"), None);
        assert_eq!(parse_time("2026-11-30T08:15:61Z"), None);
    }
}
