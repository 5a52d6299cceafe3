//! The state document as written: JSON one object per line, or YAML as
//! serde-saphyr lays it out, streamed to the file in pieces. The long lists
//! (nodes, workloads, replicas, events) are cut into runs of elements that
//! two cores render into buffers at once; the buffers are written in order,
//! so the text is byte for byte what one serializer writes over the whole
//! state (a property test holds the two equal).

use crate::model::state::State;
use serde::Serialize;
use serde::ser::SerializeStruct;
use serde_json::ser::Formatter;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

/// List elements per piece: a few hundred kilobytes of text, enough pieces
/// for two cores to share a large state evenly.
const CHUNK: usize = 1024;

/// Pieces the helper may have rendered and not yet handed over.
const AHEAD: usize = 16;

/// Why a document could not be written.
#[derive(Debug)]
pub enum WriteError {
    Io(std::io::Error),
    Serialize(String),
}

/// Write `state` as JSON (`json`) or YAML to `out`, on two cores when
/// there is more than one piece of list elements.
pub fn write<W: Write>(state: &State, json: bool, out: &mut W) -> Result<(), WriteError> {
    let elements =
        state.nodes.len() + state.workloads.len() + state.replicas.len() + state.events.len();
    let parallel =
        elements > CHUNK && std::thread::available_parallelism().is_ok_and(|cores| cores.get() > 1);
    write_with(state, json, CHUNK, parallel, out)
}

fn write_with<W: Write>(
    state: &State,
    json: bool,
    chunk: usize,
    parallel: bool,
    out: &mut W,
) -> Result<(), WriteError> {
    let chunk = chunk.max(1);
    let pieces = if json {
        json_pieces(state, chunk)
    } else {
        yaml_pieces(state, chunk)
    };
    if parallel {
        write_parallel(&pieces, out)
    } else {
        write_serial(&pieces, out)
    }
}

/// A part of the document: renders its text into an empty buffer.
type Piece<'a> = Box<dyn Fn(&mut Vec<u8>) -> Result<(), String> + Sync + 'a>;

type Rendered = Result<Vec<u8>, String>;

fn render(piece: &Piece<'_>, mut buffer: Vec<u8>) -> Rendered {
    buffer.clear();
    piece(&mut buffer).map(|()| buffer)
}

fn write_serial<W: Write>(pieces: &[Piece<'_>], out: &mut W) -> Result<(), WriteError> {
    let mut buffer = Vec::new();
    for piece in pieces {
        buffer = render(piece, buffer).map_err(WriteError::Serialize)?;
        out.write_all(&buffer).map_err(WriteError::Io)?;
    }
    Ok(())
}

/// Pieces are taken in order by whichever core is free; this thread also
/// writes each piece as soon as it and all before it are rendered.
fn write_parallel<W: Write>(pieces: &[Piece<'_>], out: &mut W) -> Result<(), WriteError> {
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        // The helper runs at most `AHEAD` pieces ahead of the writer: enough
        // that it never waits while this thread writes.
        let (rendered_tx, rendered_rx) = mpsc::sync_channel::<(usize, Rendered)>(AHEAD);
        let (spare_tx, spare_rx) = mpsc::channel::<Vec<u8>>();
        let next = &next;
        scope.spawn(move || {
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(piece) = pieces.get(index) else {
                    break;
                };
                let buffer = spare_rx.try_recv().unwrap_or_default();
                if rendered_tx.send((index, render(piece, buffer))).is_err() {
                    break;
                }
            }
        });
        let result = write_in_order(pieces, next, rendered_rx, spare_tx, out);
        // Whatever happened, the helper claims nothing more.
        next.store(pieces.len(), Ordering::Relaxed);
        result
    })
}

