//! The DaemonSet controller's tables from `pkg/controller/daemon/update_test.go`:
//! each upstream `expectSyncDaemonSets(creates, deletes)` is one `sync` here,
//! with the fake pod control's effect (created pods appear unready, deleted
//! ones vanish) and `markPodsReady` / `setPodReadiness` between syncs.

use super::*;
use crate::model::workload::IntOrPercent::Int;

#[derive(Debug, Clone)]
struct SimPod {
    name: String,
    template: u32,
    ready_at: Option<u64>,
    created_at: u64,
}

/// A fleet of nodes that all want the daemon pod, and the clock.
struct Fleet {
    nodes: Vec<Vec<SimPod>>,
    template: u32,
    min_ready_seconds: u64,
    now: u64,
    made: usize,
}

impl Fleet {
    fn new(nodes: usize) -> Fleet {
        Fleet {
            nodes: vec![Vec::new(); nodes],
            template: 1,
            min_ready_seconds: 0,
            now: 0,
            made: 0,
        }
    }

    /// One sync; returns (creates, deletes) as `expectSyncDaemonSets` counts them.
    fn sync(&mut self, strategy: &Strategy) -> (usize, usize) {
        let views: Vec<Node> = self
            .nodes
            .iter()
            .map(|pods| Node {
                should_run: true,
                should_continue_running: true,
                pods: pods
                    .iter()
                    .map(|p| Pod {
                        name: &p.name,
                        updated: p.template == self.template,
                        ready: p.ready_at.is_some(),
                        available: p.ready_at.is_some_and(|at| {
                            self.min_ready_seconds == 0 || at + self.min_ready_seconds < self.now
                        }),
                        scheduled: true,
                        created_at: p.created_at,
                    })
                    .collect(),
            })
            .collect();
        let decisions = sync(strategy, &views);
        drop(views);
        let mut deleted: Vec<(usize, usize)> =
            decisions.delete.iter().map(|&(i, j, _)| (i, j)).collect();
        deleted.sort_unstable();
        deleted.dedup();
        for &(i, j) in deleted.iter().rev() {
            self.nodes[i].remove(j);
        }
        for &i in &decisions.create {
            self.made += 1;
            self.nodes[i].push(SimPod {
                name: format!("pod-{:03}", self.made),
                template: self.template,
                ready_at: None,
                created_at: self.now,
            });
        }
        (decisions.create.len(), deleted.len())
    }

    /// `markPodsReady`: every pod ready now.
    fn mark_ready(&mut self) {
        let now = self.now;
        for pod in self.nodes.iter_mut().flatten() {
            pod.ready_at.get_or_insert(now);
        }
    }

    /// `setPodReadiness(ready, count, filter)`, pods in node order.
    fn set_readiness(
        &mut self,
        ready: bool,
        count: usize,
        filter: impl Fn(&SimPod, &[SimPod]) -> bool,
    ) {
        let now = self.now;
        let mut left = count;
        for i in 0..self.nodes.len() {
            for j in 0..self.nodes[i].len() {
                let pod = &self.nodes[i][j];
                if left == 0 || pod.ready_at.is_some() == ready || !filter(pod, &self.nodes[i]) {
                    continue;
                }
                self.nodes[i][j].ready_at = ready.then_some(now);
                left -= 1;
            }
        }
        assert_eq!(left, 0, "could not mark {count} pods ready={ready}");
    }
}

fn unavailable(n: i32) -> Strategy {
    Strategy::RollingUpdate {
        max_surge: Int(0),
        max_unavailable: Int(n),
    }
}

/// `newUpdateSurge`: maxUnavailable 0.
fn surge(n: i32) -> Strategy {
    Strategy::RollingUpdate {
        max_surge: Int(n),
        max_unavailable: Int(0),
    }
}

