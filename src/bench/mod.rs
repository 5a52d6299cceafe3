//! Synthetic fleets for benchmarks: `orch bench generate` writes the
//! manifests of a realistic mixed cluster — zones, instance sizes, a few
//! tainted GPU nodes, workloads with resources, selectors, zone spread,
//! hostname anti-affinity, preferred affinity, data locality and DaemonSets —
//! deterministic for a seed. Pure: returns named texts, writes nothing.
//! `prioritized` turns the mix into `Mix::Prioritized`.

mod prioritized;

use prioritized::{Pool, prioritized};
use std::fmt::Write as _;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FleetSpec {
    pub nodes: usize,
    /// Total replicas, DaemonSet replicas included.
    pub replicas: usize,
    pub seed: u64,
    /// Every n-th Deployment (0 = none) gets a new image, version 2: the
    /// same fleet with a rolling update of 1/n of its workloads.
    pub updated_every: usize,
    /// Which workloads: the realistic mix, or one kind only (to measure
    /// scheduling throughput per plugin mix).
    pub mix: Mix,
    /// The share (percent) of the workloads' replicas in StatefulSets
    /// (Parallel) with a claim template of a WaitForFirstConsumer class.
    pub stateful_percent: usize,
    /// The share of workloads (percent) generated as Jobs instead of
    /// Deployments: completions and parallelism of their replica count,
    /// pods that run for ten minutes.
    pub jobs_percent: u64,
}

/// The workload mix of a fleet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Mix {
    /// Every kind below, in realistic proportions, plus DaemonSets.
    #[default]
    Mixed,
    /// Resources only (the system default spreading applies).
    Plain,
    /// Zone spread with DoNotSchedule.
    Spread,
    /// Required hostname anti-affinity (one replica per node).
    AntiAffinity,
    /// Preferred node affinity and preferred pod anti-affinity.
    Preferred,
    /// The realistic mix with three PriorityClasses (a third of the
    /// Deployments in each) and the DaemonSets `system-node-critical`.
    Prioritized,
}

/// SplitMix64: tiny, fast and, unlike a crate's generator, guaranteed to give
/// the same fleet for a seed in every version of orch.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x6a09_e667_f3bc_c909)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..bound` (`bound` > 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        ((self.next_u64() as u128 * bound as u128) >> 64) as u64
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

pub const ZONES: [&str; 3] = ["zone-a", "zone-b", "zone-c"];
const NAMESPACES: [&str; 6] = [
    "shop",
    "search",
    "payments",
    "media",
    "analytics",
    "platform",
];
const DATASETS: [&str; 4] = ["clicks", "catalog", "images", "ledger"];

/// A node class: its share of the fleet (per mille), capacity and traits.
struct Class {
    name: &'static str,
    per_mille: usize,
    instance: &'static str,
    cpu: u32,
    memory_gi: u32,
    gpus: u32,
}

const CLASSES: [Class; 4] = [
    Class {
        name: "general",
        per_mille: 640,
        instance: "m6.2xlarge",
        cpu: 8,
        memory_gi: 32,
        gpus: 0,
    },
    Class {
        name: "compute",
        per_mille: 200,
        instance: "c6.4xlarge",
        cpu: 16,
        memory_gi: 32,
        gpus: 0,
    },
    Class {
        name: "highmem",
        per_mille: 150,
        instance: "r6.2xlarge",
        cpu: 8,
        memory_gi: 64,
        gpus: 0,
    },
    Class {
        name: "gpu",
        per_mille: 10,
        instance: "g5.4xlarge",
        cpu: 16,
        memory_gi: 64,
        gpus: 4,
    },
];

