//! The CronJob controller (`pkg/controller/cronjob/cronjob_controllerv2.go`,
//! `syncCronJob` and `cleanupFinishedJobs`, Kubernetes 1.34): when the
//! simulated clock passes a schedule time, start its Job (named
//! `<cronjob>-<minutes>`), unless too late for `startingDeadlineSeconds`,
//! or `Forbid` finds one still running (`Replace` deletes it first); keep
//! `successfulJobsHistoryLimit` / `failedJobsHistoryLimit` finished Jobs.
//! The Jobs it starts are Jobs like any other (`job::sync`), built from
//! their stored manifests; they are not part of the `-f` set.

use super::{Action, DeleteReason, Pass};
use crate::manifest::{ParseOptions, parse_stored};
use crate::model::cron::{
    ConcurrencyPolicy, CronJob, CronStatus, most_recent_schedule_time, next_schedule_time,
};
use crate::model::job::JobOutcome;
use crate::model::state::State;
use crate::model::workload::{Desired, Kind, ObjectRef, Workload};

/// The Jobs the declared CronJobs started that still exist, as workloads.
pub fn owned_jobs(desired: &Desired, observed: &State) -> Vec<Workload> {
    if desired.cron_jobs.is_empty() {
        return Vec::new();
    }
    let mut objects = Vec::new();
    let mut names = Vec::new();
    for cron in &desired.cron_jobs {
        let Some(status) = observed
            .workload(&cron.id)
            .and_then(|w| w.status.cron.as_ref())
        else {
            continue;
        };
        for name in &status.jobs {
            let id = ObjectRef::new(Kind::Job, &cron.id.namespace, name);
            if let Some(stored) = observed.workload(&id) {
                names.push(format!("{id}"));
                objects.push(stored.spec.value());
            }
        }
    }
    let pairs = names.iter().map(String::as_str).zip(objects);
    // A stored Job manifest was valid when its CronJob made it.
    parse_stored(pairs, &ParseOptions::default())
        .map(|loaded| loaded.desired.workloads)
        .unwrap_or_default()
}

/// The outcome of a stored Job (None while it runs).
fn outcome(pass: &Pass, id: &ObjectRef) -> Option<JobOutcome> {
    pass.stored(id)
        .and_then(|w| w.status.job.as_ref())
        .and_then(|j| j.outcome)
}

/// One sync of the CronJob controller for `cron`.
pub(super) fn sync(pass: &mut Pass, cron: &CronJob, owned: &[Workload]) {
    let now = pass.now;
    let stored = pass.stored(&cron.id);
    if stored.is_none_or(|s| s.spec != cron.manifest) {
        pass.plan.actions.push(Action::ApplyWorkload {
            workload: cron.id.clone(),
            spec: cron.manifest.clone(),
        });
    }
    let Some(status) = stored.and_then(|w| w.status.cron.as_deref().cloned()) else {
        // First seen now: its creation time.
        pass.plan.actions.push(Action::SetCronStatus {
            cronjob: cron.id.clone(),
            status: Box::new(CronStatus {
                created_at: now,
                ..CronStatus::default()
            }),
        });
        return;
    };
    let jobs: Vec<ObjectRef> = status
        .jobs
        .iter()
        .map(|name| ObjectRef::new(Kind::Job, &cron.id.namespace, name))
        .filter(|id| owned.iter().any(|w| &w.id == id))
        .collect();
    let active: Vec<&ObjectRef> = jobs
        .iter()
        .filter(|id| outcome(pass, id).is_none())
        .collect();
    cleanup_finished(pass, cron, &jobs);
    if cron.suspend {
        return;
    }
    let epoch = pass.observed.epoch;
    let unix = |seconds: u64| epoch + seconds as i64;
    let simulated = |at: i64| (at - epoch).max(0) as u64;
    let created = unix(status.created_at);
    let last = status.last_schedule_time.map(unix);
    if let Some(next) = next_schedule_time(&cron.schedule, created, last, unix(now)) {
        pass.plan.wake_later(simulated(next).max(now + 1));
    }
    let Ok((_, recent, _)) = most_recent_schedule_time(
        &cron.schedule,
        created,
        last,
        cron.starting_deadline_seconds,
        unix(now),
    ) else {
        return;
    };
    let Some(scheduled) = recent.filter(|&t| t <= unix(now)) else {
        return;
    };
    let at = simulated(scheduled);
    let too_late = cron
        .starting_deadline_seconds
        .is_some_and(|deadline| scheduled + deadline < unix(now));
    let name = cron.job_name(scheduled);
    if too_late {
        skip(pass, cron, &status, at, false);
        return;
    }
    if status.jobs.contains(&name) || last == Some(scheduled) {
        return;
    }
    if cron.concurrency_policy == ConcurrencyPolicy::Forbid && !active.is_empty() {
        skip(pass, cron, &status, at, true);
        return;
    }
    if cron.concurrency_policy == ConcurrencyPolicy::Replace {
        for id in active {
            delete_job(pass, cron, id, "replaced by a newer scheduled run");
        }
    }
    pass.plan.actions.push(Action::CreateJob {
        cronjob: cron.id.clone(),
        job: ObjectRef::new(Kind::Job, &cron.id.namespace, &name),
        spec: cron.job_manifest(scheduled).into(),
        scheduled: at,
    });
}

