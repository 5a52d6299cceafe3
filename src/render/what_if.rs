//! `orch what-if`: one scenario's impact per workload and disruption budget,
//! or the resilience table of every single zone (node) failure; as tables
//! and as the `WhatIf` / `Resilience` documents.

use super::{duration, tables::table};
use crate::analysis::what_if::{BudgetImpact, Health, Report, Scale, WorkloadImpact};
use crate::model::state::API_VERSION;
use crate::model::workload::WorkloadKind;
use serde::Serialize;

/// The hypothetical change, as asked and as resolved.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScenarioDocument {
    pub fail_nodes: Vec<String>,
    pub fail_zones: Vec<String>,
    pub add_nodes: Vec<String>,
    pub scale: Vec<ScaleDocument>,
    /// `--all-zones` / `--all-nodes`: `zone` or `node`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_domain: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScaleDocument {
    pub object: String,
    pub from: i32,
    pub to: i32,
}

impl From<&Scale> for ScaleDocument {
    fn from(scale: &Scale) -> Self {
        ScaleDocument {
            object: scale.object.to_string(),
            from: scale.from,
            to: scale.to,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WhatIfDocument<'a> {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub scenario: &'a ScenarioDocument,
    pub outcome: &'static str,
    pub failed_nodes: &'a [String],
    pub failed_at: u64,
    pub clock: u64,
    pub workloads: Vec<WorkloadDocument<'a>>,
    pub disruption_budgets: Vec<BudgetDocument<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadDocument<'a> {
    pub object: &'a str,
    pub desired: i32,
    pub lost: i32,
    pub placed: i32,
    pub pending: i32,
    /// Replicas preempted by higher-priority ones (only when some were).
    #[serde(skip_serializing_if = "is_zero")]
    pub preempted: i32,
    pub reason: Option<&'a str>,
    pub available_before: i32,
    pub available_after: i32,
    pub available_lowest: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_failed_nodes: Option<i32>,
    pub status: &'static str,
    /// Not fully available before the change either (written only then).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub degraded_before: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetDocument<'a> {
    pub object: &'a str,
    pub rule: &'a str,
    pub expected: i32,
    pub desired_healthy: i32,
    pub healthy_before: i32,
    pub healthy_after: i32,
    pub holds: bool,
    /// Violated before the change already, so not its doing (written only then).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub violated_before: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResilienceDocument<'a> {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub scenario: &'a ScenarioDocument,
    pub outcome: &'static str,
    pub failures: Vec<FailureDocument<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailureDocument<'a> {
    pub failure: &'a str,
    pub nodes: &'a [String],
    pub outcome: &'static str,
    pub lost: i32,
    pub pending: i32,
    pub workloads: Vec<WorkloadDocument<'a>>,
    pub disruption_budgets: Vec<BudgetDocument<'a>>,
}

fn is_zero(value: &i32) -> bool {
    *value == 0
}

fn outcome(report: &Report) -> &'static str {
    if report.resilient() {
        "Available"
    } else {
        "Degraded"
    }
}

fn workload_document(w: &WorkloadImpact) -> WorkloadDocument<'_> {
    WorkloadDocument {
        object: &w.object,
        desired: w.desired,
        lost: w.lost,
        placed: w.placed,
        pending: w.pending,
        preempted: w.preempted,
        reason: w.reason.as_deref(),
        available_before: w.available_before,
        available_after: w.available_after,
        available_lowest: w.available_lowest,
        on_failed_nodes: (w.kind == WorkloadKind::DaemonSet).then_some(w.on_failed_nodes),
        status: w.health.as_str(),
        degraded_before: w.degraded_before,
    }
}

fn budget_document(b: &BudgetImpact) -> BudgetDocument<'_> {
    BudgetDocument {
        object: &b.object,
        rule: &b.rule,
        expected: b.expected,
        desired_healthy: b.desired_healthy,
        healthy_before: b.healthy_before,
        healthy_after: b.healthy_after,
        holds: b.holds,
        violated_before: b.violated_before(),
    }
}

