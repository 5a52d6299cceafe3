//! The Job controller (`pkg/controller/job/job_controller.go`, Kubernetes
//! 1.34) over simulated pods: pods run for `orch.dev/run-for` and succeed, or
//! fail after `orch.dev/simulate: fail-after=D`; the controller keeps up to
//! `parallelism` pods active until `completions` succeeded (per index for an
//! Indexed Job), replaces failed pods after the exponential back-off, and
//! fails the Job past `backoffLimit`, `backoffLimitPerIndex` or
//! `activeDeadlineSeconds`. Suspended Jobs have no active pod; finished Jobs
//! keep their pods (Succeeded or Failed) until `ttlSecondsAfterFinished`.

use super::{Action, DeleteReason, NO_NODE, Pass};
use crate::model::job::{
    self, JobOutcome, JobSpec, JobStatus, MAX_POD_FAILURE_BACKOFF, POD_FAILURE_BACKOFF,
};
use crate::model::pod::Simulate;
use crate::model::state::{NodeState, Phase, Replica, State};
use crate::model::workload::{ObjectRef, Workload};
use std::collections::{BTreeMap, BTreeSet};

/// The completion index of an Indexed Job's pod, from its name
/// `<job>-<index>-<suffix>` (the `batch.kubernetes.io/job-completion-index`
/// annotation the controller sets).
pub fn completion_index(job: &ObjectRef, replica: &str) -> Option<u32> {
    let rest = replica.strip_prefix(&*job.name)?.strip_prefix('-')?;
    let (index, suffix) = rest.split_once('-')?;
    (suffix.len() == 5 && !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit()))
        .then(|| index.parse().ok())
        .flatten()
}

/// When a running pod of a Job finishes, and whether it succeeds.
pub fn finish_of(pod: &crate::model::pod::PodSpec, replica: &Replica) -> Option<(u64, bool)> {
    let started = replica.started_at?;
    Some(match pod.simulate {
        Some(Simulate::FailAfter(after)) => (started + after, false),
        _ => (started + pod.run_for, true),
    })
}

/// A Job's pods as the controller counts them.
#[derive(Debug, Default)]
pub struct JobPods<'a> {
    pub active: Vec<&'a Replica>,
    /// Finish times of the succeeded and failed pods.
    pub succeeded: Vec<u64>,
    pub failed: Vec<u64>,
    /// Indexed Jobs: indexes with a succeeded pod, and each index's failures
    /// (count, newest finish time).
    pub succeeded_indexes: BTreeSet<u32>,
    pub index_failures: BTreeMap<u32, (u32, u64)>,
}

impl<'a> JobPods<'a> {
    fn count(&mut self, id: &ObjectRef, replica: &'a Replica, phase: Phase, at: u64) {
        let index = completion_index(id, &replica.name);
        match phase {
            Phase::Succeeded => {
                self.succeeded.push(at);
                self.succeeded_indexes.extend(index);
            }
            Phase::Failed => {
                self.failed.push(at);
                if let Some(index) = index {
                    let entry = self.index_failures.entry(index).or_default();
                    entry.0 += 1;
                    entry.1 = entry.1.max(at);
                }
            }
            _ => self.active.push(replica),
        }
    }

    /// Succeeded completions: distinct indexes for an Indexed Job.
    pub fn completed(&self, spec: &JobSpec) -> i32 {
        if spec.indexed() {
            self.succeeded_indexes.len() as i32
        } else {
            self.succeeded.len() as i32
        }
    }

    /// Indexes that failed more than `backoffLimitPerIndex` times.
    pub fn failed_indexes(&self, spec: &JobSpec) -> Vec<u32> {
        let Some(limit) = spec.backoff_limit_per_index else {
            return Vec::new();
        };
        self.index_failures
            .iter()
            .filter(|(index, (count, _))| {
                *count as i64 > i64::from(limit) && !self.succeeded_indexes.contains(index)
            })
            .map(|(index, _)| *index)
            .collect()
    }
}

