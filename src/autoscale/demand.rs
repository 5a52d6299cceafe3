//! `orch.dev/demand`: the load a workload carries, the one input Kubernetes
//! has no object for. A piecewise-constant total per resource on the simulated
//! clock — `"cpu: 0s=500m, 2m=3, 20m=500m; memory: 0s=1Gi"` — that the
//! autoscaling loop splits evenly over the workload's Ready replicas, as
//! metrics-server would report it per pod.

use crate::manifest::parse_duration;
use crate::model::quantity::Quantity;
use std::fmt;

/// The annotation's key.
pub const DEMAND: &str = "orch.dev/demand";

/// The resources a demand curve (and a `Resource` metric) may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MetricResource {
    Cpu,
    Memory,
}

impl MetricResource {
    pub fn as_str(self) -> &'static str {
        match self {
            MetricResource::Cpu => "cpu",
            MetricResource::Memory => "memory",
        }
    }

    pub fn parse(text: &str) -> Option<MetricResource> {
        match text {
            "cpu" => Some(MetricResource::Cpu),
            "memory" => Some(MetricResource::Memory),
            _ => None,
        }
    }
}

impl fmt::Display for MetricResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One resource's curve: from `at` (simulated seconds) on, the total is
/// `milli` (Kubernetes' `MilliValue`: millicores, milli-bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Point {
    pub at: u64,
    pub milli: i64,
}

/// A workload's demand: a curve per resource; before a curve's first point
/// the total is zero.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Demand {
    pub cpu: Vec<Point>,
    pub memory: Vec<Point>,
}

impl Demand {
    /// The curve of one resource, if the annotation names it.
    pub fn curve(&self, resource: MetricResource) -> Option<&[Point]> {
        let curve = match resource {
            MetricResource::Cpu => &self.cpu,
            MetricResource::Memory => &self.memory,
        };
        (!curve.is_empty()).then_some(curve.as_slice())
    }

    /// The total of `resource` at simulated second `now`; `None` when the
    /// annotation has no curve for it (no metrics, as in Kubernetes).
    pub fn total(&self, resource: MetricResource, now: u64) -> Option<i64> {
        let curve = self.curve(resource)?;
        Some(
            curve
                .iter()
                .take_while(|p| p.at <= now)
                .last()
                .map_or(0, |p| p.milli),
        )
    }

    /// The next instant after `now` at which any curve changes.
    pub fn next_change(&self, now: u64) -> Option<u64> {
        self.cpu
            .iter()
            .chain(&self.memory)
            .map(|p| p.at)
            .filter(|&at| at > now)
            .min()
    }
}

/// Why an annotation does not parse (the manifest layer adds the location).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid value: \"{text}\": {reason}")]
pub struct DemandError {
    pub text: String,
    pub reason: String,
}