/// TestDaemonSetUpdatesPods: maxUnavailable 2 on 5 nodes.
#[test]
fn updates_pods_within_max_unavailable() {
    let mut fleet = Fleet::new(5);
    let strategy = unavailable(2);
    assert_eq!(fleet.sync(&strategy), (5, 0));
    fleet.mark_ready();
    fleet.template = 2;
    for expected in [(0, 2), (2, 0)] {
        assert_eq!(fleet.sync(&strategy), expected);
    }
    fleet.mark_ready();
    for expected in [(0, 2), (2, 0)] {
        assert_eq!(fleet.sync(&strategy), expected);
    }
    fleet.mark_ready();
    for expected in [(0, 1), (1, 0)] {
        assert_eq!(fleet.sync(&strategy), expected);
    }
    fleet.mark_ready();
    assert_eq!(fleet.sync(&strategy), (0, 0));
}

/// TestDaemonSetUpdatesPodsWithMaxSurge: maxSurge 2 on 5 nodes.
#[test]
fn updates_pods_within_max_surge() {
    let mut fleet = Fleet::new(5);
    assert_eq!(fleet.sync(&surge(2)), (5, 0));
    fleet.mark_ready();
    fleet.template = 2;
    let strategy = surge(2);
    for expected in [(2, 0), (0, 0)] {
        assert_eq!(fleet.sync(&strategy), expected);
    }
    fleet.mark_ready();
    for expected in [(2, 2), (0, 0)] {
        assert_eq!(fleet.sync(&strategy), expected);
    }
    fleet.mark_ready();
    for expected in [(1, 2), (0, 0)] {
        assert_eq!(fleet.sync(&strategy), expected);
    }
    fleet.mark_ready();
    for expected in [(0, 1), (0, 0)] {
        assert_eq!(fleet.sync(&strategy), expected);
    }
}

/// TestDaemonSetUpdatesWhenNewPodIsNotReady: new pods that never get ready
/// hold the rollout at maxUnavailable 3.
#[test]
fn new_pods_not_ready_hold_the_rollout() {
    let mut fleet = Fleet::new(5);
    let strategy = unavailable(3);
    assert_eq!(fleet.sync(&strategy), (5, 0));
    fleet.mark_ready();
    fleet.template = 2;
    for expected in [(0, 3), (3, 0), (0, 0)] {
        assert_eq!(fleet.sync(&strategy), expected);
    }
}

/// TestDaemonSetUpdatesAllOldPodsNotReady: old pods that are not available
/// are all replaced at once.
#[test]
fn all_old_pods_not_ready_are_replaced_at_once() {
    let mut fleet = Fleet::new(5);
    let strategy = unavailable(3);
    assert_eq!(fleet.sync(&strategy), (5, 0));
    fleet.template = 2;
    for expected in [(0, 5), (5, 0), (0, 0)] {
        assert_eq!(fleet.sync(&strategy), expected);
    }
}

/// TestDaemonSetUpdatesSomeOldPodsNotReady: a second template while the
/// first's pods are not ready replaces those, and the three available old
/// pods stay (the unavailable old pods count against maxUnavailable 2).
#[test]
fn unavailable_old_pods_count_against_max_unavailable() {
    let mut fleet = Fleet::new(5);
    let strategy = unavailable(2);
    assert_eq!(fleet.sync(&strategy), (5, 0));
    fleet.mark_ready();
    fleet.template = 2;
    for expected in [(0, 2), (2, 0), (0, 0)] {
        assert_eq!(fleet.sync(&strategy), expected);
    }
    fleet.template = 3;
    for expected in [(0, 2), (2, 0), (0, 0)] {
        assert_eq!(fleet.sync(&strategy), expected);
    }
    let ready = fleet
        .nodes
        .iter()
        .flatten()
        .filter(|p| p.ready_at.is_some())
        .count();
    assert_eq!(ready, 3);
}

