//! `orch node add|remove|cordon|uncordon`: imperative changes to the fleet,
//! each one locked, atomic, recorded as an event and counted as a generation.

use super::shared::out;
use super::{Context, Exit};
use crate::model::pod::{Taint, TaintEffect};
use crate::model::resources::{Allocatable, CPU, MEMORY, PODS, parse_amount};
use crate::model::state::{Event, EventType, NodeSource, NodeState, State};
use crate::state_store;
use anyhow::{Result, anyhow, bail};

pub const HOSTNAME_LABEL: &str = "kubernetes.io/hostname";
pub const ZONE_LABEL: &str = "topology.kubernetes.io/zone";

#[derive(Debug, clap::Subcommand)]
pub enum NodeCommand {
    /// Add a node to the fleet (kept until `node remove`, even when absent from manifests).
    Add(AddArgs),
    /// Remove a node; its replicas are rescheduled by the next apply.
    Remove(NameArgs),
    /// Mark a node unschedulable; running replicas stay.
    Cordon(NameArgs),
    /// Make a cordoned node schedulable again.
    Uncordon(NameArgs),
}

#[derive(Debug, clap::Args)]
pub struct NameArgs {
    pub name: String,
    /// Wait for the state lock instead of failing when another orch holds it.
    #[arg(long)]
    pub wait_lock: bool,
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

pub fn run(context: &Context, command: NodeCommand) -> Result<Exit> {
    let (wait, name) = match &command {
        NodeCommand::Add(a) => (a.wait_lock, a.name.clone()),
        NodeCommand::Remove(a) | NodeCommand::Cordon(a) | NodeCommand::Uncordon(a) => {
            (a.wait_lock, a.name.clone())
        }
    };
    // Everything that can be refused is checked before the lock is taken.
    let added = match &command {
        NodeCommand::Add(args) => Some(new_node(args)?),
        _ => None,
    };
    let lock = state_store::lock(&context.state, wait)?;
    let mut state = lock.load()?;
    let (reason, message, verb) = match command {
        NodeCommand::Add(_) => {
            if state.node(&name).is_some() {
                bail!("node {name} already exists");
            }
            let node = added.ok_or_else(|| anyhow!("node {name}: nothing to add"))?;
            state.nodes.push(node);
            state.nodes.sort_by(|a, b| a.name.cmp(&b.name));
            (
                "RegisteredNode",
                format!("Node {name} event: Registered Node {name}"),
                "added",
            )
        }
        NodeCommand::Remove(_) => {
            let before = state.nodes.len();
            state.nodes.retain(|n| n.name != name);
            if state.nodes.len() == before {
                bail!("node {name} not found in state {}", context.state.display());
            }
            (
                "RemovingNode",
                format!("Node {name} event: Removing Node {name} from Controller"),
                "removed",
            )
        }
        NodeCommand::Cordon(_) => {
            let node = existing(&mut state, &name, context)?;
            if node.cordoned {
                out(&format!("node/{name} already cordoned\n"));
                return Ok(Exit::Success);
            }
            node.cordoned = true;
            node.unschedulable = true;
            (
                "NodeNotSchedulable",
                format!("Node {name} status is now: NodeNotSchedulable"),
                "cordoned",
            )
        }
        NodeCommand::Uncordon(_) => {
            let node = existing(&mut state, &name, context)?;
            if !node.cordoned && !node.unschedulable {
                out(&format!("node/{name} already uncordoned\n"));
                return Ok(Exit::Success);
            }
            node.cordoned = false;
            node.unschedulable = false;
            (
                "NodeSchedulable",
                format!("Node {name} status is now: NodeSchedulable"),
                "uncordoned",
            )
        }
    };
    state.generation += 1;
    state.record_event(Event {
        time: state.clock,
        kind: EventType::Normal,
        reason: reason.to_string(),
        object: format!("Node/{name}"),
        message,
    });
    state.trim_events();
    lock.save(&state)?;
    out(&format!("node/{name} {verb}\n"));
    Ok(Exit::Success)
}

fn existing<'a>(state: &'a mut State, name: &str, context: &Context) -> Result<&'a mut NodeState> {
    state
        .node_mut(name)
        .ok_or_else(|| anyhow!("node {name} not found in state {}", context.state.display()))
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
