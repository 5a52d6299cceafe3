//! Cases ported from Kubernetes' `pkg/controller/cronjob/utils_test.go`
//! (`TestMostRecentScheduleTime`, `TestNextScheduleTimeDuration`) and from
//! robfig/cron's `parser_test.go` / `spec_test.go` (`TestRange`,
//! `TestParseSchedule`, `TestNext`), five-field forms.

use super::*;

/// `topOfTheHour()`: 2016-05-19T10:00:00Z.
const TOP: i64 = 1_463_652_000;
const MINUTE: i64 = 60;
const HOUR: i64 = 3600;

fn utc(spec: &str) -> Schedule {
    Schedule::parse(spec, &TimeZone::UTC).unwrap_or_else(|e| panic!("{spec}: {e}"))
}

fn instant(text: &str) -> i64 {
    text.parse::<Timestamp>().unwrap().as_second()
}

#[test]
fn most_recent_schedule_time_matches_the_cronjob_controller() {
    // (name, schedule, created, last schedule, starting deadline, include it, now,
    //  expected earliest, expected most recent, expected missed)
    type Case = (
        &'static str,
        &'static str,
        i64,
        Option<i64>,
        Option<i64>,
        bool,
        i64,
        i64,
        Option<i64>,
        Missed,
    );
    let cases: [Case; 12] = [
        (
            "now before next schedule",
            "0 * * * *",
            TOP,
            None,
            None,
            false,
            TOP + 30,
            TOP,
            None,
            Missed::None,
        ),
        (
            "now just after next schedule",
            "0 * * * *",
            TOP,
            None,
            None,
            false,
            TOP + 61 * MINUTE,
            TOP,
            Some(TOP + HOUR),
            Missed::None,
        ),
        (
            "missed 5 schedules",
            "0 * * * *",
            TOP + 10,
            None,
            None,
            false,
            TOP + 301 * MINUTE,
            TOP + 10,
            Some(TOP + 5 * HOUR),
            Missed::Few,
        ),
        (
            "complex schedule",
            "30 6-16/4 * * 1-5",
            TOP,
            Some(TOP + 30 * MINUTE),
            None,
            false,
            TOP + 24 * HOUR + 31 * MINUTE,
            TOP + 30 * MINUTE,
            Some(TOP + 24 * HOUR + 30 * MINUTE),
            Missed::Few,
        ),
        (
            "another complex schedule",
            "30 10,11,12 * * 1-5",
            TOP,
            Some(TOP + 30 * MINUTE),
            None,
            false,
            TOP + 30 * HOUR + 30 * MINUTE,
            TOP + 30 * MINUTE,
            None,
            Missed::Few,
        ),
        (
            "complex schedule with longer diff between executions",
            "30 6-16/4 * * 1-5",
            TOP,
            Some(TOP + 30 * MINUTE),
            None,
            false,
            TOP + 96 * HOUR + 31 * MINUTE,
            TOP + 30 * MINUTE,
            Some(TOP + 96 * HOUR + 30 * MINUTE),
            Missed::Few,
        ),
        (
            "complex schedule with shorter diff between executions",
            "30 6-16/4 * * 1-5",
            TOP,
            None,
            None,
            false,
            TOP + 24 * HOUR + 31 * MINUTE,
            TOP,
            Some(TOP + 24 * HOUR + 30 * MINUTE),
            Missed::Few,
        ),
        (
            "@every schedule",
            "@every 1h",
            TOP - 59 * MINUTE,
            Some(TOP + MINUTE),
            Some(10),
            false,
            TOP + 7 * 24 * HOUR,
            TOP + MINUTE,
            Some(TOP + 6 * 24 * HOUR + 23 * HOUR + MINUTE),
            Missed::Many(167),
        ),
        (
            "earliestTime being CreationTimestamp and LastScheduleTime",
            "0 * * * *",
            TOP,
            Some(TOP),
            None,
            false,
            TOP + 30,
            TOP,
            None,
            Missed::None,
        ),
        (
            "earliestTime being LastScheduleTime",
            "*/5 * * * *",
            TOP,
            Some(TOP + 30 * MINUTE),
            None,
            false,
            TOP + 31 * MINUTE,
            TOP + 30 * MINUTE,
            None,
            Missed::None,
        ),
        (
            "earliestTime being LastScheduleTime (within StartingDeadlineSeconds)",
            "*/5 * * * *",
            TOP,
            Some(TOP + 30 * MINUTE),
            Some(60),
            false,
            TOP + 31 * MINUTE,
            TOP + 30 * MINUTE,
            None,
            Missed::None,
        ),
        (
            "earliestTime being LastScheduleTime (outside StartingDeadlineSeconds)",
            "*/5 * * * *",
            TOP,
            Some(TOP + 30 * MINUTE),
            Some(60),
            true,
            TOP + 32 * MINUTE,
            TOP + 31 * MINUTE,
            None,
            Missed::None,
        ),
    ];
    for (name, spec, created, last, deadline, include, now, earliest, recent, missed) in cases {
        let schedule = utc(spec);
        let deadline = deadline.filter(|_| include);
        let got = most_recent_schedule_time(&schedule, created, last, deadline, now)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got, (earliest, recent, missed), "{name}");
    }
}

