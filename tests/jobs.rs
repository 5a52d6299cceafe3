//! Jobs end to end through the real binary: pods run for their simulated
//! time, complete or fail, back off, and the Job's condition decides the
//! exit code; `--advance` lets time run on past the end of a run.

use crate::common::{Cluster, text, timeline};
use serde_json::Value;

const NODE: &str = "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n\
                    status: {allocatable: {cpu: \"4\", memory: 8Gi, pods: \"110\"}}\n";

/// A Job manifest: `spec` lines (indented two spaces) and pod annotations.
fn job(name: &str, spec: &str, annotations: &str) -> String {
    format!(
        "---\napiVersion: batch/v1\nkind: Job\nmetadata: {{name: {name}}}\nspec:\n{spec}  template:\n    \
         metadata:\n      annotations: {{{annotations}}}\n    spec:\n      restartPolicy: Never\n      \
         containers: [{{name: c, image: i, resources: {{requests: {{cpu: 500m}}}}}}]\n"
    )
}

fn cluster(manifests: &str) -> Cluster {
    let cluster = Cluster::new();
    cluster.write("m.yaml", &format!("{NODE}{manifests}"));
    cluster
}

/// (time, op, replica) of every shown action of a run document.
fn actions(run: &Value) -> Vec<(u64, String, String)> {
    timeline(run)
        .into_iter()
        .map(|(time, action)| (time, text(action, "op"), text(action, "replica")))
        .collect()
}

fn times_of(actions: &[(u64, String, String)], op: &str) -> Vec<u64> {
    actions
        .iter()
        .filter(|(_, o, _)| o == op)
        .map(|(t, _, _)| *t)
        .collect()
}

