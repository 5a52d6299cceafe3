//! The HTML report and the Markdown summary in a real browser: headless
//! Chromium (Debian's `/usr/bin/chromium`) driven by `tests/browser/check.mjs`
//! with playwright-core, both installed by `.ci/run` (`npm ci` in
//! `tests/browser`). Each test builds the page with the real binary, opens
//! it, and fails on any console error or network request; it checks what a
//! reader looks at — one timeline per workload, one cell per node, the
//! pending list, a panel per HPA with the plan's counts — moves the step
//! slider, hovers a node and saves a screenshot that must not be blank. Without Chromium or the npm packages
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

/// The points of a curve as `orch.dev/demand` writes it (`0s=600m, 90m=4`):
/// (seconds, millicores), read here, not by orch.
fn curve(text: &str) -> Vec<(u64, i64)> {
    text.split(',')
        .map(|point| {
            let (at, value) = point.trim().split_once('=').unwrap();
            let (digits, unit) = at.split_at(at.len() - 1);
            let scale = match unit {
                "s" => 1,
                "m" => 60,
                "h" => 3600,
                _ => panic!("{at}"),
            };
            let milli = match value.strip_suffix('m') {
                Some(milli) => milli.parse().unwrap(),
                None => value.parse::<i64>().unwrap() * 1000,
            };
            (digits.parse::<u64>().unwrap() * scale, milli)
        })
        .collect()
}

#[test]
fn the_examples_hpa_panel_draws_the_spike_and_the_plans_counts_beside_the_nodes() {
    if !browser_ready() {
        return;
    }
    let cluster = Cluster::example();
    let plan = cluster.json(&["plan", "-f", "manifests", "--advance", "3h"]);
    let page = cluster.path("autoscaling.html");
    cluster
        .orch()
        .args([
            "apply",
            "-f",
            "manifests",
            "--advance",
            "3h",
            "-q",
            "--report",
        ])
        .arg(&page)
        .assert()
        .success();
    let result = check(&[Path::new("report"), &page, &out("autoscaling.png")]);
    let info = &result["info"];
    let hpas = plan["autoscalers"].as_array().unwrap();
    assert_eq!(info["autoscalerPanels"], hpas.len(), "one panel per HPA");
    assert_eq!(info["fleetTimelines"], 1, "the ready nodes beside them");
    let steps = plan["steps"].as_array().unwrap();
    assert_eq!(info["frames"], steps.len() + 1, "the run the plan showed");
    let drawn = result["autoscalers"].as_array().unwrap();
    assert_eq!(drawn.len(), hpas.len());
    for (i, hpa) in hpas.iter().enumerate() {
        let series = &drawn[i];
        assert_eq!(series["name"], hpa["object"]);
        assert_eq!(series["canvas"], hpa["object"]);
        // Frame 0 is the empty state; frame k + 1 is the plan's step k.
        assert_eq!(series["desired"][0], Value::Null);
        for (k, step) in steps.iter().enumerate() {
            let status = step["autoscalers"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["object"] == hpa["object"])
                .unwrap();
            assert_eq!(series["desired"][k + 1], status["desired"], "step {k}");
            assert_eq!(series["current"][k + 1], status["current"], "step {k}");
        }
        // The spike takes it to its maximum and it comes back down.
        let desired: Vec<i64> = series["desired"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_i64)
            .collect();
        assert_eq!(desired.iter().max(), hpa["maxReplicas"].as_i64().as_ref());
        assert_eq!(desired.last(), hpa["desiredReplicas"].as_i64().as_ref());
        let pixels = &series["pixels"];
        for colour in ["demand", "desired", "current"] {
            assert!(pixels[colour].as_u64().unwrap() > 200, "{colour}: {pixels}");
        }
        // The last step in words, as the plan ends.
        let last = steps.last().unwrap()["autoscalers"][i].clone();
        let words = result["readouts"][1][i].as_str().unwrap();
        assert!(
            words.contains(&format!(
                "desired {} · current {}",
                last["desired"], last["current"]
            )),
            "{words}"
        );
    }
    // The API's demand: the annotation's points, as written in the manifest.
    let api = std::fs::read_to_string(cluster.path("manifests/api.yaml")).unwrap();
    let annotation = api
        .lines()
        .find_map(|l| l.trim().strip_prefix("orch.dev/demand: "))
        .unwrap();
    let points = curve(annotation.trim_matches('"').strip_prefix("cpu: ").unwrap());
    let series = &drawn[0];
    let drawn_points: Vec<(u64, i64)> = series["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_u64().unwrap(), p[1].as_i64().unwrap()))
        .collect();
    assert_eq!(drawn_points, points, "{annotation}");
    // At the step the HPA first raises its count, the demand is the spike's.
    let count = |f: usize| series["desired"][f].as_i64();
    let first_rise = (1..steps.len() + 1)
        .find(|&f| count(f - 1).is_some() && count(f) > count(f - 1))
        .unwrap();
    let spike = points.iter().map(|p| p.1).max().unwrap();
    assert_eq!(series["demand"][first_rise], spike);
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
        plan.get("autoscalers")
            .is_none_or(|a| a == &serde_json::json!([]))
    );
    assert_eq!(result["info"]["autoscalerPanels"], 0, "no HPA, no panel");
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
