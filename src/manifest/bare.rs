//! Pod (v1), ReplicaSet (apps/v1) and ReplicationController (v1) as written.

// Fields orch accepts but does not act on are read into `IgnoredAny` and never looked at.
#![allow(dead_code)]

use super::wire::{Object, PodSpec, PodTemplateSpec};
use crate::model::labels::{LabelSelector, Labels};
use serde::Deserialize;

pub type Pod = Object<PodSpec>;

pub type ReplicaSet = Object<ReplicaSetSpec>;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplicaSetSpec {
    pub replicas: Option<i32>,
    pub min_ready_seconds: Option<i32>,
    pub selector: Option<LabelSelector>,
    pub template: Option<PodTemplateSpec>,
}

pub type ReplicationController = Object<ReplicationControllerSpec>;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplicationControllerSpec {
    pub replicas: Option<i32>,
    pub min_ready_seconds: Option<i32>,
    /// A plain label map; defaults to the template's labels.
    pub selector: Option<Labels>,
    pub template: Option<PodTemplateSpec>,
}
