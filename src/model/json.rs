//! `Json`: an object kept as its compact JSON text.
//!
//! Every workload keeps its manifest and each revision its pod template, in
//! the manifests and in the state. As `serde_json::Value`s a Deployment's
//! manifest was some fifteen kilobytes of small maps, more than the
//! document's text forty times over: on a fleet of 40,000 workloads, well
//! over a gigabyte. Kept as text, one allocation each, shared by reference
//! count between the manifests, the actions and the state. The loop only
//! compares them; the few readers that look inside parse them (`value`).
//!
//! The text is written from a `Value`, whose keys are sorted, so two equal
//! objects made here have the same text. A state file written by hand may
//! order keys otherwise: equality then falls back to comparing the values.
//! Reading and writing stream the text through serde (`serde-transcode`),
//! into and out of any format (the JSON state, the YAML one, `-o yaml`),
//! without building a `Value`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::sync::Arc;

#[derive(Clone)]
pub struct Json(Arc<str>);

impl Json {
    /// The value's compact text, keys sorted.
    pub fn new(value: &Value) -> Json {
        Json(value.to_string().into())
    }

    /// What `value` serializes to as JSON, kept as its text; `value` writes
    /// its maps' keys sorted, as `Value` does.
    pub fn of(value: &impl Serialize) -> Json {
        // Serializing into memory fails only on a map key that is not a string.
        Json(serde_json::to_string(value).map_or_else(|_| "null".into(), Into::into))
    }

    /// The value, parsed: each call builds it anew.
    pub fn value(&self) -> Value {
        // The text was written by serde_json, from a value or a document it read.
        serde_json::from_str(&self.0).unwrap_or_default()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The same text, not a copy of it.
    pub fn ptr_eq(a: &Json, b: &Json) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }
}

impl Default for Json {
    fn default() -> Self {
        Json("null".into())
    }
}

impl From<Value> for Json {
    fn from(value: Value) -> Self {
        Json::new(&value)
    }
}

impl From<&Value> for Json {
    fn from(value: &Value) -> Self {
        Json::new(value)
    }
}

impl PartialEq for Json {
    fn eq(&self, other: &Json) -> bool {
        Json::ptr_eq(self, other) || self.0 == other.0 || self.value() == other.value()
    }
}

impl Eq for Json {}

impl PartialEq<Value> for Json {
    fn eq(&self, other: &Value) -> bool {
        self.value() == *other
    }
}

impl std::fmt::Debug for Json {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut text = serde_json::Deserializer::from_str(&self.0);
        serde_transcode::Transcoder::new(&mut text).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut text = Vec::new();
        let mut writer = serde_json::Serializer::new(&mut text);
        serde_transcode::transcode(deserializer, &mut writer).map_err(serde::de::Error::custom)?;
        // serde_json writes UTF-8 only.
        let text = String::from_utf8(text).map_err(serde::de::Error::custom)?;
        Ok(Json(text.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_text_is_the_values_compact_text() {
        let value = json!({"b": [1, 2.5, "x"], "a": {"c": null, "d": true}});
        let kept = Json::new(&value);
        assert_eq!(
            kept.as_str(),
            r#"{"a":{"c":null,"d":true},"b":[1,2.5,"x"]}"#
        );
        assert_eq!(kept.value(), value);
    }

    #[test]
    fn a_json_document_reads_back_as_it_was_written() {
        let value = json!({"spec": {"replicas": 3, "name": "a\"b\u{e9}"}, "list": [{}, []]});
        let kept = Json::new(&value);
        let written = serde_json::to_string(&kept).unwrap();
        assert_eq!(written, kept.as_str());
        let read: Json = serde_json::from_str(&written).unwrap();
        assert_eq!(read.as_str(), kept.as_str());
        assert_eq!(read.value(), value);
    }

    #[test]
    fn a_yaml_document_reads_back_as_the_same_value() {
        let value = json!({"metadata": {"labels": {"app": "api"}}, "n": -4, "f": 0.25});
        let yaml = serde_saphyr::to_string(&Json::new(&value)).unwrap();
        assert!(yaml.contains("app: api"), "{yaml}");
        let read: Json = serde_saphyr::from_str(&yaml).unwrap();
        assert_eq!(read.value(), value);
        assert_eq!(read, Json::new(&value));
    }

    #[test]
    fn equal_values_are_equal_whatever_their_key_order() {
        let sorted = Json::new(&json!({"a": 1, "b": 2}));
        let unsorted: Json = serde_json::from_str(r#"{"b":2,"a":1}"#).unwrap();
        assert_ne!(sorted.as_str(), unsorted.as_str());
        assert_eq!(sorted, unsorted);
        assert_ne!(sorted, Json::new(&json!({"a": 1, "b": 3})));
    }
}
