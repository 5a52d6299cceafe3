//! The strict-validation catalogue: documents of every kind with a schema,
//! each with mistakes at several depths. A line's trailing `#! path |
//! words` says the error expected there (its field path and words of its
//! message); every document must give exactly those errors, each at its line.

use super::*;
use crate::manifest::{ParseOptions, parse};
use crate::sources::Source;

/// (line, field path, message fragment) expected from the markers of `text`.
fn expected(text: &str) -> Vec<(usize, String, String)> {
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let (_, marker) = line.split_once("#! ")?;
            let (path, words) = marker.split_once(" | ")?;
            Some((i + 1, path.trim().to_string(), words.trim().to_string()))
        })
        .collect()
}

fn check(name: &str, text: &str) -> usize {
    let sources = [Source {
        name: format!("{name}.yaml"),
        text: text.to_string(),
    }];
    let diagnostics = match parse(&sources, &ParseOptions::default()) {
        Ok(_) => Vec::new(),
        Err(diagnostics) => diagnostics,
    };
    let want = expected(text);
    let got: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
    for (line, path, words) in &want {
        assert!(
            diagnostics
                .iter()
                .any(|d| d.line == *line && &d.field == path && d.message.contains(words.as_str())),
            "{name}: expected `{path}: …{words}…` at line {line}, got:\n{}",
            got.join("\n")
        );
    }
    assert_eq!(
        diagnostics.len(),
        want.len(),
        "{name}: expected exactly the marked errors, got:\n{}",
        got.join("\n")
    );
    want.len()
}

const DEPLOYMENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
    tier: "front end"       #! metadata.labels | a valid label must be an empty string
  anotations: {}            #! metadata.anotations | did you mean `annotations`?
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx
        ports:
        - containerport: 80         #! spec.template.spec.containers[0].ports[0].containerport | did you mean `containerPort`?
        - containerPort: 70000      #! spec.template.spec.containers[0].ports[1].containerPort | must be between 1 and 65535
          protocol: TCP
        volumeMounts:
        - name: data
          mountpath: /data          #! spec.template.spec.containers[0].volumeMounts[0].mountpath | did you mean `mountPath`?
        env:
        - name: TOKEN
          valueFrom:
            secretKeyRef:
              nmae: token           #! spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef.nmae | did you mean `name`?
              key: value
        livenessProbe:
          httpGet: {path: /, port: 80}
          initialDelaySecond: 5     #! spec.template.spec.containers[0].livenessProbe.initialDelaySecond | did you mean `initialDelaySeconds`?
        securityContext:
          runAsUsr: 1000            #! spec.template.spec.containers[0].securityContext.runAsUsr | did you mean `runAsUser`?
          privileged: "yes"         #! spec.template.spec.containers[0].securityContext.privileged | expected a boolean
      - name: Sidecar               #! spec.template.spec.containers[1].name | a lowercase RFC 1123 label
        image: busybox
      volumes:
      - name: data
        emptyDir: {sizeLimt: 1Gi}   #! spec.template.spec.volumes[0].emptyDir.sizeLimt | did you mean `sizeLimit`?
"#;

const DAEMON_SET: &str = r#"
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  annotations:
    "bad/key/x": "1"        #! metadata.annotations | a qualified name must consist
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      tolerations:
      - operator: Exists
        efect: NoSchedule           #! spec.template.spec.tolerations[0].efect | did you mean `effect`?
      initContainers:
      - name: agent                 #! spec.template.spec.initContainers[0].name | Duplicate value: "agent"
        image: busybox
        comand: [sh]                #! spec.template.spec.initContainers[0].comand | did you mean `command`?
      containers:
      - name: agent
        image: agent
        readinessProbe:
          exec: {command: [true]}   #! spec.template.spec.containers[0].readinessProbe.exec.command[0] | expected a string
          periodSeconds: ten        #! spec.template.spec.containers[0].readinessProbe.periodSeconds | expected an integer
"#;

