//! Live tables, as `kubectl get -w` prints them: the listing once, then only
//! the rows that changed, appeared or were deleted, under the same header.
//! Rows are compared without the columns that move with the clock alone (AGE).
//! With `-o json` each change is one line, `{type, object}`; with `-o yaml`
//! one `---` document. `get -w` follows the state file; `watch --show` prints
//! after each reconciliation.

use super::{Context, Exit, Filters, Listing, Row, Shape};
use crate::cli::shared::print_error;
use crate::cli::wakeup::{Wake, Wakeup};
use crate::model::state::{API_VERSION, State};
use crate::render::Format;
use crate::render::tables::table;
use crate::state_store;
use anyhow::{Context as _, Result};
use notify_debouncer_mini::notify::RecursiveMode;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What happened to one object between two listings (the names of Kubernetes' watch events).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeType {
    Added,
    Modified,
    Deleted,
}

impl ChangeType {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeType::Added => "ADDED",
            ChangeType::Modified => "MODIFIED",
            ChangeType::Deleted => "DELETED",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change<'a> {
    pub kind: ChangeType,
    /// The new row; for a deletion, the last row seen.
    pub row: &'a Row,
}

/// The changes from `old` to `new`: added and modified rows in `new`'s order,
/// then deleted rows in `old`'s order. An append-only listing (events) only
/// ever adds the rows after the ones already seen.
pub fn diff<'a>(old: &'a Listing, new: &'a Listing) -> Vec<Change<'a>> {
    if new.append_only {
        return appended(&old.rows, &new.rows)
            .iter()
            .map(|row| Change {
                kind: ChangeType::Added,
                row,
            })
            .collect();
    }
    let before: HashMap<&str, &Row> = old.rows.iter().map(|r| (r.key.as_str(), r)).collect();
    let mut changes = Vec::new();
    for row in &new.rows {
        let kind = match before.get(row.key.as_str()) {
            None => ChangeType::Added,
            Some(was) if !same(was, row, &new.volatile) => ChangeType::Modified,
            Some(_) => continue,
        };
        changes.push(Change { kind, row });
    }
    let after: HashMap<&str, &Row> = new.rows.iter().map(|r| (r.key.as_str(), r)).collect();
    for row in old
        .rows
        .iter()
        .filter(|r| !after.contains_key(r.key.as_str()))
    {
        changes.push(Change {
            kind: ChangeType::Deleted,
            row,
        });
    }
    changes
}

/// Equal but for the clock-only columns.
fn same(a: &Row, b: &Row, volatile: &[usize]) -> bool {
    a.item == b.item
        && a.cells.len() == b.cells.len()
        && a.cells
            .iter()
            .zip(&b.cells)
            .enumerate()
            .all(|(i, (x, y))| x == y || volatile.contains(&i))
}

/// The rows of `new` after those of `old`. The ring drops its oldest entries,
/// so `old` may have lost a prefix: the longest suffix of `old` that starts
/// `new` is what was already printed.
fn appended<'a>(old: &[Row], new: &'a [Row]) -> &'a [Row] {
    (0..=old.len())
        .find(|&dropped| new.starts_with(&old[dropped..]))
        .map_or(new, |dropped| &new[old.len() - dropped..])
}

/// Prints the first listing whole, then changes under the same header.
pub struct Live {
    filters: Filters,
    format: Format,
    /// The last listing printed from, `None` before the first.
    last: Option<Listing>,
    /// Column widths of the printed header, `None` until a header is printed.
    widths: Option<Vec<usize>>,
}

impl Live {
    pub fn new(filters: Filters, format: Format) -> Live {
        Live {
            filters,
            format,
            last: None,
            widths: None,
        }
    }

