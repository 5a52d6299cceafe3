//! Priorities and preemption: PriorityClasses admitted as the API server
//! admits them, the queue's priority order, and DefaultPreemption end to
//! end with the real binary; and a differential property: a plain model of
//! kube-scheduler's `SelectVictimsOnNode` and `pickOneNodeForPreemption`
//! (written from `default_preemption.go` and `preemption.go`) against
//! orch's preemption on random small fleets.

use crate::common::Cluster;
use orch::model::resources::Allocatable;
use orch::model::state::{NodeSource, NodeState};
use orch::scheduler::preemption::{Occupant, Occupants, Outcome};
use orch::scheduler::snapshot::Snapshot;
use orch::scheduler::{Scheduler, ScoringStrategy};
use proptest::prelude::*;
use std::sync::Arc;

const NODES: &str = "apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Node, metadata: {name: n1}, status: {allocatable: {cpu: \"2\", memory: 4Gi, pods: \"110\"}}}
- {apiVersion: v1, kind: Node, metadata: {name: n2}, status: {allocatable: {cpu: \"2\", memory: 4Gi, pods: \"110\"}}}
- {apiVersion: v1, kind: Node, metadata: {name: n3}, status: {allocatable: {cpu: \"2\", memory: 4Gi, pods: \"110\"}}}
";

const CLASSES: &str = "apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: low}
value: 100
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high}
value: 1000
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: polite}
value: 5000
preemptionPolicy: Never
";

fn deployment(name: &str, replicas: u32, class: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      priorityClassName: {class}
      containers: [{{name: c, resources: {{requests: {{cpu: \"1\"}}}}}}]
"
    )
}

fn full_fleet() -> Cluster {
    let cluster = Cluster::new();
    cluster.write("nodes.yaml", NODES);
    cluster.write("classes.yaml", CLASSES);
    cluster.write("batch.yaml", &deployment("batch", 6, "low"));
    cluster
        .run(&[
            "apply",
            "-f",
            "nodes.yaml",
            "-f",
            "classes.yaml",
            "-f",
            "batch.yaml",
            "-q",
        ])
        .success();
    cluster
}

const SUFFIXED: &str = "0/3 nodes are available: 3 Insufficient cpu. no new claims to deallocate, preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.";

#[test]
fn a_high_priority_deployment_preempts_a_low_priority_one_on_a_full_fleet() {
    let cluster = full_fleet();
    cluster.write("api.yaml", &deployment("api", 2, "high"));
    let all = [
        "apply",
        "-f",
        "nodes.yaml",
        "-f",
        "classes.yaml",
        "-f",
        "batch.yaml",
        "-f",
        "api.yaml",
    ];
    let output = cluster
        .orch()
        .args(all)
        .args(["-o", "json"])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(3),
        "the victims' replacements stay Pending"
    );
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let text = doc.to_string();
    assert!(text.contains("\"op\":\"preempt\""), "{text}");
    let replicas = cluster.replicas();
    let api: Vec<_> = replicas
        .iter()
        .filter(|r| r["workload"] == "Deployment/default/api")
        .collect();
    assert_eq!(api.len(), 2);
    assert!(
        api.iter()
            .all(|r| r["phase"] == "Running" && r["priority"] == 1000)
    );
    let pending: Vec<_> = replicas
        .iter()
        .filter(|r| r["phase"] == "Pending")
        .collect();
    assert_eq!(pending.len(), 2, "{replicas:?}");
    for replica in &pending {
        assert_eq!(replica["workload"], "Deployment/default/batch");
        assert_eq!(replica["reason"], SUFFIXED);
        assert_eq!(replica["priority"], 100);
    }
    cluster
        .run(&["get", "events"])
        .success()
        .stdout(predicates::str::contains("Preempted"))
        .stdout(predicates::str::contains("Preempted by pod default/api-"));
    // Converged as far as it can go: a second apply preempts nothing more.
    let again = cluster.orch().args(all).output().unwrap();
    assert_eq!(again.status.code(), Some(3));
    assert!(!String::from_utf8_lossy(&again.stdout).contains("- preempt "));
}

#[test]
fn preemption_policy_never_waits_pending() {
    let cluster = full_fleet();
    cluster.write("polite.yaml", &deployment("polite", 1, "polite"));
    cluster
        .run(&[
            "apply",
            "-f",
            "nodes.yaml",
            "-f",
            "classes.yaml",
            "-f",
            "batch.yaml",
            "-f",
            "polite.yaml",
        ])
        .code(3);
    let replicas = cluster.replicas();
    let polite = replicas
        .iter()
        .find(|r| r["workload"] == "Deployment/default/polite")
        .unwrap();
    assert_eq!(polite["phase"], "Pending");
    assert_eq!(
        polite["reason"],
        "0/3 nodes are available: 3 Insufficient cpu. no new claims to deallocate, preemption: not eligible due to preemptionPolicy=Never."
    );
    assert_eq!(
        replicas.iter().filter(|r| r["phase"] == "Running").count(),
        6,
        "nothing was preempted"
    );
}

#[test]
fn pending_replicas_are_scheduled_highest_priority_first() {
    // Room for two replicas; the high-priority ones are placed first even
    // though the low-priority Deployment sorts first by name.
    let cluster = Cluster::new();
    cluster.write(
        "nodes.yaml",
        "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nstatus: {allocatable: {cpu: \"2\", memory: 4Gi, pods: \"110\"}}\n",
    );
    cluster.write("classes.yaml", CLASSES);
    cluster.write("a.yaml", &deployment("a-low", 2, "low"));
    cluster.write("b.yaml", &deployment("b-high", 2, "high"));
    cluster.run(&["apply", "-f", "."]).code(3);
    let running: Vec<String> = cluster
        .replicas()
        .iter()
        .filter(|r| r["phase"] == "Running")
        .map(|r| r["workload"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(running, vec!["Deployment/default/b-high"; 2]);
}

/// Each case: exit 1, located, the state untouched.
#[test]
fn bad_priorities_are_refused_located_and_change_nothing() {
    let cluster = full_fleet();
    let before = cluster.state_bytes();
    let cases: [(&str, String, &str); 7] = [
        (
            "unknown class",
            deployment("api", 1, "urgent"),
            "x.yaml:10:26: spec.template.spec.priorityClassName: Forbidden: no PriorityClass with name urgent was found",
        ),
        (
            "value above the user range",
            "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: huge}\nvalue: 1000000001\n".into(),
            "x.yaml:4:8: value: Forbidden: maximum allowed value of a user defined priority is 1000000000",
        ),
        (
            "value outside int32",
            "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: tiny}\nvalue: -3000000000\n".into(),
            "x.yaml:4:8",
        ),
        (
            "reserved name",
            "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: system-mine}\nvalue: 10\n".into(),
            "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class",
        ),
        (
            "two global defaults",
            "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: d1}\nvalue: 10\nglobalDefault: true\n---\napiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: d2}\nvalue: 20\nglobalDefault: true\n".into(),
            "x.yaml:11:16: globalDefault: Forbidden: PriorityClass d1 is already marked as default. Only one default can exist",
        ),
        (
            "a priority that differs from the class",
            deployment("api", 1, "low").replace("      priorityClassName: low\n", "      priorityClassName: low\n      priority: 7\n"),
            "spec.template.spec.priority: Forbidden: the integer value of priority (7) must not be provided in pod spec; priority admission controller computed 100 from the given PriorityClass name",
        ),
        (
            "a preemption policy that differs from the class",
            deployment("api", 1, "low").replace("      priorityClassName: low\n", "      priorityClassName: low\n      preemptionPolicy: Never\n"),
            "spec.template.spec.preemptionPolicy: Forbidden: the string value of PreemptionPolicy (Never) must not be provided in pod spec; priority admission controller computed PreemptLowerPriority from the given PriorityClass name",
        ),
    ];
    for (what, text, expected) in cases {
        cluster.write("x.yaml", &text);
        let output = cluster
            .orch()
            .args([
                "apply",
                "-f",
                "nodes.yaml",
                "-f",
                "classes.yaml",
                "-f",
                "x.yaml",
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{what}: {stderr}");
        assert!(stderr.contains(expected), "{what}: {stderr}");
        assert_eq!(cluster.state_bytes(), before, "{what}: the state changed");
    }
}

// ---- The differential property ----

/// One pod of a random fleet: (cpu millicores, priority, start, guarded by the budget).
type Pod = (i64, i32, u64, bool);

/// kube-scheduler's SelectVictimsOnNode for a pod that needs `cpu`, on a
/// node of `capacity` holding `pods`, with `allowed` disruptions left;
/// returns the victims' positions (most important first) and the PDB
/// violations, or None when the node is no candidate.
fn model_select_victims(
    capacity: i64,
    pods: &[Pod],
    cpu: i64,
    priority: i32,
    allowed: i32,
) -> Option<(Vec<usize>, usize)> {
    let mut potential: Vec<usize> = (0..pods.len()).filter(|&i| pods[i].1 < priority).collect();
    if potential.is_empty() {
        return None;
    }
    let mut used: i64 = pods.iter().map(|p| p.0).sum();
    for &i in &potential {
        used -= pods[i].0;
    }
    if used + cpu > capacity {
        return None;
    }
    // MoreImportantPod: priority descending, then earlier start.
    potential.sort_by(|&a, &b| (pods[b].1, pods[a].2, a).cmp(&(pods[a].1, pods[b].2, b)));
    let mut left = allowed;
    let (mut violating, mut other) = (Vec::new(), Vec::new());
    for i in potential {
        let mut violated = false;
        if pods[i].3 {
            left -= 1;
            violated = left < 0;
        }
        if violated {
            violating.push(i)
        } else {
            other.push(i)
        }
    }
    let both = !violating.is_empty() && !other.is_empty();
    let mut victims = Vec::new();
    let mut violations = 0;
    for (group, counts) in [(violating, true), (other, false)] {
        for i in group {
            if used + pods[i].0 + cpu <= capacity {
                used += pods[i].0;
            } else {
                victims.push(i);
                violations += usize::from(counts);
            }
        }
    }
    if both {
        victims.sort_by(|&a, &b| (pods[b].1, pods[a].2, a).cmp(&(pods[a].1, pods[b].2, b)));
    }
    Some((victims, violations))
}

/// pickOneNodeForPreemption over (node, victims, violations), non-violating first.
fn model_pick(candidates: &[(usize, Vec<usize>, usize)], pods: &[Vec<Pod>]) -> Option<usize> {
    let mut order: Vec<&(usize, Vec<usize>, usize)> =
        candidates.iter().filter(|c| c.2 == 0).collect();
    order.extend(candidates.iter().filter(|c| c.2 != 0));
    let score = |c: &(usize, Vec<usize>, usize), k: usize| -> i64 {
        let victims: Vec<&Pod> = c.1.iter().map(|&i| &pods[c.0][i]).collect();
        match k {
            0 => -(c.2 as i64),
            1 => -i64::from(victims[0].1),
            2 => -victims
                .iter()
                .map(|p| i64::from(p.1) + i64::from(i32::MAX) + 1)
                .sum::<i64>(),
            3 => -(victims.len() as i64),
            _ => {
                let top = victims.iter().map(|p| p.1).max().unwrap();
                victims
                    .iter()
                    .filter(|p| p.1 == top)
                    .map(|p| p.2)
                    .min()
                    .unwrap() as i64
            }
        }
    };
    let mut remaining = order;
    for k in 0..5 {
        if remaining.len() <= 1 {
            break;
        }
        let best = remaining.iter().map(|c| score(c, k)).max().unwrap();
        remaining.retain(|c| score(c, k) == best);
    }
    remaining.first().map(|c| c.0)
}

fn fleet_strategy() -> impl Strategy<Value = (Vec<(i64, Vec<Pod>)>, i64, i32, i32)> {
    let pod = (
        1i64..8,
        prop::sample::select(vec![-100, 0, 100, 1000]),
        0u64..4,
        any::<bool>(),
    )
        .prop_map(|(cpu, priority, start, guarded)| (cpu * 250, priority, start, guarded));
    let node = (4i64..9).prop_flat_map(move |quarters| {
        (
            Just(quarters * 250),
            prop::collection::vec(pod.clone(), 0..6),
        )
    });
    (
        prop::collection::vec(node, 1..5),
        (1i64..9).prop_map(|c| c * 250),
        prop::sample::select(vec![0, 100, 1000, 5000]),
        0i32..3,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn preemption_chooses_as_kube_scheduler(
        (fleet, cpu, priority, allowed) in fleet_strategy(),
    ) {
        // Keep only pods that fit their node (a real node is never over).
        let fleet: Vec<(i64, Vec<Pod>)> = fleet
            .into_iter()
            .map(|(capacity, pods)| {
                let mut used = 0;
                let pods = pods.into_iter().filter(|p| { used += p.0; used <= capacity }).collect();
                (capacity, pods)
            })
            .collect();
        let nodes: Vec<NodeState> = fleet
            .iter()
            .enumerate()
            .map(|(i, (capacity, _))| {
                let mut allocatable = Allocatable::default();
                allocatable.resources.set("cpu", *capacity);
                allocatable.resources.set("memory", 1 << 40);
                allocatable.pods = 110;
                NodeState {
                    name: format!("node-{i}"),
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
        let mut snapshot = Snapshot::new(&nodes);
        let mut occupants = Occupants::new(nodes.len());
        let make = |cpu: i64, priority: i32| {
            let template = serde_json::json!({"spec": {"containers": [{"name": "c",
                "resources": {"requests": {"cpu": format!("{cpu}m"), "memory": "1"}}}]}});
            let mut pod = orch::manifest::pod_spec_from_template("default", &template).unwrap();
            pod.priority = priority;
            pod
        };
        let mut key = 0;
        let mut keys: Vec<Vec<usize>> = Vec::new();
        for (n, (_, pods)) in fleet.iter().enumerate() {
            keys.push(Vec::new());
            for p in pods {
                let pod = Arc::new(make(p.0, p.1));
                snapshot.assume(n, &pod);
                occupants.add(n, Occupant {
                    key,
                    priority: p.1,
                    start: p.2,
                    pod,
                    budgets: if p.3 { vec![0] } else { vec![] },
                });
                keys[n].push(key);
                key += 1;
            }
        }
        let scheduler = Scheduler::new(ScoringStrategy::LeastAllocated);
        let preemptor = make(cpu, priority);
        prop_assume!(scheduler.schedule(&preemptor, &snapshot).is_err());
        // The one budget spans nodes: the model counts it per node, as
        // kube-scheduler's dry run does (each node from the budget's status).
        let candidates: Vec<(usize, Vec<usize>, usize)> = fleet
            .iter()
            .enumerate()
            .filter(|(_, (capacity, _))| cpu <= *capacity)
            .filter_map(|(n, (capacity, pods))| {
                model_select_victims(*capacity, pods, cpu, priority, allowed)
                    .map(|(victims, violations)| (n, victims, violations))
            })
            .collect();
        let pods: Vec<Vec<Pod>> = fleet.iter().map(|(_, p)| p.clone()).collect();
        let expected = model_pick(&candidates, &pods).map(|n| {
            let victims = &candidates.iter().find(|c| c.0 == n).unwrap().1;
            (n, victims.iter().map(|&i| keys[n][i]).collect::<Vec<_>>())
        });
        let actual = match scheduler.preempt(&preemptor, &mut snapshot, &occupants, &[allowed]) {
            Outcome::Preempt(victims) => Some((victims.node, victims.keys)),
            Outcome::NotHelpful(_) => None,
        };
        prop_assert_eq!(actual, expected);
    }
}
