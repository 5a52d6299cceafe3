//! Cases from kube-scheduler's own tests: `TestPickOneNodeForPreemption`,
//! `TestSelectCandidate` and the `SelectVictimsOnNode` cases of
//! `TestDryRunPreemption` (pkg/scheduler/framework/plugins/defaultpreemption/
//! default_preemption_test.go), with their resources (small 100m/100,
//! medium 200m/200, large 300m/300, very large 500m/500; nodes of 500m/500)
//! and priorities (neg −100, low 0, mid 100, high 1000, very high 10000).

use super::*;
use crate::model::resources::parse_amount;
use crate::model::state::{NodeSource, NodeState};
use crate::scheduler::ScoringStrategy;

const NEG: i32 = -100;
const LOW: i32 = 0;
const MID: i32 = 100;
const HIGH: i32 = 1000;
const VERY_HIGH: i32 = 10000;

const SMALL: (&str, &str) = ("100m", "100");
const MEDIUM: (&str, &str) = ("200m", "200");
const LARGE: (&str, &str) = ("300m", "300");
const VERY_LARGE: (&str, &str) = ("500m", "500");

fn pod(size: (&str, &str), priority: i32) -> PodSpec {
    let template: serde_json::Value = serde_json::json!({
        "metadata": {"labels": {"app": "p"}},
        "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": size.0, "memory": size.1}}}]}
    });
    let mut pod = crate::manifest::pod_spec_from_template("default", &template).unwrap();
    pod.priority = priority;
    pod
}

struct Fleet {
    snapshot: Snapshot,
    occupants: Occupants,
    keys: usize,
}

fn fleet(names: &[&str], capacity: (&str, &str)) -> Fleet {
    let nodes: Vec<NodeState> = names
        .iter()
        .map(|name| {
            let mut allocatable = crate::model::resources::Allocatable::default();
            allocatable
                .resources
                .set("cpu", parse_amount("cpu", capacity.0).unwrap());
            allocatable
                .resources
                .set("memory", parse_amount("memory", capacity.1).unwrap());
            allocatable.pods = 110;
            NodeState {
                name: name.to_string(),
                labels: Default::default(),
                allocatable,
                taints: Vec::new(),
                unschedulable: false,
                cordoned: false,
                draining: false,
                removing: false,
                ready: true,
                not_ready_since: None,
                conditions: Vec::new(),
                source: NodeSource::Manifest,
            }
        })
        .collect();
    let snapshot = Snapshot::new(&nodes);
    Fleet {
        occupants: Occupants::new(nodes.len()),
        snapshot,
        keys: 0,
    }
}

impl Fleet {
    fn place(&mut self, node: &str, size: (&str, &str), priority: i32, start: u64) -> usize {
        self.place_budgeted(node, size, priority, start, &[])
    }

    fn place_budgeted(
        &mut self,
        node: &str,
        size: (&str, &str),
        priority: i32,
        start: u64,
        budgets: &[usize],
    ) -> usize {
        let index = self.snapshot.index_of(node).unwrap();
        let pod = Arc::new(pod(size, priority));
        self.snapshot.assume(index, &pod);
        let key = self.keys;
        self.keys += 1;
        self.occupants.add(
            index,
            Occupant {
                key,
                priority,
                start,
                pod,
                budgets: budgets.to_vec(),
            },
        );
        key
    }

    fn preempt(&mut self, pod: &PodSpec, allowed: &[i32]) -> Outcome {
        let scheduler = Scheduler::new(ScoringStrategy::LeastAllocated);
        assert!(scheduler.schedule(pod, &self.snapshot).is_err());
        let before = self.snapshot.clone();
        let outcome = scheduler.preempt(pod, &mut self.snapshot, &self.occupants, allowed);
        assert_eq!(
            self.snapshot, before,
            "preemption leaves the snapshot as it was"
        );
        outcome
    }

    fn chosen(&mut self, pod: &PodSpec) -> (String, Vec<usize>) {
        match self.preempt(pod, &[]) {
            Outcome::Preempt(victims) => (
                self.snapshot.nodes[victims.node].name.to_string(),
                victims.keys,
            ),
            Outcome::NotHelpful(message) => panic!("no preemption: {message}"),
        }
    }
}

const MACHINES: [&str; 3] = ["machine1", "machine2", "machine3"];

#[test]
fn both_machines_fit_when_lower_priority_pods_go() {
    let mut f = fleet(&MACHINES[..2], VERY_LARGE);
    let m11 = f.place("machine1", LARGE, MID, 0);
    f.place("machine2", LARGE, MID, 0);
    // Either is valid upstream; orch takes the first.
    assert_eq!(f.chosen(&pod(LARGE, HIGH)), ("machine1".into(), vec![m11]));
}

#[test]
fn the_machine_with_the_lowest_highest_priority_victim_is_picked() {
    let mut f = fleet(&MACHINES, VERY_LARGE);
    f.place("machine1", MEDIUM, MID, 0);
    f.place("machine1", LARGE, MID, 0);
    f.place("machine2", MEDIUM, MID, 0);
    f.place("machine2", MEDIUM, LOW, 0);
    f.place("machine3", MEDIUM, LOW, 0);
    f.place("machine3", MEDIUM, LOW, 0);
    assert_eq!(f.chosen(&pod(VERY_LARGE, HIGH)).0, "machine3");
}

