//! Kubernetes' object schemas, as `kubectl apply --validate=strict` uses
//! them: every field of every object is checked against its type at any
//! depth, and every unknown or mistyped field is reported (not only the
//! first), each at its own line and column with its field path.
//!
//! The schema (`kubernetes.schema`) is derived from k8s-openapi's types by
//! `tests/k8s_schema.rs` and committed; normal builds embed the text and read
//! it once. A `type NAME` line, then one indented line per field: `name
//! code` and ` !` when required, where a
//! code is `s` string, `i` integer, `n` number, `b` boolean, `q` quantity,
//! `x` int-or-string, `a` anything, `[T` a list of T, `{T` a map of T and
//! `@Name` an object of the named type.

use super::tree::{Node, Value};
use std::collections::HashMap;
use std::sync::OnceLock;

const TEXT: &str = include_str!("kubernetes.schema");

/// A field's type.
#[derive(Debug, Clone, PartialEq)]
pub enum Type {
    String,
    Integer,
    Number,
    Boolean,
    Quantity,
    IntOrString,
    Any,
    List(Box<Type>),
    Map(Box<Type>),
    /// An index into `Schema::objects`.
    Object(usize),
}

#[derive(Debug)]
pub struct Field {
    pub name: String,
    pub ty: Type,
    pub required: bool,
}

#[derive(Debug)]
pub struct Object {
    /// `core.v1.PodSpec`, `meta.v1.ObjectMeta`…
    pub name: String,
    /// Sorted by name.
    pub fields: Vec<Field>,
}

impl Object {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields
            .binary_search_by(|f| f.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.fields[i])
    }
}

#[derive(Debug)]
pub struct Schema {
    pub objects: Vec<Object>,
    /// (apiVersion, kind) → the object type of that kind.
    kinds: HashMap<(String, String), usize>,
    names: HashMap<String, usize>,
}

impl Schema {
    /// The object type of `kind` served as `api_version`, if its schema is known.
    pub fn kind(&self, api_version: &str, kind: &str) -> Option<usize> {
        self.kinds
            .get(&(api_version.to_string(), kind.to_string()))
            .copied()
    }

    /// The index of the object type named `name` (`meta.v1.ObjectMeta`).
    pub fn object_index(&self, name: &str) -> Option<usize> {
        self.names.get(name).copied()
    }
}

/// The embedded schema, read on first use.
pub fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| parse(TEXT).expect("the embedded schema is well-formed"))
}

fn parse(text: &str) -> Result<Schema, String> {
    let mut kinds_named: Vec<(String, String, &str)> = Vec::new();
    let mut objects: Vec<Object> = Vec::new();
    let mut pending: Vec<Vec<(String, &str, bool)>> = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if let Some(field) = line.strip_prefix("  ") {
            let words: Vec<&str> = field.split(' ').collect();
            let [name, code, rest @ ..] = words.as_slice() else {
                return Err(format!("cannot read schema line: {line}"));
            };
            pending
                .last_mut()
                .ok_or_else(|| format!("a field before any type: {line}"))?
                .push((name.to_string(), code, rest == ["!"]));
            continue;
        }
        let words: Vec<&str> = line.split(' ').collect();
        match words.as_slice() {
            ["kind", version, kind, name] => {
                kinds_named.push((version.to_string(), kind.to_string(), name))
            }
            ["type", name] => {
                objects.push(Object {
                    name: name.to_string(),
                    fields: Vec::new(),
                });
                pending.push(Vec::new());
            }
            _ => return Err(format!("cannot read schema line: {line}")),
        }
    }
    let index: HashMap<String, usize> = objects
        .iter()
        .enumerate()
        .map(|(i, o)| (o.name.clone(), i))
        .collect();
    for (object, fields) in objects.iter_mut().zip(pending) {
        for (name, code, required) in fields {
            let ty = parse_code(code, &index)?;
            object.fields.push(Field { name, ty, required });
        }
        object.fields.sort_by(|a, b| a.name.cmp(&b.name));
    }
    let mut kinds = HashMap::new();
    for (version, kind, name) in kinds_named {
        let at = *index
            .get(name)
            .ok_or_else(|| format!("kind {kind} names unknown type {name}"))?;
        kinds.insert((version, kind), at);
    }
    Ok(Schema {
        objects,
        kinds,
        names: index,
    })
}

