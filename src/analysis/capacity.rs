//! Headroom: how many more replicas of a workload the fleet takes as it
//! stands. Extra replicas of the workload's current template are placed one
//! after another, each assumed before the next, by the scheduler the loop
//! uses (the run fast path, every filter), on a copy of the scheduler's view
//! of the state, until one fits nowhere; its FitError says what ran out.
//! Where the constraints allow it, the copies are counted instead of placed
//! (`fast_capacity`), with the same answer.

use super::fast_capacity::{self, Probe};
use crate::model::pod::PodSpec;
use crate::model::state::State;
use crate::model::workload::{Desired, ObjectRef, WorkloadKind};
use crate::reconcile::{Catalog, occupied_snapshot};
use crate::scheduler::batch::Batch;
use crate::scheduler::snapshot::Snapshot;
use crate::scheduler::{FitError, Reason, Scheduler};

/// Extra replicas tried per workload before answering "at least this many".
pub const PROBE_LIMIT: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Headroom {
    pub object: String,
    pub kind: WorkloadKind,
    /// Desired replicas (a DaemonSet: the replicas it runs).
    pub replicas: i32,
    /// Extra replicas that fit; `None` for a DaemonSet (one per eligible node).
    pub fits: Option<usize>,
    /// The probe stopped at its limit with room left.
    pub capped: bool,
    /// Why the first extra replica that did not fit fits nowhere.
    pub limit: Option<FitError>,
    /// Where the manifests use priorities: how many more would be placed
    /// beyond `fits` by preempting lower-priority replicas (DefaultPreemption,
    /// as the loop would), within the probe's limit.
    pub by_preemption: Option<usize>,
}

impl Headroom {
    /// What ran out: the reasons that depend on what is placed (resources,
    /// spread, affinity), with their node counts — not the nodes the workload
    /// could never use (taints, selectors, cordons). All reasons when only those remain.
    pub fn limited_by(&self) -> Vec<(&Reason, usize)> {
        let Some(error) = &self.limit else {
            return Vec::new();
        };
        let all: Vec<(&Reason, usize)> = error.reasons.iter().map(|(r, &n)| (r, n)).collect();
        let running_out: Vec<(&Reason, usize)> = all
            .iter()
            .copied()
            .filter(|(reason, _)| !never_fits(reason))
            .collect();
        if running_out.is_empty() {
            all
        } else {
            running_out
        }
    }
}

/// Reasons that hold whatever runs on the node.
fn never_fits(reason: &Reason) -> bool {
    matches!(
        reason,
        Reason::Unschedulable
            | Reason::NodeName
            | Reason::UntoleratedTaint { .. }
            | Reason::NodeAffinity
            | Reason::SpreadMissingLabel
    )
}

/// Probe each workload of `only` (every workload when empty), in manifest order.
pub fn headroom(
    desired: &Desired,
    state: &State,
    scheduler: &Scheduler,
    only: &[ObjectRef],
    limit: usize,
) -> Vec<Headroom> {
    let catalog = Catalog::build(desired, state);
    let mut snapshot = occupied_snapshot(state, &catalog, None);
    let mut shared = fast_capacity::Shared::default();
    let priorities = crate::reconcile::preemption::in_use(desired);
    let replicas_of = |id: &ObjectRef| {
        state
            .replicas
            .iter()
            .filter(|r| &r.workload == id && r.phase.is_active())
            .count() as i32
    };
    desired
        .workloads
        .iter()
        .filter(|w| only.is_empty() || only.contains(&w.id))
        .map(|workload| {
            let mut headroom = Headroom {
                object: workload.id.to_string(),
                kind: workload.kind(),
                replicas: workload.replicas,
                fits: None,
                capped: false,
                limit: None,
                by_preemption: None,
            };
            if workload.kind() == WorkloadKind::DaemonSet {
                headroom.replicas = replicas_of(&workload.id);
                return headroom;
            }
            let Some(pod) = catalog.pod(&workload.id, &workload.template_hash) else {
                return headroom;
            };
            if priorities {
                // Preemption goes on from where the plain probe stopped.
                let (found, end) = one_by_one_to_the_end(scheduler, &snapshot, pod, limit);
                headroom.by_preemption = Some(if found.capped {
                    0
                } else {
                    preempting(
                        desired,
                        state,
                        &catalog,
                        scheduler,
                        pod,
                        end,
                        limit - found.fits,
                    )
                });
                headroom.fits = Some(found.fits);
                headroom.capped = found.capped;
                headroom.limit = found.limit;
                return headroom;
            }
            let found = probe(scheduler, &mut snapshot, pod, limit, &mut shared);
            headroom.fits = Some(found.fits);
            headroom.capped = found.capped;
            headroom.limit = found.limit;
            headroom
        })
        .collect()
}

