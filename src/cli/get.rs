//! `orch get nodes|workloads|replicas`: what the state file holds, as kubectl
//! would list it. Read-only; takes no lock.

use super::shared::out;
use super::{Context, Exit};
use crate::manifest::{self, ParseOptions};
use crate::model::labels::LabelSelector;
use crate::model::resources::{Resources, resource_map};
use crate::model::state::State;
use crate::model::workload::Desired;
use crate::reconcile::{Catalog, summarize};
use crate::render::documents::{self, NodeItem, ReplicaItem, WorkloadItem};
use crate::render::{self, Format, tables::table};
use crate::sources::Source;
use crate::state_store;
use anyhow::{Result, anyhow};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Resource {
    #[value(alias = "node", alias = "no")]
    Nodes,
    #[value(
        alias = "workload",
        alias = "deployments",
        alias = "deploy",
        alias = "daemonsets",
        alias = "ds"
    )]
    Workloads,
    #[value(alias = "replica", alias = "pods", alias = "pod", alias = "po")]
    Replicas,
    #[value(alias = "event", alias = "ev")]
    Events,
}

#[derive(Debug, clap::Args)]
pub struct GetArgs {
    /// What to list.
    #[arg(value_enum)]
    pub resource: Resource,
    /// Label selector (`app=api,tier!=batch,env in (prod,stage),!canary`); nodes match their
    /// labels, replicas their workload's pod template labels.
    #[arg(short = 'l', long = "selector")]
    pub selector: Option<String>,
    /// Events only: those about this object (`Replica/NAME`, `Node/NAME`,
    /// `Deployment/NAME`, `Deployment/NAMESPACE/NAME`, or a bare name).
    #[arg(long = "for")]
    pub for_object: Option<String>,
}

pub fn run(context: &Context, args: GetArgs) -> Result<Exit> {
    let state = state_store::load(&context.state)?;
    let selector = args
        .selector
        .as_deref()
        .map(|text| LabelSelector::parse(text).map_err(|e| anyhow!("-l {text}: {e}")))
        .transpose()?;
    let desired = stored_desired(&state)?;
    let text = match args.resource {
        Resource::Nodes => nodes(&state, &desired, selector.as_ref(), context.output),
        Resource::Workloads => workloads(&state, &desired, selector.as_ref(), context.output),
        Resource::Replicas => replicas(&state, &desired, selector.as_ref(), context.output),
        Resource::Events => events(&state, args.for_object.as_deref(), context.output),
    };
    if !context.output.is_document() && text.lines().count() <= 1 {
        eprintln!("No resources found.");
    } else {
        out(&text);
    }
    Ok(Exit::Success)
}

/// The workloads as last applied, rebuilt from the specs stored in the state.
pub(super) fn stored_desired(state: &State) -> Result<Desired> {
    let sources: Vec<Source> = state
        .workloads
        .iter()
        .map(|w| Source {
            name: format!("{} (stored in state)", w.id()),
            text: serde_json::to_string(&w.spec).unwrap_or_default(),
        })
        .collect();
    if sources.is_empty() {
        return Ok(Desired::default());
    }
    manifest::parse(&sources, &ParseOptions { strict: false })
        .map(|loaded| loaded.desired)
        .map_err(|diagnostics| {
            let lines: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
            anyhow!(
                "the state holds a workload spec orch cannot read:\n{}",
                lines.join("\n")
            )
        })
}

fn pod_labels<'a>(
    desired: &'a Desired,
    workload: &crate::model::workload::ObjectRef,
) -> Option<&'a crate::model::labels::Labels> {
    desired
        .workloads
        .iter()
        .find(|w| &w.id == workload)
        .map(|w| &w.pod.labels)
}

