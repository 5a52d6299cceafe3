//! Per-workload counts and conditions, derived from the state (never stored
//! twice): what `plan`/`apply` report after each step and at the end.

use super::daemonset::{daemon_pod, node_should_run};
use super::deployment::is_available;
use crate::model::condition::{ConditionReason, ConditionStatus, ConditionType};
use crate::model::state::{Phase, Replica, State, WorkloadState};
use crate::model::words::words;
use crate::model::workload::{Desired, ObjectRef, Workload, WorkloadKind};
use crate::rollout;
use rustc_hash::FxHashMap as HashMap;

mod batch;
use batch::{cron_report, job_report};

words! {
    /// Why a workload does not converge: `blocked.reason` in the documents.
    pub enum BlockedReason {
        /// A replica fits on no node (the message is kube-scheduler's).
        Unschedulable => "Unschedulable",
        /// No surge room and no unavailability allowed, and a new replica
        /// cannot be placed: the rollout cannot move.
        RolloutDeadlock => "RolloutDeadlock",
        /// A paused rollout waits for `orch rollout resume`.
        Paused => "Paused",
        /// Waits for its `orch.dev/depends-on` dependencies to be available.
        WaitingForDependency => "WaitingForDependency",
        /// The Deployment's Progressing condition says so.
        ProgressDeadlineExceeded => "ProgressDeadlineExceeded",
        /// The loop ended with the workload short of available replicas.
        RolloutStalled => "RolloutStalled",
        /// The simulated time budget ran out first.
        Timeout => "Timeout",
        /// A StatefulSet replica is left Terminating on a node that is not
        /// ready; its identity is not replaced until the node is dealt with.
        StuckTerminating => "StuckTerminating",
        /// A Job failed: more failed pods than `backoffLimit`.
        BackoffLimitExceeded => "BackoffLimitExceeded",
        /// A Job failed: active longer than `activeDeadlineSeconds`.
        DeadlineExceeded => "DeadlineExceeded",
        /// An Indexed Job failed: indexes past `backoffLimitPerIndex`.
        FailedIndexes => "FailedIndexes",
        /// A bare Pod was deleted (evicted, its node gone) and nothing replaces it.
        PodLost => "PodLost",
        /// A replica carries `spec.schedulingGates`: it is not scheduled
        /// until an apply removes them.
        SchedulingGated => "SchedulingGated",
        /// The kubelet of the node a replica names (`spec.nodeName`) refused it.
        Rejected => "Rejected",
    }
}

impl BlockedReason {
    /// Blocked for good: only a change to the manifests or the fleet helps,
    /// so the loop stops waiting for it.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            BlockedReason::RolloutDeadlock
                | BlockedReason::ProgressDeadlineExceeded
                | BlockedReason::Paused
                | BlockedReason::StuckTerminating
                | BlockedReason::BackoffLimitExceeded
                | BlockedReason::DeadlineExceeded
                | BlockedReason::FailedIndexes
                | BlockedReason::PodLost
                | BlockedReason::SchedulingGated
                | BlockedReason::Rejected
        )
    }
}

