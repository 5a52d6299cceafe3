//! `orch replica delete|crash NAME`: fault injection on one replica. The next
//! apply (or a running watch) sees the result and repairs it.

use super::shared::{hint, out};
use super::{Context, Exit};
use crate::model::event::EventReason;
use crate::model::state::{Event, EventType};
use crate::reconcile::backoff;
use crate::state_store;
use anyhow::{Result, anyhow};

#[derive(Debug, clap::Subcommand)]
pub enum ReplicaCommand {
    /// Delete a replica, as `kubectl delete pod`; its controller replaces it.
    Delete(ReplicaArgs),
    /// Crash a replica's container: not ready, one more restart, back-off before it starts again.
    Crash(ReplicaArgs),
}

#[derive(Debug, clap::Args)]
pub struct ReplicaArgs {
    pub name: String,
    #[arg(long)]
    pub wait_lock: bool,
}

pub fn run(context: &Context, command: ReplicaCommand) -> Result<Exit> {
    let (args, crash) = match command {
        ReplicaCommand::Delete(args) => (args, false),
        ReplicaCommand::Crash(args) => (args, true),
    };
    let lock = state_store::lock(&context.state, args.wait_lock)?;
    let mut state = lock.load()?;
    let clock = state.clock;
    let index = state
        .replicas
        .iter()
        .position(|r| *r.name == *args.name)
        .ok_or_else(|| {
            anyhow!(
                "replica {} not found in state {}{}",
                args.name,
                context.state.display(),
                hint(&args.name, state.replicas.iter().map(|r| &*r.name))
            )
        })?;
    let (kind, reason, message, verb) = if crash {
        let replica = &mut state.replicas[index];
        let wait = backoff(replica.restarts);
        replica.restarts += 1;
        replica.ready = false;
        replica.ready_at = None;
        replica.started_at = Some(clock + wait);
        (
            EventType::Warning,
            EventReason::BackOff,
            format!(
                "Back-off {wait}s restarting failed replica {} (restart {})",
                args.name, replica.restarts
            ),
            "crashed",
        )
    } else {
        state.replicas.remove(index);
        (
            EventType::Normal,
            EventReason::Killing,
            format!("Deleted replica {} by request", args.name),
            "deleted",
        )
    };
    state.generation += 1;
    state.record_event(Event {
        time: clock,
        kind,
        reason,
        object: format!("Replica/{}", args.name),
        message,
    });
    state.trim_events();
    lock.save(&state)?;
    out(&format!("replica/{} {verb}\n", args.name));
    Ok(Exit::Success)
}
