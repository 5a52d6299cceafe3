//! SchedulingGates (pkg/scheduler/framework/plugins/schedulinggates): a
//! PreEnqueue plugin. A pod that carries `spec.schedulingGates` never enters
//! the scheduling queue: it is not filtered, scored, placed, nor considered
//! for preemption, and stays Pending (`SchedulingGated`) until an update
//! removes its last gate.

use crate::model::pod::PodSpec;

/// The STATUS kubectl prints for a gated pod, and the reason of its
/// `PodScheduled=False` condition.
pub const SCHEDULING_GATED: &str = "SchedulingGated";

/// The message a gated replica records, as `PreEnqueue`'s status words it.
const WAITING: &str = "waiting for scheduling gates: ";

/// `PreEnqueue`: Ok when the pod may be queued, else the
/// UnschedulableAndUnresolvable status's message.
pub fn pre_enqueue(pod: &PodSpec) -> Result<(), String> {
    if pod.scheduling_gates.is_empty() {
        return Ok(());
    }
    // Go's `%v` of a string slice: `[foo bar]`.
    Err(format!("{WAITING}[{}]", pod.scheduling_gates.join(" ")))
}

/// Whether a replica's recorded reason says it waits for its gates.
pub fn is_gated(reason: Option<&str>) -> bool {
    reason.is_some_and(|r| r.starts_with(WAITING))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `TestPreEnqueue` (schedulinggates/scheduling_gates_test.go).
    #[test]
    fn pre_enqueue_table() {
        let cases: [(&str, Vec<&str>, Result<(), String>); 2] = [
            ("pod does not carry scheduling gates", vec![], Ok(())),
            (
                "pod carries scheduling gates",
                vec!["foo", "bar"],
                Err("waiting for scheduling gates: [foo bar]".into()),
            ),
        ];
        for (name, gates, want) in cases {
            let pod = PodSpec {
                scheduling_gates: gates.iter().map(|g| g.to_string()).collect(),
                ..PodSpec::default()
            };
            let got = pre_enqueue(&pod);
            assert_eq!(got, want, "{name}");
            assert_eq!(is_gated(got.err().as_deref()), !gates.is_empty(), "{name}");
        }
    }
}
