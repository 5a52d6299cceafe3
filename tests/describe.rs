//! `orch describe node|workload|replica` on the example platform: the lines
//! a kubectl user looks for, aligned as kubectl aligns them, and the events.

use crate::common::Cluster;

fn text(cluster: &Cluster, args: &[&str]) -> String {
    let output = cluster.orch().args(args).output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn has_line(text: &str, line: &str) {
    assert!(
        text.lines().any(|l| l == line),
        "no line `{line}` in:\n{text}"
    );
}

fn applied() -> Cluster {
    let cluster = Cluster::example();
    cluster.run(&["apply", "-f", "manifests/", "-q"]).success();
    cluster
}

/// The pod-template-hash of the workload's replicas.
fn hash_of(cluster: &Cluster, app: &str) -> String {
    let replicas = cluster.json(&["get", "replicas", "-l", &format!("app={app}")]);
    let name = replicas["items"][0]["name"].as_str().unwrap().to_string();
    name.trim_start_matches(&format!("{app}-"))
        .rsplit_once('-')
        .unwrap()
        .0
        .to_string()
}

#[test]
fn describe_deployment_reads_like_kubectl() {
    let cluster = applied();
    let hash = hash_of(&cluster, "api");
    let text = text(&cluster, &["describe", "workload", "api"]);
    for line in [
        "Name:                   api",
        "Namespace:              default",
        "Labels:                 app=api",
        "Annotations:            deployment.kubernetes.io/revision: 1",
        "                        orch.dev/depends-on: StatefulSet/db",
        "Selector:               app=api",
        "Replicas:               4 desired | 4 updated | 4 total | 4 available | 0 unavailable",
        "StrategyType:           RollingUpdate",
        "MinReadySeconds:        5",
        "RollingUpdateStrategy:  25% max unavailable, 25% max surge",
        "Pod Template:",
        "  Labels:  app=api",
        "           tier=frontend",
        "   api:",
        "    Image:  registry.example.com/api:1.4.2",
        "    Port:   8080/TCP (http)",
        "    Requests:",
        "  Type           Status  Reason",
        "  ----           ------  ------",
        "  Available      True    MinimumReplicasAvailable",
        "  Progressing    True    NewReplicaSetAvailable",
        "OldReplicaSets:  <none>",
        &format!("NewReplicaSet:   api-{hash} (4/4 replicas created)"),
        "Events:",
    ] {
        has_line(&text, line);
    }
    let events = &text[text.find("Events:").unwrap()..];
    assert!(events.contains("  Type    Reason "), "{events}");
    has_line(
        &text,
        &format!(
            "  Normal  ScalingReplicaSet   25s  deployment-controller  Scaled up replica set api-{hash} from 0 to 4"
        ),
    );
    // The workload can be named as kubectl names it, with the same result.
    assert_eq!(
        text,
        self::text(
            &cluster,
            &["describe", "deployment", "Deployment/default/api"]
        )
    );
}

#[test]
fn mid_rollout_the_old_and_new_replica_sets_are_counted() {
    let cluster = applied();
    let old = hash_of(&cluster, "api");
    let api = std::fs::read_to_string(cluster.path("manifests/api.yaml")).unwrap();
    cluster.write("manifests/api.yaml", &api.replace("api:1.4.2", "api:1.5.0"));
    cluster
        .run(&["apply", "-f", "manifests/", "-q", "--max-steps", "1"])
        .code(3);
    let text = text(&cluster, &["describe", "workload", "api"]);
    has_line(
        &text,
        "Annotations:            deployment.kubernetes.io/revision: 2",
    );
    has_line(
        &text,
        "Replicas:               4 desired | 1 updated | 4 total | 3 available | 1 unavailable",
    );
    has_line(
        &text,
        &format!("OldReplicaSets:  api-{old} (3/3 replicas created)"),
    );
    let new = text
        .lines()
        .find_map(|l| l.strip_prefix("NewReplicaSet:   api-"))
        .unwrap();
    assert!(new.ends_with(" (1/4 replicas created)"), "{new}");
    assert_ne!(new.split(' ').next().unwrap(), old);
}

#[test]
fn describe_daemonset_counts_nodes_scheduled() {
    let cluster = applied();
    let text = text(&cluster, &["describe", "ds", "log-agent"]);
    for line in [
        "Name:                                            log-agent",
        "Namespace:                                       kube-system",
        "Desired Number of Nodes Scheduled:               5",
        "Current Number of Nodes Scheduled:               5",
        "Number of Nodes Scheduled with Up-to-date Pods:  5",
        "Pods Status:                                     5 Running / 0 Waiting / 0 Succeeded / 0 Failed",
    ] {
        has_line(&text, line);
    }
    assert!(
        !text.contains("NewReplicaSet"),
        "DaemonSets own no ReplicaSets"
    );
}

#[test]
fn describe_node_shows_taints_pods_and_allocated_resources() {
    let cluster = applied();
    let text = text(&cluster, &["describe", "node", "gpu-c2"]);
    for line in [
        "Name:           gpu-c2",
        "Roles:          <none>",
        "Labels:         kubernetes.io/hostname=gpu-c2",
        "                node.orch.dev/class=gpu",
        "                topology.kubernetes.io/zone=zone-c",
        "Taints:         nvidia.com/gpu=present:NoSchedule",
        "Unschedulable:  false",
        "  Ready  True    <unknown>           KubeletReady  kubelet is posting ready status",
        "Capacity:",
        "  nvidia.com/gpu:  2",
        "Allocatable:",
        "Non-terminated Pods:  (3 in total)",
        "  Namespace           Name                         CPU Requests  Memory Requests  Age",
        "Allocated resources:",
        "  Resource           Requests",
        "  cpu                4100m (51%)",
        "  memory             8320Mi (25%)",
        "  ephemeral-storage  0 (0%)",
        "  nvidia.com/gpu     2 (100%)",
        "  Normal  NodeAdded  45s  node-controller  Node gpu-c2 added",
    ] {
        has_line(&text, line);
    }
    // One row per replica on the node, requests with their share of allocatable.
    let transcoders: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("  default             transcoder-"))
        .collect();
    assert_eq!(transcoders.len(), 2, "{text}");
    assert!(
        transcoders[0].ends_with("2 (25%)       4Gi (12%)        45s"),
        "{}",
        transcoders[0]
    );
    assert!(text.contains("  kube-system         log-agent-"));

    // A failed node: its condition as the node lifecycle controller wrote it, cordoned.
    cluster.run(&["node", "fail", "node-b1"]).success();
    cluster.run(&["node", "cordon", "node-b1"]).success();
    let text = self::text(&cluster, &["describe", "node", "node-b1"]);
    has_line(&text, "Unschedulable:  true");
    assert!(
        text.lines()
            .any(|l| l.starts_with("  Ready  Unknown  t=45s")
                && l.ends_with("NodeStatusUnknown  Kubelet stopped posting node status.")),
        "{text}"
    );
}

