//! Live tables: `orch get … -w` in the background while other orch commands
//! change the state, and `orch watch --show`. Every wait is bounded; the
//! background process is killed if a test fails.

use crate::common::{Cluster, eventually};
use serde_json::Value;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// A background orch whose stdout and stderr go to files in the cluster directory.
struct Background {
    child: Child,
    stdout: std::path::PathBuf,
    stderr: std::path::PathBuf,
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Background {
    fn start(cluster: &Cluster, name: &str, args: &[&str]) -> Background {
        let stdout = cluster.path(&format!("{name}.out"));
        let stderr = cluster.path(&format!("{name}.err"));
        let child = Command::new(assert_cmd::cargo::cargo_bin("orch"))
            .current_dir(cluster.path(""))
            .env("ORCH_STATE", cluster.state())
            .env("NO_COLOR", "1")
            .args(args)
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        Background {
            child,
            stdout,
            stderr,
        }
    }

    fn out(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap()
    }

    fn err(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap()
    }

    fn lines(&self) -> Vec<String> {
        self.out().lines().map(String::from).collect()
    }

    /// Wait until the output has `count` lines; the lines.
    fn wait_lines(&self, count: usize, what: &str) -> Vec<String> {
        eventually(Duration::from_secs(15), what, || {
            self.lines().len() >= count
        });
        self.lines()
    }

    fn terminate(&mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        self.wait_exit(Duration::from_secs(5))
    }

    fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(started.elapsed() < limit, "did not exit within {limit:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn converged() -> Cluster {
    let cluster = Cluster::example();
    cluster.run(&["apply", "-f", "manifests/", "-q"]).success();
    cluster
}

fn names(cluster: &Cluster, workload: &str) -> Vec<String> {
    cluster
        .replicas()
        .iter()
        .filter(|r| r["workload"] == workload)
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect()
}

/// The example manifests with `worker` scaled to `replicas`, in `scaled/`.
fn scaled_workers(cluster: &Cluster, replicas: u32) {
    let text = std::fs::read_to_string(cluster.path("manifests/workers.yaml")).unwrap();
    let at = text.find("name: worker").unwrap();
    let from = at + text[at..].find("replicas: ").unwrap();
    let end = from + text[from..].find('\n').unwrap();
    for entry in std::fs::read_dir(cluster.path("manifests")).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        let body = std::fs::read_to_string(entry.path()).unwrap();
        cluster.write(&format!("scaled/{name}"), &body);
    }
    cluster.write(
        "scaled/workers.yaml",
        &format!("{}replicas: {replicas}{}", &text[..from], &text[end..]),
    );
}

fn rows_for<'a>(lines: &'a [String], name: &str) -> Vec<&'a String> {
    lines
        .iter()
        .filter(|l| l.split_whitespace().next() == Some(name))
        .collect()
}

const WORKER: &str = "Deployment/default/worker";

