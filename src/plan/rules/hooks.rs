//! Rules on hooks: `empty-hook-command`, `invalid-hook-timeout` and `hook-plaintext-secret`; and reading a hook command and its timeout. (An unknown phase is the schema's: `unknown-hook-phase`.)

use std::time::Duration;

use crate::plan::codes::Code;
use crate::plan::diagnostic::Diagnostic;
use crate::plan::raw::{RawHookCommand, RawHookRun, RawHooks, RawSecret, RawTimeout};
use crate::plan::valid::{DEFAULT_HOOK_TIMEOUT, Hook, HookCommand};

use super::PlanEntries;
use super::spans::{Pointer, Spans};

/// The longest timeout a hook may ask for.
const LONGEST_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// Words that, followed by `=` or `:` and a literal value, look like a secret written in a command.
const SECRET_WORDS: &[&str] = &[
    "password", "passwd", "pwd", "secret", "token", "apikey", "api_key",
];

/// A timeout as the plan writes it, read: 1 second to 24 hours.
pub(super) fn parse_timeout(raw: &RawTimeout) -> Result<Duration, String> {
    let seconds = match raw {
        RawTimeout::Seconds(seconds) => u64::try_from(*seconds).ok(),
        RawTimeout::Text(text) => {
            let text = text.trim();
            let split = text
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(text.len());
            let (number, unit) = text.split_at(split);
            let scale = match unit.trim() {
                "" | "s" => Some(1),
                "m" => Some(60),
                "h" => Some(3600),
                _ => None,
            };
            number
                .parse::<u64>()
                .ok()
                .zip(scale)
                .and_then(|(number, scale)| number.checked_mul(scale))
        }
    };
    let shown = match raw {
        RawTimeout::Seconds(seconds) => seconds.to_string(),
        RawTimeout::Text(text) => format!("`{text}`"),
    };
    match seconds.map(Duration::from_secs) {
        Some(duration) if duration.is_zero() => Err(format!("{shown} is no time at all")),
        Some(duration) if duration > LONGEST_TIMEOUT => Err(format!("{shown} is over 24 hours")),
        Some(duration) => Ok(duration),
        None => Err(format!("{shown} is not a duration")),
    }
}

/// A hook command, read; `None` when it is empty or its timeout is not one (the rules say which).
pub(super) fn read_hook(raw: &RawHookCommand) -> Option<Hook> {
    let (run, timeout) = match raw {
        RawHookCommand::Shell(line) => (HookCommand::Shell(line.clone()), None),
        RawHookCommand::Argv(arguments) => (HookCommand::Argv(arguments.clone()), None),
        RawHookCommand::Detailed(detailed) => {
            let command = match &detailed.run {
                RawHookRun::Shell(line) => HookCommand::Shell(line.clone()),
                RawHookRun::Argv(arguments) => HookCommand::Argv(arguments.clone()),
            };
            (command, detailed.timeout.as_ref())
        }
    };
    let empty = match &run {
        HookCommand::Shell(line) => line.trim().is_empty(),
        HookCommand::Argv(arguments) => arguments.first().is_none_or(|program| program.is_empty()),
    };
    if empty {
        return None;
    }
    let timeout = match timeout {
        Some(raw) => parse_timeout(raw).ok()?,
        None => DEFAULT_HOOK_TIMEOUT,
    };
    Some(Hook {
        command: run,
        timeout,
    })
}

/// Every `hooks` mapping of the plan (each wave's, each migration's) with where it is.
fn every_hooks(entries: &PlanEntries) -> Vec<(&RawHooks, Pointer, String)> {
    let waves = entries
        .waves
        .iter()
        .flatten()
        .enumerate()
        .filter_map(|(index, wave)| {
            let wave = wave.as_ref()?;
            let hooks = wave.hooks.as_ref()?;
            let pointer = Pointer::root().key("waves").index(index).key("hooks");
            Some((hooks, pointer, format!("wave `{}`", wave.name)))
        });
    let names = super::migrations::effective_names(&entries.migrations);
    let migrations = entries
        .migrations
        .iter()
        .enumerate()
        .filter_map(|(index, migration)| {
            let hooks = migration.as_ref()?.hooks.as_ref()?;
            let pointer = super::migrations::migration_pointer(index).key("hooks");
            let name = names[index].as_deref().unwrap_or_default();
            Some((hooks, pointer, format!("migration `{name}`")))
        });
    waves.chain(migrations).collect()
}

