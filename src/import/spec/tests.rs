//! The manifests recovered from live objects: last-applied, or live without defaults.

use super::*;
use serde_json::json;

#[test]
fn server_defaults_are_removed_and_declared_values_kept() {
    let mut spec = json!({
        "replicas": 2,
        "revisionHistoryLimit": 10,
        "progressDeadlineSeconds": 600,
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
        "template": {
            "metadata": {"creationTimestamp": null, "labels": {"app": "web"}},
            "spec": {
                "restartPolicy": "Always", "dnsPolicy": "ClusterFirst",
                "schedulerName": "default-scheduler", "securityContext": {},
                "terminationGracePeriodSeconds": 60,
                "containers": [{
                    "name": "web", "image": "nginx:1.27", "imagePullPolicy": "IfNotPresent",
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File", "resources": {},
                    "ports": [{"containerPort": 80, "protocol": "TCP"}],
                    "readinessProbe": {"httpGet": {"path": "/", "port": 80, "scheme": "HTTP"},
                        "timeoutSeconds": 1, "periodSeconds": 5, "successThreshold": 1, "failureThreshold": 3}
                }]
            }
        }
    });
    clean_spec("Deployment", &mut spec);
    assert_eq!(
        spec,
        json!({
            "replicas": 2,
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "terminationGracePeriodSeconds": 60,
                    "containers": [{
                        "name": "web", "image": "nginx:1.27",
                        "ports": [{"containerPort": 80}],
                        "readinessProbe": {"httpGet": {"path": "/", "port": 80}, "periodSeconds": 5}
                    }]
                }
            }
        })
    );
}

#[test]
fn fields_are_removed_by_path() {
    let mut value = json!({"spec": {"containers": [{"name": "a"}, {"name": "b", "new": 1}]}});
    assert!(remove_path(&mut value, "spec.containers[1].new"));
    assert_eq!(
        value,
        json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}]}})
    );
    assert!(!remove_path(&mut value, "spec.containers[5].new"));
    assert!(!remove_path(&mut value, "spec.missing"));
}

#[test]
fn latest_images_default_to_always_pulling() {
    let mut container = json!({"image": "registry:5000/tools", "imagePullPolicy": "Always"});
    prune_container_defaults(container.as_object_mut().unwrap());
    assert_eq!(container, json!({"image": "registry:5000/tools"}));
    let mut container = json!({"image": "tools:latest", "imagePullPolicy": "IfNotPresent"});
    prune_container_defaults(container.as_object_mut().unwrap());
    assert_eq!(container["imagePullPolicy"], "IfNotPresent");
}
