//! `orch describe replica` / `orch explain`: one row per node with each
//! filter's verdict and each weighted score, the winner marked, then what
//! would make a pending replica schedulable.

use super::tables::table;
use crate::explain::Explanation;
use crate::model::state::{Event, Phase};
use serde::Serialize;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExplanationDocument<'a> {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub name: &'a str,
    pub workload: String,
    pub phase: Phase,
    pub node: Option<&'a str>,
    pub message: Option<String>,
    pub chosen: Option<&'a str>,
    /// Where it fits nowhere and priorities are used: the node and
    /// replicas DefaultPreemption would remove.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preemption: Option<PreemptionDocument<'a>>,
    /// Pending, with node groups declared: what they would do for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_group: Option<&'a str>,
    pub nodes: Vec<NodeDocument<'a>>,
}

#[derive(Serialize)]
pub struct PreemptionDocument<'a> {
    pub node: &'a str,
    pub victims: Vec<&'a str>,
}

#[derive(Serialize)]
pub struct NodeDocument<'a> {
    pub name: &'a str,
    pub filters: Vec<FilterDocument>,
    pub scores: Vec<ScoreDocument>,
    pub total: Option<i64>,
    pub remedies: Vec<String>,
}

#[derive(Serialize)]
pub struct FilterDocument {
    pub plugin: &'static str,
    pub verdict: &'static str,
    pub reason: Option<String>,
}

#[derive(Serialize)]
pub struct ScoreDocument {
    pub plugin: &'static str,
    pub score: i64,
}

fn message(explanation: &Explanation) -> Option<String> {
    let replica = &explanation.replica;
    if replica.phase == Phase::Terminating && replica.reason.is_some() {
        return replica.reason.clone();
    }
    if crate::reconcile::admission::is_rejected(replica) {
        return Some(format!(
            "{}: refused by the kubelet of {}, the node it names (spec.nodeName)",
            replica.reason.as_deref().unwrap_or_default(),
            replica.node.as_deref().unwrap_or_default()
        ));
    }
    if crate::scheduler::plugins::scheduling_gates::is_gated(replica.reason.as_deref()) {
        return replica.reason.clone();
    }
    match &explanation.evaluation.result {
        Err(error) => Some(error.to_string()),
        Ok(_) => explanation.replica.reason.clone(),
    }
}

pub fn document(explanation: &Explanation) -> ExplanationDocument<'_> {
    let remedies = |node: &str| {
        explanation
            .remedies
            .iter()
            .find(|(n, _)| n == node)
            .map(|(_, r)| r.clone())
            .unwrap_or_default()
    };
    ExplanationDocument {
        api_version: crate::model::state::API_VERSION,
        kind: "ReplicaExplanation",
        name: &explanation.replica.name,
        workload: explanation.replica.workload.to_string(),
        phase: explanation.replica.phase,
        node: explanation.replica.node.as_deref(),
        message: message(explanation),
        chosen: explanation.chosen.as_deref(),
        preemption: match &explanation.preemption {
            Some(crate::explain::Preemption::Would { node, victims }) => Some(PreemptionDocument {
                node,
                victims: victims.iter().map(|(name, _)| name.as_str()).collect(),
            }),
            _ => None,
        },
        node_group: explanation.node_group.as_deref(),
        nodes: explanation
            .evaluation
            .nodes
            .iter()
            .map(|verdict| NodeDocument {
                name: &verdict.node,
                filters: verdict
                    .filters
                    .iter()
                    .map(|(plugin, result)| FilterDocument {
                        plugin,
                        verdict: if result.is_ok() { "Passed" } else { "Failed" },
                        reason: result.as_ref().err().map(|reasons| {
                            reasons
                                .iter()
                                .map(ToString::to_string)
                                .collect::<Vec<_>>()
                                .join(", ")
                        }),
                    })
                    .collect(),
                scores: verdict
                    .scores
                    .iter()
                    .map(|(plugin, score)| ScoreDocument {
                        plugin,
                        score: *score,
                    })
                    .collect(),
                total: verdict.total,
                remedies: remedies(&verdict.node),
            })
            .collect(),
    }
}

fn short(plugin: &str) -> &str {
    match plugin {
        "TaintToleration" => "TAINTS",
        "NodeAffinity" => "NODE-AFFINITY",
        "NodeResourcesFit" => "RESOURCES",
        "PodTopologySpread" => "SPREAD",
        "InterPodAffinity" => "POD-AFFINITY",
        "NodeResourcesBalancedAllocation" => "BALANCE",
        other => other,
    }
}

