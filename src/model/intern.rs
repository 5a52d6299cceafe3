//! Reading a state shares what its replicas repeat.
//!
//! A million replicas name a few tens of thousands of workloads and
//! template hashes. Read one by one, each replica would hold its own copy
//! of both: three allocations and some hundred bytes each. While a state is
//! read (`Scope`), equal texts read as one shared value. Outside a scope,
//! reading is unchanged, so every other document reads as before.

use super::workload::ObjectRef;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Deserializer;
use serde::de::Visitor;
use std::cell::RefCell;
use std::sync::Arc;

#[derive(Default)]
struct Interner {
    refs: FxHashMap<Box<str>, ObjectRef>,
    texts: FxHashSet<Arc<str>>,
}

thread_local! {
    static INTERNER: RefCell<Option<Interner>> = const { RefCell::new(None) };
}

/// While it lives, this thread's reads share equal workload references and
/// hashes. Scopes do not nest: the outer one ends sharing.
pub struct Scope {
    outer: bool,
}

impl Scope {
    pub fn new() -> Scope {
        let outer = INTERNER.with(|cell| {
            let mut slot = cell.borrow_mut();
            let outer = slot.is_none();
            if outer {
                *slot = Some(Interner::default());
            }
            outer
        });
        Scope { outer }
    }
}

impl Default for Scope {
    fn default() -> Self {
        Scope::new()
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        if self.outer {
            INTERNER.with(|cell| cell.borrow_mut().take());
        }
    }
}

/// The reference `text` names, shared with its earlier reads in a scope.
pub fn object_ref(text: &str, parse: impl FnOnce(&str) -> Option<ObjectRef>) -> Option<ObjectRef> {
    INTERNER.with(|cell| match cell.borrow_mut().as_mut() {
        Some(interner) => {
            if let Some(found) = interner.refs.get(text) {
                return Some(found.clone());
            }
            let parsed = parse(text)?;
            interner.refs.insert(text.into(), parsed.clone());
            Some(parsed)
        }
        None => parse(text),
    })
}

/// `Arc<str>`'s reading, shared with equal texts read earlier in a scope
/// (`#[serde(deserialize_with = "intern::text")]`).
pub fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Arc<str>, D::Error> {
    read_str(deserializer, |text| {
        INTERNER.with(|cell| match cell.borrow_mut().as_mut() {
            Some(interner) => {
                if let Some(found) = interner.texts.get(text) {
                    return found.clone();
                }
                let shared: Arc<str> = text.into();
                interner.texts.insert(shared.clone());
                shared
            }
            None => text.into(),
        })
    })
}

/// `text` for an optional string (`null` is None).
pub fn optional_text<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Arc<str>>, D::Error> {
    #[derive(serde::Deserialize)]
    struct Shared(#[serde(deserialize_with = "text")] Arc<str>);
    let read: Option<Shared> = serde::Deserialize::deserialize(deserializer)?;
    Ok(read.map(|Shared(text)| text))
}

/// A string read without a copy of its own where the format allows it,
/// handed to `read`.
pub fn read_str<'de, D: Deserializer<'de>, R>(
    deserializer: D,
    read: impl FnOnce(&str) -> R,
) -> Result<R, D::Error> {
    struct Text<F>(F);
    impl<R, F: FnOnce(&str) -> R> Visitor<'_> for Text<F> {
        type Value = R;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a string")
        }

        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<R, E> {
            Ok((self.0)(text))
        }
    }
    deserializer.deserialize_str(Text(read))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Item {
        workload: ObjectRef,
        #[serde(deserialize_with = "text")]
        hash: Arc<str>,
        #[serde(default, deserialize_with = "optional_text")]
        node: Option<Arc<str>>,
    }

    const ITEMS: &str = r#"[{"workload":"Deployment/shop/api","hash":"abc","node":"n1"},
                            {"workload":"Deployment/shop/api","hash":"abc","node":"n1"},
                            {"workload":"Deployment/shop/api","hash":"abc","node":null},
                            {"workload":"Deployment/shop/api","hash":"abc"}]"#;

    #[test]
    fn in_a_scope_equal_texts_read_as_one_value() {
        let items: Vec<Item> = {
            let _scope = Scope::new();
            serde_json::from_str(ITEMS).unwrap()
        };
        assert!(Arc::ptr_eq(&items[0].hash, &items[1].hash));
        assert!(Arc::ptr_eq(
            &items[0].workload.name,
            &items[1].workload.name
        ));
        let nodes = (items[0].node.as_ref(), items[1].node.as_ref());
        assert!(Arc::ptr_eq(nodes.0.unwrap(), nodes.1.unwrap()));
        assert_eq!(items[1].node.as_deref(), Some("n1"));
        assert_eq!(
            (items[2].node.as_deref(), items[3].node.as_deref()),
            (None, None)
        );
        assert_eq!(items[1].workload.to_string(), "Deployment/shop/api");
        assert_eq!(&*items[1].hash, "abc");
    }

    #[test]
    fn outside_a_scope_each_read_is_its_own() {
        let items: Vec<Item> = serde_json::from_str(ITEMS).unwrap();
        assert!(!Arc::ptr_eq(&items[0].hash, &items[1].hash));
        let nodes = (items[0].node.as_ref(), items[1].node.as_ref());
        assert!(!Arc::ptr_eq(nodes.0.unwrap(), nodes.1.unwrap()));
        assert_eq!(items[0].workload, items[1].workload);
        // A scope that ended left nothing behind.
        drop(Scope::new());
        let items: Vec<Item> = serde_json::from_str(ITEMS).unwrap();
        assert!(!Arc::ptr_eq(
            &items[0].workload.name,
            &items[1].workload.name
        ));
    }

    #[test]
    fn a_bad_reference_is_still_an_error_in_a_scope() {
        let _scope = Scope::new();
        let bad = r#"[{"workload":"nonsense","hash":"a"}]"#;
        assert!(serde_json::from_str::<Vec<Item>>(bad).is_err());
    }
}