/// The kinds of workload in the mix, with their share (percent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Resources only (the system default spreading applies).
    Plain,
    /// Zone spread, DoNotSchedule.
    ZoneSpread,
    /// One replica per node: required hostname anti-affinity.
    AntiAffinity,
    /// Preferred node affinity and preferred pod anti-affinity.
    Preferred,
    /// Pinned to a node class by nodeSelector.
    Pinned,
    /// Near its data (`orch.dev/data-locality`).
    DataLocal,
    /// GPU: tolerates the GPU taint and requests `nvidia.com/gpu`.
    Gpu,
}

const MIX: [(Shape, u64); 7] = [
    (Shape::Plain, 34),
    (Shape::ZoneSpread, 22),
    (Shape::AntiAffinity, 8),
    (Shape::Preferred, 16),
    (Shape::Pinned, 10),
    (Shape::DataLocal, 8),
    (Shape::Gpu, 2),
];

/// The node classes in order, with their counts (every class present once the
/// fleet has a node for it, GPU nodes at least one).
fn class_counts(nodes: usize) -> Vec<usize> {
    let mut counts: Vec<usize> = CLASSES.iter().map(|c| nodes * c.per_mille / 1000).collect();
    if nodes >= 4 {
        for count in counts.iter_mut().skip(1) {
            *count = (*count).max(1);
        }
    }
    let assigned: usize = counts.iter().sum();
    counts[0] = (counts[0] + nodes).saturating_sub(assigned);
    counts
}

/// The manifests of a fleet: `(file name, text)` pairs.
pub fn generate(spec: FleetSpec) -> Vec<(String, String)> {
    if spec.mix == Mix::Prioritized {
        let pool = Pool::of(spec);
        let mixed = generate(FleetSpec {
            mix: Mix::Mixed,
            replicas: spec.replicas - pool.replicas(),
            ..spec
        });
        return prioritized(mixed, pool);
    }
    let mut rng = Rng::new(spec.seed);
    let (nodes, gpu_nodes) = node_manifests(&mut rng, spec);
    let mut files = vec![("nodes.yaml".to_string(), nodes)];
    let (daemon_text, daemon_replicas) = daemonset_manifests(spec, gpu_nodes);
    if !daemon_text.is_empty() {
        files.push(("daemonsets.yaml".to_string(), daemon_text));
    }
    let remaining = spec.replicas.saturating_sub(daemon_replicas);
    if spec.stateful_percent > 0 {
        files.push(("storage.yaml".to_string(), STORAGE_CLASS.to_string()));
    }
    files.extend(deployment_manifests(&mut rng, spec, remaining, gpu_nodes));
    files
}

/// The class of the StatefulSets' claims: provisioned in the zone of the
/// node the replica is scheduled on.
const STORAGE_CLASS: &str = "---\napiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: zonal}\nprovisioner: ebs.csi.aws.com\nvolumeBindingMode: WaitForFirstConsumer\n";

/// `text`, a Deployment, as a StatefulSet of the same pods with a claim per replica.
fn as_stateful_set(text: &str, name: &str) -> String {
    let text = text.replacen("kind: Deployment", "kind: StatefulSet", 1);
    let (head, tail) = text.split_at(text.find("  selector:").unwrap_or(text.len()));
    format!(
        "{head}  serviceName: {name}\n  podManagementPolicy: Parallel\n  volumeClaimTemplates: [{{metadata: {{name: data}}, spec: {{accessModes: [ReadWriteOnce], storageClassName: zonal, resources: {{requests: {{storage: 10Gi}}}}}}}}]\n{tail}"
    )
}

