//! Property-based fuzzing on stable Rust: the manifest parser, the quantity
//! parser, label selectors and the state loader take arbitrary input without
//! panicking or hanging. `ORCH_FUZZ_CASES` raises the number of cases (the
//! default keeps CI short); `fuzz/` has cargo-fuzz targets for nightly.

use orch::manifest::{ParseOptions, parse};
use orch::model::labels::LabelSelector;
use orch::model::quantity::Quantity;
use orch::sources::Source;
use orch::state_store;
use proptest::prelude::*;
use std::path::Path;

fn cases() -> u32 {
    std::env::var("ORCH_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  strategy: {rollingUpdate: {maxSurge: 25%, maxUnavailable: 1}}
  template:
    metadata: {labels: {app: web}, annotations: {orch.dev/ready-after: 5s}}
    spec:
      tolerations: [{key: a, operator: Exists}]
      affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: zone, labelSelector: {matchLabels: {app: web}}}]}}
      containers: [{name: c, resources: {requests: {cpu: 100m, memory: 64Mi}}}]
";

fn load(text: &str) {
    let _ = parse(
        &[Source {
            name: "f.yaml".into(),
            text: text.to_string(),
        }],
        &ParseOptions::default(),
    );
}

/// YAML-ish text built from the characters and words that matter to the parser.
fn yamlish() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "\n",
        "  ",
        "- ",
        ": ",
        "{",
        "}",
        "[",
        "]",
        ",",
        "&a ",
        "*a",
        "---\n",
        "\"",
        "'",
        "#",
        "|",
        ">",
        "\t",
        "apiVersion",
        "kind",
        "Deployment",
        "Node",
        "List",
        "items",
        "metadata",
        "name",
        "spec",
        "replicas",
        "template",
        "containers",
        "resources",
        "requests",
        "cpu",
        "1e9",
        "-1",
        "100m",
        "Gi",
        "null",
        "~",
        "yes",
        "selector",
        "matchLabels",
        "app",
        "web",
        "status",
        "allocatable",
        "taints",
        "effect",
        "NoSchedule",
    ]);
    prop::collection::vec(pieces, 0..120).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn the_manifest_parser_takes_any_text(text in "\\PC{0,400}") {
        load(&text);
    }

    #[test]
    fn the_manifest_parser_takes_yamlish_text(text in yamlish()) {
        load(&text);
    }

    /// A real manifest with bytes replaced or removed anywhere.
    #[test]
    fn the_manifest_parser_takes_mutated_manifests(edits in prop::collection::vec((0usize..DEPLOYMENT.len(), any::<u8>(), any::<bool>()), 1..8)) {
        let mut bytes = DEPLOYMENT.as_bytes().to_vec();
        for (at, byte, delete) in edits {
            let at = at % bytes.len().max(1);
            if delete { bytes.remove(at); } else { bytes[at] = byte; }
            if bytes.is_empty() { break; }
        }
        if let Ok(text) = String::from_utf8(bytes) {
            load(&text);
        }
    }

    #[test]
    fn quantities_parse_or_fail_cleanly(text in "\\PC{0,40}") {
        let _ = Quantity::parse(&text);
    }

    #[test]
    fn selectors_parse_or_fail_cleanly(text in "[a-z0-9=!,() ._/-]{0,60}") {
        if let Ok(selector) = LabelSelector::parse(&text) {
            let _ = selector.matches(&Default::default());
        }
    }

    #[test]
    fn selector_matching_agrees_with_its_definition(
        clauses in prop::collection::vec((0u8..6, 0usize..3, prop::collection::vec(0usize..3, 1..3)), 0..4),
        present in prop::collection::vec(prop::option::of(0usize..3), 3),
    ) {
        const KEYS: [&str; 3] = ["app", "tier", "zone"];
        const VALUES: [&str; 3] = ["a", "b", "c"];
        let labels: std::collections::BTreeMap<String, String> = present
            .iter()
            .enumerate()
            .filter_map(|(k, v)| v.map(|v| (KEYS[k].to_string(), VALUES[v].to_string())))
            .collect();
        let mut text = Vec::new();
        let mut expected = true;
        for (op, key, values) in &clauses {
            let (key, value) = (KEYS[*key], labels.get(KEYS[*key]).map(String::as_str));
            let set: Vec<&str> = values.iter().map(|v| VALUES[*v]).collect();
            let (clause, holds) = match op {
                0 => (format!("{key}={}", set[0]), value == Some(set[0])),
                1 => (format!("{key}!={}", set[0]), value != Some(set[0])),
                2 => (format!("{key} in ({})", set.join(",")), value.is_some_and(|v| set.contains(&v))),
                3 => (format!("{key} notin ({})", set.join(",")), !value.is_some_and(|v| set.contains(&v))),
                4 => (key.to_string(), value.is_some()),
                _ => (format!("!{key}"), value.is_none()),
            };
            text.push(clause);
            expected &= holds;
        }
        let selector = LabelSelector::parse(&text.join(",")).expect("well-formed selector");
        prop_assert_eq!(selector.matches(&labels), expected, "selector `{}` on {:?}", text.join(","), labels);
    }

    #[test]
    fn the_state_loader_takes_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600), json in any::<bool>()) {
        let path = if json { Path::new("s.json") } else { Path::new("s.yaml") };
        let _ = state_store::parse(path, &bytes);
    }

    #[test]
    fn the_state_loader_takes_mutated_states(at in 0usize..400, byte in any::<u8>()) {
        let text = "apiVersion: orch.dev/v1\nkind: State\ngeneration: 3\nclock: 10\nnodes:\n- name: n1\n  labels: {a: b}\n  allocatable: {cpu: '4', memory: 8Gi, pods: '110'}\n  ready: true\nreplicas: []\n";
        let mut bytes = text.as_bytes().to_vec();
        let at = at % bytes.len();
        bytes[at] = byte;
        let _ = state_store::parse(Path::new("s.yaml"), &bytes);
    }
}
