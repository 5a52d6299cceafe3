//! Storage: StorageClasses, PersistentVolumes and PersistentVolumeClaims as
//! declared (typed and defaulted) and as kept in the state, and the rules
//! the PV controller binds by (`findBestMatchForClaim`: the smallest volume
//! of the claim's class whose access modes and capacity fit).

use super::labels::{Labels, NodeSelector};
use super::words::words;
use serde::{Deserialize, Serialize};

words! {
    /// `spec.accessModes[]`.
    pub enum AccessMode {
        ReadWriteOnce => "ReadWriteOnce",
        ReadOnlyMany => "ReadOnlyMany",
        ReadWriteMany => "ReadWriteMany",
        ReadWriteOncePod => "ReadWriteOncePod",
    }
}

words! {
    /// A StorageClass's `volumeBindingMode`.
    pub enum BindingMode {
        Immediate => "Immediate",
        WaitForFirstConsumer => "WaitForFirstConsumer",
    }
}

words! {
    /// `persistentVolumeReclaimPolicy` / a StorageClass's `reclaimPolicy`
    /// (and a retention policy's `whenDeleted` / `whenScaled`, `Retain` by default).
    #[derive(Default)]
    pub enum ReclaimPolicy {
        Delete => "Delete",
        #[default]
        Retain => "Retain",
    }
}

words! {
    /// A claim's `status.phase`.
    pub enum ClaimPhase {
        Pending => "Pending",
        Bound => "Bound",
        Lost => "Lost",
    }
}

words! {
    /// A volume's `status.phase`.
    pub enum VolumePhase {
        Available => "Available",
        Bound => "Bound",
        Released => "Released",
    }
}

/// Sizes in the state as Kubernetes writes them (`10Gi`).
mod bytes {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(value: &i64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&super::super::quantity::format_binary(*value))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
        let text = String::deserialize(deserializer)?;
        super::super::quantity::Quantity::parse(&text)
            .map(|q| q.value())
            .map_err(|e| D::Error::custom(format!("`{text}`: {e}")))
    }
}

/// The provisioner of classes that provision nothing (local volumes).
pub const NO_PROVISIONER: &str = "kubernetes.io/no-provisioner";
/// The zone label VolumeZone reads on a volume (and its beta predecessor).
pub const ZONE_LABELS: [&str; 2] = [
    "topology.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/zone",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageClass {
    pub name: String,
    pub provisioner: String,
    pub binding_mode: BindingMode,
    /// `allowedTopologies`, as node selector terms (empty: anywhere).
    pub allowed_topologies: Option<NodeSelector>,
    pub reclaim_policy: ReclaimPolicy,
}

impl StorageClass {
    /// Whether the class provisions volumes dynamically.
    pub fn provisions(&self) -> bool {
        self.provisioner != NO_PROVISIONER
    }
}

/// A PersistentVolume: declared, or provisioned for a claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Volume {
    pub name: String,
    #[serde(default, skip_serializing_if = "Labels::is_empty")]
    pub labels: Labels,
    #[serde(default)]
    pub storage_class: String,
    /// Bytes (written as a quantity, `10Gi`).
    #[serde(with = "bytes")]
    pub capacity: i64,
    pub access_modes: Vec<AccessMode>,
    /// `spec.nodeAffinity.required`: the nodes that can reach it (a local
    /// volume names one node; a zonal one a zone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_affinity: Option<NodeSelector>,
    pub reclaim_policy: ReclaimPolicy,
    /// `namespace/name` of the claim it is bound (or pre-bound) to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<String>,
    pub phase: VolumePhase,
    /// Made by a provisioner (deleted with its claim under `Delete`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub provisioned: bool,
}

impl Volume {
    /// Whether `node` can reach the volume (its node affinity).
    pub fn reachable_from(&self, node: &str, labels: &Labels) -> bool {
        self.node_affinity
            .as_ref()
            .is_none_or(|a| a.matches(node, labels))
    }