#[test]
fn get_w_prints_the_table_then_only_changed_rows_and_stops_on_sigterm() {
    let cluster = converged();
    let total = cluster.replicas().len();
    let mut replicas = Background::start(&cluster, "replicas", &["get", "replicas", "-w"]);
    let mut nodes = Background::start(&cluster, "nodes", &["get", "nodes", "--watch"]);
    let first = replicas.wait_lines(total + 1, "the first table");
    assert!(first[0].starts_with("NAME") && first[0].contains("AGE"));
    // Exactly `get replicas`, then nothing more until something changes.
    let get = cluster.run(&["get", "replicas"]).success();
    assert_eq!(
        replicas.out(),
        String::from_utf8_lossy(&get.get_output().stdout)
    );
    nodes.wait_lines(6, "the node table");

    // A cordon changes a node's row, not a replica's.
    cluster.run(&["node", "cordon", "node-a1"]).success();
    eventually(Duration::from_secs(10), "the cordoned node row", || {
        nodes.lines().len() == 7
    });
    let node_lines = nodes.lines();
    assert!(
        node_lines[6].starts_with("node-a1") && node_lines[6].contains("Ready,SchedulingDisabled"),
        "{node_lines:?}"
    );

    // A deleted replica is printed once more, as Deleted.
    let victim = names(&cluster, WORKER)[0].clone();
    cluster.run(&["replica", "delete", &victim]).success();
    eventually(Duration::from_secs(10), "the deleted row", || {
        rows_for(&replicas.lines(), &victim).len() == 2
    });
    let deleted = rows_for(&replicas.lines(), &victim)[1].clone();
    assert!(deleted.contains("Deleted"), "{deleted}");

    // Apply a scaled manifest: the replacement and the new replica appear, the
    // rest of the table (whose AGE moved on) is not printed again.
    scaled_workers(&cluster, 3);
    cluster.run(&["apply", "-f", "scaled/", "-q"]).success();
    let workers = names(&cluster, WORKER);
    assert_eq!(workers.len(), 3);
    let fresh: Vec<&String> = workers
        .iter()
        .filter(|n| !first.iter().any(|l| l.starts_with(n.as_str())))
        .collect();
    assert_eq!(fresh.len(), 2, "{workers:?}");
    eventually(Duration::from_secs(10), "the new worker rows", || {
        let lines = replicas.lines();
        fresh.iter().all(|name| {
            rows_for(&lines, name)
                .last()
                .is_some_and(|row| row.contains("Running") && row.contains("1/1"))
        })
    });
    std::thread::sleep(Duration::from_millis(500));
    let lines = replicas.lines();
    assert_eq!(lines.iter().filter(|l| l.starts_with("NAME")).count(), 1);
    for line in &lines[first.len()..] {
        let name = line.split_whitespace().next().unwrap();
        assert!(
            name == victim || fresh.iter().any(|f| *f == name),
            "an unchanged row was printed again: {line}"
        );
    }
    // Changed rows line up under the first header.
    let node_column = first[0].find("NODE").unwrap();
    for line in &lines[first.len()..] {
        let node = line.split_whitespace().nth(4).unwrap();
        assert!(line[node_column..].starts_with(node), "{line}");
    }

    assert!(replicas.terminate().success());
    assert!(nodes.terminate().success());
    assert_eq!(replicas.err(), "");
}

#[test]
fn get_w_json_prints_one_watch_event_per_change() {
    let cluster = converged();
    let total = cluster.replicas().len();
    let watcher = Background::start(
        &cluster,
        "json",
        &[
            "get",
            "replicas",
            "-w",
            "-o",
            "json",
            "--watch-timeout",
            "20",
        ],
    );
    watcher.wait_lines(total, "one ADDED line per replica");
    let before = names(&cluster, WORKER);
    let victim = before[0].clone();
    cluster.run(&["replica", "delete", &victim]).success();
    cluster.run(&["apply", "-f", "manifests/", "-q"]).success();
    let replacement = names(&cluster, WORKER)
        .into_iter()
        .find(|n| !before.contains(n))
        .expect("a replacement replica");
    let events = || -> Vec<Value> {
        watcher
            .lines()
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
            .collect()
    };
    eventually(Duration::from_secs(10), "the replacement", || {
        events()
            .iter()
            .any(|e| e["object"]["name"] == replacement.as_str())
    });
    let events = events();
    for event in &events {
        assert_eq!(event["apiVersion"], "orch.dev/v1");
        assert_eq!(event["kind"], "WatchEvent");
    }
    assert!(events[..total].iter().all(|e| e["type"] == "ADDED"));
    let about = |name: &str| -> Vec<&Value> {
        events
            .iter()
            .filter(|e| e["object"]["name"] == name)
            .collect()
    };
    let gone = about(&victim);
    assert_eq!(gone.len(), 2);
    assert_eq!(gone[1]["type"], "DELETED");
    assert_eq!(gone[1]["object"]["workload"], WORKER);
    assert_eq!(about(&replacement)[0]["type"], "ADDED");
    // The same item shape as `get replicas -o json`.
    let item = &cluster.replicas()[0];
    let listed = events
        .iter()
        .rev()
        .find(|e| e["object"]["name"] == item["name"])
        .unwrap();
    assert_eq!(&listed["object"], item);
}