impl Blocked {
    pub fn is_terminal(&self) -> bool {
        self.reason.is_terminal()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked {
    pub reason: BlockedReason,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionReport {
    pub kind: ConditionType,
    pub status: ConditionStatus,
    pub reason: Option<ConditionReason>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadReport {
    pub object: String,
    pub desired: i32,
    /// Replicas not terminating (pending ones included).
    pub current: i32,
    pub ready: i32,
    pub available: i32,
    /// Replicas of the newest revision.
    pub updated: i32,
    pub pending: i32,
    /// OnDelete: old replicas are replaced only when deleted, so being
    /// up to date is not part of converging.
    pub on_delete: bool,
    /// A StatefulSet's partition: replicas below it keep their revision, so
    /// the rollout is done once every ordinal at or above it is updated.
    pub partition: i32,
    pub conditions: Vec<ConditionReport>,
    pub blocked: Option<Blocked>,
    /// A Job's progress (None for other kinds).
    pub job: Option<JobReport>,
    /// A CronJob's schedule and Jobs (None for other kinds).
    pub cron: Option<CronReport>,
}

/// A CronJob, as `kubectl get cronjobs` shows it (simulated seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronReport {
    /// Its Jobs still running.
    pub active: i32,
    pub last_schedule: Option<u64>,
    pub next_schedule: Option<u64>,
    pub suspended: bool,
}

/// A Job's pods and condition, as `kubectl get jobs` reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobReport {
    pub active: i32,
    pub succeeded: i32,
    pub failed: i32,
    /// `spec.completions` (None: one success completes the Job).
    pub completions: Option<i32>,
    pub outcome: Option<crate::model::job::JobOutcome>,
    pub suspended: bool,
    /// When the Job started and when it finished (simulated seconds).
    pub start_time: Option<u64>,
    pub finished_at: Option<u64>,
}

impl JobReport {
    /// `Complete`, `Failed`, `Suspended` or `Running`, as `kubectl get jobs` prints STATUS.
    pub fn status_word(&self) -> &'static str {
        match self.outcome {
            Some(crate::model::job::JobOutcome::Complete) => "Complete",
            Some(_) => "Failed",
            None if self.suspended => "Suspended",
            None => "Running",
        }
    }
}

impl WorkloadReport {
    pub fn converged(&self) -> bool {
        if self.cron.is_some() {
            return true;
        }
        if let Some(job) = &self.job {
            return job.outcome == Some(crate::model::job::JobOutcome::Complete)
                || (job.suspended && job.outcome.is_none() && self.current == 0);
        }
        self.pending == 0
            && self.current == self.desired
            && (self.on_delete || self.updated >= self.desired - self.partition)
            && self.ready == self.desired
            && self.available == self.desired
    }
}

/// A workload is available to its dependents (`orch.dev/depends-on`) once
/// every desired replica runs its newest template and is available.
pub fn fully_available(workload: &Workload, state: &State, now: u64) -> bool {
    // A Job is there for its dependents once Complete.
    if workload.job.is_some() {
        return state.workload(&workload.id).is_some_and(|w| {
            w.status.job.as_ref().and_then(|j| j.outcome)
                == Some(crate::model::job::JobOutcome::Complete)
        });
    }
    let available = state
        .replicas
        .iter()
        .filter(|r| {
            r.workload == workload.id
                && r.phase.is_active()
                && r.hash == workload.template_hash
                && is_available(r, workload.min_ready_seconds, now)
        })
        .count() as i32;
    available >= desired_count(workload, state)
}

/// The first dependency of `workload` that is not yet available.
pub fn waiting_for<'a>(
    desired: &'a Desired,
    workload: &Workload,
    state: &State,
    now: u64,
) -> Option<&'a Workload> {
    workload.depends_on.iter().find_map(|id| {
        desired
            .workloads
            .iter()
            .find(|w| &w.id == id)
            .filter(|dependency| !fully_available(dependency, state, now))
    })
}

fn desired_count(workload: &Workload, state: &State) -> i32 {
    desired_of(workload, daemon_nodes(workload, state).as_deref())
}

/// A DaemonSet's verdict for each node of the state, in its order: whether
/// the node should run one (`None` for a Deployment).
fn daemon_nodes(workload: &Workload, state: &State) -> Option<Vec<bool>> {
    (workload.kind() == WorkloadKind::DaemonSet).then(|| {
        let pod = daemon_pod(&workload.pod, "");
        state
            .nodes
            .iter()
            .map(|n| node_should_run(&pod, n).0)
            .collect()
    })
}

/// How many replicas the workload wants, from its `daemon_nodes`.
fn desired_of(workload: &Workload, daemon_nodes: Option<&[bool]>) -> i32 {
    match daemon_nodes {
        Some(nodes) => nodes.iter().filter(|&&run| run).count() as i32,
        None => workload.replicas,
    }
}

