//! Reading a JSON state as it comes off the disk, without its whole text in
//! memory first: a million replicas' state is about 300 MB of text, held
//! beside the state it makes while it is decoded.
//!
//! The plain path (`read`, then `parse`) is the reference. The stream takes
//! only a state that decodes and passes every check; anything else (a
//! decode error, a check that fails, a YAML state) is read again the plain
//! way, so every error is the plain path's, word for word.
//! `streamed_is_plain` holds the two equal, state and digest.

use super::{StateError, admit, is_json, parse, read, resolve};
use crate::model::state::{Replica, State};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// The state at `path` (None when there is no state file yet), the bytes
/// it was read from fed to `digest` as they are read: the plain path's
/// state and error, read without holding the file's text where it can be.
pub fn load_streamed(
    path: &Path,
    mut digest: Option<&mut Sha256>,
) -> Result<Option<State>, StateError> {
    if is_json(path)
        && let Some(found) = streamed(path, digest.as_deref_mut())
    {
        return Ok(found);
    }
    let bytes = read(path)?;
    if let (Some(digest), Some(bytes)) = (digest, &bytes) {
        // Whatever the stream fed it is read again.
        *digest = Sha256::new();
        digest.update(bytes);
    }
    bytes.map(|bytes| parse(path, &bytes)).transpose()
}

/// `load_streamed`'s fast path: Some(None) for a missing file, Some(state)
/// for a state that decodes and passes every check; None for anything the
/// plain path must read (and explain).
///
/// orch writes a JSON state one list element per line
/// (`json_states_hold_one_object_per_line`). The replicas' lines are
/// decoded one by one as they are read; every other line is kept, with the
/// replicas' list left empty, and decoded as a whole at the end. Each line
/// is checked UTF-8 as the plain path checks the whole text; a replicas'
/// list laid out any other way is simply kept and decoded with the rest.
fn streamed(path: &Path, digest: Option<&mut Sha256>) -> Option<Option<State>> {
    let real = resolve(path).ok()?;
    let file = match File::open(&real) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some(None),
        Err(_) => return None,
    };
    let mut reader = BufReader::with_capacity(1 << 20, Digested { file, digest });
    // Replicas share their workloads' references and hashes as they are read.
    let sharing = crate::model::intern::Scope::new();
    let mut rest = String::new();
    let mut replicas: Vec<Replica> = Vec::new();
    let mut list = List::Outside;
    // How deep the kept lines nest: the replicas' list is the root's field.
    let mut depth = 0i64;
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).ok()? == 0 {
            break;
        }
        let text = std::str::from_utf8(&line).ok()?;
        let bare = text.strip_suffix('\n').unwrap_or(text);
        match list {
            List::Outside => {
                if depth == 1 && bare == "  \"replicas\": [" {
                    list = List::Inside { comma: None };
                }
                depth += nesting(bare);
                rest.push_str(text);
            }
            List::Inside { comma } => {
                if bare == "  ]" || bare == "  ]," {
                    // No comma after the last element.
                    if comma == Some(true) {
                        return None;
                    }
                    list = List::Outside;
                    depth += nesting(bare);
                    rest.push_str(text);
                    continue;
                }
                // Every element but the last is followed by a comma.
                if comma == Some(false) {
                    return None;
                }
                let element = bare.strip_prefix("    ")?;
                let (element, follows) = match element.strip_suffix(',') {
                    Some(element) => (element, true),
                    None => (element, false),
                };
                replicas.push(serde_json::from_str(element).ok()?);
                list = List::Inside {
                    comma: Some(follows),
                };
            }
        }
    }
    if list != List::Outside {
        return None;
    }
    let mut state: State = serde_json::from_str(&rest).ok()?;
    drop(rest);
    drop(sharing);
    // Replicas the layout did not show as one per line were read with the rest.
    if !replicas.is_empty() {
        if !state.replicas.is_empty() {
            return None;
        }
        state.replicas = replicas.into();
    }
    // A check that fails is explained by the plain path, its value located.
    admit(path, None, state).ok().map(Some)
}

/// How much deeper a line of JSON leaves the nesting (brackets and braces
/// opened less those closed, outside strings; a string never spans lines).
fn nesting(line: &str) -> i64 {
    let (mut change, mut in_string, mut escaped) = (0, false, false);
    for byte in line.bytes() {
        match (in_string, byte) {
            (true, _) if escaped => escaped = false,
            (true, b'\\') => escaped = true,
            (true, b'"') | (false, b'"') => in_string = !in_string,
            (false, b'{' | b'[') => change += 1,
            (false, b'}' | b']') => change -= 1,
            _ => {}
        }
    }
    change
}

/// Where the reading is: in the replicas' list (and whether the element
/// before was followed by a comma; None before the first) or outside it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum List {
    Outside,
    Inside { comma: Option<bool> },
}

/// A file whose bytes are fed to a digest as they are read.
struct Digested<'d> {
    file: File,
    digest: Option<&'d mut Sha256>,
}