/// "rogue cronjob": a schedule that never comes round is an error.
#[test]
fn a_schedule_that_never_comes_is_an_error() {
    let schedule = utc("59 23 31 2 *");
    assert!(most_recent_schedule_time(&schedule, TOP + 10, None, None, TOP + HOUR).is_err());
    assert_eq!(schedule.next(TOP), None);
}

#[test]
fn next_schedule_time_matches_the_cronjob_controller() {
    let cases = [
        (
            "complex schedule skipping weekend",
            "30 6-16/4 * * 1-5",
            Some(TOP + 30 * MINUTE),
            TOP + 24 * HOUR + 31 * MINUTE,
            3 * HOUR + 59 * MINUTE,
        ),
        (
            "another complex schedule skipping weekend",
            "30 10,11,12 * * 1-5",
            Some(TOP + 30 * MINUTE),
            TOP + 30 * HOUR + 30 * MINUTE,
            66 * HOUR,
        ),
        (
            "once a week cronjob, missed two runs",
            "0 12 * * 4",
            Some(TOP + 2 * HOUR),
            TOP + 19 * 24 * HOUR + HOUR + 30 * MINUTE,
            48 * HOUR + 30 * MINUTE,
        ),
        (
            "no previous run of a cronjob",
            "0 12 * * 5",
            None,
            TOP + 6 * HOUR,
            20 * HOUR,
        ),
    ];
    for (name, spec, last, now, wait) in cases {
        let next = next_schedule_time(&utc(spec), TOP, last, now);
        assert_eq!(next, Some(now + wait), "{name}");
    }
}

#[test]
fn fields_parse_as_robfig_cron_parses_them() {
    let bits = |spec: &str| match utc(spec) {
        Schedule::Spec { minute, .. } => minute & !STAR,
        Schedule::Every(_) => unreachable!(),
    };
    let set = |minutes: &[u32]| minutes.iter().fold(0u64, |b, m| b | 1 << m);
    assert_eq!(bits("5 * * * *"), set(&[5]));
    assert_eq!(bits("5-7 * * * *"), set(&[5, 6, 7]));
    assert_eq!(bits("5-9/2 * * * *"), set(&[5, 7, 9]));
    assert_eq!(bits("55/2 * * * *"), set(&[55, 57, 59]));
    assert_eq!(bits("1,3,5 * * * *"), set(&[1, 3, 5]));
    assert_eq!(bits("*/20 * * * *"), set(&[0, 20, 40]));
    let errors = [
        ("5--5 * * * *", "too many hyphens: 5--5"),
        ("*//2 * * * *", "too many slashes: *//2"),
        ("60 * * * *", "end of range (60) above maximum (59): 60"),
        ("* * 0 * *", "beginning of range (0) below minimum (1): 0"),
        (
            "7-5 * * * *",
            "beginning of range (7) beyond end of range (5): 7-5",
        ),
        (
            "*/0 * * * *",
            "step of range should be a positive number: */0",
        ),
        ("x * * * *", "failed to parse int from x"),
        ("* * * * 7", "end of range (7) above maximum (6): 7"),
        ("* * * *", "expected exactly 5 fields, found 4: [* * * *]"),
        ("0 * * * * *", "expected exactly 5 fields, found 6"),
        ("@fortnightly", "unrecognized descriptor: @fortnightly"),
        ("", "empty spec string"),
        (
            "TZ=Mars/Olympus 0 * * * *",
            "provided bad location Mars/Olympus",
        ),
    ];
    for (spec, message) in errors {
        let error = Schedule::parse(spec, &TimeZone::UTC).unwrap_err().0;
        assert!(error.contains(message), "{spec}: {error}");
    }
    // Names, and the macros as their five fields.
    assert_eq!(utc("0 0 * JAN-MAR MON"), utc("0 0 * 1-3 1"));
    assert_eq!(utc("@daily"), utc("0 0 * * *"));
    assert_eq!(utc("@midnight"), utc("0 0 * * *"));
    assert_eq!(utc("@hourly"), utc("0 * * * *"));
    assert_eq!(utc("@weekly"), utc("0 0 * * 0"));
    assert_eq!(utc("@monthly"), utc("0 0 1 * *"));
    assert_eq!(utc("@yearly"), utc("0 0 1 1 *"));
    assert_eq!(utc("@annually"), utc("0 0 1 1 *"));
    assert_eq!(utc("@every 90m"), Schedule::Every(5400));
}

