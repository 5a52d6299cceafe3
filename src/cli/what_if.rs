//! `orch what-if`: a hypothetical change (failed nodes or zones, added
//! nodes, scaled Deployments) simulated by the loop on a copy of the state,
//! which is read and never written; or, with `--all-zones` / `--all-nodes`,
//! every single failure in turn. Exit 3 when availability or a disruption
//! budget is lost, so CI can gate on resilience.

use super::apply::Scoring;
use super::shared::{ManifestArgs, load_manifests, out, out_document};
use super::{Context, Exit};
use crate::analysis::what_if::{self, Base, Report};
use crate::analysis::{self, AnalysisError};
use crate::executor::RunOptions;
use crate::manifest::tree::{self, Node};
use crate::model::workload::Desired;
use crate::reconcile::{Options, Prune};
use crate::render::report::Recorder;
use crate::render::{self, what_if::ScenarioDocument};
use crate::scheduler::{Scheduler, ScoringStrategy};
use crate::{sources, state_store};
use anyhow::{Result, anyhow, bail};

#[derive(Debug, clap::Args)]
pub struct WhatIfArgs {
    #[command(flatten)]
    pub manifests: ManifestArgs,
    /// Node that stops being ready, as with `orch node fail` (repeatable).
    #[arg(long = "fail-node", value_name = "NODE")]
    pub fail_nodes: Vec<String>,
    /// Every node labelled `topology.kubernetes.io/zone=ZONE` fails (repeatable).
    #[arg(long = "fail-zone", value_name = "ZONE")]
    pub fail_zones: Vec<String>,
    /// Node manifests to add to the fleet (repeatable).
    #[arg(long = "add-node", value_name = "FILE")]
    pub add_nodes: Vec<String>,
    /// A Deployment's replicas: `Deployment/NAME=N`, `Deployment/NAMESPACE/NAME=N` or `NAME=N` (repeatable).
    #[arg(long = "scale", value_name = "KIND/NAME=N")]
    pub scale: Vec<String>,
    /// One scenario per zone: which single zone failure hurts what.
    #[arg(long, conflicts_with_all = ["fail_nodes", "fail_zones", "all_nodes"])]
    pub all_zones: bool,
    /// One scenario per node: which single node failure hurts what.
    #[arg(long, conflicts_with_all = ["fail_nodes", "fail_zones"])]
    pub all_nodes: bool,
    /// Simulated seconds each run of the loop may take.
    #[arg(long, default_value_t = 3600)]
    pub timeout: u64,
    /// Node scoring for resources.
    #[arg(long, value_enum, default_value_t)]
    pub scoring: Scoring,
    #[command(flatten)]
    pub prune: PruneArgs,
    /// Also write a self-contained HTML report to FILE: the fleet before and after, the blast
    /// radius, pending replicas with each node's verdict.
    #[arg(long = "report", value_name = "FILE.html")]
    pub html: Option<std::path::PathBuf>,
}

/// `plan`'s pruning flags, for the commands that run the loop on a copy.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct PruneArgs {
    /// Keep workloads that were applied before but are absent from the -f set.
    #[arg(long, conflicts_with = "prune_all")]
    pub no_prune: bool,
    /// Remove every applied workload absent from the -f set, even when the set is empty.
    #[arg(long)]
    pub prune_all: bool,
}

impl PruneArgs {
    pub fn prune(self) -> Prune {
        if self.no_prune {
            Prune::Keep
        } else if self.prune_all {
            Prune::All
        } else {
            Prune::Auto
        }
    }
}

pub(super) fn scheduler(scoring: Scoring) -> Scheduler {
    Scheduler::new(match scoring {
        Scoring::LeastAllocated => ScoringStrategy::LeastAllocated,
        Scoring::MostAllocated => ScoringStrategy::MostAllocated,
    })
}

