//! What `orch get` lists, computed once from a state: per object its identity,
//! its table cells and its `-o json|yaml` item. `get` prints it whole; `get -w`
//! and `watch --show` compare two listings row by row.

use super::{Resource, is_about, pod_labels};
use crate::model::labels::LabelSelector;
use crate::model::resources::{Resources, resource_map};
use crate::model::state::{Phase, State};
use crate::model::workload::Desired;
use crate::reconcile::{Catalog, summarize};
use crate::render::documents::{self, NodeItem, ReplicaItem, WorkloadItem};
use crate::render::{self, Format};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// How the listing will be printed, so only that is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Table rows (`-o wide` adds columns).
    Table { wide: bool },
    /// One `…List` document (`get -o json|yaml`).
    List(Format),
    /// One serialized item per row (`get -w -o json|yaml`).
    Items(Format),
}

impl Shape {
    pub fn of(format: Format, per_item: bool) -> Shape {
        match format {
            Format::Json | Format::Yaml if per_item => Shape::Items(format),
            Format::Json | Format::Yaml => Shape::List(format),
            _ => Shape::Table {
                wide: format == Format::Wide,
            },
        }
    }
}

/// One listed object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Identity across listings (a node's or replica's name, a workload's object).
    pub key: String,
    /// Table cells, in `Listing::headers` order (tables only).
    pub cells: Vec<String>,
    /// The serialized `-o json|yaml` item (`Shape::Items` only).
    pub item: String,
}

#[derive(Debug, Clone, Default)]
pub struct Listing {
    pub headers: Vec<&'static str>,
    /// Columns that change with the clock alone (AGE): ignored when rows are compared.
    pub volatile: Vec<usize>,
    /// The column that reads `Deleted` on a deleted object's last row.
    pub marker: usize,
    /// Events: rows are only ever appended (or dropped from the front of the ring).
    pub append_only: bool,
    pub rows: Vec<Row>,
    /// `Shape::List` only: the whole document.
    pub document: String,
}

/// The listing of `resource` in `state`, filtered by `selector` (nodes,
/// workloads, replicas) or `for_object` (events).
pub fn listing(
    state: &State,
    desired: &Desired,
    resource: Resource,
    selector: Option<&LabelSelector>,
    for_object: Option<&str>,
    shape: Shape,
) -> Listing {
    match resource {
        Resource::Nodes => nodes(state, desired, selector, shape),
        Resource::Workloads => workloads(state, desired, selector, shape),
        Resource::Replicas => replicas(state, desired, selector, shape),
        Resource::Events => events(state, for_object, shape),
        Resource::Claims => super::storage::claims(state, shape),
        Resource::Volumes => super::storage::volumes(state, shape),
        Resource::NodeGroups => super::nodegroups::node_groups(state, shape),
        Resource::Hpa => super::hpa::autoscalers(state, shape),
    }
}

/// Rows (or the list document) for `items`, as `shape` asks.
pub(super) fn fill<T: Serialize>(
    listing: &mut Listing,
    kind: &'static str,
    items: Vec<T>,
    key: impl Fn(&T) -> String,
    cells: impl Fn(usize, &T) -> Vec<String>,
    shape: Shape,
) {
    match shape {
        Shape::List(format) => {
            listing.document = render::document(&documents::list(kind, items), format);
        }
        Shape::Items(format) => {
            listing.rows = items
                .iter()
                .map(|item| Row {
                    key: key(item),
                    cells: Vec::new(),
                    item: match format {
                        Format::Yaml => render::document(item, format),
                        _ => serde_json::to_string(item).unwrap_or_default(),
                    },
                })
                .collect();
        }
        Shape::Table { .. } => {
            listing.rows = items
                .iter()
                .enumerate()
                .map(|(i, item)| Row {
                    key: key(item),
                    cells: cells(i, item),
                    item: String::new(),
                })
                .collect();
        }
    }
}

fn wide(shape: Shape) -> bool {
    shape == Shape::Table { wide: true }
}

