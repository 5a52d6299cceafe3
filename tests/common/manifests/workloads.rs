//! `deployment(NAME)` and `daemonset(NAME)`, and the pod template they share.

use super::{Taint, flow_map};
use std::fmt::Write;

/// What Deployments and DaemonSets share: the pod they stamp out.
struct Template {
    app: String,
    annotations: Vec<(String, String)>,
    node_selector: Vec<(String, String)>,
    tolerations: Vec<Taint>,
    spread: Vec<(String, i32, &'static str)>,
    anti_affinity: Vec<String>,
    image: String,
    cpu: String,
    memory: String,
}

impl Template {
    fn new(name: &str) -> Template {
        Template {
            app: name.to_string(),
            annotations: Vec::new(),
            node_selector: Vec::new(),
            tolerations: Vec::new(),
            spread: Vec::new(),
            anti_affinity: Vec::new(),
            image: format!("example/{name}:1"),
            cpu: "100m".to_string(),
            memory: "64Mi".to_string(),
        }
    }

    /// `selector:` and `template:` at two spaces, as under a workload's `spec`.
    fn yaml(&self, text: &mut String) {
        let app = flow_map(&[("app", &self.app)]);
        writeln!(
            text,
            "  selector:\n    matchLabels: {app}\n  template:\n    metadata:\n      labels: {app}"
        )
        .unwrap();
        if !self.annotations.is_empty() {
            writeln!(text, "      annotations: {}", flow_map(&self.annotations)).unwrap();
        }
        text.push_str("    spec:\n");
        if !self.node_selector.is_empty() {
            writeln!(
                text,
                "      nodeSelector: {}",
                flow_map(&self.node_selector)
            )
            .unwrap();
        }
        if !self.tolerations.is_empty() {
            text.push_str("      tolerations:\n");
            for toleration in &self.tolerations {
                writeln!(text, "        - {}", toleration.as_toleration()).unwrap();
            }
        }
        if !self.spread.is_empty() {
            text.push_str("      topologySpreadConstraints:\n");
            for (key, max_skew, when) in &self.spread {
                writeln!(
                    text,
                    "        - {{maxSkew: {max_skew}, topologyKey: {key}, whenUnsatisfiable: {when}, labelSelector: {{matchLabels: {app}}}}}"
                )
                .unwrap();
            }
        }
        if !self.anti_affinity.is_empty() {
            text.push_str("      affinity:\n        podAntiAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n");
            for key in &self.anti_affinity {
                writeln!(
                    text,
                    "            - {{topologyKey: {key}, labelSelector: {{matchLabels: {app}}}}}"
                )
                .unwrap();
            }
        }
        writeln!(
            text,
            "      containers:\n        - name: main\n          image: {}\n          resources:\n            requests: {{cpu: {}, memory: {}}}",
            self.image, self.cpu, self.memory
        )
        .unwrap();
    }
}

/// The builder methods that shape the pod, shared by Deployment and DaemonSet.
macro_rules! pod_template_methods {
    ($builder:ty) => {
        impl $builder {
            /// The CPU request of the one container.
            pub fn cpu(mut self, cpu: &str) -> Self {
                self.template.cpu = cpu.to_string();
                self
            }

            /// The memory request of the one container.
            pub fn memory(mut self, memory: &str) -> Self {
                self.template.memory = memory.to_string();
                self
            }

            pub fn image(mut self, image: &str) -> Self {
                self.template.image = image.to_string();
                self
            }

            /// An annotation on the pod template (`orch.dev/ready-after`, …).
            pub fn pod_annotation(mut self, key: &str, value: &str) -> Self {
                self.template
                    .annotations
                    .push((key.to_string(), value.to_string()));
                self
            }

            pub fn node_selector(mut self, key: &str, value: &str) -> Self {
                self.template
                    .node_selector
                    .push((key.to_string(), value.to_string()));
                self
            }

            /// `key=value:Effect` (Equal) or `key:Effect` (Exists).
            pub fn toleration(mut self, toleration: &str) -> Self {
                self.template.tolerations.push(Taint::parse(toleration));
                self
            }

            /// A DoNotSchedule topology spread over its own replicas.
            pub fn spread(mut self, topology_key: &str, max_skew: i32) -> Self {
                self.template
                    .spread
                    .push((topology_key.to_string(), max_skew, "DoNotSchedule"));
                self
            }

            /// A ScheduleAnyway topology spread over its own replicas.
            pub fn spread_preferred(mut self, topology_key: &str, max_skew: i32) -> Self {
                self.template
                    .spread
                    .push((topology_key.to_string(), max_skew, "ScheduleAnyway"));
                self
            }

            /// Required anti-affinity to its own replicas per `topology_key`.
            pub fn anti_affinity(mut self, topology_key: &str) -> Self {
                self.template.anti_affinity.push(topology_key.to_string());
                self
            }
        }
    };
}

fn metadata(
    text: &mut String,
    name: &str,
    namespace: &Option<String>,
    annotations: &[(String, String)],
) {
    writeln!(text, "metadata:\n  name: {name}").unwrap();
    if let Some(namespace) = namespace {
        writeln!(text, "  namespace: {namespace}").unwrap();
    }
    if !annotations.is_empty() {
        writeln!(text, "  annotations: {}", flow_map(annotations)).unwrap();
    }
}

// ------------------------------------------------------------ Deployment

pub struct Deployment {
    name: String,
    namespace: Option<String>,
    annotations: Vec<(String, String)>,
    replicas: i32,
    strategy: Option<String>,
    template: Template,
}

/// One replica of `example/NAME:1` requesting 100m and 64Mi.
pub fn deployment(name: &str) -> Deployment {
    Deployment {
        name: name.to_string(),
        namespace: None,
        annotations: Vec::new(),
        replicas: 1,
        strategy: None,
        template: Template::new(name),
    }
}

pod_template_methods!(Deployment);

impl Deployment {
    pub fn replicas(mut self, replicas: i32) -> Deployment {
        self.replicas = replicas;
        self
    }

