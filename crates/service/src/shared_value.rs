//! A value of a persistent map kept behind an `Arc`.
//!
//! The state's large maps (`imbl`) are shared with a snapshot's image while
//! it is written, and a node the writer then changes is copied whole: with
//! the values inline that copied every activity or deadline of the node
//! (their strings and lists), and their size spread the keys a lookup
//! compares over many cache lines. Behind an `Arc`, a copy is a count each
//! and the node's entries are small; a value is copied only when it is itself
//! changed while shared ([`SharedValue::make_mut`]). Serialized as the value.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::sync::Arc;

#[derive(Debug, Default, PartialEq)]
pub(crate) struct SharedValue<T>(Arc<T>);

impl<T> SharedValue<T> {
    pub(crate) fn new(value: T) -> Self {
        SharedValue(Arc::new(value))
    }
}

impl<T: Clone> SharedValue<T> {
    /// The value to change, copied first if an image still shares it.
    pub(crate) fn make_mut(&mut self) -> &mut T {
        Arc::make_mut(&mut self.0)
    }
}

impl<T> Clone for SharedValue<T> {
    fn clone(&self) -> Self {
        SharedValue(Arc::clone(&self.0))
    }
}

impl<T> std::ops::Deref for SharedValue<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Serialize> Serialize for SharedValue<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for SharedValue<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(SharedValue::new)
    }
}

#[cfg(test)]
mod tests {
    use super::SharedValue;

    #[test]
    fn a_value_changed_while_an_image_shares_it_is_copied_and_the_image_keeps_its_own() {
        let mut state: imbl::OrdMap<String, SharedValue<Vec<u64>>> = imbl::OrdMap::new();
        state.insert("a".into(), SharedValue::new(vec![1]));
        let image = state.clone();
        state
            .get_mut("a")
            .map(SharedValue::make_mut)
            .unwrap()
            .push(2);
        assert_eq!(*state["a"], vec![1, 2]);
        assert_eq!(*image["a"], vec![1], "the image's value is as it was taken");
        // Unshared, a change is made in place.
        drop(image);
        let before: *const Vec<u64> = &*state["a"];
        state
            .get_mut("a")
            .map(SharedValue::make_mut)
            .unwrap()
            .push(3);
        assert_eq!(before, &*state["a"] as *const _);
        // Serialized as the value itself: snapshots read as before.
        let json = serde_json::to_string(&state).unwrap();
        assert_eq!(json, r#"{"a":[1,2,3]}"#);
        let back: imbl::OrdMap<String, SharedValue<Vec<u64>>> =
            serde_json::from_str(&json).unwrap();
        assert_eq!(back, state);
    }
}
