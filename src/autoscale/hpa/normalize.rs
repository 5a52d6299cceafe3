//! Normalization: `normalizeDesiredReplicas[WithBehaviors]`,
//! `stabilizeRecommendation[WithBehaviors]`, `convertDesiredReplicasWith…`,
//! `calculateScale{Up,Down}Limit…` and `storeScaleEvent` — what the
//! controller does with the calculator's count, and what it remembers.

use super::DOWNSCALE_STABILISATION_WINDOW;

const SCALE_UP_LIMIT_FACTOR: f64 = 2.0;
const SCALE_UP_LIMIT_MINIMUM: f64 = 4.0;
use super::calculator::ceil_i32;
use crate::autoscale::spec::{Behavior, PolicyType, ScalingRules, SelectPolicy};

/// `timestampedRecommendation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Recommendation {
    pub replicas: i32,
    pub time: i64,
}

/// `timestampedScaleEvent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScaleEvent {
    pub change: i32,
    pub time: i64,
    #[serde(default)]
    pub outdated: bool,
}

/// What the controller remembers of one HPA between syncs.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Memory {
    #[serde(default)]
    pub recommendations: Vec<Recommendation>,
    #[serde(default)]
    pub scale_up_events: Vec<ScaleEvent>,
    #[serde(default)]
    pub scale_down_events: Vec<ScaleEvent>,
}

/// `NormalizationArg`, with the scale-down window already filled in.
#[derive(Debug, Clone)]
pub struct NormalizationArg<'a> {
    pub scale_up: &'a ScalingRules,
    pub scale_down: &'a ScalingRules,
    pub min_replicas: i32,
    pub max_replicas: i32,
    pub current_replicas: i32,
    pub desired_replicas: i32,
}

fn window(rules: &ScalingRules) -> i64 {
    i64::from(
        rules
            .stabilization_window_seconds
            .unwrap_or(DOWNSCALE_STABILISATION_WINDOW as i32),
    )
}

/// `getReplicasChangePerPeriod`.
pub fn get_replicas_change_per_period(period_seconds: i32, events: &[ScaleEvent], now: i64) -> i32 {
    let cutoff = now - i64::from(period_seconds);
    events
        .iter()
        .filter(|e| e.time > cutoff)
        .map(|e| e.change)
        .sum()
}

/// `calculateScaleUpLimitWithScalingRules`.
pub fn calculate_scale_up_limit_with_scaling_rules(
    current_replicas: i32,
    scale_up_events: &[ScaleEvent],
    scale_down_events: &[ScaleEvent],
    rules: &ScalingRules,
    now: i64,
) -> i32 {
    let (mut result, select): (i32, fn(i32, i32) -> i32) = match rules.select_policy {
        SelectPolicy::Disabled => return current_replicas,
        SelectPolicy::Min => (i32::MAX, std::cmp::min),
        SelectPolicy::Max => (i32::MIN, std::cmp::max),
    };
    for policy in &rules.policies {
        let added = get_replicas_change_per_period(policy.period_seconds, scale_up_events, now);
        let deleted = get_replicas_change_per_period(policy.period_seconds, scale_down_events, now);
        let period_start = current_replicas - added + deleted;
        let proposed = match policy.kind {
            PolicyType::Pods => period_start + policy.value,
            PolicyType::Percent => {
                ceil_i32(f64::from(period_start) * (1.0 + f64::from(policy.value) / 100.0))
            }
        };
        result = select(result, proposed);
    }
    result
}