const NODE: &str = r#"
apiVersion: v1
kind: Node
metadata:
  name: n1
  labels:
    topology.kubernetes.io/zone: a
spec:
  taints:
  - key: gpu
    effect: NoSchedule
    vaule: "true"                   #! spec.taints[0].vaule | did you mean `value`?
  podCIDRs: 10.0.0.0/24             #! spec.podCIDRs | expected a list
status:
  allocatable:
    cpu: "4"
    pods: "1.5"                     #! status.allocatable.pods | must be an integer
    nvidia.com/gpu: "0.5"           #! status.allocatable.nvidia.com/gpu | must be an integer
  capacity:
    memory: lots                    #! status.capacity.memory | quantities must match
"#;

const PDB: &str = r#"
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web}
spec:
  minAvailable: 1
  selector:
    matchLabels: {app: web}
    matchExpresions: []             #! spec.selector.matchExpresions | did you mean `matchExpressions`?
  unhealthyPodEvictionPolicy: [x]   #! spec.unhealthyPodEvictionPolicy | expected a string
"#;

const SERVICE: &str = r#"
apiVersion: v1
kind: Service
metadata:
  name: 1web                        #! metadata.name | a DNS-1035 label
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetport: 8080                #! spec.ports[0].targetport | did you mean `targetPort`?
  - port: 0                         #! spec.ports[1].port | Required value
  typ: ClusterIP                    #! spec.typ | did you mean `type`?
"#;

const CONFIG_MAP_AND_SECRET: &str = r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data:
  level: 3                          #! data.level | expected a string
binaryDat: {}                       #! binaryDat | did you mean `binaryData`?
---
apiVersion: v1
kind: Secret
metadata: {name: token}
stringdata: {a: b}                  #! stringdata | did you mean `stringData`?
type: Opaque
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: runner}
automountServiceAccountTokn: false  #! automountServiceAccountTokn | did you mean `automountServiceAccountToken`?
---
apiVersion: v1
kind: Namespace
metadata:
  name: team.a                      #! metadata.name | must not contain dots
---
apiVersion: v1
kind: ConfigMap
metadata: {labels: {a: b}}          #! metadata.name | name or generateName is required
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: Web_1                       #! metadata.name | a lowercase RFC 1123 subdomain
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx}]
"#;

const RBAC: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader}
rules:
- apiGroups: [""]
  resources: [pods]
  verb: [get]                       #! rules[0].verb | did you mean `verbs`?
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "a/b"}             #! metadata.name | may not contain '/'
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: reader}
subjects:
- kind: ServiceAccount
  name: runner
  namspace: default                 #! subjects[0].namspace | did you mean `namespace`?
"#;

const NETWORKING: &str = r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  rules:
  - host: example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service: {name: web, port: {numbr: 80}}   #! spec.rules[0].http.paths[0].backend.service.port.numbr | did you mean `number`?
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny}
spec:
  podSelector: {}
  policyTypes: [Ingress]
  ingres: []                        #! spec.ingres | did you mean `ingress`?
"#;

const AUTOSCALING: &str = r#"
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplica: 5                     #! spec.maxReplica | did you mean `maxReplicas`?
  metrics:
  - type: Resource
    resource:
      name: cpu
      target: {type: Utilization, averageUtilisation: 50}   #! spec.metrics[0].resource.target.averageUtilisation | did you mean `averageUtilization`?
"#;

const STATEFUL_AND_STORAGE: &str = r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - name: db
        image: postgres
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {request: {storage: 1Gi}}   #! spec.volumeClaimTemplates[0].spec.resources.request | did you mean `requests`?
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: local-1}
spec:
  capacity: {storage: 10Gi}
  accessModes: [ReadWriteOnce]
  local: {pth: /mnt/disk}           #! spec.local.pth | did you mean `path`?
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: fast}
provisioner: example.com/fast
volumeBindingMod: WaitForFirstConsumer   #! volumeBindingMod | did you mean `volumeBindingMode`?
"#;

