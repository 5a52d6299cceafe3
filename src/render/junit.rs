//! `--junit FILE`: a JUnit XML report, as CI systems display test results.
//! One testsuite `orch`; one testcase per workload (`name` its
//! `Kind/namespace/name`, `classname` the manifest file that declares it),
//! failing with the reason it did not converge; each manifest error a failing
//! testcase; a command that could not run an `<error>`. Times are simulated
//! seconds (when each workload last changed), so the report is deterministic.

use crate::executor::RunResult;
use crate::manifest::Diagnostic;
use crate::model::workload::{Desired, SourceLocation};
use quick_xml::Writer;
use quick_xml::escape::partial_escape;
use quick_xml::events::{BytesDecl, BytesText, Event};
use std::collections::HashMap;

pub const SUITE: &str = "orch";
/// `classname` of testcases that no manifest file declares.
const NO_FILE: &str = "orch";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Passed,
    /// The check ran and the manifests failed it (`type` is the reason).
    Failure {
        kind: String,
        message: String,
        details: String,
    },
    /// The check could not run at all (bad state file, lock held, …).
    Error {
        kind: String,
        message: String,
        details: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestCase {
    pub name: String,
    pub classname: String,
    pub time: u64,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestSuite {
    /// The orch command that produced it: validate, plan, apply.
    pub command: &'static str,
    /// The run's outcome (`Converged`, `Blocked`, `Invalid`, …).
    pub outcome: String,
    pub time: u64,
    pub cases: Vec<TestCase>,
}

impl TestSuite {
    pub fn failures(&self) -> usize {
        self.cases
            .iter()
            .filter(|c| matches!(c.verdict, Verdict::Failure { .. }))
            .count()
    }

    pub fn errors(&self) -> usize {
        self.cases
            .iter()
            .filter(|c| matches!(c.verdict, Verdict::Error { .. }))
            .count()
    }
}

fn classname(source: Option<&SourceLocation>) -> String {
    source.map_or_else(|| NO_FILE.to_string(), |s| s.file.clone())
}

/// Manifests that do not validate: one failing testcase per error.
pub fn invalid(command: &'static str, diagnostics: &[Diagnostic]) -> TestSuite {
    let cases = diagnostics
        .iter()
        .map(|d| {
            let location = format!("{}:{}:{}", d.file, d.line, d.column);
            let message = if d.field.is_empty() {
                d.message.clone()
            } else {
                format!("{}: {}", d.field, d.message)
            };
            TestCase {
                name: if d.field.is_empty() {
                    location
                } else {
                    format!("{location} {}", d.field)
                },
                classname: d.file.clone(),
                time: 0,
                verdict: Verdict::Failure {
                    kind: "Invalid".into(),
                    details: d.to_string(),
                    message,
                },
            }
        })
        .collect();
    TestSuite {
        command,
        outcome: "Invalid".into(),
        time: 0,
        cases,
    }
}

/// Manifests that validate: one passing testcase per workload.
pub fn valid(desired: &Desired) -> TestSuite {
    TestSuite {
        command: "validate",
        outcome: "Valid".into(),
        time: 0,
        cases: desired
            .workloads
            .iter()
            .map(|w| (&w.id, w.source.as_ref()))
            .chain(desired.cron_jobs.iter().map(|c| (&c.id, c.source.as_ref())))
            .map(|(id, source)| TestCase {
                name: id.to_string(),
                classname: classname(source),
                time: 0,
                verdict: Verdict::Passed,
            })
            .collect(),
    }
}

/// The command itself failed: one `<error>` testcase.
pub fn failed(command: &'static str, message: &str) -> TestSuite {
    TestSuite {
        command,
        outcome: "Error".into(),
        time: 0,
        cases: vec![TestCase {
            name: format!("orch {command}"),
            classname: NO_FILE.into(),
            time: 0,
            verdict: Verdict::Error {
                kind: "Error".into(),
                message: message.lines().next().unwrap_or_default().to_string(),
                details: message.to_string(),
            },
        }],
    }
}

/// When each workload last changed, in seconds since the run started: its
/// counts after every step, compared with the step before.
fn settled_times(result: &RunResult) -> HashMap<&str, u64> {
    let mut last: HashMap<&str, (u64, [i32; 4])> = HashMap::new();
    for step in &result.steps {
        for status in &step.status {
            let counts = [
                status.current,
                status.ready,
                status.available,
                status.updated,
            ];
            match last.get_mut(status.object.as_str()) {
                Some((_, seen)) if *seen == counts => {}
                Some(entry) => *entry = (step.time, counts),
                None => {
                    last.insert(&status.object, (step.time, counts));
                }
            }
        }
    }
    last.into_iter()
        .map(|(object, (time, _))| (object, time.saturating_sub(result.start)))
        .collect()
}

/// A plan or apply: one testcase per workload, failing unless it converged;
/// `rolled_back` (`apply --atomic`) pairs each rolled-back object with its message.
pub fn run(
    command: &'static str,
    result: &RunResult,
    sources: &HashMap<String, SourceLocation>,
    rolled_back: &[(String, String)],
) -> TestSuite {
    let times = settled_times(result);
    let cases = result
        .workloads
        .iter()
        .map(|report| {
            let source = sources.get(&report.object);
            let counts = super::github::counts(report);
            let declared = source.map_or(String::new(), |s| format!("\ndeclared at {s}"));
            let rollback = rolled_back
                .iter()
                .find(|(object, _)| *object == report.object);
            let verdict = match (&report.blocked, rollback) {
                (_, Some((_, message))) => Verdict::Failure {
                    kind: "RolledBack".into(),
                    message: message.clone(),
                    details: format!("{message}\n{counts}{declared}"),
                },
                (Some(blocked), None) => Verdict::Failure {
                    kind: blocked.reason.to_string(),
                    message: blocked.message.clone(),
                    details: format!(
                        "{} is blocked ({}): {}\n{counts}{declared}",
                        report.object, blocked.reason, blocked.message
                    ),
                },
                (None, None) if !report.converged() => Verdict::Failure {
                    kind: "NotConverged".into(),
                    message: counts.clone(),
                    details: format!("{counts}{declared}"),
                },
                (None, None) => Verdict::Passed,
            };
            TestCase {
                name: report.object.clone(),
                classname: classname(source),
                time: times.get(report.object.as_str()).copied().unwrap_or(0),
                verdict,
            }
        })
        .chain(result.autoscalers.iter().map(|record| {
            // An HPA fails its case when it holds its target at maxReplicas
            // and the target did not converge: both reasons in one place.
            let target = super::hpa::target_object(record);
            let stuck = result
                .workloads
                .iter()
                .any(|r| r.object == target && !r.converged());
            let verdict = match record.limited() {
                Some(limited) if stuck && record.at_max() => Verdict::Failure {
                    kind: "ScalingLimited".into(),
                    message: format!("{}: {}", limited.reason, limited.message),
                    details: format!(
                        "{} is at maxReplicas {} (ScalingLimited: {}: {}); {target} did not converge",
                        record.id(),
                        record.max_replicas,
                        limited.reason,
                        limited.message
                    ),
                },
                _ => Verdict::Passed,
            };
            TestCase {
                name: record.id(),
                classname: classname(sources.get(&target)),
                time: record.status.last_scale_time.map_or(0, |t| t.saturating_sub(result.start)),
                verdict,
            }
        }))
        .collect();
    TestSuite {
        command,
        outcome: result.outcome.as_str().into(),
        time: result.clock.saturating_sub(result.start),
        cases,
    }
}

/// XML 1.0 allows no control characters but tab, CR and LF, and neither
/// U+FFFE nor U+FFFF: such characters (from a quoted manifest value) become U+FFFD.
fn xml_text(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => '\u{FFFD}',
            c => c,
        })
        .collect()
}

