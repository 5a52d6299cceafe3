//! The scheduling view (`PodSpec`) of every (workload, revision hash) the pass
//! may meet: the declared template for current revisions, the stored template
//! for older ones.

use crate::model::labels::LabelSelector;
use crate::model::pod::PodSpec;
use crate::model::state::{Revision, State, WorkloadState};
use crate::model::workload::{Desired, ObjectRef, Workload};
use rustc_hash::FxHashMap as HashMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, Default)]
pub struct Catalog {
    declared: Arc<Declared>,
    /// Older revisions, stored in the state: by workload, then template hash.
    stored: PodsByHash,
}

/// Pods by workload, then template hash.
type PodsByHash = HashMap<ObjectRef, HashMap<String, Arc<PodSpec>>>;

/// The declared workloads' current pods, by workload: (template hash, pod).
/// They depend on the manifests alone, so every pass of one run shares them.
///
/// So do the older revisions' pods once made: a stored revision's template
/// is named by its hash, and what a pod adds to it (the selector, the
/// priority) comes from the same manifests. Sharing them keeps one pod per
/// template from pass to pass, which is what lets a pass find the replicas
/// of an older revision already accounted (`placement::carry`) instead of
/// converting their template and accounting them again at every step of a
/// rollout.
#[derive(Debug, Default)]
pub struct Declared {
    pods: HashMap<ObjectRef, (Arc<str>, Arc<PodSpec>)>,
    /// Older revisions' pods, by workload and template hash, as the passes
    /// made them.
    revisions: Mutex<PodsByHash>,
    /// Imported pods' own, the same way.
    imported: Mutex<PodsByHash>,
}

impl Declared {
    pub fn new(desired: &Desired) -> Arc<Declared> {
        let pods = desired
            .workloads
            .iter()
            .map(|workload| {
                let pod = current_pod(workload);
                (
                    workload.id.clone(),
                    (workload.template_hash.clone(), Arc::new(pod)),
                )
            })
            .collect();
        Arc::new(Declared {
            pods,
            revisions: Mutex::default(),
            imported: Mutex::default(),
        })
    }

    /// The pod of an older revision or imported pod (`workload`, `hash`) in
    /// `made`: the one an earlier pass made, else `make`'s, kept for the next.
    fn stored_pod(
        made: &Mutex<PodsByHash>,
        workload: &ObjectRef,
        hash: &str,
        make: impl FnOnce() -> PodSpec,
    ) -> Arc<PodSpec> {
        let mut stored = made.lock().expect("never poisoned");
        if let Some(pod) = stored.get(workload).and_then(|by_hash| by_hash.get(hash)) {
            return pod.clone();
        }
        let pod = Arc::new(make());
        stored
            .entry(workload.clone())
            .or_default()
            .insert(hash.to_string(), pod.clone());
        pod
    }

    fn pod(&self, workload: &ObjectRef, hash: &str) -> Option<&Arc<PodSpec>> {
        self.pods
            .get(workload)
            .filter(|(current, _)| &**current == hash)
            .map(|(_, pod)| pod)
    }
}

/// A declared workload's pod for its current template, as its replicas
/// carry it (`owned`).
pub fn current_pod(workload: &Workload) -> PodSpec {
    owned(
        workload.pod.clone(),
        &workload.id,
        &workload.template_hash,
        Some(&workload.selector),
    )
}

/// The label every Deployment replica carries, naming its template.
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";

/// A Deployment's replicas carry `pod-template-hash` and are owned by a
/// ReplicaSet whose selector adds it; DaemonSet replicas are left as declared.
fn owned(
    mut pod: PodSpec,
    workload: &ObjectRef,
    hash: &str,
    selector: Option<&LabelSelector>,
) -> PodSpec {
    if workload.kind == crate::model::workload::Kind::Deployment {
        pod.labels
            .insert(POD_TEMPLATE_HASH.to_string(), hash.to_string());
        pod.owner_selector = selector.map(|s| {
            let mut s = s.clone();
            s.match_labels
                .insert(POD_TEMPLATE_HASH.to_string(), hash.to_string());
            s
        });
    } else if workload.kind == crate::model::workload::Kind::StatefulSet {
        // kube-scheduler's default spread selects a StatefulSet's replicas by its selector.
        pod.owner_selector = selector.cloned();
    }
    if workload.kind == crate::model::workload::Kind::Job {
        pod.labels.insert(
            crate::manifest::JOB_NAME_LABEL.to_string(),
            workload.name.to_string(),
        );
    }
    pod
}

impl Catalog {
    pub fn build(desired: &Desired, observed: &State) -> Catalog {
        Catalog::with_declared(Declared::new(desired), desired, observed)
    }

