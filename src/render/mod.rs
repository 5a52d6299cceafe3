//! Output: tables for people, versioned JSON/YAML documents for machines.
//! Renderers format what they are given; they compute nothing.

pub mod capacity;
pub mod describe;
pub mod documents;
pub mod drain;
pub mod explain;
pub mod fit;
pub mod github;
pub mod hpa;
pub mod import;
pub mod junit;
pub mod plan;
pub mod report;
pub mod scaled;
pub mod summary;
pub mod tables;
pub mod what_if;

use serde::Serialize;
use std::io::Write;

/// `-o table|wide|json|yaml|github`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    #[default]
    Table,
    Wide,
    Json,
    Yaml,
    /// GitHub Actions annotations on stdout, the human report on stderr (validate, plan, apply).
    Github,
}

impl Format {
    pub fn is_document(self) -> bool {
        matches!(self, Format::Json | Format::Yaml)
    }
}

/// Serialize a document as JSON (pretty, trailing newline) or YAML.
pub fn document<T: Serialize>(value: &T, format: Format) -> String {
    let mut text = Vec::new();
    write_document(value, format, &mut text).expect("writing to memory does not fail");
    String::from_utf8(text).expect("serializers write UTF-8")
}

/// Write a document to `out` as it is serialized (JSON pretty with a
/// trailing newline, or YAML), without holding the whole text. A value that
/// fails to serialize (none of orch's documents can) is followed by an error
/// text; only errors of `out` are returned.
pub fn write_document<T: Serialize, W: Write>(
    value: &T,
    format: Format,
    out: &mut W,
) -> std::io::Result<()> {
    match format {
        Format::Yaml => match serde_saphyr::to_io_writer(out, value) {
            Ok(()) => Ok(()),
            Err(serde_saphyr::SerializeError::IO { error }) => Err(error),
            Err(e) => writeln!(out, "# error: {e}"),
        },
        _ => {
            match serde_json::to_writer_pretty(&mut *out, value) {
                Ok(()) => {}
                Err(e) if e.is_io() => return Err(e.into()),
                Err(e) => write!(out, "{{\"error\": \"{e}\"}}")?,
            }
            out.write_all(b"\n")
        }
    }
}

/// Seconds as a short duration: `45s`, `2m30s`, `1h2m` (kubectl's ages).
pub use crate::model::time::duration;

#[cfg(test)]
mod tests {
    use super::*;

    /// Written straight to a writer, a document is the text of serde's own
    /// string serializers.
    #[test]
    fn documents_written_as_they_serialize_are_the_same_text() {
        let value = serde_json::json!({
            "apiVersion": "orch.dev/v1",
            "kind": "ApplyResult",
            "steps": [{"time": 0, "actions": []}, {"time": 5, "actions": [{"a": null}]}],
            "empty": {},
            "text": ["yes", "007", "multi\nline\n", "a: b", "é", "x".repeat(120), " "],
            "numbers": [1.5, -3, u64::MAX],
        });
        for format in [Format::Json, Format::Yaml] {
            let mut out = Vec::new();
            write_document(&value, format, &mut out).unwrap();
            let expected = match format {
                Format::Yaml => serde_saphyr::to_string(&value).unwrap(),
                _ => serde_json::to_string_pretty(&value).unwrap() + "\n",
            };
            assert_eq!(String::from_utf8(out).unwrap(), expected);
            assert_eq!(document(&value, format), expected);
        }
    }

    #[test]
    fn a_failing_writer_is_reported_and_a_failing_value_is_named() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        for format in [Format::Json, Format::Yaml] {
            let error = write_document(&[1, 2, 3], format, &mut Closed).unwrap_err();
            assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe);
        }
        // JSON keys must be strings.
        let bad = std::collections::BTreeMap::from([((1, 2), 3)]);
        let mut out = Vec::new();
        write_document(&bad, Format::Json, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.ends_with("{\"error\": \"key must be a string\"}\n"),
            "{text}"
        );
        assert_eq!(document(&bad, Format::Json), text);
    }
}