/// Each workload's report (counts, conditions, blocked reason) on `state`
/// at `now`: one pass over the replicas gathers every count of every
/// workload (`count_replicas`), then each workload's report is finished
/// from them (`finish_report`).
pub fn summarize(desired: &Desired, state: &State, now: u64) -> Vec<WorkloadReport> {
    // DaemonSets: whether each node should run one, in the state's node order.
    let should_run: Vec<Option<Vec<bool>>> = desired
        .workloads
        .iter()
        .map(|w| daemon_nodes(w, state))
        .collect();
    let mut reports: Vec<WorkloadReport> = desired
        .workloads
        .iter()
        .zip(&should_run)
        .map(|(workload, should_run)| empty_report(workload, should_run.as_deref()))
        .collect();
    count_replicas(desired, state, now, &should_run, &mut reports);
    let stored_workloads = super::stored_workloads(state);
    let job_replicas = super::job::replicas_by_job(desired, state);
    for (workload, report) in desired.workloads.iter().zip(&mut reports) {
        let stored = super::stored_workload(&stored_workloads, &workload.id)
            .filter(|w| w.kind == workload.id.kind);
        if let Some(spec) = workload.job.as_deref() {
            let replicas = job_replicas
                .get(&workload.id)
                .map_or(&[][..], Vec::as_slice);
            job_report(spec, workload, stored, replicas, report);
            continue;
        }
        finish_report(desired, workload, stored, state, now, report);
    }
    for cron in &desired.cron_jobs {
        reports.push(cron_report(cron, state, now));
    }
    reports
}

/// A workload's report before its replicas are counted.
fn empty_report(workload: &Workload, should_run: Option<&[bool]>) -> WorkloadReport {
    WorkloadReport {
        object: workload.id.to_string(),
        desired: desired_of(workload, should_run),
        current: 0,
        ready: 0,
        available: 0,
        updated: 0,
        pending: 0,
        on_delete: workload.strategy == crate::model::workload::Strategy::OnDelete,
        partition: workload
            .stateful
            .as_ref()
            .map_or(0, |s| s.partition.min(workload.replicas)),
        conditions: Vec::new(),
        blocked: None,
        job: None,
        cron: None,
    }
}

/// The one pass over the replicas: each counted in its workload's report
/// (`reports`, in the order of `desired.workloads`), with the first reason
/// one of them blocks it.
fn count_replicas(
    desired: &Desired,
    state: &State,
    now: u64,
    should_run: &[Option<Vec<bool>>],
    reports: &mut [WorkloadReport],
) {
    let mut index: HashMap<&ObjectRef, usize> = HashMap::default();
    for (i, workload) in desired.workloads.iter().enumerate() {
        index.insert(&workload.id, i);
    }
    // Replicas of one workload mostly sit next to each other: one lookup per run.
    let mut last: Option<(&ObjectRef, usize)> = None;
    // A DaemonSet's replicas mostly follow the node order: the node after
    // the last one found is tried before a search.
    let mut next_node = 0usize;
    let mut node_position = |name: &str| {
        let position = match state.nodes.get(next_node) {
            Some(node) if node.name == name => Some(next_node),
            _ => state.node_position(name).ok(),
        };
        next_node = position.map_or(0, |p| p + 1);
        position
    };
    for replica in &state.replicas {
        if !replica.phase.is_active() {
            if let Some(&i) = index.get(&replica.workload)
                && reports[i].blocked.is_none()
            {
                reports[i].blocked = inactive_blocked(replica, state);
            }
            continue;
        }
        let i = match last {
            Some((workload, i)) if *workload == replica.workload => i,
            _ => {
                let Some(&i) = index.get(&replica.workload) else {
                    continue;
                };
                last = Some((&replica.workload, i));
                i
            }
        };
        let workload = &desired.workloads[i];
        // A DaemonSet replica kept on a node it would no longer be placed on
        // (an untolerated NoSchedule taint) is misscheduled, not counted.
        if let Some(nodes) = &should_run[i]
            && let Some(position) = replica.node.as_deref().and_then(&mut node_position)
            && !nodes[position]
        {
            continue;
        }
        let report = &mut reports[i];
        report.current += 1;
        report.ready += i32::from(replica.ready);
        report.available += i32::from(is_available(replica, workload.min_ready_seconds, now));
        report.updated += i32::from(replica.hash == workload.template_hash);
        if replica.node.is_none() {
            report.pending += 1;
            if report.blocked.is_none() {
                report.blocked = pending_blocked(replica, workload, state);
            }
        }
    }
}

