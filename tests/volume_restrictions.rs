//! VolumeRestrictions' ReadWriteOncePod rule end to end, for every pod that
//! names a claim (bare Pods, Deployments), not only a StatefulSet's.

use crate::common::{Cluster, node, storage_class};
use predicates::prelude::*;

fn nodes() -> String {
    [
        node("a1").zone("zone-a").yaml(),
        node("b1").zone("zone-b").yaml(),
    ]
    .concat()
}

/// A ReadWriteOncePod claim `shared` bound to a local volume on `n1`.
fn read_write_once_pod_claim() -> String {
    "apiVersion: v1
kind: PersistentVolume
metadata:
  name: pv-shared
spec:
  capacity: {storage: 10Gi}
  accessModes: [ReadWriteOncePod]
  storageClassName: manual
  hostPath: {path: /data}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: shared
spec:
  accessModes: [ReadWriteOncePod]
  storageClassName: manual
  resources:
    requests: {storage: 1Gi}
---
"
    .to_string()
}

fn pod_using(name: &str, claim: &str) -> String {
    format!(
        "apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  containers: [{{name: c, image: example/app:1}}]
  volumes:
  - name: data
    persistentVolumeClaim: {{claimName: {claim}}}
---
"
    )
}

/// VolumeRestrictions holds for every pod naming a ReadWriteOncePod claim,
/// not only a StatefulSet's: after `TestAccessModeConflicts`
/// (volumerestrictions/volume_restrictions_test.go) — a pod whose claim is
/// used by an existing pod is unschedulable, one whose claim is free fits.
#[test]
fn a_read_write_once_pod_claim_admits_one_pod_whoever_owns_it() {
    let cluster = Cluster::new();
    cluster.write("m/nodes.yaml", &nodes());
    cluster.write(
        "m/pods.yaml",
        &format!(
            "{}{}{}",
            storage_class("manual", "kubernetes.io/no-provisioner", "Immediate"),
            read_write_once_pod_claim(),
            pod_using("first", "shared")
        ),
    );
    cluster.run(&["apply", "-f", "m/", "-q"]).success();
    assert_eq!(cluster.replica("first")["phase"], "Running");
    // A second bare Pod on the same claim waits, with the plugin's message.
    cluster.write("m/second.yaml", &pod_using("second", "shared"));
    cluster.run(&["apply", "-f", "m/"]).code(3).stdout(predicate::str::contains(
        "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode",
    ));
    assert_eq!(cluster.replica("second")["phase"], "Pending");
}

/// Two replicas of one Deployment placed in the same pass: the first takes
/// the claim, the second is refused (they are not scheduled as one batch).
#[test]
fn replicas_of_one_deployment_share_no_read_write_once_pod_claim() {
    let cluster = Cluster::new();
    cluster.write("m/nodes.yaml", &nodes());
    cluster.write(
        "m/app.yaml",
        &format!(
            "{}{}apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  replicas: 2
  selector:
    matchLabels: {{app: app}}
  template:
    metadata:
      labels: {{app: app}}
    spec:
      containers: [{{name: c, image: example/app:1}}]
      volumes:
      - name: data
        persistentVolumeClaim: {{claimName: shared}}
",
            storage_class("manual", "kubernetes.io/no-provisioner", "Immediate"),
            read_write_once_pod_claim(),
        ),
    );
    cluster
        .run(&["apply", "-f", "m/"])
        .code(3)
        .stdout(predicate::str::contains("ReadWriteOncePod access mode"));
    let phases: Vec<String> = cluster
        .replicas()
        .iter()
        .map(|r| r["phase"].as_str().unwrap().to_string())
        .collect();
    let running = phases.iter().filter(|p| *p == "Running").count();
    assert_eq!((running, phases.len()), (1, 2), "{phases:?}");
}

/// A claim `name` with `mode`, bound at once to a volume of its own.
fn claim(name: &str, mode: &str) -> String {
    format!(
        "apiVersion: v1
kind: PersistentVolume
metadata:
  name: pv-{name}
spec:
  capacity: {{storage: 10Gi}}
  accessModes: [{mode}]
  storageClassName: manual
  hostPath: {{path: /data/{name}}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {name}
spec:
  accessModes: [{mode}]
  storageClassName: manual
  resources:
    requests: {{storage: 1Gi}}
---
"
    )
}

/// A bare Pod naming `claims`.
fn pod_with(name: &str, claims: &[&str]) -> String {
    let volumes: String = claims
        .iter()
        .enumerate()
        .map(|(i, c)| format!("  - name: v{i}\n    persistentVolumeClaim: {{claimName: {c}}}\n"))
        .collect();
    let volumes = if claims.is_empty() {
        String::new()
    } else {
        format!("  volumes:\n{volumes}")
    };
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers: [{{name: c, image: i}}]\n{volumes}---\n"
    )
}

/// (name, the pod's claims, each existing pod's claims, the message it waits with).
type Case<'a> = (&'a str, &'a [&'a str], &'a [&'a [&'a str]], Option<&'a str>);

/// `TestAccessModeConflicts` (volumerestrictions/volume_restrictions_test.go),
/// its cases as pods on a cluster: the existing pods are applied and placed
/// first, then the pod under test; it runs, or waits with the plugin's
/// message (`PreFilter`'s for a missing claim, printed once).
#[test]
fn access_mode_conflicts_table() {
    const CONFLICT: &str = "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode";
    let cases: [Case; 5] = [
        ("nothing", &[], &[], None),
        (
            "failed to get PVC",
            &["claim-with-rwop-1"],
            &[],
            Some("persistentvolumeclaim \"claim-with-rwop-1\" not found"),
        ),
        (
            "no access mode conflict",
            &["claim-with-rwop-1"],
            &[&["claim-with-rwx"]],
            None,
        ),
        (
            "access mode conflict, unschedulable",
            &["claim-with-rwop-1"],
            &[&["claim-with-rwop-1"], &["claim-with-rwx"]],
            Some(CONFLICT),
        ),
        (
            "two conflicts, unschedulable",
            &["claim-with-rwop-1", "claim-with-rwop-2"],
            &[
                &["claim-with-rwop-1", "claim-with-rwop-2"],
                &["claim-with-rwx"],
            ],
            Some(CONFLICT),
        ),
    ];
    for (name, claims, existing, message) in cases {
        let cluster = Cluster::new();
        let mut storage = storage_class("manual", "kubernetes.io/no-provisioner", "Immediate");
        if name != "failed to get PVC" {
            storage.push_str(&claim("claim-with-rwop-1", "ReadWriteOncePod"));
            storage.push_str(&claim("claim-with-rwop-2", "ReadWriteOncePod"));
            storage.push_str(&claim("claim-with-rwx", "ReadWriteMany"));
        }
        cluster.write("m/nodes.yaml", &nodes());
        cluster.write("m/storage.yaml", &storage);
        let pods: String = existing
            .iter()
            .enumerate()
            .map(|(i, claims)| pod_with(&format!("existing-{i}"), claims))
            .collect();
        if !pods.is_empty() {
            cluster.write("m/existing.yaml", &pods);
        }
        cluster.run(&["apply", "-f", "m/", "-q"]).success();
        cluster.write("m/pod.yaml", &pod_with("pod", claims));
        let run = cluster.run(&["apply", "-f", "m/"]);
        let pod = cluster.replica("pod");
        match message {
            None => {
                run.code(0);
                assert_eq!(pod["phase"], "Running", "{name}");
            }
            Some(message) => {
                run.code(3).stdout(predicate::str::contains(message));
                assert_eq!(pod["phase"], "Pending", "{name}");
            }
        }
    }
}