#[test]
fn with_equal_highest_priorities_the_smallest_sum_is_picked() {
    let mut f = fleet(&MACHINES, VERY_LARGE);
    f.place("machine1", MEDIUM, MID, 0);
    f.place("machine1", LARGE, MID, 0);
    f.place("machine2", LARGE, MID, 0);
    f.place("machine2", MEDIUM, LOW, 0);
    f.place("machine3", MEDIUM, MID, 0);
    f.place("machine3", MEDIUM, MID, 0);
    assert_eq!(f.chosen(&pod(VERY_LARGE, HIGH)).0, "machine2");
}

#[test]
fn with_equal_highest_and_sum_the_fewest_victims_are_picked() {
    let mut f = fleet(&MACHINES, VERY_LARGE);
    f.place("machine1", SMALL, MID, 0);
    f.place("machine1", SMALL, NEG, 0);
    f.place("machine1", SMALL, MID, 0);
    f.place("machine1", SMALL, NEG, 0);
    f.place("machine2", LARGE, MID, 0);
    f.place("machine2", MEDIUM, NEG, 0);
    f.place("machine3", MEDIUM, MID, 0);
    f.place("machine3", SMALL, NEG, 0);
    f.place("machine3", SMALL, LOW, 0);
    assert_eq!(f.chosen(&pod(VERY_LARGE, HIGH)).0, "machine2");
}

/// The sum adds MaxInt32+1 to each priority, so that more victims of a
/// negative priority do not look cheaper.
#[test]
fn the_sum_of_adjusted_priorities_is_considered() {
    let mut f = fleet(&MACHINES, VERY_LARGE);
    f.place("machine1", SMALL, MID, 0);
    f.place("machine1", SMALL, NEG, 0);
    f.place("machine1", SMALL, NEG, 0);
    f.place("machine2", LARGE, MID, 0);
    f.place("machine2", MEDIUM, NEG, 0);
    f.place("machine3", MEDIUM, MID, 0);
    f.place("machine3", SMALL, NEG, 0);
    f.place("machine3", SMALL, LOW, 0);
    assert_eq!(f.chosen(&pod(VERY_LARGE, HIGH)).0, "machine2");
}

#[test]
fn non_overlapping_lowest_high_priority_sum_and_count() {
    let mut f = fleet(
        &["machine1", "machine2", "machine3", "machine4"],
        VERY_LARGE,
    );
    f.place("machine1", SMALL, MID, 0);
    f.place("machine1", SMALL, LOW, 0);
    f.place("machine1", SMALL, LOW, 0);
    f.place("machine2", LARGE, HIGH, 0);
    f.place("machine3", MEDIUM, MID, 0);
    f.place("machine3", SMALL, LOW, 0);
    f.place("machine3", SMALL, LOW, 0);
    f.place("machine3", MEDIUM, LOW, 0);
    f.place("machine4", MEDIUM, MID, 0);
    f.place("machine4", SMALL, MID, 0);
    f.place("machine4", SMALL, MID, 0);
    f.place("machine4", SMALL, NEG, 0);
    assert_eq!(f.chosen(&pod(VERY_LARGE, VERY_HIGH)).0, "machine1");
}

#[test]
fn equal_victims_pick_the_latest_start_of_the_highest_priority_ones() {
    let mut f = fleet(&MACHINES, VERY_LARGE);
    f.place("machine1", MEDIUM, MID, 20190103);
    f.place("machine1", MEDIUM, MID, 20190103);
    f.place("machine2", MEDIUM, MID, 20190104);
    f.place("machine2", MEDIUM, MID, 20190104);
    f.place("machine3", MEDIUM, MID, 20190102);
    f.place("machine3", MEDIUM, MID, 20190102);
    assert_eq!(f.chosen(&pod(VERY_LARGE, HIGH)).0, "machine2");
}

/// SelectVictimsOnNode reprieves the most important pods first: here the
/// mid-priority pod stays, the two low ones go.
#[test]
fn victims_are_reprieved_most_important_first() {
    let mut f = fleet(&["machine1"], VERY_LARGE);
    let mid = f.place("machine1", MEDIUM, MID, 0);
    let low1 = f.place("machine1", SMALL, LOW, 0);
    let low2 = f.place("machine1", SMALL, LOW, 1);
    let (_, victims) = f.chosen(&pod(LARGE, HIGH));
    assert!(!victims.contains(&mid));
    assert_eq!(victims, vec![low1, low2]);
}

/// Equal priorities: the one that started later goes first (it is less important).
#[test]
fn among_equals_the_latest_started_is_the_victim() {
    let mut f = fleet(&["machine1"], VERY_LARGE);
    f.place("machine1", MEDIUM, LOW, 0);
    let later = f.place("machine1", MEDIUM, LOW, 5);
    assert_eq!(f.chosen(&pod(LARGE, HIGH)).1, vec![later]);
}

