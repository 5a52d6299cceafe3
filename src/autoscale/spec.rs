//! A HorizontalPodAutoscaler (autoscaling/v2) as the controller reads it:
//! validated, with the API server's defaults applied (minReplicas 1, the cpu
//! 80% metric when none is listed, and — only when `behavior` is written —
//! `GenerateHPAScaleUpRules` / `GenerateHPAScaleDownRules`).

use super::demand::MetricResource;

/// `Pods` adds or removes a number of replicas per period, `Percent` a share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyType {
    Pods,
    Percent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScalingPolicy {
    pub kind: PolicyType,
    pub value: i32,
    pub period_seconds: i32,
}

/// `selectPolicy`: the policy allowing the biggest change (`Max`), the
/// smallest (`Min`), or none at all (`Disabled`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectPolicy {
    Max,
    Min,
    Disabled,
}

impl SelectPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            SelectPolicy::Max => "Max",
            SelectPolicy::Min => "Min",
            SelectPolicy::Disabled => "Disabled",
        }
    }
}

/// `HPAScalingRules` after defaulting. The scale-down window may stay unset:
/// the controller fills it with its own flag (300 s) at each sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScalingRules {
    pub stabilization_window_seconds: Option<i32>,
    pub select_policy: SelectPolicy,
    pub policies: Vec<ScalingPolicy>,
}

impl ScalingRules {
    /// `GenerateHPAScaleUpRules(nil)`: 4 pods or 100% per 15 s, no window.
    pub fn default_scale_up() -> ScalingRules {
        ScalingRules {
            stabilization_window_seconds: Some(0),
            select_policy: SelectPolicy::Max,
            policies: vec![
                ScalingPolicy {
                    kind: PolicyType::Pods,
                    value: 4,
                    period_seconds: 15,
                },
                ScalingPolicy {
                    kind: PolicyType::Percent,
                    value: 100,
                    period_seconds: 15,
                },
            ],
        }
    }

    /// `GenerateHPAScaleDownRules(nil)`: 100% per 15 s; the window is the controller's.
    pub fn default_scale_down() -> ScalingRules {
        ScalingRules {
            stabilization_window_seconds: None,
            select_policy: SelectPolicy::Max,
            policies: vec![ScalingPolicy {
                kind: PolicyType::Percent,
                value: 100,
                period_seconds: 15,
            }],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Behavior {
    pub scale_up: ScalingRules,
    pub scale_down: ScalingRules,
}

/// A `Resource` metric's target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricTarget {
    /// `averageUtilization`: percent of the pods' requests.
    Utilization(i32),
    /// `averageValue`, as a milli-value.
    AverageValue(i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceMetric {
    pub resource: MetricResource,
    pub target: MetricTarget,
}

/// `scaleTargetRef`, as written (the kind is checked against the manifests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleTargetRef {
    pub api_version: String,
    pub kind: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoscalerSpec {
    pub scale_target_ref: ScaleTargetRef,
    pub min_replicas: i32,
    pub max_replicas: i32,
    pub metrics: Vec<ResourceMetric>,
    /// `None` when the manifest has no `behavior`: the controller then takes
    /// its older path (`normalizeDesiredReplicas`).
    pub behavior: Option<Behavior>,
}

/// One HorizontalPodAutoscaler of the desired state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Autoscaler {
    pub namespace: String,
    pub name: String,
    pub spec: AutoscalerSpec,
}

impl Autoscaler {
    /// `HorizontalPodAutoscaler/namespace/name`.
    pub fn id(&self) -> String {
        format!("HorizontalPodAutoscaler/{}/{}", self.namespace, self.name)
    }
}
