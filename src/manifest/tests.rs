use super::*;
use crate::model::workload::{IntOrPercent, Kind, ObjectRef, Strategy};

fn source(name: &str, text: &str) -> Source {
    Source {
        name: name.to_string(),
        text: text.to_string(),
    }
}

fn load(text: &str) -> Loaded {
    parse(&[source("m.yaml", text)], &ParseOptions::default()).unwrap_or_else(|d| {
        panic!(
            "{}",
            d.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

fn errors(text: &str) -> Vec<String> {
    match parse(&[source("m.yaml", text)], &ParseOptions::default()) {
        Ok(_) => panic!("expected errors"),
        Err(diagnostics) => diagnostics.iter().map(ToString::to_string).collect(),
    }
}

const REALISTIC: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
  labels: {app: api}
  annotations:
    deployment.kubernetes.io/revision: "3"
    kubectl.kubernetes.io/last-applied-configuration: "{}"
  creationTimestamp: "2024-01-01T00:00:00Z"
  uid: "1234"
  resourceVersion: "99"
  generation: 4
spec:
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api, version: v1}
      annotations: {prometheus.io/scrape: "true"}
    spec:
      serviceAccountName: api
      terminationGracePeriodSeconds: 30
      securityContext: {runAsNonRoot: true}
      imagePullSecrets: [{name: registry}]
      volumes:
        - name: config
          configMap: {name: api-config}
      initContainers:
        - name: migrate
          image: api:1
          command: [migrate]
          resources:
            requests: {cpu: "2", memory: 256Mi}
      containers:
        - name: api
          image: registry.example.com/api:1.4.2
          imagePullPolicy: IfNotPresent
          args: [--port=8080]
          ports: [{containerPort: 8080, name: http, protocol: TCP}]
          env:
            - {name: MODE, value: prod}
            - name: SECRET
              valueFrom: {secretKeyRef: {name: s, key: k}}
          envFrom: [{configMapRef: {name: env}}]
          resources:
            requests: {cpu: 250m, memory: 512Mi}
            limits: {cpu: "1", memory: 1Gi, ephemeral-storage: 2Gi}
          readinessProbe:
            httpGet: {path: /ready, port: http}
            initialDelaySeconds: 5
            periodSeconds: 3
            successThreshold: 2
            failureThreshold: 3
          livenessProbe:
            tcpSocket: {port: 8080}
          startupProbe:
            exec: {command: ["true"]}
          lifecycle:
            preStop: {exec: {command: [sleep, "5"]}}
          volumeMounts: [{name: config, mountPath: /etc/api}]
          securityContext: {readOnlyRootFilesystem: true}
        - name: proxy
          image: envoy
status:
  replicas: 3
  availableReplicas: 3
"#;

#[test]
fn a_real_world_deployment_loads_with_kubernetes_defaults() {
    let loaded = load(REALISTIC);
    assert!(loaded.notices.is_empty());
    let workload = &loaded.desired.workloads[0];
    assert_eq!(workload.id, ObjectRef::new(Kind::Deployment, "shop", "api"));
    assert_eq!(workload.replicas, 1);
    assert_eq!(
        workload.strategy,
        Strategy::RollingUpdate {
            max_surge: IntOrPercent::Percent(25),
            max_unavailable: IntOrPercent::Percent(25)
        }
    );
    assert_eq!(
        (
            workload.progress_deadline_seconds,
            workload.revision_history_limit,
            workload.min_ready_seconds
        ),
        (600, 10, 0)
    );
    let pod = &workload.pod;
    assert_eq!(pod.namespace, "shop");
    // containers: 250m + nothing = 250m cpu, but the init container's 2 cpu is larger.
    assert_eq!(pod.requests.milli_cpu, 2000);
    assert_eq!(pod.requests.memory, 512 << 20);
    // The limit defaults the missing ephemeral-storage request.
    assert_eq!(pod.requests.ephemeral_storage, 2 << 30);
    // The proxy requests nothing: scoring counts it as 100m / 200Mi.
    assert_eq!(pod.non_zero_requests.milli_cpu, 2000);
    assert_eq!(pod.non_zero_requests.memory, (512 << 20) + (200 << 20));
    assert_eq!(pod.ready_after, 5 + 3 * 2);
    assert_eq!(
        workload.template.value()["metadata"]["labels"]["version"],
        "v1"
    );
    assert_eq!(workload.manifest.value()["metadata"]["name"], "api");
}

#[test]
fn the_template_hash_is_stable_and_changes_with_the_template() {
    let a = load(REALISTIC).desired.workloads[0].template_hash.clone();
    assert_eq!(a, load(REALISTIC).desired.workloads[0].template_hash);
    assert!(
        a.bytes()
            .all(|b| crate::model::hash::ALPHANUMS.contains(&b))
    );
    let reformatted = REALISTIC.replace(
        "labels: {app: api, version: v1}",
        "labels:\n        version: v1\n        app: api",
    );
    assert_eq!(
        a,
        load(&reformatted).desired.workloads[0].template_hash,
        "key order and layout do not matter"
    );
    let changed = REALISTIC.replace("api:1.4.2", "api:1.4.3");
    assert_ne!(a, load(&changed).desired.workloads[0].template_hash);
    let scaled = REALISTIC.replace("spec:\n  selector:", "spec:\n  replicas: 9\n  selector:");
    assert_eq!(
        a,
        load(&scaled).desired.workloads[0].template_hash,
        "replicas are not part of the template"
    );
}

#[test]
fn sidecars_add_to_the_sum_and_overhead_is_added() {
    let loaded = load(
        "apiVersion: apps/v1
kind: Deployment
metadata: {name: s}
spec:
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec:
      overhead: {cpu: 100m}
      initContainers:
        - {name: log, restartPolicy: Always, resources: {requests: {cpu: 500m}}}
        - {name: init, resources: {requests: {cpu: '3'}}}
      containers:
        - {name: c, resources: {requests: {cpu: '1'}}}
",
    );
    // max(containers 1 + sidecar 0.5, init 3 + sidecar 0.5) + overhead 0.1
    assert_eq!(loaded.desired.workloads[0].pod.requests.milli_cpu, 3600);
}

/// Pod-level `spec.resources` as `PodRequests` computes them
/// (k8s.io/component-helpers/resource/helpers.go; cases after
/// `TestPodLevelResourceRequests` in helpers_test.go): a pod-level request
/// replaces the containers' aggregate for cpu and memory, overhead is added
/// on top, a pod-level limit alone is the request when no container asks.
#[test]
fn pod_level_resources_override_the_containers_aggregate() {
    let pod = |spec: &str| {
        let text = format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: s}}\nspec:\n  selector: {{matchLabels: {{a: b}}}}\n  template:\n    metadata: {{labels: {{a: b}}}}\n    spec:\n{spec}"
        );
        let pod = &load(&text).desired.workloads[0].pod;
        (
            pod.requests.milli_cpu,
            pod.requests.memory,
            pod.non_zero_requests.milli_cpu,
        )
    };
    let containers = "      containers:\n        - {name: a, resources: {requests: {cpu: 200m, memory: 100Mi}}}\n        - {name: b, resources: {requests: {cpu: 300m}}}\n";
    // Containers only: their sum.
    assert_eq!(pod(containers), (500, 100 << 20, 500));
    // Pod-level requests win for the resources they name (the issue's case:
    // 1 cpu at pod level, 500m in the containers).
    let both = format!("      resources: {{requests: {{cpu: '1'}}}}\n{containers}");
    assert_eq!(pod(&both), (1000, 100 << 20, 1000));
    // ... and the overhead is added to them.
    let overhead = format!("      overhead: {{cpu: 100m}}\n{both}");
    assert_eq!(pod(&overhead).0, 1100);
    // A pod-level limit without a request: the request when no container asks.
    let limit_only = "      resources: {limits: {cpu: '2', memory: 1Gi}}\n      containers:\n        - {name: a}\n";
    assert_eq!(pod(limit_only), (2000, 1 << 30, 2000));
    let limit_with_containers = format!("      resources: {{limits: {{cpu: '2'}}}}\n{containers}");
    assert_eq!(pod(&limit_with_containers).0, 500);
}

