//! `ferry explain CODE` and `ferry explain --list`: what a diagnostic code means, with examples.

use crate::cli::ExplainArgs;
use crate::commands::ExitStatus;
use crate::plan::codes::Code;
use crate::report;

/// A code that `ferry explain` does not know (exit status 2).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("`{name}` is not a ferry diagnostic code")]
pub struct UnknownCode {
    pub name: String,
    #[help]
    pub help: String,
}

/// Runs `ferry explain`.
pub fn run(args: &ExplainArgs) -> miette::Result<ExitStatus> {
    let printed = match (&args.code, args.list) {
        (_, true) | (None, false) => report::explain::print_code_list(),
        (Some(name), false) => {
            let code = lookup(name)?;
            report::explain::print_explanation(code)
        }
    };
    printed.map_err(|error| miette::miette!("cannot write to stdout: {error}"))?;
    Ok(ExitStatus::Success)
}

/// Finds a code by its exact kebab-case name; otherwise an error with the closest names.
pub fn lookup(name: &str) -> Result<Code, UnknownCode> {
    if let Some(code) = Code::from_name(name) {
        return Ok(code);
    }
    let list_hint = "run `ferry explain --list` to see every code";
    let help = match suggest(name) {
        Some(code) => format!("did you mean `{code}`? ({list_hint})"),
        None => list_hint.to_string(),
    };
    Err(UnknownCode {
        name: name.to_string(),
        help,
    })
}

/// The code closest to a misspelt one. Spellings such as `UNKNOWN_MOUNT`, `UnknownMount` or
/// `ferry::unknown-mount` are recognised as the code they spell.
pub fn suggest(name: &str) -> Option<Code> {
    let normalized = normalize(name);
    if let Some(code) = Code::from_name(&normalized) {
        return Some(code);
    }
    Code::ALL
        .iter()
        .map(|code| (strsim::jaro_winkler(&normalized, code.as_str()), *code))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, code)| code)
}

/// Lower-case kebab-case: `UnknownMount`, `unknown_mount` and `ferry::unknown-mount` all
/// become `unknown-mount`; `error[unknown-mount]` too.
fn normalize(name: &str) -> String {
    let trimmed = name.trim();
    let trimmed = trimmed.strip_prefix("ferry::").unwrap_or(trimmed);
    let trimmed = match (trimmed.find('['), trimmed.strip_suffix(']')) {
        (Some(open), Some(inner)) => &inner[open + 1..],
        _ => trimmed,
    };
    let mut kebab = String::new();
    let mut previous_lower = false;
    for character in trimmed.chars() {
        if character.is_uppercase() && previous_lower {
            kebab.push('-');
        }
        previous_lower = character.is_lowercase() || character.is_ascii_digit();
        match character {
            '_' | ' ' => kebab.push('-'),
            other => kebab.extend(other.to_lowercase()),
        }
    }
    kebab
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_names_are_found() {
        assert_eq!(lookup("unknown-mount").ok(), Some(Code::UnknownMount));
        assert_eq!(lookup("missing-secret").ok(), Some(Code::MissingSecret));
    }

    #[test]
    fn unknown_names_suggest_the_closest_code_and_the_list() {
        let error = lookup("unknown-mnt").unwrap_err();
        assert_eq!(error.name, "unknown-mnt");
        assert_eq!(
            error.help,
            "did you mean `unknown-mount`? (run `ferry explain --list` to see every code)"
        );
        let error = lookup("zzzz").unwrap_err();
        assert_eq!(error.help, "run `ferry explain --list` to see every code");
        assert_eq!(error.to_string(), "`zzzz` is not a ferry diagnostic code");
    }

    #[test]
    fn other_spellings_of_a_code_are_suggested() {
        for spelling in [
            "UnknownMount",
            "UNKNOWN_MOUNT",
            "ferry::unknown-mount",
            "error[unknown-mount]",
            " unknown mount ",
        ] {
            assert_eq!(suggest(spelling), Some(Code::UnknownMount), "{spelling}");
        }
        assert_eq!(suggest("ip-chnged"), Some(Code::IpChanged));
        assert_eq!(suggest("plaintext-pasword"), Some(Code::PlaintextPassword));
        assert_eq!(suggest("x"), None);
    }
}
