//! What a report shows, as compact data: the fleet (nodes by zone, their
//! allocatable), the workloads, and per step of the run the counts of each
//! workload and the change in where replicas sit. A `Recorder` is fed each
//! state the executor hands its callback and keeps only these aggregates
//! (a few numbers per changed node and workload), never a copy of a state,
//! so a 150,000-replica run stays a page of a few megabytes. Workloads are
//! whatever the state holds, of any kind. HorizontalPodAutoscalers add
//! their own series (`autoscalers`).

use super::autoscalers::{Autoscaler, Sample, Series};
use crate::executor::RunResult;
use crate::model::state::{Phase, State};
use crate::model::workload::{Desired, ObjectRef};
use crate::reconcile::{Catalog, summarize};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// The label nodes are grouped by.
const ZONE_LABEL: &str = "topology.kubernetes.io/zone";
/// Events kept for the page (the newest).
const EVENTS: usize = 2000;
/// Pending workloads whose per-node filter verdicts are worked out.
pub const EXPLAINED: usize = 12;

/// The whole report, serialized into the page.
#[derive(Debug, Default, Serialize)]
pub struct Data {
    pub title: String,
    pub command: String,
    pub outcome: String,
    pub summary: String,
    pub zones: Vec<String>,
    pub nodes: Nodes,
    pub workloads: Vec<Workload>,
    /// Frame 0 is the state before the run; frame `i` the state after step `i - 1`.
    pub frames: Vec<Frame>,
    pub pending: Vec<Pending>,
    pub events: Vec<(u64, String, String, String, String)>,
    pub what_if: Option<serde_json::Value>,
    /// Each HPA's demand and counts on the frames' axis (none without HPAs).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub autoscalers: Vec<Autoscaler>,
}

/// Nodes as parallel arrays, in zone then name order.
#[derive(Debug, Default, Serialize)]
pub struct Nodes {
    pub name: Vec<String>,
    pub zone: Vec<u32>,
    /// Allocatable millicores, MiB, pods.
    pub cpu: Vec<i64>,
    pub mem: Vec<i64>,
    pub pods: Vec<i64>,
    /// 1 when the node is not ready (or failed, in a what-if).
    pub down: Vec<u8>,
}

#[derive(Debug, Default, Serialize)]
pub struct Workload {
    pub name: String,
    pub kind: String,
    pub desired: i32,
    pub status: String,
    pub reason: Option<String>,
    pub message: Option<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct Frame {
    pub time: u64,
    /// Shown actions in the step (0 for frame 0).
    pub actions: usize,
    /// Per workload: current, ready, available, updated, pending.
    pub counts: Vec<[i32; 5]>,
    /// Changes of placement: `[node, workload, delta]` triples, flat.
    pub place: Vec<i64>,
    /// Changes of requests: `[node, millicores, MiB]` triples, flat.
    pub used: Vec<i64>,
    /// Ready nodes, where node groups are in play.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nodes: Option<u32>,
}

/// A workload's pending replicas, and one's verdict on every node.
#[derive(Debug, Default, Serialize)]
pub struct Pending {
    pub workload: u32,
    pub count: usize,
    pub replica: String,
    pub message: String,
    /// Distinct verdicts (`Plugin: reason`); `verdict[node]` indexes them, -1 fits.
    pub reasons: Vec<String>,
    pub verdict: Vec<i32>,
}

/// Per-step aggregates of the states a run goes through.
pub struct Recorder<'a> {
    desired: &'a Desired,
    pub data: Data,
    node_index: HashMap<String, u32>,
    workload_index: HashMap<String, u32>,
    /// Per workload and revision hash: a replica's millicores and MiB.
    requests: HashMap<(ObjectRef, Arc<str>), (i64, i64)>,
    /// The workload index of each object met in the state, without formatting it again.
    by_ref: HashMap<ObjectRef, u32>,
    placed: HashMap<(u32, u32), i64>,
    used: Vec<(i64, i64)>,
    autoscalers: Series,
}

