//! One object at a time: kind dispatch (with `kind: List`), metadata, the
//! Kubernetes defaults and validation of each kind, duplicates across the
//! whole set, and `orch.dev/depends-on` references and cycles.

mod statefulset;
mod storage;
mod workloads;

use super::dependencies::cycles;
use super::fields::{dns_label, dns_subdomain, int_or_percent};
use super::pod::validate_selector;
use super::tree::Node;
use super::{Ctx, Diagnostic, wire};
use crate::model::labels::LabelSelector;
use crate::model::pod::Taint;
use crate::model::resources::{Allocatable, PODS, parse_amount};
use crate::model::workload::{Desired, DisruptionBudget, Kind, NodeSpec, ObjectRef};
use std::collections::HashMap;

mod priority;

pub const DEPENDS_ON: &str = "orch.dev/depends-on";
/// Replicas per workload orch will simulate (each is a record in the state).
pub const MAX_REPLICAS: i32 = 1_000_000;
pub const HOSTNAME_LABEL: &str = "kubernetes.io/hostname";
/// The label the Job controller puts on its pods (and selects them by).
pub const JOB_NAME_LABEL: &str = "batch.kubernetes.io/job-name";

fn api_version(kind: Kind) -> &'static str {
    match kind {
        Kind::Deployment | Kind::DaemonSet | Kind::StatefulSet => "apps/v1",
        Kind::Node => "v1",
        Kind::PodDisruptionBudget => "policy/v1",
        Kind::PriorityClass => "scheduling.k8s.io/v1",
        Kind::PersistentVolume | Kind::PersistentVolumeClaim => "v1",
        Kind::StorageClass => "storage.k8s.io/v1",
        Kind::Job | Kind::CronJob => "batch/v1",
        Kind::Pod | Kind::ReplicationController => "v1",
        Kind::ReplicaSet => "apps/v1",
    }
}

/// Where an object was declared, for messages about it later.
#[derive(Clone, Copy)]
struct Origin<'b> {
    file: &'b str,
    root: &'b Node,
}

/// The workloads an object depends on, with the field that names them.
pub(super) struct Dependencies {
    pub refs: Vec<(ObjectRef, String)>,
    pub field: String,
}

pub(super) struct Builder<'b> {
    strict: bool,
    /// The document being read (the object itself within a `List`).
    current: Option<Origin<'b>>,
    desired: Desired,
    notices: Vec<Diagnostic>,
    seen: HashMap<ObjectRef, String>,
    origins: HashMap<ObjectRef, (Origin<'b>, Dependencies)>,
    /// Classes named by claims: (class, where, field), checked at the end.
    class_references: Vec<(String, crate::model::workload::SourceLocation, String)>,
    /// HorizontalPodAutoscalers and NodeGroups, checked against the whole set at the end.
    autoscaling: super::autoscale::Collected<'b>,
}

