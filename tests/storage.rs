//! Storage end to end through the real binary: claims made from templates,
//! volumes provisioned where the binding mode says, volumes that pin their
//! replicas through node failures, and storage input that is wrong.

use crate::common::{Cluster, node, stateful_set, storage_class};
use predicates::prelude::*;
use serde_json::Value;

/// A StatefulSet `db` of `replicas` with one claim template `data` of
/// `class` (10Gi, `modes`), and `extra` lines under `spec`.
fn db(replicas: i32, class: &str, modes: &str, extra: &str) -> String {
    stateful_set("db")
        .replicas(replicas)
        .spec(extra)
        .claim_template(class, modes)
        .yaml()
}

/// The provisioned class `zonal` (WaitForFirstConsumer) and `db` of
/// `replicas` claiming from it, with `extra` lines under its `spec`.
fn zonal_db(replicas: i32, extra: &str) -> String {
    format!(
        "{}{}",
        storage_class("zonal", "ebs.csi.aws.com", "WaitForFirstConsumer"),
        db(replicas, "zonal", "ReadWriteOnce", extra)
    )
}

/// A local volume of `class` on `node`.
fn local_volume(name: &str, class: &str, size: &str, node: &str) -> String {
    format!(
        "apiVersion: v1
kind: PersistentVolume
metadata:
  name: {name}
spec:
  capacity: {{storage: {size}}}
  accessModes: [ReadWriteOnce]
  storageClassName: {class}
  local: {{path: /mnt/disks/ssd0}}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - {{key: kubernetes.io/hostname, operator: In, values: [{node}]}}
---
"
    )
}

fn nodes(names: &[(&str, &str)]) -> String {
    names
        .iter()
        .map(|(name, zone)| node(name).zone(zone).yaml())
        .collect()
}

fn zone_of(node: &str, fleet: &[(&str, &str)]) -> String {
    fleet
        .iter()
        .find(|(n, _)| *n == node)
        .map(|(_, z)| z.to_string())
        .unwrap()
}

const ZONAL: [(&str, &str); 3] = [("a1", "zone-a"), ("a2", "zone-a"), ("b1", "zone-b")];

#[test]
fn wait_for_first_consumer_provisions_in_the_zone_of_the_chosen_node() {
    let cluster = Cluster::new();
    cluster.write("m/nodes.yaml", &nodes(&ZONAL));
    cluster.write("m/db.yaml", &zonal_db(3, ""));
    let plan = cluster.json(&["plan", "-f", "m/"]);
    assert_eq!(plan["outcome"], "Converged");
    // Each claim is made with its replica, provisioned and bound when the
    // replica is placed: in the same step, before the replica's bind.
    let step = &plan["steps"][0]["actions"];
    let ops: Vec<&str> = step
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["object"] != "Node/a1" && a["op"] != "add-node")
        .map(|a| a["op"].as_str().unwrap())
        .collect();
    let position = |op: &str| ops.iter().position(|o| *o == op).unwrap();
    assert!(position("create-claim") < position("create"), "{ops:?}");
    assert!(position("provision") < position("bind"), "{ops:?}");
    assert!(position("bind-volume") < position("bind"), "{ops:?}");
    cluster.run(&["apply", "-f", "m/", "-q"]).success();
    let claims = cluster.items("pvc");
    assert_eq!(claims.len(), 3);
    for ordinal in 0..3 {
        let claim = claims
            .iter()
            .find(|c| c["name"] == format!("data-db-{ordinal}").as_str())
            .unwrap();
        assert_eq!(claim["phase"], "Bound");
        assert_eq!(claim["capacity"], "10Gi");
        let node = cluster.replica(&format!("db-{ordinal}"))["node"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(claim["zone"], zone_of(&node, &ZONAL).as_str(), "{claim}");
    }
    let volumes = cluster.items("pv");
    assert_eq!(volumes.len(), 3);
    assert!(volumes.iter().all(|v| v["phase"] == "Bound"
        && v["storageClass"] == "zonal"
        && v["claim"].as_str().unwrap().starts_with("default/data-db-")));
}

#[test]
fn a_zonal_volume_keeps_its_replica_in_its_zone() {
    let cluster = Cluster::new();
    cluster.write("m/nodes.yaml", &nodes(&ZONAL));
    cluster.write("m/db.yaml", &zonal_db(1, ""));
    cluster.run(&["apply", "-f", "m/", "-q"]).success();
    let first = cluster.node_of("db-0");
    let zone = zone_of(&first, &ZONAL);
    // The node leaves the fleet: db-0 comes back in the same zone, on its other node.
    let remaining: Vec<(&str, &str)> = ZONAL.iter().copied().filter(|(n, _)| *n != first).collect();
    cluster.write("m/nodes.yaml", &nodes(&remaining));
    cluster.run(&["apply", "-f", "m/", "-q"]).success();
    let second = cluster.node_of("db-0");
    assert_ne!(second, first);
    assert_eq!(zone_of(&second, &ZONAL), zone, "replaced in its zone only");
    // With no node left in the zone, it waits with the volume's message.
    let others: Vec<(&str, &str)> = ZONAL.iter().copied().filter(|(_, z)| *z != zone).collect();
    cluster.write("m/nodes.yaml", &nodes(&others));
    cluster
        .run(&["apply", "-f", "m/"])
        .code(3)
        .stdout(predicate::str::contains(
            "node(s) had volume node affinity conflict",
        ));
}