    /// The text to print for `state`: the whole table the first time (empty
    /// when there is nothing to list), then only what changed.
    pub fn show(&mut self, state: &State) -> Result<String> {
        let listing = self.filters.listing(state, Shape::of(self.format, true))?;
        let text = match self.last.take() {
            None => {
                let changes: Vec<Change> = listing
                    .rows
                    .iter()
                    .map(|row| Change {
                        kind: ChangeType::Added,
                        row,
                    })
                    .collect();
                self.render(&listing, &changes)
            }
            Some(last) => self.render(&listing, &diff(&last, &listing)),
        };
        self.last = Some(listing);
        Ok(text)
    }

    fn render(&mut self, listing: &Listing, changes: &[Change]) -> String {
        if changes.is_empty() {
            return String::new();
        }
        if self.format.is_document() {
            return changes
                .iter()
                .map(|c| event_document(c, self.format))
                .collect();
        }
        let rows: Vec<Vec<String>> = changes
            .iter()
            .map(|change| {
                let mut cells = change.row.cells.clone();
                if change.kind == ChangeType::Deleted
                    && let Some(cell) = cells.get_mut(listing.marker)
                {
                    *cell = "Deleted".into();
                }
                cells
            })
            .collect();
        match &self.widths {
            None => {
                self.widths = Some(widths(&listing.headers, &rows));
                table(&listing.headers, rows)
            }
            // Widths stay those of the header: a longer cell shifts its own line only.
            Some(widths) => rows.iter().map(|row| aligned(widths, row)).collect(),
        }
    }
}

fn width(text: &str) -> usize {
    text.chars().count()
}

/// The column widths of `tables::table` for these headers and rows.
fn widths(headers: &[&str], rows: &[Vec<String>]) -> Vec<usize> {
    let mut widths: Vec<usize> = headers.iter().map(|h| width(h)).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            match widths.get_mut(i) {
                Some(w) => *w = (*w).max(width(cell)),
                None => widths.push(width(cell)),
            }
        }
    }
    widths
}

/// One row laid out as `tables::table` lays out its columns: each cell
/// padded to its column's width plus three spaces, the line end trimmed.
fn aligned(widths: &[usize], row: &[String]) -> String {
    let mut line = String::new();
    for (i, cell) in row.iter().enumerate() {
        let column = widths.get(i).copied().unwrap_or(0).max(width(cell));
        line.push_str(cell);
        line.extend(std::iter::repeat_n(' ', column - width(cell) + 3));
    }
    let mut line = line.trim_end().to_string();
    line.push('\n');
    line
}

/// `{"apiVersion", "kind": "WatchEvent", "type", "object"}`: one JSON line, or one YAML document.
fn event_document(change: &Change, format: Format) -> String {
    let kind = change.kind.as_str();
    let item = change.row.item.trim_end();
    if format == Format::Yaml {
        let object: String = item
            .trim_start_matches("---\n")
            .lines()
            .map(|line| match line {
                "" => "\n".to_string(),
                _ => format!("  {line}\n"),
            })
            .collect();
        return format!(
            "---\napiVersion: {API_VERSION}\nkind: WatchEvent\ntype: {kind}\nobject:\n{object}"
        );
    }
    format!(
        "{{\"apiVersion\":\"{API_VERSION}\",\"kind\":\"WatchEvent\",\"type\":\"{kind}\",\"object\":{item}}}\n"
    )
}

