//! Deterministic replica names, as Kubernetes shapes them:
//! `<deployment>-<pod-template-hash>-<5 chars>` and `<daemonset>-<5 chars>`.
//! The suffix is derived from the workload, the state's generation and a
//! counter, so the same inputs always give the same names.

use crate::model::state::State;
use crate::model::workload::ObjectRef;
use rustc_hash::{FxHashMap, FxHashSet};
use std::fmt::Write;

pub use crate::model::hash::{ALPHANUMS, fnv1a32};

pub struct NameGenerator<'a> {
    state: &'a State,
    /// Names in the state (gathered when the first name is asked for).
    taken: Option<FxHashSet<&'a str>>,
    /// Names given out since, as (prefix number, suffix): a name is its
    /// prefix and five letters, so two are equal when both parts are.
    given: FxHashSet<(u32, u32)>,
    prefixes: FxHashMap<String, u32>,
    /// The last workload asked for: its prefix, the prefix's number and
    /// the seed's hash up to the counter.
    last: Option<Last>,
    generation: u64,
    counter: u64,
}

struct Last {
    workload: ObjectRef,
    hash: Option<String>,
    prefix: String,
    number: u32,
    seed: u32,
}

impl<'a> NameGenerator<'a> {
    pub fn new(state: &'a State) -> NameGenerator<'a> {
        NameGenerator {
            state,
            taken: None,
            given: FxHashSet::default(),
            prefixes: FxHashMap::default(),
            last: None,
            generation: state.generation,
            counter: 0,
        }
    }

    pub fn next(&mut self, workload: &ObjectRef, hash: Option<&str>) -> String {
        let same = self
            .last
            .as_ref()
            .is_some_and(|last| last.workload == *workload && last.hash.as_deref() == hash);
        if !same {
            let prefix = match hash {
                Some(hash) => format!("{}-{hash}-", workload.name),
                None => format!("{}-", workload.name),
            };
            let count = self.prefixes.len() as u32;
            let number = *self.prefixes.entry(prefix.clone()).or_insert(count);
            // The seed is `<workload>/<generation>/<counter>`; FNV-1a goes
            // byte by byte, so the part before the counter is hashed once.
            let seed = fnv1a32(format!("{workload}/{}/", self.generation).as_bytes());
            self.last = Some(Last {
                workload: workload.clone(),
                hash: hash.map(str::to_string),
                prefix,
                number,
                seed,
            });
        }
        let last = self.last.as_ref().expect("set above");
        let state = self.state;
        let taken = self
            .taken
            .get_or_insert_with(|| state.replicas.iter().map(|r| r.name.as_str()).collect());
        let mut digits = String::new();
        loop {
            self.counter += 1;
            digits.clear();
            write!(digits, "{}", self.counter).expect("writing to a string");
            let mut value = fnv1a32_from(last.seed, digits.as_bytes());
            let mut name = String::with_capacity(last.prefix.len() + 5);
            name.push_str(&last.prefix);
            let mut suffix = 0u32;
            for _ in 0..5 {
                let letter = value % 27;
                name.push(ALPHANUMS[letter as usize] as char);
                suffix = suffix * 27 + letter;
                value /= 27;
            }
            if !taken.contains(name.as_str()) && self.given.insert((last.number, suffix)) {
                return name;
            }
        }
    }
}

/// FNV-1a (32 bit) continued over `bytes` from the hash `hash` of what came before.
fn fnv1a32_from(mut hash: u32, bytes: &[u8]) -> u32 {
    for byte in bytes {
        hash ^= u32::from(*byte);
        hash = hash.wrapping_mul(16_777_619);
    }
    hash
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

    /// The names as their definition gives them: the seed formatted and
    /// hashed whole, every name given out kept as text.
    struct Plain {
        generation: u64,
        counter: u64,
        taken: HashSet<String>,
    }

    impl Plain {
        fn next(&mut self, workload: &ObjectRef, hash: Option<&str>) -> String {
            let prefix = match hash {
                Some(hash) => format!("{}-{hash}-", workload.name),
                None => format!("{}-", workload.name),
            };
            loop {
                self.counter += 1;
                let seed = format!("{workload}/{}/{}", self.generation, self.counter);
                let mut value = fnv1a32(seed.as_bytes());
                let mut name = prefix.clone();
                for _ in 0..5 {
                    name.push(ALPHANUMS[(value % 27) as usize] as char);
                    value /= 27;
                }
                if self.taken.insert(name.clone()) {
                    return name;
                }
            }
        }
    }

    fn replica(name: String) -> crate::model::state::Replica {
        crate::model::state::Replica {
            name,
            workload: ObjectRef::new(Kind::Deployment, "default", "x"),
            revision: 1,
            hash: "h".into(),
            node: None,
            target_node: None,
            phase: crate::model::state::Phase::Pending,
            ready: false,
            created_at: 0,
            started_at: None,
            ready_at: None,
            restarts: 0,
            reason: None,
        }
    }

    proptest::proptest! {
        /// The generator gives the names of the plain definition, in the same
        /// order, skipping the same names already in the state; workloads
        /// whose prefixes coincide (`a` with hash `b`, DaemonSet `a-b`) share
        /// one space of names.
        #[test]
        fn names_are_the_plain_definition(
            generation in 0u64..4,
            asks in proptest::collection::vec(0usize..4, 1..60),
            taken_every in 1usize..5,
        ) {
            let workloads = [
                (ObjectRef::new(Kind::Deployment, "default", "a"), Some("b")),
                (ObjectRef::new(Kind::DaemonSet, "default", "a-b"), None),
                (ObjectRef::new(Kind::Deployment, "default", "a"), Some("c")),
                (ObjectRef::new(Kind::Deployment, "other", "web"), Some("b")),
            ];
            // Names the state already holds: some of those the same asks give.
            let mut plain = Plain { generation, counter: 0, taken: HashSet::new() };
            let held: Vec<String> = asks
                .iter()
                .map(|&w| plain.next(&workloads[w].0, workloads[w].1))
                .step_by(taken_every)
                .collect();
            let state = State {
                generation,
                replicas: held.iter().cloned().map(replica).collect(),
                ..State::default()
            };
            let mut plain = Plain { generation, counter: 0, taken: held.into_iter().collect() };
            let mut names = NameGenerator::new(&state);
            for &w in &asks {
                let (workload, hash) = &workloads[w];
                proptest::prop_assert_eq!(names.next(workload, *hash), plain.next(workload, *hash));
            }
        }
    }
}
