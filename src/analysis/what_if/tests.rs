use super::super::fixtures::{DAEMONSET, deployment, desired, node};
use super::*;
use crate::scheduler::ScoringStrategy;

const PDB: &str = "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: web\nspec:\n  minAvailable: 2\n  selector:\n    matchLabels: {app: web}\n---\n";

fn fleet() -> String {
    // Two zones: a has two nodes, b one.
    format!(
        "{}{}{}",
        node("a1", "a", "4"),
        node("a2", "a", "4"),
        node("b1", "b", "4")
    )
}

fn base(text: &str, scale: &[(ObjectRef, i32)], added: &[String]) -> (Base, Scheduler) {
    let scheduler = Scheduler::new(ScoringStrategy::LeastAllocated);
    let base = prepare(
        &desired(text),
        State::default(),
        added,
        scale,
        &scheduler,
        &RunOptions::default(),
    )
    .unwrap();
    (base, scheduler)
}

fn impact<'a>(report: &'a Report, name: &str) -> &'a WorkloadImpact {
    report
        .workloads
        .iter()
        .find(|w| w.object.ends_with(&format!("/{name}")))
        .unwrap()
}

#[test]
fn a_failed_node_loses_its_replicas_and_they_are_placed_elsewhere() {
    let text = format!(
        "{}{}{PDB}{DAEMONSET}",
        fleet(),
        deployment("web", 3, "1", "")
    );
    let (base, scheduler) = base(&text, &[], &[]);
    let where_web: BTreeMap<String, i32> =
        base.state
            .replicas
            .iter()
            .fold(BTreeMap::new(), |mut counts, r| {
                if &*r.workload.name == "web" {
                    *counts
                        .entry(r.node.as_deref().unwrap().to_string())
                        .or_insert(0) += 1;
                }
                counts
            });
    // The system default spreading puts one on each node.
    assert_eq!(where_web.values().copied().collect::<Vec<_>>(), [1, 1, 1]);
    let report = scenario(
        &base,
        &["b1".to_string()],
        &scheduler,
        &RunOptions::default(),
    );
    let web = impact(&report, "web");
    assert_eq!(
        (web.desired, web.lost, web.placed, web.pending),
        (3, 1, 1, 0)
    );
    assert_eq!(
        (
            web.available_before,
            web.available_lowest,
            web.available_after
        ),
        (3, 2, 3)
    );
    assert_eq!(web.health, Health::Available);
    // Evicted after the default 300 s not-ready toleration, then replaced.
    assert!(report.clock >= report.failed_at + 300, "{report:?}");
    let agent = impact(&report, "agent");
    assert_eq!(
        (
            agent.desired,
            agent.lost,
            agent.on_failed_nodes,
            agent.available_after
        ),
        (3, 1, 1, 2)
    );
    assert_eq!(agent.health, Health::Available);
    assert_eq!(report.budgets[0].healthy_after, 3);
    assert!(report.budgets[0].holds);
    assert!(report.resilient());
    // The base is untouched: the next scenario starts from the same cluster.
    assert!(base.state.nodes.iter().all(|n| n.ready));
}

#[test]
fn a_failed_zone_without_room_leaves_replicas_pending_with_the_reason() {
    // 3 cpu per replica: one per node, so losing zone a leaves two pending.
    let text = format!("{}{}{PDB}", fleet(), deployment("web", 3, "3", ""));
    let (base, scheduler) = base(&text, &[], &[]);
    let failed = failures(&base.state, &[], &["a".to_string()]).unwrap();
    assert_eq!(failed, ["a1", "a2"]);
    let report = scenario(&base, &failed, &scheduler, &RunOptions::default());
    let web = impact(&report, "web");
    assert_eq!((web.lost, web.placed, web.pending), (2, 0, 2));
    assert_eq!(web.available_after, 1);
    assert_eq!(web.health, Health::Degraded);
    assert_eq!(
        web.reason.as_deref(),
        Some(
            "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {node.kubernetes.io/not-ready: }. no new claims to deallocate, preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling."
        )
    );
    let budget = &report.budgets[0];
    assert_eq!(
        (
            budget.healthy_before,
            budget.healthy_after,
            budget.desired_healthy
        ),
        (3, 1, 2)
    );
    assert!(!budget.holds);
    assert!(!report.resilient());
}

