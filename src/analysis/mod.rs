//! Hypothetical questions asked of the real loop, on copies of the state:
//! what a failed node or zone, an added node or a scaled Deployment would
//! do (`what_if`), and how many more replicas of a workload would still fit
//! (`capacity`). Pure: the same executor and scheduler as `plan`, never the disk.

pub mod capacity;
pub mod fast_capacity;
pub mod what_if;

use crate::model::workload::{Desired, Kind, ObjectRef, WorkloadKind};

/// The largest replica count a manifest may declare (as the manifest parser refuses above it).
pub const MAX_REPLICAS: i32 = 1_000_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnalysisError {
    #[error("node {name} not found (nodes: {})", list(.known))]
    UnknownNode { name: String, known: Vec<String> },
    #[error("no node in zone {zone} (topology.kubernetes.io/zone values: {})", list(.known))]
    UnknownZone { zone: String, known: Vec<String> },
    #[error("no workload {text} in the manifests (workloads: {})", list(.known))]
    UnknownWorkload { text: String, known: Vec<String> },
    #[error("{text} names several workloads ({}); give Kind/namespace/name", .candidates.join(", "))]
    AmbiguousWorkload {
        text: String,
        candidates: Vec<String>,
    },
    #[error(
        "--scale {object}: a DaemonSet runs one replica per eligible node; only Deployments scale"
    )]
    NotScalable { object: String },
    #[error("--scale {text}: {message}")]
    BadScale { text: String, message: String },
    #[error("--add-node: node {name} already exists in the state")]
    NodeExists { name: String },
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

/// A workload named on the command line: `Kind/namespace/name`, `Kind/name`
/// (namespace `default`) or a bare name, which must be unique among the workloads.
pub fn resolve_workload(desired: &Desired, text: &str) -> Result<ObjectRef, AnalysisError> {
    let known = || desired.workloads.iter().map(|w| w.id.to_string()).collect();
    let found: Vec<&ObjectRef> = if text.contains('/') {
        let id =
            ObjectRef::parse(text, "default").ok_or_else(|| AnalysisError::UnknownWorkload {
                text: text.to_string(),
                known: known(),
            })?;
        desired
            .workloads
            .iter()
            .map(|w| &w.id)
            .filter(|w| **w == id)
            .collect()
    } else {
        desired
            .workloads
            .iter()
            .map(|w| &w.id)
            .filter(|w| &*w.name == text)
            .collect()
    };
    match found.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(AnalysisError::UnknownWorkload {
            text: text.to_string(),
            known: known(),
        }),
        many => Err(AnalysisError::AmbiguousWorkload {
            text: text.to_string(),
            candidates: many.iter().map(ToString::to_string).collect(),
        }),
    }
}