/// completions 5, parallelism 2, each pod 30s: pods start in waves at 0s,
/// 30s and 60s (two, two, one), and the Job is Complete at exactly 90s.
#[test]
fn a_job_of_five_completions_two_at_a_time_completes_at_ninety_seconds() {
    let cluster = cluster(&job(
        "report",
        "  completions: 5\n  parallelism: 2\n",
        "orch.dev/run-for: 30s",
    ));
    let output = cluster
        .orch()
        .args(["apply", "-f", "m.yaml", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let run: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(run["outcome"], "Converged");
    assert_eq!(run["clock"], 90);
    let actions = actions(&run);
    assert_eq!(times_of(&actions, "create"), [0, 0, 30, 30, 60]);
    assert_eq!(times_of(&actions, "complete"), [30, 30, 60, 60, 90]);
    assert_eq!(times_of(&actions, "job-complete"), [90]);
    let workload = &run["workloads"][0];
    assert_eq!(workload["object"], "Job/default/report");
    assert_eq!(workload["desired"], 5);
    assert_eq!(workload["available"], 5);
    // Finished pods stay listed, Succeeded, holding nothing.
    let replicas = cluster.replicas();
    assert_eq!(replicas.len(), 5);
    assert!(replicas.iter().all(|r| r["phase"] == "Succeeded"));
    let nodes = cluster.json(&["get", "nodes"]);
    assert_eq!(nodes["items"][0]["replicas"], 0, "{nodes}");
    // Complete is converged: nothing more to do.
    cluster
        .run(&["apply", "-f", "m.yaml"])
        .code(0)
        .stdout(predicates::str::contains("No changes"));
}

/// backoffLimit 2: three pods fail (at 5s, then after 10s and 20s of
/// back-off), and the Job fails with BackoffLimitExceeded, exit 3.
#[test]
fn a_failing_job_exhausts_its_backoff_limit() {
    let cluster = cluster(&job(
        "flaky",
        "  backoffLimit: 2\n",
        "orch.dev/simulate: fail-after=5s",
    ));
    let output = cluster
        .orch()
        .args(["apply", "-f", "m.yaml", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let run: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(run["outcome"], "Blocked");
    let actions = actions(&run);
    assert_eq!(times_of(&actions, "create"), [0, 15, 40]);
    assert_eq!(times_of(&actions, "fail"), [5, 20, 45]);
    assert_eq!(times_of(&actions, "job-failed"), [45]);
    let blocked = &run["workloads"][0]["blocked"];
    assert_eq!(blocked["reason"], "BackoffLimitExceeded");
    assert!(
        blocked["message"]
            .as_str()
            .unwrap()
            .contains("Job has reached the specified backoff limit"),
        "{blocked}"
    );
    let replicas = cluster.replicas();
    assert!(
        replicas.iter().all(|r| r["phase"] == "Failed"),
        "{replicas:?}"
    );
    cluster
        .run(&["get", "events"])
        .stdout(predicates::str::contains("BackoffLimitExceeded"));
    // Still failed on the next run: exit 3 again, nothing retried.
    cluster.run(&["apply", "-f", "m.yaml"]).code(3);
}

/// activeDeadlineSeconds: the running pods are stopped and the Job fails
/// with DeadlineExceeded at the deadline.
#[test]
fn a_job_past_its_deadline_fails() {
    let cluster = cluster(&job(
        "slow",
        "  activeDeadlineSeconds: 20\n",
        "orch.dev/run-for: 1m",
    ));
    let run = cluster.json(&["plan", "-f", "m.yaml"]);
    assert_eq!(run["outcome"], "Blocked");
    assert_eq!(times_of(&actions(&run), "job-failed"), [20]);
    assert_eq!(times_of(&actions(&run), "delete"), [20]);
    assert_eq!(run["workloads"][0]["blocked"]["reason"], "DeadlineExceeded");
}

/// Indexed: pods `<job>-<index>-<suffix>`, one per index, each index once.
#[test]
fn an_indexed_job_names_its_pods_by_index() {
    let cluster = cluster(&job(
        "shard",
        "  completions: 3\n  parallelism: 3\n  completionMode: Indexed\n",
        "orch.dev/run-for: 10s",
    ));
    cluster.run(&["apply", "-f", "m.yaml"]).code(0);
    let mut names: Vec<String> = cluster
        .replicas()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    let indexes: Vec<&str> = names
        .iter()
        .map(|n| n.strip_prefix("shard-").unwrap().split('-').next().unwrap())
        .collect();
    assert_eq!(indexes, ["0", "1", "2"], "{names:?}");
}

/// backoffLimitPerIndex: a failing Indexed Job fails with FailedIndexes once
/// each index has failed past its own limit.
#[test]
fn an_indexed_job_with_a_per_index_limit_fails_its_indexes() {
    let cluster = cluster(&job(
        "shard",
        "  completions: 2\n  parallelism: 2\n  completionMode: Indexed\n  backoffLimitPerIndex: 1\n",
        "orch.dev/simulate: fail-after=5s",
    ));
    let run = cluster.json(&["plan", "-f", "m.yaml"]);
    assert_eq!(run["outcome"], "Blocked");
    // Each index: a pod at 0s, failing at 5s, retried after 10s, failing at 20s.
    assert_eq!(times_of(&actions(&run), "create"), [0, 0, 15, 15]);
    assert_eq!(run["workloads"][0]["blocked"]["reason"], "FailedIndexes");
}

/// A suspended Job starts nothing and counts as converged.
#[test]
fn a_suspended_job_runs_nothing_and_converges() {
    let cluster = cluster(&job("later", "  suspend: true\n", ""));
    cluster.run(&["apply", "-f", "m.yaml"]).code(0);
    assert!(cluster.replicas().is_empty());
}

/// ttlSecondsAfterFinished: the finished pods stay until the TTL passes,
/// which `--advance` lets happen; the Job stays Complete.
#[test]
fn finished_pods_go_when_the_ttl_passes_under_advance() {
    let cluster = cluster(&job(
        "once",
        "  ttlSecondsAfterFinished: 60\n",
        "orch.dev/run-for: 10s",
    ));
    cluster.run(&["apply", "-f", "m.yaml"]).code(0);
    assert_eq!(cluster.replicas().len(), 1);
    let run = cluster.json(&["apply", "-f", "m.yaml", "--advance", "2m"]);
    assert_eq!(run["outcome"], "Converged");
    assert_eq!(run["clock"], 130);
    assert_eq!(times_of(&actions(&run), "delete"), [70]);
    assert!(cluster.replicas().is_empty());
    assert_eq!(run["workloads"][0]["available"], 1);
}

/// The API server's rules for a Job's spec, each located.
#[test]
fn invalid_jobs_are_refused_with_their_location() {
    let cases = [
        (
            "  completionMode: Indexed\n",
            "spec.completions: Required value: when completion mode is Indexed",
        ),
        (
            "  parallelism: -1\n",
            "spec.parallelism: Invalid value: -1: must be greater than or equal to 0",
        ),
        (
            "  backoffLimit: -2\n",
            "spec.backoffLimit: Invalid value: -2: must be greater than or equal to 0",
        ),
        (
            "  activeDeadlineSeconds: 0\n",
            "spec.activeDeadlineSeconds: Invalid value: 0: must be greater than 0",
        ),
        (
            "  backoffLimitPerIndex: 1\n",
            "spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode",
        ),
        (
            "  completionMode: Sometimes\n",
            "spec.completionMode: Unsupported value: \"Sometimes\"",
        ),
    ];
    for (spec, message) in cases {
        let cluster = cluster(&job("bad", spec, ""));
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
    // The pod template must not restart Always (the default).
    let cluster =
        cluster(&job("bad", "", "").replace("restartPolicy: Never", "restartPolicy: Always"));
    cluster
        .run(&["validate", "-f", "m.yaml"])
        .code(1)
        .stderr(predicates::str::contains(
            "spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\"",
        ));
}
