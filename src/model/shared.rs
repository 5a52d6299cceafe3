//! `Shared`: a list that a copy of the state shares with the state until
//! one of them changes it. The loop hands each step's state to the thread
//! that saves it (`cli/persister.rs`); with its replicas shared, that copy
//! is a reference count, and the loop copies the list only if it changes
//! the replicas while the save still holds them.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq)]
pub struct Shared<T>(Arc<Vec<T>>);

impl<T> Default for Shared<T> {
    fn default() -> Self {
        Shared(Arc::new(Vec::new()))
    }
}

impl<T> Deref for Shared<T> {
    type Target = Vec<T>;

    fn deref(&self) -> &Vec<T> {
        &self.0
    }
}

/// Changing the list copies it first if a copy of the state holds it.
impl<T: Clone> DerefMut for Shared<T> {
    fn deref_mut(&mut self) -> &mut Vec<T> {
        Arc::make_mut(&mut self.0)
    }
}

impl<T: Clone> Shared<T> {
    /// A copy that shares nothing with this list: once every copy that
    /// shares it is detached or dropped, changing it copies nothing.
    pub fn detached(&self) -> Shared<T> {
        Shared(Arc::new(self.0.as_ref().clone()))
    }

    /// Whether another copy shares this list (changing it would copy it).
    pub fn is_shared(&self) -> bool {
        Arc::strong_count(&self.0) > 1
    }
}

impl<T> From<Vec<T>> for Shared<T> {
    fn from(items: Vec<T>) -> Self {
        Shared(Arc::new(items))
    }
}

impl<T> FromIterator<T> for Shared<T> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Self {
        Shared(Arc::new(items.into_iter().collect()))
    }
}

impl<'a, T> IntoIterator for &'a Shared<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<'a, T: Clone> IntoIterator for &'a mut Shared<T> {
    type Item = &'a mut T;
    type IntoIter = std::slice::IterMut<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        Arc::make_mut(&mut self.0).iter_mut()
    }
}

impl<T: Serialize> Serialize for Shared<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.as_slice().serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Shared<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Vec::deserialize(deserializer).map(Shared::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_shares_the_list_until_one_side_changes_it() {
        let mut list: Shared<u32> = vec![1, 2].into();
        let copy = list.clone();
        assert!(std::ptr::eq(list.as_ptr(), copy.as_ptr()), "shared");
        list.push(3);
        assert_eq!(*copy, vec![1, 2], "the copy keeps what it had");
        assert_eq!(*list, vec![1, 2, 3]);
        let before = list.as_ptr();
        drop(copy);
        list[0] = 9;
        assert_eq!(list.as_ptr(), before, "alone, it is changed in place");
        assert_eq!(*list, vec![9, 2, 3]);
    }
}
