//! The manifest each live workload was applied from, which orch keeps as the
//! workload's spec and hashes into its revision: kubectl's last-applied
//! configuration when the object has one, else the live object without what
//! the API server adds (status, bookkeeping metadata, and fields holding
//! Kubernetes' defaults, so a manifest that leaves defaults out matches).

use super::Input;
use super::cluster::Object;
use crate::manifest::Diagnostic;
use crate::manifest::tree::Node;
use crate::manifest::{self, ParseOptions};
use crate::model::workload::{Desired, Kind, ObjectRef};
use crate::sources::Source;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// Labels the controllers add to the pods they create.
pub const CONTROLLER_LABELS: [&str; 3] = [
    "pod-template-hash",
    "controller-revision-hash",
    "pod-template-generation",
];
/// Annotations the controllers write on the objects they manage.
const SERVER_ANNOTATIONS: [&str; 3] = [
    LAST_APPLIED,
    "deployment.kubernetes.io/revision",
    "deprecated.daemonset.template.generation",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    LastApplied,
    Live,
}

/// The object as its owner applied it, and where that came from.
pub fn applied(object: &Object) -> Result<(Value, Origin), Diagnostic> {
    if let Some(text) = object.annotation(LAST_APPLIED) {
        let path = format!("metadata.annotations.{LAST_APPLIED}");
        let mut value: Value = serde_json::from_str(text)
            .map_err(|e| object.error(&path, format!("Invalid value: not JSON: {e}")))?;
        if !value.is_object() {
            return Err(object.error(&path, "Invalid value: not a JSON object"));
        }
        // kubectl records the namespace it applied to, and an empty
        // annotations map, even when the file has neither.
        if let Some(metadata) = value.get_mut("metadata").and_then(Value::as_object_mut) {
            remove_empty(metadata, "annotations");
            if metadata.get("namespace").and_then(Value::as_str) == Some("default") {
                metadata.remove("namespace");
            }
        }
        return Ok((value, Origin::LastApplied));
    }
    let live = object.root.to_json();
    let mut metadata = Map::new();
    for key in ["name", "namespace", "labels", "annotations"] {
        if let Some(value) = live.get("metadata").and_then(|m| m.get(key)) {
            metadata.insert(key.to_string(), value.clone());
        }
    }
    if let Some(annotations) = metadata
        .get_mut("annotations")
        .and_then(Value::as_object_mut)
    {
        for key in SERVER_ANNOTATIONS {
            annotations.remove(key);
        }
    }
    remove_empty(&mut metadata, "annotations");
    remove_empty(&mut metadata, "labels");
    if metadata.get("namespace").and_then(Value::as_str) == Some("default") {
        metadata.remove("namespace");
    }
    let mut spec = live.get("spec").cloned().unwrap_or(Value::Null);
    clean_spec(object.kind(), &mut spec);
    let mut result = Map::new();
    result.insert("apiVersion".into(), live["apiVersion"].clone());
    result.insert("kind".into(), live["kind"].clone());
    result.insert("metadata".into(), Value::Object(metadata));
    if !spec.is_null() {
        result.insert("spec".into(), spec);
    }
    Ok((Value::Object(result), Origin::Live))
}

/// The object each source was made from, and where its manifest came from.
type Owners<'s> = Vec<(&'s Object<'s>, Origin)>;