impl<'a> Recorder<'a> {
    /// A recorder whose frame 0 is `state`, before the run.
    pub fn new(desired: &'a Desired, state: &State, title: &str, command: &str) -> Self {
        let mut recorder = Recorder {
            desired,
            data: Data {
                title: title.to_string(),
                command: command.to_string(),
                ..Data::default()
            },
            node_index: HashMap::new(),
            workload_index: HashMap::new(),
            requests: HashMap::new(),
            by_ref: HashMap::new(),
            placed: HashMap::new(),
            used: Vec::new(),
            autoscalers: Series::default(),
        };
        recorder.nodes(state);
        for report in summarize(desired, state, state.clock) {
            recorder.workload(&report.object);
        }
        let counts = summarize(desired, state, state.clock)
            .iter()
            .map(|r| {
                (
                    r.object.clone(),
                    [r.current, r.ready, r.available, r.updated, 0],
                )
            })
            .collect::<Vec<_>>();
        recorder.frame(state, state.clock, 0, |index, data| {
            for (object, value) in &counts {
                if let Some(&w) = index.get(object) {
                    data[w as usize][..4].copy_from_slice(&value[..4]);
                }
            }
        });
        // HPAs of an earlier run: their count, and their target's replicas.
        let hpas: Vec<(String, String, i32)> = state
            .autoscalers
            .iter()
            .map(|r| {
                let (kind, name) = r.target.split_once('/').unwrap_or_default();
                let target = format!("{kind}/{}/{name}", r.namespace);
                (r.id(), target, r.status.desired_replicas)
            })
            .collect();
        let current: HashMap<&str, i32> = counts
            .iter()
            .map(|(object, value)| (object.as_str(), value[0]))
            .collect();
        recorder.autoscalers.record(
            &mut recorder.data.autoscalers,
            desired,
            state,
            (0, state.clock),
            hpas.iter().map(|(name, target, count)| Sample {
                name,
                target,
                desired: *count,
                current: current.get(target.as_str()).copied().unwrap_or(0),
            }),
        );
        recorder
    }

    /// The fleet: every node the run will see is known from the start
    /// (`nodes`), or appears later (added at the end of the arrays).
    fn nodes(&mut self, state: &State) {
        let mut nodes: Vec<_> = state.nodes.iter().collect();
        let zone = |n: &crate::model::state::NodeState| n.labels.get(ZONE_LABEL).cloned();
        nodes.sort_by(|a, b| (zone(a), &a.name).cmp(&(zone(b), &b.name)));
        for node in nodes {
            self.node(node);
        }
    }

    fn node(&mut self, node: &crate::model::state::NodeState) -> u32 {
        if let Some(&i) = self.node_index.get(&node.name) {
            return i;
        }
        let zone = node
            .labels
            .get(ZONE_LABEL)
            .cloned()
            .unwrap_or_else(|| "(no zone)".to_string());
        let zones = &mut self.data.zones;
        let z = match zones.iter().position(|z| *z == zone) {
            Some(z) => z,
            None => {
                zones.push(zone);
                zones.len() - 1
            }
        };
        let nodes = &mut self.data.nodes;
        let i = nodes.name.len() as u32;
        nodes.name.push(node.name.clone());
        nodes.zone.push(z as u32);
        let resources = &node.allocatable.resources;
        nodes.cpu.push(resources.milli_cpu);
        nodes.mem.push(resources.memory >> 20);
        nodes.pods.push(node.allocatable.pods);
        nodes.down.push(u8::from(!node.ready));
        self.used.push((0, 0));
        self.node_index.insert(node.name.clone(), i);
        i
    }

    fn workload(&mut self, object: &str) -> u32 {
        if let Some(&i) = self.workload_index.get(object) {
            return i;
        }
        let i = self.data.workloads.len() as u32;
        self.data.workloads.push(Workload {
            name: object.to_string(),
            kind: object.split('/').next().unwrap_or_default().to_string(),
            ..Workload::default()
        });
        for frame in &mut self.data.frames {
            frame.counts.push([0; 5]);
        }
        self.workload_index.insert(object.to_string(), i);
        i
    }

