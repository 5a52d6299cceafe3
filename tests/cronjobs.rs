//! CronJobs end to end: `--advance` lets simulated time run on, the
//! CronJob starts its Jobs on schedule (in its time zone), and its
//! concurrency policy decides what happens when runs overlap.

use crate::common::{Cluster, actions_showing};
use serde_json::Value;

const NODE: &str = "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n\
                    status: {allocatable: {cpu: \"4\", memory: 8Gi, pods: \"110\"}}\n";

/// A CronJob: extra `spec` lines (two-space indent) and the pods' run time.
fn cronjob(spec: &str, run_for: &str) -> String {
    format!(
        "---\napiVersion: batch/v1\nkind: CronJob\nmetadata: {{name: report}}\nspec:\n{spec}  \
         jobTemplate:\n    spec:\n      template:\n        metadata:\n          annotations: \
         {{orch.dev/run-for: {run_for}}}\n        spec:\n          restartPolicy: Never\n          \
         containers: [{{name: c, image: i, resources: {{requests: {{cpu: 500m}}}}}}]\n"
    )
}

fn cluster(manifests: &str) -> Cluster {
    let cluster = Cluster::new();
    cluster.write("m.yaml", &format!("{NODE}{manifests}"));
    cluster
}

fn times(run: &Value, op: &str) -> Vec<u64> {
    actions_showing(run, "reason")
        .into_iter()
        .filter(|(_, o, _, _)| o == op)
        .map(|(t, _, _, _)| t)
        .collect()
}

const HOUR: u64 = 3600;

/// Hourly runs of 90 minutes with Forbid and a one-minute starting
/// deadline: the 2h run overlaps the 1h one and is skipped for good (it is
/// too late once the 1h run ends at 2h30m); 3h starts again.
#[test]
fn forbid_skips_an_overlapping_run_under_advance() {
    let cluster = cluster(&cronjob(
        "  schedule: \"0 * * * *\"\n  concurrencyPolicy: Forbid\n  startingDeadlineSeconds: 60\n",
        "90m",
    ));
    cluster.run(&["apply", "-f", "m.yaml"]).code(0);
    assert!(cluster.replicas().is_empty());
    let run = cluster.json(&["apply", "-f", "m.yaml", "--advance", "4h"]);
    assert_eq!(run["outcome"], "Converged", "{run}");
    assert_eq!(run["clock"], 4 * HOUR);
    assert_eq!(times(&run, "create-job"), [HOUR, 3 * HOUR]);
    assert_eq!(times(&run, "skip-schedule"), [2 * HOUR, 4 * HOUR]);
    assert_eq!(times(&run, "job-complete"), [2 * HOUR + 30 * 60]);
    // Jobs are named after their schedule time in minutes since 1970.
    let created: Vec<String> = actions_showing(&run, "reason")
        .into_iter()
        .filter(|(_, op, _, _)| op == "create-job")
        .map(|(_, _, _, detail)| detail)
        .collect();
    let minutes = |hours: i64| (1_767_225_600 + hours * 3600) / 60;
    assert_eq!(
        created,
        [
            format!("Job/default/report-{}", minutes(1)),
            format!("Job/default/report-{}", minutes(3))
        ]
    );
    cluster
        .run(&["get", "events"])
        .stdout(predicates::str::contains("JobAlreadyActive"));
}

/// Without a starting deadline, Forbid only delays the skipped run: it
/// starts as soon as the running Job ends, as the controller does.
#[test]
fn forbid_without_a_deadline_starts_the_missed_run_late() {
    let cluster = cluster(&cronjob(
        "  schedule: \"0 * * * *\"\n  concurrencyPolicy: Forbid\n",
        "90m",
    ));
    let run = cluster.json(&["plan", "-f", "m.yaml", "--advance", "3h"]);
    assert_eq!(times(&run, "create-job"), [HOUR, 2 * HOUR + 30 * 60]);
}

