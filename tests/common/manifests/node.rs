//! `node(NAME)`: a Node with its hostname label, 4 CPUs, 8Gi and 110 pods.

use super::{Taint, scalar};
use std::fmt::Write;

pub struct Node {
    name: String,
    cpu: String,
    memory: String,
    pods: String,
    extended: Vec<(String, String)>,
    labels: Vec<(String, String)>,
    taints: Vec<Taint>,
    unschedulable: bool,
}

/// A schedulable node with 4 CPUs, 8Gi and 110 pods.
pub fn node(name: &str) -> Node {
    Node {
        name: name.to_string(),
        cpu: "4".to_string(),
        memory: "8Gi".to_string(),
        pods: "110".to_string(),
        extended: Vec::new(),
        labels: Vec::new(),
        taints: Vec::new(),
        unschedulable: false,
    }
}

impl Node {
    pub fn cpu(mut self, cpu: &str) -> Node {
        self.cpu = cpu.to_string();
        self
    }

    pub fn memory(mut self, memory: &str) -> Node {
        self.memory = memory.to_string();
        self
    }

    pub fn pods(mut self, pods: &str) -> Node {
        self.pods = pods.to_string();
        self
    }

    /// An extended resource in allocatable, e.g. `("nvidia.com/gpu", "1")`.
    pub fn allocatable(mut self, resource: &str, quantity: &str) -> Node {
        self.extended
            .push((resource.to_string(), quantity.to_string()));
        self
    }

    pub fn label(mut self, key: &str, value: &str) -> Node {
        self.labels.push((key.to_string(), value.to_string()));
        self
    }

    /// The `topology.kubernetes.io/zone` label.
    pub fn zone(self, zone: &str) -> Node {
        self.label("topology.kubernetes.io/zone", zone)
    }

    /// `key=value:Effect` or `key:Effect`, as `kubectl taint` takes it.
    pub fn taint(mut self, taint: &str) -> Node {
        self.taints.push(Taint::parse(taint));
        self
    }

    /// Cordoned: `spec.unschedulable: true`.
    pub fn unschedulable(mut self) -> Node {
        self.unschedulable = true;
        self
    }

    pub fn yaml(&self) -> String {
        let name = &self.name;
        let mut text = format!(
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\n  labels:\n    kubernetes.io/hostname: {name}\n"
        );
        for (key, value) in &self.labels {
            writeln!(text, "    {key}: {}", scalar(value)).unwrap();
        }
        writeln!(text, "spec:\n  unschedulable: {}", self.unschedulable).unwrap();
        if !self.taints.is_empty() {
            text.push_str("  taints:\n");
            for taint in &self.taints {
                writeln!(text, "    - {}", taint.as_taint()).unwrap();
            }
        }
        let mut allocatable = format!(
            "cpu: \"{}\", memory: {}, pods: \"{}\"",
            self.cpu, self.memory, self.pods
        );
        for (resource, quantity) in &self.extended {
            write!(allocatable, ", {resource}: \"{quantity}\"").unwrap();
        }
        writeln!(text, "status:\n  allocatable: {{{allocatable}}}\n---").unwrap();
        text
    }
}
