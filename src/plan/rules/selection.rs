//! Rules on a migration's selected `mounts`: `empty-selection`, `duplicate-mount`, `unknown-mount`,
//! `missing-system-volume` and `capacity-exceeded`.

use std::collections::HashMap;

use bytesize::ByteSize;

use crate::plan::codes::Code;
use crate::plan::diagnostic::Diagnostic;
use crate::plan::mount_name::MountName;
use crate::plan::raw::{RawMigration, RawMount, RawWorkload};

use super::PlanEntries;
use super::migrations::{effective_names, migration_pointer};
use super::mounts::same_mount_help;
use super::size::parse_size;
use super::spans::{Pointer, Spans};
use super::suggest::did_you_mean;
use super::system_volume::system_volume;

pub(super) fn check_selections(
    entries: &PlanEntries,
    spans: &Spans<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let names = effective_names(&entries.migrations);
    for (index, migration) in entries.migrations.iter().enumerate() {
        let (Some(migration), Some(name)) = (migration, &names[index]) else {
            continue;
        };
        let selection = Selection {
            migration,
            name,
            pointer: migration_pointer(index).key("mounts"),
        };
        if migration.mounts.is_empty() {
            diagnostics.push(
                Diagnostic::new(
                    Code::EmptySelection,
                    format!("migration `{name}` selects no mounts"),
                )
                .with_label(spans.value(&selection.pointer), "no mounts selected")
                .with_help(
                    "list the source's mounts to move; the system volume must be among them",
                ),
            );
            continue;
        }
        selection.check_names(spans, diagnostics);
        if let Some(source) = entries.source(&migration.source) {
            selection.check_against_source(source, spans, diagnostics);
            if let Some(target) = entries.target(&migration.target) {
                selection.check_capacity(source, &target.vm, spans, diagnostics);
            }
        }
    }
}

/// One migration's `mounts` list.
struct Selection<'a> {
    migration: &'a RawMigration,
    /// The migration's effective name.
    name: &'a str,
    /// `/migrations/N/mounts`.
    pointer: Pointer,
}