/// Allow runs them side by side; Replace deletes the running one first.
#[test]
fn allow_overlaps_and_replace_deletes_the_running_job() {
    let allow = cluster(&cronjob("  schedule: \"@hourly\"\n", "90m"));
    let run = allow.json(&["plan", "-f", "m.yaml", "--advance", "2h"]);
    assert_eq!(times(&run, "create-job"), [HOUR, 2 * HOUR]);
    assert!(times(&run, "delete-job").is_empty());
    let replace = cluster(&cronjob(
        "  schedule: \"@hourly\"\n  concurrencyPolicy: Replace\n",
        "90m",
    ));
    let run = replace.json(&["plan", "-f", "m.yaml", "--advance", "2h"]);
    assert_eq!(times(&run, "create-job"), [HOUR, 2 * HOUR]);
    assert_eq!(times(&run, "delete-job"), [2 * HOUR]);
}

/// successfulJobsHistoryLimit: only the newest finished Jobs are kept
/// (40m and 50m), beside the one still running at the end (60m).
#[test]
fn history_limits_keep_the_newest_finished_jobs() {
    let cluster = cluster(&cronjob(
        "  schedule: \"*/10 * * * *\"\n  successfulJobsHistoryLimit: 2\n",
        "1m",
    ));
    cluster
        .run(&["apply", "-f", "m.yaml", "--advance", "1h"])
        .code(0);
    let mut jobs: Vec<String> = cluster
        .replicas()
        .iter()
        .map(|r| r["workload"].as_str().unwrap().to_string())
        .collect();
    jobs.sort();
    jobs.dedup();
    let minutes = |m: i64| (1_767_225_600 + m * 60) / 60;
    assert_eq!(
        jobs,
        [
            format!("Job/default/report-{}", minutes(40)),
            format!("Job/default/report-{}", minutes(50)),
            format!("Job/default/report-{}", minutes(60))
        ]
    );
}

/// A schedule reads in its time zone: 09:00 in Tokyo is 00:00 UTC.
#[test]
fn schedules_read_in_their_time_zone_against_the_epoch() {
    let cluster = cluster(&cronjob(
        "  schedule: \"0 9 * * *\"\n  timeZone: Asia/Tokyo\n",
        "1m",
    ));
    let run = cluster.json(&[
        "plan",
        "-f",
        "m.yaml",
        "--advance",
        "1d",
        "--epoch",
        "2026-03-01T12:00:00Z",
    ]);
    // From 12:00 UTC, the next 09:00 in Tokyo is 00:00 UTC the next day: 12h on.
    assert_eq!(times(&run, "create-job"), [12 * HOUR]);
}

/// A suspended CronJob starts nothing.
#[test]
fn a_suspended_cronjob_starts_nothing() {
    let cluster = cluster(&cronjob("  schedule: \"@hourly\"\n  suspend: true\n", "1m"));
    let run = cluster.json(&["plan", "-f", "m.yaml", "--advance", "3h"]);
    assert!(times(&run, "create-job").is_empty());
}

/// The API server's rules for a CronJob, each located; nothing written.
#[test]
fn invalid_cronjobs_are_refused_with_their_location() {
    let cases = [
        (
            "  schedule: \"61 * * * *\"\n",
            "spec.schedule: Invalid value: \"61 * * * *\": end of range (61) above maximum (59): 61",
        ),
        (
            "  schedule: \"* * * *\"\n",
            "expected exactly 5 fields, found 4",
        ),
        (
            "  schedule: \"@fortnightly\"\n",
            "unrecognized descriptor: @fortnightly",
        ),
        (
            "  schedule: \"TZ=UTC 0 * * * *\"\n",
            "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
        ),
        (
            "  schedule: \"@daily\"\n  timeZone: Mars/Olympus\n",
            "spec.timeZone: Invalid value: \"Mars/Olympus\": unknown time zone Mars/Olympus",
        ),
        (
            "  schedule: \"@daily\"\n  concurrencyPolicy: Sometimes\n",
            "spec.concurrencyPolicy: Unsupported value: \"Sometimes\"",
        ),
        (
            "  schedule: \"@daily\"\n  startingDeadlineSeconds: -5\n",
            "spec.startingDeadlineSeconds: Invalid value: -5: must be greater than or equal to 0",
        ),
        ("  suspend: false\n", "spec.schedule: Required value"),
    ];
    for (spec, message) in cases {
        let cluster = cluster(&cronjob(spec, "1m"));
        let output = cluster
            .orch()
            .args(["apply", "-f", "m.yaml"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{spec}: {stderr}");
        assert!(stderr.contains("m.yaml:"), "{stderr}");
        assert!(stderr.contains(message), "{spec}: {stderr}");
        assert!(!cluster.state().exists(), "{spec}: state written");
    }
}