pub fn document<'a>(scenario: &'a ScenarioDocument, report: &'a Report) -> WhatIfDocument<'a> {
    WhatIfDocument {
        api_version: API_VERSION,
        kind: "WhatIf",
        scenario,
        outcome: outcome(report),
        failed_nodes: &report.failed_nodes,
        failed_at: report.failed_at,
        clock: report.clock,
        workloads: report.workloads.iter().map(workload_document).collect(),
        disruption_budgets: report.budgets.iter().map(budget_document).collect(),
    }
}

pub fn resilience_document<'a>(
    scenario: &'a ScenarioDocument,
    failures: &'a [(String, Report)],
) -> ResilienceDocument<'a> {
    ResilienceDocument {
        api_version: API_VERSION,
        kind: "Resilience",
        scenario,
        outcome: if failures.iter().all(|(_, r)| r.resilient()) {
            "Available"
        } else {
            "Degraded"
        },
        failures: failures
            .iter()
            .map(|(failure, report)| FailureDocument {
                failure,
                nodes: &report.failed_nodes,
                outcome: outcome(report),
                lost: report.workloads.iter().map(|w| w.lost).sum(),
                pending: report.workloads.iter().map(|w| w.pending).sum(),
                workloads: report.workloads.iter().map(workload_document).collect(),
                disruption_budgets: report.budgets.iter().map(budget_document).collect(),
            })
            .collect(),
    }
}

/// The scenario table: a headline, every workload, every budget, then the
/// pending reasons and a verdict.
pub fn report(headline: &str, report: &Report) -> String {
    let mut text = format!("{headline}\n");
    if !report.failed_nodes.is_empty() {
        text.push_str(&format!(
            "Failed at t={}; simulated until t={}.\n",
            duration(report.failed_at),
            duration(report.clock)
        ));
    }
    text.push('\n');
    let rows = report
        .workloads
        .iter()
        .map(|w| {
            vec![
                w.object.clone(),
                w.desired.to_string(),
                w.lost.to_string(),
                w.placed.to_string(),
                w.pending.to_string(),
                format!("{} → {}", w.available_before, w.available_after),
                w.available_lowest.to_string(),
                status(w),
            ]
        })
        .collect();
    text.push_str(&table(
        &[
            "WORKLOAD",
            "DESIRED",
            "LOST",
            "PLACED",
            "PENDING",
            "AVAILABLE",
            "LOWEST",
            "STATUS",
        ],
        rows,
    ));
    if !report.budgets.is_empty() {
        text.push('\n');
        text.push_str(&budgets_table(report));
    }
    text.push_str(&notes(report));
    text.push('\n');
    text.push_str(&super::fit::wrap(&verdict(report), ""));
    text.push('\n');
    text
}

/// The disruption budgets' table: each one's rule, health and verdict.
fn budgets_table(report: &Report) -> String {
    let rows = report
        .budgets
        .iter()
        .map(|b| {
            vec![
                b.object.clone(),
                b.rule.clone(),
                format!("{} → {}", b.healthy_before, b.healthy_after),
                b.desired_healthy.to_string(),
                if b.holds {
                    "Holds"
                } else if b.violated_before() {
                    "Violated (before too)"
                } else {
                    "Violated"
                }
                .to_string(),
            ]
        })
        .collect();
    table(
        &["DISRUPTION BUDGET", "RULE", "HEALTHY", "NEEDED", "STATUS"],
        rows,
    )
}

