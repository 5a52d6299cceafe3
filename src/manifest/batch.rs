//! Job (batch/v1) as written, and its spec validated and defaulted as the
//! API server does (`pkg/apis/batch/validation`, `pkg/apis/batch/v1/defaults.go`).

// Fields orch accepts but does not act on are read into `IgnoredAny` and never looked at.
#![allow(dead_code)]

use super::Ctx;
use super::wire::{self, ObjectMeta, PodTemplateSpec};
use crate::model::job::{CompletionMode, DEFAULT_BACKOFF_LIMIT, JobSpec};
use crate::model::labels::LabelSelector;
use serde::Deserialize;
use serde::de::IgnoredAny;

/// The API server's bound on `completions` and `parallelism` of an Indexed Job.
const MAX_INDEXED_COMPLETIONS: i32 = 100_000;

pub type Job = wire::Object<JobSpecWire>;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobSpecWire {
    pub parallelism: Option<i32>,
    pub completions: Option<i32>,
    pub active_deadline_seconds: Option<i64>,
    pub pod_failure_policy: Option<IgnoredAny>,
    pub success_policy: Option<IgnoredAny>,
    pub backoff_limit: Option<i32>,
    pub backoff_limit_per_index: Option<i32>,
    pub max_failed_indexes: Option<i32>,
    pub selector: Option<LabelSelector>,
    pub manual_selector: Option<bool>,
    pub template: Option<PodTemplateSpec>,
    pub ttl_seconds_after_finished: Option<i32>,
    pub completion_mode: Option<String>,
    pub suspend: Option<bool>,
    pub pod_replacement_policy: Option<IgnoredAny>,
    pub managed_by: Option<IgnoredAny>,
}

fn not_negative(ctx: &mut Ctx, path: &str, value: Option<i64>) -> Option<u64> {
    let value = value?;
    if value < 0 {
        ctx.error(
            path,
            format!("Invalid value: {value}: must be greater than or equal to 0"),
        );
    }
    Some(value.max(0) as u64)
}

/// `spec` of a Job at `path` (`spec`, or `spec.jobTemplate.spec` in a
/// CronJob): validated, with the defaults of `SetDefaults_Job`.
pub(super) fn job_spec(ctx: &mut Ctx, path: &str, spec: &JobSpecWire) -> JobSpec {
    let at = |field: &str| super::pod::join(path, field);
    let mode = completion_mode(ctx, &at("completionMode"), spec.completion_mode.as_deref());
    let parallelism = not_negative(ctx, &at("parallelism"), spec.parallelism.map(i64::from));
    let completions = not_negative(ctx, &at("completions"), spec.completions.map(i64::from));
    let backoff = not_negative(ctx, &at("backoffLimit"), spec.backoff_limit.map(i64::from));
    let per_index = not_negative(
        ctx,
        &at("backoffLimitPerIndex"),
        spec.backoff_limit_per_index.map(i64::from),
    );
    let max_failed = not_negative(
        ctx,
        &at("maxFailedIndexes"),
        spec.max_failed_indexes.map(i64::from),
    );
    let ttl = not_negative(
        ctx,
        &at("ttlSecondsAfterFinished"),
        spec.ttl_seconds_after_finished.map(i64::from),
    );
    let deadline = spec.active_deadline_seconds;
    if let Some(value) = deadline.filter(|&v| v <= 0) {
        ctx.error(
            &at("activeDeadlineSeconds"),
            format!("Invalid value: {value}: must be greater than 0"),
        );
    }
    check_indexes(
        ctx,
        &at,
        mode,
        (completions, parallelism),
        (per_index, max_failed),
    );
    check_restart_policy(ctx, &at("template.spec.restartPolicy"), spec);
    // `SetDefaults_Job`: completions and parallelism both default to 1
    // when neither is set; backoffLimit to 6, or unbounded per index.
    let (completions, parallelism) = match (completions, parallelism) {
        (None, None) => (Some(1), 1),
        (c, p) => (c, p.unwrap_or(1)),
    };
    let backoff_limit = match (backoff, per_index) {
        (Some(limit), _) => limit,
        (None, Some(_)) => i32::MAX as u64,
        (None, None) => DEFAULT_BACKOFF_LIMIT as u64,
    };
    let clamp = |v: u64| v.min(i32::MAX as u64) as i32;
    JobSpec {
        parallelism: clamp(parallelism),
        completions: completions.map(clamp),
        completion_mode: mode,
        backoff_limit: clamp(backoff_limit),
        backoff_limit_per_index: per_index.map(clamp),
        max_failed_indexes: max_failed.map(clamp),
        active_deadline_seconds: deadline.filter(|&v| v > 0).map(|v| v as u64),
        suspend: spec.suspend.unwrap_or(false),
        ttl_seconds_after_finished: ttl,
    }
}

