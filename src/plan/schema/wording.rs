//! The words of schema diagnostics: domain messages for IPs, sizes and clouds, and how types and values read to a user.

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{JsonType, ValidationError};
use serde_json::Value;

use crate::plan::codes::Code;
use crate::plan::diagnostic::Diagnostic;
use crate::plan::raw::Cloud;
use crate::plan::suggest;

pub(super) fn ip_diagnostic(value: Option<&Value>, shown: &str) -> Diagnostic {
    match value {
        Some(Value::String(text)) if text.trim().is_empty() => {
            Diagnostic::new(Code::MissingIp, format!("`{shown}` is empty"))
                .with_help("every workload needs its IPv4 or IPv6 address, such as `192.0.2.10`")
        }
        _ => Diagnostic::new(
            Code::InvalidIp,
            format!("`{shown}` is not an IP address: {}", display_value(value)),
        )
        .with_help(
            "write an IPv4 address such as `192.0.2.10` or an IPv6 address such as `2001:db8::10`",
        ),
    }
}

pub(super) fn size_diagnostic(value: Option<&Value>, shown: &str) -> Diagnostic {
    let message = match value {
        Some(Value::Number(number)) if number.as_u64() == Some(0) => format!("`{shown}` is zero"),
        _ => format!("`{shown}` is not a size: {}", display_value(value)),
    };
    Diagnostic::new(Code::InvalidSize, message).with_help(
        "write a positive number of bytes, or a number with a unit such as `40 GiB` or `512 MB`",
    )
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

pub(super) fn cloud_diagnostic(value: Option<&Value>, shown: &str) -> Diagnostic {
    let written = value.and_then(Value::as_str).unwrap_or_default();
    let lowered = written.trim().to_lowercase();
    let names: Vec<&str> = Cloud::ALL.iter().map(|cloud| cloud.as_str()).collect();
    let suggestion = CLOUD_ALIASES
        .iter()
        .find(|(alias, _)| *alias == lowered)
        .map(|(_, cloud)| cloud.as_str())
        .or_else(|| suggest::did_you_mean(written.trim(), names.iter().copied()));
    let help = match suggestion {
        Some(cloud) => format!(
            "did you mean `{cloud}`? The cloud is one of: {}",
            names.join(", ")
        ),
        None => format!("the cloud is one of: {}", names.join(", ")),
    };
    Diagnostic::new(
        Code::UnknownCloud,
        format!(
            "`{shown}` is not a supported cloud: {}",
            display_value(value)
        ),
    )
    .with_help(help)
}

pub(super) fn generic(
    error: &ValidationError<'_>,
    value: Option<&Value>,
    shown: &str,
) -> Diagnostic {
    let place = if shown.is_empty() {
        "the plan".to_string()
    } else {
        format!("`{shown}`")
    };
    match error.kind() {
        ValidationErrorKind::Type { kind } => Diagnostic::new(
            Code::InvalidType,
            format!(
                "{place} has the wrong type: expected {}, found {}",
                type_name(kind),
                json_kind(value)
            ),
        ),
        ValidationErrorKind::MinLength { limit: 1 } => {
            Diagnostic::new(Code::InvalidValue, format!("{place} must not be empty"))
        }
        ValidationErrorKind::MinLength { limit } => Diagnostic::new(
            Code::InvalidValue,
            format!(
                "{place} is {}, shorter than {limit} characters",
                display_value(value)
            ),
        ),
        ValidationErrorKind::MaxLength { limit } => Diagnostic::new(
            Code::InvalidValue,
            format!(
                "{place} is {}, longer than {limit} characters",
                display_value(value)
            ),
        ),
        ValidationErrorKind::Enum { options } => Diagnostic::new(
            Code::InvalidValue,
            format!(
                "{place} is {}, which is not allowed here",
                display_value(value)
            ),
        )
        .with_help(format!("allowed values: {}", display_value(Some(options)))),
        _ => Diagnostic::new(Code::InvalidValue, format!("{place}: {}", error.masked())),
    }
}

pub(super) fn label_for(error: &ValidationError<'_>) -> &'static str {
    match error.kind() {
        ValidationErrorKind::Type { .. } => "wrong type",
        ValidationErrorKind::MinLength { limit: 1 } => "empty",
        ValidationErrorKind::MinLength { .. } => "too short",
        ValidationErrorKind::MaxLength { .. } => "too long",
        ValidationErrorKind::MinItems { .. } => "empty list",
        _ => "invalid value",
    }
}

pub(super) fn type_name(kind: &TypeKind) -> String {
    match kind {
        TypeKind::Single(single) => json_type_name(*single).to_string(),
        TypeKind::Multiple(set) => set
            .iter()
            .map(json_type_name)
            .collect::<Vec<_>>()
            .join(" or "),
    }
}

/// JSON types in YAML's words.
pub(super) fn json_type_name(kind: JsonType) -> &'static str {
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

pub(super) fn json_kind(value: Option<&Value>) -> &'static str {
    match value {
        None | Some(Value::Null) => "nothing",
        Some(Value::Bool(_)) => "true or false",
        Some(Value::Number(_)) => "a number",
        Some(Value::String(_)) => "a string",
        Some(Value::Array(_)) => "a list",
        Some(Value::Object(_)) => "a mapping",
    }
}

pub(super) fn alternatives_description(branches: &[Vec<ValidationError<'static>>]) -> String {
    let mut expected: Vec<String> = branches
        .iter()
        .flat_map(|branch| branch.iter())
        .filter_map(|error| match error.kind() {
            ValidationErrorKind::Type { kind } => Some(type_name(kind)),
            _ => None,
        })
        .collect();
    expected.dedup();
    if expected.is_empty() {
        "another value".to_string()
    } else {
        expected.join(" or ")
    }
}

/// A value as it reads in a message: strings in backticks, short.
pub(super) fn display_value(value: Option<&Value>) -> String {
    match value {
        None => "nothing".to_string(),
        Some(Value::String(text)) => format!("`{}`", shorten(text)),
        Some(other) => format!("`{}`", shorten(&other.to_string())),
    }
}

pub(super) fn shorten(text: &str) -> String {
    const LIMIT: usize = 60;
    if text.chars().count() <= LIMIT {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(LIMIT).collect::<String>())
    }
}

/// `["sources", "web-01", "ip"]` reads as `sources.web-01.ip`; list indexes as `[0]`.
pub(super) fn dotted(segments: &[String]) -> String {
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

pub(super) fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}