fn parse_code(code: &str, index: &HashMap<String, usize>) -> Result<Type, String> {
    Ok(match code {
        "s" => Type::String,
        "i" => Type::Integer,
        "n" => Type::Number,
        "b" => Type::Boolean,
        "q" => Type::Quantity,
        "x" => Type::IntOrString,
        "a" => Type::Any,
        _ if code.starts_with('[') => Type::List(Box::new(parse_code(&code[1..], index)?)),
        _ if code.starts_with('{') => Type::Map(Box::new(parse_code(&code[1..], index)?)),
        _ if code.starts_with('@') => Type::Object(
            *index
                .get(&code[1..])
                .ok_or_else(|| format!("unknown type {code}"))?,
        ),
        _ => return Err(format!("unknown type code {code}")),
    })
}

/// One segment of a field path, kept as a borrow until a problem needs the text.
#[derive(Clone, Copy)]
pub enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

/// `spec.template.spec.containers[0].ports[1].containerPort`.
pub fn path_text(segments: &[Segment]) -> String {
    let mut text = String::new();
    for segment in segments {
        match segment {
            Segment::Key(key) => {
                if !text.is_empty() {
                    text.push('.');
                }
                text.push_str(key);
            }
            Segment::Index(i) => {
                text.push('[');
                text.push_str(&i.to_string());
                text.push(']');
            }
        }
    }
    text
}

/// A problem found at a node: its path, position and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl Problem {
    pub fn at(node: &Node, path: String, message: impl Into<String>) -> Problem {
        Problem {
            path,
            line: node.line as usize,
            column: node.column as usize,
            message: message.into(),
        }
    }
}

/// Something that also checks values of some object types (the API
/// server's rules), called once per object after its fields were walked.
pub trait Hook {
    fn object(
        &mut self,
        schema: &Schema,
        object: &Object,
        node: &Node,
        path: &[Segment],
        problems: &mut Vec<Problem>,
    );
}

/// Walks one document against its type.
pub struct Walker<'s, 'h, 'a> {
    pub schema: &'s Schema,
    pub hook: &'h mut dyn Hook,
    pub path: Vec<Segment<'a>>,
    pub problems: Vec<Problem>,
    /// Below `status`: what the cluster reports, not what a user must write.
    reported: usize,
}

impl<'s, 'h, 'a> Walker<'s, 'h, 'a> {
    pub fn new(schema: &'s Schema, hook: &'h mut dyn Hook) -> Self {
        Walker {
            schema,
            hook,
            path: Vec::new(),
            problems: Vec::new(),
            reported: 0,
        }
    }

    pub fn check(&mut self, node: &'a Node, ty: &Type) {
        if node.value == Value::Null {
            return;
        }
        let ok = match (ty, &node.value) {
            (Type::Any, _) => true,
            (Type::String, Value::Str(_)) => true,
            (Type::Integer, Value::Int(_) | Value::UInt(_)) => true,
            (Type::Number, Value::Int(_) | Value::UInt(_)) => true,
            (Type::Number, Value::Float(f)) => f.is_finite(),
            (Type::Boolean, Value::Bool(_)) => true,
            (Type::IntOrString, Value::Int(_) | Value::UInt(_) | Value::Str(_)) => true,
            (Type::Quantity, _) => {
                self.quantity(node);
                true
            }
            (Type::List(item), Value::Seq(items)) => {
                for (i, child) in items.iter().enumerate() {
                    self.path.push(Segment::Index(i));
                    self.check(child, item);
                    self.path.pop();
                }
                true
            }
            (Type::Map(item), Value::Map(entries)) => {
                for (key, value) in entries {
                    let Some(name) = key.as_str() else {
                        self.key_not_a_string(key);
                        continue;
                    };
                    self.path.push(Segment::Key(name));
                    self.check(value, item);
                    self.path.pop();
                }
                true
            }
            (Type::Object(index), Value::Map(entries)) => {
                self.object(*index, node, entries);
                true
            }
            _ => false,
        };
        if !ok {
            let message = invalid_type(node, ty);
            self.problems
                .push(Problem::at(node, path_text(&self.path), message));
        }
    }

    fn key_not_a_string(&mut self, key: &Node) {
        let path = path_text(&self.path);
        self.problems.push(Problem::at(
            key,
            path,
            format!(
                "invalid type: {} key `{}`, expected a string",
                key.kind_name(),
                key.scalar_text()
            ),
        ));
    }

