//! Turns JSON Schema validation errors into ferry diagnostics: the right code, a span, a readable message and a hint.
//!
//! The schema knows the plan's shape; this module knows what each place means to a user. Errors
//! about a workload's IP, credentials or sizes, a target's cloud, the selection or the version get
//! their domain codes; everything else gets a generic shape code (`unknown-key`, `missing-key`,
//! `invalid-type`, `invalid-value`).

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{JsonType, ValidationError};
use serde_json::Value;

use crate::plan::codes::Code;
use crate::plan::diagnostic::Diagnostic;
use crate::plan::raw::Cloud;
use crate::plan::suggest;
use crate::plan::yaml::{Locate, Located, escape_pointer_segment};

/// Validates a plan's JSON form against the schema and returns one diagnostic per problem.
pub fn schema_diagnostics(instance: &Value, locator: &dyn Locate) -> Vec<Diagnostic> {
    let context = Context { instance, locator, schema: super::validator_schema() };
    let mut diagnostics = Vec::new();
    for error in super::validator().iter_errors(instance) {
        context.classify(&error, &mut diagnostics);
    }
    // One value can break several keywords (an empty IP is both too short and not an address).
    let mut seen = std::collections::HashSet::new();
    diagnostics.retain(|diagnostic| seen.insert((diagnostic.code, diagnostic.primary_span().map(|span| (span.start, span.end)))));
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
            ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
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
            Place::Workload([credentials, _]) if credentials == "credentials" => match error.kind() {
                ValidationErrorKind::MinLength { .. } => Diagnostic::new(Code::MissingCredential, format!("`{shown}` is empty"))
                    .with_help("every workload needs a non-empty username and password"),
                _ => generic(error, value, &shown),
            },
            Place::Workload([mounts, _, size]) if mounts == "mountpoints" && size == "size" => size_diagnostic(value, &shown),
            Place::Version => Diagnostic::new(
                Code::UnsupportedVersion,
                format!("plan format version {} is not supported", display_value(value)),
            )
            .with_help("this ferry reads plan format version 1: write `version: 1`"),
            Place::Cloud => cloud_diagnostic(value, &shown),
            Place::Selection => match error.kind() {
                ValidationErrorKind::MinItems { .. } => {
                    Diagnostic::new(Code::EmptySelection, format!("`{shown}` selects no mounts"))
                        .with_help("list the source mounts to migrate; the system volume is required")
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
            Place::Workload([credentials, password]) if credentials == "credentials" && password == "password" => {
                if value.and_then(Value::as_str).is_some_and(|text| text.trim().is_empty()) {
                    out.push(
                        Diagnostic::new(Code::MissingCredential, format!("`{shown}` is empty"))
                            .with_label(span, "empty password")
                            .with_help("write `password: { env: VARIABLE }` or `password: { file: PATH }`"),
                    );
                    return;
                }
            }
            _ => {}
        }
        // Externally tagged alternatives (`connection: { local: ... }`, `password: { env: ... }`):
        // the branch whose tag key the user wrote is the one they meant.
        let branch_tags = self.branch_tags(error);
        let tags: Vec<String> = branch_tags.iter().flatten().cloned().collect();
        let written: Vec<&String> = value.and_then(Value::as_object).map(|object| object.keys().collect()).unwrap_or_default();
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
                    .filter(|(_, branch)| !branch.iter().any(|e| matches!(e.kind(), ValidationErrorKind::Type { .. })))
                    .min_by_key(|(_, branch)| branch.len())
                    .map(|(index, _)| index)
            });
        match chosen {
            Some(index) => branches[index].iter().for_each(|inner| self.classify(inner, out)),
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
                    Diagnostic::new(Code::InvalidType, format!("`{shown}` has the wrong type: expected {expected}"))
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
        let place = if shown.is_empty() { "the plan".to_string() } else { format!("`{shown}`") };
        Diagnostic::new(Code::UnknownKey, format!("unknown key `{key}` in {place}"))
            .with_label(span, "unknown key")
            .with_help(help)
    }

    fn missing_key(&self, error: &ValidationError<'_>, segments: &[String], here: &Located, property: &str) -> Diagnostic {
        let shown = dotted(segments);
        let place = if shown.is_empty() { "the plan".to_string() } else { format!("`{shown}`") };
        let span = here.key.clone().unwrap_or_else(|| here.value.clone());
        let code = match (place_of_parent(segments), property) {
            (Place::Workload([]), "ip") => Code::MissingIp,
            (Place::Workload([]), "credentials") => Code::MissingCredential,
            (Place::Workload([credentials]), "username" | "password") if credentials == "credentials" => Code::MissingCredential,
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
        let Some(Value::Array(alternatives)) = self.schema.pointer(error.schema_path().as_str()) else {
            return Vec::new();
        };
        alternatives
            .iter()
            .map(|alternative| {
                let resolved = match alternative.get("$ref").and_then(Value::as_str) {
                    Some(reference) => self.schema.pointer(reference.trim_start_matches('#')).unwrap_or(alternative),
                    None => alternative,
                };
                match resolved.get("required").and_then(Value::as_array).map(Vec::as_slice) {
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
        let first = description.split("\n\n").next().unwrap_or(description).replace('\n', " ");
        Some(first.trim_end_matches('.').to_string())
    }

    /// The schema value beside the keyword that failed (`/$defs/X/required` → `/$defs/X/properties`).
    fn schema_sibling(&self, error: &ValidationError<'_>, sibling: &str) -> Option<&Value> {
        let keyword_path = error.schema_path().as_str();
        let parent = keyword_path.rsplit_once('/').map_or("", |(parent, _)| parent);
        self.schema.pointer(&format!("{parent}/{sibling}"))
    }
}

fn place(segments: &[String]) -> Place<'_> {
    match segments {
        [version] if version == "version" => Place::Version,
        [sources, _, rest @ ..] if sources == "sources" => Place::Workload(rest),
        [targets, _, cloud] if targets == "targets" && cloud == "cloud" => Place::Cloud,
        [targets, _, vm, rest @ ..] if targets == "targets" && vm == "vm" => Place::Workload(rest),
        [migrations, _, mounts] if migrations == "migrations" && mounts == "mounts" => Place::Selection,
        _ => Place::Other,
    }
}

/// The place of the object a `required` error is reported on (the parent of the missing key).
fn place_of_parent(segments: &[String]) -> Place<'_> {
    place(segments)
}


fn ip_diagnostic(value: Option<&Value>, shown: &str) -> Diagnostic {
    match value {
        Some(Value::String(text)) if text.trim().is_empty() => Diagnostic::new(Code::MissingIp, format!("`{shown}` is empty"))
            .with_help("every workload needs its IPv4 or IPv6 address, such as `192.0.2.10`"),
        _ => Diagnostic::new(Code::InvalidIp, format!("`{shown}` is not an IP address: {}", display_value(value)))
            .with_help("write an IPv4 address such as `192.0.2.10` or an IPv6 address such as `2001:db8::10`"),
    }
}

fn size_diagnostic(value: Option<&Value>, shown: &str) -> Diagnostic {
    let message = match value {
        Some(Value::Number(number)) if number.as_u64() == Some(0) => format!("`{shown}` is zero"),
        _ => format!("`{shown}` is not a size: {}", display_value(value)),
    };
    Diagnostic::new(Code::InvalidSize, message)
        .with_help("write a positive number of bytes, or a number with a unit such as `40 GiB` or `512 MB`")
}

/// Common names people write for the four clouds.
const CLOUD_ALIASES: &[(&str, Cloud)] = &[
    ("amazon", Cloud::Aws),
    ("ec2", Cloud::Aws),
    ("amazon web services", Cloud::Aws),
    ("microsoft", Cloud::Azure),
    ("azurerm", Cloud::Azure),
    ("az", Cloud::Azure),
    ("vmware", Cloud::Vsphere),
    ("esxi", Cloud::Vsphere),
    ("vcenter", Cloud::Vsphere),
    ("vcd", Cloud::Vcloud),
    ("vcloud director", Cloud::Vcloud),
    ("cloud director", Cloud::Vcloud),
];

fn cloud_diagnostic(value: Option<&Value>, shown: &str) -> Diagnostic {
    let written = value.and_then(Value::as_str).unwrap_or_default();
    let lowered = written.trim().to_lowercase();
    let names: Vec<&str> = Cloud::ALL.iter().map(|cloud| cloud.as_str()).collect();
    let suggestion = CLOUD_ALIASES
        .iter()
        .find(|(alias, _)| *alias == lowered)
        .map(|(_, cloud)| cloud.as_str())
        .or_else(|| suggest::did_you_mean(written.trim(), names.iter().copied()));
    let help = match suggestion {
        Some(cloud) => format!("did you mean `{cloud}`? The cloud is one of: {}", names.join(", ")),
        None => format!("the cloud is one of: {}", names.join(", ")),
    };
    Diagnostic::new(Code::UnknownCloud, format!("`{shown}` is not a supported cloud: {}", display_value(value))).with_help(help)
}

fn generic(error: &ValidationError<'_>, value: Option<&Value>, shown: &str) -> Diagnostic {
    let place = if shown.is_empty() { "the plan".to_string() } else { format!("`{shown}`") };
    match error.kind() {
        ValidationErrorKind::Type { kind } => Diagnostic::new(
            Code::InvalidType,
            format!("{place} has the wrong type: expected {}, found {}", type_name(kind), json_kind(value)),
        ),
        ValidationErrorKind::MinLength { .. } => Diagnostic::new(Code::InvalidValue, format!("{place} must not be empty")),
        ValidationErrorKind::Enum { options } => Diagnostic::new(
            Code::InvalidValue,
            format!("{place} is {}, which is not allowed here", display_value(value)),
        )
        .with_help(format!("allowed values: {}", display_value(Some(options)))),
        _ => Diagnostic::new(Code::InvalidValue, format!("{place}: {}", error.masked())),
    }
}

fn label_for(error: &ValidationError<'_>) -> &'static str {
    match error.kind() {
        ValidationErrorKind::Type { .. } => "wrong type",
        ValidationErrorKind::MinLength { .. } => "empty",
        ValidationErrorKind::MinItems { .. } => "empty list",
        _ => "invalid value",
    }
}

fn type_name(kind: &TypeKind) -> String {
    match kind {
        TypeKind::Single(single) => json_type_name(*single).to_string(),
        TypeKind::Multiple(set) => set.iter().map(json_type_name).collect::<Vec<_>>().join(" or "),
    }
}

/// JSON types in YAML's words.
fn json_type_name(kind: JsonType) -> &'static str {
    match kind {
        JsonType::Array => "a list",
        JsonType::Boolean => "true or false",
        JsonType::Integer => "a whole number",
        JsonType::Null => "nothing",
        JsonType::Number => "a number",
        JsonType::Object => "a mapping",
        JsonType::String => "a string",
    }
}

fn json_kind(value: Option<&Value>) -> &'static str {
    match value {
        None | Some(Value::Null) => "nothing",
        Some(Value::Bool(_)) => "true or false",
        Some(Value::Number(_)) => "a number",
        Some(Value::String(_)) => "a string",
        Some(Value::Array(_)) => "a list",
        Some(Value::Object(_)) => "a mapping",
    }
}

