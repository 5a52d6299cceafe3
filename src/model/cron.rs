//! Cron schedules as the CronJob controller reads them: robfig/cron's
//! standard parser (`cron.ParseStandard`: five fields, names, ranges, steps,
//! the `@` descriptors and `@every`, an optional `TZ=`/`CRON_TZ=` prefix),
//! its `Next`, and the controller's `mostRecentScheduleTime` and
//! `nextScheduleTimeDuration` (`pkg/controller/cronjob/utils.go`). Times are
//! Unix seconds; a schedule is read in its time zone (UTC by default).

use super::workload::{Manifest, ObjectRef, SourceLocation};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan, Zoned};
use serde::{Deserialize, Serialize};
use std::fmt;

/// `concurrencyPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConcurrencyPolicy {
    Allow,
    Forbid,
    Replace,
}

/// A CronJob (batch/v1) as declared, with Kubernetes' defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct CronJob {
    pub id: ObjectRef,
    /// `spec.schedule` as written, and parsed in `spec.timeZone` (else UTC).
    pub schedule_text: String,
    pub schedule: Schedule,
    pub time_zone: Option<String>,
    pub concurrency_policy: ConcurrencyPolicy,
    pub starting_deadline_seconds: Option<i64>,
    pub suspend: bool,
    /// Default 3 and 1.
    pub successful_jobs_history_limit: u32,
    pub failed_jobs_history_limit: u32,
    /// `spec.jobTemplate` as written (its metadata and Job spec).
    pub job_template: serde_json::Value,
    pub manifest: Manifest,
    pub source: Option<SourceLocation>,
}

/// The annotation the CronJob controller puts on the Jobs it starts.
pub const SCHEDULED_TIMESTAMP: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";

impl CronJob {
    /// `getJobName`: `<cronjob>-<scheduled time in minutes since 1970>`.
    pub fn job_name(&self, scheduled: i64) -> String {
        format!("{}-{}", self.id.name, scheduled.div_euclid(60))
    }

    /// `getJobFromTemplate2`: the Job started for the schedule `scheduled`
    /// (Unix seconds), owned by this CronJob.
    pub fn job_manifest(&self, scheduled: i64) -> serde_json::Value {
        let template = &self.job_template;
        let mut annotations = template["metadata"]["annotations"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        annotations.insert(SCHEDULED_TIMESTAMP.into(), rfc3339(scheduled).into());
        let mut metadata = serde_json::json!({
            "name": self.job_name(scheduled),
            "namespace": &*self.id.namespace,
            "annotations": annotations,
            "ownerReferences": [{
                "apiVersion": "batch/v1",
                "kind": "CronJob",
                "name": &*self.id.name,
                "controller": true,
                "blockOwnerDeletion": true,
            }],
        });
        if let Some(labels) = template["metadata"].get("labels") {
            metadata["labels"] = labels.clone();
        }
        serde_json::json!({
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": metadata,
            "spec": template.get("spec").cloned().unwrap_or_default(),
        })
    }
}

/// A Unix time as RFC 3339 in UTC (`2026-01-01T00:00:00Z`).
pub fn rfc3339(unix: i64) -> String {
    Timestamp::from_second(unix).map_or_else(|_| unix.to_string(), |t| t.to_string())
}

/// What the CronJob controller records in a CronJob's status, in simulated seconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CronStatus {
    /// When the CronJob was first applied (its creationTimestamp).
    pub created_at: u64,
    /// `status.lastScheduleTime`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_schedule_time: Option<u64>,
    /// The newest schedule time passed over (too late, or Forbid), so it is reported once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_skipped: Option<u64>,
    /// The Jobs it started that still exist, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jobs: Vec<String>,
}

/// Set when a field was `*` or `?` (robfig's `starBit`): day-of-month and
/// day-of-week then combine with AND instead of OR.
const STAR: u64 = 1 << 63;

#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// Bit sets of the matching minutes, hours, days of month, months, weekdays.
    Spec {
        minute: u64,
        hour: u64,
        dom: u64,
        month: u64,
        dow: u64,
        tz: TimeZone,
    },
    /// `@every D`: D after the previous time, whole seconds.
    Every(u64),
}

