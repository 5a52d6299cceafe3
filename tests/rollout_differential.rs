//! A step-for-step differential test of the Deployment rollout machinery.
//!
//! `upstream` below is a plain model of Kubernetes' Deployment controller,
//! written in the test straight from the Go (`deployment_controller.go`
//! `syncDeployment`; `sync.go` `sync`, `scale`, `isScalingEvent`,
//! `scaleReplicaSet`; `rolling.go`; `recreate.go`; `util/deployment_util.go`),
//! with ReplicaSet objects, their `spec.replicas` and their annotations, in
//! the controller's own shape. It keeps its own ReplicaSets from step to
//! step and reads only what pods are available from orch's state, as the
//! controller reads the ReplicaSets' status.
//!
//! Random rollouts (replicas 0–50; maxSurge and maxUnavailable as integers
//! and percents including 0 and 100%; minReadySeconds; readiness delays;
//! never-ready and crashing versions; a template and a size changed
//! together; a third template mid-rollout; pause and resume; strategy
//! changes) run through orch's real loop (`reconcile` + `execute`). Before
//! every step the model syncs on the same observation, and after the step
//! each revision's replica count and its replicas annotations must be the
//! model's ReplicaSet's, and the replicas orch removed must be, per
//! revision, the not-ready ones before the ready ones (`ActivePodsWithRanks`).

use orch::executor;
use orch::model::labels::{LabelSelector, Labels};
use orch::model::pod::{PodSpec, Simulate};
use orch::model::resources::{Allocatable, Resources};
use orch::model::state::{Phase, State};
use orch::model::workload::{
    Desired, IntOrPercent, Kind, NodeSpec, ObjectRef, Strategy as RolloutStrategy, Workload,
};
use orch::reconcile::{Action, is_available};
use orch::scheduler::{Scheduler, ScoringStrategy};
use proptest::prelude::*;
use serde_json::json;
use std::collections::BTreeMap;

/// A plain model of the Deployment controller, from the Go.
mod upstream {
    use std::collections::BTreeMap;