/// The fleet's nodes, and how many of them have GPUs.
fn node_manifests(rng: &mut Rng, spec: FleetSpec) -> (String, usize) {
    let counts = class_counts(spec.nodes);
    let mut nodes = String::new();
    let mut index = 0usize;
    let mut gpu_nodes = 0usize;
    for (class, &count) in CLASSES.iter().zip(&counts) {
        for _ in 0..count {
            let zone = ZONES[index % ZONES.len()];
            let name = format!("{}-{}-{:05}", class.name, &zone[5..], index);
            index += 1;
            let dataset = if rng.chance(30) {
                format!(", dataset/{}: \"true\"", rng.pick(&DATASETS))
            } else {
                String::new()
            };
            let disk = if rng.chance(40) { "ssd" } else { "hdd" };
            let (gpu, taints) = if class.gpus > 0 {
                gpu_nodes += 1;
                (
                    format!(", nvidia.com/gpu: \"{}\"", class.gpus),
                    "\n  taints: [{key: nvidia.com/gpu, value: \"true\", effect: NoSchedule}]",
                )
            } else {
                (String::new(), "")
            };
            let _ = write!(
                nodes,
                "---\napiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\n  labels: {{topology.kubernetes.io/zone: {zone}, node.kubernetes.io/instance-type: {}, node.orch.dev/class: {}, disktype: {disk}{dataset}}}\nspec:{}\nstatus:\n  allocatable: {{cpu: \"{}\", memory: {}Gi, pods: \"110\"{gpu}}}\n",
                class.instance,
                class.name,
                if taints.is_empty() { " {}" } else { taints },
                class.cpu,
                class.memory_gi,
            );
        }
    }
    (nodes, gpu_nodes)
}

/// DaemonSets: one on every node (tolerating everything), one on non-GPU
/// nodes, while they stay a minority of the replicas; and their replicas.
fn daemonset_manifests(spec: FleetSpec, gpu_nodes: usize) -> (String, usize) {
    let daemons = [
        ("log-agent", "100m", "128Mi", true),
        ("node-exporter", "50m", "64Mi", false),
    ];
    let mut daemon_text = String::new();
    let mut daemon_replicas = 0usize;
    for (name, cpu, memory, everywhere) in daemons {
        if spec.mix != Mix::Mixed {
            break;
        }
        let per_fleet = if everywhere {
            spec.nodes
        } else {
            spec.nodes - gpu_nodes
        };
        if daemon_replicas + per_fleet > spec.replicas / 5 {
            continue; // DaemonSets stay a minority of the replicas
        }
        daemon_replicas += per_fleet;
        let placement = if everywhere {
            "      tolerations: [{operator: Exists}]\n".to_string()
        } else {
            "      affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: node.orch.dev/class, operator: NotIn, values: [gpu]}]}]}}}\n".to_string()
        };
        let _ = write!(
            daemon_text,
            "---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: {name}, namespace: kube-system}}\nspec:\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n{placement}      containers: [{{name: {name}, image: \"{name}:1.0\", resources: {{requests: {{cpu: {cpu}, memory: {memory}}}}}}}]\n"
        );
    }
    (daemon_text, daemon_replicas)
}

/// `files` (from `generate`) with the DaemonSet on every node given a new
/// image, as an update rolls it out; false when the fleet has none.
pub fn roll_daemonset(files: &mut [(String, String)]) -> bool {
    let mut rolled = false;
    for (name, text) in files.iter_mut() {
        if name == "daemonsets.yaml" && text.contains("\"log-agent:1.0\"") {
            *text = text.replace("\"log-agent:1.0\"", "\"log-agent:1.1\"");
            rolled = true;
        }
    }
    rolled
}

