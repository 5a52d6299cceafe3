//! Deterministic replica names, as Kubernetes shapes them:
//! `<deployment>-<pod-template-hash>-<5 chars>` and `<daemonset>-<5 chars>`.
//! The suffix is derived from the workload, the state's generation and a
//! counter, so the same inputs always give the same names.

use crate::model::state::State;
use crate::model::workload::ObjectRef;
use rustc_hash::FxHashSet;

pub use crate::model::hash::{ALPHANUMS, fnv1a32};

pub struct NameGenerator<'a> {
    state: &'a State,
    /// Names in the state (gathered when the first name is asked for).
    taken: Option<FxHashSet<&'a str>>,
    /// Names given out since.
    given: FxHashSet<String>,
    generation: u64,
    counter: u64,
}

impl<'a> NameGenerator<'a> {
    pub fn new(state: &'a State) -> NameGenerator<'a> {
        NameGenerator {
            state,
            taken: None,
            given: FxHashSet::default(),
            generation: state.generation,
            counter: 0,
        }
    }

    /// The next free name for a replica of `workload` (of the revision
    /// `hash`, for a Deployment): the suffix is FNV-1a of
    /// `<workload>/<generation>/<counter>`, five letters of the alphabet.
    pub fn next(&mut self, workload: &ObjectRef, hash: Option<&str>) -> String {
        let prefix = match hash {
            Some(hash) => format!("{}-{hash}-", workload.name),
            None => format!("{}-", workload.name),
        };
        let state = self.state;
        let taken = self
            .taken
            .get_or_insert_with(|| state.replicas.iter().map(|r| &*r.name).collect());
        loop {
            self.counter += 1;
            let seed = format!("{workload}/{}/{}", self.generation, self.counter);
            let mut value = fnv1a32(seed.as_bytes());
            let mut name = String::with_capacity(prefix.len() + 5);
            name.push_str(&prefix);
            for _ in 0..5 {
                name.push(ALPHANUMS[(value % 27) as usize] as char);
                value /= 27;
            }
            if !taken.contains(name.as_str()) && !self.given.contains(&name) {
                self.given.insert(name.clone());
                return name;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::workload::Kind;
    use std::collections::HashSet;

    #[test]
    fn names_are_deterministic_and_unique() {
        let id = ObjectRef::new(Kind::Deployment, "default", "api");
        let state = State::default();
        let mut a = NameGenerator::new(&state);
        let mut b = NameGenerator::new(&state);
        let first: Vec<String> = (0..50).map(|_| a.next(&id, Some("5d8f9"))).collect();
        let second: Vec<String> = (0..50).map(|_| b.next(&id, Some("5d8f9"))).collect();
        assert_eq!(first, second);
        let unique: HashSet<&String> = first.iter().collect();
        assert_eq!(unique.len(), 50);
        assert!(first[0].starts_with("api-5d8f9-"));
        assert_eq!(first[0].len(), "api-5d8f9-".len() + 5);
    }

    /// Pinned names: the definition (FNV-1a of the seed, five letters) and
    /// the names of every state written so far depend on them.
    #[test]
    fn names_are_the_hash_of_workload_generation_and_counter() {
        let id = ObjectRef::new(Kind::Deployment, "default", "api");
        let state = State::default();
        let mut names = NameGenerator::new(&state);
        let mut value = fnv1a32(b"Deployment/default/api/0/1");
        let mut expected = String::from("api-h-");
        for _ in 0..5 {
            expected.push(ALPHANUMS[(value % 27) as usize] as char);
            value /= 27;
        }
        assert_eq!(names.next(&id, Some("h")), expected);
    }

    fn replica(name: String) -> crate::model::state::Replica {
        crate::model::state::Replica::pending(
            name.into(),
            ObjectRef::new(Kind::Deployment, "default", "x"),
            1,
            "h".into(),
            None,
            0,
        )
    }

    /// Names the state holds, and names given out, are skipped; workloads
    /// whose prefixes coincide (`a` with hash `b`, DaemonSet `a-b`) share
    /// one space of names.
    #[test]
    fn names_in_the_state_or_given_out_are_skipped() {
        let deployment = ObjectRef::new(Kind::Deployment, "default", "a");
        let daemonset = ObjectRef::new(Kind::DaemonSet, "default", "a-b");
        let fresh = State::default();
        let mut names = NameGenerator::new(&fresh);
        let held: Vec<String> = (0..6).map(|_| names.next(&deployment, Some("b"))).collect();
        let state = State {
            replicas: held.iter().step_by(2).cloned().map(replica).collect(),
            ..State::default()
        };
        let mut names = NameGenerator::new(&state);
        let mut given = HashSet::new();
        for i in 0..40 {
            let name = if i % 2 == 0 {
                names.next(&deployment, Some("b"))
            } else {
                names.next(&daemonset, None)
            };
            assert!(name.starts_with("a-b-"), "{name}");
            assert!(
                !held.iter().step_by(2).any(|h| *h == name),
                "{name} is in the state"
            );
            assert!(given.insert(name.clone()), "{name} was given out twice");
        }
    }
}
