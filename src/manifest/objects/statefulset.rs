//! A StatefulSet (apps/v1) as written, and its reading: the API server's
//! defaults (`SetDefaults_StatefulSet`) and validation
//! (`ValidateStatefulSetSpec`), every error at its field.

// Fields orch accepts but does not act on are read into `IgnoredAny` and never looked at.
#![allow(dead_code)]

use super::super::fields::int_or_percent;
use super::super::{Ctx, Diagnostic, wire};
use super::Builder;
use crate::model::labels::LabelSelector;
use crate::model::stateful::{PodManagementPolicy, StatefulSpec};
use crate::model::storage::{ClaimTemplate, ReclaimPolicy, RetentionPolicy as Retention};
use crate::model::workload::{IntOrPercent, Kind, Strategy, Workload};
use serde::Deserialize;

pub type StatefulSet = wire::Object<StatefulSetSpec>;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StatefulSetSpec {
    pub replicas: Option<i32>,
    pub selector: Option<LabelSelector>,
    pub template: Option<wire::PodTemplateSpec>,
    pub volume_claim_templates: Option<Vec<super::storage::ClaimObject>>,
    pub service_name: Option<String>,
    pub pod_management_policy: Option<String>,
    pub update_strategy: Option<UpdateStrategy>,
    pub revision_history_limit: Option<i32>,
    pub min_ready_seconds: Option<i32>,
    pub persistent_volume_claim_retention_policy: Option<RetentionPolicy>,
    pub ordinals: Option<Ordinals>,
}

