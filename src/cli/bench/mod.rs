//! `orch bench generate` writes a synthetic fleet; `orch bench run` measures
//! the whole product on one, in this process, scenario by scenario: a cold
//! apply from empty to converged, a no-op plan, `capacity`,
//! `what-if --all-zones` and `what-if --all-nodes` on the converged state, a
//! DaemonSet rolled over every node, a rolling update of 10% of the workloads,
//! the failure of 1% of the nodes, and loading and saving the state in YAML
//! and JSON; with `--large`, also a cold apply and a no-op plan of 1,000,000
//! replicas on 20,000 nodes. Here the arguments, the session and its report;
//! each scenario in `scenarios`, the timing of the loop in `measure`, the HPA
//! figure in `autoscale`.

mod autoscale;
mod measure;
mod scenarios;

use super::{Context, Exit};
use crate::bench::{FleetSpec, Mix, generate};
use crate::render::{Format, tables::table};
use crate::scheduler::{Scheduler, ScoringStrategy};
use anyhow::{Context as _, Result, bail};
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Subcommand)]
pub enum BenchCommand {
    /// Write the manifests of a synthetic fleet (deterministic for a seed).
    Generate(GenerateArgs),
    /// Measure apply, plan, capacity, what-if, a rolling update, node failures and state I/O on a synthetic fleet.
    Run(RunArgs),
}

#[derive(Debug, clap::Args)]
pub struct FleetArgs {
    /// Nodes in the fleet.
    #[arg(long, default_value_t = 5000)]
    pub nodes: usize,
    /// Replicas in all, DaemonSet replicas included.
    #[arg(long, default_value_t = 150_000)]
    pub replicas: usize,
    /// Seed of the generator: the same seed gives the same fleet.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The workloads: the realistic mix, or one kind only.
    #[arg(long, value_enum, default_value_t)]
    pub mix: Mix,
    /// Percent of the workloads' replicas in StatefulSets with a claim per replica
    /// (provisioned in the zone of the node each replica lands on).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub stateful_percent: u8,
    /// Percent of the workloads generated as Jobs (completions = parallelism = their replicas).
    #[arg(long, value_name = "PERCENT", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=100))]
    pub jobs: u64,
}

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// Directory to write the manifests into (created; existing files are replaced).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum StateFormat {
    #[default]
    Json,
    Yaml,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// Format of the state file the scenarios write.
    #[arg(long, value_enum, default_value_t)]
    pub state_format: StateFormat,
    /// Keep the fleet and its state in this directory instead of a temporary one.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Also measure a cold apply and a no-op plan of 1,000,000 replicas on
    /// 20,000 nodes (about a minute, 2 GiB of memory and 300 MB of disk), and
    /// `what-if --all-nodes` and the DaemonSet roll on fleets of more than
    /// 1,000 nodes (minutes to hours).
    #[arg(long)]
    pub large: bool,
}

/// The largest fleet whose every single-node failure and DaemonSet roll
/// `bench run` measures without `--large`.
const ALL_NODES_LIMIT: usize = 1_000;

pub fn run(context: &Context, command: BenchCommand) -> Result<Exit> {
    match command {
        BenchCommand::Generate(args) => {
            let spec = spec(&args.fleet, 0)?;
            write_fleet(&args.out, spec)?;
            if !context.quiet {
                eprintln!(
                    "wrote a fleet of {} nodes and {} replicas to {}",
                    spec.nodes,
                    spec.replicas,
                    args.out.display()
                );
            }
            Ok(Exit::Success)
        }
        BenchCommand::Run(args) => bench_run(context, args),
    }
}

fn spec(args: &FleetArgs, updated_every: usize) -> Result<FleetSpec> {
    if args.nodes == 0 {
        bail!("--nodes must be at least 1");
    }
    Ok(FleetSpec {
        nodes: args.nodes,
        replicas: args.replicas,
        seed: args.seed,
        updated_every,
        mix: args.mix,
        stateful_percent: usize::from(args.stateful_percent),
        jobs_percent: args.jobs,
    })
}

fn write_fleet(dir: &Path, spec: FleetSpec) -> Result<()> {
    write_files(dir, generate(spec))
}

/// `files` (name, text), as `generate` makes them, written into `dir`.
fn write_files(dir: &Path, files: Vec<(String, String)>) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// One measured scenario.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Figure {
    pub scenario: String,
    pub seconds: f64,
    /// What else was measured: placements, rates, sizes.
    pub detail: String,
    /// Peak resident memory of the process during the scenario (Linux), MiB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_mib: Option<u64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    api_version: &'static str,
    kind: &'static str,
    nodes: usize,
    replicas: usize,
    seed: u64,
    cpus: usize,
    figures: Vec<Figure>,
}