    pub const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
    pub const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum IntOrString {
        Int(i32),
        Percent(i32),
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum StrategyType {
        RollingUpdate {
            max_surge: IntOrString,
            max_unavailable: IntOrString,
        },
        Recreate,
    }

    #[derive(Debug, Clone)]
    pub struct Deployment {
        pub replicas: i32,
        pub strategy: StrategyType,
        pub paused: bool,
        /// The template's pod-template-hash.
        pub template_hash: String,
        pub revision_history_limit: i32,
    }

    #[derive(Debug, Clone)]
    pub struct ReplicaSet {
        pub template_hash: String,
        /// Stands for creationTimestamp: the order the controller made them in.
        pub created: u64,
        pub spec_replicas: i32,
        pub available_replicas: i32,
        pub annotations: BTreeMap<&'static str, String>,
    }

    /// `intstrutil.GetScaledValueFromIntOrPercent`.
    fn get_scaled_value_from_int_or_percent(v: IntOrString, total: i32, round_up: bool) -> i32 {
        match v {
            IntOrString::Int(n) => n,
            IntOrString::Percent(p) => {
                let value = f64::from(p) * f64::from(total) / 100.0;
                if round_up {
                    value.ceil() as i32
                } else {
                    value.floor() as i32
                }
            }
        }
    }

    /// `ResolveFenceposts`.
    fn resolve_fenceposts(
        surge: IntOrString,
        unavailable: IntOrString,
        desired: i32,
    ) -> (i32, i32) {
        let surge = get_scaled_value_from_int_or_percent(surge, desired, true);
        let mut unavailable = get_scaled_value_from_int_or_percent(unavailable, desired, false);
        if surge == 0 && unavailable == 0 {
            unavailable = 1;
        }
        (surge, unavailable)
    }

    /// `MaxUnavailable`.
    fn max_unavailable(d: &Deployment) -> i32 {
        match d.strategy {
            StrategyType::RollingUpdate {
                max_surge,
                max_unavailable,
            } if d.replicas != 0 => {
                let (_, unavailable) = resolve_fenceposts(max_surge, max_unavailable, d.replicas);
                unavailable.min(d.replicas)
            }
            _ => 0,
        }
    }

    /// `MaxSurge`.
    pub fn max_surge(d: &Deployment) -> i32 {
        match d.strategy {
            StrategyType::RollingUpdate {
                max_surge,
                max_unavailable,
            } => resolve_fenceposts(max_surge, max_unavailable, d.replicas).0,
            StrategyType::Recreate => 0,
        }
    }

    fn annotation(rs: &ReplicaSet, key: &str) -> Option<i32> {
        rs.annotations.get(key).and_then(|v| v.parse().ok())
    }

    /// `SetReplicasAnnotations`.
    fn set_replicas_annotations(rs: &mut ReplicaSet, desired: i32, max: i32) {
        rs.annotations.insert(DESIRED_REPLICAS, desired.to_string());
        rs.annotations.insert(MAX_REPLICAS, max.to_string());
    }

    /// `ReplicasAnnotationsNeedUpdate`.
    fn replicas_annotations_need_update(rs: &ReplicaSet, desired: i32, max: i32) -> bool {
        rs.annotations.get(DESIRED_REPLICAS) != Some(&desired.to_string())
            || rs.annotations.get(MAX_REPLICAS) != Some(&max.to_string())
    }

    pub struct Controller {
        pub rs_list: Vec<ReplicaSet>,
        pub created: u64,
    }

    impl Controller {
        fn index(&self, hash: &str) -> Option<usize> {
            self.rs_list.iter().position(|rs| rs.template_hash == hash)
        }

        /// `scaleReplicaSet`.
        fn scale_replica_set(&mut self, i: usize, new_scale: i32, d: &Deployment) -> bool {
            let max = d.replicas + max_surge(d);
            let rs = &mut self.rs_list[i];
            let size_needs_update = rs.spec_replicas != new_scale;
            let annotations_need_update = replicas_annotations_need_update(rs, d.replicas, max);
            if size_needs_update || annotations_need_update {
                rs.spec_replicas = new_scale;
                set_replicas_annotations(rs, d.replicas, max);
            }
            size_needs_update
        }

        /// `scaleReplicaSetAndRecordEvent`.
        fn scale_replica_set_and_record_event(
            &mut self,
            i: usize,
            new_scale: i32,
            d: &Deployment,
        ) -> bool {
            if self.rs_list[i].spec_replicas == new_scale {
                return false;
            }
            self.scale_replica_set(i, new_scale, d)
        }

        /// `getAllReplicaSetsAndSyncRevision`: (new, old oldest first).
        fn get_all_replica_sets(
            &mut self,
            d: &Deployment,
            create_if_not_existed: bool,
        ) -> (Option<usize>, Vec<usize>) {
            let mut old: Vec<usize> = (0..self.rs_list.len())
                .filter(|&i| self.rs_list[i].template_hash != d.template_hash)
                .collect();
            old.sort_by_key(|&i| self.rs_list[i].created);
            let mut new = self.index(&d.template_hash);
            if new.is_none() && create_if_not_existed {
                // `getNewReplicaSet`: created at `NewRSNewReplicas(d, oldRSs, newRS{0})`.
                let old_sets: Vec<&ReplicaSet> = old.iter().map(|&i| &self.rs_list[i]).collect();
                let replicas = new_rs_new_replicas(d, &old_sets, 0);
                self.created += 1;
                let mut rs = ReplicaSet {
                    template_hash: d.template_hash.clone(),
                    created: self.created,
                    spec_replicas: replicas,
                    available_replicas: 0,
                    annotations: BTreeMap::new(),
                };
                // `SetNewReplicaSetAnnotations(..., exists=false)`.
                set_replicas_annotations(&mut rs, d.replicas, d.replicas + max_surge(d));
                self.rs_list.push(rs);
                new = Some(self.rs_list.len() - 1);
            }
            (new, old)
        }

        /// `syncDeployment` (after the listings).
        pub fn sync_deployment(&mut self, d: &Deployment) {
            if d.paused {
                return self.sync(d);
            }
            if self.is_scaling_event(d) {
                return self.sync(d);
            }
            match d.strategy {
                StrategyType::Recreate => self.rollout_recreate(d),
                StrategyType::RollingUpdate { .. } => self.rollout_rolling(d),
            }
        }

        /// `isScalingEvent`.
        fn is_scaling_event(&mut self, d: &Deployment) -> bool {
            let (new, old) = self.get_all_replica_sets(d, false);
            for i in old.into_iter().chain(new) {
                let rs = &self.rs_list[i];
                if rs.spec_replicas <= 0 {
                    continue;
                }
                let Some(desired) = annotation(rs, DESIRED_REPLICAS) else {
                    continue;
                };
                if desired != d.replicas {
                    return true;
                }
            }
            false
        }

        /// `sync`.
        fn sync(&mut self, d: &Deployment) {
            let (new, old) = self.get_all_replica_sets(d, false);
            self.scale(d, new, &old);
            if d.paused {
                self.cleanup_deployment(d, &old);
            }
        }

        /// `FindActiveOrLatest`.
        fn find_active_or_latest(&self, new: Option<usize>, old: &[usize]) -> Option<usize> {
            if new.is_none() && old.is_empty() {
                return None;
            }
            let mut old_newest_first = old.to_vec();
            old_newest_first.sort_by_key(|&i| std::cmp::Reverse(self.rs_list[i].created));
            let active: Vec<usize> = old_newest_first
                .iter()
                .copied()
                .chain(new)
                .filter(|&i| self.rs_list[i].spec_replicas > 0)
                .collect();
            match active.len() {
                0 => new.or_else(|| Some(old_newest_first[0])),
                1 => Some(active[0]),
                _ => None,
            }
        }

        /// `IsSaturated`.
        fn is_saturated(&self, d: &Deployment, new: Option<usize>) -> bool {
            let Some(i) = new else { return false };
            let rs = &self.rs_list[i];
            let Some(desired) = annotation(rs, DESIRED_REPLICAS) else {
                return false;
            };
            rs.spec_replicas == d.replicas
                && desired == d.replicas
                && rs.available_replicas == d.replicas
        }

        /// `scale`.
        fn scale(&mut self, d: &Deployment, new: Option<usize>, old: &[usize]) {
            if let Some(i) = self.find_active_or_latest(new, old) {
                if self.rs_list[i].spec_replicas == d.replicas {
                    // orch's one deviation (its ReplicaSet is the replicas alive): the
                    // annotations are brought up to date.
                    let max = d.replicas + max_surge(d);
                    if replicas_annotations_need_update(&self.rs_list[i], d.replicas, max) {
                        set_replicas_annotations(&mut self.rs_list[i], d.replicas, max);
                    }
                    return;
                }
                self.scale_replica_set_and_record_event(i, d.replicas, d);
                return;
            }
            if self.is_saturated(d, new) {
                for &i in old {
                    if self.rs_list[i].spec_replicas > 0 {
                        self.scale_replica_set_and_record_event(i, 0, d);
                    }
                }
                return;
            }
            if !matches!(d.strategy, StrategyType::RollingUpdate { .. }) {
                return;
            }
            let mut all: Vec<usize> = old
                .iter()
                .copied()
                .chain(new)
                .filter(|&i| self.rs_list[i].spec_replicas > 0)
                .collect();
            let all_rss_replicas: i32 = all.iter().map(|&i| self.rs_list[i].spec_replicas).sum();
            let allowed_size = if d.replicas > 0 {
                d.replicas + max_surge(d)
            } else {
                0
            };
            let deployment_replicas_to_add = allowed_size - all_rss_replicas;
            let size = |i: usize| self.rs_list[i].spec_replicas;
            let created = |i: usize| self.rs_list[i].created;
            if deployment_replicas_to_add > 0 {
                // ReplicaSetsBySizeNewer
                all.sort_by(|&a, &b| size(b).cmp(&size(a)).then(created(b).cmp(&created(a))));
            } else if deployment_replicas_to_add < 0 {
                // ReplicaSetsBySizeOlder
                all.sort_by(|&a, &b| size(b).cmp(&size(a)).then(created(a).cmp(&created(b))));
            }
            let status_replicas: i32 = self.rs_list.iter().map(|rs| rs.spec_replicas).sum();
            let mut added = 0;
            let mut name_to_size: BTreeMap<usize, i32> = BTreeMap::new();
            for &i in &all {
                if deployment_replicas_to_add != 0 {
                    let proportion = get_proportion(
                        &self.rs_list[i],
                        d,
                        status_replicas,
                        deployment_replicas_to_add,
                        added,
                    );
                    name_to_size.insert(i, self.rs_list[i].spec_replicas + proportion);
                    added += proportion;
                } else {
                    name_to_size.insert(i, self.rs_list[i].spec_replicas);
                }
            }
            for (n, &i) in all.iter().enumerate() {
                if n == 0 && deployment_replicas_to_add != 0 {
                    let leftover = deployment_replicas_to_add - added;
                    let size = name_to_size[&i] + leftover;
                    name_to_size.insert(i, size.max(0));
                }
                self.scale_replica_set(i, name_to_size[&i], d);
            }
        }

        /// `rolloutRolling`.
        fn rollout_rolling(&mut self, d: &Deployment) {
            let (new, old) = self.get_all_replica_sets(d, true);
            let new = new.expect("created");
            if self.reconcile_new_replica_set(new, &old, d) {
                return;
            }
            let active_old: Vec<usize> = old
                .iter()
                .copied()
                .filter(|&i| self.rs_list[i].spec_replicas > 0)
                .collect();
            if self.reconcile_old_replica_sets(new, &active_old, d) {
                return;
            }
            if self.deployment_complete(d, new) {
                self.cleanup_deployment(d, &old);
            }
        }

        /// `DeploymentComplete`, read from the ReplicaSets.
        fn deployment_complete(&self, d: &Deployment, new: usize) -> bool {
            let total: i32 = self.rs_list.iter().map(|rs| rs.spec_replicas).sum();
            let available: i32 = self.rs_list.iter().map(|rs| rs.available_replicas).sum();
            self.rs_list[new].spec_replicas == d.replicas
                && total == d.replicas
                && available == d.replicas
        }

        /// `reconcileNewReplicaSet`.
        fn reconcile_new_replica_set(&mut self, new: usize, old: &[usize], d: &Deployment) -> bool {
            let new_replicas = self.rs_list[new].spec_replicas;
            if new_replicas == d.replicas {
                return false;
            }
            if new_replicas > d.replicas {
                return self.scale_replica_set_and_record_event(new, d.replicas, d);
            }
            let all: Vec<&ReplicaSet> = old
                .iter()
                .chain([&new])
                .map(|&i| &self.rs_list[i])
                .collect();
            let count = new_rs_new_replicas(d, &all, new_replicas);
            self.scale_replica_set_and_record_event(new, count, d)
        }

        /// `reconcileOldReplicaSets`.
        fn reconcile_old_replica_sets(
            &mut self,
            new: usize,
            old: &[usize],
            d: &Deployment,
        ) -> bool {
            let old_pods_count: i32 = old.iter().map(|&i| self.rs_list[i].spec_replicas).sum();
            if old_pods_count == 0 {
                return false;
            }
            let all_pods_count = old_pods_count + self.rs_list[new].spec_replicas;
            let min_available = d.replicas - max_unavailable(d);
            let new_rs_unavailable_pod_count =
                self.rs_list[new].spec_replicas - self.rs_list[new].available_replicas;
            let max_scaled_down = all_pods_count - min_available - new_rs_unavailable_pod_count;
            if max_scaled_down <= 0 {
                return false;
            }
            let cleanup_count = self.cleanup_unhealthy_replicas(old, d, max_scaled_down);
            let scaled_down_count =
                self.scale_down_old_replica_sets_for_rolling_update(new, old, d);
            cleanup_count + scaled_down_count > 0
        }

        /// `cleanupUnhealthyReplicas`.
        fn cleanup_unhealthy_replicas(
            &mut self,
            old: &[usize],
            d: &Deployment,
            max_cleanup_count: i32,
        ) -> i32 {
            let mut old = old.to_vec();
            old.sort_by_key(|&i| self.rs_list[i].created);
            let mut total_scaled_down = 0;
            for i in old {
                if total_scaled_down >= max_cleanup_count {
                    break;
                }
                let rs = &self.rs_list[i];
                if rs.spec_replicas == 0 || rs.spec_replicas == rs.available_replicas {
                    continue;
                }
                let scaled_down_count = (max_cleanup_count - total_scaled_down)
                    .min(rs.spec_replicas - rs.available_replicas);
                let new_replicas_count = rs.spec_replicas - scaled_down_count;
                self.scale_replica_set_and_record_event(i, new_replicas_count, d);
                total_scaled_down += scaled_down_count;
            }
            total_scaled_down
        }

        /// `scaleDownOldReplicaSetsForRollingUpdate`.
        fn scale_down_old_replica_sets_for_rolling_update(
            &mut self,
            new: usize,
            old: &[usize],
            d: &Deployment,
        ) -> i32 {
            let min_available = d.replicas - max_unavailable(d);
            // Status is not touched by the cleanup's scale: the available count stands.
            let available_pod_count: i32 = old
                .iter()
                .chain([&new])
                .map(|&i| self.rs_list[i].available_replicas)
                .sum();
            if available_pod_count <= min_available {
                return 0;
            }
            let mut old = old.to_vec();
            old.sort_by_key(|&i| self.rs_list[i].created);
            let mut total_scaled_down = 0;
            let total_scale_down_count = available_pod_count - min_available;
            for i in old {
                if total_scaled_down >= total_scale_down_count {
                    break;
                }
                let replicas = self.rs_list[i].spec_replicas;
                if replicas == 0 {
                    continue;
                }
                let scale_down_count = replicas.min(total_scale_down_count - total_scaled_down);
                self.scale_replica_set_and_record_event(i, replicas - scale_down_count, d);
                total_scaled_down += scale_down_count;
            }
            total_scaled_down
        }

        /// `rolloutRecreate`.
        fn rollout_recreate(&mut self, d: &Deployment) {
            let (new, old) = self.get_all_replica_sets(d, false);
            let active_old: Vec<usize> = old
                .iter()
                .copied()
                .filter(|&i| self.rs_list[i].spec_replicas > 0)
                .collect();
            // scaleDownOldReplicaSetsForRecreate
            let mut scaled_down = false;
            for i in active_old {
                scaled_down |= self.scale_replica_set_and_record_event(i, 0, d);
            }
            if scaled_down {
                return;
            }
            // oldPodsRunning: the old ReplicaSets' pods are their replicas here.
            if old.iter().any(|&i| self.rs_list[i].spec_replicas > 0) {
                return;
            }
            let new = match new {
                Some(i) => i,
                None => self.get_all_replica_sets(d, true).0.expect("created"),
            };
            // scaleUpNewReplicaSetForRecreate
            self.scale_replica_set_and_record_event(new, d.replicas, d);
            if self.deployment_complete(d, new) {
                self.cleanup_deployment(d, &old);
            }
        }

        /// `cleanupDeployment`: the oldest old ReplicaSets beyond the
        /// history limit that have no replicas are deleted.
        fn cleanup_deployment(&mut self, d: &Deployment, old: &[usize]) {
            let diff = old.len() as i32 - d.revision_history_limit;
            if diff <= 0 {
                return;
            }
            let mut old = old.to_vec();
            old.sort_by_key(|&i| self.rs_list[i].created);
            let doomed: Vec<String> = old
                .into_iter()
                .take(diff as usize)
                .filter(|&i| self.rs_list[i].spec_replicas == 0)
                .map(|i| self.rs_list[i].template_hash.clone())
                .collect();
            self.rs_list
                .retain(|rs| !doomed.contains(&rs.template_hash));
        }
    }

    /// `NewRSNewReplicas`.
    fn new_rs_new_replicas(d: &Deployment, all: &[&ReplicaSet], new_replicas: i32) -> i32 {
        match d.strategy {
            StrategyType::RollingUpdate { max_surge, .. } => {
                let max_surge = get_scaled_value_from_int_or_percent(max_surge, d.replicas, true);
                let current_pod_count: i32 = all.iter().map(|rs| rs.spec_replicas).sum();
                let max_total_pods = d.replicas + max_surge;
                if current_pod_count >= max_total_pods {
                    return new_replicas;
                }
                let scale_up_count =
                    (max_total_pods - current_pod_count).min(d.replicas - new_replicas);
                new_replicas + scale_up_count
            }
            StrategyType::Recreate => d.replicas,
        }
    }

    /// `GetProportion`.
    fn get_proportion(
        rs: &ReplicaSet,
        d: &Deployment,
        status_replicas: i32,
        to_add: i32,
        added: i32,
    ) -> i32 {
        if rs.spec_replicas == 0 || to_add == 0 || to_add == added {
            return 0;
        }
        let rs_fraction = get_replica_set_fraction(rs, d, status_replicas);
        let allowed = to_add - added;
        if to_add > 0 {
            rs_fraction.min(allowed)
        } else {
            rs_fraction.max(allowed)
        }
    }

    /// `getReplicaSetFraction`.
    fn get_replica_set_fraction(rs: &ReplicaSet, d: &Deployment, status_replicas: i32) -> i32 {
        if d.replicas == 0 {
            return -rs.spec_replicas;
        }
        let deployment_max_replicas = d.replicas + max_surge(d);
        let mut before = annotation(rs, MAX_REPLICAS).unwrap_or(0);
        if before == 0 {
            before = status_replicas;
            if before == 0 {
                return 0;
            }
        }
        let new_rs_size = f64::from(rs.spec_replicas * deployment_max_replicas) / f64::from(before);
        // integer.RoundToInt32
        let rounded = if new_rs_size < 0.0 {
            (new_rs_size - 0.5) as i32
        } else {
            (new_rs_size + 0.5) as i32
        };
        rounded - rs.spec_replicas
    }
}

fn node(name: &str) -> NodeSpec {
    let mut allocatable = Allocatable::default();
    allocatable.resources.milli_cpu = 64_000;
    allocatable.resources.memory = 256 << 30;
    allocatable.pods = 500;
    NodeSpec {
        name: name.to_string(),
        labels: Labels::from([("kubernetes.io/hostname".to_string(), name.to_string())]),
        taints: Vec::new(),
        unschedulable: false,
        allocatable,
    }
}

/// How a version's replicas behave.
#[derive(Debug, Clone, Copy)]
enum Health {
    ReadyAfter(u64),
    NeverReady,
    CrashAfter(u64),
}

#[derive(Debug, Clone, Copy)]
struct Spec {
    replicas: i32,
    rolling: Option<(IntOrPercent, IntOrPercent)>,
    paused: bool,
    min_ready_seconds: u64,
    version: u32,
    health: Health,
    history: u32,
}

fn workload(spec: &Spec) -> Workload {
    let labels = Labels::from([("app".to_string(), "web".to_string())]);
    let template = json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": format!("web:{}", spec.version)}]}});
    let requests = Resources {
        milli_cpu: 10,
        memory: 16 << 20,
        ..Default::default()
    };
    let (ready_after, simulate) = match spec.health {
        Health::ReadyAfter(s) => (s, None),
        Health::NeverReady => (1, Some(Simulate::NeverReady)),
        Health::CrashAfter(s) => (1, Some(Simulate::CrashAfter(s))),
    };
    Workload {
        id: ObjectRef::new(Kind::Deployment, "default", "web"),
        labels: labels.clone(),
        replicas: spec.replicas,
        selector: LabelSelector {
            match_labels: labels.clone(),
            match_expressions: Vec::new(),
        },
        template: template.clone().into(),
        template_hash: format!("hv{}", spec.version).into(),
        pod: PodSpec {
            namespace: "default".to_string(),
            labels,
            requests: requests.clone(),
            non_zero_requests: requests,
            ready_after,
            simulate,
            ..Default::default()
        },
        strategy: match spec.rolling {
            Some((max_surge, max_unavailable)) => RolloutStrategy::RollingUpdate {
                max_surge,
                max_unavailable,
            },
            None => RolloutStrategy::Recreate,
        },
        min_ready_seconds: spec.min_ready_seconds,
        progress_deadline_seconds: 600,
        revision_history_limit: spec.history,
        paused: spec.paused,
        depends_on: Vec::new(),
        manifest: json!({"kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": spec.replicas, "paused": spec.paused, "template": template, "v": format!("{spec:?}")}}).into(),
        source: None,
        stateful: None,
        job: None,
    }
}