/// `completionMode`: NonIndexed unless Indexed.
fn completion_mode(ctx: &mut Ctx, at: &str, mode: Option<&str>) -> CompletionMode {
    match mode {
        None | Some("NonIndexed") => CompletionMode::NonIndexed,
        Some("Indexed") => CompletionMode::Indexed,
        Some(other) => {
            ctx.error(
                at,
                format!(
                    "Unsupported value: \"{other}\": supported values: \"NonIndexed\", \"Indexed\""
                ),
            );
            CompletionMode::NonIndexed
        }
    }
}

/// What an Indexed Job needs (completions, bounded with parallelism) and
/// what only it may set (per-index back-off, maxFailedIndexes).
fn check_indexes(
    ctx: &mut Ctx,
    at: &dyn Fn(&str) -> String,
    mode: CompletionMode,
    (completions, parallelism): (Option<u64>, Option<u64>),
    (per_index, max_failed): (Option<u64>, Option<u64>),
) {
    if mode == CompletionMode::Indexed {
        match completions {
            None => ctx.error(
                &at("completions"),
                "Required value: when completion mode is Indexed",
            ),
            Some(c) if c > MAX_INDEXED_COMPLETIONS as u64 => ctx.error(
                &at("completions"),
                format!(
                    "Invalid value: {c}: must be less than or equal to {MAX_INDEXED_COMPLETIONS}"
                ),
            ),
            Some(_) => {}
        }
        if let Some(p) = parallelism.filter(|&p| p > MAX_INDEXED_COMPLETIONS as u64) {
            ctx.error(
                &at("parallelism"),
                format!(
                    "Invalid value: {p}: must be less than or equal to {MAX_INDEXED_COMPLETIONS}"
                ),
            );
        }
    } else if let Some(limit) = per_index {
        ctx.error(
            &at("backoffLimitPerIndex"),
            format!("Invalid value: {limit}: requires indexed completion mode"),
        );
    }
    if let Some(max) = max_failed {
        if per_index.is_none() {
            ctx.error(
                &at("backoffLimitPerIndex"),
                "Required value: when maxFailedIndexes is specified",
            );
        }
        if let Some(c) = completions.filter(|&c| max > c) {
            ctx.error(
                &at("maxFailedIndexes"),
                format!("Invalid value: {max}: must be less than or equal to completions ({c})"),
            );
        }
    }
}

/// A Job's pods end: `restartPolicy` OnFailure or Never.
fn check_restart_policy(ctx: &mut Ctx, at: &str, spec: &JobSpecWire) {
    let restart = spec
        .template
        .as_ref()
        .and_then(|t| t.spec.as_ref())
        .and_then(|s| s.restart_policy.as_deref())
        .unwrap_or("Always");
    if restart != "OnFailure" && restart != "Never" {
        ctx.error(
            at,
            format!("Unsupported value: \"{restart}\": supported values: \"OnFailure\", \"Never\""),
        );
    }
}

