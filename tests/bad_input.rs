//! The bad-input catalogue: every case gives exit 1, a one-screen message
//! naming the file (and line:col and field where there is one), and leaves
//! the state file byte-identical.

use crate::common::{Cluster, node};

const GOOD: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
      annotations: {team: web}
    spec:
      containers:
        - name: web
          image: nginx
          resources:
            requests: {cpu: 100m, memory: 64Mi}
            limits: {memory: 128Mi}
";

fn with(from: &str, to: &str) -> String {
    assert!(GOOD.contains(from), "fixture lacks {from}");
    GOOD.replacen(from, to, 1)
}

/// GOOD and a HorizontalPodAutoscaler whose spec starts at line 25.
fn hpa(spec: &str) -> String {
    format!(
        "{GOOD}---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: web}}\nspec:\n{spec}"
    )
}

fn pod(block: &str) -> String {
    with(
        "      containers:\n",
        &format!("{block}      containers:\n"),
    )
}

fn strategy(block: &str) -> String {
    with("  selector:\n", &format!("{block}  selector:\n"))
}

fn depends(name: &str, on: &str) -> String {
    format!(
        "---\n{}",
        GOOD.replacen(
            "  name: web\n",
            &format!("  name: {name}\n  annotations: {{orch.dev/depends-on: \"{on}\"}}\n"),
            1
        )
        .replace("app: web", &format!("app: {name}"))
    )
}