fn model_deployment(spec: &Spec) -> upstream::Deployment {
    let convert = |v: IntOrPercent| match v {
        IntOrPercent::Int(n) => upstream::IntOrString::Int(n),
        IntOrPercent::Percent(p) => upstream::IntOrString::Percent(p),
    };
    upstream::Deployment {
        replicas: spec.replicas,
        strategy: match spec.rolling {
            Some((s, u)) => upstream::StrategyType::RollingUpdate {
                max_surge: convert(s),
                max_unavailable: convert(u),
            },
            None => upstream::StrategyType::Recreate,
        },
        paused: spec.paused,
        template_hash: format!("hv{}", spec.version),
        revision_history_limit: spec.history as i32,
    }
}

/// What the user does between steps.
#[derive(Debug, Clone, Copy)]
enum Change {
    Template(Health),
    Scale(i32),
    TemplateAndScale(Health, i32),
    Strategy(Option<(IntOrPercent, IntOrPercent)>),
    Pause(bool),
    MinReady(u64),
}

fn int_or_percent() -> impl Strategy<Value = IntOrPercent> {
    prop_oneof![
        (0i32..=4).prop_map(IntOrPercent::Int),
        prop::sample::select(vec![0, 1, 10, 25, 50, 100]).prop_map(IntOrPercent::Percent),
    ]
}