/// What a replica that is no longer active (terminating, or ended) says
/// blocks its workload, if anything.
fn inactive_blocked(replica: &Replica, state: &State) -> Option<Blocked> {
    if replica.phase == Phase::Terminating {
        // A StatefulSet replica left Terminating on a lost node holds its identity.
        return crate::model::stateful::stays_terminating(
            replica,
            replica.node.as_deref().and_then(|n| state.node(n)),
        )
        .then(|| stuck_terminating(replica));
    }
    super::admission::is_rejected(replica).then(|| Blocked {
        reason: BlockedReason::Rejected,
        message: format!(
            "{} was rejected by the kubelet of node {} ({}): it names its node (spec.nodeName), so no scheduler places it elsewhere",
            replica.name,
            replica.node.as_deref().unwrap_or_default(),
            replica.reason.as_deref().unwrap_or_default(),
        ),
    })
}

/// Why a pending (unbound) replica of `workload` blocks it, if it does.
fn pending_blocked(replica: &Replica, workload: &Workload, state: &State) -> Option<Blocked> {
    // A pod naming a node that does not exist: nothing acts on it.
    if replica.reason.is_none()
        && replica.hash == workload.template_hash
        && let Some(name) = &workload.pod.node_name
        && state.node(name).is_none()
    {
        return Some(Blocked {
            reason: BlockedReason::Unschedulable,
            message: format!(
                "{} names node {name} (spec.nodeName), which does not exist: no scheduler places it and no kubelet runs it",
                replica.name
            ),
        });
    }
    let gated_old = replica.hash != workload.template_hash
        && crate::scheduler::plugins::scheduling_gates::is_gated(replica.reason.as_deref());
    // A gated replica of an older template waits for the rollout to remove it.
    if gated_old {
        return None;
    }
    let reason = replica.reason.as_ref()?;
    let deadlocked = replica.hash == workload.template_hash
        && workload.kind() == WorkloadKind::Deployment
        && rollout::max_unavailable(&workload.strategy, workload.replicas) == 0
        && state.replicas.iter().any(|r| {
            r.workload == workload.id && r.hash != workload.template_hash && r.phase.is_active()
        });
    let gated = crate::scheduler::plugins::scheduling_gates::is_gated(Some(reason));
    Some(if gated {
        Blocked {
            reason: BlockedReason::SchedulingGated,
            message: format!("{} is {reason}", replica.name),
        }
    } else if deadlocked {
        Blocked {
            reason: BlockedReason::RolloutDeadlock,
            message: format!(
                "maxUnavailable is 0, so no old replica may go before a new one is available, and no new replica can be placed: {reason}"
            ),
        }
    } else {
        Blocked {
            reason: BlockedReason::Unschedulable,
            message: reason.clone(),
        }
    })
}