/// An attribute value on one line (parsers turn line breaks in attributes into spaces).
fn xml_attribute(text: &str) -> String {
    xml_text(&text.replace("\r\n", " ").replace(['\n', '\r'], " "))
}

/// The report as JUnit XML (`<testsuites>` around one `<testsuite>`).
pub fn xml(suite: &TestSuite) -> String {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    write(&mut writer, suite).expect("writing XML to memory cannot fail");
    let mut text = String::from_utf8(writer.into_inner()).expect("the XML writer writes UTF-8");
    text.push('\n');
    text
}

fn write(writer: &mut Writer<Vec<u8>>, suite: &TestSuite) -> std::io::Result<()> {
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let tests = suite.cases.len().to_string();
    let failures = suite.failures().to_string();
    let errors = suite.errors().to_string();
    let time = suite.time.to_string();
    let counts = [
        ("tests", tests.as_str()),
        ("failures", failures.as_str()),
        ("errors", errors.as_str()),
        ("time", time.as_str()),
    ];
    writer
        .create_element("testsuites")
        .with_attribute(("name", SUITE))
        .with_attributes(counts)
        .write_inner_content(|writer| {
            writer
                .create_element("testsuite")
                .with_attribute(("name", SUITE))
                .with_attributes(counts)
                .with_attribute(("skipped", "0"))
                .write_inner_content(|writer| {
                    writer
                        .create_element("properties")
                        .write_inner_content(|writer| {
                            for (name, value) in [
                                ("command", suite.command),
                                ("outcome", suite.outcome.as_str()),
                                ("time-unit", "simulated seconds"),
                            ] {
                                writer
                                    .create_element("property")
                                    .with_attributes([("name", name), ("value", value)])
                                    .write_empty()?;
                            }
                            Ok(())
                        })?;
                    for case in &suite.cases {
                        write_case(writer, case)?;
                    }
                    Ok(())
                })?;
            Ok(())
        })?;
    Ok(())
}