/// A Job's pods as they stand (for reports), from its replicas.
pub fn pods_of<'a>(workload: &ObjectRef, replicas: &[&'a Replica]) -> JobPods<'a> {
    let mut pods = JobPods::default();
    for &replica in replicas {
        if replica.phase == Phase::Terminating {
            continue;
        }
        let at = replica.finished_at.unwrap_or(replica.created_at);
        pods.count(workload, replica, replica.phase, at);
    }
    pods
}

/// The replicas of every Job of `desired`, by Job, in one pass over the state.
pub fn replicas_by_job<'a>(
    desired: &'a crate::model::workload::Desired,
    state: &'a State,
) -> rustc_hash::FxHashMap<&'a ObjectRef, Vec<&'a Replica>> {
    let mut by_job: rustc_hash::FxHashMap<&ObjectRef, Vec<&Replica>> = desired
        .workloads
        .iter()
        .filter(|w| w.job.is_some())
        .map(|w| (&w.id, Vec::new()))
        .collect();
    if !by_job.is_empty() {
        for replica in &state.replicas {
            if let Some(list) = by_job.get_mut(&replica.workload) {
                list.push(replica);
            }
        }
    }
    by_job
}

/// Whether the Job, with these pods, is done, and how
/// (`enactJobFinished`'s conditions, in the controller's order of checks).
fn outcome(spec: &JobSpec, pods: &JobPods) -> Option<JobOutcome> {
    let failures = pods.failed.len() as i64;
    if spec.backoff_limit_per_index.is_none() && failures > i64::from(spec.backoff_limit) {
        return Some(JobOutcome::BackoffLimitExceeded);
    }
    let failed_indexes = pods.failed_indexes(spec);
    if let Some(max) = spec.max_failed_indexes
        && failed_indexes.len() as i64 > i64::from(max)
    {
        return Some(JobOutcome::MaxFailedIndexesExceeded);
    }
    let completed = pods.completed(spec);
    match spec.completions {
        Some(completions) if spec.indexed() => {
            if completed >= completions {
                return Some(JobOutcome::Complete);
            }
            if !failed_indexes.is_empty()
                && completed + failed_indexes.len() as i32 >= completions
                && pods.active.is_empty()
            {
                return Some(JobOutcome::FailedIndexes);
            }
            None
        }
        Some(completions) => (completed >= completions).then_some(JobOutcome::Complete),
        // No completions: done once one succeeded and none is left running.
        None => (completed >= 1 && pods.active.is_empty()).then_some(JobOutcome::Complete),
    }
}

/// One sync of the Job controller for `workload` (a Job): its pods
/// counted (those ending now finished), then a finished Job expires, a
/// suspended one stops its pods, one that reached its end finishes, and
/// any other makes the pods it lacks.
pub(super) fn sync(pass: &mut Pass, workload: &Workload, nodes: &[NodeState]) {
    let Some(spec) = workload.job.as_deref() else {
        return;
    };
    let now = pass.now;
    let status = pass
        .stored(&workload.id)
        .and_then(|w| w.status.job.as_deref().cloned())
        .unwrap_or_default();
    let mut pods = observe(pass, workload, nodes, &status);
    if status.outcome.is_some() {
        expire(pass, workload, spec, &status);
        return;
    }
    if spec.suspend {
        for replica in pods.active {
            pass.delete(replica, DeleteReason::JobSuspended);
        }
        if status.start_time.is_some() {
            set_status(pass, workload, JobStatus::default());
        }
        return;
    }
    let start = status.start_time.unwrap_or(now);
    let deadline = spec.active_deadline_seconds.map(|d| start + d);
    let verdict = match deadline {
        Some(at) if at <= now => Some(JobOutcome::DeadlineExceeded),
        _ => outcome(spec, &pods),
    };
    if let Some(verdict) = verdict {
        let reason = if verdict == JobOutcome::Complete {
            DeleteReason::JobFinished("Complete".into())
        } else {
            DeleteReason::JobFinished(verdict.reason().into())
        };
        for replica in std::mem::take(&mut pods.active) {
            pass.delete(replica, reason.clone());
        }
        let finished = JobStatus {
            start_time: Some(start),
            outcome: Some(verdict),
            finished_at: Some(now),
            expired: false,
            succeeded: pods.completed(spec),
            failed: pods.failed.len() as i32,
        };
        pass.plan.actions.push(Action::FinishJob {
            workload: workload.id.clone(),
            status: finished.clone(),
        });
        expire(pass, workload, spec, &finished);
        return;
    }
    if status.start_time.is_none() {
        set_status(
            pass,
            workload,
            JobStatus {
                start_time: Some(start),
                ..JobStatus::default()
            },
        );
    }
    if let Some(at) = deadline {
        pass.plan.wake(at);
    }
    if spec.indexed() {
        create_indexed(pass, workload, spec, &pods);
    } else {
        create_plain(pass, workload, spec, &pods);
    }
}

