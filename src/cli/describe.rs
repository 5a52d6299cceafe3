//! `orch describe node|workload|replica NAME` (as `kubectl describe` prints
//! them) and `orch explain NAME`: for a replica, the scheduler's verdict on
//! every node, and what would make it fit. The views are the core's
//! (`crate::describe`, `crate::explain`); this loads the state, asks for the
//! view, and hands it to the renderer.

use super::apply::Scoring;
use super::get::stored_desired;
use super::shared::{hint, out, out_document};
use super::{Context, Exit};
use crate::describe::{self, DescribeError};
use crate::explain::{ExplainError, Explanation, explain};
use crate::model::state::State;
use crate::model::workload::Desired;
use crate::model::workload::{Kind as WorkloadKind, ObjectRef};
use crate::render::{describe as view, explain as explain_view};
use crate::scheduler::{Scheduler, ScoringStrategy};
use crate::state_store;
use anyhow::{Result, anyhow, bail};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    #[value(alias = "nodes", alias = "no")]
    Node,
    #[value(
        alias = "workloads",
        alias = "deployment",
        alias = "deployments",
        alias = "deploy",
        alias = "daemonset",
        alias = "daemonsets",
        alias = "ds"
    )]
    Workload,
    #[value(alias = "replicas", alias = "pod", alias = "po")]
    Replica,
    /// A PersistentVolumeClaim (`NAME` or `NAMESPACE/NAME`).
    #[value(
        name = "pvc",
        alias = "persistentvolumeclaim",
        alias = "persistentvolumeclaims",
        alias = "claim"
    )]
    Pvc,
    /// A NodeGroup (orch.dev/v1).
    #[value(name = "nodegroup", alias = "nodegroups", alias = "ng")]
    NodeGroup,
    /// A HorizontalPodAutoscaler (`NAME` or `NAMESPACE/NAME`).
    #[value(
        name = "hpa",
        alias = "horizontalpodautoscaler",
        alias = "horizontalpodautoscalers",
        alias = "hpas"
    )]
    Hpa,
    /// A Job (`NAME`, `NAMESPACE/NAME` or `Job/NAMESPACE/NAME`).
    #[value(alias = "jobs")]
    Job,
    /// A CronJob (`NAME`, `NAMESPACE/NAME` or `CronJob/NAMESPACE/NAME`).
    #[value(name = "cronjob", alias = "cronjobs", alias = "cj")]
    CronJob,
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
    /// Replica name (as `orch get replicas` lists it); for describe, the node or workload
    /// (`api`, `Deployment/api`, `DaemonSet/kube-system/log-agent`).
    pub name: String,
    /// Node scoring for resources, as given to plan/apply.
    #[arg(long, value_enum, default_value_t)]
    pub scoring: Scoring,
}

pub fn describe(context: &Context, args: DescribeArgs) -> Result<Exit> {
    let state = state_store::load(&context.state)?;
    match args.kind {
        Kind::Replica => replica(context, &state, &args.explain),
        Kind::Node => node(context, &state, &args.explain.name),
        Kind::Workload => workload(context, &state, &args.explain.name),
        Kind::NodeGroup => {
            let name = &args.explain.name;
            let desired = stored_desired(&state)?;
            let description = describe::node_group(&desired, &state, name).ok_or_else(|| {
                anyhow!(
                    "nodegroup {name} not found in state {}{}",
                    context.state.display(),
                    hint(name, state.node_groups.iter().map(|g| g.name.as_str()))
                )
            })?;
            print(context, &description, view::node_group)
        }
        Kind::Job => batch(context, &state, WorkloadKind::Job, &args.explain.name),
        Kind::CronJob => batch(context, &state, WorkloadKind::CronJob, &args.explain.name),
        Kind::Pvc => {
            let description = describe::claim(&state, &args.explain.name).map_err(|error| {
                anyhow!(
                    "{error}{}",
                    hint(
                        &args.explain.name,
                        state.claims.iter().map(|c| c.name.as_str())
                    )
                )
            })?;
            print(context, &description, view::claim)
        }
        Kind::Hpa => {
            let description =
                describe::autoscaler(&state, &args.explain.name).map_err(|error| {
                    anyhow!(
                        "{error}{}",
                        hint(
                            &args.explain.name,
                            state.autoscalers.iter().map(|a| a.name.as_str())
                        )
                    )
                })?;
            print(context, &description, crate::render::hpa::describe)
        }
    }
}

fn scheduler(scoring: Scoring) -> Scheduler {
    Scheduler::new(match scoring {
        Scoring::LeastAllocated => ScoringStrategy::LeastAllocated,
        Scoring::MostAllocated => ScoringStrategy::MostAllocated,
    })
}

/// The replica's explanation, or a not-found error naming the closest replicas.
fn explained(state: &State, args: &ExplainArgs) -> Result<(Desired, Explanation)> {
    let desired = stored_desired(state)?;
    match explain(&desired, state, &args.name, &scheduler(args.scoring)) {
        Ok(explanation) => Ok((desired, explanation)),
        Err(error @ ExplainError::NotFound(_)) => Err(anyhow!(
            "{error}{}",
            hint(&args.name, state.replicas.iter().map(|r| &*r.name))
        )),
        Err(error) => Err(error.into()),
    }
}