pub(super) fn run_options(timeout: u64, prune: PruneArgs) -> RunOptions {
    RunOptions {
        reconcile: Options {
            prune: prune.prune(),
            ..Default::default()
        },
        timeout,
        ..Default::default()
    }
}

pub fn run(context: &Context, args: WhatIfArgs) -> Result<Exit> {
    if let Some(stdin) = args.add_nodes.iter().find(|f| f.as_str() == "-") {
        bail!("--add-node {stdin}: give a file or directory of Node manifests");
    }
    // The added nodes are read with the -f set, so a node declared twice is
    // reported where it is written.
    let mut files = args.manifests.files.clone();
    files.extend(args.add_nodes.iter().cloned());
    // The state is read while the manifests are parsed; their errors, and
    // the arguments', still come first.
    let (loaded, state) = std::thread::scope(|scope| {
        let state = scope.spawn(|| state_store::load(&context.state));
        let loaded = load_manifests(
            &ManifestArgs {
                files,
                strict: args.manifests.strict,
            },
            context.quiet,
        );
        (
            loaded,
            state.join().expect("reading the state never panics"),
        )
    });
    let loaded = loaded?;
    if let Some(path) = &args.html {
        super::report::refuse_state(context, path)?;
        super::report::writable_directory(path)?;
    }
    let added = added_node_names(&args.add_nodes)?;
    let state = state?;
    let scale = args
        .scale
        .iter()
        .map(|text| analysis::parse_scale(&loaded.desired, text))
        .collect::<Result<Vec<_>, AnalysisError>>()?;
    let scheduler = scheduler(args.scoring);
    let options = run_options(args.timeout, args.prune);
    let converging = super::terminal::spinner(context, "converging the base state");
    let base = what_if::prepare(&loaded.desired, state, &added, &scale, &scheduler, &options);
    converging.finish_and_clear();
    let base = base?;
    let mut scenario = ScenarioDocument {
        fail_nodes: args.fail_nodes.clone(),
        fail_zones: args.fail_zones.clone(),
        add_nodes: added,
        scale: base.scale.iter().map(Into::into).collect(),
        failure_domain: None,
    };
    if args.all_zones || args.all_nodes {
        let domain = if args.all_zones { "zone" } else { "node" };
        scenario.failure_domain = Some(domain);
        return every_failure(context, &args, &base, &scenario, &scheduler, &options);
    }
    one_scenario(context, &args, &base, &scenario, &scheduler, &options)
}

/// `--all-zones` / `--all-nodes`: every single failure of the domain the
/// scenario names, one at a time; exit 3 unless each leaves availability.
fn every_failure(
    context: &Context,
    args: &WhatIfArgs,
    base: &Base,
    scenario: &ScenarioDocument,
    scheduler: &Scheduler,
    options: &RunOptions,
) -> Result<Exit> {
    let domain = if args.all_zones { "zone" } else { "node" };
    // The table names only the workloads a failure touches; the
    // documents and the report list every workload of every failure.
    let every_workload = context.output.is_document() || args.html.is_some();
    let failures = every_single_failure(
        context,
        base,
        args.all_zones,
        every_workload,
        scheduler,
        options,
    );
    if context.output.is_document() {
        out_document(
            &render::what_if::resilience_document(scenario, &failures),
            context.output,
        );
    } else {
        out(&render::what_if::resilience(
            domain,
            &failures,
            context.output == render::Format::Wide,
        ));
    }
    if let Some(path) = &args.html {
        let mut recorder = Recorder::new(&base.desired, &base.state, "orch what-if", "what-if");
        recorder.reports(&crate::reconcile::summarize(
            &base.desired,
            &base.state,
            base.state.clock,
        ));
        recorder.events(&base.state);
        recorder.data.outcome = if failures.iter().all(|(_, r)| r.resilient()) {
            "Resilient"
        } else {
            "Degraded"
        }
        .to_string();
        let mut document =
            serde_json::to_value(render::what_if::resilience_document(scenario, &failures))?;
        document["headline"] = format!("Every single {domain} failure, one at a time").into();
        recorder.data.what_if = Some(document);
        write_report(context, path, &recorder)?;
    }
    Ok(Exit::from_check(
        failures.iter().all(|(_, r)| r.resilient()),
    ))
}