/// Deployments until the replica budget is spent, one file per namespace.
fn deployment_manifests(
    rng: &mut Rng,
    spec: FleetSpec,
    mut remaining: usize,
    gpu_nodes: usize,
) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let gpu_capacity = gpu_nodes * 4;
    let mut gpu_used = 0usize;
    let mut per_namespace: Vec<String> = vec![String::new(); NAMESPACES.len()];
    let mut n = 0usize;
    let total = remaining.max(1);
    let mut stateful = 0usize;
    while remaining > 0 {
        let mut shape = match spec.mix {
            Mix::Mixed | Mix::Prioritized => weighted(rng),
            Mix::Plain => Shape::Plain,
            Mix::Spread => Shape::ZoneSpread,
            Mix::AntiAffinity => Shape::AntiAffinity,
            Mix::Preferred => Shape::Preferred,
        };
        let mut replicas = match rng.below(10) {
            0..=5 => 2 + rng.below(9) as usize,   // 2..=10
            6..=8 => 10 + rng.below(41) as usize, // 10..=50
            _ => 50 + rng.below(151) as usize,    // 50..=200
        };
        if shape == Shape::AntiAffinity {
            replicas = replicas.min(spec.nodes * 3 / 5).max(1);
        }
        if shape == Shape::Gpu {
            replicas = replicas.min(4);
            if gpu_used + replicas > gpu_capacity / 2 {
                shape = Shape::Plain;
            } else {
                gpu_used += replicas;
            }
        }
        let replicas = replicas.min(remaining);
        remaining -= replicas;
        let namespace = n % NAMESPACES.len();
        let name = format!("{}-{:05}", shape_name(shape), n);
        let version = if spec.updated_every > 0 && n.is_multiple_of(spec.updated_every) {
            2
        } else {
            1
        };
        let text = deployment(rng, &name, NAMESPACES[namespace], replicas, shape, version);
        // StatefulSets take their share as the replicas go (no draw from
        // the generator, so fleets without them are as before); the Jobs'
        // roll only when asked for.
        let placed = total - remaining;
        if shape != Shape::Gpu && stateful * 100 < spec.stateful_percent * placed {
            stateful += replicas;
            per_namespace[namespace].push_str(&as_stateful_set(&text, &name));
        } else if spec.jobs_percent > 0 && rng.chance(spec.jobs_percent) {
            per_namespace[namespace].push_str(&as_job(&text, replicas));
        } else {
            per_namespace[namespace].push_str(&text);
        }
        n += 1;
    }
    for (namespace, text) in NAMESPACES.iter().zip(per_namespace) {
        if !text.is_empty() {
            files.push((format!("{namespace}.yaml"), text));
        }
    }
    files
}

fn weighted(rng: &mut Rng) -> Shape {
    let mut roll = rng.below(100);
    for (shape, share) in MIX {
        if roll < share {
            return shape;
        }
        roll -= share;
    }
    Shape::Plain
}

fn shape_name(shape: Shape) -> &'static str {
    match shape {
        Shape::Plain => "svc",
        Shape::ZoneSpread => "spread",
        Shape::AntiAffinity => "solo",
        Shape::Preferred => "pref",
        Shape::Pinned => "pinned",
        Shape::DataLocal => "etl",
        Shape::Gpu => "gpu",
    }
}

