//! `--summary FILE` and `$GITHUB_STEP_SUMMARY`: the Markdown a CI job shows,
//! whole, as a snapshot (`tests/snapshots/`), and where it goes.

use crate::common::{Cluster, deployment, node, snapshot, yaml};
use std::fs;

#[test]
fn summary_of_the_example_plan() {
    let cluster = Cluster::example();
    cluster
        .run(&["plan", "-f", "manifests", "--summary", "summary.md", "-q"])
        .success();
    let text = fs::read_to_string(cluster.path("summary.md")).unwrap();
    snapshot!(
        "summary_example_plan",
        "orch plan -f manifests/ --summary summary.md",
        &text,
    );
}

#[test]
fn a_blocked_apply_summary_names_the_reason_and_marks_the_bar_critical() {
    let cluster = Cluster::new();
    cluster.write(
        "m.yaml",
        &yaml(&[
            &node("n1").cpu("2"),
            &deployment("big").replicas(3).cpu("1500m"),
        ]),
    );
    cluster
        .run(&["apply", "-f", "m.yaml", "--summary", "missing/summary.md"])
        .code(1)
        .stderr(predicates::str::contains(
            "the directory missing does not exist",
        ));
    assert!(!cluster.state().exists(), "refused before the run");
    cluster
        .run(&["apply", "-f", "m.yaml", "--summary", "summary.md", "-q"])
        .code(3);
    let text = fs::read_to_string(cluster.path("summary.md")).unwrap();
    assert!(text.starts_with("## ❌ orch apply: Blocked\n"), "{text}");
    assert!(text.contains("### Blocked\n"), "{text}");
    assert!(text.contains("Insufficient cpu"), "{text}");
    assert!(text.contains(":crit, w0,"), "{text}");
}

#[test]
fn github_output_appends_the_summary_to_the_step_summary_file() {
    let cluster = Cluster::example();
    let step_summary = cluster.write("step-summary.md", "earlier step\n");
    cluster
        .orch()
        .args(["plan", "-f", "manifests", "-o", "github"])
        .env("GITHUB_STEP_SUMMARY", &step_summary)
        .assert()
        .success();
    let text = fs::read_to_string(&step_summary).unwrap();
    assert!(
        text.starts_with("earlier step\n## ✅ orch plan: Converged"),
        "{text}"
    );
    assert!(text.contains("```mermaid\ngantt\n"), "{text}");
    // Not under another format.
    let other = cluster.write("other.md", "");
    cluster
        .orch()
        .args(["plan", "-f", "manifests", "-q"])
        .env("GITHUB_STEP_SUMMARY", &other)
        .assert()
        .success();
    assert_eq!(fs::read_to_string(&other).unwrap(), "");
}

#[test]
fn a_report_or_summary_never_replaces_the_state() {
    let cluster = Cluster::example();
    cluster.run(&["apply", "-f", "manifests", "-q"]).success();
    let before = cluster.state_bytes();
    for flag in ["--report", "--summary"] {
        cluster
            .run(&["plan", "-f", "manifests", flag, "orch.state.yaml"])
            .code(1)
            .stderr(predicates::str::contains("is the state file"));
        assert_eq!(cluster.state_bytes(), before);
    }
}

#[test]
fn graph_as_mermaid_has_a_subgraph_per_wave_and_an_edge_per_dependency() {
    let cluster = Cluster::example();
    let output = cluster
        .orch()
        .args(["graph", "-f", "manifests", "--format", "mermaid"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.starts_with("flowchart LR\n"), "{text}");
    assert!(
        text.contains("  subgraph wave2[\"wave 2\"]\n    w0[\"Deployment/default/api\"]\n  end\n"),
        "{text}"
    );
    assert!(
        text.contains("    w5[\"StatefulSet/default/db\"]\n"),
        "{text}"
    );
    assert!(text.ends_with("  w5 --> w0\n"), "{text}");
}