/// A (non-Job) workload's report once its replicas are counted: a lost
/// bare Pod, a paused rollout, the stored Progressing condition and the
/// dependencies it waits for, then its Available condition first.
fn finish_report(
    desired: &Desired,
    workload: &Workload,
    stored: Option<&WorkloadState>,
    state: &State,
    now: u64,
    report: &mut WorkloadReport,
) {
    if workload.id.kind == crate::model::workload::Kind::Pod
        && report.current == 0
        && let Some(loss) = stored.and_then(|w| w.status.lost.as_deref())
    {
        let (at, why) = (loss.at, &loss.reason);
        report.blocked = Some(Blocked {
            reason: BlockedReason::PodLost,
            message: format!(
                "the bare Pod was deleted at t={} ({why}); nothing recreates it until its manifest is applied again",
                crate::model::time::duration(at)
            ),
        });
    }
    // A paused Deployment is still scaled (`sync`): it is held only once
    // what it runs is placed and available.
    if report.blocked.is_none()
        && !report.converged()
        && report.pending == 0
        && report.available == report.current
        && (workload.paused || stored.is_some_and(|w| w.status.paused))
    {
        report.blocked = Some(Blocked {
            reason: BlockedReason::Paused,
            message: format!(
                "the rollout is paused: `orch rollout resume {}`",
                workload.id
            ),
        });
    }
    if let Some(progressing) = stored.and_then(|w| w.status.condition(ConditionType::Progressing)) {
        if report.blocked.is_none()
            && progressing.reason == Some(ConditionReason::ProgressDeadlineExceeded)
        {
            report.blocked = Some(Blocked {
                reason: BlockedReason::ProgressDeadlineExceeded,
                message: progressing.message.clone(),
            });
        }
        report.conditions.push(ConditionReport {
            kind: progressing.kind,
            status: progressing.status,
            reason: progressing.reason.clone(),
            message: progressing.message.clone(),
        });
    }
    if report.blocked.is_none()
        && report.updated < report.desired
        && let Some(dependency) = waiting_for(desired, workload, state, now)
    {
        report.blocked = Some(Blocked {
            reason: BlockedReason::WaitingForDependency,
            message: format!("waiting for {} to be available", dependency.id),
        });
    }
    report
        .conditions
        .insert(0, available_condition(workload, report));
}

/// Why a StatefulSet waits on a replica left Terminating on a lost node.
fn stuck_terminating(replica: &Replica) -> Blocked {
    Blocked {
        reason: BlockedReason::StuckTerminating,
        message: crate::model::stateful::terminating_message(replica),
    }
}

/// `Available` as the Deployment controller sets it.
fn available_condition(workload: &Workload, report: &WorkloadReport) -> ConditionReport {
    let minimum = report.desired - rollout::max_unavailable(&workload.strategy, report.desired);
    let (status, reason, message) = if report.available >= minimum {
        (
            ConditionStatus::True,
            ConditionReason::MinimumReplicasAvailable,
            "Deployment has minimum availability.",
        )
    } else {
        (
            ConditionStatus::False,
            ConditionReason::MinimumReplicasUnavailable,
            "Deployment does not have minimum availability.",
        )
    };
    ConditionReport {
        kind: ConditionType::Available,
        status,
        reason: Some(reason),
        message: message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::BlockedReason;

    /// `blocked.reason` reads as before it was typed; the loop stops
    /// waiting only for the reasons nothing but a change can lift.
    #[test]
    fn blocked_reasons_are_their_words_and_three_are_terminal() {
        let table = [
            (BlockedReason::Unschedulable, "Unschedulable", false),
            (BlockedReason::RolloutDeadlock, "RolloutDeadlock", true),
            (BlockedReason::Paused, "Paused", true),
            (
                BlockedReason::WaitingForDependency,
                "WaitingForDependency",
                false,
            ),
            (
                BlockedReason::ProgressDeadlineExceeded,
                "ProgressDeadlineExceeded",
                true,
            ),
            (BlockedReason::RolloutStalled, "RolloutStalled", false),
            (BlockedReason::Timeout, "Timeout", false),
            (BlockedReason::StuckTerminating, "StuckTerminating", true),
            (
                BlockedReason::BackoffLimitExceeded,
                "BackoffLimitExceeded",
                true,
            ),
            (BlockedReason::DeadlineExceeded, "DeadlineExceeded", true),
            (BlockedReason::FailedIndexes, "FailedIndexes", true),
            (BlockedReason::PodLost, "PodLost", true),
            (BlockedReason::SchedulingGated, "SchedulingGated", true),
            (BlockedReason::Rejected, "Rejected", true),
        ];
        assert_eq!(BlockedReason::ALL.len(), table.len());
        for (reason, text, terminal) in table {
            assert_eq!(reason.to_string(), text);
            assert_eq!(text.parse::<BlockedReason>(), Ok(reason));
            let json = serde_json::to_string(&reason).unwrap();
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(
                serde_json::from_str::<BlockedReason>(&json).unwrap(),
                reason
            );
            assert_eq!(reason.is_terminal(), terminal, "{reason}");
        }
    }
}
