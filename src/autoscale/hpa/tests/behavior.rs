//! `horizontal_test.go`: limits, stabilization and the scale events kept.

use super::*;

/// `TestCalculateScaleUpLimitWithScalingRules`, `TestCalculateScaleDownLimitWithBehaviors`.
#[test]
fn scale_limits_with_the_min_select_policy() {
    let mut rules = rules(2, 60, 50, 60, 300);
    rules.select_policy = SelectPolicy::Min;
    assert_eq!(
        calculate_scale_up_limit_with_scaling_rules(1, &[], &[], &rules, NOW),
        2
    );
    assert_eq!(
        calculate_scale_down_limit_with_behaviors(5, &[], &[], &rules, NOW),
        3
    );
    rules.select_policy = SelectPolicy::Disabled;
    assert_eq!(
        calculate_scale_up_limit_with_scaling_rules(7, &[], &[], &rules, NOW),
        7
    );
    assert_eq!(
        calculate_scale_down_limit_with_behaviors(7, &[], &[], &rules, NOW),
        7
    );
}

/// `TestConvertDesiredReplicasWithRules`.
#[test]
fn convert_desired_replicas_with_rules_cases() {
    let cases = [
        (5, 7, 3, 8, 7, "DesiredWithinRange"),
        (3, 1, 2, 8, 2, "TooFewReplicas"),
        (1, 0, 0, 10, 0, "DesiredWithinRange"),
        (20, 1000, 1, 10, 10, "TooManyReplicas"),
        (
            3,
            1000,
            1,
            2000,
            calculate_scale_up_limit(3),
            "ScaleUpLimit",
        ),
    ];
    for (current, desired, min, max, expected, condition) in cases {
        let (replicas, why) = convert_desired_replicas_with_rules(current, desired, min, max);
        assert_eq!((replicas, why.reason), (expected, condition));
    }
    assert_eq!(calculate_scale_up_limit(3), 6);
    assert_eq!(calculate_scale_up_limit(1), 4);
}

/// `TestNormalizeDesiredReplicas` (`stabilizeRecommendation`, 5-minute window).
#[test]
fn normalize_desired_replicas() {
    let cases = [
        (vec![], 5, 5, 1),
        (vec![rec(4, 120), rec(5, 60)], 3, 5, 3),
        (vec![rec(1, 120), rec(2, 60)], 3, 3, 3),
        (vec![rec(10, 600), rec(9, 540)], 3, 3, 2),
        (
            vec![rec(10, 600), rec(4, 60), rec(5, 120), rec(9, 540)],
            3,
            5,
            4,
        ),
    ];
    for (recommendations, prenormalized, expected, length) in cases {
        let mut memory = Memory {
            recommendations,
            ..Memory::default()
        };
        assert_eq!(
            stabilize_recommendation(prenormalized, &mut memory, NOW),
            expected
        );
        assert_eq!(memory.recommendations.len(), length);
    }
}

/// `TestNormalizeDesiredReplicasWithBehavior` (`stabilizeRecommendationWithBehaviors`).
/// Upstream's table row for row, kept whole to be read beside it (hence
/// its length).
#[test]
fn normalize_desired_replicas_with_behavior() {
    type Row = (
        &'static str,
        Vec<Recommendation>,
        i32,
        i32,
        i32,
        Option<Vec<i32>>,
        i32,
        i32,
    );
    let rows: Vec<Row> = vec![
        (
            "empty recommendations for scaling down",
            vec![],
            100,
            5,
            5,
            Some(vec![5]),
            0,
            0,
        ),
        (
            "simple scale down stabilization",
            vec![rec(4, 120), rec(5, 60)],
            100,
            3,
            5,
            Some(vec![4, 5, 3]),
            0,
            180,
        ),
        (
            "simple scale up stabilization",
            vec![rec(4, 120), rec(5, 60)],
            1,
            7,
            4,
            Some(vec![4, 5, 7]),
            300,
            0,
        ),
        (
            "no scale down stabilization",
            vec![rec(1, 120), rec(2, 60)],
            100,
            3,
            3,
            Some(vec![1, 2, 3]),
            300,
            0,
        ),
        (
            "no scale up stabilization",
            vec![rec(4, 120), rec(5, 60)],
            1,
            3,
            3,
            Some(vec![4, 5, 3]),
            0,
            300,
        ),
        (
            "no scale down stabilization, reuse",
            vec![rec(10, 600), rec(9, 540)],
            100,
            3,
            3,
            Some(vec![10, 3]),
            0,
            0,
        ),
        (
            "no scale up stabilization, reuse",
            vec![rec(10, 600), rec(9, 540)],
            1,
            100,
            100,
            Some(vec![10, 100]),
            0,
            0,
        ),
        (
            "scale down stabilization, reuse obsolete",
            vec![rec(10, 600), rec(4, 60), rec(5, 120), rec(9, 540)],
            100,
            3,
            5,
            Some(vec![10, 4, 5, 3]),
            0,
            180,
        ),
        (
            "scale up stabilization, reuse obsolete",
            vec![rec(10, 6000), rec(6, 60), rec(5, 120), rec(9, 180)],
            1,
            100,
            5,
            Some(vec![100, 6, 5, 9]),
            300,
            0,
        ),
        (
            "do not scale up when prenormalized goes down",
            vec![rec(2, 6000), rec(3, 180)],
            2,
            1,
            2,
            None,
            300,
            300,
        ),
        (
            "do not scale down when prenormalized goes up",
            vec![rec(2, 6000), rec(1, 180)],
            2,
            3,
            2,
            None,
            300,
            300,
        ),
    ];
    for (name, recommendations, current, prenormalized, expected, stored, up_window, down_window) in
        rows
    {
        let mut memory = Memory {
            recommendations,
            ..Memory::default()
        };
        let scale_up = ScalingRules {
            stabilization_window_seconds: Some(up_window),
            ..ScalingRules::default_scale_up()
        };
        let scale_down = ScalingRules {
            stabilization_window_seconds: Some(down_window),
            ..ScalingRules::default_scale_down()
        };
        let args = NormalizationArg {
            scale_up: &scale_up,
            scale_down: &scale_down,
            min_replicas: 1,
            max_replicas: 1000,
            current_replicas: current,
            desired_replicas: prenormalized,
        };
        let (replicas, _) = stabilize_recommendation_with_behaviors(&args, &mut memory, NOW);
        assert_eq!(replicas, expected, "{name}");
        if let Some(stored) = stored {
            let got: Vec<i32> = memory.recommendations.iter().map(|r| r.replicas).collect();
            assert_eq!(got, stored, "{name}");
        }
    }
}

