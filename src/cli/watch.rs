//! `orch watch -f PATH…`: the loop that never ends. Reconciles on start, on
//! every change of the manifests or of the state file (another orch command),
//! when the next simulated event is due, and on a resync interval. Wall-clock
//! time drives the simulated clock (`--speed N` runs it N× faster). A broken
//! manifest is reported and the last good set keeps running. The state lock
//! is held only while a tick writes, so other commands get in between.
//! SIGINT/SIGTERM end the loop after the current tick, with the state saved.
//! Signals, file events and deadlines come from `wakeup`, as for `get -w`.

use super::apply::{ApplyArgs, LoopArgs};
use super::get::{Filters, Live, Resource};
use super::shared::{load_manifests, out};
use super::wakeup::{Wake, Wakeup};
use super::{Context, Exit};
use crate::executor::{self, Step};
use crate::manifest::{Loaded, parse_duration};
use crate::model::state::{Event, State};
use crate::render;
use crate::state_store;
use anyhow::{Context as _, Result, anyhow};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use notify_debouncer_mini::notify::RecursiveMode;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub common: LoopArgs,
    /// Reconcile at least this often, changes or not (`30s`, `1m`).
    #[arg(long, default_value = "30s", value_parser = seconds)]
    pub resync: u64,
    /// The simulated clock runs this many times faster than the wall clock.
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Reconcile to convergence once and exit with apply's exit codes.
    #[arg(long)]
    pub once: bool,
    /// Debounce window for file changes, milliseconds (an editor's save burst is one change).
    #[arg(long, default_value_t = 200)]
    pub debounce_ms: u64,
    /// After each reconciliation print on stdout the rows of this listing that changed, as
    /// `get -w` does (`-o wide|json|yaml` apply).
    #[arg(long, value_enum, value_name = "RESOURCE", conflicts_with = "once")]
    pub show: Option<Resource>,
    /// With `--show`: only the objects matching this label selector.
    #[arg(short = 'l', long = "selector", requires = "show")]
    pub selector: Option<String>,
}

fn seconds(text: &str) -> Result<u64, String> {
    parse_duration(text)
        .filter(|s| *s > 0)
        .ok_or_else(|| format!("`{text}` is not a duration such as 30s or 1m"))
}

/// `orch watch`: reconcile now, then on every wake-up (a change, the
/// resync, a signal) until stopped: the setup and the one loop that never
/// ends, which reads best whole.
pub fn run(context: &Context, args: WatchArgs) -> Result<Exit> {
    if args.once {
        return once(context, args);
    }
    if !(args.speed > 0.0 && args.speed.is_finite()) {
        return Err(anyhow!("--speed must be a positive number"));
    }
    let mut live = args
        .show
        .map(|resource| Filters::new(resource, args.selector.as_deref(), None))
        .transpose()?
        .map(|filters| Live::new(filters, context.output));
    let mut loaded = load_manifests(&args.common.manifests, context.quiet)?;
    let mut wakeup = Wakeup::new()?;
    let state_path = absolute(&context.state);
    wakeup.watch(
        &watch_paths(&args.common.manifests.files, &state_path),
        Duration::from_millis(args.debounce_ms),
    )?;
    let log = Log::new(context);
    log.line(&format!(
        "watching {} (resync {}s, speed {}×); Ctrl-C to stop",
        args.common.manifests.files.join(" "),
        args.resync,
        args.speed
    ));
    let scheduler = args.common.scheduler();
    let options = args.common.run_options(false);
    let started = Instant::now();
    let start_clock = state_store::load(&context.state)?.clock;
    let mut last_resync = Instant::now();
    let mut manifests_seen = fingerprint(&args.common.manifests.files);
    let mut state_seen;
    loop {
        let now = start_clock + (started.elapsed().as_secs_f64() * args.speed) as u64;
        let (wake, state) = tick(context, &loaded, now, &scheduler, &options, &log)?;
        if let Some(live) = &mut live {
            match live.show(&state) {
                Ok(text) => log.stdout(&text),
                Err(error) => log.line(&format!("--show: {error:#}")),
            }
        }
        state_seen = fingerprint(&[context.state.display().to_string()]);
        if wakeup.stopped() {
            break;
        }
        // Sleep until the next simulated event, the resync, a change, or a signal.
        let resync_at = last_resync + Duration::from_secs(args.resync);
        let due = wake.map(|at| {
            let simulated = at.saturating_sub(start_clock) as f64 / args.speed;
            started + Duration::from_secs_f64(simulated)
        });
        let deadline = due.map_or(resync_at, |d| d.min(resync_at));
        let mut manifests_changed = false;
        loop {
            match wakeup.wait(Some(deadline), |path| is_relevant(path, &state_path)) {
                Wake::Signal | Wake::Deadline => break,
                Wake::WatchError(error) => log.line(&format!("watch error: {error}")),
                // Reading a file is an event too: act only on real changes.
                Wake::Changed => {
                    let manifests_now = fingerprint(&args.common.manifests.files);
                    let state_now = fingerprint(&[context.state.display().to_string()]);
                    manifests_changed = manifests_now != manifests_seen;
                    if !manifests_changed && state_now == state_seen {
                        continue;
                    }
                    manifests_seen = manifests_now;
                    break;
                }
            }
        }
        if Instant::now() >= resync_at {
            last_resync = Instant::now();
        }
        if wakeup.stopped() {
            break;
        }
        if manifests_changed {
            reload(context, &args.common.manifests, &log, &mut loaded);
        }
    }
    log.finish();
    log.line("stopped; state saved");
    Ok(Exit::Success)
}

