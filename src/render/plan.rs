//! The human view of a run (`plan` and `apply`): the timeline of actions,
//! the per-workload summary, and the reasons anything is blocked.

use super::{
    duration,
    tables::{Tabular, table},
};
use crate::executor::{Outcome, RunResult};
use crate::reconcile::Action;
use crate::reconcile::status::WorkloadReport;
use anstyle::{AnsiColor, Style};
use std::collections::HashMap;
use std::fmt::Write;

/// The colour of a timeline row follows its sign: `+` creates are green,
/// `-` deletions red, `~` changes (binds, readiness, updates, restarts)
/// yellow, `!` a replica no node takes magenta.
pub(super) fn style_for(sign: char) -> Style {
    let color = match sign {
        '+' => AnsiColor::Green,
        '-' => AnsiColor::Red,
        '!' => AnsiColor::Magenta,
        _ => AnsiColor::Yellow,
    };
    Style::new().fg_color(Some(color.into()))
}

pub(super) fn sign(action: &Action) -> char {
    match action {
        Action::AddNode(_) | Action::Create { .. } | Action::CreateJob { .. } => '+',
        Action::DeleteJob { .. } => '-',
        Action::SkipSchedule { .. } => '!',
        Action::RemoveNode { .. } | Action::RemoveWorkload { .. } | Action::Delete { .. } => '-',
        Action::FailedScheduling { .. } | Action::Gate { .. } | Action::Reject { .. } => '!',
        Action::NodeGroup(decision) => match decision.op() {
            "scale-up" => '+',
            "scale-down" => '-',
            _ => '!',
        },
        Action::FinishPod {
            succeeded: false, ..
        } => '!',
        Action::FinishJob { .. } if action.op() == "job-failed" => '!',
        _ => '~',
    }
}

/// A table with each body row wrapped in its style. Whole lines are styled
/// after the layout, so escape codes never skew the column widths; the
/// colour-aware stream strips them when colour is off.
pub(super) fn styled_rows(text: &str, styles: &[Style]) -> String {
    let mut lines = text.lines();
    let mut out = String::with_capacity(text.len() + styles.len() * 12);
    if let Some(header) = lines.next() {
        out.push_str(header);
        out.push('\n');
    }
    for (line, style) in lines.zip(styles.iter().chain(std::iter::repeat(&Style::new()))) {
        // Writing into a String cannot fail.
        let _ = writeln!(out, "{style}{line}{style:#}");
    }
    out
}

/// Counts of what the run does, for the one-line summary.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub nodes_added: usize,
    pub nodes_changed: usize,
    pub nodes_removed: usize,
    pub created: usize,
    pub deleted: usize,
    pub workloads_changed: usize,
}

pub fn totals(result: &RunResult) -> Totals {
    let mut totals = Totals::default();
    for action in result.steps.iter().flat_map(|s| &s.actions) {
        match action {
            Action::AddNode(_) => totals.nodes_added += 1,
            Action::UpdateNode(_) => totals.nodes_changed += 1,
            Action::RemoveNode { .. } => totals.nodes_removed += 1,
            Action::Create { .. } => totals.created += 1,
            Action::Delete { .. } => totals.deleted += 1,
            Action::ApplyWorkload { .. } | Action::RemoveWorkload { .. } => {
                totals.workloads_changed += 1
            }
            _ => {}
        }
    }
    totals
}

pub fn summary_line(result: &RunResult, verb: &str) -> String {
    let t = totals(result);
    let ending = match result.outcome {
        Outcome::NoChanges => return "No changes. The cluster matches the manifests.".to_string(),
        Outcome::Converged => format!(
            "converged at t={} after {} steps",
            duration(result.clock),
            result.steps.len()
        ),
        Outcome::Blocked => format!(
            "BLOCKED at t={} after {} steps",
            duration(result.clock),
            result.steps.len()
        ),
        Outcome::Timeout => format!(
            "TIMED OUT at t={} after {} steps",
            duration(result.clock),
            result.steps.len()
        ),
    };
    let ending = ending.replace(" after 1 steps", " after 1 step");
    format!(
        "{verb}: {} to create, {} to delete; nodes: {} to add, {} to change, {} to remove; workloads: {} changed — {ending}.",
        t.created, t.deleted, t.nodes_added, t.nodes_changed, t.nodes_removed, t.workloads_changed
    )
}