#[test]
fn next_activations_match_robfig_cron() {
    let cases = [
        (
            "2012-07-09T14:45:00Z",
            "0/15 * * * *",
            Some("2012-07-09T15:00:00Z"),
        ),
        (
            "2012-07-09T14:59:00Z",
            "0/15 * * * *",
            Some("2012-07-09T15:00:00Z"),
        ),
        (
            "2012-07-09T14:59:59Z",
            "20-35/15 * * * *",
            Some("2012-07-09T15:20:00Z"),
        ),
        (
            "2012-07-09T23:46:00Z",
            "*/15 * * * *",
            Some("2012-07-10T00:00:00Z"),
        ),
        (
            "2012-07-09T23:45:00Z",
            "20-35/15 * * * *",
            Some("2012-07-10T00:20:00Z"),
        ),
        (
            "2012-07-09T23:35:51Z",
            "20-35/15 * */2 * *",
            Some("2012-07-11T00:20:00Z"),
        ),
        (
            "2012-07-09T23:35:51Z",
            "20-35/15 * 9-20 jul *",
            Some("2012-07-10T00:20:00Z"),
        ),
        (
            "2012-07-09T23:35:00Z",
            "0 0 1 1 *",
            Some("2013-01-01T00:00:00Z"),
        ),
        // Day of month or day of week when neither is a star.
        (
            "2012-07-09T14:45:00Z",
            "0 0 1 * 1",
            Some("2012-07-16T00:00:00Z"),
        ),
        (
            "2012-07-09T14:45:00Z",
            "0 0 1 * *",
            Some("2012-08-01T00:00:00Z"),
        ),
        // Leap day, and a day that never comes.
        (
            "2012-07-09T23:35:00Z",
            "0 0 29 2 *",
            Some("2016-02-29T00:00:00Z"),
        ),
        ("2012-07-09T23:35:00Z", "0 0 31 2 *", None),
        ("2012-07-09T23:35:00Z", "0 0 31 4 *", None),
        // Time zones: 09:00 in New York is 13:00Z in summer, 14:00Z in winter.
        (
            "2012-07-09T12:00:00Z",
            "TZ=America/New_York 0 9 * * *",
            Some("2012-07-09T13:00:00Z"),
        ),
        (
            "2012-12-09T12:00:00Z",
            "CRON_TZ=America/New_York 0 9 * * *",
            Some("2012-12-09T14:00:00Z"),
        ),
        // 02:00 does not exist on 2012-03-11 in New York: the next one is a day later.
        (
            "2012-03-10T12:00:00Z",
            "TZ=America/New_York 0 2 * * *",
            Some("2012-03-12T06:00:00Z"),
        ),
    ];
    for (from, spec, want) in cases {
        let got = utc(spec).next(instant(from));
        assert_eq!(got, want.map(instant), "{spec} after {from}");
    }
}

#[test]
fn time_zones_are_known_by_their_iana_names() {
    assert!(time_zone("Europe/Paris").is_ok());
    assert!(time_zone("UTC").is_ok());
    assert_eq!(
        time_zone("Mars/Olympus").unwrap_err().0,
        "unknown time zone Mars/Olympus"
    );
}
