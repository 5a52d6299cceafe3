//! Output that stays readable at any size: a large `apply` prints a summary
//! of a few hundred lines at most (every action still in `--verbose` and
//! `-o json`), and tables fit the terminal's width (`COLUMNS`) with long
//! cells cut — full values in `-o wide` and the documents.

use crate::common::Cluster;
use serde_json::Value;

fn stdout(cluster: &Cluster, args: &[&str], columns: Option<usize>) -> String {
    let mut command = cluster.orch();
    command.args(args);
    if let Some(columns) = columns {
        command.env("COLUMNS", columns.to_string());
    }
    let output = command.output().unwrap();
    assert!(
        matches!(output.status.code(), Some(0 | 3)),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn fleet(nodes: usize, replicas: usize) -> Cluster {
    let cluster = Cluster::new();
    cluster
        .run(&[
            "bench",
            "generate",
            "--nodes",
            &nodes.to_string(),
            "--replicas",
            &replicas.to_string(),
            "--out",
            "fleet",
        ])
        .success();
    cluster
}

#[test]
fn a_large_apply_prints_a_few_hundred_lines_and_json_keeps_every_action() {
    let cluster = fleet(1000, 20_000);
    let plan: Value = cluster.json(&["plan", "-f", "fleet"]);
    let actions: usize = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s["actions"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| a["op"] != "status")
                .count()
        })
        .sum();
    assert!(actions > 40_000, "{actions}");
    let verbose = stdout(&cluster, &["plan", "-f", "fleet", "-v"], None);
    assert!(
        verbose.lines().count() > actions,
        "--verbose lists every action"
    );
    let output = cluster
        .orch()
        .args(["apply", "-f", "fleet"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains('\r') && !stderr.contains('\u{1b}'),
        "{stderr:?}"
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let lines = text.lines().count();
    assert!(lines <= 300, "{lines} lines:\n{text}");
    assert!(text.contains("+ 20000 × create"), "{text}");
    assert!(text.contains("on 1000 nodes"), "{text}");
    assert!(
        text.contains(&format!("({actions} actions in ")),
        "the summary counts every action: {text}"
    );
    assert!(
        text.contains("more workloads (") && text.contains("every workload: -o wide or -o json")
    );
    assert!(text.contains("Apply: 20000 to create"), "{text}");
}

#[test]
fn small_runs_keep_their_whole_timeline() {
    let cluster = Cluster::example();
    let text = stdout(&cluster, &["plan", "-f", "manifests"], None);
    assert!(
        text.contains("+ create            StatefulSet/default/db"),
        "{text}"
    );
    assert!(!text.contains(" × "), "{text}");
}

fn widest(text: &str) -> usize {
    text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

#[test]
fn every_table_fits_80_and_200_columns_at_5000_nodes() {
    let cluster = fleet(5000, 6000);
    cluster.run(&["apply", "-f", "fleet", "-q"]).success();
    // A node that holds replicas, for the drain preview and what-if.
    let replicas = cluster.json(&["get", "replicas"]);
    let busy = replicas["items"][0]["node"].as_str().unwrap().to_string();
    let commands: [&[&str]; 9] = [
        &["get", "nodes"],
        &["get", "workloads"],
        &["get", "replicas"],
        &["get", "events"],
        &["plan", "-f", "fleet"],
        &["what-if", "-f", "fleet", "--all-zones"],
        &["what-if", "-f", "fleet", "--fail-node", &busy],
        &["capacity", "-f", "fleet"],
        &["node", "drain", &busy, "--dry-run"],
    ];
    for columns in [80, 200] {
        for args in commands {
            let text = stdout(&cluster, args, Some(columns));
            assert!(text.lines().count() > 3, "{args:?}: {text}");
            assert!(
                widest(&text) <= columns,
                "{args:?} at {columns} columns is {} wide:\n{text}",
                widest(&text)
            );
        }
    }
}

/// The N−1 analysis of a large fleet: a table of the failures that matter
/// (fitting the terminal), every one in `-o wide` and `-o json`.
#[test]
fn every_single_node_failure_is_a_table_that_fits() {
    let cluster = fleet(300, 1500);
    cluster.run(&["apply", "-f", "fleet", "-q"]).success();
    let args = ["what-if", "-f", "fleet", "--all-nodes"];
    for columns in [80, 200] {
        let text = stdout(&cluster, &args, Some(columns));
        assert!(
            widest(&text) <= columns,
            "at {columns} columns it is {} wide:\n{text}",
            widest(&text)
        );
        assert!(text.lines().count() <= 300, "{text}");
        assert!(text.contains("40 of 300 node failures shown"), "{text}");
    }
    let wide = stdout(
        &cluster,
        &["what-if", "-f", "fleet", "--all-nodes", "-o", "wide"],
        None,
    );
    assert!(wide.lines().count() > 300, "every failure a row");
    let json = cluster.json(&args);
    assert_eq!(json["failures"].as_array().unwrap().len(), 300);
}

#[test]
fn long_cells_are_cut_in_tables_and_whole_in_wide_and_json() {
    let cluster = Cluster::example();
    cluster.run(&["apply", "-f", "manifests", "-q"]).success();
    let narrow = stdout(
        &cluster,
        &["what-if", "-f", "manifests", "--all-zones"],
        Some(80),
    );
    assert!(widest(&narrow) <= 80, "{narrow}");
    assert!(narrow.contains('…'), "{narrow}");
    let wide = stdout(
        &cluster,
        &["what-if", "-f", "manifests", "--all-zones", "-o", "wide"],
        Some(80),
    );
    assert!(wide.contains("highmem-b2, node-b1"), "{wide}");
    assert!(widest(&wide) > 80);
    let json = cluster.json(&["what-if", "-f", "manifests", "--all-zones"]);
    assert_eq!(
        json["failures"][1]["nodes"],
        serde_json::json!(["highmem-b2", "node-b1"])
    );
}

#[test]
fn progress_draws_on_a_terminal_only_and_never_with_quiet_or_json() {
    let cluster = fleet(300, 3000);
    let output = cluster
        .orch()
        .args(["plan", "-f", "fleet"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("reading manifests") && !stderr.contains('\r'),
        "no progress off a terminal: {stderr:?}"
    );
    if !std::path::Path::new("/usr/bin/script").exists() {
        eprintln!("!!!!!!!! SKIPPED the terminal half: util-linux `script` is missing !!!!!!!!");
        return;
    }
    // util-linux `script` runs orch on a pseudo-terminal.
    for (args, shown) in [
        ("plan -f fleet", true),
        ("plan -f fleet -q", false),
        ("plan -f fleet -o json", false),
    ] {
        let output = std::process::Command::new("script")
            .args([
                "-qec",
                &format!("{} {args}", env!("CARGO_BIN_EXE_orch")),
                "/dev/null",
            ])
            .current_dir(cluster.dir.path())
            .env("ORCH_STATE", cluster.state())
            .env("NO_COLOR", "1")
            .env_remove("COLUMNS")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        assert_eq!(
            text.contains("reading manifests ("),
            shown,
            "{args}: {}",
            &text[..text.len().min(2000)]
        );
    }
}