/// The failures and changes the flags name, as one scenario: its table or
/// document, and the report; exit 3 unless it leaves availability.
fn one_scenario(
    context: &Context,
    args: &WhatIfArgs,
    base: &Base,
    scenario: &ScenarioDocument,
    scheduler: &Scheduler,
    options: &RunOptions,
) -> Result<Exit> {
    let failed = what_if::failures(&base.state, &args.fail_nodes, &args.fail_zones)?;
    let mut recorder = args
        .html
        .as_ref()
        .map(|_| Recorder::new(&base.desired, &base.state, "orch what-if", "what-if"));
    let (report, after) =
        what_if::scenario_watched(base, &failed, scheduler, options, |state, step| {
            if let (Some(recorder), Some(step)) = (&mut recorder, step) {
                recorder.step(state, step);
            }
        });
    if let (Some(path), Some(mut recorder)) = (&args.html, recorder) {
        recorder.reports(&crate::reconcile::summarize(
            &base.desired,
            &after,
            after.clock,
        ));
        recorder.events(&after);
        recorder.pending(&after, scheduler);
        recorder.data.outcome = if report.resilient() {
            "Resilient"
        } else {
            "Degraded"
        }
        .to_string();
        let line = headline(args, base, &failed, false);
        recorder.data.summary = line.clone();
        let mut document = serde_json::to_value(render::what_if::document(scenario, &report))?;
        document["headline"] = line.into();
        recorder.data.what_if = Some(document);
        write_report(context, path, &recorder)?;
    }
    if context.output.is_document() {
        out_document(
            &render::what_if::document(scenario, &report),
            context.output,
        );
    } else {
        out(&render::what_if::report(
            &headline(args, base, &failed, context.output == render::Format::Wide),
            &report,
        ));
    }
    Ok(Exit::from_check(report.resilient()))
}

fn write_report(context: &Context, path: &std::path::Path, recorder: &Recorder) -> Result<()> {
    super::report::refuse_state(context, path)?;
    super::report::write(
        path,
        render::report::html(&recorder.data).as_bytes(),
        "report",
    )?;
    super::report::note(context, "report", path);
    Ok(())
}

/// One scenario per zone (or node) of the base fleet (`what_if::Shared`).
/// Unless `every_workload`, each report keeps only the workloads its
/// failure touches (`WorkloadImpact::affected`): all the table shows, and
/// all that the verdict reads, in a fraction of the memory.
pub(super) fn every_single_failure(
    context: &Context,
    base: &Base,
    zones: bool,
    every_workload: bool,
    scheduler: &Scheduler,
    options: &RunOptions,
) -> Vec<(String, Report)> {
    let domains: Vec<(String, Vec<String>)> = if zones {
        what_if::zones(&base.state)
            .into_iter()
            .map(|zone| {
                let nodes = what_if::nodes_in_zone(&base.state, &zone);
                (zone, nodes)
            })
            .collect()
    } else {
        base.state
            .nodes
            .iter()
            .map(|n| (n.name.clone(), vec![n.name.clone()]))
            .collect()
    };
    // Scenarios share the base, and run independently of each other:
    // spread them over the cores.
    let shared = what_if::Shared::new(base, scheduler, options);
    let shared = &shared;
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, domains.len().max(1));
    let chunk = domains.len().div_ceil(threads).max(1);
    let progress = super::terminal::counter(context, domains.len() as u64, "what-if scenarios");
    let progress = &progress;
    let failures = std::thread::scope(|scope| {
        let workers: Vec<_> = domains
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(name, nodes)| {
                            let report = shared.scenario_of(nodes, every_workload);
                            progress.inc(1);
                            (name.clone(), report)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a scenario thread panicked"))
            .collect()
    });
    progress.finish_and_clear();
    failures
}