/// `--scale KIND/NAME=N` or `NAME=N`: a Deployment and its hypothetical replica count.
pub fn parse_scale(desired: &Desired, text: &str) -> Result<(ObjectRef, i32), AnalysisError> {
    let bad = |message: &str| AnalysisError::BadScale {
        text: text.to_string(),
        message: message.to_string(),
    };
    let (target, count) = text
        .rsplit_once('=')
        .ok_or_else(|| bad("expected KIND/NAME=N or NAME=N"))?;
    let count: i64 = count
        .trim()
        .parse()
        .map_err(|_| bad("the replica count must be a whole number"))?;
    if !(0..=i64::from(MAX_REPLICAS)).contains(&count) {
        return Err(bad(&format!(
            "the replica count must be between 0 and {MAX_REPLICAS}"
        )));
    }
    let id = resolve_workload(desired, target.trim())?;
    let is_deployment = desired
        .workloads
        .iter()
        .any(|w| w.id == id && w.kind() == WorkloadKind::Deployment);
    if !is_deployment || id.kind != Kind::Deployment {
        return Err(AnalysisError::NotScalable {
            object: id.to_string(),
        });
    }
    Ok((id, count as i32))
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! Small fleets and workloads written as manifests, parsed as `-f` would.

    use crate::executor::{RunOptions, run};
    use crate::manifest::{self, ParseOptions};
    use crate::model::state::State;
    use crate::model::workload::Desired;
    use crate::scheduler::{Scheduler, ScoringStrategy};
    use crate::sources::Source;

    pub fn desired(text: &str) -> Desired {
        let sources = [Source {
            name: "test.yaml".to_string(),
            text: text.to_string(),
        }];
        match manifest::parse(&sources, &ParseOptions::default()) {
            Ok(loaded) => loaded.desired,
            Err(diagnostics) => panic!("bad fixture: {diagnostics:?}"),
        }
    }

    /// The state the loop reaches from empty on `desired`.
    pub fn converged(desired: &Desired) -> State {
        let mut state = State::default();
        let scheduler = Scheduler::new(ScoringStrategy::LeastAllocated);
        run(
            desired,
            &mut state,
            &scheduler,
            &RunOptions::default(),
            |_, _| Ok::<(), ()>(()),
        )
        .expect("the loop runs");
        state
    }

    pub fn node(name: &str, zone: &str, cpu: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\n  labels: {{topology.kubernetes.io/zone: {zone}}}\nstatus:\n  allocatable: {{cpu: \"{cpu}\", memory: 16Gi, pods: \"110\"}}\n---\n"
        )
    }

    /// A Deployment of `replicas` × `cpu`, with extra pod spec lines (indented by 6).
    pub fn deployment(name: &str, replicas: i32, cpu: &str, extra: &str) -> String {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels: {{app: {name}}}\n  template:\n    metadata:\n      labels: {{app: {name}}}\n    spec:\n{extra}      containers:\n        - name: main\n          image: example/{name}:1\n          resources:\n            requests: {{cpu: \"{cpu}\", memory: 1Gi}}\n---\n"
        )
    }

    pub const DAEMONSET: &str = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: agent\n  namespace: kube-system\nspec:\n  selector:\n    matchLabels: {app: agent}\n  template:\n    metadata:\n      labels: {app: agent}\n    spec:\n      containers:\n        - name: agent\n          image: example/agent:1\n          resources:\n            requests: {cpu: 100m, memory: 64Mi}\n---\n";
}

#[cfg(test)]
mod tests {
    use super::fixtures::{DAEMONSET, deployment, desired};
    use super::*;

    fn platform() -> Desired {
        desired(&format!(
            "{}{}{DAEMONSET}",
            deployment("api", 2, "1", ""),
            deployment("web", 1, "1", "")
        ))
    }

    #[test]
    fn workloads_resolve_by_full_name_kind_and_name_or_bare_name() {
        let desired = platform();
        let api = ObjectRef::new(Kind::Deployment, "default", "api");
        assert_eq!(resolve_workload(&desired, "api"), Ok(api.clone()));
        assert_eq!(
            resolve_workload(&desired, "Deployment/api"),
            Ok(api.clone())
        );
        assert_eq!(
            resolve_workload(&desired, "Deployment/default/api"),
            Ok(api)
        );
        let error = resolve_workload(&desired, "nope").unwrap_err();
        assert_eq!(
            error.to_string(),
            "no workload nope in the manifests (workloads: Deployment/default/api, Deployment/default/web, DaemonSet/kube-system/agent)"
        );
        assert!(matches!(
            resolve_workload(&desired, "DaemonSet/agent"),
            Err(AnalysisError::UnknownWorkload { .. })
        ));
    }

    #[test]
    fn scale_takes_deployments_and_sane_counts_only() {
        let desired = platform();
        let api = ObjectRef::new(Kind::Deployment, "default", "api");
        assert_eq!(parse_scale(&desired, "api=7"), Ok((api.clone(), 7)));
        assert_eq!(parse_scale(&desired, "Deployment/api=0"), Ok((api, 0)));
        assert_eq!(
            parse_scale(&desired, "DaemonSet/kube-system/agent=3")
                .unwrap_err()
                .to_string(),
            "--scale DaemonSet/kube-system/agent: a DaemonSet runs one replica per eligible node; only Deployments scale"
        );
        for bad in ["api", "api=-1", "api=x", "api=1000001"] {
            assert!(
                matches!(
                    parse_scale(&desired, bad),
                    Err(AnalysisError::BadScale { .. })
                ),
                "{bad}"
            );
        }
    }
}
