//! `orch get nodes|workloads|replicas|events|pvc|pv|nodegroups|hpa`: what the state file holds, as
//! kubectl would list it; with `-w` the table stays open and prints the rows
//! that change. Read-only; takes no lock.

mod hpa;
mod listing;
mod live;
mod nodegroups;
mod storage;

pub use listing::{Listing, Row, Shape};
pub use live::Live;

use super::shared::{out, out_document_text};
use super::{Context, Exit};
use crate::manifest::{self, ParseOptions, parse_duration};
use crate::model::labels::LabelSelector;
use crate::model::state::State;
use crate::model::workload::Desired;
use crate::render::tables::table;
use crate::state_store;
use anyhow::{Result, anyhow};
use std::time::Duration;

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
    /// PersistentVolumeClaims.
    #[value(
        name = "pvc",
        alias = "pvcs",
        alias = "persistentvolumeclaims",
        alias = "persistentvolumeclaim",
        alias = "claims"
    )]
    Claims,
    /// PersistentVolumes.
    #[value(
        name = "pv",
        alias = "pvs",
        alias = "persistentvolumes",
        alias = "persistentvolume",
        alias = "volumes"
    )]
    Volumes,
    /// NodeGroups (orch.dev/v1), scaled by their autoscaler.
    #[value(name = "nodegroups", alias = "nodegroup", alias = "ng")]
    NodeGroups,
    /// HorizontalPodAutoscalers.
    #[value(
        name = "hpa",
        alias = "hpas",
        alias = "horizontalpodautoscaler",
        alias = "horizontalpodautoscalers"
    )]
    Hpa,
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
    /// After listing, watch the state file and print each row that changes, appears or is
    /// deleted; with `-o json|yaml` one watch event (ADDED, MODIFIED, DELETED) per object.
    #[arg(short = 'w', long)]
    pub watch: bool,
    /// With `-w`: stop after this much wall-clock time (`30`, `30s`, `2m`), exit 0.
    #[arg(long, value_parser = wall_seconds, requires = "watch")]
    pub watch_timeout: Option<Duration>,
}

/// A wall-clock span: plain seconds (`2.5`) or a duration (`30s`, `1m`).
fn wall_seconds(text: &str) -> Result<Duration, String> {
    let seconds = match text.trim().parse::<f64>() {
        Ok(seconds) => Some(seconds),
        Err(_) => parse_duration(text).map(|s| s as f64),
    };
    seconds
        .filter(|s| s.is_finite() && *s > 0.0 && *s < 1e9)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| format!("`{text}` is not a number of seconds or a duration such as 30s"))
}

/// The parsed filters of a listing.
#[derive(Debug, Clone)]
pub struct Filters {
    pub resource: Resource,
    pub selector: Option<LabelSelector>,
    pub for_object: Option<String>,
}

impl Filters {
    pub fn new(
        resource: Resource,
        selector: Option<&str>,
        for_object: Option<String>,
    ) -> Result<Filters> {
        let selector = selector
            .map(|text| LabelSelector::parse(text).map_err(|e| anyhow!("-l {text}: {e}")))
            .transpose()?;
        Ok(Filters {
            resource,
            selector,
            for_object,
        })
    }

    /// The listing of `state` through these filters.
    pub fn listing(&self, state: &State, shape: Shape) -> Result<Listing> {
        let desired = stored_desired(state)?;
        Ok(listing::listing(
            state,
            &desired,
            self.resource,
            self.selector.as_ref(),
            self.for_object.as_deref(),
            shape,
        ))
    }
}

pub fn run(context: &Context, args: GetArgs) -> Result<Exit> {
    let filters = Filters::new(args.resource, args.selector.as_deref(), args.for_object)?;
    if args.watch {
        return live::follow(context, filters, args.watch_timeout);
    }
    let state = state_store::load(&context.state)?;
    let listing = filters.listing(&state, Shape::of(context.output, false))?;
    if context.output.is_document() {
        out_document_text(&listing.document);
    } else if listing.rows.is_empty() {
        eprintln!("No resources found.");
    } else {
        let rows = listing.rows.into_iter().map(|r| r.cells).collect();
        out(&table(&listing.headers, rows));
    }
    Ok(Exit::Success)
}

/// The workloads as last applied, rebuilt from the specs stored in the state.
pub(super) fn stored_desired(state: &State) -> Result<Desired> {
    let mut desired = stored_workloads(state)?;
    desired.node_groups = crate::autoscale::nodegroup::controller::stored_groups(state);
    Ok(desired)
}

/// The workloads as last applied (`stored_desired` without the node groups).
fn stored_workloads(state: &State) -> Result<Desired> {
    if state.workloads.is_empty() {
        return Ok(Desired::default());
    }
    let names: Vec<String> = state
        .workloads
        .iter()
        .map(|w| format!("{} (stored in state)", w.id()))
        .collect();
    let objects = names
        .iter()
        .map(String::as_str)
        .zip(state.workloads.iter().map(|w| w.spec.value()));
    manifest::parse_stored(objects, &ParseOptions { strict: false })
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