impl Selection<'_> {
    /// The selected names that are not blank, with their index in the list.
    fn names(&self) -> impl Iterator<Item = (usize, &str)> {
        self.migration
            .mounts
            .iter()
            .enumerate()
            .filter(|(_, name)| !name.trim().is_empty())
            .map(|(index, name)| (index, name.as_str()))
    }

    /// `invalid-value` for blank names, `duplicate-mount` for a mount selected twice.
    fn check_names(&self, spans: &Spans<'_>, diagnostics: &mut Vec<Diagnostic>) {
        let mut first_by_name: HashMap<MountName, usize> = HashMap::new();
        for (index, written) in self.migration.mounts.iter().enumerate() {
            let item = self.pointer.index(index);
            if written.trim().is_empty() {
                diagnostics.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        format!(
                            "migration `{}` selects a mount with a blank name",
                            self.name
                        ),
                    )
                    .with_label(spans.value(&item), "blank mount name"),
                );
                continue;
            }
            let name = MountName::new(written);
            if let Some(&first) = first_by_name.get(&name) {
                let first_written = &self.migration.mounts[first];
                diagnostics.push(
                    Diagnostic::new(
                        Code::DuplicateMount,
                        format!("migration `{}` selects `{first_written}` twice", self.name),
                    )
                    .with_label(spans.value(&item), "selected again here")
                    .with_label(
                        spans.value(&self.pointer.index(first)),
                        "first selected here",
                    )
                    .with_help(same_mount_help(first_written, written)),
                );
            } else {
                first_by_name.insert(name, index);
            }
        }
    }

    /// `unknown-mount` and `missing-system-volume`.
    fn check_against_source(
        &self,
        source: &RawWorkload,
        spans: &Spans<'_>,
        diagnostics: &mut Vec<Diagnostic>,
    ) {
        let source_name = &self.migration.source;
        let source_mounts = Pointer::root()
            .key("sources")
            .key(source_name)
            .key("mountpoints");
        let available: Vec<&str> = source
            .mountpoints
            .iter()
            .map(|mount| mount.name.as_str())
            .filter(|name| !name.trim().is_empty())
            .collect();
        for (index, written) in self.names() {
            if find_mount(&source.mountpoints, &MountName::new(written)).is_some() {
                continue;
            }
            let listing = if available.is_empty() {
                format!("the source `{source_name}` declares no mounts")
            } else {
                format!(
                    "the source `{source_name}` has these mounts: {}",
                    available.join(", ")
                )
            };
            let mut diagnostic = Diagnostic::new(
                Code::UnknownMount,
                format!("migration `{}` selects `{written}`, which source `{source_name}` does not have", self.name),
            )
            .with_label(spans.value(&self.pointer.index(index)), format!("not a mount of `{source_name}`"))
            .with_label(spans.key(&source_mounts), listing);
            if let Some(suggestion) = did_you_mean(written, available.iter().copied()) {
                diagnostic = diagnostic.with_help(format!("did you mean `{suggestion}`?"));
            }
            diagnostics.push(diagnostic);
        }
        let Some(system_index) = system_volume(&source.mountpoints).index() else {
            return;
        };
        let system = &source.mountpoints[system_index];
        let system_name = MountName::new(&system.name);
        if self
            .names()
            .any(|(_, written)| MountName::new(written) == system_name)
        {
            return;
        }
        diagnostics.push(
            Diagnostic::new(
                Code::MissingSystemVolume,
                format!(
                    "migration `{}` does not move `{}`, the system volume of source `{source_name}`",
                    self.name, system.name
                ),
            )
            .with_label(spans.value(&self.pointer), format!("`{}` is missing here", system.name))
            .with_label(
                spans.value(&source_mounts.index(system_index).key("name")),
                format!("the system volume of `{source_name}`"),
            )
            .with_help(format!("add '{}' to mounts", system.name)),
        );
    }

    /// `capacity-exceeded`, when the target VM declares its mounts and every size involved is valid.
    fn check_capacity(
        &self,
        source: &RawWorkload,
        vm: &RawWorkload,
        spans: &Spans<'_>,
        diagnostics: &mut Vec<Diagnostic>,
    ) {
        if vm.mountpoints.is_empty() {
            return;
        }
        let Some(declared) = total_size(vm.mountpoints.iter()) else {
            return;
        };
        let mut seen: Vec<MountName> = Vec::new();
        let mut selected_mounts = Vec::new();
        for (_, written) in self.names() {
            let name = MountName::new(written);
            if seen.contains(&name) {
                continue;
            }
            if let Some(mount) = find_mount(&source.mountpoints, &name) {
                selected_mounts.push(mount);
            }
            seen.push(name);
        }
        let Some(selected) = total_size(selected_mounts.into_iter()) else {
            return;
        };
        if selected <= declared {
            return;
        }
        let target = &self.migration.target;
        let (selected, declared) = (ByteSize(selected), ByteSize(declared));
        diagnostics.push(
            Diagnostic::new(
                Code::CapacityExceeded,
                format!(
                    "migration `{}` moves more than the VM of target `{target}` holds: {selected} selected, {declared} declared",
                    self.name
                ),
            )
            .with_label(spans.value(&self.pointer), format!("{selected} selected"))
            .with_label(
                spans.key(&Pointer::root().key("targets").key(target).key("vm").key("mountpoints")),
                format!("{declared} declared"),
            )
            .with_help("select fewer mounts, or declare larger mounts on the target VM"),
        );
    }
}

fn find_mount<'a>(mounts: &'a [RawMount], name: &MountName) -> Option<&'a RawMount> {
    mounts
        .iter()
        .find(|mount| !mount.name.trim().is_empty() && MountName::new(&mount.name) == *name)
}

