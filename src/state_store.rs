//! The only code that touches the state file: reading (YAML or JSON by
//! extension), refusing anything it does not fully understand, an exclusive
//! lock held for a whole read-modify-write, and atomic replacement (which
//! reports such as `--junit` use as well).

use crate::model::state::{API_VERSION, STATE_KIND, State};
use rustc_hash::FxHashSet as HashSet;
use serde::Deserialize;
use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{action} state {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("state {}:{line}:{column}: {message}; refusing to touch it", path.display())]
    Parse {
        path: PathBuf,
        line: u64,
        column: u64,
        message: String,
    },
    #[error("state {}: {message}; refusing to touch it", path.display())]
    Invalid { path: PathBuf, message: String },
    #[error("state {} is locked by pid {pid} (use --wait-lock to wait)", path.display())]
    Locked { path: PathBuf, pid: String },
    #[error("state {}: directory {} does not exist", path.display(), dir.display())]
    NoDirectory { path: PathBuf, dir: PathBuf },
    #[error("serializing state {}: {message}", path.display())]
    Serialize { path: PathBuf, message: String },
    #[error("state {}: {what}, not a regular file; refusing to read, lock or replace it", path.display())]
    NotAFile { path: PathBuf, what: &'static str },
}

/// The file a state path names, with the symlinks of its last component
/// followed (a link to a state not created yet resolves to where it will
/// be): the lock and the atomic rename then act on the real file, so a
/// link is never replaced by a copy and every path to one file shares one
/// lock. Anything but a regular file (a directory, FIFO, device, socket) is
/// refused at once, before anything could block on it.
pub fn resolve(path: &Path) -> Result<PathBuf, StateError> {
    let io = |source| StateError::Io {
        action: "resolving",
        path: path.into(),
        source,
    };
    let mut current = path.to_path_buf();
    // As many links as the kernel follows before ELOOP.
    for _ in 0..40 {
        let metadata = match fs::symlink_metadata(&current) {
            Ok(metadata) => metadata,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(current),
            Err(e) => return Err(io(e)),
        };
        if !metadata.file_type().is_symlink() {
            return match special_kind(&metadata) {
                None => Ok(current),
                Some(what) => Err(StateError::NotAFile {
                    path: path.into(),
                    what,
                }),
            };
        }
        let target = fs::read_link(&current).map_err(io)?;
        current = match current.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.join(target),
            _ => target,
        };
    }
    Err(invalid(
        path,
        "symlink loop (too many levels of symbolic links)",
    ))
}

/// What a file that is not a regular file is; `None` for a regular file.
fn special_kind(metadata: &fs::Metadata) -> Option<&'static str> {
    let kind = metadata.file_type();
    if kind.is_file() {
        return None;
    }
    if kind.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return Some("a FIFO");
        }
        if kind.is_socket() {
            return Some("a socket");
        }
        if kind.is_block_device() || kind.is_char_device() {
            return Some("a device");
        }
    }
    Some("a special file")
}

fn is_json(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// The state at `path`; a missing file is an empty cluster. Never writes.
pub fn load(path: &Path) -> Result<State, StateError> {
    Ok(load_streamed(path, None)?.unwrap_or_default())
}

/// The state file's exact bytes, or `None` when there is no state file yet.
pub fn read(path: &Path) -> Result<Option<Vec<u8>>, StateError> {
    let io = |source| StateError::Io {
        action: "reading",
        path: path.into(),
        source,
    };
    let real = resolve(path)?;
    let mut file = match File::open(&real) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(io(source)),
    };
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(io)?;
    Ok(Some(bytes))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Header {
    api_version: Option<String>,
    kind: Option<String>,
}

fn invalid(path: &Path, message: impl Into<String>) -> StateError {
    StateError::Invalid {
        path: path.into(),
        message: message.into(),
    }
}

/// Parse and check a state document.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<State, StateError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        invalid(
            path,
            format!("not UTF-8 (invalid byte at offset {})", e.valid_up_to()),
        )
    })?;
    if text.trim().is_empty() {
        return Err(invalid(path, "the file is empty, not a State document"));
    }
    // One full parse when the document is a State of this version; the
    // header alone is read only to explain a document that is not one.
    // Replicas share their workloads' references and hashes as they are read.
    let sharing = crate::model::intern::Scope::new();
    let decoded = decode(path, text);
    drop(sharing);
    let state: State = match decoded {
        Ok(state) => state,
        Err(error) => {
            // A list would fill the header by position ("apiVersion a").
            if let Ok(document) = decode::<serde_json::Value>(path, text) {
                let what = match document {
                    serde_json::Value::Object(_) => None,
                    serde_json::Value::Array(_) => Some("a list"),
                    _ => Some("a scalar"),
                };
                if let Some(what) = what {
                    return Err(invalid(
                        path,
                        format!("the document is {what}, not a State mapping"),
                    ));
                }
            }
            let header: Header = decode(path, text)?;
            check_header(path, header.api_version.as_deref(), header.kind.as_deref())?;
            return Err(error);
        }
    };
    admit(path, Some(text), state)
}

