//! Diagnoses remembered from one pass to the next. A replica that fits
//! nowhere is diagnosed at every pass: every filter on every node
//! (`Scheduler::schedule`), then DefaultPreemption's verdicts, for a
//! message that cannot have changed while the snapshot has not. A run of
//! the loop keeps them here, each for the snapshot as a pass begins; the
//! loop forgets them all as soon as a pass makes anything that changes that
//! snapshot (`reconcile::Options::passed`). A pass asks only while it has
//! placed nothing yet, so it asks about the very snapshot they were made on.

use super::FitError;
use crate::model::pod::PodSpec;
use rustc_hash::FxHashMap;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

/// The diagnoses of the pods that fit nowhere on one snapshot.
#[derive(Debug, Default)]
pub struct Diagnoses {
    /// By a hash of the pod's identifying fields, the pods and what they met.
    known: Mutex<FxHashMap<u64, Vec<Known>>>,
}

#[derive(Debug)]
struct Known {
    pod: PodSpec,
    /// `Scheduler::schedule`'s error.
    error: FitError,
    /// DefaultPreemption's message, once it found the preemption not helpful.
    post_filter: Option<String>,
}

fn key(pod: &PodSpec) -> u64 {
    let mut hasher = rustc_hash::FxHasher::default();
    pod.namespace.hash(&mut hasher);
    pod.labels.hash(&mut hasher);
    pod.node_selector.hash(&mut hasher);
    pod.node_name.hash(&mut hasher);
    hasher.finish()
}

impl Diagnoses {
    /// Forget every diagnosis (the snapshot changed).
    pub fn forget(&self) {
        let mut known = self.known.lock().expect("never poisoned");
        if !known.is_empty() {
            known.clear();
        }
    }

    fn with<T>(&self, pod: &PodSpec, read: impl FnOnce(Option<&mut Known>) -> T) -> T {
        let mut known = self.known.lock().expect("never poisoned");
        let found = known
            .get_mut(&key(pod))
            .and_then(|pods| pods.iter_mut().find(|k| k.pod == *pod));
        read(found)
    }

    /// `pod`'s error on this snapshot, remembered or made by `diagnose`.
    pub fn error(&self, pod: &PodSpec, diagnose: impl FnOnce() -> FitError) -> FitError {
        if let Some(error) = self.with(pod, |found| found.map(|k| k.error.clone())) {
            return error;
        }
        let error = diagnose();
        let mut known = self.known.lock().expect("never poisoned");
        known.entry(key(pod)).or_default().push(Known {
            pod: pod.clone(),
            error: error.clone(),
            post_filter: None,
        });
        error
    }

    /// DefaultPreemption's message for `pod` on this snapshot, if remembered.
    pub fn post_filter(&self, pod: &PodSpec) -> Option<String> {
        self.with(pod, |found| found.and_then(|k| k.post_filter.clone()))
    }

    /// Remember DefaultPreemption's message for `pod` (its error is known).
    pub fn remember_post_filter(&self, pod: &PodSpec, message: &str) {
        self.with(pod, |found| {
            if let Some(known) = found {
                known.post_filter = Some(message.to_string());
            }
        });
    }
}