/// Files of one case: (name, bytes).
type Files = Vec<(&'static str, Vec<u8>)>;
/// (case, files, extra args, where: "file:line" or "file", text the message must contain)
type Case = (
    &'static str,
    Files,
    Vec<&'static str>,
    &'static str,
    &'static str,
);

fn cases() -> Vec<Case> {
    let one = |text: String| vec![("bad.yaml", text.into_bytes())];
    let node_doc =
        |status: &str| format!("apiVersion: v1\nkind: Node\nmetadata: {{name: n9}}\n{status}");
    let mut nesting = String::from("apiVersion: v1\nkind: Node\nmetadata: {name: n9}\nstatus: ");
    nesting.push_str(&"[".repeat(10_000));
    nesting.push_str(&"]".repeat(10_000));
    let mut bomb = String::from("a0: &a0 [x,x,x,x,x,x,x,x,x]\n");
    for i in 1..10 {
        bomb.push_str(&format!(
            "a{i}: &a{i} [{}]\n",
            vec![format!("*a{}", i - 1); 9].join(",")
        ));
    }
    vec![
        ("invalid YAML", one(with("    matchLabels: {app: web}", "    matchLabels: {app: web")), vec![], "bad.yaml:9", "flow mapping"),
        ("a tab for indentation", one(with("  replicas: 2", "\treplicas: 2")), vec![], "bad.yaml:", "bad.yaml"),
        ("replicas as a string", one(with("replicas: 2", "replicas: two")), vec![], "bad.yaml:6", "spec.replicas"),
        ("replicas as a float", one(with("replicas: 2", "replicas: 2.5")), vec![], "bad.yaml:6", "spec.replicas"),
        ("replicas beyond i32", one(with("replicas: 2", "replicas: 99999999999")), vec![], "bad.yaml:6", "spec.replicas"),
        ("huge replica count", one(with("replicas: 2", "replicas: 2000000")), vec![], "bad.yaml:6", "must be at most 1000000"),
        ("negative replicas", one(with("replicas: 2", "replicas: -1")), vec![], "bad.yaml:6", "must be greater than or equal to 0"),
        ("unknown top-level field", one(with("spec:\n", "specc: {}\nspec:\n")), vec![], "bad.yaml:5", "unknown field `specc`"),
        ("unknown container field", one(with("          image: nginx", "          imagee: nginx")), vec![], "bad.yaml:16", "unknown field `imagee`"),
        ("duplicate key", one(with("  replicas: 2\n", "  replicas: 2\n  replicas: 3\n")), vec![], "bad.yaml:7", "duplicate mapping key"),
        ("wrong apiVersion", one(with("apps/v1", "apps/v1beta2")), vec![], "bad.yaml:1", "apiVersion"),
        ("missing kind", one(with("kind: Deployment\n", "")), vec![], "bad.yaml:1", "kind"),
        ("missing apiVersion", one(with("apiVersion: apps/v1\n", "")), vec![], "bad.yaml:1", "apiVersion"),
        ("unknown kind with --strict", one("apiVersion: v1\nkind: Service\nmetadata: {name: s}\n".into()), vec!["--strict"], "bad.yaml:2", "kind: Unsupported value"),
        ("missing name", one(with("  name: web\n", "  labels: {a: b}\n")), vec![], "bad.yaml:4", "metadata.name: Required value"),
        ("invalid name", one(with("  name: web\n", "  name: Web_1\n")), vec![], "bad.yaml:4", "RFC 1123"),
        ("invalid namespace", one(with("  name: web\n", "  name: web\n  namespace: Prod!\n")), vec![], "bad.yaml:5", "metadata.namespace"),
        ("duplicate object in a file", one(format!("{GOOD}---\n{GOOD}")), vec![], "bad.yaml:24", "Duplicate value"),
        ("conflicting objects across files", vec![("a.yaml", GOOD.into()), ("bad.yaml", GOOD.into())], vec![], "bad.yaml:4", "also defined at a.yaml:4"),
        ("HPA target not declared", one(hpa("  scaleTargetRef: {kind: Deployment, name: api}\n  maxReplicas: 3\n")), vec![], "bad.yaml:25", "Deployment/default/api is not declared"),
        ("HPA target without a scale", one(hpa("  scaleTargetRef: {kind: DaemonSet, name: web}\n  maxReplicas: 3\n")), vec![], "bad.yaml:25", "Invalid value: \"DaemonSet\""),
        ("HPA minReplicas above maxReplicas", one(hpa("  scaleTargetRef: {kind: Deployment, name: web}\n  minReplicas: 5\n  maxReplicas: 2\n")), vec![], "bad.yaml:27", "must be greater than or equal to `minReplicas`"),
        ("HPA unknown metric type", one(hpa("  scaleTargetRef: {kind: Deployment, name: web}\n  maxReplicas: 3\n  metrics: [{type: Queue}]\n")), vec![], "bad.yaml:27", "Unsupported value: \"Queue\""),
        ("HPA on a Job", one(hpa("  scaleTargetRef: {kind: Job, name: web}\n  maxReplicas: 3\n")), vec![], "bad.yaml:25", "Invalid value: \"Job\""),
        ("HPA Pods metric", one(hpa("  scaleTargetRef: {kind: Deployment, name: web}\n  maxReplicas: 3\n  metrics: [{type: Pods, pods: {}}]\n")), vec![], "bad.yaml:27", "need a metrics adapter"),
        ("HPA unknown resource", one(hpa("  scaleTargetRef: {kind: Deployment, name: web}\n  maxReplicas: 3\n  metrics:\n  - type: Resource\n    resource: {name: gpu, target: {type: Utilization, averageUtilization: 50}}\n")), vec![], "bad.yaml:29", "Unsupported value: \"gpu\""),
        ("demand of an unknown resource", one(with("annotations: {team: web}", "annotations: {team: web, orch.dev/demand: \"gpu: 0s=1\"}")), vec![], "bad.yaml:12", "orch.dev/demand"),
        ("demand that does not parse", one(with("annotations: {team: web}", "annotations: {team: web, orch.dev/demand: \"cpu: soon=1\"}")), vec![], "bad.yaml:12", "\"soon\" is not a duration"),
        ("NodeGroup template without allocatable", one("apiVersion: orch.dev/v1\nkind: NodeGroup\nmetadata: {name: general}\nspec:\n  maxSize: 3\n  template:\n    metadata: {labels: {a: b}}\n".into()), vec![], "bad.yaml:7", "allocatable"),
        ("NodeGroup minSize above maxSize", one("apiVersion: orch.dev/v1\nkind: NodeGroup\nmetadata: {name: general}\nspec:\n  minSize: 4\n  maxSize: 3\n  template:\n    status: {allocatable: {cpu: \"4\"}}\n".into()), vec![], "bad.yaml:6", "must be greater than or equal to `minSize`"),
        ("NodeGroup provisionDelay not a duration", one("apiVersion: orch.dev/v1\nkind: NodeGroup\nmetadata: {name: general}\nspec:\n  maxSize: 3\n  provisionDelay: soon\n  template:\n    status: {allocatable: {cpu: \"4\"}}\n".into()), vec![], "bad.yaml:6", "spec.provisionDelay"),
        ("selector does not match the labels", one(with("      labels: {app: web}", "      labels: {app: api}")), vec![], "bad.yaml:11", "selector"),
        ("missing selector", one(with("  selector:\n    matchLabels: {app: web}\n", "")), vec![], "bad.yaml:", "spec.selector: Required value"),
        ("empty selector", one(with("    matchLabels: {app: web}", "    matchLabels: {}")), vec![], "bad.yaml:8", "empty selector"),
        ("no containers", one(with("      containers:\n        - name: web\n          image: nginx\n          resources:\n            requests: {cpu: 100m, memory: 64Mi}\n            limits: {memory: 128Mi}\n", "      containers: []\n")), vec![], "bad.yaml:14", "containers: Required value"),
        ("bad cpu quantity", one(with("cpu: 100m", "cpu: 1.2.3")), vec![], "bad.yaml:18", "quantities must match"),
        ("bad memory suffix", one(with("memory: 64Mi", "memory: 64MB")), vec![], "bad.yaml:18", "requests.memory"),
        ("quantity overflow", one(with("cpu: 100m", "cpu: \"1e400\"")), vec![], "bad.yaml:18", "quantity is too large"),
        ("negative request", one(with("cpu: 100m", "cpu: -1")), vec![], "bad.yaml:18", "greater than or equal to 0"),
        ("request above limit", one(with("memory: 64Mi}", "memory: 1Gi}")), vec![], "bad.yaml:18", "less than or equal to memory limit"),
        ("percent without %", one(strategy("  strategy:\n    rollingUpdate: {maxSurge: \"25\"}\n")), vec![], "bad.yaml:8", "a valid percent string"),
        ("maxUnavailable above 100%", one(strategy("  strategy:\n    rollingUpdate: {maxUnavailable: 150%}\n")), vec![], "bad.yaml:8", "100%"),
        ("surge and unavailable both 0", one(strategy("  strategy:\n    rollingUpdate: {maxSurge: 0, maxUnavailable: 0}\n")), vec![], "bad.yaml:8", "may not be 0"),
        ("unknown strategy type", one(strategy("  strategy: {type: BlueGreen}\n")), vec![], "bad.yaml:7", "strategy.type: Unsupported value"),
        ("Recreate with rollingUpdate", one(strategy("  strategy:\n    type: Recreate\n    rollingUpdate: {maxSurge: 1}\n")), vec![], "bad.yaml:9", "Forbidden"),
        ("unknown toleration operator", one(pod("      tolerations: [{key: a, operator: Maybe}]\n")), vec![], "bad.yaml:14", "operator"),
        ("unknown toleration effect", one(pod("      tolerations: [{key: a, operator: Exists, effect: Sometimes}]\n")), vec![], "bad.yaml:14", "effect"),
        ("Exists with a value", one(pod("      tolerations: [{key: a, operator: Exists, value: b}]\n")), vec![], "bad.yaml:14", "value must be empty"),
        ("maxSkew below 1", one(pod("      topologySpreadConstraints: [{maxSkew: 0, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}]\n")), vec![], "bad.yaml:14", "maxSkew"),
        ("unknown whenUnsatisfiable", one(pod("      topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: Never}]\n")), vec![], "bad.yaml:14", "whenUnsatisfiable"),
        ("In without values", one(pod("      nodeSelector: {}\n      affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: a, operator: In}]}]}}}\n")), vec![], "bad.yaml:15", "values: Required value"),
        ("bad ready-after", one(with("annotations: {team: web}", "annotations: {orch.dev/ready-after: soon}")), vec![], "bad.yaml:12", "orch.dev/ready-after"),
        ("bad simulate", one(with("annotations: {team: web}", "annotations: {orch.dev/simulate: explode}")), vec![], "bad.yaml:12", "never-ready, crash-after"),
        ("dependency cycle", one(format!("{}{}", depends("a", "Deployment/b"), depends("b", "Deployment/a"))), vec![], "bad.yaml:", "dependency cycle: Deployment/default/a -> Deployment/default/b -> Deployment/default/a"),
        ("missing dependency", one(depends("a", "Deployment/ghost")), vec![], "bad.yaml:6", "Deployment/default/ghost is not declared"),
        ("node with an unknown taint effect", one(node_doc("spec: {taints: [{key: a, effect: Never}]}\n")), vec![], "bad.yaml:4", "effect"),
        ("node with negative cpu", one(node_doc("status: {allocatable: {cpu: \"-2\"}}\n")), vec![], "bad.yaml:4", "status.allocatable.cpu"),
        ("budget with both bounds", one("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: p}\nspec: {minAvailable: 1, maxUnavailable: 1, selector: {}}\n".into()), vec![], "bad.yaml:4", "cannot be both set"),
        ("alias bomb", one(bomb), vec![], "bad.yaml:", "budget"),
        ("10,000-level nesting", one(nesting), vec![], "bad.yaml:4", "recursion limit"),
        ("binary file", vec![("bad.yaml", b"\x00\x01\x02 binary \x7f".to_vec())], vec![], "bad.yaml", "bad.yaml"),
        ("non-UTF-8", vec![("bad.yaml", b"kind: Node\nmetadata: {name: caf\xe9}\n".to_vec())], vec![], "bad.yaml", "not UTF-8 text (invalid byte at offset 31)"),
        ("a 100 MB manifest", vec![("bad.yaml", vec![b'#'; 100 << 20])], vec![], "bad.yaml", "larger than 64 MiB"),
        ("two million YAML nodes (bounded memory)", one(format!("apiVersion: v1\nkind: Node\nmetadata: {{name: n9, labels: {{a: [{}0]}}}}\n", "0,".repeat(2_100_000))), vec![], "bad.yaml:", "budget"),
    ]
}

#[test]
fn the_bad_input_catalogue() {
    let cluster = Cluster::new();
    cluster.write("ok.yaml", &node("n1").cpu("4").yaml());
    cluster.run(&["apply", "-f", "ok.yaml", "-q"]).success();
    let state = cluster.state_bytes();
    let cases = cases();
    let mut failures = Vec::new();
    for (case, files, extra, location, needle) in &cases {
        let dir = cluster.path("case");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in files {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
        let output = cluster
            .orch()
            .current_dir(&dir)
            .args(["apply"])
            .args(extra)
            .args(files.iter().flat_map(|(n, _)| ["-f", *n]))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let problems: Vec<&str> = [
            (output.status.code() != Some(1)).then_some("exit code"),
            (!stderr.contains(location)).then_some("location"),
            (!stderr.contains(needle)).then_some("message"),
            (stderr.lines().count() > 30).then_some("longer than a screen"),
            stderr.contains("panicked").then_some("panic"),
            (cluster.state_bytes() != state).then_some("state changed"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !problems.is_empty() {
            failures.push(format!(
                "{case}: {problems:?} (exit {:?}; want `{location}` and `{needle}`):\n{stderr}",
                output.status.code()
            ));
        }
    }
    assert!(cases.len() >= 40, "{} cases", cases.len());
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn odd_paths_and_state_files_are_refused() {
    let cluster = Cluster::new();
    cluster.write("ok.yaml", &node("n1").cpu("4").yaml());
    cluster.run(&["apply", "-f", "ok.yaml", "-q"]).success();
    let state = cluster.state_bytes();
    // A directory without manifests, a missing file, a symlink loop.
    std::fs::create_dir_all(cluster.path("empty")).unwrap();
    cluster
        .run(&["apply", "-f", "empty"])
        .code(1)
        .stderr(predicates::str::contains("no manifests found"));
    cluster
        .run(&["apply", "-f", "nope.yaml"])
        .code(1)
        .stderr(predicates::str::contains("nope.yaml: no such file"));
    #[cfg(unix)]
    {
        std::fs::create_dir_all(cluster.path("looped/inner")).unwrap();
        cluster.write("looped/inner/n.yaml", &node("n2").cpu("4").yaml());
        std::os::unix::fs::symlink(cluster.path("looped"), cluster.path("looped/inner/back"))
            .unwrap();
        cluster
            .run(&["apply", "-f", "looped"])
            .code(1)
            .stderr(predicates::str::contains("symlink loop"));
    }
    assert_eq!(cluster.state_bytes(), state);
    // A state file that is a directory, one from a newer orch, an unwritable place.
    std::fs::create_dir_all(cluster.path("dir.yaml")).unwrap();
    cluster
        .orch()
        .env("ORCH_STATE", cluster.path("dir.yaml"))
        .args(["apply", "-f", "ok.yaml"])
        .assert()
        .code(1);
    cluster.write(
        "future.yaml",
        "apiVersion: orch.dev/v9\nkind: State\ngeneration: 1\nclock: 0\n",
    );
    cluster
        .orch()
        .env("ORCH_STATE", cluster.path("future.yaml"))
        .args(["apply", "-f", "ok.yaml"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "apiVersion orch.dev/v9 is not supported",
        ));
    assert_eq!(
        std::fs::read_to_string(cluster.path("future.yaml")).unwrap(),
        "apiVersion: orch.dev/v9\nkind: State\ngeneration: 1\nclock: 0\n"
    );
    cluster
        .orch()
        .env("ORCH_STATE", "/proc/orch-test/orch.state.yaml")
        .args(["apply", "-f", "ok.yaml"])
        .assert()
        .code(1);
}

/// Manifest content is data: orch never starts another program or a shell, so
/// nothing in a manifest can be executed or interpolated into a command line.
#[test]
fn orch_never_runs_other_programs() {
    fn sources(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    let mut files = Vec::new();
    sources(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    assert!(files.len() > 20, "the source tree was not found");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for forbidden in ["process::Command", "Command::new", "libc::exec", "execve"] {
            assert!(
                !text.contains(forbidden),
                "{}: uses `{forbidden}`",
                file.display()
            );
        }
    }
}

/// A misspelt kind, field or value names what was most likely meant, at the
/// same file:line:col; a kind that is merely unsupported is still skipped.
#[test]
fn misspellings_in_manifests_suggest_the_intended_name() {
    let cluster = Cluster::new();
    let cases = [
        (
            GOOD.replacen("kind: Deployment", "kind: Deploymnet", 1),
            "bad.yaml:2:7: kind: Unsupported value: \"Deploymnet\": supported kinds: Deployment, DaemonSet, Node, PodDisruptionBudget, PriorityClass, StatefulSet, PersistentVolume, PersistentVolumeClaim, StorageClass, Job, CronJob, Pod, ReplicaSet, ReplicationController (did you mean `Deployment`?)",
        ),
        (
            with("  replicas: 2", "  replicaz: 2"),
            "bad.yaml:6:3: spec.replicaz: unknown field `replicaz`: did you mean `replicas`?",
        ),
        (
            with("          image: nginx", "          imgae: nginx"),
            "bad.yaml:16:11: spec.template.spec.containers[0].imgae: unknown field `imgae`: did you mean `image`?",
        ),
        (
            strategy("  strategy: {type: RollingUpdte}\n"),
            "bad.yaml:7:20: spec.strategy.type: Unsupported value: \"RollingUpdte\": supported values: \"Recreate\", \"RollingUpdate\" (did you mean `RollingUpdate`?)",
        ),
        (
            pod("      tolerations: [{key: a, operator: Exist}]\n"),
            "bad.yaml:14:40: spec.template.spec.tolerations[0].operator: Unsupported value: \"Exist\": supported values: \"Equal\", \"Exists\" (did you mean `Exists`?)",
        ),
        (
            with("  replicas: 2", "  zzzzzzzz: 2"),
            "bad.yaml:6:3: spec.zzzzzzzz: unknown field `zzzzzzzz`, expected one of `replicas`, `selector`, `template`, `strategy`, `minReadySeconds`, `revisionHistoryLimit`, `paused`, `progressDeadlineSeconds`",
        ),
    ];
    for (text, expected) in cases {
        cluster.write("bad.yaml", &text);
        let output = cluster
            .orch()
            .args(["validate", "-f", "bad.yaml"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert_eq!(
            stderr,
            format!("{expected}\nerror: 1 error in manifests; nothing was changed\n")
        );
    }
    // Another real kind is no typo: skipped with a notice, as before.
    cluster.write(
        "svc.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\n",
    );
    cluster.write("ok.yaml", GOOD);
    cluster
        .run(&["validate", "-f", "svc.yaml", "-f", "ok.yaml"])
        .success()
        .stderr("notice: svc.yaml:2:7: skipping unsupported kind Service s (v1)\nvalid: 0 node(s), 1 workload(s), 0 PodDisruptionBudget(s)\n");
}

/// Names given to commands that are not in the state: the closest ones.
#[test]
fn unknown_names_given_to_commands_suggest_the_closest() {
    let cluster = Cluster::example();
    cluster.run(&["apply", "-f", "manifests/", "-q"]).success();
    let state = cluster.state_bytes();
    let path = cluster.state();
    let path = path.display();
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["node", "drain", "node-x"],
            format!("error: node node-x not found in state {path}; did you mean `node-a1`, `node-b1` or `node-c1`?\n"),
        ),
        (
            vec!["node", "cordon", "gpu-c3"],
            format!("error: node gpu-c3 not found in state {path}; did you mean `gpu-c2`?\n"),
        ),
        (
            vec!["rollout", "status", "apy"],
            "error: no workload named apy in the state; did you mean `api`?\n".to_string(),
        ),
        (
            vec!["rollout", "history", "Deployment/wroker"],
            "error: Deployment/default/wroker is not in the state; did you mean `Deployment/default/worker`?\n".to_string(),
        ),
        (
            vec!["node", "drain", "completely-different"],
            format!("error: node completely-different not found in state {path}\n"),
        ),
    ];
    for (args, expected) in cases {
        cluster.run(&args).code(1).stdout("").stderr(expected);
    }
    // Mistyped subcommands and resource names: clap's own suggestion, exit 1 (not 2).
    cluster
        .run(&["get", "nodez"])
        .code(1)
        .stderr(predicates::str::contains(
            "tip: a similar value exists: 'nodes'",
        ));
    cluster
        .run(&["rolout", "status", "api"])
        .code(1)
        .stderr(predicates::str::contains(
            "tip: a similar subcommand exists: 'rollout'",
        ));
    assert_eq!(cluster.state_bytes(), state);
}

/// A populated cluster: two nodes and a workload in `platform/`, applied.
fn populated() -> (Cluster, Vec<u8>) {
    let cluster = Cluster::new();
    cluster.write("platform/nodes.yaml", &node("n1").yaml());
    cluster.write("platform/apps/web.yaml", GOOD);
    cluster.run(&["apply", "-f", "platform", "-q"]).success();
    let state = cluster.state_bytes();
    (cluster, state)
}

/// A manifest the user may not read is an error naming it, and nothing is
/// pruned. Root reads any file, so under root the command runs as `nobody`
/// (uid 65534, through `setpriv`): the case is exercised either way.
#[cfg(unix)]
#[test]
fn a_manifest_without_read_permission_is_an_error_even_for_root() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let (cluster, state) = populated();
    let root = std::fs::metadata(cluster.state()).unwrap().uid() == 0;
    let open = |path: std::path::PathBuf, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    for dir in ["", "platform", "platform/apps"] {
        open(cluster.path(dir), 0o777);
    }
    open(cluster.path("platform/nodes.yaml"), 0o644);
    open(cluster.state(), 0o666);
    open(cluster.path("platform/apps/web.yaml"), 0o000);
    let mut command = if root {
        let mut command = std::process::Command::new("setpriv");
        command
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(assert_cmd::cargo::cargo_bin("orch"));
        command
    } else {
        std::process::Command::new(assert_cmd::cargo::cargo_bin("orch"))
    };
    let output = command
        .args(["apply", "-f", "platform", "--prune-all"])
        .current_dir(cluster.path(""))
        .env("ORCH_STATE", cluster.state())
        .output()
        .expect("setpriv runs (util-linux)");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("platform/apps/web.yaml") && stderr.contains("ermission denied"),
        "{stderr}"
    );
    assert_eq!(
        cluster.state_bytes(),
        state,
        "the refused apply changed the state"
    );
}

/// Issue 25, findings 1 and 2: what cannot be read is an error naming it,
/// before anything is planned — never an empty set that prunes.
#[cfg(unix)]
#[test]
fn unreadable_entries_and_closed_stdin_never_prune() {
    use std::os::unix::fs::symlink;
    let (cluster, state) = populated();
    let refused = |args: &[&str], needle: &str| {
        let output = cluster.orch().args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains(needle),
            "{args:?}: want {needle:?} in {stderr}"
        );
        assert!(!String::from_utf8_lossy(&output.stdout).contains("delete"));
        assert_eq!(cluster.state_bytes(), state, "{args:?} changed the state");
    };
    // The workload's directory moved away behind a symlink that now dangles.
    std::fs::rename(cluster.path("platform/apps"), cluster.path("apps-moved")).unwrap();
    symlink(cluster.path("gone"), cluster.path("platform/apps")).unwrap();
    for verb in ["apply", "plan"] {
        refused(
            &[verb, "-f", "platform", "--prune-all"],
            "platform/apps: symlink to",
        );
    }
    std::fs::remove_file(cluster.path("platform/apps")).unwrap();
    // A symlink loop, and a loop that is the only entry of a directory.
    symlink(cluster.path("platform/apps"), cluster.path("platform/apps")).unwrap();
    refused(&["apply", "-f", "platform"], "platform/apps: symlink loop");
    std::fs::create_dir(cluster.path("only")).unwrap();
    symlink(cluster.path("only/x.yaml"), cluster.path("only/x.yaml")).unwrap();
    refused(&["apply", "-f", "only"], "only/x.yaml: symlink loop");
    std::fs::remove_file(cluster.path("platform/apps")).unwrap();
    std::fs::rename(cluster.path("apps-moved"), cluster.path("platform/apps")).unwrap();

    // stdin as /dev/null, and closed (`<&-`), for every command that reads it.
    let closed = |args: &str| {
        let output = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("exec \"$0\" {args} <&-"))
            .arg(assert_cmd::cargo::cargo_bin("orch"))
            .current_dir(cluster.path(""))
            .env("ORCH_STATE", cluster.state())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args}: {stderr}");
        assert!(
            stderr.contains("<stdin>: nothing was read"),
            "{args}: {stderr}"
        );
        assert_eq!(cluster.state_bytes(), state, "{args} changed the state");
    };
    for args in ["apply -f - --prune-all", "plan -f -", "import -f - --force"] {
        closed(args);
        let argv: Vec<&str> = args.split(' ').collect();
        let output = std::process::Command::new(assert_cmd::cargo::cargo_bin("orch"))
            .args(&argv)
            .current_dir(cluster.path(""))
            .env("ORCH_STATE", cluster.state())
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{args} < /dev/null");
        assert_eq!(cluster.state_bytes(), state);
    }

    // A FIFO inside a directory is skipped, and said.
    let fifo = cluster.path("platform/pipe.yaml");
    if std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success())
    {
        let output = cluster
            .orch()
            .args(["apply", "-f", "platform"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{stderr}");
        assert!(
            stderr.contains("platform/pipe.yaml: skipped, a FIFO is not a regular file"),
            "{stderr}"
        );
        assert_eq!(cluster.state_bytes(), state);
    }
}

/// Issue 25, finding 7: a generation or clock near `u64::MAX` would wrap on
/// the next write or miss every deadline; it is refused, located, untouched.
#[test]
fn state_values_out_of_range_are_located_and_left_alone() {
    let (cluster, state) = populated();
    let text = String::from_utf8(state).unwrap();
    for (key, value) in [("generation", u64::MAX), ("clock", u64::MAX - 60)] {
        let line = text
            .lines()
            .position(|l| l.starts_with(&format!("{key}:")))
            .unwrap();
        let edited: String = text
            .lines()
            .enumerate()
            .map(|(i, l)| {
                if i == line {
                    format!("{key}: {value}\n")
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        std::fs::write(cluster.state(), &edited).unwrap();
        for args in [&["apply", "-f", "platform"][..], &["get", "nodes"]] {
            let output = cluster.orch().args(args).output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
            let located = format!(
                "orch.state.yaml:{}:{}: {key}: {value} is out of range",
                line + 1,
                key.len() + 3
            );
            assert!(stderr.contains(&located), "want {located:?} in {stderr}");
            assert_eq!(std::fs::read_to_string(cluster.state()).unwrap(), edited);
        }
    }
}

/// Issue 25, finding 8: errors are capped at one screen — 10,000 copies of
/// one object print the first few and a count, not 10,000 lines.
#[test]
fn errors_are_capped_at_one_screen() {
    let (cluster, state) = populated();
    cluster.write("many.yaml", &node("n1").yaml().repeat(10_000));
    for verb in ["apply", "plan", "validate"] {
        let output = cluster
            .orch()
            .args([verb, "-f", "many.yaml"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{verb}");
        assert!(
            stderr.lines().count() <= 25,
            "{verb}: {} lines",
            stderr.lines().count()
        );
        assert!(stderr.contains("more of the same kind"), "{verb}: {stderr}");
        assert!(
            stderr.contains("9999 errors in manifests"),
            "{verb}: {stderr}"
        );
        assert_eq!(cluster.state_bytes(), state);
    }
}

/// One way an input can be faulty (or, for `Drop` and `Fifo`, merely odd).
#[derive(Debug, Clone)]
enum Fault {
    /// A symlink in `platform/` (under this name) to nothing.
    Dangling(&'static str),
    /// A symlink in `platform/` pointing at itself.
    Loop(&'static str),
    /// A FIFO in `platform/`: skipped with a notice, not an error.
    Fifo,
    /// Workload file `i` made unreadable (no effect when running as root).
    Unreadable(usize),
    /// Workload file `i` with broken YAML appended.
    Corrupt(usize),
    /// Workload `i` defined a second time, in another file.
    Duplicate(usize),
    /// Workload file `i` removed: the one deletion the input asks for.
    Drop(usize),
}

#[derive(Debug, Clone)]
enum Tamper {
    Changed(usize),
    Appended,
    Removed(usize),
    Outcome,
}

#[derive(Debug, Clone)]
enum Run {
    Apply {
        prune_all: bool,
    },
    Plan,
    /// `-f -` with stdin closed (`<&-`) or `/dev/null`.
    Stdin {
        verb: &'static str,
        closed: bool,
    },
    /// `apply PLAN` of a saved plan, tampered or not.
    Saved(Option<Tamper>),
}

const WORKLOADS: usize = 3;

fn fault() -> impl proptest::strategy::Strategy<Value = Fault> {
    use proptest::prelude::*;
    let names = prop::sample::select(vec!["apps2", "x.yaml", "notes.txt", "zz"]);
    prop_oneof![
        names.clone().prop_map(Fault::Dangling),
        names.prop_map(Fault::Loop),
        Just(Fault::Fifo),
        (0..WORKLOADS).prop_map(Fault::Unreadable),
        (0..WORKLOADS).prop_map(Fault::Corrupt),
        (0..WORKLOADS).prop_map(Fault::Duplicate),
        (0..WORKLOADS).prop_map(Fault::Drop),
    ]
}

fn run() -> impl proptest::strategy::Strategy<Value = Run> {
    use proptest::prelude::*;
    let tamper = prop_oneof![
        (0usize..8).prop_map(Tamper::Changed),
        Just(Tamper::Appended),
        (0usize..8).prop_map(Tamper::Removed),
        Just(Tamper::Outcome),
    ];
    prop_oneof![
        any::<bool>().prop_map(|prune_all| Run::Apply { prune_all }),
        Just(Run::Plan),
        (
            prop::sample::select(vec!["apply", "plan", "import"]),
            any::<bool>()
        )
            .prop_map(|(verb, closed)| Run::Stdin { verb, closed }),
        proptest::option::of(tamper).prop_map(Run::Saved),
    ]
}

/// The populated cluster every case starts from: its files, its state, and
/// a saved plan (an image change) made against that state.
struct Base {
    files: Vec<(String, String)>,
    state: Vec<u8>,
    plan: serde_json::Value,
    /// A FIFO to link into a case (`mkfifo` once, not once per case).
    fifo: Option<std::path::PathBuf>,
    _dir: tempfile::TempDir,
}

fn workload_file(i: usize, image: &str) -> String {
    let name = format!("w{i}");
    crate::common::deployment(&name)
        .replicas(2)
        .image(&format!("{image}{name}:1"))
        .yaml()
}

fn base() -> Base {
    let cluster = Cluster::new();
    let mut files = vec![(
        "platform/nodes.yaml".to_string(),
        node("n1").yaml() + &node("n2").yaml(),
    )];
    for i in 0..WORKLOADS {
        files.push((
            format!("platform/apps/w{i}.yaml"),
            workload_file(i, "example/"),
        ));
    }
    for (name, text) in &files {
        cluster.write(name, text);
    }
    cluster.run(&["apply", "-f", "platform", "-q"]).success();
    let state = cluster.state_bytes();
    cluster.write("platform/apps/w0.yaml", &workload_file(0, "example/v2-"));
    cluster
        .run(&["plan", "-f", "platform", "--out", "plan.json", "-q"])
        .success();
    let plan = serde_json::from_slice(&std::fs::read(cluster.path("plan.json")).unwrap()).unwrap();
    assert_eq!(cluster.state_bytes(), state);
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let fifo = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success())
        .then_some(fifo);
    Base {
        files,
        state,
        plan,
        fifo,
        _dir: dir,
    }
}

fn workloads_in(path: &std::path::Path) -> Vec<String> {
    orch::state_store::load(path)
        .unwrap()
        .workloads
        .iter()
        .map(|w| w.id().to_string())
        .collect()
}

/// Carry out one case; `Err` names what broke the property.
fn check(base: &Base, faults: &[Fault], run: &Run) -> Result<(), String> {
    use std::os::unix::fs::{PermissionsExt, symlink};
    let cluster = Cluster::new();
    for (name, text) in &base.files {
        cluster.write(name, text);
    }
    std::fs::write(cluster.state(), &base.state).unwrap();
    let platform = cluster.path("platform");
    // Whether the input is faulty enough that the command must fail, and
    // which workloads the input legitimately asks to delete.
    let mut must_fail = false;
    let mut dropped = Vec::new();
    let root = {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(cluster.state()).unwrap().uid() == 0
    };
    // Removals first, so that a later fault sees the files that remain.
    let mut faults = faults.to_vec();
    faults.sort_by_key(|f| !matches!(f, Fault::Drop(_)));
    for fault in &faults {
        let app = |i: usize| platform.join(format!("apps/w{i}.yaml"));
        match fault {
            Fault::Dangling(name) => {
                let _ = symlink(cluster.path("gone"), platform.join(name));
                must_fail = true;
            }
            Fault::Loop(name) => {
                let _ = symlink(platform.join(name), platform.join(name));
                must_fail = true;
            }
            Fault::Fifo => {
                if let Some(fifo) = &base.fifo {
                    let _ = std::fs::hard_link(fifo, platform.join("pipe.yaml"));
                }
            }
            Fault::Unreadable(i) if app(*i).exists() => {
                std::fs::set_permissions(app(*i), std::fs::Permissions::from_mode(0o000)).unwrap();
                must_fail |= !root;
            }
            Fault::Corrupt(i) if app(*i).exists() => {
                let text = std::fs::read_to_string(app(*i)).unwrap_or_default();
                let _ = std::fs::write(app(*i), text + "spec: [unclosed\n");
                must_fail = true;
            }
            Fault::Duplicate(i) => {
                // A dropped workload's copy is its only definition again.
                must_fail |= app(*i).exists();
                let id = format!("Deployment/default/w{i}");
                dropped.retain(|d| *d != id);
                cluster.write(
                    &format!("platform/copy{i}.yaml"),
                    &workload_file(*i, "example/"),
                );
            }
            Fault::Drop(i) => {
                // The same file may be dropped twice; it is asked for once.
                let removed = std::fs::remove_file(app(*i)).is_ok();
                if removed {
                    dropped.push(format!("Deployment/default/w{i}"));
                }
            }
            _ => {}
        }
    }
    let plan_path = cluster.path("plan.json");
    let script = match run {
        Run::Apply { prune_all } => {
            format!(
                "exec \"$0\" apply -f platform -q{}",
                if *prune_all { " --prune-all" } else { "" }
            )
        }
        Run::Plan => "exec \"$0\" plan -f platform -q".to_string(),
        Run::Stdin { verb, closed } => {
            must_fail = true;
            let force = if *verb == "import" { " --force" } else { "" };
            let redirect = if *closed { "<&-" } else { "</dev/null" };
            format!("exec \"$0\" {verb} -f -{force} -q {redirect}")
        }
        Run::Saved(tamper) => {
            // A saved plan carries its own manifests: `-f` faults do not reach it.
            dropped.clear();
            let mut plan = base.plan.clone();
            let steps = plan["steps"].as_array_mut().unwrap();
            let n = steps.len();
            match tamper {
                None => {}
                Some(Tamper::Changed(k)) => steps[k % n]["time"] = 999_999.into(),
                Some(Tamper::Appended) => steps.push(steps[n - 1].clone()),
                Some(Tamper::Removed(k)) => {
                    steps.remove(k % n);
                }
                Some(Tamper::Outcome) => plan["outcome"] = "Blocked".into(),
            }
            must_fail = tamper.is_some();
            std::fs::write(&plan_path, plan.to_string()).unwrap();
            "exec \"$0\" apply plan.json -q".to_string()
        }
    };
    // A shell only where stdin must be closed; otherwise orch itself.
    let binary = assert_cmd::cargo::cargo_bin("orch");
    let mut command = if script.contains("<&-") {
        let mut shell = std::process::Command::new("sh");
        shell.arg("-c").arg(&script).arg(binary);
        shell
    } else {
        let mut direct = std::process::Command::new(binary);
        let words = script.trim_start_matches("exec \"$0\" ");
        let (words, null) = match words.strip_suffix(" </dev/null") {
            Some(words) => (words, true),
            None => (words, false),
        };
        direct.args(words.split(' '));
        if null {
            direct.stdin(std::process::Stdio::null());
        }
        direct
    };
    let output = command
        .current_dir(cluster.path(""))
        .env("ORCH_STATE", cluster.state())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let code = output.status.code();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let after = std::fs::read(cluster.state()).unwrap();
    let failed = code == Some(1);
    if failed && after != base.state {
        return Err(format!("exit 1 changed the state: {stderr}"));
    }
    if must_fail && !failed {
        return Err(format!(
            "a faulty input was accepted (exit {code:?}): {stderr}"
        ));
    }
    if matches!(run, Run::Plan) && after != base.state {
        return Err("plan changed the state".into());
    }
    let kept = workloads_in(&cluster.state());
    let before = {
        let path = cluster.path("before.yaml");
        std::fs::write(&path, &base.state).unwrap();
        workloads_in(&path)
    };
    for workload in before {
        if !kept.contains(&workload) && !dropped.contains(&workload) {
            return Err(format!(
                "{workload} was deleted without being asked (exit {code:?}): {stderr}"
            ));
        }
    }
    Ok(())
}

/// Issue 25: no command that fails changes the state, and no command deletes
/// a workload the user's input did not ask to delete — faulty `-f` sets
/// (dangling links, loops, FIFOs, unreadable, corrupt and duplicate files),
/// closed stdin, tampered saved plans, against a populated state checked
/// byte for byte. `ORCH_SAFETY_CASES` sets the number of cases (200 by
/// default; `.ci/run` runs 1,000).
#[cfg(unix)]
#[test]
fn no_failing_command_changes_the_state_and_nothing_is_deleted_unasked() {
    use proptest::strategy::Strategy;
    use proptest::test_runner::{Config, TestRunner};
    let cases = std::env::var("ORCH_SAFETY_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let base = base();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (proptest::collection::vec(fault(), 0..4), run());
    runner
        .run(&strategy.boxed(), |(faults, run)| {
            check(&base, &faults, &run).map_err(proptest::test_runner::TestCaseError::fail)
        })
        .unwrap();
}