    /// The requests of a replica of `workload` at `hash`: millicores, MiB.
    fn requests(&mut self, state: &State, workload: &ObjectRef, hash: &Arc<str>) -> (i64, i64) {
        let key = (workload.clone(), hash.clone());
        if let Some(&r) = self.requests.get(&key) {
            return r;
        }
        // A revision not met yet: the catalog of this state knows it.
        let catalog = Catalog::build(self.desired, state);
        for replica in &state.replicas {
            let key = (replica.workload.clone(), replica.hash.clone());
            if self.requests.contains_key(&key) {
                continue;
            }
            let value = catalog
                .pod(&replica.workload, &replica.hash)
                .map_or((0, 0), |pod| {
                    (pod.requests.milli_cpu, pod.requests.memory >> 20)
                });
            self.requests.insert(key, value);
        }
        *self.requests.entry(key).or_insert((0, 0))
    }

    fn workload_of(&mut self, object: &ObjectRef) -> u32 {
        if let Some(&w) = self.by_ref.get(object) {
            return w;
        }
        let w = self.workload(&object.to_string());
        self.by_ref.insert(object.clone(), w);
        w
    }

    /// One step's state (the executor's callback).
    pub fn step(&mut self, state: &State, step: &crate::executor::Step) {
        let actions = step
            .actions
            .iter()
            .filter(|a| a.is_shown() && !matches!(a, crate::reconcile::Action::SetStatus { .. }))
            .count();
        let status: Vec<(String, [i32; 4])> = step
            .status
            .iter()
            .map(|s| {
                (
                    s.object.clone(),
                    [s.current, s.ready, s.available, s.updated],
                )
            })
            .collect();
        for (object, _) in &status {
            self.workload(object);
        }
        self.frame(state, step.time, actions, |index, data| {
            for (object, value) in &status {
                if let Some(&w) = index.get(object) {
                    data[w as usize][..4].copy_from_slice(value);
                }
            }
        });
        if !step.autoscalers.is_empty() {
            let frame = (self.data.frames.len() - 1) as u32;
            self.autoscalers.record(
                &mut self.data.autoscalers,
                self.desired,
                state,
                (frame, step.time),
                step.autoscalers.iter().map(|a| Sample {
                    name: &a.object,
                    target: &a.target,
                    desired: a.desired,
                    current: a.current,
                }),
            );
        }
    }

    /// A frame of `state`: counts filled by `fill`, pending counted here, and
    /// what moved since the previous frame.
    fn frame(
        &mut self,
        state: &State,
        time: u64,
        actions: usize,
        fill: impl FnOnce(&HashMap<String, u32>, &mut Vec<[i32; 5]>),
    ) {
        for node in &state.nodes {
            let i = self.node(node);
            self.data.nodes.down[i as usize] = u8::from(!node.ready);
        }
        let mut placed: HashMap<(u32, u32), i64> = HashMap::with_capacity(self.placed.len());
        let mut used = vec![(0i64, 0i64); self.used.len()];
        let mut pending: HashMap<u32, i32> = HashMap::new();
        for replica in &state.replicas {
            let w = self.workload_of(&replica.workload);
            match &replica.node {
                None if replica.phase == Phase::Pending => *pending.entry(w).or_default() += 1,
                None => {}
                Some(node) => {
                    let Some(&n) = self.node_index.get(&**node) else {
                        continue;
                    };
                    *placed.entry((n, w)).or_default() += 1;
                    let (cpu, mem) = self.requests(state, &replica.workload, &replica.hash);
                    let slot = &mut used[n as usize];
                    slot.0 += cpu;
                    slot.1 += mem;
                }
            }
        }
        let mut counts = self.data.frames.last().map_or_else(
            || vec![[0; 5]; self.data.workloads.len()],
            |f| f.counts.clone(),
        );
        counts.resize(self.data.workloads.len(), [0; 5]);
        for value in counts.iter_mut() {
            value[4] = 0;
        }
        fill(&self.workload_index, &mut counts);
        for (w, n) in pending {
            counts[w as usize][4] = n;
        }
        let mut place = Vec::new();
        let mut keys: Vec<&(u32, u32)> = placed.keys().chain(self.placed.keys()).collect();
        keys.sort_unstable();
        keys.dedup();
        for &(n, w) in keys {
            let delta = placed.get(&(n, w)).copied().unwrap_or(0)
                - self.placed.get(&(n, w)).copied().unwrap_or(0);
            if delta != 0 {
                place.extend([i64::from(n), i64::from(w), delta]);
            }
        }
        let mut changed = Vec::new();
        for (n, (now, before)) in used.iter().zip(&self.used).enumerate() {
            if now != before {
                changed.extend([n as i64, now.0 - before.0, now.1 - before.1]);
            }
        }
        self.placed = placed;
        self.used = used;
        let fleet = !state.node_groups.is_empty() || !self.desired.node_groups.is_empty();
        self.data.frames.push(Frame {
            time,
            actions,
            nodes: fleet.then(|| {
                state
                    .nodes
                    .iter()
                    .filter(|n| n.ready && !n.removing)
                    .count() as u32
            }),
            counts,
            place,
            used: changed,
        });
    }

