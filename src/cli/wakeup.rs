//! What wakes a command that waits on the world (`watch`, `get -w`): a
//! signal (Ctrl-C, SIGTERM), a debounced change of a watched file, or a
//! deadline (a resync, a poll, a timeout). One channel carries the first
//! two, so a wait sleeps until something happens instead of polling.

use anyhow::{Context as _, Result};
use notify_debouncer_mini::notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_mini::{DebounceEventResult, Debouncer, new_debouncer};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

/// Why a wait ended.
#[derive(Debug)]
pub enum Wake {
    /// SIGINT or SIGTERM: finish what is under way and stop.
    Signal,
    /// A watched path that matters changed (after the debounce window).
    Changed,
    /// The file watcher reported an error; waiting may go on.
    WatchError(String),
    /// The deadline passed.
    Deadline,
}

enum Input {
    Signal,
    Files(DebounceEventResult),
}

/// Signals, file changes and deadlines, as one source of wake-ups.
pub struct Wakeup {
    inputs: Receiver<Input>,
    sender: Sender<Input>,
    stopped: Arc<AtomicBool>,
    watcher: Option<Debouncer<RecommendedWatcher>>,
}

impl Wakeup {
    /// Catch SIGINT and SIGTERM from now on (once per process).
    pub fn new() -> Result<Wakeup> {
        let (sender, inputs) = mpsc::channel();
        let stopped = Arc::new(AtomicBool::new(false));
        {
            let stopped = Arc::clone(&stopped);
            let sender = sender.clone();
            ctrlc::set_handler(move || {
                stopped.store(true, Ordering::SeqCst);
                let _ = sender.send(Input::Signal);
            })
            .context("installing the signal handler")?;
        }
        Ok(Wakeup {
            inputs,
            sender,
            stopped,
            watcher: None,
        })
    }

    /// Also wake on changes under `paths`, a burst within `debounce` being one change.
    pub fn watch(&mut self, paths: &[(PathBuf, RecursiveMode)], debounce: Duration) -> Result<()> {
        let sender = self.sender.clone();
        let mut debouncer = new_debouncer(debounce, move |result: DebounceEventResult| {
            let _ = sender.send(Input::Files(result));
        })
        .context("starting the file watcher")?;
        for (path, mode) in paths {
            debouncer
                .watcher()
                .watch(path, *mode)
                .with_context(|| format!("watching {}", path.display()))?;
        }
        self.watcher = Some(debouncer);
        Ok(())
    }

    /// Whether a signal has come (it is also returned by `wait`, once).
    pub fn stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    /// Sleep until a signal, a change of a path `relevant` accepts, a
    /// watcher error, or `deadline` (never, when `None`). A signal that came
    /// before wins over changes still queued.
    pub fn wait(&self, deadline: Option<Instant>, relevant: impl Fn(&Path) -> bool) -> Wake {
        loop {
            if self.stopped() {
                return Wake::Signal;
            }
            let input = match deadline {
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    match self.inputs.recv_timeout(left) {
                        Ok(input) => input,
                        Err(RecvTimeoutError::Timeout) => return Wake::Deadline,
                        // The handler keeps a sender for the life of the process.
                        Err(RecvTimeoutError::Disconnected) => return Wake::Signal,
                    }
                }
                None => match self.inputs.recv() {
                    Ok(input) => input,
                    Err(_) => return Wake::Signal,
                },
            };
            match input {
                Input::Signal => return Wake::Signal,
                Input::Files(Err(error)) => return Wake::WatchError(error.to_string()),
                Input::Files(Ok(events)) => {
                    if events.iter().any(|event| relevant(&event.path)) {
                        return Wake::Changed;
                    }
                }
            }
        }
    }
}
