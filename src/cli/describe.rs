//! `orch describe replica NAME` and `orch explain NAME`: the scheduler's
//! verdict on every node for one replica, and what would make it fit.

use super::apply::Scoring;
use super::get::stored_desired;
use super::shared::out;
use super::{Context, Exit};
use crate::explain::explain;
use crate::render::{self, explain as view};
use crate::scheduler::{Scheduler, ScoringStrategy};
use crate::state_store;
use anyhow::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    #[value(alias = "replicas", alias = "pod", alias = "po")]
    Replica,
}

#[derive(Debug, clap::Args)]
pub struct DescribeArgs {
    #[arg(value_enum)]
    pub kind: Kind,
    #[command(flatten)]
    pub explain: ExplainArgs,
}

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// Replica name (as `orch get replicas` lists it).
    pub name: String,
    /// Node scoring for resources, as given to plan/apply.
    #[arg(long, value_enum, default_value_t)]
    pub scoring: Scoring,
}

pub fn describe(context: &Context, args: DescribeArgs) -> Result<Exit> {
    match args.kind {
        Kind::Replica => run(context, args.explain),
    }
}

pub fn run(context: &Context, args: ExplainArgs) -> Result<Exit> {
    let state = state_store::load(&context.state)?;
    let desired = stored_desired(&state)?;
    let scheduler = Scheduler::new(match args.scoring {
        Scoring::LeastAllocated => ScoringStrategy::LeastAllocated,
        Scoring::MostAllocated => ScoringStrategy::MostAllocated,
    });
    let explanation = explain(&desired, &state, &args.name, &scheduler)?;
    if context.output.is_document() {
        out(&render::document(
            &view::document(&explanation),
            context.output,
        ));
    } else {
        let object = format!("Replica/{}", args.name);
        let events: Vec<_> = state.events.iter().filter(|e| e.object == object).collect();
        out(&view::text(&explanation, &events));
    }
    Ok(Exit::Success)
}
