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
mod convert;
pub mod revisions;
pub mod spec;

use crate::manifest::Diagnostic;
use crate::manifest::tree::{Node, Value};
use crate::model::state::{NodeState, State, WorkloadOrigin, WorkloadState};
use crate::model::workload::{Desired, Kind, ObjectRef};
use crate::reconcile::{self, Action};
use crate::sources::Source;
use cluster::{Object, at};
use convert::{Clock, node, replica};
use std::collections::{BTreeMap, BTreeSet};

/// The kinds read from the input; everything else is skipped with a notice.
const KINDS: [(&str, &str); 8] = [
    ("Node", "v1"),
    ("Pod", "v1"),
    ("Deployment", "apps/v1"),
    ("DaemonSet", "apps/v1"),
    ("ReplicaSet", "apps/v1"),
    ("StatefulSet", "apps/v1"),
    ("Job", "batch/v1"),
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
    let (documents, mut diagnostics) = crate::manifest::documents(sources);
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
                format!("{first}: skipping {count} {kind} object{} (orch imports Nodes, Pods, Deployments, DaemonSets, ReplicaSets, StatefulSets, Jobs and PodDisruptionBudgets)", plural(*count))
            })
            .collect();
        let clock = Clock::new(self);
        let nodes: Vec<NodeState> = self
            .of_kind("Node")
            .map(|n| node(n, &clock, diagnostics))
            .collect();
        let (desired, origins) = self.applied(&mut notices, diagnostics);
        let (pods, unmanaged) = self.attribute_pods(&desired, &nodes, &mut notices, diagnostics);
        let mut state = State {
            generation: 1,
            clock: clock.now,
            // Simulated second 0 is the export's oldest time, so that the
            // state's clock is its newest: cron schedules read from there.
            epoch: clock.epoch().unwrap_or(crate::model::state::DEFAULT_EPOCH),
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
                let mut replica = replica(pod, &workload.id, revision, hash, &clock);
                if finished(pod) {
                    convert::finish(&mut replica, pod, &clock);
                }
                state.replicas.push(replica);
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
                namespace: workload.id.namespace.to_string(),
                name: workload.id.name.to_string(),
                spec: workload.manifest.clone(),
                revisions: mapping.revisions,
                status: Default::default(),
                origin: WorkloadOrigin::Imported,
            });
        }
        for (pod, owner) in &unmanaged {
            state
                .replicas
                .push(convert::unmanaged(pod, owner.clone(), &clock));
        }
        for budget in &desired.disruption_budgets {
            state.workloads.push(WorkloadState {
                kind: Kind::PodDisruptionBudget,
                namespace: budget.id.namespace.to_string(),
                name: budget.id.name.to_string(),
                spec: budget.manifest.clone(),
                revisions: Vec::new(),
                status: Default::default(),
                origin: WorkloadOrigin::Imported,
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

    /// Each running or pending pod: with its workload and revision key when
    /// a simulated workload owns it, else kept as an unmanaged pod with the
    /// owner its ownerReference names (None: the pod has no owner). The
    /// summary notices say what went where; finished pods hold nothing and
    /// are only counted.
    #[allow(clippy::type_complexity)]
    fn attribute_pods(
        &self,
        desired: &Desired,
        nodes: &[NodeState],
        notices: &mut Vec<String>,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> (
        Vec<(ObjectRef, Option<String>, &Object<'a>)>,
        Vec<(&Object<'a>, Option<String>)>,
    ) {
        let declared: BTreeSet<&ObjectRef> = desired.workloads.iter().map(|w| &w.id).collect();
        let node_names: BTreeSet<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
        let mut not_kept: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        let mut kept: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        let mut pods = Vec::new();
        let mut unmanaged = Vec::new();
        for pod in self.of_kind("Pod") {
            if let Some(why) = not_running(pod) {
                // A Job's finished pods are its progress: they are kept, finished.
                match self.owner_of(pod) {
                    Owner::Simulated(id, key)
                        if id.kind == Kind::Job && declared.contains(&id) && finished(pod) =>
                    {
                        pods.push((id, key, pod));
                    }
                    _ => not_kept.entry(why).or_default().push(pod.name()),
                }
                continue;
            }
            if let Some(node) = pod.str(&["spec", "nodeName"])
                && !node_names.contains(node)
            {
                diagnostics.push(pod.error(
                    "spec.nodeName",
                    format!("Invalid value: \"{node}\": pod {}/{} is bound to a node that is not in the input", pod.namespace(), pod.name()),
                ));
                continue;
            }
            match self.owner_of(pod) {
                Owner::Simulated(id, key) if declared.contains(&id) => pods.push((id, key, pod)),
                Owner::Simulated(id, _) => {
                    kept.entry(format!("of {id}, which is not in the input"))
                        .or_default()
                        .push(pod.name());
                    unmanaged.push((pod, Some(id.to_string())));
                }
                Owner::Other { owner, why } => {
                    kept.entry(why).or_default().push(pod.name());
                    unmanaged.push((pod, owner));
                }
            }
        }
        let attributed = pods.len();
        if attributed > 0 {
            let workloads: BTreeSet<&ObjectRef> = pods.iter().map(|(id, _, _)| id).collect();
            let kinds: BTreeSet<Kind> = workloads.iter().map(|id| id.kind).collect();
            let s = plural(workloads.len());
            let owners = if kinds
                .iter()
                .all(|k| matches!(k, Kind::Deployment | Kind::DaemonSet))
            {
                format!("Deployment{s} and DaemonSet{s}")
            } else {
                let names: Vec<String> = kinds.iter().map(|k| format!("{k}s")).collect();
                format!("workload{s} ({})", names.join(", "))
            };
            notices.push(format!(
                "attributed {attributed} pod{} to {} {owners}",
                plural(attributed),
                workloads.len(),
            ));
        }
        let total: usize = kept.values().map(Vec::len).sum();
        if total > 0 {
            notices.push(format!(
                "kept {total} pod{} as unmanaged (they hold their nodes' resources and count for selectors and budgets; orch never moves or replaces them): {}",
                plural(total),
                grouped(&kept)
            ));
        }
        let total: usize = not_kept.values().map(Vec::len).sum();
        if total > 0 {
            notices.push(format!(
                "not kept {total} pod{} that finished or are terminating: {}",
                plural(total),
                grouped(&not_kept)
            ));
        }
        (pods, unmanaged)
    }

    /// The workload a pod belongs to (a Deployment through its ReplicaSet,
    /// or a DaemonSet) with its revision key, or the owner orch does not
    /// simulate and why. One arm per owner kind orch simulates.
    fn owner_of(&self, pod: &Object<'a>) -> Owner {
        let (namespace, labels) = (pod.namespace(), pod.labels());
        match pod.owners().into_iter().next() {
            Some(("ReplicaSet", replica_set)) => {
                let hash = labels.get("pod-template-hash").cloned();
                let listed = self.get("ReplicaSet", namespace, replica_set);
                let deployment = match listed {
                    Some(rs) => deployment_of(rs),
                    None => hash.as_ref().and_then(|h| {
                        replica_set
                            .strip_suffix(&format!("-{h}"))
                            .map(str::to_string)
                    }),
                };
                match (deployment, listed) {
                    (Some(deployment), _) => Owner::Simulated(
                        ObjectRef::new(Kind::Deployment, namespace, &deployment),
                        hash,
                    ),
                    // A ReplicaSet of its own: orch simulates it as such.
                    (None, Some(_)) => Owner::Simulated(
                        ObjectRef::new(Kind::ReplicaSet, namespace, replica_set),
                        hash,
                    ),
                    (None, None) => Owner::Other {
                        owner: Some(format!("ReplicaSet/{namespace}/{replica_set}")),
                        why: "owned by a ReplicaSet no Deployment owns".into(),
                    },
                }
            }
            Some(("StatefulSet", set)) => Owner::Simulated(
                ObjectRef::new(Kind::StatefulSet, namespace, set),
                labels.get("controller-revision-hash").cloned(),
            ),
            // A Job has one template: its pods run the current revision.
            Some(("Job", job)) => Owner::Simulated(ObjectRef::new(Kind::Job, namespace, job), None),
            Some(("DaemonSet", daemon_set)) => Owner::Simulated(
                ObjectRef::new(Kind::DaemonSet, namespace, daemon_set),
                labels.get("controller-revision-hash").cloned(),
            ),
            // A static pod's mirror: the kubelet owns it, through its Node.
            Some(("Node", node)) => Owner::Other {
                owner: Some(format!("Node/{node}")),
                why: "mirror pods of static pods".into(),
            },
            Some((kind, name)) => Owner::Other {
                owner: Some(format!("{kind}/{namespace}/{name}")),
                why: format!("owned by a {kind}"),
            },
            None => Owner::Other {
                owner: None,
                why: "without an owner".into(),
            },
        }
    }
}

/// The Deployment that owns a ReplicaSet, if one does.
fn deployment_of(replica_set: &Object) -> Option<String> {
    replica_set
        .owners()
        .into_iter()
        .find(|(kind, _)| *kind == "Deployment")
        .map(|(_, name)| name.to_string())
}

/// Who owns a pod, as import sees it.
enum Owner {
    /// A kind orch simulates: the workload and the pod's revision key.
    Simulated(ObjectRef, Option<String>),
    /// Anything else: the owner as `Kind/namespace/name` (None: no owner),
    /// and the group the summary counts the pod in.
    Other { owner: Option<String>, why: String },
}

/// `3 mirror pods of static pods (a, b, c); 1 owned by a StatefulSet (db-0)`.
fn grouped(groups: &BTreeMap<String, Vec<&str>>) -> String {
    groups
        .iter()
        .map(|(why, names)| format!("{} {why} ({})", names.len(), names.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `desired` with the imported workloads and budgets it does not declare:
/// the cluster's own objects, which their controllers keep reconciling (a
/// Deployment replaces the replicas a failed node loses, a budget guards a
/// drain) although the `-f` set does not own them. Borrowed when there are none.
pub fn with_cluster_workloads<'a>(
    desired: &'a Desired,
    state: &State,
) -> std::borrow::Cow<'a, Desired> {
    let declared: BTreeSet<&ObjectRef> = desired
        .workloads
        .iter()
        .map(|w| &w.id)
        .chain(desired.disruption_budgets.iter().map(|b| &b.id))
        .collect();
    let own: Vec<&WorkloadState> = state
        .workloads
        .iter()
        .filter(|w| w.origin == WorkloadOrigin::Imported && !declared.contains(&w.id()))
        .collect();
    if own.is_empty() {
        return std::borrow::Cow::Borrowed(desired);
    }
    let names: Vec<String> = own.iter().map(|w| w.id().to_string()).collect();
    let objects = names
        .iter()
        .map(String::as_str)
        .zip(own.iter().map(|w| w.spec.value()));
    let options = crate::manifest::ParseOptions { strict: false };
    // A spec import stored was read by the same parser; one that no longer
    // reads is left out rather than failing every command.
    let Ok(loaded) = crate::manifest::parse_stored(objects, &options) else {
        return std::borrow::Cow::Borrowed(desired);
    };
    let mut merged = desired.clone();
    merged.workloads.extend(loaded.desired.workloads);
    merged
        .disruption_budgets
        .extend(loaded.desired.disruption_budgets);
    merged.workloads.sort_by(|a, b| a.id.cmp(&b.id));
    merged.disruption_budgets.sort_by(|a, b| a.id.cmp(&b.id));
    std::borrow::Cow::Owned(merged)
}

/// Why a pod neither runs nor waits to run (finished, or terminating).
/// A pod that ran to its end (Succeeded or Failed), not one being deleted.
fn finished(pod: &Object) -> bool {
    matches!(pod.str(&["status", "phase"]), Some("Succeeded" | "Failed"))
        && at(pod.root, &["metadata", "deletionTimestamp"]).is_none()
}

fn not_running(pod: &Object) -> Option<String> {
    let phase = pod.str(&["status", "phase"]).unwrap_or("Pending");
    if !matches!(phase, "Running" | "Pending") {
        return Some(format!("finished ({phase})"));
    }
    at(pod.root, &["metadata", "deletionTimestamp"])
        .is_some()
        .then(|| "terminating".to_string())
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

/// Each Deployment's status as its controller computes it from the imported
/// replicas (the same pass `plan` runs, keeping only the status it writes).
fn record_status(desired: &Desired, state: &mut State) {
    let scheduler =
        crate::scheduler::Scheduler::new(crate::scheduler::ScoringStrategy::LeastAllocated);
    let options = reconcile::Options {
        prune: reconcile::Prune::Keep,
        ..Default::default()
    };
    let plan = reconcile::reconcile(desired, state, state.clock, &scheduler, &options);
    for action in plan.actions {
        if let Action::SetStatus { workload, status } = action
            && let Some(stored) = state.workload_mut(&workload)
        {
            stored.status = *status;
        }
    }
}

#[cfg(test)]
mod tests;
