//! Resolving the runbook: the waves with their thresholds, and each migration's hooks (its wave's, replaced phase by phase by its own).

use indexmap::IndexMap;

use crate::plan::raw::{RawHookCommand, RawHooks, RawMigration, RawWave, SecretReference};
use crate::plan::valid::{Hook, Hooks, SecretRef, Spanned, Threshold, Wave};

use super::super::hooks::read_hook;
use super::super::spans::Pointer;
use super::super::waves::parse_threshold;
use super::{Resolver, against};

/// The plan's waves, in order; `None` when one is still malformed.
pub(super) fn waves(raw: Option<&[Option<RawWave>]>) -> Option<Vec<Wave>> {
    raw.unwrap_or_default()
        .iter()
        .map(|wave| {
            let wave = wave.as_ref()?;
            let max_failures = match &wave.max_failures {
                Some(raw) => parse_threshold(raw).ok()?,
                None => Threshold::default(),
            };
            Some(Wave {
                name: wave.name.clone(),
                max_failures,
            })
        })
        .collect()
}

impl Resolver<'_> {
    /// A migration's hooks: for each phase its own list when it gives one, else its wave's.
    pub(super) fn hooks(
        &self,
        waves: Option<&[Option<RawWave>]>,
        migration: &RawMigration,
        pointer: &Pointer,
    ) -> Option<Hooks> {
        let wave_hooks = migration.wave.as_ref().and_then(|name| {
            let (index, wave) = waves?.iter().enumerate().find_map(|(index, wave)| {
                Some((index, wave.as_ref()?)).filter(|(_, wave)| &wave.name == name)
            })?;
            let hooks = wave.hooks.as_ref()?;
            Some((
                hooks,
                Pointer::root().key("waves").index(index).key("hooks"),
            ))
        });
        let own = migration
            .hooks
            .as_ref()
            .map(|hooks| (hooks, pointer.key("hooks")));
        let pick = |phase: fn(&RawHooks) -> Option<&Vec<RawHookCommand>>| {
            own.as_ref()
                .and_then(|(hooks, _)| phase(hooks))
                .or_else(|| wave_hooks.as_ref().and_then(|(hooks, _)| phase(hooks)))
        };
        let commands = |list: Option<&Vec<RawHookCommand>>| -> Option<Vec<Hook>> {
            list.map(|list| list.iter().map(read_hook).collect())
                .unwrap_or(Some(Vec::new()))
        };
        let mut env = IndexMap::new();
        for (hooks, at) in wave_hooks.iter().chain(own.iter()) {
            for (name, reference) in hooks.env.iter().flatten() {
                let span = self.spans.value(&at.key("env").key(name));
                env.insert(
                    name.clone(),
                    Spanned::new(self.secret_reference(reference), span),
                );
            }
        }
        Some(Hooks {
            before: commands(pick(|hooks| hooks.before.as_ref()))?,
            after: commands(pick(|hooks| hooks.after.as_ref()))?,
            on_failure: commands(pick(|hooks| hooks.on_failure.as_ref()))?,
            env,
        })
    }

    fn secret_reference(&self, reference: &SecretReference) -> SecretRef {
        match reference {
            SecretReference::Env(env) => SecretRef::Env(env.env.trim().to_string()),
            SecretReference::File(file) => {
                SecretRef::File(against(self.base_dir, file.file.trim()))
            }
        }
    }
}