impl Read for Digested<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.file.read(buf)?;
        if let Some(digest) = &mut self.digest {
            digest.update(&buf[..read]);
        }
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the plain path reads from `path`: the state or the error's
    /// words, and the digest of the bytes a state was read from.
    fn plain(path: &Path) -> (Result<Option<State>, String>, Option<String>) {
        let bytes = read(path).unwrap();
        let state = bytes.as_ref().map(|b| parse(path, b)).transpose();
        let digest = match &state {
            Ok(Some(_)) => crate::saved_plan::digest(bytes.as_deref()),
            Ok(None) | Err(_) => None,
        };
        (state.map_err(|e| e.to_string()), digest)
    }

    fn streamed(path: &Path) -> (Result<Option<State>, String>, Option<String>) {
        let mut digest = Sha256::new();
        let state = load_streamed(path, Some(&mut digest)).map_err(|e| e.to_string());
        let digest = match &state {
            Ok(None) | Err(_) => None,
            Ok(Some(_)) => Some(crate::saved_plan::digest_of(digest)),
        };
        (state, digest)
    }

    /// Every kind of document, good and bad, read both ways: the same state
    /// or the same error, and the same digest.
    #[test]
    fn streamed_is_plain() {
        let dir = tempfile::tempdir().unwrap();
        let good = serde_json::to_string(&super::super::tests::populated()).unwrap();
        let pretty = serde_json::to_string_pretty(&super::super::tests::populated()).unwrap();
        let out_of_range = good.replace("\"clock\":42", "\"clock\":18446744073709551615");
        assert_ne!(out_of_range, good);
        let duplicated = {
            let mut state = super::super::tests::populated();
            state.nodes.push(state.nodes[0].clone());
            serde_json::to_string(&state).unwrap()
        };
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("good", good.clone().into_bytes()),
            ("pretty", pretty.into_bytes()),
            ("trailing whitespace", format!("{good}\n\n  ").into_bytes()),
            ("trailing garbage", format!("{good} x").into_bytes()),
            ("truncated", good.as_bytes()[..good.len() / 2].to_vec()),
            ("empty", Vec::new()),
            ("blank", b" \n".to_vec()),
            ("a list", b"[1, 2]".to_vec()),
            ("a scalar", b"42".to_vec()),
            (
                "another version",
                good.replace(crate::model::state::API_VERSION, "orch.dev/v0")
                    .into_bytes(),
            ),
            (
                "another kind",
                good.replace("\"State\"", "\"Plan\"").into_bytes(),
            ),
            ("out of range", out_of_range.into_bytes()),
            ("duplicated", duplicated.into_bytes()),
            ("not UTF-8", {
                let mut bytes = good.clone().into_bytes();
                bytes[good.find("\"n1\"").unwrap() + 1] = 0xff;
                bytes
            }),
            (
                "unknown field",
                good.replacen("{", "{\"surprise\":1,", 1).into_bytes(),
            ),
        ];
        // As orch writes it: one replica a line, read as they come.
        let written = dir.path().join("written.json");
        super::super::save(&written, &super::super::tests::populated()).unwrap();
        let layout = std::fs::read_to_string(&written).unwrap();
        let lines: Vec<&str> = layout.lines().collect();
        let first = lines
            .iter()
            .position(|l| *l == "  \"replicas\": [")
            .unwrap()
            + 1;
        assert!(lines[first].starts_with("    {") && lines[first].ends_with("},"));
        let edited = |edit: &dyn Fn(&mut Vec<String>)| {
            let mut lines: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            edit(&mut lines);
            lines.join("\n").into_bytes()
        };
        let mut cases = cases;
        cases.extend([
            ("written", layout.clone().into_bytes()),
            ("written, CRLF", layout.replace('\n', "\r\n").into_bytes()),
            (
                "written, a comma missing",
                edited(&|l| l[first] = l[first].trim_end_matches(',').to_string()),
            ),
            (
                "written, a comma after the last",
                edited(&|l| l[first + 1].push(',')),
            ),
            (
                "written, a replica torn",
                edited(&|l| l[first + 1].truncate(20)),
            ),
            (
                "written, the list not closed",
                edited(&|l| l.truncate(first + 2)),
            ),
            (
                "written, no replicas",
                edited(&|l| {
                    l.drain(first..first + 2);
                }),
            ),
            (
                "written, replicas nested in another field",
                edited(&|l| {
                    l.insert(first - 1, "  \"nested\": {".into());
                    l.insert(first + 3, "  },".into());
                }),
            ),
        ]);
        for (what, bytes) in cases {
            let path = dir.path().join(format!("{}.json", what.replace(' ', "-")));
            std::fs::write(&path, &bytes).unwrap();
            assert_eq!(streamed(&path), plain(&path), "{what}");
        }
        let missing = dir.path().join("missing.json");
        assert_eq!(streamed(&missing), (Ok(None), None));
        assert_eq!(plain(&missing), (Ok(None), None));
        // The good documents are read by the stream, not the plain path.
        for good in ["good", "written", "written,-CRLF", "written,-no-replicas"] {
            let path = dir.path().join(format!("{good}.json"));
            assert!(
                super::streamed(&path, None).is_some_and(|s| s.is_some()),
                "{good}"
            );
        }
    }
}
