//! Kubernetes names a Deployment's revisions by `pod-template-hash` (a hash
//! of a Go dump of the template) and a DaemonSet's by
//! `controller-revision-hash`; orch names them by its own template hash. The
//! revision the workload runs now gets orch's hash of the applied template,
//! so a plan with the same manifests sees its replicas as up to date; older
//! revisions get orch's hash of their own templates and keep their numbers.

use super::cluster::Object;
use super::{Input, spec};
use crate::model::hash::template_hash;
use crate::model::state::Revision;
use crate::model::workload::{Kind, ObjectRef, Workload};
use serde_json::Value;
use std::collections::BTreeMap;
use std::collections::BTreeSet;

/// One Kubernetes revision met in the input (a ReplicaSet, or a hash on pods).
#[derive(Debug, Clone)]
pub struct Found {
    /// `pod-template-hash` or `controller-revision-hash`.
    pub key: String,
    /// `deployment.kubernetes.io/revision` or the pods' template generation.
    pub number: Option<u64>,
    /// The template as declared; None only for the current revision.
    pub template: Option<Value>,
    pub current: bool,
    /// A ReplicaSet's `desired-replicas` and `max-replicas` annotations.
    pub replicas_annotations: Option<(i32, i32)>,
}

/// What orch records for one workload.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mapping {
    /// Oldest first; the last is the current revision.
    pub revisions: Vec<Revision>,
    /// Kubernetes hash → (revision number, orch hash).
    pub by_key: BTreeMap<String, (u64, String)>,
}

impl Mapping {
    /// The revision of pods carrying `key` (pods without one run the current revision).
    pub fn of(&self, key: Option<&str>) -> (u64, String) {
        key.and_then(|k| self.by_key.get(k))
            .cloned()
            .unwrap_or_else(|| self.current())
    }

    pub fn current(&self) -> (u64, String) {
        self.revisions
            .last()
            .map(|r| (r.revision, r.hash.clone()))
            .unwrap_or_default()
    }
}

/// Map the revisions found onto orch's: `current_template` is the applied
/// template (hashed `current_hash`), `current_number` the workload's own
/// revision counter when Kubernetes records one.
pub fn map(
    current_hash: &str,
    current_template: &Value,
    current_number: Option<u64>,
    found: &[Found],
) -> Mapping {
    // orch hash → (number, template, Kubernetes keys)
    let mut old: BTreeMap<String, (Option<u64>, Value, Vec<String>)> = BTreeMap::new();
    let mut current_keys = Vec::new();
    let mut number = current_number;
    // The replicas annotations of the newest ReplicaSet of each orch hash.
    let mut annotations: BTreeMap<String, (Option<u64>, (i32, i32))> = BTreeMap::new();
    for revision in found {
        let template = revision.template.as_ref().filter(|_| !revision.current);
        let hash = template.map_or_else(|| current_hash.to_string(), template_hash);
        if let Some(pair) = revision.replicas_annotations {
            let entry = annotations
                .entry(hash.clone())
                .or_insert((revision.number, pair));
            if revision.number >= entry.0 {
                *entry = (revision.number, pair);
            }
        }
        if hash == current_hash {
            current_keys.push(revision.key.clone());
            number = number.or(revision.number);
            continue;
        }
        let entry = old
            .entry(hash)
            .or_insert_with(|| (None, template.cloned().unwrap_or_default(), Vec::new()));
        entry.0 = entry.0.max(revision.number);
        entry.2.push(revision.key.clone());
    }
    let mut used: Vec<u64> = old.values().filter_map(|(n, _, _)| *n).collect();
    let mut olds: Vec<(u64, String, Value, Vec<String>)> = Vec::new();
    for (hash, (n, template, keys)) in old {
        let n = n.unwrap_or_else(|| {
            let free = (1..).find(|c| !used.contains(c)).unwrap_or(1);
            used.push(free);
            free
        });
        olds.push((n, hash, template, keys));
    }
    olds.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    let newest_old = olds.iter().map(|o| o.0).max().unwrap_or(0);
    let current = number.filter(|n| *n > newest_old).unwrap_or(newest_old + 1);
    let mut mapping = Mapping::default();
    for (n, hash, template, keys) in olds {
        for key in keys {
            mapping.by_key.insert(key, (n, hash.clone()));
        }
        let replicas = annotations.get(&hash).map(|(_, pair)| *pair);
        mapping.revisions.push(Revision {
            revision: n,
            hash,
            template: template.into(),
            desired_replicas: replicas.map(|(desired, _)| desired),
            max_replicas: replicas.map(|(_, max)| max),
        });
    }
    for key in current_keys {
        mapping
            .by_key
            .insert(key, (current, current_hash.to_string()));
    }
    let replicas = annotations.get(current_hash).map(|(_, pair)| *pair);
    mapping.revisions.push(Revision {
        revision: current,
        hash: current_hash.to_string(),
        template: current_template.clone().into(),
        desired_replicas: replicas.map(|(desired, _)| desired),
        max_replicas: replicas.map(|(_, max)| max),
    });
    mapping
}