/// `calculateScaleDownLimitWithBehaviors`.
pub fn calculate_scale_down_limit_with_behaviors(
    current_replicas: i32,
    scale_up_events: &[ScaleEvent],
    scale_down_events: &[ScaleEvent],
    rules: &ScalingRules,
    now: i64,
) -> i32 {
    let (mut result, select): (i32, fn(i32, i32) -> i32) = match rules.select_policy {
        SelectPolicy::Disabled => return current_replicas,
        SelectPolicy::Min => (i32::MIN, std::cmp::max),
        SelectPolicy::Max => (i32::MAX, std::cmp::min),
    };
    for policy in &rules.policies {
        let added = get_replicas_change_per_period(policy.period_seconds, scale_up_events, now);
        let deleted = get_replicas_change_per_period(policy.period_seconds, scale_down_events, now);
        let period_start = current_replicas - added + deleted;
        let proposed = match policy.kind {
            PolicyType::Pods => period_start - policy.value,
            PolicyType::Percent => {
                (f64::from(period_start) * (1.0 - f64::from(policy.value) / 100.0)) as i32
            }
        };
        result = select(result, proposed);
    }
    result
}

/// A reason and message for a condition, as upstream words them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Why {
    pub reason: &'static str,
    pub message: &'static str,
}

pub(super) const DESIRED_WITHIN_RANGE: Why = Why {
    reason: "DesiredWithinRange",
    message: "the desired count is within the acceptable range",
};
pub(super) const SCALE_UP_LIMIT: Why = Why {
    reason: "ScaleUpLimit",
    message: "the desired replica count is increasing faster than the maximum scale rate",
};
pub(super) const TOO_MANY_REPLICAS: Why = Why {
    reason: "TooManyReplicas",
    message: "the desired replica count is more than the maximum replica count",
};
pub(super) const SCALE_DOWN_LIMIT: Why = Why {
    reason: "ScaleDownLimit",
    message: "the desired replica count is decreasing faster than the maximum scale rate",
};
pub(super) const TOO_FEW_REPLICAS: Why = Why {
    reason: "TooFewReplicas",
    message: "the desired replica count is less than the minimum replica count",
};
pub(super) const SCALE_UP_STABILIZED: Why = Why {
    reason: "ScaleUpStabilized",
    message: "recent recommendations were lower than current one, applying the lowest recent recommendation",
};
pub(super) const SCALE_DOWN_STABILIZED: Why = Why {
    reason: "ScaleDownStabilized",
    message: "recent recommendations were higher than current one, applying the highest recent recommendation",
};
pub(super) const READY_FOR_NEW_SCALE: Why = Why {
    reason: "ReadyForNewScale",
    message: "recommended size matches current size",
};

/// `convertDesiredReplicasWithBehaviorRate`.
pub fn convert_desired_replicas_with_behavior_rate(
    args: &NormalizationArg,
    memory: &Memory,
    now: i64,
) -> (i32, Why) {
    if args.desired_replicas > args.current_replicas {
        let limit = calculate_scale_up_limit_with_scaling_rules(
            args.current_replicas,
            &memory.scale_up_events,
            &memory.scale_down_events,
            args.scale_up,
            now,
        )
        .max(args.current_replicas);
        let (maximum, why) = if args.max_replicas > limit {
            (limit, SCALE_UP_LIMIT)
        } else {
            (args.max_replicas, TOO_MANY_REPLICAS)
        };
        if args.desired_replicas > maximum {
            return (maximum, why);
        }
    } else if args.desired_replicas < args.current_replicas {
        let limit = calculate_scale_down_limit_with_behaviors(
            args.current_replicas,
            &memory.scale_up_events,
            &memory.scale_down_events,
            args.scale_down,
            now,
        )
        .min(args.current_replicas);
        let (minimum, why) = if args.min_replicas < limit {
            (limit, SCALE_DOWN_LIMIT)
        } else {
            (args.min_replicas, TOO_FEW_REPLICAS)
        };
        if args.desired_replicas < minimum {
            return (minimum, why);
        }
    }
    (args.desired_replicas, DESIRED_WITHIN_RANGE)
}

