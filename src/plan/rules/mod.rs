//! The plan's domain rules (references, addresses, mounts, capacity, secrets) and the resolution of a checked plan to a `ValidPlan`.
//!
//! The rules run after the schema layer and per-entry deserialisation. An entry that failed to
//! deserialise (a value of the wrong type, a missing key; an unknown key is no reason, see
//! `raw.rs`) is `None`: its name still counts as defined, but no rule looks inside it.

mod addresses;
mod capacity;
mod connections;
mod credentials;
mod hooks;
mod migrations;
mod mounts;
mod resolve;
mod selection;
mod size;
mod spans;

mod system_volume;
#[cfg(test)]
mod test_support;
mod waves;

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::plan::diagnostic::Diagnostic;
use crate::plan::raw::{RawMigration, RawTarget, RawWave, RawWorkload};
use crate::plan::valid::{PlannedIp, ValidPlan};
use crate::plan::yaml::Locate;

pub use size::{SizeError, parse_size_text};

/// The plan's entries after per-entry deserialisation. An entry that failed to deserialise is
/// `None` (the schema layer already reported why); its name still counts as defined.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PlanEntries {
    pub version: Option<u64>,
    pub sources: Vec<NamedEntry<RawWorkload>>,
    pub targets: Vec<NamedEntry<RawTarget>>,
    /// Index = position in the YAML list.
    pub migrations: Vec<Option<RawMigration>>,
    /// `None` when the plan has no `waves` (or it is not a list); else each wave, index =
    /// position, `None` for one that did not deserialise.
    pub waves: Option<Vec<Option<RawWave>>>,
    /// Name → position of sources and targets, built on first lookup (a large plan's rules look
    /// names up once per migration; a scan each time would be quadratic).
    #[serde(skip)]
    names: OnceLock<NameIndex>,
}

#[derive(Debug, Default)]
struct NameIndex {
    sources: HashMap<String, usize>,
    targets: HashMap<String, usize>,
}

fn index_names<T>(entries: &[NamedEntry<T>]) -> HashMap<String, usize> {
    let mut index = HashMap::with_capacity(entries.len());
    // Reversed, so that the first of duplicated names wins, as in a scan.
    for (position, entry) in entries.iter().enumerate().rev() {
        index.insert(entry.name.clone(), position);
    }
    index
}

/// A `sources` or `targets` entry: its name (the mapping key) and its value when it deserialised.
#[derive(Debug, Clone, Deserialize)]
pub struct NamedEntry<T> {
    pub name: String,
    pub value: Option<T>,
}

impl PlanEntries {
    pub fn new(
        version: Option<u64>,
        sources: Vec<NamedEntry<RawWorkload>>,
        targets: Vec<NamedEntry<RawTarget>>,
        migrations: Vec<Option<RawMigration>>,
    ) -> Self {
        Self {
            version,
            sources,
            targets,
            migrations,
            waves: None,
            names: OnceLock::new(),
        }
    }

    /// Deserialises each entry of a plan's JSON form on its own, so one malformed source does
    /// not hide the others (its name still counts as defined).
    pub fn from_json(json: &serde_json::Value) -> Self {
        fn named<T: DeserializeOwned>(section: Option<&serde_json::Value>) -> Vec<NamedEntry<T>> {
            section
                .and_then(serde_json::Value::as_object)
                .map(|entries| {
                    entries
                        .iter()
                        .map(|(name, value)| NamedEntry {
                            name: name.clone(),
                            value: T::deserialize(value).ok(),
                        })
                        .collect()
                })
                .unwrap_or_default()
        }
        let migrations = json
            .get("migrations")
            .and_then(serde_json::Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .map(|item| RawMigration::deserialize(item).ok())
                    .collect()
            })
            .unwrap_or_default();
        let waves = json
            .get("waves")
            .and_then(serde_json::Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .map(|item| RawWave::deserialize(item).ok())
                    .collect()
            });
        Self {
            waves,
            ..Self::new(
                json.get("version").and_then(serde_json::Value::as_u64),
                named(json.get("sources")),
                named(json.get("targets")),
                migrations,
            )
        }
    }

    fn names(&self) -> &NameIndex {
        self.names.get_or_init(|| NameIndex {
            sources: index_names(&self.sources),
            targets: index_names(&self.targets),
        })
    }

    /// The source with this name, when it is defined and deserialised.
    fn source(&self, name: &str) -> Option<&RawWorkload> {
        let position = *self.names().sources.get(name)?;
        self.sources[position].value.as_ref()
    }

    /// The target with this name, when it is defined and deserialised.
    fn target(&self, name: &str) -> Option<&RawTarget> {
        let position = *self.names().targets.get(name)?;
        self.targets[position].value.as_ref()
    }

    fn defines_source(&self, name: &str) -> bool {
        self.names().sources.contains_key(name)
    }

    fn defines_target(&self, name: &str) -> bool {
        self.names().targets.contains_key(name)
    }
}

