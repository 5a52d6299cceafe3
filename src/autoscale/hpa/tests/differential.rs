//! Differential tests: plain models written from the Go functions against the port.

use super::*;

/// The Go code as written: a map of keys to slices, `time.Now()` as a value,
/// `After`/`Before` as strict comparisons, each function on its own.
mod model {
    use std::collections::HashMap;

    #[derive(Clone, Copy)]
    pub struct Rec {
        pub recommendation: i32,
        pub timestamp: i64,
    }
    #[derive(Clone, Copy)]
    pub struct Ev {
        pub replica_change: i32,
        pub timestamp: i64,
    }
    #[derive(Clone, Debug)]
    pub struct Policy {
        pub pods: bool,
        pub value: i32,
        pub period: i32,
    }
    #[derive(Clone, Debug)]
    pub struct Rules {
        pub window: i32,
        pub select: &'static str,
        pub policies: Vec<Policy>,
    }

    pub struct Controller {
        pub recommendations: HashMap<String, Vec<Rec>>,
        pub scale_up_events: HashMap<String, Vec<Ev>>,
        pub scale_down_events: HashMap<String, Vec<Ev>>,
        pub now: i64,
    }

    fn change_per_period(now: i64, period: i32, events: &[Ev]) -> i32 {
        let cutoff = now - period as i64;
        let mut replicas = 0;
        for rec in events {
            if rec.timestamp > cutoff {
                replicas += rec.replica_change;
            }
        }
        replicas
    }

    fn up_limit(now: i64, current: i32, up: &[Ev], down: &[Ev], rules: &Rules) -> i32 {
        if rules.select == "Disabled" {
            return current;
        }
        let mut result = if rules.select == "Min" {
            i32::MAX
        } else {
            i32::MIN
        };
        for p in &rules.policies {
            let start = current - change_per_period(now, p.period, up)
                + change_per_period(now, p.period, down);
            let proposed = if p.pods {
                start + p.value
            } else {
                (start as f64 * (1.0 + p.value as f64 / 100.0)).ceil() as i32
            };
            result = if rules.select == "Min" {
                result.min(proposed)
            } else {
                result.max(proposed)
            };
        }
        result
    }

    fn down_limit(now: i64, current: i32, up: &[Ev], down: &[Ev], rules: &Rules) -> i32 {
        if rules.select == "Disabled" {
            return current;
        }
        let mut result = if rules.select == "Min" {
            i32::MIN
        } else {
            i32::MAX
        };
        for p in &rules.policies {
            let start = current - change_per_period(now, p.period, up)
                + change_per_period(now, p.period, down);
            let proposed = if p.pods {
                start - p.value
            } else {
                (start as f64 * (1.0 - p.value as f64 / 100.0)) as i32
            };
            result = if rules.select == "Min" {
                result.max(proposed)
            } else {
                result.min(proposed)
            };
        }
        result
    }

    impl Controller {
        /// `stabilizeRecommendationWithBehaviors` then `convertDesiredReplicasWithBehaviorRate`.
        #[allow(clippy::too_many_arguments)] // the Go function's NormalizationArg, spelled out
        pub fn normalize(
            &mut self,
            key: &str,
            up: &Rules,
            down: &Rules,
            min: i32,
            max: i32,
            current: i32,
            desired: i32,
        ) -> (i32, i32) {
            let now = self.now;
            let up_cutoff = now - up.window as i64;
            let down_cutoff = now - down.window as i64;
            let mut up_rec = desired;
            let mut down_rec = desired;
            let mut found = false;
            let mut index = 0;
            let recs = self.recommendations.entry(key.to_string()).or_default();
            for (i, rec) in recs.iter().enumerate() {
                if rec.timestamp > up_cutoff && rec.recommendation < up_rec {
                    up_rec = rec.recommendation;
                }
                if rec.timestamp > down_cutoff && rec.recommendation > down_rec {
                    down_rec = rec.recommendation;
                }
                if rec.timestamp < up_cutoff && rec.timestamp < down_cutoff {
                    found = true;
                    index = i;
                }
            }
            let mut stabilized = current;
            if stabilized < up_rec {
                stabilized = up_rec;
            }
            if stabilized > down_rec {
                stabilized = down_rec;
            }
            let new = Rec {
                recommendation: desired,
                timestamp: now,
            };
            if found {
                recs[index] = new;
            } else {
                recs.push(new);
            }
            let ups = self.scale_up_events.get(key).cloned().unwrap_or_default();
            let downs = self.scale_down_events.get(key).cloned().unwrap_or_default();
            let result = if stabilized > current {
                let mut limit = up_limit(now, current, &ups, &downs, up);
                if limit < current {
                    limit = current;
                }
                let allowed = if max > limit { limit } else { max };
                if stabilized > allowed {
                    allowed
                } else {
                    stabilized
                }
            } else if stabilized < current {
                let mut limit = down_limit(now, current, &ups, &downs, down);
                if limit > current {
                    limit = current;
                }
                let allowed = if min < limit { limit } else { min };
                if stabilized < allowed {
                    allowed
                } else {
                    stabilized
                }
            } else {
                stabilized
            };
            (stabilized, result)
        }
    }
}

