//! `cargo bench`: scheduling throughput per plugin mix (one reconcile pass
//! from an empty cluster places every replica), reading the fleet's
//! manifests, and state save and load in YAML and JSON. `orch bench run`
//! measures whole-process scenarios.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use orch::bench::{FleetSpec, Mix, generate};
use orch::executor::{self, RunOptions};
use orch::manifest::tree::parse_documents;
use orch::manifest::{ParseOptions, parse};
use orch::model::state::State;
use orch::model::workload::Desired;
use orch::reconcile::{Action, Options, reconcile};
use orch::scheduler::{Scheduler, ScoringStrategy};
use orch::sources::Source;
use orch::state_store;
use std::path::Path;
use std::time::Duration;

const NODES: usize = 500;
const REPLICAS: usize = 15_000;

fn sources(mix: Mix) -> Vec<Source> {
    generate(FleetSpec {
        nodes: NODES,
        replicas: REPLICAS,
        seed: 1,
        updated_every: 0,
        stateful_percent: 0,
        mix,
        jobs_percent: 0,
    })
    .into_iter()
    .map(|(name, text)| Source { name, text })
    .collect()
}

fn desired(mix: Mix) -> Desired {
    parse(&sources(mix), &ParseOptions::default())
        .expect("the generated fleet validates")
        .desired
}

fn scheduling(c: &mut Criterion) {
    let mut group = c.benchmark_group("first pass, 500 nodes");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1));
    let scheduler = Scheduler::new(ScoringStrategy::LeastAllocated);
    let empty = State::default();
    for mix in [
        Mix::Plain,
        Mix::Spread,
        Mix::AntiAffinity,
        Mix::Preferred,
        Mix::Mixed,
    ] {
        let desired = desired(mix);
        let plan = reconcile(&desired, &empty, 0, &scheduler, &Options::default());
        let binds = plan
            .actions
            .iter()
            .filter(|a| matches!(a, Action::Bind { .. }))
            .count();
        group.throughput(Throughput::Elements(binds as u64));
        group.bench_function(BenchmarkId::from_parameter(format!("{mix:?}")), |b| {
            b.iter(|| reconcile(&desired, &empty, 0, &scheduler, &Options::default()))
        });
    }
    group.finish();
}

fn manifests(c: &mut Criterion) {
    let sources = sources(Mix::Mixed);
    let bytes: usize = sources.iter().map(|s| s.text.len()).sum();
    let mut group = c.benchmark_group("manifests, 500 nodes");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("documents", |b| {
        b.iter(|| {
            for source in &sources {
                parse_documents(&source.text).unwrap();
            }
        })
    });
    group.bench_function("documents and objects", |b| {
        b.iter(|| parse(&sources, &ParseOptions::default()).unwrap())
    });
    group.finish();
}

fn state_io(c: &mut Criterion) {
    let desired = desired(Mix::Mixed);
    let mut state = State::default();
    let scheduler = Scheduler::new(ScoringStrategy::LeastAllocated);
    executor::run(
        &desired,
        &mut state,
        &scheduler,
        &RunOptions::default(),
        |_, _| Ok::<(), ()>(()),
    )
    .expect("the fleet converges");
    let mut group = c.benchmark_group("state, 15,000 replicas");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    for name in ["state.yaml", "state.json"] {
        let path = Path::new(name);
        let text = state_store::to_text(&state, path).expect("the state serializes");
        group.bench_function(format!("save {name}"), |b| {
            b.iter(|| state_store::to_text(&state, path).unwrap())
        });
        group.bench_function(format!("load {name}"), |b| {
            b.iter(|| state_store::parse(path, text.as_bytes()).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, scheduling, manifests, state_io);
criterion_main!(benches);