    /// The zones its labels name (VolumeZone: values joined by `__`).
    pub fn zones(&self) -> Option<Vec<&str>> {
        ZONE_LABELS
            .iter()
            .find_map(|key| self.labels.get(*key))
            .map(|v| v.split("__").collect())
    }

    /// `checkVolumeSatisfyClaim`: class, access modes and size.
    pub fn satisfies(&self, claim: &Claim) -> bool {
        self.storage_class == claim.storage_class
            && claim
                .access_modes
                .iter()
                .all(|m| self.access_modes.contains(m))
            && self.capacity >= claim.request
    }
}

/// Who made a claim: the manifests, or a StatefulSet's claim template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Claim {
    pub namespace: String,
    pub name: String,
    #[serde(default)]
    pub storage_class: String,
    pub access_modes: Vec<AccessMode>,
    /// Bytes (`resources.requests.storage`, written as a quantity).
    #[serde(with = "bytes")]
    pub request: i64,
    /// The volume it is bound to (`spec.volumeName`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<String>,
    pub phase: ClaimPhase,
    /// The StatefulSet whose claim template made it (`Kind/namespace/name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<super::workload::ObjectRef>,
}

impl Claim {
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// `findBestMatchForClaim`: of the available volumes that satisfy the
/// claim (or are pre-bound to it), the smallest; ties by name.
pub fn best_match<'a>(
    claim: &Claim,
    volumes: impl IntoIterator<Item = &'a Volume>,
) -> Option<&'a Volume> {
    let key = claim.key();
    volumes
        .into_iter()
        .filter(|v| {
            v.phase == VolumePhase::Available
                && v.satisfies(claim)
                && v.claim.as_ref().is_none_or(|c| *c == key)
        })
        .min_by(|a, b| {
            // A volume pre-bound to the claim wins, then the smallest.
            (a.claim.is_none(), a.capacity, &a.name).cmp(&(b.claim.is_none(), b.capacity, &b.name))
        })
}

/// What the scheduler knows of one claim of a replica, resolved from the
/// state where the replica is scheduled (`GetPodVolumeClaims` and the
/// volumes `FindPodVolumes` may bind).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum VolumeConstraint {
    /// No such claim: `persistentvolumeclaim "NAME" not found`.
    Missing(String),
    /// Unbound, of a class that binds at once: the PV controller binds it
    /// before the replica can be scheduled.
    UnboundImmediate,
    /// ReadWriteOncePod, already used by another replica.
    InUseReadWriteOncePod,
    /// Bound: the volume's node affinity and the zones its labels name.
    Bound {
        node_affinity: Option<NodeSelector>,
        zones: Option<Vec<String>>,
    },
    /// Unbound, WaitForFirstConsumer: the node affinities of the volumes it
    /// could bind, and where its class may provision one (None: it does not).
    Delayed {
        candidates: Vec<Option<NodeSelector>>,
        provision: Option<Option<NodeSelector>>,
    },
}

/// A StatefulSet's `volumeClaimTemplates[]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimTemplate {
    pub name: String,
    pub storage_class: String,
    pub access_modes: Vec<AccessMode>,
    pub request: i64,
}

/// The storage objects the manifests declare.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeclaredStorage {
    pub classes: Vec<StorageClass>,
    pub volumes: Vec<Volume>,
    pub claims: Vec<Claim>,
    /// Each object as applied, kept in the state (as a budget's is).
    pub manifests: Vec<(super::workload::ObjectRef, super::workload::Manifest)>,
}

impl DeclaredStorage {
    pub fn class(&self, name: &str) -> Option<&StorageClass> {
        self.classes.iter().find(|c| c.name == name)
    }

    pub fn is_empty(&self) -> bool {
        self.classes.is_empty() && self.volumes.is_empty() && self.claims.is_empty()
    }
}

/// `getPersistentVolumeClaimName`: `<template>-<set>-<ordinal>`.
pub fn template_claim_name(template: &str, set: &str, ordinal: i32) -> String {
    format!("{template}-{set}-{ordinal}")
}

