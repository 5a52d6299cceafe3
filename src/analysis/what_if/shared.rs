//! Many failure scenarios from one base, sharing what they leave unchanged.
//!
//! A scenario that fails a few nodes touches only the workloads with
//! replicas on them (and those not converged, whose pending replicas may
//! find room or another reason). `Shared` runs the loop on a state holding
//! just those workloads and their replicas; every other replica is already accounted,
//! once for all scenarios, in a scheduler snapshot of the base
//! (`reconcile::Options::background`), from which the failed nodes' own
//! workloads are taken out per scenario. The workloads left alone report
//! what they report when nothing fails. This holds only for a base the loop
//! has nothing more to do on, whose workloads cannot reach each other but
//! through the scheduler; any other base runs each scenario alone
//! (`super::scenario`, the reference the shared runs are tested against).

use super::{
    Base, Report, StepCounts, Tallies, after_baseline, lowest_available, on_nodes, pending_reasons,
    scenario, scenario_options, workload_impacts,
};
use crate::executor::{self, RunOptions};
use crate::model::pod::PodSpec;
use crate::model::state::{Phase, State};
use crate::model::workload::{Desired, Kind, ObjectRef};
use crate::reconcile::{self, Background, Catalog, summarize};
use crate::scheduler::Scheduler;
use crate::scheduler::snapshot::Snapshot;
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

/// The base and what every scenario on it shares.
pub struct Shared<'b> {
    base: &'b Base,
    scheduler: &'b Scheduler,
    options: &'b RunOptions,
    /// Each scenario runs alone, and why (see the module's documentation);
    /// made for the first scenario that may share the base.
    fast: OnceLock<Result<Fast, &'static str>>,
}

struct Fast {
    /// Made for the first scenario that shares the base (a fleet whose
    /// every failure touches most of its replicas never needs it).
    shared: OnceLock<Common>,
    /// Replica positions (in the base state) per node and per workload.
    on_node: FxHashMap<String, Vec<usize>>,
    of_workload: FxHashMap<ObjectRef, Vec<usize>>,
    /// Workloads every scenario runs: those not converged or with replicas
    /// pending (their scheduler's message names the failed nodes).
    always: Vec<ObjectRef>,
    /// What the base's own steps did, per workload.
    counts: StepCounts,
}

/// What the scenarios sharing the base start from.
struct Common {
    /// Every bound replica of the base, accounted on its node.
    snapshot: Arc<Snapshot>,
    catalog: Catalog,
    /// The report of the scenario in which nothing fails.
    unchanged: Report,
}

impl Common {
    fn new(base: &Base, scheduler: &Scheduler, options: &RunOptions) -> Common {
        let catalog = Catalog::build(&base.desired, &base.state);
        Common {
            snapshot: Arc::new(reconcile::occupied_snapshot(&base.state, &catalog, None)),
            catalog,
            unchanged: scenario(base, &[], scheduler, options),
        }
    }

    /// The scheduler's view of everything else: the base, less the bound
    /// replicas a scenario runs (`kept`, positions in `whole`).
    fn without(&self, whole: &State, kept: &[usize]) -> Vec<(usize, Arc<PodSpec>)> {
        let mut without = Vec::new();
        for &i in kept {
            let replica = &whole.replicas[i];
            let (Some(node), true) = (&replica.node, replica.phase.is_active()) else {
                continue;
            };
            if let (Some(index), Some(pod)) = (
                self.snapshot.index_of(node),
                self.catalog.pod(&replica.workload, &replica.hash),
            ) {
                without.push((index, pod.clone()));
            }
        }
        without
    }
}

impl<'b> Shared<'b> {
    pub fn new(base: &'b Base, scheduler: &'b Scheduler, options: &'b RunOptions) -> Shared<'b> {
        Shared {
            base,
            scheduler,
            options,
            fast: OnceLock::new(),
        }
    }

    fn fast(&self) -> &Result<Fast, &'static str> {
        self.fast.get_or_init(|| {
            shareable(self.base, self.scheduler, self.options).map(|()| Fast::new(self.base))
        })
    }

    /// Whether scenarios share the base, or why each runs alone.
    pub fn shared(&self) -> Result<(), &'static str> {
        self.fast().as_ref().map(|_| ()).map_err(|why| *why)
    }

    /// `super::scenario(base, failed, …)`, the same report.
    pub fn scenario(&self, failed: &[String]) -> Report {
        self.scenario_of(failed, true)
    }

    /// `scenario`, with only the workloads the failure touches
    /// (`WorkloadImpact::affected`) unless `every_workload`.
    pub fn scenario_of(&self, failed: &[String], every_workload: bool) -> Report {
        // (Until the shared base is made, a failure that touches most
        // replicas does not make it.)
        let fast = match self.fast.get() {
            Some(made) => made,
            None if touches_most(&self.base.state, failed) => {
                &Err("the failure touches most replicas")
            }
            None => self.fast(),
        };
        let mut report = match fast {
            Ok(fast) => fast.scenario(
                self.base,
                failed,
                self.scheduler,
                self.options,
                every_workload,
            ),
            Err(_) => scenario(self.base, failed, self.scheduler, self.options),
        };
        if !every_workload {
            report.workloads.retain(super::WorkloadImpact::affected);
        }
        report
    }
}

