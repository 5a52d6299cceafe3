use super::super::{budget, parse_with_serde_saphyr};
use super::*;
use proptest::prelude::*;
use streams::{Tree, budgets, document, key, scalar, stream};

mod streams;

/// Both readings of `text` under `budget`: the direct one (if it answers) and
/// serde-saphyr's.
type Readings = (Option<Vec<Node>>, Result<Vec<Node>, (usize, usize, String)>);

fn both_with(text: &str, budget: &Budget) -> Readings {
    (
        parse_documents(text, budget),
        parse_with_serde_saphyr(text, budget.clone()),
    )
}

/// `Debug` tells `-0.0` from `0.0`, which `PartialEq` does not.
fn exact(documents: &[Node]) -> String {
    format!("{documents:?}")
}

/// Wherever the direct reading answers, serde-saphyr reads the same tree.
fn consistent(text: &str, budget: &Budget) -> Result<bool, String> {
    match both_with(text, budget) {
        (None, _) => Ok(false),
        (Some(direct), Ok(saphyr)) if exact(&direct) == exact(&saphyr) => Ok(true),
        (Some(direct), saphyr) => Err(format!(
            "{text:?}\ndirect:       {direct:?}\nserde-saphyr: {saphyr:?}"
        )),
    }
}

/// The direct reading answers, with serde-saphyr's tree.
fn agrees(text: &str) -> Vec<Node> {
    let (direct, saphyr) = both_with(text, &budget());
    let direct = direct.unwrap_or_else(|| panic!("no direct reading of {text:?}: {saphyr:?}"));
    let saphyr = saphyr.unwrap_or_else(|e| panic!("{text:?}: {e:?}"));
    assert_eq!(exact(&direct), exact(&saphyr), "{text:?}");
    direct
}

/// The direct reading leaves `text` to serde-saphyr.
fn declines(text: &str) {
    assert!(
        parse_documents(text, &budget()).is_none(),
        "{text:?} was answered directly"
    );
}

fn value_of(scalar: &str) -> Value {
    let documents = agrees(&format!("k: {scalar}\n"));
    documents[0].get("k").unwrap().value.clone()
}

#[test]
fn plain_scalars_are_typed_as_serde_saphyr_types_them() {
    use Value::*;
    let cases = [
        ("~", Null),
        ("null", Null),
        ("Null", Null),
        ("NULL", Null),
        ("nUll", Str("nUll".into())),
        ("true", Bool(true)),
        ("TRUE", Bool(true)),
        ("yes", Bool(true)),
        ("Y", Bool(true)),
        ("on", Bool(true)),
        ("NO", Bool(false)),
        ("n", Bool(false)),
        ("Off", Bool(false)),
        ("0", Int(0)),
        ("-0", Int(0)),
        ("+12", Int(12)),
        ("1_000", Int(1000)),
        ("1__0", Str("1__0".into())),
        ("_1", Str("_1".into())),
        ("0x1F", Int(31)),
        ("-0x1f", Int(-31)),
        ("0o17", Int(15)),
        ("0b101", Int(5)),
        ("0X1F", Str("0X1F".into())),
        ("0B1", Str("0B1".into())),
        ("0x_1", Str("0x_1".into())),
        ("0127", Float(127.0)),
        ("-0127", Float(-127.0)),
        ("9223372036854775807", Int(i64::MAX)),
        ("9223372036854775808", UInt(1 << 63)),
        ("18446744073709551615", UInt(u64::MAX)),
        ("18446744073709551616", Float(18446744073709551616.0)),
        ("-9223372036854775808", Int(i64::MIN)),
        ("-9223372036854775809", Float(-9223372036854775809.0)),
        ("1.5", Float(1.5)),
        ("1.", Float(1.0)),
        (".5", Float(0.5)),
        ("-.5", Float(-0.5)),
        ("1e3", Float(1000.0)),
        ("+1.5E-3", Float(0.0015)),
        ("-0.0", Float(-0.0)),
        ("inf", Str("inf".into())),
        ("nan", Str("nan".into())),
        ("Infinity", Str("Infinity".into())),
        ("+.nan", Str("+.nan".into())),
        ("-.NaN", Str("-.NaN".into())),
        ("250m", Str("250m".into())),
        ("1Gi", Str("1Gi".into())),
        ("12:30", Str("12:30".into())),
        ("2001-12-14", Str("2001-12-14".into())),
        ("a b  c", Str("a b  c".into())),
    ];
    for (scalar, expected) in cases {
        assert_eq!(
            format!("{:?}", value_of(scalar)),
            format!("{expected:?}"),
            "{scalar}"
        );
    }
}