/// `--once`: one `apply`, waiting for the lock.
fn once(context: &Context, args: WatchArgs) -> Result<Exit> {
    super::apply::apply(
        context,
        ApplyArgs {
            plan: None,
            common: args.common,
            wait_lock: true,
            atomic: false,
            report: Default::default(),
            visual: Default::default(),
        },
    )
}

/// The changed manifests become the set reconciled, unless they fail to
/// load or update fields the API server keeps immutable: then the last
/// good set stays.
fn reload(
    context: &Context,
    manifests: &super::shared::ManifestArgs,
    log: &Log,
    loaded: &mut Loaded,
) {
    match load_manifests(manifests, true) {
        Ok(fresh) => match refused_updates(manifests, &fresh, context) {
            Some(lines) => {
                for line in lines {
                    log.line(&line);
                }
                log.line("manifests rejected, keeping the last good set");
            }
            None => {
                log.line("manifests changed; reconciling");
                *loaded = fresh;
            }
        },
        Err(error) => log.line(&format!(
            "manifests rejected, keeping the last good set: {error:#}"
        )),
    }
}

/// The located errors for fields the API server keeps immutable that the
/// changed manifests update, or nothing.
fn refused_updates(
    manifests: &super::shared::ManifestArgs,
    loaded: &Loaded,
    context: &Context,
) -> Option<Vec<String>> {
    let state = state_store::load(&context.state).ok()?;
    let changes = crate::manifest::immutable::changes(&loaded.desired, &state);
    if changes.is_empty() {
        return None;
    }
    let sources = crate::sources::collect(&manifests.files).unwrap_or_default();
    let diagnostics = crate::manifest::immutable::locate(&changes, &sources);
    Some(crate::manifest::one_screen(&diagnostics))
}

/// One reconcile at simulated time `now`, holding the lock only while it
/// writes: when the next one is due, and the state as it now is.
fn tick(
    context: &Context,
    loaded: &Loaded,
    now: u64,
    scheduler: &crate::scheduler::Scheduler,
    options: &executor::RunOptions,
    log: &Log,
) -> Result<(Option<u64>, State)> {
    // Look first without the lock; most ticks change nothing.
    let mut state = state_store::load(&context.state)?;
    let mut probe = state.clone();
    let (steps, wake) = executor::settle(
        &loaded.desired,
        &mut probe,
        now,
        scheduler,
        options,
        |_, _| Ok::<(), anyhow::Error>(()),
    )?;
    if steps.is_empty() {
        log.status(&probe, &loaded.desired);
        return Ok((wake, state));
    }
    let lock = state_store::lock(&context.state, true)?;
    state = lock.load()?;
    let before = state.events.len();
    let seen = state.events.last().cloned();
    let (_, wake) = executor::settle(
        &loaded.desired,
        &mut state,
        now,
        scheduler,
        options,
        |state, _: &Step| {
            lock.save(state)
                .with_context(|| format!("saving state {}", context.state.display()))
        },
    )?;
    drop(lock);
    log.events(new_events(&state.events, before, seen.as_ref()));
    log.status(&state, &loaded.desired);
    Ok((wake, state))
}