#[test]
fn pod_level_resources_are_checked_as_the_api_server_checks_them() {
    let text = "apiVersion: apps/v1
kind: Deployment
metadata: {name: s}
spec:
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec:
      resources:
        requests: {cpu: 100m, nvidia.com/gpu: '1'}
      containers:
        - {name: a, resources: {requests: {cpu: 200m}}}
";
    let errors = parse(&[source("p.yaml", text)], &ParseOptions::default()).unwrap_err();
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("spec.template.spec.resources.requests.cpu")
                && m.contains(
                    "must be greater than or equal to aggregate container requests of 200m"
                )),
        "{messages:#?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("Unsupported value: \"nvidia.com/gpu\"")),
        "{messages:#?}"
    );
}

#[test]
fn lists_json_and_multiple_documents() {
    let list = r#"{"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "b"}, "status": {"capacity": {"cpu": "2", "memory": "4Gi"}}},
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "a", "labels": {"kubernetes.io/hostname": "custom"}},
         "spec": {"taints": [{"key": "k", "effect": "NoSchedule", "timeAdded": "2024-01-01T00:00:00Z"}]},
         "status": {"allocatable": {"cpu": 4, "memory": "8Gi", "pods": 20, "nvidia.com/gpu": "1"}, "capacity": {"cpu": "99"}}}
    ]}"#;
    let yaml = "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: p}\nspec: {maxUnavailable: 10%}\n---\n";
    let loaded = parse(
        &[source("n.json", list), source("p.yaml", yaml)],
        &ParseOptions::default(),
    )
    .unwrap();
    let nodes = &loaded.desired.nodes;
    assert_eq!(
        nodes.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(),
        ["a", "b"],
        "sorted by name"
    );
    assert_eq!(
        nodes[0].allocatable.resources.milli_cpu, 4000,
        "allocatable wins over capacity"
    );
    assert_eq!(nodes[0].allocatable.pods, 20);
    assert_eq!(nodes[0].allocatable.resources.get("nvidia.com/gpu"), 1);
    assert_eq!(nodes[0].labels["kubernetes.io/hostname"], "custom");
    assert_eq!(nodes[1].labels["kubernetes.io/hostname"], "b");
    assert_eq!(nodes[1].allocatable.pods, 110);
    assert_eq!(nodes[0].taints.len(), 1);
    assert_eq!(
        loaded.desired.disruption_budgets[0].max_unavailable,
        Some(IntOrPercent::Percent(10))
    );
}

