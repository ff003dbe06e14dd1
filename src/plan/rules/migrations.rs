//! Rules on what migrations refer to: `unknown-source`, `unknown-target`, `target-reused`,
//! `duplicate-migration`; and the default migration names.

use std::collections::HashMap;

use crate::plan::codes::Code;
use crate::plan::diagnostic::Diagnostic;
use crate::plan::raw::RawMigration;

use super::PlanEntries;
use super::spans::{Pointer, Spans};
use crate::plan::suggest::help_for_unknown;

/// Each migration's name: its explicit `name`, else its source's name when that source is in
/// only one migration, else `SOURCE-to-TARGET`. `None` for entries that did not deserialise.
pub(super) fn effective_names(migrations: &[Option<RawMigration>]) -> Vec<Option<String>> {
    let mut uses_of_source: HashMap<&str, usize> = HashMap::new();
    for migration in migrations.iter().flatten() {
        *uses_of_source.entry(&migration.source).or_default() += 1;
    }
    migrations
        .iter()
        .map(|migration| {
            let migration = migration.as_ref()?;
            Some(match &migration.name {
                Some(name) => name.clone(),
                None if uses_of_source.get(migration.source.as_str()) == Some(&1) => {
                    migration.source.clone()
                }
                None => format!("{}-to-{}", migration.source, migration.target),
            })
        })
        .collect()
}

pub(super) fn migration_pointer(index: usize) -> Pointer {
    Pointer::root().key("migrations").index(index)
}

pub(super) fn check_migrations(
    entries: &PlanEntries,
    spans: &Spans<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let names = effective_names(&entries.migrations);
    let source_names: Vec<&str> = entries
        .sources
        .iter()
        .map(|entry| entry.name.as_str())
        .collect();
    let target_names: Vec<&str> = entries
        .targets
        .iter()
        .map(|entry| entry.name.as_str())
        .collect();
    let mut first_into_target: HashMap<&str, usize> = HashMap::new();
    let mut first_with_name: HashMap<&str, usize> = HashMap::new();
    for (index, migration) in entries.migrations.iter().enumerate() {
        let (Some(migration), Some(name)) = (migration, &names[index]) else {
            continue;
        };
        let pointer = migration_pointer(index);
        if !entries.defines_source(&migration.source) {
            diagnostics.push(unknown(
                Code::UnknownSource,
                ("source", "sources"),
                &migration.source,
                name,
                spans.value(&pointer.key("source")),
                &source_names,
            ));
        }
        if !entries.defines_target(&migration.target) {
            diagnostics.push(unknown(
                Code::UnknownTarget,
                ("target", "targets"),
                &migration.target,
                name,
                spans.value(&pointer.key("target")),
                &target_names,
            ));
        } else if let Some(&first) = first_into_target.get(migration.target.as_str()) {
            let first_name = names[first].as_deref().unwrap_or_default();
            diagnostics.push(target_reused(
                &migration.target,
                (name, index),
                (first_name, first),
                spans,
            ));
        } else {
            first_into_target.insert(&migration.target, index);
        }
        match first_with_name.get(name.as_str()) {
            None => {
                first_with_name.insert(name, index);
            }
            Some(&first) => {
                let first_migration = entries.migrations[first].as_ref();
                diagnostics.push(duplicate_migration(
                    name,
                    (migration, index),
                    (first_migration, first),
                    spans,
                ));
            }
        }
    }
}

/// `duplicate-migration`: `name` is taken by the migration at `first` already.
fn duplicate_migration(
    name: &str,
    (migration, index): (&RawMigration, usize),
    (first_migration, first): (Option<&RawMigration>, usize),
    spans: &Spans<'_>,
) -> Diagnostic {
    Diagnostic::new(
        Code::DuplicateMigration,
        format!("two migrations are named `{name}`"),
    )
    .with_label(
        name_span(migration, index, spans),
        name_label(migration, name),
    )
    .with_label(
        first_migration.map_or_else(
            || spans.value(&migration_pointer(first)),
            |first_migration| name_span(first_migration, first, spans),
        ),
        first_migration.map_or_else(
            || format!("`{name}` is first used here"),
            |first_migration| name_label(first_migration, name),
        ),
    )
    .with_help("give one of them a different `name`")
}

/// `target-reused`: the migration at `index` moves into the target the one at `first` does.
fn target_reused(
    target: &str,
    (name, index): (&str, usize),
    (first_name, first): (&str, usize),
    spans: &Spans<'_>,
) -> Diagnostic {
    Diagnostic::new(
        Code::TargetReused,
        format!("target `{target}` receives two migrations: `{first_name}` and `{name}`"),
    )
    .with_label(
        spans.value(&migration_pointer(index).key("target")),
        format!("migration `{name}` also moves into `{target}`"),
    )
    .with_label(
        spans.value(&migration_pointer(first).key("target")),
        format!("migration `{first_name}` moves into `{target}` first"),
    )
    .with_help(
        "each target VM receives one migration: define a separate target for the other source",
    )
}

