//! The HorizontalPodAutoscalers on the simulated clock. Every
//! `hpa::SYNC_PERIOD` (15 s) each declared HPA is synced
//! (`hpa::reconcile_autoscaler`) with its target's demand split over the
//! target's Ready replicas; a sync that changes the count is a step of its
//! own (`Action::Rescale`), and the Deployment, StatefulSet or ReplicaSet
//! controller then works towards the new count: while an HPA exists, its
//! count is the target's `spec.replicas` (the manifest's is the starting
//! point only).
//!
//! When the clock wakes for the HPAs: a run without `--advance` waits for a
//! sync only while an HPA is unsettled — never synced, or its last sync
//! rescaled, held a change back in a stabilization window, or saw replicas
//! of its target not Ready. A settled HPA's later syncs on the same demand
//! change nothing, so the run ends there; the demand curve's later points
//! are met with `--advance` (and in `watch`), where every sync runs.

use crate::autoscale::demand::{Demand, MetricResource};
use crate::autoscale::hpa::{self, PodSample, PodSource};
use crate::autoscale::metrics::{self, ReplicaView};
use crate::autoscale::spec::Autoscaler;
use crate::autoscale::status::AutoscalerState;
use crate::model::event::EventReason;
use crate::model::state::{Event, EventType, Phase, State};
use crate::model::workload::{Desired, Kind, ObjectRef, Workload};
use crate::reconcile::status::{BlockedReason, WorkloadReport};
use crate::reconcile::{Action, Plan};
use std::collections::HashMap;

/// The loop's view of the HPAs: the declared set with each HPA's count on
/// its target.
#[derive(Clone)]
pub(super) struct Autoscaling {
    /// `None` when no HPA is declared or stored: the declared set as it is.
    scaled: Option<Desired>,
    /// Each workload's position in `scaled`.
    positions: HashMap<ObjectRef, usize>,
    /// The last pass that found nothing to do: the state's generation then,
    /// and when it said the next pass has something to do.
    idle: Option<(u64, Option<u64>, Option<u64>)>,
}

impl Autoscaling {
    pub fn new(declared: &Desired, state: &State) -> Autoscaling {
        if declared.autoscalers.is_empty() && state.autoscalers.is_empty() {
            return Autoscaling {
                scaled: None,
                positions: HashMap::new(),
                idle: None,
            };
        }
        let scaled = declared.clone();
        let positions = scaled
            .workloads
            .iter()
            .enumerate()
            .map(|(i, w)| (w.id.clone(), i))
            .collect();
        let mut autoscaling = Autoscaling {
            scaled: Some(scaled),
            positions,
            idle: None,
        };
        autoscaling.refresh(state);
        autoscaling
    }

    /// One pass at `state.clock`: the HPAs' syncs that are due, and a
    /// rescale as a step of its own; else the controllers' pass. A sync
    /// that changes no count changes nothing the controllers read, so when
    /// the state is the one the last idle pass saw and none of that pass's
    /// events is due yet, that pass stands (a fleet's pass is not repeated
    /// every 15 s).
    pub fn pass(
        &mut self,
        declared: &Desired,
        state: &mut State,
        reconcile: &dyn Fn(&Desired, &State) -> Plan,
    ) -> Plan {
        let rescales = self.sync(declared, state);
        if !rescales.is_empty() {
            self.idle = None;
            return Plan {
                actions: rescales,
                ..Plan::default()
            };
        }
        if let Some((generation, wake_at, later)) = self.idle
            && generation == state.generation
            && earliest(wake_at, later).is_none_or(|at| state.clock < at)
            && !declared.autoscalers.is_empty()
        {
            return Plan {
                wake_at,
                later,
                ..Plan::default()
            };
        }
        let plan = reconcile(self.desired(declared), state);
        self.idle = plan
            .actions
            .is_empty()
            .then_some((state.generation, plan.wake_at, plan.later));
        plan
    }

    /// Whether the run ends from here with no step, only HPA syncs that
    /// change no count (clock no later than `deadline`): run on a copy, and
    /// when it does, the state becomes the copy's end. For a run whose step
    /// budget is spent (`--max-steps`), so that one step at a time ends
    /// where one run does.
    pub fn quiet_end(
        &self,
        declared: &Desired,
        state: &mut State,
        reconcile: &dyn Fn(&Desired, &State) -> Plan,
        deadline: u64,
    ) -> bool {
        let mut probe = state.clone();
        let mut autoscaling = self.clone();
        loop {
            let plan = autoscaling.pass(declared, &mut probe, reconcile);
            if !plan.actions.is_empty() {
                return false;
            }
            match earliest(plan.wake_at, autoscaling.next_sync(declared, &probe, false)) {
                None => {
                    *state = probe;
                    return true;
                }
                Some(at) if at <= deadline => probe.clock = at,
                Some(_) => return false,
            }
        }
    }