pub type UpdateStrategy = wire::Strategy<RollingUpdate>;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RollingUpdate {
    pub partition: Option<i32>,
    pub max_unavailable: Option<wire::IntOrString>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RetentionPolicy {
    pub when_deleted: Option<String>,
    pub when_scaled: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Ordinals {
    pub start: Option<i32>,
}

impl Builder<'_> {
    pub(super) fn stateful_set(&mut self, ctx: &mut Ctx, object: StatefulSet) {
        let id = self.identity(ctx, Kind::StatefulSet, &object.metadata);
        let spec = object.spec.unwrap_or_default();
        let replicas = super::workloads::replica_count(ctx, spec.replicas);
        let policy = match spec.pod_management_policy.as_deref() {
            None | Some("OrderedReady") => PodManagementPolicy::OrderedReady,
            Some("Parallel") => PodManagementPolicy::Parallel,
            Some(other) => {
                ctx.error(
                    "spec.podManagementPolicy",
                    format!("Unsupported value: \"{other}\": supported values: \"OrderedReady\", \"Parallel\""),
                );
                PodManagementPolicy::OrderedReady
            }
        };
        let (strategy, partition) = self.stateful_strategy(ctx, spec.update_strategy.as_ref());
        let start = spec.ordinals.as_ref().and_then(|o| o.start).unwrap_or(0);
        if start < 0 {
            ctx.error(
                "spec.ordinals.start",
                format!("Invalid value: {start}: must be greater than or equal to 0"),
            );
        }
        let claim_templates = self.claim_templates(ctx, spec.volume_claim_templates.as_deref());
        let retention = retention(ctx, spec.persistent_volume_claim_retention_policy.as_ref());
        let (_, workload) = self.rolled_out(
            ctx,
            id,
            &object.metadata,
            replicas,
            spec.selector.as_ref(),
            spec.template.as_ref(),
            (spec.min_ready_seconds, spec.revision_history_limit),
        );
        if let Some(workload) = workload {
            self.desired.workloads.push(Workload {
                strategy,
                stateful: Some(Box::new(StatefulSpec {
                    pod_management_policy: policy,
                    partition,
                    ordinals_start: start.max(0),
                    service_name: spec.service_name.clone(),
                    claim_templates,
                    retention,
                })),
                ..workload
            });
        }
    }

    /// `spec.volumeClaimTemplates`: each named, with modes, a storage
    /// request and a declared class.
    fn claim_templates(
        &mut self,
        ctx: &mut Ctx,
        templates: Option<&[super::storage::ClaimObject]>,
    ) -> Vec<ClaimTemplate> {
        let mut parsed: Vec<ClaimTemplate> = Vec::new();
        for (i, template) in templates.into_iter().flatten().enumerate() {
            let at = format!("spec.volumeClaimTemplates[{i}]");
            let name = template.metadata.name.clone().unwrap_or_default();
            if name.is_empty() {
                ctx.error(&format!("{at}.metadata.name"), "Required value");
            } else if parsed.iter().any(|t| t.name == name) {
                ctx.error(
                    &format!("{at}.metadata.name"),
                    format!("Duplicate value: \"{name}\""),
                );
            }
            let claim =
                super::storage::claim_template(ctx, &format!("{at}.spec"), &name, &template.spec);
            self.check_class(
                ctx,
                &format!("{at}.spec.storageClassName"),
                &claim.storage_class,
            );
            parsed.push(claim);
        }
        parsed
    }

    /// `spec.updateStrategy`: RollingUpdate (partition 0 by default) or
    /// OnDelete. `maxUnavailable` is the alpha `MaxUnavailableStatefulSet`
    /// feature, off in Kubernetes 1.34: validated, then ignored with a notice.
    fn stateful_strategy(
        &mut self,
        ctx: &mut Ctx,
        wire: Option<&UpdateStrategy>,
    ) -> (Strategy, i32) {
        let rolling_strategy = Strategy::RollingUpdate {
            max_surge: IntOrPercent::Int(0),
            max_unavailable: IntOrPercent::Int(1),
        };
        let kind = wire
            .and_then(|w| w.kind.as_deref())
            .unwrap_or("RollingUpdate");
        let rolling = wire.and_then(|w| w.rolling_update.as_ref());
        match kind {
            "RollingUpdate" => {
                let partition = rolling.and_then(|r| r.partition).unwrap_or(0);
                if partition < 0 {
                    ctx.error(
                        "spec.updateStrategy.rollingUpdate.partition",
                        format!("Invalid value: {partition}: must be greater than or equal to 0"),
                    );
                }
                if let Some(value) = rolling.and_then(|r| r.max_unavailable.as_ref()) {
                    let at = "spec.updateStrategy.rollingUpdate.maxUnavailable";
                    if let Some(parsed) = int_or_percent(ctx, at, value, true) {
                        let source = ctx.source(at);
                        self.notices.push(Diagnostic {
                            file: source.file,
                            line: source.line,
                            column: source.column,
                            field: String::new(),
                            message: format!(
                                "{at}: {parsed} is ignored: the MaxUnavailableStatefulSet feature is alpha and off in Kubernetes 1.34, so replicas are updated one at a time"
                            ),
                        });
                    }
                }
                (rolling_strategy, partition.max(0))
            }
            "OnDelete" => {
                if rolling.is_some() {
                    ctx.error(
                        "spec.updateStrategy.rollingUpdate",
                        "Invalid value: only allowed for updateStrategy 'RollingUpdate'",
                    );
                }
                (Strategy::OnDelete, 0)
            }
            other => {
                ctx.error(
                    "spec.updateStrategy.type",
                    format!("Unsupported value: \"{other}\": supported values: \"OnDelete\", \"RollingUpdate\""),
                );
                (rolling_strategy, 0)
            }
        }
    }
}

/// `spec.persistentVolumeClaimRetentionPolicy` (Retain/Retain by default).
fn retention(ctx: &mut Ctx, wire: Option<&RetentionPolicy>) -> Retention {
    let mut policy = Retention::default();
    let Some(wire) = wire else {
        return policy;
    };
    for (field, value, target) in [
        ("whenDeleted", &wire.when_deleted, &mut policy.when_deleted),
        ("whenScaled", &wire.when_scaled, &mut policy.when_scaled),
    ] {
        if let Some(text) = value {
            match text.parse::<ReclaimPolicy>() {
                Ok(parsed) => *target = parsed,
                Err(_) => ctx.error(
                    &format!("spec.persistentVolumeClaimRetentionPolicy.{field}"),
                    format!(
                        "Unsupported value: \"{text}\": supported values: \"Delete\", \"Retain\""
                    ),
                ),
            }
        }
    }
    policy
}