/// The Job's pods as the controller counts them, with the kubelet's part
/// first: a running pod on a ready node that ends by now is finished
/// (`Action::FinishPod`), one that ends later wakes the loop then.
fn observe<'a>(
    pass: &mut Pass<'a>,
    workload: &Workload,
    nodes: &[NodeState],
    status: &JobStatus,
) -> JobPods<'a> {
    let now = pass.now;
    let observed = pass.observed;
    let mut pods = JobPods::default();
    let mut finishing: Vec<(&Replica, bool)> = Vec::new();
    for &i in pass.by_workload.get(&workload.id).into_iter().flatten() {
        let replica = &observed.replicas[i];
        if replica.phase == Phase::Terminating || pass.deleted.contains(&replica.name) {
            continue;
        }
        let mut phase = replica.phase;
        let mut at = replica.finished_at.unwrap_or(replica.created_at);
        // The kubelet's part: a running pod on a ready node ends on time.
        let node = pass.node_of[i];
        if replica.phase == Phase::Running
            && status.outcome.is_none()
            && node != NO_NODE
            && nodes[node as usize].ready
            && let Some(pod) = pass.catalog.pod(&replica.workload, &replica.hash)
            && let Some((end, success)) = finish_of(pod, replica)
        {
            if end <= now {
                finishing.push((replica, success));
                phase = if success {
                    Phase::Succeeded
                } else {
                    Phase::Failed
                };
                at = now;
            } else {
                pass.plan.wake(end);
            }
        }
        pods.count(&workload.id, replica, phase, at);
    }
    for (replica, succeeded) in finishing {
        // Finished in this pass: it holds its node no longer, and nothing
        // else (readiness, eviction) acts on it.
        pass.deleted.insert(replica.name.clone());
        pass.plan.actions.push(Action::FinishPod {
            replica: replica.name.clone(),
            workload: workload.id.clone(),
            succeeded,
        });
    }
    pods
}

/// A NonIndexed Job's new pods: up to `parallelism` active, no more than
/// the completions still wanted, after the back-off of recent failures.
fn create_plain(pass: &mut Pass, workload: &Workload, spec: &JobSpec, pods: &JobPods) {
    let active = pods.active.len() as i32;
    let succeeded = pods.succeeded.len() as i32;
    let want = match spec.completions {
        Some(completions) => spec.parallelism.min(completions - succeeded),
        // Once one pod succeeded, the others are left to finish.
        None if succeeded > 0 => active,
        None => spec.parallelism,
    };
    let missing = want - active;
    if missing <= 0 {
        return;
    }
    let (failures, last) = job::backoff_record(&pods.succeeded, &pods.failed);
    let wait = job::remaining_backoff(
        failures,
        last,
        pass.now,
        POD_FAILURE_BACKOFF,
        MAX_POD_FAILURE_BACKOFF,
    );
    if wait > 0 {
        pass.plan.wake(pass.now + wait);
        return;
    }
    for _ in 0..missing {
        create(pass, workload, None);
    }
}