/// The scenarios of one `bench run`, measured in turn on one fleet.
struct Session<'c> {
    context: &'c Context,
    dir: PathBuf,
    manifests: PathBuf,
    updated: PathBuf,
    state_path: PathBuf,
    scheduler: Scheduler,
    figures: Vec<Figure>,
}

fn bench_run(context: &Context, args: RunArgs) -> Result<Exit> {
    let spec = spec(&args.fleet, 0)?;
    let temp;
    let dir = match &args.dir {
        Some(dir) => dir.clone(),
        None => {
            temp = tempfile::tempdir().context("creating a temporary directory")?;
            temp.path().to_path_buf()
        }
    };
    let manifests = dir.join("fleet");
    let updated = dir.join("fleet-updated");
    write_fleet(&manifests, spec)?;
    write_fleet(
        &updated,
        FleetSpec {
            updated_every: 10,
            ..spec
        },
    )?;
    let state_path = dir.join(match args.state_format {
        StateFormat::Json => "state.json",
        StateFormat::Yaml => "state.yaml",
    });
    let _ = std::fs::remove_file(&state_path);
    let mut session = Session {
        context,
        dir,
        manifests,
        updated,
        state_path,
        scheduler: Scheduler::new(ScoringStrategy::LeastAllocated),
        figures: Vec::new(),
    };
    let progress = super::terminal::spinner(context, "benchmark: cold apply");
    let state = session.cold_apply()?;
    progress.set_message("benchmark: autoscaling");
    session.autoscaling(&state)?;
    progress.set_message("benchmark: no-op plan");
    session.noop_plan()?;
    progress.set_message("benchmark: capacity");
    session.capacity()?;
    progress.set_message("benchmark: what-if, every zone");
    session.what_if_all(true)?;
    // Every single-node failure grows with the square of the fleet: minutes
    // past a thousand nodes, so there it waits for `--large`.
    if spec.nodes <= ALL_NODES_LIMIT || args.large {
        progress.set_message("benchmark: what-if, every node");
        session.what_if_all(false)?;
    }
    // A DaemonSet rolls node by node, and each step is a pass over the
    // fleet: it too grows with the square of the fleet.
    if spec.nodes <= ALL_NODES_LIMIT || args.large {
        progress.set_message("benchmark: DaemonSet roll");
        session.daemonset_roll(spec, &state)?;
    }
    progress.set_message("benchmark: state file");
    session.state_io(&state)?;
    drop(state);
    progress.set_message("benchmark: rolling update");
    let loaded = session.rolling_update()?;
    progress.set_message("benchmark: node failure");
    session.node_failure(&loaded)?;
    drop(loaded);
    // The default fleet also measures its batch and prioritized variants.
    if spec.mix == Mix::Mixed && spec.jobs_percent == 0 {
        progress.set_message("benchmark: cold apply, 10% Jobs");
        session.cold_apply_variant(
            "cold apply (10% Jobs)",
            FleetSpec {
                jobs_percent: 10,
                ..spec
            },
        )?;
        progress.set_message("benchmark: cold apply, prioritized");
        session.cold_apply_variant(
            "cold apply (prioritized)",
            FleetSpec {
                mix: Mix::Prioritized,
                ..spec
            },
        )?;
    }
    if args.large {
        progress.set_message("benchmark: 1,000,000 replicas on 20,000 nodes");
        session.million(spec.seed)?;
    }
    progress.finish_and_clear();
    session.print(spec);
    Ok(Exit::Success)
}

impl Session<'_> {
    fn record(&mut self, figure: Figure) {
        if self.context.verbose > 0 {
            eprintln!(
                "{:<28} {:>8.3}s  {}",
                figure.scenario, figure.seconds, figure.detail
            );
        }
        self.figures.push(figure);
    }

    /// The report, as a document or a table.
    fn print(self, spec: FleetSpec) {
        let report = Report {
            api_version: crate::model::state::API_VERSION,
            kind: "BenchReport",
            nodes: spec.nodes,
            replicas: spec.replicas,
            seed: spec.seed,
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            figures: self.figures,
        };
        if self.context.output.is_document() {
            super::shared::out_document(&report, self.context.output);
        } else if self.context.output == Format::Table || self.context.output == Format::Wide {
            let rows = report
                .figures
                .iter()
                .map(|f| {
                    vec![
                        f.scenario.clone(),
                        format!("{:.3}", f.seconds),
                        f.peak_mib.map_or("-".into(), |m| m.to_string()),
                        f.detail.clone(),
                    ]
                })
                .collect();
            super::shared::out(&table(&["SCENARIO", "SECONDS", "PEAK MIB", "DETAIL"], rows));
        }
    }
}