impl Input<'_> {
    /// The Kubernetes revisions of one workload, mapped onto orch's.
    pub(super) fn revisions(
        &self,
        workload: &Workload,
        pods: &[&(ObjectRef, Option<String>, &Object)],
    ) -> Mapping {
        let id = &workload.id;
        let live = self.get(id.kind.as_str(), &id.namespace, &id.name);
        let (current_number, mut found) = match id.kind {
            Kind::Deployment => {
                let current_number =
                    number(live.and_then(|d| d.annotation("deployment.kubernetes.io/revision")));
                (current_number, self.replica_sets(id, live, current_number))
            }
            _ => (
                number(live.and_then(|d| d.annotation("deprecated.daemonset.template.generation"))),
                Vec::new(),
            ),
        };
        // A StatefulSet names the revision it updates to in its status.
        let update_revision = match id.kind {
            Kind::StatefulSet => live.and_then(|s| s.str(&["status", "updateRevision"])),
            _ => None,
        };
        pod_revisions(id.kind, pods, current_number, update_revision, &mut found);
        map(
            &workload.template_hash,
            &workload.template.value(),
            current_number,
            &found,
        )
    }

    /// A Deployment's ReplicaSets, each a revision: current when it has the
    /// Deployment's revision number (`current_number`), or, without one, its
    /// template.
    fn replica_sets(
        &self,
        id: &ObjectRef,
        live: Option<&Object>,
        current_number: Option<u64>,
    ) -> Vec<Found> {
        let live_template = live.map(|d| {
            let mut spec = d.root.to_json().get("spec").cloned().unwrap_or_default();
            spec::clean_spec(d.kind(), &mut spec);
            spec.get("template").cloned().unwrap_or_default()
        });
        let mut found = Vec::new();
        for rs in self.of_kind("ReplicaSet").filter(|rs| {
            rs.namespace() == &*id.namespace && rs.owners().contains(&("Deployment", &*id.name))
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
            let annotated = |name: &str| rs.annotation(name).and_then(|v| v.parse::<i32>().ok());
            found.push(Found {
                key,
                number: revision,
                template,
                current,
                replicas_annotations: annotated("deployment.kubernetes.io/desired-replicas")
                    .zip(annotated("deployment.kubernetes.io/max-replicas")),
            });
        }
        found
    }
}

/// A revision number written as text.
fn number(text: Option<&str>) -> Option<u64> {
    text.and_then(|t| t.parse::<u64>().ok())
}

/// The revisions seen only on pods (no ReplicaSet in the input, or a
/// DaemonSet or StatefulSet), added to `found`; which one is current
/// depends on the kind.
fn pod_revisions(
    kind: Kind,
    pods: &[&(ObjectRef, Option<String>, &Object)],
    current_number: Option<u64>,
    update_revision: Option<&str>,
    found: &mut Vec<Found>,
) {
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
        let current = match (kind, current_number, generation) {
            (Kind::DaemonSet, Some(n), Some(g)) => n == g,
            (Kind::StatefulSet, _, _) if update_revision.is_some() => update_revision == Some(key),
            (Kind::Deployment, _, _) if found.is_empty() => only_key,
            (Kind::Deployment, _, _) => false,
            _ => only_key,
        };
        found.push(Found {
            key: key.to_string(),
            number: if kind == Kind::DaemonSet {
                generation
            } else {
                None
            },
            template: pod.map(|p| spec::pod_template(p, kind == Kind::DaemonSet)),
            current,
            replicas_annotations: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn found(key: &str, number: Option<u64>, image: Option<&str>, current: bool) -> Found {
        Found {
            key: key.into(),
            number,
            template: image.map(|i| json!({"spec": {"containers": [{"name": "c", "image": i}]}})),
            current,
            replicas_annotations: None,
        }
    }

    #[test]
    fn the_current_revision_takes_the_applied_hash_and_older_ones_their_own() {
        let template = json!({"spec": {"containers": [{"name": "c", "image": "v3"}]}});
        let mapping = map(
            "orchhash",
            &template,
            Some(3),
            &[
                found("k8s-v1", Some(1), Some("v1"), false),
                found("k8s-v3", Some(3), Some("v3-defaulted"), true),
                found("k8s-v2", Some(2), Some("v2"), false),
            ],
        );
        let numbers: Vec<u64> = mapping.revisions.iter().map(|r| r.revision).collect();
        assert_eq!(numbers, vec![1, 2, 3]);
        assert_eq!(mapping.current(), (3, "orchhash".to_string()));
        assert_eq!(mapping.of(Some("k8s-v3")), (3, "orchhash".to_string()));
        let v1 = json!({"spec": {"containers": [{"name": "c", "image": "v1"}]}});
        assert_eq!(mapping.of(Some("k8s-v1")), (1, template_hash(&v1)));
        assert_eq!(mapping.revisions[0].template.value(), v1);
        assert_eq!(mapping.of(None).0, 3);
    }

    /// A ReplicaSet's replicas annotations are what the Deployment
    /// controller reads next (`isScalingEvent`, `getReplicaSetFraction`):
    /// they are kept on the revision.
    #[test]
    fn replica_set_annotations_are_kept_on_the_revision() {
        let template = json!({"spec": {"containers": [{"name": "c", "image": "v2"}]}});
        let annotated = |mut f: Found, pair| {
            f.replicas_annotations = Some(pair);
            f
        };
        let mapping = map(
            "orchhash",
            &template,
            Some(2),
            &[
                annotated(found("k8s-v1", Some(1), Some("v1"), false), (10, 13)),
                annotated(found("k8s-v2", Some(2), Some("v2"), true), (10, 13)),
            ],
        );
        let pairs: Vec<_> = mapping
            .revisions
            .iter()
            .map(|r| (r.desired_replicas, r.max_replicas))
            .collect();
        assert_eq!(pairs, [(Some(10), Some(13)), (Some(10), Some(13))]);
    }

    #[test]
    fn unnumbered_revisions_get_free_numbers_below_the_current_one() {
        let template = json!({"spec": {}});
        let mapping = map(
            "now",
            &template,
            None,
            &[
                found("a", None, Some("old"), false),
                found("b", None, None, true),
            ],
        );
        let numbers: Vec<u64> = mapping.revisions.iter().map(|r| r.revision).collect();
        assert_eq!(numbers, vec![1, 2]);
        assert_eq!(mapping.of(Some("b")), (2, "now".to_string()));
    }
}
