//! The scenarios of `bench run`, one method of `Session` each: what each
//! measures, on which fleet and state, and the figure it records.

use super::measure::{load, peak_memory_mib, reset_peak_memory, run_loop};
use super::{Figure, Session, autoscale, write_files, write_fleet};
use crate::analysis::{capacity, what_if};
use crate::bench::{FleetSpec, Mix};
use crate::manifest::Loaded;
use crate::model::state::State;
use crate::render;
use crate::scheduler::{Scheduler, ScoringStrategy};
use crate::state_store;
use anyhow::{Result, anyhow, bail};
use std::path::Path;
use std::time::Instant;

impl Session<'_> {
    /// Cold apply: parse, schedule every replica, run to convergence, save
    /// each step; then the first pass alone. The converged state.
    pub(super) fn cold_apply(&mut self) -> Result<State> {
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
    pub(super) fn cold_apply_variant(&mut self, scenario: &str, spec: FleetSpec) -> Result<()> {
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
    pub(super) fn noop_plan(&mut self) -> Result<()> {
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
    pub(super) fn capacity(&mut self) -> Result<()> {
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
    pub(super) fn what_if_all(&mut self, zones: bool) -> Result<()> {
        reset_peak_memory();
        let started = Instant::now();
        let base = self.converged_base()?;
        let options = crate::cli::what_if::run_options(3600, Default::default());
        let failures = crate::cli::what_if::every_single_failure(
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
        let options = crate::cli::what_if::run_options(3600, Default::default());
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
    pub(super) fn state_io(&mut self, state: &State) -> Result<()> {
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
    pub(super) fn rolling_update(&mut self) -> Result<Loaded> {
        let (updated, state_path) = (self.updated.clone(), self.state_path.clone());
        self.roll("rolling update (10%)".into(), &updated, &state_path)
    }

    /// Apply `fleet` to the state at `path`, every step saved, as the figure
    /// `scenario` (its outcome, steps and simulated time); the manifests.
    fn roll(&mut self, scenario: String, fleet: &Path, path: &Path) -> Result<Loaded> {
        reset_peak_memory();
        let started = Instant::now();
        let loaded = load(fleet)?;
        let lock = state_store::lock(path, false)?;
        let mut state = lock.load()?;
        let clock = state.clock;
        let roll = run_loop(&loaded, &mut state, &self.scheduler, Some(&lock))?;
        drop(lock);
        self.record(Figure {
            scenario,
            seconds: started.elapsed().as_secs_f64(),
            detail: format!(
                "{}, {} steps, {} simulated, saves {:.2}s",
                roll.outcome,
                roll.steps,
                render::duration(state.clock - clock),
                roll.saving.as_secs_f64()
            ),
            peak_mib: peak_memory_mib(),
        });
        Ok(loaded)
    }

    /// The DaemonSet on every node given a new image and rolled from the
    /// converged state node by node (`maxUnavailable: 1`: a delete, a
    /// create and a ready step per node), every step saved to a state of
    /// its own; it and the fleet are removed after. Nothing when the fleet
    /// has no such DaemonSet.
    pub(super) fn daemonset_roll(&mut self, spec: FleetSpec, converged: &State) -> Result<()> {
        let mut files = crate::bench::generate(spec);
        if !crate::bench::roll_daemonset(&mut files) {
            return Ok(());
        }
        let dir = self.dir.join("daemonset");
        let fleet = dir.join("fleet");
        write_files(&fleet, files)?;
        let state_path = dir.join(self.state_path.file_name().unwrap_or("state.json".as_ref()));
        state_store::lock(&state_path, false)?.save(converged)?;
        let scenario = format!("DaemonSet roll ({} nodes)", converged.nodes.len());
        self.roll(scenario, &fleet, &state_path)?;
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }

    /// 1% of the nodes fail; their replicas are evicted and placed elsewhere.
    pub(super) fn node_failure(&mut self, loaded: &Loaded) -> Result<()> {
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
    pub(super) fn million(&mut self, seed: u64) -> Result<()> {
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
    pub(super) fn autoscaling(&mut self, converged: &State) -> Result<()> {
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
