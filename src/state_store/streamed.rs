//! Reading a JSON state as it comes off the disk, without its whole text in
//! memory first: a million replicas' state is about 300 MB of text, held
//! beside the state it makes while it is decoded.
//!
//! The plain path (`read`, then `parse`) is the reference. The stream takes
//! only a state that decodes and passes every check; anything else (a
//! decode error, a check that fails, a YAML state) is read again the plain
//! way, so every error is the plain path's, word for word.
//! `streamed_is_plain` holds the two equal, state and digest.

use super::{StateError, check_header, check_unique, is_json, out_of_range, parse, read, resolve};
use crate::model::state::State;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufReader, Read};
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
fn streamed(path: &Path, digest: Option<&mut Sha256>) -> Option<Option<State>> {
    let real = resolve(path).ok()?;
    let file = match File::open(&real) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some(None),
        Err(_) => return None,
    };
    let reader = BufReader::with_capacity(1 << 20, Digested { file, digest });
    let mut decoder = serde_json::Deserializer::from_reader(reader);
    // Replicas share their workloads' references and hashes as they are read.
    let sharing = crate::model::intern::Scope::new();
    let decoded = serde::Deserialize::deserialize(&mut decoder);
    drop(sharing);
    let mut state: State = decoded.ok()?;
    // Only whitespace after the document, read to the end (and digested).
    decoder.end().ok()?;
    let checked = check_header(path, Some(&state.api_version), Some(&state.kind)).is_ok()
        && check_unique(path, &state).is_ok()
        && out_of_range(&state).is_none();
    if !checked {
        return None;
    }
    state.sort();
    state.migrate_origins();
    Some(Some(state))
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
        for (what, bytes) in cases {
            let path = dir.path().join(format!("{}.json", what.replace(' ', "-")));
            std::fs::write(&path, &bytes).unwrap();
            assert_eq!(streamed(&path), plain(&path), "{what}");
        }
        let missing = dir.path().join("missing.json");
        assert_eq!(streamed(&missing), (Ok(None), None));
        assert_eq!(plain(&missing), (Ok(None), None));
        // The good document is read by the stream, not the plain path.
        let path = dir.path().join("good.json");
        assert!(super::streamed(&path, None).is_some_and(|s| s.is_some()));
    }
}