pub type CronJob = wire::Object<CronJobSpecWire>;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CronJobSpecWire {
    pub schedule: Option<String>,
    pub time_zone: Option<String>,
    pub starting_deadline_seconds: Option<i64>,
    pub concurrency_policy: Option<String>,
    pub suspend: Option<bool>,
    pub job_template: Option<JobTemplateSpec>,
    pub successful_jobs_history_limit: Option<i32>,
    pub failed_jobs_history_limit: Option<i32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobTemplateSpec {
    #[serde(default)]
    pub metadata: ObjectMeta,
    pub spec: Option<JobSpecWire>,
}

/// The longest CronJob name: its Jobs add `-<11 digits>` and must fit 63 characters.
const MAX_CRONJOB_NAME: usize = 52;

/// A CronJob's spec validated as `ValidateCronJobSpec` does, with its
/// defaults; None when it cannot be simulated. `id` is its identity.
pub(super) fn cron_job(
    ctx: &mut Ctx,
    id: &crate::model::workload::ObjectRef,
    object: &CronJob,
) -> Option<crate::model::cron::CronJob> {
    if id.name.len() > MAX_CRONJOB_NAME {
        ctx.error(
            "metadata.name",
            format!(
                "Invalid value: \"{}\": must be no more than {MAX_CRONJOB_NAME} characters",
                id.name
            ),
        );
    }
    let empty = CronJobSpecWire::default();
    let spec = object.spec.as_ref().unwrap_or(&empty);
    let tz = time_zone_of(ctx, spec.time_zone.as_deref());
    let schedule = schedule_of(ctx, spec.schedule.as_deref(), tz.as_ref());
    let concurrency = concurrency_of(ctx, spec.concurrency_policy.as_deref());
    let deadline = not_negative(
        ctx,
        "spec.startingDeadlineSeconds",
        spec.starting_deadline_seconds,
    );
    let successful = not_negative(
        ctx,
        "spec.successfulJobsHistoryLimit",
        spec.successful_jobs_history_limit.map(i64::from),
    );
    let failed = not_negative(
        ctx,
        "spec.failedJobsHistoryLimit",
        spec.failed_jobs_history_limit.map(i64::from),
    );
    let template = job_template_of(ctx, id, spec.job_template.as_ref());
    template?;
    let schedule = schedule?;
    tz?;
    Some(crate::model::cron::CronJob {
        id: id.clone(),
        schedule_text: spec.schedule.clone().unwrap_or_default(),
        schedule,
        time_zone: spec.time_zone.clone(),
        concurrency_policy: concurrency,
        starting_deadline_seconds: deadline.map(|d| d as i64),
        suspend: spec.suspend.unwrap_or(false),
        successful_jobs_history_limit: successful.unwrap_or(3).min(u32::MAX as u64) as u32,
        failed_jobs_history_limit: failed.unwrap_or(1).min(u32::MAX as u64) as u32,
        job_template: ctx.root.locate("spec.jobTemplate").to_json(),
        manifest: ctx.root.json_text(),
        source: Some(ctx.source("kind")),
    })
}

/// `spec.timeZone`: UTC when unset; `None` when it is not a time zone.
fn time_zone_of(ctx: &mut Ctx, name: Option<&str>) -> Option<jiff::tz::TimeZone> {
    use crate::model::cron::time_zone;
    match name {
        None => Some(jiff::tz::TimeZone::UTC),
        Some("") => {
            ctx.error(
                "spec.timeZone",
                "Invalid value: \"\": timeZone must be nil or non-empty string",
            );
            None
        }
        Some(name) => match time_zone(name) {
            Ok(tz) => Some(tz),
            Err(error) => {
                ctx.error(
                    "spec.timeZone",
                    format!("Invalid value: \"{name}\": {error}"),
                );
                None
            }
        },
    }
}

/// `spec.schedule`, read in the CronJob's time zone (`tz`, UTC when it has none).
fn schedule_of(
    ctx: &mut Ctx,
    text: Option<&str>,
    tz: Option<&jiff::tz::TimeZone>,
) -> Option<crate::model::cron::Schedule> {
    use crate::model::cron::Schedule;
    match text {
        None | Some("") => {
            ctx.error("spec.schedule", "Required value");
            None
        }
        Some(text) if text.contains("TZ") => {
            ctx.error(
                "spec.schedule",
                format!("Invalid value: \"{text}\": cannot use TZ or CRON_TZ in schedule, use timeZone field instead"),
            );
            None
        }
        Some(text) => match Schedule::parse(text, tz.unwrap_or(&jiff::tz::TimeZone::UTC)) {
            Ok(schedule) => Some(schedule),
            Err(error) => {
                ctx.error(
                    "spec.schedule",
                    format!("Invalid value: \"{text}\": {error}"),
                );
                None
            }
        },
    }
}

/// `spec.concurrencyPolicy`: Allow unless Forbid or Replace.
fn concurrency_of(ctx: &mut Ctx, policy: Option<&str>) -> crate::model::cron::ConcurrencyPolicy {
    use crate::model::cron::ConcurrencyPolicy;
    match policy {
        None | Some("Allow") => ConcurrencyPolicy::Allow,
        Some("Forbid") => ConcurrencyPolicy::Forbid,
        Some("Replace") => ConcurrencyPolicy::Replace,
        Some(other) => {
            ctx.error(
                "spec.concurrencyPolicy",
                format!("Unsupported value: \"{other}\": supported values: \"Allow\", \"Forbid\", \"Replace\""),
            );
            ConcurrencyPolicy::Allow
        }
    }
}

/// `spec.jobTemplate`: its Job spec, with its pod template checked;
/// `None` when either is missing.
fn job_template_of(
    ctx: &mut Ctx,
    id: &crate::model::workload::ObjectRef,
    template: Option<&JobTemplateSpec>,
) -> Option<JobSpec> {
    match template {
        None => {
            ctx.error("spec.jobTemplate", "Required value");
            None
        }
        Some(template) => {
            let job_spec = template
                .spec
                .as_ref()
                .map(|s| job_spec(ctx, "spec.jobTemplate.spec", s));
            match template.spec.as_ref().and_then(|s| s.template.as_ref()) {
                None => {
                    ctx.error("spec.jobTemplate.spec.template", "Required value");
                    None
                }
                Some(pod) => {
                    super::pod::pod_spec(
                        ctx,
                        "spec.jobTemplate.spec.template",
                        &id.namespace,
                        pod,
                        &template.metadata.annotations,
                    );
                    job_spec
                }
            }
        }
    }
}
