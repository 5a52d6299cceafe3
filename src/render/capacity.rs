//! `orch capacity`: the headroom of each workload, as a table and as the
//! `Capacity` document.

use super::tables::table;
use crate::analysis::capacity::Headroom;
use crate::model::state::API_VERSION;
use serde::Serialize;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CapacityDocument<'a> {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub probe_limit: usize,
    pub workloads: Vec<HeadroomDocument<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HeadroomDocument<'a> {
    pub object: &'a str,
    pub replicas: i32,
    /// Null for a DaemonSet (one replica per eligible node).
    pub fits_more: Option<usize>,
    /// The probe reached its limit: at least `fitsMore`.
    pub capped: bool,
    pub limited_by: Vec<ReasonDocument>,
    /// The scheduler's whole message for the first extra replica that fits nowhere.
    pub message: Option<String>,
    /// Where priorities are used: how many more beyond `fitsMore` by
    /// preempting lower-priority replicas.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_preemption: Option<usize>,
    /// Where node groups are declared: how many more fit once every group
    /// has grown to its maxSize.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub with_node_groups: Option<GrownDocument>,
}

#[derive(Serialize)]
pub struct GrownDocument {
    #[serde(rename = "fitsMore")]
    pub fits_more: Option<usize>,
    pub capped: bool,
}

/// The grown fleet's headroom of the workload `object`.
fn grown_of<'a>(grown: Option<&'a [Headroom]>, object: &str) -> Option<&'a Headroom> {
    grown?.iter().find(|g| g.object == object)
}

#[derive(Serialize)]
pub struct ReasonDocument {
    pub reason: String,
    pub nodes: usize,
}

pub fn document<'a>(
    headroom: &'a [Headroom],
    grown: Option<&[Headroom]>,
    probe_limit: usize,
) -> CapacityDocument<'a> {
    CapacityDocument {
        api_version: API_VERSION,
        kind: "Capacity",
        probe_limit,
        workloads: headroom
            .iter()
            .map(|h| HeadroomDocument {
                object: &h.object,
                replicas: h.replicas,
                fits_more: h.fits,
                capped: h.capped,
                limited_by: h
                    .limited_by()
                    .into_iter()
                    .map(|(reason, nodes)| ReasonDocument {
                        reason: reason.to_string(),
                        nodes,
                    })
                    .collect(),
                message: h.limit.as_ref().map(ToString::to_string),
                by_preemption: h.by_preemption,
                with_node_groups: grown_of(grown, &h.object).map(|g| GrownDocument {
                    fits_more: g.fits,
                    capped: g.capped,
                }),
            })
            .collect(),
    }
}

pub fn table_of(headroom: &[Headroom], grown: Option<&[Headroom]>) -> String {
    let rows = headroom
        .iter()
        .map(|h| {
            let (fits, limited_by) = match h.fits {
                None => (
                    "-".to_string(),
                    "one replica per eligible node (DaemonSet)".to_string(),
                ),
                Some(n) if h.capped => (format!("≥ {n}"), "-".to_string()),
                Some(n) => (
                    match h.by_preemption {
                        Some(more) if more > 0 => format!("{n} (+{more} by preemption)"),
                        _ => n.to_string(),
                    },
                    h.limited_by()
                        .iter()
                        .map(|(reason, nodes)| format!("{nodes} {reason}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            };
            let mut row = vec![h.object.clone(), h.replicas.to_string(), fits];
            if grown.is_some() {
                row.push(
                    match grown_of(grown, &h.object).map(|g| (g.fits, g.capped)) {
                        Some((Some(n), true)) => format!("≥ {n}"),
                        Some((Some(n), false)) => n.to_string(),
                        _ => "-".to_string(),
                    },
                );
            }
            row.push(limited_by);
            row
        })
        .collect();
    if grown.is_some() {
        return table(
            &[
                "WORKLOAD",
                "REPLICAS",
                "FITS MORE",
                "WITH NODE GROUPS AT MAX",
                "LIMITED BY",
            ],
            rows,
        );
    }
    table(&["WORKLOAD", "REPLICAS", "FITS MORE", "LIMITED BY"], rows)
}
