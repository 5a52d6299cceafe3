//! `orch init`: write the example platform (a manifests directory) and an
//! empty state, refusing to overwrite anything that exists.

use super::shared::out;
use super::{Context, Exit};
use crate::model::state::State;
use crate::state_store;
use anyhow::{Context as _, Result, bail};
use std::path::PathBuf;

/// The example platform shipped with orch (the repository's `manifests/`).
pub const EXAMPLES: &[(&str, &str)] = &[
    ("nodes.yaml", include_str!("../../manifests/nodes.yaml")),
    ("db.yaml", include_str!("../../manifests/db.yaml")),
    ("api.yaml", include_str!("../../manifests/api.yaml")),
    ("workers.yaml", include_str!("../../manifests/workers.yaml")),
    (
        "log-agent.yaml",
        include_str!("../../manifests/log-agent.yaml"),
    ),
];

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Directory to write the example manifests into.
    #[arg(long, default_value = "manifests")]
    pub dir: PathBuf,
}

pub fn run(context: &Context, args: InitArgs) -> Result<Exit> {
    let targets: Vec<PathBuf> = EXAMPLES
        .iter()
        .map(|(name, _)| args.dir.join(name))
        .collect();
    for path in targets.iter().chain(std::iter::once(&context.state)) {
        if path.exists() {
            bail!("{} already exists; init never overwrites", path.display());
        }
    }
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("creating {}", args.dir.display()))?;
    for ((_, text), path) in EXAMPLES.iter().zip(&targets) {
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    let lock = state_store::lock(&context.state, false)?;
    lock.save(&State::default())?;
    if !context.quiet {
        out(&format!(
            "wrote {} manifests to {} and an empty state {}\nnext: orch plan -f {}\n",
            EXAMPLES.len(),
            args.dir.display(),
            context.state.display(),
            args.dir.display()
        ));
    }
    Ok(Exit::Success)
}
