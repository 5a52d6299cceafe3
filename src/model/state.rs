//! The observed state: the document persisted in the state file (SPEC §3).
//! Field order here is the field order on disk.

use super::condition::{ConditionReason, ConditionStatus, ConditionType};
use super::event::EventReason;
use super::labels::Labels;
use super::pod::Taint;
use super::resources::Allocatable;
use super::workload::{Kind, ObjectRef};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub const API_VERSION: &str = "orch.dev/v1";
pub const STATE_KIND: &str = "State";
/// The epoch of a new state without `--epoch`: 2026-01-01T00:00:00Z, fixed
/// so that plans are reproducible.
pub const DEFAULT_EPOCH: i64 = 1_767_225_600;

fn default_epoch() -> i64 {
    DEFAULT_EPOCH
}

fn is_default_epoch(epoch: &i64) -> bool {
    *epoch == DEFAULT_EPOCH
}

/// Events kept in the state's ring; older ones are dropped.
pub const MAX_EVENTS: usize = 1000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct State {
    pub api_version: String,
    pub kind: String,
    /// +1 on every persisted change; seeds replica names.
    pub generation: u64,
    /// Simulated seconds since the state was created.
    pub clock: u64,
    /// The wall-clock instant (Unix seconds) of simulated second 0, which
    /// cron schedules are read against; written only when not `DEFAULT_EPOCH`.
    #[serde(default = "default_epoch", skip_serializing_if = "is_default_epoch")]
    pub epoch: i64,
    #[serde(default)]
    pub nodes: Vec<NodeState>,
    #[serde(default)]
    pub workloads: Vec<WorkloadState>,
    /// Shared with the copy a save holds (`Shared`).
    #[serde(default)]
    pub replicas: super::shared::Shared<Replica>,
    #[serde(default)]
    pub events: Vec<Event>,
    /// PersistentVolumes, declared or provisioned (absent when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<crate::model::storage::Volume>,
    /// PersistentVolumeClaims, declared or made from claim templates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<crate::model::storage::Claim>,
    /// NodeGroups' records (absent when none), sorted by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub node_groups: Vec<crate::model::node_group::NodeGroupState>,
    /// HorizontalPodAutoscalers: their status and the controller's memory
    /// (absent when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub autoscalers: Vec<crate::autoscale::status::AutoscalerState>,
}

impl Default for State {
    fn default() -> Self {
        State {
            api_version: API_VERSION.to_string(),
            kind: STATE_KIND.to_string(),
            generation: 0,
            clock: 0,
            epoch: DEFAULT_EPOCH,
            nodes: Vec::new(),
            workloads: Vec::new(),
            replicas: Default::default(),
            events: Vec::new(),
            volumes: Vec::new(),
            claims: Vec::new(),
            node_groups: Vec::new(),
            autoscalers: Vec::new(),
        }
    }
}