fn nodes(
    state: &State,
    desired: &Desired,
    selector: Option<&LabelSelector>,
    format: Format,
) -> String {
    let catalog = Catalog::build(desired, state);
    let mut items = Vec::new();
    for node in &state.nodes {
        if selector.is_some_and(|s| !s.matches(&node.labels)) {
            continue;
        }
        let mut requested = Resources::default();
        let mut count = 0;
        for replica in state
            .replicas
            .iter()
            .filter(|r| r.node.as_deref() == Some(node.name.as_str()))
        {
            count += 1;
            if let Some(pod) = catalog.pod(&replica.workload, &replica.hash) {
                requested.add(&pod.requests);
            }
        }
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
    if format.is_document() {
        return render::document(&documents::list("NodeList", items), format);
    }
    let wide = format == Format::Wide;
    let mut headers = vec!["NAME", "STATUS", "CPU", "MEMORY", "PODS"];
    if wide {
        headers.extend(["ZONE", "TAINTS", "LABELS"]);
    }
    let rows = items
        .iter()
        .map(|item| {
            let mut status = if item.ready {
                "Ready".to_string()
            } else {
                "NotReady".to_string()
            };
            if item.unschedulable {
                status.push_str(",SchedulingDisabled");
            }
            let pair = |name: &str| {
                format!(
                    "{}/{}",
                    item.requested.get(name).map_or("0", String::as_str),
                    item.allocatable.get(name).map_or("0", String::as_str)
                )
            };
            let mut row = vec![
                item.name.clone(),
                status,
                pair("cpu"),
                pair("memory"),
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
        })
        .collect();
    table(&headers, rows)
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
    format: Format,
) -> String {
    let reports = summarize(desired, state, state.clock);
    let mut items = Vec::new();
    for (workload, report) in desired.workloads.iter().zip(&reports) {
        if selector.is_some_and(|s| !s.matches(&workload.labels)) {
            continue;
        }
        let revision = state
            .workload(&workload.id)
            .and_then(|w| w.current_revision())
            .map_or(0, |r| r.revision);
        items.push(WorkloadItem {
            object: &report.object,
            revision,
            counts: documents::workload(report),
        });
    }
    if format.is_document() {
        return render::document(&documents::list("WorkloadList", items), format);
    }
    let wide = format == Format::Wide;
    let mut headers = vec!["WORKLOAD", "READY", "UP-TO-DATE", "AVAILABLE", "REVISION"];
    if wide {
        headers.push("STATUS");
    }
    let rows = items
        .iter()
        .zip(
            reports
                .iter()
                .filter(|r| items.iter().any(|i| i.object == r.object)),
        )
        .map(|(item, report)| {
            let mut row = vec![
                item.object.to_string(),
                format!("{}/{}", item.counts.ready, item.counts.desired),
                item.counts.updated.to_string(),
                item.counts.available.to_string(),
                item.revision.to_string(),
            ];
            if wide {
                row.push(render::plan::status_word(report));
            }
            row
        })
        .collect();
    table(&headers, rows)
}

fn replicas(
    state: &State,
    desired: &Desired,
    selector: Option<&LabelSelector>,
    format: Format,
) -> String {
    let mut items = Vec::new();
    let mut ages = Vec::new();
    // Sorted by name, as kubectl lists pods.
    let mut sorted: Vec<_> = state.replicas.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    for replica in sorted {
        if let Some(selector) = selector {
            let labels = pod_labels(desired, &replica.workload);
            if !labels.is_some_and(|l| selector.matches(l)) {
                continue;
            }
        }
        ages.push(state.clock.saturating_sub(replica.created_at));
        items.push(ReplicaItem {
            name: replica.name.clone(),
            workload: replica.workload.to_string(),
            revision: replica.revision,
            node: replica.node.clone(),
            phase: replica.phase,
            ready: replica.ready,
            reason: replica.reason.clone(),
        });
    }
    if format.is_document() {
        return render::document(&documents::list("ReplicaList", items), format);
    }
    let wide = format == Format::Wide;
    let mut headers = vec!["NAME", "WORKLOAD", "READY", "STATUS", "NODE", "AGE"];
    if wide {
        headers.extend(["REVISION", "REASON"]);
    }
    let rows = items
        .iter()
        .zip(ages)
        .map(|(item, age)| {
            let mut row = vec![
                item.name.clone(),
                item.workload.clone(),
                if item.ready {
                    "1/1".into()
                } else {
                    "0/1".into()
                },
                format!("{:?}", item.phase),
                item.node.clone().unwrap_or_else(|| "<none>".into()),
                render::duration(age),
            ];
            if wide {
                row.push(item.revision.to_string());
                row.push(item.reason.clone().unwrap_or_else(|| "<none>".into()));
            }
            row
        })
        .collect();
    table(&headers, rows)
}

/// Whether an event's object is the one asked for.
fn is_about(object: &str, wanted: &str) -> bool {
    if object == wanted {
        return true;
    }
    if let Some(id) = crate::model::workload::ObjectRef::parse(wanted, "default") {
        return object == id.to_string();
    }
    object.rsplit('/').next() == Some(wanted)
}

fn events(state: &State, for_object: Option<&str>, format: Format) -> String {
    let items: Vec<&crate::model::state::Event> = state
        .events
        .iter()
        .filter(|e| for_object.is_none_or(|wanted| is_about(&e.object, wanted)))
        .collect();
    if format.is_document() {
        return render::document(&documents::list("EventList", items), format);
    }
    let rows = items
        .iter()
        .map(|e| {
            vec![
                render::duration(e.time),
                format!("{:?}", e.kind),
                e.reason.clone(),
                e.object.clone(),
                e.message.clone(),
            ]
        })
        .collect();
    table(&["TIME", "TYPE", "REASON", "OBJECT", "MESSAGE"], rows)
}