fn arb_rules() -> impl Strategy<Value = (model::Rules, ScalingRules)> {
    // Windows and periods on the 15 s sync grid, so that recommendations and
    // events fall exactly on cutoffs often (`After` and `Before` are strict).
    (
        (0..27i32).prop_map(|w| w * 15),
        prop_oneof![Just("Max"), Just("Min"), Just("Disabled")],
        prop::collection::vec(
            (any::<bool>(), 1..300i32, (1..27i32).prop_map(|p| p * 15)),
            1..4,
        ),
    )
        .prop_map(|(window, select, policies)| {
            let plain = model::Rules {
                window,
                select,
                policies: policies
                    .iter()
                    .map(|&(pods, value, period)| model::Policy {
                        pods,
                        value,
                        period,
                    })
                    .collect(),
            };
            let ours = ScalingRules {
                stabilization_window_seconds: Some(window),
                select_policy: match select {
                    "Max" => SelectPolicy::Max,
                    "Min" => SelectPolicy::Min,
                    _ => SelectPolicy::Disabled,
                },
                policies: policies
                    .iter()
                    .map(|&(pods, value, period)| ScalingPolicy {
                        kind: if pods {
                            PolicyType::Pods
                        } else {
                            PolicyType::Percent
                        },
                        value,
                        period_seconds: period,
                    })
                    .collect(),
            };
            (plain, ours)
        })
}

proptest! {
    #[test]
    fn normalization_matches_the_plain_model(
        (up_plain, up) in arb_rules(),
        (down_plain, down) in arb_rules(),
        recommendations in prop::collection::vec((0..60i32, (0..60i64).prop_map(|a| a * 15)), 0..12),
        up_events in prop::collection::vec((1..20i32, (0..30i64).prop_map(|a| a * 15)), 0..6),
        down_events in prop::collection::vec((1..20i32, (0..30i64).prop_map(|a| a * 15)), 0..6),
        min in 1..10i32,
        extra in 0..50i32,
        current in 1..60i32,
        desired in 0..120i32,
    ) {
        let max = min + extra;
        let mut memory = Memory {
            recommendations: recommendations.iter().map(|&(r, ago)| rec(r, ago)).collect(),
            scale_up_events: up_events.iter().map(|&(c, ago)| event(c, ago)).collect(),
            scale_down_events: down_events.iter().map(|&(c, ago)| event(c, ago)).collect(),
        };
        let mut plain = model::Controller {
            recommendations: Default::default(),
            scale_up_events: Default::default(),
            scale_down_events: Default::default(),
            now: NOW,
        };
        plain.recommendations.insert("k".into(), recommendations.iter().map(|&(r, ago)| model::Rec { recommendation: r, timestamp: NOW - ago }).collect());
        plain.scale_up_events.insert("k".into(), up_events.iter().map(|&(c, ago)| model::Ev { replica_change: c, timestamp: NOW - ago }).collect());
        plain.scale_down_events.insert("k".into(), down_events.iter().map(|&(c, ago)| model::Ev { replica_change: c, timestamp: NOW - ago }).collect());

        let mut args = NormalizationArg {
            scale_up: &up,
            scale_down: &down,
            min_replicas: min,
            max_replicas: max,
            current_replicas: current,
            desired_replicas: desired,
        };
        let (stabilized, _) = stabilize_recommendation_with_behaviors(&args, &mut memory, NOW);
        args.desired_replicas = stabilized;
        let (ours, _) = convert_desired_replicas_with_behavior_rate(&args, &memory, NOW);
        let (plain_stabilized, theirs) = plain.normalize("k", &up_plain, &down_plain, min, max, current, desired);
        prop_assert_eq!(stabilized, plain_stabilized);
        prop_assert_eq!(ours, theirs);
        let stored: Vec<(i32, i64)> = memory.recommendations.iter().map(|r| (r.replicas, r.time)).collect();
        let plain_stored: Vec<(i32, i64)> = plain.recommendations["k"].iter().map(|r| (r.recommendation, r.timestamp)).collect();
        prop_assert_eq!(stored, plain_stored);
    }
}