/// Whether the workloads with a replica on the `failed` nodes hold more
/// than half of the replicas: then the failure runs on its own copy
/// (`Fast::scenario` finds as much, after making what sharing needs).
fn touches_most(state: &State, failed: &[String]) -> bool {
    let failed: FxHashSet<&str> = failed.iter().map(String::as_str).collect();
    let affected: FxHashSet<&ObjectRef> = state
        .replicas
        .iter()
        .filter(|r| r.node.as_deref().is_some_and(|n| failed.contains(n)))
        .map(|r| &r.workload)
        .collect();
    let kept = state
        .replicas
        .iter()
        .filter(|r| affected.contains(&r.workload))
        .count();
    kept * 2 > state.replicas.len()
}

/// A base whose scenarios can share it: nothing left for the loop to do at
/// any time, no workload waiting on another, and none
/// of the kinds of objects through which workloads act on one another
/// (disruption budgets, priorities, storage, autoscalers, CronJobs).
/// Otherwise, why not.
fn shareable(base: &Base, scheduler: &Scheduler, options: &RunOptions) -> Result<(), &'static str> {
    let desired = &base.desired;
    let state = &base.state;
    let check = |holds: bool, why: &'static str| if holds { Ok(()) } else { Err(why) };
    check(desired.disruption_budgets.is_empty(), "disruption budgets")?;
    check(desired.cron_jobs.is_empty(), "CronJobs")?;
    check(
        desired.autoscalers.is_empty()
            && desired.demands.is_empty()
            && desired.node_groups.is_empty()
            && state.node_groups.is_empty()
            && state.autoscalers.is_empty(),
        "autoscaling",
    )?;
    check(
        desired.storage.claims.is_empty()
            && desired.storage.volumes.is_empty()
            && state.claims.is_empty()
            && state.volumes.is_empty(),
        "storage",
    )?;
    check(!options.atomic && options.advance == 0, "run options")?;
    check(!reconcile::preemption::in_use(desired), "priorities")?;
    check(
        desired.workloads.iter().all(|w| {
            w.depends_on.is_empty()
                && w.stateful
                    .as_ref()
                    .is_none_or(|s| s.claim_templates.is_empty())
                // A bare Pod lost earlier is created again by any run.
                && (w.id.kind != Kind::Pod
                    || state.workload(&w.id).is_none_or(|s| s.status.lost.is_none()))
        }),
        "dependencies, claim templates or lost Pods",
    )?;
    check(
        state.nodes.windows(2).all(|w| w[0].name < w[1].name)
            && state.nodes.iter().all(|n| !n.removing && !n.draining),
        "nodes leaving or draining",
    )?;
    check(
        state
            .replicas
            .iter()
            .all(|r| r.unmanaged.is_none() && r.phase != Phase::Terminating),
        "unmanaged or terminating replicas",
    )?;
    let declared: BTreeSet<&ObjectRef> = desired.workloads.iter().map(|w| &w.id).collect();
    check(
        state
            .replicas
            .iter()
            .all(|r| declared.contains(&r.workload)),
        "undeclared replicas",
    )?;
    let options = after_baseline(options);
    let plan = reconcile::reconcile(desired, state, state.clock, scheduler, &options.reconcile);
    check(plan.actions.is_empty(), "the loop has actions left")?;
    check(plan.wake_at.is_none(), "the loop has events due")
}

impl Fast {
    fn new(base: &Base) -> Fast {
        let state = &base.state;
        let mut on_node: FxHashMap<String, Vec<usize>> = FxHashMap::default();
        let mut of_workload: FxHashMap<ObjectRef, Vec<usize>> = FxHashMap::default();
        for (i, replica) in state.replicas.iter().enumerate() {
            if let Some(node) = &replica.node {
                on_node.entry(node.to_string()).or_default().push(i);
            }
            of_workload
                .entry(replica.workload.clone())
                .or_default()
                .push(i);
        }
        let always = base
            .desired
            .workloads
            .iter()
            .zip(summarize(&base.desired, state, state.clock))
            .filter(|(_, report)| !report.converged() || report.pending > 0)
            .map(|(workload, _)| workload.id.clone())
            .collect();
        Fast {
            always,
            shared: OnceLock::new(),
            on_node,
            of_workload,
            counts: StepCounts::of(base.steps.iter()),
        }
    }

