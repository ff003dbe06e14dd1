//! Whether ferry colours what it prints: the one place that decides, for stdout and stderr alike.
//!
//! Precedence, first match wins: the `--color` flag (`always`, `never`); `CLICOLOR_FORCE` or
//! `FORCE_COLOR` set to anything but empty or `0` (colour even into a pipe); `NO_COLOR` set to
//! anything non-empty (no-color.org); otherwise colour only when the stream is a terminal.

use std::ffi::OsString;
use std::io::IsTerminal;
use std::sync::OnceLock;

use crate::options::ColorChoice;

/// The choice made on the command line; `auto` until [`set_choice`] is called.
static CHOICE: OnceLock<ColorChoice> = OnceLock::new();

/// Records the `--color` flag for the whole process (the first call wins) and points miette's
/// error reports (command errors on stderr) at the same decision.
pub fn set_choice(choice: ColorChoice) {
    let _ = CHOICE.set(choice);
    let color = stderr();
    // Fails only when a hook is already installed (a second call): keep that one.
    let _ = miette::set_hook(Box::new(move |_| {
        Box::new(miette::MietteHandlerOpts::new().color(color).build())
    }));
}

/// Whether what goes to stdout is coloured.
pub fn stdout() -> bool {
    decide(
        current(),
        |name| std::env::var_os(name),
        || std::io::stdout().is_terminal(),
    )
}

/// Whether what goes to stderr is coloured.
pub fn stderr() -> bool {
    decide(
        current(),
        |name| std::env::var_os(name),
        || std::io::stderr().is_terminal(),
    )
}

fn current() -> ColorChoice {
    CHOICE.get().copied().unwrap_or(ColorChoice::Auto)
}

/// The decision itself, with the environment and the terminal test passed in (for tests).
pub fn decide(
    choice: ColorChoice,
    variable: impl Fn(&str) -> Option<OsString>,
    is_terminal: impl FnOnce() -> bool,
) -> bool {
    match choice {
        ColorChoice::Always => return true,
        ColorChoice::Never => return false,
        ColorChoice::Auto => {}
    }
    let forced = ["CLICOLOR_FORCE", "FORCE_COLOR"]
        .iter()
        .any(|name| variable(name).is_some_and(|value| !value.is_empty() && value != "0"));
    if forced {
        return true;
    }
    if variable("NO_COLOR").is_some_and(|value| !value.is_empty()) {
        return false;
    }
    is_terminal()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let pairs: Vec<(String, OsString)> = pairs
            .iter()
            .map(|(name, value)| (name.to_string(), OsString::from(value)))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        }
    }

    #[test]
    fn the_flag_beats_the_environment_and_the_terminal() {
        let everything = with(&[("NO_COLOR", "1"), ("FORCE_COLOR", "1")]);
        assert!(decide(ColorChoice::Always, &everything, || false));
        assert!(!decide(ColorChoice::Never, &everything, || true));
    }

    #[test]
    fn forcing_beats_no_color_which_beats_the_terminal() {
        assert!(decide(
            ColorChoice::Auto,
            with(&[("FORCE_COLOR", "1"), ("NO_COLOR", "1")]),
            || false
        ));
        assert!(decide(
            ColorChoice::Auto,
            with(&[("CLICOLOR_FORCE", "yes")]),
            || false
        ));
        assert!(!decide(
            ColorChoice::Auto,
            with(&[("NO_COLOR", "1")]),
            || true
        ));
        assert!(decide(ColorChoice::Auto, with(&[]), || true));
        assert!(!decide(ColorChoice::Auto, with(&[]), || false));
    }

    #[test]
    fn empty_or_zero_values_do_not_count() {
        assert!(!decide(
            ColorChoice::Auto,
            with(&[("FORCE_COLOR", "0")]),
            || false
        ));
        assert!(!decide(
            ColorChoice::Auto,
            with(&[("FORCE_COLOR", "")]),
            || false
        ));
        assert!(decide(ColorChoice::Auto, with(&[("NO_COLOR", "")]), || {
            true
        }));
    }
}
