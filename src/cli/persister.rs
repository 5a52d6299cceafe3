//! Saving the state in the background, the one place the writers' loop
//! leaves its thread: the loop hands a copy of each step's state to a
//! thread that writes it under the lock while the loop computes the next
//! pass (on a large cluster the two take about as long). Every step is
//! saved, in order; a failed save stops the loop at its next hand-over;
//! `persisting` returns only once the last save is on disk.
//!
//! The copy handed over shares the replicas with the loop's state
//! (`model::shared`); a second thread detaches it at once, so that the
//! loop, which changes the replicas at its next step, does not copy them
//! itself while a save still holds them.

use crate::model::state::State;
use crate::state_store::StateLock;
use anyhow::{Context as _, Result, anyhow};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::{Scope, ScopedJoinHandle};

/// Hands states to the saving thread.
pub struct Persister<'a> {
    lock: &'a StateLock,
    /// `None` when no thread could be had: then saves are made in `save`.
    background: Option<Background<'a>>,
}

struct Background<'a> {
    states: SyncSender<State>,
    saver: ScopedJoinHandle<'a, Result<()>>,
}

/// Run `work` with a persister that saves to `lock`'s state file; the saves
/// are all done (or one failed, and its error is returned) when this returns.
pub fn persisting<T>(
    lock: &StateLock,
    work: impl FnOnce(&mut Persister<'_>) -> Result<T>,
) -> Result<T> {
    std::thread::scope(|scope| {
        let mut persister = Persister::start(scope, lock);
        let result = work(&mut persister);
        let saved = persister.finish();
        // The loop's own error comes first; a save that failed after it is secondary.
        let value = result?;
        saved?;
        Ok(value)
    })
}

impl<'a> Persister<'a> {
    fn start(scope: &'a Scope<'a, '_>, lock: &'a StateLock) -> Self {
        // One state waiting while one is written: the loop runs at most a
        // step ahead of the disk.
        let (states, received) = sync_channel::<State>(1);
        let (detached, to_save) = sync_channel::<State>(1);
        let saver = std::thread::Builder::new()
            .name("orch-persister".into())
            .spawn_scoped(scope, move || save_each(lock, to_save));
        let detacher = std::thread::Builder::new()
            .name("orch-detacher".into())
            .spawn_scoped(scope, move || detach_each(received, detached));
        // Without both threads (or with the saver alone, which then stops
        // as its states stop coming), saves are made in `save`.
        let background = match (saver, detacher) {
            (Ok(saver), Ok(_)) => Some(Background { states, saver }),
            _ => None,
        };
        Persister { lock, background }
    }

    /// Save a copy of `state` after the saves handed over before it.
    /// Returns the error of an earlier save that failed.
    pub fn save(&mut self, state: &State) -> Result<()> {
        let Some(background) = &self.background else {
            return save(self.lock, state);
        };
        if background.states.send(state.clone()).is_ok() {
            return Ok(());
        }
        // The saving thread stopped: a save failed, and it says why.
        self.finish()
            .and(Err(anyhow!("the state saver stopped without an error")))
    }

    /// Wait for every save handed over; the first error, if any.
    fn finish(&mut self) -> Result<()> {
        let Some(Background { states, saver }) = self.background.take() else {
            return Ok(());
        };
        drop(states);
        saver
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }
}

/// Each state received, its replicas copied apart from the loop's, passed
/// on in order; stops when either side does.
fn detach_each(states: Receiver<State>, detached: SyncSender<State>) {
    for mut state in states {
        if state.replicas.is_shared() {
            state.replicas = state.replicas.detached();
        }
        if detached.send(state).is_err() {
            return;
        }
    }
}

fn save_each(lock: &StateLock, states: Receiver<State>) -> Result<()> {
    for state in states {
        save(lock, &state)?;
    }
    Ok(())
}

fn save(lock: &StateLock, state: &State) -> Result<()> {
    lock.save(state)
        .with_context(|| format!("saving state {}", lock.path().display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state_store;

    fn save_clocks(lock: &StateLock, clocks: std::ops::RangeInclusive<u64>) -> Result<()> {
        let mut state = State::default();
        persisting(lock, |persister| {
            for clock in clocks {
                state.clock = clock;
                persister.save(&state)?;
            }
            Ok(())
        })
    }

    #[test]
    fn the_last_state_handed_over_is_on_disk_when_persisting_returns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("orch.state.json");
        let lock = state_store::lock(&path, false).unwrap();
        save_clocks(&lock, 1..=20).unwrap();
        assert_eq!(state_store::load(&path).unwrap().clock, 20);
    }

    /// A state handed over stops sharing the loop's replicas while it
    /// still waits to be saved: the loop's next change copies nothing.
    #[test]
    fn a_state_waiting_to_be_saved_leaves_the_loops_replicas_its_own() {
        let state = State::default();
        let (states, received) = sync_channel::<State>(1);
        let (detached, waiting) = sync_channel::<State>(1);
        std::thread::scope(|scope| {
            scope.spawn(|| detach_each(received, detached));
            states.send(state.clone()).unwrap();
            let waited = std::time::Instant::now();
            while state.replicas.is_shared() {
                assert!(waited.elapsed().as_secs() < 10, "still shared");
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            assert_eq!(waiting.recv().unwrap(), state);
            drop(states);
        });
    }

    #[test]
    fn a_save_that_fails_is_the_error_of_the_run() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone");
        std::fs::create_dir(&gone).unwrap();
        let lock = state_store::lock(&gone.join("orch.state.json"), false).unwrap();
        std::fs::remove_dir_all(&gone).unwrap();
        let error = save_clocks(&lock, 1..=20).unwrap_err();
        assert!(
            format!("{error:#}").starts_with("saving state "),
            "{error:#}"
        );
    }
}