/// The notes under the tables: the workloads preempted, then the reason
/// of each that is short.
fn notes(report: &Report) -> String {
    let mut text = String::new();
    let reasons: Vec<&WorkloadImpact> = report
        .workloads
        .iter()
        .filter(|w| w.reason.is_some())
        .collect();
    let preempted: Vec<&WorkloadImpact> = report
        .workloads
        .iter()
        .filter(|w| w.preempted > 0)
        .collect();
    if !preempted.is_empty() {
        text.push('\n');
        for w in preempted {
            let line = format!(
                "{} lost {} replica(s) to preemption by higher-priority replicas.",
                w.object, w.preempted
            );
            text.push_str(&super::fit::wrap(&line, "  "));
            text.push('\n');
        }
    }
    if !reasons.is_empty() {
        text.push('\n');
        for w in reasons {
            let what = if w.pending > 0 {
                format!("{} pending", w.pending)
            } else {
                w.health.as_str().to_lowercase()
            };
            let line = format!(
                "{} {what}: {}",
                w.object,
                w.reason.as_deref().unwrap_or_default()
            );
            text.push_str(&super::fit::wrap(&line, "  "));
            text.push('\n');
        }
    }
    text
}

fn status(w: &WorkloadImpact) -> String {
    let mut notes = Vec::new();
    if w.on_failed_nodes > 0 {
        notes.push(format!("{} on failed nodes", w.on_failed_nodes));
    }
    if w.health != Health::Available && !w.hurt() {
        notes.push("before too".to_string());
    }
    if notes.is_empty() {
        w.health.as_str().to_string()
    } else {
        format!("{} ({})", w.health.as_str(), notes.join("; "))
    }
}

/// What the change did, and only that: a workload short before and no
/// worse, or a budget violated before, is named as such, not blamed on it;
/// "stays" fully available only when availability never dipped.
fn verdict(report: &Report) -> String {
    let hurt = report.workloads.iter().filter(|w| w.hurt()).count();
    let broken = report.budgets.iter().filter(|b| b.broken()).count();
    let mut text = if hurt == 0 && broken == 0 {
        let dipped: Vec<String> = report
            .workloads
            .iter()
            .filter(|w| w.dipped())
            .map(|w| {
                format!(
                    "{} {} → {}",
                    w.object, w.available_before, w.available_lowest
                )
            })
            .collect();
        let budgets = if report.budgets.iter().all(|b| b.holds) && !report.budgets.is_empty() {
            " and every disruption budget holds"
        } else {
            ""
        };
        let short_before = report
            .workloads
            .iter()
            .any(|w| w.health != Health::Available);
        let lead = match (short_before, dipped.is_empty()) {
            (false, true) => "Every workload stays fully available",
            (false, false) => "Every workload ends fully available",
            (true, _) => "No workload loses availability to the change",
        };
        let mut text = format!("{lead}{budgets}.");
        if !dipped.is_empty() {
            // A table's worth of names at most where tables are cut.
            let named = match super::fit::width() {
                Some(_) => super::fit::first_of(&dipped, 5),
                None => dipped.join(", "),
            };
            text.push_str(&format!(
                " Availability dipped on the way: {named} (at the lowest)."
            ));
        }
        text
    } else {
        format!(
            "{hurt} of {} workloads lose availability; {broken} of {} disruption budgets violated.",
            report.workloads.len(),
            report.budgets.len()
        )
    };
    let before: Vec<&str> = report
        .budgets
        .iter()
        .filter(|b| b.violated_before())
        .map(|b| b.object.as_str())
        .collect();
    if !before.is_empty() {
        text.push_str(&format!(
            " Already violated before the change: {}.",
            before.join(", ")
        ));
    }
    text
}