fn alternatives_description(branches: &[Vec<ValidationError<'static>>]) -> String {
    let mut expected: Vec<String> = branches
        .iter()
        .flat_map(|branch| branch.iter())
        .filter_map(|error| match error.kind() {
            ValidationErrorKind::Type { kind } => Some(type_name(kind)),
            _ => None,
        })
        .collect();
    expected.dedup();
    if expected.is_empty() { "another value".to_string() } else { expected.join(" or ") }
}

/// A value as it reads in a message: strings in backticks, short.
fn display_value(value: Option<&Value>) -> String {
    match value {
        None => "nothing".to_string(),
        Some(Value::String(text)) => format!("`{}`", shorten(text)),
        Some(other) => format!("`{}`", shorten(&other.to_string())),
    }
}

fn shorten(text: &str) -> String {
    const LIMIT: usize = 60;
    if text.chars().count() <= LIMIT { text.to_string() } else { format!("{}…", text.chars().take(LIMIT).collect::<String>()) }
}

/// `["sources", "web-01", "ip"]` reads as `sources.web-01.ip`; list indexes as `[0]`.
fn dotted(segments: &[String]) -> String {
    let mut shown = String::new();
    for segment in segments {
        if segment.parse::<usize>().is_ok() {
            shown.push_str(&format!("[{segment}]"));
        } else {
            if !shown.is_empty() {
                shown.push('.');
            }
            shown.push_str(segment);
        }
    }
    shown
}

fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}