/// Where a node came from: the manifests own their nodes (and remove them when
/// they disappear from the `-f` set); `orch node add` nodes stay until removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum NodeSource {
    #[default]
    Manifest,
    Imperative,
    /// From `orch import`: the cluster's own node, kept until removed (or
    /// declared in the manifests, which then own it).
    Imported,
    /// A member of a NodeGroup, added and removed by its autoscaler.
    NodeGroup,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeState {
    pub name: String,
    #[serde(default)]
    pub labels: Labels,
    pub allocatable: Allocatable,
    #[serde(default)]
    pub taints: Vec<Taint>,
    /// Effective: declared `spec.unschedulable` or cordoned.
    #[serde(default)]
    pub unschedulable: bool,
    /// Set by `orch node cordon`, kept across applies until `uncordon`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cordoned: bool,
    /// `orch node drain`: replicas are evicted as disruption budgets allow.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub draining: bool,
    /// Removed from the fleet once drained (`node remove`, or gone from the manifests).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub removing: bool,
    pub ready: bool,
    /// When the node stopped being ready (`orch node fail`); evictions count from here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_ready_since: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    #[serde(default)]
    pub source: NodeSource,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Condition {
    #[serde(rename = "type")]
    pub kind: ConditionType,
    pub status: ConditionStatus,
    /// Absent only on a condition imported without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<ConditionReason>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(default)]
    pub last_update_time: u64,
    #[serde(default)]
    pub last_transition_time: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Revision {
    pub revision: u64,
    pub hash: String,
    pub template: super::json::Json,
    /// A Deployment revision's `deployment.kubernetes.io/desired-replicas`:
    /// `spec.replicas` when the controller last scaled its ReplicaSet (a
    /// differing value marks a scaling event, `isScalingEvent`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_replicas: Option<i32>,
    /// `deployment.kubernetes.io/max-replicas`: `replicas + maxSurge` at that
    /// scale, which proportional scaling divides by (`getReplicaSetFraction`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_replicas: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkloadStatus {
    /// Set by `orch rollout pause`, cleared by `resume` (on top of `spec.paused`).
    #[serde(default)]
    pub paused: bool,
    /// `spec.replicas` at the last status update (scaling events are read
    /// from the revisions' `desiredReplicas`, as Kubernetes reads them).
    #[serde(default)]
    pub desired: i32,
    /// Counts at the last status update, to tell progress from a stall.
    #[serde(default)]
    pub replicas: i32,
    #[serde(default)]
    pub updated: i32,
    #[serde(default)]
    pub ready: i32,
    #[serde(default)]
    pub available: i32,
    #[serde(default)]
    pub conditions: Vec<Condition>,
    /// A StatefulSet's `status.currentRevision` (the template hash): the
    /// revision replicas below the partition are made at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_revision: Option<String>,
    /// A Job's start, outcome and expiry (Jobs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<Box<super::job::JobStatus>>,
    /// A CronJob's schedule record and its Jobs (CronJobs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron: Option<Box<super::cron::CronStatus>>,
    /// A bare Pod deleted in a run (evicted, its node gone): when, and why.
    /// It is created again only by the next run that applies its manifest.
    /// (Boxed, as the Job and CronJob records: a status travels in actions.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost: Option<Box<PodLoss>>,
}

/// When and why a bare Pod was lost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodLoss {
    pub at: u64,
    pub reason: String,
}

impl WorkloadStatus {
    pub fn condition(&self, kind: ConditionType) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.kind == kind)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkloadState {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
    /// The manifest as last applied.
    pub spec: crate::model::workload::Manifest,
    pub revisions: Vec<Revision>,
    #[serde(default)]
    pub status: WorkloadStatus,
    /// Who put it here: `apply` (only such workloads are ever pruned) or an
    /// import (left alone, as `kubectl apply --prune` leaves what it did not apply).
    #[serde(default, skip_serializing_if = "WorkloadOrigin::is_applied")]
    pub origin: WorkloadOrigin,
}

/// Where a stored workload came from; absent in the file means `Applied`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum WorkloadOrigin {
    /// From the `-f` set of an apply: pruned when it leaves the set.
    #[default]
    Applied,
    /// From `orch import`: never pruned; an apply that declares it adopts it.
    Imported,
}

impl WorkloadOrigin {
    pub fn is_applied(&self) -> bool {
        *self == WorkloadOrigin::Applied
    }
}

impl WorkloadState {
    pub fn id(&self) -> ObjectRef {
        ObjectRef::new(self.kind, &self.namespace, &self.name)
    }

    /// `id()`'s order, borrowed (no identity built per comparison).
    pub fn id_order(&self) -> (Kind, &str, &str) {
        let namespace = if self.kind.is_namespaced() {
            self.namespace.as_str()
        } else {
            ""
        };
        (self.kind, namespace, &self.name)
    }

