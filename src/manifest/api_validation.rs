//! The API server's field checks, with its messages
//! (k8s.io/apimachinery/pkg/api/validation, .../util/validation and
//! pkg/apis/core/validation): object names per kind, label keys and values,
//! annotation keys and their total size, selectors, container names (unique
//! across containers and initContainers), ports, resource names and
//! quantities (integer-only resources such as `pods` and extended resources).
//!
//! They run inside the schema walk (`schema::Hook`), once per object of the
//! type they concern, so every kind that embeds a pod template or metadata
//! gets them; `object_name` is called once per document by kind.

use super::schema::{Hook, Object, Problem, Schema, Segment, path_text};
use super::tree::{Node, Value};
use crate::model::quantity::Quantity;
use std::collections::HashSet;

/// The total size of an object's annotations (keys and values), in bytes.
pub const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * (1 << 10);

const LABEL_KEY_FORMAT: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_FORMAT: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const DNS1123_LABEL: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1123_SUBDOMAIN: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS1035_LABEL: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
pub fn is_label(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !text.starts_with('-')
        && !text.ends_with('-')
}

fn max_length(limit: usize) -> String {
    format!("must be no more than {limit} characters")
}

/// `IsDNS1123Label`.
pub fn dns1123_label(value: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if value.len() > 63 {
        problems.push(max_length(63));
    }
    if !is_label(value) {
        if value.split('.').all(is_label) {
            problems.push("must not contain dots".into());
        } else {
            problems.push(DNS1123_LABEL.into());
        }
    }
    problems
}

/// `IsDNS1123Subdomain`.
pub fn dns1123_subdomain(value: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if value.len() > 253 {
        problems.push(max_length(253));
    }
    if !value.split('.').all(is_label) {
        problems.push(DNS1123_SUBDOMAIN.into());
    }
    problems
}

/// `IsDNS1035Label`.
pub fn dns1035_label(value: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if value.len() > 63 {
        problems.push(max_length(63));
    }
    if !(is_label(value) && value.starts_with(|c: char| c.is_ascii_lowercase())) {
        problems.push(DNS1035_LABEL.into());
    }
    problems
}

fn is_label_key_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let edge = |b: &u8| b.is_ascii_alphanumeric();
    !bytes.is_empty()
        && bytes.first().is_some_and(edge)
        && bytes.last().is_some_and(edge)
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// `IsQualifiedName`: a label key, an annotation key, a resource name.
pub fn qualified_name(value: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                problems.push("prefix part must be non-empty".into());
            } else {
                problems.extend(
                    dns1123_subdomain(prefix)
                        .into_iter()
                        .map(|p| format!("prefix part {p}")),
                );
            }
            *name
        }
        _ => {
            return vec![format!(
                "a qualified name {LABEL_KEY_FORMAT} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            )];
        }
    };
    if name.is_empty() {
        problems.push("name part must be non-empty".into());
    } else if name.len() > 63 {
        problems.push(format!("name part {}", max_length(63)));
    }
    if !is_label_key_name(name) {
        problems.push(format!("name part {LABEL_KEY_FORMAT}"));
    }
    problems
}

/// `IsValidLabelValue`.
pub fn label_value(value: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if value.len() > 63 {
        problems.push(max_length(63));
    }
    if !(value.is_empty() || is_label_key_name(value)) {
        problems.push(LABEL_VALUE_FORMAT.into());
    }
    problems
}

/// `path.IsValidPathSegmentName`: the names of RBAC objects.
fn path_segment_name(value: &str) -> Vec<String> {
    if value == "." || value == ".." {
        return vec![format!("may not be '{value}'")];
    }
    ["/", "%"]
        .iter()
        .filter(|c| value.contains(**c))
        .map(|c| format!("may not contain '{c}'"))
        .collect()
}