/// "What if zone zone-b fails (highmem-b2, node-b1) and …"
fn headline(args: &WhatIfArgs, base: &Base, failed: &[String], wide: bool) -> String {
    let mut parts = Vec::new();
    for zone in &args.fail_zones {
        let nodes = what_if::nodes_in_zone(&base.state, zone);
        // A zone of thousands of nodes is named by its first few (all with -o wide).
        let nodes = render::fit::first_of(&nodes, if wide { usize::MAX } else { 5 });
        parts.push(format!("zone {zone} fails ({nodes})"));
    }
    let in_zones: Vec<String> = args
        .fail_zones
        .iter()
        .flat_map(|z| what_if::nodes_in_zone(&base.state, z))
        .collect();
    let nodes: Vec<&String> = failed.iter().filter(|n| !in_zones.contains(n)).collect();
    match nodes.as_slice() {
        [] => {}
        [one] => parts.push(format!("node {one} fails")),
        many => parts.push(format!(
            "nodes {} fail",
            many.iter()
                .map(|n| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
    match base.added_nodes.as_slice() {
        [] => {}
        [one] => parts.push(format!("node {one} is added")),
        many => parts.push(format!("nodes {} are added", many.join(", "))),
    }
    for scale in &base.scale {
        parts.push(format!(
            "{} is scaled from {} to {}",
            scale.object, scale.from, scale.to
        ));
    }
    if parts.is_empty() {
        return "What if nothing changes: the manifests as plan would converge them.".to_string();
    }
    format!("What if {}:", parts.join(", and "))
}

/// The names of the nodes `--add-node` files declare; anything but a Node is
/// refused where it is written. (The files parsed cleanly with the -f set.)
fn added_node_names(files: &[String]) -> Result<Vec<String>> {
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let sources = sources::collect(files).map_err(|e| anyhow!("{e}"))?;
    let mut names = Vec::new();
    for source in &sources {
        let documents =
            tree::parse_documents(&source.text).map_err(|(line, column, message)| {
                anyhow!("{}:{line}:{column}: {message}", source.name)
            })?;
        for document in &documents {
            for object in objects(document) {
                let kind = object.get("kind").and_then(Node::as_str).unwrap_or("");
                if kind != "Node" {
                    let at = object.get("kind").unwrap_or(object);
                    bail!(
                        "{}:{}:{}: kind: --add-node takes Node objects; this is {}",
                        source.name,
                        at.line,
                        at.column,
                        if kind.is_empty() { "no object" } else { kind }
                    );
                }
                if let Some(name) = object
                    .get("metadata")
                    .and_then(|m| m.get("name"))
                    .and_then(Node::as_str)
                {
                    names.push(name.to_string());
                }
            }
        }
    }
    if names.is_empty() {
        bail!("--add-node {}: no Node manifests found", files.join(" "));
    }
    names.sort();
    Ok(names)
}

/// The objects of a document: itself, or the items of a `kind: List`.
fn objects(document: &Node) -> Vec<&Node> {
    if document.get("kind").and_then(Node::as_str) == Some("List") {
        match document.get("items").map(|items| &items.value) {
            Some(tree::Value::Seq(items)) => items.iter().collect(),
            _ => Vec::new(),
        }
    } else if matches!(document.value, tree::Value::Null) {
        Vec::new()
    } else {
        vec![document]
    }
}

/// Only the manifests: what `capacity` converges before probing.
pub(super) fn converge(
    desired: &Desired,
    context: &Context,
    scoring: Scoring,
    timeout: u64,
    prune: PruneArgs,
) -> Result<(Base, Scheduler)> {
    let state = state_store::load(&context.state)?;
    let scheduler = scheduler(scoring);
    let base = what_if::prepare(
        desired,
        state,
        &[],
        &[],
        &scheduler,
        &run_options(timeout, prune),
    )?;
    Ok((base, scheduler))
}