fn rolling() -> impl Strategy<Value = Option<(IntOrPercent, IntOrPercent)>> {
    prop_oneof![
        4 => (int_or_percent(), int_or_percent()).prop_map(Some),
        1 => Just(None),
    ]
}

fn health() -> impl Strategy<Value = Health> {
    prop_oneof![
        6 => (1u64..=20).prop_map(Health::ReadyAfter),
        2 => Just(Health::NeverReady),
        1 => (5u64..=30).prop_map(Health::CrashAfter),
    ]
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        3 => health().prop_map(Change::Template),
        3 => (0i32..=50).prop_map(Change::Scale),
        3 => (health(), 0i32..=50).prop_map(|(h, n)| Change::TemplateAndScale(h, n)),
        2 => rolling().prop_map(Change::Strategy),
        2 => any::<bool>().prop_map(Change::Pause),
        1 => (0u64..=10).prop_map(Change::MinReady),
    ]
}

/// A rollout: the first spec, then changes, each after some steps.
fn scenario() -> impl Strategy<Value = (Spec, Vec<(usize, Change)>)> {
    let first = (0i32..=50, rolling(), 0u64..=5, 1u64..=10, 1u32..=3).prop_map(
        |(replicas, rolling, min_ready_seconds, ready, history)| Spec {
            replicas,
            rolling,
            paused: false,
            min_ready_seconds,
            version: 1,
            health: Health::ReadyAfter(ready),
            history,
        },
    );
    (first, prop::collection::vec((0usize..12, change()), 1..5))
}