    /// The set the controllers work towards.
    pub fn desired<'a>(&'a self, declared: &'a Desired) -> &'a Desired {
        self.scaled.as_ref().unwrap_or(declared)
    }

    /// Each stored HPA's count on its target.
    pub fn refresh(&mut self, state: &State) {
        let Some(scaled) = &mut self.scaled else {
            return;
        };
        for record in &state.autoscalers {
            if let Some(&i) = target_of(record).and_then(|id| self.positions.get(&id)) {
                scaled.workloads[i].replicas = record.status.desired_replicas;
            }
        }
    }

    /// Sync every declared HPA that is due at `state.clock`. The syncs'
    /// status, memory and warnings are written to the state; a change of a
    /// target's count is returned as an action, to be carried out as a step.
    pub fn sync(&mut self, declared: &Desired, state: &mut State) -> Vec<Action> {
        if declared.autoscalers.is_empty() {
            return Vec::new();
        }
        let now = state.clock;
        let due = self.due(declared, state, now);
        if due.is_empty() {
            return Vec::new();
        }
        let mut pods = target_replicas(&due, state);
        let mut actions = Vec::new();
        let mut warnings = Vec::new();
        for (autoscaler, at) in due {
            let target = target_id(autoscaler);
            let views = pods.remove(&target).unwrap_or_default();
            let source = Pods {
                views: &views,
                workload: self.workload(&target),
                demand: declared.demands.get(&target),
                now,
            };
            let record = &mut state.autoscalers[at];
            record.update_spec(autoscaler);
            let spec_replicas = record.status.desired_replicas;
            let before = record.condition("ScalingActive").cloned();
            let sync = hpa::reconcile_autoscaler(
                &autoscaler.spec,
                spec_replicas,
                &source,
                &mut record.memory,
                now as i64,
            );
            record_sync(record, autoscaler, &sync, &views, spec_replicas, now);
            // A warning is recorded when the controller's trouble changes,
            // not at every sync (Kubernetes counts the repeats on one event).
            let changed = record.condition("ScalingActive") != before.as_ref();
            let (rescales, warned) =
                sync_events(&record.id(), &target, spec_replicas, &sync, changed, now);
            actions.extend(rescales);
            warnings.extend(warned);
        }
        for event in warnings {
            state.record_event(event);
        }
        state.trim_events();
        actions
    }

    /// The declared HPAs due for a sync at `now`, with their records'
    /// positions in the state (a new HPA's record is made first).
    fn due<'d>(
        &self,
        declared: &'d Desired,
        state: &mut State,
        now: u64,
    ) -> Vec<(&'d Autoscaler, usize)> {
        let mut due = Vec::new();
        for autoscaler in &declared.autoscalers {
            let at = match position(state, &autoscaler.namespace, &autoscaler.name) {
                Ok(at) => at,
                Err(at) => {
                    let replicas = self
                        .workload(&target_id(autoscaler))
                        .map_or(0, |w| w.replicas);
                    state
                        .autoscalers
                        .insert(at, AutoscalerState::new(autoscaler, replicas, now));
                    at
                }
            };
            let last = state.autoscalers[at].status.last_sync;
            if last.is_none_or(|t| now >= t + hpa::SYNC_PERIOD) {
                due.push((autoscaler, at));
            }
        }
        due
    }

    /// When the next sync is due: of any declared HPA with `every`, else of
    /// the unsettled ones only.
    pub fn next_sync(&self, declared: &Desired, state: &State, every: bool) -> Option<u64> {
        declared
            .autoscalers
            .iter()
            .filter_map(|a| {
                let record = position(state, &a.namespace, &a.name)
                    .ok()
                    .map(|i| &state.autoscalers[i]);
                match record.and_then(|r| r.status.last_sync.map(|t| (r, t))) {
                    None => Some(state.clock),
                    Some((r, t)) if every || !r.status.settled => {
                        let waiting = r.status.awaiting
                            && target_of(r).is_some_and(|target| {
                                replicas_of(state, &target)
                                    == r.status.current_replicas.max(0) as usize
                            });
                        (every || !waiting).then_some(t + hpa::SYNC_PERIOD)
                    }
                    Some(_) => None,
                }
            })
            .min()
            .map(|at| at.max(state.clock + 1))
    }

    fn workload(&self, id: &ObjectRef) -> Option<&Workload> {
        let scaled = self.scaled.as_ref()?;
        self.positions.get(id).map(|&i| &scaled.workloads[i])
    }
}