impl<'b> Builder<'b> {
    pub fn new(strict: bool) -> Builder<'b> {
        Builder {
            strict,
            current: None,
            desired: Desired::default(),
            notices: Vec::new(),
            seen: HashMap::new(),
            origins: HashMap::new(),
            class_references: Vec::new(),
            autoscaling: Default::default(),
        }
    }

    pub fn document(&mut self, file: &'b str, root: &'b Node, diagnostics: &mut Vec<Diagnostic>) {
        if root.value == super::tree::Value::Null {
            return;
        }
        self.current = Some(Origin { file, root });
        let mut ctx = Ctx {
            file,
            root,
            diagnostics,
        };
        if !matches!(root.value, super::tree::Value::Map(_)) {
            ctx.error(
                "",
                format!(
                    "expected a Kubernetes object, got {} `{}`",
                    root.kind_name(),
                    root.scalar_text()
                ),
            );
            return;
        }
        let kind = root.get("kind").and_then(Node::as_str);
        let version = root.get("apiVersion").and_then(Node::as_str);
        let (Some(kind), Some(version)) = (kind, version) else {
            if kind.is_none() {
                ctx.error("kind", "Required value: kind must be set");
            }
            if version.is_none() {
                ctx.error("apiVersion", "Required value: apiVersion must be set");
            }
            return;
        };
        if kind == "List" || kind.ends_with("List") && root.get("items").is_some() {
            match root.get("items").map(|n| &n.value) {
                Some(super::tree::Value::Seq(items)) => {
                    for item in items {
                        self.document(file, item, ctx.diagnostics);
                    }
                }
                _ => ctx.error("items", "Required value: a List needs items"),
            }
            return;
        }
        if super::autoscale::KINDS.contains(&kind) {
            self.autoscaling
                .document(&mut ctx, file, root, kind, version);
            return;
        }
        let Some(kind) = Kind::parse(kind) else {
            self.unsupported_kind(&mut ctx, root, kind, version);
            return;
        };
        if version != api_version(kind) {
            ctx.error(
                "apiVersion",
                format!(
                    "Unsupported value: \"{version}\": {kind} is served as {}",
                    api_version(kind)
                ),
            );
            return;
        }
        self.read_kind(&mut ctx, root, kind);
    }

    /// Read `root` as a `kind` object and build it.
    fn read_kind(&mut self, ctx: &mut Ctx, root: &Node, kind: Kind) {
        match kind {
            Kind::Deployment => {
                if let Some(object) = ctx.read::<wire::Deployment>(root, "") {
                    self.deployment(ctx, object);
                }
            }
            Kind::DaemonSet => {
                if let Some(object) = ctx.read::<wire::DaemonSet>(root, "") {
                    self.daemon_set(ctx, object);
                }
            }
            Kind::Node => {
                if let Some(object) = ctx.read::<wire::Node>(root, "") {
                    self.node(ctx, object);
                }
            }
            Kind::PodDisruptionBudget => {
                if let Some(object) = ctx.read::<wire::PodDisruptionBudget>(root, "") {
                    self.disruption_budget(ctx, object);
                }
            }
            Kind::PriorityClass => self.priority_class(ctx, root),
            Kind::StatefulSet => {
                if let Some(object) = ctx.read::<statefulset::StatefulSet>(root, "") {
                    self.stateful_set(ctx, object);
                }
            }
            Kind::StorageClass => {
                if let Some(object) = ctx.read::<storage::StorageClassObject>(root, "") {
                    self.storage_class(ctx, object);
                }
            }
            Kind::PersistentVolume => {
                if let Some(object) = ctx.read::<storage::VolumeObject>(root, "") {
                    self.persistent_volume(ctx, object);
                }
            }
            Kind::PersistentVolumeClaim => {
                if let Some(object) = ctx.read::<storage::ClaimObject>(root, "") {
                    self.persistent_volume_claim(ctx, object);
                }
            }
            Kind::Job => {
                if let Some(object) = ctx.read::<super::batch::Job>(root, "") {
                    self.job(ctx, object);
                }
            }
            Kind::Pod => {
                if let Some(object) = ctx.read::<super::bare::Pod>(root, "") {
                    self.bare_pod(ctx, object);
                }
            }
            Kind::ReplicaSet => self.read_replica_set(ctx, root),
            Kind::ReplicationController => self.read_replication_controller(ctx, root),
            Kind::CronJob => self.read_cron_job(ctx, root),
        }
    }

    /// A bare ReplicaSet (one no Deployment owns).
    fn read_replica_set(&mut self, ctx: &mut Ctx, root: &Node) {
        if let Some(object) = ctx.read::<super::bare::ReplicaSet>(root, "") {
            let spec = object.spec.unwrap_or_default();
            self.replica_set(
                ctx,
                Kind::ReplicaSet,
                &object.metadata,
                spec.replicas,
                spec.min_ready_seconds,
                spec.selector.as_ref(),
                spec.template.as_ref(),
            );
        }
    }

    /// A ReplicationController, read as the ReplicaSet it would be.
    fn read_replication_controller(&mut self, ctx: &mut Ctx, root: &Node) {
        if let Some(object) = ctx.read::<super::bare::ReplicationController>(root, "") {
            let spec = object.spec.unwrap_or_default();
            // The selector defaults to the template's labels.
            let labels = spec
                .selector
                .clone()
                .or_else(|| spec.template.as_ref().map(|t| t.metadata.labels.clone()));
            let selector = labels.map(|match_labels| LabelSelector {
                match_labels,
                ..LabelSelector::default()
            });
            self.replica_set(
                ctx,
                Kind::ReplicationController,
                &object.metadata,
                spec.replicas,
                spec.min_ready_seconds,
                selector.as_ref(),
                spec.template.as_ref(),
            );
        }
    }

    /// A CronJob (declared apart from the workloads).
    fn read_cron_job(&mut self, ctx: &mut Ctx, root: &Node) {
        if let Some(object) = ctx.read::<super::batch::CronJob>(root, "") {
            let id = self.identity(ctx, Kind::CronJob, &object.metadata);
            if let Some(cron) = id.and_then(|id| super::batch::cron_job(ctx, &id, &object)) {
                self.desired.cron_jobs.push(cron);
            }
        }
    }

    /// A kind orch does not simulate: skipped with a notice, or an error
    /// under `--strict` or when it is a near miss of a supported kind.
    fn unsupported_kind(&mut self, ctx: &mut Ctx, root: &Node, kind: &str, version: &str) {
        let name = root
            .get("metadata")
            .and_then(|m| m.get("name"))
            .map_or_else(|| "<unnamed>".into(), Node::scalar_text);
        // A kustomization lists manifests to build, it is not one to skip.
        if kind == "Kustomization" {
            ctx.error(
                "kind",
                "a kustomization, not a manifest: build it with `kubectl kustomize DIR > rendered.yaml` and give orch the rendered file",
            );
            return;
        }
        const SUPPORTED: [&str; 14] = [
            "Deployment",
            "DaemonSet",
            "Node",
            "PodDisruptionBudget",
            "PriorityClass",
            "StatefulSet",
            "PersistentVolume",
            "PersistentVolumeClaim",
            "StorageClass",
            "Job",
            "CronJob",
            "Pod",
            "ReplicaSet",
            "ReplicationController",
        ];
        // A near miss of a supported kind is a typo, never another kind to skip.
        let hint = crate::suggest::did_you_mean(kind, SUPPORTED);
        if self.strict || hint.is_some() {
            let mut message = format!(
                "Unsupported value: \"{kind}\": supported kinds: {}",
                SUPPORTED.join(", ")
            );
            if let Some(hint) = hint {
                message.push_str(&format!(" ({hint})"));
            }
            ctx.error("kind", message);
        } else {
            let at = ctx.source("kind");
            self.notices.push(Diagnostic {
                file: at.file,
                line: at.line,
                column: at.column,
                field: String::new(),
                message: format!("skipping unsupported kind {kind} {name} ({version})"),
            });
        }
    }

    /// Validates name and namespace and registers the identity; None if the
    /// object cannot be identified or is a duplicate.
    fn identity(
        &mut self,
        ctx: &mut Ctx,
        kind: Kind,
        metadata: &wire::ObjectMeta,
    ) -> Option<ObjectRef> {
        let Some(name) = metadata.name.as_deref() else {
            ctx.error(
                "metadata.name",
                "Required value: name or generateName is required",
            );
            return None;
        };
        let mut valid = true;
        if let Some(problem) = dns_subdomain(name) {
            ctx.error(
                "metadata.name",
                format!("Invalid value: \"{name}\": {problem}"),
            );
            valid = false;
        }
        let namespace = metadata.namespace.as_deref().unwrap_or("default");
        if kind.is_namespaced()
            && let Some(problem) = dns_label(namespace)
        {
            ctx.error(
                "metadata.namespace",
                format!("Invalid value: \"{namespace}\": {problem}"),
            );
            valid = false;
        }
        let id = ObjectRef::new(kind, namespace, name);
        let here = ctx.location("metadata.name");
        if let Some(first) = self.seen.get(&id) {
            ctx.error(
                "metadata.name",
                format!("Duplicate value: \"{name}\": {id} is also defined at {first}"),
            );
            return None;
        }
        self.seen.insert(id.clone(), here);
        valid.then_some(id)
    }

    fn register(&mut self, id: &ObjectRef, depends_on: Dependencies) {
        if let Some(Origin { file, root }) = self.current {
            self.origins
                .insert(id.clone(), (Origin { file, root }, depends_on));
        }
    }

    fn node(&mut self, ctx: &mut Ctx, object: wire::Node) {
        let id = self.identity(ctx, Kind::Node, &object.metadata);
        let mut labels = object.metadata.labels.clone();
        if let Some(id) = &id {
            labels
                .entry(HOSTNAME_LABEL.to_string())
                .or_insert_with(|| id.name.to_string());
        }
        let (taints, allocatable) = node_shape(ctx, "", &object);
        if let Some(id) = id {
            self.desired.nodes.push(NodeSpec {
                name: id.name.to_string(),
                labels,
                taints,
                unschedulable: object.spec.unschedulable,
                allocatable,
            });
        }
    }

    fn disruption_budget(&mut self, ctx: &mut Ctx, object: wire::PodDisruptionBudget) {
        let id = self.identity(ctx, Kind::PodDisruptionBudget, &object.metadata);
        let spec = object.spec;
        if spec.min_available.is_some() && spec.max_unavailable.is_some() {
            ctx.error(
                "spec",
                "Invalid value: minAvailable and maxUnavailable cannot be both set",
            );
        }
        let min_available = spec
            .min_available
            .as_ref()
            .and_then(|v| int_or_percent(ctx, "spec.minAvailable", v, true));
        let max_unavailable = spec
            .max_unavailable
            .as_ref()
            .and_then(|v| int_or_percent(ctx, "spec.maxUnavailable", v, true));
        if let Some(selector) = &spec.selector {
            validate_selector(ctx, "spec.selector", selector);
        }
        if let Some(id) = id {
            self.desired.disruption_budgets.push(DisruptionBudget {
                id,
                selector: spec.selector,
                min_available,
                max_unavailable,
                manifest: ctx.root.json_text(),
            });
        }
    }

    /// Resolve `orch.dev/depends-on` over the whole set, then sort.
    pub fn finish(mut self, diagnostics: &mut Vec<Diagnostic>) -> (Desired, Vec<Diagnostic>) {
        let known: Vec<ObjectRef> = self
            .desired
            .workloads
            .iter()
            .map(|w| w.id.clone())
            .collect();
        for workload in &mut self.desired.workloads {
            let Some((origin, dependencies)) = self.origins.get(&workload.id) else {
                continue;
            };
            let mut ctx = Ctx {
                file: origin.file,
                root: origin.root,
                diagnostics,
            };
            for (reference, text) in &dependencies.refs {
                if known.contains(reference) {
                    if !workload.depends_on.contains(reference) {
                        workload.depends_on.push(reference.clone());
                    }
                } else {
                    ctx.error(
                        &dependencies.field,
                        format!("Invalid value: \"{text}\": {reference} is not declared in the manifests"),
                    );
                }
            }
        }
        for cycle in cycles(&self.desired.workloads) {
            let first = &cycle[0];
            if let Some((origin, dependencies)) = self.origins.get(first) {
                let mut ctx = Ctx {
                    file: origin.file,
                    root: origin.root,
                    diagnostics,
                };
                let names: Vec<String> = cycle
                    .iter()
                    .chain(std::iter::once(first))
                    .map(ToString::to_string)
                    .collect();
                ctx.error(
                    &dependencies.field,
                    format!("dependency cycle: {}", names.join(" -> ")),
                );
            }
        }
        self.desired
            .priority_classes
            .sort_by(|a, b| a.name.cmp(&b.name));
        self.resolve_priorities(diagnostics);
        self.check_classes(diagnostics);
        let storage = &mut self.desired.storage;
        storage.classes.sort_by(|a, b| a.name.cmp(&b.name));
        storage.volumes.sort_by(|a, b| a.name.cmp(&b.name));
        storage
            .claims
            .sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        storage.manifests.sort_by(|a, b| a.0.cmp(&b.0));
        let roots = self
            .origins
            .iter()
            .map(|(id, (origin, _))| (id.clone(), (origin.file, origin.root)))
            .collect();
        self.autoscaling
            .finish(&mut self.desired, &roots, diagnostics, &mut self.notices);
        self.desired.nodes.sort_by(|a, b| a.name.cmp(&b.name));
        self.desired.workloads.sort_by(|a, b| a.id.cmp(&b.id));
        self.desired.cron_jobs.sort_by(|a, b| a.id.cmp(&b.id));
        self.desired
            .disruption_budgets
            .sort_by(|a, b| a.id.cmp(&b.id));
        (self.desired, self.notices)
    }
}