/// Replicas of `pod` placed beyond the point where none fits, each by
/// preempting lower-priority replicas (or fitting in the room a preemption
/// left), until preemption cannot help or `limit` is reached.
fn preempting(
    desired: &Desired,
    state: &State,
    catalog: &Catalog,
    scheduler: &Scheduler,
    pod: &crate::model::pod::PodSpec,
    mut probe: crate::scheduler::snapshot::Snapshot,
    limit: usize,
) -> usize {
    use crate::reconcile::preemption::{allowed, occupants};
    use crate::scheduler::preemption::Outcome;
    let mut occupants = occupants(desired, state, catalog, &probe, |_, _| false);
    let mut allowed = allowed(desired, state, catalog);
    let mut placed = 0;
    while placed < limit {
        if let Ok(placement) = scheduler.schedule(pod, &probe) {
            probe.assume(placement.node, pod);
            placed += 1;
            continue;
        }
        match scheduler.preempt(pod, &mut probe, &occupants, &allowed) {
            Outcome::Preempt(victims) => {
                for key in victims.keys {
                    if let Some(victim) = occupants.remove(victims.node, key) {
                        probe.forget(victims.node, &victim.pod);
                        for budget in victim.budgets {
                            allowed[budget] -= 1;
                        }
                    }
                }
                probe.assume(victims.node, pod);
                placed += 1;
            }
            Outcome::NotHelpful(_) => break,
        }
    }
    placed
}

/// How many more copies of `pod` fit on `snapshot` (at most `limit`), and
/// why the next one does not: counted where the constraints allow it
/// ([`fast_capacity::count`]), else placed one by one.
pub fn probe(
    scheduler: &Scheduler,
    snapshot: &mut Snapshot,
    pod: &PodSpec,
    limit: usize,
    shared: &mut fast_capacity::Shared,
) -> Probe {
    fast_capacity::count(scheduler, snapshot, pod, limit, shared)
        .unwrap_or_else(|| one_by_one(scheduler, snapshot, pod, limit))
}

/// The plain probe: copies placed one after another, each assumed before the
/// next, on a copy of `snapshot`, until one fits nowhere or `limit` fit.
pub fn one_by_one(
    scheduler: &Scheduler,
    snapshot: &Snapshot,
    pod: &PodSpec,
    limit: usize,
) -> Probe {
    one_by_one_to_the_end(scheduler, snapshot, pod, limit).0
}

