//! A serde `Deserializer` over the located tree: typed wire structs are read
//! from it, and every error (wrong type, unknown or missing field) comes back
//! with the path and the line:column of the value that caused it.

use super::tree::{Node, Value};
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub message: String,
    pub path: String,
    pub line: usize,
    pub column: usize,
    located: bool,
}

impl Error {
    fn locate(mut self, node: &Node, path: &str) -> Error {
        if !self.located {
            self.located = true;
            self.line = node.line as usize;
            self.column = node.column as usize;
            self.path = path.to_string();
        }
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error {
            message: msg.to_string(),
            path: String::new(),
            line: 0,
            column: 0,
            located: false,
        }
    }

    /// A misspelt field names the field it most likely meant.
    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        match crate::suggest::did_you_mean(field, expected.iter().copied()) {
            Some(hint) => Error::custom(format!("unknown field `{field}`: {hint}")),
            None if expected.is_empty() => {
                Error::custom(format!("unknown field `{field}`, there are no fields"))
            }
            None => Error::custom(format!(
                "unknown field `{field}`, expected one of {}",
                backticked(expected)
            )),
        }
    }

    /// Kubernetes' words for a value outside an enumeration, and the closest one.
    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        let supported = expected.iter().filter(|v| !v.is_empty()).copied();
        let mut message = format!(
            "Unsupported value: \"{variant}\": supported values: {}",
            quoted(&supported.clone().collect::<Vec<_>>())
        );
        if let Some(hint) = crate::suggest::did_you_mean(variant, supported) {
            message.push_str(&format!(" ({hint})"));
        }
        Error::custom(message)
    }
}

fn backticked(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Read a `T` from `node`, whose path in the object is `path`.
pub fn from_node<'de, T: de::Deserialize<'de>>(node: &'de Node, path: &str) -> Result<T, Error> {
    T::deserialize(De {
        node,
        path: path.to_string(),
    })
}

pub struct De<'de> {
    node: &'de Node,
    path: String,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

impl<'de> De<'de> {
    fn any<V: Visitor<'de>>(&self, visitor: V) -> Result<V::Value, Error> {
        match &self.node.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => visitor.visit_i64(*i),
            Value::UInt(u) => visitor.visit_u64(*u),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::Str(s) => visitor.visit_borrowed_str(s),
            Value::Seq(items) => visitor.visit_seq(Seq {
                items: items.iter(),
                path: &self.path,
                index: 0,
            }),
            Value::Map(entries) => visitor.visit_map(Map {
                entries: entries.iter(),
                path: &self.path,
                pending: None,
            }),
        }
    }
}

macro_rules! forward {
    ($($method:ident)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            let (node, path) = (self.node, self.path.clone());
            self.any(visitor).map_err(|e| e.locate(node, &path))
        })*
    };
}

impl<'de> de::Deserializer<'de> for De<'de> {
    type Error = Error;

    forward! {
        deserialize_any deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_f32 deserialize_f64
        deserialize_char deserialize_bytes deserialize_byte_buf
        deserialize_unit deserialize_seq deserialize_map deserialize_identifier deserialize_ignored_any
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let (node, path) = (self.node, self.path.clone());
        match node.value {
            Value::Bool(b) => Err(de::Error::custom(format!(
                "invalid type: boolean `{b}`, expected a string (YAML reads unquoted y, n, yes, no, on, off, true and false as booleans: quote the value)"
            ))),
            _ => self.any(visitor),
        }
        .map_err(|e| e.locate(node, &path))
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let (node, path) = (self.node, self.path.clone());
        match node.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
        .map_err(|e| e.locate(node, &path))
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        let (node, path) = (self.node, self.path.clone());
        visitor
            .visit_newtype_struct(self)
            .map_err(|e| e.locate(node, &path))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let (node, path) = (self.node, self.path.clone());
        match &node.value {
            Value::Map(_) => self.any(visitor),
            _ => Err(de::Error::custom(format!(
                "expected an object, got {} `{}`",
                node.kind_name(),
                node.scalar_text()
            ))),
        }
        .map_err(|e| e.locate(node, &path))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let (node, path) = (self.node, self.path.clone());
        match &node.value {
            Value::Str(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            Value::Null if variants.contains(&"") => visitor.visit_enum("".into_deserializer()),
            _ => Err(de::Error::custom(format!(
                "Unsupported value: `{}`: supported values: {}",
                node.scalar_text(),
                quoted(variants)
            ))),
        }
        .map_err(|e: Error| e.locate(node, &path))
    }
}

fn quoted(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("\"{v}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

struct Seq<'de, 'p> {
    items: std::slice::Iter<'de, Node>,
    path: &'p str,
    index: usize,
}

impl<'de> de::SeqAccess<'de> for Seq<'de, '_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        let Some(node) = self.items.next() else {
            return Ok(None);
        };
        let path = format!("{}[{}]", self.path, self.index);
        self.index += 1;
        seed.deserialize(De {
            node,
            path: path.clone(),
        })
        .map(Some)
        .map_err(|e| e.locate(node, &path))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct Map<'de, 'p> {
    entries: std::slice::Iter<'de, (Node, Node)>,
    path: &'p str,
    pending: Option<(&'de Node, String)>,
}

impl<'de> de::MapAccess<'de> for Map<'de, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        let path = join(self.path, &key.scalar_text());
        self.pending = Some((value, path.clone()));
        seed.deserialize(De {
            node: key,
            path: path.clone(),
        })
        .map(Some)
        .map_err(|e| e.locate(key, &path))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let (node, path) = self
            .pending
            .take()
            .ok_or_else(|| de::Error::custom("value without a key"))?;
        seed.deserialize(De {
            node,
            path: path.clone(),
        })
        .map_err(|e| e.locate(node, &path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::tree::parse_documents;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Spec {
        replicas: Option<i32>,
        items: Vec<Item>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        name: String,
        effect: Option<crate::model::pod::TaintEffect>,
    }

    fn read(text: &str) -> Result<Spec, Error> {
        let docs = parse_documents(text).unwrap();
        let node = Box::leak(Box::new(docs.into_iter().next().unwrap()));
        from_node(node.get("spec").unwrap(), "spec")
    }

    #[test]
    fn wrong_types_point_at_the_value() {
        let e = read("spec:\n  replicas: three\n  items: []\n").unwrap_err();
        assert_eq!(
            (e.path.as_str(), e.line, e.column),
            ("spec.replicas", 2, 13)
        );
        assert!(e.message.contains("expected i32"), "{}", e.message);
    }

    #[test]
    fn unknown_fields_point_at_the_key() {
        let e = read("spec:\n  items:\n    - name: a\n      nmae: b\n").unwrap_err();
        assert_eq!(
            (e.path.as_str(), e.line, e.column),
            ("spec.items[0].nmae", 4, 7)
        );
        assert!(e.message.contains("unknown field `nmae`"), "{}", e.message);
    }

    #[test]
    fn missing_fields_point_at_the_object() {
        let e = read("spec:\n  items:\n    - {effect: NoSchedule}\n").unwrap_err();
        assert_eq!((e.path.as_str(), e.line), ("spec.items[0]", 3));
        assert!(e.message.contains("missing field `name`"), "{}", e.message);
    }

    #[test]
    fn enums_list_their_values() {
        let e = read("spec:\n  items:\n    - {name: a, effect: Never}\n").unwrap_err();
        assert_eq!(e.path, "spec.items[0].effect");
        assert!(e.message.contains("NoSchedule"), "{}", e.message);
    }
}
