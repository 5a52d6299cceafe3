//! `describe job|cronjob`: a Job's spec, times and pod counts, and a
//! CronJob's schedule, policies, Job template and active Jobs, gathered as
//! kubectl's `describeJob` and `describeCronJob` gather them.

use super::{
    DescribeError, EventRow, TemplateView, containers, declared, event_rows, report, selector_text,
    string_map, template_view, toleration_text,
};
use crate::model::cron::CronJob;
use crate::model::job::CompletionMode;
use crate::model::pod::Toleration;
use crate::model::state::{API_VERSION, Phase, State};
use crate::model::time::duration;
use crate::model::workload::{Desired, Kind, ObjectRef};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobDescription {
    pub api_version: &'static str,
    pub kind: &'static str,
    /// `Job/default/migrate`.
    pub object: String,
    pub name: String,
    pub namespace: String,
    pub selector: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// `CronJob/nightly-report`, for a Job a CronJob started.
    pub controlled_by: Option<String>,
    pub parallelism: i32,
    pub completions: Option<i32>,
    pub completion_mode: &'static str,
    pub suspend: bool,
    pub backoff_limit: i32,
    pub ttl_seconds_after_finished: Option<u64>,
    /// Simulated seconds, and as kubectl prints them (RFC 1123 on the state's epoch).
    pub start_time: Option<u64>,
    pub start_time_text: Option<String>,
    /// When it completed (a failed Job has none).
    pub completion_time: Option<u64>,
    pub completion_time_text: Option<String>,
    /// `5m`, from start to completion.
    pub duration: Option<String>,
    pub active_deadline_seconds: Option<u64>,
    pub active: i32,
    pub ready: i32,
    pub succeeded: i32,
    pub failed: i32,
    /// Indexed Jobs: `0-2,4`, or `<none>`.
    pub completed_indexes: Option<String>,
    pub template: TemplateView,
    pub events: Vec<EventRow>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CronJobDescription {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub object: String,
    pub name: String,
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub schedule: String,
    pub time_zone: Option<String>,
    pub concurrency_policy: String,
    pub suspend: bool,
    pub successful_jobs_history_limit: u32,
    pub failed_jobs_history_limit: u32,
    pub starting_deadline_seconds: Option<i64>,
    /// The Job template's own fields, as written (`None`: unset).
    pub selector: Option<String>,
    pub parallelism: Option<i64>,
    pub completions: Option<i64>,
    pub active_deadline_seconds: Option<i64>,
    pub template: TemplateView,
    pub last_schedule_time: Option<u64>,
    pub last_schedule_time_text: Option<String>,
    /// The Jobs it started that are still running.
    pub active_jobs: Vec<String>,
    pub events: Vec<EventRow>,
}

/// A simulated time as kubectl prints a timestamp (`time.RFC1123Z`), on
/// the wall clock of the state's epoch.
pub fn wall_time(state: &State, at: u64) -> String {
    let unix = state.epoch.saturating_add(at as i64);
    jiff::Timestamp::from_second(unix).map_or_else(
        |_| format!("t={}", duration(at)),
        |t| {
            t.to_zoned(jiff::tz::TimeZone::UTC)
                .strftime("%a, %d %b %Y %H:%M:%S %z")
                .to_string()
        },
    )
}

/// `0-2,4,6,7`: sorted indexes with runs of three or more folded, as the
/// Job controller writes `status.completedIndexes` (`orderedIntervals.String`).
pub fn index_ranges(indexes: impl IntoIterator<Item = u32>) -> String {
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for index in indexes {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == index => *end = index,
            _ => runs.push((index, index)),
        }
    }
    runs.iter()
        .map(|&(start, end)| match end - start {
            0 => start.to_string(),
            1 => format!("{start},{end}"),
            _ => format!("{start}-{end}"),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// kubectl's `capIndexesListOrNone(indexes, 50)`: cut at the first comma
/// past 50 characters.
fn cap_indexes(indexes: &str) -> String {
    if indexes.is_empty() {
        return "<none>".into();
    }
    match indexes.bytes().skip(50).position(|b| b == b',') {
        Some(at) => format!("{}...", &indexes[..50 + at + 1]),
        None => indexes.to_string(),
    }
}

/// The owner a manifest names (`Kind/name`), as kubectl's `Controlled By`.
fn controller(manifest: &Value) -> Option<String> {
    let owners = manifest["metadata"]["ownerReferences"].as_array()?;
    let owner = owners
        .iter()
        .find(|o| o["controller"].as_bool() == Some(true))
        .or_else(|| owners.first())?;
    Some(format!(
        "{}/{}",
        owner["kind"].as_str()?,
        owner["name"].as_str()?
    ))
}

/// The Job `id` as `kubectl describe job` shows it.
pub fn job(
    desired: &Desired,
    state: &State,
    id: &ObjectRef,
) -> Result<JobDescription, DescribeError> {
    let workload = declared(desired, id)?;
    let Some(spec) = workload.job.as_deref() else {
        return Err(DescribeError::NotAWorkload(id.clone()));
    };
    let object = id.to_string();
    let report = report(desired, state, id)?
        .job
        .ok_or_else(|| DescribeError::NoStatus(id.clone()))?;
    let replicas: Vec<&crate::model::state::Replica> = state
        .replicas
        .iter()
        .filter(|r| &r.workload == id)
        .collect();
    let ready = replicas
        .iter()
        .filter(|r| r.phase == Phase::Running && r.ready)
        .count() as i32;
    let completed_indexes = spec.indexed().then(|| {
        let pods = crate::reconcile::job::pods_of(id, &replicas);
        cap_indexes(&index_ranges(pods.succeeded_indexes.iter().copied()))
    });
    let manifest = &workload.manifest.value();
    // `status.completionTime` is set only when the Job completes.
    let completed = report
        .finished_at
        .filter(|_| report.outcome == Some(crate::model::job::JobOutcome::Complete));
    Ok(JobDescription {
        api_version: API_VERSION,
        kind: "JobDescription",
        object,
        name: id.name.to_string(),
        namespace: id.namespace.to_string(),
        selector: selector_text(&workload.selector),
        labels: workload.labels.clone(),
        annotations: string_map(&manifest["metadata"]["annotations"]),
        controlled_by: controller(manifest),
        parallelism: spec.parallelism,
        completions: spec.completions,
        completion_mode: match spec.completion_mode {
            CompletionMode::NonIndexed => "NonIndexed",
            CompletionMode::Indexed => "Indexed",
        },
        suspend: spec.suspend,
        backoff_limit: spec.backoff_limit,
        ttl_seconds_after_finished: spec.ttl_seconds_after_finished,
        start_time: report.start_time,
        start_time_text: report.start_time.map(|t| wall_time(state, t)),
        completion_time: completed,
        completion_time_text: completed.map(|t| wall_time(state, t)),
        duration: report
            .start_time
            .zip(completed)
            .map(|(start, end)| duration(end.saturating_sub(start))),
        active_deadline_seconds: spec.active_deadline_seconds,
        active: report.active,
        ready,
        succeeded: report.succeeded,
        failed: report.failed,
        completed_indexes,
        template: template_view(&workload.template.value(), &workload.pod),
        events: event_rows(state, &id.to_string(), Some(Kind::Job)),
    })
}

/// The CronJob `id` as `kubectl describe cronjob` shows it.
pub fn cron_job(
    desired: &Desired,
    state: &State,
    id: &ObjectRef,
) -> Result<CronJobDescription, DescribeError> {
    let Some(cron) = desired.cron_jobs.iter().find(|c| &c.id == id) else {
        return Err(DescribeError::NotAWorkload(id.clone()));
    };
    let status = state
        .workload(id)
        .and_then(|w| w.status.cron.as_deref().cloned())
        .unwrap_or_default();
    let active_jobs = status
        .jobs
        .iter()
        .filter(|name| {
            state
                .workload(&ObjectRef::new(Kind::Job, &id.namespace, name))
                .is_some_and(|w| w.status.job.as_ref().is_none_or(|j| j.outcome.is_none()))
        })
        .cloned()
        .collect();
    let job_spec = &cron.job_template["spec"];
    let manifest = &cron.manifest.value();
    Ok(CronJobDescription {
        api_version: API_VERSION,
        kind: "CronJobDescription",
        object: id.to_string(),
        name: id.name.to_string(),
        namespace: id.namespace.to_string(),
        labels: string_map(&manifest["metadata"]["labels"]),
        annotations: string_map(&manifest["metadata"]["annotations"]),
        schedule: cron.schedule_text.clone(),
        time_zone: cron.time_zone.clone(),
        concurrency_policy: policy(cron).into(),
        suspend: cron.suspend,
        successful_jobs_history_limit: cron.successful_jobs_history_limit,
        failed_jobs_history_limit: cron.failed_jobs_history_limit,
        starting_deadline_seconds: cron.starting_deadline_seconds,
        selector: job_spec
            .get("selector")
            .and_then(|s| serde_json::from_value(s.clone()).ok())
            .map(|s| selector_text(&s)),
        parallelism: job_spec["parallelism"].as_i64(),
        completions: job_spec["completions"].as_i64(),
        active_deadline_seconds: job_spec["activeDeadlineSeconds"].as_i64(),
        template: template_of(&job_spec["template"]),
        last_schedule_time: status.last_schedule_time,
        last_schedule_time_text: status.last_schedule_time.map(|t| wall_time(state, t)),
        active_jobs,
        events: event_rows(state, &id.to_string(), Some(Kind::CronJob)),
    })
}

fn policy(cron: &CronJob) -> &'static str {
    match cron.concurrency_policy {
        crate::model::cron::ConcurrencyPolicy::Allow => "Allow",
        crate::model::cron::ConcurrencyPolicy::Forbid => "Forbid",
        crate::model::cron::ConcurrencyPolicy::Replace => "Replace",
    }
}

/// A pod template as written (a CronJob's Job template has no typed pod).
fn template_of(template: &Value) -> TemplateView {
    let tolerations: Vec<Toleration> = template["spec"]["tolerations"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|t| serde_json::from_value(t.clone()).ok())
                .collect()
        })
        .unwrap_or_default();
    TemplateView {
        labels: string_map(&template["metadata"]["labels"]),
        annotations: string_map(&template["metadata"]["annotations"]),
        containers: containers(template),
        node_selector: string_map(&template["spec"]["nodeSelector"]),
        tolerations: tolerations.iter().map(toleration_text).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Job controller's interval notation (`orderedIntervals.String`,
    /// pkg/controller/job/indexed_job_utils.go, Kubernetes).
    #[test]
    fn completed_indexes_fold_into_ranges() {
        assert_eq!(index_ranges([]), "");
        assert_eq!(index_ranges([0]), "0");
        assert_eq!(index_ranges([0, 1, 2]), "0-2");
        assert_eq!(index_ranges([0, 2, 3, 5, 6, 7, 9]), "0,2,3,5-7,9");
    }

    /// kubectl's `capIndexesListOrNone` at its soft limit of 50.
    #[test]
    fn long_index_lists_are_cut_like_kubectl() {
        assert_eq!(cap_indexes(""), "<none>");
        assert_eq!(cap_indexes("0-2,4"), "0-2,4");
        let long: String = (0..40)
            .map(|i| (i * 2).to_string())
            .collect::<Vec<_>>()
            .join(",");
        let cut = cap_indexes(&long);
        assert!(cut.ends_with(",..."), "{cut}");
        assert!(cut.len() > 50 && cut.len() < 60, "{cut}");
    }

    #[test]
    fn wall_times_read_like_rfc1123z() {
        let state = State {
            epoch: 1_704_067_200, // 2024-01-01T00:00:00Z
            ..State::default()
        };
        assert_eq!(wall_time(&state, 7200), "Mon, 01 Jan 2024 02:00:00 +0000");
    }
}
