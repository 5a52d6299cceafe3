//! `orch node drain N --dry-run`: the verdict first, then every replica on the
//! node with the disruption budgets that govern it (as `kubectl get pdb`
//! shows them) and when its eviction would succeed.

use super::tables;
use crate::drain::Preview;
use crate::model::state::API_VERSION;
use crate::model::workload::IntOrPercent;
use serde::Serialize;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DrainPreviewDocument<'a> {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub node: &'a str,
    pub remove: bool,
    pub completes: bool,
    /// When the last eviction succeeds, or where the simulation stopped.
    pub clock: u64,
    pub reasons: &'a [String],
    pub warnings: &'a [String],
    pub replicas: Vec<ReplicaDocument<'a>>,
    pub evictions: Vec<EvictionDocument<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaDocument<'a> {
    pub name: &'a str,
    pub workload: String,
    /// DaemonSet replicas stay on the node.
    pub stays: bool,
    pub budgets: Vec<BudgetDocument>,
    /// 1-based position in `evictions`; null when it is not evicted.
    pub eviction_order: Option<usize>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetDocument {
    pub name: String,
    /// As declared: a number, or a percent string.
    pub min_available: Option<serde_json::Value>,
    pub max_unavailable: Option<serde_json::Value>,
    pub current_healthy: i32,
    pub desired_healthy: i32,
    pub expected_pods: i32,
    pub disruptions_allowed: i32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EvictionDocument<'a> {
    pub order: usize,
    pub replica: &'a str,
    pub workload: String,
    pub time: u64,
}

fn int_or_percent(value: IntOrPercent) -> serde_json::Value {
    match value {
        IntOrPercent::Int(v) => v.into(),
        IntOrPercent::Percent(_) => value.to_string().into(),
    }
}

pub fn document(preview: &Preview) -> DrainPreviewDocument<'_> {
    DrainPreviewDocument {
        api_version: API_VERSION,
        kind: "DrainPreview",
        node: &preview.node,
        remove: preview.remove,
        completes: preview.completes,
        clock: preview.clock,
        reasons: &preview.reasons,
        warnings: &preview.warnings,
        replicas: preview
            .replicas
            .iter()
            .map(|r| ReplicaDocument {
                name: &r.name,
                workload: r.workload.to_string(),
                stays: r.stays,
                budgets: r
                    .budgets
                    .iter()
                    .map(|b| BudgetDocument {
                        name: b.status.id.to_string(),
                        min_available: b.min_available.map(int_or_percent),
                        max_unavailable: b.max_unavailable.map(int_or_percent),
                        current_healthy: b.status.current_healthy,
                        desired_healthy: b.status.desired_healthy,
                        expected_pods: b.status.expected,
                        disruptions_allowed: b.status.disruptions_allowed,
                    })
                    .collect(),
                eviction_order: r.eviction.map(|i| i + 1),
            })
            .collect(),
        evictions: preview
            .evictions
            .iter()
            .enumerate()
            .map(|(i, e)| EvictionDocument {
                order: i + 1,
                replica: &e.replica,
                workload: e.workload.to_string(),
                time: e.time,
            })
            .collect(),
    }
}

pub fn table(preview: &Preview) -> String {
    let verb = if preview.remove {
        "drain and removal"
    } else {
        "drain"
    };
    let mut text = if preview.completes {
        format!(
            "node/{} {verb} would complete at t={}: {} eviction{} (dry run, nothing changed)\n",
            preview.node,
            super::duration(preview.clock),
            preview.evictions.len(),
            if preview.evictions.len() == 1 {
                ""
            } else {
                "s"
            }
        )
    } else {
        let mut text = format!(
            "node/{} {verb} can never finish (dry run, nothing changed):\n",
            preview.node
        );
        for reason in &preview.reasons {
            text.push_str(&format!("  {reason}\n"));
        }
        text
    };
    for warning in &preview.warnings {
        text.push_str(&format!("  warning: {warning}\n"));
    }
    let mut text = super::fit::wrap(&text, "    ");
    text.push('\n');
    let mut rows = Vec::new();
    for replica in &preview.replicas {
        let eviction = match (replica.stays, replica.eviction) {
            (true, _) => "stays (DaemonSet)".to_string(),
            (false, Some(i)) => format!(
                "{} at {}",
                i + 1,
                super::duration(preview.evictions[i].time)
            ),
            (false, None) => "blocked".to_string(),
        };
        let mut first = vec![replica.name.clone(), replica.workload.to_string()];
        if replica.budgets.is_empty() {
            first.extend(["<none>", "", "", "", "", ""].map(String::from));
            first.push(eviction);
            rows.push(first);
            continue;
        }
        for (i, budget) in replica.budgets.iter().enumerate() {
            let na = |v: Option<IntOrPercent>| v.map_or("N/A".to_string(), |v| v.to_string());
            let mut row = if i == 0 {
                first.clone()
            } else {
                vec![String::new(), String::new()]
            };
            row.extend([
                budget.status.id.name.to_string(),
                na(budget.min_available),
                na(budget.max_unavailable),
                budget.status.current_healthy.to_string(),
                budget.status.desired_healthy.to_string(),
                budget.status.disruptions_allowed.to_string(),
                if i == 0 {
                    eviction.clone()
                } else {
                    String::new()
                },
            ]);
            rows.push(row);
        }
    }
    text.push_str(&tables::table(
        &[
            "REPLICA",
            "WORKLOAD",
            "PDB",
            "MIN AVAILABLE",
            "MAX UNAVAILABLE",
            "CURRENT",
            "DESIRED",
            "ALLOWED DISRUPTIONS",
            "EVICTION",
        ],
        rows,
    ));
    text
}
