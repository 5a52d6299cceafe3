//! Manifest builders, as Kubernetes' `MakeNode()`/`MakePod()` test wrappers:
//! a test names only what its story is about and the builder fills in the
//! rest, so `node("n1").cpu("4").zone("a").taint("gpu=true:NoSchedule")`
//! reads as the fleet it describes. `.yaml()` gives one YAML document ending
//! in `---`, ready to concatenate with others.
//!
//! Defaults: a node has 4 CPUs, 8Gi, 110 pods and its hostname label; a pod
//! template labels itself `app: NAME`, runs one container `main` with image
//! `example/NAME:1` and requests 100m CPU and 64Mi. The text is laid out as
//! the YAML people write (`kind` on line 2, `name` on line 4), which some
//! tests count lines against.

mod node;
mod pdb;
mod stateful;
mod workloads;

pub use node::{Node, node};
pub use pdb::{PodDisruptionBudget, pdb};
pub use stateful::{StatefulSet, stateful_set, storage_class};
pub use workloads::{DaemonSet, Deployment, daemonset, deployment};

/// A YAML scalar as written by hand: plain when it reads back as the same
/// string, double-quoted otherwise (`"true"`, `"8"`, `""`, `"a: b"`).
fn scalar(value: &str) -> String {
    let plain = !value.is_empty()
        && !matches!(value, "true" | "false" | "null" | "~" | "yes" | "no")
        && value.parse::<f64>().is_err()
        && !value.starts_with(|c: char| " -?:,[]{}#&*!|>'\"%@`".contains(c))
        && !value.contains(": ")
        && !value.contains(" #")
        && !value.contains([',', '[', ']', '{', '}'])
        && !value.ends_with([' ', ':']);
    if plain {
        value.to_string()
    } else {
        serde_json::to_string(value).unwrap()
    }
}

/// `{a: b, c: d}` in the given order.
fn flow_map<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    let entries: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}: {}", k.as_ref(), scalar(v.as_ref())))
        .collect();
    format!("{{{}}}", entries.join(", "))
}

/// A taint or toleration written `key=value:Effect` or `key:Effect`, as
/// `kubectl taint` takes it.
struct Taint {
    key: String,
    value: Option<String>,
    effect: String,
}

impl Taint {
    fn parse(text: &str) -> Taint {
        let (key_value, effect) = text
            .rsplit_once(':')
            .unwrap_or_else(|| panic!("taint {text:?}: want key[=value]:Effect"));
        let (key, value) = match key_value.split_once('=') {
            Some((key, value)) => (key, Some(value.to_string())),
            None => (key_value, None),
        };
        Taint {
            key: key.to_string(),
            value,
            effect: effect.to_string(),
        }
    }

    fn as_taint(&self) -> String {
        let mut pairs = vec![("key", self.key.as_str())];
        if let Some(value) = &self.value {
            pairs.push(("value", value));
        }
        pairs.push(("effect", &self.effect));
        flow_map(&pairs)
    }

    /// Equal when a value is given, Exists otherwise.
    fn as_toleration(&self) -> String {
        let mut pairs = vec![("key", self.key.as_str())];
        match &self.value {
            Some(value) => {
                pairs.push(("operator", "Equal"));
                pairs.push(("value", value));
            }
            None => pairs.push(("operator", "Exists")),
        }
        pairs.push(("effect", &self.effect));
        flow_map(&pairs)
    }
}

/// Anything that writes one manifest document.
pub trait Manifest {
    fn yaml(&self) -> String;
}

macro_rules! manifest {
    ($($builder:ty),+) => {
        $(impl Manifest for $builder {
            fn yaml(&self) -> String {
                <$builder>::yaml(self)
            }
        })+
    };
}

manifest!(
    Node,
    Deployment,
    DaemonSet,
    PodDisruptionBudget,
    StatefulSet
);

/// The documents one after the other, as one file holds them:
/// `yaml(&[&node("n1"), &deployment("web").replicas(2)])`.
pub fn yaml(documents: &[&dyn Manifest]) -> String {
    documents.iter().map(|document| document.yaml()).collect()
}

/// Every builder option, read back by orch: `validate --strict` refuses any
/// field Kubernetes does not have, and the state shows what was asked for.
#[test]
fn the_builders_write_what_they_say() {
    let cluster = super::Cluster::new();
    cluster.write(
        "m.yaml",
        &yaml(&[
            &node("n1")
                .cpu("8")
                .memory("16Gi")
                .pods("50")
                .allocatable("example.com/dongle", "2")
                .zone("a")
                .label("flag", "true")
                .taint("gpu=true:NoSchedule")
                .taint("spot:PreferNoSchedule"),
            &node("n2").zone("b").unschedulable(),
            &deployment("api")
                .namespace("shop")
                .replicas(2)
                .cpu("250m")
                .memory("128Mi")
                .image("example/api:2")
                .depends_on("DaemonSet/shop/agent")
                .rolling_update("1", "0")
                .pod_annotation("orch.dev/ready-after", "3s")
                .node_selector("flag", "true")
                .toleration("gpu=true:NoSchedule")
                .toleration("spot:PreferNoSchedule")
                .spread("topology.kubernetes.io/zone", 1)
                .spread_preferred("kubernetes.io/hostname", 2)
                .anti_affinity("kubernetes.io/hostname"),
            &deployment("batch").recreate(),
            &daemonset("agent")
                .namespace("shop")
                .toleration("gpu:NoSchedule")
                .toleration("spot:PreferNoSchedule"),
            &pdb("api").min_available("1"),
            &pdb("batch").max_unavailable("50%"),
        ]),
    );
    cluster
        .run(&["validate", "--strict", "-f", "m.yaml"])
        .success()
        .stdout("")
        .stderr("valid: 2 node(s), 3 workload(s), 2 PodDisruptionBudget(s)\n");
    cluster.run(&["apply", "-f", "m.yaml", "-q"]);
    let nodes = cluster.json(&["get", "nodes"]);
    let n1 = &nodes["items"][0];
    assert_eq!(n1["name"], "n1", "{nodes}");
    assert_eq!(n1["labels"]["topology.kubernetes.io/zone"], "a", "{n1}");
    assert_eq!(n1["labels"]["flag"], "true", "{n1}");
    assert_eq!(n1["taints"].as_array().map(Vec::len), Some(2), "{n1}");
    assert_eq!(nodes["items"][1]["unschedulable"], true, "{nodes}");
    let api: Vec<_> = cluster
        .replicas()
        .into_iter()
        .filter(|r| r["workload"] == "Deployment/shop/api")
        .collect();
    assert_eq!(api.len(), 2, "{api:?}");
}