pub(super) fn check_hooks(entries: &PlanEntries, spans: &Spans<'_>, out: &mut Vec<Diagnostic>) {
    let plain_passwords = plain_passwords(entries);
    for (hooks, pointer, owner) in every_hooks(entries) {
        let phases = [
            ("before", &hooks.before),
            ("after", &hooks.after),
            ("on_failure", &hooks.on_failure),
        ];
        for (phase, commands) in phases {
            for (index, command) in commands.iter().flatten().enumerate() {
                let at = pointer.key(phase).index(index);
                check_command(
                    command,
                    &at,
                    &format!("{owner}, `{phase}` hook"),
                    &plain_passwords,
                    spans,
                    out,
                );
            }
        }
    }
}

fn check_command(
    command: &RawHookCommand,
    at: &Pointer,
    owner: &str,
    plain_passwords: &[&str],
    spans: &Spans<'_>,
    out: &mut Vec<Diagnostic>,
) {
    let (run, run_at, timeout) = match command {
        RawHookCommand::Shell(line) => (vec![line.as_str()], at.clone(), None),
        RawHookCommand::Argv(arguments) => (
            arguments.iter().map(String::as_str).collect(),
            at.clone(),
            None,
        ),
        RawHookCommand::Detailed(detailed) => {
            let run = match &detailed.run {
                RawHookRun::Shell(line) => vec![line.as_str()],
                RawHookRun::Argv(arguments) => arguments.iter().map(String::as_str).collect(),
            };
            (run, at.key("run"), detailed.timeout.as_ref())
        }
    };
    if run.first().is_none_or(|first| first.trim().is_empty()) {
        out.push(
            Diagnostic::new(Code::EmptyHookCommand, format!("{owner}: the command is empty"))
                .with_label(spans.value(&run_at), "nothing to run")
                .with_help("write a command line such as `systemctl stop app`, or a list such as `[systemctl, stop, app]`; or remove the entry"),
        );
    }
    if let Some(raw) = timeout
        && let Err(reason) = parse_timeout(raw)
    {
        out.push(
            Diagnostic::new(Code::InvalidHookTimeout, format!("{owner}: the timeout {reason}"))
                .with_label(spans.value(&at.key("timeout")), "not a timeout")
                .with_help("write seconds such as `90`, or a duration such as `90s`, `5m` or `1h` (at most 24 hours)"),
        );
    }
    if run
        .iter()
        .any(|argument| looks_like_secret(argument, plain_passwords))
    {
        out.push(
            Diagnostic::new(
                Code::HookPlaintextSecret,
                format!("{owner}: the command seems to hold a password in plain text"),
            )
            .with_label(spans.value(&run_at), "a secret in the command line")
            .with_help("command lines end up in logs and process lists: ask for the secret in the hooks' `env:` map, e.g. `env: { VM_PASSWORD: { env: VM_PASSWORD } }`, and use `$VM_PASSWORD`"),
        );
    }
}

/// The plan's plain-text passwords (already warned about as `plaintext-password`).
fn plain_passwords(entries: &PlanEntries) -> Vec<&str> {
    let credentials = entries
        .sources
        .iter()
        .filter_map(|entry| entry.value.as_ref())
        .map(|workload| &workload.credentials)
        .chain(
            entries
                .targets
                .iter()
                .filter_map(|entry| entry.value.as_ref())
                .flat_map(|target| [&target.credentials, &target.vm.credentials]),
        );
    credentials
        .filter_map(|credentials| match &credentials.password {
            RawSecret::Plain(password) if password.len() >= 4 => Some(password.as_str()),
            _ => None,
        })
        .collect()
}

/// Whether an argument holds one of the plan's plain passwords, or a literal after a word such as
/// `password=` or `--password` (a `$VARIABLE` there is fine: that is how a hook should do it).
fn looks_like_secret(argument: &str, plain_passwords: &[&str]) -> bool {
    if plain_passwords
        .iter()
        .any(|password| argument.contains(password))
    {
        return true;
    }
    let lower = argument.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|word| {
        lower.match_indices(word).any(|(at, _)| {
            let rest = &argument[at + word.len()..];
            let value = rest
                .strip_prefix(['=', ':'])
                .or_else(|| {
                    rest.strip_prefix(' ')
                        .filter(|_| lower[..at].ends_with("--"))
                })
                .map(|value| value.trim_start_matches(['"', '\'']));
            value.is_some_and(|value| {
                value
                    .chars()
                    .next()
                    .is_some_and(|first| !first.is_whitespace() && first != '$')
            })
        })
    })
}

#[cfg(test)]
mod tests;
