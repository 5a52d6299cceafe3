//! Pod (v1), ReplicaSet (apps/v1) and ReplicationController (v1) as written.

// Fields orch accepts but does not act on are read into `IgnoredAny` and never looked at.
#![allow(dead_code)]

use super::wire::{ObjectMeta, PodSpec, PodTemplateSpec};
use crate::model::labels::{LabelSelector, Labels};
use serde::Deserialize;
use serde::de::IgnoredAny;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Pod {
    pub api_version: Option<IgnoredAny>,
    pub kind: Option<IgnoredAny>,
    #[serde(default)]
    pub metadata: ObjectMeta,
    pub spec: Option<PodSpec>,
    pub status: Option<IgnoredAny>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplicaSet {
    pub api_version: Option<IgnoredAny>,
    pub kind: Option<IgnoredAny>,
    #[serde(default)]
    pub metadata: ObjectMeta,
    pub spec: Option<ReplicaSetSpec>,
    pub status: Option<IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplicaSetSpec {
    pub replicas: Option<i32>,
    pub min_ready_seconds: Option<i32>,
    pub selector: Option<LabelSelector>,
    pub template: Option<PodTemplateSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplicationController {
    pub api_version: Option<IgnoredAny>,
    pub kind: Option<IgnoredAny>,
    #[serde(default)]
    pub metadata: ObjectMeta,
    pub spec: Option<ReplicationControllerSpec>,
    pub status: Option<IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplicationControllerSpec {
    pub replicas: Option<i32>,
    pub min_ready_seconds: Option<i32>,
    /// A plain label map; defaults to the template's labels.
    pub selector: Option<Labels>,
    pub template: Option<PodTemplateSpec>,
}
