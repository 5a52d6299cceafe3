//! Resource amounts in the units the scheduler compares: cpu in millicores,
//! everything else (memory, ephemeral-storage, extended resources) in whole units.

use super::quantity::{Quantity, QuantityError, format_binary, format_milli};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;

pub const CPU: &str = "cpu";
pub const MEMORY: &str = "memory";
pub const EPHEMERAL_STORAGE: &str = "ephemeral-storage";
pub const PODS: &str = "pods";

/// Default pod capacity of a node that does not declare `pods`.
pub const DEFAULT_MAX_PODS: i64 = 110;
/// Scoring defaults for containers without requests (`schedutil.DefaultMilliCPURequest`).
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resources {
    pub milli_cpu: i64,
    pub memory: i64,
    pub ephemeral_storage: i64,
    /// Extended resources such as `nvidia.com/gpu`, whole units.
    pub scalar: BTreeMap<String, i64>,
}

impl Resources {
    pub fn is_zero(&self) -> bool {
        self.milli_cpu == 0
            && self.memory == 0
            && self.ephemeral_storage == 0
            && self.scalar.values().all(|v| *v == 0)
    }

    /// Whether any amount is below zero.
    pub fn has_negative(&self) -> bool {
        self.milli_cpu < 0
            || self.memory < 0
            || self.ephemeral_storage < 0
            || self.scalar.values().any(|v| *v < 0)
    }

    pub fn get(&self, name: &str) -> i64 {
        match name {
            CPU => self.milli_cpu,
            MEMORY => self.memory,
            EPHEMERAL_STORAGE => self.ephemeral_storage,
            other => self.scalar.get(other).copied().unwrap_or(0),
        }
    }

    pub fn set(&mut self, name: &str, value: i64) {
        match name {
            CPU => self.milli_cpu = value,
            MEMORY => self.memory = value,
            EPHEMERAL_STORAGE => self.ephemeral_storage = value,
            other => {
                self.scalar.insert(other.to_string(), value);
            }
        }
    }

    pub fn add(&mut self, other: &Resources) {
        self.milli_cpu = self.milli_cpu.saturating_add(other.milli_cpu);
        self.memory = self.memory.saturating_add(other.memory);
        self.ephemeral_storage = self
            .ephemeral_storage
            .saturating_add(other.ephemeral_storage);
        for (name, value) in &other.scalar {
            let entry = self.scalar.entry(name.clone()).or_insert(0);
            *entry = entry.saturating_add(*value);
        }
    }

    pub fn sub(&mut self, other: &Resources) {
        self.milli_cpu -= other.milli_cpu;
        self.memory -= other.memory;
        self.ephemeral_storage -= other.ephemeral_storage;
        for (name, value) in &other.scalar {
            *self.scalar.entry(name.clone()).or_insert(0) -= value;
        }
    }

    /// Per-resource maximum (the init-container rule).
    pub fn max_with(&mut self, other: &Resources) {
        self.milli_cpu = self.milli_cpu.max(other.milli_cpu);
        self.memory = self.memory.max(other.memory);
        self.ephemeral_storage = self.ephemeral_storage.max(other.ephemeral_storage);
        for (name, value) in &other.scalar {
            let entry = self.scalar.entry(name.clone()).or_insert(0);
            *entry = (*entry).max(*value);
        }
    }

    /// Names of all resources with a non-zero amount, in Kubernetes' report order:
    /// cpu, memory, ephemeral-storage, then extended resources by name.
    pub fn names(&self) -> Vec<&str> {
        let mut names = Vec::new();
        for (name, value) in [
            (CPU, self.milli_cpu),
            (MEMORY, self.memory),
            (EPHEMERAL_STORAGE, self.ephemeral_storage),
        ] {
            if value != 0 {
                names.push(name);
            }
        }
        names.extend(
            self.scalar
                .iter()
                .filter(|(_, v)| **v != 0)
                .map(|(k, _)| k.as_str()),
        );
        names
    }
}

