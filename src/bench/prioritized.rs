//! `Mix::Prioritized`: the mixed fleet's workloads given PriorityClasses,
//! and a pool of nodes where about 1% of the placements preempt.

use super::{FleetSpec, class_counts};
use std::fmt::Write as _;

/// The PriorityClasses of `Mix::Prioritized`, lowest first.
const PRIORITY_CLASSES: [(&str, i32); 3] =
    [("batch", 100), ("standard", 1000), ("critical", 100_000)];

/// Where `Mix::Prioritized` makes about 1% of the placements preempt: a
/// pool of general nodes, tainted and labelled for it, filled by
/// low-priority fillers (two per node) in the first pass; once they are
/// available, critical replicas (1% of the fleet, as large as a filler)
/// arrive and each preempts a filler, whose replacement stays Pending.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pool {
    /// Every n-th general node is in the pool.
    every: usize,
    nodes: usize,
    criticals: usize,
}

const POOL_TAINT: &str = "bench.orch.dev/pool";

impl Pool {
    pub(super) fn of(spec: FleetSpec) -> Pool {
        let general = class_counts(spec.nodes)[0];
        let criticals = (spec.replicas / 100).min(general / 2 * 2).max(1);
        let nodes = criticals.div_ceil(2).clamp(1, general.max(1));
        Pool {
            every: (general / nodes).max(1),
            nodes,
            criticals,
        }
    }

    pub(super) fn replicas(&self) -> usize {
        2 * self.nodes + self.criticals
    }

    /// Node `text` (one document) with the pool's taint and label, if the
    /// `k`-th general node is in the pool.
    fn mark(&self, k: usize, text: &str) -> String {
        if !k.is_multiple_of(self.every) || k / self.every >= self.nodes {
            return text.to_string();
        }
        text.replacen(
            "labels: {",
            &format!("labels: {{{POOL_TAINT}: preemption, "),
            1,
        )
        .replacen(
            "spec: {}",
            &format!(
                "spec:\n  taints: [{{key: {POOL_TAINT}, value: preemption, effect: NoSchedule}}]"
            ),
            1,
        )
    }

    /// The fillers and the critical replicas that preempt them.
    fn workloads(&self) -> String {
        let deployment = |name: &str, replicas: usize, class: &str, extra: &str| {
            format!(
                "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: platform{extra}}}\nspec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n      priorityClassName: {class}\n      nodeSelector: {{{POOL_TAINT}: preemption}}\n      tolerations: [{{key: {POOL_TAINT}, operator: Exists, effect: NoSchedule}}]\n      containers: [{{name: app, image: \"{name}:1\", resources: {{requests: {{cpu: 3500m, memory: 1Gi}}}}}}]\n"
            )
        };
        deployment("pool-filler", 2 * self.nodes, PRIORITY_CLASSES[0].0, "")
            + &deployment(
                "pool-critical",
                self.criticals,
                PRIORITY_CLASSES[2].0,
                ", annotations: {orch.dev/depends-on: Deployment/platform/pool-filler}",
            )
    }
}

/// The mixed fleet's workloads given priorities: each Deployment in turn
/// one of `PRIORITY_CLASSES`, the DaemonSets `system-node-critical`; and
/// the preemption pool.
pub(super) fn prioritized(files: Vec<(String, String)>, pool: Pool) -> Vec<(String, String)> {
    let mut classes = String::new();
    for (name, value) in PRIORITY_CLASSES {
        let _ = write!(
            classes,
            "---\napiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {{name: {name}}}\nvalue: {value}\n"
        );
    }
    let mut n = 0usize;
    let mut out = vec![("priorityclasses.yaml".to_string(), classes)];
    for (name, text) in files {
        if name == "nodes.yaml" {
            let mut general = 0usize;
            let text = text
                .split_inclusive("---\n")
                .map(|doc| {
                    if !doc.contains("node.orch.dev/class: general,") {
                        return doc.to_string();
                    }
                    general += 1;
                    pool.mark(general - 1, doc)
                })
                .collect();
            out.push((name, text));
            continue;
        }
        let text = text
            .split_inclusive('\n')
            .map(|line| {
                if !line.starts_with("      containers:") {
                    return line.to_string();
                }
                let class = if name == "daemonsets.yaml" {
                    crate::model::priority::SYSTEM_NODE_CRITICAL
                } else {
                    n += 1;
                    PRIORITY_CLASSES[n % PRIORITY_CLASSES.len()].0
                };
                format!("      priorityClassName: {class}\n{line}")
            })
            .collect();
        out.push((name, text));
    }
    out.push(("pool.yaml".to_string(), pool.workloads()));
    out
}
