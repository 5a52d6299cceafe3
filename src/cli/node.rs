//! `orch node add|remove|drain|cordon|uncordon|fail|recover`: the fleet's
//! lifecycle and its faults. Each change is locked, atomic, recorded as an
//! event and counted as a generation; drain and remove then run the loop
//! until the node is empty (or a disruption budget holds it).

use super::get::stored_desired;
use super::persister::persisting;
use super::shared::{hint, out, out_document};
use super::{Context, Exit};
use crate::drain;
use crate::executor;
use crate::model::condition::{ConditionReason, ConditionStatus};
use crate::model::event::EventReason;
use crate::model::pod::{Taint, TaintEffect};
use crate::model::resources::{Allocatable, CPU, MEMORY, PODS, parse_amount};
use crate::model::state::{Condition, Event, EventType, NodeSource, NodeState, State};
use crate::reconcile::eviction;
use crate::render;
use crate::state_store::{self, StateLock};
use anyhow::{Result, anyhow, bail};

pub const HOSTNAME_LABEL: &str = "kubernetes.io/hostname";
pub const ZONE_LABEL: &str = "topology.kubernetes.io/zone";

#[derive(Debug, clap::Subcommand)]
pub enum NodeCommand {
    /// Add a node to the fleet (kept until `node remove`, even when absent from manifests).
    Add(AddArgs),
    /// Drain a node, then remove it from the fleet.
    Remove(DrainArgs),
    /// Cordon a node and evict its replicas one by one as disruption budgets allow.
    Drain(DrainArgs),
    /// Mark a node unschedulable; running replicas stay.
    Cordon(NameArgs),
    /// Make a cordoned node schedulable again.
    Uncordon(NameArgs),
    /// The node stops being ready: its replicas are unavailable at once and are
    /// evicted once their not-ready toleration (300 s by default) runs out.
    Fail(NameArgs),
    /// A failed node is ready again.
    Recover(NameArgs),
}

#[derive(Debug, clap::Args)]
pub struct NameArgs {
    pub name: String,
    /// Wait for the state lock instead of failing when another orch holds it.
    #[arg(long)]
    pub wait_lock: bool,
}

#[derive(Debug, clap::Args)]
pub struct DrainArgs {
    pub name: String,
    /// Simulated seconds the drain may take before giving up (exit 3).
    #[arg(long, default_value_t = 3600)]
    pub timeout: u64,
    #[arg(long)]
    pub wait_lock: bool,
    /// Preview only: every replica with its disruption budgets and the order
    /// evictions would succeed in; writes nothing (exit 3 if it would block).
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    pub name: String,
    /// Allocatable cpu (`4`, `3500m`).
    #[arg(long)]
    pub cpu: String,
    /// Allocatable memory (`16Gi`).
    #[arg(long)]
    pub memory: String,
    /// Pod capacity.
    #[arg(long, default_value_t = 110)]
    pub pods: i64,
    /// Extended resource `name=quantity` (repeatable), e.g. `nvidia.com/gpu=2`.
    #[arg(long = "resource", value_name = "NAME=QUANTITY")]
    pub resources: Vec<String>,
    /// Label `key=value` (repeatable).
    #[arg(long = "label", short = 'L', value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Shorthand for the `topology.kubernetes.io/zone` label.
    #[arg(long)]
    pub zone: Option<String>,
    /// Taint `key[=value]:Effect` (repeatable).
    #[arg(long = "taint", value_name = "KEY[=VALUE]:EFFECT")]
    pub taints: Vec<String>,
    #[arg(long)]
    pub wait_lock: bool,
}

fn record(state: &mut State, name: &str, kind: EventType, reason: EventReason, message: String) {
    state.generation += 1;
    state.record_event(Event {
        time: state.clock,
        kind,
        reason,
        object: format!("Node/{name}"),
        message,
    });
    state.trim_events();
}