#[test]
fn describe_replica_adds_kubectl_fields_to_the_scheduler_verdicts() {
    let cluster = applied();
    let replicas = cluster.json(&["get", "replicas", "-l", "app=transcoder"]);
    let name = replicas["items"][0]["name"].as_str().unwrap();
    let hash = hash_of(&cluster, "transcoder");
    let text = text(&cluster, &["describe", "replica", name]);
    for line in [
        format!("Name:           {name}"),
        "Namespace:      default".to_string(),
        "Node:           gpu-c2".to_string(),
        format!("                pod-template-hash={hash}"),
        "Status:         Running".to_string(),
        format!("Controlled By:  ReplicaSet/transcoder-{hash}"),
        "    Image:  registry.example.com/transcoder:3.1.0".to_string(),
        "    Ready:          True".to_string(),
        "    Restart Count:  0".to_string(),
        "  PodScheduled     True".to_string(),
        "Tolerations:       nvidia.com/gpu:NoSchedule op=Exists".to_string(),
        "Scheduling:".to_string(),
        "  * gpu-c2 is still the best node for it.".to_string(),
        format!(
            "  Normal  Scheduled         45s  default-scheduler      Successfully assigned {name} to gpu-c2"
        ),
    ] {
        has_line(&text, &line);
    }
    assert!(
        text.lines()
            .any(|l| l.starts_with("  *   gpu-c2") && l.contains("passed")),
        "{text}"
    );
    // The JSON contract (SPEC §8) is the explanation, unchanged.
    let document = cluster.json(&["describe", "replica", name]);
    assert_eq!(document["apiVersion"], "orch.dev/v1");
    assert_eq!(document["kind"], "ReplicaExplanation");
    assert_eq!(document["name"], name);
    assert_eq!(document["node"], "gpu-c2");
    assert_eq!(document["nodes"].as_array().unwrap().len(), 5);
    assert!(document["nodes"][0]["filters"][0]["plugin"].is_string());
}

