//! Deterministic replica names, as Kubernetes shapes them:
//! `<deployment>-<pod-template-hash>-<5 chars>` and `<daemonset>-<5 chars>`.
//! The suffix is derived from the workload, the state's generation and a
//! counter, so the same inputs always give the same names.

use crate::model::hash::fnv1a32_on;
use crate::model::state::State;
use crate::model::workload::ObjectRef;
use rustc_hash::FxHashSet;
use std::sync::Arc;

pub use crate::model::hash::{ALPHANUMS, fnv1a32};

pub struct NameGenerator<'a> {
    state: &'a State,
    /// Names in the state (gathered when the first name is asked for).
    taken: Option<FxHashSet<&'a str>>,
    /// Names given out since.
    given: FxHashSet<Arc<str>>,
    generation: u64,
    counter: u64,
    /// The last workload named, and the hash of its seed's start
    /// (`<workload>/<generation>/`): its replicas come one after another.
    seeded: Option<(ObjectRef, u32)>,
    /// The name being made.
    name: String,
}

impl<'a> NameGenerator<'a> {
    pub fn new(state: &'a State) -> NameGenerator<'a> {
        NameGenerator {
            state,
            taken: None,
            given: FxHashSet::default(),
            generation: state.generation,
            counter: 0,
            seeded: None,
            name: String::new(),
        }
    }

    /// The next free name for a replica of `workload` (of the revision
    /// `hash`, for a Deployment): the suffix is FNV-1a of
    /// `<workload>/<generation>/<counter>`, five letters of the alphabet.
    pub fn next(&mut self, workload: &ObjectRef, hash: Option<&str>) -> Arc<str> {
        let seeded = match &self.seeded {
            Some((last, seeded)) if last == workload => *seeded,
            _ => {
                let start = format!("{workload}/{}/", self.generation);
                let seeded = fnv1a32(start.as_bytes());
                self.seeded = Some((workload.clone(), seeded));
                seeded
            }
        };
        let state = self.state;
        let taken = self
            .taken
            .get_or_insert_with(|| state.replicas.iter().map(|r| &*r.name).collect());
        let name = &mut self.name;
        name.clear();
        name.push_str(&workload.name);
        name.push('-');
        if let Some(hash) = hash {
            name.push_str(hash);
            name.push('-');
        }
        let prefix = name.len();
        loop {
            self.counter += 1;
            let mut value = fnv1a32_on(seeded, decimal(self.counter, &mut [0; 20]));
            name.truncate(prefix);
            for _ in 0..5 {
                name.push(ALPHANUMS[(value % 27) as usize] as char);
                value /= 27;
            }
            if !taken.contains(name.as_str()) && !self.given.contains(name.as_str()) {
                let given: Arc<str> = name.as_str().into();
                self.given.insert(given.clone());
                return given;
            }
        }
    }
}

/// `n`'s decimal digits, written at the end of `buffer`.
fn decimal(mut n: u64, buffer: &mut [u8; 20]) -> &[u8] {
    let mut at = buffer.len();
    loop {
        at -= 1;
        buffer[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buffer[at..];
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
        let first: Vec<Arc<str>> = (0..50).map(|_| a.next(&id, Some("5d8f9"))).collect();
        let second: Vec<Arc<str>> = (0..50).map(|_| b.next(&id, Some("5d8f9"))).collect();
        assert_eq!(first, second);
        let unique: HashSet<&Arc<str>> = first.iter().collect();
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
        let expected = defined("api-h-", "Deployment/default/api/0/1");
        assert_eq!(&*names.next(&id, Some("h")), expected);
    }

    /// A name by its definition: `prefix`, then five letters of FNV-1a of
    /// the whole `seed`.
    fn defined(prefix: &str, seed: &str) -> String {
        let mut value = fnv1a32(seed.as_bytes());
        let mut name = String::from(prefix);
        for _ in 0..5 {
            name.push(ALPHANUMS[(value % 27) as usize] as char);
            value /= 27;
        }
        name
    }

    /// The seed's hash is carried from its start (`<workload>/<generation>/`)
    /// to the counter's digits: the same names as hashing the whole seed,
    /// with many-digit counters and generations, workloads taking turns.
    #[test]
    fn names_hash_the_whole_seed_whatever_its_digits() {
        let api = ObjectRef::new(Kind::Deployment, "shop", "api");
        let agent = ObjectRef::new(Kind::DaemonSet, "kube-system", "agent");
        let state = State {
            generation: 1207,
            ..State::default()
        };
        let mut names = NameGenerator::new(&state);
        for counter in 1..=120u64 {
            let (id, prefix, hash) = match counter % 3 {
                0 => (&agent, "agent-", None),
                _ => (&api, "api-5d8f9-", Some("5d8f9")),
            };
            let expected = defined(prefix, &format!("{id}/1207/{counter}"));
            assert_eq!(&*names.next(id, hash), expected, "counter {counter}");
        }
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
        let held: Vec<String> = (0..6)
            .map(|_| names.next(&deployment, Some("b")).to_string())
            .collect();
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
                !held.iter().step_by(2).any(|h| **h == *name),
                "{name} is in the state"
            );
            assert!(given.insert(name.clone()), "{name} was given out twice");
        }
    }
}