/// The events appended since (the ring may have dropped old ones).
fn new_events<'a>(events: &'a [Event], before: usize, last_seen: Option<&Event>) -> &'a [Event] {
    match last_seen {
        None => events,
        Some(last) => match events.iter().rposition(|e| e == last) {
            Some(i) => &events[i + 1..],
            None => &events[before.min(events.len())..],
        },
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Manifest directories recursively; manifest files and the state file
/// through their directory (editors and atomic saves replace the inode).
fn watch_paths(files: &[String], state: &Path) -> Vec<(PathBuf, RecursiveMode)> {
    let mut paths: Vec<(PathBuf, RecursiveMode)> = Vec::new();
    let mut add = |path: PathBuf, mode| {
        if !paths.iter().any(|(p, _)| *p == path) {
            paths.push((path, mode));
        }
    };
    for file in files.iter().filter(|f| f.as_str() != "-") {
        let path = absolute(Path::new(file));
        if path.is_dir() {
            add(path, RecursiveMode::Recursive);
        } else if let Some(parent) = path.parent() {
            add(parent.to_path_buf(), RecursiveMode::NonRecursive);
        }
    }
    if let Some(parent) = state.parent() {
        add(parent.to_path_buf(), RecursiveMode::NonRecursive);
    }
    paths
}

/// Paths, sizes and modification times of every file under `paths`.
fn fingerprint(paths: &[String]) -> Vec<(PathBuf, u64, Option<std::time::SystemTime>)> {
    let mut found = Vec::new();
    let mut stack: Vec<PathBuf> = paths
        .iter()
        .filter(|p| p.as_str() != "-")
        .map(PathBuf::from)
        .collect();
    let mut visited = 0;
    while let Some(path) = stack.pop() {
        visited += 1;
        if visited > 100_000 {
            break;
        }
        let Ok(metadata) = std::fs::metadata(&path) else {
            continue;
        };
        if metadata.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&path) {
                stack.extend(entries.flatten().map(|e| e.path()));
            }
        } else {
            found.push((path, metadata.len(), metadata.modified().ok()));
        }
    }
    found.sort();
    found
}

/// Changes worth a reconcile: manifests and the state file itself, not the
/// lock file or a save's temporary file.
fn is_relevant(path: &Path, state: &Path) -> bool {
    if path == state {
        return true;
    }
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.ends_with(".lock") || (name.starts_with('.') && name.contains(".tmp-")) {
        return false;
    }
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
}

/// A live status line on a terminal; plain log lines otherwise.
struct Log {
    bar: Option<ProgressBar>,
    quiet: bool,
}

impl Log {
    fn new(context: &Context) -> Log {
        let tty = std::io::stderr().is_terminal() && !context.quiet;
        let bar = tty.then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Log {
            bar,
            quiet: context.quiet,
        }
    }

    fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None if !self.quiet => eprintln!("{text}"),
            None => {}
        }
    }

    /// Text for stdout, kept clear of the status line.
    fn stdout(&self, text: &str) {
        if text.is_empty() {
            return;
        }
        match &self.bar {
            Some(bar) => bar.suspend(|| out(text)),
            None => out(text),
        }
    }

    fn events(&self, events: &[Event]) {
        for e in events {
            self.line(&format!(
                "t={} {:?} {} {}: {}",
                render::duration(e.time),
                e.kind,
                e.reason,
                e.object,
                e.message
            ));
        }
    }

    fn status(&self, state: &State, desired: &crate::model::workload::Desired) {
        let reports = crate::reconcile::summarize(desired, state, state.clock);
        let converged = reports.iter().filter(|r| r.converged()).count();
        let message = format!(
            "t={} {converged}/{} workloads converged, {} replicas",
            render::duration(state.clock),
            reports.len(),
            state.replicas.len()
        );
        if let Some(bar) = &self.bar {
            bar.set_message(message);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
