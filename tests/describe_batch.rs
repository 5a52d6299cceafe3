//! `orch describe job|cronjob`: kubectl's layout (`describeJob`,
//! `describeCronJob`), whole outputs kept as snapshots: an Indexed Job, a
//! failed Job, a finished Job a CronJob started, and the
//! example's nightly CronJob after a day and a bit of simulated time.

use crate::common::{Cluster, snapshot};

const NODE: &str = "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n\
                    status: {allocatable: {cpu: \"4\", memory: 8Gi, pods: \"110\"}}\n";

/// Completions 5 by 2 at a time, Indexed, pods of 30 seconds: done at 90s.
const INDEXED: &str = "---\napiVersion: batch/v1\nkind: Job\n\
    metadata: {name: shards, labels: {team: data}, annotations: {owner: data-eng}}\n\
    spec:\n  completions: 5\n  parallelism: 2\n  completionMode: Indexed\n  backoffLimit: 1\n  \
    activeDeadlineSeconds: 3600\n  ttlSecondsAfterFinished: 600\n  template:\n    \
    metadata:\n      labels: {app: shards}\n      annotations: {orch.dev/run-for: 30s}\n    \
    spec:\n      restartPolicy: Never\n      nodeSelector: {kubernetes.io/os: linux}\n      \
    tolerations: [{key: batch, operator: Exists, effect: NoSchedule}]\n      \
    containers: [{name: shard, image: shards:2, resources: {requests: {cpu: 500m, memory: 256Mi}}}]\n";

#[test]
fn describe_job_reads_like_kubectl() {
    let cluster = Cluster::new();
    let node = NODE.replace(
        "metadata: {name: n1}",
        "metadata: {name: n1, labels: {kubernetes.io/os: linux}}",
    );
    cluster.write("m.yaml", &format!("{node}{INDEXED}"));
    cluster.run(&["apply", "-f", "m.yaml", "-q"]).success();
    let text = cluster.stdout(&["describe", "job", "shards"], 0);
    snapshot!("describe_job_indexed", "orch describe job shards", &text);
    for line in [
        "Completion Mode:             Indexed",
        "Pods Statuses:               0 Active (0 Ready) / 5 Succeeded / 0 Failed",
        "Completed Indexes:           0-4",
        "Active Deadline Seconds:     3600s",
    ] {
        assert!(text.lines().any(|l| l == line), "no `{line}` in\n{text}");
    }
    // The same view as the object, and as JSON with simulated seconds.
    assert_eq!(
        cluster.stdout(&["describe", "workload", "Job/default/shards"], 0),
        text
    );
    let json = cluster.json(&["describe", "job", "default/shards"]);
    assert_eq!(json["kind"], "JobDescription");
    assert_eq!(json["succeeded"], 5);
    assert_eq!(json["startTime"], 0);
    assert_eq!(json["completionTime"], 90);
}

#[test]
fn describe_a_failed_job() {
    let cluster = Cluster::new();
    let failing = "---\napiVersion: batch/v1\nkind: Job\nmetadata: {name: flaky}\n\
        spec:\n  backoffLimit: 1\n  template:\n    metadata:\n      \
        annotations: {orch.dev/simulate: fail-after=10s}\n    spec:\n      restartPolicy: Never\n      \
        containers: [{name: c, image: i, resources: {requests: {cpu: 500m}}}]\n";
    cluster.write("m.yaml", &format!("{NODE}{failing}"));
    cluster.run(&["apply", "-f", "m.yaml", "-q"]).code(3);
    let text = cluster.stdout(&["describe", "job", "flaky"], 0);
    snapshot!("describe_job_failed", "orch describe job flaky", &text);
}

#[test]
fn describe_the_examples_cronjob_and_its_jobs() {
    let cluster = Cluster::example();
    cluster
        .run(&["apply", "-f", "manifests/", "-q", "--advance", "26h"])
        .success();
    let text = cluster.stdout(&["describe", "cronjob", "nightly-report"], 0);
    snapshot!(
        "describe_cronjob_example",
        "orch apply -f manifests/ --advance 26h; orch describe cronjob nightly-report",
        &text,
    );
    // Its first Job finished; kubectl names the CronJob that controls it.
    let jobs = cluster.json(&["get", "workloads"]);
    let first = jobs["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["object"].as_str().unwrap())
        .find(|o| o.starts_with("Job/"))
        .expect("a Job of the CronJob")
        .to_string();
    let job = cluster.stdout(&["describe", "job", &first], 0);
    snapshot!(
        "describe_job_of_cronjob",
        "orch apply -f manifests/ --advance 26h; orch describe job FIRST",
        &job,
    );
    for line in [
        "Controlled By:               CronJob/nightly-report",
        "Duration:                    20m",
    ] {
        assert!(job.lines().any(|l| l == line), "no `{line}` in\n{job}");
    }
}

#[test]
fn describe_job_names_what_is_there() {
    let cluster = Cluster::example();
    cluster.run(&["apply", "-f", "manifests/", "-q"]).success();
    let output = cluster
        .orch()
        .args(["describe", "cronjob", "nightly-reprot"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("nightly-report"), "{stderr}");
    let output = cluster
        .orch()
        .args(["describe", "job", "Deployment/api"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
}

/// A CronJob is a workload in every listing: `get workloads` (table, JSON,
/// selector), `validate` (count and JUnit) and `graph`.
#[test]
fn cronjobs_are_listed_with_the_workloads() {
    let cluster = Cluster::example();
    let validate = cluster
        .orch()
        .args(["validate", "-f", "manifests/", "--junit", "v.xml"])
        .output()
        .unwrap();
    assert!(validate.status.success());
    let stderr = String::from_utf8_lossy(&validate.stderr);
    assert!(stderr.contains(" 7 workload(s)"), "{stderr}");
    let junit = std::fs::read_to_string(cluster.path("v.xml")).unwrap();
    assert!(
        junit.contains(
            "<testcase name=\"CronJob/default/nightly-report\" classname=\"manifests/reports.yaml\""
        ),
        "{junit}"
    );
    let graph = cluster.stdout(&["graph", "-f", "manifests/", "-q"], 0);
    assert!(
        graph
            .lines()
            .any(|l| l == "1. CronJob/default/nightly-report"),
        "{graph}"
    );
    cluster.run(&["apply", "-f", "manifests/", "-q"]).success();
    let table = cluster.stdout(&["get", "workloads", "-l", "app=nightly-report"], 0);
    assert_eq!(
        table.lines().nth(1).unwrap().split_whitespace().next(),
        Some("CronJob/default/nightly-report"),
        "{table}"
    );
    let json = cluster.json(&["get", "workloads"]);
    let cron = json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["object"] == "CronJob/default/nightly-report")
        .expect("the CronJob in get workloads -o json");
    assert_eq!(cron["cron"]["suspended"], false);
}
