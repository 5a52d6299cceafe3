//! `kubectl describe job` and `kubectl describe cronjob`, field for field
//! (`describeJob`, `describeCronJob` and `describeJobTemplate` of kubectl's
//! describers), for the views `crate::describe` builds.

use super::{Describer, template};
use crate::describe::{CronJobDescription, JobDescription};

/// `<unset>` for a field the object does not set.
fn or_unset<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| "<unset>".into(), |v| v.to_string())
}

pub fn job(view: &JobDescription) -> String {
    let mut d = Describer::default();
    d.field(0, "Name", &view.name);
    d.field(0, "Namespace", &view.namespace);
    d.field(0, "Selector", &view.selector);
    d.metadata(0, &view.labels, &view.annotations);
    if let Some(owner) = &view.controlled_by {
        d.field(0, "Controlled By", owner);
    }
    d.field(0, "Parallelism", view.parallelism.to_string());
    d.field(0, "Completions", or_unset(view.completions));
    d.field(0, "Completion Mode", view.completion_mode);
    d.field(0, "Suspend", view.suspend.to_string());
    d.field(0, "Backoff Limit", view.backoff_limit.to_string());
    if let Some(ttl) = view.ttl_seconds_after_finished {
        d.field(0, "TTL Seconds After Finished", ttl.to_string());
    }
    if let Some(start) = &view.start_time_text {
        d.field(0, "Start Time", start);
    }
    if let Some(end) = &view.completion_time_text {
        d.field(0, "Completed At", end);
    }
    if let Some(duration) = &view.duration {
        d.field(0, "Duration", duration);
    }
    if let Some(deadline) = view.active_deadline_seconds {
        d.field(0, "Active Deadline Seconds", format!("{deadline}s"));
    }
    d.field(
        0,
        "Pods Statuses",
        format!(
            "{} Active ({} Ready) / {} Succeeded / {} Failed",
            view.active, view.ready, view.succeeded, view.failed
        ),
    );
    if let Some(indexes) = &view.completed_indexes {
        d.field(0, "Completed Indexes", indexes);
    }
    template(&mut d, &view.template);
    d.events(&view.events);
    d.finish()
}

pub fn cron_job(view: &CronJobDescription) -> String {
    let mut d = Describer::default();
    d.field(0, "Name", &view.name);
    d.field(0, "Namespace", &view.namespace);
    d.metadata(0, &view.labels, &view.annotations);
    d.field(0, "Schedule", &view.schedule);
    d.field(0, "Concurrency Policy", &view.concurrency_policy);
    d.field(0, "Suspend", view.suspend.to_string());
    d.field(
        0,
        "Successful Job History Limit",
        view.successful_jobs_history_limit.to_string(),
    );
    d.field(
        0,
        "Failed Job History Limit",
        view.failed_jobs_history_limit.to_string(),
    );
    d.field(
        0,
        "Starting Deadline Seconds",
        or_unset(view.starting_deadline_seconds.map(|s| format!("{s}s"))),
    );
    d.field(0, "Selector", or_unset(view.selector.as_ref()));
    d.field(0, "Parallelism", or_unset(view.parallelism));
    d.field(0, "Completions", or_unset(view.completions));
    if let Some(deadline) = view.active_deadline_seconds {
        d.field(0, "Active Deadline Seconds", format!("{deadline}s"));
    }
    template(&mut d, &view.template);
    d.field(
        0,
        "Last Schedule Time",
        or_unset(view.last_schedule_time_text.as_ref()),
    );
    d.field(0, "Active Jobs", view.active_jobs.join(", "));
    d.events(&view.events);
    d.finish()
}