/// The earlier of two instants, either possibly absent.
pub(super) fn earliest(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// An HPA that leaves the `-f` set is deleted: its target goes back to
/// the manifest's replicas.
pub(super) fn forget_undeclared(desired: &Desired, state: &mut State) {
    state.autoscalers.retain(|record| {
        desired
            .autoscalers
            .iter()
            .any(|a| a.namespace == record.namespace && a.name == record.name)
    });
}

/// Take `target` from its HPA (`what-if --scale`: the count asked for, not
/// the HPA's): the HPA is dropped from the set and the state; the count it
/// had set, if any.
pub fn release_target(desired: &mut Desired, state: &mut State, target: &ObjectRef) -> Option<i32> {
    desired.autoscalers.retain(|a| target_id(a) != *target);
    let at = state
        .autoscalers
        .iter()
        .position(|r| target_of(r).as_ref() == Some(target))?;
    Some(state.autoscalers.remove(at).status.desired_replicas)
}

/// A target blocked by pending replicas while its HPA is at `maxReplicas`
/// is blocked for both reasons: the report's message names the HPA's
/// `ScalingLimited` condition beside the scheduler's.
pub(super) fn annotate_blocked(reports: &mut [WorkloadReport], state: &State) {
    for record in state.autoscalers.iter().filter(|r| r.at_max()) {
        let Some(target) = target_of(record).map(|id| id.to_string()) else {
            continue;
        };
        let Some(report) = reports.iter_mut().find(|r| r.object == target) else {
            continue;
        };
        if let Some(blocked) = &mut report.blocked
            && blocked.reason == BlockedReason::Unschedulable
            && !blocked.message.contains("ScalingLimited")
        {
            blocked.message = format!(
                "{} is at maxReplicas {} (ScalingLimited: TooManyReplicas); FailedScheduling: {}",
                record.id(),
                record.max_replicas,
                blocked.message
            );
        }
    }
}

fn position(state: &State, namespace: &str, name: &str) -> Result<usize, usize> {
    state
        .autoscalers
        .binary_search_by(|r| (r.namespace.as_str(), r.name.as_str()).cmp(&(namespace, name)))
}

fn target_id(autoscaler: &Autoscaler) -> ObjectRef {
    let target = &autoscaler.spec.scale_target_ref;
    ObjectRef::new(
        Kind::parse(&target.kind).unwrap_or(Kind::Deployment),
        &autoscaler.namespace,
        &target.name,
    )
}

/// The replicas of the due HPAs' targets, in one pass over the fleet.
fn target_replicas(
    due: &[(&Autoscaler, usize)],
    state: &State,
) -> HashMap<ObjectRef, Vec<ReplicaView>> {
    let mut pods: HashMap<ObjectRef, Vec<ReplicaView>> = due
        .iter()
        .map(|(autoscaler, _)| (target_id(autoscaler), Vec::new()))
        .collect();
    for replica in &state.replicas {
        if let Some(views) = pods.get_mut(&replica.workload) {
            views.push(ReplicaView {
                started_at: replica.started_at,
                ready_at: replica.ready_at,
                ready: replica.ready,
                terminating: replica.phase == Phase::Terminating,
                failed: replica.phase == Phase::Failed,
                request: None,
            });
        }
    }
    pods
}

/// What one sync says of the HPA, written to its record: when it ran, the
/// target's replicas and metrics, the conditions, and whether it settled
/// (nothing moves until the demand does) or awaits the target's replicas.
fn record_sync(
    record: &mut AutoscalerState,
    autoscaler: &Autoscaler,
    sync: &hpa::Sync,
    views: &[ReplicaView],
    spec_replicas: i32,
    now: u64,
) {
    // A window holds a change back only if the count will move once
    // it passes: a recommendation below minReplicas changes nothing.
    let (min, max) = (autoscaler.spec.min_replicas, autoscaler.spec.max_replicas);
    let proposal = record
        .memory
        .recommendations
        .iter()
        .find(|r| r.time == now as i64)
        .map(|r| r.replicas.clamp(min, max.max(min)));
    let status = &mut record.status;
    // The controller's resync ticks every period: a sync the loop
    // reaches late (it had no reason to wake) keeps the tick's grid.
    status.last_sync = Some(match status.last_sync {
        Some(last) => last + (now - last) / hpa::SYNC_PERIOD * hpa::SYNC_PERIOD,
        None => now,
    });
    status.current_replicas = views.iter().filter(|v| !v.terminating && !v.failed).count() as i32;
    status.current_metrics = sync.current_metrics.iter().map(|&m| m.into()).collect();
    for condition in &sync.conditions {
        match status
            .conditions
            .iter_mut()
            .find(|c| c.kind == condition.kind)
        {
            Some(existing) => *existing = condition.clone(),
            None => status.conditions.push(condition.clone()),
        }
    }
    let held = status.conditions.iter().any(|c| {
        c.kind == "AbleToScale"
            && matches!(
                c.reason.as_str(),
                "ScaleDownStabilized" | "ScaleUpStabilized"
            )
    }) && proposal != Some(sync.desired_replicas);
    // Replicas started but not Ready yet will change the metrics;
    // Pending ones wait for room, which the HPA does not make.
    let starting = views
        .iter()
        .any(|v| v.started_at.is_some() && !v.ready && !v.terminating && !v.failed);
    let counted = views.iter().filter(|v| !v.terminating && !v.failed).count();
    // Metrics that failed only because the replicas are new come
    // once they have been Ready for a sample's window.
    let active = status
        .conditions
        .iter()
        .any(|c| c.kind == "ScalingActive" && c.status == "True");
    let sampled = views.iter().filter(|v| v.ready).all(|v| {
        v.ready_at
            .is_some_and(|t| t + metrics::METRIC_RESOLUTION as u64 <= now)
    });
    let quiet = !sync.rescale && !held && !starting && (active || sampled);
    let complete = counted == spec_replicas.max(0) as usize;
    status.settled = quiet && complete;
    status.awaiting = quiet && !complete;
}

/// A sync's events: a rescale becomes the action that carries it out, a
/// warning is recorded when the controller's trouble `changed`.
fn sync_events(
    id: &str,
    target: &ObjectRef,
    spec_replicas: i32,
    sync: &hpa::Sync,
    changed: bool,
    now: u64,
) -> (Vec<Action>, Vec<Event>) {
    let mut actions = Vec::new();
    let mut warnings = Vec::new();
    for event in &sync.events {
        if event.reason == "SuccessfulRescale" {
            let prefix = format!("New size: {}; reason: ", sync.desired_replicas);
            actions.push(Action::Rescale {
                autoscaler: id.to_string(),
                target: target.clone(),
                from: spec_replicas,
                to: sync.desired_replicas,
                reason: event
                    .message
                    .strip_prefix(&prefix)
                    .unwrap_or(&event.message)
                    .to_string(),
            });
        } else if event.warning && changed {
            warnings.push(Event {
                time: now,
                kind: EventType::Warning,
                reason: match event.reason {
                    "FailedGetResourceMetric" => EventReason::FailedGetResourceMetric,
                    _ => EventReason::FailedComputeMetricsReplicas,
                },
                object: id.to_string(),
                message: event.message.clone(),
            });
        }
    }
    (actions, warnings)
}

/// The target a stored HPA scales (`Kind/name` in its namespace).
pub fn target_of(record: &AutoscalerState) -> Option<ObjectRef> {
    let (kind, name) = record.target.split_once('/')?;
    Some(ObjectRef::new(Kind::parse(kind)?, &record.namespace, name))
}

/// The target's replicas as metrics-server and the pod lister show them.
struct Pods<'a> {
    views: &'a [ReplicaView],
    workload: Option<&'a Workload>,
    demand: Option<&'a Demand>,
    now: u64,
}

