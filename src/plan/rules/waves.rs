//! Rules on waves: `duplicate-wave`, `unknown-wave`, `missing-wave` and `invalid-threshold`; and reading a threshold.

use std::collections::HashMap;

use crate::plan::codes::Code;
use crate::plan::diagnostic::Diagnostic;
use crate::plan::raw::RawThreshold;
use crate::plan::suggest::help_for_unknown;
use crate::plan::valid::Threshold;

use super::PlanEntries;
use super::migrations::{effective_names, migration_pointer};
use super::spans::{Pointer, Spans};

/// A threshold as the plan writes it, read: a count of at least 0, or a percentage of 0 to 100.
pub(super) fn parse_threshold(raw: &RawThreshold) -> Result<Threshold, String> {
    match raw {
        RawThreshold::Count(count) => u64::try_from(*count)
            .map(Threshold::Count)
            .map_err(|_| format!("{count} is below zero")),
        RawThreshold::Percent(text) => {
            let number = text.trim().strip_suffix('%').map(str::trim);
            let percent = number
                .filter(|number| {
                    !number.is_empty()
                        && number.chars().all(|c| c.is_ascii_digit() || c == '.')
                        && number.matches('.').count() <= 1
                })
                .and_then(|number| number.parse::<f64>().ok());
            match percent {
                Some(percent) if (0.0..=100.0).contains(&percent) => {
                    Ok(Threshold::Percent(percent))
                }
                Some(_) => Err(format!("`{text}` is over 100%")),
                None => Err(format!("`{text}` is neither a count nor a percentage")),
            }
        }
    }
}

fn wave_pointer(index: usize) -> Pointer {
    Pointer::root().key("waves").index(index)
}

pub(super) fn check_waves(entries: &PlanEntries, spans: &Spans<'_>, out: &mut Vec<Diagnostic>) {
    let waves = entries.waves.as_deref().unwrap_or_default();
    let mut first_with_name: HashMap<&str, usize> = HashMap::new();
    for (index, wave) in waves.iter().enumerate() {
        let Some(wave) = wave else { continue };
        if let Some(&first) = first_with_name.get(wave.name.as_str()) {
            out.push(
                Diagnostic::new(
                    Code::DuplicateWave,
                    format!("two waves are named `{}`", wave.name),
                )
                .with_label(
                    spans.value(&wave_pointer(index).key("name")),
                    "named again here",
                )
                .with_label(spans.value(&wave_pointer(first).key("name")), "first here")
                .with_help("give each wave its own name; waves run in the order listed"),
            );
        } else {
            first_with_name.insert(&wave.name, index);
        }
        if let Some(raw) = &wave.max_failures
            && let Err(reason) = parse_threshold(raw)
        {
            out.push(
                Diagnostic::new(
                    Code::InvalidThreshold,
                    format!("the failure threshold of wave `{}`: {reason}", wave.name),
                )
                .with_label(
                    spans.value(&wave_pointer(index).key("max_failures")),
                    "not a threshold",
                )
                .with_help("write a count such as `0` or `3`, or a percentage such as `10%`"),
            );
        }
    }
    check_migration_waves(entries, spans, out);
}