/// Issue 21, case 6, against Kubernetes 1.34: 4 nodes, maxUnavailable 1,
/// one old pod crashed. Since kubernetes#123233 (v1.31) the crashed pod is
/// replaced *and* charged to the budget, so it alone goes; the "2"
/// is the pre-1.31 controller.
#[test]
fn a_crashed_old_pod_uses_the_unavailability_budget() {
    let mut fleet = Fleet::new(4);
    let strategy = unavailable(1);
    assert_eq!(fleet.sync(&strategy), (4, 0));
    fleet.mark_ready();
    fleet.nodes[2][0].ready_at = None;
    fleet.template = 2;
    assert_eq!(fleet.sync(&strategy), (0, 1));
    assert!(fleet.nodes[2].is_empty(), "the crashed pod goes first");
}

/// TestDaemonSetUpdatesAllOldPodsNotReadyMaxSurge (issue 21, case 5): with
/// maxSurge, a new pod starts beside every unavailable old pod, beyond
/// maxSurge, and the old pod goes on the next sync (it is not ready); then,
/// with minReadySeconds 15, surge pods wait to be available before the old
/// ones go.
#[test]
fn unavailable_old_pods_are_surged_beyond_max_surge() {
    let mut fleet = Fleet::new(5);
    assert_eq!(fleet.sync(&surge(3)), (5, 0));
    let strategy = surge(3);
    fleet.template = 2;
    fleet.now = 100;
    assert_eq!(fleet.sync(&strategy), (5, 0));
    fleet.now = 200;
    assert_eq!(fleet.sync(&strategy), (0, 5));
    fleet.set_readiness(true, 5, |_, _| true);
    fleet.min_ready_seconds = 15;
    fleet.template = 3;
    fleet.now = 300;
    assert_eq!(fleet.sync(&strategy), (3, 0));
    // Two updated pods ready at 300; one old pod on a node without an
    // updated pod not ready.
    fleet.set_readiness(true, 2, |p, _| p.template == 3);
    fleet.set_readiness(false, 1, |p, node| {
        p.template != 3 && node.iter().all(|q| q.template != 3)
    });
    fleet.now = 310;
    assert_eq!(fleet.sync(&strategy), (1, 0));
    fleet.now = 320;
    assert_eq!(fleet.sync(&strategy), (1, 3));
    fleet.set_readiness(true, 3, |p, _| p.template == 3);
    fleet.now = 340;
    assert_eq!(fleet.sync(&strategy), (0, 2));
    fleet.now = 350;
    assert_eq!(fleet.sync(&strategy), (0, 0));
}

/// TestDaemonSetUpdatesNoTemplateChanged.
#[test]
fn no_template_change_touches_nothing() {
    let mut fleet = Fleet::new(5);
    let strategy = unavailable(3);
    assert_eq!(fleet.sync(&strategy), (5, 0));
    assert_eq!(fleet.sync(&strategy), (0, 0));
}

/// kubernetes#119317 (TestDaemonSetUpdatesPodsNotMatchTainstWithMaxSurge's
/// rule): with maxSurge, the old pod of a node that may keep but no longer
/// start a daemon pod (an untolerated NoSchedule taint) goes only while more
/// nodes are served than want a pod.
#[test]
fn a_sunset_node_keeps_its_old_pod_until_the_others_are_served() {
    let pod = |name, available| Pod {
        name,
        updated: false,
        ready: available,
        available,
        scheduled: true,
        created_at: 0,
    };
    let node = |should_run, pod| Node {
        should_run,
        should_continue_running: true,
        pods: vec![pod],
    };
    let served = [
        node(false, pod("a", true)),
        node(true, pod("b", true)),
        node(true, pod("c", true)),
    ];
    let decisions = sync(&surge(1), &served);
    assert_eq!(decisions.delete, [(0, 0, Removal::Replaced)]);
    assert_eq!(decisions.create, [1]);
    let short = [
        node(false, pod("a", true)),
        node(true, pod("b", false)),
        node(true, pod("c", true)),
    ];
    let decisions = sync(&surge(1), &short);
    assert_eq!(decisions.delete, []);
    // The unavailable old pod is surged over at once; "c" waits its turn.
    assert_eq!(decisions.create, [1, 2]);
}
