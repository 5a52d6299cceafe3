//! The schema orch validates manifests against (`src/manifest/schema/
//! kubernetes.schema`) is derived from Kubernetes' own types: k8s-openapi's
//! JSON schemas (its `schemars` support, generated from the API server's
//! OpenAPI document) are reduced to field names, types and required fields.
//!
//! `the_committed_schema_is_derived_from_kubernetes_types` regenerates it
//! and fails when the committed copy differs; run it with
//! `ORCH_WRITE_SCHEMA=1` to write the new copy.

use k8s_openapi::Resource;
use k8s_openapi::schemars::SchemaGenerator;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use k8s_openapi::api::{
    admissionregistration, apps, autoscaling, batch, coordination, core, discovery, networking,
    node, policy, rbac, scheduling, storage,
};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions;

/// The kinds with a schema: every kind orch simulates and the common others.
fn kinds(generator: &mut SchemaGenerator) -> Vec<(String, String, String)> {
    let mut kinds = Vec::new();
    macro_rules! kind {
        ($($t:ty),* $(,)?) => {
            $(
                let reference = generator.subschema_for::<$t>();
                kinds.push((
                    <$t as Resource>::API_VERSION.to_string(),
                    <$t as Resource>::KIND.to_string(),
                    type_name(reference.as_value()["$ref"].as_str().unwrap()),
                ));
            )*
        };
    }
    kind!(
        core::v1::Pod,
        core::v1::Node,
        core::v1::Namespace,
        core::v1::Service,
        core::v1::ConfigMap,
        core::v1::Secret,
        core::v1::ServiceAccount,
        core::v1::PersistentVolumeClaim,
        core::v1::PersistentVolume,
        core::v1::LimitRange,
        core::v1::ResourceQuota,
        core::v1::ReplicationController,
        core::v1::PodTemplate,
        core::v1::Endpoints,
        apps::v1::Deployment,
        apps::v1::DaemonSet,
        apps::v1::StatefulSet,
        apps::v1::ReplicaSet,
        apps::v1::ControllerRevision,
        batch::v1::Job,
        batch::v1::CronJob,
        policy::v1::PodDisruptionBudget,
        rbac::v1::Role,
        rbac::v1::ClusterRole,
        rbac::v1::RoleBinding,
        rbac::v1::ClusterRoleBinding,
        networking::v1::Ingress,
        networking::v1::IngressClass,
        networking::v1::NetworkPolicy,
        autoscaling::v1::HorizontalPodAutoscaler,
        autoscaling::v2::HorizontalPodAutoscaler,
        storage::v1::StorageClass,
        storage::v1::CSIDriver,
        scheduling::v1::PriorityClass,
        node::v1::RuntimeClass,
        coordination::v1::Lease,
        discovery::v1::EndpointSlice,
        admissionregistration::v1::ValidatingWebhookConfiguration,
        admissionregistration::v1::MutatingWebhookConfiguration,
        apiextensions::v1::CustomResourceDefinition,
    );
    kinds.sort();
    kinds
}

/// `#/$defs/io.k8s.api.core.v1.PodSpec` → `core.v1.PodSpec`.
fn type_name(reference: &str) -> String {
    let name = reference.trim_start_matches("#/$defs/");
    for prefix in [
        "io.k8s.api.",
        "io.k8s.apimachinery.pkg.apis.",
        "io.k8s.apimachinery.pkg.",
        "io.k8s.apiextensions-apiserver.pkg.apis.",
        "io.k8s.",
    ] {
        if let Some(rest) = name.strip_prefix(prefix) {
            return rest.to_string();
        }
    }
    name.to_string()
}

/// A definition that is a single value, not an object with fields: its code.
fn scalar_code(name: &str, schema: &Value) -> Option<&'static str> {
    if name == "api.resource.Quantity" {
        return Some("q");
    }
    if schema.get("x-kubernetes-int-or-string").is_some() {
        return Some("x");
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("string") => Some("s"),
        Some("integer") => Some("i"),
        Some("number") => Some("n"),
        Some("boolean") => Some("b"),
        Some("object")
            if schema.get("properties").is_none()
                && schema.get("additionalProperties").is_none() =>
        {
            Some("a")
        }
        None if schema.get("properties").is_none() => Some("a"),
        _ => None,
    }
}

/// The compact code of a field's schema (see `src/manifest/schema/mod.rs`).
fn code(schema: &Value, definitions: &Map<String, Value>) -> String {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = type_name(reference);
        let full = reference.trim_start_matches("#/$defs/");
        return match scalar_code(&name, &definitions[full]) {
            Some(code) => code.to_string(),
            None => format!("@{name}"),
        };
    }
    if schema.get("oneOf").is_some() || schema.get("x-kubernetes-preserve-unknown-fields").is_some()
    {
        return "a".into();
    }
    if schema.get("x-kubernetes-int-or-string").is_some() {
        return "x".into();
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("array") => format!("[{}", code(&schema["items"], definitions)),
        Some("object") => match schema.get("additionalProperties") {
            Some(Value::Bool(true)) | None => "a".into(),
            Some(inner) => format!("{{{}", code(inner, definitions)),
        },
        Some("string") => "s".into(),
        Some("integer") => "i".into(),
        Some("number") => "n".into(),
        Some("boolean") => "b".into(),
        _ => "a".into(),
    }
}

fn generate() -> String {
    let mut generator = SchemaGenerator::default();
    let kinds = kinds(&mut generator);
    let definitions = generator.definitions().clone();
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    for (full, schema) in &definitions {
        let name = type_name(full);
        if scalar_code(&name, schema).is_some() {
            continue;
        }
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut text = String::new();
        let properties = schema["properties"].as_object().unwrap();
        let mut fields: Vec<&String> = properties.keys().collect();
        fields.sort();
        for field in fields {
            let code = code(&properties[field], &definitions);
            // Every object may leave out its metadata (k8s-openapi marks it required).
            let needed = required.contains(&field.as_str()) && field != "metadata";
            let mark = if needed { " !" } else { "" };
            writeln!(text, "  {field} {code}{mark}").unwrap();
        }
        types.insert(name, text);
    }
    let mut out = String::from(
        "# Kubernetes 1.34 object schemas: field, type code, `!` when required.\n\
         # Derived from k8s-openapi by tests/k8s_schema.rs; do not edit.\n",
    );
    for (version, kind, name) in &kinds {
        writeln!(out, "kind {version} {kind} {name}").unwrap();
    }
    for (name, fields) in &types {
        writeln!(out, "type {name}").unwrap();
        out.push_str(fields);
    }
    out
}

#[test]
fn the_committed_schema_is_derived_from_kubernetes_types() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/manifest/schema/kubernetes.schema");
    let generated = generate();
    if std::env::var_os("ORCH_WRITE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} differs from the schema k8s-openapi derives; run \
         `ORCH_WRITE_SCHEMA=1 cargo test --features conformance --test k8s_schema`",
        path.display()
    );
}
