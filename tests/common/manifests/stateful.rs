//! `stateful_set(NAME)` and `storage_class(…)`: the StatefulSets and
//! StorageClasses the StatefulSet, storage and volume tests write, laid out
//! line for line as those tests locate errors in them.

use std::fmt::Write;

pub struct StatefulSet {
    name: String,
    replicas: i32,
    version: Option<String>,
    spec: String,
    claim: Option<(String, String)>,
}

/// One replica of `example/NAME:1` requesting 500m and 256Mi, ready 10 s
/// after it starts (`orch.dev/ready-after`), with no claim template.
pub fn stateful_set(name: &str) -> StatefulSet {
    StatefulSet {
        name: name.to_string(),
        replicas: 1,
        version: None,
        spec: String::new(),
        claim: None,
    }
}

impl StatefulSet {
    pub fn replicas(mut self, replicas: i32) -> StatefulSet {
        self.replicas = replicas;
        self
    }

    /// The template's version: an annotation `version` and the image tag,
    /// so that a new version is a new revision.
    pub fn version(mut self, version: &str) -> StatefulSet {
        self.version = Some(version.to_string());
        self
    }

    /// Lines under `spec`, indented by two spaces, each ending in a newline
    /// (`"  podManagementPolicy: Parallel\n"`).
    pub fn spec(mut self, lines: &str) -> StatefulSet {
        self.spec.push_str(lines);
        self
    }

    /// A claim template `data` of `class`, 10Gi, with these access modes
    /// (`"ReadWriteOnce"`, `"ReadWriteOnce, ReadWriteMany"`).
    pub fn claim_template(mut self, class: &str, modes: &str) -> StatefulSet {
        self.claim = Some((class.to_string(), modes.to_string()));
        self
    }

    pub fn yaml(&self) -> String {
        let name = &self.name;
        let (annotations, tag) = match &self.version {
            Some(version) => (
                format!("orch.dev/ready-after: 10s, version: \"{version}\""),
                version.as_str(),
            ),
            None => ("orch.dev/ready-after: 10s".to_string(), "1"),
        };
        let mut text = format!(
            "apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {name}
spec:
  replicas: {}
  serviceName: {name}
  selector:
    matchLabels: {{app: {name}}}
{}  template:
    metadata:
      labels: {{app: {name}}}
      annotations: {{{annotations}}}
    spec:
      containers:
      - name: {name}
        image: example/{name}:{tag}
        resources:
          requests: {{cpu: 500m, memory: 256Mi}}
",
            self.replicas, self.spec
        );
        if let Some((class, modes)) = &self.claim {
            write!(
                text,
                "  volumeClaimTemplates:
  - metadata: {{name: data}}
    spec:
      accessModes: [{modes}]
      storageClassName: {class}
      resources:
        requests: {{storage: 10Gi}}
"
            )
            .unwrap();
        }
        text.push_str("---\n");
        text
    }
}

/// A StorageClass with this provisioner and `volumeBindingMode`.
pub fn storage_class(name: &str, provisioner: &str, mode: &str) -> String {
    format!(
        "apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: {name}
provisioner: {provisioner}
volumeBindingMode: {mode}
---
"
    )
}
