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
    /// By workload, then template hash.
    specs: HashMap<ObjectRef, HashMap<String, Arc<PodSpec>>>,
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
    }
    pod
}

impl Catalog {
    pub fn build(desired: &Desired, observed: &State) -> Catalog {
        let mut specs: HashMap<ObjectRef, HashMap<String, Arc<PodSpec>>> = HashMap::default();
        let selectors: HashMap<&ObjectRef, &LabelSelector> = desired
            .workloads
            .iter()
            .map(|w| (&w.id, &w.selector))
            .collect();
        for workload in &desired.workloads {
            specs.entry(workload.id.clone()).or_default().insert(
                workload.template_hash.clone(),
                Arc::new(owned(
                    workload.pod.clone(),
                    &workload.id,
                    &workload.template_hash,
                    Some(&workload.selector),
                )),
            );
        }
        for workload in &observed.workloads {
            let id = workload.id();
            for revision in &workload.revisions {
                if specs
                    .get(&id)
                    .is_some_and(|by_hash| by_hash.contains_key(&revision.hash))
                {
                    continue;
                }
                // A stored template was valid when applied; if it no longer
                // converts, account its replicas as requesting nothing.
                let pod = crate::manifest::pod_spec_from_template(
                    &workload.namespace,
                    &revision.template,
                )
                .unwrap_or_else(|_| PodSpec {
                    namespace: workload.namespace.clone(),
                    ..PodSpec::default()
                });
                let selector = selectors.get(&id).copied();
                let spec = Arc::new(owned(pod, &id, &revision.hash, selector));
                specs
                    .entry(id.clone())
                    .or_default()
                    .insert(revision.hash.clone(), spec);
            }
        }
        Catalog { specs }
    }

    pub fn pod(&self, workload: &ObjectRef, hash: &str) -> Option<&Arc<PodSpec>> {
        self.specs
            .get(workload)
            .and_then(|by_hash| by_hash.get(hash))
    }
}