/// A schedule that does not parse, with robfig/cron's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronError(pub String);

impl fmt::Display for CronError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

struct Bounds {
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const MINUTES: Bounds = Bounds {
    min: 0,
    max: 59,
    names: &[],
};
const HOURS: Bounds = Bounds {
    min: 0,
    max: 23,
    names: &[],
};
const DOM: Bounds = Bounds {
    min: 1,
    max: 31,
    names: &[],
};
const MONTHS: Bounds = Bounds {
    min: 1,
    max: 12,
    names: &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ],
};
const DOW: Bounds = Bounds {
    min: 0,
    max: 6,
    names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
};

/// A time zone by its IANA name, as Go's `time.LoadLocation` finds it.
pub fn time_zone(name: &str) -> Result<TimeZone, CronError> {
    if name == "UTC" || name.is_empty() {
        return Ok(TimeZone::UTC);
    }
    TimeZone::get(name).map_err(|_| CronError(format!("unknown time zone {name}")))
}

impl Schedule {
    /// `cron.ParseStandard`, in `default_tz` unless the spec names its own.
    pub fn parse(spec: &str, default_tz: &TimeZone) -> Result<Schedule, CronError> {
        let mut spec = spec.trim();
        if spec.is_empty() {
            return Err(CronError("empty spec string".into()));
        }
        let mut tz = default_tz.clone();
        if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
            let eq = spec.find('=').unwrap_or(0);
            let end = spec.find(' ').unwrap_or(spec.len());
            let name = &spec[eq + 1..end];
            tz = time_zone(name)
                .map_err(|e| CronError(format!("provided bad location {name}: {e}")))?;
            spec = spec[end..].trim();
        }
        if let Some(descriptor) = spec.strip_prefix('@') {
            return Self::descriptor(descriptor, spec, tz);
        }
        let fields: Vec<&str> = spec.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(CronError(format!(
                "expected exactly 5 fields, found {}: [{}]",
                fields.len(),
                fields.join(" ")
            )));
        }
        Ok(Schedule::Spec {
            minute: field(fields[0], &MINUTES)?,
            hour: field(fields[1], &HOURS)?,
            dom: field(fields[2], &DOM)?,
            month: field(fields[3], &MONTHS)?,
            dow: field(fields[4], &DOW)?,
            tz,
        })
    }

    fn descriptor(name: &str, spec: &str, tz: TimeZone) -> Result<Schedule, CronError> {
        let standard = match name {
            "yearly" | "annually" => "0 0 1 1 *",
            "monthly" => "0 0 1 * *",
            "weekly" => "0 0 * * 0",
            "daily" | "midnight" => "0 0 * * *",
            "hourly" => "0 * * * *",
            _ => {
                if let Some(every) = name.strip_prefix("every ") {
                    let seconds = crate::manifest::parse_duration(every).ok_or_else(|| {
                        CronError(format!("failed to parse duration {spec}: invalid duration"))
                    })?;
                    return Ok(Schedule::Every(seconds.max(1)));
                }
                return Err(CronError(format!("unrecognized descriptor: {spec}")));
            }
        };
        Schedule::parse(standard, &tz)
    }

    /// `Schedule.Next`: the first activation strictly after `after`, or None
    /// when none comes within five years (robfig's limit).
    pub fn next(&self, after: i64) -> Option<i64> {
        match self {
            Schedule::Every(delay) => Some(after + *delay as i64),
            Schedule::Spec {
                minute,
                hour,
                dom,
                month,
                dow,
                tz,
            } => next_of(*minute, *hour, *dom, *month, *dow, tz, after),
        }
    }
}

/// One field: comma-separated ranges, each `*`, `?`, `N`, `N-M` or a name,
/// with an optional `/step` (`getField`, `getRange`).
fn field(text: &str, bounds: &Bounds) -> Result<u64, CronError> {
    let mut bits = 0;
    for expr in text.split(',') {
        bits |= range(expr, bounds)?;
    }
    Ok(bits)
}