impl Input<'_> {
    /// Every workload and budget as applied, read by the manifest parser (so
    /// the state holds exactly what `apply` of the same manifests would).
    pub(super) fn applied(
        &self,
        notices: &mut Vec<String>,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> (Desired, BTreeMap<ObjectRef, Origin>) {
        let (mut sources, owners, origins) = self.applied_sources(notices, diagnostics);
        if sources.is_empty() {
            return (Desired::default(), origins);
        }
        let (parsed, dropped) = parse_dropping_unknown(&mut sources);
        for (index, fields) in dropped {
            notices.push(format!(
                "{}: {}: dropped fields orch does not know: {}",
                owners[index].0.location(),
                owners[index].0.id(),
                fields.join(", ")
            ));
        }
        let errors = match parsed {
            Ok(desired) => return (desired, origins),
            Err(errors) => errors,
        };
        for error in errors {
            let Some((object, origin)) =
                error.file.parse::<usize>().ok().and_then(|i| owners.get(i))
            else {
                continue;
            };
            diagnostics.push(not_accepted(object, *origin, &error));
        }
        (Desired::default(), origins)
    }

    /// Each workload and budget as applied, as a source named by its
    /// position, with the object and where its manifest came from.
    fn applied_sources(
        &self,
        notices: &mut Vec<String>,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> (Vec<Source>, Owners<'_>, BTreeMap<ObjectRef, Origin>) {
        let mut sources = Vec::new();
        let mut owners = Vec::new();
        let mut origins = BTreeMap::new();
        let kinds = [
            "Deployment",
            "DaemonSet",
            "StatefulSet",
            "ReplicaSet",
            "Job",
            "PodDisruptionBudget",
        ];
        for kind in kinds {
            for object in self.of_kind(kind) {
                // A Deployment's ReplicaSets are its revisions, not workloads.
                if kind == "ReplicaSet" && super::deployment_of(object).is_some() {
                    continue;
                }
                if kind == "Job"
                    && let Some(outcome) = job_outcome(object)
                {
                    notices.push(format!(
                        "{}: skipping {} ({outcome}): a finished Job holds nothing",
                        object.location(),
                        object.id()
                    ));
                    continue;
                }
                match applied(object) {
                    Ok((value, origin)) => {
                        if let Some(kind) = Kind::parse(kind) {
                            origins.insert(
                                ObjectRef::new(kind, object.namespace(), object.name()),
                                origin,
                            );
                        }
                        sources.push(Source {
                            name: sources.len().to_string(),
                            text: serde_json::to_string(&value).unwrap_or_default(),
                        });
                        owners.push((object, origin));
                    }
                    Err(error) => diagnostics.push(error),
                }
            }
        }
        (sources, owners, origins)
    }
}

/// The sources parsed; fields this orch does not know (a newer Kubernetes)
/// are dropped, by source, and the parse tried again: the API server
/// accepted them, so they are not typos.
fn parse_dropping_unknown(
    sources: &mut [Source],
) -> (
    Result<Desired, Vec<Diagnostic>>,
    BTreeMap<usize, Vec<String>>,
) {
    let mut dropped: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let parsed = loop {
        let errors = match manifest::parse(sources, &ParseOptions { strict: true }) {
            Ok(loaded) => break Ok(loaded.desired),
            Err(errors) => errors,
        };
        let mut removed = false;
        for error in errors
            .iter()
            .filter(|e| e.message.starts_with("unknown field"))
        {
            let Ok(index) = error.file.parse::<usize>() else {
                continue;
            };
            let mut value: serde_json::Value =
                serde_json::from_str(&sources[index].text).unwrap_or_default();
            if remove_path(&mut value, &error.field) {
                sources[index].text = serde_json::to_string(&value).unwrap_or_default();
                dropped.entry(index).or_default().push(error.field.clone());
                removed = true;
            }
        }
        if !removed {
            break Err(errors);
        }
    };
    (parsed, dropped)
}

/// An error of `object`'s manifest as applied (from `origin`), located on
/// the object.
fn not_accepted(object: &Object, origin: Origin, error: &Diagnostic) -> Diagnostic {
    let (path, from) = match origin {
        Origin::LastApplied => (
            format!("metadata.annotations.{}", LAST_APPLIED),
            "its last-applied configuration",
        ),
        Origin::Live => (error.field.clone(), "the live object"),
    };
    let mut diagnostic = object.error(&path, String::new());
    diagnostic.message = format!(
        "{} as applied ({from}) is not a manifest orch accepts: {}{}",
        object.id(),
        if error.field.is_empty() {
            String::new()
        } else {
            format!("{}: ", error.field)
        },
        error.message
    );
    diagnostic.field = path;
    diagnostic
}

/// The condition a finished Job reached (`Complete` or `Failed`), if it did.
fn job_outcome(job: &Object) -> Option<&'static str> {
    let conditions = super::cluster::items(super::cluster::at(job.root, &["status", "conditions"]));
    ["Complete", "Failed"].into_iter().find(|kind| {
        conditions.iter().any(|c| {
            c.get("type").and_then(Node::as_str) == Some(kind)
                && c.get("status").and_then(Node::as_str) == Some("True")
        })
    })
}

/// A ReplicaSet's template as its Deployment declared it (without the
/// `pod-template-hash` label the Deployment controller adds).
pub fn replica_set_template(replica_set: &Object) -> Option<Value> {
    let mut template = replica_set
        .root
        .to_json()
        .get("spec")?
        .get("template")?
        .clone();
    clean_template(&mut template);
    Some(template)
}

