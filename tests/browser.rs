//! The HTML report and the Markdown summary in a real browser: headless
//! Chromium (Debian's `/usr/bin/chromium`) driven by `tests/browser/check.mjs`
//! with playwright-core, both installed by `.ci/run` (`npm ci` in
//! `tests/browser`). Each test builds the page with the real binary, opens
//! it, and fails on any console error or network request; it checks what a
//! reader looks at — one timeline per workload, one cell per node, the
//! pending list — moves the step slider, hovers a node and saves a
//! screenshot that must not be blank. Without Chromium or the npm packages
//! the tests fail under `CI=true` and are skipped, loudly, elsewhere.

use crate::common::Cluster;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Whether Chromium, node and the npm packages are here; under CI they must be.
fn browser_ready() -> bool {
    let dir = browser_dir();
    let missing: Vec<String> = [
        PathBuf::from("/usr/bin/chromium"),
        dir.join("node_modules/playwright-core/package.json"),
        dir.join("node_modules/mermaid/dist/mermaid.min.js"),
    ]
    .into_iter()
    .filter(|p| !p.exists())
    .map(|p| p.display().to_string())
    .chain(
        Command::new("node")
            .arg("--version")
            .output()
            .map_or(Some("node".to_string()), |_| None),
    )
    .collect();
    if missing.is_empty() {
        return true;
    }
    let message = format!(
        "browser tests need {}: `apt-get install -y chromium` and `npm ci` in tests/browser",
        missing.join(", ")
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{message}");
    }
    eprintln!("\n!!!!!!!! SKIPPED: {message} !!!!!!!!\n");
    false
}

