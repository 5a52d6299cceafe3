//! The profile as the batch layer sees it: each plugin's place, read from
//! what the plugin declares (`reads`), with its weight from the profile.

use crate::scheduler::{Reads, Scheduler};

/// The profile's plugins sorted by what they read.
pub(super) struct Roles {
    /// Filters and scorers (positions in the profile) that read the node alone.
    pub node_filters: Vec<usize>,
    pub node_scorers: Vec<usize>,
    /// Filters and scorers that also read the node's usage.
    pub usage_filters: Vec<usize>,
    pub usage_scorers: Vec<usize>,
    /// The domain-counting plugins present, with the scorers' weights.
    pub spread_filter: bool,
    pub spread_weight: Option<i64>,
    pub affinity_filter: bool,
    pub affinity_weight: Option<i64>,
    /// A plugin this layer cannot batch: every run takes the plain path.
    pub unbatched: Option<&'static str>,
}

const SPREAD: &str = "PodTopologySpread";
const AFFINITY: &str = "InterPodAffinity";

impl Roles {
    pub fn of(scheduler: &Scheduler) -> Roles {
        let mut roles = Roles {
            node_filters: Vec::new(),
            node_scorers: Vec::new(),
            usage_filters: Vec::new(),
            usage_scorers: Vec::new(),
            spread_filter: false,
            spread_weight: None,
            affinity_filter: false,
            affinity_weight: None,
            unbatched: None,
        };
        for (i, plugin) in scheduler.filters().iter().enumerate() {
            match (plugin.reads(), plugin.name()) {
                (Reads::Node, _) => roles.node_filters.push(i),
                (Reads::NodeUsage, _) => roles.usage_filters.push(i),
                (Reads::Domains, SPREAD) => roles.spread_filter = true,
                (Reads::Domains, AFFINITY) => roles.affinity_filter = true,
                _ => roles.unbatched = roles.unbatched.or(Some(plugin.name())),
            }
        }
        for (i, scorer) in scheduler.scorers().iter().enumerate() {
            match (scorer.plugin.reads(), scorer.plugin.name()) {
                (Reads::Node, _) => roles.node_scorers.push(i),
                (Reads::NodeUsage, _) => roles.usage_scorers.push(i),
                (Reads::Domains, SPREAD) => roles.spread_weight = Some(scorer.weight),
                (Reads::Domains, AFFINITY) => roles.affinity_weight = Some(scorer.weight),
                _ => roles.unbatched = roles.unbatched.or(Some(scorer.plugin.name())),
            }
        }
        roles
    }
}