// ---- Differential test of the replica calculator ----

/// `GetResourceReplicas`, `groupPods` and `GetResourceUtilizationRatio`
/// transliterated: pods by name, metrics in a map, sets of names.
mod calculator_model {
    use std::collections::{BTreeMap, BTreeSet};

    pub struct Pod {
        pub name: String,
        pub phase: &'static str,
        pub deleted: bool,
        pub ready: Option<(bool, i64)>,
        pub start: Option<i64>,
        pub request: i64,
    }

    pub struct Metric {
        pub value: i64,
        pub timestamp: i64,
        pub window: i64,
    }

    fn utilization_ratio(
        metrics: &BTreeMap<String, i64>,
        requests: &BTreeMap<String, i64>,
        target: i32,
    ) -> Option<(f64, i32, i64)> {
        let (mut total, mut requests_total, mut entries) = (0i64, 0i64, 0i64);
        for (name, value) in metrics {
            let Some(request) = requests.get(name) else {
                continue;
            };
            total += value;
            requests_total += request;
            entries += 1;
        }
        if requests_total == 0 {
            return None;
        }
        let utilization = ((total * 100) / requests_total) as i32;
        Some((
            utilization as f64 / target as f64,
            utilization,
            total / entries,
        ))
    }

    #[allow(clippy::type_complexity)]
    pub fn get_resource_replicas(
        current: i32,
        target: i32,
        pods: &[Pod],
        raw_metrics: &BTreeMap<String, Metric>,
        now: i64,
        init_period: i64,
        readiness_delay: i64,
    ) -> Option<(i32, i32, i64)> {
        if raw_metrics.is_empty() || pods.is_empty() {
            return None;
        }
        let mut ready_count = 0;
        let mut unready = BTreeSet::new();
        let mut missing = BTreeSet::new();
        let mut ignored = BTreeSet::new();
        for pod in pods {
            if pod.deleted || pod.phase == "Failed" {
                ignored.insert(pod.name.clone());
                continue;
            }
            if pod.phase == "Pending" {
                unready.insert(pod.name.clone());
                continue;
            }
            let Some(metric) = raw_metrics.get(&pod.name) else {
                missing.insert(pod.name.clone());
                continue;
            };
            let is_unready = match (pod.ready, pod.start) {
                (Some((status, transition)), Some(start)) => {
                    if start + init_period > now {
                        !status || metric.timestamp < transition + metric.window
                    } else {
                        !status && start + readiness_delay > transition
                    }
                }
                _ => true,
            };
            if is_unready {
                unready.insert(pod.name.clone());
                continue;
            }
            ready_count += 1;
        }
        let mut metrics: BTreeMap<String, i64> = raw_metrics
            .iter()
            .map(|(k, m)| (k.clone(), m.value))
            .collect();
        for name in ignored.iter().chain(&unready) {
            metrics.remove(name);
        }
        if metrics.is_empty() {
            return None;
        }
        let requests: BTreeMap<String, i64> =
            pods.iter().map(|p| (p.name.clone(), p.request)).collect();
        let (ratio, utilization, raw) = utilization_ratio(&metrics, &requests, target)?;
        let within = |r: f64| (0.9..=1.1).contains(&r);
        let scale_up_with_unready = !unready.is_empty() && ratio > 1.0;
        if !scale_up_with_unready && missing.is_empty() {
            if within(ratio) {
                return Some((current, utilization, raw));
            }
            return Some(((ratio * ready_count as f64).ceil() as i32, utilization, raw));
        }
        if !missing.is_empty() {
            if ratio < 1.0 {
                let fallback = target.max(100) as i64;
                for name in &missing {
                    metrics.insert(name.clone(), requests[name] * fallback / 100);
                }
            } else if ratio > 1.0 {
                for name in &missing {
                    metrics.insert(name.clone(), 0);
                }
            }
        }
        if scale_up_with_unready {
            for name in &unready {
                metrics.insert(name.clone(), 0);
            }
        }
        let (new_ratio, _, _) = utilization_ratio(&metrics, &requests, target)?;
        if within(new_ratio) || (ratio < 1.0 && new_ratio > 1.0) || (ratio > 1.0 && new_ratio < 1.0)
        {
            return Some((current, utilization, raw));
        }
        let new_replicas = (new_ratio * metrics.len() as f64).ceil() as i32;
        if (new_ratio < 1.0 && new_replicas > current)
            || (new_ratio > 1.0 && new_replicas < current)
        {
            return Some((current, utilization, raw));
        }
        Some((new_replicas, utilization, raw))
    }
}