/// A decoded state checked (header, unique names, ranges; an out-of-range
/// value located in `text` when there is one), then sorted and migrated:
/// what every reading of a state ends with.
fn admit(path: &Path, text: Option<&str>, mut state: State) -> Result<State, StateError> {
    check_header(path, Some(&state.api_version), Some(&state.kind))?;
    check_unique(path, &state)?;
    check_ranges(path, text.unwrap_or_default(), &state)?;
    state.sort();
    state.migrate_origins();
    Ok(state)
}

/// The document's apiVersion and kind are this orch's State.
fn check_header(
    path: &Path,
    api_version: Option<&str>,
    kind: Option<&str>,
) -> Result<(), StateError> {
    match api_version {
        Some(API_VERSION) => {}
        Some(other) => {
            return Err(invalid(
                path,
                format!("apiVersion {other} is not supported (this orch reads {API_VERSION})"),
            ));
        }
        None => {
            return Err(invalid(
                path,
                format!("apiVersion is missing (expected {API_VERSION})"),
            ));
        }
    }
    if kind != Some(STATE_KIND) {
        return Err(invalid(
            path,
            format!("kind {} is not {STATE_KIND}", kind.unwrap_or("<missing>")),
        ));
    }
    Ok(())
}

fn decode<T: for<'de> Deserialize<'de>>(path: &Path, text: &str) -> Result<T, StateError> {
    if is_json(path) {
        serde_json::from_str(text).map_err(|e| StateError::Parse {
            path: path.into(),
            line: e.line() as u64,
            column: e.column() as u64,
            message: e
                .to_string()
                .split(" at line ")
                .next()
                .unwrap_or_default()
                .to_string(),
        })
    } else {
        // orch's own layout reads at JSON speed; anything else, and every
        // error, goes through the YAML parser.
        if let Some(json) = fast_yaml::to_json(text)
            && let Ok(value) = serde_json::from_str(&json)
        {
            return Ok(value);
        }
        serde_saphyr::from_str_with_options(text, state_options()).map_err(|e| {
            let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
            let message = e.without_snippet().to_string();
            let message = message.lines().next().unwrap_or_default();
            let message = message.split(" at line ").next().unwrap_or(message);
            StateError::Parse {
                path: path.into(),
                line,
                column,
                message: message.to_string(),
            }
        })
    }
}

/// A large cluster's state is far bigger than a configuration file: raise the
/// size budgets, keep the alias, anchor and depth limits that stop bombs.
fn state_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_events = 200_000_000;
    budget.max_nodes = 100_000_000;
    budget.max_total_scalar_bytes = 2 << 30;
    budget.max_reader_input_bytes = Some(4 << 30);
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options
}

fn check_unique(path: &Path, state: &State) -> Result<(), StateError> {
    let mut nodes = HashSet::default();
    for node in &state.nodes {
        if !nodes.insert(&node.name) {
            return Err(invalid(path, format!("node {} appears twice", node.name)));
        }
    }
    let mut workloads = HashSet::default();
    for workload in &state.workloads {
        if !workloads.insert(workload.id()) {
            return Err(invalid(
                path,
                format!("workload {} appears twice", workload.id()),
            ));
        }
    }
    let mut replicas = HashSet::with_capacity_and_hasher(state.replicas.len(), Default::default());
    for replica in &state.replicas {
        if !replicas.insert(&replica.name) {
            return Err(invalid(
                path,
                format!("replica {} appears twice", replica.name),
            ));
        }
    }
    Ok(())
}

/// The largest count or time a state may hold: the largest integer JSON
/// carries exactly, and far from where `+ 1` or a deadline would overflow.
pub const MAX_VALUE: u64 = (1 << 53) - 1;