/// PDB-violating victims are reprieved first, and a node whose victims
/// violate a budget loses to one whose victims do not.
#[test]
fn budgets_are_spared_where_possible() {
    let mut f = fleet(&MACHINES[..2], VERY_LARGE);
    f.place_budgeted("machine1", LARGE, LOW, 0, &[0]);
    let free = f.place("machine2", LARGE, LOW, 0);
    match f.preempt(&pod(LARGE, HIGH), &[0]) {
        Outcome::Preempt(victims) => {
            assert_eq!((victims.node, victims.keys), (1, vec![free]));
        }
        other => panic!("{other:?}"),
    }
    // Both nodes violate: the violation is counted and the node still chosen.
    let mut g = fleet(&MACHINES[..1], VERY_LARGE);
    let guarded = g.place_budgeted("machine1", LARGE, LOW, 0, &[0]);
    match g.preempt(&pod(LARGE, HIGH), &[0]) {
        Outcome::Preempt(victims) => {
            assert_eq!(victims.keys, vec![guarded]);
            assert_eq!(victims.pdb_violations, 1);
        }
        other => panic!("{other:?}"),
    }
}

/// The PostFilter messages kube-scheduler appends (case 11 of the
/// reference cases, `No preemption victims…`, and `preemptionPolicy: Never`).
#[test]
fn the_post_filter_messages_are_kube_schedulers() {
    let mut f = fleet(&MACHINES, VERY_LARGE);
    for machine in MACHINES {
        f.place(machine, LARGE, HIGH, 0);
    }
    assert_eq!(
        f.preempt(&pod(LARGE, HIGH), &[]),
        Outcome::NotHelpful(
            "preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
                .into()
        )
    );
    let mut never = pod(LARGE, VERY_HIGH);
    never.preemption_policy = PreemptionPolicy::Never;
    assert_eq!(
        f.preempt(&never, &[]),
        Outcome::NotHelpful("preemption: not eligible due to preemptionPolicy=Never.".into())
    );
    // A request larger than a node's allocatable cannot be helped there.
    assert_eq!(
        f.preempt(&pod(("1", "100"), VERY_HIGH), &[]),
        Outcome::NotHelpful(
            "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
                .into()
        )
    );
}

#[test]
fn the_index_finds_only_nodes_below_a_priority() {
    let mut f = fleet(&MACHINES, VERY_LARGE);
    f.place("machine1", SMALL, HIGH, 0);
    let low = f.place("machine2", SMALL, LOW, 0);
    f.place("machine3", SMALL, MID, 0);
    assert_eq!(
        f.occupants.nodes_below(MID + 1),
        [1, 2].into_iter().collect()
    );
    f.occupants.remove(1, low);
    assert_eq!(f.occupants.nodes_below(MID), BTreeSet::new());
    assert_eq!(f.occupants.lowest(), Some(MID));
    assert_eq!(candidates_wanted(50), 50);
    assert_eq!(candidates_wanted(5000), 500);
}

const SIZES: [(&str, &str); 4] = [SMALL, MEDIUM, LARGE, VERY_LARGE];

proptest::proptest! {
    /// Verdicts kept up to date node by node (`refresh`) give what fresh
    /// ones give: `schedule_with` the placement or FitError of `schedule`,
    /// `preempt_with` the outcome of `preempt`, whatever was placed since.
    #[test]
    fn kept_verdicts_answer_as_fresh_ones(
        placed in proptest::collection::vec((0usize..3, 0usize..4, 0usize..3), 0..12),
        later in proptest::collection::vec((0usize..3, 0usize..4), 1..6),
        size in 0usize..4,
        priority in 0usize..3,
    ) {
        let priorities = [LOW, MID, HIGH];
        let mut f = fleet(&MACHINES, VERY_LARGE);
        for (node, size, priority) in placed {
            f.place(MACHINES[node], SIZES[size], priorities[priority], 0);
        }
        let scheduler = Scheduler::new(ScoringStrategy::LeastAllocated);
        let pending = pod(SIZES[size], priorities[priority]);
        let mut kept = scheduler.verdicts(&pending, &f.snapshot);
        for (node, size) in later {
            f.place(MACHINES[node], SIZES[size], LOW, 1);
            let node = f.snapshot.index_of(MACHINES[node]).unwrap();
            scheduler.refresh(&pending, &f.snapshot, &mut kept, &[node]);
            let fresh = scheduler.verdicts(&pending, &f.snapshot);
            proptest::prop_assert_eq!(kept.reasons(), fresh.reasons());
            proptest::prop_assert_eq!(
                scheduler.schedule_with(&pending, &f.snapshot, &kept),
                scheduler.schedule(&pending, &f.snapshot)
            );
            let mut snapshot = f.snapshot.clone();
            proptest::prop_assert_eq!(
                scheduler.preempt_with(&pending, &mut snapshot, &f.occupants, &[], &kept),
                scheduler.preempt(&pending, &mut f.snapshot.clone(), &f.occupants, &[])
            );
        }
    }
}
