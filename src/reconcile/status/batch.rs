//! The reports of Jobs and CronJobs: their pods' counts, condition and
//! blocked reason, as `kubectl get jobs|cronjobs` reads them.

use super::*;

/// A CronJob's Jobs, as `kubectl get cronjobs` reads them: always
/// converged (its Jobs run on their own time and do not count).
pub(super) fn cron_report(
    cron: &crate::model::cron::CronJob,
    state: &State,
    now: u64,
) -> WorkloadReport {
    let status = state
        .workload(&cron.id)
        .and_then(|w| w.status.cron.as_deref().cloned())
        .unwrap_or_default();
    let jobs: Vec<&crate::model::state::WorkloadState> = status
        .jobs
        .iter()
        .filter_map(|name| {
            state.workload(&ObjectRef::new(
                crate::model::workload::Kind::Job,
                &cron.id.namespace,
                name,
            ))
        })
        .collect();
    let active = jobs
        .iter()
        .filter(|w| w.status.job.as_ref().is_none_or(|j| j.outcome.is_none()))
        .count() as i32;
    let epoch = state.epoch;
    let next = crate::model::cron::next_schedule_time(
        &cron.schedule,
        epoch + status.created_at as i64,
        status.last_schedule_time.map(|t| epoch + t as i64),
        epoch + now as i64,
    )
    .map(|at| (at - epoch).max(0) as u64);
    WorkloadReport {
        object: cron.id.to_string(),
        desired: 0,
        current: active,
        ready: 0,
        available: 0,
        updated: 0,
        pending: 0,
        on_delete: true,
        conditions: Vec::new(),
        blocked: None,
        job: None,
        partition: 0,
        cron: Some(CronReport {
            active,
            last_schedule: status.last_schedule_time,
            next_schedule: next.filter(|_| !cron.suspend),
            suspended: cron.suspend,
        }),
    }
}

/// A Job's counts, condition and blocked reason: `desired` is its
/// completions, `available` and `updated` its succeeded ones.
pub(super) fn job_report(
    spec: &crate::model::job::JobSpec,
    workload: &Workload,
    stored: Option<&crate::model::state::WorkloadState>,
    replicas: &[&crate::model::state::Replica],
    report: &mut WorkloadReport,
) {
    let pods = crate::reconcile::job::pods_of(&workload.id, replicas);
    let status = stored
        .and_then(|w| w.status.job.clone())
        .unwrap_or_default();
    // Once finished, the counts recorded then (the pods may be gone since).
    let (succeeded, failed) = match status.outcome {
        Some(_) => (status.succeeded, status.failed),
        None => (pods.completed(spec), pods.failed.len() as i32),
    };
    let job = JobReport {
        active: pods.active.len() as i32,
        succeeded,
        failed,
        completions: spec.completions,
        outcome: status.outcome,
        suspended: spec.suspend,
        start_time: status.start_time,
        finished_at: status.finished_at,
    };
    report.desired = spec.completions.unwrap_or(1);
    report.available = succeeded;
    report.updated = succeeded;
    if let Some(outcome) = status.outcome {
        let failed = outcome.failed();
        report.conditions.push(ConditionReport {
            kind: if failed {
                ConditionType::Failed
            } else {
                ConditionType::Complete
            },
            status: ConditionStatus::True,
            reason: Some(ConditionReason::Other(outcome.reason().to_string())),
            message: outcome.message().to_string(),
        });
        if failed {
            report.blocked = Some(Blocked {
                reason: match outcome {
                    crate::model::job::JobOutcome::DeadlineExceeded => {
                        BlockedReason::DeadlineExceeded
                    }
                    crate::model::job::JobOutcome::BackoffLimitExceeded => {
                        BlockedReason::BackoffLimitExceeded
                    }
                    _ => BlockedReason::FailedIndexes,
                },
                message: format!(
                    "{} ({} failed, {} succeeded)",
                    outcome.message(),
                    job.failed,
                    job.succeeded
                ),
            });
        } else {
            report.blocked = None;
        }
    } else if spec.suspend {
        report.conditions.push(ConditionReport {
            kind: ConditionType::Suspended,
            status: ConditionStatus::True,
            reason: Some(ConditionReason::Other("JobSuspended".into())),
            message: "Job suspended".into(),
        });
    }
    report.job = Some(job);
}