/// Every migration names a defined wave when the plan has waves, and none when it has not.
fn check_migration_waves(entries: &PlanEntries, spans: &Spans<'_>, out: &mut Vec<Diagnostic>) {
    let mut defined: Vec<&str> = Vec::new();
    for wave in entries.waves.iter().flatten().flatten() {
        if !defined.contains(&wave.name.as_str()) {
            defined.push(&wave.name);
        }
    }
    let names = effective_names(&entries.migrations);
    for (index, migration) in entries.migrations.iter().enumerate() {
        let (Some(migration), Some(name)) = (migration, &names[index]) else {
            continue;
        };
        let pointer = migration_pointer(index);
        match (&migration.wave, &entries.waves) {
            (None, Some(_)) => out.push(
                Diagnostic::new(
                    Code::MissingWave,
                    format!("migration `{name}` is in no wave, but the plan has waves"),
                )
                .with_label(spans.key(&pointer), "no `wave` here")
                .with_help(match defined.first() {
                    Some(first) => format!(
                        "add `wave: {first}` (or another of: {}); in a plan with waves every migration is in one",
                        defined.join(", ")
                    ),
                    None => "in a plan with waves every migration is in one".to_string(),
                }),
            ),
            (Some(wave), waves) if !defined.contains(&wave.as_str()) => {
                let diagnostic = Diagnostic::new(
                    Code::UnknownWave,
                    format!("migration `{name}` names wave `{wave}`, which the plan does not define"),
                )
                .with_label(spans.value(&pointer.key("wave")), "unknown wave");
                let help = match waves {
                    None => Some(format!(
                        "add a top-level `waves:` list with `- name: {wave}`, or remove `wave`"
                    )),
                    Some(_) => help_for_unknown(wave, "waves", &defined),
                };
                out.push(match help {
                    Some(help) => diagnostic.with_help(help),
                    None => diagnostic,
                });
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::{sample_plan, with_code};
    use super::*;

    fn with_waves(waves: serde_json::Value, wave: Option<&str>) -> serde_json::Value {
        let mut plan = sample_plan();
        plan["waves"] = waves;
        if let Some(wave) = wave {
            for migration in plan["migrations"].as_array_mut().unwrap() {
                migration["wave"] = json!(wave);
            }
        }
        plan
    }

    #[test]
    fn thresholds_are_counts_or_percentages_up_to_100() {
        let read = |raw: RawThreshold| parse_threshold(&raw);
        assert_eq!(read(RawThreshold::Count(0)), Ok(Threshold::Count(0)));
        assert_eq!(
            read(RawThreshold::Percent(" 12.5 % ".into())),
            Ok(Threshold::Percent(12.5))
        );
        assert!(read(RawThreshold::Count(-1)).is_err());
        assert!(read(RawThreshold::Percent("101%".into())).is_err());
        assert!(read(RawThreshold::Percent("ten%".into())).is_err());
        assert!(read(RawThreshold::Percent("1.2.3%".into())).is_err());
        assert!(read(RawThreshold::Percent("%".into())).is_err());
    }

    #[test]
    fn a_plan_with_well_formed_waves_has_no_wave_problem() {
        let plan = with_waves(
            json!([{"name": "pilot", "max_failures": "10%"}]),
            Some("pilot"),
        );
        for code in [
            Code::UnknownWave,
            Code::MissingWave,
            Code::DuplicateWave,
            Code::InvalidThreshold,
        ] {
            assert!(with_code(&plan, code).is_empty(), "{code}");
        }
    }

    #[test]
    fn each_wave_problem_is_found_where_it_is_written() {
        let plan = with_waves(
            json!([{"name": "pilot"}, {"name": "pilot", "max_failures": "150%"}]),
            Some("pilto"),
        );
        let unknown = with_code(&plan, Code::UnknownWave);
        assert_eq!(unknown[0].places(), ["value /migrations/0/wave"]);
        let help = unknown[0].help.as_deref().unwrap_or_default();
        assert!(help.starts_with("did you mean `pilot`?"), "{help}");
        let duplicate = with_code(&plan, Code::DuplicateWave);
        assert_eq!(
            duplicate[0].places(),
            ["value /waves/1/name", "value /waves/0/name"]
        );
        let threshold = with_code(&plan, Code::InvalidThreshold);
        assert_eq!(threshold[0].places(), ["value /waves/1/max_failures"]);
    }

    #[test]
    fn a_migration_outside_every_wave_is_missing_one_and_a_wave_without_waves_is_unknown() {
        let plan = with_waves(json!([{"name": "pilot"}]), None);
        assert_eq!(
            with_code(&plan, Code::MissingWave)[0].places(),
            ["value /migrations/0"]
        );
        let mut plan = sample_plan();
        plan["migrations"][0]["wave"] = json!("pilot");
        let unknown = with_code(&plan, Code::UnknownWave);
        assert!(unknown[0].help.as_deref().unwrap().contains("`waves:`"));
    }
}
