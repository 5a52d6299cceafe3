//! `kubectl get nodes,pods,deployments,daemonsets,replicasets,pdb -A -o yaml`
//! → a `State`: the live cluster as orch's observed state, so that `plan`
//! with the cluster's own manifests starts from what runs today. Pure: the
//! texts come from `sources`, the state goes to the state store.
//!
//! Nodes keep their allocatable resources, labels, taints, cordon and
//! readiness; Deployments, DaemonSets and PodDisruptionBudgets are recorded
//! as applied (`spec`); every running or pending pod of a Deployment or
//! DaemonSet becomes a replica on its node, in the revision its controller
//! hash names (see `revisions`). Times become simulated seconds since the
//! oldest object was created.

pub mod cluster;
pub mod revisions;
pub mod spec;

use crate::manifest::tree::{self, Node, Value};
use crate::manifest::{self, Diagnostic, ParseOptions};
use crate::model::state::{Condition, NodeSource, NodeState, Phase, Replica, State, WorkloadState};
use crate::model::workload::{Desired, Kind, ObjectRef};
use crate::reconcile::{self, Action};
use crate::sources::Source;
use cluster::{Object, at, condition, is_true, items, parse_time};
use revisions::{Found, Mapping};
use std::collections::{BTreeMap, BTreeSet};

/// The kinds read from the input; everything else is skipped with a notice.
const KINDS: [(&str, &str); 6] = [
    ("Node", "v1"),
    ("Pod", "v1"),
    ("Deployment", "apps/v1"),
    ("DaemonSet", "apps/v1"),
    ("ReplicaSet", "apps/v1"),
    ("PodDisruptionBudget", "policy/v1"),
];

/// How one workload's revisions were mapped (for the summary).
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadSummary {
    pub id: ObjectRef,
    /// The spec came from kubectl's last-applied configuration (else from the live object).
    pub last_applied: bool,
    /// (revision, orch hash, Kubernetes hashes, replicas)
    pub revisions: Vec<(u64, String, Vec<String>, usize)>,
}

#[derive(Debug, Clone)]
pub struct Imported {
    pub state: State,
    pub workloads: Vec<WorkloadSummary>,
    /// Things skipped, one line each.
    pub notices: Vec<String>,
}

/// Read every source (each a `kind: List`) into a state; all errors at once.
pub fn import(sources: &[Source]) -> Result<Imported, Vec<Diagnostic>> {
    let mut diagnostics = Vec::new();
    let mut documents: Vec<(&str, Node)> = Vec::new();
    for source in sources {
        match tree::parse_documents(&source.text) {
            Ok(docs) => documents.extend(docs.into_iter().map(|d| (source.name.as_str(), d))),
            Err((line, column, message)) => diagnostics.push(Diagnostic {
                file: source.name.clone(),
                line,
                column,
                field: String::new(),
                message,
            }),
        }
    }
    let mut input = Input::default();
    for (file, document) in &documents {
        input.list(file, document, &mut diagnostics);
    }
    if !diagnostics.is_empty() {
        return Err(diagnostics);
    }
    let imported = input.build(&mut diagnostics);
    if diagnostics.is_empty() {
        Ok(imported)
    } else {
        Err(diagnostics)
    }
}

#[derive(Default)]
struct Input<'a> {
    /// By kind, then `Kind/namespace/name`.
    objects: BTreeMap<&'static str, BTreeMap<String, Object<'a>>>,
    /// Kinds skipped: kind → (count, first location).
    skipped_kinds: BTreeMap<String, (usize, String)>,
}

impl<'a> Input<'a> {
    fn list(&mut self, file: &'a str, document: &'a Node, diagnostics: &mut Vec<Diagnostic>) {
        if document.value == Value::Null {
            return;
        }
        let object = Object {
            file,
            root: document,
        };
        let kind = object.kind();
        let is_list = kind == "List" || kind.ends_with("List");
        match at(document, &["items"]).map(|n| &n.value) {
            Some(Value::Seq(list)) if is_list => {
                for item in list {
                    self.object(file, item, diagnostics);
                }
            }
            _ if is_list => diagnostics.push(object.error("items", "Required value: a List needs items")),
            _ => diagnostics.push(object.error(
                if kind.is_empty() { "" } else { "kind" },
                format!(
                    "expected a List (the output of `kubectl get nodes,pods,deployments,daemonsets,replicasets,pdb -A -o yaml`), got {}",
                    if kind.is_empty() { "a document without a kind".to_string() } else { format!("kind {kind}") }
                ),
            )),
        }
    }