/// The problems with an object's `metadata.name`, by kind, as the API
/// server's `ValidateObjectMeta` name functions report them; `None` for a
/// kind whose rule is not known here.
pub fn object_name(kind: &str, name: &str) -> Option<Vec<String>> {
    Some(match kind {
        "Namespace" => dns1123_label(name),
        "Service" => dns1035_label(name),
        "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding" => path_segment_name(name),
        "CronJob" => {
            let mut problems = dns1123_subdomain(name);
            // Its Jobs are named `<name>-<11 digits>` and must stay a label.
            if name.len() > 52 {
                problems.push(max_length(52));
            }
            problems
        }
        "Pod"
        | "Node"
        | "ConfigMap"
        | "Secret"
        | "ServiceAccount"
        | "PersistentVolumeClaim"
        | "PersistentVolume"
        | "LimitRange"
        | "ResourceQuota"
        | "ReplicationController"
        | "PodTemplate"
        | "Endpoints"
        | "Deployment"
        | "DaemonSet"
        | "StatefulSet"
        | "ReplicaSet"
        | "ControllerRevision"
        | "Job"
        | "PodDisruptionBudget"
        | "Ingress"
        | "IngressClass"
        | "NetworkPolicy"
        | "HorizontalPodAutoscaler"
        | "StorageClass"
        | "CSIDriver"
        | "PriorityClass"
        | "RuntimeClass"
        | "Lease"
        | "EndpointSlice"
        | "ValidatingWebhookConfiguration"
        | "MutatingWebhookConfiguration"
        | "CustomResourceDefinition" => dns1123_subdomain(name),
        _ => return None,
    })
}

/// The API server's checks, run per object type during the schema walk.
#[derive(Default)]
pub struct ApiChecks;

impl Hook for ApiChecks {
    fn object(
        &mut self,
        _schema: &Schema,
        object: &Object,
        node: &Node,
        path: &[Segment],
        problems: &mut Vec<Problem>,
    ) {
        let at = Location { node, path };
        match object.name.as_str() {
            "meta.v1.ObjectMeta" => {
                labels(&at, "labels", problems);
                annotations(&at, problems);
            }
            "meta.v1.LabelSelector" => {
                labels(&at, "matchLabels", problems);
                if let Some(Value::Seq(items)) = node.get("matchExpressions").map(|n| &n.value) {
                    for (i, item) in items.iter().enumerate() {
                        if let Some(key) = item.get("key")
                            && let Some(text) = key.as_str()
                        {
                            let field = format!("{}.matchExpressions[{i}].key", at.text());
                            for message in qualified_name(text) {
                                problems.push(Problem::at(
                                    key,
                                    field.clone(),
                                    format!("Invalid value: \"{text}\": {message}"),
                                ));
                            }
                        }
                    }
                }
            }
            "core.v1.PodSpec" => container_names(&at, problems),
            "core.v1.ContainerPort" => {
                port(&at, "containerPort", true, problems);
                port(&at, "hostPort", false, problems);
            }
            "core.v1.ServicePort" => {
                port(&at, "port", true, problems);
                port(&at, "nodePort", false, problems);
            }
            "core.v1.ResourceRequirements" => resource_requirements(&at, problems),
            "core.v1.NodeStatus" => {
                for list in ["capacity", "allocatable"] {
                    resource_list(&at, list, false, problems);
                }
            }
            _ => {}
        }
    }
}

/// An object node and its path.
struct Location<'n, 'p, 'a> {
    node: &'n Node,
    path: &'p [Segment<'a>],
}

impl Location<'_, '_, '_> {
    fn text(&self) -> String {
        path_text(self.path)
    }

    fn child(&self, key: &str) -> String {
        let base = self.text();
        if base.is_empty() {
            key.to_string()
        } else {
            format!("{base}.{key}")
        }
    }
}

fn string_entries(node: Option<&Node>) -> impl Iterator<Item = (&Node, &str, &Node)> {
    let entries = match node.map(|n| &n.value) {
        Some(Value::Map(entries)) => entries.as_slice(),
        _ => &[],
    };
    entries
        .iter()
        .filter_map(|(k, v)| k.as_str().map(|key| (k, key, v)))
}

