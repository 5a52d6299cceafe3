//! HorizontalPodAutoscaler, NodeGroup and `orch.dev/demand` read from
//! manifests; the error cases follow `pkg/apis/autoscaling/validation`'s
//! `TestValidateHorizontalPodAutoscaler` where they apply.

use crate::autoscale::spec::{MetricTarget, PolicyType, SelectPolicy};
use crate::manifest::{ParseOptions, parse};
use crate::model::workload::Desired;
use crate::sources::Source;

const API: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata:
      labels: {app: api}
      annotations:
        orch.dev/demand: \"cpu: 0s=500m, 2m=3, 20m=500m\"
    spec:
      containers: [{name: api, image: api, resources: {requests: {cpu: 500m}}}]
";

fn run(extra: &str) -> Result<Desired, Vec<String>> {
    let text = format!("{API}---\n{extra}");
    parse(
        &[Source {
            name: "m.yaml".into(),
            text,
        }],
        &ParseOptions::default(),
    )
    .map(|l| l.desired)
    .map_err(|d| d.iter().map(ToString::to_string).collect())
}

fn errors(extra: &str) -> Vec<String> {
    run(extra).expect_err("expected errors")
}

fn hpa(spec: &str) -> String {
    format!(
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: api}}\nspec:\n  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: api}}\n{spec}"
    )
}

#[test]
fn a_plain_hpa_gets_kubernetes_defaults() {
    let desired = run(&hpa("  maxReplicas: 10\n")).unwrap();
    let autoscaler = &desired.autoscalers[0];
    assert_eq!(autoscaler.id(), "HorizontalPodAutoscaler/default/api");
    assert_eq!(autoscaler.spec.min_replicas, 1);
    assert_eq!(autoscaler.spec.max_replicas, 10);
    assert_eq!(
        autoscaler.spec.metrics[0].target,
        MetricTarget::Utilization(80)
    );
    assert_eq!(autoscaler.spec.behavior, None);
    let demand = desired.demands.values().next().unwrap();
    assert_eq!(demand.cpu.len(), 3);
}

