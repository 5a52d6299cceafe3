//! Plain data shared by every layer: quantities and resources, labels and
//! selectors, pod scheduling fields, the desired state (manifests) and the
//! observed state (the state file).

pub mod condition;
pub mod cron;
pub mod event;
pub mod hash;
pub mod intern;
pub mod job;
pub mod json;
pub mod labels;
pub mod node_group;
pub mod pod;
pub mod priority;
pub mod quantity;
pub mod resources;
pub mod shared;
pub mod state;
pub mod stateful;
pub mod storage;
pub mod time;
pub mod words;
pub mod workload;