#[test]
fn describe_documents_are_versioned() {
    let cluster = applied();
    let node = cluster.json(&["describe", "node", "gpu-c2"]);
    assert_eq!(node["apiVersion"], "orch.dev/v1");
    assert_eq!(node["kind"], "NodeDescription");
    assert_eq!(node["taints"][0], "nvidia.com/gpu=present:NoSchedule");
    assert_eq!(node["replicas"].as_array().unwrap().len(), 3);
    let gpu = node["allocated"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["resource"] == "nvidia.com/gpu")
        .unwrap();
    assert_eq!(
        (gpu["requests"].as_str(), gpu["percent"].as_i64()),
        (Some("2"), Some(100))
    );
    let workload = cluster.json(&["describe", "workload", "api"]);
    assert_eq!(workload["kind"], "WorkloadDescription");
    assert_eq!(workload["object"], "Deployment/default/api");
    assert_eq!(
        (
            workload["desired"].as_i64(),
            workload["available"].as_i64(),
            workload["unavailable"].as_i64()
        ),
        (Some(4), Some(4), Some(0))
    );
    assert_eq!(
        workload["template"]["containers"][0]["requests"]["cpu"],
        "500m"
    );
}

#[test]
fn describing_what_is_not_there_suggests_what_is() {
    let cluster = applied();
    let state = cluster.state_bytes();
    cluster
        .run(&["describe", "workload", "apy"])
        .code(1)
        .stderr("error: no workload named apy in the state; did you mean `api`?\n");
    cluster
        .run(&["describe", "node", "node-x"])
        .code(1)
        .stderr(format!(
            "error: node node-x not found in state {}; did you mean `node-a1`, `node-b1` or `node-c1`?\n",
            cluster.state().display()
        ));
    let replicas = cluster.json(&["get", "replicas", "-l", "app=db"]);
    let name = replicas["items"][0]["name"].as_str().unwrap();
    let typo = format!("{}x", &name[..name.len() - 1]);
    cluster.run(&["explain", &typo]).code(1).stderr(format!(
        "error: replica {typo} not found in the state; did you mean `{name}`?\n"
    ));
    assert_eq!(cluster.state_bytes(), state);
}

/// `describe statefulset` ends as kubectl's does: the pod template, then the
/// `Volume Claims:` block (`describeVolumeClaimTemplates`: name, class,
/// labels, annotations, capacity, access modes), then the events.
#[test]
fn describe_statefulset_lists_its_volume_claims() {
    let cluster = applied();
    let text = text(&cluster, &["describe", "workload", "StatefulSet/db"]);
    let claims = text
        .split_once("Volume Claims:\n")
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("no Volume Claims block in:\n{text}"));
    let block: String = claims
        .lines()
        .take_while(|l| l.starts_with("  "))
        .map(|l| format!("{l}\n"))
        .collect();
    insta::assert_snapshot!("describe_statefulset_volume_claims", block);
    let document = cluster.json(&["describe", "workload", "StatefulSet/db"]);
    assert_eq!(document["volumeClaims"][0]["capacity"], "200Gi");
    assert_eq!(
        document["volumeClaims"][0]["accessModes"][0],
        "ReadWriteOnce"
    );
    // Other kinds have no such block.
    assert!(!self::text(&cluster, &["describe", "workload", "api"]).contains("Volume Claims"));
}
