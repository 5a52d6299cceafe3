//! The real kube-scheduler's answers (v1.34.7, default profile, run in
//! process) on random fleets, from the corpus in `tests/scheduler-oracle/`:
//! `gen_fleet.py SEED` remakes each fleet, orch applies it cold, and per
//! workload the multiset of nodes (a pending replica counts as none) and of
//! pending replicas' messages must equal kube-scheduler's. The messages are
//! compared whole, as a cluster shows them (the corpus's `fullMessage`): the
//! FitError, then the PostFilter plugins' suffix (`no new claims to
//! deallocate, preemption: 0/N nodes are available: …`). One normalisation
//! of orch's side, as the corpus's own checker makes it: orch names each
//! untolerated taint (SPEC §5), Kubernetes prints one redacted reason, so
//! orch's per-taint counts are summed into it and the reasons re-sorted.
//!
//! Every seed of the corpus (1001–1120: 15,103 nodes, 31,762 replicas,
//! 2,600 of them pending) must agree, placements and messages.

use crate::common::Cluster;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const SEEDS: std::ops::RangeInclusive<u32> = 1001..=1120;
const POST_FILTER: &str = ". no new claims to deallocate, ";
const REDACTED: &str = "node(s) had untolerated taint(s)";

/// orch's per-taint reasons merged into v1.34.7's redacted one, in the
/// FitError part of the message (`check.py`'s `normalise`).
fn normalise(message: &str) -> String {
    let (head, tail) = match message.find(POST_FILTER) {
        Some(at) => (&message[..at], &message[at..]),
        None => (message.strip_suffix('.').unwrap_or(message), "."),
    };
    let Some((prefix, reasons)) = head.split_once(" nodes are available: ") else {
        return message.to_string();
    };
    let parts: Vec<&str> = reasons.split(", ").collect();
    let taint = |p: &str| p.contains(" node(s) had untolerated taint {");
    if !parts.iter().any(|p| taint(p)) {
        return message.to_string();
    }
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for part in parts {
        let Some((count, reason)) = part.split_once(' ') else {
            return message.to_string();
        };
        let Ok(count) = count.parse::<u64>() else {
            return message.to_string();
        };
        let reason = if taint(part) { REDACTED } else { reason };
        *counts.entry(reason.to_string()).or_default() += count;
    }
    let mut lines: Vec<String> = counts.iter().map(|(r, c)| format!("{c} {r}")).collect();
    lines.sort();
    format!("{prefix} nodes are available: {}{tail}", lines.join(", "))
}

type Multiset = BTreeMap<String, BTreeMap<String, usize>>;

fn add(set: &mut Multiset, workload: &str, value: &str) {
    *set.entry(workload.to_string())
        .or_default()
        .entry(value.to_string())
        .or_default() += 1;
}

/// kube-scheduler's placements and messages for one seed, per workload.
fn expected(corpus: &Path, seed: u32) -> (Multiset, Multiset) {
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(corpus.join(format!("expected/fleet-{seed}.json"))).unwrap(),
    )
    .unwrap();
    let (mut nodes, mut messages) = (Multiset::new(), Multiset::new());
    for pod in expected["pods"].as_array().unwrap() {
        let workload = pod["workload"].as_str().unwrap();
        add(
            &mut nodes,
            workload,
            pod["node"].as_str().unwrap_or("<pending>"),
        );
        if pod["node"].is_null() {
            let message = pod["fullMessage"]
                .as_str()
                .or(pod["message"].as_str())
                .unwrap();
            add(&mut messages, workload, message);
        }
    }
    (nodes, messages)
}

/// orch's cold apply of one generated fleet, compared with the corpus:
/// None when both agree, else what differs.
fn check(cluster: &Cluster, corpus: &Path, seed: u32) -> Option<String> {
    let dir = cluster.path(&format!("fleets/fleet-{seed}"));
    let state = cluster.path(&format!("state-{seed}.json"));
    let run = |args: &[&str]| {
        cluster
            .orch()
            .env("ORCH_STATE", &state)
            .args(args)
            .output()
            .unwrap()
    };
    let applied = run(&["apply", "-f", dir.to_str().unwrap(), "-q"]);
    if !matches!(applied.status.code(), Some(0 | 3)) {
        return Some(format!(
            "seed {seed}: apply failed: {}",
            String::from_utf8_lossy(&applied.stderr)
        ));
    }
    let listed = run(&["get", "replicas", "-o", "json"]);
    let items: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let (mut got_nodes, mut got_messages) = (Multiset::new(), Multiset::new());
    for replica in items["items"].as_array().unwrap() {
        if replica["phase"] == "Terminating" {
            continue;
        }
        let workload = replica["workload"].as_str().unwrap();
        add(
            &mut got_nodes,
            workload,
            replica["node"].as_str().unwrap_or("<pending>"),
        );
        if replica["node"].is_null() {
            let reason = replica["reason"].as_str().unwrap_or_default();
            add(&mut got_messages, workload, &normalise(reason));
        }
    }
    let (want_nodes, want_messages) = expected(corpus, seed);
    let differing = |got: &Multiset, want: &Multiset| -> Vec<String> {
        let names: std::collections::BTreeSet<&String> = got.keys().chain(want.keys()).collect();
        names
            .into_iter()
            .filter(|w| got.get(*w) != want.get(*w))
            .map(|w| {
                format!(
                    "{w}: orch {:?}, kube-scheduler {:?}",
                    got.get(w),
                    want.get(w)
                )
            })
            .collect()
    };
    let mut differences = differing(&got_nodes, &want_nodes);
    differences.extend(differing(&got_messages, &want_messages));
    (!differences.is_empty()).then(|| {
        format!(
            "seed {seed}: {} difference(s), first: {}",
            differences.len(),
            differences[0]
        )
    })
}

#[test]
fn orch_matches_kube_scheduler_placements_and_full_messages() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scheduler-oracle");
    let cluster = Cluster::new();
    let made = Command::new("python3")
        .arg(corpus.join("gen_fleet.py"))
        .arg(cluster.path("fleets"))
        .args(SEEDS.map(|seed| seed.to_string()))
        .output()
        .expect("python3 runs gen_fleet.py");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    // Two seeds at a time: each apply is one process of its own.
    let seeds: Vec<u32> = SEEDS.collect();
    let failures: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = seeds
            .chunks(seeds.len().div_ceil(2))
            .map(|chunk| {
                let (cluster, corpus) = (&cluster, &corpus);
                scope.spawn(move || {
                    chunk
                        .iter()
                        .filter_map(|&seed| check(cluster, corpus, seed))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {} seeds differ from kube-scheduler:\n{}",
        failures.len(),
        seeds.len(),
        failures.join("\n")
    );
}

#[test]
fn taint_reasons_are_merged_only_in_the_fit_error() {
    assert_eq!(
        normalise(
            "0/9 nodes are available: 1 Insufficient memory, 2 node(s) had untolerated taint {dedicated: db}, \
             6 node(s) had untolerated taint {gpu: }. no new claims to deallocate, preemption: 0/9 nodes are \
             available: 9 Preemption is not helpful for scheduling."
        ),
        "0/9 nodes are available: 1 Insufficient memory, 8 node(s) had untolerated taint(s). no new claims \
         to deallocate, preemption: 0/9 nodes are available: 9 Preemption is not helpful for scheduling."
    );
    let plain = "0/2 nodes are available: 2 Insufficient cpu.";
    assert_eq!(normalise(plain), plain);
}
