//! A located document tree: every value keeps the line and column where it was
//! written, so any later error (a wrong type, an unknown field, a semantic
//! rule) can point at it. Parsed by serde-saphyr (YAML and JSON alike), with
//! its budgets against alias bombs and deep nesting; the plain subset that
//! manifests use is built straight from the same parser's events (`direct`),
//! to the same tree.

use serde::Deserialize;
use serde::de::{self, Visitor};
use serde_saphyr::Spanned;
use std::fmt;

mod direct;

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub line: u32,
    pub column: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The key node of `key` in this map (for errors about the key itself).
    pub fn key(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(k, _)| k),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The node at a path such as `spec.template.spec.containers[0].resources`
    /// (keys may themselves contain dots, like `orch.dev/ready-after`), or the
    /// deepest existing node on the way there.
    pub fn locate(&self, path: &str) -> &Node {
        let mut node = self;
        let mut rest = path.trim_start_matches('.');
        while !rest.is_empty() {
            let next = match &node.value {
                Value::Seq(items) if rest.starts_with('[') => {
                    let Some(end) = rest.find(']') else { break };
                    let item = rest[1..end]
                        .parse::<usize>()
                        .ok()
                        .and_then(|i| items.get(i));
                    rest = &rest[end + 1..];
                    item
                }
                Value::Map(entries) => {
                    let found = entries
                        .iter()
                        .filter_map(|(k, v)| {
                            let key = k.as_str()?;
                            let after = rest.strip_prefix(key)?;
                            (after.is_empty() || after.starts_with('.') || after.starts_with('['))
                                .then_some((key.len(), after, v))
                        })
                        .max_by_key(|(len, _, _)| *len);
                    match found {
                        Some((_, after, v)) => {
                            rest = after;
                            Some(v)
                        }
                        None => None,
                    }
                }
                _ => None,
            };
            match next {
                Some(next) => node = next,
                None => break,
            }
            rest = rest.trim_start_matches('.');
        }
        node
    }

    /// The tree of a JSON value orch stored itself: it has no source, so
    /// every node is at line 1, column 1.
    pub fn from_json(value: &serde_json::Value) -> Node {
        use serde_json::Value as J;
        let value = match value {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
                (Some(i), _, _) => Value::Int(i),
                (None, Some(u), _) => Value::UInt(u),
                (None, None, f) => Value::Float(f.unwrap_or(f64::NAN)),
            },
            J::String(s) => Value::Str(s.clone()),
            J::Array(items) => Value::Seq(items.iter().map(Node::from_json).collect()),
            J::Object(entries) => Value::Map(
                entries
                    .iter()
                    .map(|(k, v)| (Node::at_start(Value::Str(k.clone())), Node::from_json(v)))
                    .collect(),
            ),
        };
        Node::at_start(value)
    }

    fn at_start(value: Value) -> Node {
        Node {
            value,
            line: 1,
            column: 1,
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::UInt(u) => J::from(*u),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.scalar_text(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// `to_json`'s value kept as its text (`Json`), written straight from
    /// the tree: keys sorted, a repeated key's last value, as the value has.
    pub fn json_text(&self) -> crate::model::json::Json {
        crate::model::json::Json::of(&Sorted(self))
    }

    /// A scalar as text (map keys, messages).
    pub fn scalar_text(&self) -> String {
        match &self.value {
            Value::Null => "null".into(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::UInt(u) => u.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Str(s) => s.clone(),
            Value::Seq(_) => "[...]".into(),
            Value::Map(_) => "{...}".into(),
        }
    }

    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) | Value::UInt(_) => "integer",
            Value::Float(_) => "number",
            Value::Str(_) => "string",
            Value::Seq(_) => "list",
            Value::Map(_) => "object",
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Value>::deserialize(deserializer)?;
        Ok(Node {
            value: spanned.value,
            line: u32::try_from(spanned.referenced.line()).unwrap_or(u32::MAX),
            column: u32::try_from(spanned.referenced.column()).unwrap_or(u32::MAX),
        })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::UInt(v), Value::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry::<Node, Node>()? {
            entries.push(entry);
        }
        Ok(Value::Map(entries))
    }
}

/// A YAML (or JSON) text's documents. Errors carry (line, column, message).
pub fn parse_documents(text: &str) -> Result<Vec<Node>, (usize, usize, String)> {
    let budget = budget();
    // The plain subset manifests use is built straight from the parser's
    // events; anything else, and every error, goes through serde-saphyr.
    if let Some(documents) = direct::parse_documents(text, &budget) {
        return Ok(documents);
    }
    parse_with_serde_saphyr(text, budget)
}

/// Room for thousands of objects in one file (a fleet's Nodes), with the
/// parsed tree still bounded (two million YAML nodes is well under a GiB);
/// alias, anchor and depth limits stay at their defaults.
fn budget() -> serde_saphyr::Budget {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_documents = 200_000;
    budget.max_nodes = 2_000_000;
    budget.max_events = 10_000_000;
    budget
}

fn parse_with_serde_saphyr(
    text: &str,
    budget: serde_saphyr::Budget,
) -> Result<Vec<Node>, (usize, usize, String)> {
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    // `.nan` and `.inf` are values like any other here: the field they are
    // written in says whether they are wrong, and where (a quantity, a count).
    options.non_finite_float_policy = serde_saphyr::NonFiniteFloatPolicy::PassThrough;
    serde_saphyr::from_multiple_with_options::<Node>(text, options).map_err(|error| {
        let (line, column) = error
            .location()
            .map_or((1, 1), |l| (l.line() as usize, l.column() as usize));
        let message = error.without_snippet().to_string();
        (line.max(1), column.max(1), clean_message(&message))
    })
}

/// serde-saphyr prefixes messages with their location; ours come first already.
fn clean_message(message: &str) -> String {
    let first = message.lines().next().unwrap_or(message).trim();
    let stripped = match first.split_once(": ") {
        Some((prefix, rest)) if prefix.starts_with("line ") => rest,
        _ => first,
    };
    let stripped = stripped.split(" at line ").next().unwrap_or(stripped);
    stripped.replace(", set DuplicateKeyPolicy in Options if acceptable", "")
}

/// A tree serialized as its `to_json` value is: maps with their keys sorted
/// and each key once (its last value).
struct Sorted<'a>(&'a Node);

