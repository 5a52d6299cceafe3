//! `orch describe node|workload|replica`: the views `kubectl describe`
//! prints — `Key:` fields aligned in blocks, indented sections, dashed
//! tables, and the object's events — for the views `crate::describe` builds.
//! The same views are the `-o json|yaml` documents of node and workload.

use crate::describe::{
    ContainerStatus, ContainerView, EventRow, NodeDescription, ReplicaDescription, TemplateView,
    WorkloadDescription,
};
use crate::model::condition::ConditionStatus;
use std::collections::BTreeMap;

mod batch;
pub use batch::{cron_job, job};

/// Text with `\t` between cells, aligned the way kubectl's tabwriter
/// aligns it (two spaces of padding): consecutive lines holding cells form
/// a block whose columns line up; a line without a tab ends the block.
#[derive(Default)]
pub struct Describer {
    lines: Vec<String>,
}

fn indent(level: usize) -> String {
    "  ".repeat(level)
}

impl Describer {
    /// `Key:<tab>value`; an empty value prints `<none>`.
    pub fn field(&mut self, level: usize, key: &str, value: impl AsRef<str>) {
        let value = value.as_ref();
        let value = if value.is_empty() { "<none>" } else { value };
        self.lines.push(format!("{}{key}:\t{value}", indent(level)));
    }

    /// `Title:` on a line of its own, opening an indented section.
    pub fn section(&mut self, level: usize, title: &str) {
        self.lines.push(format!("{}{title}:", indent(level)));
    }

    /// A line as given (no alignment).
    pub fn line(&mut self, level: usize, text: &str) {
        self.lines.push(format!("{}{text}", indent(level)));
    }

    /// `Key:` followed by one value per line, aligned under the first
    /// (`<none>` when there are none), as kubectl prints labels and taints.
    pub fn list(&mut self, level: usize, key: &str, values: &[String]) {
        match values {
            [] => self.field(level, key, ""),
            [first, rest @ ..] => {
                self.field(level, key, first);
                for value in rest {
                    self.lines.push(format!("{}\t{value}", indent(level)));
                }
            }
        }
    }

    /// An object's `Labels:` (`key=value`) and `Annotations:` (`key: value`),
    /// one a line, as kubectl prints its metadata.
    pub fn metadata(
        &mut self,
        level: usize,
        labels: &BTreeMap<String, String>,
        annotations: &BTreeMap<String, String>,
    ) {
        self.list(level, "Labels", &pairs(labels, "="));
        self.list(level, "Annotations", &pairs(annotations, ": "));
    }

    /// A table with a dashed rule under its headers.
    pub fn table(&mut self, level: usize, headers: &[&str], rows: &[Vec<String>]) {
        self.lines
            .push(format!("{}{}", indent(level), headers.join("\t")));
        let rule: Vec<String> = headers.iter().map(|h| "-".repeat(h.len())).collect();
        self.lines
            .push(format!("{}{}", indent(level), rule.join("\t")));
        for row in rows {
            self.lines
                .push(format!("{}{}", indent(level), row.join("\t")));
        }
    }

    /// The `Events:` section: a table, or `<none>`.
    pub fn events(&mut self, events: &[EventRow]) {
        if events.is_empty() {
            self.field(0, "Events", "");
            return;
        }
        self.section(0, "Events");
        let rows: Vec<Vec<String>> = events
            .iter()
            .map(|e| {
                vec![
                    e.kind.clone(),
                    e.reason.clone(),
                    e.age.clone(),
                    e.from.clone(),
                    e.message.clone(),
                ]
            })
            .collect();
        self.table(1, &["Type", "Reason", "Age", "From", "Message"], &rows);
    }

    pub fn finish(self) -> String {
        align(&self.lines)
    }
}

