//! Output: tables for people, versioned JSON/YAML documents for machines.
//! Renderers format what they are given; they compute nothing.

pub mod capacity;
pub mod describe;
pub mod documents;
pub mod drain;
pub mod explain;
pub mod github;
pub mod import;
pub mod junit;
pub mod plan;
pub mod tables;
pub mod what_if;

use serde::Serialize;

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
    match format {
        Format::Yaml => {
            serde_saphyr::to_string(value).unwrap_or_else(|e| format!("# error: {e}\n"))
        }
        _ => {
            let mut text = serde_json::to_string_pretty(value)
                .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
            text.push('\n');
            text
        }
    }
}

/// Seconds as a short duration: `45s`, `2m30s`, `1h2m`.
pub fn duration(seconds: u64) -> String {
    match seconds {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => match s % 60 {
            0 => format!("{}m", s / 60),
            r => format!("{}m{r}s", s / 60),
        },
        s => match (s % 3600) / 60 {
            0 => format!("{}h", s / 3600),
            m => format!("{}h{m}m", s / 3600),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::duration;

    #[test]
    fn durations_read_like_kubectl_ages() {
        assert_eq!(duration(0), "0s");
        assert_eq!(duration(59), "59s");
        assert_eq!(duration(60), "1m");
        assert_eq!(duration(150), "2m30s");
        assert_eq!(duration(3600), "1h");
        assert_eq!(duration(3720), "1h2m");
    }
}
