//! `orch get nodegroups`: each NodeGroup's sizes and what its autoscaler is
//! doing (members on their way, members found unneeded), from the state.

use super::listing::{Listing, Shape, fill};
use crate::autoscale::nodegroup::controller::members;
use crate::model::state::State;
use crate::model::time::duration;
use serde::Serialize;
use std::collections::BTreeMap;

/// One group of `get nodegroups -o json`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeGroupItem {
    pub name: String,
    pub min_size: u32,
    pub max_size: u32,
    /// Members in the fleet (joined, not leaving).
    pub current: usize,
    /// Members asked for and not joined: node → the second it joins.
    pub provisioning: BTreeMap<String, u64>,
    /// Members found unneeded: node → since when.
    pub unneeded: BTreeMap<String, u64>,
    pub last_scale_up: Option<u64>,
    pub provision_delay: u64,
    pub nodes: Vec<String>,
}

pub fn items(state: &State) -> Vec<NodeGroupItem> {
    state
        .node_groups
        .iter()
        .map(|g| {
            let nodes: Vec<String> = members(state, &g.name)
                .into_iter()
                .map(|n| n.name.clone())
                .collect();
            NodeGroupItem {
                name: g.name.clone(),
                min_size: g.min_size,
                max_size: g.max_size,
                current: nodes.len(),
                provisioning: g
                    .provisioning
                    .iter()
                    .map(|p| (p.node.clone(), p.ready_at))
                    .collect(),
                unneeded: g.unneeded.clone(),
                last_scale_up: g.last_scale_up,
                provision_delay: g.provision_delay,
                nodes,
            }
        })
        .collect()
}

pub fn node_groups(state: &State, shape: Shape) -> Listing {
    let mut listing = Listing {
        headers: vec![
            "NAME",
            "MIN",
            "MAX",
            "CURRENT",
            "PROVISIONING",
            "UNNEEDED",
            "LAST SCALE-UP",
        ],
        marker: 3,
        ..Listing::default()
    };
    let now = state.clock;
    fill(
        &mut listing,
        "NodeGroupList",
        items(state),
        |item| item.name.clone(),
        |_, item| {
            vec![
                item.name.clone(),
                item.min_size.to_string(),
                item.max_size.to_string(),
                item.current.to_string(),
                item.provisioning.len().to_string(),
                item.unneeded.len().to_string(),
                item.last_scale_up.map_or("<none>".to_string(), |t| {
                    format!("{} ago", duration(now.saturating_sub(t)))
                }),
            ]
        },
        shape,
    );
    listing
}