/// `ValidateLabels`: every key a qualified name, every value a label value.
fn labels(at: &Location, field: &str, problems: &mut Vec<Problem>) {
    let path = || at.child(field);
    for (key_node, key, value) in string_entries(at.node.get(field)) {
        for message in qualified_name(key) {
            problems.push(Problem::at(
                key_node,
                path(),
                format!("Invalid value: \"{key}\": {message}"),
            ));
        }
        if let Some(text) = value.as_str() {
            for message in label_value(text) {
                problems.push(Problem::at(
                    value,
                    path(),
                    format!("Invalid value: \"{text}\": {message}"),
                ));
            }
        }
    }
}

/// `ValidateAnnotations`: keys are qualified names (in any case), and all
/// keys and values together fit in 256 KiB.
fn annotations(at: &Location, problems: &mut Vec<Problem>) {
    let Some(node) = at.node.get("annotations") else {
        return;
    };
    let path = || at.child("annotations");
    let mut total = 0usize;
    for (key_node, key, value) in string_entries(Some(node)) {
        total += key.len() + value.as_str().map_or(0, str::len);
        let lower = if key.bytes().any(|b| b.is_ascii_uppercase()) {
            std::borrow::Cow::Owned(key.to_lowercase())
        } else {
            std::borrow::Cow::Borrowed(key)
        };
        for message in qualified_name(&lower) {
            problems.push(Problem::at(
                key_node,
                path(),
                format!("Invalid value: \"{key}\": {message}"),
            ));
        }
    }
    if total > TOTAL_ANNOTATION_SIZE_LIMIT {
        problems.push(Problem::at(
            node,
            path(),
            format!(
                "Too long: may not be more than {TOTAL_ANNOTATION_SIZE_LIMIT} bytes (the annotations hold {total})"
            ),
        ));
    }
}

/// Container names: each a DNS-1123 label, unique across containers and
/// initContainers (an init container that repeats a container's name is the
/// duplicate, as `validateInitContainers` reports it).
fn container_names(at: &Location, problems: &mut Vec<Problem>) {
    let mut seen: HashSet<&str> = HashSet::new();
    for list in ["containers", "initContainers"] {
        let Some(Value::Seq(items)) = at.node.get(list).map(|n| &n.value) else {
            continue;
        };
        for (i, item) in items.iter().enumerate() {
            let Some(name_node) = item.get("name") else {
                continue;
            };
            let Some(name) = name_node.as_str() else {
                continue;
            };
            let path = || format!("{}[{i}].name", at.child(list));
            if name.is_empty() {
                problems.push(Problem::at(name_node, path(), "Required value"));
                continue;
            }
            for message in dns1123_label(name) {
                problems.push(Problem::at(
                    name_node,
                    path(),
                    format!("Invalid value: \"{name}\": {message}"),
                ));
            }
            if !seen.insert(name) {
                problems.push(Problem::at(
                    name_node,
                    path(),
                    format!("Duplicate value: \"{name}\""),
                ));
            }
        }
    }
}

/// A port number: 1–65535 (`IsValidPortNum`); 0 means unset unless `required`.
fn port(at: &Location, field: &str, required: bool, problems: &mut Vec<Problem>) {
    let Some(node) = at.node.get(field) else {
        return;
    };
    let value = match node.value {
        Value::Int(i) => i128::from(i),
        Value::UInt(u) => i128::from(u),
        _ => return,
    };
    if value == 0 && required {
        problems.push(Problem::at(node, at.child(field), "Required value"));
    } else if value != 0 && !(1..=65535).contains(&value) {
        problems.push(Problem::at(
            node,
            at.child(field),
            format!("Invalid value: {value}: must be between 1 and 65535, inclusive"),
        ));
    }
}

