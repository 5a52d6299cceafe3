//! Placement and readiness: every replica that needs a node goes through the
//! scheduler against a snapshot that already holds every placed replica;
//! bound replicas become ready once their readiness delay has passed.

use super::daemonset::{daemon_pod, pinned_labels_match};
use super::{Action, Catalog, DeleteReason, NO_NODE, Pass};
use crate::model::pod::{PodSpec, Simulate};
use crate::model::state::{NodeState, Phase, Replica, State};
use crate::scheduler::batch::Batch;
use crate::scheduler::plugins::NodeResourcesFit;
use crate::scheduler::snapshot::{NodeInfo, Snapshot};
use crate::scheduler::{CycleState, FilterPlugin, FitError, Scheduler, ScoringStrategy};
use rustc_hash::FxHashMap;
use std::borrow::Cow;
use std::sync::Arc;

pub(super) fn place(pass: &mut Pass, nodes: &[NodeState], scheduler: &Scheduler) {
    let observed = pass.observed;
    let mut waiting: Vec<&Replica> = Vec::new();
    let mut bound: Vec<usize> = Vec::new();
    for (i, replica) in observed.replicas.iter().enumerate() {
        if replica.phase == Phase::Terminating || pass.deleted.contains(&replica.name) {
            continue;
        }
        match (&replica.node, pass.node_of[i]) {
            (None, _) => waiting.push(replica),
            // Bound to a node that is gone: removed by `remove_orphans`.
            (Some(_), NO_NODE) => {}
            (Some(_), _) => bound.push(i),
        }
    }
    let mut snapshot = match account_in_any_order(pass, nodes, &bound) {
        Some(snapshot) => snapshot,
        None => account_oldest_first(pass, nodes, bound),
    };
    let created = std::mem::take(&mut pass.created);
    waiting.extend(created.iter());
    sort_queue(&mut waiting);
    // Runs of identical replicas (one workload revision) are scheduled together:
    // the same placements as one at a time, with the shared work done once.
    let node_names: Vec<String> = snapshot.nodes.iter().map(|n| n.name.clone()).collect();
    let mut batch = Batch::new(scheduler, &snapshot);
    let mut start = 0;
    while start < waiting.len() {
        let first = waiting[start];
        let mut end = start + 1;
        while end < waiting.len()
            && waiting[end].workload == first.workload
            && waiting[end].hash == first.hash
            && waiting[end].target_node.is_none()
            && first.target_node.is_none()
        {
            end += 1;
        }
        let run = &waiting[start..end];
        start = end;
        let Some(template) = pass.catalog.pod(&first.workload, &first.hash) else {
            continue;
        };
        let pod = replica_pod(template, first);
        let mut replicas = run.iter();
        batch.run(&pod, &mut snapshot, run.len(), |result| {
            let replica = replicas.next().expect("one result per replica");
            match result {
                Ok(placement) => {
                    pass.plan.actions.push(Action::Bind {
                        replica: replica.name.clone(),
                        workload: replica.workload.clone(),
                        node: node_names[placement.node].clone(),
                    });
                    pass.plan.wake(pass.now + pod.ready_after);
                }
                Err(error) => {
                    if !already_recorded(replica, &error) {
                        pass.plan.actions.push(Action::FailedScheduling {
                            replica: replica.name.clone(),
                            workload: replica.workload.clone(),
                            error,
                        });
                    }
                }
            }
        });
    }
    pass.plan.scheduling.merge(batch.stats());
    pass.created = created;
}

/// The replica is pending for this very reason already. The state keeps
/// the reason as kube-scheduler's message (its format is fixed), so the
/// comparison is with the message.
fn already_recorded(replica: &Replica, error: &FitError) -> bool {
    replica
        .reason
        .as_deref()
        .is_some_and(|recorded| recorded == error.to_string())
}

/// The scheduling queue's order: oldest first, then by workload and name.
/// Replicas usually come grouped by (creation, workload) in that order
/// already (a workload's new replicas are made together): then each group
/// is only sorted by name.
fn sort_queue(waiting: &mut [&Replica]) {
    fn group(r: &Replica) -> (u64, &crate::model::workload::ObjectRef) {
        (r.created_at, &r.workload)
    }
    let mut bounds = vec![0];
    for i in 1..waiting.len() {
        if group(waiting[i]) != group(waiting[i - 1]) {
            bounds.push(i);
        }
    }
    bounds.push(waiting.len());
    let in_order = bounds
        .windows(3)
        .all(|w| group(waiting[w[0]]) < group(waiting[w[1]]));
    if in_order {
        for w in bounds.windows(2) {
            waiting[w[0]..w[1]].sort_unstable_by(|a, b| a.name.cmp(&b.name));
        }
    } else {
        waiting.sort_unstable_by(|a, b| {
            (a.created_at, &a.workload, &a.name).cmp(&(b.created_at, &b.workload, &b.name))
        });
    }
}