fn arb_pod() -> impl Strategy<Value = PodSample> {
    (
        prop_oneof![4 => Just(Running), 1 => Just(Pending), 1 => Just(Failed)],
        prop::bool::weighted(0.1),
        prop::option::weighted(0.9, (any::<bool>(), 0..400i64)),
        prop::option::weighted(0.9, 0..400i64),
        1..4000i64,
        prop::option::weighted(0.85, (0..4000i64, 0..400i64, 1..90i64)),
    )
        .prop_map(
            |(phase, deleting, ready, start, request, metric)| PodSample {
                phase,
                deleting,
                ready: ready.map(|(status, at)| ReadyCondition {
                    status,
                    last_transition: NOW - at,
                }),
                start_time: start.map(|s| NOW - s),
                request: Some(request),
                metric: metric.map(|(value, ago, window)| PodMetric {
                    value,
                    timestamp: NOW - ago,
                    window,
                }),
            },
        )
}

proptest! {
    #[test]
    fn the_replica_calculator_matches_the_plain_model(
        pods in prop::collection::vec(arb_pod(), 0..12),
        current in 1..20i32,
        target in 1..300i32,
    ) {
        let calculator = Calculator::default();
        let ours = get_resource_replicas(&calculator, current, target, MetricResource::Cpu, &pods, NOW).ok();
        let model_pods: Vec<calculator_model::Pod> = pods
            .iter()
            .enumerate()
            .map(|(i, p)| calculator_model::Pod {
                name: format!("pod-{i}"),
                phase: match p.phase { Running => "Running", Pending => "Pending", Failed => "Failed" },
                deleted: p.deleting,
                ready: p.ready.map(|r| (r.status, r.last_transition)),
                start: p.start_time,
                request: p.request.unwrap(),
            })
            .collect();
        let metrics = pods
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.metric.map(|m| (format!("pod-{i}"), calculator_model::Metric {
                value: m.value,
                timestamp: m.timestamp,
                window: m.window,
            })))
            .collect();
        let theirs = calculator_model::get_resource_replicas(
            current,
            target,
            &model_pods,
            &metrics,
            NOW,
            CPU_INITIALIZATION_PERIOD,
            DELAY_OF_INITIAL_READINESS_STATUS,
        );
        prop_assert_eq!(ours, theirs);
    }
}