/// Where a migration's name comes from: its `name`, or its `source` when the name is a default.
fn name_span(migration: &RawMigration, index: usize, spans: &Spans<'_>) -> std::ops::Range<usize> {
    let key = if migration.name.is_some() {
        "name"
    } else {
        "source"
    };
    spans.value(&migration_pointer(index).key(key))
}

fn name_label(migration: &RawMigration, name: &str) -> String {
    if migration.name.is_some() {
        format!("named `{name}` here")
    } else if name == migration.source {
        format!("named `{name}` by default, after its source")
    } else {
        format!("named `{name}` by default, after its source and target")
    }
}

fn unknown(
    code: Code,
    (kind, kind_plural): (&str, &str),
    reference: &str,
    migration: &str,
    span: std::ops::Range<usize>,
    defined: &[&str],
) -> Diagnostic {
    let diagnostic = Diagnostic::new(
        code,
        format!(
            "migration `{migration}` names {kind} `{reference}`, which the plan does not define"
        ),
    )
    .with_label(span, format!("unknown {kind}"));
    match help_for_unknown(reference, kind_plural, defined) {
        Some(help) => diagnostic.with_help(help),
        None => diagnostic,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::{entries, sample_plan, with_code};
    use super::*;

    #[test]
    fn default_names_follow_the_source_unless_it_is_migrated_twice() {
        let plan = json!({"migrations": [
            {"source": "a", "target": "x", "mounts": ["/"]},
            {"source": "b", "target": "y", "mounts": ["/"]},
            {"source": "b", "target": "z", "mounts": ["/"], "name": "second"},
            {"source": "c", "target": "x", "mounts": "not a list"}
        ]});
        let names = effective_names(&entries(&plan).migrations);
        assert_eq!(
            names,
            [
                Some("a".to_string()),
                Some("b-to-y".to_string()),
                Some("second".to_string()),
                None
            ]
        );
    }

    #[test]
    fn unknown_source_suggests_and_lists() {
        let mut plan = sample_plan();
        plan["migrations"][0]["source"] = json!("web01");
        let found = with_code(&plan, Code::UnknownSource);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].places(), ["value /migrations/0/source"]);
        assert_eq!(
            found[0].help.as_deref(),
            Some("did you mean `web-01`? the plan defines these sources: web-01, db-01")
        );
    }

    #[test]
    fn unknown_target_without_a_close_name_only_lists() {
        let mut plan = sample_plan();
        plan["migrations"][1]["target"] = json!("mainframe");
        let found = with_code(&plan, Code::UnknownTarget);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].places(), ["value /migrations/1/target"]);
        assert_eq!(
            found[0].help.as_deref(),
            Some("the plan defines these targets: aws-1, azure-1")
        );
    }

    #[test]
    fn names_of_entries_that_failed_to_deserialise_count_as_defined() {
        let mut plan = sample_plan();
        plan["sources"]["web-01"] = json!({"ip": 12});
        plan["targets"]["aws-1"] = json!("broken");
        plan["migrations"]
            .as_array_mut()
            .unwrap()
            .push(json!({"source": 1}));
        assert!(with_code(&plan, Code::UnknownSource).is_empty());
        assert!(with_code(&plan, Code::UnknownTarget).is_empty());
        assert!(with_code(&plan, Code::DuplicateMigration).is_empty());
    }

    #[test]
    fn a_target_receiving_two_migrations_labels_both() {
        let mut plan = sample_plan();
        plan["migrations"][1]["target"] = json!("aws-1");
        let found = with_code(&plan, Code::TargetReused);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].places(),
            ["value /migrations/1/target", "value /migrations/0/target"]
        );
        assert!(with_code(&sample_plan(), Code::TargetReused).is_empty());
    }

    #[test]
    fn duplicate_explicit_names_label_both() {
        let mut plan = sample_plan();
        plan["migrations"][0]["name"] = json!("wave-1");
        plan["migrations"][1]["name"] = json!("wave-1");
        let found = with_code(&plan, Code::DuplicateMigration);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].places(),
            ["value /migrations/1/name", "value /migrations/0/name"]
        );
    }

    #[test]
    fn an_explicit_name_can_clash_with_a_default_one() {
        let mut plan = sample_plan();
        plan["migrations"][1]["name"] = json!("web-01");
        let found = with_code(&plan, Code::DuplicateMigration);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].places(),
            ["value /migrations/1/name", "value /migrations/0/source"]
        );
        assert_eq!(
            found[0].labels[1].1,
            "named `web-01` by default, after its source"
        );
    }

    #[test]
    fn the_same_pair_twice_gets_the_same_default_name() {
        let mut plan = sample_plan();
        let first = plan["migrations"][0].clone();
        plan["migrations"].as_array_mut().unwrap().push(first);
        let found = with_code(&plan, Code::DuplicateMigration);
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("web-01-to-aws-1"));
        assert_eq!(
            found[0].places(),
            ["value /migrations/2/source", "value /migrations/0/source"]
        );
        assert!(with_code(&sample_plan(), Code::DuplicateMigration).is_empty());
    }
}
