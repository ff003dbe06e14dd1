//! The plan's domain rules (references, addresses, mounts, capacity, secrets) and the resolution of a checked plan to a `ValidPlan`.
//!
//! The rules run after the schema layer and per-entry deserialisation. An entry that failed to
//! deserialise is `None`: its name still counts as defined, but no rule looks inside it.

mod addresses;
mod capacity;
mod connections;
mod credentials;
mod migrations;
mod mounts;
mod resolve;
mod selection;
mod size;
mod spans;

mod system_volume;
#[cfg(test)]
mod test_support;

use std::path::Path;

use serde::Deserialize;

use crate::plan::diagnostic::Diagnostic;
use crate::plan::raw::{RawMigration, RawTarget, RawWorkload};
use crate::plan::valid::ValidPlan;
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
}

/// A `sources` or `targets` entry: its name (the mapping key) and its value when it deserialised.
#[derive(Debug, Clone, Deserialize)]
pub struct NamedEntry<T> {
    pub name: String,
    pub value: Option<T>,
}

impl PlanEntries {
    /// The source with this name, when it is defined and deserialised.
    fn source(&self, name: &str) -> Option<&RawWorkload> {
        find_entry(&self.sources, name)
    }

    /// The target with this name, when it is defined and deserialised.
    fn target(&self, name: &str) -> Option<&RawTarget> {
        find_entry(&self.targets, name)
    }

    fn defines_source(&self, name: &str) -> bool {
        self.sources.iter().any(|entry| entry.name == name)
    }

    fn defines_target(&self, name: &str) -> bool {
        self.targets.iter().any(|entry| entry.name == name)
    }
}

fn find_entry<'a, T>(entries: &'a [NamedEntry<T>], name: &str) -> Option<&'a T> {
    entries
        .iter()
        .find(|entry| entry.name == name)
        .and_then(|entry| entry.value.as_ref())
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
    diagnostics
}

/// Builds the `ValidPlan`. Call it only when `check` and the earlier layers found no error;
/// it returns `None` rather than panicking when something is still off.
pub fn resolve(entries: &PlanEntries, plan_file: &Path, base_dir: &Path) -> Option<ValidPlan> {
    resolve::resolve(entries, plan_file, base_dir)
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