/// A Node's taints and allocatable (else capacity), validated; `prefix` is
/// where the Node sits in the document (`spec.template.` in a NodeGroup).
pub(super) fn node_shape(
    ctx: &mut Ctx,
    prefix: &str,
    object: &wire::Node,
) -> (Vec<Taint>, Allocatable) {
    let mut taints: Vec<Taint> = Vec::new();
    for (i, taint) in object.spec.taints.iter().enumerate() {
        let at = format!("{prefix}spec.taints[{i}]");
        let key = taint.key.clone().unwrap_or_default();
        if key.is_empty() {
            ctx.error(&format!("{at}.key"), "Required value");
        }
        let Some(effect) = taint.effect else {
            ctx.error(&format!("{at}.effect"), "Required value");
            continue;
        };
        if taints.iter().any(|t| t.key == key && t.effect == effect) {
            ctx.error(
                &at,
                format!("Duplicate value: \"{key}:{effect}\": taints must be unique by key and effect pair"),
            );
        }
        taints.push(Taint::new(&key, &taint.value, effect));
    }
    let (field, list) = match (&object.status.allocatable, &object.status.capacity) {
        (Some(list), _) => ("status.allocatable", Some(list)),
        (None, Some(list)) => ("status.capacity", Some(list)),
        (None, None) => ("status.allocatable", None),
    };
    let mut allocatable = Allocatable::default();
    for (name, text) in list.into_iter().flatten() {
        let at = format!("{prefix}{field}.{name}");
        match parse_amount(name, &text.0) {
            Ok(value) if value < 0 => ctx.error(
                &at,
                format!(
                    "Invalid value: \"{}\": must be greater than or equal to 0",
                    text.0
                ),
            ),
            Ok(value) if name == PODS => allocatable.pods = value,
            Ok(value) => allocatable.resources.set(name, value),
            Err(error) => ctx.error(&at, format!("Invalid value: \"{}\": {error}", text.0)),
        }
    }
    (taints, allocatable)
}