    pub fn namespace(mut self, namespace: &str) -> Deployment {
        self.namespace = Some(namespace.to_string());
        self
    }

    /// An annotation on the Deployment itself.
    pub fn annotation(mut self, key: &str, value: &str) -> Deployment {
        self.annotations.push((key.to_string(), value.to_string()));
        self
    }

    /// `orch.dev/depends-on`: start only once `object` (`Kind/name`) is available.
    pub fn depends_on(self, object: &str) -> Deployment {
        self.annotation("orch.dev/depends-on", object)
    }

    /// A RollingUpdate with these bounds (`"25%"`, `"1"`, `"0"`).
    pub fn rolling_update(mut self, max_surge: &str, max_unavailable: &str) -> Deployment {
        self.strategy = Some(format!(
            "{{type: RollingUpdate, rollingUpdate: {{maxSurge: {max_surge}, maxUnavailable: {max_unavailable}}}}}"
        ));
        self
    }

    pub fn recreate(mut self) -> Deployment {
        self.strategy = Some("{type: Recreate}".to_string());
        self
    }

    pub fn yaml(&self) -> String {
        let mut text = String::from("apiVersion: apps/v1\nkind: Deployment\n");
        metadata(&mut text, &self.name, &self.namespace, &self.annotations);
        writeln!(text, "spec:\n  replicas: {}", self.replicas).unwrap();
        if let Some(strategy) = &self.strategy {
            writeln!(text, "  strategy: {strategy}").unwrap();
        }
        self.template.yaml(&mut text);
        text.push_str("---\n");
        text
    }
}

// ------------------------------------------------------------- DaemonSet

pub struct DaemonSet {
    name: String,
    namespace: Option<String>,
    template: Template,
}

/// One replica per eligible node of `example/NAME:1` requesting 100m and 64Mi.
pub fn daemonset(name: &str) -> DaemonSet {
    DaemonSet {
        name: name.to_string(),
        namespace: None,
        template: Template::new(name),
    }
}

pod_template_methods!(DaemonSet);

impl DaemonSet {
    pub fn namespace(mut self, namespace: &str) -> DaemonSet {
        self.namespace = Some(namespace.to_string());
        self
    }

    pub fn yaml(&self) -> String {
        let mut text = String::from("apiVersion: apps/v1\nkind: DaemonSet\n");
        metadata(&mut text, &self.name, &self.namespace, &[]);
        text.push_str("spec:\n");
        self.template.yaml(&mut text);
        text.push_str("---\n");
        text
    }
}
