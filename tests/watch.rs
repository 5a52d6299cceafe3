//! `orch watch` running in the background against the example platform:
//! manifest edits, a broken manifest, a fault from another process, SIGTERM.
//! Every wait is bounded; the watcher is killed if a test fails.

use crate::common::{Cluster, eventually};
use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Watcher {
    child: Child,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(cluster: &Cluster) -> Watcher {
    let log = std::fs::File::create(cluster.path("watch.log")).unwrap();
    let child = Command::new(assert_cmd::cargo::cargo_bin("orch"))
        .current_dir(cluster.path(""))
        .env("ORCH_STATE", cluster.state())
        .env("NO_COLOR", "1")
        .args([
            "watch",
            "-f",
            "manifests/",
            "--speed",
            "100",
            "--resync",
            "1s",
            "--debounce-ms",
            "100",
        ])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    Watcher { child }
}

fn workloads(cluster: &Cluster) -> Vec<Value> {
    let output = cluster
        .orch()
        .args(["get", "workloads", "-o", "json"])
        .output()
        .unwrap();
    serde_json::from_slice::<Value>(&output.stdout)
        .ok()
        .and_then(|d| d["items"].as_array().cloned())
        .unwrap_or_default()
}

fn ready(cluster: &Cluster, object: &str) -> Option<(i64, i64)> {
    workloads(cluster)
        .iter()
        .find(|w| w["object"] == object)
        .map(|w| (w["desired"].as_i64().unwrap(), w["ready"].as_i64().unwrap()))
}

fn set_worker_replicas(cluster: &Cluster, replicas: u32) {
    let path = cluster.path("manifests/workers.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let at = text.find("name: worker").unwrap();
    let replicas_at = at + text[at..].find("replicas: ").unwrap() + "replicas: ".len();
    let end = replicas_at + text[replicas_at..].find('\n').unwrap();
    std::fs::write(
        &path,
        format!("{}{replicas}{}", &text[..replicas_at], &text[end..]),
    )
    .unwrap();
}

const WORKER: &str = "Deployment/default/worker";

#[test]
fn watch_follows_edits_survives_typos_handles_faults_and_stops_cleanly() {
    let cluster = Cluster::example();
    let mut watcher = start(&cluster);
    eventually(Duration::from_secs(20), "initial convergence", || {
        let all = workloads(&cluster);
        // Five Deployments, the DaemonSet and the nightly CronJob.
        all.len() == 7
            && all
                .iter()
                .all(|w| w["ready"] == w["desired"] && w["updated"] == w["desired"])
    });

    // A manifest edit converges within 2 s of wall time.
    set_worker_replicas(&cluster, 3);
    eventually(Duration::from_secs(2), "worker scaled to 3", || {
        ready(&cluster, WORKER) == Some((3, 3))
    });

    // A broken manifest is reported; the running replicas are left alone.
    let path = cluster.path("manifests/workers.yaml");
    let good = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, good.replace("replicas: 3", "replicas: [3")).unwrap();
    eventually(Duration::from_secs(5), "the error is printed", || {
        std::fs::read_to_string(cluster.path("watch.log"))
            .unwrap()
            .contains("keeping the last good set")
    });
    std::thread::sleep(Duration::from_millis(500));
    // Read until a read succeeds (once, under a loaded machine, a read gave
    // no listing); the counts read must then be the running ones.
    let mut seen = None;
    eventually(Duration::from_secs(3), "the workloads read", || {
        seen = ready(&cluster, WORKER);
        seen.is_some()
    });
    assert_eq!(seen, Some((3, 3)));
    std::fs::write(&path, good).unwrap();

    // A fault from another process: replicas leave the failed node after the
    // 300 s toleration (3 s at 100×) and run elsewhere.
    cluster
        .orch()
        .args(["node", "fail", "node-b1", "--wait-lock"])
        .assert()
        .success();
    eventually(
        Duration::from_secs(10),
        "replicas moved off node-b1",
        || {
            let replicas = cluster.replicas();
            replicas
                .iter()
                .filter(|r| r["node"] == "node-b1")
                .all(|r| r["workload"] == "DaemonSet/kube-system/log-agent")
                && ready(&cluster, WORKER) == Some((3, 3))
                && ready(&cluster, "Deployment/default/video-worker") == Some((3, 3))
        },
    );

    // SIGTERM: exit 0, the state intact, the lock free.
    let pid = watcher.child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = watcher.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "watch did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    cluster.run(&["get", "nodes"]).success();
    cluster.run(&["node", "recover", "node-b1"]).success();
    assert!(
        std::fs::read_to_string(cluster.path("watch.log"))
            .unwrap()
            .contains("stopped; state saved")
    );
}

#[test]
fn watch_once_is_apply() {
    let cluster = Cluster::example();
    cluster
        .run(&["watch", "-f", "manifests/", "--once"])
        .success();
    cluster
        .run(&["plan", "-f", "manifests/", "--detailed-exitcode"])
        .code(0);
}