fn deployment(
    rng: &mut Rng,
    name: &str,
    namespace: &str,
    replicas: usize,
    shape: Shape,
    version: u32,
) -> String {
    let cpu = rng.pick(&["50m", "100m", "100m", "200m", "250m"]);
    let memory = rng.pick(&["64Mi", "128Mi", "256Mi", "512Mi", "1Gi"]);
    let mut extra = String::new();
    let mut annotations = String::new();
    let mut limits = String::new();
    match shape {
        Shape::Plain => {}
        Shape::ZoneSpread => {
            let _ = writeln!(
                extra,
                "      topologySpreadConstraints: [{{maxSkew: {}, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {{matchLabels: {{app: {name}}}}}}}]",
                1 + rng.below(2)
            );
        }
        Shape::AntiAffinity => {
            let _ = writeln!(
                extra,
                "      affinity: {{podAntiAffinity: {{requiredDuringSchedulingIgnoredDuringExecution: [{{topologyKey: kubernetes.io/hostname, labelSelector: {{matchLabels: {{app: {name}}}}}}}]}}}}"
            );
        }
        Shape::Preferred => {
            let class = rng.pick(&["compute", "general"]);
            let _ = write!(
                extra,
                "      affinity:\n        nodeAffinity: {{preferredDuringSchedulingIgnoredDuringExecution: [{{weight: {}, preference: {{matchExpressions: [{{key: node.orch.dev/class, operator: In, values: [{class}]}}]}}}}]}}\n        podAntiAffinity: {{preferredDuringSchedulingIgnoredDuringExecution: [{{weight: 100, podAffinityTerm: {{topologyKey: kubernetes.io/hostname, labelSelector: {{matchLabels: {{app: {name}}}}}}}}}]}}\n",
                10 + rng.below(90)
            );
        }
        Shape::Pinned => {
            let class = rng.pick(&["highmem", "compute"]);
            let _ = writeln!(
                extra,
                "      nodeSelector: {{node.orch.dev/class: {class}}}"
            );
        }
        Shape::DataLocal => {
            let dataset = rng.pick(&DATASETS);
            let _ = write!(
                annotations,
                ", annotations: {{orch.dev/data-locality: \"dataset/{dataset}=true\"}}"
            );
            let _ = writeln!(extra, "      nodeSelector: {{disktype: ssd}}");
        }
        Shape::Gpu => {
            limits = ", limits: {nvidia.com/gpu: \"1\"}".to_string();
            let _ = writeln!(
                extra,
                "      tolerations: [{{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}}]"
            );
        }
    }
    format!(
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: {namespace}}}\nspec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}, team: {namespace}}}{annotations}}}\n    spec:\n{extra}      containers: [{{name: app, image: \"{name}:{version}\", resources: {{requests: {{cpu: {cpu}, memory: {memory}}}{limits}}}}}]\n"
    )
}

/// A generated Deployment as a Job of as many completions, all at once
/// (the controller makes the Job's selector: none is written).
fn as_job(deployment: &str, replicas: usize) -> String {
    let text: String = deployment
        .lines()
        .filter(|line| !line.starts_with("  selector:"))
        .map(|line| format!("{line}\n"))
        .collect();
    text.replacen(
        "apiVersion: apps/v1\nkind: Deployment\n",
        "apiVersion: batch/v1\nkind: Job\n",
        1,
    )
    .replacen(
        "}\nspec:\n",
        ", annotations: {orch.dev/run-for: 10m}}\nspec:\n",
        1,
    )
    .replacen(
        &format!("  replicas: {replicas}\n"),
        &format!("  completions: {replicas}\n  parallelism: {replicas}\n"),
        1,
    )
    .replacen(
        "\n    spec:\n",
        "\n    spec:\n      restartPolicy: Never\n",
        1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_fleet_and_another_seed_another() {
        let spec = FleetSpec {
            nodes: 60,
            replicas: 900,
            seed: 7,
            updated_every: 0,
            stateful_percent: 0,
            mix: Mix::Mixed,
            jobs_percent: 0,
        };
        assert_eq!(generate(spec), generate(spec));
        assert_ne!(generate(spec), generate(FleetSpec { seed: 8, ..spec }));
        // A share of Jobs changes only that: the same Deployments otherwise.
        let jobs = generate(FleetSpec {
            jobs_percent: 10,
            ..spec
        });
        let text: String = jobs.iter().map(|(_, t)| t.as_str()).collect();
        assert!(text.contains("kind: Job\n"), "no Job generated");
        assert!(text.contains("restartPolicy: Never"));
        let manifests: Vec<crate::sources::Source> = jobs
            .into_iter()
            .map(|(name, text)| crate::sources::Source { name, text })
            .collect();
        let loaded = crate::manifest::parse(&manifests, &crate::manifest::ParseOptions::default())
            .expect("generated Jobs are valid");
        assert!(loaded.desired.workloads.iter().any(|w| w.job.is_some()));
    }

    #[test]
    fn class_counts_add_up_and_keep_every_class() {
        for nodes in [4, 10, 99, 500, 5000] {
            let counts = class_counts(nodes);
            assert_eq!(counts.iter().sum::<usize>(), nodes);
            assert!(counts.iter().all(|&c| c >= 1), "{nodes}: {counts:?}");
        }
    }
}