    pub fn current_revision(&self) -> Option<&Revision> {
        self.revisions.iter().max_by_key(|r| r.revision)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Phase {
    Pending,
    Running,
    Terminating,
    Failed,
    /// A Job's pod that ran to completion.
    Succeeded,
}

impl Phase {
    /// Pending or running: what occupies (or waits for) a node. Terminating
    /// replicas are on their way out; finished ones (a Job's Succeeded or
    /// Failed pods) stay listed but hold nothing.
    pub fn is_active(self) -> bool {
        matches!(self, Phase::Pending | Phase::Running)
    }

    /// A Job's pod that ran to its end.
    pub fn is_finished(self) -> bool {
        matches!(self, Phase::Succeeded | Phase::Failed)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Replica {
    pub name: Arc<str>,
    pub workload: ObjectRef,
    pub revision: u64,
    #[serde(deserialize_with = "super::intern::text")]
    pub hash: Arc<str>,
    /// (Shared with the other replicas on the node as a state is read, and
    /// with the bind action that put it there.)
    #[serde(default, deserialize_with = "super::intern::optional_text")]
    pub node: Option<Arc<str>>,
    /// DaemonSet replicas: the node this replica exists for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_node: Option<String>,
    pub phase: Phase,
    pub ready: bool,
    pub created_at: u64,
    /// When it was bound to its node and started; readiness counts from here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_at: Option<u64>,
    #[serde(default)]
    pub restarts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When a Job's pod succeeded or failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<u64>,
    /// An imported pod that no simulated workload owns (a mirror pod, an
    /// operator's pod): it holds its node's resources and counts for
    /// selectors, but orch never deletes, evicts, replaces or moves it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unmanaged: Option<Box<Unmanaged>>,
}

/// What orch keeps of a pod it does not manage (its `workload` is the pod itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Unmanaged {
    /// The controller named by its ownerReference, `Kind/namespace/name`
    /// (`Kind/name` for a cluster-scoped owner such as a mirror pod's Node);
    /// absent for a pod without an owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The pod's labels and spec, as a template (`metadata`, `spec`).
    pub template: super::json::Json,
}

impl Replica {
    /// A new replica as its controller creates it: Pending, on no node yet.
    pub fn pending(
        name: Arc<str>,
        workload: ObjectRef,
        revision: u64,
        hash: Arc<str>,
        target_node: Option<String>,
        created_at: u64,
    ) -> Replica {
        Replica {
            name,
            workload,
            revision,
            hash,
            node: None,
            target_node,
            phase: Phase::Pending,
            ready: false,
            created_at,
            started_at: None,
            ready_at: None,
            restarts: 0,
            reason: None,
            unmanaged: None,
            finished_at: None,
        }
    }

    /// An imported pod orch does not manage.
    pub fn is_unmanaged(&self) -> bool {
        self.unmanaged.is_some()
    }

    /// The object that owns the replica as output names it: the owner of an
    /// unmanaged pod (or the pod itself), else its workload.
    pub fn owner_name(&self) -> String {
        match &self.unmanaged {
            Some(unmanaged) => unmanaged
                .owner
                .clone()
                .unwrap_or_else(|| self.workload.to_string()),
            None => self.workload.to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventType {
    Normal,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Event {
    pub time: u64,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub reason: EventReason,
    pub object: String,
    pub message: String,
}

impl Condition {
    /// A node's Ready condition, as the node lifecycle controller writes it.
    pub fn ready(
        status: ConditionStatus,
        reason: Option<ConditionReason>,
        message: &str,
        now: u64,
    ) -> Condition {
        Condition {
            kind: ConditionType::Ready,
            status,
            reason,
            message: message.into(),
            last_update_time: now,
            last_transition_time: now,
        }
    }
}

impl State {
    /// The node stops posting status: NotReady from now, its replicas
    /// unready at once (the loop evicts them after the not-ready toleration).
    /// False when the node is unknown or already not ready.
    pub fn fail_node(&mut self, name: &str) -> bool {
        self.fail_nodes(&[name]) == 1
    }

    /// `fail_node` for each of `names`, in one pass over the replicas: how
    /// many of them failed now.
    pub fn fail_nodes(&mut self, names: &[impl AsRef<str>]) -> usize {
        let now = self.clock;
        let mut failed: rustc_hash::FxHashSet<&str> = rustc_hash::FxHashSet::default();
        for name in names {
            let name = name.as_ref();
            let Some(position) = self.node_position(name).ok() else {
                continue;
            };
            let node = &mut self.nodes[position];
            if !node.ready {
                continue;
            }
            node.ready = false;
            node.not_ready_since = Some(now);
            node.conditions = vec![Condition::ready(
                ConditionStatus::Unknown,
                Some(ConditionReason::NodeStatusUnknown),
                "Kubelet stopped posting node status.",
                now,
            )];
            failed.insert(name);
        }
        if !failed.is_empty() {
            for replica in self
                .replicas
                .iter_mut()
                .filter(|r| r.node.as_deref().is_some_and(|n| failed.contains(n)))
            {
                replica.ready = false;
                replica.ready_at = None;
            }
        }
        failed.len()
    }

    /// Nodes are kept sorted by name and workloads by id (the state store
    /// sorts what it loads; the executor keeps the order), so lookups are
    /// binary searches.
    pub fn node(&self, name: &str) -> Option<&NodeState> {
        self.node_position(name).ok().map(|i| &self.nodes[i])
    }

    pub fn node_mut(&mut self, name: &str) -> Option<&mut NodeState> {
        self.node_position(name).ok().map(|i| &mut self.nodes[i])
    }

    /// Where the node is, or where it belongs.
    pub fn node_position(&self, name: &str) -> Result<usize, usize> {
        self.nodes.binary_search_by(|n| n.name.as_str().cmp(name))
    }

    pub fn workload(&self, id: &ObjectRef) -> Option<&WorkloadState> {
        self.workload_position(id).ok().map(|i| &self.workloads[i])
    }

    pub fn workload_mut(&mut self, id: &ObjectRef) -> Option<&mut WorkloadState> {
        self.workload_position(id)
            .ok()
            .map(|i| &mut self.workloads[i])
    }

    /// Where the workload is, or where it belongs (the order of `ObjectRef`).
    pub fn workload_position(&self, id: &ObjectRef) -> Result<usize, usize> {
        self.workloads.binary_search_by(|w| {
            (w.kind, w.namespace.as_str(), w.name.as_str()).cmp(&(id.kind, &id.namespace, &id.name))
        })
    }

    /// States written before workloads recorded their origin: one that an
    /// import wrote and no loop has run on since (generation 1, a clock read
    /// from the export, not one event) holds only imported workloads. Any
    /// other state's workloads came from `apply`, as they always did.
    pub fn migrate_origins(&mut self) {
        let untouched_import = self.generation == 1 && self.clock > 0 && self.events.is_empty();
        let recorded = self
            .workloads
            .iter()
            .any(|w| w.origin != WorkloadOrigin::Applied)
            || self.nodes.iter().any(|n| n.source == NodeSource::Imported);
        if untouched_import && !recorded {
            for workload in &mut self.workloads {
                workload.origin = WorkloadOrigin::Imported;
            }
            for node in &mut self.nodes {
                if node.source == NodeSource::Manifest {
                    node.source = NodeSource::Imported;
                }
            }
        }
    }

    /// Restore the lookup order (after loading, or an edit by hand).
    pub fn sort(&mut self) {
        self.nodes.sort_by(|a, b| a.name.cmp(&b.name));
        self.workloads
            .sort_by(|a, b| a.id_order().cmp(&b.id_order()));
        self.volumes.sort_by(|a, b| a.name.cmp(&b.name));
        self.claims
            .sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    }

    /// Append an event; call `trim_events` once after a batch.
    pub fn record_event(&mut self, event: Event) {
        self.events.push(event);
    }

    /// Keep only the newest `MAX_EVENTS` events (the ring's bound).
    pub fn trim_events(&mut self) {
        if self.events.len() > MAX_EVENTS {
            let excess = self.events.len() - MAX_EVENTS;
            self.events.drain(..excess);
        }
    }
}

#[cfg(test)]
mod tests;
