//! `orch.dev/depends-on`: the references a workload declares, and the
//! cycles between workloads (an error naming each cycle).

use super::objects::{DEPENDS_ON, Dependencies};
use super::{Ctx, wire};
use crate::model::workload::{Kind, ObjectRef, Workload};
use std::collections::BTreeMap;

/// `orch.dev/depends-on` from the template's annotations, else the object's.
pub(super) fn dependencies(
    ctx: &mut Ctx,
    metadata: &wire::ObjectMeta,
    template: &wire::PodTemplateSpec,
    namespace: &str,
) -> Dependencies {
    let (text, field) = match template.metadata.annotations.get(DEPENDS_ON) {
        Some(text) => (
            text,
            format!("spec.template.metadata.annotations.{DEPENDS_ON}"),
        ),
        None => match metadata.annotations.get(DEPENDS_ON) {
            Some(text) => (text, format!("metadata.annotations.{DEPENDS_ON}")),
            None => {
                return Dependencies {
                    refs: Vec::new(),
                    field: String::new(),
                };
            }
        },
    };
    let mut refs = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match ObjectRef::parse(part, namespace) {
            Some(reference)
                if matches!(
                    reference.kind,
                    Kind::Deployment | Kind::DaemonSet | Kind::StatefulSet
                ) =>
            {
                refs.push((reference, part.to_string()))
            }
            _ => ctx.error(
                &field,
                format!("Invalid value: \"{part}\": must be Deployment/<name>, DaemonSet/<name>, StatefulSet/<name> or Kind/<namespace>/<name>"),
            ),
        }
    }
    Dependencies { refs, field }
}

/// Every dependency cycle once, each starting at its smallest member.
pub(super) fn cycles(workloads: &[Workload]) -> Vec<Vec<ObjectRef>> {
    use petgraph::graph::{DiGraph, NodeIndex};
    let mut graph: DiGraph<&ObjectRef, ()> = DiGraph::new();
    let index: BTreeMap<&ObjectRef, NodeIndex> = workloads
        .iter()
        .map(|w| (&w.id, graph.add_node(&w.id)))
        .collect();
    for workload in workloads {
        for dependency in &workload.depends_on {
            if let Some(&to) = index.get(dependency) {
                graph.add_edge(index[&workload.id], to, ());
            }
        }
    }
    let mut found = Vec::new();
    for component in petgraph::algo::tarjan_scc(&graph) {
        let self_loop = component.len() == 1 && graph.contains_edge(component[0], component[0]);
        if component.len() < 2 && !self_loop {
            continue;
        }
        let members: std::collections::BTreeSet<NodeIndex> = component.iter().copied().collect();
        let start = *component
            .iter()
            .min_by_key(|i| graph[**i])
            .unwrap_or(&component[0]);
        // Walk the smallest successor inside the component until we return.
        let mut path = vec![start];
        let mut current = start;
        loop {
            let mut next: Vec<NodeIndex> = graph
                .neighbors(current)
                .filter(|n| members.contains(n))
                .collect();
            next.sort_by_key(|n| graph[*n]);
            let Some(step) = next
                .iter()
                .find(|n| **n == start || !path.contains(n))
                .copied()
            else {
                break;
            };
            if step == start {
                break;
            }
            path.push(step);
            current = step;
        }
        found.push(path.into_iter().map(|i| graph[i].clone()).collect());
    }
    found.sort();
    found
}
