//! `orch bench run`: every scenario measured on a fleet small enough for a
//! test, and the report a document.

use crate::common::Cluster;

#[test]
fn bench_run_measures_every_scenario_and_rolls_the_daemonset_node_by_node() {
    let cluster = Cluster::new();
    let report = cluster.json(&[
        "bench",
        "run",
        "--nodes",
        "12",
        "--replicas",
        "240",
        "--dir",
        "bench",
    ]);
    assert_eq!(report["kind"], "BenchReport");
    let figures = report["figures"].as_array().unwrap();
    let figure = |scenario: &str| {
        figures
            .iter()
            .find(|f| f["scenario"] == scenario)
            .unwrap_or_else(|| panic!("no {scenario:?} in {figures:#?}"))
    };
    for scenario in [
        "cold apply",
        "no-op plan",
        "what-if --all-zones",
        "what-if --all-nodes",
        "rolling update (10%)",
        "node failure (1%)",
    ] {
        let seconds = figure(scenario)["seconds"].as_f64().unwrap();
        assert!(
            seconds > 0.0 && seconds.is_finite(),
            "{scenario}: {seconds}"
        );
    }
    // A delete, a create and a ready step for each of the 12 nodes, saved.
    let roll = figure("DaemonSet roll (12 nodes)");
    let detail = roll["detail"].as_str().unwrap();
    assert!(detail.starts_with("converged, 36 steps, "), "{detail}");
    assert!(roll["seconds"].as_f64().unwrap() > 0.0);
    // Its fleet and state were removed; the session's stay.
    assert!(!cluster.path("bench/daemonset").exists());
    assert!(cluster.path("bench/fleet/daemonsets.yaml").exists());
}
