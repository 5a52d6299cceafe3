//! Pieces every command uses: reading manifests (with all diagnostics
//! printed), printing to stdout/stderr through colour-aware streams.

use crate::manifest::{self, Diagnostic, Loaded, ParseOptions};
use crate::render::{self, Format};
use crate::sources::{self, Source};
use anyhow::{Result, anyhow};
use std::io::{BufWriter, StdoutLock, Write};

#[derive(Debug, clap::Args)]
pub struct ManifestArgs {
    /// Manifest files or directories (recursive; *.yaml, *.yml, *.json), or `-` for stdin.
    #[arg(short = 'f', long = "filename", required = true, num_args = 1..)]
    pub files: Vec<String>,
    /// Unknown kinds are errors instead of being skipped.
    #[arg(long)]
    pub strict: bool,
}

/// Read and validate the `-f` set. Every diagnostic goes to stderr; the
/// returned error only summarizes.
pub fn load_manifests(args: &ManifestArgs, quiet: bool) -> Result<Loaded> {
    let sources = sources::collect(&args.files).map_err(|e| anyhow!("{e}"))?;
    parse_sources(&sources, args.strict, quiet)
}

/// Parse and validate manifest texts, every diagnostic on stderr.
pub fn parse_sources(sources: &[Source], strict: bool, quiet: bool) -> Result<Loaded> {
    match manifest::parse(sources, &ParseOptions { strict }) {
        Ok(loaded) => {
            if !quiet {
                for notice in &loaded.notices {
                    eprintln!("notice: {notice}");
                }
            }
            Ok(loaded)
        }
        Err(diagnostics) => {
            let mut stderr = anstream::stderr();
            for line in manifest::one_screen(&diagnostics) {
                let _ = writeln!(stderr, "{line}");
            }
            Err(ManifestErrors(diagnostics.len()).into())
        }
    }
}

/// Read the `-f` set and validate it, printing nothing: the sources as read
/// and the manifests or every diagnostic (the outer error: the sources could
/// not be read).
#[allow(clippy::type_complexity)]
pub fn read_manifests(
    args: &ManifestArgs,
) -> Result<(Vec<Source>, Result<Loaded, Vec<Diagnostic>>)> {
    let sources = sources::collect(&args.files).map_err(|e| anyhow!("{e}"))?;
    let parsed = manifest::parse(
        &sources,
        &ParseOptions {
            strict: args.strict,
        },
    );
    Ok((sources, parsed))
}

/// The manifests did not validate; each diagnostic has been reported.
#[derive(Debug)]
pub struct ManifestErrors(pub usize);

impl std::fmt::Display for ManifestErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plural = if self.0 == 1 { "" } else { "s" };
        write!(
            f,
            "{} error{plural} in manifests; nothing was changed",
            self.0
        )
    }
}

impl std::error::Error for ManifestErrors {}

/// `` (did you mean `api`?)`` after a name that is not there, or nothing.
pub fn hint<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    crate::suggest::did_you_mean(name, known).map_or_else(String::new, |hint| format!("; {hint}"))
}

pub fn print_error(error: &anyhow::Error) {
    let style = anstyle::Style::new()
        .bold()
        .fg_color(Some(anstyle::AnsiColor::Red.into()));
    let _ = writeln!(anstream::stderr(), "{style}error{style:#}: {error:#}");
}

pub fn out(text: &str) {
    let mut stdout = anstream::stdout();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// A whole `-o json|yaml` document, serialized straight into a locked,
/// buffered stdout: documents hold no colour, so unlike `out` nothing scans
/// them for escape codes. A closed stdout (`| head`) ends it quietly.
pub fn out_document<T: serde::Serialize>(value: &T, format: Format) {
    to_stdout(|out| render::write_document(value, format, out));
}

/// A document already serialized, written as `out_document` writes.
pub fn out_document_text(text: &str) {
    to_stdout(|out| out.write_all(text.as_bytes()));
}

fn to_stdout(write: impl FnOnce(&mut BufWriter<StdoutLock<'static>>) -> std::io::Result<()>) {
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    if write(&mut out).and_then(|()| out.flush()).is_err() {
        // Stdout is gone: what is still buffered goes nowhere.
        let _ = out.into_parts();
    }
}

/// Human text on stderr, where `-o github` sends it (stdout carries the annotations).
pub fn err(text: &str) {
    let mut stderr = anstream::stderr();
    let _ = stderr.write_all(text.as_bytes());
    let _ = stderr.flush();
}