fn write_in_order<W: Write>(
    pieces: &[Piece<'_>],
    next: &AtomicUsize,
    rendered: mpsc::Receiver<(usize, Rendered)>,
    spare: mpsc::Sender<Vec<u8>>,
    out: &mut W,
) -> Result<(), WriteError> {
    let mut slots: Vec<Option<Rendered>> = pieces.iter().map(|_| None).collect();
    let mut own_spare = Vec::new();
    for at in 0..pieces.len() {
        let text = loop {
            if let Some(text) = slots[at].take() {
                break text;
            }
            if let Ok((index, text)) = rendered.try_recv() {
                slots[index] = Some(text);
                continue;
            }
            let index = next.fetch_add(1, Ordering::Relaxed);
            if let Some(piece) = pieces.get(index) {
                slots[index] = Some(render(piece, std::mem::take(&mut own_spare)));
            } else {
                match rendered.recv() {
                    Ok((index, text)) => slots[index] = Some(text),
                    // The helper stopped without rendering this piece (it panicked;
                    // the scope passes the panic on).
                    Err(_) => return Err(WriteError::Serialize("rendering stopped".into())),
                }
            }
        };
        let text = text.map_err(WriteError::Serialize)?;
        out.write_all(&text).map_err(WriteError::Io)?;
        if own_spare.capacity() == 0 {
            own_spare = text;
        } else {
            let _ = spare.send(text);
        }
    }
    Ok(())
}

/// Pieces of `items` in runs of `chunk`, each rendered by `run(buffer, first
/// index, elements)`.
fn chunked<'a, T: Sync>(
    pieces: &mut Vec<Piece<'a>>,
    items: &'a [T],
    chunk: usize,
    run: impl Fn(&mut Vec<u8>, usize, &'a [T]) -> Result<(), String> + Copy + Sync + 'a,
) {
    for (number, elements) in items.chunks(chunk).enumerate() {
        pieces.push(Box::new(move |out| run(out, number * chunk, elements)));
    }
}

/// JSON with the document's fields and each node, workload, replica and
/// event on a line of its own: a change to one object is a one-line diff,
/// without the size of fully indented JSON (about half).
#[derive(Default)]
struct OnePerLine {
    depth: usize,
    has_value: bool,
}

impl OnePerLine {
    /// Containers this deep or shallower are laid out one entry per line.
    const LINES: usize = 2;

    fn newline<W: ?Sized + Write>(&self, out: &mut W) -> std::io::Result<()> {
        out.write_all(b"\n")?;
        for _ in 0..self.depth {
            out.write_all(b"  ")?;
        }
        Ok(())
    }

    fn open<W: ?Sized + Write>(&mut self, out: &mut W, bracket: &[u8]) -> std::io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        out.write_all(bracket)
    }

    fn close<W: ?Sized + Write>(&mut self, out: &mut W, bracket: &[u8]) -> std::io::Result<()> {
        self.depth -= 1;
        if self.has_value && self.depth < Self::LINES {
            self.newline(out)?;
        }
        out.write_all(bracket)
    }

    /// Before an entry: the comma, and a new line at the laid-out depths.
    fn entry<W: ?Sized + Write>(&mut self, out: &mut W, first: bool) -> std::io::Result<()> {
        if !first {
            out.write_all(b",")?;
        }
        if self.depth <= Self::LINES {
            self.newline(out)?;
        }
        Ok(())
    }
}

