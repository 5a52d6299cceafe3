//! CI integration, end to end: `-o github` annotations, `--junit` reports
//! (parsed back and checked against the JUnit shape), and the `plan -o json`
//! field set that CI scripts rely on.

use crate::common::{Cluster, deployment, node, yaml};
use quick_xml::events::Event;
use quick_xml::{Reader, XmlVersion};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;

/// The 1-based line of the first line of `text` that contains `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in {text}"))
        + 1
}

fn stdout_lines(output: &std::process::Output) -> Vec<String> {
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

/// `kind: Deployment` at a known line: a comment header first.
fn web(replicas: i32, cpu: &str) -> String {
    format!(
        "# The web tier.\n# Two lines of comment before it.\n{}",
        deployment("web").replicas(replicas).cpu(cpu).yaml()
    )
}

const BROKEN: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: -1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: main
          image: example/web:1
          resources:
            requests: {cpu: \"1.5.0\", memory: 64Mi}
";

#[test]
fn two_manifest_errors_are_two_error_annotations_at_their_lines() {
    let cluster = Cluster::new();
    cluster.write("manifests/web.yaml", BROKEN);
    for command in ["validate", "plan", "apply"] {
        let output = cluster
            .orch()
            .args([command, "-f", "manifests/", "-o", "github"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{command}");
        let lines = stdout_lines(&output);
        let errors: Vec<&String> = lines.iter().filter(|l| l.starts_with("::error ")).collect();
        assert_eq!(
            errors,
            [
                &format!(
                    "::error file=manifests/web.yaml,line={},col=13,title=orch validate::spec.replicas: Invalid value: -1: must be greater than or equal to 0",
                    line_of(BROKEN, "replicas: -1")
                ),
                &format!(
                    "::error file=manifests/web.yaml,line={},col=29,title=orch validate::spec.template.spec.containers[0].resources.requests.cpu: Invalid value: \"1.5.0\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
                    line_of(BROKEN, "1.5.0")
                ),
            ],
            "{command}: {lines:#?}"
        );
        assert_eq!(
            lines.last().map(String::as_str),
            Some(
                format!(
                    "::notice title=orch {command}::2 errors in manifests; nothing was changed"
                )
                .as_str()
            )
        );
        assert!(
            lines.iter().all(|l| l.starts_with("::")),
            "stdout holds only workflow commands: {lines:#?}"
        );
        assert!(!cluster.state().exists(), "{command} wrote a state");
    }
}

#[test]
fn a_blocked_workload_is_an_error_at_its_declaration_and_exits_3() {
    let cluster = Cluster::new();
    cluster.write("manifests/nodes.yaml", &node("n1").cpu("2").yaml());
    let text = web(3, "1");
    cluster.write("manifests/apps/web.yaml", &text);
    let kind_line = line_of(&text, "kind: Deployment");
    assert_eq!(kind_line, 4);
    for command in ["plan", "apply"] {
        let output = cluster
            .orch()
            .args([command, "-f", "manifests", "-o", "github"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(3), "{command}");
        let lines = stdout_lines(&output);
        assert_eq!(
            lines[0],
            format!(
                "::error file=manifests/apps/web.yaml,line={kind_line},col=7,title=Deployment/default/web blocked (Unschedulable)::0/1 nodes are available: 1 Insufficient cpu. no new claims to deallocate, preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."
            ),
            "{command}"
        );
        assert_eq!(lines.len(), 2, "{lines:#?}");
        assert!(
            lines[1].starts_with(&format!(
                "::notice title=orch {command}::{}: ",
                if command == "plan" { "Plan" } else { "Apply" }
            )) && lines[1].contains("BLOCKED at t="),
            "{}",
            lines[1]
        );
        // The human report is still there, on stderr.
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("Deployment/default/web is blocked (Unschedulable)"),
            "{stderr}"
        );
    }
}

#[test]
fn other_failures_dependency_waits_and_converged_runs_are_annotated_as_such() {
    let cluster = Cluster::new();
    let missing = cluster
        .orch()
        .args(["plan", "-f", "m.yaml", "-o", "github"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    let lines = stdout_lines(&missing);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0].starts_with("::error title=orch plan::") && lines[0].contains("m.yaml"),
        "{lines:#?}"
    );

    cluster.write(
        "m.yaml",
        &yaml(&[
            &node("n1").cpu("2"),
            &deployment("db").replicas(3).cpu("1"),
            &deployment("api").cpu("100m").depends_on("Deployment/db"),
        ]),
    );
    let output = cluster
        .orch()
        .args(["apply", "-f", "m.yaml", "-o", "github"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let lines = stdout_lines(&output);
    let levels: Vec<(&str, &str)> = lines
        .iter()
        .map(|l| {
            let title = l
                .split("title=")
                .nth(1)
                .unwrap()
                .split("::")
                .next()
                .unwrap();
            (l.split(' ').next().unwrap(), title)
        })
        .collect();
    assert_eq!(
        levels,
        [
            (
                "::warning",
                "Deployment/default/api blocked (WaitingForDependency)"
            ),
            ("::error", "Deployment/default/db blocked (Unschedulable)"),
            ("::notice", "orch apply"),
        ],
        "{lines:#?}"
    );

    cluster.write(
        "m.yaml",
        &yaml(&[
            &node("n1").cpu("4"),
            &deployment("web").replicas(2).cpu("500m"),
        ]),
    );
    let output = cluster
        .orch()
        .args(["apply", "-f", "m.yaml", "-o", "github"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let lines = stdout_lines(&output);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0].starts_with("::notice title=orch apply::Apply: 2 to create"),
        "{lines:#?}"
    );
}

#[test]
fn annotations_escape_percent_newline_colon_and_comma() {
    let cluster = Cluster::new();
    let text = BROKEN
        .replace("replicas: -1", "replicas: 1")
        .replace("\"1.5.0\"", "\"50%\\nx\"");
    cluster.write("a,b:c.yaml", &text);
    let output = cluster
        .orch()
        .args(["validate", "-f", "a,b:c.yaml", "-o", "github"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let lines = stdout_lines(&output);
    assert_eq!(
        lines[0],
        format!(
            "::error file=a%2Cb%3Ac.yaml,line={},col=29,title=orch validate::spec.template.spec.containers[0].resources.requests.cpu: Invalid value: \"50%25%0Ax\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
            line_of(&text, "50%")
        )
    );
    assert_eq!(lines.len(), 2, "one error and the summary: {lines:#?}");
}

#[test]
fn skipped_kinds_are_warnings_and_other_commands_refuse_github_output() {
    let cluster = Cluster::new();
    let text =
        node("n1").cpu("4").yaml() + "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\n";
    cluster.write("m.yaml", &text);
    let output = cluster
        .orch()
        .args(["validate", "-f", "m.yaml", "-o", "github"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        stdout_lines(&output),
        [
            format!("::warning file=m.yaml,line={},col=7,title=orch validate::skipping unsupported kind ConfigMap cfg (v1)", line_of(&text, "kind: ConfigMap")),
            "::notice title=orch validate::valid: 1 node(s), 0 workload(s), 0 PodDisruptionBudget(s)".to_string(),
        ]
    );
    cluster
        .run(&["get", "nodes", "-o", "github"])
        .code(1)
        .stderr(predicates::str::contains(
            "`-o github` (GitHub Actions annotations) is for validate, plan and apply",
        ));
}

// ---------------------------------------------------------------- JUnit

/// A parsed XML element: enough of a tree to check the JUnit shape.
#[derive(Debug, Default)]
struct Element {
    name: String,
    attributes: BTreeMap<String, String>,
    children: Vec<Element>,
    text: String,
}

impl Element {
    fn attribute(&self, name: &str) -> &str {
        self.attributes
            .get(name)
            .unwrap_or_else(|| panic!("<{}> has no {name}: {self:?}", self.name))
    }

    fn count(&self, name: &str) -> usize {
        self.attribute(name)
            .parse()
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn children(&self, name: &str) -> Vec<&Element> {
        self.children.iter().filter(|c| c.name == name).collect()
    }
}

fn parse_xml(text: &str) -> Element {
    let mut reader = Reader::from_str(text);
    let mut stack = vec![Element::default()];
    let element = |start: &quick_xml::events::BytesStart| Element {
        name: start.name().as_ref().to_string(),
        attributes: start
            .attributes()
            .map(|a| {
                let a = a.unwrap();
                (
                    a.key.as_ref().to_string(),
                    a.normalized_value(XmlVersion::Explicit1_0)
                        .unwrap()
                        .into_owned(),
                )
            })
            .collect(),
        ..Element::default()
    };
    loop {
        match reader.read_event().unwrap() {
            Event::Start(start) => stack.push(element(&start)),
            Event::Empty(start) => stack.last_mut().unwrap().children.push(element(&start)),
            Event::End(_) => {
                let done = stack.pop().unwrap();
                stack.last_mut().unwrap().children.push(done);
            }
            Event::Text(text) => stack
                .last_mut()
                .unwrap()
                .text
                .push_str(&text.xml10_content()),
            Event::GeneralRef(reference) => {
                let text = &mut stack.last_mut().unwrap().text;
                match reference.resolve_char_ref().unwrap() {
                    Some(c) => text.push(c),
                    None => {
                        let name = reference.as_ref().to_string();
                        text.push_str(
                            quick_xml::escape::resolve_xml_entity(&name)
                                .unwrap_or_else(|| panic!("unknown entity &{name};")),
                        );
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(stack.len(), 1, "unbalanced XML: {text}");
    let mut document = stack.pop().unwrap();
    assert_eq!(document.children.len(), 1, "one root element: {text}");
    document.children.pop().unwrap()
}

/// The JUnit shape: `<testsuites>` holding the one `<testsuite name="orch">`,
/// whose counts match its testcases; each testcase named, with a classname
/// and a time; failures and errors with a message and a type. Returns the
/// suite, its children reduced to the testcases.
fn junit_suite(path: &std::path::Path) -> Element {
    let text = fs::read_to_string(path).unwrap();
    assert!(
        text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
        "{text}"
    );
    let root = parse_xml(&text);
    assert_eq!(root.name, "testsuites");
    assert_eq!(root.children("testsuite").len(), 1, "{text}");
    assert_eq!(root.children.len(), 1, "{text}");
    let suite = &root.children[0];
    assert_eq!(suite.attribute("name"), "orch");
    let cases = suite.children("testcase");
    let with = |tag: &str| cases.iter().filter(|c| !c.children(tag).is_empty()).count();
    for element in [&root, suite] {
        assert_eq!(element.count("tests"), cases.len(), "{text}");
        assert_eq!(element.count("failures"), with("failure"), "{text}");
        assert_eq!(element.count("errors"), with("error"), "{text}");
        assert!(element.attribute("time").parse::<f64>().is_ok());
    }
    for case in &cases {
        assert!(!case.attribute("name").is_empty());
        assert!(!case.attribute("classname").is_empty());
        assert!(case.attribute("time").parse::<f64>().is_ok());
        let outcomes: Vec<&Element> = case.children.iter().collect();
        assert!(outcomes.len() <= 1, "one verdict per testcase: {text}");
        for outcome in outcomes {
            assert!(
                ["failure", "error"].contains(&outcome.name.as_str()),
                "{text}"
            );
            assert!(!outcome.attribute("message").is_empty(), "{text}");
            assert!(!outcome.attribute("type").is_empty(), "{text}");
        }
    }
    let mut suite = root.children.into_iter().next().unwrap();
    suite.children.retain(|c| c.name == "testcase");
    suite
}

/// A failing testcase's verdict: tag (`failure`/`error`), type and message.
type Verdict<'a> = Option<(&'a str, &'a str, &'a str)>;

/// Each testcase as (name, classname, its failure or error).
fn testcases(suite: &Element) -> Vec<(&str, &str, Verdict<'_>)> {
    suite
        .children
        .iter()
        .map(|c| (c.attribute("name"), c.attribute("classname"), verdict(c)))
        .collect()
}

fn verdict(case: &Element) -> Verdict<'_> {
    case.children
        .iter()
        .find(|c| c.name == "failure" || c.name == "error")
        .map(|f| (f.name.as_str(), f.attribute("type"), f.attribute("message")))
}

#[test]
fn junit_of_the_converging_example_passes_every_workload() {
    let cluster = Cluster::example();
    cluster
        .run(&["plan", "-f", "manifests/", "--junit", "report.xml", "-q"])
        .code(0);
    let suite = junit_suite(&cluster.path("report.xml"));
    let cases = testcases(&suite);
    assert_eq!(
        cases,
        [
            ("Deployment/default/api", "manifests/api.yaml", None),
            (
                "Deployment/default/transcoder",
                "manifests/workers.yaml",
                None
            ),
            (
                "Deployment/default/video-worker",
                "manifests/workers.yaml",
                None
            ),
            ("Deployment/default/worker", "manifests/workers.yaml", None),
            (
                "DaemonSet/kube-system/log-agent",
                "manifests/log-agent.yaml",
                None
            ),
            ("StatefulSet/default/db", "manifests/db.yaml", None),
            (
                "CronJob/default/nightly-report",
                "manifests/reports.yaml",
                None
            ),
            (
                "HorizontalPodAutoscaler/default/api",
                "manifests/api.yaml",
                None
            ),
        ]
    );
    // Simulated seconds: db is available at 20s; api, which waits for it, at 36s.
    let time = |name: &str| {
        suite
            .children
            .iter()
            .find(|c| c.attribute("name") == name)
            .unwrap()
            .attribute("time")
            .to_string()
    };
    assert_eq!(
        (
            time("StatefulSet/default/db"),
            time("Deployment/default/api")
        ),
        ("20".into(), "36".into())
    );
    // The run ends at 45s: the HPA's sync that first samples the api's Ready replicas.
    assert_eq!(suite.attribute("time"), "45");
    assert!(!cluster.state().exists(), "plan never writes the state");

    // The same inputs give the same report, byte for byte.
    let first = fs::read(cluster.path("report.xml")).unwrap();
    cluster
        .run(&["plan", "-f", "manifests/", "--junit", "report.xml", "-q"])
        .code(0);
    assert_eq!(first, fs::read(cluster.path("report.xml")).unwrap());
}

#[test]
fn junit_of_a_blocked_run_has_one_failure_with_the_scheduler_message() {
    let cluster = Cluster::new();
    cluster.write(
        "m.yaml",
        &yaml(&[&node("n1").cpu("2"), &deployment("small").cpu("500m")]),
    );
    cluster.write("web.yaml", &web(3, "1"));
    for command in ["plan", "apply"] {
        cluster
            .run(&[
                command,
                "-f",
                "m.yaml",
                "-f",
                "web.yaml",
                "--junit",
                "out/report.xml",
            ])
            .code(1)
            .stderr(predicates::str::contains(
                "writing JUnit report out/report.xml",
            ));
        fs::create_dir_all(cluster.path("out")).unwrap();
        cluster
            .run(&[
                command,
                "-f",
                "m.yaml",
                "-f",
                "web.yaml",
                "--junit",
                "out/report.xml",
            ])
            .code(3);
        let suite = junit_suite(&cluster.path("out/report.xml"));
        let cases = testcases(&suite);
        assert_eq!(
            cases,
            [
                ("Deployment/default/small", "m.yaml", None),
                (
                    "Deployment/default/web",
                    "web.yaml",
                    Some((
                        "failure",
                        "Unschedulable",
                        "0/1 nodes are available: 1 Insufficient cpu. no new claims to deallocate, preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."
                    ))
                ),
            ],
            "{command}"
        );
        let failure = &suite.children[1].children[0];
        assert!(
            failure.text.contains("declared at web.yaml:4:7"),
            "{}",
            failure.text
        );
        assert!(
            failure.text.contains("1 of 3 replicas available"),
            "{}",
            failure.text
        );
        fs::remove_dir_all(cluster.path("out")).unwrap();
    }
}

#[test]
fn junit_reports_manifest_errors_as_failures_and_a_broken_state_as_an_error() {
    let cluster = Cluster::new();
    cluster.write("web.yaml", BROKEN);
    for command in ["validate", "plan", "apply"] {
        cluster
            .run(&[command, "-f", "web.yaml", "--junit", "report.xml"])
            .code(1);
        let suite = junit_suite(&cluster.path("report.xml"));
        let cases = testcases(&suite);
        assert_eq!(
            cases,
            [
                (
                    "web.yaml:6:13 spec.replicas",
                    "web.yaml",
                    Some((
                        "failure",
                        "Invalid",
                        "spec.replicas: Invalid value: -1: must be greater than or equal to 0"
                    ))
                ),
                (
                    "web.yaml:17:29 spec.template.spec.containers[0].resources.requests.cpu",
                    "web.yaml",
                    Some((
                        "failure",
                        "Invalid",
                        "spec.template.spec.containers[0].resources.requests.cpu: Invalid value: \"1.5.0\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
                    ))
                ),
            ],
            "{command}"
        );
    }

    cluster.write("web.yaml", &web(1, "100m"));
    cluster
        .run(&["validate", "-f", "web.yaml", "--junit", "report.xml"])
        .code(0);
    let suite = junit_suite(&cluster.path("report.xml"));
    assert_eq!(suite.children.len(), 1);
    assert_eq!(
        suite.children[0].attribute("name"),
        "Deployment/default/web"
    );
    assert_eq!(verdict(&suite.children[0]), None);

    cluster
        .run(&["apply", "-f", "web.yaml", "--junit", "orch.state.yaml"])
        .code(1)
        .stderr(predicates::str::contains(
            "--junit orch.state.yaml is the state file",
        ));
    assert!(!cluster.state().exists());

    fs::write(cluster.state(), "{ not: [a state").unwrap();
    let before = cluster.state_bytes();
    cluster
        .run(&["apply", "-f", "web.yaml", "--junit", "report.xml"])
        .code(1);
    assert_eq!(before, cluster.state_bytes());
    let suite = junit_suite(&cluster.path("report.xml"));
    let case = &suite.children[0];
    assert_eq!(case.attribute("name"), "orch apply");
    let (tag, kind, message) = verdict(case).unwrap();
    assert_eq!((tag, kind), ("error", "Error"));
    assert!(message.contains("refusing to touch it"), "{message}");
}

#[test]
fn an_atomic_rollback_is_a_warning_and_a_failed_testcase() {
    let cluster = Cluster::example();
    cluster.run(&["apply", "-f", "manifests/", "-q"]).success();
    let path = cluster.path("manifests/api.yaml");
    let text = fs::read_to_string(&path)
        .unwrap()
        .replace("api:1.4.2", "api:2.0.0")
        .replace(
            "labels: {app: api, tier: frontend}",
            "labels: {app: api, tier: frontend}\n      annotations: {orch.dev/simulate: never-ready}",
        );
    fs::write(&path, &text).unwrap();
    let output = cluster
        .orch()
        .args([
            "apply",
            "-f",
            "manifests/",
            "--atomic",
            "-o",
            "github",
            "--junit",
            "report.xml",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let lines = stdout_lines(&output);
    let kind_line = line_of(&text, "kind: Deployment");
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(
        lines[0].starts_with(&format!(
            "::warning file=manifests/api.yaml,line={kind_line},col=7,title=Deployment/default/api rolled back::rolled back Deployment/default/api to revision 1 (ProgressDeadlineExceeded: "
        )),
        "{lines:#?}"
    );
    assert!(
        lines[1].starts_with("::notice title=orch apply::Apply: "),
        "{lines:#?}"
    );

    let suite = junit_suite(&cluster.path("report.xml"));
    let failed: Vec<(&str, Verdict)> = suite
        .children
        .iter()
        .map(|c| (c.attribute("name"), verdict(c)))
        .filter(|(_, v)| v.is_some())
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    let (name, verdict) = failed[0];
    let (tag, kind, message) = verdict.unwrap();
    assert_eq!(
        (name, tag, kind),
        ("Deployment/default/api", "failure", "RolledBack")
    );
    assert!(
        message.starts_with("rolled back Deployment/default/api to revision 1"),
        "{message}"
    );
}

// ---------------------------------------------------------------- plan -o json

/// Every key path of a JSON document (`steps[].actions[].op`), with the JSON
/// types seen at it.
fn key_paths(value: &Value, path: &str, into: &mut BTreeMap<String, BTreeSet<&'static str>>) {
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    if !path.is_empty() {
        into.entry(path.to_string()).or_default().insert(kind);
    }
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let child_path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                key_paths(child, &child_path, into);
            }
        }
        Value::Array(items) => {
            for item in items {
                key_paths(item, &format!("{path}[]"), into);
            }
        }
        _ => {}
    }
}

/// The Plan document is a contract (README "Output for machines"): its field
/// set, pinned on the example platform converging and then blocked. A change
/// here must be deliberate, and documented.
#[test]
fn plan_json_field_set_is_the_documented_contract() {
    let cluster = Cluster::example();
    let converged = cluster.json(&["plan", "-f", "manifests/"]);
    let workers = fs::read_to_string(cluster.path("manifests/workers.yaml")).unwrap();
    // (Beyond what the example's node group can add.)
    let blocked_workers = workers.replacen("replicas: 2", "replicas: 60", 1);
    assert_ne!(workers, blocked_workers);
    cluster.write("manifests/workers.yaml", &blocked_workers);
    let blocked = cluster.json(&["plan", "-f", "manifests/"]);
    assert_eq!(
        (converged["outcome"].as_str(), blocked["outcome"].as_str()),
        (Some("Converged"), Some("Blocked"))
    );
    let mut paths = BTreeMap::new();
    key_paths(&converged, "", &mut paths);
    key_paths(&blocked, "", &mut paths);
    let actual: Vec<String> = paths
        .iter()
        .map(|(path, kinds)| {
            format!(
                "{path}: {}",
                kinds.iter().copied().collect::<Vec<_>>().join("|")
            )
        })
        .collect();
    let expected = [
        "apiVersion: string",
        "autoscalers: array",
        "autoscalers[]: object",
        "autoscalers[].conditions: array",
        "autoscalers[].conditions[]: object",
        "autoscalers[].conditions[].message: string",
        "autoscalers[].conditions[].reason: string",
        "autoscalers[].conditions[].status: string",
        "autoscalers[].conditions[].type: string",
        "autoscalers[].currentMetrics: array",
        "autoscalers[].currentMetrics[]: object",
        "autoscalers[].currentMetrics[].averageUtilization: number",
        "autoscalers[].currentMetrics[].averageValue: number",
        "autoscalers[].currentMetrics[].resource: string",
        "autoscalers[].currentReplicas: number",
        "autoscalers[].desiredReplicas: number",
        "autoscalers[].lastScaleTime: null",
        "autoscalers[].maxReplicas: number",
        "autoscalers[].minReplicas: number",
        "autoscalers[].object: string",
        "autoscalers[].reference: string",
        "clock: number",
        "kind: string",
        "outcome: string",
        "steps: array",
        "steps[]: object",
        "steps[].actions: array",
        "steps[].actions[]: object",
        "steps[].actions[].node: null|string",
        "steps[].actions[].object: string",
        "steps[].actions[].op: string",
        "steps[].actions[].reason: null|string",
        "steps[].actions[].replica: null|string",
        "steps[].actions[].revision: null|number",
        "steps[].autoscalers: array",
        "steps[].autoscalers[]: object",
        "steps[].autoscalers[].current: number",
        "steps[].autoscalers[].desired: number",
        "steps[].autoscalers[].object: string",
        "steps[].autoscalers[].target: string",
        "steps[].nodes: number",
        "steps[].status: array",
        "steps[].status[]: object",
        "steps[].status[].available: number",
        "steps[].status[].current: number",
        "steps[].status[].object: string",
        "steps[].status[].ready: number",
        "steps[].status[].updated: number",
        "steps[].time: number",
        "warnings: array",
        "workloads: array",
        "workloads[]: object",
        "workloads[].available: number",
        "workloads[].blocked: null|object",
        "workloads[].blocked.message: string",
        "workloads[].blocked.reason: string",
        "workloads[].conditions: array",
        "workloads[].conditions[]: object",
        "workloads[].conditions[].message: string",
        "workloads[].conditions[].reason: string",
        "workloads[].conditions[].status: string",
        "workloads[].conditions[].type: string",
        "workloads[].cron: object",
        "workloads[].cron.active: number",
        "workloads[].cron.lastScheduleTime: null",
        "workloads[].cron.nextScheduleTime: number",
        "workloads[].cron.suspended: bool",
        "workloads[].current: number",
        "workloads[].desired: number",
        "workloads[].object: string",
        "workloads[].ready: number",
        "workloads[].updated: number",
    ];
    assert_eq!(actual, expected, "the Plan document's fields changed");
    assert_eq!(converged["apiVersion"], "orch.dev/v1");
    assert_eq!(converged["kind"], "Plan");
}