/// The template a pod was created from, as well as the pod shows it (for a
/// revision whose ReplicaSet is not in the input).
pub fn pod_template(pod: &Object, daemon_set: bool) -> Value {
    let live = pod.root.to_json();
    let mut metadata = Map::new();
    for key in ["labels", "annotations"] {
        if let Some(value) = live.get("metadata").and_then(|m| m.get(key)) {
            metadata.insert(key.to_string(), value.clone());
        }
    }
    let mut spec = live
        .get("spec")
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()));
    if let Some(spec) = spec.as_object_mut() {
        // Set by the scheduler and by admission, not by the template.
        for key in [
            "nodeName",
            "serviceAccount",
            "enableServiceLinks",
            "preemptionPolicy",
            "priority",
        ] {
            spec.remove(key);
        }
        if daemon_set {
            // The DaemonSet controller pins each pod to its node with this term.
            spec.remove("affinity");
        }
    }
    let mut template = serde_json::json!({ "metadata": metadata, "spec": spec });
    clean_template(&mut template);
    template
}

/// The part of a live pod that decides where it may run and what it holds
/// (labels; containers' names and resources; node selection, affinity,
/// tolerations, spread; overhead and pod-level resources): what orch keeps
/// of a pod it does not manage.
pub fn scheduling_template(pod: &Object) -> Value {
    let live = pod.root.to_json();
    let mut metadata = Map::new();
    if let Some(labels) = live.get("metadata").and_then(|m| m.get("labels")) {
        metadata.insert("labels".into(), labels.clone());
    }
    let mut spec = Map::new();
    let live_spec = live.get("spec");
    for list in ["containers", "initContainers"] {
        let Some(containers) = live_spec
            .and_then(|s| s.get(list))
            .and_then(Value::as_array)
        else {
            continue;
        };
        let kept: Vec<Value> = containers
            .iter()
            .map(|container| {
                let mut kept = Map::new();
                for key in ["name", "resources", "restartPolicy"] {
                    if let Some(value) = container.get(key) {
                        kept.insert(key.into(), value.clone());
                    }
                }
                Value::Object(kept)
            })
            .collect();
        spec.insert(list.into(), Value::Array(kept));
    }
    for key in [
        "nodeSelector",
        "affinity",
        "tolerations",
        "topologySpreadConstraints",
        "overhead",
        "resources",
        "priorityClassName",
        "priority",
    ] {
        if let Some(value) = live_spec.and_then(|s| s.get(key)) {
            spec.insert(key.into(), value.clone());
        }
    }
    let mut template = serde_json::json!({ "metadata": metadata, "spec": spec });
    if let Some(metadata) = template.get_mut("metadata").and_then(Value::as_object_mut) {
        remove_empty(metadata, "labels");
    }
    template
}

fn clean_template(template: &mut Value) {
    if let Some(metadata) = template.get_mut("metadata").and_then(Value::as_object_mut) {
        if metadata
            .get("creationTimestamp")
            .is_some_and(Value::is_null)
        {
            metadata.remove("creationTimestamp");
        }
        if let Some(labels) = metadata.get_mut("labels").and_then(Value::as_object_mut) {
            for key in CONTROLLER_LABELS {
                labels.remove(key);
            }
        }
        remove_empty(metadata, "labels");
        remove_empty(metadata, "annotations");
    }
    if let Some(spec) = template.get_mut("spec") {
        prune_pod_defaults(spec);
    }
}

/// Remove the field at `path` (`spec.template.spec.containers[0].name`); false if absent.
pub fn remove_path(value: &mut Value, path: &str) -> bool {
    let mut segments: Vec<&str> = Vec::new();
    for part in path.split('.') {
        let mut rest = part;
        while let Some(open) = rest.find('[') {
            if open > 0 {
                segments.push(&rest[..open]);
            }
            let close = rest[open..].find(']').map_or(rest.len(), |c| open + c + 1);
            segments.push(&rest[open..close]);
            rest = &rest[close..];
        }
        if !rest.is_empty() {
            segments.push(rest);
        }
    }
    let Some((last, parents)) = segments.split_last() else {
        return false;
    };
    let mut node = value;
    for segment in parents {
        let next = match segment.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            Some(index) => index.parse::<usize>().ok().and_then(|i| node.get_mut(i)),
            None => node.get_mut(*segment),
        };
        match next {
            Some(next) => node = next,
            None => return false,
        }
    }
    node.as_object_mut()
        .is_some_and(|map| map.remove(*last).is_some())
}

fn remove_empty(map: &mut Map<String, Value>, key: &str) {
    let empty = match map.get(key) {
        Some(Value::Object(inner)) => inner.is_empty(),
        Some(Value::Array(inner)) => inner.is_empty(),
        Some(Value::Null) => true,
        _ => false,
    };
    if empty {
        map.remove(key);
    }
}

