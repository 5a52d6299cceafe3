//! Scheduling many identical replicas at once, exactly as one at a time: a
//! feature of the framework, not a second scheduler.
//!
//! The replicas of one workload revision share their pod, so most of what
//! the plugins compute per replica is the same for all of them. Each plugin
//! declares what its answer depends on ([`Reads`](super::Reads)) and signs the pod fields
//! it reads ([`Signature`]); this layer calls the plugins' own code less
//! often and never restates a rule:
//!
//! - `Reads::Node` plugins run once per node for every pod of an equal
//!   signature (`statics`);
//! - `Reads::NodeUsage` plugins run again for a node only when a placement
//!   changes it (`shape`);
//! - `Reads::Domains` plugins (PodTopologySpread, InterPodAffinity) read
//!   per-domain counts that this layer keeps up to date placement by
//!   placement (`counting`), through the plugins' formulas;
//! - a plugin that reads anything else (`Reads::Cluster`) sends every pod to
//!   the plain path, counted in [`Stats`].
//!
//! Nodes are grouped into *profiles*: nodes whose static scores, coarse
//! topology domains (zones, few values) and fine counters (per-host counts)
//! are equal get the same verdict and score from every plugin but the
//! `NodeUsage` ones. Per placement each live profile is evaluated once
//! (`evaluate`): the normalizations run over the profiles' raw scores,
//! which the framework allows (a normalization depends only on the values
//! present); within a profile the best node is the top of a heap ordered by
//! the `NodeUsage` score and the node's name. The result is the placement,
//! score and feasible count of [`Scheduler::schedule`] followed by
//! [`Snapshot::assume`], replica after replica (`tests/batch_equivalence.rs`
//! holds the two paths to that on random fleets).

mod build;
mod classes;
mod counting;
mod evaluate;
mod keys;
mod model;
mod roles;
mod shape;
mod statics;

use super::preemption::Verdicts;
use super::remembered::Diagnoses;
use super::snapshot::Snapshot;
use super::verdicts::StaticVerdicts;
use super::{FitError, Placement, Scheduler, Signature};
use crate::model::pod::PodSpec;
use classes::Classes;
use keys::{GroupIndex, Key};
use model::Model;
use roles::Roles;
use rustc_hash::FxHashMap;
use shape::{Board, Shape};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

/// The pass's maps are looked up once or more per run: keys hashed with FxHash.
type HashMap<K, V> = FxHashMap<K, V>;

/// Keys with at most this many values are coarse: a node's domain is part of its profile.
const COARSE_DOMAINS: usize = 32;

/// Why a run of replicas takes the plain path, one replica at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PlainReason {
    /// The profile holds this plugin, which does not say what it reads.
    Plugin(&'static str),
    /// The pod names its nodes (`spec.nodeName`, a DaemonSet replica's
    /// `metadata.name` affinity): filtering those alone is cheaper.
    Pinned,
    /// Required pod affinity.
    RequiredPodAffinity,
    /// Spread scoring over a key with many domains other than the hostname.
    SpreadOverManyDomains,
}

impl std::fmt::Display for PlainReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlainReason::Plugin(name) => write!(f, "plugin {name} does not declare what it reads"),
            PlainReason::Pinned => f.write_str("pinned to named nodes"),
            PlainReason::RequiredPodAffinity => f.write_str("required pod affinity"),
            PlainReason::SpreadOverManyDomains => f.write_str("spread scoring over many domains"),
        }
    }
}

/// How the replicas of a pass were scheduled: in batches, or one by one on
/// the plain path and why (shown by `--verbose` and `orch bench run`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub batched_runs: usize,
    pub batched_replicas: usize,
    /// Replicas scheduled one by one, by the reason their run could not be batched.
    pub plain_replicas: BTreeMap<PlainReason, usize>,
}

impl Stats {
    /// Add another pass's counts.
    pub fn merge(&mut self, other: &Stats) {
        self.batched_runs += other.batched_runs;
        self.batched_replicas += other.batched_replicas;
        for (reason, count) in &other.plain_replicas {
            *self.plain_replicas.entry(*reason).or_insert(0) += count;
        }
    }
}