/// Parse `"cpu: 0s=500m, 2m=3; memory: 0s=1Gi"`.
pub fn parse(text: &str) -> Result<Demand, DemandError> {
    let fail = |reason: String| DemandError {
        text: text.to_string(),
        reason,
    };
    let mut demand = Demand::default();
    if text.trim().is_empty() {
        return Err(fail(
            "must list curves such as \"cpu: 0s=500m, 2m=3; memory: 0s=1Gi\"".into(),
        ));
    }
    for section in text.split(';') {
        let section = section.trim();
        if section.is_empty() {
            return Err(fail("empty section between ';'".into()));
        }
        let Some((name, points)) = section.split_once(':') else {
            return Err(fail(format!(
                "section \"{section}\" must read \"<resource>: <time>=<quantity>, …\""
            )));
        };
        let name = name.trim();
        let resource = MetricResource::parse(name).ok_or_else(|| {
            fail(format!(
                "unknown resource \"{name}\": supported values: \"cpu\", \"memory\""
            ))
        })?;
        let curve = match resource {
            MetricResource::Cpu => &mut demand.cpu,
            MetricResource::Memory => &mut demand.memory,
        };
        if !curve.is_empty() {
            return Err(fail(format!("resource \"{name}\" is listed twice")));
        }
        for point in points.split(',') {
            let point = point.trim();
            let Some((at, quantity)) = point.split_once('=') else {
                return Err(fail(format!(
                    "point \"{point}\" must read <time>=<quantity>, such as 2m=3"
                )));
            };
            let (at, quantity) = (at.trim(), quantity.trim());
            let at = parse_duration(at)
                .ok_or_else(|| fail(format!("\"{at}\" is not a duration such as 0s, 90s or 2m")))?;
            let value = Quantity::parse(quantity).map_err(|_| {
                fail(format!(
                    "\"{quantity}\" is not a quantity such as 500m, 3 or 1Gi"
                ))
            })?;
            if value.is_negative() {
                return Err(fail(format!("\"{quantity}\" must be non-negative")));
            }
            let milli = value
                .checked_milli_value()
                .ok_or_else(|| fail(format!("\"{quantity}\" is too large")))?;
            if let Some(last) = curve.last()
                && last.at >= at
            {
                return Err(fail(format!(
                    "times must increase: \"{point}\" comes after {}s",
                    last.at
                )));
            }
            curve.push(Point { at, milli });
        }
    }
    Ok(demand)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_parses_into_two_curves() {
        let demand = parse("cpu: 0s=500m, 2m=3, 20m=500m; memory: 0s=1Gi").unwrap();
        assert_eq!(
            demand.cpu,
            vec![
                Point { at: 0, milli: 500 },
                Point {
                    at: 120,
                    milli: 3000
                },
                Point {
                    at: 1200,
                    milli: 500
                },
            ]
        );
        assert_eq!(
            demand.memory,
            vec![Point {
                at: 0,
                milli: 1_073_741_824_000
            }]
        );
    }

    #[test]
    fn the_total_is_piecewise_constant() {
        let demand = parse("cpu: 30s=1, 2m=3").unwrap();
        assert_eq!(demand.total(MetricResource::Cpu, 0), Some(0));
        assert_eq!(demand.total(MetricResource::Cpu, 29), Some(0));
        assert_eq!(demand.total(MetricResource::Cpu, 30), Some(1000));
        assert_eq!(demand.total(MetricResource::Cpu, 119), Some(1000));
        assert_eq!(demand.total(MetricResource::Cpu, 120), Some(3000));
        assert_eq!(demand.total(MetricResource::Cpu, 99_999), Some(3000));
        assert_eq!(demand.total(MetricResource::Memory, 10), None);
        assert_eq!(demand.next_change(30), Some(120));
        assert_eq!(demand.next_change(120), None);
    }

    #[test]
    fn bad_annotations_say_what_is_wrong() {
        let reason = |text: &str| parse(text).unwrap_err().reason;
        assert!(reason("").contains("must list curves"));
        assert!(reason("cpu 0s=1").contains("must read"));
        assert!(reason("gpu: 0s=1").contains("unknown resource \"gpu\""));
        assert!(reason("cpu: 0s=1; cpu: 1m=2").contains("listed twice"));
        assert!(reason("cpu: soon=1").contains("\"soon\" is not a duration"));
        assert!(reason("cpu: 0s=lots").contains("\"lots\" is not a quantity"));
        assert!(reason("cpu: 0s=-1").contains("non-negative"));
        assert!(reason("cpu: 2m=1, 1m=2").contains("times must increase"));
        assert!(reason("cpu: 0s=1;").contains("empty section"));
        assert!(reason("cpu: 0s").contains("<time>=<quantity>"));
        assert_eq!(
            parse("cpu: x=1").unwrap_err().to_string(),
            "Invalid value: \"cpu: x=1\": \"x\" is not a duration such as 0s, 90s or 2m"
        );
    }
}