impl Formatter for OnePerLine {
    fn begin_array<W: ?Sized + Write>(&mut self, out: &mut W) -> std::io::Result<()> {
        self.open(out, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, out: &mut W) -> std::io::Result<()> {
        self.close(out, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        out: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.entry(out, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, out: &mut W) -> std::io::Result<()> {
        self.open(out, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, out: &mut W) -> std::io::Result<()> {
        self.close(out, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        out: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.entry(out, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, out: &mut W) -> std::io::Result<()> {
        out.write_all(if self.depth <= Self::LINES {
            b": "
        } else {
            b":"
        })
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

fn json_error(error: impl std::fmt::Display) -> String {
    error.to_string()
}

/// The formatter inside the document's object, after `fields` of its fields.
fn in_document(fields: usize) -> OnePerLine {
    OnePerLine {
        depth: 1,
        has_value: fields > 0,
    }
}

/// `"name": value` as the document's field number `index` (a scalar).
fn json_field(
    out: &mut Vec<u8>,
    index: usize,
    name: &str,
    value: &impl Serialize,
) -> Result<(), String> {
    json_key(out, index, name)?;
    let mut serializer = serde_json::Serializer::with_formatter(&mut *out, in_document(index));
    value.serialize(&mut serializer).map_err(json_error)
}

/// The separator, `"name"` and `: ` of the document's field number `index`.
fn json_key(out: &mut Vec<u8>, index: usize, name: &str) -> Result<(), String> {
    let mut formatter = in_document(index);
    formatter
        .begin_object_key(out, index == 0)
        .map_err(json_error)?;
    serde_json::to_writer(&mut *out, name).map_err(json_error)?;
    formatter.begin_object_value(out).map_err(json_error)
}

/// The list field number `index`: its key and opening bracket, its elements
/// in pieces, its closing bracket.
fn json_list<'a, T: Serialize + Sync>(
    pieces: &mut Vec<Piece<'a>>,
    index: usize,
    name: &'static str,
    items: &'a [T],
    chunk: usize,
) {
    pieces.push(Box::new(move |out| {
        json_key(out, index, name)?;
        let mut formatter = in_document(index);
        formatter.begin_array(out).map_err(json_error)?;
        if items.is_empty() {
            formatter.end_array(out).map_err(json_error)?;
        }
        Ok(())
    }));
    chunked(pieces, items, chunk, |out, first, elements| {
        for (offset, element) in elements.iter().enumerate() {
            // Inside the list: two levels deep, each element on its own line.
            let mut formatter = OnePerLine {
                depth: 2,
                has_value: false,
            };
            formatter
                .begin_array_value(out, first + offset == 0)
                .map_err(json_error)?;
            let mut serializer = serde_json::Serializer::with_formatter(&mut *out, formatter);
            element.serialize(&mut serializer).map_err(json_error)?;
        }
        Ok(())
    });
    if !items.is_empty() {
        pieces.push(Box::new(move |out| {
            let mut formatter = OnePerLine {
                depth: 2,
                has_value: true,
            };
            formatter.end_array(out).map_err(json_error)
        }));
    }
}

fn json_pieces(state: &State, chunk: usize) -> Vec<Piece<'_>> {
    // Every field, by name: a new field fails to compile here until it is written.
    let State {
        api_version,
        kind,
        generation,
        clock,
        epoch,
        nodes,
        workloads,
        replicas,
        events,
        volumes,
        claims,
        node_groups,
        autoscalers,
    } = state;
    let mut pieces: Vec<Piece<'_>> = vec![Box::new(move |out| {
        OnePerLine::default()
            .begin_object(out)
            .map_err(json_error)?;
        json_field(out, 0, "apiVersion", api_version)?;
        json_field(out, 1, "kind", kind)?;
        json_field(out, 2, "generation", generation)?;
        json_field(out, 3, "clock", clock)?;
        if *epoch != crate::model::state::DEFAULT_EPOCH {
            json_field(out, 4, "epoch", epoch)?;
        }
        Ok(())
    })];
    json_list(&mut pieces, 4, "nodes", nodes, chunk);
    json_list(&mut pieces, 5, "workloads", workloads, chunk);
    json_list(&mut pieces, 6, "replicas", replicas, chunk);
    json_list(&mut pieces, 7, "events", events, chunk);
    // Storage lists only when there are some: states without storage read
    // and write as before.
    let mut fields = 8;
    if !volumes.is_empty() {
        json_list(&mut pieces, fields, "volumes", volumes, chunk);
        fields += 1;
    }
    if !claims.is_empty() {
        json_list(&mut pieces, fields, "claims", claims, chunk);
        fields += 1;
    }
    if !node_groups.is_empty() {
        json_list(&mut pieces, fields, "nodeGroups", node_groups, chunk);
        fields += 1;
    }
    if !autoscalers.is_empty() {
        json_list(&mut pieces, fields, "autoscalers", autoscalers, chunk);
        fields += 1;
    }
    pieces.push(Box::new(move |out| {
        in_document(fields).end_object(out).map_err(json_error)?;
        out.push(b'\n');
        Ok(())
    }));
    pieces
}

/// `name: value` and nothing else at the top level of a YAML document.
struct Field<'a, T: ?Sized>(&'static str, &'a T);

impl<T: Serialize + ?Sized> Serialize for Field<'_, T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_struct("State", 1)?;
        map.serialize_field(self.0, self.1)?;
        map.end()
    }
}

/// The YAML document's scalar fields, in the state's order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct YamlHeader<'a> {
    api_version: &'a String,
    kind: &'a String,
    generation: &'a u64,
    clock: &'a u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    epoch: Option<&'a i64>,
}