fn nodes(
    state: &State,
    desired: &Desired,
    selector: Option<&LabelSelector>,
    shape: Shape,
) -> Listing {
    let catalog = Catalog::build(desired, state);
    // One pass over the replicas: what each node holds.
    let mut held: HashMap<&str, (usize, Resources)> = HashMap::new();
    for replica in state.replicas.iter().filter(|r| r.phase.is_active()) {
        let Some(node) = replica.node.as_deref() else {
            continue;
        };
        let (count, requested) = held.entry(node).or_default();
        *count += 1;
        if let Some(pod) = catalog.pod(&replica.workload, &replica.hash) {
            requested.add(&pod.requests);
        }
    }
    let mut items = Vec::new();
    let mut usage = Vec::new();
    for node in &state.nodes {
        if selector.is_some_and(|s| !s.matches(&node.labels)) {
            continue;
        }
        let (count, requested) = held.remove(node.name.as_str()).unwrap_or_default();
        usage.push(Usage {
            cpu: (requested.milli_cpu, node.allocatable.resources.milli_cpu),
            memory: (requested.memory, node.allocatable.resources.memory),
        });
        items.push(NodeItem {
            name: node.name.clone(),
            ready: node.ready,
            unschedulable: node.unschedulable,
            labels: node.labels.clone().into_iter().collect(),
            taints: node.taints.clone(),
            allocatable: node.allocatable.to_map(),
            requested: resource_map(&requested),
            replicas: count,
        });
    }
    let wide = wide(shape);
    let mut listing = Listing {
        headers: vec!["NAME", "STATUS", "CPU", "MEMORY", "PODS"],
        marker: 1,
        ..Listing::default()
    };
    if wide {
        listing.headers.extend(["ZONE", "TAINTS", "LABELS"]);
    }
    let key = |item: &NodeItem| item.name.clone();
    fill(
        &mut listing,
        "NodeList",
        items,
        key,
        |i, item| node_cells(item, &usage[i], wide),
        shape,
    );
    listing
}

/// A node's requested and allocatable cpu (millicores) and memory (bytes).
struct Usage {
    cpu: (i64, i64),
    memory: (i64, i64),
}

/// `requested/allocatable` in one unit per column: millicores for cpu,
/// mebibytes for memory (a fraction of a MiB rounded down, as `kubectl top`).
fn usage_cells(usage: &Usage) -> (String, String) {
    let mib = |bytes: i64| bytes.div_euclid(1 << 20);
    (
        format!("{}m/{}m", usage.cpu.0, usage.cpu.1),
        format!("{}Mi/{}Mi", mib(usage.memory.0), mib(usage.memory.1)),
    )
}

fn node_cells(item: &NodeItem, usage: &Usage, wide: bool) -> Vec<String> {
    let mut status = if item.ready {
        "Ready".to_string()
    } else {
        "NotReady".to_string()
    };
    if item.unschedulable {
        status.push_str(",SchedulingDisabled");
    }
    let (cpu, memory) = usage_cells(usage);
    let mut row = vec![
        item.name.clone(),
        status,
        cpu,
        memory,
        format!(
            "{}/{}",
            item.replicas,
            item.allocatable.get("pods").map_or("0", String::as_str)
        ),
    ];
    if wide {
        row.push(
            item.labels
                .get("topology.kubernetes.io/zone")
                .cloned()
                .unwrap_or_else(|| "<none>".into()),
        );
        row.push(if item.taints.is_empty() {
            "<none>".into()
        } else {
            item.taints
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",")
        });
        row.push(labels_text(&item.labels));
    }
    row
}

