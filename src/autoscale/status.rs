//! What the state file keeps of each HorizontalPodAutoscaler between runs:
//! the spec the last sync read (so commands without `-f` can show it), the
//! status the controller writes (`currentReplicas`, `desiredReplicas`,
//! `lastScaleTime`, `currentMetrics`, conditions) and the controller's
//! memory (`hpa::Memory`). Every field has a default, so a state file
//! written before autoscaling existed loads unchanged.

use super::demand::MetricResource;
use super::hpa::{Condition, Memory, MetricValue};
use super::spec::{Autoscaler, MetricTarget};
use serde::{Deserialize, Serialize};

/// One HPA in the state, sorted by namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoscalerState {
    pub namespace: String,
    pub name: String,
    /// `scaleTargetRef` as `Kind/name`.
    pub target: String,
    pub min_replicas: i32,
    pub max_replicas: i32,
    #[serde(default)]
    pub metrics: Vec<MetricSpecRecord>,
    /// Simulated second the HPA was first synced (its age).
    #[serde(default)]
    pub created_at: u64,
    #[serde(default)]
    pub status: AutoscalerStatus,
    #[serde(default)]
    pub memory: Memory,
}

/// A metric's target as `describe` and `get` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricSpecRecord {
    pub resource: String,
    /// A percent of the request, or `None` for an `AverageValue` target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average_utilization: Option<i32>,
    /// Milli-value of an `AverageValue` target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average_value: Option<i64>,
}

/// A metric's current value (`status.currentMetrics`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CurrentMetric {
    pub resource: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average_utilization: Option<i32>,
    /// Milli-value.
    pub average_value: i64,
}

/// `HorizontalPodAutoscalerStatus`, in simulated seconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoscalerStatus {
    /// The target's replicas (not terminating) at the last sync.
    #[serde(default)]
    pub current_replicas: i32,
    /// The count the HPA set on the target: its `spec.replicas` while the HPA exists.
    #[serde(default)]
    pub desired_replicas: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_scale_time: Option<u64>,
    /// When the controller last synced it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync: Option<u64>,
    #[serde(default)]
    pub current_metrics: Vec<CurrentMetric>,
    #[serde(default)]
    pub conditions: Vec<Condition>,
    /// The last sync changed nothing, held nothing back, and saw every
    /// replica of the target Ready: more syncs on the same demand change
    /// nothing, so a run without `--advance` need not wait for them.
    #[serde(default)]
    pub settled: bool,
    /// Settled but for the target's replicas not all being there yet: the
    /// HPA waits for their count (`current_replicas`) to change rather than
    /// for its next sync (a target blocked before its replicas exist must
    /// not keep the clock running).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub awaiting: bool,
}

impl AutoscalerState {
    /// `HorizontalPodAutoscaler/namespace/name`.
    pub fn id(&self) -> String {
        format!("HorizontalPodAutoscaler/{}/{}", self.namespace, self.name)
    }

    /// A new record for `autoscaler`, its target at `replicas`.
    pub fn new(autoscaler: &Autoscaler, replicas: i32, now: u64) -> AutoscalerState {
        let mut record = AutoscalerState {
            namespace: autoscaler.namespace.clone(),
            name: autoscaler.name.clone(),
            target: String::new(),
            min_replicas: 0,
            max_replicas: 0,
            metrics: Vec::new(),
            created_at: now,
            status: AutoscalerStatus {
                desired_replicas: replicas,
                ..AutoscalerStatus::default()
            },
            memory: Memory::default(),
        };
        record.update_spec(autoscaler);
        record
    }

    /// The spec fields, as the manifests now declare them.
    pub fn update_spec(&mut self, autoscaler: &Autoscaler) {
        let spec = &autoscaler.spec;
        self.target = format!(
            "{}/{}",
            spec.scale_target_ref.kind, spec.scale_target_ref.name
        );
        self.min_replicas = spec.min_replicas;
        self.max_replicas = spec.max_replicas;
        self.metrics = spec
            .metrics
            .iter()
            .map(|m| MetricSpecRecord {
                resource: m.resource.to_string(),
                average_utilization: match m.target {
                    MetricTarget::Utilization(percent) => Some(percent),
                    MetricTarget::AverageValue(_) => None,
                },
                average_value: match m.target {
                    MetricTarget::AverageValue(milli) => Some(milli),
                    MetricTarget::Utilization(_) => None,
                },
            })
            .collect();
    }

    /// The condition of `kind`, if the controller has set it.
    pub fn condition(&self, kind: &str) -> Option<&Condition> {
        self.status.conditions.iter().find(|c| c.kind == kind)
    }

    /// `ScalingLimited` is True: the count the metrics ask for is out of
    /// `[minReplicas, maxReplicas]` (or the rate limits hold it back).
    pub fn limited(&self) -> Option<&Condition> {
        self.condition("ScalingLimited")
            .filter(|c| c.status == "True")
    }

    /// At `maxReplicas` with the metrics asking for more (`TooManyReplicas`).
    pub fn at_max(&self) -> bool {
        self.limited()
            .is_some_and(|c| c.reason == "TooManyReplicas")
            && self.status.desired_replicas >= self.max_replicas
    }
}

impl From<MetricValue> for CurrentMetric {
    fn from(value: MetricValue) -> Self {
        CurrentMetric {
            resource: value.resource.to_string(),
            average_utilization: value.average_utilization,
            average_value: value.average_value,
        }
    }
}

/// A quantity of `resource` from a milli-value, as kubectl prints it
/// (`250m`, `2`, `512Mi`).
pub fn quantity(resource: &str, milli: i64) -> String {
    match MetricResource::parse(resource) {
        Some(MetricResource::Memory) if milli % 1000 == 0 => {
            crate::model::quantity::format_binary(milli / 1000)
        }
        _ => crate::model::quantity::format_milli(milli),
    }
}