/// Remedies printed before the rest is summarized.
const MAX_REMEDIES: usize = 12;

pub fn text(explanation: &Explanation, events: &[&Event]) -> String {
    let replica = &explanation.replica;
    let mut out = format!(
        "Replica:   {}\nWorkload:  {} (revision {})\nPhase:     {:?}\nNode:      {}\n",
        replica.name,
        replica.workload,
        replica.revision,
        replica.phase,
        replica.node.as_deref().unwrap_or("<none>")
    );
    if let Some(message) = message(explanation) {
        out.push_str(&format!("Message:   {message}\n"));
    }
    out.push('\n');
    out.push_str(&verdicts(explanation));
    if !events.is_empty() {
        out.push_str("\nEvents:\n");
        let rows = events
            .iter()
            .map(|e| {
                vec![
                    super::duration(e.time),
                    format!("{:?}", e.kind),
                    e.reason.to_string(),
                    e.message.clone(),
                ]
            })
            .collect();
        out.push_str(&table(&["TIME", "TYPE", "REASON", "MESSAGE"], rows));
    }
    out
}

/// Every node's verdict and scores, the winner marked, and for a pending
/// replica what would make it schedulable.
pub fn verdicts(explanation: &Explanation) -> String {
    let replica = &explanation.replica;
    let mut out = String::new();
    let plugins: Vec<&'static str> = explanation
        .evaluation
        .nodes
        .iter()
        .find(|v| v.total.is_some())
        .map(|v| v.scores.iter().map(|(p, _)| *p).collect())
        .unwrap_or_default();
    let mut headers = vec!["", "NODE", "FILTERS"];
    headers.extend(plugins.iter().map(|p| short(p)));
    headers.push("TOTAL");
    let rows = explanation
        .evaluation
        .nodes
        .iter()
        .map(|verdict| {
            let mark = if explanation.chosen.as_deref() == Some(verdict.node.as_str()) {
                "*"
            } else {
                ""
            };
            let filters = match verdict.filters.iter().find(|(_, r)| r.is_err()) {
                Some((plugin, Err(reasons))) => format!(
                    "{plugin}: {}",
                    reasons
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                _ => "passed".to_string(),
            };
            let mut row = vec![mark.to_string(), verdict.node.clone(), filters];
            for plugin in &plugins {
                row.push(
                    verdict
                        .scores
                        .iter()
                        .find(|(p, _)| p == plugin)
                        .map_or(String::new(), |(_, s)| s.to_string()),
                );
            }
            row.push(verdict.total.map_or(String::new(), |t| t.to_string()));
            row
        })
        .collect();
    out.push_str(&table(&headers, rows));
    let gated = crate::scheduler::plugins::scheduling_gates::is_gated(replica.reason.as_deref());
    let rejected = crate::reconcile::admission::is_rejected(replica);
    match (&explanation.chosen, replica.node.as_deref()) {
        _ if rejected => {}
        (Some(chosen), None) if gated => out.push_str(&format!(
            "\n* gated: the scheduler does not consider it until its scheduling gates are removed (it would go to {chosen} now).\n"
        )),
        (Some(chosen), None) => out.push_str(&format!("\n* the scheduler would place it on {chosen} now.\n")),
        (Some(chosen), Some(node)) if chosen == node => {
            out.push_str(&format!("\n* {node} is still the best node for it.\n"))
        }
        (Some(chosen), Some(node)) => out.push_str(&format!(
            "\n* runs on {node}; placed now, it would go to {chosen} (replicas are not moved once running).\n"
        )),
        (None, _) => {}
    }
    if let Some(outlook) = &explanation.node_group {
        out.push_str(&format!("\n* {outlook}.\n"));
    }
    if let Some(crate::explain::Preemption::Would { node, victims }) = &explanation.preemption {
        let victims: Vec<String> = victims
            .iter()
            .map(|(name, priority)| format!("{name} (priority {priority})"))
            .collect();
        out.push_str(&format!(
            "\n* it would preempt {} on {node} (DefaultPreemption).\n",
            victims.join(", ")
        ));
    }
    if replica.node.is_none() && !explanation.remedies.is_empty() {
        out.push_str("\nTo make it schedulable, one of:\n");
        let all: Vec<&String> = explanation.remedies.iter().flat_map(|(_, r)| r).collect();
        for remedy in all.iter().take(MAX_REMEDIES) {
            out.push_str(&format!("  - {remedy}\n"));
        }
        if all.len() > MAX_REMEDIES {
            out.push_str(&format!(
                "  … and {} more (-o json lists them all)\n",
                all.len() - MAX_REMEDIES
            ));
        }
    }
    out
}
