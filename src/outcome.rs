//! How a run of the loop ended, and the one mapping from that ending to the
//! stable exit codes of SPEC §1 that every command uses. Pure: `cli` turns
//! the `Exit` into the process's exit status, nothing else decides it.

use std::fmt;

/// How the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything converged after at least one step.
    Converged,
    /// Nothing to do: the state already matches.
    NoChanges,
    /// No action can make progress; reasons per workload.
    Blocked,
    /// The simulated time budget ran out.
    Timeout,
}

/// Stable exit codes (SPEC §1; CI relies on them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Success = 0,
    /// Bad input, an unreadable state, a held lock, an internal error.
    Error = 1,
    /// `plan --detailed-exitcode`: changes pending.
    Changes = 2,
    /// Blocked or out of time; also every check a command makes that fails.
    NotConverged = 3,
}

impl Outcome {
    /// The word in `outcome` of the JSON documents and the JUnit reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Converged => "Converged",
            Outcome::NoChanges => "NoChanges",
            Outcome::Blocked => "Blocked",
            Outcome::Timeout => "Timeout",
        }
    }

    /// The exit code of a command that ran the loop to this end (`apply`,
    /// `plan`, `watch --once`, `rollout undo`).
    pub fn exit_code(self) -> Exit {
        match self {
            Outcome::Converged | Outcome::NoChanges => Exit::Success,
            Outcome::Blocked | Outcome::Timeout => Exit::NotConverged,
        }
    }

    /// `plan --detailed-exitcode`: as `exit_code`, except that a plan with
    /// steps to take says so (2), as `terraform plan -detailed-exitcode`.
    pub fn detailed_exit_code(self) -> Exit {
        match self {
            Outcome::Converged => Exit::Changes,
            _ => self.exit_code(),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Exit {
    /// A command whose answer is a check rather than a run (`rollout status`:
    /// finished; `node drain`: drained; `what-if`: still available) exits
    /// as a run would: 0 when the check holds, as `Converged`; 3 when it
    /// does not, as `Blocked`.
    pub fn from_check(holds: bool) -> Exit {
        if holds {
            Outcome::Converged.exit_code()
        } else {
            Outcome::Blocked.exit_code()
        }
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table of SPEC §1, per outcome: (outcome, exit, with --detailed-exitcode).
    #[test]
    fn every_outcome_has_its_exit_code() {
        let table = [
            (Outcome::Converged, 0, 2),
            (Outcome::NoChanges, 0, 0),
            (Outcome::Blocked, 3, 3),
            (Outcome::Timeout, 3, 3),
        ];
        for (outcome, exit, detailed) in table {
            assert_eq!(outcome.exit_code() as u8, exit, "{outcome}");
            assert_eq!(outcome.detailed_exit_code() as u8, detailed, "{outcome}");
        }
        assert_eq!(Exit::Error as u8, 1);
        assert_eq!(Exit::from_check(true), Exit::Success);
        assert_eq!(Exit::from_check(false), Exit::NotConverged);
    }

    #[test]
    fn outcomes_read_as_in_the_json_documents() {
        let words = [
            (Outcome::Converged, "Converged"),
            (Outcome::NoChanges, "NoChanges"),
            (Outcome::Blocked, "Blocked"),
            (Outcome::Timeout, "Timeout"),
        ];
        for (outcome, word) in words {
            assert_eq!(outcome.as_str(), word);
            assert_eq!(outcome.to_string(), word);
        }
    }
}
