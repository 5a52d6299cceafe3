//! A Job (batch/v1) as declared, its recorded status, and the Job
//! controller's pod-failure back-off (`pkg/controller/job/backoff_utils.go`).

use serde::{Deserialize, Serialize};

/// `completionMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompletionMode {
    NonIndexed,
    Indexed,
}

/// The Job's `spec`, with Kubernetes' defaults applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSpec {
    /// Default 1.
    pub parallelism: i32,
    /// None: the Job is complete once any pod succeeds and none is active.
    pub completions: Option<i32>,
    pub completion_mode: CompletionMode,
    /// Default 6 (unset when `backoffLimitPerIndex` is set: then unlimited).
    pub backoff_limit: i32,
    pub backoff_limit_per_index: Option<i32>,
    pub max_failed_indexes: Option<i32>,
    pub active_deadline_seconds: Option<u64>,
    pub suspend: bool,
    pub ttl_seconds_after_finished: Option<u64>,
}

impl Default for JobSpec {
    fn default() -> Self {
        JobSpec {
            parallelism: 1,
            completions: None,
            completion_mode: CompletionMode::NonIndexed,
            backoff_limit: DEFAULT_BACKOFF_LIMIT,
            backoff_limit_per_index: None,
            max_failed_indexes: None,
            active_deadline_seconds: None,
            suspend: false,
            ttl_seconds_after_finished: None,
        }
    }
}

impl JobSpec {
    pub fn indexed(&self) -> bool {
        self.completion_mode == CompletionMode::Indexed
    }
}

pub const DEFAULT_BACKOFF_LIMIT: i32 = 6;
/// `DefaultJobPodFailureBackOff`.
pub const POD_FAILURE_BACKOFF: u64 = 10;
/// `MaxJobPodFailureBackOff` (the controller's constant; older documentation says six minutes).
pub const MAX_POD_FAILURE_BACKOFF: u64 = 600;
/// The annotation (and label) naming an Indexed Job pod's index.
pub const COMPLETION_INDEX: &str = "batch.kubernetes.io/job-completion-index";
/// `orch.dev/run-for`: how long a Job's pod runs before it succeeds (default 1s).
pub const RUN_FOR: &str = "orch.dev/run-for";

/// How a Job finished: its terminal condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobOutcome {
    /// `Complete`.
    Complete,
    /// `Failed`, reason `BackoffLimitExceeded`.
    BackoffLimitExceeded,
    /// `Failed`, reason `DeadlineExceeded`.
    DeadlineExceeded,
    /// `Failed`, reason `FailedIndexes` (backoffLimitPerIndex).
    FailedIndexes,
    /// `Failed`, reason `MaxFailedIndexesExceeded`.
    MaxFailedIndexesExceeded,
}

impl JobOutcome {
    pub fn failed(self) -> bool {
        self != JobOutcome::Complete
    }

    /// The condition's reason (`Complete` has none of its own: `Completed`).
    pub fn reason(self) -> &'static str {
        match self {
            JobOutcome::Complete => "Completed",
            JobOutcome::BackoffLimitExceeded => "BackoffLimitExceeded",
            JobOutcome::DeadlineExceeded => "DeadlineExceeded",
            JobOutcome::FailedIndexes => "FailedIndexes",
            JobOutcome::MaxFailedIndexesExceeded => "MaxFailedIndexesExceeded",
        }
    }

    /// The condition's message, as the Job controller writes it.
    pub fn message(self) -> &'static str {
        match self {
            JobOutcome::Complete => "Reached expected number of succeeded pods",
            JobOutcome::BackoffLimitExceeded => "Job has reached the specified backoff limit",
            JobOutcome::DeadlineExceeded => "Job was active longer than specified deadline",
            JobOutcome::FailedIndexes => "Job has failed indexes",
            JobOutcome::MaxFailedIndexesExceeded => {
                "Job has exceeded the specified maximal number of failed indexes"
            }
        }
    }
}

