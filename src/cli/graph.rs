//! `orch graph -f PATH…`: the dependency order of the workloads
//! (`orch.dev/depends-on`) as numbered waves, as Graphviz DOT, or as a
//! Mermaid flowchart (which GitHub and many wikis draw without Graphviz).

use super::shared::{ManifestArgs, load_manifests, out};
use super::{Context, Exit};
use anyhow::Result;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    #[default]
    Text,
    Dot,
    /// A Mermaid flowchart, one subgraph per wave.
    Mermaid,
}

#[derive(Debug, clap::Args)]
pub struct GraphArgs {
    #[command(flatten)]
    pub manifests: ManifestArgs,
    #[arg(long, value_enum, default_value_t)]
    pub format: GraphFormat,
}

pub fn run(context: &Context, args: GraphArgs) -> Result<Exit> {
    let loaded = load_manifests(&args.manifests, context.quiet)?;
    // CronJobs join as workloads without dependencies of their own.
    let workloads: Vec<Entry> = loaded
        .desired
        .workloads
        .iter()
        .map(|w| Entry {
            id: &w.id,
            depends_on: &w.depends_on,
        })
        .chain(loaded.desired.cron_jobs.iter().map(|c| Entry {
            id: &c.id,
            depends_on: &[],
        }))
        .collect();
    let wave = waves(&workloads);
    let text = match args.format {
        GraphFormat::Dot => dot(&workloads),
        GraphFormat::Mermaid => mermaid(&workloads, &wave),
        GraphFormat::Text => text(&workloads, &wave),
    };
    out(&text);
    Ok(Exit::Success)
}

/// Wave of each workload: 0 without dependencies, else one past its latest dependency
/// (validation has already refused cycles and missing references).
fn waves(workloads: &[Entry]) -> BTreeMap<String, usize> {
    let mut wave: BTreeMap<String, usize> = BTreeMap::new();
    let mut changed = true;
    while changed {
        changed = false;
        for workload in workloads {
            let level = workload
                .depends_on
                .iter()
                .map(|d| wave.get(&d.to_string()).map_or(1, |w| w + 1))
                .max()
                .unwrap_or(0);
            if wave.get(&workload.id.to_string()) != Some(&level) {
                wave.insert(workload.id.to_string(), level);
                changed = true;
            }
        }
    }
    wave
}

/// The graph in DOT, left to right.
fn dot(workloads: &[Entry]) -> String {
    let mut dot = String::from("digraph workloads {\n  rankdir=LR;\n");
    for workload in workloads {
        dot.push_str(&format!("  \"{}\";\n", workload.id));
        for dependency in workload.depends_on {
            dot.push_str(&format!("  \"{}\" -> \"{}\";\n", dependency, workload.id));
        }
    }
    dot.push_str("}\n");
    dot
}

/// The graph as a Mermaid flowchart, one subgraph per wave.
fn mermaid(workloads: &[Entry], wave: &BTreeMap<String, usize>) -> String {
    let ids: BTreeMap<String, usize> = workloads
        .iter()
        .enumerate()
        .map(|(i, w)| (w.id.to_string(), i))
        .collect();
    let mut by_wave: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, workload) in workloads.iter().enumerate() {
        by_wave
            .entry(wave[&workload.id.to_string()])
            .or_default()
            .push(i);
    }
    let mut chart = String::from(
        "flowchart LR
",
    );
    for (level, members) in &by_wave {
        chart.push_str(&format!(
            "  subgraph wave{}[\"wave {}\"]\n",
            level + 1,
            level + 1
        ));
        for &i in members {
            let label = workloads[i].id.to_string().replace('"', "#quot;");
            chart.push_str(&format!("    w{i}[\"{label}\"]\n"));
        }
        chart.push_str("  end\n");
    }
    for (i, workload) in workloads.iter().enumerate() {
        for dependency in workload.depends_on {
            if let Some(from) = ids.get(&dependency.to_string()) {
                chart.push_str(&format!("  w{from} --> w{i}\n"));
            }
        }
    }
    chart
}

/// The waves as numbered lines, each workload with what it starts after.
fn text(workloads: &[Entry], wave: &BTreeMap<String, usize>) -> String {
    let mut by_wave: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for workload in workloads {
        let line = if workload.depends_on.is_empty() {
            workload.id.to_string()
        } else {
            let after: Vec<String> = workload
                .depends_on
                .iter()
                .map(ToString::to_string)
                .collect();
            format!("{} (after {})", workload.id, after.join(", "))
        };
        by_wave
            .entry(wave[&workload.id.to_string()])
            .or_default()
            .push(line);
    }
    let mut text = String::new();
    for (level, lines) in by_wave {
        for line in lines {
            text.push_str(&format!("{}. {line}\n", level + 1));
        }
    }
    text
}

/// A node of the graph: a workload and what it waits for.
struct Entry<'a> {
    id: &'a crate::model::workload::ObjectRef,
    depends_on: &'a [crate::model::workload::ObjectRef],
}