#[test]
fn an_added_node_joins_a_fleet_the_manifests_do_not_declare() {
    // The fleet was applied before; this -f set declares workloads only.
    let (applied, scheduler) = base(
        &format!("{}{}", fleet(), deployment("web", 3, "3", "")),
        &[],
        &[],
    );
    let workloads_only = deployment("web", 3, "3", "");
    let grown = format!("{workloads_only}{}", node("c1", "c", "4"));
    let web = ObjectRef::new(crate::model::workload::Kind::Deployment, "default", "web");
    let base = prepare(
        &desired(&grown),
        applied.state.clone(),
        &["c1".to_string()],
        &[(web, 4)],
        &scheduler,
        &RunOptions::default(),
    )
    .unwrap();
    let names: Vec<&str> = base.state.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["a1", "a2", "b1", "c1"]);
    let report = scenario(&base, &[], &scheduler, &RunOptions::default());
    assert!(report.resilient(), "{report:?}");
}

#[test]
fn unknown_nodes_and_zones_are_refused_with_what_exists() {
    let (base, _) = base(&fleet(), &[], &[]);
    assert_eq!(
        failures(&base.state, &["zz".to_string()], &[])
            .unwrap_err()
            .to_string(),
        "node zz not found (nodes: a1, a2, b1)"
    );
    assert_eq!(
        failures(&base.state, &[], &["c".to_string()])
            .unwrap_err()
            .to_string(),
        "no node in zone c (topology.kubernetes.io/zone values: a, b)"
    );
    assert_eq!(zones(&base.state), ["a", "b"]);
}

#[test]
fn scaling_past_the_fleet_leaves_the_rest_pending_and_added_nodes_make_room() {
    let web = ObjectRef::new(crate::model::workload::Kind::Deployment, "default", "web");
    let text = format!("{}{}", fleet(), deployment("web", 3, "3", ""));
    let (scaled, scheduler) = base(&text, &[(web.clone(), 5)], &[]);
    let report = scenario(&scaled, &[], &scheduler, &RunOptions::default());
    let impact_web = impact(&report, "web");
    assert_eq!(
        (impact_web.desired, impact_web.placed, impact_web.pending),
        (5, 0, 2)
    );
    assert_eq!(
        impact_web.reason.as_deref(),
        Some(
            "0/3 nodes are available: 3 Insufficient cpu. no new claims to deallocate, preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
        )
    );
    assert_eq!(scaled.scale[0].from, 3);
    // With two more nodes (declared beside the fleet), all five run.
    let grown = format!("{text}{}{}", node("c1", "c", "4"), node("c2", "c", "4"));
    let added = ["c1".to_string(), "c2".to_string()];
    let (base, scheduler) = base(&grown, &[(web, 5)], &added);
    assert_eq!(base.before[0].desired, 3, "the baseline has no added node");
    let report = scenario(&base, &[], &scheduler, &RunOptions::default());
    let impact_web = impact(&report, "web");
    assert_eq!((impact_web.placed, impact_web.pending), (2, 0));
    assert!(report.resilient());
}

/// Every single-node and single-zone failure, shared and alone: the same reports.
#[test]
fn shared_scenarios_report_what_each_scenario_alone_does() {
    let spread = "      topologySpreadConstraints:\n        - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: spread}}}\n";
    let text = format!(
        "{}{}{}{}{}{DAEMONSET}",
        fleet(),
        node("b2", "b", "4"),
        deployment("web", 3, "1", ""),
        deployment("big", 2, "2", ""),
        deployment("spread", 4, "500m", spread),
    );
    let (base, scheduler) = base(&text, &[], &[]);
    let options = RunOptions::default();
    let shared = Shared::new(&base, &scheduler, &options);
    assert_eq!(shared.shared(), Ok(()));
    let mut scenarios: Vec<Vec<String>> = base
        .state
        .nodes
        .iter()
        .map(|n| vec![n.name.clone()])
        .collect();
    scenarios.extend(
        zones(&base.state)
            .iter()
            .map(|z| nodes_in_zone(&base.state, z)),
    );
    scenarios.push(Vec::new());
    for failed in &scenarios {
        let alone = scenario(&base, failed, &scheduler, &options);
        assert_eq!(shared.scenario(failed), alone, "{failed:?}");
    }
    // A disruption budget is read across workloads: each scenario runs alone.
    let (budgeted, scheduler) = super::tests::base(&format!("{text}{PDB}"), &[], &[]);
    assert_eq!(
        Shared::new(&budgeted, &scheduler, &options).shared(),
        Err("disruption budgets")
    );
}