/// `TestStoreScaleEvents`, both directions: upstream's table row for row,
/// kept whole to be read beside it (hence its length).
#[test]
fn store_scale_events() {
    type Row = (
        &'static str,
        Vec<ScaleEvent>,
        Vec<(i32, bool)>,
        Option<ScalingRules>,
        i32,
    );
    let rows: Vec<Row> = vec![
        (
            "empty entries with default behavior",
            vec![],
            vec![],
            None,
            0,
        ),
        (
            "empty entries with two-policy-behavior",
            vec![],
            vec![(5, false)],
            Some(rules(10, 60, 100, 60, 0)),
            0,
        ),
        (
            "one outdated entry kept without behavior",
            vec![event(7, 61)],
            vec![(7, false)],
            None,
            0,
        ),
        (
            "one outdated entry replaced with behavior",
            vec![event(7, 61)],
            vec![(5, false)],
            Some(rules(10, 60, 100, 60, 0)),
            0,
        ),
        (
            "one actual entry not touched",
            vec![event(7, 58)],
            vec![(7, false), (5, false)],
            Some(rules(10, 60, 100, 60, 0)),
            7,
        ),
        (
            "two entries, one replaced",
            vec![event(7, 61), event(6, 59)],
            vec![(5, false), (6, false)],
            Some(rules(10, 60, 0, 0, 0)),
            6,
        ),
        (
            "replace one entry, policies with different periods",
            vec![event(8, 29), event(6, 59), event(7, 61), event(9, 61)],
            vec![(8, false), (6, false), (7, true), (5, false)],
            Some(rules(10, 60, 100, 30, 0)),
            14,
        ),
        (
            "two entries, both actual",
            vec![event(7, 58), event(6, 59)],
            vec![(7, false), (6, false), (5, false)],
            Some(rules(10, 120, 100, 30, 0)),
            13,
        ),
    ];
    for (name, previous, expected, scaling_rules, change_before) in rows {
        for up in [true, false] {
            let behavior = scaling_rules.clone().map(|r| Behavior {
                scale_up: if up {
                    r.clone()
                } else {
                    ScalingRules::default_scale_up()
                },
                scale_down: if up {
                    ScalingRules::default_scale_down()
                } else {
                    r
                },
            });
            let mut memory = Memory::default();
            let events = if up {
                &mut memory.scale_up_events
            } else {
                &mut memory.scale_down_events
            };
            events.extend(previous.iter().copied());
            assert_eq!(
                get_replicas_change_per_period(60, events, NOW),
                change_before,
                "{name}"
            );
            let new = if up { 15 } else { 5 };
            store_scale_event(behavior.as_ref(), &mut memory, 10, new, NOW);
            let events = if up {
                &memory.scale_up_events
            } else {
                &memory.scale_down_events
            };
            let got: Vec<(i32, bool)> = events.iter().map(|e| (e.change, e.outdated)).collect();
            assert_eq!(got, expected, "{name} (up: {up})");
        }
    }
}