/// One row per action, with simulated time, coloured by kind of change
/// (whole lines, so escape codes never skew the column widths).
pub fn timeline(result: &RunResult) -> String {
    let mut table = Tabular::new(&["TIME", "ACTION", "OBJECT", "REPLICA", "NODE", "DETAIL"]);
    let mut styles = Vec::new();
    for step in &result.steps {
        let time = duration(step.time);
        // Status updates are in the JSON document and the step counts, not the timeline.
        for action in step
            .actions
            .iter()
            .filter(|a| a.is_shown() && !matches!(a, Action::SetStatus { .. }))
        {
            styles.push(style_for(sign(action)));
            table
                .cell(&time)
                .cell(format_args!("{} {}", sign(action), action.op()))
                .cell(action.object())
                .cell(action.replica().unwrap_or(""))
                .cell(action.node().unwrap_or(""));
            match action {
                Action::FailedScheduling { error, .. } => table.cell(error),
                Action::Delete { reason, .. } => table.cell(reason),
                Action::RecordRevision { revision, hash, .. } => {
                    table.cell(format_args!("revision {revision} ({hash})"))
                }
                Action::Storage(storage) => table.cell(storage.detail().unwrap_or_default()),
                Action::NodeGroup(decision) => table.cell(decision.detail().unwrap_or_default()),
                Action::FinishPod { .. }
                | Action::FinishJob { .. }
                | Action::CreateJob { .. }
                | Action::DeleteJob { .. }
                | Action::SkipSchedule { .. }
                | Action::Rescale { .. } => table.cell(action.reason().unwrap_or_default()),
                _ => table.cell(""),
            };
        }
    }
    styled_rows(&table.render(), &styles)
}

/// One row per step and workload that changed in it: the counts after the
/// step, so a rollout's progress reads top to bottom.
pub fn steps(result: &RunResult) -> String {
    // Node groups in play: the ready nodes after each step, and a row for
    // each step that changed the fleet.
    let fleet = result.steps.iter().any(|s| s.nodes.is_some());
    let mut rows = Vec::new();
    for step in &result.steps {
        // Counted once per step: a step can hold 100k actions over thousands of workloads.
        let mut per_object: HashMap<String, usize> = HashMap::new();
        for action in &step.actions {
            if action.is_shown() && !matches!(action, Action::SetStatus { .. }) {
                *per_object.entry(action.object()).or_default() += 1;
            }
        }
        let nodes = step.nodes.map_or(String::new(), |n| n.to_string());
        for status in &step.status {
            let actions = per_object.get(&status.object).copied().unwrap_or(0);
            if actions == 0 {
                continue;
            }
            let mut row = vec![
                duration(step.time),
                status.object.clone(),
                status.current.to_string(),
                status.ready.to_string(),
                status.available.to_string(),
                status.updated.to_string(),
                actions.to_string(),
            ];
            if fleet {
                row.push(nodes.clone());
            }
            rows.push(row);
        }
        if fleet {
            // The groups' decisions; a member joining or leaving alone in
            // its step (the declared fleet's nodes ride with their workloads).
            let alone = step
                .status
                .iter()
                .all(|s| !per_object.contains_key(&s.object));
            let mut fleet_rows: Vec<(&String, &usize)> = per_object
                .iter()
                .filter(|(object, _)| {
                    object.starts_with("NodeGroup/") || (alone && object.starts_with("Node/"))
                })
                .collect();
            fleet_rows.sort();
            for (object, actions) in fleet_rows {
                let blank = String::new();
                rows.push(vec![
                    duration(step.time),
                    object.clone(),
                    blank.clone(),
                    blank.clone(),
                    blank.clone(),
                    blank,
                    actions.to_string(),
                    nodes.clone(),
                ]);
            }
        }
    }
    let mut headers = vec![
        "TIME",
        "WORKLOAD",
        "CURRENT",
        "READY",
        "AVAILABLE",
        "UPDATED",
        "ACTIONS",
    ];
    if fleet {
        headers.push("NODES");
    }
    table(&headers, rows)
}

