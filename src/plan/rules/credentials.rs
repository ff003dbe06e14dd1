//! Credential rules: `missing-credential` for blank usernames and passwords, `plaintext-password` warnings.

use crate::plan::codes::Code;
use crate::plan::diagnostic::Diagnostic;
use crate::plan::raw::{RawCredentials, RawSecret};

use super::spans::{Pointer, Spans};

const SECRET_HELP: &str = "plans usually live in version control: use `{ env: NAME }` (an environment variable) or `{ file: PATH }` (a file next to the plan) instead";

/// Checks one `credentials` mapping. `pointer` leads to it; `owner` names whose it is
/// ("source `web-01`", "the cloud credentials of target `aws-1`"). Never quotes the password.
pub(super) fn check_credentials(
    credentials: &RawCredentials,
    pointer: &Pointer,
    owner: &str,
    spans: &Spans<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    if credentials.username.trim().is_empty() {
        diagnostics.push(missing(
            "username",
            owner,
            spans.value(&pointer.key("username")),
        ));
    }
    let password = pointer.key("password");
    match &credentials.password {
        RawSecret::Plain(text) if text.trim().is_empty() => {
            diagnostics.push(missing("password", owner, spans.value(&password)));
        }
        RawSecret::Plain(_) => diagnostics.push(
            Diagnostic::new(
                Code::PlaintextPassword,
                format!("the password for {owner} is written in the plan in plain text"),
            )
            .with_label(spans.value(&password), "plain-text password")
            .with_help(SECRET_HELP),
        ),
        RawSecret::Env(env) if env.env.trim().is_empty() => diagnostics.push(missing(
            "password's environment variable name",
            owner,
            spans.value(&password.key("env")),
        )),
        RawSecret::File(file) if file.file.trim().is_empty() => diagnostics.push(missing(
            "password's file path",
            owner,
            spans.value(&password.key("file")),
        )),
        RawSecret::Env(_) | RawSecret::File(_) => {}
    }
}

fn missing(what: &str, owner: &str, span: std::ops::Range<usize>) -> Diagnostic {
    Diagnostic::new(
        Code::MissingCredential,
        format!("the {what} for {owner} is empty"),
    )
    .with_label(span, format!("empty {what}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::{sample_plan, with_code};
    use crate::plan::codes::Code;
    use crate::plan::diagnostic::Severity;

    #[test]
    fn plain_passwords_are_warned_everywhere_without_showing_them() {
        let mut plan = sample_plan();
        plan["sources"]["web-01"]["credentials"]["password"] = json!("hunter2-source");
        plan["targets"]["aws-1"]["credentials"]["password"] = json!("hunter2-cloud");
        plan["targets"]["aws-1"]["vm"]["credentials"]["password"] = json!("hunter2-vm");
        let found = with_code(&plan, Code::PlaintextPassword);
        let places: Vec<_> = found
            .iter()
            .map(|found| found.places()[0].to_string())
            .collect();
        assert_eq!(
            places,
            [
                "value /sources/web-01/credentials/password",
                "value /targets/aws-1/vm/credentials/password",
                "value /targets/aws-1/credentials/password",
            ]
        );
        for found in &found {
            assert_eq!(found.severity, Severity::Warning);
            let text = format!("{} {:?} {:?}", found.message, found.labels, found.help);
            assert!(!text.contains("hunter2"), "{text}");
            assert!(found.help.as_deref().unwrap().contains("{ env: NAME }"));
        }
    }

    #[test]
    fn references_are_not_warned() {
        assert!(with_code(&sample_plan(), Code::PlaintextPassword).is_empty());
        assert!(with_code(&sample_plan(), Code::MissingCredential).is_empty());
    }

    #[test]
    fn blank_usernames_and_passwords_are_missing() {
        let mut plan = sample_plan();
        plan["sources"]["web-01"]["credentials"]["username"] = json!("  ");
        plan["sources"]["db-01"]["credentials"]["password"] = json!(" ");
        plan["targets"]["aws-1"]["credentials"]["password"] = json!({"env": ""});
        plan["targets"]["azure-1"]["vm"]["credentials"]["password"] = json!({"file": " "});
        let found = with_code(&plan, Code::MissingCredential);
        let places: Vec<_> = found
            .iter()
            .map(|found| found.places()[0].to_string())
            .collect();
        assert_eq!(
            places,
            [
                "value /sources/web-01/credentials/username",
                "value /sources/db-01/credentials/password",
                "value /targets/azure-1/vm/credentials/password/file",
                "value /targets/aws-1/credentials/password/env",
            ]
        );
        assert!(with_code(&plan, Code::PlaintextPassword).is_empty());
    }
}