    fn scenario(
        &self,
        base: &Base,
        failed: &[String],
        scheduler: &Scheduler,
        options: &RunOptions,
        every_workload: bool,
    ) -> Report {
        let whole = &base.state;
        let failed_set: BTreeSet<&str> = failed.iter().map(String::as_str).collect();
        let affected: FxHashSet<&ObjectRef> = failed
            .iter()
            .filter_map(|n| self.on_node.get(n))
            .flatten()
            .map(|&i| &whole.replicas[i].workload)
            .chain(&self.always)
            .collect();
        let mut kept: Vec<usize> = affected
            .iter()
            .filter_map(|w| self.of_workload.get(*w))
            .flatten()
            .copied()
            .collect();
        // A failure that takes most of the fleet's workloads (a zone) shares
        // little: it runs on its own copy, as fast and with the same answer.
        if kept.len() * 2 > whole.replicas.len() {
            return scenario(base, failed, scheduler, options);
        }
        kept.sort_unstable();
        let shared = self
            .shared
            .get_or_init(|| Common::new(base, scheduler, options));
        let mut state = partial_state(whole, &affected, &kept);
        let lost = on_nodes(&state, &failed_set);
        let failed_at = state.clock;
        state.fail_nodes(failed);
        let desired = Desired {
            workloads: base
                .desired
                .workloads
                .iter()
                .filter(|w| affected.contains(&w.id))
                .cloned()
                .collect(),
            priority_classes: base.desired.priority_classes.clone(),
            ..Default::default()
        };
        let at_failure = summarize(&desired, &state, state.clock);
        let mut options = scenario_options(options);
        options.reconcile.background = Some(Arc::new(Background {
            snapshot: shared.snapshot.clone(),
            without: shared.without(whole, &kept),
        }));
        // The steps are counted as they come, not kept.
        let mut run = StepCounts::default();
        let never_fails = |_: &State, step: Option<&executor::Step>| {
            if let Some(step) = step {
                run.add(step);
            }
            Ok::<(), std::convert::Infallible>(())
        };
        let result = match executor::run(&desired, &mut state, scheduler, &options, never_fails) {
            Ok(result) => result,
            Err(never) => match never {},
        };
        let tallies = self.tallies(&result, run, &state, &failed_set, &at_failure, lost);
        let mut impacts = workload_impacts(base, &desired.workloads, &result, &tallies).into_iter();
        // (Thousands of scenarios need not copy what they leave unchanged.)
        let workloads = base
            .desired
            .workloads
            .iter()
            .zip(&shared.unchanged.workloads)
            .filter_map(|(workload, unchanged)| {
                if affected.contains(&workload.id) {
                    impacts.next()
                } else {
                    (every_workload || unchanged.affected()).then(|| unchanged.clone())
                }
            })
            .collect();
        Report {
            failed_nodes: failed.to_vec(),
            failed_at,
            clock: result.clock,
            outcome: result.outcome,
            workloads,
            // (A shared base declares no disruption budget.)
            budgets: Vec::new(),
        }
    }

    /// What a scenario's run counts per workload, the base's own steps
    /// included (`lost`: the replicas on the failed nodes when they failed).
    fn tallies(
        &self,
        result: &executor::RunResult,
        run: StepCounts,
        state: &State,
        failed_set: &BTreeSet<&str>,
        at_failure: &[reconcile::WorkloadReport],
        lost: BTreeMap<String, i32>,
    ) -> Tallies {
        let combined = |base: &BTreeMap<String, i32>,
                        run: &BTreeMap<String, i32>,
                        join: fn(i32, i32) -> i32| {
            let mut out = BTreeMap::new();
            for report in &result.workloads {
                let object = &report.object;
                let value = match (base.get(object), run.get(object)) {
                    (Some(a), Some(b)) => join(*a, *b),
                    (Some(v), None) | (None, Some(v)) => *v,
                    (None, None) => continue,
                };
                out.insert(object.clone(), value);
            }
            out
        };
        let in_steps = combined(&self.counts.lowest, &run.lowest, i32::min);
        Tallies {
            stuck: on_nodes(state, failed_set),
            lowest: lowest_available(result, &in_steps, at_failure),
            placed: combined(&self.counts.placed, &run.placed, |a, b| a + b),
            preempted: combined(&self.counts.preempted, &run.preempted, |a, b| a + b),
            lost,
            pending_reasons: pending_reasons(state),
        }
    }
}

/// The base state cut down to the `affected` workloads and their replicas
/// (`kept`, positions in `whole` in order): what a shared scenario runs on.
fn partial_state(whole: &State, affected: &FxHashSet<&ObjectRef>, kept: &[usize]) -> State {
    let mut positions: Vec<usize> = affected
        .iter()
        .filter_map(|id| whole.workload_position(id).ok())
        .collect();
    positions.sort_unstable();
    State {
        api_version: whole.api_version.clone(),
        kind: whole.kind.clone(),
        generation: whole.generation,
        clock: whole.clock,
        epoch: whole.epoch,
        nodes: whole.nodes.clone(),
        workloads: positions
            .into_iter()
            .map(|i| whole.workloads[i].clone())
            .collect(),
        replicas: kept.iter().map(|&i| whole.replicas[i].clone()).collect(),
        events: Vec::new(),
        volumes: Vec::new(),
        claims: Vec::new(),
        node_groups: whole.node_groups.clone(),
        autoscalers: whole.autoscalers.clone(),
    }
}