#[test]
fn quoted_and_block_scalars_stay_strings() {
    for scalar in [
        "'123'", "\"true\"", "'~'", "\"\"", "''", "\"null\"", "'0x1F'", "\".inf\"", "'1e999'",
    ] {
        assert!(matches!(value_of(scalar), Value::Str(_)), "{scalar}");
    }
    let text = "a: |\n  one\n  two\nb: >-\n  folded\n  line\n\n  next\nc: |+\n  kept\n\nd: |2-\n    indented\ne: \"esc\\taped \\u00e9\\\n  \\ continued\"\nf: 'it''s\n  folded'\n";
    let documents = agrees(text);
    assert_eq!(documents[0].get("a").unwrap().as_str(), Some("one\ntwo\n"));
    assert_eq!(
        documents[0].get("b").unwrap().as_str(),
        Some("folded line\nnext")
    );
}

#[test]
fn shapes_manifests_use_are_read_directly_with_their_locations() {
    let documents = agrees(
        "# leading comment\n---\napiVersion: v1  # trailing\nkind: Node\nmetadata:\n  name: n1\n  labels: {zone: a, disk: \"ssd\"}\nspec:\n  taints:\n  - {key: k, effect: NoSchedule}\n  - key: j\n    value: multi\n      line plain\n  empty:\n  flow: [1, [2, {}], []]\n...\n---\n- - nested\n  - seq\n- x\n",
    );
    assert_eq!(documents.len(), 2);
    let labels = documents[0].locate("metadata.labels");
    assert_eq!((labels.line, labels.column), (7, 11));
    let value = documents[0].locate("spec.taints[1].value");
    assert_eq!(value.as_str(), Some("multi line plain"));
    assert_eq!(documents[0].locate("spec.empty").value, Value::Null);
    // The example platform reads directly; the test fixtures (some use
    // anchors) read the same wherever they read directly.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut answered = 0;
    let mut dirs = vec![root.join("manifests"), root.join("tests")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                let text = std::fs::read_to_string(&path).unwrap();
                if path.starts_with(root.join("manifests")) {
                    agrees(&text);
                }
                answered += usize::from(consistent(&text, &budget()).unwrap());
            }
        }
    }
    assert!(answered >= 10, "{answered}");
}

#[test]
fn documents_without_content_are_skipped_as_serde_saphyr_skips_them() {
    for text in [
        "",
        "\n",
        "# only a comment\n",
        "---\n",
        "---\n---\n...\n",
        "~\n",
        "--- null\n---\na: 1\n",
        "a: 1\n---\n",
        "\u{feff}a: 1\r\nb: [x,\r\n  y]\r\n",
        "--- \"\"\n",
        "--- plain root\n--- 7\n",
        "{a: 1}\n",
        "a:\tb\n",
        "\ta: 1\n",
        "? a\n: b\n? c\n",
        "--- >\n folded\n text\n--- |\n literal\n",
        "[a,\n # inside\n b, {c: d,\n  e: f}]\n",
    ] {
        agrees(text);
    }
    assert!(agrees("---\n---\n").is_empty());
    assert_eq!(agrees("--- ''\n").len(), 1);
}

#[test]
fn large_maps_and_key_spellings_are_read_directly() {
    let many: String = (0..40).map(|i| format!("key{i}: {i}\n")).collect();
    assert_eq!(agrees(&many)[0].get("key39").unwrap().value, Value::Int(39));
    agrees(
        "\"1\": a\n'true': b\n\"\": c\norch.dev/ready-after: 5s\nx-y_z: d\nnull_ish: e\n.: {}\n-a: f\n+b: g\n.c: h\n",
    );
}