/// The pod and replica group of each run of bound replicas of one revision.
struct Templates<'p, 'c> {
    last: Option<(&'p Replica, Option<&'c Arc<PodSpec>>)>,
}

impl<'p, 'c> Templates<'p, 'c> {
    fn of(
        &mut self,
        catalog: &'c super::Catalog,
        replica: &'p Replica,
    ) -> Option<&'c Arc<PodSpec>> {
        if let Some((previous, template)) = self.last
            && previous.hash == replica.hash
            && previous.workload == replica.workload
        {
            return template;
        }
        let template = catalog.pod(&replica.workload, &replica.hash);
        self.last = Some((replica, template));
        template
    }
}

/// Why a bound replica cannot stay where it is, if it cannot: its node no
/// longer matches its selector or affinity, or lacks room for it next to the
/// replicas already accounted there.
fn drift(pod: &PodSpec, info: &NodeInfo) -> Option<String> {
    let node = &info.name;
    if !pod.matches_node_selector(node, &info.labels) {
        return Some(format!(
            "{node} does not match its node selector or affinity"
        ));
    }
    let fit = NodeResourcesFit {
        strategy: ScoringStrategy::LeastAllocated,
    };
    fit.filter(pod, info, &CycleState::default())
        .err()
        .map(|reasons| {
            let reasons: Vec<String> = reasons.iter().map(ToString::to_string).collect();
            format!("{node} has no room for it ({})", reasons.join(", "))
        })
}

/// Every bound replica accounted on its node, oldest first (by creation,
/// then name): a replica that does not fit next to the older ones is drift,
/// deleted so that it is placed again.
fn account_oldest_first(pass: &mut Pass, nodes: &[NodeState], mut bound: Vec<usize>) -> Snapshot {
    let observed = pass.observed;
    let mut snapshot = Snapshot::new(nodes);
    // (Names are unique: the unstable sort gives the same order.)
    bound.sort_unstable_by(|&a, &b| {
        let (a, b) = (&observed.replicas[a], &observed.replicas[b]);
        (a.created_at, &a.name).cmp(&(b.created_at, &b.name))
    });
    let mut templates = Templates { last: None };
    let mut groups: FxHashMap<*const PodSpec, usize> = FxHashMap::default();
    // Drift, in the order it is met: deleted from the pass once the scan is done.
    let mut drifted: Vec<(&Replica, String)> = Vec::new();
    for i in bound {
        let replica = &observed.replicas[i];
        let Some(template) = templates.of(&pass.catalog, replica) else {
            continue;
        };
        let index = pass.node_of[i] as usize;
        let pod = replica_pod(template, replica);
        match drift(&pod, &snapshot.nodes[index]) {
            Some(why) => drifted.push((replica, why)),
            None => {
                let group = *groups
                    .entry(Arc::as_ptr(template))
                    .or_insert_with(|| snapshot.group_of(template));
                snapshot.assume_in(index, &pod, group);
            }
        }
    }
    for (replica, why) in drifted {
        pass.delete(replica, DeleteReason::Drift(why));
    }
    snapshot
}