/// A schedule time passed over, reported once.
fn skip(pass: &mut Pass, cron: &CronJob, status: &CronStatus, at: u64, forbidden: bool) {
    if status.last_skipped != Some(at) {
        pass.plan.actions.push(Action::SkipSchedule {
            cronjob: cron.id.clone(),
            scheduled: at,
            forbidden,
        });
    }
}

/// A Job and its pods go.
fn delete_job(pass: &mut Pass, cron: &CronJob, id: &ObjectRef, reason: &str) {
    let observed = pass.observed;
    let pods: Vec<&crate::model::state::Replica> = pass
        .by_workload
        .get(id)
        .into_iter()
        .flatten()
        .map(|&i| &observed.replicas[i])
        .filter(|r| r.phase != crate::model::state::Phase::Terminating)
        .collect();
    for pod in pods {
        pass.deleted.remove(&pod.name);
        pass.delete(pod, DeleteReason::WorkloadRemoved);
    }
    pass.plan.actions.push(Action::DeleteJob {
        cronjob: cron.id.clone(),
        job: id.clone(),
        reason: reason.into(),
    });
}

/// `cleanupFinishedJobs`: beyond the history limits, the oldest finished
/// Jobs (by start time, then name) go.
fn cleanup_finished(pass: &mut Pass, cron: &CronJob, jobs: &[ObjectRef]) {
    let start = |pass: &Pass, id: &ObjectRef| {
        pass.stored(id)
            .and_then(|w| w.status.job.as_ref())
            .and_then(|j| j.start_time)
    };
    for (failed, limit) in [
        (false, cron.successful_jobs_history_limit),
        (true, cron.failed_jobs_history_limit),
    ] {
        let mut finished: Vec<(Option<u64>, &ObjectRef)> = jobs
            .iter()
            .filter(|id| outcome(pass, id).is_some_and(|o| o.failed() == failed))
            .map(|id| (start(pass, id), id))
            .collect();
        if finished.len() <= limit as usize {
            continue;
        }
        // `byJobStartTime`: Jobs without a start time sort last.
        finished.sort_by(|a, b| match (a.0, b.0) {
            (Some(x), Some(y)) => (x, &a.1.name).cmp(&(y, &b.1.name)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.1.name.cmp(&b.1.name),
        });
        let excess = finished.len() - limit as usize;
        for (_, id) in finished.into_iter().take(excess) {
            let reason = if failed {
                "failedJobsHistoryLimit"
            } else {
                "successfulJobsHistoryLimit"
            };
            delete_job(pass, cron, id, reason);
        }
    }
}