#[test]
fn a_local_volume_pins_its_replica_through_a_node_failure() {
    let cluster = Cluster::new();
    let fleet = [("n1", "zone-a"), ("n2", "zone-a"), ("n3", "zone-a")];
    cluster.write("m/nodes.yaml", &nodes(&fleet));
    cluster.write(
        "m/db.yaml",
        &format!(
            "{}{}{}{}",
            storage_class(
                "local",
                "kubernetes.io/no-provisioner",
                "WaitForFirstConsumer"
            ),
            local_volume("local-n1", "local", "20Gi", "n1"),
            local_volume("local-n2", "local", "20Gi", "n2"),
            db(2, "local", "ReadWriteOnce", "")
        ),
    );
    cluster.run(&["apply", "-f", "m/", "-q"]).success();
    let db1 = cluster.replica("db-1");
    let pinned = db1["node"].as_str().unwrap().to_string();
    assert!(
        ["n1", "n2"].contains(&pinned.as_str()),
        "only nodes with a local volume"
    );
    cluster.run(&["node", "fail", &pinned]).success();
    cluster.run(&["apply", "-f", "m/", "-q"]).code(3);
    assert_eq!(cluster.replica("db-1")["phase"], "Terminating");
    // The node is removed: db-1 is made again, and waits for its volume's node.
    let remaining: Vec<(&str, &str)> = fleet
        .iter()
        .copied()
        .filter(|(n, _)| *n != pinned)
        .collect();
    cluster.write("m/nodes.yaml", &nodes(&remaining));
    let result = cluster.json(&["apply", "-f", "m/"]);
    assert_eq!(result["outcome"], "Blocked");
    let db1 = cluster.replica("db-1");
    assert_eq!(db1["phase"], "Pending");
    assert_eq!(
        db1["reason"],
        "0/2 nodes are available: 2 node(s) had volume node affinity conflict. no new claims to deallocate, preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
    );
    cluster
        .run(&["explain", "db-1"])
        .success()
        .stdout(predicate::str::contains(
            "VolumeBinding: node(s) had volume node affinity conflict",
        ));
    // The claim is still bound to the lost node's volume.
    cluster
        .run(&["describe", "pvc", "data-db-1"])
        .success()
        .stdout(
            predicate::str::contains(format!("kubernetes.io/hostname In [{pinned}]"))
                .and(predicate::str::contains("Status:"))
                .and(predicate::str::contains("Bound")),
        );
}