/// The same snapshot as `account_oldest_first`, built from the replicas in
/// state order without sorting them, when no bound replica is drift in any
/// order: every one matches
/// its node's selector, and every node holds the requests of all its
/// replicas (requests are never negative, so each replica then fits next to
/// any subset of the others). Replica groups are created in the order the
/// oldest-first pass would meet their first replica. `None` when that does
/// not hold: the oldest-first pass decides which replicas move.
fn account_in_any_order(pass: &Pass, nodes: &[NodeState], bound: &[usize]) -> Option<Snapshot> {
    let observed = pass.observed;
    let mut snapshot = Snapshot::new(nodes);
    let mut templates = Templates { last: None };
    // Per template: its oldest replica (creation, name), the nodes of its
    // replicas (one entry per replica), and whether they are DaemonSet
    // replicas (pinned to their node).
    let mut first: FxHashMap<*const PodSpec, usize> = FxHashMap::default();
    let mut runs: Vec<Run> = Vec::new();
    let mut last_run: Option<(*const PodSpec, usize)> = None;
    // First the replicas alone (their records, in state order), then each
    // template's nodes in node order: a large fleet's node records are not
    // visited once per replica, in no order.
    for &i in bound {
        let replica = &observed.replicas[i];
        let Some(template) = templates.of(&pass.catalog, replica) else {
            continue;
        };
        // A DaemonSet replica's pod differs from its template only by the
        // pin to its target and tolerations: it matches its node when that
        // is the target and the template's selector and terms match it.
        let pinned = match &replica.target_node {
            Some(target) if replica.node.as_ref() != Some(target) => return None,
            target => target.is_some(),
        };
        let key = Arc::as_ptr(template);
        let run = match last_run {
            Some((k, run)) if k == key => run,
            _ => {
                let run = *first.entry(key).or_insert_with(|| {
                    runs.push(Run {
                        template: template.clone(),
                        oldest: replica,
                        pinned,
                        on: Vec::new(),
                    });
                    runs.len() - 1
                });
                last_run = Some((key, run));
                run
            }
        };
        let run = &mut runs[run];
        if run.pinned != pinned {
            return None; // a template's replicas both pinned and not: the plain pass
        }
        if (replica.created_at, &replica.name) < (run.oldest.created_at, &run.oldest.name) {
            run.oldest = replica;
        }
        run.on.push(pass.node_of[i]);
    }
    for run in &mut runs {
        let pod = &*run.template;
        run.on.sort_unstable();
        for same in run.on.chunk_by(|a, b| a == b) {
            let info = &mut snapshot.nodes[same[0] as usize];
            let matches = if run.pinned {
                pinned_labels_match(pod, &info.labels)
            } else {
                pod.matches_node_selector(&info.name, &info.labels)
            };
            if !matches {
                return None;
            }
            let count = same.len() as i64;
            info.requested.add_times(&pod.requests, count);
            info.non_zero_requested
                .add_times(&pod.non_zero_requests, count);
            info.pods += count;
        }
    }
    if runs.iter().any(|run| run.template.requests.has_negative())
        || snapshot.nodes.iter().any(|info| !holds_its_requests(info))
    {
        return None;
    }
    // Groups in the order of each template's oldest replica; the node totals
    // are already in, so each replica only joins its group's counts.
    runs.sort_unstable_by(|a, b| {
        (a.oldest.created_at, &a.oldest.name).cmp(&(b.oldest.created_at, &b.oldest.name))
    });
    snapshot.groups.reserve(runs.len());
    for run in runs {
        let group = snapshot.group_of(&run.template);
        snapshot.count_in_group(group, &run.on);
    }
    Some(snapshot)
}

/// One template's bound replicas, as `account_in_any_order` gathers them.
struct Run<'p> {
    template: Arc<PodSpec>,
    oldest: &'p Replica,
    pinned: bool,
    on: Vec<u32>,
}

/// Whether the replicas accounted on a node fit its allocatable together.
fn holds_its_requests(info: &NodeInfo) -> bool {
    let (capacity, used) = (&info.allocatable.resources, &info.requested);
    info.pods <= info.allocatable.pods
        && used.milli_cpu <= capacity.milli_cpu
        && used.memory <= capacity.memory
        && used.ephemeral_storage <= capacity.ephemeral_storage
        && used
            .scalar
            .iter()
            .all(|(name, &taken)| taken <= capacity.get(name))
}

/// The pod a replica runs: its template, pinned to its node for a DaemonSet replica.
fn replica_pod<'a>(template: &'a PodSpec, replica: &Replica) -> Cow<'a, PodSpec> {
    match &replica.target_node {
        Some(target) => Cow::Owned(daemon_pod(template, target)),
        None => Cow::Borrowed(template),
    }
}

/// A revision's scheduling view and its replica group in a snapshot.
type PodAndGroup<'a> = (&'a Arc<PodSpec>, usize);