/// A scheduling pass over one snapshot: runs of identical replicas.
pub struct Batch<'s> {
    scheduler: &'s Scheduler,
    roles: Roles,
    /// Position of each node in name order (ties go to the lowest name).
    rank: Rc<Vec<u32>>,
    statics: statics::Cache,
    /// The leading `Reads::Node` filters' failures, for diagnoses.
    static_verdicts: StaticVerdicts,
    /// Bumped on every placement a node receives: cached `NodeUsage`
    /// results of a node stay valid until it changes.
    versions: Vec<u32>,
    /// The nodes placed on, in order (with repeats): a shape catches up on
    /// the nodes placed on since it was last used without visiting the others.
    log: Vec<u32>,
    /// Per node, its profile in a run where it differs from its class's
    /// (`NO_PROFILE` elsewhere: the runs reset the nodes they set).
    over: Vec<u32>,
    shapes: HashMap<Signature, Shape>,
    classes: HashMap<Signature, Rc<Classes>>,
    /// By shape and classes (their number in the pass).
    boards: HashMap<(Signature, usize), Board>,
    coarse_limit: usize,
    keys: HashMap<Option<String>, Rc<Key>>,
    /// Counter values handed back zeroed by the runs, for the next.
    pool: Vec<Vec<i64>>,
    frames: HashMap<Signature, Rc<counting::Frame>>,
    groups: GroupIndex,
    stats: Stats,
    /// The diagnoses kept for the snapshot as the pass began, while the
    /// batch has placed nothing (see `remembering`).
    diagnoses: Option<Arc<Diagnoses>>,
    /// See `take_verdicts`.
    verdicts: Option<Verdicts>,
}

