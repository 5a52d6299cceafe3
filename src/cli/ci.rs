//! CI reporting for `validate`, `plan` and `apply`: GitHub Actions
//! annotations on stdout (`-o github`) and a JUnit XML report (`--junit
//! FILE`, replaced atomically). Both say the same thing as the human output:
//! every manifest error, every workload and why it did not converge.

use super::shared::{ManifestArgs, ManifestErrors, err, out, read_manifests};
use super::{Context, Exit};
use crate::executor::RunResult;
use crate::manifest::Loaded;
use crate::model::workload::{Desired, SourceLocation};
use crate::render::github::{self, Level};
use crate::render::{Format, junit};
use crate::sources::Source;
use crate::state_store;
use anyhow::Result;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, clap::Args)]
pub struct ReportArgs {
    /// Also write a JUnit XML report to FILE: one testcase per workload, failing unless it
    /// converged; manifest errors as failing testcases.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

/// Where one command's CI reports go.
pub struct Reporter<'a> {
    context: &'a Context,
    command: &'static str,
    junit: Option<&'a Path>,
}

impl<'a> Reporter<'a> {
    pub fn new(context: &'a Context, command: &'static str, args: &'a ReportArgs) -> Self {
        Reporter {
            context,
            command,
            junit: args.junit.as_deref(),
        }
    }

    pub fn github(&self) -> bool {
        self.context.output == Format::Github
    }

    /// Human text: stdout, or stderr when stdout carries annotations.
    pub fn human(&self, text: &str) {
        if self.github() { err(text) } else { out(text) }
    }

    fn title(&self) -> String {
        format!("orch {}", self.command)
    }

    /// Run the command; an error not reported yet (an unreadable state, a
    /// held lock, …) is reported as the command's own failure.
    pub fn run(&self, body: impl FnOnce(&Self) -> Result<Exit>) -> Result<Exit> {
        if let Some(path) = self.junit
            && same_file(path, &self.context.state)
        {
            // Checked first: the report must never replace the state.
            return Err(anyhow::anyhow!(
                "--junit {} is the state file; choose another path for the report",
                path.display()
            ));
        }
        let error = match body(self) {
            Ok(exit) => return Ok(exit),
            Err(error) if error.is::<ManifestErrors>() => return Err(error),
            Err(error) => error,
        };
        let message = format!("{error:#}");
        if self.github() {
            out(&github::command(
                Level::Error,
                None,
                &self.title(),
                &message,
            ));
        }
        if !error.is::<ReportError>()
            && let Err(also) = self.write_junit(&junit::failed(self.command, &message))
        {
            super::shared::print_error(&also);
        }
        Err(error)
    }

    /// Read and validate the `-f` set, reporting each diagnostic (stderr, or
    /// annotations) and, when invalid, the JUnit report of its errors.
    pub fn load(&self, args: &ManifestArgs) -> Result<Loaded> {
        self.load_with_sources(args).map(|(loaded, _)| loaded)
    }

    /// The same, keeping the sources as read (a saved plan records them).
    pub fn load_with_sources(&self, args: &ManifestArgs) -> Result<(Loaded, Vec<Source>)> {
        let reading = super::terminal::spinner(self.context, "reading manifests");
        let read = read_manifests(args);
        reading.finish_and_clear();
        let (sources, parsed) = read?;
        match parsed {
            Ok(loaded) => {
                if self.github() {
                    out(&github::diagnostics(Level::Warning, &loaded.notices));
                } else if !self.context.quiet {
                    for notice in &loaded.notices {
                        eprintln!("notice: {notice}");
                    }
                }
                Ok((loaded, sources))
            }
            Err(diagnostics) => Err(self.invalid(&diagnostics)),
        }
    }

    /// Report manifest errors as `load` does; the error to return.
    pub fn invalid(&self, diagnostics: &[crate::manifest::Diagnostic]) -> anyhow::Error {
        let summary = ManifestErrors(diagnostics.len());
        if self.github() {
            out(&github::diagnostics(Level::Error, diagnostics));
            out(&github::command(
                Level::Notice,
                None,
                &self.title(),
                &summary.to_string(),
            ));
        } else {
            let mut stderr = anstream::stderr();
            for line in crate::manifest::one_screen(diagnostics) {
                let _ = writeln!(stderr, "{line}");
            }
        }
        if let Err(error) = self.write_junit(&junit::invalid(self.command, diagnostics)) {
            return error;
        }
        summary.into()
    }

    /// Refuse an update of a field the API server keeps immutable, before
    /// anything is planned or written.
    pub fn check_updates(
        &self,
        desired: &Desired,
        sources: &[Source],
        state: &crate::model::state::State,
    ) -> Result<()> {
        let changes = crate::manifest::immutable::changes(desired, state);
        if changes.is_empty() {
            return Ok(());
        }
        let diagnostics = crate::manifest::immutable::locate(&changes, sources);
        Err(self.invalid(&diagnostics))
    }

    /// `validate` found nothing wrong.
    pub fn valid(&self, desired: &Desired, summary: &str) -> Result<()> {
        if self.github() {
            out(&github::command(
                Level::Notice,
                None,
                &self.title(),
                summary,
            ));
        }
        self.write_junit(&junit::valid(desired))
    }

    /// A plan or apply ended: each workload that did not converge, at its
    /// declaration; `rolled_back` pairs each object `--atomic` rolled back
    /// with its message; `summary` is the human summary line.
    pub fn finished(
        &self,
        desired: &Desired,
        result: &RunResult,
        rolled_back: &[(String, String)],
        summary: &str,
    ) -> Result<()> {
        let sources = sources(desired);
        if self.github() {
            out(&github::run(result, &sources, rolled_back));
            out(&github::command(
                Level::Notice,
                None,
                &self.title(),
                summary,
            ));
        }
        self.write_junit(&junit::run(self.command, result, &sources, rolled_back))
    }

    fn write_junit(&self, suite: &junit::TestSuite) -> Result<()> {
        let Some(path) = self.junit else {
            return Ok(());
        };
        state_store::replace_file(path, junit::xml(suite).as_bytes(), 0o644).map_err(
            |(action, error)| {
                ReportError(format!("{action} JUnit report {}: {error}", path.display())).into()
            },
        )
    }
}

/// The JUnit report could not be written (so there is no report to record it in).
#[derive(Debug)]
struct ReportError(String);

impl std::fmt::Display for ReportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ReportError {}

/// Whether two paths name one file (also when neither exists yet).
fn same_file(a: &Path, b: &Path) -> bool {
    let resolve = |path: &Path| {
        path.canonicalize()
            .or_else(|_| std::path::absolute(path))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    resolve(a) == resolve(b)
}

/// `Kind/namespace/name` → where the manifests declare it.
fn sources(desired: &Desired) -> HashMap<String, SourceLocation> {
    desired
        .workloads
        .iter()
        .filter_map(|w| Some((w.id.to_string(), w.source.clone()?)))
        .chain(
            desired
                .cron_jobs
                .iter()
                .filter_map(|c| Some((c.id.to_string(), c.source.clone()?))),
        )
        .collect()
}