    fn object(&mut self, index: usize, node: &'a Node, entries: &'a [(Node, Node)]) {
        let object = &self.schema.objects[index];
        // A required field whose name a misspelt key is near is reported once, as the typo.
        let mut meant: Vec<&str> = Vec::new();
        for (key, value) in entries {
            let Some(name) = key.as_str() else {
                self.key_not_a_string(key);
                continue;
            };
            self.path.push(Segment::Key(name));
            match object.field(name) {
                Some(field) => {
                    let status = self.path.len() == 1 && name == "status";
                    self.reported += usize::from(status);
                    self.check(value, &field.ty);
                    self.reported -= usize::from(status);
                }
                None => {
                    let names = object.fields.iter().map(|f| f.name.as_str());
                    meant.extend(crate::suggest::closest(name, names));
                    let message = unknown_field(name, object);
                    self.problems
                        .push(Problem::at(key, path_text(&self.path), message));
                }
            }
            self.path.pop();
        }
        if self.reported == 0 {
            let required = object.fields.iter().filter(|f| f.required);
            for field in required.filter(|f| !meant.contains(&f.name.as_str())) {
                let present = entries
                    .iter()
                    .any(|(k, v)| k.as_str() == Some(&field.name) && v.value != Value::Null);
                if !present {
                    let parent = path_text(&self.path);
                    let path = if parent.is_empty() {
                        field.name.clone()
                    } else {
                        format!("{parent}.{}", field.name)
                    };
                    self.problems
                        .push(Problem::at(node, path, "Required value"));
                }
            }
        }
        let mut problems = std::mem::take(&mut self.problems);
        self.hook
            .object(self.schema, object, node, &self.path, &mut problems);
        self.problems = problems;
    }

    /// A quantity is a string or a number, in Kubernetes' syntax.
    fn quantity(&mut self, node: &Node) {
        let text: std::borrow::Cow<str> = match &node.value {
            Value::Str(s) => s.into(),
            Value::Int(i) => i.to_string().into(),
            Value::UInt(u) => u.to_string().into(),
            Value::Float(f) if f.is_finite() => f.to_string().into(),
            Value::Float(f) => {
                let written = if f.is_nan() {
                    ".nan"
                } else if *f > 0.0 {
                    ".inf"
                } else {
                    "-.inf"
                };
                self.problems.push(Problem::at(
                    node,
                    path_text(&self.path),
                    format!(
                        "Invalid value: \"{written}\": {}",
                        crate::model::quantity::QuantityError::Format
                    ),
                ));
                return;
            }
            _ => {
                let message = invalid_type(node, &Type::Quantity);
                self.problems
                    .push(Problem::at(node, path_text(&self.path), message));
                return;
            }
        };
        if let Err(error) = crate::model::quantity::Quantity::parse(&text) {
            self.problems.push(Problem::at(
                node,
                path_text(&self.path),
                format!("Invalid value: \"{text}\": {error}"),
            ));
        }
    }
}

/// The deserializer's words for an unknown field, so both read alike.
fn unknown_field(name: &str, object: &Object) -> String {
    let names = object.fields.iter().map(|f| f.name.as_str());
    match crate::suggest::did_you_mean(name, names.clone()) {
        Some(hint) => format!("unknown field `{name}`: {hint}"),
        None if object.fields.is_empty() => format!("unknown field `{name}`, there are no fields"),
        None => format!(
            "unknown field `{name}`, expected one of {}",
            names
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn expected(ty: &Type) -> &'static str {
    match ty {
        Type::String => "a string",
        Type::Integer => "an integer",
        Type::Number => "a number",
        Type::Boolean => "a boolean",
        Type::Quantity => "a quantity such as 500m, 2 or 1Gi",
        Type::IntOrString => "an integer or a string",
        Type::Any => "any value",
        Type::List(_) => "a list",
        Type::Map(_) | Type::Object(_) => "an object",
    }
}

fn invalid_type(node: &Node, ty: &Type) -> String {
    let got = match &node.value {
        Value::Str(s) => format!("string \"{s}\""),
        Value::Seq(_) => "a list".into(),
        Value::Map(_) => "an object".into(),
        Value::Float(f) if f.is_nan() => "number .nan".into(),
        Value::Float(f) if f.is_infinite() => "number .inf".into(),
        _ => format!("{} `{}`", node.kind_name(), node.scalar_text()),
    };
    let mut message = format!("invalid type: {got}, expected {}", expected(ty));
    if matches!(node.value, Value::Bool(_)) && *ty == Type::String {
        message.push_str(" (YAML reads unquoted y, n, yes, no, on, off, true and false as booleans: quote the value)");
    }
    message
}

#[cfg(test)]
mod tests;