/// `stabilizeRecommendationWithBehaviors`: records the unstabilized
/// recommendation and returns the stabilized one.
pub fn stabilize_recommendation_with_behaviors(
    args: &NormalizationArg,
    memory: &mut Memory,
    now: i64,
) -> (i32, Why) {
    let up_cutoff = now - window(args.scale_up);
    let down_cutoff = now - window(args.scale_down);
    let (mut up, mut down) = (args.desired_replicas, args.desired_replicas);
    let mut old_sample = None;
    for (i, rec) in memory.recommendations.iter().enumerate() {
        if rec.time > up_cutoff {
            up = up.min(rec.replicas);
        }
        if rec.time > down_cutoff {
            down = down.max(rec.replicas);
        }
        if rec.time < up_cutoff && rec.time < down_cutoff {
            old_sample = Some(i);
        }
    }
    let recommendation = args.current_replicas.max(up).min(down);
    let new = Recommendation {
        replicas: args.desired_replicas,
        time: now,
    };
    match old_sample {
        Some(i) => memory.recommendations[i] = new,
        None => memory.recommendations.push(new),
    }
    let why = if args.desired_replicas >= args.current_replicas {
        SCALE_UP_STABILIZED
    } else {
        SCALE_DOWN_STABILIZED
    };
    (recommendation, why)
}

/// `stabilizeRecommendation` (no `behavior`): the highest recommendation of
/// the last five minutes.
pub fn stabilize_recommendation(prenormalized: i32, memory: &mut Memory, now: i64) -> i32 {
    let cutoff = now - DOWNSCALE_STABILISATION_WINDOW;
    let mut max = prenormalized;
    let mut old_sample = None;
    for (i, rec) in memory.recommendations.iter().enumerate() {
        if rec.time < cutoff {
            old_sample = Some(i);
        } else if rec.replicas > max {
            max = rec.replicas;
        }
    }
    let new = Recommendation {
        replicas: prenormalized,
        time: now,
    };
    match old_sample {
        Some(i) => memory.recommendations[i] = new,
        None => memory.recommendations.push(new),
    }
    max
}

/// `calculateScaleUpLimit`.
pub fn calculate_scale_up_limit(current_replicas: i32) -> i32 {
    (SCALE_UP_LIMIT_FACTOR * f64::from(current_replicas)).max(SCALE_UP_LIMIT_MINIMUM) as i32
}

/// `convertDesiredReplicasWithRules`.
pub fn convert_desired_replicas_with_rules(
    current_replicas: i32,
    desired_replicas: i32,
    min_replicas: i32,
    max_replicas: i32,
) -> (i32, Why) {
    let limit = calculate_scale_up_limit(current_replicas);
    let (maximum, why) = if max_replicas > limit {
        (limit, SCALE_UP_LIMIT)
    } else {
        (max_replicas, TOO_MANY_REPLICAS)
    };
    if desired_replicas < min_replicas {
        return (min_replicas, TOO_FEW_REPLICAS);
    }
    if desired_replicas > maximum {
        return (maximum, why);
    }
    (desired_replicas, DESIRED_WITHIN_RANGE)
}

/// `getLongestPolicyPeriod`.
fn longest_policy_period(rules: &ScalingRules) -> i64 {
    rules
        .policies
        .iter()
        .map(|p| i64::from(p.period_seconds))
        .max()
        .unwrap_or(0)
}

/// `storeScaleEvent`: kept only when the HPA has a `behavior`.
pub fn store_scale_event(
    behavior: Option<&Behavior>,
    memory: &mut Memory,
    previous: i32,
    new: i32,
    now: i64,
) {
    let Some(behavior) = behavior else {
        return;
    };
    let (events, rules, change) = if new > previous {
        (
            &mut memory.scale_up_events,
            &behavior.scale_up,
            new - previous,
        )
    } else {
        (
            &mut memory.scale_down_events,
            &behavior.scale_down,
            previous - new,
        )
    };
    let cutoff = now - longest_policy_period(rules);
    for event in events.iter_mut() {
        if event.time < cutoff {
            event.outdated = true;
        }
    }
    let event = ScaleEvent {
        change,
        time: now,
        outdated: false,
    };
    match events.iter().rposition(|e| e.outdated) {
        Some(i) => events[i] = event,
        None => events.push(event),
    }
}