#[test]
fn unknown_kinds_are_notices_or_strict_errors() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\n";
    let loaded = parse(&[source("c.yaml", text)], &ParseOptions::default()).unwrap();
    let notices: Vec<String> = loaded.notices.iter().map(|n| n.to_string()).collect();
    assert_eq!(
        notices,
        ["c.yaml:2:7: skipping unsupported kind ConfigMap cfg (v1)"]
    );
    let strict = parse(&[source("c.yaml", text)], &ParseOptions { strict: true }).unwrap_err();
    assert!(
        strict[0]
            .to_string()
            .starts_with("c.yaml:2:7: kind: Unsupported value: \"ConfigMap\""),
        "{}",
        strict[0]
    );
}

#[test]
fn every_error_is_collected_with_its_location() {
    let found = errors(
        "apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: -2
  selector: {matchLabels: {app: web}}
  strategy:
    rollingUpdate: {maxSurge: 0, maxUnavailable: 0}
  template:
    metadata: {labels: {app: other}}
    spec:
      tolerations:
        - {key: a, operator: Exists, value: x}
      topologySpreadConstraints:
        - {maxSkew: 0, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}
      containers:
        - name: c
          resources:
            requests: {cpu: 2, memory: 1.5.5}
            limits: {cpu: 1}
",
    );
    let expected = [
        "m.yaml:5:13: spec.replicas: Invalid value: -2: must be greater than or equal to 0",
        "m.yaml:8:50: spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0",
        "m.yaml:10:24: spec.template.metadata.labels: Invalid value: {\"app\":\"other\"}: `selector` does not match template `labels`",
        "m.yaml:19:40: spec.template.spec.containers[0].resources.requests.memory: Invalid value: \"1.5.5\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
        "m.yaml:19:23: spec.template.spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1",
        "m.yaml:13:30: spec.template.spec.tolerations[0].operator: Invalid value: \"Exists\": value must be empty when `operator` is 'Exists'",
        "m.yaml:15:21: spec.template.spec.topologySpreadConstraints[0].maxSkew: Invalid value: 0: must be greater than zero",
    ];
    for line in expected {
        assert!(
            found.iter().any(|f| f == line),
            "missing:\n{line}\nin:\n{}",
            found.join("\n")
        );
    }
    assert_eq!(found.len(), expected.len(), "{}", found.join("\n"));
}