/// One row per single failure: what it hurts, and which budgets it breaks.
/// Unless `wide`, long cells keep their first items (`… and N more`), and
/// of more than `ROWS_KEPT` failures only that many are rows.
pub fn resilience(domain: &str, failures: &[(String, Report)], wide: bool) -> String {
    let (nodes_kept, lines_kept) = if wide {
        (usize::MAX, usize::MAX)
    } else {
        (3, 5)
    };
    // Thousands of failures (every node of a large fleet) are a table of
    // the ones that matter: those that hurt, then those that lose the most.
    let shown = shown(failures, wide);
    let rows = shown
        .iter()
        .map(|(failure, report)| resilience_row(failure, report, nodes_kept, lines_kept))
        .collect();
    let header = domain.to_uppercase();
    let mut text = table(
        &[
            &header,
            "NODES",
            "LOST",
            "PENDING",
            "AFFECTED",
            "BUDGETS VIOLATED",
            "RESULT",
        ],
        rows,
    );
    let hurting: Vec<String> = failures
        .iter()
        .filter(|(_, r)| !r.resilient())
        .map(|(f, _)| f.clone())
        .collect();
    if shown.len() < failures.len() {
        text.push_str(&format!(
            "{} of {} {domain} failures shown: those that hurt, then those losing most.\nEvery one: -o wide or -o json.\n",
            shown.len(),
            failures.len()
        ));
    }
    text.push('\n');
    text.push_str(&if hurting.is_empty() {
        format!(
            "Every single {domain} failure leaves every workload fully available ({} checked).\n",
            failures.len()
        )
    } else {
        format!(
            "{} of {} single {domain} failures hurt availability: {}.\n",
            hurting.len(),
            failures.len(),
            super::fit::first_of(&hurting, if wide { usize::MAX } else { 10 })
        )
    });
    text
}

/// The failures the table shows: every one when `wide` or few, else the
/// `ROWS_KEPT` that hurt, then lose the most, in their order.
fn shown(failures: &[(String, Report)], wide: bool) -> Vec<&(String, Report)> {
    if wide || failures.len() <= ROWS_KEPT {
        failures.iter().collect()
    } else {
        let mut ranked: Vec<(usize, &(String, Report))> = failures.iter().enumerate().collect();
        ranked.sort_by_key(|(i, (_, report))| (report.resilient(), -lost(report), *i));
        ranked.truncate(ROWS_KEPT);
        ranked.sort_by_key(|(i, _)| *i);
        ranked.into_iter().map(|(_, failure)| failure).collect()
    }
}

/// One failure's row of the resilience table, long cells cut to their
/// first `nodes_kept` nodes and `lines_kept` lines.
fn resilience_row(
    failure: &str,
    report: &Report,
    nodes_kept: usize,
    lines_kept: usize,
) -> Vec<String> {
    let affected: Vec<String> = report
        .workloads
        .iter()
        .filter(|w| w.affected())
        .map(affected)
        .collect();
    let violated: Vec<String> = report
        .budgets
        .iter()
        .filter(|b| b.broken())
        .map(|b| {
            format!(
                "{}: {} healthy, {} needed",
                b.object, b.healthy_after, b.desired_healthy
            )
        })
        .collect();
    let lines = |items: Vec<String>| {
        if items.is_empty() {
            "-".to_string()
        } else {
            super::fit::first_lines(&items, lines_kept)
        }
    };
    vec![
        failure.to_string(),
        super::fit::first_of(&report.failed_nodes, nodes_kept),
        lost(report).to_string(),
        report
            .workloads
            .iter()
            .map(|w| w.pending)
            .sum::<i32>()
            .to_string(),
        lines(affected),
        lines(violated),
        outcome(report).to_string(),
    ]
}

/// Rows of the resilience table beyond which only the failures that matter are shown.
const ROWS_KEPT: usize = 40;

/// Replicas a failure takes down.
fn lost(report: &Report) -> i32 {
    report.workloads.iter().map(|w| w.lost).sum()
}

fn affected(w: &WorkloadImpact) -> String {
    let mut parts = Vec::new();
    if w.lost > 0 {
        parts.push(format!("{} lost", w.lost));
    }
    if w.placed > 0 {
        parts.push(format!("{} placed", w.placed));
    }
    if w.pending > 0 {
        parts.push(format!("{} pending", w.pending));
    }
    let mut tail = format!("{}/{} available", w.available_after, w.desired);
    if w.on_failed_nodes > 0 {
        tail.push_str(&format!(", {} on failed nodes", w.on_failed_nodes));
    }
    if parts.is_empty() {
        format!("{}: {tail}", w.object)
    } else {
        format!("{}: {} ({tail})", w.object, parts.join(", "))
    }
}
