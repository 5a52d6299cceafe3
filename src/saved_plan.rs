//! Saved plans, as Terraform has them: `orch plan --out FILE` records what
//! the loop would do, and `orch apply FILE` does exactly that or nothing.
//!
//! A saved plan (`kind: SavedPlan`, JSON) holds everything the loop's
//! outcome depends on: the manifest sources as read (names and text), the
//! options that change decisions (scoring, timeout, max steps, prune, strict
//! parsing), the SHA-256 digest of the state file's exact bytes (or that
//! there was none), and the steps exactly as `plan -o json` prints them.
//!
//! How "exactly those steps" is guaranteed: the loop is a deterministic
//! function of (state, desired set, options) — names are seeded from the
//! state, iteration is ordered, the clock is simulated. `apply FILE` checks
//! the digest under the state lock (a different state is refused as stale,
//! untouched), parses the recorded sources again, re-runs the whole loop in
//! memory and compares every step, the outcome and the final clock with the
//! recorded ones (`verify`) *before* the first write: a plan that differs in
//! anything — a step changed, added or removed — leaves the state untouched.
//! Re-running instead of replaying recorded actions means every action
//! carried out is one the controllers computed on the state actually on disk:
//! an edited plan file cannot inject an action the reconciler would not take
//! (a bind to a node the replica does not fit), it can only be refused.