#[test]
fn typos_and_wrong_types_are_named() {
    let typo =
        errors("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w}\nspec:\n  replcas: 2\n");
    assert!(
        typo[0].starts_with("m.yaml:5:3: spec.replcas: unknown field `replcas`"),
        "{typo:?}"
    );
    let wrong =
        errors("apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nspec: {unschedulable: maybe}\n");
    assert!(
        wrong[0].starts_with("m.yaml:4:23: spec.unschedulable: invalid type"),
        "{wrong:?}"
    );
    let norway = errors("apiVersion: v1\nkind: Node\nmetadata: {name: no}\n");
    assert!(
        norway[0].starts_with("m.yaml:3:18: metadata.name: invalid type: boolean `false`"),
        "{norway:?}"
    );
    assert!(norway[0].contains("quote the value"), "{norway:?}");
    let effect = errors(
        "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nspec:\n  taints: [{key: a, effect: Never}]\n",
    );
    assert!(
        effect[0].contains("spec.taints[0].effect") && effect[0].contains("NoSchedule"),
        "{effect:?}"
    );
}

#[test]
fn names_apiversions_and_duplicates() {
    let bad_name = errors("apiVersion: v1\nkind: Node\nmetadata: {name: Node_1}\n");
    assert!(
        bad_name[0].contains("a lowercase RFC 1123 subdomain"),
        "{bad_name:?}"
    );
    let version = errors("apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: x}\n");
    assert_eq!(
        version[0],
        "m.yaml:1:13: apiVersion: Unsupported value: \"extensions/v1beta1\": Deployment is served as apps/v1"
    );
    let missing = errors("metadata: {name: x}\n");
    assert_eq!(missing.len(), 2);
    let node = "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n";
    let duplicate = parse(
        &[source("a.yaml", node), source("b.yaml", node)],
        &ParseOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        duplicate[0].to_string(),
        "b.yaml:3:18: metadata.name: Duplicate value: \"n1\": Node/n1 is also defined at a.yaml:3:18"
    );
}

