use super::to_json;
use proptest::prelude::*;

fn slow(text: &str) -> Option<serde_json::Value> {
    serde_saphyr::from_str::<serde_json::Value>(text).ok()
}

fn fast(text: &str) -> Option<serde_json::Value> {
    to_json(text).map(|json| serde_json::from_str(&json).expect("the fast path writes JSON"))
}

#[test]
fn reads_the_layout_orch_writes() {
    let text = "apiVersion: orch.dev/v1\nkind: State\nclock: 36\nnodes:\n- name: gpu-c2\n  labels:\n    kubernetes.io/hostname: gpu-c2\n  allocatable:\n    cpu: \"8\"\n    memory: 32Gi\n  taints:\n  - key: nvidia.com/gpu\n    effect: NoSchedule\n  empty: []\n  ready: true\n  node: null\n";
    assert_eq!(fast(text), slow(text));
    assert!(fast(text).is_some());
}

#[test]
fn gives_up_where_yaml_could_read_otherwise() {
    for text in [
        "a: yes\n",
        "a: 0x1F\n",
        "a: 1e3\n",
        "a: 1.5\n",
        "a: 007\n",
        "a: ~\n",
        "a: Null\n",
        "a: .inf\n",
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "a: |\n  text\n",
        "a: b # comment\n",
        "a: 1\na: 2\n",
        "a: [1, 2]\n",
        "a: \"\\x41\"\n",
        "---\na: 1\n",
        "a:\n\tb: 1\n",
        "a: plain\n  continued\n",
    ] {
        assert_eq!(fast(text), None, "{text:?}");
    }
}

const SCALARS: &[&str] = &[
    "plain",
    "32Gi",
    "100m",
    "25%",
    "1.4.2",
    "0",
    "7",
    "-3",
    "-0",
    "+5",
    "1_000",
    "0x1F",
    "0o17",
    "017",
    "1e3",
    ".5",
    ".inf",
    "-.Inf",
    ".nan",
    "nan",
    "inf",
    "Infinity",
    "9223372036854775808",
    "18446744073709551616",
    "-9223372036854775809",
    "null",
    "Null",
    "NULL",
    "~",
    "true",
    "True",
    "yes",
    "No",
    "on",
    "y",
    "\"\"",
    "\"quoted: #x\"",
    "\"esc \\\" \\\\ \\n \\t \\u00e9\"",
    "\"\\x41\"",
    "\"\\ud83d\"",
    "''",
    "'it''s'",
    "'a'b'",
    "[]",
    "{}",
    "[1]",
    "a: b",
    "a #b",
    "a#b",
    "a:b",
    "registry.io/x:1.2",
    "kubernetes.io/hostname",
    "é日",
    "&a",
    "*a",
    "!t x",
    "|",
    ">",
    "@x",
    "`x",
    "%x",
    "?x",
    "-x",
    "- x",
    "x:",
    "12:30",
    "1:2:3",
    "beef",
    "Deadbeef",
    "0b101",
    "1.",
    "1e",
    "55cf5b8df6",
    "7d7bb78b7",
    "1e5f",
    "12e3",
    "0X1F",
    "1_0",
    "+1",
    "1:30",
    "1.4.2.x",
];

/// What orch's states are made of, to keep many documents on the fast path.
const COMMON: &[&str] = &[
    "plain",
    "32Gi",
    "100m",
    "25%",
    "0",
    "7",
    "-3",
    "null",
    "true",
    "false",
    "\"8\"",
    "\"True\"",
    "\"\"",
    "[]",
    "{}",
    "registry.io/x:1.2",
    "NoSchedule",
    "55cf5b8df6",
    "a b",
];

fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(COMMON).prop_map(str::to_string),
        1 => prop::sample::select(SCALARS).prop_map(str::to_string),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop::sample::select(&["a", "b", "name", "x.y/z", "k-1", "\"q k\""][..])
            .prop_map(str::to_string),
        1 => prop::sample::select(&["1", "true", "~", "\"a\"", "a"][..]).prop_map(str::to_string),
        1 => scalar(),
    ]
}

/// Random block YAML (as lines at an indentation) in and around orch's layout.
fn block(depth: u32) -> BoxedStrategy<Vec<String>> {
    let leaf = scalar().prop_map(|s| vec![s]).boxed();
    if depth == 0 {
        return leaf;
    }
    let mapping = prop::collection::btree_map(key(), (block(depth - 1), any::<bool>()), 1..4)
        .prop_map(|entries| {
            let mut lines = Vec::new();
            for (key, (value, compact)) in entries {
                if value.len() == 1 && !value[0].starts_with(['-', ' ']) && !value[0].contains(": ")
                {
                    lines.push(format!("{key}: {}", value[0]));
                } else {
                    lines.push(format!("{key}:"));
                    let pad = if compact && value[0].starts_with("- ") {
                        ""
                    } else {
                        "  "
                    };
                    lines.extend(value.iter().map(|l| format!("{pad}{l}")));
                }
            }
            lines
        });
    let sequence = prop::collection::vec(block(depth - 1), 1..4).prop_map(|items| {
        let mut lines = Vec::new();
        for item in items {
            let mut it = item.into_iter();
            if let Some(first) = it.next() {
                lines.push(format!("- {first}"));
            }
            lines.extend(it.map(|l| format!("  {l}")));
        }
        lines
    });
    prop_oneof![2 => leaf, 4 => mapping, 2 => sequence].boxed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6000))]
    #[test]
    fn wherever_the_fast_path_answers_serde_saphyr_agrees(lines in block(3)) {
        let text = lines.join("\n") + "\n";
        if let Some(value) = fast(&text) {
            prop_assert_eq!(Some(value), slow(&text), "{}", text);
        }
    }
}

/// The property above is only as good as how often the fast path answers.
#[test]
fn the_generated_documents_often_take_the_fast_path() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = block(3);
    let (mut answered, mut total) = (0, 0);
    for _ in 0..2000 {
        let lines = strategy.new_tree(&mut runner).unwrap().current();
        total += 1;
        if to_json(&(lines.join("\n") + "\n")).is_some() {
            answered += 1;
        }
    }
    assert!(answered * 7 >= total, "{answered} of {total}");
}