pub fn status_word(report: &WorkloadReport) -> String {
    match &report.blocked {
        Some(blocked) => format!("Blocked ({})", blocked.reason),
        None if report.job.is_some() && report.converged() => {
            format!(
                "Converged ({})",
                report.job.as_ref().map_or("", |j| j.status_word())
            )
        }
        None if report.cron.as_ref().is_some_and(|c| c.suspended) => {
            "Converged (Suspended)".to_string()
        }
        None if report.converged() => "Converged".to_string(),
        None => "Progressing".to_string(),
    }
}

/// Converged green, progressing yellow, blocked red.
pub(super) fn status_style(report: &WorkloadReport) -> Style {
    let color = match &report.blocked {
        Some(_) => AnsiColor::Red,
        None if report.converged() => AnsiColor::Green,
        None => AnsiColor::Yellow,
    };
    Style::new().fg_color(Some(color.into()))
}

pub fn workloads(reports: &[WorkloadReport]) -> String {
    let styles: Vec<Style> = reports.iter().map(status_style).collect();
    let rows = reports
        .iter()
        .map(|r| {
            vec![
                r.object.clone(),
                r.desired.to_string(),
                r.current.to_string(),
                r.ready.to_string(),
                r.available.to_string(),
                r.updated.to_string(),
                status_word(r),
            ]
        })
        .collect();
    let text = table(
        &[
            "WORKLOAD",
            "DESIRED",
            "CURRENT",
            "READY",
            "AVAILABLE",
            "UPDATED",
            "STATUS",
        ],
        rows,
    );
    styled_rows(&text, &styles)
}

/// `<object> is blocked: <message>` for each blocked workload.
pub fn blocked(reports: &[WorkloadReport]) -> String {
    let mut text = String::new();
    for report in reports {
        if let Some(blocked) = &report.blocked {
            let style = Style::new().fg_color(Some(AnsiColor::Red.into()));
            let line = format!(
                "{} is blocked ({}): {}",
                report.object, blocked.reason, blocked.message
            );
            for line in super::fit::wrap(&line, "  ").lines() {
                text.push_str(&format!("{style}{line}{style:#}\n"));
            }
        }
    }
    text
}

/// How the run's replicas were scheduled (`--verbose`): in batches, or one
/// by one on the plain path, with each reason's count.
pub fn scheduling(stats: &crate::scheduler::batch::Stats) -> String {
    let plain: usize = stats.plain_replicas.values().sum();
    let mut line = format!(
        "scheduling: {} replica(s) in {} batched run(s), {} one by one",
        stats.batched_replicas, stats.batched_runs, plain
    );
    if plain > 0 {
        let reasons: Vec<String> = stats
            .plain_replicas
            .iter()
            .map(|(reason, count)| format!("{count} {reason}"))
            .collect();
        line.push_str(&format!(" ({})", reasons.join(", ")));
    }
    line
}

#[cfg(test)]
mod scheduling_tests {
    use super::scheduling;
    use crate::scheduler::batch::{PlainReason, Stats};

    #[test]
    fn scheduling_line_counts_batched_runs_and_each_plain_reason() {
        let mut stats = Stats {
            batched_runs: 3,
            batched_replicas: 40,
            ..Stats::default()
        };
        assert_eq!(
            scheduling(&stats),
            "scheduling: 40 replica(s) in 3 batched run(s), 0 one by one"
        );
        stats.plain_replicas.insert(PlainReason::Pinned, 5);
        stats
            .plain_replicas
            .insert(PlainReason::RequiredPodAffinity, 2);
        stats
            .plain_replicas
            .insert(PlainReason::Plugin("Opaque"), 1);
        assert_eq!(
            scheduling(&stats),
            "scheduling: 40 replica(s) in 3 batched run(s), 8 one by one \
             (1 plugin Opaque does not declare what it reads, 5 pinned to named nodes, \
             2 required pod affinity)"
        );
    }
}
