//! The pod-making kinds as written → `Workload`s: Deployment, DaemonSet,
//! standalone ReplicaSet and ReplicationController, bare Pod and Job (the
//! StatefulSet has a module of its own), with the fields they share built once.

use super::super::dependencies::dependencies;
use super::super::fields::{non_negative, strategy};
use super::super::pod::{pod_spec, validate_selector};
use super::super::{Ctx, wire};
use super::{Builder, Dependencies, JOB_NAME_LABEL, MAX_REPLICAS};
use crate::model::hash::kept_template_hash;
use crate::model::json::Json;
use crate::model::labels::{LabelSelector, Labels};
use crate::model::pod::PodSpec;
use crate::model::workload::{Kind, ObjectRef, Strategy, Workload};

/// What `workload_parts` reads of a template: selector, template (JSON),
/// scheduling view and declared dependencies.
pub(super) type Parts = (LabelSelector, Json, PodSpec, Dependencies);

/// `spec.replicas` (default 1): not negative, at most `MAX_REPLICAS`.
pub(super) fn replica_count(ctx: &mut Ctx, replicas: Option<i32>) -> i32 {
    let replicas = replicas.unwrap_or(1);
    if replicas < 0 {
        ctx.error(
            "spec.replicas",
            format!("Invalid value: {replicas}: must be greater than or equal to 0"),
        );
    } else if replicas > MAX_REPLICAS {
        ctx.error(
            "spec.replicas",
            format!("Invalid value: {replicas}: must be at most {MAX_REPLICAS} (orch simulates every replica)"),
        );
    }
    replicas.max(0)
}

/// A workload with the fields every kind shares, and the defaults of a kind
/// without a rollout (OnDelete, no minReadySeconds, history 10); each kind
/// overrides what it has.
pub(super) fn new_workload(
    ctx: &Ctx,
    id: ObjectRef,
    labels: &Labels,
    replicas: i32,
    (selector, template, pod): (LabelSelector, Json, PodSpec),
) -> Workload {
    Workload {
        labels: labels.clone(),
        replicas,
        selector,
        template_hash: kept_template_hash(&template).into(),
        template,
        pod,
        strategy: Strategy::OnDelete,
        min_ready_seconds: 0,
        progress_deadline_seconds: 600,
        revision_history_limit: 10,
        paused: false,
        depends_on: Vec::new(),
        manifest: ctx.root.json_text(),
        source: Some(ctx.source("kind")),
        job: None,
        stateful: None,
        id,
    }
}