/// The sum of the sizes, or `None` when one is invalid (already reported) or the sum overflows.
fn total_size<'a>(mut mounts: impl Iterator<Item = &'a RawMount>) -> Option<u64> {
    mounts.try_fold(0u64, |total, mount| {
        total.checked_add(parse_size(&mount.size).ok()?)
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::{sample_plan, with_code};
    use crate::plan::codes::Code;

    #[test]
    fn an_empty_selection_is_reported_on_the_list() {
        let mut plan = sample_plan();
        plan["migrations"][0]["mounts"] = json!([]);
        let found = with_code(&plan, Code::EmptySelection);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].places(), ["value /migrations/0/mounts"]);
        assert!(with_code(&plan, Code::MissingSystemVolume).is_empty());
    }

    #[test]
    fn a_mount_selected_twice_labels_both() {
        let mut plan = sample_plan();
        plan["migrations"][0]["mounts"] = json!(["C:\\", "D:\\", "c:"]);
        let found = with_code(&plan, Code::DuplicateMount);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].places(),
            [
                "value /migrations/0/mounts/2",
                "value /migrations/0/mounts/0"
            ]
        );
    }

    #[test]
    fn unknown_mount_labels_the_selection_and_the_source_mounts() {
        let mut plan = sample_plan();
        plan["migrations"][0]["mounts"] = json!(["c:\\", "E:"]);
        plan["migrations"][1]["mounts"] = json!(["/", "/dta"]);
        let found = with_code(&plan, Code::UnknownMount);
        assert_eq!(found.len(), 2);
        assert_eq!(
            found[0].labels,
            [
                (
                    "value /migrations/0/mounts/1".to_string(),
                    "not a mount of `web-01`".to_string()
                ),
                (
                    "key /sources/web-01/mountpoints".to_string(),
                    "the source `web-01` has these mounts: C:\\, D:\\".to_string()
                ),
            ]
        );
        assert_eq!(found[0].help, None);
        assert_eq!(
            found[1].places(),
            [
                "value /migrations/1/mounts/1",
                "key /sources/db-01/mountpoints"
            ]
        );
        assert_eq!(found[1].help.as_deref(), Some("did you mean `/data`?"));
    }

    #[test]
    fn unknown_mount_is_not_checked_against_an_unknown_source() {
        let mut plan = sample_plan();
        plan["migrations"][0]["source"] = json!("nowhere");
        assert!(with_code(&plan, Code::UnknownMount).is_empty());
    }

    #[test]
    fn the_system_volume_must_be_selected() {
        let mut plan = sample_plan();
        plan["migrations"][0]["mounts"] = json!(["D:\\"]);
        let found = with_code(&plan, Code::MissingSystemVolume);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].places(),
            [
                "value /migrations/0/mounts",
                "value /sources/web-01/mountpoints/0/name"
            ]
        );
        assert_eq!(found[0].help.as_deref(), Some("add 'C:\\' to mounts"));
    }

    #[test]
    fn a_marked_system_volume_replaces_the_default() {
        let mut plan = sample_plan();
        plan["sources"]["db-01"]["mountpoints"][1]["system"] = json!(true);
        plan["migrations"][1]["mounts"] = json!(["/"]);
        let found = with_code(&plan, Code::MissingSystemVolume);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].places()[1],
            "value /sources/db-01/mountpoints/1/name"
        );
        assert_eq!(found[0].help.as_deref(), Some("add '/data' to mounts"));
    }

    #[test]
    fn system_false_opts_out_and_no_system_volume_means_no_rule() {
        let mut plan = sample_plan();
        plan["sources"]["web-01"]["mountpoints"][0]["system"] = json!(false);
        plan["migrations"][0]["mounts"] = json!(["D:\\"]);
        plan["sources"]["db-01"]["mountpoints"] =
            json!([{"name": "/data", "size": 1}, {"name": "/srv", "size": 1}]);
        plan["migrations"][1]["mounts"] = json!(["/srv"]);
        assert!(with_code(&plan, Code::MissingSystemVolume).is_empty());
    }

    #[test]
    fn capacity_is_checked_when_the_vm_declares_mounts() {
        let mut plan = sample_plan();
        plan["targets"]["aws-1"]["vm"]["mountpoints"] =
            json!([{"name": "C:\\", "size": "40 GiB"}, {"name": "D:\\", "size": "24 GiB"}]);
        plan["sources"]["web-01"]["mountpoints"][1]["size"] = json!("120 GiB");
        let found = with_code(&plan, Code::CapacityExceeded);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].labels,
            [
                (
                    "value /migrations/0/mounts".to_string(),
                    "160.0 GiB selected".to_string()
                ),
                (
                    "key /targets/aws-1/vm/mountpoints".to_string(),
                    "64.0 GiB declared".to_string()
                ),
            ]
        );
        assert!(
            found[0]
                .message
                .contains("160.0 GiB selected, 64.0 GiB declared")
        );
        // Only the selected mounts count.
        plan["migrations"][0]["mounts"] = json!(["C:\\"]);
        assert!(with_code(&plan, Code::CapacityExceeded).is_empty());
    }

    #[test]
    fn capacity_is_not_checked_without_declared_mounts_or_with_invalid_sizes() {
        let mut plan = sample_plan();
        plan["migrations"][1]["target"] = json!("aws-1");
        plan["migrations"][0]["target"] = json!("azure-1");
        assert!(with_code(&plan, Code::CapacityExceeded).is_empty());
        let mut plan = sample_plan();
        plan["targets"]["aws-1"]["vm"]["mountpoints"][0]["size"] = json!("1 GiB");
        assert_eq!(with_code(&plan, Code::CapacityExceeded).len(), 1);
        plan["sources"]["web-01"]["mountpoints"][1]["size"] = json!("huge");
        assert!(with_code(&plan, Code::CapacityExceeded).is_empty());
    }
}
