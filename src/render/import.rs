//! `orch import`: what was imported, and how each workload's Kubernetes
//! revisions map onto orch's.

use super::tables::table;
use crate::import::Imported;
use crate::model::state::{API_VERSION, Phase};
use serde::Serialize;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportDocument<'a> {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub clock: u64,
    pub nodes: usize,
    pub replicas: usize,
    pub workloads: Vec<ImportedWorkload<'a>>,
    /// Pods kept as unmanaged replicas, by owner (written only when there are some).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unmanaged: Vec<UnmanagedOwner>,
    pub notices: &'a [String],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnmanagedOwner {
    /// `Kind/namespace/name` of the ownerReference, or `Pod/namespace/name` for a pod without one.
    pub owner: String,
    pub pods: Vec<String>,
}

/// The unmanaged pods grouped by owner, in owner order.
fn unmanaged(state: &crate::model::state::State) -> Vec<UnmanagedOwner> {
    let mut by_owner: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for replica in state.replicas.iter().filter(|r| r.is_unmanaged()) {
        by_owner
            .entry(replica.owner_name())
            .or_default()
            .push(replica.name.to_string());
    }
    by_owner
        .into_iter()
        .map(|(owner, pods)| UnmanagedOwner { owner, pods })
        .collect()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportedWorkload<'a> {
    pub object: String,
    /// `last-applied` (kubectl's annotation) or `live` (the object without server defaults).
    pub spec_from: &'static str,
    pub revisions: Vec<ImportedRevision<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportedRevision<'a> {
    pub revision: u64,
    pub hash: &'a str,
    pub kubernetes_hashes: &'a [String],
    pub replicas: usize,
}

fn spec_from(last_applied: bool) -> &'static str {
    if last_applied { "last-applied" } else { "live" }
}

pub fn document(imported: &Imported) -> ImportDocument<'_> {
    ImportDocument {
        api_version: API_VERSION,
        kind: "ImportResult",
        clock: imported.state.clock,
        nodes: imported.state.nodes.len(),
        replicas: imported.state.replicas.len(),
        workloads: imported
            .workloads
            .iter()
            .map(|w| ImportedWorkload {
                object: w.id.to_string(),
                spec_from: spec_from(w.last_applied),
                revisions: w
                    .revisions
                    .iter()
                    .map(|(revision, hash, keys, replicas)| ImportedRevision {
                        revision: *revision,
                        hash,
                        kubernetes_hashes: keys,
                        replicas: *replicas,
                    })
                    .collect(),
            })
            .collect(),
        unmanaged: unmanaged(&imported.state),
        notices: &imported.notices,
    }
}

/// The summary line and the revision table.
pub fn summary(imported: &Imported, state: &str) -> String {
    let s = &imported.state;
    let budgets = s
        .workloads
        .iter()
        .filter(|w| w.kind == crate::model::workload::Kind::PodDisruptionBudget)
        .count();
    let running = s
        .replicas
        .iter()
        .filter(|r| r.phase == Phase::Running)
        .count();
    let kept = unmanaged(s);
    let unmanaged_count: usize = kept.iter().map(|o| o.pods.len()).sum();
    let mut text = format!(
        "imported into {state}: {} nodes, {} workloads, {budgets} disruption budgets, {} replicas ({running} running, {} pending{}); clock {}\n\n",
        s.nodes.len(),
        imported.workloads.len(),
        s.replicas.len(),
        s.replicas
            .iter()
            .filter(|r| r.phase == Phase::Pending)
            .count(),
        if unmanaged_count == 0 {
            String::new()
        } else {
            format!("; {unmanaged_count} unmanaged")
        },
        super::duration(s.clock),
    );
    let mut rows = Vec::new();
    for workload in &imported.workloads {
        for (i, (revision, hash, keys, replicas)) in workload.revisions.iter().rev().enumerate() {
            rows.push(vec![
                if i == 0 {
                    workload.id.to_string()
                } else {
                    String::new()
                },
                if i == 0 {
                    spec_from(workload.last_applied).to_string()
                } else {
                    String::new()
                },
                if i == 0 {
                    format!("{revision} (current)")
                } else {
                    revision.to_string()
                },
                hash.clone(),
                if keys.is_empty() {
                    "<none>".into()
                } else {
                    keys.join(",")
                },
                replicas.to_string(),
            ]);
        }
    }
    text.push_str(&table(
        &[
            "WORKLOAD",
            "SPEC FROM",
            "REVISION",
            "HASH",
            "KUBERNETES HASH",
            "REPLICAS",
        ],
        rows,
    ));
    if !kept.is_empty() {
        text.push_str("\nkept as unmanaged replicas (they hold their nodes' resources and count for selectors and budgets; orch never moves or replaces them):\n\n");
        let rows = kept
            .iter()
            .map(|o| vec![o.owner.clone(), o.pods.len().to_string(), o.pods.join(",")])
            .collect();
        text.push_str(&table(&["OWNER", "PODS", "NAMES"], rows));
    }
    text
}