    /// `build`, with the declared pods already made (`Declared::new(desired)`).
    pub fn with_declared(declared: Arc<Declared>, desired: &Desired, observed: &State) -> Catalog {
        let mut stored = PodsByHash::default();
        let mut selectors: Option<HashMap<&ObjectRef, &LabelSelector>> = None;
        let classes = crate::model::priority::Classes::new(&desired.priority_classes);
        for workload in &observed.workloads {
            let mut id: Option<ObjectRef> = None;
            for revision in &workload.revisions {
                let id = id.get_or_insert_with(|| workload.id());
                if declared.pod(id, &revision.hash).is_some()
                    || stored
                        .get(&*id)
                        .is_some_and(|by_hash| by_hash.contains_key(&revision.hash))
                {
                    continue;
                }
                let spec = Declared::stored_pod(&declared.revisions, id, &revision.hash, || {
                    stored_revision_pod(desired, workload, id, revision, &classes, &mut selectors)
                });
                stored
                    .entry(id.clone())
                    .or_default()
                    .insert(revision.hash.clone(), spec);
            }
        }
        // Imported pods orch does not manage, each its own template.
        for replica in &observed.replicas {
            let Some(unmanaged) = &replica.unmanaged else {
                continue;
            };
            let pod =
                Declared::stored_pod(&declared.imported, &replica.workload, &replica.hash, || {
                    let namespace = &replica.workload.namespace;
                    crate::manifest::pod_spec_from_template(namespace, &unmanaged.template.value())
                        .unwrap_or_else(|_| PodSpec {
                            namespace: namespace.to_string(),
                            ..PodSpec::default()
                        })
                });
            stored
                .entry(replica.workload.clone())
                .or_default()
                .insert(replica.hash.to_string(), pod);
        }
        Catalog { declared, stored }
    }

    /// The lowest priority of any pod the pass may meet (no placed pod is
    /// lower): a pod at or below it has no preemption victims anywhere.
    pub fn lowest_priority(&self) -> Option<i32> {
        self.declared
            .pods
            .values()
            .map(|(_, pod)| pod.priority)
            .chain(
                self.stored
                    .values()
                    .flat_map(|by_hash| by_hash.values().map(|p| p.priority)),
            )
            .min()
    }

    pub fn pod(&self, workload: &ObjectRef, hash: &str) -> Option<&Arc<PodSpec>> {
        self.declared.pod(workload, hash).or_else(|| {
            self.stored
                .get(workload)
                .and_then(|by_hash| by_hash.get(hash))
        })
    }
}

/// The scheduling view of an older revision `revision` of the stored
/// `workload` (`id`): its stored template, owned as the declared workload's
/// replicas are, at the priority of its class.
fn stored_revision_pod<'d>(
    desired: &'d Desired,
    workload: &WorkloadState,
    id: &ObjectRef,
    revision: &Revision,
    classes: &crate::model::priority::Classes,
    selectors: &mut Option<HashMap<&'d ObjectRef, &'d LabelSelector>>,
) -> PodSpec {
    // A stored template was valid when applied; if it no longer
    // converts, account its replicas as requesting nothing.
    let mut pod =
        crate::manifest::pod_spec_from_template(&workload.namespace, &revision.template.value())
            .unwrap_or_else(|_| PodSpec {
                namespace: workload.namespace.clone(),
                ..PodSpec::default()
            });
    let selector = selectors
        .get_or_insert_with(|| {
            desired
                .workloads
                .iter()
                .map(|w| (&w.id, &w.selector))
                .collect()
        })
        .get(id)
        .copied();
    // The pods were admitted with the priority of their class
    // (the declared classes, then the built-ins).
    let resolved = classes
        .resolve(&pod.priority_class_name)
        .unwrap_or_default();
    pod.priority = resolved.priority;
    pod.preemption_policy = resolved.preemption_policy;
    owned(pod, id, &revision.hash, selector)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fixtures::{DAEMONSET, converged, deployment, desired};

    /// A fleet of one node running `api` (a Deployment) and the agent
    /// DaemonSet, both at image `version`.
    fn fleet(version: u32) -> Desired {
        let node = "apiVersion: v1\nkind: Node\nmetadata: {name: n0}\nstatus:\n  allocatable: {cpu: \"8\", memory: 16Gi, pods: \"110\"}\n---\n";
        let text = format!("{node}{}{DAEMONSET}", deployment("api", 2, "1", ""));
        desired(&text.replace(":1\n", &format!(":{version}\n")))
    }

    /// Every pass of one run (one `Declared`) shares an older revision's
    /// pod, as it shares the declared ones, and that pod is the one a
    /// catalog of its own makes.
    #[test]
    fn passes_of_one_run_share_the_older_revisions_pods() {
        let state = converged(&fleet(1));
        let rolled = fleet(2);
        let declared = Declared::new(&rolled);
        let first = Catalog::with_declared(declared.clone(), &rolled, &state);
        let second = Catalog::with_declared(declared, &rolled, &state);
        let own = Catalog::build(&rolled, &state);
        let mut older = 0;
        for workload in &state.workloads {
            let id = workload.id();
            for revision in &workload.revisions {
                let (Some(a), Some(b)) = (
                    first.pod(&id, &revision.hash),
                    second.pod(&id, &revision.hash),
                ) else {
                    panic!("{id} {} has no pod", revision.hash);
                };
                assert!(Arc::ptr_eq(a, b), "{id} {}", revision.hash);
                assert_eq!(Some(a), own.pod(&id, &revision.hash));
                older += usize::from(
                    !rolled
                        .workloads
                        .iter()
                        .any(|w| w.id == id && *w.template_hash == *revision.hash),
                );
            }
        }
        // The Deployment's and the DaemonSet's first revisions.
        assert_eq!(older, 2);
    }
}