/// `one_by_one`, and the snapshot as the probe left it.
fn one_by_one_to_the_end(
    scheduler: &Scheduler,
    snapshot: &Snapshot,
    pod: &PodSpec,
    limit: usize,
) -> (Probe, Snapshot) {
    let mut probe = snapshot.clone();
    let mut batch = Batch::new(scheduler, &probe);
    let mut fits = 0;
    let mut first_error = None;
    batch.run(pod, &mut probe, limit, |result| match result {
        Ok(_) if first_error.is_none() => fits += 1,
        Ok(_) => {}
        Err(error) => {
            first_error.get_or_insert(error);
        }
    });
    let found = Probe {
        fits,
        capped: first_error.is_none(),
        limit: first_error,
    };
    (found, probe)
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{DAEMONSET, deployment, desired, node};
    use super::super::what_if;
    use super::*;
    use crate::executor::RunOptions;
    use crate::model::workload::Kind;
    use crate::scheduler::ScoringStrategy;

    const ANTI_AFFINITY: &str = "      affinity:\n        podAntiAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n            - topologyKey: kubernetes.io/hostname\n              labelSelector:\n                matchLabels: {app: web}\n";
    const ZONE_SPREAD: &str = "      topologySpreadConstraints:\n        - maxSkew: 1\n          topologyKey: topology.kubernetes.io/zone\n          whenUnsatisfiable: DoNotSchedule\n          labelSelector:\n            matchLabels: {app: web}\n";
    const TAINTED: &str = "apiVersion: v1\nkind: Node\nmetadata:\n  name: gpu\nspec:\n  taints: [{key: gpu, value: \"true\", effect: NoSchedule}]\nstatus:\n  allocatable: {cpu: \"64\", memory: 256Gi, pods: \"110\"}\n---\n";

    /// Converge the manifests in memory, then probe every workload.
    fn probe(text: &str, limit: usize) -> (Vec<Headroom>, what_if::Base) {
        let scheduler = Scheduler::new(ScoringStrategy::LeastAllocated);
        let base = what_if::prepare(
            &desired(text),
            State::default(),
            &[],
            &[],
            &scheduler,
            &RunOptions::default(),
        )
        .unwrap();
        let found = headroom(&base.desired, &base.state, &scheduler, &[], limit);
        (found, base)
    }

    fn reasons(headroom: &Headroom) -> Vec<String> {
        headroom
            .limited_by()
            .iter()
            .map(|(reason, _)| reason.to_string())
            .collect()
    }

    #[test]
    fn two_nodes_of_four_cpus_take_five_more_one_cpu_replicas() {
        let text = format!(
            "{}{}{TAINTED}{}",
            node("n1", "a", "4"),
            node("n2", "a", "4"),
            deployment("web", 3, "1", "")
        );
        let (found, _) = probe(&text, PROBE_LIMIT);
        assert_eq!(found[0].replicas, 3);
        assert_eq!(found[0].fits, Some(5));
        assert!(!found[0].capped);
        // The tainted node was never an option: it is not what ran out.
        assert_eq!(reasons(&found[0]), ["Insufficient cpu"]);
        assert_eq!(
            found[0].limit.as_ref().unwrap().to_string(),
            "0/3 nodes are available: 1 node(s) had untolerated taint {gpu: true}, 2 Insufficient cpu."
        );
    }

    #[test]
    fn hostname_anti_affinity_runs_out_before_cpu() {
        let text = format!(
            "{}{}{}{}",
            node("n1", "a", "8"),
            node("n2", "a", "8"),
            node("n3", "b", "8"),
            deployment("web", 2, "1", ANTI_AFFINITY)
        );
        let (found, _) = probe(&text, PROBE_LIMIT);
        assert_eq!(found[0].fits, Some(1));
        assert_eq!(
            reasons(&found[0]),
            ["node(s) didn't match pod anti-affinity rules"]
        );
    }

    #[test]
    fn a_hard_zone_spread_stops_at_the_skew_and_the_loop_agrees() {
        // Zone a: 8 cpu over two nodes, zone b: 4. With maxSkew 1 the fleet takes
        // b=4, a=5: nine in all, seven more than the two running.
        let text = format!(
            "{}{}{}{}",
            node("a1", "a", "4"),
            node("a2", "a", "4"),
            node("b1", "b", "4"),
            deployment("web", 2, "1", ZONE_SPREAD)
        );
        let (found, base) = probe(&text, PROBE_LIMIT);
        assert_eq!(found[0].fits, Some(7));
        assert_eq!(
            found[0].limit.as_ref().unwrap().to_string(),
            "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match pod topology spread constraints."
        );
        // The loop itself places exactly that many, and not one more.
        let scheduler = Scheduler::new(ScoringStrategy::LeastAllocated);
        let web = ObjectRef::new(Kind::Deployment, "default", "web");
        for (replicas, pending) in [(9, 0), (10, 1)] {
            let scaled = what_if::prepare(
                &base.desired,
                base.state.clone(),
                &[],
                &[(web.clone(), replicas)],
                &scheduler,
                &RunOptions::default(),
            )
            .unwrap();
            let report = what_if::scenario(&scaled, &[], &scheduler, &RunOptions::default());
            assert_eq!(report.workloads[0].pending, pending, "{replicas} replicas");
        }
    }

    #[test]
    fn the_probe_is_capped_and_daemonsets_are_not_probed() {
        let text = format!(
            "{}{}{DAEMONSET}",
            node("n1", "a", "64"),
            deployment("tiny", 1, "1m", "")
        );
        // Memory (1Gi each of 16Gi) would allow 14 more; the probe stops at 10.
        let (found, _) = probe(&text, 10);
        let tiny = found.iter().find(|h| h.object.ends_with("/tiny")).unwrap();
        assert_eq!((tiny.fits, tiny.capped), (Some(10), true));
        assert!(tiny.limited_by().is_empty());
        let agent = found.iter().find(|h| h.object.ends_with("/agent")).unwrap();
        assert_eq!((agent.fits, agent.replicas), (None, 1));
        let (found, _) = probe(&text, PROBE_LIMIT);
        assert_eq!(found[0].fits, Some(14));
        assert_eq!(reasons(&found[0]), ["Insufficient memory"]);
    }

    /// Probe `workload` both ways: counted (which must answer) and placed.
    fn counted_and_placed(text: &str, workload: &str, limit: usize) -> Probe {
        let (_, base) = probe(text, 0);
        let scheduler = Scheduler::new(ScoringStrategy::LeastAllocated);
        let catalog = Catalog::build(&base.desired, &base.state);
        let mut snapshot = occupied_snapshot(&base.state, &catalog, None);
        let spec = base
            .desired
            .workloads
            .iter()
            .find(|w| &*w.id.name == workload)
            .unwrap();
        let pod = catalog.pod(&spec.id, &spec.template_hash).unwrap();
        let mut shared = fast_capacity::Shared::default();
        let counted = fast_capacity::count(&scheduler, &mut snapshot, pod, limit, &mut shared)
            .expect("counted, not placed");
        assert_eq!(counted, one_by_one(&scheduler, &snapshot, pod, limit));
        counted
    }

    #[test]
    fn resources_one_per_host_and_zone_spread_are_counted_not_placed() {
        let text = format!(
            "{}{}{TAINTED}{}",
            node("n1", "a", "4"),
            node("n2", "a", "4"),
            deployment("web", 3, "1", "")
        );
        assert_eq!(counted_and_placed(&text, "web", PROBE_LIMIT).fits, 5);
        let text = format!(
            "{}{}{}{}",
            node("n1", "a", "8"),
            node("n2", "a", "8"),
            node("n3", "b", "8"),
            deployment("web", 2, "1", ANTI_AFFINITY)
        );
        assert_eq!(counted_and_placed(&text, "web", PROBE_LIMIT).fits, 1);
        // Zone b fills up (4 cpu), zone a stops at b + maxSkew: where in
        // zone a the copies go is the scheduler's choice, so only a capped
        // probe is counted.
        let text = format!(
            "{}{}{}{}",
            node("a1", "a", "4"),
            node("a2", "a", "4"),
            node("b1", "b", "4"),
            deployment("web", 2, "1", ZONE_SPREAD)
        );
        let capped = counted_and_placed(&text, "web", 6);
        assert_eq!((capped.fits, capped.capped), (6, true));
        // One node per zone: each zone's copies have one place to go.
        let text = format!(
            "{}{}{}",
            node("a1", "a", "8"),
            node("b1", "b", "4"),
            deployment("web", 2, "1", ZONE_SPREAD)
        );
        assert_eq!(counted_and_placed(&text, "web", PROBE_LIMIT).fits, 7);
    }
}
