//! `-o github`: GitHub Actions workflow commands. Every manifest error, every
//! workload that did not converge and every warning becomes an annotation on
//! the line that declares it (`::error file=…,line=…,col=…,title=…::message`),
//! and a run ends with one `::notice` summary.

use crate::executor::RunResult;
use crate::manifest::Diagnostic;
use crate::model::workload::SourceLocation;
use crate::reconcile::status::{BlockedReason, WorkloadReport};
use std::collections::HashMap;

/// The title of annotations about manifests that do not validate.
pub const VALIDATION_TITLE: &str = "orch validate";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    Notice,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Notice => "notice",
        }
    }
}

/// A message as GitHub reads it: `%`, CR and LF escaped.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value (`file=`, `title=`): also `:` and `,`, which end it.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// One workflow command line, newline included.
pub fn command(
    level: Level,
    location: Option<&SourceLocation>,
    title: &str,
    message: &str,
) -> String {
    let mut properties = Vec::new();
    if let Some(at) = location {
        properties.push(format!("file={}", escape_property(&at.file)));
        properties.push(format!("line={}", at.line));
        properties.push(format!("col={}", at.column));
    }
    if !title.is_empty() {
        properties.push(format!("title={}", escape_property(title)));
    }
    let separator = if properties.is_empty() { "" } else { " " };
    format!(
        "::{}{separator}{}::{}\n",
        level.as_str(),
        properties.join(","),
        escape_data(message)
    )
}

fn location(diagnostic: &Diagnostic) -> SourceLocation {
    SourceLocation {
        file: diagnostic.file.clone(),
        line: diagnostic.line,
        column: diagnostic.column,
    }
}

/// `field: message`, as the human line reads after its location.
fn diagnostic_message(diagnostic: &Diagnostic) -> String {
    if diagnostic.field.is_empty() {
        diagnostic.message.clone()
    } else {
        format!("{}: {}", diagnostic.field, diagnostic.message)
    }
}

/// One annotation per manifest diagnostic (errors, or skipped objects as warnings).
pub fn diagnostics(level: Level, diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| {
            command(
                level,
                Some(&location(d)),
                VALIDATION_TITLE,
                &diagnostic_message(d),
            )
        })
        .collect()
}

/// Paused on purpose, or waiting for a dependency that is reported itself:
/// a warning. Anything else that stops a workload is an error.
fn level_of_blocked(reason: BlockedReason) -> Level {
    match reason {
        BlockedReason::Paused | BlockedReason::WaitingForDependency => Level::Warning,
        _ => Level::Error,
    }
}

/// An annotation for each workload that did not converge, at its
/// declaration, and a warning for each rollback of `apply --atomic`.
/// `sources` maps `Kind/namespace/name` to where it is declared;
/// `rolled_back` pairs each rolled-back object with its message.
pub fn run(
    result: &RunResult,
    sources: &HashMap<String, SourceLocation>,
    rolled_back: &[(String, String)],
) -> String {
    let mut text = String::new();
    for report in &result.workloads {
        if let Some(blocked) = &report.blocked {
            text.push_str(&command(
                level_of_blocked(blocked.reason),
                sources.get(&report.object),
                &format!("{} blocked ({})", report.object, blocked.reason),
                &blocked.message,
            ));
        } else if !report.converged() {
            text.push_str(&command(
                Level::Warning,
                sources.get(&report.object),
                &format!("{} not converged", report.object),
                &counts(report),
            ));
        }
    }
    for record in result.autoscalers.iter().filter(|r| r.at_max()) {
        if let Some(limited) = record.limited() {
            let target = super::hpa::target_object(record);
            text.push_str(&command(
                Level::Warning,
                sources.get(&target),
                &format!("{} at maxReplicas (ScalingLimited)", record.id()),
                &format!(
                    "{}: {} ({target} at {} replicas, min {}, max {})",
                    limited.reason,
                    limited.message,
                    record.status.desired_replicas,
                    record.min_replicas,
                    record.max_replicas
                ),
            ));
        }
    }
    for (object, message) in rolled_back {
        text.push_str(&command(
            Level::Warning,
            sources.get(object),
            &format!("{object} rolled back"),
            message,
        ));
    }
    for warning in &result.warnings {
        text.push_str(&command(
            Level::Warning,
            sources.get(&warning.object),
            &format!("{} topology spread skewed", warning.object),
            &warning.message(),
        ));
    }
    text
}

/// `2 of 3 replicas available, 3 updated`: where a workload stands.
pub fn counts(report: &WorkloadReport) -> String {
    format!(
        "{} of {} replicas available, {} ready, {} updated",
        report.available, report.desired, report.ready, report.updated
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(file: &str, line: usize, column: usize) -> SourceLocation {
        SourceLocation {
            file: file.into(),
            line,
            column,
        }
    }

    #[test]
    fn messages_escape_percent_and_line_breaks_only() {
        assert_eq!(escape_data("50%: a,b\r\nc"), "50%25: a,b%0D%0Ac");
        // `%` first, or the escapes themselves would be escaped again.
        assert_eq!(escape_data("%0A"), "%250A");
    }

    #[test]
    fn properties_also_escape_colon_and_comma() {
        assert_eq!(
            escape_property("a:b,c%d\ne"),
            "a%3Ab%2Cc%25d%0Ae".to_string()
        );
    }

    #[test]
    fn a_command_carries_location_title_and_message() {
        assert_eq!(
            command(
                Level::Error,
                Some(&at("m/api.yaml", 12, 5)),
                "orch validate",
                "spec.replicas: must be ≥ 0"
            ),
            "::error file=m/api.yaml,line=12,col=5,title=orch validate::spec.replicas: must be ≥ 0\n"
        );
        assert_eq!(command(Level::Notice, None, "", "done"), "::notice::done\n");
        assert_eq!(
            command(Level::Warning, None, "Deployment/default/api blocked", "x"),
            "::warning title=Deployment/default/api blocked::x\n"
        );
    }

    #[test]
    fn diagnostics_keep_their_field_and_location() {
        let diagnostic = Diagnostic {
            file: "a,b:c.yaml".into(),
            line: 3,
            column: 9,
            field: "spec.replicas".into(),
            message: "Invalid value: -1: must be greater than or equal to 0".into(),
        };
        assert_eq!(
            diagnostics(Level::Error, &[diagnostic]),
            "::error file=a%2Cb%3Ac.yaml,line=3,col=9,title=orch validate::spec.replicas: Invalid value: -1: must be greater than or equal to 0\n"
        );
    }

    #[test]
    fn waiting_and_paused_are_warnings_everything_else_errors() {
        let warnings = [BlockedReason::WaitingForDependency, BlockedReason::Paused];
        for &reason in BlockedReason::ALL {
            let level = if warnings.contains(&reason) {
                Level::Warning
            } else {
                Level::Error
            };
            assert_eq!(level_of_blocked(reason), level, "{reason}");
        }
    }
}