impl<'s> Batch<'s> {
    /// A pass over `snapshot`, which from now on changes only through this
    /// batch's runs (cached per-node results rely on it).
    pub fn new(scheduler: &'s Scheduler, snapshot: &Snapshot) -> Batch<'s> {
        let mut order: Vec<usize> = (0..snapshot.nodes.len()).collect();
        // (A state keeps its nodes sorted by name: then this is a check.)
        if !snapshot.nodes.is_sorted_by(|a, b| a.name <= b.name) {
            order.sort_by(|&a, &b| snapshot.nodes[a].name.cmp(&snapshot.nodes[b].name));
        }
        let mut rank = vec![0u32; order.len()];
        for (position, &node) in order.iter().enumerate() {
            rank[node] = position as u32;
        }
        Batch {
            scheduler,
            roles: Roles::of(scheduler),
            rank: Rc::new(rank),
            statics: statics::Cache::default(),
            static_verdicts: StaticVerdicts::default(),
            versions: vec![0; snapshot.nodes.len()],
            log: Vec::new(),
            over: vec![model::NO_PROFILE; snapshot.nodes.len()],
            shapes: HashMap::default(),
            classes: HashMap::default(),
            boards: HashMap::default(),
            coarse_limit: COARSE_DOMAINS,
            keys: HashMap::default(),
            pool: Vec::new(),
            frames: HashMap::default(),
            groups: GroupIndex::default(),
            stats: Stats::default(),
            diagnoses: None,
            verdicts: None,
        }
    }

    /// Diagnose pods that fit nowhere through `diagnoses`, kept for the
    /// snapshot this batch starts from, until its first placement.
    pub fn remembering(mut self, diagnoses: Option<Arc<Diagnoses>>) -> Self {
        self.diagnoses = diagnoses;
        self
    }

    /// The diagnoses kept for the snapshot as it is now, if it is still the
    /// one they were kept for.
    pub fn remembered(&self) -> Option<&Arc<Diagnoses>> {
        self.diagnoses.as_ref()
    }

    /// Every node's verdict for the pod of the last run, made to diagnose
    /// it: what DefaultPreemption reads next (`Scheduler::verdicts`).
    pub fn take_verdicts(&mut self) -> Option<Verdicts> {
        self.verdicts.take()
    }

    /// `Scheduler::schedule`'s error for a pod that fits nowhere, from
    /// every node's verdict (kept for `take_verdicts`).
    fn diagnose(&mut self, pod: &PodSpec, snapshot: &Snapshot) -> FitError {
        let scheduler = self.scheduler;
        let static_verdicts = &mut self.static_verdicts;
        let mut made = None;
        let mut schedule = || {
            let verdicts = scheduler.verdicts_cached(pod, snapshot, static_verdicts);
            let error = match scheduler.schedule_with(pod, snapshot, &verdicts) {
                Err(error) => error,
                Ok(_) => unreachable!("the batch found no node the plain path finds"),
            };
            made = Some(verdicts);
            error
        };
        let error = match &self.diagnoses {
            Some(diagnoses) => diagnoses.error(pod, schedule),
            None => schedule(),
        };
        self.verdicts = made;
        error
    }

    /// Treat keys with more than `limit` values as fine (tests use a low
    /// limit to exercise fine keys on small fleets). Call before any run.
    #[doc(hidden)]
    pub fn with_coarse_limit(mut self, limit: usize) -> Self {
        self.coarse_limit = limit;
        self
    }

    /// How this pass's replicas were scheduled so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Schedule `count` replicas of `pod` one after another, each placed one
    /// assumed on `snapshot` before the next, and report each result.
    pub fn run(
        &mut self,
        pod: &PodSpec,
        snapshot: &mut Snapshot,
        count: usize,
        mut report: impl FnMut(Result<Placement, FitError>),
    ) {
        self.verdicts = None;
        if count == 0 {
            return;
        }
        let model = match self.plain_reason(pod, snapshot) {
            Some(reason) => Err(reason),
            None => Model::new(self, pod, snapshot, count),
        };
        let mut model = match model {
            Ok(model) => model,
            Err(reason) => {
                *self.stats.plain_replicas.entry(reason).or_insert(0) += count;
                return self.run_plain(pod, snapshot, count, report);
            }
        };
        self.stats.batched_runs += 1;
        self.stats.batched_replicas += count;
        let group = snapshot.group_of(pod);
        for done in 0..count {
            let Some(placement) = model.best(&self.roles, self.scheduler) else {
                // Nothing fits; nothing changes until the run ends, so every
                // remaining replica gets the same (exactly diagnosed) error.
                let error = self.diagnose(pod, snapshot);
                for _ in done..count {
                    report(Err(error.clone()));
                }
                break;
            };
            snapshot.assume_in(placement.node, pod, group);
            self.diagnoses = None;
            self.versions[placement.node] += 1;
            self.log.push(placement.node as u32);
            let version = self.versions[placement.node];
            model.placed(self, placement.node, version, pod, snapshot);
            report(Ok(placement));
        }
        model.finish(self);
    }

    /// Why a run of `pod` cannot be batched before its model is built.
    fn plain_reason(&self, pod: &PodSpec, snapshot: &Snapshot) -> Option<PlainReason> {
        if let Some(plugin) = self.roles.unbatched {
            return Some(PlainReason::Plugin(plugin));
        }
        // Pods pinned to named nodes are cheaper on the plain path, which
        // filters those nodes alone.
        if super::pinned_nodes(pod, snapshot).is_some() {
            return Some(PlainReason::Pinned);
        }
        None
    }

    /// The plain path: each replica scheduled and assumed in turn.
    fn run_plain(
        &mut self,
        pod: &PodSpec,
        snapshot: &mut Snapshot,
        count: usize,
        mut report: impl FnMut(Result<Placement, FitError>),
    ) {
        for _ in 0..count {
            let result = self.scheduler.schedule(pod, snapshot);
            if let Ok(placement) = &result {
                snapshot.assume(placement.node, pod);
                self.diagnoses = None;
                self.versions[placement.node] += 1;
                self.log.push(placement.node as u32);
            }
            report(result);
        }
    }

    /// Call `each` with every node placed on since log position `cursor`
    /// (repeats included), or with every node when that is most of them or
    /// `cursor` is past the log (`usize::MAX`: never caught up).
    fn placed_since(&self, cursor: usize, each: impl FnMut(usize)) {
        catch_up(&self.log, cursor, self.versions.len(), each);
    }
}

/// Call `each` with every node of `log` from position `cursor` on (repeats
/// included), or with each of the `n` nodes when that is fewer or `cursor`
/// is past the log (`usize::MAX`: never caught up).
fn catch_up(log: &[u32], cursor: usize, n: usize, each: impl FnMut(usize)) {
    match log.get(cursor..) {
        Some(logged) if logged.len() < n => logged.iter().map(|&i| i as usize).for_each(each),
        _ => (0..n).for_each(each),
    }
}