#[test]
fn what_serde_saphyr_treats_specially_is_left_to_it() {
    for text in [
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "a: !custom x\n",
        "!!map {a: 1}\n",
        "base: &b {x: 1}\nm:\n  <<: *b\n",
        "<<: {a: 1}\n",
        "? [a, b]\n: c\n",
        "{[a]: b}\n",
        "a: 1\na: 2\n",
        "a: 1\n'a': 2\n",
        "1: a\n",
        "0x1: a\n",
        "+1: a\n",
        "-1: a\n",
        ".5: a\n",
        "0X1F: a\n",
        "-0X1F: a\n",
        "0x1FFFFFFFFFFFFFFFFFF: a\n",
        "true: a\n",
        "on: a\n",
        "~: a\n",
        ": a\n",
        "a: .inf\n",
        "a: -.Inf\n",
        "a: .nan\n",
        "a: 1e999\n",
        "- -1e400\n",
        "%YAML 1.2\n---\na: 1\n",
        "%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n",
        "a: [b\n",
        "a: b: c\n",
        "- a\nb: c\n",
        "a: 'unterminated\n",
    ] {
        declines(text);
    }
    let many: String = (0..40).map(|i| format!("key{i}: {i}\n")).collect();
    declines(&format!("{many}key7: again\n"));
}

#[test]
fn keys_serde_saphyr_compares_as_integers_are_left_to_it() {
    // Two string values, but both the integer key 31 to serde-saphyr.
    let text = "0X1F: a\n0X1f: b\n";
    declines(text);
    assert!(parse_with_serde_saphyr(text, budget()).is_err());
}

/// `depth` nested flow sequences around a scalar.
fn nested(depth: usize) -> String {
    format!("{}x{}\n", "[".repeat(depth), "]".repeat(depth))
}

#[test]
fn budgets_are_left_to_serde_saphyr_near_their_limits() {
    // serde-saphyr's recursion through unoptimized visitors needs room.
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(|| {
            let limit = budget().max_depth;
            agrees(&nested(limit - MARGIN - 1));
            declines(&nested(limit - MARGIN));
            declines(&nested(limit + 1));
            assert!(parse_with_serde_saphyr(&nested(limit + 1), budget()).is_err());
        })
        .unwrap()
        .join()
        .unwrap();

    let mut small = Budget::default();
    small.max_documents = 3 + MARGIN;
    small.max_nodes = 40;
    small.max_total_scalar_bytes = 1000;
    let docs = |n: usize| "---\na: 1\n".repeat(n);
    assert!(consistent(&docs(2), &small).unwrap());
    assert!(parse_documents(&docs(3), &small).is_none());
    assert!(parse_with_serde_saphyr(&docs(3 + MARGIN + 1), small.clone()).is_err());
    assert!(parse_documents(&"- x\n".repeat(39), &small).is_none());
    assert!(parse_with_serde_saphyr(&"- x\n".repeat(40), small.clone()).is_err());
    assert!(parse_documents(&format!("a: {}\n", "x".repeat(995)), &small).is_none());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// Wherever the direct reading answers, it is serde-saphyr's tree with
    /// serde-saphyr's locations.
    #[test]
    fn the_direct_reading_is_serde_saphyrs_wherever_it_answers(
        text in stream(),
        budget in budgets(),
    ) {
        consistent(&text, &budget).map_err(TestCaseError::fail)?;
    }

    /// Every spelling in every position types as serde-saphyr types it.
    #[test]
    fn scalars_type_as_serde_saphyr_types_them(scalar in scalar(), k in key()) {
        for tree in [
            Tree::Map(vec![(k.clone(), Tree::Scalar(scalar.clone()))], false),
            Tree::Map(vec![(k.clone(), Tree::Scalar(scalar.clone()))], true),
            Tree::Seq(vec![Tree::Scalar(scalar.clone())], false),
            Tree::Scalar(scalar.clone()),
        ] {
            consistent(&document(&tree), &budget()).map_err(TestCaseError::fail)?;
        }
    }
}

/// The generated streams reach the direct reading often enough to test it,
/// and the fallback too.
#[test]
fn generated_streams_exercise_both_readings() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let strategy = stream();
    let (mut answered, total) = (0, 400);
    for _ in 0..total {
        let text = strategy.new_tree(&mut runner).unwrap().current();
        answered += usize::from(consistent(&text, &budget()).unwrap());
    }
    assert!(
        (total / 4..total * 9 / 10).contains(&answered),
        "{answered} of {total} answered directly"
    );
}
