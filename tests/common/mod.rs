//! Shared fixtures for end-to-end tests: a cluster directory in a temp dir,
//! the real `orch` binary, and the manifest builders of `manifests`.
#![allow(dead_code)]

mod manifests;

pub use manifests::*;

use assert_cmd::Command;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

pub struct Cluster {
    pub dir: TempDir,
}

impl Cluster {
    pub fn new() -> Cluster {
        Cluster {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// A cluster directory holding a copy of the example platform in `manifests/`.
    pub fn example() -> Cluster {
        let cluster = Cluster::new();
        let target = cluster.path("manifests");
        fs::create_dir_all(&target).unwrap();
        for entry in fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests")).unwrap()
        {
            let entry = entry.unwrap();
            fs::copy(entry.path(), target.join(entry.file_name())).unwrap();
        }
        cluster
    }

    /// The example platform without its node group: the fixed fleet of
    /// `manifests/nodes.yaml`, whose answers can be worked out by hand.
    pub fn example_fixed_fleet() -> Cluster {
        let cluster = Cluster::example();
        fs::remove_file(cluster.path("manifests/nodegroups.yaml")).unwrap();
        cluster
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(&path, text).unwrap();
        path
    }

    pub fn state(&self) -> PathBuf {
        self.path("orch.state.yaml")
    }

    pub fn state_bytes(&self) -> Vec<u8> {
        fs::read(self.state()).unwrap()
    }

    pub fn orch(&self) -> Command {
        let mut command = Command::cargo_bin("orch").unwrap();
        command
            .current_dir(self.dir.path())
            .env("ORCH_STATE", self.state())
            .env("NO_COLOR", "1")
            .env_remove("CLICOLOR_FORCE")
            .env_remove("COLUMNS")
            .env_remove("GITHUB_STEP_SUMMARY");
        command
    }

    pub fn run(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        self.orch().args(args).assert()
    }

    /// The whole stdout of `orch ARGS`, which must exit with `code`.
    pub fn stdout(&self, args: &[&str], code: i32) -> String {
        let output = self.orch().args(args).output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(code),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let output = self
            .orch()
            .args(args)
            .args(["-o", "json"])
            .output()
            .unwrap();
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "{args:?}: not JSON ({e}): {}",
                String::from_utf8_lossy(&output.stdout)
            )
        })
    }

    /// The items of `orch get WHAT -o json` (`replicas`, `pvc`, `pv`, …).
    pub fn items(&self, what: &str) -> Vec<Value> {
        self.json(&["get", what])["items"]
            .as_array()
            .unwrap()
            .clone()
    }

    pub fn replicas(&self) -> Vec<Value> {
        self.items("replicas")
    }

    /// The replica named `name`, as `get replicas -o json` shows it.
    pub fn replica(&self, name: &str) -> Value {
        self.replicas()
            .into_iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("no replica {name}"))
    }

    /// The node the replica named `name` is bound to.
    pub fn node_of(&self, name: &str) -> String {
        let replica = self.replica(name);
        replica["node"]
            .as_str()
            .unwrap_or_else(|| panic!("replica {name} has no node: {replica}"))
            .to_string()
    }
}

/// Every shown action of a run document (`plan` or `apply -o json`), with
/// the time of its step.
pub fn timeline(run: &Value) -> Vec<(u64, &Value)> {
    run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|step| {
            let time = step["time"].as_u64().unwrap();
            step["actions"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |action| (time, action))
        })
        .collect()
}

/// (time, op, object, `detail`) of every shown action of a run document,
/// `detail` the field a test reads beside them (`reason`, `node`).
pub fn actions_showing(run: &Value, detail: &str) -> Vec<(u64, String, String, String)> {
    timeline(run)
        .into_iter()
        .map(|(time, action)| {
            (
                time,
                text(action, "op"),
                text(action, "object"),
                text(action, detail),
            )
        })
        .collect()
}

/// A text field of a document, `""` where it has none.
pub fn text(value: &Value, key: &str) -> String {
    value[key].as_str().unwrap_or("").to_string()
}

pub fn nodes_on(replicas: &[Value]) -> Vec<String> {
    let mut nodes: Vec<String> = replicas
        .iter()
        .filter_map(|r| r["node"].as_str().map(String::from))
        .collect();
    nodes.sort();
    nodes
}

/// Poll `check` until it holds or `limit` passes.
pub fn eventually(limit: std::time::Duration, what: &str, mut check: impl FnMut() -> bool) {
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        if check() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("{what}: not within {limit:?}");
}

/// `snapshot!(NAME, COMMAND, TEXT)`: compare `TEXT` with
/// `tests/snapshots/NAME.snap`, whose header names the command. A macro, so
/// that insta files the snapshot beside the test file that calls it.
macro_rules! snapshot {
    ($name:expr, $command:expr, $text:expr $(,)?) => {{
        let (name, command, text): (&str, &str, &str) = ($name, $command, $text);
        insta::with_settings!({
            prepend_module_to_snapshot => false,
            omit_expression => true,
            description => command,
        }, {
            insta::assert_snapshot!(name, text);
        })
    }};
}
pub(crate) use snapshot;