#[test]
fn a_corrupt_or_missing_state_is_reported_and_waited_out() {
    let cluster = converged();
    let good = cluster.state_bytes();
    let mut watcher = Background::start(
        &cluster,
        "corrupt",
        &["get", "nodes", "-w", "--watch-timeout", "30"],
    );
    watcher.wait_lines(6, "the node table");
    std::fs::write(cluster.state(), "nodes: [").unwrap();
    eventually(Duration::from_secs(10), "the error line", || {
        watcher.err().contains("error")
    });
    std::fs::remove_file(cluster.state()).unwrap();
    eventually(Duration::from_secs(10), "the missing-state line", || {
        watcher.err().contains("waiting")
    });
    assert!(
        watcher.child.try_wait().unwrap().is_none(),
        "still watching"
    );
    // Back as it was: nothing changed, nothing printed; then a real change.
    std::fs::write(cluster.state(), &good).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(watcher.lines().len(), 6, "{}", watcher.out());
    cluster.run(&["node", "cordon", "node-b1"]).success();
    eventually(Duration::from_secs(10), "the cordoned node", || {
        watcher.lines().len() == 7
    });
    assert!(watcher.lines()[6].starts_with("node-b1"));
    assert!(!watcher.out().contains("Deleted"));
    assert!(watcher.terminate().success());
}

#[test]
fn watch_timeout_ends_the_watch_with_exit_0() {
    let cluster = converged();
    let started = Instant::now();
    let output = cluster
        .orch()
        .args(["get", "workloads", "-w", "--watch-timeout", "1"])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(started.elapsed() < Duration::from_secs(10));
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(text.lines().count(), 8, "{text}");
}

#[test]
fn watch_usage_errors_exit_1() {
    let cluster = converged();
    cluster
        .run(&["get", "replicas", "-w", "--watch-timeout", "soon"])
        .code(1)
        .stderr(predicates::str::contains("soon"));
    cluster
        .run(&["get", "replicas", "--watch-timeout", "5"])
        .code(1);
    std::fs::write(cluster.state(), "apiVersion: [").unwrap();
    cluster
        .run(&["get", "replicas", "-w", "--watch-timeout", "5"])
        .code(1)
        .stderr(predicates::str::contains("orch.state.yaml"));
}

#[test]
fn watch_show_prints_the_rows_each_reconciliation_changed() {
    let cluster = Cluster::example();
    let mut watcher = Background::start(
        &cluster,
        "show",
        &[
            "watch",
            "-f",
            "manifests/",
            "--speed",
            "100",
            "--resync",
            "1s",
            "--show",
            "workloads",
            "-o",
            "json",
        ],
    );
    let ready = |lines: &[String], object: &str| {
        lines.iter().any(|l| {
            let event: Value = serde_json::from_str(l).unwrap();
            event["object"]["object"] == object
                && event["object"]["desired"] == event["object"]["ready"]
                && event["type"] == "MODIFIED"
        })
    };
    eventually(Duration::from_secs(20), "api ready", || {
        ready(&watcher.lines(), "Deployment/default/api")
    });
    let lines = watcher.lines();
    let first: Vec<Value> = lines[..6]
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(first.iter().all(|e| e["type"] == "ADDED"));
    // Each line is a change: resyncs every second print nothing for an
    // object that did not change.
    let mut last: std::collections::HashMap<String, Value> = Default::default();
    for line in &lines {
        let event: Value = serde_json::from_str(line).unwrap();
        let object = event["object"]["object"].as_str().unwrap().to_string();
        if let Some(before) = last.insert(object, event["object"].clone()) {
            assert_ne!(before, event["object"], "{line}");
        }
    }
    assert!(watcher.terminate().success());
}