impl Builder<'_> {
    /// The kinds with a rollout (Deployment, DaemonSet, StatefulSet):
    /// minReadySeconds and revisionHistoryLimit validated, selector and
    /// template read, the identity registered. Returns minReadySeconds (for
    /// the kind's own checks) and the workload, when the object is whole.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn rolled_out(
        &mut self,
        ctx: &mut Ctx,
        id: Option<ObjectRef>,
        metadata: &wire::ObjectMeta,
        replicas: i32,
        selector: Option<&LabelSelector>,
        template: Option<&wire::PodTemplateSpec>,
        (min_ready_seconds, revision_history_limit): (Option<i32>, Option<i32>),
    ) -> (u64, Option<Workload>) {
        let min_ready = non_negative(ctx, "spec.minReadySeconds", min_ready_seconds.unwrap_or(0));
        let history = non_negative(
            ctx,
            "spec.revisionHistoryLimit",
            revision_history_limit.unwrap_or(10),
        );
        let parts = self.workload_parts(ctx, metadata, selector, template, id.as_ref());
        let (Some(id), Some((selector, template, pod, depends_on))) = (id, parts) else {
            return (min_ready, None);
        };
        self.register(&id, depends_on);
        let base = (selector, template, pod);
        let workload = Workload {
            min_ready_seconds: min_ready,
            revision_history_limit: history as u32,
            ..new_workload(ctx, id, &metadata.labels, replicas, base)
        };
        (min_ready, Some(workload))
    }

    pub(super) fn deployment(&mut self, ctx: &mut Ctx, object: wire::Deployment) {
        let id = self.identity(ctx, Kind::Deployment, &object.metadata);
        let spec = object.spec.unwrap_or_default();
        let replicas = replica_count(ctx, spec.replicas);
        let strategy = strategy(
            ctx,
            "spec.strategy",
            spec.strategy.as_ref(),
            Kind::Deployment,
        );
        let (min_ready, workload) = self.rolled_out(
            ctx,
            id,
            &object.metadata,
            replicas,
            spec.selector.as_ref(),
            spec.template.as_ref(),
            (spec.min_ready_seconds, spec.revision_history_limit),
        );
        let deadline = spec.progress_deadline_seconds.unwrap_or(600);
        if deadline <= 0 {
            ctx.error(
                "spec.progressDeadlineSeconds",
                format!("Invalid value: {deadline}: must be greater than 0"),
            );
        } else if i64::from(deadline) <= min_ready as i64 {
            ctx.error(
                "spec.progressDeadlineSeconds",
                format!("Invalid value: {deadline}: must be greater than minReadySeconds"),
            );
        }
        if let Some(workload) = workload {
            self.desired.workloads.push(Workload {
                strategy,
                progress_deadline_seconds: deadline.max(0) as u64,
                paused: spec.paused,
                ..workload
            });
        }
    }

    pub(super) fn daemon_set(&mut self, ctx: &mut Ctx, object: wire::DaemonSet) {
        let id = self.identity(ctx, Kind::DaemonSet, &object.metadata);
        let spec = object.spec.unwrap_or_default();
        let strategy = strategy(
            ctx,
            "spec.updateStrategy",
            spec.update_strategy.as_ref(),
            Kind::DaemonSet,
        );
        let (_, workload) = self.rolled_out(
            ctx,
            id,
            &object.metadata,
            0,
            spec.selector.as_ref(),
            spec.template.as_ref(),
            (spec.min_ready_seconds, spec.revision_history_limit),
        );
        if let Some(workload) = workload {
            self.desired.workloads.push(Workload {
                strategy,
                ..workload
            });
        }
    }

    /// A standalone ReplicaSet or ReplicationController: a count of pods of
    /// its template, no rollout (OnDelete: existing pods keep their template).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn replica_set(
        &mut self,
        ctx: &mut Ctx,
        kind: Kind,
        metadata: &wire::ObjectMeta,
        replicas: Option<i32>,
        min_ready_seconds: Option<i32>,
        selector: Option<&LabelSelector>,
        template: Option<&wire::PodTemplateSpec>,
    ) {
        let id = self.identity(ctx, kind, metadata);
        let replicas = replica_count(ctx, replicas);
        let min_ready = non_negative(ctx, "spec.minReadySeconds", min_ready_seconds.unwrap_or(0));
        let parts = self.workload_parts(ctx, metadata, selector, template, id.as_ref());
        if let (Some(id), Some((selector, template, pod, depends_on))) = (id, parts) {
            self.register(&id, depends_on);
            let base = (selector, template, pod);
            self.desired.workloads.push(Workload {
                min_ready_seconds: min_ready,
                ..new_workload(ctx, id, &metadata.labels, replicas, base)
            });
        }
    }

    /// A bare Pod: one replica under the Pod's own name, placed once.
    pub(super) fn bare_pod(&mut self, ctx: &mut Ctx, object: super::super::bare::Pod) {
        let id = self.identity(ctx, Kind::Pod, &object.metadata);
        let namespace = object.metadata.namespace.as_deref().unwrap_or("default");
        let template = wire::PodTemplateSpec {
            metadata: wire::ObjectMeta {
                labels: object.metadata.labels.clone(),
                annotations: object.metadata.annotations.clone(),
                ..wire::ObjectMeta::default()
            },
            spec: object.spec,
        };
        let pod = pod_spec(ctx, "", namespace, &template, &Default::default());
        let depends_on = dependencies(ctx, &object.metadata, &template, namespace);
        let mut template_json = serde_json::json!({
            "metadata": {},
            "spec": ctx.root.locate("spec").to_json(),
        });
        if !object.metadata.labels.is_empty() {
            template_json["metadata"]["labels"] = serde_json::json!(object.metadata.labels);
        }
        if !object.metadata.annotations.is_empty() {
            template_json["metadata"]["annotations"] =
                serde_json::json!(object.metadata.annotations);
        }
        let Some(id) = id else {
            return;
        };
        self.register(&id, depends_on);
        let selector = LabelSelector {
            match_labels: object.metadata.labels.clone(),
            ..LabelSelector::default()
        };
        let base = (selector, Json::new(&template_json), pod);
        let workload = new_workload(ctx, id, &object.metadata.labels, 1, base);
        self.desired.workloads.push(workload);
    }

    /// A Job: its pods need no selector (the controller makes its own), and
    /// `replicas` holds its parallelism.
    pub(super) fn job(&mut self, ctx: &mut Ctx, object: super::super::batch::Job) {
        let id = self.identity(ctx, Kind::Job, &object.metadata);
        let spec = object.spec.unwrap_or_default();
        let job = super::super::batch::job_spec(ctx, "spec", &spec);
        let Some(template) = spec.template.as_ref() else {
            ctx.error("spec.template", "Required value");
            return;
        };
        let namespace = object.metadata.namespace.as_deref().unwrap_or("default");
        let pod = pod_spec(
            ctx,
            "spec.template",
            namespace,
            template,
            &object.metadata.annotations,
        );
        let depends_on = dependencies(ctx, &object.metadata, template, namespace);
        let template = ctx.root.locate("spec.template").json_text();
        let Some(id) = id else {
            return;
        };
        self.register(&id, depends_on);
        let selector = LabelSelector {
            match_labels: [(JOB_NAME_LABEL.to_string(), id.name.to_string())].into(),
            ..LabelSelector::default()
        };
        let parallelism = job.parallelism;
        let base = (selector, template, pod);
        self.desired.workloads.push(Workload {
            strategy: Strategy::Recreate,
            revision_history_limit: 0,
            job: Some(job.into()),
            ..new_workload(ctx, id, &object.metadata.labels, parallelism, base)
        });
    }

    /// Selector, template, scheduling view and declared dependencies, shared
    /// by the kinds with a selector and a template.
    pub(super) fn workload_parts(
        &mut self,
        ctx: &mut Ctx,
        metadata: &wire::ObjectMeta,
        selector: Option<&LabelSelector>,
        template: Option<&wire::PodTemplateSpec>,
        id: Option<&ObjectRef>,
    ) -> Option<Parts> {
        let kind = id.map_or("workload", |id| id.kind.as_str());
        let Some(template) = template else {
            ctx.error("spec.template", "Required value");
            return None;
        };
        let selector = match selector {
            None => {
                ctx.error("spec.selector", "Required value");
                None
            }
            Some(s) if s.is_empty() => {
                ctx.error(
                    "spec.selector",
                    format!(
                        "Invalid value: {{}}: empty selector is invalid for {}",
                        kind.to_lowercase()
                    ),
                );
                None
            }
            Some(s) => {
                validate_selector(ctx, "spec.selector", s);
                if !s.matches(&template.metadata.labels) {
                    let labels =
                        serde_json::to_string(&template.metadata.labels).unwrap_or_default();
                    ctx.error(
                        "spec.template.metadata.labels",
                        format!(
                            "Invalid value: {labels}: `selector` does not match template `labels`"
                        ),
                    );
                }
                Some(s.clone())
            }
        };
        let namespace = metadata.namespace.as_deref().unwrap_or("default");
        let pod = pod_spec(
            ctx,
            "spec.template",
            namespace,
            template,
            &metadata.annotations,
        );
        let depends_on = dependencies(ctx, metadata, template, namespace);
        let template_json = ctx.root.locate("spec.template").json_text();
        Some((selector?, template_json, pod, depends_on))
    }
}
