//! STUB: replaced by the scheduler framework.
pub mod snapshot;
use crate::model::pod::PodSpec;
use snapshot::Snapshot;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ScoringStrategy {
    #[default]
    LeastAllocated,
    MostAllocated,
}

pub struct Scheduler;
pub struct Placement {
    pub node: usize,
}
#[derive(Debug, thiserror::Error)]
#[error("0/{0} nodes are available")]
pub struct FitError(usize);

impl Scheduler {
    pub fn new(_s: ScoringStrategy) -> Scheduler {
        Scheduler
    }
    pub fn schedule(&self, pod: &PodSpec, snapshot: &Snapshot) -> Result<Placement, FitError> {
        for (i, n) in snapshot.nodes.iter().enumerate() {
            if !n.unschedulable
                && n.ready
                && n.pods < n.allocatable.pods
                && n.requested.milli_cpu + pod.requests.milli_cpu
                    <= n.allocatable.resources.milli_cpu
            {
                return Ok(Placement { node: i });
            }
        }
        Err(FitError(snapshot.nodes.len()))
    }
}
