//! The HorizontalPodAutoscalers of a report, on the frames' time axis: per
//! HPA its target's demand (`orch.dev/demand`) where it changes on the
//! clock, and the HPA's desired and current replicas where they change
//! from one frame to the next. Both are change lists, so a run of many
//! HPAs over many steps stays small, and nothing is recorded without an
//! HPA. The demand is kept as the curve's own breakpoints rather than its
//! value at each step: a fall between two steps (the demand ends at 1h40m,
//! the next step is the scale-down at 1h45m) is drawn when it happens.

use crate::autoscale::demand::{Demand, MetricResource, Point};
use crate::model::state::State;
use crate::model::workload::{Desired, ObjectRef};
use serde::Serialize;
use std::collections::HashMap;

/// One HPA's series.
#[derive(Debug, Default, Serialize)]
pub struct Autoscaler {
    /// `HorizontalPodAutoscaler/namespace/name`.
    pub name: String,
    /// `Kind/namespace/name` of the workload it scales.
    pub target: String,
    pub min: i32,
    pub max: i32,
    /// The resource its first metric names, whose demand is drawn.
    pub resource: String,
    /// The target's total demand of `resource` (a milli-value): `[time,
    /// milli]` at the frame the HPA first appears and wherever the curve
    /// changes up to the last frame; empty when the target has no curve for
    /// `resource` (the HPA has no metrics then).
    pub demand: Vec<(u64, i64)>,
    /// `[frame, desired, current]`: at the frame the HPA first appears and
    /// at each frame where either count changes.
    pub counts: Vec<(u32, i32, i32)>,
}

/// One HPA after a frame: its id, its target, desired and current replicas.
pub struct Sample<'s> {
    pub name: &'s str,
    pub target: &'s str,
    pub desired: i32,
    pub current: i32,
}

/// Records the series frame by frame.
#[derive(Default)]
pub struct Series {
    index: HashMap<String, usize>,
    /// Per HPA (as in the data): the demand curve drawn, if any.
    curves: Vec<Option<Vec<Point>>>,
    /// The time of the last frame recorded.
    time: Option<u64>,
}

impl Series {
    /// The HPAs after frame `frame` at `time`: demand points up to `time`,
    /// counts that changed.
    pub fn record<'s>(
        &mut self,
        out: &mut Vec<Autoscaler>,
        desired: &Desired,
        state: &State,
        (frame, time): (u32, u64),
        samples: impl IntoIterator<Item = Sample<'s>>,
    ) {
        // The curves' changes since the last frame, of the HPAs already met.
        if let Some(before) = self.time
            && time > before
        {
            for (series, curve) in out.iter_mut().zip(&self.curves) {
                for point in curve.iter().flatten() {
                    if point.at > before && point.at <= time {
                        push_demand(&mut series.demand, point.at, point.milli);
                    }
                }
            }
        }
        self.time = Some(time);
        for sample in samples {
            let i = match self.index.get(sample.name) {
                Some(&i) => i,
                None => self.add(out, desired, state, &sample, time),
            };
            let counts = &mut out[i].counts;
            if counts
                .last()
                .is_none_or(|&(_, d, c)| (d, c) != (sample.desired, sample.current))
            {
                counts.push((frame, sample.desired, sample.current));
            }
        }
    }

    /// An HPA met for the first time at `time`: its bounds and metric from
    /// the state's record of it, its target's curve from the manifests.
    fn add(
        &mut self,
        out: &mut Vec<Autoscaler>,
        desired: &Desired,
        state: &State,
        sample: &Sample,
        time: u64,
    ) -> usize {
        // `HorizontalPodAutoscaler/namespace/name`; the records are sorted.
        let mut parts = sample.name.splitn(3, '/').skip(1);
        let key = (
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
        );
        let record = state
            .autoscalers
            .binary_search_by(|r| (r.namespace.as_str(), r.name.as_str()).cmp(&key))
            .ok()
            .map(|at| &state.autoscalers[at]);
        let resource = record
            .and_then(|r| r.metrics.first())
            .map_or("cpu", |m| m.resource.as_str())
            .to_string();
        let curve = ObjectRef::parse(sample.target, "default")
            .and_then(|target| desired.demands.get(&target))
            .zip(MetricResource::parse(&resource))
            .and_then(|(demand, resource): (&Demand, _)| demand.curve(resource))
            .map(<[Point]>::to_vec);
        let mut series = Autoscaler {
            name: sample.name.to_string(),
            target: sample.target.to_string(),
            min: record.map_or(0, |r| r.min_replicas),
            max: record.map_or(0, |r| r.max_replicas),
            resource,
            ..Autoscaler::default()
        };
        if let Some(curve) = &curve {
            let now = curve
                .iter()
                .take_while(|p| p.at <= time)
                .last()
                .map_or(0, |p| p.milli);
            series.demand.push((time, now));
        }
        out.push(series);
        self.curves.push(curve);
        self.index.insert(sample.name.to_string(), out.len() - 1);
        out.len() - 1
    }
}

/// A point of a curve, unless the value stays what it was.
fn push_demand(demand: &mut Vec<(u64, i64)>, at: u64, milli: i64) {
    if demand.last().is_none_or(|&(_, last)| last != milli) {
        demand.push((at, milli));
    }
}