/// Every generation, clock, time and revision is at most `MAX_VALUE`: one
/// near `u64::MAX` would wrap on the next write or turn a scale-up into a
/// missed deadline. The first one out of range is located in `text`.
fn check_ranges(path: &Path, text: &str, state: &State) -> Result<(), StateError> {
    let Some((key, value)) = out_of_range(state) else {
        return Ok(());
    };
    let (line, column) = locate(text, key, value);
    Err(StateError::Parse {
        path: path.into(),
        line,
        column,
        message: format!("{key}: {value} is out of range (at most {MAX_VALUE})"),
    })
}

/// The first value of `state` above `MAX_VALUE`, by key, in the state's order.
fn out_of_range(state: &State) -> Option<(&'static str, u64)> {
    // Visited in the state's order, without collecting: a million replicas'
    // four values each would be a 200 MB list read once.
    fn conditions(
        conditions: &[crate::model::state::Condition],
    ) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        conditions.iter().flat_map(|c| {
            [
                ("lastUpdateTime", c.last_update_time),
                ("lastTransitionTime", c.last_transition_time),
            ]
        })
    }
    let nodes = state.nodes.iter().flat_map(|node| {
        (node
            .not_ready_since
            .map(|t| ("notReadySince", t))
            .into_iter())
        .chain(conditions(&node.conditions))
    });
    let workloads = state.workloads.iter().flat_map(|workload| {
        (workload.revisions.iter().map(|r| ("revision", r.revision)))
            .chain(conditions(&workload.status.conditions))
    });
    let replicas = state.replicas.iter().flat_map(|replica| {
        [
            ("revision", replica.revision),
            ("createdAt", replica.created_at),
        ]
        .into_iter()
        .chain(replica.started_at.map(|t| ("startedAt", t)))
        .chain(replica.ready_at.map(|t| ("readyAt", t)))
    });
    let mut values = [("generation", state.generation), ("clock", state.clock)]
        .into_iter()
        .chain(nodes)
        .chain(workloads)
        .chain(replicas)
        .chain(state.events.iter().map(|e| ("time", e.time)));
    values.find(|(_, v)| *v > MAX_VALUE)
}

/// Line and column (1-based) of the first `key: value` (YAML, or JSON's
/// `"key": value`) in `text`; 1:1 when it is not found.
fn locate(text: &str, key: &str, value: u64) -> (u64, u64) {
    let value = value.to_string();
    for (number, line) in text.lines().enumerate() {
        for (at, _) in line.match_indices(key) {
            let rest = line[at + key.len()..].trim_start_matches('"');
            let Some(rest) = rest.trim_start().strip_prefix(':') else {
                continue;
            };
            let digits = rest.trim_start();
            if digits.starts_with(&value)
                && !digits[value.len()..].starts_with(|c: char| c.is_ascii_digit())
            {
                let column = line.len() - digits.len() + 1;
                return (number as u64 + 1, column as u64);
            }
        }
    }
    (1, 1)
}

/// The document as written to `path` (format by extension).
pub fn to_text(state: &State, path: &Path) -> Result<String, StateError> {
    let mut bytes = Vec::new();
    write_document(state, path, &mut bytes)?;
    String::from_utf8(bytes).map_err(|e| StateError::Serialize {
        path: path.into(),
        message: e.to_string(),
    })
}

/// Write the document for `path` (format by extension) to `out`.
fn write_document(state: &State, path: &Path, out: &mut impl Write) -> Result<(), StateError> {
    document::write(state, is_json(path), out).map_err(|error| match error {
        document::WriteError::Io(source) => StateError::Io {
            action: "writing",
            path: path.into(),
            source,
        },
        document::WriteError::Serialize(message) => StateError::Serialize {
            path: path.into(),
            message,
        },
    })
}

/// Replace the state atomically (see `replace_file`), serializing straight
/// into the new file; a new state is private.
fn save(path: &Path, state: &State) -> Result<(), StateError> {
    replace_with(
        path,
        0o600,
        |out| write_document(state, path, out),
        |action, source| StateError::Io {
            action,
            path: path.into(),
            source,
        },
    )
}

/// Replace `path` with `bytes` atomically: temp file in the same directory,
/// fsync, rename over the target, fsync the directory. The old file survives
/// any failure. A new file gets `new_mode`; an existing one keeps its mode.
/// On failure: what was being done, and the error.
pub fn replace_file(
    path: &Path,
    bytes: &[u8],
    new_mode: u32,
) -> Result<(), (&'static str, std::io::Error)> {
    replace_with(
        path,
        new_mode,
        |out| out.write_all(bytes).map_err(|e| ("writing", e)),
        |action, source| (action, source),
    )
}