pub fn run(context: &Context, command: NodeCommand) -> Result<Exit> {
    match command {
        NodeCommand::Drain(args) => drain(context, args, false),
        NodeCommand::Remove(args) => drain(context, args, true),
        NodeCommand::Add(args) => {
            let node = new_node(&args)?;
            change(context, &args.name, args.wait_lock, |state| {
                if state.node(&args.name).is_some() {
                    bail!("node {} already exists", args.name);
                }
                state.nodes.push(node);
                state.nodes.sort_by(|a, b| a.name.cmp(&b.name));
                Ok(Some((
                    EventReason::RegisteredNode,
                    format!("Node {} event: Registered Node {}", args.name, args.name),
                    "added",
                )))
            })
        }
        NodeCommand::Cordon(args) => change(context, &args.name, args.wait_lock, |state| {
            let node = existing(state, &args.name, context)?;
            if node.cordoned {
                return Ok(None);
            }
            node.cordoned = true;
            node.unschedulable = true;
            Ok(Some((
                EventReason::NodeNotSchedulable,
                format!("Node {} status is now: NodeNotSchedulable", args.name),
                "cordoned",
            )))
        }),
        NodeCommand::Uncordon(args) => change(context, &args.name, args.wait_lock, |state| {
            let node = existing(state, &args.name, context)?;
            if !node.cordoned && !node.unschedulable {
                return Ok(None);
            }
            node.cordoned = false;
            node.draining = false;
            node.unschedulable = false;
            Ok(Some((
                EventReason::NodeSchedulable,
                format!("Node {} status is now: NodeSchedulable", args.name),
                "uncordoned",
            )))
        }),
        NodeCommand::Fail(args) => change(context, &args.name, args.wait_lock, |state| {
            existing(state, &args.name, context)?;
            if !state.fail_node(&args.name) {
                return Ok(None);
            }
            Ok(Some((
                EventReason::NodeNotReady,
                format!("Node {} status is now: NodeNotReady", args.name),
                "failed",
            )))
        }),
        NodeCommand::Recover(args) => change(context, &args.name, args.wait_lock, |state| {
            let now = state.clock;
            let node = existing(state, &args.name, context)?;
            if node.ready {
                return Ok(None);
            }
            node.ready = true;
            node.not_ready_since = None;
            node.conditions = vec![Condition::ready(
                ConditionStatus::True,
                Some(ConditionReason::KubeletReady),
                "kubelet is posting ready status",
                now,
            )];
            Ok(Some((
                EventReason::NodeReady,
                format!("Node {} status is now: NodeReady", args.name),
                "recovered",
            )))
        }),
    }
}

type Change = Option<(EventReason, String, &'static str)>;

/// One locked change of the state: `apply` returns the event and the verb,
/// or `None` when the node is already as asked.
fn change(
    context: &Context,
    name: &str,
    wait: bool,
    apply: impl FnOnce(&mut State) -> Result<Change>,
) -> Result<Exit> {
    let lock = state_store::lock(&context.state, wait)?;
    let mut state = lock.load()?;
    match apply(&mut state)? {
        None => out(&format!("node/{name} unchanged\n")),
        Some((reason, message, verb)) => {
            let kind = if reason == EventReason::NodeNotReady {
                EventType::Warning
            } else {
                EventType::Normal
            };
            record(&mut state, name, kind, reason, message);
            lock.save(&state)?;
            out(&format!("node/{name} {verb}\n"));
        }
    }
    Ok(Exit::Success)
}

/// `node drain` / `node remove`: mark the node, then run the loop on the
/// workloads as last applied until it is empty or a budget holds it.
fn drain(context: &Context, args: DrainArgs, remove: bool) -> Result<Exit> {
    if args.dry_run {
        return preview(context, &args, remove);
    }
    let lock = state_store::lock(&context.state, args.wait_lock)?;
    let mut state = lock.load()?;
    let name = args.name.clone();
    existing(&mut state, &name, context)?;
    drain::mark(&mut state, &name, remove);
    lock.save(&state)?;
    let result = run_stored(&lock, &mut state, args.timeout)?;
    let blockers = {
        let desired = stored_desired(&state)?;
        eviction::drain_blockers(&desired, &state, &name)
    };
    let drained = blockers.is_empty();
    if drained {
        let still_there = state.node(&name).is_some();
        out(&format!(
            "node/{name} {}\n",
            if remove && !still_there {
                "drained and removed"
            } else {
                "drained"
            }
        ));
        if !context.quiet {
            out(&format!(
                "{}\n",
                render::plan::summary_line(&result, "Drain")
            ));
        }
    } else {
        out(&format!("node/{name} drain blocked:\n"));
        for line in blockers {
            out(&format!("  {line}\n"));
        }
    }
    Ok(Exit::from_check(drained))
}

/// `--dry-run`: the drain simulated on the state as it is; nothing is locked or written.
fn preview(context: &Context, args: &DrainArgs, remove: bool) -> Result<Exit> {
    let state = state_store::load(&context.state)?;
    let desired = stored_desired(&state)?;
    let preview =
        drain::preview(&desired, &state, &args.name, remove, args.timeout).ok_or_else(|| {
            anyhow!(
                "node {} not found in state {}",
                args.name,
                context.state.display()
            )
        })?;
    if context.output.is_document() {
        out_document(&render::drain::document(&preview), context.output);
    } else {
        out(&render::drain::table(&preview));
    }
    Ok(Exit::from_check(preview.completes))
}

/// The loop on the workloads as last applied (what `node drain` and `rollout undo` need).
pub(super) fn run_stored(
    lock: &StateLock,
    state: &mut State,
    timeout: u64,
) -> Result<executor::RunResult> {
    let desired = stored_desired(state)?;
    persisting(lock, |persister| {
        drain::run(&desired, state, timeout, |state, _| persister.save(state))
    })
}

fn existing<'a>(state: &'a mut State, name: &str, context: &Context) -> Result<&'a mut NodeState> {
    if state.node(name).is_none() {
        bail!(
            "node {name} not found in state {}{}",
            context.state.display(),
            hint(name, state.nodes.iter().map(|n| n.name.as_str()))
        );
    }
    Ok(state.node_mut(name).expect("the node was just found"))
}