#[test]
fn claims_bind_the_smallest_fitting_volume_and_deployments_use_claims_too() {
    let cluster = Cluster::new();
    cluster.write(
        "m/nodes.yaml",
        &nodes(&[("n1", "zone-a"), ("n2", "zone-b")]),
    );
    let volume = |name: &str, size: &str| {
        format!(
            "apiVersion: v1
kind: PersistentVolume
metadata:
  name: {name}
spec:
  capacity: {{storage: {size}}}
  accessModes: [ReadWriteOnce, ReadWriteMany]
  storageClassName: nfs
  nfs: {{server: nfs.example, path: /{name}}}
---
"
        )
    };
    cluster.write(
        "m/storage.yaml",
        &format!(
            "{}{}{}{}apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: shared
spec:
  accessModes: [ReadWriteMany]
  storageClassName: nfs
  resources: {{requests: {{storage: 8Gi}}}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: web
        image: example/web:1
      volumes:
      - name: content
        persistentVolumeClaim: {{claimName: shared}}
---
",
            storage_class("nfs", "kubernetes.io/no-provisioner", "Immediate"),
            volume("big", "100Gi"),
            volume("medium", "20Gi"),
            volume("small", "5Gi"),
        ),
    );
    cluster.run(&["apply", "-f", "m/", "-q"]).success();
    let claims = cluster.items("pvc");
    assert_eq!(claims[0]["volumeName"], "medium", "{claims:?}");
    assert_eq!(claims[0]["capacity"], "20Gi");
    let web: Vec<Value> = cluster
        .replicas()
        .into_iter()
        .filter(|r| r["workload"] == "Deployment/default/web")
        .collect();
    assert_eq!(web.len(), 2);
    assert!(web.iter().all(|r| r["phase"] == "Running"));
}

#[test]
fn claims_that_cannot_bind_leave_replicas_pending_with_kubernetes_messages() {
    // Access modes no volume offers: VolumeBinding finds nothing to bind.
    let cluster = Cluster::new();
    cluster.write("m/nodes.yaml", &nodes(&[("n1", "zone-a")]));
    cluster.write(
        "m/db.yaml",
        &format!(
            "{}{}{}",
            storage_class(
                "local",
                "kubernetes.io/no-provisioner",
                "WaitForFirstConsumer"
            ),
            local_volume("local-n1", "local", "20Gi", "n1"),
            db(1, "local", "ReadWriteMany", "")
        ),
    );
    cluster
        .run(&["apply", "-f", "m/"])
        .code(3)
        .stdout(predicate::str::contains(
            "0/1 nodes are available: 1 node(s) didn't find available persistent volumes to bind.",
        ));
    // An Immediate class without a volume or a provisioner: unresolvable PreFilter.
    let cluster = Cluster::new();
    cluster.write(
        "m/nodes.yaml",
        &nodes(&[("n1", "zone-a"), ("n2", "zone-a")]),
    );
    cluster.write(
        "m/db.yaml",
        &format!(
            "{}{}",
            storage_class("manual", "kubernetes.io/no-provisioner", "Immediate"),
            db(1, "manual", "ReadWriteOnce", "")
        ),
    );
    cluster
        .run(&["apply", "-f", "m/"])
        .code(3)
        .stdout(predicate::str::contains(
            "0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims.",
        ));
    assert_eq!(cluster.items("pvc")[0]["phase"], "Pending");
}

#[test]
fn bad_storage_input_is_located_and_changes_nothing() {
    let cluster = Cluster::new();
    cluster.write("m/nodes.yaml", &nodes(&[("n1", "zone-a")]));
    let no_request =
        zonal_db(1, "").replace("      resources:\n        requests: {storage: 10Gi}\n", "");
    cluster.write("m/db.yaml", &no_request);
    cluster
        .run(&["apply", "-f", "m/"])
        .code(1)
        .stderr(predicate::str::contains(
            "spec.volumeClaimTemplates[0].spec.resources.requests.storage: Required value",
        ));
    assert!(!cluster.state().exists());
    cluster.write("m/db.yaml", &db(1, "fast", "ReadWriteOnce", ""));
    cluster.run(&["apply", "-f", "m/"]).code(1).stderr(
        predicate::str::contains("m/db.yaml:24:25").and(predicate::str::contains(
            "spec.volumeClaimTemplates[0].spec.storageClassName: Not found: \"fast\"",
        )),
    );
    cluster.write("m/db.yaml", &zonal_db(1, ""));
    cluster.run(&["apply", "-f", "m/", "-q"]).success();
    let before = cluster.state_bytes();
    cluster.write(
        "m/db.yaml",
        &zonal_db(1, "").replace("storage: 10Gi", "storage: 20Gi"),
    );
    cluster
        .run(&["apply", "-f", "m/"])
        .code(1)
        .stderr(predicate::str::contains(
            "m/db.yaml:13:3: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        ));
    cluster.run(&["plan", "-f", "m/"]).code(1);
    assert_eq!(cluster.state_bytes(), before, "state untouched");
}

#[test]
fn the_retention_policy_decides_what_happens_to_claims() {
    let cluster = Cluster::new();
    cluster.write(
        "m/nodes.yaml",
        &nodes(&[("n1", "zone-a"), ("n2", "zone-b")]),
    );
    let manifests = |replicas: i32, policy: &str| {
        zonal_db(
            replicas,
            &format!("  persistentVolumeClaimRetentionPolicy: {{whenScaled: {policy}}}\n"),
        )
    };
    cluster.write("m/db.yaml", &manifests(3, "Retain"));
    cluster.run(&["apply", "-f", "m/", "-q"]).success();
    cluster.write("m/db.yaml", &manifests(1, "Retain"));
    cluster.run(&["apply", "-f", "m/", "-q"]).success();
    assert_eq!(cluster.items("pvc").len(), 3, "kept when scaled down");
    // Scaled up again: the replicas find their own claims.
    cluster.write("m/db.yaml", &manifests(3, "Delete"));
    cluster.run(&["apply", "-f", "m/", "-q"]).success();
    assert_eq!(cluster.items("pv").len(), 3, "no new volume");
    cluster.write("m/db.yaml", &manifests(1, "Delete"));
    cluster.run(&["apply", "-f", "m/", "-q"]).success();
    let claims: Vec<String> = cluster
        .items("pvc")
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(claims, ["data-db-0"]);
    assert_eq!(
        cluster.items("pv").len(),
        1,
        "provisioned volumes go with their claims"
    );
}