/// An Indexed Job's new pods: the lowest indexes without a pod, neither
/// succeeded nor failed for good, up to `parallelism` active.
fn create_indexed(pass: &mut Pass, workload: &Workload, spec: &JobSpec, pods: &JobPods) {
    let completions = spec.completions.unwrap_or(0).max(0) as u32;
    let mut room = spec.parallelism - pods.active.len() as i32;
    if room <= 0 {
        return;
    }
    let running: BTreeSet<u32> = pods
        .active
        .iter()
        .filter_map(|r| completion_index(&workload.id, &r.name))
        .collect();
    let failed: BTreeSet<u32> = pods.failed_indexes(spec).into_iter().collect();
    // Without a per-index limit, the Job's own back-off holds every index.
    let job_wait = if spec.backoff_limit_per_index.is_none() {
        let (failures, last) = job::backoff_record(&pods.succeeded, &pods.failed);
        job::remaining_backoff(
            failures,
            last,
            pass.now,
            POD_FAILURE_BACKOFF,
            MAX_POD_FAILURE_BACKOFF,
        )
    } else {
        0
    };
    if job_wait > 0 {
        pass.plan.wake(pass.now + job_wait);
        return;
    }
    for index in 0..completions {
        if room <= 0 {
            break;
        }
        if running.contains(&index)
            || failed.contains(&index)
            || pods.succeeded_indexes.contains(&index)
        {
            continue;
        }
        if spec.backoff_limit_per_index.is_some()
            && let Some(&(count, last)) = pods.index_failures.get(&index)
        {
            // `getRemainingTimePerIndex`: the index's own failures.
            let wait = job::remaining_backoff(
                count,
                Some(last),
                pass.now,
                POD_FAILURE_BACKOFF,
                MAX_POD_FAILURE_BACKOFF,
            );
            if wait > 0 {
                pass.plan.wake(pass.now + wait);
                continue;
            }
        }
        create(pass, workload, Some(index));
        room -= 1;
    }
}

/// `ttlSecondsAfterFinished`: once it passes, the finished Job's pods go.
fn expire(pass: &mut Pass, workload: &Workload, spec: &JobSpec, status: &JobStatus) {
    let (Some(ttl), Some(finished)) = (spec.ttl_seconds_after_finished, status.finished_at) else {
        return;
    };
    if status.expired {
        return;
    }
    if finished + ttl > pass.now {
        pass.plan.wake_later(finished + ttl);
        return;
    }
    let observed = pass.observed;
    let pods: Vec<&Replica> = pass
        .by_workload
        .get(&workload.id)
        .into_iter()
        .flatten()
        .map(|&i| &observed.replicas[i])
        .filter(|r| r.phase != Phase::Terminating)
        .collect();
    for replica in pods {
        pass.deleted.remove(&replica.name);
        pass.delete(replica, DeleteReason::TtlExpired);
    }
    set_status(
        pass,
        workload,
        JobStatus {
            expired: true,
            ..status.clone()
        },
    );
}

fn set_status(pass: &mut Pass, workload: &Workload, status: JobStatus) {
    pass.plan.actions.push(Action::SetJobStatus {
        workload: workload.id.clone(),
        status,
    });
}

/// A pod for the Job (`<job>-<5 chars>`, or `<job>-<index>-<5 chars>`).
fn create(pass: &mut Pass, workload: &Workload, index: Option<u32>) {
    let revision = super::deployment::current_revision(pass, workload);
    let index = index.map(|i| i.to_string());
    let name = pass.names.next(&workload.id, index.as_deref());
    pass.create_replica(
        name,
        &workload.id,
        revision,
        workload.template_hash.clone(),
        None,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::workload::Kind;

    #[test]
    fn completion_indexes_are_read_from_pod_names() {
        let job = ObjectRef::new(Kind::Job, "default", "render");
        assert_eq!(completion_index(&job, "render-3-abcde"), Some(3));
        assert_eq!(completion_index(&job, "render-12-abcde"), Some(12));
        assert_eq!(completion_index(&job, "render-abcde"), None);
        assert_eq!(completion_index(&job, "renders-1-abcde"), None);
        assert_eq!(completion_index(&job, "render-1-abc"), None);
    }
}