/// The scheduler's view of `state` as it stands: every node, with every bound
/// replica that is not terminating (but `except`) accounted on its node —
/// what the next replica to be placed would meet.
pub fn occupied_snapshot(state: &State, catalog: &Catalog, except: Option<&str>) -> Snapshot {
    let mut snapshot = Snapshot::new(&state.nodes);
    // Replicas of one revision are mostly adjacent: their pod and group are
    // looked up once per run of them, not once per replica.
    let mut last: Option<(&Replica, Option<PodAndGroup>)> = None;
    for replica in &state.replicas {
        if Some(replica.name.as_str()) == except || replica.phase == Phase::Terminating {
            continue;
        }
        let Some(index) = replica.node.as_deref().and_then(|n| snapshot.index_of(n)) else {
            continue;
        };
        let found = match last {
            Some((previous, found))
                if previous.hash == replica.hash && previous.workload == replica.workload =>
            {
                found
            }
            _ => catalog
                .pod(&replica.workload, &replica.hash)
                .map(|pod| (pod, snapshot.group_of(pod))),
        };
        last = Some((replica, found));
        if let Some((pod, group)) = found {
            snapshot.assume_in(index, pod, group);
        }
    }
    snapshot
}

/// Crash-loop back-off: 10s doubling per restart, at most 5 minutes (the kubelet's).
pub fn backoff(restarts: u32) -> u64 {
    (10u64 << restarts.min(5)).min(300)
}

/// Bound replicas whose readiness delay has passed become ready; a simulated
/// bad version never does, or crashes and restarts with back-off. Otherwise
/// the pass asks to be woken when the next one changes (or becomes available).
pub(super) fn readiness(pass: &mut Pass, nodes: &[NodeState]) {
    let min_ready: FxHashMap<_, _> = pass
        .desired
        .workloads
        .iter()
        .map(|w| (&w.id, w.min_ready_seconds))
        .collect();
    let observed = pass.observed;
    // Looked up once per run of replicas of one revision.
    let mut templates = Templates { last: None };
    let mut last_min_ready: Option<(&Replica, u64)> = None;
    // The replicas that crash (true) or become ready (false), in state order:
    // their actions are made at the end, in a list that grows once.
    let mut changes: Vec<(&Replica, bool)> = Vec::new();
    for (i, replica) in observed.replicas.iter().enumerate() {
        if replica.node.is_none() || pass.deleted.contains(&replica.name) {
            continue;
        }
        // Nothing becomes ready on a node that is not (node_loss handles
        // those); a node that is gone has no replica left (remove_orphans).
        let node = pass.node_of[i];
        if node == NO_NODE || !nodes[node as usize].ready {
            continue;
        }
        let Some(pod) = templates.of(&pass.catalog, replica) else {
            continue;
        };
        let started = replica.started_at.unwrap_or(replica.created_at);
        if let Some(Simulate::CrashAfter(after)) = pod.simulate {
            let crash_at = started + after;
            if crash_at <= pass.now {
                changes.push((replica, true));
                continue;
            }
            pass.plan.wake(crash_at);
        }
        if replica.ready {
            let min_ready = match last_min_ready {
                Some((previous, seconds)) if previous.workload == replica.workload => seconds,
                _ => {
                    let seconds = min_ready.get(&replica.workload).copied().unwrap_or(0);
                    last_min_ready = Some((replica, seconds));
                    seconds
                }
            };
            if let Some(at) = replica.ready_at
                && min_ready > 0
                && at + min_ready >= pass.now
            {
                pass.plan.wake(at + min_ready + 1);
            }
            continue;
        }
        if pod.simulate == Some(Simulate::NeverReady) {
            continue;
        }
        let due = started + pod.ready_after;
        if due <= pass.now {
            changes.push((replica, false));
        } else {
            pass.plan.wake(due);
        }
    }
    pass.plan.actions.reserve(changes.len());
    pass.plan
        .actions
        .extend(changes.into_iter().map(|(replica, crash)| match crash {
            true => Action::Crash {
                replica: replica.name.clone(),
                workload: replica.workload.clone(),
                restarts: replica.restarts + 1,
                backoff: backoff(replica.restarts),
            },
            false => Action::MarkReady {
                replica: replica.name.clone(),
                workload: replica.workload.clone(),
            },
        }));
}

#[cfg(test)]
mod tests {
    //! Building the bound replicas' snapshot in state order is only a
    //! shortcut: whenever it is taken, it must give exactly the snapshot of
    //! the oldest-first pass, and that pass must find no drift.
    use super::*;
    use crate::executor::{self, RunOptions};
    use crate::manifest::{ParseOptions, parse};
    use crate::model::workload::Desired;
    use crate::scheduler::ScoringStrategy;
    use crate::sources::Source;
    use proptest::prelude::*;