/// kubectl's tabwriter (minwidth 0, padding 2): a column's width is taken
/// over the run of consecutive lines that have a cell in that column.
fn align(lines: &[String]) -> String {
    let cells: Vec<Vec<&str>> = lines.iter().map(|l| l.split('\t').collect()).collect();
    let mut widths: Vec<Vec<usize>> = cells.iter().map(|c| vec![0; c.len()]).collect();
    let columns = cells.iter().map(Vec::len).max().unwrap_or(0);
    for column in 0..columns.saturating_sub(1) {
        let mut start = 0;
        while start < cells.len() {
            // A run: consecutive lines with a terminated cell in this column.
            if cells[start].len() <= column + 1 {
                start += 1;
                continue;
            }
            let mut end = start;
            while end < cells.len() && cells[end].len() > column + 1 {
                end += 1;
            }
            let width = (start..end)
                .map(|i| cells[i][column].chars().count())
                .max()
                .unwrap_or(0);
            for row in &mut widths[start..end] {
                row[column] = width + 2;
            }
            start = end;
        }
    }
    let mut out = String::new();
    for (row, width) in cells.iter().zip(&widths) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 < row.len() {
                line.push_str(&format!("{cell:<w$}", w = width[i]));
            } else {
                line.push_str(cell);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

pub fn pairs(map: &BTreeMap<String, String>, separator: &str) -> Vec<String> {
    map.iter()
        .map(|(k, v)| format!("{k}{separator}{v}"))
        .collect()
}

// ---- nodes ----

pub fn node(view: &NodeDescription) -> String {
    let mut d = Describer::default();
    d.field(0, "Name", &view.name);
    d.field(0, "Roles", view.roles.join(","));
    d.list(0, "Labels", &pairs(&view.labels, "="));
    d.field(0, "Annotations", "");
    d.list(0, "Taints", &view.taints);
    d.field(0, "Unschedulable", view.unschedulable.to_string());
    d.section(0, "Conditions");
    let rows: Vec<Vec<String>> = view
        .conditions
        .iter()
        .map(|c| {
            vec![
                c.kind.clone(),
                c.status.clone(),
                c.last_transition_time.map_or_else(
                    || "<unknown>".into(),
                    |t| format!("t={}", super::duration(t)),
                ),
                c.reason.clone(),
                c.message.clone(),
            ]
        })
        .collect();
    d.table(
        1,
        &["Type", "Status", "LastTransitionTime", "Reason", "Message"],
        &rows,
    );
    // orch keeps one figure per resource (allocatable, or the manifest's
    // capacity when it gives no allocatable): capacity is that figure too.
    for title in ["Capacity", "Allocatable"] {
        d.section(0, title);
        for (name, value) in &view.allocatable {
            d.field(1, name, value);
        }
    }
    d.field(
        0,
        "Non-terminated Pods",
        format!("({} in total)", view.replicas.len()),
    );
    let rows: Vec<Vec<String>> = view
        .replicas
        .iter()
        .map(|r| {
            vec![
                r.namespace.clone(),
                r.name.clone(),
                r.cpu_requests.clone(),
                r.memory_requests.clone(),
                r.age.clone(),
            ]
        })
        .collect();
    d.table(
        1,
        &[
            "Namespace",
            "Name",
            "CPU Requests",
            "Memory Requests",
            "Age",
        ],
        &rows,
    );
    d.section(0, "Allocated resources");
    let rows: Vec<Vec<String>> = view
        .allocated
        .iter()
        .map(|a| {
            vec![
                a.resource.clone(),
                format!("{} ({}%)", a.requests, a.percent),
            ]
        })
        .collect();
    d.table(1, &["Resource", "Requests"], &rows);
    d.events(&view.events);
    d.finish()
}

/// `orch describe nodegroup`.
pub fn node_group(view: &crate::describe::NodeGroupDescription) -> String {
    let mut d = Describer::default();
    d.field(0, "Name", &view.name);
    d.field(0, "Min Size", view.min_size.to_string());
    d.field(0, "Max Size", view.max_size.to_string());
    d.field(0, "Provision Delay", &view.provision_delay);
    d.list(0, "Template", &view.template);
    d.field(
        0,
        "Last Scale-up",
        view.last_scale_up.as_deref().unwrap_or(""),
    );
    d.list(0, "Provisioning", &view.provisioning);
    d.list(0, "Unneeded", &view.unneeded);
    d.section(0, "Members");
    let rows: Vec<Vec<String>> = view
        .members
        .iter()
        .map(|m| {
            vec![
                m.name.clone(),
                m.status.clone(),
                format!("{}%", m.utilization),
                m.replicas.to_string(),
            ]
        })
        .collect();
    d.table(1, &["Name", "Status", "Utilization", "Replicas"], &rows);
    d.events(&view.events);
    d.finish()
}

// ---- workloads ----

pub fn workload(view: &WorkloadDescription) -> String {
    let mut d = Describer::default();
    d.field(0, "Name", &view.name);
    d.field(0, "Namespace", &view.namespace);
    d.metadata(0, &view.labels, &view.annotations);
    d.field(0, "Selector", &view.selector);
    if view.workload_kind == "DaemonSet" {
        d.field(
            0,
            "Desired Number of Nodes Scheduled",
            view.desired.to_string(),
        );
        d.field(
            0,
            "Current Number of Nodes Scheduled",
            view.total.to_string(),
        );
        d.field(
            0,
            "Number of Nodes Scheduled with Up-to-date Pods",
            view.updated.to_string(),
        );
        d.field(
            0,
            "Number of Nodes Scheduled with Available Pods",
            view.available.to_string(),
        );
        d.field(
            0,
            "Pods Status",
            format!(
                "{} Running / {} Waiting / 0 Succeeded / {} Failed",
                view.running, view.waiting, view.failed
            ),
        );
    } else if view.workload_kind == "StatefulSet" {
        // `kubectl describe statefulset`.
        d.field(
            0,
            "Replicas",
            format!("{} desired | {} total", view.desired, view.total),
        );
        d.field(0, "Update Strategy", &view.strategy);
        if let Some(rolling) = &view.rolling_update {
            d.field(1, "Partition", rolling);
        }
        d.field(
            0,
            "Pods Status",
            format!(
                "{} Running / {} Waiting / 0 Succeeded / {} Failed",
                view.running, view.waiting, view.failed
            ),
        );
    } else {
        d.field(
            0,
            "Replicas",
            format!(
                "{} desired | {} updated | {} total | {} available | {} unavailable",
                view.desired, view.updated, view.total, view.available, view.unavailable
            ),
        );
    }
    if view.workload_kind != "StatefulSet" {
        d.field(0, "StrategyType", &view.strategy);
        d.field(0, "MinReadySeconds", view.min_ready_seconds.to_string());
        if let Some(rolling) = &view.rolling_update {
            d.field(0, "RollingUpdateStrategy", rolling);
        }
    }
    template(&mut d, &view.template);
    if let Some(claims) = &view.volume_claims {
        volume_claims(&mut d, claims);
    }
    if !view.conditions.is_empty() {
        d.section(0, "Conditions");
        let rows: Vec<Vec<String>> = view
            .conditions
            .iter()
            .map(|c| vec![c.kind.clone(), c.status.clone(), c.reason.clone()])
            .collect();
        d.table(1, &["Type", "Status", "Reason"], &rows);
    }
    if view.workload_kind == "Deployment" {
        d.field(0, "OldReplicaSets", view.old_replica_sets.join(", "));
        d.field(
            0,
            "NewReplicaSet",
            view.new_replica_set.clone().unwrap_or_default(),
        );
    }
    d.events(&view.events);
    d.finish()
}

/// kubectl's `describeVolumeClaimTemplates`.
fn volume_claims(d: &mut Describer, claims: &[crate::describe::ClaimTemplateView]) {
    if claims.is_empty() {
        d.field(0, "Volume Claims", "");
        return;
    }
    d.section(0, "Volume Claims");
    for claim in claims {
        d.field(1, "Name", &claim.name);
        // An empty class prints empty, not `<none>`.
        d.lines.push(format!(
            "{}StorageClass:\t{}",
            indent(1),
            claim.storage_class
        ));
        d.list(1, "Labels", &pairs(&claim.labels, "="));
        d.list(1, "Annotations", &pairs(&claim.annotations, "="));
        d.field(1, "Capacity", &claim.capacity);
        d.field(
            1,
            "Access Modes",
            format!("[{}]", claim.access_modes.join(" ")),
        );
    }
}

fn template(d: &mut Describer, view: &TemplateView) {
    d.section(0, "Pod Template");
    d.list(1, "Labels", &pairs(&view.labels, "="));
    if !view.annotations.is_empty() {
        d.list(1, "Annotations", &pairs(&view.annotations, ": "));
    }
    d.section(1, "Containers");
    containers(d, 2, &view.containers, None);
    d.list(1, "Node-Selectors", &pairs(&view.node_selector, "="));
    d.list(1, "Tolerations", &view.tolerations);
}

/// Per container: image, ports, requests and limits; with `status` (a
/// replica's), its state, readiness and restarts.
fn containers(
    d: &mut Describer,
    level: usize,
    list: &[ContainerView],
    status: Option<&ContainerStatus>,
) {
    for container in list {
        // kubectl sets a template's container names one space deeper than a pod's.
        let name = match status {
            Some(_) => container.name.clone(),
            None => format!(" {}", container.name),
        };
        d.section(level - 1, &name);
        d.field(level, "Image", &container.image);
        d.field(level, "Port", container.ports.join(", "));
        if let Some(status) = status {
            d.field(level, "State", &status.state);
        }
        for (title, amounts) in [
            ("Limits", &container.limits),
            ("Requests", &container.requests),
        ] {
            if !amounts.is_empty() {
                d.section(level, title);
                for (name, value) in amounts {
                    d.field(level + 1, name, value);
                }
            }
        }
        if let Some(status) = status {
            d.field(level, "Ready", ConditionStatus::from(status.ready).as_str());
            d.field(level, "Restart Count", status.restarts.to_string());
        }
    }
}

// ---- replicas ----

/// `kubectl describe pvc`.
pub fn claim(view: &crate::describe::ClaimDescription) -> String {
    let mut d = Describer::default();
    d.field(0, "Name", &view.name);
    d.field(0, "Namespace", &view.namespace);
    d.field(0, "StorageClass", &view.storage_class);
    d.field(0, "Status", &view.status);
    d.field(0, "Volume", view.volume.clone().unwrap_or_default());
    if let Some(owner) = &view.owner {
        d.field(0, "Controlled By", owner);
    }
    d.field(0, "Capacity", view.capacity.clone().unwrap_or_default());
    d.field(0, "Requested", &view.requested);
    d.field(0, "Access Modes", view.access_modes.join(","));
    d.field(0, "VolumeMode", "Filesystem");
    d.list(0, "Used By", &view.used_by);
    if !view.volume_node_affinity.is_empty() {
        d.list(0, "Volume Node Affinity", &view.volume_node_affinity);
    }
    d.events(&view.events);
    d.finish()
}

pub fn replica(view: &ReplicaDescription, scheduling: &str) -> String {
    let mut d = Describer::default();
    d.field(0, "Name", &view.name);
    d.field(0, "Namespace", &view.namespace);
    if let Some((priority, class)) = &view.priority {
        d.field(0, "Priority", priority.to_string());
        if !class.is_empty() {
            d.field(0, "Priority Class Name", class);
        }
    }
    d.field(0, "Node", view.node.clone().unwrap_or_default());
    if let Some(start) = &view.start_time {
        d.field(0, "Start Time", start);
    }
    d.list(0, "Labels", &pairs(&view.labels, "="));
    d.field(0, "Status", &view.status);
    if let Some(reason) = &view.reason {
        d.field(0, "Message", reason);
    }
    d.field(0, "Controlled By", &view.controlled_by);
    d.section(0, "Containers");
    containers(&mut d, 2, &view.containers, Some(&view.container_status));
    d.section(0, "Conditions");
    let rows: Vec<Vec<String>> = view
        .conditions
        .iter()
        .map(|(kind, status)| vec![kind.clone(), status.clone()])
        .collect();
    d.table(1, &["Type", "Status"], &rows);
    d.list(0, "Node-Selectors", &pairs(&view.node_selector, "="));
    d.list(0, "Tolerations", &view.tolerations);
    let head = d.finish();
    let mut tail = Describer::default();
    tail.events(&view.events);
    format!(
        "{head}Scheduling:\n{}{}",
        indent_block(scheduling),
        tail.finish()
    )
}

fn indent_block(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::from("\n")
            } else {
                format!("  {l}\n")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::Describer;

    #[test]
    fn fields_align_per_block_like_kubectl() {
        let mut d = Describer::default();
        d.field(0, "Name", "api");
        d.field(
            0,
            "RollingUpdateStrategy",
            "25% max unavailable, 25% max surge",
        );
        d.list(0, "Labels", &["app=api".into(), "tier=web".into()]);
        d.section(0, "Pod Template");
        d.field(1, "Labels", "app=api");
        d.section(0, "Conditions");
        d.table(
            1,
            &["Type", "Status"],
            &[vec!["Available".into(), "True".into()]],
        );
        d.field(0, "Events", "");
        // As kubectl's tabwriter: a block runs until a line without a cell,
        // so the table and the `Events:` line after it share their widths.
        assert_eq!(
            d.finish(),
            "Name:                   api\n\
             RollingUpdateStrategy:  25% max unavailable, 25% max surge\n\
             Labels:                 app=api\n\
             \x20                       tier=web\n\
             Pod Template:\n\
             \x20 Labels:  app=api\n\
             Conditions:\n\
             \x20 Type       Status\n\
             \x20 ----       ------\n\
             \x20 Available  True\n\
             Events:      <none>\n"
        );
    }
}