/// Files are written through a buffer this large.
const WRITE_BUFFER: usize = 1 << 20;

/// `replace_file` with the contents written by `write`; `io` makes an error
/// of what was being done and why it failed.
fn replace_with<E>(
    path: &Path,
    #[cfg_attr(not(unix), allow(unused_variables))] new_mode: u32,
    write: impl FnOnce(&mut BufWriter<&mut File>) -> Result<(), E>,
    io: impl Fn(&'static str, std::io::Error) -> E,
) -> Result<(), E> {
    let dir = parent(path);
    let mut temp = tempfile::Builder::new()
        .prefix(&temp_prefix(path))
        .tempfile_in(&dir)
        .map_err(|e| io("writing", e))?;
    let mut out = BufWriter::with_capacity(WRITE_BUFFER, temp.as_file_mut());
    if let Err(error) = write(&mut out) {
        // What is still buffered is not written; the temporary file goes.
        let _ = out.into_parts();
        return Err(error);
    }
    out.flush().map_err(|e| io("writing", e))?;
    drop(out);
    temp.as_file().sync_all().map_err(|e| io("syncing", e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path)
            .map(|m| m.permissions().mode() & 0o7777)
            .unwrap_or(new_mode);
        fs::set_permissions(temp.path(), fs::Permissions::from_mode(mode))
            .map_err(|e| io("writing", e))?;
    }
    temp.persist(path).map_err(|e| io("replacing", e.error))?;
    File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io("syncing the directory of", e))?;
    Ok(())
}

fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Temporary files of a save are `.<state file name>.tmp-XXXXXX` beside it.
fn temp_prefix(path: &Path) -> String {
    format!(
        ".{}.tmp-",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    )
}

/// A save interrupted by a kill leaves its temporary file behind; with the
/// lock held, no save of this state is running, so they can go.
fn remove_stale_temp_files(path: &Path, dir: &Path) {
    let prefix = temp_prefix(path);
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".lock");
    path.with_file_name(name)
}

/// An exclusive hold on the state for one read-modify-write.
#[derive(Debug)]
pub struct StateLock {
    path: PathBuf,
    _file: File,
}

/// Take the state's lock (a `<state>.lock` file beside the real file, see
/// `resolve`, created `0600`); fail at once with the holder's pid, or wait
/// for it when `wait`.
pub fn lock(path: &Path, wait: bool) -> Result<StateLock, StateError> {
    let path = &resolve(path)?;
    let dir = parent(path);
    if !dir.is_dir() {
        return Err(StateError::NoDirectory {
            path: path.into(),
            dir,
        });
    }
    let lock_file = lock_path(path);
    let io = |source| StateError::Io {
        action: "locking",
        path: path.into(),
        source,
    };
    let mut options = OpenOptions::new();
    options.create(true).truncate(false).read(true).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&lock_file).map_err(io)?;
    // One made by an older orch was 0644 (0666 under umask 000).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if file
            .metadata()
            .is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
        {
            let _ = file.set_permissions(fs::Permissions::from_mode(0o600));
        }
    }
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) if wait => file.lock().map_err(io)?,
        Err(fs::TryLockError::WouldBlock) => {
            let mut pid = String::new();
            let _ = file.read_to_string(&mut pid);
            let pid = pid.trim();
            return Err(StateError::Locked {
                path: path.into(),
                pid: if pid.is_empty() {
                    "unknown".into()
                } else {
                    pid.to_string()
                },
            });
        }
        Err(fs::TryLockError::Error(source)) => return Err(io(source)),
    }
    file.set_len(0).map_err(io)?;
    file.write_all(format!("{}\n", std::process::id()).as_bytes())
        .map_err(io)?;
    remove_stale_temp_files(path, &dir);
    Ok(StateLock {
        path: path.into(),
        _file: file,
    })
}

impl StateLock {
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn load(&self) -> Result<State, StateError> {
        load(&self.path)
    }

    pub fn save(&self, state: &State) -> Result<(), StateError> {
        save(&self.path, state)
    }
}

mod document;
mod fast_yaml;
mod streamed;

pub use streamed::load_streamed;

#[cfg(test)]
mod guard_tests;
#[cfg(test)]
mod tests;