fn deployment(name: &str, depends_on: &str) -> String {
    format!(
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  annotations: {{orch.dev/depends-on: \"{depends_on}\"}}\nspec:\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec: {{containers: [{{name: c}}]}}\n"
    )
}

#[test]
fn dependencies_resolve_and_cycles_are_named() {
    let ok = load(
        &(deployment("api", "Deployment/db, Deployment/cache")
            + &deployment("db", "")
            + &deployment("cache", "")),
    );
    let api = ok
        .desired
        .workloads
        .iter()
        .find(|w| &*w.id.name == "api")
        .unwrap();
    assert_eq!(api.depends_on.len(), 2);
    let missing = errors(&deployment("api", "Deployment/ghost"));
    assert_eq!(
        missing,
        [
            "m.yaml:6:38: metadata.annotations.orch.dev/depends-on: Invalid value: \"Deployment/ghost\": Deployment/default/ghost is not declared in the manifests"
        ]
    );
    let cycle = errors(
        &(deployment("a", "Deployment/b")
            + &deployment("b", "Deployment/c")
            + &deployment("c", "Deployment/a")),
    );
    assert_eq!(cycle.len(), 1, "{cycle:?}");
    assert!(
        cycle[0].ends_with("dependency cycle: Deployment/default/a -> Deployment/default/b -> Deployment/default/c -> Deployment/default/a"),
        "{cycle:?}"
    );
    let own = errors(&deployment("a", "Deployment/a"));
    assert!(
        own[0].ends_with("dependency cycle: Deployment/default/a -> Deployment/default/a"),
        "{own:?}"
    );
    let kind = errors(&deployment("a", "Service/x"));
    assert!(kind[0].contains("must be Deployment/<name>"), "{kind:?}");
}

#[test]
fn orch_annotations() {
    let base = |annotations: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: w}}\nspec:\n  selector: {{matchLabels: {{a: b}}}}\n  template:\n    metadata:\n      labels: {{a: b}}\n      annotations: {{{annotations}}}\n    spec: {{containers: [{{name: c}}]}}\n"
        )
    };
    assert_eq!(
        load(&base("orch.dev/ready-after: 1m30s")).desired.workloads[0]
            .pod
            .ready_after,
        90
    );
    assert_eq!(load(&base("")).desired.workloads[0].pod.ready_after, 1);
    let local = load(&base("orch.dev/data-locality: 'dataset=imagenet'"));
    let preferred = &local.desired.workloads[0]
        .pod
        .affinity
        .node_affinity
        .as_ref()
        .unwrap()
        .preferred_during_scheduling_ignored_during_execution;
    assert_eq!(preferred[0].weight, 50);
    assert_eq!(preferred[0].preference.match_expressions[0].key, "dataset");
    assert!(
        errors(&base("orch.dev/ready-after: soon"))[0]
            .contains("orch.dev/ready-after: Invalid value: \"soon\"")
    );
    assert!(
        errors(&base("orch.dev/simulate: explode"))[0]
            .contains("never-ready, crash-after=<duration> or fail-after")
    );
    load(&base("orch.dev/simulate: crash-after=30s"));
}

#[test]
fn daemonset_defaults() {
    let loaded = load(
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec: {containers: [{name: c}]}\n",
    );
    assert_eq!(
        loaded.desired.workloads[0].strategy,
        Strategy::RollingUpdate {
            max_surge: IntOrPercent::Int(0),
            max_unavailable: IntOrPercent::Int(1)
        }
    );
}

#[test]
fn syntax_errors_alias_bombs_and_nesting_are_diagnostics() {
    assert!(errors("a: [1, 2\n")[0].starts_with("m.yaml:"));
    let mut bomb = String::from("a0: &a0 [x,x,x,x,x,x,x,x,x]\n");
    for i in 1..10 {
        bomb.push_str(&format!(
            "a{i}: &a{i} [{}]\n",
            vec![format!("*a{}", i - 1); 9].join(",")
        ));
    }
    assert!(errors(&bomb)[0].contains("budget"));
    assert!(
        errors(&format!("a: {}{}", "[".repeat(2000), "]".repeat(2000)))[0]
            .contains("recursion limit")
    );
}

#[test]
fn stored_templates_rebuild_the_scheduling_view() {
    let workload = &load(REALISTIC).desired.workloads[0];
    let pod = pod_spec_from_template("shop", &workload.template.value()).unwrap();
    assert_eq!(pod, workload.pod);
}