fn range(expr: &str, bounds: &Bounds) -> Result<u64, CronError> {
    let range_and_step: Vec<&str> = expr.split('/').collect();
    let low_and_high: Vec<&str> = range_and_step[0].split('-').collect();
    let single = low_and_high.len() == 1;
    let (start, mut end, mut extra);
    if low_and_high[0] == "*" || low_and_high[0] == "?" {
        start = bounds.min;
        end = bounds.max;
        extra = STAR;
    } else {
        start = int_or_name(low_and_high[0], bounds)?;
        end = match low_and_high.len() {
            1 => start,
            2 => int_or_name(low_and_high[1], bounds)?,
            _ => return Err(CronError(format!("too many hyphens: {expr}"))),
        };
        extra = 0;
    }
    let step = match range_and_step.len() {
        1 => 1,
        2 => {
            let step = int(range_and_step[1])?;
            // "N/step" means "N-max/step".
            if single {
                end = bounds.max;
            }
            if step > 1 {
                extra = 0;
            }
            step
        }
        _ => return Err(CronError(format!("too many slashes: {expr}"))),
    };
    if start < bounds.min {
        return Err(CronError(format!(
            "beginning of range ({start}) below minimum ({}): {expr}",
            bounds.min
        )));
    }
    if end > bounds.max {
        return Err(CronError(format!(
            "end of range ({end}) above maximum ({}): {expr}",
            bounds.max
        )));
    }
    if start > end {
        return Err(CronError(format!(
            "beginning of range ({start}) beyond end of range ({end}): {expr}"
        )));
    }
    if step == 0 {
        return Err(CronError(format!(
            "step of range should be a positive number: {expr}"
        )));
    }
    let mut bits = extra;
    let mut i = start;
    while i <= end {
        bits |= 1 << i;
        i += step;
    }
    Ok(bits)
}

fn int_or_name(text: &str, bounds: &Bounds) -> Result<u32, CronError> {
    let lower = text.to_ascii_lowercase();
    if let Some(i) = bounds.names.iter().position(|n| *n == lower) {
        return Ok(bounds.min + i as u32);
    }
    int(text)
}

fn int(text: &str) -> Result<u32, CronError> {
    match text.parse::<i64>() {
        Ok(n) if n < 0 => Err(CronError(format!(
            "negative number ({n}) not allowed: {text}"
        ))),
        Ok(n) => Ok(u32::try_from(n).unwrap_or(u32::MAX)),
        Err(_) => Err(CronError(format!(
            "failed to parse int from {text}: strconv.Atoi: parsing \"{text}\": invalid syntax"
        ))),
    }
}

fn day_matches(dom: u64, dow: u64, t: &Zoned) -> bool {
    let dom_match = dom & (1 << t.day()) != 0;
    let weekday = t.weekday().to_sunday_zero_offset();
    let dow_match = dow & (1 << weekday) != 0;
    if dom & STAR != 0 || dow & STAR != 0 {
        dom_match && dow_match
    } else {
        dom_match || dow_match
    }
}

/// The zoned instant of a wall-clock time (a time in a DST gap moves forward).
fn at(tz: &TimeZone, date: jiff::civil::DateTime) -> Option<Zoned> {
    date.to_zoned(tz.clone()).ok()
}