impl PodSource for Pods<'_> {
    fn pods(&self, resource: MetricResource) -> Vec<PodSample> {
        let request = self.workload.and_then(|w| {
            let milli = match resource {
                MetricResource::Cpu => w.pod.requests.milli_cpu,
                MetricResource::Memory => w.pod.requests.memory.saturating_mul(1000),
            };
            (milli > 0).then_some(milli)
        });
        let views: Vec<ReplicaView> = self
            .views
            .iter()
            .map(|v| ReplicaView { request, ..*v })
            .collect();
        metrics::samples(self.demand, resource, &views, self.now)
    }
}

/// How many replicas of `target` run or wait to (neither terminating nor failed).
fn replicas_of(state: &State, target: &ObjectRef) -> usize {
    state
        .replicas
        .iter()
        .filter(|r| {
            &r.workload == target && r.phase != Phase::Terminating && r.phase != Phase::Failed
        })
        .count()
}

/// Each stored HPA after a step, its target's replicas from the step's reports.
pub(super) fn step_status(
    state: &State,
    reports: &[WorkloadReport],
) -> Vec<super::AutoscalerStatus> {
    if state.autoscalers.is_empty() {
        return Vec::new();
    }
    let counts: HashMap<&str, i32> = reports
        .iter()
        .map(|r| (r.object.as_str(), r.current))
        .collect();
    state
        .autoscalers
        .iter()
        .map(|record| {
            let target = target_of(record)
                .map(|id| id.to_string())
                .unwrap_or_default();
            let current = counts.get(target.as_str()).copied().unwrap_or(0);
            super::AutoscalerStatus {
                object: record.id(),
                target,
                desired: record.status.desired_replicas,
                current,
            }
        })
        .collect()
}
