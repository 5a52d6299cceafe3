//! How `bench run` measures: the manifests read as `-f` reads them, the
//! apply loop timed step by step, and the process's peak memory.

use crate::cli::persister::{Persister, persisting};
use crate::executor::{self, Outcome, RunOptions};
use crate::manifest::Loaded;
use crate::model::state::State;
use crate::reconcile::Action;
use crate::scheduler::Scheduler;
use crate::state_store;
use anyhow::Result;
use std::path::Path;
use std::time::{Duration, Instant};

pub(super) fn load(dir: &Path) -> Result<Loaded> {
    crate::cli::shared::load_manifests(
        &crate::cli::shared::ManifestArgs {
            files: vec![dir.display().to_string()],
            strict: false,
        },
        true,
    )
}

pub(super) struct LoopFigures {
    pub(super) outcome: &'static str,
    pub(super) steps: usize,
    pub(super) first_step: Duration,
    pub(super) first_step_binds: usize,
    pub(super) saving: Duration,
    /// How the replicas were scheduled (batched or one by one, and why).
    pub(super) scheduling: String,
}

/// The apply loop, timed: the first step (every replica scheduled) apart,
/// and the time the loop spent handing states to the saver (as `apply`
/// saves: in the background) apart.
pub(super) fn run_loop(
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
pub(super) fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Linux: the peak resident set size since the last reset, MiB.
pub(super) fn peak_memory_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}