    fn manifests(
        nodes: usize,
        cpu: &[u32],
        workloads: &[(u32, u32, bool)],
        daemon: Option<bool>,
    ) -> String {
        let mut text = String::new();
        for i in 0..nodes {
            let millis = cpu[i % cpu.len()];
            text += &format!(
                "apiVersion: v1\nkind: Node\nmetadata:\n  name: n{i}\n  labels:\n    disk: {}\n\
                 status:\n  allocatable:\n    cpu: {millis}m\n    memory: 8Gi\n---\n",
                if i % 2 == 0 { "ssd" } else { "hdd" }
            );
        }
        for (w, &(replicas, millis, ssd)) in workloads.iter().enumerate() {
            let selector = if ssd {
                "      nodeSelector:\n        disk: ssd\n"
            } else {
                ""
            };
            text += &format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: w{w}\nspec:\n  \
                 replicas: {replicas}\n  selector:\n    matchLabels:\n      app: w{w}\n  \
                 template:\n    metadata:\n      labels:\n        app: w{w}\n    spec:\n{selector}      \
                 containers:\n      - name: c\n        image: i\n        resources:\n          \
                 requests:\n            cpu: {millis}m\n---\n"
            );
        }
        // A DaemonSet, on every node or on the ssd ones.
        if let Some(ssd) = daemon {
            let selector = if ssd {
                "      nodeSelector:\n        disk: ssd\n"
            } else {
                ""
            };
            text += &format!(
                "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: agent\nspec:\n  \
                 selector:\n    matchLabels:\n      app: agent\n  \
                 template:\n    metadata:\n      labels:\n        app: agent\n    spec:\n{selector}      \
                 containers:\n      - name: c\n        image: i\n        resources:\n          \
                 requests:\n            cpu: 50m\n---\n"
            );
        }
        text
    }

    fn desired(text: String) -> Desired {
        let sources = [Source {
            name: "fleet.yaml".into(),
            text,
        }];
        parse(&sources, &ParseOptions::default())
            .expect("valid manifests")
            .desired
    }

    /// Both accountings of `observed`'s bound replicas against `desired`.
    fn both(desired: &Desired, observed: &State) -> (Option<Snapshot>, Snapshot, usize) {
        let mut pass = Pass {
            desired,
            observed,
            now: observed.clock,
            catalog: Catalog::build(desired, observed),
            plan: super::super::Plan::default(),
            by_workload: Default::default(),
            by_node: Default::default(),
            node_of: Vec::new(),
            deleted: Default::default(),
            stored: super::super::stored_workloads(observed),
            created: Vec::new(),
            names: super::super::names::NameGenerator::new(observed),
        };
        let nodes = super::super::nodes::sync(&mut pass, super::super::Prune::Auto);
        pass.plan.actions.clear();
        pass.node_of = super::super::node_positions(observed, &nodes);
        let bound: Vec<usize> = (0..observed.replicas.len())
            .filter(|&i| pass.node_of[i] != NO_NODE)
            .collect();
        let fast = account_in_any_order(&pass, &nodes, &bound);
        let slow = account_oldest_first(&mut pass, &nodes, bound);
        (fast, slow, pass.plan.actions.len())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn state_order_accounting_is_the_oldest_first_one(
            nodes in 2usize..7,
            cpu in prop::collection::vec(500u32..4000, 1..4),
            workloads in prop::collection::vec((1u32..6, 50u32..900, any::<bool>()), 1..5),
            shrink in prop::collection::vec((0usize..7, 100u32..4000), 0..3),
            moves in prop::collection::vec((0usize..40, 0usize..7), 0..4),
            order in prop::collection::vec((0usize..40, 0usize..40, 0u64..3), 0..12),
            daemon in prop::option::of(any::<bool>()),
            relabel in prop::option::of(0usize..7),
        ) {
            let fleet = desired(manifests(nodes, &cpu, &workloads, daemon));
            let mut state = State::default();
            let _ = executor::run(
                &fleet,
                &mut state,
                &Scheduler::new(ScoringStrategy::LeastAllocated),
                &RunOptions::default(),
                |_, _| Ok::<(), ()>(()),
            );
            prop_assume!(state.replicas.iter().any(|r| r.node.is_some()));
            // Edits by hand: nodes that shrank, replicas moved, reordered, re-aged.
            let mut cpu_now = cpu.clone();
            for &(node, millis) in &shrink {
                let i = node % cpu_now.len();
                cpu_now[i] = millis;
            }
            let mut text = manifests(nodes, &cpu_now, &workloads, daemon);
            // A node whose labels changed: an ssd-only DaemonSet replica there is drift.
            if let Some(node) = relabel {
                let node = node % nodes;
                let disk = if node % 2 == 0 { "ssd" } else { "hdd" };
                text = text.replace(
                    &format!("name: n{node}\n  labels:\n    disk: {disk}\n"),
                    &format!("name: n{node}\n  labels:\n    disk: other\n"),
                );
            }
            let fleet = desired(text);
            let count = state.replicas.len();
            for &(replica, node) in &moves {
                state.replicas[replica % count].node = Some(format!("n{}", node % nodes));
            }
            for &(a, b, age) in &order {
                state.replicas.swap(a % count, b % count);
                state.replicas[a % count].created_at += age;
            }
            let (fast, slow, deleted) = both(&fleet, &state);
            if let Some(fast) = fast {
                prop_assert_eq!(deleted, 0, "the shortcut was taken where replicas are drift");
                prop_assert_eq!(fast, slow);
            }
        }
    }

    fn replica(created_at: u64, workload: u8, name: u16) -> Replica {
        Replica {
            name: format!("r{name}"),
            workload: crate::model::workload::ObjectRef::new(
                crate::model::workload::Kind::Deployment,
                "default",
                &format!("w{workload}"),
            ),
            revision: 1,
            hash: "h".into(),
            node: None,
            target_node: None,
            phase: Phase::Pending,
            ready: false,
            created_at,
            started_at: None,
            ready_at: None,
            restarts: 0,
            reason: None,
        }
    }

    proptest! {
        /// Sorting group by group is the queue's full sort, in or out of order.
        #[test]
        fn the_queue_is_sorted_as_a_whole(
            groups in prop::collection::vec((0u64..3, 0u8..4, 1usize..5), 0..8),
            sorted_groups in any::<bool>(),
        ) {
            let mut groups = groups;
            if sorted_groups {
                groups.sort_by_key(|&(at, w, _)| (at, w));
                groups.dedup_by_key(|g| (g.0, g.1));
            }
            let mut next = 0u16;
            let replicas: Vec<Replica> = groups
                .iter()
                .flat_map(|&(at, w, n)| (0..n).map(move |k| (at, w, k)))
                .map(|(at, w, _)| {
                    // Names out of order within a group.
                    next += 7;
                    replica(at, w, next % 97)
                })
                .collect();
            let mut names: Vec<&str> = replicas.iter().map(|r| r.name.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            prop_assume!(names.len() == replicas.len());
            let mut fast: Vec<&Replica> = replicas.iter().collect();
            sort_queue(&mut fast);
            let mut full: Vec<&Replica> = replicas.iter().collect();
            full.sort_by(|a, b| {
                (a.created_at, &a.workload, &a.name).cmp(&(b.created_at, &b.workload, &b.name))
            });
            let order = |v: &[&Replica]| v.iter().map(|r| r.name.clone()).collect::<Vec<_>>();
            prop_assert_eq!(order(&fast), order(&full));
        }
    }

    #[test]
    fn the_shortcut_is_taken_when_nothing_is_drift_and_declined_on_overcommit() {
        let workloads = [(4, 300, false), (3, 200, true)];
        let fleet = desired(manifests(3, &[2000], &workloads, None));
        let mut state = State::default();
        executor::run(
            &fleet,
            &mut state,
            &Scheduler::new(ScoringStrategy::LeastAllocated),
            &RunOptions::default(),
            |_, _| Ok::<(), ()>(()),
        )
        .expect("converges");
        state.replicas.reverse();
        let (fast, slow, deleted) = both(&fleet, &state);
        assert_eq!(deleted, 0);
        assert_eq!(fast.as_ref(), Some(&slow));
        // Every node shrinks to 100m: the replicas no longer fit together.
        let shrunk = desired(manifests(3, &[100], &workloads, None));
        let (fast, _, deleted) = both(&shrunk, &state);
        assert!(fast.is_none());
        assert!(deleted > 0);
    }
}