/// Runs every domain rule and returns what they found, in no particular order (the caller
/// sorts and de-duplicates).
pub fn check(entries: &PlanEntries, locator: &dyn Locate) -> Vec<Diagnostic> {
    let spans = spans::Spans::new(locator);
    let mut diagnostics = Vec::new();
    let workloads = workloads(entries);
    for workload in &workloads {
        addresses::check_workload_ip(workload, &spans, &mut diagnostics);
        credentials::check_credentials(
            &workload.value.credentials,
            &workload.pointer.key("credentials"),
            &workload.describe(),
            &spans,
            &mut diagnostics,
        );
        mounts::check_mountpoints(workload, &spans, &mut diagnostics);
    }
    for target in &entries.targets {
        if let Some(value) = &target.value {
            let pointer = spans::Pointer::root()
                .key("targets")
                .key(&target.name)
                .key("credentials");
            let owner = format!("the cloud credentials of target `{}`", target.name);
            credentials::check_credentials(
                &value.credentials,
                &pointer,
                &owner,
                &spans,
                &mut diagnostics,
            );
        }
    }
    connections::check_connections(entries, &workloads, &spans, &mut diagnostics);
    addresses::check_shared_ips(entries, &spans, &mut diagnostics);
    migrations::check_migrations(entries, &spans, &mut diagnostics);
    selection::check_selections(entries, &spans, &mut diagnostics);
    waves::check_waves(entries, &spans, &mut diagnostics);
    hooks::check_hooks(entries, &spans, &mut diagnostics);
    diagnostics
}

impl PlanEntries {
    /// Every source's IP as written (whether it parses or not), with its span: for the rules that
    /// compare the plan with state, which run on a plan with errors too (`ferry check`).
    pub fn source_ips(&self, locator: &dyn Locate) -> Vec<PlannedIp> {
        let spans = spans::Spans::new(locator);
        self.sources
            .iter()
            .filter_map(|entry| {
                let workload = entry.value.as_ref()?;
                let pointer = spans::Pointer::root()
                    .key("sources")
                    .key(&entry.name)
                    .key("ip");
                Some(PlannedIp {
                    source: entry.name.clone(),
                    ip: workload.ip.clone(),
                    span: spans.value(&pointer),
                })
            })
            .collect()
    }
}

/// Builds the `ValidPlan`. Call it only when `check` and the earlier layers found no error;
/// it returns `None` rather than panicking when something is still off.
pub fn resolve(
    entries: &PlanEntries,
    plan_file: &Path,
    base_dir: &Path,
    locator: &dyn Locate,
) -> Option<ValidPlan> {
    resolve::resolve(entries, plan_file, base_dir, locator)
}

/// Whether a workload is a source or a target's VM: it decides the pointer and the wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WorkloadRole {
    Source,
    TargetVm,
}

/// A deserialised workload with where it sits in the plan.
struct WorkloadEntry<'a> {
    role: WorkloadRole,
    /// The source's or the target's name.
    name: &'a str,
    value: &'a RawWorkload,
    /// `/sources/NAME` or `/targets/NAME/vm`.
    pointer: spans::Pointer,
}

impl WorkloadEntry<'_> {
    /// "source `web-01`" or "the VM of target `aws-1`".
    fn describe(&self) -> String {
        match self.role {
            WorkloadRole::Source => format!("source `{}`", self.name),
            WorkloadRole::TargetVm => format!("the VM of target `{}`", self.name),
        }
    }
}

/// Every deserialised workload: the sources, then the targets' VMs.
fn workloads(entries: &PlanEntries) -> Vec<WorkloadEntry<'_>> {
    let sources = entries.sources.iter().filter_map(|entry| {
        entry.value.as_ref().map(|value| WorkloadEntry {
            role: WorkloadRole::Source,
            name: &entry.name,
            value,
            pointer: spans::Pointer::root().key("sources").key(&entry.name),
        })
    });
    let target_vms = entries.targets.iter().filter_map(|entry| {
        entry.value.as_ref().map(|value| WorkloadEntry {
            role: WorkloadRole::TargetVm,
            name: &entry.name,
            value: &value.vm,
            pointer: spans::Pointer::root()
                .key("targets")
                .key(&entry.name)
                .key("vm"),
        })
    });
    sources.chain(target_vms).collect()
}
