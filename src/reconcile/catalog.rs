//! The scheduling view (`PodSpec`) of every (workload, revision hash) the pass
//! may meet: the declared template for current revisions, the stored template
//! for older ones.

use crate::model::labels::LabelSelector;
use crate::model::pod::PodSpec;
use crate::model::state::State;
use crate::model::workload::{Desired, ObjectRef};
use rustc_hash::FxHashMap as HashMap;
use std::sync::Arc;

#[derive(Debug, Default)]
pub struct Catalog {
    declared: Arc<Declared>,
    /// Older revisions, stored in the state: by workload, then template hash.
    stored: HashMap<ObjectRef, HashMap<String, Arc<PodSpec>>>,
}

/// The declared workloads' current pods, by workload: (template hash, pod).
/// They depend on the manifests alone, so every pass of one run shares them.
#[derive(Debug, Default)]
pub struct Declared {
    pods: HashMap<ObjectRef, (Arc<str>, Arc<PodSpec>)>,
}

impl Declared {
    pub fn new(desired: &Desired) -> Arc<Declared> {
        let pods = desired
            .workloads
            .iter()
            .map(|workload| {
                let pod = owned(
                    workload.pod.clone(),
                    &workload.id,
                    &workload.template_hash,
                    Some(&workload.selector),
                );
                (
                    workload.id.clone(),
                    (workload.template_hash.clone(), Arc::new(pod)),
                )
            })
            .collect();
        Arc::new(Declared { pods })
    }

    fn pod(&self, workload: &ObjectRef, hash: &str) -> Option<&Arc<PodSpec>> {
        self.pods
            .get(workload)
            .filter(|(current, _)| &**current == hash)
            .map(|(_, pod)| pod)
    }
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
        let mut stored: HashMap<ObjectRef, HashMap<String, Arc<PodSpec>>> = HashMap::default();
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
                // A stored template was valid when applied; if it no longer
                // converts, account its replicas as requesting nothing.
                let pod = crate::manifest::pod_spec_from_template(
                    &workload.namespace,
                    &revision.template.value(),
                )
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
                    .get(&*id)
                    .copied();
                let mut pod = pod;
                // The pods were admitted with the priority of their class
                // (the declared classes, then the built-ins).
                let resolved = classes
                    .resolve(&pod.priority_class_name)
                    .unwrap_or_default();
                pod.priority = resolved.priority;
                pod.preemption_policy = resolved.preemption_policy;
                let spec = Arc::new(owned(pod, id, &revision.hash, selector));
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
            let namespace = &replica.workload.namespace;
            let pod =
                crate::manifest::pod_spec_from_template(namespace, &unmanaged.template.value())
                    .unwrap_or_else(|_| PodSpec {
                        namespace: namespace.to_string(),
                        ..PodSpec::default()
                    });
            stored
                .entry(replica.workload.clone())
                .or_default()
                .insert(replica.hash.to_string(), Arc::new(pod));
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
