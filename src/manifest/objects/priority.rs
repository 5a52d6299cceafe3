//! PriorityClass objects (scheduling.k8s.io/v1), validated as the API server
//! validates them (`ValidatePriorityClass` and the `Priority` admission
//! plugin's one-default rule), and every workload's pod priority resolved as
//! the `Priority` admission plugin resolves it when the pods are created
//! (`plugin/pkg/admission/priority/admission.go`), with its messages.

use super::super::tree::Node;
use super::super::{Ctx, Diagnostic, wire};
use super::{Builder, Origin};
use crate::model::priority::{
    Classes, HIGHEST_USER_DEFINABLE_PRIORITY, PreemptionPolicy, PriorityClass,
    SYSTEM_PRIORITY_CLASS_PREFIX, known_system_class,
};
use crate::model::workload::Kind;
use serde::Deserialize;
use serde::de::IgnoredAny;

/// A PriorityClass as written.
#[allow(dead_code)]
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(in crate::manifest) struct WirePriorityClass {
    pub api_version: Option<IgnoredAny>,
    pub kind: Option<IgnoredAny>,
    #[serde(default)]
    pub metadata: wire::ObjectMeta,
    pub value: Option<i32>,
    #[serde(default)]
    pub global_default: bool,
    #[serde(default)]
    pub description: String,
    pub preemption_policy: Option<String>,
}

/// `ValidatePreemptionPolicy`'s message.
fn unsupported_policy(text: &str) -> String {
    format!("Unsupported value: \"{text}\": supported values: \"Never\", \"PreemptLowerPriority\"")
}

impl Builder<'_> {
    pub(super) fn priority_class(&mut self, ctx: &mut Ctx, root: &Node) {
        let Some(object) = ctx.read::<WirePriorityClass>(root, "") else {
            return;
        };
        let id = self.identity(ctx, Kind::PriorityClass, &object.metadata);
        let Some(value) = object.value else {
            ctx.error("value", "Required value");
            return;
        };
        let name = object.metadata.name.clone().unwrap_or_default();
        if name.starts_with(SYSTEM_PRIORITY_CLASS_PREFIX) {
            if let Err(error) = known_system_class(&name, value, object.global_default) {
                ctx.error(
                    "metadata.name",
                    format!(
                        "Forbidden: priority class names with '{SYSTEM_PRIORITY_CLASS_PREFIX}' prefix are reserved for system use only. error: {error}"
                    ),
                );
            }
        } else if value > HIGHEST_USER_DEFINABLE_PRIORITY {
            ctx.error(
                "value",
                format!(
                    "Forbidden: maximum allowed value of a user defined priority is {HIGHEST_USER_DEFINABLE_PRIORITY}"
                ),
            );
        }
        let preemption_policy = match object.preemption_policy.as_deref() {
            None => PreemptionPolicy::default(),
            Some(text) => PreemptionPolicy::parse(text).unwrap_or_else(|| {
                ctx.error("preemptionPolicy", unsupported_policy(text));
                PreemptionPolicy::default()
            }),
        };
        if object.global_default
            && let Some(first) = self
                .desired
                .priority_classes
                .iter()
                .find(|c| c.global_default)
        {
            ctx.error(
                "globalDefault",
                format!(
                    "Forbidden: PriorityClass {} is already marked as default. Only one default can exist",
                    first.name
                ),
            );
        }
        if id.is_some() {
            self.desired.priority_classes.push(PriorityClass {
                name,
                value,
                global_default: object.global_default,
                preemption_policy,
                description: object.description,
                manifest: Some(ctx.root.json_text()),
            });
        }
    }

    /// Each workload's pods get the priority and preemption policy admission
    /// would give them; a class that does not exist, or a `priority` or
    /// `preemptionPolicy` that differs from the class's, refuses them.
    pub(super) fn resolve_priorities(&mut self, diagnostics: &mut Vec<Diagnostic>) {
        let classes = self.desired.priority_classes.clone();
        let classes = Classes::new(&classes);
        for workload in &mut self.desired.workloads {
            let pod = &mut workload.pod;
            let origin = self.origins.get(&workload.id).map(|(origin, _)| *origin);
            let mut report = |field: &str, message: String| {
                if let Some(Origin { file, root }) = origin {
                    let mut ctx = Ctx {
                        file,
                        root,
                        diagnostics: &mut *diagnostics,
                    };
                    ctx.error(&format!("spec.template.spec.{field}"), message);
                }
            };
            let resolved = match classes.resolve(&pod.priority_class_name) {
                Ok(resolved) => resolved,
                Err(message) => {
                    report("priorityClassName", format!("Forbidden: {message}"));
                    continue;
                }
            };
            let declared = |field: &str| {
                origin.and_then(|o| {
                    o.root
                        .get("spec")?
                        .get("template")?
                        .get("spec")?
                        .get(field)
                        .map(Node::scalar_text)
                })
            };
            if let Some(text) = declared("priority")
                && text != resolved.priority.to_string()
            {
                report(
                    "priority",
                    format!(
                        "Forbidden: the integer value of priority ({text}) must not be provided in pod spec; priority admission controller computed {} from the given PriorityClass name",
                        resolved.priority
                    ),
                );
            }
            if let Some(text) = declared("preemptionPolicy") {
                match PreemptionPolicy::parse(&text) {
                    None => report("preemptionPolicy", unsupported_policy(&text)),
                    Some(policy) if policy != resolved.preemption_policy => report(
                        "preemptionPolicy",
                        format!(
                            "Forbidden: the string value of PreemptionPolicy ({policy}) must not be provided in pod spec; priority admission controller computed {} from the given PriorityClass name",
                            resolved.preemption_policy
                        ),
                    ),
                    Some(_) => {}
                }
            }
            pod.priority = resolved.priority;
            pod.preemption_policy = resolved.preemption_policy;
        }
    }
}