fn new_node(args: &AddArgs) -> Result<NodeState> {
    let mut allocatable = Allocatable::default();
    let amount = |flag: &str, name: &str, text: &str| -> Result<i64> {
        let value = parse_amount(name, text).map_err(|e| anyhow!("{flag} {text}: {e}"))?;
        if value < 0 {
            bail!("{flag} {text}: must be greater than or equal to 0");
        }
        Ok(value)
    };
    allocatable
        .resources
        .set(CPU, amount("--cpu", CPU, &args.cpu)?);
    allocatable
        .resources
        .set(MEMORY, amount("--memory", MEMORY, &args.memory)?);
    if args.pods < 0 {
        bail!("--pods {}: must be greater than or equal to 0", args.pods);
    }
    allocatable.pods = args.pods;
    for entry in &args.resources {
        let (name, text) = entry
            .split_once('=')
            .ok_or_else(|| anyhow!("--resource {entry}: expected NAME=QUANTITY"))?;
        if name == PODS {
            allocatable.pods = amount("--resource", PODS, text)?;
        } else {
            allocatable
                .resources
                .set(name, amount("--resource", name, text)?);
        }
    }
    let mut labels = crate::model::labels::Labels::new();
    for entry in &args.labels {
        let (key, value) = entry
            .split_once('=')
            .ok_or_else(|| anyhow!("--label {entry}: expected KEY=VALUE"))?;
        if key.is_empty() {
            bail!("--label {entry}: empty key");
        }
        labels.insert(key.to_string(), value.to_string());
    }
    if let Some(zone) = &args.zone {
        labels.insert(ZONE_LABEL.to_string(), zone.clone());
    }
    labels
        .entry(HOSTNAME_LABEL.to_string())
        .or_insert_with(|| args.name.clone());
    let taints = args
        .taints
        .iter()
        .map(|t| parse_taint(t))
        .collect::<Result<Vec<_>>>()?;
    Ok(NodeState {
        name: args.name.clone(),
        labels,
        allocatable,
        taints,
        unschedulable: false,
        cordoned: false,
        draining: false,
        removing: false,
        not_ready_since: None,
        ready: true,
        conditions: Vec::new(),
        source: NodeSource::Imperative,
    })
}

/// `key[=value]:Effect`, as `kubectl taint` takes it.
pub fn parse_taint(text: &str) -> Result<Taint> {
    let (spec, effect) = text
        .rsplit_once(':')
        .ok_or_else(|| anyhow!("--taint {text}: expected KEY[=VALUE]:EFFECT"))?;
    let effect = match effect {
        "NoSchedule" => TaintEffect::NoSchedule,
        "PreferNoSchedule" => TaintEffect::PreferNoSchedule,
        "NoExecute" => TaintEffect::NoExecute,
        other => bail!(
            "--taint {text}: unsupported taint effect `{other}` (supported: NoSchedule, PreferNoSchedule, NoExecute)"
        ),
    };
    let (key, value) = spec.split_once('=').unwrap_or((spec, ""));
    if key.is_empty() {
        bail!("--taint {text}: empty key");
    }
    Ok(Taint::new(key, value, effect))
}
