//! Rules on a migration's selected `mounts`: `empty-selection`, `duplicate-mount`, `unknown-mount`,
//! and `missing-system-volume` (`capacity-exceeded` is in `capacity.rs`).

use std::collections::HashMap;

use crate::plan::codes::Code;
use crate::plan::diagnostic::Diagnostic;
use crate::plan::mount_name::MountName;
use crate::plan::raw::{RawMigration, RawMount, RawWorkload};

use super::PlanEntries;
use super::capacity::check_capacity;
use super::migrations::{effective_names, migration_pointer};
use super::mounts::same_mount_help;
use super::spans::{Pointer, Spans};
use crate::plan::suggest::did_you_mean;
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
                check_capacity(&selection, source, &target.vm, spans, diagnostics);
            }
        }
    }
}

/// One migration's `mounts` list.
pub(super) struct Selection<'a> {
    pub(super) migration: &'a RawMigration,
    /// The migration's effective name.
    pub(super) name: &'a str,
    /// `/migrations/N/mounts`.
    pub(super) pointer: Pointer,
}

impl Selection<'_> {
    /// The selected names that are not blank, with their index in the list.
    pub(super) fn names(&self) -> impl Iterator<Item = (usize, &str)> {
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
}

pub(super) fn find_mount<'a>(mounts: &'a [RawMount], name: &MountName) -> Option<&'a RawMount> {
    mounts
        .iter()
        .find(|mount| !mount.name.trim().is_empty() && MountName::new(&mount.name) == *name)
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
}
