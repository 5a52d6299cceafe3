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
use crate::model::state::{NodeState, State, WorkloadState};
use crate::model::workload::{Desired, Kind, ObjectRef};
use crate::reconcile::{self, Action};
use crate::sources::Source;
use cluster::{Object, at};
use convert::{Clock, node, replica};
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
                namespace: workload.id.namespace.to_string(),
                name: workload.id.name.to_string(),
                spec: workload.manifest.clone(),
                revisions: mapping.revisions,
                status: Default::default(),
            });
        }
        for budget in &desired.disruption_budgets {
            state.workloads.push(WorkloadState {
                kind: Kind::PodDisruptionBudget,
                namespace: budget.id.namespace.to_string(),
                name: budget.id.name.to_string(),
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
            let attributed = not_running(pod)
                .map_or_else(|| self.owner_of(pod), Err)
                .and_then(|(id, key)| match declared.contains(&id) {
                    true => Ok((id, key)),
                    false => Err(format!("of {id}, which is not in the input")),
                });
            let (id, key) = match attributed {
                Ok(found) => found,
                Err(why) => {
                    skipped.entry(why).or_default().push(pod.name());
                    continue;
                }
            };
            if let Some(node) = pod.str(&["spec", "nodeName"])
                && !node_names.contains(node)
            {
                diagnostics.push(pod.error(
                    "spec.nodeName",
                    format!("Invalid value: \"{node}\": pod {}/{} is bound to a node that is not in the input", pod.namespace(), pod.name()),
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

    /// The workload a pod belongs to (a Deployment through its ReplicaSet,
    /// or a DaemonSet) and its revision key, or why it belongs to none.
    fn owner_of(&self, pod: &Object<'a>) -> Result<(ObjectRef, Option<String>), String> {
        let (namespace, labels) = (pod.namespace(), pod.labels());
        match pod.owners().into_iter().next() {
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
                match deployment {
                    Some(deployment) => Ok((
                        ObjectRef::new(Kind::Deployment, namespace, &deployment),
                        hash,
                    )),
                    None => Err(format!(
                        "owned by ReplicaSet {replica_set}, which no Deployment owns"
                    )),
                }
            }
            Some(("DaemonSet", daemon_set)) => Ok((
                ObjectRef::new(Kind::DaemonSet, namespace, daemon_set),
                labels.get("controller-revision-hash").cloned(),
            )),
            Some((kind, _)) => Err(format!("owned by a {kind}")),
            None => Err("without an owner".into()),
        }
    }
}

/// Why a pod neither runs nor waits to run (finished, or terminating).
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
mod tests;
