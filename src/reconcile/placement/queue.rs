//! One pass's scheduling queue, run by run: what the scheduler places
//! binds, what it cannot place goes to preemption.

use super::{bind, gate, replica_pod};
use crate::model::pod::PodSpec;
use crate::model::state::{NodeState, Replica};
use crate::model::workload::{ObjectRef, Workload};
use crate::reconcile::Pass;
use crate::scheduler::batch::{Batch, Stats};
use crate::scheduler::remembered::Diagnoses;
use crate::scheduler::snapshot::Snapshot;
use crate::scheduler::{FitError, Scheduler};
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// The scheduling of one pass's queue: the snapshot every placement goes
/// into, the batch layer over it, and the preemption of failed runs.
pub(super) struct Queue<'s, 'n> {
    scheduler: &'s Scheduler,
    nodes: &'n [NodeState],
    node_names: Vec<Arc<str>>,
    snapshot: Snapshot,
    // Runs of identical replicas (one workload revision) are scheduled together:
    // the same placements as one at a time, with the shared work done once.
    batch: Batch<'s>,
    stats: Stats,
    preemptor: Option<crate::reconcile::preemption::Preemptor>,
}

impl<'s, 'n> Queue<'s, 'n> {
    pub(super) fn new(
        scheduler: &'s Scheduler,
        nodes: &'n [NodeState],
        snapshot: Snapshot,
        kept: Option<Arc<Diagnoses>>,
    ) -> Self {
        let node_names: Vec<Arc<str>> = snapshot.nodes.iter().map(|n| n.name.clone()).collect();
        let batch = Batch::new(scheduler, &snapshot).remembering(kept);
        Queue {
            scheduler,
            nodes,
            node_names,
            snapshot,
            batch,
            stats: Stats::default(),
            preemptor: None,
        }
    }

    /// What the batches counted, once the queue is done.
    pub(super) fn finish(mut self) -> Stats {
        self.stats.merge(self.batch.stats());
        self.stats
    }

    /// Replicas were added or removed outside the batch layer: its caches start anew.
    fn restart_batch(&mut self) {
        self.stats.merge(self.batch.stats());
        self.batch = Batch::new(self.scheduler, &self.snapshot);
    }

    /// A run that is not scheduled: gated (`gated` says why), or naming
    /// its node, where that node's kubelet admits it.
    pub(super) fn hold(
        &mut self,
        pass: &mut Pass,
        template: &PodSpec,
        run: &[&Replica],
        gated: Option<String>,
    ) {
        match gated {
            Some(message) => gate(pass, run, &message),
            None if crate::reconcile::admission::admit_all(
                pass,
                &mut self.snapshot,
                template,
                run,
            ) =>
            {
                self.restart_batch();
            }
            None => {}
        }
    }

    /// A run of replicas without claims of their own, scheduled together.
    pub(super) fn place_run(&mut self, pass: &mut Pass, template: &PodSpec, run: &[&Replica]) {
        let pod = replica_pod(template, run[0]);
        let mut replicas = run.iter();
        let mut failed: Vec<(&Replica, FitError)> = Vec::new();
        let node_names = &self.node_names;
        self.batch
            .run(&pod, &mut self.snapshot, run.len(), |result| {
                let replica = replicas.next().expect("one result per replica");
                match result {
                    Ok(placement) => {
                        bind(pass, replica, &node_names[placement.node], &pod);
                    }
                    Err(error) => failed.push((replica, error)),
                }
            });
        if !failed.is_empty() {
            let kept = self.batch.remembered().cloned();
            self.preempt(pass, &pod, failed, kept);
        }
    }

    /// Replicas with claims carry what their claims allow; a run of them
    /// (from the start of `waiting`, whose first has `claims`) shares a pod
    /// only while binding one cannot change what the next may bind (no
    /// volume to choose among). Returns how many replicas were placed.
    pub(super) fn place_with_claims(
        &mut self,
        pass: &mut Pass,
        template: &PodSpec,
        waiting: &[&Replica],
        claims: Vec<String>,
        templated: &FxHashMap<&ObjectRef, &Workload>,
    ) -> usize {
        let first = waiting[0];
        let mut pod = replica_pod(template, first).into_owned();
        let namespace = pod.namespace.clone();
        let constraints = |replica: &Replica, claims: &[String], pass: &Pass| {
            crate::reconcile::storage::constraints(
                claims,
                &namespace,
                replica,
                pass.observed,
                &pass.catalog,
                &pass.desired.storage,
                &pass.storage,
            )
        };
        let volumes = constraints(first, &claims, pass);
        let alone = crate::reconcile::storage::has_read_write_once_pod(
            &claims,
            &namespace,
            pass.observed,
            &pass.storage,
        );
        let mut members = vec![(first, claims)];
        if crate::reconcile::storage::stable(&volumes) && !alone {
            while let Some(&next) = waiting.get(members.len()) {
                if next.workload != first.workload
                    || next.hash != first.hash
                    || next.target_node.is_some()
                {
                    break;
                }
                let claims = crate::reconcile::storage::claims_of(
                    template,
                    next,
                    templated.get(&next.workload).copied(),
                );
                if constraints(next, &claims, pass) != volumes {
                    break;
                }
                members.push((next, claims));
            }
        }
        pod.volumes = volumes;
        let mut replicas = members.iter();
        let mut failed: Vec<(&Replica, FitError)> = Vec::new();
        let (nodes, node_names) = (self.nodes, &self.node_names);
        self.batch
            .run(&pod, &mut self.snapshot, members.len(), |result| {
                let (replica, claims) = replicas.next().expect("one result per replica");
                match result {
                    Ok(placement) => {
                        let node = &nodes[placement.node];
                        crate::reconcile::storage::bind_for_node(
                            pass,
                            claims,
                            &pod.namespace,
                            &node.name,
                            &node.labels,
                        );
                        crate::reconcile::storage::take_read_write_once_pod(
                            pass,
                            claims,
                            &pod.namespace,
                        );
                        bind(pass, replica, &node_names[placement.node], &pod);
                    }
                    Err(error) => failed.push((replica, error)),
                }
            });
        if !failed.is_empty() {
            self.preempt(pass, &pod, failed, None);
        }
        members.len()
    }

    /// Preemption for the replicas of a run that fit nowhere.
    fn preempt(
        &mut self,
        pass: &mut Pass,
        pod: &PodSpec,
        failed: Vec<(&Replica, FitError)>,
        kept: Option<Arc<Diagnoses>>,
    ) {
        let preemptor = self
            .preemptor
            .get_or_insert_with(|| crate::reconcile::preemption::Preemptor::new(pass));
        let verdicts = self.batch.take_verdicts();
        preemptor.resolve(
            pass,
            self.scheduler,
            &mut self.snapshot,
            pod,
            failed,
            kept,
            verdicts,
        );
        if std::mem::take(&mut preemptor.changed) {
            // Pods were removed outside the batch layer: its caches start anew.
            self.restart_batch();
        }
    }
}
