//! What a run checks before any data moves: the `--only` names and every password the selected
//! migrations' connections need (the state-aware IP rules are `state::rules`).

use crate::exec::connect::Endpoint;
use crate::exec::secrets::{self, Secrets};
use crate::plan::diagnostic::Diagnostic;
use crate::plan::suggest::did_you_mean;
use crate::plan::valid::{Migration, ValidPlan};

/// `--only` named a migration the plan does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the plan has no migration named `{name}`{}", .suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
pub struct UnknownMigration {
    pub name: String,
    pub suggestion: Option<String>,
}

/// The migrations a run works on, in plan order: all of them, or those `--only` names.
pub fn select_migrations<'plan>(
    plan: &'plan ValidPlan,
    only: &[String],
) -> Result<Vec<&'plan Migration>, Vec<UnknownMigration>> {
    let names: Vec<&str> = plan
        .migrations
        .iter()
        .map(|migration| migration.name.as_str())
        .collect();
    let unknown: Vec<UnknownMigration> = only
        .iter()
        .filter(|name| !names.contains(&name.as_str()))
        .map(|name| UnknownMigration {
            name: name.clone(),
            suggestion: did_you_mean(name, names.iter().copied()).map(str::to_string),
        })
        .collect();
    if !unknown.is_empty() {
        return Err(unknown);
    }
    Ok(plan
        .migrations
        .iter()
        .filter(|migration| only.is_empty() || only.contains(&migration.name))
        .collect())
}

/// Resolves the passwords both ends of every given migration need, or the `missing-secret`
/// diagnostics of every one that is missing.
pub fn migration_secrets(
    plan: &ValidPlan,
    migrations: &[&Migration],
) -> Result<Secrets, Vec<Diagnostic>> {
    let endpoints = migrations.iter().flat_map(|migration| {
        [
            Endpoint::source(plan, migration),
            Endpoint::target(plan, migration),
        ]
    });
    secrets::resolve_secrets(endpoints)
        .map_err(|missing| secrets::missing_secret_diagnostics(&missing))
}

/// What a run needs: [`migration_secrets`] and the secrets the migrations' hooks ask for in their
/// `env` maps, or the `missing-secret` diagnostics of every one that is missing.
pub fn run_secrets(
    plan: &ValidPlan,
    migrations: &[&Migration],
) -> Result<Secrets, Vec<Diagnostic>> {
    let (mut secrets, mut missing) = match migration_secrets(plan, migrations) {
        Ok(secrets) => (secrets, Vec::new()),
        Err(missing) => (Secrets::default(), missing),
    };
    missing.extend(secrets.resolve_hook_env(migrations.iter().copied()));
    if missing.is_empty() {
        Ok(secrets)
    } else {
        Err(missing)
    }
}