/// `SpecSchedule.Next`: months and days step in wall-clock time, hours and
/// minutes in absolute time, as robfig/cron does.
fn next_of(
    minute: u64,
    hour: u64,
    dom: u64,
    month: u64,
    dow: u64,
    tz: &TimeZone,
    after: i64,
) -> Option<i64> {
    let mut t = Timestamp::from_second(after.checked_add(1)?)
        .ok()?
        .to_zoned(tz.clone());
    let mut added = false;
    let year_limit = t.year() + 5;
    'wrap: loop {
        if t.year() > year_limit {
            return None;
        }
        while month & (1 << t.month()) == 0 {
            if !added {
                added = true;
                t = at(tz, t.date().first_of_month().at(0, 0, 0, 0))?;
            }
            t = t.checked_add(1.month()).ok()?;
            if t.month() == 1 {
                continue 'wrap;
            }
        }
        while !day_matches(dom, dow, &t) {
            if !added {
                added = true;
                t = at(tz, t.date().at(0, 0, 0, 0))?;
            }
            t = t.checked_add(1.day()).ok()?;
            // A DST change moved midnight: back to it.
            let h = i64::from(t.hour());
            if h != 0 {
                let shift = if h > 12 { 24 - h } else { -h };
                t = t.checked_add(shift.hours()).ok()?;
            }
            if t.day() == 1 {
                continue 'wrap;
            }
        }
        while hour & (1 << t.hour()) == 0 {
            if !added {
                added = true;
                t = at(tz, t.date().at(t.hour(), 0, 0, 0))?;
            }
            t = t.checked_add(1.hour()).ok()?;
            if t.hour() == 0 {
                continue 'wrap;
            }
        }
        while minute & (1 << t.minute()) == 0 {
            if !added {
                added = true;
                t = at(tz, t.date().at(t.hour(), t.minute(), 0, 0))?;
            }
            t = t.checked_add(1.minute()).ok()?;
            if t.minute() == 0 {
                continue 'wrap;
            }
        }
        while t.second() != 0 {
            added = true;
            t = t.checked_add(1.second()).ok()?;
            if t.second() == 0 {
                continue 'wrap;
            }
        }
        return Some(t.timestamp().as_second());
    }
}

/// How many schedules were missed since the earliest time (`missedSchedulesType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missed {
    None,
    Few,
    /// More than 100: the controller warns `TooManyMissedTimes`.
    Many(i64),
}

/// `mostRecentScheduleTime`: the earliest time considered (the last
/// schedule, else creation, moved up to `now - startingDeadlineSeconds`
/// when asked), the newest schedule time not after `now` since then, and how
/// many were missed. Err for a schedule that never comes round (`59 23 31 2 *`).
pub fn most_recent_schedule_time(
    schedule: &Schedule,
    created: i64,
    last_schedule: Option<i64>,
    starting_deadline: Option<i64>,
    now: i64,
) -> Result<(i64, Option<i64>, Missed), CronError> {
    let mut earliest = last_schedule.unwrap_or(created);
    if let Some(deadline) = starting_deadline {
        earliest = earliest.max(now - deadline);
    }
    let never = || CronError("time difference between two schedules is less than 1 second".into());
    let Some(t1) = schedule.next(earliest) else {
        return Err(never());
    };
    if now < t1 {
        return Ok((earliest, None, Missed::None));
    }
    let Some(t2) = schedule.next(t1) else {
        return Err(never());
    };
    if now < t2 {
        return Ok((earliest, Some(t1), Missed::None));
    }
    let between = t2 - t1;
    if between < 1 {
        return Err(never());
    }
    let missed = (now - t1) / between + 1;
    let potential_earliest = t1 + (missed - 2) * between;
    let mut most_recent = None;
    let mut t = schedule.next(potential_earliest);
    while let Some(at) = t.filter(|&at| at <= now) {
        most_recent = Some(at);
        t = schedule.next(at);
    }
    let kind = match missed {
        m if m > 100 => Missed::Many(m),
        m if m > 1 => Missed::Few,
        _ => Missed::None,
    };
    Ok((earliest, most_recent, kind))
}

/// `nextScheduleTimeDuration`, as an instant: when the controller looks
/// again (the schedule after the most recent one, without the deadline).
pub fn next_schedule_time(
    schedule: &Schedule,
    created: i64,
    last_schedule: Option<i64>,
    now: i64,
) -> Option<i64> {
    let (earliest, recent, missed) =
        most_recent_schedule_time(schedule, created, last_schedule, None, now).ok()?;
    let from = match (recent, missed) {
        (Some(recent), _) => recent,
        (None, Missed::None) => earliest,
        // Missed schedules but none found since: from now on.
        (None, _) => now,
    };
    schedule.next(from)
}

#[cfg(test)]
mod tests;