/// `persistentVolumeClaimRetentionPolicy`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionPolicy {
    pub when_deleted: ReclaimPolicy,
    pub when_scaled: ReclaimPolicy,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn volume(name: &str, class: &str, gib: i64, modes: &[AccessMode]) -> Volume {
        Volume {
            name: name.into(),
            labels: Labels::new(),
            storage_class: class.into(),
            capacity: gib << 30,
            access_modes: modes.to_vec(),
            node_affinity: None,
            reclaim_policy: ReclaimPolicy::Retain,
            claim: None,
            phase: VolumePhase::Available,
            provisioned: false,
        }
    }

    fn claim(class: &str, gib: i64, modes: &[AccessMode]) -> Claim {
        Claim {
            namespace: "default".into(),
            name: "data".into(),
            storage_class: class.into(),
            access_modes: modes.to_vec(),
            request: gib << 30,
            volume: None,
            phase: ClaimPhase::Pending,
            owner: None,
        }
    }

    /// After `TestFindMatchVolume` (pkg/controller/volume/persistentvolume/index_test.go):
    /// the smallest volume of the class that fits; access modes must all be
    /// offered; a pre-bound volume goes to its claim only.
    #[test]
    fn the_smallest_fitting_volume_of_the_class_is_chosen() {
        use AccessMode::*;
        let mut volumes = vec![
            volume("big", "local", 100, &[ReadWriteOnce]),
            volume("small", "local", 5, &[ReadWriteOnce]),
            volume("medium", "local", 10, &[ReadWriteOnce, ReadOnlyMany]),
            volume("other-class", "fast", 10, &[ReadWriteOnce]),
            volume("shared", "local", 50, &[ReadWriteMany]),
        ];
        let pick =
            |claim: &Claim, volumes: &[Volume]| best_match(claim, volumes).map(|v| v.name.clone());
        assert_eq!(
            pick(&claim("local", 1, &[ReadWriteOnce]), &volumes),
            Some("small".into())
        );
        assert_eq!(
            pick(&claim("local", 6, &[ReadWriteOnce]), &volumes),
            Some("medium".into())
        );
        assert_eq!(
            pick(&claim("local", 1, &[ReadWriteOnce, ReadOnlyMany]), &volumes),
            Some("medium".into())
        );
        assert_eq!(
            pick(&claim("local", 1, &[ReadWriteMany]), &volumes),
            Some("shared".into())
        );
        assert_eq!(pick(&claim("local", 200, &[ReadWriteOnce]), &volumes), None);
        assert_eq!(
            pick(&claim("fast", 1, &[ReadWriteOnce]), &volumes),
            Some("other-class".into())
        );
        assert_eq!(pick(&claim("none", 1, &[ReadWriteOnce]), &volumes), None);
        volumes[1].phase = VolumePhase::Bound;
        assert_eq!(
            pick(&claim("local", 1, &[ReadWriteOnce]), &volumes),
            Some("medium".into())
        );
        volumes[2].claim = Some("default/other".into());
        assert_eq!(
            pick(&claim("local", 1, &[ReadWriteOnce]), &volumes),
            Some("big".into())
        );
        volumes[0].claim = Some("default/data".into());
        volumes.push(volume("tiny", "local", 1, &[ReadWriteOnce]));
        assert_eq!(
            pick(&claim("local", 1, &[ReadWriteOnce]), &volumes),
            Some("big".into())
        );
    }

    #[test]
    fn zones_are_read_from_either_label_and_split() {
        let mut v = volume("v", "c", 1, &[AccessMode::ReadWriteOnce]);
        assert_eq!(v.zones(), None);
        v.labels
            .insert("topology.kubernetes.io/zone".into(), "a__b".into());
        assert_eq!(v.zones(), Some(vec!["a", "b"]));
    }

    #[test]
    fn claim_names_follow_the_template_set_and_ordinal() {
        assert_eq!(template_claim_name("data", "db", 2), "data-db-2");
    }
}
