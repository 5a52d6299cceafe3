//! The integration tests, one binary with a module per story (as ripgrep's
//! `tests/tests.rs`): one link step instead of one per file. Each module runs
//! the real `orch` binary or the pure core; `common` holds the shared cluster
//! directory and the manifest builders.
//!
//! Cargo.toml sets `autotests = false`, so a new file in `tests/` is built
//! only when it is declared here (or as its own `[[test]]`);
//! `every_test_file_is_built` fails when one is forgotten.
//! `k8s_conformance` stays a binary of its own (behind the `conformance` feature).

mod common;

mod autoscaling;
mod bad_input;
mod bare_kinds;
mod batch_equivalence;
mod bench;
mod browser;
mod capacity_equivalence;
mod ci;
mod cli;
mod crash_safety;
mod cronjobs;
mod daemonset_differential;
mod describe;
mod describe_batch;
mod drain_preview;
mod faults;
mod fuzz_properties;
mod get_watch;
mod import;
mod import_controllers;
mod jobs;
mod loop_core;
mod node_groups;
mod outputs;
mod placement_properties;
mod pod_fields;
mod priorities;
mod real_clusters;
mod rollout_differential;
mod rollout_fidelity;
mod rollouts;
mod saved_plans;
mod scaling;
mod scheduler_oracle;
mod scheduling;
mod spread_audit;
mod statefulsets;
mod storage;
mod strict_validation;
mod summary;
mod terminal;
mod volume_restrictions;
mod watch;
mod what_if;
mod what_if_shared;

/// `autotests = false` would silently skip a test file nobody declares.
#[test]
fn every_test_file_is_built() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let declared = std::fs::read_to_string(root.join("tests/tests.rs")).unwrap();
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let mut forgotten = Vec::new();
    for entry in std::fs::read_dir(root.join("tests")).unwrap() {
        let path = entry.unwrap().path();
        let (Some(stem), Some("rs")) = (
            path.file_stem().and_then(|s| s.to_str()),
            path.extension().and_then(|s| s.to_str()),
        ) else {
            continue;
        };
        let module = format!("\nmod {stem};\n");
        let own_binary = format!("path = \"tests/{stem}.rs\"");
        if stem != "tests" && !declared.contains(&module) && !manifest.contains(&own_binary) {
            forgotten.push(stem.to_string());
        }
    }
    assert!(
        forgotten.is_empty(),
        "files in tests/ that no test binary builds: {forgotten:?}; declare each as `mod NAME;` here"
    );
}
