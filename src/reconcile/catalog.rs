//! The scheduling view (`PodSpec`) of every (workload, revision hash) the pass
//! may meet: the declared template for current revisions, the stored template
//! for older ones.

use crate::model::pod::PodSpec;
use crate::model::state::State;
use crate::model::workload::{Desired, ObjectRef};
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, Default)]
pub struct Catalog {
    specs: HashMap<(ObjectRef, String), Arc<PodSpec>>,
}

impl Catalog {
    pub fn build(desired: &Desired, observed: &State) -> Catalog {
        let mut specs = HashMap::new();
        for workload in &desired.workloads {
            specs.insert(
                (workload.id.clone(), workload.template_hash.clone()),
                Arc::new(workload.pod.clone()),
            );
        }
        for workload in &observed.workloads {
            let id = workload.id();
            for revision in &workload.revisions {
                let key = (id.clone(), revision.hash.clone());
                if specs.contains_key(&key) {
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
                specs.insert(key, Arc::new(pod));
            }
        }
        Catalog { specs }
    }

    pub fn pod(&self, workload: &ObjectRef, hash: &str) -> Option<&Arc<PodSpec>> {
        self.specs.get(&(workload.clone(), hash.to_string()))
    }
}