/// `orch get … -w`: list, then follow the state file until a signal or the timeout.
pub fn follow(context: &Context, filters: Filters, timeout: Option<Duration>) -> Result<Exit> {
    let started = Instant::now();
    let deadline = timeout.map(|t| started + t);
    let mut wakeup = Wakeup::new()?;
    let path = std::path::absolute(&context.state).unwrap_or_else(|_| context.state.clone());
    let mut live = Live::new(filters, context.output);
    // An unreadable state at the start is an error, as for `get`; later it is reported and waited out.
    let mut seen = fingerprint(&path);
    let first = state_store::load(&context.state)?;
    let text = live.show(&first)?;
    if text.is_empty() && !context.output.is_document() && !context.quiet {
        eprintln!("No resources found.");
    }
    if !print(&text) {
        return Ok(Exit::Success);
    }
    // Notifications for the state file, through its directory: saves replace the file.
    let directory = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let watcher = wakeup.watch(
        &[(directory, RecursiveMode::NonRecursive)],
        Duration::from_millis(50),
    );
    if let Err(error) = &watcher
        && context.verbose > 0
    {
        eprintln!("file notifications unavailable ({error:#}); polling the state file");
    }
    // Polled as well: a notification can be missed (network file systems).
    let poll = if watcher.is_ok() {
        Duration::from_secs(1)
    } else {
        Duration::from_millis(250)
    };
    let mut last_poll = Instant::now();
    let mut missing = false;
    loop {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(Exit::Success);
        }
        let next_poll = last_poll + poll;
        let wake_at = deadline.map_or(next_poll, |d| d.min(next_poll));
        match wakeup.wait(Some(wake_at), |changed| changed == path) {
            Wake::Signal => return Ok(Exit::Success),
            Wake::WatchError(error) => {
                eprintln!("watch error: {error}");
                continue;
            }
            Wake::Deadline | Wake::Changed => {}
        }
        last_poll = Instant::now();
        let now = fingerprint(&path);
        if now == seen {
            continue;
        }
        seen = now;
        let state = match read(&path) {
            Ok(Some(state)) => state,
            Ok(None) => {
                if !missing && !context.quiet {
                    eprintln!("state {} is gone; waiting for it", context.state.display());
                }
                missing = true;
                continue;
            }
            Err(error) => {
                print_error(&error);
                continue;
            }
        };
        missing = false;
        match live.show(&state) {
            Ok(text) => {
                if !print(&text) {
                    return Ok(Exit::Success);
                }
            }
            Err(error) => print_error(&error),
        }
    }
}

/// What changes whenever the state file is replaced or rewritten.
type Fingerprint = Option<(u64, Option<std::time::SystemTime>, u64)>;

fn fingerprint(path: &Path) -> Fingerprint {
    let metadata = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&metadata);
    #[cfg(not(unix))]
    let inode = 0;
    Some((metadata.len(), metadata.modified().ok(), inode))
}

/// The state at `path`, `None` while there is no file. Never locks: saves are
/// atomic renames, so a reader sees the old state or the new one.
fn read(path: &PathBuf) -> Result<Option<State>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(state_store::parse(path, &bytes)?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading state {}", path.display())),
    }
}