#[test]
fn a_written_behavior_is_completed_with_the_generated_rules() {
    let desired = run(&hpa("  minReplicas: 2
  maxReplicas: 20
  metrics:
    - type: Resource
      resource: {name: memory, target: {type: AverageValue, averageValue: 512Mi}}
  behavior:
    scaleDown:
      policies: [{type: Pods, value: 1, periodSeconds: 60}]
      selectPolicy: Min
"))
    .unwrap();
    let spec = &desired.autoscalers[0].spec;
    assert_eq!(
        spec.metrics[0].target,
        MetricTarget::AverageValue(512 * 1024 * 1024 * 1000)
    );
    let behavior = spec.behavior.as_ref().unwrap();
    assert_eq!(behavior.scale_up.policies.len(), 2);
    assert_eq!(behavior.scale_up.stabilization_window_seconds, Some(0));
    assert_eq!(behavior.scale_down.stabilization_window_seconds, None);
    assert_eq!(behavior.scale_down.select_policy, SelectPolicy::Min);
    assert_eq!(behavior.scale_down.policies[0].kind, PolicyType::Pods);
}

#[test]
fn autoscaling_v1_reads_as_a_cpu_metric() {
    let desired = run("apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {name: api}
spec:
  scaleTargetRef: {kind: Deployment, name: api}
  maxReplicas: 5
  targetCPUUtilizationPercentage: 60
")
    .unwrap();
    assert_eq!(
        desired.autoscalers[0].spec.metrics[0].target,
        MetricTarget::Utilization(60)
    );
}

#[test]
fn min_above_max_is_the_api_servers_error() {
    let errors = errors(&hpa("  minReplicas: 5\n  maxReplicas: 2\n"));
    assert_eq!(
        errors,
        [
            "m.yaml:21:16: spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`"
        ]
    );
}

#[test]
fn bad_hpa_fields_are_all_reported_located() {
    let errors = errors(&hpa("  minReplicas: 0
  maxReplicas: 3
  metrics:
    - type: Foo
    - type: Pods
    - type: Resource
      resource: {name: gpu, target: {type: Utilization, averageUtilization: 0}}
    - type: Resource
      resource: {name: cpu, target: {type: Utilization}}
  behavior:
    scaleUp:
      stabilizationWindowSeconds: 4000
      selectPolicy: Most
      policies: [{type: Pod, value: 0, periodSeconds: 2000}]
"));
    let expected = [
        "spec.minReplicas: Invalid value: 0: must be greater than or equal to 1",
        "spec.metrics[0].type: Unsupported value: \"Foo\": supported values: \"ContainerResource\", \"External\", \"Object\", \"Pods\", \"Resource\"",
        "spec.metrics[1].type: Unsupported value: \"Pods\": orch simulates Resource metrics",
        "spec.metrics[2].resource.name: Unsupported value: \"gpu\"",
        "spec.metrics[2].resource.target.averageUtilization: Invalid value: 0: must be greater than 0",
        "spec.metrics[3].resource.target.averageUtilization: Required value: must set either a target raw value or a target utilization",
        "spec.behavior.scaleUp.stabilizationWindowSeconds: Invalid value: 4000: must be less than or equal to 3600",
        "spec.behavior.scaleUp.selectPolicy: Unsupported value: \"Most\"",
        "spec.behavior.scaleUp.policies[0].type: Unsupported value: \"Pod\": supported values: \"Percent\", \"Pods\"",
        "spec.behavior.scaleUp.policies[0].value: Invalid value: 0: must be greater than zero",
        "spec.behavior.scaleUp.policies[0].periodSeconds: Invalid value: 2000: must be less than or equal to 1800",
    ];
    for want in expected {
        assert!(
            errors.iter().any(|e| e.contains(want)),
            "missing {want:?} in {errors:#?}"
        );
    }
    assert!(errors.iter().all(|e| e.starts_with("m.yaml:")));
}

#[test]
fn the_target_must_exist_and_be_scalable() {
    let missing = errors(
        "apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {kind: Deployment, name: web}
  maxReplicas: 3
",
    );
    assert_eq!(
        missing,
        [
            "m.yaml:19:44: spec.scaleTargetRef.name: Invalid value: \"web\": Deployment/default/web is not declared in the manifests"
        ]
    );
    let unscalable = errors(
        "apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: agent}
spec:
  scaleTargetRef: {kind: DaemonSet, name: agent}
  maxReplicas: 3
",
    );
    assert!(unscalable[0].contains("spec.scaleTargetRef.kind: Invalid value: \"DaemonSet\""));
    let twice = errors(&format!(
        "{}---\n{}",
        hpa("  maxReplicas: 3\n"),
        hpa("  maxReplicas: 4\n").replace("name: api}\nspec", "name: api2}\nspec")
    ));
    assert!(
        twice[0].contains("is also scaled by the HPA at m.yaml:"),
        "{twice:?}"
    );
}

#[test]
fn a_demand_that_does_not_parse_is_located_on_its_annotation() {
    let text = API.replace("cpu: 0s=500m, 2m=3, 20m=500m", "cpu: 0s=500m, later=3");
    let errors = parse(
        &[Source {
            name: "m.yaml".into(),
            text,
        }],
        &ParseOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        errors[0].to_string(),
        "m.yaml:11:26: spec.template.metadata.annotations.orch.dev/demand: Invalid value: \"cpu: 0s=500m, later=3\": \"later\" is not a duration such as 0s, 90s or 2m"
    );
}

const GROUP: &str = "apiVersion: orch.dev/v1
kind: NodeGroup
metadata: {name: general}
spec:
  minSize: 1
  maxSize: 5
  template:
    metadata: {labels: {topology.kubernetes.io/zone: a}}
    spec: {taints: [{key: pool, value: general, effect: PreferNoSchedule}]}
    status: {allocatable: {cpu: \"4\", memory: 16Gi, pods: \"110\"}}
";

#[test]
fn a_node_group_reads_its_template() {
    let desired = run(GROUP).unwrap();
    let group = &desired.node_groups[0];
    assert_eq!(
        (group.min_size, group.max_size, group.provision_delay),
        (1, 5, 60)
    );
    let member = group.member(3);
    assert_eq!(member.name, "general-3");
    assert_eq!(member.labels["kubernetes.io/hostname"], "general-3");
    assert_eq!(member.labels["topology.kubernetes.io/zone"], "a");
    assert_eq!(member.taints.len(), 1);
    assert_eq!(member.allocatable.pods, 110);
}

#[test]
fn a_node_group_without_allocatable_or_with_bad_sizes_is_refused() {
    let found = errors(
        &GROUP
            .replace(
                "    status: {allocatable: {cpu: \"4\", memory: 16Gi, pods: \"110\"}}\n",
                "",
            )
            .replace("maxSize: 5", "maxSize: 0")
            .replace("minSize: 1", "minSize: 1\n  provisionDelay: soon"),
    );
    for want in [
        "spec.maxSize: Invalid value: 0: must be greater than 0",
        "spec.provisionDelay: Invalid value: \"soon\"",
        "spec.template.status.allocatable: Required value",
    ] {
        assert!(found.iter().any(|e| e.contains(want)), "{found:?}");
    }
    let typo = errors(&GROUP.replace("maxSize", "maxSise"));
    assert!(typo.iter().any(|e| e.contains("maxSise")), "{typo:?}");
}

#[test]
fn hpas_and_node_groups_run_without_a_notice() {
    let loaded = parse(
        &[Source {
            name: "m.yaml".into(),
            text: format!("{API}---\n{}---\n{GROUP}", hpa("  maxReplicas: 3\n")),
        }],
        &ParseOptions::default(),
    )
    .unwrap();
    let notices: Vec<String> = loaded.notices.iter().map(ToString::to_string).collect();
    assert!(notices.is_empty(), "{notices:?}");
}