    /// The end of a run: outcome, each workload's final word, the events.
    pub fn finish(&mut self, result: &RunResult, state: &State, summary: &str) {
        self.data.outcome = result.outcome.as_str().to_string();
        self.data.summary = summary.to_string();
        self.reports(&result.workloads);
        self.events(state);
    }

    /// Each workload's final word: desired, status, why blocked.
    pub fn reports(&mut self, reports: &[crate::reconcile::status::WorkloadReport]) {
        for report in reports {
            let w = self.workload(&report.object) as usize;
            let workload = &mut self.data.workloads[w];
            workload.desired = report.desired;
            workload.status = crate::render::plan::status_word(report);
            if let Some(blocked) = &report.blocked {
                workload.reason = Some(blocked.reason.to_string());
                workload.message = Some(blocked.message.clone());
            }
        }
    }

    pub fn events(&mut self, state: &State) {
        let skip = state.events.len().saturating_sub(EVENTS);
        self.data.events = state.events[skip..]
            .iter()
            .map(|e| {
                (
                    e.time,
                    format!("{:?}", e.kind),
                    e.reason.to_string(),
                    e.object.clone(),
                    e.message.clone(),
                )
            })
            .collect();
    }

    /// Pending replicas of the final state, grouped by workload, with the
    /// per-node verdicts of one of each (the first `EXPLAINED` workloads).
    pub fn pending(&mut self, state: &State, scheduler: &crate::scheduler::Scheduler) {
        let mut groups: Vec<(String, Vec<&crate::model::state::Replica>)> = Vec::new();
        for replica in state
            .replicas
            .iter()
            .filter(|r| r.node.is_none() && r.phase == Phase::Pending)
        {
            let object = replica.workload.to_string();
            match groups.iter_mut().find(|(o, _)| *o == object) {
                Some((_, list)) => list.push(replica),
                None => groups.push((object, vec![replica])),
            }
        }
        for (index, (object, replicas)) in groups.into_iter().enumerate() {
            let w = self.workload(&object);
            let first = replicas[0];
            let mut pending = Pending {
                workload: w,
                count: replicas.len(),
                replica: first.name.to_string(),
                message: first.reason.clone().unwrap_or_default(),
                ..Pending::default()
            };
            if index < EXPLAINED
                && let Ok(explanation) =
                    crate::explain::explain(self.desired, state, &first.name, scheduler)
            {
                pending.verdict = vec![-1; self.data.nodes.name.len()];
                for verdict in &explanation.evaluation.nodes {
                    let Some(&n) = self.node_index.get(&verdict.node) else {
                        continue;
                    };
                    let failed = verdict.filters.iter().find_map(|(plugin, result)| {
                        result.as_ref().err().map(|reasons| {
                            let text: Vec<String> =
                                reasons.iter().map(ToString::to_string).collect();
                            format!("{plugin}: {}", text.join("; "))
                        })
                    });
                    if let Some(text) = failed {
                        let r = match pending.reasons.iter().position(|x| *x == text) {
                            Some(r) => r,
                            None => {
                                pending.reasons.push(text);
                                pending.reasons.len() - 1
                            }
                        };
                        pending.verdict[n as usize] = r as i32;
                    }
                }
            }
            self.data.pending.push(pending);
        }
    }
}

#[cfg(test)]
mod tests;
