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
    /// Names in the state (gathered when the first name is asked for), and
    /// names given out since.
    taken: Option<FxHashSet<&'a str>>,
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

    pub fn next(&mut self, workload: &ObjectRef, hash: Option<&str>) -> String {
        let prefix = match hash {
            Some(hash) => format!("{}-{hash}-", workload.name),
            None => format!("{}-", workload.name),
        };
        let state = self.state;
        let taken = self
            .taken
            .get_or_insert_with(|| state.replicas.iter().map(|r| r.name.as_str()).collect());
        loop {
            self.counter += 1;
            let seed = format!("{workload}/{}/{}", self.generation, self.counter);
            let mut value = fnv1a32(seed.as_bytes());
            let mut name = prefix.clone();
            for _ in 0..5 {
                name.push(ALPHANUMS[(value % 27) as usize] as char);
                value /= 27;
            }
            if !taken.contains(name.as_str()) && self.given.insert(name.clone()) {
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
}
