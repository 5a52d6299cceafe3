use super::*;
// The loop's own placement honours every hard constraint.
use crate::analysis::fixtures::converged;
use crate::manifest::{ParseOptions, parse};
use crate::model::state::Phase;
use crate::sources::Source;

fn node(name: &str, zone: Option<&str>, extra_labels: &str) -> String {
    let zone = zone.map_or(String::new(), |z| {
        format!("    topology.kubernetes.io/zone: {z}\n")
    });
    format!(
        "apiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\n  labels:\n    kubernetes.io/hostname: {name}\n{zone}{extra_labels}status:\n  allocatable: {{cpu: \"8\", memory: 16Gi, pods: \"110\"}}\n---\n"
    )
}

fn api(replicas: i32, constraint: &str, pod_extra: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels: {{app: api}}\n  template:\n    metadata:\n      labels: {{app: api}}\n    spec:\n{pod_extra}      topologySpreadConstraints:\n{constraint}      containers:\n        - name: main\n          image: example/api:1\n          resources:\n            requests: {{cpu: 100m, memory: 64Mi}}\n"
    )
}

const ZONE_HARD: &str = "        - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: api}}}\n";

fn load(text: &str) -> Desired {
    let source = Source {
        name: "m.yaml".to_string(),
        text: text.to_string(),
    };
    parse(&[source], &ParseOptions::default())
        .unwrap_or_else(|d| panic!("{d:?}"))
        .desired
}

/// Move every replica on one node to another, as a rollout's
/// leftovers or a hand edit would leave them.
fn move_all(state: &mut State, from: &str, to: &str) {
    for replica in &mut state.replicas {
        if replica.node.as_deref() == Some(from) {
            replica.node = Some(to.into());
        }
    }
}

fn three_zones() -> String {
    [
        node("a1", Some("zone-a"), ""),
        node("b1", Some("zone-b"), ""),
        node("c1", Some("zone-c"), ""),
    ]
    .concat()
}

#[test]
fn a_balanced_state_has_no_finding() {
    let desired = load(&(three_zones() + &api(6, ZONE_HARD, "")));
    let state = converged(&desired);
    let per_node = |n: &str| {
        state
            .replicas
            .iter()
            .filter(|r| r.node.as_deref() == Some(n))
            .count()
    };
    assert_eq!((per_node("a1"), per_node("b1"), per_node("c1")), (2, 2, 2));
    assert_eq!(spread(&desired, &state, None), Vec::new());
}

#[test]
fn a_skewed_state_is_reported_with_every_domain() {
    let desired = load(&(three_zones() + &api(6, ZONE_HARD, "")));
    let mut state = converged(&desired);
    move_all(&mut state, "c1", "a1");
    let findings = spread(&desired, &state, None);
    assert_eq!(
        findings,
        vec![SpreadSkew {
            object: "Deployment/default/api".to_string(),
            topology_key: "topology.kubernetes.io/zone".to_string(),
            when_unsatisfiable: WhenUnsatisfiable::DoNotSchedule,
            max_skew: 1,
            skew: 4,
            domains: BTreeMap::from([
                ("zone-a".to_string(), 4),
                ("zone-b".to_string(), 2),
                ("zone-c".to_string(), 0),
            ]),
        }]
    );
    assert_eq!(
        findings[0].message(),
        "topology spread on topology.kubernetes.io/zone: skew 4 exceeds maxSkew 1 (zone-a 4, zone-b 2, zone-c 0)"
    );
}

/// The view a run ends on (`RunResult::settled`) audits as accounting the
/// state again does: a skewed state the loop leaves as it is (Kubernetes
/// does not rebalance) is found, with the same numbers, either way.
#[test]
fn the_view_a_run_ends_on_audits_as_the_state_does() {
    let desired = load(&(three_zones() + &api(6, ZONE_HARD, "")));
    let mut state = converged(&desired);
    move_all(&mut state, "c1", "a1");
    let scheduler =
        crate::scheduler::Scheduler::new(crate::scheduler::ScoringStrategy::LeastAllocated);
    let options = crate::executor::RunOptions::default();
    let result = crate::executor::run(&desired, &mut state, &scheduler, &options, |_, _| {
        Ok::<(), ()>(())
    })
    .expect("the loop runs");
    assert!(result.steps.is_empty());
    let settled = result
        .settled
        .as_ref()
        .expect("its last pass accounted the state");
    let findings = spread(&desired, &state, Some(settled));
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].skew, 4);
    assert_eq!(findings, spread(&desired, &state, None));
}

