//! Turns JSON Schema validation errors into ferry diagnostics: the right code, a span, a readable message and a hint.
//!
//! The schema knows the plan's shape; this module knows what each place means to a user. Errors
//! about a workload's IP, credentials or sizes, a target's cloud, the selection or the version get
//! their domain codes; everything else gets a generic shape code (`unknown-key`, `missing-key`,
//! `invalid-type`, `invalid-value`).

use jsonschema::ValidationError;
use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

use super::wording::{
    alternatives_description, cloud_diagnostic, display_value, dotted, generic, ip_diagnostic,
    json_kind, label_for, size_diagnostic, unescape,
};
use crate::plan::codes::Code;
use crate::plan::diagnostic::Diagnostic;
use crate::plan::suggest;
use crate::plan::yaml::{Locate, Located, escape_pointer_segment};

/// Validates a plan's JSON form against the schema and returns one diagnostic per problem.
pub fn schema_diagnostics(instance: &Value, locator: &dyn Locate) -> Vec<Diagnostic> {
    let context = Context {
        instance,
        locator,
        schema: super::validator_schema(),
    };
    let mut diagnostics = Vec::new();
    for error in super::validator().iter_errors(instance) {
        context.classify(&error, &mut diagnostics);
    }
    // One value can break several keywords (an empty IP is both too short and not an address).
    let mut seen = std::collections::HashSet::new();
    diagnostics.retain(|diagnostic| {
        seen.insert((
            diagnostic.code,
            diagnostic.primary_span().map(|span| (span.start, span.end)),
        ))
    });
    diagnostics
}

struct Context<'a> {
    instance: &'a Value,
    locator: &'a dyn Locate,
    schema: &'a Value,
}

/// What a place in the plan is, as far as the messages care.
enum Place<'p> {
    /// A field of a workload (a source, or a target's VM), with the rest of the path.
    Workload(&'p [String]),
    Version,
    Cloud,
    Selection,
    Other,
}