fn write_case(writer: &mut Writer<Vec<u8>>, case: &TestCase) -> std::io::Result<()> {
    let name = xml_attribute(&case.name);
    let classname = xml_attribute(&case.classname);
    let time = case.time.to_string();
    let element = writer.create_element("testcase").with_attributes([
        ("name", name.as_str()),
        ("classname", classname.as_str()),
        ("time", time.as_str()),
    ]);
    let (tag, kind, message, details) = match &case.verdict {
        Verdict::Passed => {
            element.write_empty()?;
            return Ok(());
        }
        Verdict::Failure {
            kind,
            message,
            details,
        } => ("failure", kind, message, details),
        Verdict::Error {
            kind,
            message,
            details,
        } => ("error", kind, message, details),
    };
    element.write_inner_content(|writer| {
        let message = xml_attribute(message);
        let kind = xml_attribute(kind);
        writer
            .create_element(tag)
            .with_attributes([("message", message.as_str()), ("type", kind.as_str())])
            // Text needs only `<`, `>` and `&` escaped; quotes stay readable.
            .write_text_content(BytesText::from_escaped(partial_escape(xml_text(details))))?;
        Ok(())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(name: &str, verdict: Verdict) -> TestCase {
        TestCase {
            name: name.into(),
            classname: "m/api.yaml".into(),
            time: 36,
            verdict,
        }
    }

    fn suite(cases: Vec<TestCase>) -> TestSuite {
        TestSuite {
            command: "plan",
            outcome: "Blocked".into(),
            time: 36,
            cases,
        }
    }

    #[test]
    fn counts_follow_the_verdicts() {
        let report = suite(vec![
            case("a", Verdict::Passed),
            case(
                "b",
                Verdict::Failure {
                    kind: "Unschedulable".into(),
                    message: "m".into(),
                    details: "d".into(),
                },
            ),
            case(
                "c",
                Verdict::Error {
                    kind: "Error".into(),
                    message: "m".into(),
                    details: "d".into(),
                },
            ),
        ]);
        assert_eq!((report.failures(), report.errors()), (1, 1));
        let text = xml(&report);
        assert!(
            text.contains(
                r#"<testsuite name="orch" tests="3" failures="1" errors="1" time="36" skipped="0">"#
            ),
            "{text}"
        );
        assert!(text.contains(r#"<testcase name="a" classname="m/api.yaml" time="36"/>"#));
    }

    #[test]
    fn markup_and_control_characters_are_escaped() {
        let report = suite(vec![case(
            "Deployment/default/<x>",
            Verdict::Failure {
                kind: "Unschedulable".into(),
                message: "a \"quoted\" & <tagged>\nsecond line".into(),
                details: "1 < 2 & \u{1} done".into(),
            },
        )]);
        let text = xml(&report);
        assert!(
            text.contains("name=\"Deployment/default/&lt;x&gt;\""),
            "{text}"
        );
        assert!(
            text.contains("message=\"a &quot;quoted&quot; &amp; &lt;tagged&gt; second line\""),
            "{text}"
        );
        assert!(
            text.contains(">1 &lt; 2 &amp; \u{FFFD} done</failure>"),
            "{text}"
        );
    }

    #[test]
    fn the_report_declares_itself_and_its_properties() {
        let text = xml(&suite(vec![case("a", Verdict::Passed)]));
        assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"orch\" tests=\"1\" failures=\"0\" errors=\"0\" time=\"36\">"), "{text}");
        assert!(
            text.contains(r#"<property name="command" value="plan"/>"#),
            "{text}"
        );
        assert!(
            text.contains(r#"<property name="outcome" value="Blocked"/>"#),
            "{text}"
        );
    }
}