/// A quantity as written, if it is one.
fn quantity_text(node: &Node) -> Option<String> {
    match &node.value {
        Value::Str(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::UInt(u) => Some(u.to_string()),
        Value::Float(f) if f.is_finite() => Some(f.to_string()),
        _ => None,
    }
}

/// `helper.IsNativeResource`: no domain, or a `kubernetes.io` one.
fn is_native(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

/// `helper.IsExtendedResourceName`: outside the native domain, and valid
/// with the quota's `requests.` prefix.
fn is_extended(name: &str) -> bool {
    if is_native(name) || name.starts_with("requests.") {
        return false;
    }
    qualified_name(&format!("requests.{name}")).is_empty()
}

/// `helper.IsIntegerResourceName`: counted resources and extended resources.
fn is_integer_resource(name: &str) -> bool {
    const INTEGER: [&str; 9] = [
        "pods",
        "services",
        "replicationcontrollers",
        "resourcequotas",
        "secrets",
        "configmaps",
        "persistentvolumeclaims",
        "services.nodeports",
        "services.loadbalancers",
    ];
    INTEGER.contains(&name) || name.starts_with("count/") || is_extended(name)
}

fn is_standard_container_resource(name: &str) -> bool {
    matches!(name, "cpu" | "memory" | "ephemeral-storage") || name.starts_with("hugepages-")
}

/// `ValidateResourceQuantityValue` over a list; `container` also checks
/// names as `validateContainerResourceName` does.
fn resource_list(at: &Location, field: &str, container: bool, problems: &mut Vec<Problem>) {
    for (key_node, name, value) in string_entries(at.node.get(field)) {
        let path = || format!("{}.{name}", at.child(field));
        if container {
            let mut messages = qualified_name(name);
            if messages.is_empty() {
                if !name.contains('/') {
                    if !is_standard_container_resource(name) {
                        messages.push("must be a standard resource for containers".into());
                    }
                } else if !is_native(name) && !is_extended(name) {
                    messages.push("doesn't follow extended resource name standard".into());
                }
            }
            for message in messages {
                problems.push(Problem::at(
                    key_node,
                    path(),
                    format!("Invalid value: \"{name}\": {message}"),
                ));
            }
        }
        let negative = match &value.value {
            Value::Str(s) => s.starts_with('-'),
            Value::Int(i) => *i < 0,
            Value::Float(f) => *f < 0.0,
            _ => false,
        };
        if !negative && !is_integer_resource(name) {
            continue;
        }
        let Some(text) = quantity_text(value) else {
            continue;
        };
        let Ok(quantity) = Quantity::parse(&text) else {
            continue;
        };
        if quantity.is_negative() {
            problems.push(Problem::at(
                value,
                path(),
                format!("Invalid value: \"{text}\": must be greater than or equal to 0"),
            ));
        }
        if is_integer_resource(name) && quantity != Quantity::from_value(quantity.value()) {
            problems.push(Problem::at(
                value,
                path(),
                format!("Invalid value: \"{text}\": must be an integer"),
            ));
        }
    }
}

/// `ValidateResourceRequirements` for a container: names and quantities,
/// and resources that cannot be overcommitted (extended resources) need a
/// limit equal to the request.
fn resource_requirements(at: &Location, problems: &mut Vec<Problem>) {
    resource_list(at, "limits", true, problems);
    resource_list(at, "requests", true, problems);
    let limits = at.node.get("limits");
    for (_, name, value) in string_entries(at.node.get("requests")) {
        if !is_extended(name) && !name.starts_with("hugepages-") {
            continue;
        }
        let path = || format!("{}.{name}", at.child("requests"));
        let limit = limits.and_then(|l| l.get(name));
        let parsed = |node: &Node| quantity_text(node).and_then(|t| Quantity::parse(&t).ok());
        match limit {
            None => problems.push(Problem::at(
                value,
                format!("{}.{name}", at.child("limits")),
                "Required value: Limit must be set for non overcommitable resources",
            )),
            Some(limit) => {
                if let (Some(request), Some(bound)) = (parsed(value), parsed(limit))
                    && request != bound
                    && is_extended(name)
                {
                    problems.push(Problem::at(
                        value,
                        path(),
                        format!(
                            "Invalid value: \"{}\": must be equal to {name} limit of {}",
                            quantity_text(value).unwrap_or_default(),
                            quantity_text(limit).unwrap_or_default()
                        ),
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