/// Remove `key` when it holds `default`.
fn prune(map: &mut Map<String, Value>, key: &str, default: &Value) {
    if map.get(key) == Some(default) {
        map.remove(key);
    }
}

/// A live Deployment or DaemonSet spec without the defaults the API server fills in.
pub fn clean_spec(kind: &str, spec: &mut Value) {
    let Some(map) = spec.as_object_mut() else {
        return;
    };
    use serde_json::json;
    prune(map, "revisionHistoryLimit", &json!(10));
    match kind {
        "Deployment" => {
            prune(map, "progressDeadlineSeconds", &json!(600));
            prune(
                map,
                "strategy",
                &json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}),
            );
        }
        "DaemonSet" => prune(
            map,
            "updateStrategy",
            &json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}),
        ),
        "StatefulSet" => {
            prune(map, "podManagementPolicy", &json!("OrderedReady"));
            prune(
                map,
                "updateStrategy",
                &json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}),
            );
            prune(
                map,
                "persistentVolumeClaimRetentionPolicy",
                &json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
            );
        }
        // An orphaned Deployment's ReplicaSet keeps the hash label the
        // template loses (`clean_template`): its selector loses it too.
        "ReplicaSet" => {
            if let Some(labels) = map
                .get_mut("selector")
                .and_then(|s| s.get_mut("matchLabels"))
                .and_then(Value::as_object_mut)
            {
                labels.remove("pod-template-hash");
            }
        }
        // The Job controller's own selector and labels (`controller-uid`,
        // `job-name`): it makes them again for the Job it runs.
        "Job" => {
            map.remove("selector");
            map.remove("manualSelector");
            if let Some(labels) = map
                .get_mut("template")
                .and_then(|t| t.get_mut("metadata"))
                .and_then(|m| m.get_mut("labels"))
                .and_then(Value::as_object_mut)
            {
                for key in [
                    "controller-uid",
                    "job-name",
                    "batch.kubernetes.io/controller-uid",
                    "batch.kubernetes.io/job-name",
                ] {
                    labels.remove(key);
                }
            }
        }
        _ => {}
    }
    if let Some(template) = map.get_mut("template") {
        clean_template(template);
    }
}

/// The pod-level and container-level defaults (`SetDefaults_PodSpec`, `SetDefaults_Container`, probes, ports).
fn prune_pod_defaults(spec: &mut Value) {
    use serde_json::json;
    let Some(map) = spec.as_object_mut() else {
        return;
    };
    prune(map, "restartPolicy", &json!("Always"));
    prune(map, "terminationGracePeriodSeconds", &json!(30));
    prune(map, "dnsPolicy", &json!("ClusterFirst"));
    prune(map, "schedulerName", &json!("default-scheduler"));
    remove_empty(map, "securityContext");
    for list in ["containers", "initContainers"] {
        for container in map
            .get_mut(list)
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
            .filter_map(Value::as_object_mut)
        {
            prune_container_defaults(container);
        }
    }
}

fn prune_container_defaults(container: &mut Map<String, Value>) {
    use serde_json::json;
    prune(
        container,
        "terminationMessagePath",
        &json!("/dev/termination-log"),
    );
    prune(container, "terminationMessagePolicy", &json!("File"));
    // `Always` for `:latest` or untagged images, `IfNotPresent` otherwise.
    let image = container
        .get("image")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let last = image.rsplit('/').next().unwrap_or_default();
    let tag = last.split_once(':').map(|(_, tag)| tag);
    let default_policy = if image.contains('@') || tag.is_some_and(|t| t != "latest") {
        "IfNotPresent"
    } else {
        "Always"
    };
    prune(container, "imagePullPolicy", &json!(default_policy));
    remove_empty(container, "resources");
    for port in container
        .get_mut("ports")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
    {
        prune(port, "protocol", &json!("TCP"));
    }
    for probe in ["readinessProbe", "livenessProbe", "startupProbe"] {
        let Some(probe) = container.get_mut(probe).and_then(Value::as_object_mut) else {
            continue;
        };
        prune(probe, "timeoutSeconds", &json!(1));
        prune(probe, "periodSeconds", &json!(10));
        prune(probe, "successThreshold", &json!(1));
        prune(probe, "failureThreshold", &json!(3));
        if let Some(get) = probe.get_mut("httpGet").and_then(Value::as_object_mut) {
            prune(get, "scheme", &json!("HTTP"));
        }
    }
}

#[cfg(test)]
mod tests;