    fn object(&mut self, file: &'a str, root: &'a Node, diagnostics: &mut Vec<Diagnostic>) {
        let object = Object { file, root };
        let (kind, version) = (
            object.kind(),
            object.str(&["apiVersion"]).unwrap_or_default(),
        );
        let Some(&(known, _)) = KINDS.iter().find(|(k, v)| *k == kind && *v == version) else {
            let label = if kind.is_empty() {
                "objects without a kind".to_string()
            } else {
                format!("{kind} ({version})")
            };
            let entry = self
                .skipped_kinds
                .entry(label)
                .or_insert((0, object.location()));
            entry.0 += 1;
            return;
        };
        if object.name().is_empty() {
            diagnostics.push(object.error("metadata.name", "Required value: name is required"));
            return;
        }
        let id = object.id();
        let by_kind = self.objects.entry(known).or_default();
        if let Some(first) = by_kind.get(&id) {
            diagnostics.push(object.error(
                "metadata.name",
                format!(
                    "Duplicate value: {id} is also listed at {}",
                    first.location()
                ),
            ));
            return;
        }
        by_kind.insert(id, object);
    }

    fn of_kind(&self, kind: &str) -> impl Iterator<Item = &Object<'a>> {
        self.objects
            .get(kind)
            .into_iter()
            .flat_map(BTreeMap::values)
    }

    fn get(&self, kind: &str, namespace: &str, name: &str) -> Option<&Object<'a>> {
        self.objects
            .get(kind)?
            .get(&format!("{kind}/{namespace}/{name}"))
    }

    fn build(&self, diagnostics: &mut Vec<Diagnostic>) -> Imported {
        let mut notices: Vec<String> = self
            .skipped_kinds
            .iter()
            .map(|(kind, (count, first))| {
                format!("{first}: skipping {count} {kind} object{} (orch imports Nodes, Pods, Deployments, DaemonSets, ReplicaSets and PodDisruptionBudgets)", plural(*count))
            })
            .collect();
        let clock = Clock::new(self);
        let nodes: Vec<NodeState> = self
            .of_kind("Node")
            .map(|n| node(n, &clock, diagnostics))
            .collect();
        let (desired, origins) = self.applied(&mut notices, diagnostics);
        let pods = self.attribute_pods(&desired, &nodes, &mut notices, diagnostics);
        let mut state = State {
            generation: 1,
            clock: clock.now,
            nodes,
            ..State::default()
        };
        let mut summaries = Vec::new();
        for workload in &desired.workloads {
            let mine: Vec<&(ObjectRef, Option<String>, &Object)> = pods
                .iter()
                .filter(|(id, _, _)| id == &workload.id)
                .collect();
            let mapping = self.revisions(workload, &mine);
            for (_, key, pod) in &mine {
                let (revision, hash) = mapping.of(key.as_deref());
                state
                    .replicas
                    .push(replica(pod, &workload.id, revision, hash, &clock));
            }
            summaries.push(WorkloadSummary {
                id: workload.id.clone(),
                last_applied: origins.get(&workload.id) == Some(&spec::Origin::LastApplied),
                revisions: mapping
                    .revisions
                    .iter()
                    .map(|r| {
                        let keys: Vec<String> = mapping
                            .by_key
                            .iter()
                            .filter(|(_, (n, _))| *n == r.revision)
                            .map(|(k, _)| k.clone())
                            .collect();
                        let count = mine
                            .iter()
                            .filter(|(_, key, _)| mapping.of(key.as_deref()).0 == r.revision)
                            .count();
                        (r.revision, r.hash.clone(), keys, count)
                    })
                    .collect(),
            });
            state.workloads.push(WorkloadState {
                kind: workload.id.kind,
                namespace: workload.id.namespace.clone(),
                name: workload.id.name.clone(),
                spec: workload.manifest.clone(),
                revisions: mapping.revisions,
                status: Default::default(),
            });
        }
        for budget in &desired.disruption_budgets {
            state.workloads.push(WorkloadState {
                kind: Kind::PodDisruptionBudget,
                namespace: budget.id.namespace.clone(),
                name: budget.id.name.clone(),
                spec: budget.manifest.clone(),
                revisions: Vec::new(),
                status: Default::default(),
            });
        }
        state.sort();
        state.replicas.sort_by(|a, b| {
            a.workload
                .cmp(&b.workload)
                .then_with(|| a.name.cmp(&b.name))
        });
        record_status(&desired, &mut state);
        notices.sort();
        Imported {
            state,
            workloads: summaries,
            notices,
        }
    }

    /// Every workload and budget as applied, read by the manifest parser (so
    /// the state holds exactly what `apply` of the same manifests would).
    fn applied(
        &self,
        notices: &mut Vec<String>,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> (Desired, BTreeMap<ObjectRef, spec::Origin>) {
        let mut sources = Vec::new();
        let mut owners = Vec::new();
        let mut origins = BTreeMap::new();
        for kind in ["Deployment", "DaemonSet", "PodDisruptionBudget"] {
            for object in self.of_kind(kind) {
                match spec::applied(object) {
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
        if sources.is_empty() {
            return (Desired::default(), origins);
        }
        // Fields this orch does not know (a newer Kubernetes) are dropped with
        // a notice: the API server accepted them, so they are not typos.
        let mut dropped: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        let parsed = loop {
            let errors = match manifest::parse(&sources, &ParseOptions { strict: true }) {
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
                if spec::remove_path(&mut value, &error.field) {
                    sources[index].text = serde_json::to_string(&value).unwrap_or_default();
                    dropped.entry(index).or_default().push(error.field.clone());
                    removed = true;
                }
            }
            if !removed {
                break Err(errors);
            }
        };
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
            let (path, from) = match origin {
                spec::Origin::LastApplied => (
                    format!("metadata.annotations.{}", spec::LAST_APPLIED),
                    "its last-applied configuration",
                ),
                spec::Origin::Live => (error.field.clone(), "the live object"),
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
            diagnostics.push(diagnostic);
        }
        (Desired::default(), origins)
    }

    /// Each running or pending pod with its workload and revision key; the rest noted.
    fn attribute_pods(
        &self,
        desired: &Desired,
        nodes: &[NodeState],
        notices: &mut Vec<String>,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Vec<(ObjectRef, Option<String>, &Object<'a>)> {
        let declared: BTreeSet<&ObjectRef> = desired.workloads.iter().map(|w| &w.id).collect();
        let node_names: BTreeSet<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
        let mut skipped: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        let mut pods = Vec::new();
        for pod in self.of_kind("Pod") {
            let namespace = pod.namespace();
            let phase = pod.str(&["status", "phase"]).unwrap_or("Pending");
            if !matches!(phase, "Running" | "Pending") {
                skipped
                    .entry(format!("finished ({phase})"))
                    .or_default()
                    .push(pod.name());
                continue;
            }
            if at(pod.root, &["metadata", "deletionTimestamp"]).is_some() {
                skipped
                    .entry("terminating".into())
                    .or_default()
                    .push(pod.name());
                continue;
            }
            let labels = pod.labels();
            let owner = pod.owners().into_iter().next();
            let (id, key) = match owner {
                Some(("ReplicaSet", replica_set)) => {
                    let hash = labels.get("pod-template-hash").cloned();
                    let deployment = match self.get("ReplicaSet", namespace, replica_set) {
                        Some(rs) => rs
                            .owners()
                            .into_iter()
                            .find(|(kind, _)| *kind == "Deployment")
                            .map(|(_, name)| name.to_string()),
                        None => hash.as_ref().and_then(|h| {
                            replica_set
                                .strip_suffix(&format!("-{h}"))
                                .map(str::to_string)
                        }),
                    };
                    let Some(deployment) = deployment else {
                        skipped
                            .entry(format!(
                                "owned by ReplicaSet {replica_set}, which no Deployment owns"
                            ))
                            .or_default()
                            .push(pod.name());
                        continue;
                    };
                    (
                        ObjectRef::new(Kind::Deployment, namespace, &deployment),
                        hash,
                    )
                }
                Some(("DaemonSet", daemon_set)) => (
                    ObjectRef::new(Kind::DaemonSet, namespace, daemon_set),
                    labels.get("controller-revision-hash").cloned(),
                ),
                Some((kind, _)) => {
                    skipped
                        .entry(format!("owned by a {kind}"))
                        .or_default()
                        .push(pod.name());
                    continue;
                }
                None => {
                    skipped
                        .entry("without an owner".into())
                        .or_default()
                        .push(pod.name());
                    continue;
                }
            };
            if !declared.contains(&id) {
                skipped
                    .entry(format!("of {id}, which is not in the input"))
                    .or_default()
                    .push(pod.name());
                continue;
            }
            if let Some(node) = pod.str(&["spec", "nodeName"])
                && !node_names.contains(node)
            {
                diagnostics.push(pod.error(
                    "spec.nodeName",
                    format!("Invalid value: \"{node}\": pod {}/{} is bound to a node that is not in the input", namespace, pod.name()),
                ));
                continue;
            }
            pods.push((id, key, pod));
        }
        let total: usize = skipped.values().map(Vec::len).sum();
        if total > 0 {
            let reasons: Vec<String> = skipped
                .iter()
                .map(|(why, names)| format!("{} {why} ({})", names.len(), names.join(", ")))
                .collect();
            notices.push(format!(
                "skipped {total} pod{}: {}; orch simulates only Deployment and DaemonSet replicas that run or wait to run",
                plural(total),
                reasons.join("; ")
            ));
        }
        pods
    }

    /// The Kubernetes revisions of one workload, mapped onto orch's.
    fn revisions(
        &self,
        workload: &crate::model::workload::Workload,
        pods: &[&(ObjectRef, Option<String>, &Object)],
    ) -> Mapping {
        let id = &workload.id;
        let mut found: Vec<Found> = Vec::new();
        let live = self.get(id.kind.as_str(), &id.namespace, &id.name);
        let number = |text: Option<&str>| text.and_then(|t| t.parse::<u64>().ok());
        let current_number;
        match id.kind {
            Kind::Deployment => {
                current_number =
                    number(live.and_then(|d| d.annotation("deployment.kubernetes.io/revision")));
                let live_template = live.map(|d| {
                    let mut spec = d.root.to_json().get("spec").cloned().unwrap_or_default();
                    spec::clean_spec(d.kind(), &mut spec);
                    spec.get("template").cloned().unwrap_or_default()
                });
                for rs in self.of_kind("ReplicaSet").filter(|rs| {
                    rs.namespace() == id.namespace
                        && rs.owners().contains(&("Deployment", id.name.as_str()))
                }) {
                    let Some(key) = rs.labels().get("pod-template-hash").cloned() else {
                        continue;
                    };
                    let revision = number(rs.annotation("deployment.kubernetes.io/revision"));
                    let template = spec::replica_set_template(rs);
                    let current = match current_number {
                        Some(n) => revision == Some(n),
                        None => template.is_some() && template == live_template,
                    };
                    found.push(Found {
                        key,
                        number: revision,
                        template,
                        current,
                    });
                }
            }
            _ => {
                current_number = number(
                    live.and_then(|d| d.annotation("deprecated.daemonset.template.generation")),
                );
            }
        }
        // Hashes seen only on pods (no ReplicaSet in the input, or a DaemonSet).
        let keys: BTreeSet<&str> = pods.iter().filter_map(|(_, k, _)| k.as_deref()).collect();
        let only_key = keys.len() == 1;
        for key in keys {
            if found.iter().any(|f| f.key == key) {
                continue;
            }
            let pod = pods
                .iter()
                .find(|(_, k, _)| k.as_deref() == Some(key))
                .map(|(_, _, p)| *p);
            let generation = pod.and_then(|p| {
                p.labels()
                    .get("pod-template-generation")
                    .and_then(|g| g.parse::<u64>().ok())
            });
            let current = match (id.kind, current_number, generation) {
                (Kind::DaemonSet, Some(n), Some(g)) => n == g,
                (Kind::Deployment, _, _) if found.is_empty() => only_key,
                (Kind::Deployment, _, _) => false,
                _ => only_key,
            };
            found.push(Found {
                key: key.to_string(),
                number: if id.kind == Kind::DaemonSet {
                    generation
                } else {
                    None
                },
                template: pod.map(|p| spec::pod_template(p, id.kind == Kind::DaemonSet)),
                current,
            });
        }
        revisions::map(
            &workload.template_hash,
            &workload.template,
            current_number,
            &found,
        )
    }
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

/// Wall-clock times become simulated seconds since the oldest object was
/// created; the state's clock is the newest time in the input.
struct Clock {
    epoch: i64,
    now: u64,
}

impl Clock {
    fn new(input: &Input) -> Clock {
        let mut times = Vec::new();
        for object in input.objects.values().flat_map(BTreeMap::values) {
            collect_times(object.root, &mut times);
        }
        let epoch = times.iter().copied().min().unwrap_or(0);
        let newest = times.iter().copied().max().unwrap_or(0);
        Clock {
            epoch,
            now: (newest - epoch).max(0) as u64,
        }
    }

    fn at(&self, text: Option<&str>) -> Option<u64> {
        text.and_then(parse_time)
            .map(|t| (t - self.epoch).clamp(0, self.now as i64) as u64)
    }
}

/// The times that say when things happened (creation, start, conditions).
fn collect_times(node: &Node, times: &mut Vec<i64>) {
    const KEYS: [&str; 4] = [
        "creationTimestamp",
        "startTime",
        "lastTransitionTime",
        "startedAt",
    ];
    match &node.value {
        Value::Map(entries) => {
            for (key, value) in entries {
                if key.as_str() == Some("managedFields") {
                    continue;
                }
                match value.as_str() {
                    Some(text) if key.as_str().is_some_and(|k| KEYS.contains(&k)) => {
                        times.extend(parse_time(text));
                    }
                    _ => collect_times(value, times),
                }
            }
        }
        Value::Seq(list) => list.iter().for_each(|item| collect_times(item, times)),
        _ => {}
    }
}

fn node(object: &Object, clock: &Clock, diagnostics: &mut Vec<Diagnostic>) -> NodeState {
    let mut labels = object.labels();
    labels
        .entry(manifest::HOSTNAME_LABEL.to_string())
        .or_insert_with(|| object.name().to_string());
    let unschedulable = is_true(at(object.root, &["spec", "unschedulable"]));
    let ready = condition(object, "Ready");
    let (is_ready, conditions, not_ready_since) = match ready {
        Some([status, reason, message, since]) => {
            let since = clock.at(Some(since)).unwrap_or(clock.now);
            (
                status == "True",
                vec![Condition::ready(status, reason, message, since)],
                (status != "True").then_some(since),
            )
        }
        // A node that never reported is not ready (the node controller's Unknown).
        None => (false, Vec::new(), Some(clock.now)),
    };
    NodeState {
        name: object.name().to_string(),
        labels,
        allocatable: cluster::allocatable(object, diagnostics),
        taints: cluster::taints(object, diagnostics),
        unschedulable,
        // A cordon is an operator's act, not part of a node's manifest.
        cordoned: unschedulable,
        draining: false,
        removing: false,
        ready: is_ready,
        not_ready_since,
        conditions,
        source: NodeSource::Manifest,
    }
}

fn replica(
    pod: &Object,
    workload: &ObjectRef,
    revision: u64,
    hash: String,
    clock: &Clock,
) -> Replica {
    let node = pod.str(&["spec", "nodeName"]).map(str::to_string);
    let ready = condition(pod, "Ready");
    let is_ready = node.is_some() && ready.is_some_and(|[status, ..]| status == "True");
    let scheduled = condition(pod, "PodScheduled");
    let restarts = items(at(pod.root, &["status", "containerStatuses"]))
        .iter()
        .filter_map(|s| match s.get("restartCount").map(|n| &n.value) {
            Some(Value::Int(n)) => u32::try_from(*n).ok(),
            Some(Value::UInt(n)) => u32::try_from(*n).ok(),
            _ => None,
        })
        .sum();
    // A DaemonSet pod is pinned to its node by a matchFields term on metadata.name.
    let target_node = (workload.kind == Kind::DaemonSet).then(|| {
        node.clone().or_else(|| {
            let terms = at(
                pod.root,
                &[
                    "spec",
                    "affinity",
                    "nodeAffinity",
                    "requiredDuringSchedulingIgnoredDuringExecution",
                    "nodeSelectorTerms",
                ],
            );
            items(terms).iter().find_map(|term| {
                items(term.get("matchFields")).iter().find_map(|field| {
                    (field.get("key").and_then(Node::as_str) == Some("metadata.name"))
                        .then(|| items(field.get("values")).first().and_then(Node::as_str))
                        .flatten()
                        .map(str::to_string)
                })
            })
        })
    });
    let created_at = clock
        .at(pod.str(&["metadata", "creationTimestamp"]))
        .unwrap_or(0);
    Replica {
        name: pod.name().to_string(),
        workload: workload.clone(),
        revision,
        hash,
        target_node: target_node.flatten(),
        // orch starts a replica when it binds it; a pod still creating its containers is not ready yet.
        phase: if node.is_some() {
            Phase::Running
        } else {
            Phase::Pending
        },
        ready: is_ready,
        created_at,
        started_at: node.as_ref().map(|_| {
            clock
                .at(pod.str(&["status", "startTime"]))
                .unwrap_or(created_at)
        }),
        ready_at: is_ready.then(|| clock.at(ready.map(|r| r[3])).unwrap_or(created_at)),
        restarts,
        reason: match scheduled {
            Some([status, _, message, _])
                if node.is_none() && status == "False" && !message.is_empty() =>
            {
                Some(message.to_string())
            }
            _ => None,
        },
        node,
    }
}

/// Each Deployment's status as its controller computes it from the imported
/// replicas (the same pass `plan` runs, keeping only the status it writes).
fn record_status(desired: &Desired, state: &mut State) {
    let scheduler =
        crate::scheduler::Scheduler::new(crate::scheduler::ScoringStrategy::LeastAllocated);
    let options = reconcile::Options {
        prune: reconcile::Prune::Keep,
    };
    let plan = reconcile::reconcile(desired, state, state.clock, &scheduler, &options);
    for action in plan.actions {
        if let Action::SetStatus { workload, status } = action
            && let Some(stored) = state.workload_mut(&workload)
        {
            stored.status = status;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = r#"
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Node
  metadata: {name: n1, creationTimestamp: "2026-11-01T00:00:00Z"}
  spec:
    unschedulable: true
    taints:
    - {key: node.kubernetes.io/unschedulable, effect: NoSchedule, timeAdded: "2026-11-01T01:00:00Z"}
    - {key: dedicated, value: db, effect: NoSchedule}
  status:
    capacity: {cpu: "4", memory: 16Gi, pods: "110", hugepages-2Mi: "0"}
    conditions:
    - {type: Ready, status: "True", reason: KubeletReady, lastTransitionTime: "2026-11-01T00:00:30Z"}
- apiVersion: v1
  kind: Node
  metadata: {name: n2, creationTimestamp: "2026-11-01T00:00:00Z"}
  status:
    allocatable: {cpu: 3500m, memory: 15Gi}
    conditions:
    - {type: Ready, status: Unknown, reason: NodeStatusUnknown, message: Kubelet stopped posting node status., lastTransitionTime: "2026-11-01T02:00:00Z"}
- apiVersion: apps/v1
  kind: DaemonSet
  metadata:
    name: agent
    namespace: ops
    annotations: {deprecated.daemonset.template.generation: "3"}
  spec:
    selector: {matchLabels: {app: agent}}
    template:
      metadata: {labels: {app: agent}}
      spec:
        containers: [{name: agent, image: agent:1}]
- apiVersion: v1
  kind: Pod
  metadata:
    name: agent-x1
    namespace: ops
    creationTimestamp: "2026-11-01T03:00:00Z"
    labels: {app: agent, controller-revision-hash: abc, pod-template-generation: "3"}
    ownerReferences: [{kind: DaemonSet, name: agent, controller: true}]
  spec:
    affinity:
      nodeAffinity:
        requiredDuringSchedulingIgnoredDuringExecution:
          nodeSelectorTerms:
          - matchFields: [{key: metadata.name, operator: In, values: [n1]}]
    containers: [{name: agent, image: agent:1}]
  status:
    phase: Pending
    conditions:
    - {type: PodScheduled, status: "False", reason: Unschedulable, message: "0/2 nodes are available: 2 Insufficient cpu."}
- apiVersion: v1
  kind: Pod
  metadata:
    name: agent-old
    namespace: ops
    creationTimestamp: "2026-11-01T00:10:00Z"
    labels: {app: agent, controller-revision-hash: old, pod-template-generation: "2"}
    ownerReferences: [{kind: DaemonSet, name: agent, controller: true}]
  spec:
    nodeName: n2
    containers: [{name: agent, image: agent:0}]
  status:
    phase: Running
    startTime: "2026-11-01T00:10:02Z"
    containerStatuses: [{name: agent, restartCount: 4}]
    conditions:
    - {type: Ready, status: "True", lastTransitionTime: "2026-11-01T00:10:05Z"}
"#;

    fn imported() -> Imported {
        import(&[Source {
            name: "cluster.yaml".into(),
            text: LIST.into(),
        }])
        .unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn nodes_keep_cordons_readiness_and_their_own_taints() {
        let state = imported().state;
        let n1 = state.node("n1").unwrap();
        assert!(n1.cordoned && n1.unschedulable && n1.ready);
        assert_eq!(
            n1.taints,
            vec![crate::model::pod::Taint::new(
                "dedicated",
                "db",
                crate::model::pod::TaintEffect::NoSchedule
            )]
        );
        assert_eq!(n1.allocatable.resources.get("cpu"), 4000);
        assert!(!n1.allocatable.to_map().contains_key("hugepages-2Mi"));
        let n2 = state.node("n2").unwrap();
        assert!(!n2.ready);
        assert_eq!(n2.not_ready_since, Some(7200));
        assert_eq!(n2.conditions[0].status, "Unknown");
        assert_eq!(state.clock, 3 * 3600);
    }

    #[test]
    fn daemon_set_pods_map_by_template_generation() {
        let Imported {
            state, workloads, ..
        } = imported();
        let pending = state
            .replicas
            .iter()
            .find(|r| r.name == "agent-x1")
            .unwrap();
        assert_eq!(pending.phase, Phase::Pending);
        assert_eq!(pending.node, None);
        assert_eq!(pending.target_node.as_deref(), Some("n1"));
        assert_eq!(
            pending.reason.as_deref(),
            Some("0/2 nodes are available: 2 Insufficient cpu.")
        );
        assert_eq!(pending.revision, 3);
        let old = state
            .replicas
            .iter()
            .find(|r| r.name == "agent-old")
            .unwrap();
        assert_eq!(
            (old.revision, old.restarts, old.node.as_deref()),
            (2, 4, Some("n2"))
        );
        assert_eq!(
            (old.created_at, old.started_at, old.ready_at),
            (600, Some(602), Some(605))
        );
        assert_ne!(old.hash, pending.hash);
        let agent = state.workloads.iter().find(|w| w.name == "agent").unwrap();
        let numbers: Vec<u64> = agent.revisions.iter().map(|r| r.revision).collect();
        assert_eq!(numbers, vec![2, 3]);
        // The old revision's template is the pod's, without the controller's labels.
        assert_eq!(
            agent.revisions[0].template["metadata"]["labels"],
            serde_json::json!({"app": "agent"})
        );
        assert!(!workloads[0].last_applied);
    }
}