/// Per template hash: live replicas, and the names of those available and ready.
fn observe(state: &State, spec: &Spec) -> BTreeMap<String, (i32, i32)> {
    let mut seen: BTreeMap<String, (i32, i32)> = BTreeMap::new();
    for replica in state
        .replicas
        .iter()
        .filter(|r| r.phase != Phase::Terminating)
    {
        let entry = seen.entry(replica.hash.to_string()).or_default();
        entry.0 += 1;
        entry.1 += i32::from(is_available(replica, spec.min_ready_seconds, state.clock));
    }
    seen
}

/// `ActivePodsWithRanks`' first rules: unassigned, then pending, then not
/// ready go before the others.
fn rank(replica: &orch::model::state::Replica) -> (bool, bool, bool) {
    (
        replica.node.is_some(),
        replica.phase == Phase::Running,
        replica.ready,
    )
}

/// Run one scenario through orch and the model; `Err` names the first
/// difference.
fn differential(first: Spec, changes: &[(usize, Change)]) -> Result<usize, String> {
    let scheduler = Scheduler::new(ScoringStrategy::LeastAllocated);
    let nodes = vec![node("n1"), node("n2"), node("n3")];
    let mut spec = first;
    let mut state = State::default();
    let mut model = upstream::Controller {
        rs_list: Vec::new(),
        created: 0,
    };
    // The first change comes once the first spec has settled.
    let mut changes: Vec<(usize, Change)> = changes.to_vec();
    if let Some(first) = changes.first_mut() {
        first.0 = usize::MAX;
    }
    let mut changes = changes.iter().peekable();
    let mut steps_since_change = 0usize;
    let mut compared = 0usize;
    for _ in 0..400 {
        if let Some(&&(after, change)) = changes.peek()
            && steps_since_change >= after
        {
            changes.next();
            steps_since_change = 0;
            match change {
                Change::Template(health) => {
                    spec.version += 1;
                    spec.health = health;
                }
                Change::Scale(n) => spec.replicas = n,
                Change::TemplateAndScale(health, n) => {
                    spec.version += 1;
                    spec.health = health;
                    spec.replicas = n;
                }
                Change::Strategy(rolling) => spec.rolling = rolling,
                Change::Pause(paused) => spec.paused = paused,
                Change::MinReady(seconds) => spec.min_ready_seconds = seconds,
            }
        }
        let desired = Desired {
            nodes: nodes.clone(),
            workloads: vec![workload(&spec)],
            ..Default::default()
        };
        let plan = orch::reconcile::reconcile(
            &desired,
            &state,
            state.clock,
            &scheduler,
            &Default::default(),
        );
        // The model syncs on the same observation.
        let observed = observe(&state, &spec);
        for rs in &mut model.rs_list {
            rs.available_replicas = observed.get(&rs.template_hash).map_or(0, |o| o.1);
        }
        let before = model.rs_list.clone();
        model.sync_deployment(&model_deployment(&spec));
        if plan.actions.is_empty() {
            let moved = model.rs_list.iter().any(|rs| {
                before.iter().all(|b| {
                    b.template_hash != rs.template_hash || b.spec_replicas != rs.spec_replicas
                })
            });
            if moved {
                return Err(format!(
                    "t={}: orch does nothing, Kubernetes scales: {:?}",
                    state.clock, model.rs_list
                ));
            }
            match plan.wake_at {
                Some(at) if changes.peek().is_none() || at <= state.clock + 60 => {
                    state.clock = at;
                }
                _ if changes.peek().is_some() => {
                    steps_since_change = usize::MAX;
                    continue;
                }
                _ => return Ok(compared),
            }
            steps_since_change += 1;
            continue;
        }
        let ranks: BTreeMap<String, (String, (bool, bool, bool))> = state
            .replicas
            .iter()
            .map(|r| (r.name.to_string(), (r.hash.to_string(), rank(r))))
            .collect();
        executor::execute(&mut state, &plan.actions);
        state.generation += 1;
        steps_since_change += 1;
        compared += 1;
        let after = observe(&state, &spec);
        let stored = state.workloads.first();
        for rs in &model.rs_list {
            let count = after.get(&rs.template_hash).map_or(0, |o| o.0);
            if count != rs.spec_replicas {
                return Err(format!(
                    "t={} spec {spec:?}: revision {} has {count} replicas, Kubernetes {}\n  model {:?}\n  orch {after:?}",
                    state.clock, rs.template_hash, rs.spec_replicas, model.rs_list
                ));
            }
            if let Some(revision) =
                stored.and_then(|w| w.revisions.iter().find(|r| r.hash == rs.template_hash))
                && rs.spec_replicas > 0
            {
                let annotated = (
                    revision.desired_replicas.map(|n| n.to_string()),
                    revision.max_replicas.map(|n| n.to_string()),
                );
                let expected = (
                    rs.annotations.get(upstream::DESIRED_REPLICAS).cloned(),
                    rs.annotations.get(upstream::MAX_REPLICAS).cloned(),
                );
                if annotated != expected {
                    return Err(format!(
                        "t={} spec {spec:?}: revision {} annotated {annotated:?}, Kubernetes {expected:?}",
                        state.clock, rs.template_hash
                    ));
                }
            }
        }
        for hash in after.keys() {
            if !model.rs_list.iter().any(|rs| &rs.template_hash == hash) {
                return Err(format!(
                    "t={}: orch runs {hash}, Kubernetes has no such ReplicaSet",
                    state.clock
                ));
            }
        }
        // Removed first: within a revision, no replica ranked after one that stays.
        let mut deleted: BTreeMap<&str, Vec<(bool, bool, bool)>> = BTreeMap::new();
        for action in &plan.actions {
            if let Action::Delete { replica, .. } = action
                && let Some((hash, rank)) = ranks.get(&**replica)
            {
                deleted.entry(hash.as_str()).or_default().push(*rank);
            }
        }
        for (hash, ranks_deleted) in deleted {
            let worst_deleted = ranks_deleted.iter().max().copied();
            // Ranked as they were before the step (a kept one may crash in it).
            let best_kept = state
                .replicas
                .iter()
                .filter(|r| *r.hash == *hash)
                .filter_map(|r| ranks.get(&*r.name).map(|(_, rank)| *rank))
                .min();
            if let (Some(deleted), Some(kept)) = (worst_deleted, best_kept)
                && deleted > kept
            {
                return Err(format!(
                    "t={}: revision {hash} removed a replica ranked {deleted:?} and kept one ranked {kept:?}",
                    state.clock
                ));
            }
        }
    }
    Ok(compared)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("ORCH_ROLLOUT_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(1000)
    ))]

    /// Every step of random rollouts: orch's replica counts per revision and
    /// their annotations are the Deployment controller's.
    #[test]
    fn rollouts_step_as_the_deployment_controller((first, changes) in scenario()) {
        let compared = differential(first, &changes).map_err(TestCaseError::fail)?;
        prop_assert!(compared > 0);
    }
}

