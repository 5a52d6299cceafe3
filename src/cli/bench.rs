//! `orch bench generate` writes a synthetic fleet; `orch bench run` measures
//! the whole product on one, in this process, scenario by scenario: a cold
//! apply from empty to converged, a no-op plan, `capacity`,
//! `what-if --all-zones` and `what-if --all-nodes` on the converged state, a
//! rolling update of 10% of the workloads, the failure of 1% of the nodes, and
//! loading and saving the state in YAML and JSON; with `--large`, also a cold
//! apply and a no-op plan of 1,000,000 replicas on 20,000 nodes.

mod autoscale;

use super::persister::{Persister, persisting};
use super::{Context, Exit};
use crate::analysis::{capacity, what_if};
use crate::bench::{FleetSpec, Mix, generate};
use crate::executor::{self, Outcome, RunOptions};
use crate::manifest::Loaded;
use crate::model::state::State;
use crate::reconcile::Action;
use crate::render::{self, Format, tables::table};
use crate::scheduler::{Scheduler, ScoringStrategy};
use crate::state_store;
use anyhow::{Context as _, Result, anyhow, bail};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

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
    /// `what-if --all-nodes` on fleets of more than 1,000 nodes (minutes).
    #[arg(long)]
    pub large: bool,
}

/// The largest fleet whose every single-node failure `bench run` measures
/// without `--large`.
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
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for (name, text) in generate(spec) {
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

    /// Cold apply: parse, schedule every replica, run to convergence, save
    /// each step; then the first pass alone. The converged state.
    fn cold_apply(&mut self) -> Result<State> {
        reset_peak_memory();
        let started = Instant::now();
        let loaded = load(&self.manifests)?;
        let parsed = started.elapsed();
        let lock = state_store::lock(&self.state_path, false)?;
        let mut state = lock.load()?;
        let apply = run_loop(&loaded, &mut state, &self.scheduler, Some(&lock))?;
        drop(lock);
        let total = started.elapsed();
        let placements = apply.first_step_binds;
        self.record(Figure {
            scenario: "cold apply".into(),
            seconds: total.as_secs_f64(),
            detail: format!(
                "{} replicas on {} nodes, {}; parse {:.2}s, {} steps, saves {:.2}s; {}",
                state.replicas.len(),
                state.nodes.len(),
                apply.outcome,
                parsed.as_secs_f64(),
                apply.steps,
                apply.saving.as_secs_f64(),
                apply.scheduling,
            ),
            peak_mib: peak_memory_mib(),
        });
        self.record(Figure {
            scenario: "scheduling (first pass)".into(),
            seconds: apply.first_step.as_secs_f64(),
            detail: format!(
                "{placements} placements, {:.0} placements/s",
                placements as f64 / apply.first_step.as_secs_f64().max(1e-9)
            ),
            peak_mib: None,
        });
        Ok(state)
    }

    /// A cold apply of another fleet (a variant of the session's) to a
    /// state of its own, both removed after.
    fn cold_apply_variant(&mut self, scenario: &str, spec: FleetSpec) -> Result<()> {
        let manifests = self.dir.join("fleet-variant");
        let state_path = self.dir.join("state-variant.json");
        let _ = std::fs::remove_dir_all(&manifests);
        let _ = std::fs::remove_file(&state_path);
        write_fleet(&manifests, spec)?;
        reset_peak_memory();
        let started = Instant::now();
        let loaded = load(&manifests)?;
        let lock = state_store::lock(&state_path, false)?;
        let mut state = lock.load()?;
        let apply = run_loop(&loaded, &mut state, &self.scheduler, Some(&lock))?;
        drop(lock);
        self.record(Figure {
            scenario: scenario.into(),
            seconds: started.elapsed().as_secs_f64(),
            detail: format!(
                "{} replicas on {} nodes, {}; {} steps, saves {:.2}s",
                state.replicas.len(),
                state.nodes.len(),
                apply.outcome,
                apply.steps,
                apply.saving.as_secs_f64(),
            ),
            peak_mib: peak_memory_mib(),
        });
        let _ = std::fs::remove_dir_all(&manifests);
        let _ = std::fs::remove_file(&state_path);
        Ok(())
    }

    /// No-op plan: what `orch plan` does on the converged state.
    fn noop_plan(&mut self) -> Result<()> {
        reset_peak_memory();
        let started = Instant::now();
        // As `orch plan`: the state loads on a second core while the manifests are read.
        let state_path = &self.state_path;
        let (loaded, planned) = std::thread::scope(|scope| {
            let state = scope.spawn(|| state_store::load(state_path));
            (load(&self.manifests), state.join())
        });
        let loaded = loaded?;
        let mut planned = planned.map_err(|_| anyhow!("loading the state failed"))??;
        let plan = run_loop(&loaded, &mut planned, &self.scheduler, None)?;
        self.record(Figure {
            scenario: "no-op plan".into(),
            seconds: started.elapsed().as_secs_f64(),
            detail: format!("{}, {} steps", plan.outcome, plan.steps),
            peak_mib: peak_memory_mib(),
        });
        Ok(())
    }

    /// `orch capacity` on the converged state: every workload probed.
    fn capacity(&mut self) -> Result<()> {
        reset_peak_memory();
        let started = Instant::now();
        let base = self.converged_base()?;
        let headroom = capacity::headroom(
            &base.desired,
            &base.state,
            &self.scheduler,
            &[],
            capacity::PROBE_LIMIT,
        );
        let probed = headroom.iter().filter(|h| h.fits.is_some()).count();
        let capped = headroom.iter().filter(|h| h.capped).count();
        self.record(Figure {
            scenario: "capacity".into(),
            seconds: started.elapsed().as_secs_f64(),
            detail: format!(
                "{probed} workloads probed, {capped} with room for {} more",
                capacity::PROBE_LIMIT
            ),
            peak_mib: peak_memory_mib(),
        });
        Ok(())
    }

    /// `orch what-if --all-zones` (or `--all-nodes`, every single-node
    /// failure) on the converged state.
    fn what_if_all(&mut self, zones: bool) -> Result<()> {
        reset_peak_memory();
        let started = Instant::now();
        let base = self.converged_base()?;
        let options = super::what_if::run_options(3600, Default::default());
        let failures = super::what_if::every_single_failure(
            self.context,
            &base,
            zones,
            false,
            &self.scheduler,
            &options,
        );
        let resilient = failures.iter().filter(|(_, r)| r.resilient()).count();
        let domain = if zones { "zones" } else { "nodes" };
        self.record(Figure {
            scenario: format!("what-if --all-{domain}"),
            seconds: started.elapsed().as_secs_f64(),
            detail: format!(
                "{} {domain}, {resilient} of them survivable",
                failures.len()
            ),
            peak_mib: peak_memory_mib(),
        });
        Ok(())
    }

    /// The manifests and the saved state, converged in memory (as the
    /// analysis commands start).
    fn converged_base(&self) -> Result<what_if::Base> {
        let loaded = load(&self.manifests)?;
        let state = state_store::load(&self.state_path)?;
        let options = super::what_if::run_options(3600, Default::default());
        Ok(what_if::prepare(
            &loaded.desired,
            state,
            &[],
            &[],
            &self.scheduler,
            &options,
        )?)
    }

    /// State I/O in both formats: save, then load back and compare.
    fn state_io(&mut self, state: &State) -> Result<()> {
        for (format, name) in [("YAML", "state-io.yaml"), ("JSON", "state-io.json")] {
            let path = self.dir.join(name);
            let _ = std::fs::remove_file(&path);
            let lock = state_store::lock(&path, false)?;
            let started = Instant::now();
            lock.save(state)?;
            let saved = started.elapsed();
            drop(lock);
            let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            let started = Instant::now();
            let loaded_back = state_store::load(&path)?;
            let loading = started.elapsed();
            if loaded_back != *state {
                bail!("the {format} state did not load back as it was saved");
            }
            for (what, took) in [("save", saved), ("load", loading)] {
                self.record(Figure {
                    scenario: format!("state {what} ({format})"),
                    seconds: took.as_secs_f64(),
                    detail: format!("{:.1} MiB", size as f64 / (1 << 20) as f64),
                    peak_mib: None,
                });
            }
        }
        Ok(())
    }

    /// A rolling update of every tenth Deployment; the updated manifests.
    fn rolling_update(&mut self) -> Result<Loaded> {
        reset_peak_memory();
        let started = Instant::now();
        let loaded = load(&self.updated)?;
        let lock = state_store::lock(&self.state_path, false)?;
        let mut state = lock.load()?;
        let clock = state.clock;
        let update = run_loop(&loaded, &mut state, &self.scheduler, Some(&lock))?;
        drop(lock);
        self.record(Figure {
            scenario: "rolling update (10%)".into(),
            seconds: started.elapsed().as_secs_f64(),
            detail: format!(
                "{}, {} steps, {} simulated, saves {:.2}s",
                update.outcome,
                update.steps,
                render::duration(state.clock - clock),
                update.saving.as_secs_f64()
            ),
            peak_mib: peak_memory_mib(),
        });
        Ok(loaded)
    }

    /// 1% of the nodes fail; their replicas are evicted and placed elsewhere.
    fn node_failure(&mut self, loaded: &Loaded) -> Result<()> {
        reset_peak_memory();
        let started = Instant::now();
        let lock = state_store::lock(&self.state_path, false)?;
        let mut state = lock.load()?;
        let clock = state.clock;
        let mut names: Vec<String> = state.nodes.iter().map(|n| n.name.clone()).collect();
        names.sort();
        let failed: Vec<String> = names
            .into_iter()
            .step_by(100)
            .filter(|name| !name.starts_with("gpu-"))
            .collect();
        state.fail_nodes(&failed);
        let failure = run_loop(loaded, &mut state, &self.scheduler, Some(&lock))?;
        drop(lock);
        self.record(Figure {
            scenario: "node failure (1%)".into(),
            seconds: started.elapsed().as_secs_f64(),
            detail: format!(
                "{} nodes, {}, {} steps, {} simulated",
                failed.len(),
                failure.outcome,
                failure.steps,
                render::duration(state.clock - clock)
            ),
            peak_mib: peak_memory_mib(),
        });
        Ok(())
    }

    /// Cold apply and no-op plan of 1,000,000 replicas on 20,000 nodes, in a
    /// directory of their own (removed after).
    fn million(&mut self, seed: u64) -> Result<()> {
        let dir = self.dir.join("million");
        let spec = large_fleet(20_000, 1_000_000, seed);
        let mut large = self.beside(&dir, spec)?;
        drop(large.cold_apply()?);
        large.noop_plan()?;
        for mut figure in large.figures {
            figure.scenario = format!("{} (1M on 20k)", figure.scenario);
            self.figures.push(figure);
        }
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }

    /// A session on another fleet, written into `dir`, with an empty state.
    fn beside(&self, dir: &Path, spec: FleetSpec) -> Result<Session<'_>> {
        let manifests = dir.join("fleet");
        write_fleet(&manifests, spec)?;
        let state_path = dir.join("state.json");
        let _ = std::fs::remove_file(&state_path);
        Ok(Session {
            context: self.context,
            dir: dir.to_path_buf(),
            updated: manifests.clone(),
            manifests,
            state_path,
            scheduler: Scheduler::new(ScoringStrategy::LeastAllocated),
            figures: Vec::new(),
        })
    }

    /// 2,000 HPAs over an hour of demand (240 syncs each) on a copy of the
    /// converged fleet, in memory.
    fn autoscaling(&mut self, converged: &State) -> Result<()> {
        let mut state = converged.clone();
        let loaded = load(&self.manifests)?;
        let (desired, count) = autoscale::with_autoscalers(&loaded.desired);
        reset_peak_memory();
        let started = Instant::now();
        let (outcome, steps, rescales) = autoscale::run(&desired, &mut state, &self.scheduler);
        self.record(Figure {
            scenario: format!("{count} HPAs, --advance 1h"),
            seconds: started.elapsed().as_secs_f64(),
            detail: format!(
                "{} syncs each, {outcome}, {steps} steps, {rescales} rescales",
                autoscale::WINDOW / crate::autoscale::hpa::SYNC_PERIOD
            ),
            peak_mib: peak_memory_mib(),
        });
        Ok(())
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

/// The default mix on a fleet of the given size.
fn large_fleet(nodes: usize, replicas: usize, seed: u64) -> FleetSpec {
    FleetSpec {
        nodes,
        replicas,
        seed,
        updated_every: 0,
        mix: Mix::Mixed,
        stateful_percent: 0,
        jobs_percent: 0,
    }
}

fn load(dir: &Path) -> Result<Loaded> {
    super::shared::load_manifests(
        &super::shared::ManifestArgs {
            files: vec![dir.display().to_string()],
            strict: false,
        },
        true,
    )
}

struct LoopFigures {
    outcome: &'static str,
    steps: usize,
    first_step: Duration,
    first_step_binds: usize,
    saving: Duration,
    /// How the replicas were scheduled (batched or one by one, and why).
    scheduling: String,
}

/// The apply loop, timed: the first step (every replica scheduled) apart,
/// and the time the loop spent handing states to the saver (as `apply`
/// saves: in the background) apart.
fn run_loop(
    loaded: &Loaded,
    state: &mut State,
    scheduler: &Scheduler,
    lock: Option<&state_store::StateLock>,
) -> Result<LoopFigures> {
    let started = Instant::now();
    let mut first_step = None;
    let mut saving = Duration::ZERO;
    let mut run = |persister: Option<&mut Persister>| {
        let mut persister = persister;
        executor::run(
            &loaded.desired,
            state,
            scheduler,
            &RunOptions::default(),
            |state, _| {
                first_step.get_or_insert_with(|| started.elapsed());
                if let Some(persister) = persister.as_deref_mut() {
                    let at = Instant::now();
                    persister.save(state)?;
                    saving += at.elapsed();
                }
                Ok::<(), anyhow::Error>(())
            },
        )
    };
    let result = match lock {
        Some(lock) => persisting(lock, |persister| run(Some(persister)))?,
        None => run(None)?,
    };
    let first_step_binds = result.steps.first().map_or(0, |step| {
        step.actions
            .iter()
            .filter(|a| matches!(a, Action::Bind { .. }))
            .count()
    });
    Ok(LoopFigures {
        outcome: match result.outcome {
            Outcome::NoChanges => "no changes",
            Outcome::Converged => "converged",
            Outcome::Blocked => "blocked",
            Outcome::Timeout => "timeout",
        },
        steps: result.steps.len(),
        first_step: first_step.unwrap_or_else(|| started.elapsed()),
        first_step_binds,
        saving,
        scheduling: crate::render::plan::scheduling(&result.scheduling),
    })
}

/// Linux: reset the peak resident set size (`VmHWM`) to the current one.
fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Linux: the peak resident set size since the last reset, MiB.
fn peak_memory_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}