/// Write to stdout; `false` once stdout is closed (`| head`), which ends the watch.
fn print(text: &str) -> bool {
    if text.is_empty() {
        return true;
    }
    let mut stdout = anstream::stdout();
    stdout.write_all(text.as_bytes()).is_ok() && stdout.flush().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: &str, cells: &[&str]) -> Row {
        Row {
            key: key.into(),
            cells: cells.iter().map(|c| c.to_string()).collect(),
            item: String::new(),
        }
    }

    fn replicas(rows: Vec<Row>) -> Listing {
        Listing {
            headers: vec!["NAME", "STATUS", "AGE"],
            volatile: vec![2],
            marker: 1,
            rows,
            ..Listing::default()
        }
    }

    fn summary(changes: &[Change]) -> Vec<(ChangeType, String)> {
        changes
            .iter()
            .map(|c| (c.kind, c.row.cells.join(" ")))
            .collect()
    }

    #[test]
    fn only_changed_added_and_deleted_rows_are_reported() {
        let old = replicas(vec![
            row("a", &["a", "Running", "10s"]),
            row("b", &["b", "Running", "10s"]),
            row("c", &["c", "Pending", "10s"]),
        ]);
        let new = replicas(vec![
            row("a", &["a", "Running", "20s"]),
            row("c", &["c", "Running", "20s"]),
            row("d", &["d", "Pending", "0s"]),
        ]);
        assert_eq!(
            summary(&diff(&old, &new)),
            vec![
                (ChangeType::Modified, "c Running 20s".into()),
                (ChangeType::Added, "d Pending 0s".into()),
                (ChangeType::Deleted, "b Running 10s".into()),
            ]
        );
    }

    #[test]
    fn the_clock_alone_changes_nothing() {
        let old = replicas(vec![row("a", &["a", "Running", "10s"])]);
        let new = replicas(vec![row("a", &["a", "Running", "1m"])]);
        assert!(diff(&old, &new).is_empty());
    }

    #[test]
    fn items_are_compared_in_document_mode() {
        let mut was = row("a", &[]);
        was.item = r#"{"name":"a","ready":false}"#.into();
        let mut now = was.clone();
        now.item = r#"{"name":"a","ready":true}"#.into();
        let (before, after) = (replicas(vec![was.clone()]), replicas(vec![now]));
        let changes = diff(&before, &after);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].kind, ChangeType::Modified);
        assert!(diff(&replicas(vec![was.clone()]), &replicas(vec![was])).is_empty());
    }

    fn events(texts: &[&str]) -> Listing {
        Listing {
            append_only: true,
            rows: texts.iter().map(|t| row("", &[t])).collect(),
            ..Listing::default()
        }
    }

    #[test]
    fn events_print_what_was_appended_even_when_the_ring_drops_old_ones() {
        let old = events(&["e1", "e2", "e3"]);
        let grown = events(&["e1", "e2", "e3", "e4"]);
        assert_eq!(
            summary(&diff(&old, &grown)),
            vec![(ChangeType::Added, "e4".into())]
        );
        let rolled = events(&["e2", "e3", "e4", "e5"]);
        assert_eq!(
            summary(&diff(&old, &rolled)),
            vec![
                (ChangeType::Added, "e4".into()),
                (ChangeType::Added, "e5".into())
            ]
        );
        // An identical event repeated is still new.
        let repeated = events(&["e1", "e2", "e3", "e3"]);
        assert_eq!(diff(&old, &repeated).len(), 1);
        // A different log altogether: everything is new.
        let other = events(&["x1", "x2"]);
        assert_eq!(diff(&old, &other).len(), 2);
        assert!(diff(&old, &old).is_empty());
    }

    #[test]
    fn changed_rows_line_up_under_the_first_header() {
        let widths = vec![4, 7, 3];
        let line = aligned(&widths, &["a".into(), "Running".into(), "5s".into()]);
        assert_eq!(line, "a      Running   5s\n");
        let first = table(
            &["NAME", "STATUS", "AGE"],
            vec![vec!["a".into(), "Running".into(), "5s".into()]],
        );
        assert_eq!(first.lines().nth(1).unwrap(), line.trim_end());
        // A longer cell pushes its line, never the header.
        let long = aligned(&widths, &["abcdef".into(), "Pending".into(), "0s".into()]);
        assert_eq!(long, "abcdef   Pending   0s\n");
    }

    #[test]
    fn watch_events_are_one_json_line_or_one_yaml_document() {
        let mut r = row("a", &[]);
        r.item = r#"{"name":"a"}"#.into();
        let change = Change {
            kind: ChangeType::Deleted,
            row: &r,
        };
        let line = event_document(&change, Format::Json);
        assert_eq!(
            line,
            "{\"apiVersion\":\"orch.dev/v1\",\"kind\":\"WatchEvent\",\"type\":\"DELETED\",\"object\":{\"name\":\"a\"}}\n"
        );
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["object"]["name"], "a");
        r.item = "name: a\nnode: n1\n".into();
        let change = Change {
            kind: ChangeType::Added,
            row: &r,
        };
        assert_eq!(
            event_document(&change, Format::Yaml),
            "---\napiVersion: orch.dev/v1\nkind: WatchEvent\ntype: ADDED\nobject:\n  name: a\n  node: n1\n"
        );
    }
}
