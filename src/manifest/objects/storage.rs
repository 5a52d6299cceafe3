//! StorageClass (storage.k8s.io/v1), PersistentVolume and
//! PersistentVolumeClaim (v1) as written, and their reading with the API
//! server's defaults and validation; also a StatefulSet's claim templates.

// Fields orch accepts but does not act on are read into `IgnoredAny` and never looked at.
#![allow(dead_code)]

use super::super::{Ctx, wire};
use super::Builder;
use crate::model::labels::{
    NodeSelector, NodeSelectorOperator, NodeSelectorRequirement, NodeSelectorTerm,
};
use crate::model::storage::{
    AccessMode, BindingMode, Claim, ClaimPhase, ClaimTemplate, ReclaimPolicy, StorageClass, Volume,
    VolumePhase,
};
use crate::model::workload::Kind;
use serde::Deserialize;
use serde::de::IgnoredAny;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StorageClassObject {
    pub api_version: Option<IgnoredAny>,
    pub kind: Option<IgnoredAny>,
    #[serde(default)]
    pub metadata: wire::ObjectMeta,
    pub provisioner: Option<String>,
    pub parameters: Option<IgnoredAny>,
    pub reclaim_policy: Option<String>,
    pub volume_binding_mode: Option<String>,
    pub allowed_topologies: Option<Vec<TopologySelectorTerm>>,
    pub allow_volume_expansion: Option<IgnoredAny>,
    pub mount_options: Option<IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TopologySelectorTerm {
    #[serde(default)]
    pub match_label_expressions: Vec<TopologyRequirement>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TopologyRequirement {
    pub key: String,
    #[serde(default)]
    pub values: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VolumeObject {
    pub api_version: Option<IgnoredAny>,
    pub kind: Option<IgnoredAny>,
    #[serde(default)]
    pub metadata: wire::ObjectMeta,
    #[serde(default)]
    pub spec: VolumeSpec,
    pub status: Option<IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VolumeSpec {
    #[serde(default)]
    pub capacity: wire::ResourceList,
    #[serde(default)]
    pub access_modes: Vec<String>,
    pub storage_class_name: Option<String>,
    pub node_affinity: Option<VolumeNodeAffinity>,
    pub persistent_volume_reclaim_policy: Option<String>,
    pub claim_ref: Option<ClaimRef>,
    pub volume_mode: Option<IgnoredAny>,
    pub mount_options: Option<IgnoredAny>,
    pub volume_attributes_class_name: Option<IgnoredAny>,
    pub local: Option<IgnoredAny>,
    pub host_path: Option<IgnoredAny>,
    pub csi: Option<IgnoredAny>,
    pub nfs: Option<IgnoredAny>,
    pub iscsi: Option<IgnoredAny>,
    pub fc: Option<IgnoredAny>,
    pub rbd: Option<IgnoredAny>,
    pub cephfs: Option<IgnoredAny>,
    pub glusterfs: Option<IgnoredAny>,
    pub cinder: Option<IgnoredAny>,
    pub flex_volume: Option<IgnoredAny>,
    pub flocker: Option<IgnoredAny>,
    pub gce_persistent_disk: Option<IgnoredAny>,
    pub aws_elastic_block_store: Option<IgnoredAny>,
    pub azure_file: Option<IgnoredAny>,
    pub azure_disk: Option<IgnoredAny>,
    pub vsphere_volume: Option<IgnoredAny>,
    pub quobyte: Option<IgnoredAny>,
    pub photon_persistent_disk: Option<IgnoredAny>,
    pub portworx_volume: Option<IgnoredAny>,
    #[serde(rename = "scaleIO")]
    pub scale_io: Option<IgnoredAny>,
    pub storageos: Option<IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VolumeNodeAffinity {
    pub required: Option<NodeSelector>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClaimRef {
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub kind: Option<IgnoredAny>,
    pub api_version: Option<IgnoredAny>,
    pub uid: Option<IgnoredAny>,
    pub resource_version: Option<IgnoredAny>,
    pub field_path: Option<IgnoredAny>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClaimObject {
    pub api_version: Option<IgnoredAny>,
    pub kind: Option<IgnoredAny>,
    #[serde(default)]
    pub metadata: wire::ObjectMeta,
    #[serde(default)]
    pub spec: ClaimSpec,
    pub status: Option<IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClaimSpec {
    #[serde(default)]
    pub access_modes: Vec<String>,
    #[serde(default)]
    pub resources: ClaimResources,
    pub storage_class_name: Option<String>,
    pub volume_name: Option<String>,
    pub selector: Option<IgnoredAny>,
    pub volume_mode: Option<IgnoredAny>,
    pub data_source: Option<IgnoredAny>,
    pub data_source_ref: Option<IgnoredAny>,
    pub volume_attributes_class_name: Option<IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClaimResources {
    #[serde(default)]
    pub requests: wire::ResourceList,
    #[serde(default)]
    pub limits: wire::ResourceList,
}

/// `spec.accessModes`: at least one, each a known mode; ReadWriteOncePod alone.
fn access_modes(ctx: &mut Ctx, path: &str, modes: &[String]) -> Vec<AccessMode> {
    if modes.is_empty() {
        ctx.error(path, "Required value: at least 1 access mode is required");
    }
    let mut parsed = Vec::new();
    for (i, mode) in modes.iter().enumerate() {
        match mode.parse::<AccessMode>() {
            Ok(mode) => parsed.push(mode),
            Err(_) => ctx.error(
                &format!("{path}[{i}]"),
                format!("Unsupported value: \"{mode}\": supported values: \"ReadOnlyMany\", \"ReadWriteMany\", \"ReadWriteOnce\", \"ReadWriteOncePod\""),
            ),
        }
    }
    if parsed.contains(&AccessMode::ReadWriteOncePod) && parsed.len() > 1 {
        ctx.error(
            path,
            "Forbidden: may not use ReadWriteOncePod with other access modes",
        );
    }
    parsed
}

/// A `storage` quantity in bytes, required and positive.
fn storage(ctx: &mut Ctx, path: &str, list: &wire::ResourceList) -> i64 {
    let at = format!("{path}.storage");
    let Some(text) = list.get("storage") else {
        ctx.error(&at, "Required value");
        return 0;
    };
    match crate::model::quantity::Quantity::parse(&text.0) {
        Ok(q) if q.value() > 0 => q.value(),
        Ok(_) => {
            ctx.error(
                &at,
                format!("Invalid value: \"{}\": must be greater than zero", text.0),
            );
            0
        }
        Err(error) => {
            ctx.error(&at, format!("Invalid value: \"{}\": {error}", text.0));
            0
        }
    }
}

fn reclaim_policy(
    ctx: &mut Ctx,
    path: &str,
    text: Option<&str>,
    default: ReclaimPolicy,
) -> ReclaimPolicy {
    match text {
        None => default,
        Some("Recycle") => ReclaimPolicy::Delete,
        Some(text) => text.parse().unwrap_or_else(|_| {
            ctx.error(
                path,
                format!("Unsupported value: \"{text}\": supported values: \"Delete\", \"Recycle\", \"Retain\""),
            );
            default
        }),
    }
}

/// A claim's spec: modes, the storage request and the class.
pub(super) fn claim_template(
    ctx: &mut Ctx,
    path: &str,
    name: &str,
    spec: &ClaimSpec,
) -> ClaimTemplate {
    ClaimTemplate {
        name: name.to_string(),
        storage_class: spec.storage_class_name.clone().unwrap_or_default(),
        access_modes: access_modes(ctx, &format!("{path}.accessModes"), &spec.access_modes),
        request: storage(
            ctx,
            &format!("{path}.resources.requests"),
            &spec.resources.requests,
        ),
    }
}

impl Builder<'_> {
    pub(super) fn storage_class(&mut self, ctx: &mut Ctx, object: StorageClassObject) {
        let id = self.identity(ctx, Kind::StorageClass, &object.metadata);
        let provisioner = object.provisioner.clone().unwrap_or_default();
        if provisioner.is_empty() {
            ctx.error("provisioner", "Required value");
        }
        let binding_mode = match object.volume_binding_mode.as_deref() {
            None => BindingMode::Immediate,
            Some(text) => text.parse().unwrap_or_else(|_| {
                ctx.error(
                    "volumeBindingMode",
                    format!("Unsupported value: \"{text}\": supported values: \"Immediate\", \"WaitForFirstConsumer\""),
                );
                BindingMode::Immediate
            }),
        };
        let reclaim = reclaim_policy(
            ctx,
            "reclaimPolicy",
            object.reclaim_policy.as_deref(),
            ReclaimPolicy::Delete,
        );
        let allowed_topologies = object
            .allowed_topologies
            .as_ref()
            .map(|terms| NodeSelector {
                node_selector_terms: terms
                    .iter()
                    .map(|term| NodeSelectorTerm {
                        match_expressions: term
                            .match_label_expressions
                            .iter()
                            .map(|r| NodeSelectorRequirement {
                                key: r.key.clone(),
                                operator: NodeSelectorOperator::In,
                                values: r.values.clone(),
                            })
                            .collect(),
                        match_fields: Vec::new(),
                    })
                    .collect(),
            });
        if let Some(id) = id {
            self.register_stored(&id, ctx);
            self.desired.storage.classes.push(StorageClass {
                name: id.name.to_string(),
                provisioner,
                binding_mode,
                allowed_topologies,
                reclaim_policy: reclaim,
            });
        }
    }

    pub(super) fn persistent_volume(&mut self, ctx: &mut Ctx, object: VolumeObject) {
        let id = self.identity(ctx, Kind::PersistentVolume, &object.metadata);
        let spec = &object.spec;
        let capacity = storage(ctx, "spec.capacity", &spec.capacity);
        let modes = access_modes(ctx, "spec.accessModes", &spec.access_modes);
        let claim = spec.claim_ref.as_ref().and_then(|r| {
            let name = r.name.as_deref()?;
            Some(format!(
                "{}/{name}",
                r.namespace.as_deref().unwrap_or("default")
            ))
        });
        let reclaim = reclaim_policy(
            ctx,
            "spec.persistentVolumeReclaimPolicy",
            spec.persistent_volume_reclaim_policy.as_deref(),
            ReclaimPolicy::Retain,
        );
        if let Some(id) = id {
            self.register_stored(&id, ctx);
            self.desired.storage.volumes.push(Volume {
                name: id.name.to_string(),
                labels: object.metadata.labels.clone(),
                storage_class: spec.storage_class_name.clone().unwrap_or_default(),
                capacity,
                access_modes: modes,
                node_affinity: spec.node_affinity.as_ref().and_then(|a| a.required.clone()),
                reclaim_policy: reclaim,
                claim,
                phase: VolumePhase::Available,
                provisioned: false,
            });
        }
    }

    pub(super) fn persistent_volume_claim(&mut self, ctx: &mut Ctx, object: ClaimObject) {
        let id = self.identity(ctx, Kind::PersistentVolumeClaim, &object.metadata);
        let template = claim_template(ctx, "spec", "", &object.spec);
        self.check_class(ctx, "spec.storageClassName", &template.storage_class);
        if let Some(id) = id {
            self.register_stored(&id, ctx);
            self.desired.storage.claims.push(Claim {
                namespace: id.namespace.to_string(),
                name: id.name.to_string(),
                storage_class: template.storage_class,
                access_modes: template.access_modes,
                request: template.request,
                volume: object.spec.volume_name.clone().filter(|v| !v.is_empty()),
                phase: ClaimPhase::Pending,
                owner: None,
            });
        }
    }

    /// Remembers a class a claim names, checked once every object is read.
    pub(super) fn check_class(&mut self, ctx: &mut Ctx, path: &str, class: &str) {
        if !class.is_empty() {
            self.class_references
                .push((class.to_string(), ctx.source(path), path.to_string()));
        }
    }

    /// The object as applied, kept in the state as a PDB's is.
    fn register_stored(&mut self, id: &crate::model::workload::ObjectRef, ctx: &mut Ctx) {
        self.desired
            .storage
            .manifests
            .push((id.clone(), ctx.root.json_text()));
    }

    /// Claims naming a class no manifest declares: an error at the name
    /// (orch cannot know how an undeclared class binds).
    pub(super) fn check_classes(&mut self, diagnostics: &mut Vec<super::super::Diagnostic>) {
        let known: std::collections::BTreeSet<&str> = self
            .desired
            .storage
            .classes
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        for (class, at, field) in &self.class_references {
            if !known.contains(class.as_str()) {
                let hint = crate::suggest::did_you_mean(class, known.iter().copied())
                    .map_or(String::new(), |h| format!(" ({h})"));
                diagnostics.push(super::super::Diagnostic {
                    file: at.file.clone(),
                    line: at.line,
                    column: at.column,
                    field: field.clone(),
                    message: format!(
                        "Not found: \"{class}\": no StorageClass of that name is declared{hint}"
                    ),
                });
            }
        }
    }
}