impl serde::Serialize for Sorted<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match &self.0.value {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Int(i) => serializer.serialize_i64(*i),
            Value::UInt(u) => serializer.serialize_u64(*u),
            Value::Float(f) => match serde_json::Number::from_f64(*f) {
                Some(number) => number.serialize(serializer),
                None => serializer.serialize_unit(),
            },
            Value::Str(s) => serializer.serialize_str(s),
            Value::Seq(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&Sorted(item))?;
                }
                seq.end()
            }
            Value::Map(entries) => {
                let mut keyed: Vec<(std::borrow::Cow<'_, str>, &Node)> = entries
                    .iter()
                    .map(|(k, v)| {
                        let key = match &k.value {
                            Value::Str(s) => std::borrow::Cow::Borrowed(s.as_str()),
                            _ => std::borrow::Cow::Owned(k.scalar_text()),
                        };
                        (key, v)
                    })
                    .collect();
                // Stable: of a repeated key, the last written stays last.
                keyed.sort_by(|a, b| a.0.cmp(&b.0));
                let mut map = serializer.serialize_map(None)?;
                for (i, (key, value)) in keyed.iter().enumerate() {
                    if keyed.get(i + 1).is_some_and(|next| next.0 == *key) {
                        continue;
                    }
                    map.serialize_entry(key, &Sorted(value))?;
                }
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn values_keep_their_locations() {
        let docs = parse_documents("a: 1\nb:\n  c: [x, \"y\"]\n---\nd: true\n").unwrap();
        assert_eq!(docs.len(), 2);
        let c = docs[0].locate("b.c");
        assert_eq!((c.line, c.column), (3, 6));
        let y = docs[0].locate("b.c[1]");
        assert_eq!((y.line, y.as_str()), (3, Some("y")));
        assert_eq!(docs[1].get("d").unwrap().value, Value::Bool(true));
        let dotted =
            parse_documents("metadata:\n  annotations:\n    orch.dev/ready-after: 5s\n").unwrap();
        assert_eq!(
            dotted[0]
                .locate("metadata.annotations.orch.dev/ready-after")
                .as_str(),
            Some("5s")
        );
        assert_eq!(dotted[0].locate("metadata.labels.x").line, 2);
        assert_eq!(
            docs[0].to_json(),
            serde_json::json!({"a": 1, "b": {"c": ["x", "y"]}})
        );
    }

    fn without_locations(node: &Node) -> Node {
        let value = match &node.value {
            Value::Seq(items) => Value::Seq(items.iter().map(without_locations).collect()),
            Value::Map(entries) => Value::Map(
                entries
                    .iter()
                    .map(|(k, v)| (without_locations(k), without_locations(v)))
                    .collect(),
            ),
            other => other.clone(),
        };
        Node::at_start(value)
    }

    fn json() -> impl Strategy<Value = serde_json::Value> {
        use serde_json::Value as J;
        let leaf = prop_oneof![
            Just(J::Null),
            any::<bool>().prop_map(J::Bool),
            any::<i64>().prop_map(J::from),
            (i64::MAX as u64..=u64::MAX).prop_map(J::from),
            (-1e6f64..1e6).prop_map(|f| J::from(f + 0.5)),
            "[a-z0-9 .:/-]{0,8}".prop_map(J::String),
        ];
        leaf.prop_recursive(4, 40, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(J::Array),
                prop::collection::btree_map("[a-z/.-]{1,6}", inner, 0..5)
                    .prop_map(|m| J::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// A stored spec read straight from JSON is the tree its text would parse to.
        #[test]
        fn a_json_value_is_the_tree_its_text_parses_to(inner in json()) {
            let value = serde_json::json!({ "spec": inner });
            let text = serde_json::to_string(&value).unwrap();
            let parsed = parse_documents(&text).unwrap();
            prop_assert_eq!(parsed.len(), 1);
            let direct = Node::from_json(&value);
            prop_assert_eq!(without_locations(&parsed[0]), direct.clone());
            prop_assert_eq!(direct.to_json(), value);
        }

        /// The text written straight from a tree is its value's text: for
        /// any tree a document parses to (non-string keys too), and for
        /// trees made in code that repeat a key (the value keeps the last).
        #[test]
        fn the_text_written_from_a_tree_is_its_values_text(
            inner in json(),
            repeated in prop::collection::vec(("[ab]", -3i64..3), 0..4),
        ) {
            let text = format!("spec: {}\n3: three\ntrue: yes\n", serde_json::to_string(&inner).unwrap());
            let mut node = parse_documents(&text).unwrap().remove(0);
            if let Value::Map(entries) = &mut node.value {
                for (key, value) in &repeated {
                    entries.push((
                        Node::at_start(Value::Str(key.clone())),
                        Node::at_start(Value::Int(*value)),
                    ));
                }
            }
            let written = node.json_text();
            prop_assert_eq!(written.as_str(), node.to_json().to_string());
        }
    }

    #[test]
    fn syntax_errors_have_a_location() {
        let (line, _, message) = parse_documents("a: 1\nb: {c: d\n").unwrap_err();
        assert!(line >= 2, "{line} {message}");
    }
}
