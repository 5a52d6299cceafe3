//! Pod priority: PriorityClasses (scheduling.k8s.io/v1), the two built-in
//! system classes, and how the `Priority` admission plugin resolves a pod's
//! `priorityClassName` into its `priority` and `preemptionPolicy`
//! (`plugin/pkg/admission/priority/admission.go`).

use serde::{Deserialize, Serialize};
use std::fmt;

/// `scheduling.HighestUserDefinablePriority`.
pub const HIGHEST_USER_DEFINABLE_PRIORITY: i32 = 1_000_000_000;
/// `scheduling.SystemCriticalPriority`.
pub const SYSTEM_CRITICAL_PRIORITY: i32 = 2 * HIGHEST_USER_DEFINABLE_PRIORITY;
/// `scheduling.SystemPriorityClassPrefix`.
pub const SYSTEM_PRIORITY_CLASS_PREFIX: &str = "system-";
pub const SYSTEM_CLUSTER_CRITICAL: &str = "system-cluster-critical";
pub const SYSTEM_NODE_CRITICAL: &str = "system-node-critical";

/// A pod's `spec.preemptionPolicy`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub enum PreemptionPolicy {
    #[default]
    PreemptLowerPriority,
    Never,
}

impl PreemptionPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            PreemptionPolicy::PreemptLowerPriority => "PreemptLowerPriority",
            PreemptionPolicy::Never => "Never",
        }
    }

    pub fn parse(text: &str) -> Option<PreemptionPolicy> {
        match text {
            "PreemptLowerPriority" => Some(PreemptionPolicy::PreemptLowerPriority),
            "Never" => Some(PreemptionPolicy::Never),
            _ => None,
        }
    }
}

impl fmt::Display for PreemptionPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A PriorityClass as declared (or built in).
#[derive(Debug, Clone, PartialEq)]
pub struct PriorityClass {
    pub name: String,
    pub value: i32,
    pub global_default: bool,
    pub preemption_policy: PreemptionPolicy,
    pub description: String,
    /// The object as last applied (None for the built-ins), kept in the
    /// state so commands without `-f` resolve priorities as the run did.
    pub manifest: Option<crate::model::workload::Manifest>,
}

/// `SystemPriorityClasses()`: the classes every cluster has.
pub fn system_classes() -> [PriorityClass; 2] {
    let class = |name: &str, value: i32, description: &str| PriorityClass {
        name: name.to_string(),
        value,
        global_default: false,
        preemption_policy: PreemptionPolicy::PreemptLowerPriority,
        description: description.to_string(),
        manifest: None,
    };
    [
        class(
            SYSTEM_NODE_CRITICAL,
            SYSTEM_CRITICAL_PRIORITY + 1000,
            "Used for system critical pods that must not be moved from their current node.",
        ),
        class(
            SYSTEM_CLUSTER_CRITICAL,
            SYSTEM_CRITICAL_PRIORITY,
            "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
        ),
    ]
}

/// `IsKnownSystemPriorityClass`: a `system-` name must be one of the
/// built-ins, with its value and not as the global default.
pub fn known_system_class(name: &str, value: i32, global_default: bool) -> Result<(), String> {
    let Some(class) = system_classes().into_iter().find(|c| c.name == name) else {
        return Err(format!("{name} is not a known system priority class"));
    };
    if class.value != value {
        return Err(format!(
            "value of {name} PriorityClass must be {}",
            class.value
        ));
    }
    if global_default {
        return Err(format!(
            "globalDefault of {name} PriorityClass must be false"
        ));
    }
    Ok(())
}

/// What admission writes into a pod: its priority and preemption policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resolved {
    pub priority: i32,
    pub preemption_policy: PreemptionPolicy,
}

/// The declared classes and the built-ins, by name.
#[derive(Debug, Clone, Default)]
pub struct Classes<'a> {
    declared: &'a [PriorityClass],
}

impl<'a> Classes<'a> {
    pub fn new(declared: &'a [PriorityClass]) -> Classes<'a> {
        Classes { declared }
    }

    pub fn get(&self, name: &str) -> Option<PriorityClass> {
        self.declared
            .iter()
            .find(|c| c.name == name)
            .cloned()
            .or_else(|| system_classes().into_iter().find(|c| c.name == name))
    }

    /// `getDefaultPriority`: the global default class (the lowest value if
    /// several claim it), else priority 0 with no class.
    pub fn default_class(&self) -> Option<&'a PriorityClass> {
        self.declared
            .iter()
            .filter(|c| c.global_default)
            .min_by_key(|c| c.value)
    }

    /// The admission plugin's resolution of `priorityClassName` (empty: the
    /// global default). `Err` carries the API server's message.
    pub fn resolve(&self, class_name: &str) -> Result<Resolved, String> {
        if class_name.is_empty() {
            return Ok(self
                .default_class()
                .map_or_else(Resolved::default, |c| Resolved {
                    priority: c.value,
                    preemption_policy: c.preemption_policy,
                }));
        }
        self.get(class_name)
            .map(|c| Resolved {
                priority: c.value,
                preemption_policy: c.preemption_policy,
            })
            .ok_or_else(|| format!("no PriorityClass with name {class_name} was found"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(name: &str, value: i32, global_default: bool) -> PriorityClass {
        PriorityClass {
            name: name.into(),
            value,
            global_default,
            preemption_policy: PreemptionPolicy::PreemptLowerPriority,
            description: String::new(),
            manifest: None,
        }
    }

    /// The resolution cases of `TestPodAdmission` (plugin/pkg/admission/
    /// priority/admission_test.go): a named class, the global default, no
    /// default, a system class, a missing class.
    #[test]
    fn admission_resolves_as_the_priority_plugin() {
        let declared = [
            class("default1", 1000, true),
            class("nondefault1", 2000, false),
        ];
        let classes = Classes::new(&declared);
        assert_eq!(classes.resolve("nondefault1").unwrap().priority, 2000);
        assert_eq!(classes.resolve("").unwrap().priority, 1000);
        assert_eq!(Classes::new(&[]).resolve("").unwrap().priority, 0);
        assert_eq!(
            classes.resolve(SYSTEM_CLUSTER_CRITICAL).unwrap().priority,
            SYSTEM_CRITICAL_PRIORITY
        );
        assert_eq!(
            classes.resolve(SYSTEM_NODE_CRITICAL).unwrap().priority,
            SYSTEM_CRITICAL_PRIORITY + 1000
        );
        assert_eq!(
            classes.resolve("foo"),
            Err("no PriorityClass with name foo was found".into())
        );
    }

    /// Several global defaults (admission refuses the second, but a state
    /// could hold both): the lowest value wins, as `getDefaultPriorityClass`.
    #[test]
    fn the_lowest_global_default_wins() {
        let declared = [class("a", 500, true), class("b", 100, true)];
        assert_eq!(Classes::new(&declared).resolve("").unwrap().priority, 100);
    }

    #[test]
    fn system_classes_are_known_with_their_values_only() {
        assert!(known_system_class(SYSTEM_NODE_CRITICAL, 2_000_001_000, false).is_ok());
        assert!(known_system_class(SYSTEM_CLUSTER_CRITICAL, 5, false).is_err());
        assert!(known_system_class(SYSTEM_CLUSTER_CRITICAL, 2_000_000_000, true).is_err());
        assert!(known_system_class("system-mine", 5, false).is_err());
    }
}
