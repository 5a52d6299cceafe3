//! `--report FILE.html` and `--summary FILE`: the visual report and the
//! Markdown summary of a run (`plan`, `apply`; `what-if` writes a report).
//! A `Visual` is fed every step of the loop and keeps only per-step
//! aggregates; the files are written once the run has ended, each replaced
//! atomically. Under `-o github`, `$GITHUB_STEP_SUMMARY` (when set) gets
//! the summary appended, as GitHub Actions expects.

use super::Context;
use crate::executor::{RunResult, Step};
use crate::model::state::State;
use crate::model::workload::Desired;
use crate::render::{self, Format, report::Recorder};
use crate::scheduler::Scheduler;
use crate::state_store;
use anyhow::{Context as _, Result, bail};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, clap::Args)]
pub struct VisualArgs {
    /// Also write a self-contained HTML report to FILE: convergence per workload, the fleet
    /// at every step, pending replicas with each node's verdict, the events.
    #[arg(long = "report", value_name = "FILE.html")]
    pub html: Option<PathBuf>,
    /// Also write a Markdown summary to FILE (outcome, workloads, blocked reasons, a Mermaid
    /// timeline); under `-o github` it is also appended to $GITHUB_STEP_SUMMARY when set.
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,
}

/// What a run records for its report, if one is asked for.
pub struct Visual<'a> {
    args: &'a VisualArgs,
    recorder: Option<Recorder<'a>>,
}

impl<'a> Visual<'a> {
    /// Before the run: `state` is frame 0.
    pub fn new(
        context: &Context,
        args: &'a VisualArgs,
        desired: &'a Desired,
        state: &State,
        command: &str,
    ) -> Result<Self> {
        for path in [&args.html, &args.summary].into_iter().flatten() {
            refuse_state(context, path)?;
            writable_directory(path)?;
        }
        let recorder = args
            .html
            .as_ref()
            .map(|_| Recorder::new(desired, state, &format!("orch {command}"), command));
        Ok(Visual { args, recorder })
    }

    /// The executor's callback: one step.
    pub fn step(&mut self, state: &State, step: Option<&Step>) {
        if let (Some(recorder), Some(step)) = (&mut self.recorder, step) {
            recorder.step(state, step);
        }
    }

    /// After the run: write what was asked for.
    pub fn finish(
        self,
        context: &Context,
        command: &str,
        result: &RunResult,
        state: &State,
        scheduler: &Scheduler,
        summary_line: &str,
    ) -> Result<()> {
        if let (Some(mut recorder), Some(path)) = (self.recorder, &self.args.html) {
            recorder.finish(result, state, summary_line);
            recorder.pending(state, scheduler);
            write(
                path,
                render::report::html(&recorder.data).as_bytes(),
                "report",
            )?;
            note(context, "report", path);
        }
        let github = context.output == Format::Github
            && std::env::var_os("GITHUB_STEP_SUMMARY").is_some_and(|p| !p.is_empty());
        if self.args.summary.is_some() || github {
            let text = render::summary::markdown(command, result, summary_line);
            if let Some(path) = &self.args.summary {
                write(path, text.as_bytes(), "summary")?;
                note(context, "summary", path);
            }
            if github && let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY") {
                append(Path::new(&path), &text)?;
            }
        }
        Ok(())
    }
}

/// A report must never replace the state.
pub fn refuse_state(context: &Context, path: &Path) -> Result<()> {
    let same = match (
        std::fs::canonicalize(path),
        std::fs::canonicalize(&context.state),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => path == context.state,
    };
    if same {
        bail!(
            "{} is the state file; choose another path for the report",
            path.display()
        );
    }
    Ok(())
}

/// Checked before the run, so a typo in the path does not cost the run's report.
pub fn writable_directory(path: &Path) -> Result<()> {
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(parent) = parent
        && !parent.is_dir()
    {
        bail!(
            "{}: the directory {} does not exist",
            path.display(),
            parent.display()
        );
    }
    Ok(())
}

pub fn write(path: &Path, bytes: &[u8], what: &str) -> Result<()> {
    state_store::replace_file(path, bytes, 0o644)
        .map_err(|(action, error)| anyhow::anyhow!("{action} {what} {}: {error}", path.display()))
}

fn append(path: &Path, text: &str) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening $GITHUB_STEP_SUMMARY {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("writing $GITHUB_STEP_SUMMARY {}", path.display()))
}

pub fn note(context: &Context, what: &str, path: &Path) {
    if !context.quiet {
        eprintln!("Wrote the {what} to {}.", path.display());
    }
}