fn yaml_error(error: impl std::fmt::Display) -> String {
    error.to_string()
}

/// Appends what a serializer writes, less a leading text that must be there.
struct AfterPrefix<'a> {
    out: &'a mut Vec<u8>,
    prefix: &'a [u8],
    matched: bool,
}

impl std::fmt::Write for AfterPrefix<'_> {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        let mut text = text.as_bytes();
        if !self.prefix.is_empty() {
            let overlap = text.len().min(self.prefix.len());
            if text[..overlap] != self.prefix[..overlap] {
                self.matched = false;
                return Err(std::fmt::Error);
            }
            self.prefix = &self.prefix[overlap..];
            text = &text[overlap..];
        }
        self.out.extend_from_slice(text);
        Ok(())
    }
}

/// Serialize `value` into `out`, dropping the leading `prefix` it writes.
fn yaml_after(out: &mut Vec<u8>, prefix: &[u8], value: &impl Serialize) -> Result<(), String> {
    let mut writer = AfterPrefix {
        out,
        prefix,
        matched: true,
    };
    let result = serde_saphyr::to_fmt_writer(&mut writer, value);
    if !writer.matched {
        return Err(format!(
            "the YAML serializer did not start a list with {:?}",
            String::from_utf8_lossy(prefix)
        ));
    }
    if !writer.prefix.is_empty() {
        return Err("the YAML serializer wrote less than a list's key".into());
    }
    result.map_err(yaml_error)
}

/// A list field: the first run of elements with the `name:` line, the
/// others without (each is serialized as the same field, then cut).
fn yaml_list<'a, T: Serialize + Sync>(
    pieces: &mut Vec<Piece<'a>>,
    name: &'static str,
    items: &'a [T],
    chunk: usize,
) {
    if items.is_empty() {
        pieces.push(Box::new(move |out| {
            yaml_after(out, b"", &Field(name, items))
        }));
        return;
    }
    chunked(pieces, items, chunk, move |out, first, elements| {
        let key = format!("{name}:\n");
        let prefix: &[u8] = if first == 0 { b"" } else { key.as_bytes() };
        yaml_after(out, prefix, &Field(name, elements))
    });
}

fn yaml_pieces(state: &State, chunk: usize) -> Vec<Piece<'_>> {
    // Every field, by name: a new field fails to compile here until it is written.
    let State {
        api_version,
        kind,
        generation,
        clock,
        epoch,
        nodes,
        workloads,
        replicas,
        events,
        volumes,
        claims,
        node_groups,
        autoscalers,
    } = state;
    let mut pieces: Vec<Piece<'_>> = vec![Box::new(move |out| {
        let header = YamlHeader {
            api_version,
            kind,
            generation,
            clock,
            epoch: (*epoch != crate::model::state::DEFAULT_EPOCH).then_some(epoch),
        };
        yaml_after(out, b"", &header)
    })];
    yaml_list(&mut pieces, "nodes", nodes, chunk);
    yaml_list(&mut pieces, "workloads", workloads, chunk);
    yaml_list(&mut pieces, "replicas", replicas, chunk);
    yaml_list(&mut pieces, "events", events, chunk);
    if !volumes.is_empty() {
        yaml_list(&mut pieces, "volumes", volumes, chunk);
    }
    if !claims.is_empty() {
        yaml_list(&mut pieces, "claims", claims, chunk);
    }
    if !node_groups.is_empty() {
        yaml_list(&mut pieces, "nodeGroups", node_groups, chunk);
    }
    if !autoscalers.is_empty() {
        yaml_list(&mut pieces, "autoscalers", autoscalers, chunk);
    }
    pieces
}

#[cfg(test)]
mod tests;
