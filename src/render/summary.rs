//! `--summary FILE` (and `$GITHUB_STEP_SUMMARY` under `-o github`): a run
//! in Markdown for a CI job's page — the outcome, the workload table, why
//! anything is blocked, and the rollout timeline as a Mermaid Gantt chart
//! (GitHub renders both). Long runs keep to a page: the workloads that did
//! not converge first, the rest counted.

use super::duration;
use super::plan::status_word;
use crate::executor::{Outcome, RunResult};
use crate::reconcile::status::WorkloadReport;
use std::collections::HashMap;
use std::fmt::Write;

/// Workload rows, and bars of the chart, at most.
const ROWS: usize = 30;

pub fn markdown(command: &str, result: &RunResult, summary_line: &str) -> String {
    let mut md = String::new();
    let icon = match result.outcome {
        Outcome::Converged | Outcome::NoChanges => "✅",
        Outcome::Blocked => "❌",
        Outcome::Timeout => "⏱️",
    };
    let _ = writeln!(
        md,
        "## {icon} orch {command}: {}\n",
        result.outcome.as_str()
    );
    let _ = writeln!(md, "{}\n", cell(summary_line));
    let shown = selection(&result.workloads);
    if !shown.is_empty() {
        md.push_str("| Workload | Desired | Current | Ready | Available | Updated | Status |\n");
        md.push_str("|---|---:|---:|---:|---:|---:|---|\n");
        for r in &shown {
            let mark = match (&r.blocked, r.converged()) {
                (Some(_), _) => "❌",
                (None, true) => "✅",
                (None, false) => "⏳",
            };
            let _ = writeln!(
                md,
                "| `{}` | {} | {} | {} | {} | {} | {mark} {} |",
                r.object,
                r.desired,
                r.current,
                r.ready,
                r.available,
                r.updated,
                cell(&status_word(r))
            );
        }
        let rest = result.workloads.len() - shown.len();
        if rest > 0 {
            let _ = writeln!(md, "\n… and {rest} more workloads, all converged.");
        }
        md.push('\n');
    }
    let blocked: Vec<&WorkloadReport> = result
        .workloads
        .iter()
        .filter(|r| r.blocked.is_some())
        .collect();
    if !blocked.is_empty() {
        md.push_str("### Blocked\n\n");
        for r in blocked.iter().take(ROWS) {
            if let Some(b) = &r.blocked {
                let _ = writeln!(
                    md,
                    "- `{}` — **{}**: {}",
                    r.object,
                    b.reason,
                    cell(&b.message)
                );
            }
        }
        if blocked.len() > ROWS {
            let _ = writeln!(md, "- … and {} more", blocked.len() - ROWS);
        }
        md.push('\n');
    }
    for rollback in &result.rolled_back {
        let _ = writeln!(md, "> {}\n", cell(&rollback.message));
    }
    if !result.steps.is_empty() && !shown.is_empty() {
        md.push_str(&gantt(result, &shown));
    }
    md
}

/// The workloads listed: those that did not converge first, then the rest,
/// `ROWS` at most.
fn selection(reports: &[WorkloadReport]) -> Vec<&WorkloadReport> {
    let mut shown: Vec<&WorkloadReport> = reports.iter().filter(|r| !r.converged()).collect();
    shown.extend(reports.iter().filter(|r| r.converged()));
    shown.truncate(ROWS);
    // Back in the run's order, which the reader knows from the other outputs.
    let order: HashMap<&str, usize> = reports
        .iter()
        .enumerate()
        .map(|(i, r)| (r.object.as_str(), i))
        .collect();
    shown.sort_by_key(|r| order.get(r.object.as_str()).copied().unwrap_or(usize::MAX));
    shown
}

/// Each workload's span of activity in simulated seconds: from its first
/// action to its last, as a Mermaid Gantt bar (`crit` when blocked).
fn gantt(result: &RunResult, shown: &[&WorkloadReport]) -> String {
    let mut spans: HashMap<String, (u64, u64)> = HashMap::new();
    for step in &result.steps {
        for action in step.actions.iter().filter(|a| super::scaled::shown(a)) {
            let span = spans
                .entry(action.object())
                .or_insert((step.time, step.time));
            span.1 = step.time;
        }
    }
    let start = result.start;
    let end = result.clock.max(start + 1);
    let mut md = String::from("### Rollout timeline\n\n```mermaid\ngantt\n");
    let _ = writeln!(
        md,
        "    title Simulated time from t={} to t={}",
        duration(start),
        duration(end)
    );
    md.push_str("    dateFormat X\n    axisFormat %H:%M:%S\n");
    for (i, r) in shown.iter().enumerate() {
        let (from, to) = spans.get(&r.object).copied().unwrap_or((start, start));
        // Blocked workloads stay open to the end of the run.
        let to = if r.blocked.is_some() { end } else { to };
        let to = to.max(from + 1);
        let tag = match (&r.blocked, r.converged()) {
            (Some(_), _) => "crit, ",
            (None, true) => "done, ",
            (None, false) => "active, ",
        };
        let _ = writeln!(md, "    section {}", label(&r.object));
        let _ = writeln!(
            md,
            "    {} t={} to t={} :{tag}w{i}, {from}, {to}",
            label(&status_word(r)),
            duration(from),
            duration(to)
        );
    }
    md.push_str("```\n");
    md
}

/// Text for a Mermaid label: no `:`, `;` or `#`, which the grammar reads.
fn label(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            ':' | ';' | '#' => ' ',
            c => c,
        })
        .collect()
}

/// Text for a Markdown table cell or line: pipes escaped, one line.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_cells_cannot_break_their_syntax() {
        assert_eq!(label("Blocked (x): y; #z"), "Blocked (x)  y   z");
        assert_eq!(cell("a | b\nc"), "a \\| b c");
    }
}