/// `node check.mjs ARGS`: its one JSON line, which must say ok.
fn check(args: &[&Path]) -> Value {
    let output = Command::new("node")
        .current_dir(browser_dir())
        .arg("check.mjs")
        .args(args)
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .output()
        .expect("running node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let result: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "check.mjs printed no JSON ({e}): {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    assert_eq!(result["ok"], true, "{result}");
    assert_eq!(result["errors"], serde_json::json!([]), "console errors");
    assert_eq!(
        result["requests"],
        serde_json::json!([]),
        "network requests"
    );
    result
}

fn out(name: &str) -> PathBuf {
    let dir = browser_dir().join("out");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// What a report shows, checked against the run's own JSON.
fn assert_report(result: &Value, workloads: usize, nodes: usize) {
    let info = &result["info"];
    assert_eq!(info["workloads"], workloads, "{info}");
    assert_eq!(info["timelines"], workloads, "one timeline per workload");
    assert_eq!(info["nodes"], nodes, "{info}");
    assert_eq!(info["cells"], nodes, "one map cell per node");
    assert_eq!(info["pendingList"], true);
    let labels = result["labels"].as_array().unwrap();
    assert!(
        labels[0].as_str().unwrap().starts_with("step 0 of"),
        "{labels:?}"
    );
    assert_ne!(labels[0], labels[1], "the slider moves the step");
    assert!(
        result["tip"].as_str().unwrap().contains(" cores ("),
        "hovering a node shows its numbers: {}",
        result["tip"]
    );
    assert!(
        result["colours"].as_u64().unwrap() > 50,
        "the screenshot is not blank: {result}"
    );
}

#[test]
fn the_example_report_opens_in_chromium_with_its_slider_map_and_timelines() {
    if !browser_ready() {
        return;
    }
    let cluster = Cluster::example();
    let page = cluster.path("report.html");
    cluster
        .run(&[
            "plan",
            "-f",
            "manifests",
            "--report",
            page.to_str().unwrap(),
        ])
        .success();
    let plan = cluster.json(&["plan", "-f", "manifests"]);
    let workloads = plan["workloads"].as_array().unwrap().len();
    let screenshot = out("example.png");
    let result = check(&[Path::new("report"), &page, &screenshot]);
    assert_report(&result, workloads, 5);
    assert_eq!(
        result["info"]["fleetTimelines"], 1,
        "the example's node group draws the ready nodes"
    );
    assert_eq!(result["info"]["outcome"], "Converged");
    assert_eq!(result["info"]["pendingItems"], 0);
    assert!(std::fs::metadata(&screenshot).unwrap().len() > 10_000);
}

#[test]
fn a_what_if_report_shows_the_blast_radius_and_each_nodes_verdict() {
    if !browser_ready() {
        return;
    }
    let cluster = Cluster::example();
    cluster.run(&["apply", "-f", "manifests", "-q"]).success();
    let page = cluster.path("what-if.html");
    cluster
        .run(&[
            "what-if",
            "-f",
            "manifests",
            "--fail-zone",
            "zone-b",
            "--report",
            page.to_str().unwrap(),
        ])
        .code(3);
    let result = check(&[Path::new("report"), &page, &out("what-if.png")]);
    let plan = cluster.json(&["plan", "-f", "manifests"]);
    // Five nodes and the member the general node group adds for the stranded video worker.
    assert_report(&result, plan["workloads"].as_array().unwrap().len(), 6);
    let info = &result["info"];
    assert_eq!(info["whatIf"], true);
    assert_eq!(info["outcome"], "Degraded");
    assert_eq!(info["fleetTimelines"], 1, "the node group scales the fleet");
    assert_eq!(
        info["pendingItems"], 1,
        "api pending; db's replica stays Terminating on its lost node"
    );
    assert_eq!(
        info["verdictRows"], 6,
        "the first one's verdict on each node"
    );
}

#[test]
fn a_5000_node_fleet_report_is_small_and_opens_quickly() {
    if !browser_ready() {
        return;
    }
    let cluster = Cluster::new();
    cluster
        .run(&[
            "bench",
            "generate",
            "--nodes",
            "5000",
            "--replicas",
            "12000",
            "--out",
            "fleet",
        ])
        .success();
    let page = cluster.path("fleet.html");
    let json = cluster.path("plan.json");
    let output = cluster
        .orch()
        .args(["plan", "-f", "fleet", "--report", page.to_str().unwrap()])
        .args(["-o", "json"])
        .output()
        .unwrap();
    std::fs::write(&json, &output.stdout).unwrap();
    let plan: Value = serde_json::from_slice(&output.stdout).unwrap();
    let workloads = plan["workloads"].as_array().unwrap().len();
    let bytes = std::fs::metadata(&page).unwrap().len();
    assert!(bytes < 10_000_000, "{bytes} bytes");
    let result = check(&[Path::new("report"), &page, &out("fleet-5k.png")]);
    assert_report(&result, workloads, 5000);
    assert!(
        result["loadMs"].as_u64().unwrap() < 20_000,
        "drawn in {} ms",
        result["loadMs"]
    );
}

#[test]
fn the_summarys_and_the_graphs_mermaid_charts_render_in_chromium() {
    if !browser_ready() {
        return;
    }
    let cluster = Cluster::example();
    let summary = cluster.path("summary.md");
    cluster
        .run(&["plan", "-f", "manifests", "--summary", "summary.md", "-q"])
        .success();
    let graph = cluster
        .orch()
        .args(["graph", "-f", "manifests", "--format", "mermaid"])
        .output()
        .unwrap();
    let mut text = std::fs::read_to_string(&summary).unwrap();
    text.push_str(&format!(
        "\n```mermaid\n{}```\n",
        String::from_utf8(graph.stdout).unwrap()
    ));
    std::fs::write(&summary, text).unwrap();
    let result = check(&[Path::new("mermaid"), &summary]);
    assert_eq!(result["blocks"], 2, "{result}");
    for block in result["rendered"].as_array().unwrap() {
        assert_eq!(block["ok"], true, "{block}");
        assert_eq!(block["error"], Value::Null, "{block}");
    }
    let plan = cluster.json(&["plan", "-f", "manifests"]);
    let workloads = plan["workloads"].as_array().unwrap().len();
    assert_eq!(result["bars"], workloads, "one bar per workload: {result}");
}
