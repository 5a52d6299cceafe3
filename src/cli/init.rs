//! `orch init [DIR]`: write the example platform (`DIR/manifests/`) and an
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
    (
        "priorities.yaml",
        include_str!("../../manifests/priorities.yaml"),
    ),
];

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Project directory: gets `manifests/`, and the state when `--state` is relative.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

pub fn run(context: &Context, args: InitArgs) -> Result<Exit> {
    let manifests = args.dir.join("manifests");
    let state = if context.state.is_relative() {
        args.dir.join(&context.state)
    } else {
        context.state.clone()
    };
    let targets: Vec<PathBuf> = EXAMPLES
        .iter()
        .map(|(name, _)| manifests.join(name))
        .collect();
    for path in targets.iter().chain(std::iter::once(&state)) {
        if path.exists() {
            bail!("{} already exists; init never overwrites", path.display());
        }
    }
    std::fs::create_dir_all(&manifests)
        .with_context(|| format!("creating {}", manifests.display()))?;
    for ((_, text), path) in EXAMPLES.iter().zip(&targets) {
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    let lock = state_store::lock(&state, false)?;
    lock.save(&State::default())?;
    if !context.quiet {
        out(&format!(
            "wrote {} manifests to {} and an empty state {}\nnext: orch plan -f {}\n",
            EXAMPLES.len(),
            manifests.display(),
            state.display(),
            manifests.display()
        ));
    }
    Ok(Exit::Success)
}