/// What the Job controller records in a Job's status beyond its pods.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobStatus {
    /// `status.startTime`: when the Job (last) started running unsuspended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<u64>,
    /// The terminal condition and when it was reached (`completionTime` for Complete).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<JobOutcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<u64>,
    /// Succeeded and failed pods when it finished (`status.succeeded`,
    /// `status.failed`), kept after the pods are gone.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub succeeded: i32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub failed: i32,
    /// `ttlSecondsAfterFinished` passed: the Job's pods were deleted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub expired: bool,
}

fn is_zero(value: &i32) -> bool {
    *value == 0
}

/// The Job controller's `backoffRecord` built from the finish times of the
/// Job's succeeded and failed pods (`newBackoffRecord` on an empty store):
/// the failures after the last success, and the newest of them.
pub fn backoff_record(succeeded: &[u64], failed: &[u64]) -> (u32, Option<u64>) {
    let last_success = succeeded.iter().copied().max();
    let mut after: Vec<u64> = failed
        .iter()
        .copied()
        .filter(|&t| last_success.is_none_or(|s| t > s))
        .collect();
    after.sort_unstable();
    (after.len() as u32, after.last().copied())
}

/// `getRemainingTimeForFailuresCount`: how long before a replacement pod may
/// be created, `base` doubled per failure after the first, capped at `max`.
pub fn remaining_backoff(
    failures: u32,
    last_failure: Option<u64>,
    now: u64,
    base: u64,
    max: u64,
) -> u64 {
    let Some(last_failure) = last_failure.filter(|_| failures > 0) else {
        return 0;
    };
    let mut backoff = base;
    for _ in 1..failures {
        backoff = backoff.saturating_mul(2);
        if backoff >= max {
            backoff = max;
            break;
        }
    }
    let elapsed = now.saturating_sub(last_failure);
    backoff.saturating_sub(elapsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `TestGetRemainingBackoffTime` (pkg/controller/job/backoff_utils_test.go,
    /// Kubernetes): default 5s, max 700s; times in seconds from the failure.
    #[test]
    fn remaining_backoff_matches_the_job_controller() {
        let cases = [
            ("no failures", 0, None, 0, 0),
            ("one failure; same time", 1, Some(0), 0, 5),
            ("one failure; 1s later", 1, Some(0), 1, 4),
            ("one failure; at the expected time", 1, Some(0), 5, 0),
            ("one failure; 1s past the expected time", 1, Some(0), 6, 0),
            ("three failures; same time", 3, Some(0), 0, 20),
            ("eight failures; under the max", 8, Some(0), 0, 640),
            ("nine failures; capped at the max", 9, Some(0), 0, 700),
        ];
        for (name, failures, last, now, want) in cases {
            assert_eq!(
                remaining_backoff(failures, last, now, 5, 700),
                want,
                "{name}"
            );
        }
    }

    /// `TestNewBackoffRecord` (same file), on an empty store; times in
    /// milliseconds before the test time T = 10.
    #[test]
    fn backoff_records_count_failures_after_the_last_success() {
        // (name, succeeded finish times, failed finish times, failures, last failure)
        type Case<'a> = (&'a str, &'a [u64], &'a [u64], u32, Option<u64>);
        let cases: [Case; 7] = [
            ("one new failure", &[], &[10], 1, Some(10)),
            ("two new failures", &[], &[10, 9], 2, Some(10)),
            ("two failures followed by success", &[10], &[8, 9], 0, None),
            (
                "two failures, one success and two more failures",
                &[8],
                &[10, 6, 7, 9],
                2,
                Some(10),
            ),
            (
                "success and failure at the same time",
                &[10],
                &[10],
                0,
                None,
            ),
            ("no success or failure", &[], &[], 0, None),
            ("one success", &[10], &[], 0, None),
        ];
        for (name, succeeded, failed, count, last) in cases {
            assert_eq!(backoff_record(succeeded, failed), (count, last), "{name}");
        }
    }

    /// The Job controller's defaults: 10s doubling, capped at ten minutes.
    #[test]
    fn pod_failure_backoff_doubles_from_ten_seconds() {
        let delays: Vec<u64> = (1..=8)
            .map(|n| remaining_backoff(n, Some(0), 0, POD_FAILURE_BACKOFF, MAX_POD_FAILURE_BACKOFF))
            .collect();
        assert_eq!(delays, [10, 20, 40, 80, 160, 320, 600, 600]);
    }
}