#[test]
fn terminating_replicas_do_not_count() {
    let desired = load(&(three_zones() + &api(6, ZONE_HARD, "")));
    let mut state = converged(&desired);
    move_all(&mut state, "c1", "a1");
    for replica in state
        .replicas
        .iter_mut()
        .filter(|r| r.node.as_deref() == Some("a1"))
        .take(2)
    {
        replica.phase = Phase::Terminating;
    }
    // zone-a 2, zone-b 2, zone-c 0: skew 2.
    let findings = spread(&desired, &state, None);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].skew, 2);
    assert_eq!(findings[0].domains["zone-a"], 2);
}

#[test]
fn domains_follow_the_scheduler_eligibility_rules() {
    // A node without the key and a node the pod's nodeSelector excludes
    // (nodeAffinityPolicy: Honor) are not domains; a tainted node is one
    // unless nodeTaintsPolicy is Honor.
    let fleet = [
        node("a1", Some("zone-a"), "    pool: main\n"),
        node("b1", Some("zone-b"), "    pool: main\n"),
        node("c1", Some("zone-c"), "    pool: other\n"),
        node("x1", None, "    pool: main\n"),
    ]
    .concat();
    let pod_extra = "      nodeSelector: {pool: main}\n";
    let desired = load(&(fleet.clone() + &api(4, ZONE_HARD, pod_extra)));
    let mut state = converged(&desired);
    assert_eq!(spread(&desired, &state, None), Vec::new());
    move_all(&mut state, "b1", "a1");
    let findings = spread(&desired, &state, None);
    assert_eq!(findings.len(), 1);
    assert_eq!(
        findings[0].domains,
        BTreeMap::from([("zone-a".to_string(), 4), ("zone-b".to_string(), 0)])
    );

    // minDomains above the number of domains: the global minimum is 0.
    let min_domains = "        - {maxSkew: 2, minDomains: 3, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: api}}}\n";
    let desired = load(&(fleet + &api(4, min_domains, pod_extra)));
    let mut state = converged(&desired);
    // Two domains with 2 replicas each; minDomains 3 makes the minimum 0, skew 2: within 2.
    assert_eq!(spread(&desired, &state, None), Vec::new());
    // zone-a 3, zone-b 1: skew 3 against the minimum of 0 (it would be 2 against 1).
    let moved = state
        .replicas
        .iter_mut()
        .find(|r| r.node.as_deref() == Some("b1"))
        .unwrap();
    moved.node = Some("a1".into());
    let findings = spread(&desired, &state, None);
    assert_eq!(findings.len(), 1);
    assert_eq!((findings[0].skew, findings[0].max_skew), (3, 2));
}

#[test]
fn soft_constraints_are_audited_and_named() {
    let soft = "        - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway, labelSelector: {matchLabels: {app: api}}}\n";
    let desired = load(&(three_zones() + &api(3, soft, "")));
    let mut state = converged(&desired);
    assert_eq!(spread(&desired, &state, None), Vec::new());
    move_all(&mut state, "b1", "a1");
    let findings = spread(&desired, &state, None);
    assert_eq!(findings.len(), 1);
    assert_eq!(
        findings[0].message(),
        "topology spread (ScheduleAnyway) on kubernetes.io/hostname: skew 2 exceeds maxSkew 1 (a1 2, b1 0, c1 1)"
    );
}

#[test]
fn workloads_with_different_node_selection_get_their_own_domains() {
    // `api` may only use pool main (zones a and b); `web` may use every
    // zone. Both end with every replica in zone-a.
    let fleet = [
        node("a1", Some("zone-a"), "    pool: main\n"),
        node("b1", Some("zone-b"), "    pool: main\n"),
        node("c1", Some("zone-c"), "    pool: other\n"),
    ]
    .concat();
    let web = api(3, ZONE_HARD, "")
        .replace("name: api", "name: web")
        .replace("app: api", "app: web");
    let desired =
        load(&(fleet + &api(2, ZONE_HARD, "      nodeSelector: {pool: main}\n") + "---\n" + &web));
    let mut state = converged(&desired);
    assert_eq!(spread(&desired, &state, None), Vec::new());
    move_all(&mut state, "b1", "a1");
    move_all(&mut state, "c1", "a1");
    let findings: Vec<(String, BTreeMap<String, i64>)> = spread(&desired, &state, None)
        .into_iter()
        .map(|f| (f.object, f.domains))
        .collect();
    assert_eq!(
        findings,
        vec![
            (
                "Deployment/default/api".to_string(),
                BTreeMap::from([("zone-a".to_string(), 2), ("zone-b".to_string(), 0)])
            ),
            (
                "Deployment/default/web".to_string(),
                BTreeMap::from([
                    ("zone-a".to_string(), 3),
                    ("zone-b".to_string(), 0),
                    ("zone-c".to_string(), 0)
                ])
            ),
        ]
    );
}