const BATCH: &str = r#"
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  backofLimit: 3                    #! spec.backofLimit | did you mean `backoffLimit`?
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: migrate
        image: app
        args: migrate               #! spec.template.spec.containers[0].args | expected a list
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: report}
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: report
            image: app
            resources:
              limits: {cpus: "1"}   #! spec.jobTemplate.spec.template.spec.containers[0].resources.limits.cpus | must be a standard resource for containers
---
apiVersion: v1
kind: Pod
metadata: {name: debug}
spec:
  containers:
  - name: shell
    image: busybox
    stdinn: true                    #! spec.containers[0].stdinn | did you mean `stdin`?
  nodeSelectr: {a: b}               #! spec.nodeSelectr | did you mean `nodeSelector`?
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: legacy}
spec:
  selector: {matchLabels: {app: legacy}}
  template:
    metadata: {labels: {app: legacy}}
    spec:
      containers:
      - name: app
        image: app
        resources:
          requests: {nvidia.com/gpu: 1}   #! spec.template.spec.containers[0].resources.limits.nvidia.com/gpu | Limit must be set
"#;

const CLUSTER: &str = r#"
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high}
value: 1000
preemptionPolicy: Never
globalDefualt: false                #! globalDefualt | did you mean `globalDefault`?
---
apiVersion: v1
kind: LimitRange
metadata: {name: limits}
spec:
  limits:
  - type: Container
    defualt: {cpu: 500m}            #! spec.limits[0].defualt | did you mean `default`?
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: quota}
spec:
  hard: {pods: ten}                 #! spec.hard.pods | quantities must match
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
  conversion: {strategy: None, webhok: {}}   #! spec.conversion.webhok | did you mean `webhook`?
---
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
  labels: {"a b": c}                #! metadata.labels | name part must consist
spec: {anything: goes}
"#;

/// Every case reports exactly its errors, each at its line.
#[test]
fn the_strict_validation_catalogue() {
    let cases = [
        ("deployment", DEPLOYMENT),
        ("daemonset", DAEMON_SET),
        ("node", NODE),
        ("pdb", PDB),
        ("service", SERVICE),
        ("config", CONFIG_MAP_AND_SECRET),
        ("rbac", RBAC),
        ("networking", NETWORKING),
        ("autoscaling", AUTOSCALING),
        ("storage", STATEFUL_AND_STORAGE),
        ("batch", BATCH),
        ("cluster", CLUSTER),
    ];
    let total: usize = cases.iter().map(|(name, text)| check(name, text)).sum();
    assert!(total >= 40, "only {total} cases");
}

#[test]
fn the_embedded_schema_reads_and_covers_the_kinds() {
    let schema = schema();
    for (version, kind) in [
        ("apps/v1", "Deployment"),
        ("apps/v1", "StatefulSet"),
        ("batch/v1", "CronJob"),
        ("v1", "Service"),
        ("rbac.authorization.k8s.io/v1", "ClusterRole"),
        ("autoscaling/v2", "HorizontalPodAutoscaler"),
        ("scheduling.k8s.io/v1", "PriorityClass"),
        ("storage.k8s.io/v1", "StorageClass"),
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
    ] {
        assert!(schema.kind(version, kind).is_some(), "{version} {kind}");
    }
    let container = &schema.objects[schema.object_index("core.v1.Container").unwrap()];
    assert_eq!(container.field("name").map(|f| f.required), Some(true));
    assert!(container.field("ports").is_some());
}

#[test]
fn non_finite_numbers_are_refused_in_the_field_that_holds_them() {
    let text = "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nstatus:\n  allocatable:\n    cpu: .nan\n";
    let sources = [Source {
        name: "n.yaml".into(),
        text: text.into(),
    }];
    let diagnostics = parse(&sources, &ParseOptions::default()).unwrap_err();
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(
        diagnostics[0].to_string(),
        "n.yaml:6:10: status.allocatable.cpu: Invalid value: \".nan\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    );
}
