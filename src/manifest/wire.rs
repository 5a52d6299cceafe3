//! The manifests as written: Kubernetes' field names, every field of the
//! objects orch reads (the ones it does not act on are accepted and ignored),
//! and nothing else — a misspelt field is an error, as with
//! `kubectl apply --validate=strict`.

// Fields orch accepts but does not act on are read into `IgnoredAny` and never looked at.
#![allow(dead_code)]

use crate::model::labels::{LabelSelector, Labels};
use crate::model::pod::{Affinity, TaintEffect, Toleration, TopologySpreadConstraint};
use serde::Deserialize;
use serde::de::{self, IgnoredAny, Visitor};
use std::collections::BTreeMap;
use std::fmt;

/// A quantity as written: `500m`, `"2"`, `2`, `1.5`, `1e3`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantityText(pub String);

impl<'de> Deserialize<'de> for QuantityText {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = QuantityText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a quantity such as 500m, 2 or 1Gi")
            }
            fn visit_str<E>(self, v: &str) -> Result<QuantityText, E> {
                Ok(QuantityText(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<QuantityText, E> {
                Ok(QuantityText(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<QuantityText, E> {
                Ok(QuantityText(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<QuantityText, E> {
                // Non-finite values as YAML spells them, for the message that refuses them.
                Ok(QuantityText(match v {
                    v if v.is_nan() => ".nan".into(),
                    v if v == f64::INFINITY => ".inf".into(),
                    v if v == f64::NEG_INFINITY => "-.inf".into(),
                    v => v.to_string(),
                }))
            }
        }
        d.deserialize_any(V)
    }
}

pub type ResourceList = BTreeMap<String, QuantityText>;

/// `intstr.IntOrString`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntOrString {
    Int(i64),
    Str(String),
}

impl<'de> Deserialize<'de> for IntOrString {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = IntOrString;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer or a percent string such as 25%")
            }
            fn visit_str<E>(self, v: &str) -> Result<IntOrString, E> {
                Ok(IntOrString::Str(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<IntOrString, E> {
                Ok(IntOrString::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<IntOrString, E> {
                i64::try_from(v)
                    .map(IntOrString::Int)
                    .map_err(|_| E::custom("integer out of range"))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ObjectMeta {
    pub name: Option<String>,
    pub namespace: Option<String>,
    #[serde(default)]
    pub labels: Labels,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    pub generate_name: Option<IgnoredAny>,
    pub uid: Option<IgnoredAny>,
    pub resource_version: Option<IgnoredAny>,
    pub generation: Option<IgnoredAny>,
    pub creation_timestamp: Option<IgnoredAny>,
    pub deletion_timestamp: Option<IgnoredAny>,
    pub deletion_grace_period_seconds: Option<IgnoredAny>,
    pub owner_references: Option<IgnoredAny>,
    pub finalizers: Option<IgnoredAny>,
    pub managed_fields: Option<IgnoredAny>,
    pub self_link: Option<IgnoredAny>,
}

/// An object as written: its kind's `spec`; `status` (as kubectl prints it) is ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Object<S> {
    pub api_version: Option<IgnoredAny>,
    pub kind: Option<IgnoredAny>,
    #[serde(default)]
    pub metadata: ObjectMeta,
    pub spec: Option<S>,
    pub status: Option<IgnoredAny>,
}

pub type Deployment = Object<DeploymentSpec>;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeploymentSpec {
    pub replicas: Option<i32>,
    pub selector: Option<LabelSelector>,
    pub template: Option<PodTemplateSpec>,
    pub strategy: Option<DeploymentStrategy>,
    pub min_ready_seconds: Option<i32>,
    pub revision_history_limit: Option<i32>,
    #[serde(default)]
    pub paused: bool,
    pub progress_deadline_seconds: Option<i32>,
}

/// An update strategy: its type, and the rolling update's parameters `R`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Strategy<R> {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub rolling_update: Option<R>,
}

pub type DeploymentStrategy = Strategy<RollingUpdate>;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RollingUpdate {
    pub max_surge: Option<IntOrString>,
    pub max_unavailable: Option<IntOrString>,
}

pub type DaemonSet = Object<DaemonSetSpec>;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DaemonSetSpec {
    pub selector: Option<LabelSelector>,
    pub template: Option<PodTemplateSpec>,
    pub update_strategy: Option<DeploymentStrategy>,
    pub min_ready_seconds: Option<i32>,
    pub revision_history_limit: Option<i32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodTemplateSpec {
    #[serde(default)]
    pub metadata: ObjectMeta,
    pub spec: Option<PodSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodSpec {
    #[serde(default)]
    pub containers: Vec<Container>,
    #[serde(default)]
    pub init_containers: Vec<Container>,
    #[serde(default)]
    pub node_selector: Labels,
    pub node_name: Option<String>,
    pub affinity: Option<Affinity>,
    #[serde(default)]
    pub tolerations: Vec<Toleration>,
    #[serde(default)]
    pub topology_spread_constraints: Vec<TopologySpreadConstraint>,
    pub overhead: Option<ResourceList>,
    pub priority_class_name: Option<String>,
    pub priority: Option<i32>,
    pub scheduler_name: Option<String>,
    pub volumes: Option<Vec<Volume>>,
    pub ephemeral_containers: Option<IgnoredAny>,
    pub restart_policy: Option<String>,
    pub termination_grace_period_seconds: Option<IgnoredAny>,
    pub active_deadline_seconds: Option<IgnoredAny>,
    pub dns_policy: Option<IgnoredAny>,
    pub dns_config: Option<IgnoredAny>,
    pub service_account_name: Option<IgnoredAny>,
    pub service_account: Option<IgnoredAny>,
    pub automount_service_account_token: Option<IgnoredAny>,
    pub host_network: Option<IgnoredAny>,
    #[serde(rename = "hostPID")]
    pub host_pid: Option<IgnoredAny>,
    #[serde(rename = "hostIPC")]
    pub host_ipc: Option<IgnoredAny>,
    pub host_users: Option<IgnoredAny>,
    pub share_process_namespace: Option<IgnoredAny>,
    pub security_context: Option<IgnoredAny>,
    pub image_pull_secrets: Option<IgnoredAny>,
    pub hostname: Option<IgnoredAny>,
    pub subdomain: Option<IgnoredAny>,
    pub host_aliases: Option<IgnoredAny>,
    pub readiness_gates: Option<IgnoredAny>,
    pub runtime_class_name: Option<IgnoredAny>,
    pub enable_service_links: Option<IgnoredAny>,
    pub preemption_policy: Option<IgnoredAny>,
    #[serde(rename = "setHostnameAsFQDN")]
    pub set_hostname_as_fqdn: Option<IgnoredAny>,
    pub os: Option<IgnoredAny>,
    pub scheduling_gates: Option<Vec<SchedulingGate>>,
    pub resource_claims: Option<IgnoredAny>,
    /// Pod-level requests and limits (PodLevelResources, on by default in 1.34).
    pub resources: Option<Resources>,
}

/// One of `spec.schedulingGates`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SchedulingGate {
    pub name: Option<String>,
}

/// A pod volume: orch reads the claims (`persistentVolumeClaim`); the
/// other sources are accepted and ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Volume {
    pub name: Option<String>,
    pub persistent_volume_claim: Option<ClaimSource>,
    pub host_path: Option<IgnoredAny>,
    pub empty_dir: Option<IgnoredAny>,
    pub gce_persistent_disk: Option<IgnoredAny>,
    pub aws_elastic_block_store: Option<IgnoredAny>,
    pub git_repo: Option<IgnoredAny>,
    pub secret: Option<IgnoredAny>,
    pub nfs: Option<IgnoredAny>,
    pub iscsi: Option<IgnoredAny>,
    pub glusterfs: Option<IgnoredAny>,
    pub rbd: Option<IgnoredAny>,
    pub flex_volume: Option<IgnoredAny>,
    pub cinder: Option<IgnoredAny>,
    pub cephfs: Option<IgnoredAny>,
    pub flocker: Option<IgnoredAny>,
    #[serde(rename = "downwardAPI")]
    pub downward_api: Option<IgnoredAny>,
    pub fc: Option<IgnoredAny>,
    pub azure_file: Option<IgnoredAny>,
    pub config_map: Option<IgnoredAny>,
    pub vsphere_volume: Option<IgnoredAny>,
    pub quobyte: Option<IgnoredAny>,
    pub azure_disk: Option<IgnoredAny>,
    pub photon_persistent_disk: Option<IgnoredAny>,
    pub projected: Option<IgnoredAny>,
    pub portworx_volume: Option<IgnoredAny>,
    #[serde(rename = "scaleIO")]
    pub scale_io: Option<IgnoredAny>,
    #[serde(rename = "storageos")]
    pub storageos: Option<IgnoredAny>,
    pub csi: Option<IgnoredAny>,
    pub ephemeral: Option<IgnoredAny>,
    pub image: Option<IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClaimSource {
    pub claim_name: Option<String>,
    pub read_only: Option<IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Container {
    pub name: Option<String>,
    #[serde(default)]
    pub resources: Resources,
    pub readiness_probe: Option<Probe>,
    /// `Always` on an init container makes it a sidecar.
    pub restart_policy: Option<String>,
    pub image: Option<IgnoredAny>,
    pub command: Option<IgnoredAny>,
    pub args: Option<IgnoredAny>,
    pub working_dir: Option<IgnoredAny>,
    pub ports: Option<IgnoredAny>,
    pub env_from: Option<IgnoredAny>,
    pub env: Option<IgnoredAny>,
    pub resize_policy: Option<IgnoredAny>,
    pub volume_mounts: Option<IgnoredAny>,
    pub volume_devices: Option<IgnoredAny>,
    pub liveness_probe: Option<IgnoredAny>,
    pub startup_probe: Option<IgnoredAny>,
    pub lifecycle: Option<IgnoredAny>,
    pub termination_message_path: Option<IgnoredAny>,
    pub termination_message_policy: Option<IgnoredAny>,
    pub image_pull_policy: Option<IgnoredAny>,
    pub security_context: Option<IgnoredAny>,
    pub stdin: Option<IgnoredAny>,
    pub stdin_once: Option<IgnoredAny>,
    pub tty: Option<IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Resources {
    #[serde(default)]
    pub requests: ResourceList,
    #[serde(default)]
    pub limits: ResourceList,
    pub claims: Option<IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Probe {
    pub initial_delay_seconds: Option<i32>,
    pub period_seconds: Option<i32>,
    pub success_threshold: Option<i32>,
    pub exec: Option<IgnoredAny>,
    pub http_get: Option<IgnoredAny>,
    pub tcp_socket: Option<IgnoredAny>,
    pub grpc: Option<IgnoredAny>,
    pub timeout_seconds: Option<IgnoredAny>,
    pub failure_threshold: Option<IgnoredAny>,
    pub termination_grace_period_seconds: Option<IgnoredAny>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Node {
    pub api_version: Option<IgnoredAny>,
    pub kind: Option<IgnoredAny>,
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: NodeSpec,
    #[serde(default)]
    pub status: NodeStatus,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeSpec {
    #[serde(default)]
    pub unschedulable: bool,
    #[serde(default)]
    pub taints: Vec<Taint>,
    #[serde(rename = "podCIDR")]
    pub pod_cidr: Option<IgnoredAny>,
    #[serde(rename = "podCIDRs")]
    pub pod_cidrs: Option<IgnoredAny>,
    #[serde(rename = "providerID")]
    pub provider_id: Option<IgnoredAny>,
    pub config_source: Option<IgnoredAny>,
    #[serde(rename = "externalID")]
    pub external_id: Option<IgnoredAny>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Taint {
    pub key: Option<String>,
    #[serde(default)]
    pub value: String,
    pub effect: Option<TaintEffect>,
    pub time_added: Option<IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeStatus {
    pub allocatable: Option<ResourceList>,
    pub capacity: Option<ResourceList>,
    pub phase: Option<IgnoredAny>,
    pub conditions: Option<IgnoredAny>,
    pub addresses: Option<IgnoredAny>,
    pub daemon_endpoints: Option<IgnoredAny>,
    pub node_info: Option<IgnoredAny>,
    pub images: Option<IgnoredAny>,
    pub volumes_in_use: Option<IgnoredAny>,
    pub volumes_attached: Option<IgnoredAny>,
    pub config: Option<IgnoredAny>,
    pub runtime_handlers: Option<IgnoredAny>,
    pub features: Option<IgnoredAny>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodDisruptionBudget {
    pub api_version: Option<IgnoredAny>,
    pub kind: Option<IgnoredAny>,
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: PdbSpec,
    pub status: Option<IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PdbSpec {
    pub min_available: Option<IntOrString>,
    pub max_unavailable: Option<IntOrString>,
    pub selector: Option<LabelSelector>,
    pub unhealthy_pod_eviction_policy: Option<IgnoredAny>,
}