impl Context<'_> {
    fn classify(&self, error: &ValidationError<'_>, out: &mut Vec<Diagnostic>) {
        let pointer = error.instance_path().as_str().to_string();
        let segments: Vec<String> = pointer.split('/').skip(1).map(unescape).collect();
        let here = self.locator.locate(&pointer);
        let value = self.instance.pointer(&pointer);
        let shown = dotted(&segments);

        match error.kind() {
            ValidationErrorKind::AnyOf { context }
            | ValidationErrorKind::OneOfNotValid { context } => {
                self.classify_alternatives(error, &segments, value, context, out);
                return;
            }
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                let known = self.allowed_keys(error);
                for key in unexpected {
                    out.push(self.unknown_key(&pointer, &shown, key, &known));
                }
                return;
            }
            ValidationErrorKind::Required { property } => {
                let property = property.as_str().unwrap_or_default();
                out.push(self.missing_key(error, &segments, &here, property));
                return;
            }
            _ => {}
        }

        let diagnostic = match place(&segments) {
            Place::Workload([field]) if field == "ip" => ip_diagnostic(value, &shown),
            Place::Workload([credentials, _]) if credentials == "credentials" => match error.kind()
            {
                ValidationErrorKind::MinLength { .. } => {
                    Diagnostic::new(Code::MissingCredential, format!("`{shown}` is empty"))
                        .with_help("every workload needs a non-empty username and password")
                }
                _ => generic(error, value, &shown),
            },
            Place::Workload([mounts, _, size]) if mounts == "mountpoints" && size == "size" => {
                size_diagnostic(value, &shown)
            }
            Place::Version => Diagnostic::new(
                Code::UnsupportedVersion,
                format!(
                    "plan format version {} is not supported",
                    display_value(value)
                ),
            )
            .with_help("this ferry reads plan format version 1: write `version: 1`"),
            Place::Cloud => cloud_diagnostic(value, &shown),
            Place::Selection => match error.kind() {
                ValidationErrorKind::MinItems { .. } => {
                    Diagnostic::new(Code::EmptySelection, format!("`{shown}` selects no mounts"))
                        .with_help(
                            "list the source mounts to migrate; the system volume is required",
                        )
                }
                _ => generic(error, value, &shown),
            },
            _ => generic(error, value, &shown),
        };
        out.push(diagnostic.with_label(here.value, label_for(error)));
    }

    /// `anyOf`/`oneOf`: pick the alternative the user evidently meant, and report its errors.
    fn classify_alternatives(
        &self,
        error: &ValidationError<'_>,
        segments: &[String],
        value: Option<&Value>,
        branches: &[Vec<ValidationError<'static>>],
        out: &mut Vec<Diagnostic>,
    ) {
        let pointer = error.instance_path().as_str();
        let shown = dotted(segments);
        let span = self.locator.locate(pointer).value;
        match place(segments) {
            Place::Workload([field]) if field == "ip" => {
                out.push(ip_diagnostic(value, &shown).with_label(span, "not an IP address"));
                return;
            }
            Place::Workload([mounts, _, size]) if mounts == "mountpoints" && size == "size" => {
                out.push(size_diagnostic(value, &shown).with_label(span, "not a size"));
                return;
            }
            Place::Cloud => {
                out.push(cloud_diagnostic(value, &shown).with_label(span, "unknown cloud"));
                return;
            }
            Place::Workload([credentials, password])
                if credentials == "credentials"
                    && password == "password"
                    && value
                        .and_then(Value::as_str)
                        .is_some_and(|text| text.trim().is_empty()) =>
            {
                out.push(
                    Diagnostic::new(Code::MissingCredential, format!("`{shown}` is empty"))
                        .with_label(span, "empty password")
                        .with_help(
                            "write `password: { env: VARIABLE }` or `password: { file: PATH }`",
                        ),
                );
                return;
            }
            _ => {}
        }
        // An enumeration written as alternatives of constants (`os`, and enums with documented variants).
        let constants: Option<Vec<&Value>> = branches
            .iter()
            .map(|branch| match branch.as_slice() {
                [only] => match only.kind() {
                    ValidationErrorKind::Constant { expected_value } => {
                        Some(expected_value.as_ref())
                    }
                    _ => None,
                },
                _ => None,
            })
            .collect();
        if let Some(constants) = constants.filter(|constants| !constants.is_empty()) {
            let names: Vec<&str> = constants
                .iter()
                .filter_map(|constant| constant.as_str())
                .collect();
            let written = value.and_then(Value::as_str).unwrap_or_default();
            let listed = names
                .iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let help = match suggest::did_you_mean(written, names.iter().copied()) {
                Some(suggestion) => {
                    format!("did you mean `{suggestion}`? Allowed values: {listed}")
                }
                None => format!("allowed values: {listed}"),
            };
            out.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    format!(
                        "`{shown}` is {}, which is not allowed here",
                        display_value(value)
                    ),
                )
                .with_label(span, "not an allowed value")
                .with_help(help),
            );
            return;
        }
        // Externally tagged alternatives (`connection: { local: ... }`, `password: { env: ... }`):
        // the branch whose tag key the user wrote is the one they meant.
        let branch_tags = self.branch_tags(error);
        let tags: Vec<String> = branch_tags.iter().flatten().cloned().collect();
        let written: Vec<&String> = value
            .and_then(Value::as_object)
            .map(|object| object.keys().collect())
            .unwrap_or_default();
        let chosen = branch_tags
            .iter()
            .position(|tag| tag.as_ref().is_some_and(|tag| written.contains(&tag)))
            .or_else(|| {
                if !tags.is_empty() && value.is_some_and(Value::is_object) {
                    return None; // a tagged mapping with no known tag: say which tags exist
                }
                // Otherwise the branch that matches the value's type and has the fewest errors.
                branches
                    .iter()
                    .enumerate()
                    .filter(|(_, branch)| {
                        !branch
                            .iter()
                            .any(|e| matches!(e.kind(), ValidationErrorKind::Type { .. }))
                    })
                    .min_by_key(|(_, branch)| branch.len())
                    .map(|(index, _)| index)
            });
        match chosen {
            Some(index) => branches[index]
                .iter()
                .for_each(|inner| self.classify(inner, out)),
            None if !tags.is_empty() && value.is_some_and(Value::is_object) => {
                for key in written.iter().filter(|key| !tags.contains(key)) {
                    out.push(self.unknown_key(pointer, &shown, key, &tags));
                }
                if written.is_empty() {
                    out.push(
                        Diagnostic::new(Code::MissingKey, format!("`{shown}` is empty"))
                            .with_label(span, "needs one of these keys")
                            .with_help(format!("write one of: {}", tags.join(", "))),
                    );
                }
            }
            None => {
                let expected = alternatives_description(branches);
                out.push(
                    Diagnostic::new(
                        Code::InvalidType,
                        format!("`{shown}` has the wrong type: expected {expected}"),
                    )
                    .with_label(span, format!("found {}", json_kind(value))),
                );
            }
        }
    }

    fn unknown_key(&self, parent: &str, shown: &str, key: &str, known: &[String]) -> Diagnostic {
        let pointer = format!("{parent}/{}", escape_pointer_segment(key));
        let located = self.locator.locate(&pointer);
        let span = located.key.unwrap_or(located.value);
        let help = match suggest::did_you_mean(key, known.iter().map(String::as_str)) {
            Some(suggestion) => format!("did you mean `{suggestion}`?"),
            None if known.is_empty() => "remove this key".to_string(),
            None => format!("the keys allowed here are: {}", known.join(", ")),
        };
        let place = if shown.is_empty() {
            "the plan".to_string()
        } else {
            format!("`{shown}`")
        };
        // The keys of a `hooks` mapping are its phases.
        if parent.ends_with("/hooks") {
            return Diagnostic::new(
                Code::UnknownHookPhase,
                format!("unknown hook phase `{key}` in {place}"),
            )
            .with_label(span, "unknown phase")
            .with_help(hook_phase_help(key, known));
        }
        Diagnostic::new(Code::UnknownKey, format!("unknown key `{key}` in {place}"))
            .with_label(span, "unknown key")
            .with_help(help)
    }

    fn missing_key(
        &self,
        error: &ValidationError<'_>,
        segments: &[String],
        here: &Located,
        property: &str,
    ) -> Diagnostic {
        let shown = dotted(segments);
        let place = if shown.is_empty() {
            "the plan".to_string()
        } else {
            format!("`{shown}`")
        };
        let span = here.key.clone().unwrap_or_else(|| here.value.clone());
        let code = match (place_of_parent(segments), property) {
            (Place::Workload([]), "ip") => Code::MissingIp,
            (Place::Workload([]), "credentials") => Code::MissingCredential,
            (Place::Workload([credentials]), "username" | "password")
                if credentials == "credentials" =>
            {
                Code::MissingCredential
            }
            _ => Code::MissingKey,
        };
        let description = self.property_description(error, property);
        let help = match description {
            Some(description) => format!("add `{property}`: {description}"),
            None => format!("add `{property}`"),
        };
        Diagnostic::new(code, format!("{place} is missing `{property}`"))
            .with_label(span, format!("`{property}` is required here"))
            .with_help(help)
    }

    /// For each alternative of an `anyOf`/`oneOf`, the single key it requires, if it is a tagged
    /// mapping (`{ local: ... }`, `{ env: ... }`).
    fn branch_tags(&self, error: &ValidationError<'_>) -> Vec<Option<String>> {
        let Some(Value::Array(alternatives)) = self.schema.pointer(error.schema_path().as_str())
        else {
            return Vec::new();
        };
        alternatives
            .iter()
            .map(|alternative| {
                let resolved = match alternative.get("$ref").and_then(Value::as_str) {
                    Some(reference) => self
                        .schema
                        .pointer(reference.trim_start_matches('#'))
                        .unwrap_or(alternative),
                    None => alternative,
                };
                match resolved
                    .get("required")
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                {
                    Some([Value::String(tag)]) => Some(tag.clone()),
                    _ => None,
                }
            })
            .collect()
    }

    /// The property names the schema allows at an `additionalProperties` error.
    fn allowed_keys(&self, error: &ValidationError<'_>) -> Vec<String> {
        self.schema_sibling(error, "properties")
            .and_then(Value::as_object)
            .map(|properties| properties.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn property_description(&self, error: &ValidationError<'_>, property: &str) -> Option<String> {
        let properties = self.schema_sibling(error, "properties")?;
        let description = properties.get(property)?.get("description")?.as_str()?;
        // The first sentence reads best in a one-line hint.
        let first = description
            .split("\n\n")
            .next()
            .unwrap_or(description)
            .replace('\n', " ");
        Some(first.trim_end_matches('.').to_string())
    }

    /// The schema value beside the keyword that failed (`/$defs/X/required` → `/$defs/X/properties`).
    fn schema_sibling(&self, error: &ValidationError<'_>, sibling: &str) -> Option<&Value> {
        let keyword_path = error.schema_path().as_str();
        let parent = keyword_path
            .rsplit_once('/')
            .map_or("", |(parent, _)| parent);
        self.schema.pointer(&format!("{parent}/{sibling}"))
    }
}

fn place(segments: &[String]) -> Place<'_> {
    match segments {
        [version] if version == "version" => Place::Version,
        [sources, _, rest @ ..] if sources == "sources" => Place::Workload(rest),
        [targets, _, cloud] if targets == "targets" && cloud == "cloud" => Place::Cloud,
        [targets, _, vm, rest @ ..] if targets == "targets" && vm == "vm" => Place::Workload(rest),
        [migrations, _, mounts] if migrations == "migrations" && mounts == "mounts" => {
            Place::Selection
        }
        _ => Place::Other,
    }
}

/// The place of the object a `required` error is reported on (the parent of the missing key).
fn place_of_parent(segments: &[String]) -> Place<'_> {
    place(segments)
}

/// Names people give hook phases, and the phase each means.
const HOOK_PHASE_ALIASES: &[(&str, &str)] = &[
    ("pre", "before"),
    ("pre_migration", "before"),
    ("post", "after"),
    ("post_migration", "after"),
    ("failure", "on_failure"),
    ("on_error", "on_failure"),
    ("error", "on_failure"),
    ("onfailure", "on_failure"),
];

/// "did you mean `before`?" for an unknown hook phase, then what the phases are.
fn hook_phase_help(key: &str, known: &[String]) -> String {
    let lowered = key.trim().to_lowercase().replace('-', "_");
    let suggestion = HOOK_PHASE_ALIASES
        .iter()
        .find(|(alias, _)| *alias == lowered)
        .map(|(_, phase)| *phase)
        .or_else(|| suggest::did_you_mean(key, known.iter().map(String::as_str)));
    let phases = "the phases are `before`, `after` and `on_failure`; `env` holds the secrets the commands get";
    match suggestion {
        Some(phase) => format!("did you mean `{phase}`? {phases}"),
        None => phases.to_string(),
    }
}
