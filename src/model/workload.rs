//! The desired state: what the manifests declare, typed and defaulted.

use super::labels::{LabelSelector, Labels};
use super::pod::{PodSpec, Taint};
use super::resources::Allocatable;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Kind {
    Deployment,
    DaemonSet,
    Node,
    PodDisruptionBudget,
    PriorityClass,
    StatefulSet,
    PersistentVolume,
    PersistentVolumeClaim,
    StorageClass,
    Job,
    CronJob,
    /// A bare Pod, and the workload of an imported pod orch does not manage.
    Pod,
    ReplicaSet,
    ReplicationController,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Deployment => "Deployment",
            Kind::DaemonSet => "DaemonSet",
            Kind::Node => "Node",
            Kind::PodDisruptionBudget => "PodDisruptionBudget",
            Kind::PriorityClass => "PriorityClass",
            Kind::StatefulSet => "StatefulSet",
            Kind::PersistentVolume => "PersistentVolume",
            Kind::PersistentVolumeClaim => "PersistentVolumeClaim",
            Kind::StorageClass => "StorageClass",
            Kind::Job => "Job",
            Kind::CronJob => "CronJob",
            Kind::Pod => "Pod",
            Kind::ReplicaSet => "ReplicaSet",
            Kind::ReplicationController => "ReplicationController",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        [
            Kind::Deployment,
            Kind::DaemonSet,
            Kind::Node,
            Kind::PodDisruptionBudget,
            Kind::PriorityClass,
            Kind::StatefulSet,
            Kind::PersistentVolume,
            Kind::PersistentVolumeClaim,
            Kind::StorageClass,
            Kind::Job,
            Kind::CronJob,
            Kind::Pod,
            Kind::ReplicaSet,
            Kind::ReplicationController,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }

    pub fn is_namespaced(self) -> bool {
        !matches!(
            self,
            Kind::Node | Kind::PriorityClass | Kind::PersistentVolume | Kind::StorageClass
        )
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `Kind/namespace/name` (cluster-scoped kinds: `Kind/name`), the identity of
/// every object in output, events and the state file.
///
/// One pointer: every replica and every action names its workload, millions
/// on a large fleet, and they share the one identity (compared by pointer
/// first, then by its parts; ordered and hashed by its parts).
#[derive(Clone)]
pub struct ObjectRef(Arc<Identity>);

/// What an `ObjectRef` names; its fields are read through the reference.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Identity {
    pub kind: Kind,
    pub namespace: Arc<str>,
    pub name: Arc<str>,
}

impl std::ops::Deref for ObjectRef {
    type Target = Identity;

    fn deref(&self) -> &Identity {
        &self.0
    }
}

impl PartialEq for ObjectRef {
    fn eq(&self, other: &ObjectRef) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

impl Eq for ObjectRef {}

impl PartialOrd for ObjectRef {
    fn partial_cmp(&self, other: &ObjectRef) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ObjectRef {
    fn cmp(&self, other: &ObjectRef) -> std::cmp::Ordering {
        if Arc::ptr_eq(&self.0, &other.0) {
            std::cmp::Ordering::Equal
        } else {
            self.0.cmp(&other.0)
        }
    }
}

impl std::hash::Hash for ObjectRef {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl fmt::Debug for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectRef")
            .field("kind", &self.kind)
            .field("namespace", &self.namespace)
            .field("name", &self.name)
            .finish()
    }
}

impl ObjectRef {
    pub fn new(kind: Kind, namespace: &str, name: &str) -> ObjectRef {
        ObjectRef(Arc::new(Identity {
            kind,
            namespace: if kind.is_namespaced() {
                namespace.into()
            } else {
                "".into()
            },
            name: name.into(),
        }))
    }

    /// Parses `Kind/namespace/name`, `Kind/name` (namespace `default` for
    /// namespaced kinds) as used in `orch.dev/depends-on` and on the command line.
    pub fn parse(text: &str, default_namespace: &str) -> Option<ObjectRef> {
        let parts: Vec<&str> = text.trim().split('/').collect();
        let (kind, namespace, name) = match parts.as_slice() {
            [kind, name] => (Kind::parse(kind)?, default_namespace, *name),
            [kind, namespace, name] => (Kind::parse(kind)?, *namespace, *name),
            _ => return None,
        };
        if name.is_empty() || namespace.is_empty() {
            return None;
        }
        Some(ObjectRef::new(kind, namespace, name))
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kind.is_namespaced() {
            write!(f, "{}/{}/{}", self.kind, self.namespace, self.name)
        } else {
            write!(f, "{}/{}", self.kind, self.name)
        }
    }
}

impl Serialize for ObjectRef {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ObjectRef {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        super::intern::read_str(deserializer, |text| {
            super::intern::object_ref(text, |text| ObjectRef::parse(text, "default")).ok_or_else(
                || {
                    serde::de::Error::custom(format!(
                        "`{text}` is not an object reference Kind/namespace/name"
                    ))
                },
            )
        })?
    }
}

/// An `intstr.IntOrString` as used for maxSurge, maxUnavailable, minAvailable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntOrPercent {
    Int(i32),
    Percent(i32),
}

impl IntOrPercent {
    /// `GetScaledValueFromIntOrPercent`: percents scale against `total`, rounding up or down.
    pub fn scaled(self, total: i32, round_up: bool) -> i32 {
        match self {
            IntOrPercent::Int(v) => v,
            IntOrPercent::Percent(p) => {
                let product = i64::from(p) * i64::from(total);
                let value = if round_up {
                    (product + 99).div_euclid(100)
                } else {
                    product.div_euclid(100)
                };
                value.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
            }
        }
    }

    pub fn parse(text: &str) -> Option<IntOrPercent> {
        let digits = text.strip_suffix('%')?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok().map(IntOrPercent::Percent)
    }
}

impl fmt::Display for IntOrPercent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntOrPercent::Int(v) => write!(f, "{v}"),
            IntOrPercent::Percent(p) => write!(f, "{p}%"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Strategy {
    RollingUpdate {
        max_surge: IntOrPercent,
        max_unavailable: IntOrPercent,
    },
    Recreate,
    /// DaemonSet only: replicas are replaced only when deleted.
    OnDelete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WorkloadKind {
    Deployment,
    DaemonSet,
    StatefulSet,
    Job,
    /// ReplicaSet and ReplicationController: a count, no rollout.
    ReplicaSet,
    /// A bare Pod.
    Pod,
}

/// Where an object was declared: its manifest file and the line and column of
/// its `kind`, so reports about it later (annotations, JUnit) point there.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourceLocation {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// A Deployment or DaemonSet as declared, with Kubernetes' defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    pub id: ObjectRef,
    pub labels: Labels,
    /// Deployment replicas; DaemonSets have one per eligible node and ignore it.
    pub replicas: i32,
    pub selector: LabelSelector,
    /// The pod template exactly as declared (keys sorted): its hash names the revision.
    pub template: super::json::Json,
    pub template_hash: Arc<str>,
    pub pod: PodSpec,
    pub strategy: Strategy,
    pub min_ready_seconds: u64,
    pub progress_deadline_seconds: u64,
    pub revision_history_limit: u32,
    pub paused: bool,
    pub depends_on: Vec<ObjectRef>,
    /// The whole object as last applied, kept in the state for `describe` and diffs.
    pub manifest: Manifest,
    /// Where the manifests declare it; None for workloads built in code.
    pub source: Option<SourceLocation>,
    /// A StatefulSet's own fields (None for other kinds).
    pub stateful: Option<Box<super::stateful::StatefulSpec>>,
    /// A Job's spec (None for other kinds).
    pub job: Option<Arc<super::job::JobSpec>>,
}

impl Workload {
    pub fn kind(&self) -> WorkloadKind {
        match self.id.kind {
            Kind::DaemonSet => WorkloadKind::DaemonSet,
            Kind::StatefulSet => WorkloadKind::StatefulSet,
            Kind::Job => WorkloadKind::Job,
            Kind::ReplicaSet | Kind::ReplicationController => WorkloadKind::ReplicaSet,
            Kind::Pod => WorkloadKind::Pod,
            _ => WorkloadKind::Deployment,
        }
    }
}

/// A Node as declared in the manifests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSpec {
    pub name: String,
    pub labels: Labels,
    pub taints: Vec<Taint>,
    pub unschedulable: bool,
    pub allocatable: Allocatable,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DisruptionBudget {
    pub id: ObjectRef,
    /// policy/v1: an empty selector selects every replica of the namespace, a missing one none.
    pub selector: Option<LabelSelector>,
    pub min_available: Option<IntOrPercent>,
    pub max_unavailable: Option<IntOrPercent>,
    /// The object as last applied, kept in the state so drains outside an apply see it.
    pub manifest: Manifest,
}

/// An object as applied. Shared, not copied, between the manifests, the
/// actions and the state: once applied, the stored one is the declared one,
/// and every later pass of the run sees that without comparing them.
pub type Manifest = super::json::Json;

/// Everything the `-f` set declares, sorted by identity.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Desired {
    pub nodes: Vec<NodeSpec>,
    pub workloads: Vec<Workload>,
    pub disruption_budgets: Vec<DisruptionBudget>,
    /// Declared PriorityClasses, by name (the built-ins are not listed).
    pub priority_classes: Vec<super::priority::PriorityClass>,
    /// Storage as declared, each sorted by identity.
    pub storage: super::storage::DeclaredStorage,
    /// HorizontalPodAutoscalers, sorted by namespace and name.
    pub autoscalers: Vec<crate::autoscale::spec::Autoscaler>,
    /// `orch.dev/demand` of the workloads that declare one.
    pub demands: std::collections::BTreeMap<ObjectRef, crate::autoscale::demand::Demand>,
    /// NodeGroups, sorted by name.
    pub node_groups: Vec<crate::autoscale::nodegroup::NodeGroup>,
    /// CronJobs: they own no pods themselves, the Jobs they start do.
    pub cron_jobs: Vec<super::cron::CronJob>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_scaling_rounds_as_asked() {
        assert_eq!(IntOrPercent::Percent(25).scaled(10, true), 3);
        assert_eq!(IntOrPercent::Percent(25).scaled(10, false), 2);
        assert_eq!(IntOrPercent::Percent(1).scaled(2, false), 0);
        assert_eq!(IntOrPercent::Percent(1).scaled(2, true), 1);
        assert_eq!(IntOrPercent::Int(4).scaled(10, true), 4);
    }

    #[test]
    fn percent_parsing_is_strict() {
        assert_eq!(IntOrPercent::parse("25%"), Some(IntOrPercent::Percent(25)));
        assert_eq!(IntOrPercent::parse("25"), None);
        assert_eq!(IntOrPercent::parse("%"), None);
        assert_eq!(IntOrPercent::parse("-5%"), None);
        assert_eq!(IntOrPercent::parse("2.5%"), None);
    }

    #[test]
    fn object_refs_print_and_parse() {
        let id = ObjectRef::new(Kind::Deployment, "default", "api");
        assert_eq!(id.to_string(), "Deployment/default/api");
        assert_eq!(
            ObjectRef::parse("Deployment/api", "default"),
            Some(id.clone())
        );
        assert_eq!(ObjectRef::parse("Deployment/default/api", "x"), Some(id));
        assert_eq!(
            ObjectRef::new(Kind::Node, "default", "n1").to_string(),
            "Node/n1"
        );
        assert_eq!(ObjectRef::parse("Service/api", "default"), None);
    }
}