use crate::model::state::API_VERSION;
use crate::sources::Source;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub const KIND: &str = "SavedPlan";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SavedPlan {
    pub api_version: String,
    pub kind: String,
    pub state: StateRecord,
    pub options: PlanOptions,
    pub manifests: Vec<ManifestSource>,
    /// What the plan ended in (`Converged`, `NoChanges`, `Blocked`, `Timeout`).
    pub outcome: String,
    /// The simulated clock at the end of the plan.
    pub clock: u64,
    /// The steps as `plan -o json` prints them: `{time, actions, status}`.
    pub steps: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StateRecord {
    /// `sha256:<hex>` of the state file's bytes; `null` when there was no state file.
    pub digest: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scoring {
    LeastAllocated,
    MostAllocated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Prune {
    Auto,
    Keep,
    All,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanOptions {
    pub scoring: Scoring,
    pub timeout: u64,
    pub max_steps: Option<u64>,
    pub prune: Prune,
    pub strict: bool,
    /// `plan --atomic`: a failed rollout is rolled back in the same run.
    /// Absent when false, so plans without it read as before.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub atomic: bool,
    /// `--advance`: simulated seconds run on past the end (absent when 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub advance: u64,
    /// `--epoch` for a new state (Unix seconds), when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<i64>,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestSource {
    pub name: String,
    pub text: String,
}

impl From<&Source> for ManifestSource {
    fn from(source: &Source) -> Self {
        ManifestSource {
            name: source.name.clone(),
            text: source.text.clone(),
        }
    }
}

impl ManifestSource {
    pub fn to_source(&self) -> Source {
        Source {
            name: self.name.clone(),
            text: self.text.clone(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{action} plan {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("plan {}:{line}:{column}: {message}; not a saved plan orch can read", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("plan {}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
    #[error(
        "plan is stale: state {} changed since the plan was made (recorded {}, now {}); nothing was changed, run `orch plan --out` again",
        state.display(), describe(recorded), describe(now)
    )]
    Stale {
        state: PathBuf,
        recorded: Option<String>,
        now: Option<String>,
    },
    #[error(
        "plan {}: step {step} diverged from the recorded plan ({detail}); nothing was changed",
        path.display()
    )]
    Diverged {
        path: PathBuf,
        /// 1-based.
        step: usize,
        detail: String,
    },
    #[error(
        "plan {}: the recorded {what} differs from the loop's ({detail}); nothing was changed",
        path.display()
    )]
    EndDiffers {
        path: PathBuf,
        what: &'static str,
        detail: String,
    },
}

/// The loop's run, as `verify` compares it with a saved plan.
pub struct Computed<'a> {
    /// Each step as `plan -o json` prints it.
    pub steps: &'a [serde_json::Value],
    pub outcome: &'a str,
    pub clock: u64,
}

/// The recorded plan is exactly what the loop computed: every step, in
/// order, as many of them, the same outcome and final clock. The first
/// difference is the error.
pub fn verify(path: &Path, plan: &SavedPlan, computed: &Computed) -> Result<(), PlanError> {
    let recorded = &plan.steps;
    for i in 0..recorded.len().max(computed.steps.len()) {
        let (before, after) = (recorded.get(i), computed.steps.get(i));
        if before == after {
            continue;
        }
        let detail = match (before, after) {
            (Some(before), Some(after)) => difference(before, after),
            (None, Some(after)) => format!(
                "the plan ends after {} steps, the loop took another at t={}",
                recorded.len(),
                after["time"]
            ),
            _ => format!(
                "the plan has {} steps, the loop ended after {}",
                recorded.len(),
                computed.steps.len()
            ),
        };
        return Err(PlanError::Diverged {
            path: path.into(),
            step: i + 1,
            detail,
        });
    }
    let end = |what, detail| {
        Err(PlanError::EndDiffers {
            path: path.into(),
            what,
            detail,
        })
    };
    if plan.outcome != computed.outcome {
        return end(
            "outcome",
            format!("recorded {}, computed {}", plan.outcome, computed.outcome),
        );
    }
    if plan.clock != computed.clock {
        return end(
            "final clock",
            format!("recorded t={}, computed t={}", plan.clock, computed.clock),
        );
    }
    Ok(())
}

/// The first thing that differs between a recorded step and the computed one.
fn difference(recorded: &serde_json::Value, computed: &serde_json::Value) -> String {
    if recorded["time"] != computed["time"] {
        return format!(
            "recorded at t={}, computed at t={}",
            recorded["time"], computed["time"]
        );
    }
    let empty = Vec::new();
    let actions = |step: &serde_json::Value| step["actions"].as_array().unwrap_or(&empty).clone();
    let (before, after) = (actions(recorded), actions(computed));
    for i in 0..before.len().max(after.len()) {
        if before.get(i) != after.get(i) {
            let show =
                |a: Option<&serde_json::Value>| a.map_or("nothing".to_string(), |a| a.to_string());
            return format!(
                "action {}: recorded {}, computed {}",
                i + 1,
                show(before.get(i)),
                show(after.get(i))
            );
        }
    }
    "the workload counts after the step differ".to_string()
}

fn describe(digest: &Option<String>) -> String {
    match digest {
        Some(digest) => digest.chars().take("sha256:".len() + 12).collect(),
        None => "no state file".to_string(),
    }
}

/// `sha256:<hex>` of a state file's bytes, `None` when there is no file.
pub fn digest(bytes: Option<&[u8]>) -> Option<String> {
    let mut hasher = Sha256::new();
    hasher.update(bytes?);
    Some(digest_of(hasher))
}

/// `digest`'s text for the bytes `hasher` was fed.
pub fn digest_of(hasher: Sha256) -> String {
    let hash = hasher.finalize();
    let mut text = String::with_capacity(7 + 64);
    text.push_str("sha256:");
    for byte in hash.iter() {
        let _ = write!(text, "{byte:02x}");
    }
    text
}

/// The document's text: pretty JSON, newline-terminated.
pub fn to_text(plan: &SavedPlan) -> String {
    let mut text = serde_json::to_string_pretty(plan).unwrap_or_default();
    text.push('\n');
    text
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Header {
    api_version: Option<serde_json::Value>,
    kind: Option<serde_json::Value>,
}

/// Read a saved plan, refusing anything that is not one this orch wrote:
/// not JSON, another kind (a `plan -o json` document, a state), another
/// apiVersion, an unknown or missing field.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<SavedPlan, PlanError> {
    let parse_error = |e: serde_json::Error| PlanError::Parse {
        path: path.into(),
        line: e.line(),
        column: e.column(),
        message: e.to_string().split(" at line ").next().unwrap_or("").into(),
    };
    let invalid = |message: String| PlanError::Invalid {
        path: path.into(),
        message,
    };
    let header: Header = serde_json::from_slice(bytes).map_err(parse_error)?;
    let text = |v: &Option<serde_json::Value>| match v {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => "<none>".to_string(),
    };
    if header.kind.as_ref().and_then(|k| k.as_str()) != Some(KIND) {
        return Err(invalid(format!(
            "kind {} is not {KIND}; write a saved plan with `orch plan -f PATH --out FILE`",
            text(&header.kind)
        )));
    }
    if header.api_version.as_ref().and_then(|v| v.as_str()) != Some(API_VERSION) {
        return Err(invalid(format!(
            "apiVersion {} is not supported (this orch reads {API_VERSION}); was it written by a newer orch?",
            text(&header.api_version)
        )));
    }
    serde_json::from_slice(bytes).map_err(parse_error)
}

/// Read and parse the plan file at `path`.
pub fn load(path: &Path) -> Result<SavedPlan, PlanError> {
    let bytes = std::fs::read(path).map_err(|source| PlanError::Io {
        action: "reading",
        path: path.into(),
        source,
    })?;
    parse(path, &bytes)
}

/// Write the plan atomically (the state store's temporary file and rename).
pub fn save(path: &Path, plan: &SavedPlan) -> Result<(), PlanError> {
    crate::state_store::replace_file(path, to_text(plan).as_bytes(), 0o600).map_err(
        |(action, source)| PlanError::Io {
            action,
            path: path.into(),
            source,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> SavedPlan {
        SavedPlan {
            api_version: API_VERSION.to_string(),
            kind: KIND.to_string(),
            state: StateRecord { digest: None },
            options: PlanOptions {
                scoring: Scoring::LeastAllocated,
                timeout: 3600,
                max_steps: None,
                prune: Prune::Auto,
                strict: false,
                atomic: false,
                advance: 0,
                epoch: None,
            },
            manifests: vec![ManifestSource {
                name: "m.yaml".into(),
                text: "kind: Node\n".into(),
            }],
            outcome: "Converged".into(),
            clock: 36,
            steps: vec![serde_json::json!({"time": 0, "actions": [], "status": []})],
        }
    }

    fn error(text: &str) -> String {
        parse(Path::new("p.json"), text.as_bytes())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_plan_survives_its_own_text() {
        let plan = plan();
        let text = to_text(&plan);
        assert_eq!(parse(Path::new("p.json"), text.as_bytes()).unwrap(), plan);
    }

    #[test]
    fn the_digest_is_sha256_of_the_bytes() {
        assert_eq!(
            digest(Some(b"abc")).unwrap(),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(digest(None), None);
        assert_ne!(digest(Some(b"")), digest(None));
    }

    #[test]
    fn what_is_not_a_saved_plan_is_refused_clearly() {
        assert_eq!(
            error("{\"kind\": \"SavedPlan\",\n  oops"),
            "plan p.json:2:3: key must be a string; not a saved plan orch can read"
        );
        assert_eq!(
            error(r#"{"apiVersion": "orch.dev/v1", "kind": "Plan", "steps": []}"#),
            "plan p.json: kind Plan is not SavedPlan; write a saved plan with `orch plan -f PATH --out FILE`"
        );
        assert_eq!(
            error(r#"{"apiVersion": "orch.dev/v2", "kind": "SavedPlan"}"#),
            "plan p.json: apiVersion orch.dev/v2 is not supported (this orch reads orch.dev/v1); was it written by a newer orch?"
        );
        let mut value = serde_json::to_value(plan()).unwrap();
        value["options"]["extra"] = serde_json::json!(1);
        let message = error(&value.to_string());
        assert!(message.contains("unknown field `extra`"), "{message}");
        value["options"].as_object_mut().unwrap().remove("extra");
        value.as_object_mut().unwrap().remove("steps");
        let message = error(&value.to_string());
        assert!(message.contains("missing field `steps`"), "{message}");
    }

    #[test]
    fn verify_finds_each_kind_of_tampering() {
        let step = |t: u64, op: &str| serde_json::json!({"time": t, "actions": [{"op": op}], "status": []});
        let mut recorded = plan();
        recorded.steps = vec![step(0, "create"), step(5, "mark-ready")];
        let steps = recorded.steps.clone();
        let check = |recorded: &SavedPlan, steps: &[serde_json::Value]| {
            verify(
                Path::new("p.json"),
                recorded,
                &Computed {
                    steps,
                    outcome: "Converged",
                    clock: 36,
                },
            )
            .map_err(|e| e.to_string())
        };
        assert_eq!(check(&recorded, &steps), Ok(()));
        let changed = [step(0, "create"), step(5, "delete")];
        assert!(check(&recorded, &changed).unwrap_err().contains(
            "step 2 diverged from the recorded plan (action 1: recorded {\"op\":\"mark-ready\"}, computed {\"op\":\"delete\"}); nothing was changed"
        ));
        let longer = [steps[0].clone(), steps[1].clone(), step(9, "create")];
        assert!(check(&recorded, &longer).unwrap_err().contains(
            "step 3 diverged from the recorded plan (the plan ends after 2 steps, the loop took another at t=9)"
        ));
        let shorter = [steps[0].clone()];
        assert!(check(&recorded, &shorter).unwrap_err().contains(
            "step 2 diverged from the recorded plan (the plan has 2 steps, the loop ended after 1)"
        ));
        recorded.clock = 40;
        assert!(
            check(&recorded, &steps)
                .unwrap_err()
                .contains("the recorded final clock differs")
        );
        recorded.clock = 36;
        recorded.outcome = "Blocked".into();
        assert!(
            check(&recorded, &steps)
                .unwrap_err()
                .contains("the recorded outcome differs")
        );
    }

    #[test]
    fn a_stale_plan_names_both_digests() {
        let error = PlanError::Stale {
            state: "s.yaml".into(),
            recorded: digest(Some(b"abc")),
            now: None,
        };
        assert_eq!(
            error.to_string(),
            "plan is stale: state s.yaml changed since the plan was made (recorded sha256:ba7816bf8f01, now no state file); nothing was changed, run `orch plan --out` again"
        );
    }
}