/// Parse one named quantity into the scheduler's unit for that resource.
pub fn parse_amount(name: &str, text: &str) -> Result<i64, QuantityError> {
    let quantity = Quantity::parse(text)?;
    if name == CPU {
        quantity
            .checked_milli_value()
            .ok_or(QuantityError::TooLarge)
    } else {
        Ok(quantity.value())
    }
}

pub fn format_amount(name: &str, value: i64) -> String {
    if name == CPU {
        format_milli(value)
    } else {
        format_binary(value)
    }
}

/// A node's allocatable resources plus its pod capacity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocatable {
    pub resources: Resources,
    pub pods: i64,
}

impl Default for Allocatable {
    fn default() -> Self {
        Allocatable {
            resources: Resources::default(),
            pods: DEFAULT_MAX_PODS,
        }
    }
}

impl Allocatable {
    /// The `{cpu: "4", memory: "16Gi", pods: "110", ...}` map used in the state file and JSON output.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        let mut map = resource_map(&self.resources);
        map.insert(PODS.to_string(), self.pods.to_string());
        map
    }

    pub fn from_map(
        map: &BTreeMap<String, String>,
    ) -> Result<Allocatable, (String, QuantityError)> {
        let mut allocatable = Allocatable::default();
        for (name, text) in map {
            let value = parse_amount(name, text).map_err(|e| (name.clone(), e))?;
            if name == PODS {
                allocatable.pods = value;
            } else {
                allocatable.resources.set(name, value);
            }
        }
        Ok(allocatable)
    }
}

pub fn resource_map(resources: &Resources) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for (name, value) in [
        (CPU, resources.milli_cpu),
        (MEMORY, resources.memory),
        (EPHEMERAL_STORAGE, resources.ephemeral_storage),
    ] {
        if value != 0 {
            map.insert(name.to_string(), format_amount(name, value));
        }
    }
    for (name, value) in &resources.scalar {
        map.insert(name.clone(), format_amount(name, *value));
    }
    map
}

impl Serialize for Allocatable {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_map().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Allocatable {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<String, String>::deserialize(deserializer)?;
        Allocatable::from_map(&map)
            .map_err(|(name, e)| serde::de::Error::custom(format!("{name}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_is_millicores_and_memory_is_bytes() {
        assert_eq!(parse_amount(CPU, "500m").unwrap(), 500);
        assert_eq!(parse_amount(CPU, "1.5").unwrap(), 1500);
        assert_eq!(parse_amount(MEMORY, "2Gi").unwrap(), 2 << 30);
        assert_eq!(parse_amount("nvidia.com/gpu", "1").unwrap(), 1);
    }

    #[test]
    fn allocatable_round_trips_through_its_map() {
        let mut map = BTreeMap::new();
        map.insert("cpu".to_string(), "4".to_string());
        map.insert("memory".to_string(), "16Gi".to_string());
        map.insert("nvidia.com/gpu".to_string(), "2".to_string());
        let allocatable = Allocatable::from_map(&map).unwrap();
        assert_eq!(allocatable.pods, DEFAULT_MAX_PODS);
        assert_eq!(allocatable.resources.get("nvidia.com/gpu"), 2);
        let back = allocatable.to_map();
        assert_eq!(back["cpu"], "4");
        assert_eq!(back["memory"], "16Gi");
        assert_eq!(back["pods"], "110");
        assert_eq!(Allocatable::from_map(&back).unwrap(), allocatable);
    }

    #[test]
    fn max_with_takes_the_larger_amount_per_resource() {
        let mut a = Resources {
            milli_cpu: 2000,
            memory: 1 << 30,
            ..Default::default()
        };
        let b = Resources {
            milli_cpu: 1000,
            memory: 3 << 30,
            ..Default::default()
        };
        a.max_with(&b);
        assert_eq!((a.milli_cpu, a.memory), (2000, 3 << 30));
    }
}