/// `Deployment/ns/name` (or `Kind/name`) given to `explain`: its first
/// pending replica (by name) stands for the others, which wait for the same
/// pod; the line said before the explanation. None when NAME is a replica.
fn pending_of_workload(state: &State, name: &str) -> Result<Option<(String, String)>> {
    if state.replicas.iter().any(|r| *r.name == *name) || !name.contains('/') {
        return Ok(None);
    }
    let Some(id) = crate::model::workload::ObjectRef::parse(name, "default") else {
        return Ok(None);
    };
    let mut replicas: Vec<&crate::model::state::Replica> = state
        .replicas
        .iter()
        .filter(|r| r.workload == id && r.phase != crate::model::state::Phase::Terminating)
        .collect();
    if replicas.is_empty() && state.workload(&id).is_none() {
        return Ok(None);
    }
    replicas.sort_by(|a, b| a.name.cmp(&b.name));
    let pending: Vec<&str> = replicas
        .iter()
        .filter(|r| r.node.is_none())
        .map(|r| &*r.name)
        .collect();
    let Some(first) = pending.first() else {
        return Err(anyhow!(
            "{id} has no pending replica ({} of its replicas are placed); explain takes a replica to say why it runs where it does",
            replicas.len()
        ));
    };
    let line = format!(
        "{id}: {} of {} replicas pending ({}); explaining {first}{}",
        pending.len(),
        replicas.len(),
        pending.join(", "),
        if pending.len() > 1 {
            ", the others are the same pod"
        } else {
            ""
        }
    );
    Ok(Some((first.to_string(), line)))
}

/// `orch explain NAME`.
pub fn run(context: &Context, mut args: ExplainArgs) -> Result<Exit> {
    let state = state_store::load(&context.state)?;
    if let Some((replica, line)) = pending_of_workload(&state, &args.name)? {
        if !context.output.is_document() {
            out(&format!("{line}\n\n"));
        }
        args.name = replica;
    }
    let (_, explanation) = explained(&state, &args)?;
    if context.output.is_document() {
        out_document(&explain_view::document(&explanation), context.output);
    } else {
        let events = describe::events(&state, &format!("Replica/{}", args.name));
        out(&explain_view::text(&explanation, &events));
    }
    Ok(Exit::Success)
}

fn node(context: &Context, state: &State, name: &str) -> Result<Exit> {
    let desired = stored_desired(state)?;
    let description = describe::node(&desired, state, name).map_err(|error| match error {
        DescribeError::NodeNotFound(_) => anyhow!(
            "node {name} not found in state {}{}",
            context.state.display(),
            hint(name, state.nodes.iter().map(|n| n.name.as_str()))
        ),
        other => other.into(),
    })?;
    print(context, &description, view::node)
}

fn workload(context: &Context, state: &State, name: &str) -> Result<Exit> {
    let id = super::rollout::resolve(state, name)?;
    if matches!(id.kind, WorkloadKind::Job | WorkloadKind::CronJob) {
        return described(context, state, &id);
    }
    let desired = stored_desired(state)?;
    let description = describe::workload(&desired, state, &id)?;
    print(context, &description, view::workload)
}

/// `describe job|cronjob NAME`: NAME is `name`, `namespace/name` or the
/// object (`Job/namespace/name`); a bare name is looked for in every namespace.
fn batch(context: &Context, state: &State, kind: WorkloadKind, name: &str) -> Result<Exit> {
    let of_kind = || state.workloads.iter().filter(move |w| w.kind == kind);
    let wanted = if name.starts_with(&format!("{kind}/")) {
        name.to_string()
    } else {
        format!("{kind}/{name}")
    };
    let id = match ObjectRef::parse(&wanted, "default") {
        Some(id) if id.kind == kind && state.workload(&id).is_some() => id,
        Some(id) if id.kind == kind && !name.contains('/') => {
            let found: Vec<ObjectRef> = of_kind()
                .filter(|w| w.name == name)
                .map(|w| w.id())
                .collect();
            match found.as_slice() {
                [one] => one.clone(),
                [] => bail!(
                    "{id} is not in the state{}",
                    hint(name, of_kind().map(|w| w.name.as_str()))
                ),
                many => bail!(
                    "{name} is ambiguous: {}",
                    many.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        }
        Some(id) if id.kind == kind => bail!(
            "{id} is not in the state{}",
            hint(&id.to_string(), of_kind().map(|w| w.name.as_str()))
        ),
        _ => bail!(
            "{name} does not name a {kind} (`NAME`, `NAMESPACE/NAME` or `{kind}/NAMESPACE/NAME`)"
        ),
    };
    described(context, state, &id)
}

/// A Job's or CronJob's description, printed.
fn described(context: &Context, state: &State, id: &ObjectRef) -> Result<Exit> {
    let desired = stored_desired(state)?;
    if id.kind == WorkloadKind::CronJob {
        let description = describe::cron_job(&desired, state, id)?;
        return print(context, &description, view::cron_job);
    }
    let description = describe::job(&desired, state, id)?;
    print(context, &description, view::job)
}

fn replica(context: &Context, state: &State, args: &ExplainArgs) -> Result<Exit> {
    let (desired, explanation) = explained(state, args)?;
    if context.output.is_document() {
        out_document(&explain_view::document(&explanation), context.output);
        return Ok(Exit::Success);
    }
    let description = describe::replica(&desired, state, &explanation);
    out(&view::replica(
        &description,
        &explain_view::verdicts(&explanation),
    ));
    Ok(Exit::Success)
}

fn print<T: serde::Serialize>(
    context: &Context,
    description: &T,
    text: fn(&T) -> String,
) -> Result<Exit> {
    if context.output.is_document() {
        out_document(description, context.output);
    } else {
        out(&text(description));
    }
    Ok(Exit::Success)
}