fn labels_text(labels: &BTreeMap<String, String>) -> String {
    if labels.is_empty() {
        return "<none>".into();
    }
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn workloads(
    state: &State,
    desired: &Desired,
    selector: Option<&LabelSelector>,
    shape: Shape,
) -> Listing {
    let reports = summarize(desired, state, state.clock);
    let mut items = Vec::new();
    let mut statuses = Vec::new();
    // `summarize` reports the workloads in order, then the CronJobs.
    let cron_labels: Vec<crate::model::labels::Labels> = desired
        .cron_jobs
        .iter()
        .map(|c| template_labels(&c.manifest))
        .collect();
    let labels = desired
        .workloads
        .iter()
        .map(|w| (&w.id, &w.labels))
        .chain(desired.cron_jobs.iter().map(|c| &c.id).zip(&cron_labels));
    for ((id, labels), report) in labels.zip(&reports) {
        if selector.is_some_and(|s| !s.matches(labels)) {
            continue;
        }
        let revision = state
            .workload(id)
            .and_then(|w| w.current_revision())
            .map_or(0, |r| r.revision);
        items.push(WorkloadItem {
            object: &report.object,
            revision,
            counts: documents::workload(report),
        });
        statuses.push(render::plan::status_word(report));
    }
    let wide = wide(shape);
    let mut listing = Listing {
        headers: vec!["WORKLOAD", "READY", "UP-TO-DATE", "AVAILABLE", "REVISION"],
        // Without a STATUS column a deleted workload says so under READY.
        marker: 1,
        ..Listing::default()
    };
    if wide {
        listing.headers.push("STATUS");
        listing.marker = 5;
    }
    let key = |item: &WorkloadItem| item.object.to_string();
    let cells = |i: usize, item: &WorkloadItem| {
        let mut row = vec![
            item.object.to_string(),
            format!("{}/{}", item.counts.ready, item.counts.desired),
            item.counts.updated.to_string(),
            item.counts.available.to_string(),
            item.revision.to_string(),
        ];
        if wide {
            row.push(statuses[i].clone());
        }
        row
    };
    fill(&mut listing, "WorkloadList", items, key, cells, shape);
    listing
}

fn replicas(
    state: &State,
    desired: &Desired,
    selector: Option<&LabelSelector>,
    shape: Shape,
) -> Listing {
    let mut items = Vec::new();
    let mut ages = Vec::new();
    let priorities = crate::reconcile::preemption::in_use(desired).then(|| {
        desired
            .workloads
            .iter()
            .map(|w| (&w.id, w.pod.priority))
            .collect::<std::collections::HashMap<_, _>>()
    });
    // Sorted by name, as kubectl lists pods.
    let mut sorted: Vec<_> = state.replicas.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    for replica in sorted {
        if let Some(selector) = selector {
            let matches = match &replica.unmanaged {
                Some(unmanaged) => selector.matches(&template_labels(&unmanaged.template)),
                None => pod_labels(desired, &replica.workload).is_some_and(|l| selector.matches(l)),
            };
            if !matches {
                continue;
            }
        }
        ages.push(state.clock.saturating_sub(replica.created_at));
        items.push(ReplicaItem {
            name: replica.name.to_string(),
            workload: replica.owner_name(),
            revision: replica.revision,
            node: replica.node.as_deref().map(str::to_string),
            phase: replica.phase,
            ready: replica.ready,
            reason: replica.reason.clone(),
            priority: priorities
                .as_ref()
                .map(|p| p.get(&replica.workload).copied().unwrap_or(0)),
            managed: !replica.is_unmanaged(),
        });
    }
    let wide = wide(shape);
    let mut listing = Listing {
        headers: vec!["NAME", "WORKLOAD", "READY", "STATUS", "NODE", "AGE"],
        volatile: vec![5],
        marker: 3,
        ..Listing::default()
    };
    if wide {
        listing.headers.extend(["REVISION", "REASON"]);
        if priorities.is_some() {
            listing.headers.insert(7, "PRIORITY");
        }
    }
    let key = |item: &ReplicaItem| item.name.clone();
    let cells = |i: usize, item: &ReplicaItem| {
        let mut row = vec![
            item.name.clone(),
            if item.managed {
                item.workload.clone()
            } else {
                format!("{} (unmanaged)", item.workload)
            },
            if item.ready {
                "1/1".into()
            } else {
                "0/1".into()
            },
            status_word(item),
            item.node.clone().unwrap_or_else(|| "<none>".into()),
            render::duration(ages[i]),
        ];
        if wide {
            row.push(item.revision.to_string());
            if let Some(priority) = item.priority {
                row.push(priority.to_string());
            }
            row.push(item.reason.clone().unwrap_or_else(|| "<none>".into()));
        }
        row
    };
    fill(&mut listing, "ReplicaList", items, key, cells, shape);
    listing
}

/// STATUS as kubectl prints it: the phase, but `SchedulingGated` for a
/// gated pod and the kubelet's reason (`OutOfcpu`…) for a refused one.
fn status_word(item: &ReplicaItem) -> String {
    use crate::scheduler::plugins::scheduling_gates::{SCHEDULING_GATED, is_gated};
    match (item.phase, item.reason.as_deref()) {
        (Phase::Pending, reason) if is_gated(reason) => SCHEDULING_GATED.into(),
        (Phase::Failed, Some(reason)) if crate::reconcile::admission::is_rejection(reason) => {
            reason.to_string()
        }
        (phase, _) => format!("{phase:?}"),
    }
}

/// The labels of a stored pod template (`metadata.labels`).
fn template_labels(template: &crate::model::json::Json) -> crate::model::labels::Labels {
    template
        .value()
        .pointer("/metadata/labels")
        .and_then(serde_json::Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect()
}

fn events(state: &State, for_object: Option<&str>, shape: Shape) -> Listing {
    let items: Vec<&crate::model::state::Event> = state
        .events
        .iter()
        .filter(|e| for_object.is_none_or(|wanted| is_about(&e.object, wanted)))
        .collect();
    let mut listing = Listing {
        headers: vec!["TIME", "TYPE", "REASON", "OBJECT", "MESSAGE"],
        marker: 1,
        append_only: true,
        ..Listing::default()
    };
    let cells = |_, e: &&crate::model::state::Event| {
        vec![
            render::duration(e.time),
            format!("{:?}", e.kind),
            e.reason.to_string(),
            e.object.clone(),
            e.message.clone(),
        ]
    };
    fill(
        &mut listing,
        "EventList",
        items,
        |e| e.object.clone(),
        cells,
        shape,
    );
    listing
}