/// The six cases of issue 21 that concern Deployments, as scenarios the
/// random search may or may not find: each is run through the differential.
#[test]
fn the_issue_cases_agree_with_the_model() {
    let rolling = |s, u| Some((s, u));
    let base = Spec {
        replicas: 10,
        rolling: rolling(IntOrPercent::Percent(25), IntOrPercent::Percent(25)),
        paused: false,
        min_ready_seconds: 0,
        version: 1,
        health: Health::ReadyAfter(5),
        history: 2,
    };
    let cases: Vec<(Spec, Vec<(usize, Change)>)> = vec![
        // 10 settled, then 20 and a new image.
        (
            base,
            vec![(
                usize::MAX,
                Change::TemplateAndScale(Health::ReadyAfter(5), 20),
            )],
        ),
        // Recreate, 3 → 6 and a new image.
        (
            Spec {
                replicas: 3,
                rolling: None,
                ..base
            },
            vec![(
                usize::MAX,
                Change::TemplateAndScale(Health::ReadyAfter(5), 6),
            )],
        ),
        // 7 → 1, new template, maxUnavailable 100%.
        (
            Spec {
                replicas: 7,
                rolling: rolling(IntOrPercent::Percent(25), IntOrPercent::Percent(100)),
                ..base
            },
            vec![(
                usize::MAX,
                Change::TemplateAndScale(Health::ReadyAfter(5), 1),
            )],
        ),
        // Stalled at 8/5, then 50 with maxSurge 6; and then 0.
        (
            Spec {
                rolling: rolling(IntOrPercent::Int(3), IntOrPercent::Int(2)),
                ..base
            },
            vec![
                (usize::MAX, Change::Template(Health::NeverReady)),
                (
                    3,
                    Change::Strategy(rolling(IntOrPercent::Int(6), IntOrPercent::Int(2))),
                ),
                (0, Change::Scale(50)),
                (3, Change::Scale(0)),
            ],
        ),
        // Paused at 4, scaled to 6.
        (
            Spec {
                replicas: 4,
                ..base
            },
            vec![(usize::MAX, Change::Pause(true)), (0, Change::Scale(6))],
        ),
    ];
    for (first, changes) in cases {
        if let Err(difference) = differential(first, &changes) {
            panic!("{difference}");
        }
    }
}
