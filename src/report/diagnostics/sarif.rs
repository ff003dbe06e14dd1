//! The SARIF 2.1.0 format, for GitHub code scanning and other SARIF viewers.
//!
//! One run whose driver lists every diagnostic code as a rule (with its `ferry explain` text as
//! help), and one result per diagnostic. Regions are 1-based with `columnKind`
//! `unicodeCodePoints` (columns count characters) and an exclusive `endColumn`. File paths are
//! given as relative URI references, with forward slashes and percent-encoding; absolute paths
//! become `file://` URIs; `ferry check` first makes the paths relative to `--sarif-root`
//! (`artifact.rs`). A diagnostic without a label points at line 1 of its file. Every result has a
//! `partialFingerprints` entry (`fingerprint.rs`) so that code scanning tracks it across commits.
//! When Cargo.toml names the project's `repository`, the tool gets it as `informationUri` and
//! each rule a `helpUri`: its explanation's source, `REPOSITORY/blob/HEAD/src/plan/explain/CODE.md`.

mod artifact;
mod fingerprint;

pub use artifact::path_from_root;

use serde_json::{Value, json};

use super::line_index::LineIndex;
use super::redact::Redacted;
use super::{effective_severity, severity_name};
use crate::plan::codes::Code;
use crate::plan::diagnostic::{FileDiagnostics, Label};
use crate::plan::yaml::{self, Limits};

/// The `$schema` every ferry SARIF log names.
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The project's home, from `repository` in Cargo.toml; `informationUri` and `helpUri` are left
/// out while that is unset.
const PROJECT_URI: &str = env!("CARGO_PKG_REPOSITORY");

/// A pretty-printed SARIF log, ending with a newline.
pub fn render(files: &[FileDiagnostics], deny_warnings: bool) -> String {
    let mut results = Vec::new();
    for file in files {
        let index = LineIndex::new(&file.source);
        let uri = path_to_uri(&file.path);
        // Parsed again for the `credentials` mappings whose values are masked (see `redact`).
        let tree = yaml::parse(&file.source, &Limits::default()).root;
        let mut fingerprints =
            fingerprint::Fingerprints::new(&uri, Redacted::with_tree(&file.source, tree.as_ref()));
        for diagnostic in &file.diagnostics {
            let rule_index = Code::ALL
                .iter()
                .position(|code| *code == diagnostic.code)
                .unwrap_or_default();
            let mut text = diagnostic.message.trim_end().to_string();
            if let Some(help) = &diagnostic.help {
                text.push_str(&format!("\nhelp: {help}"));
            }
            let primary = match diagnostic.labels.first() {
                Some(label) => location(&uri, &index, label),
                None => json!({
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri },
                        "region": { "startLine": 1 }
                    }
                }),
            };
            let mut result = json!({
                "ruleId": diagnostic.code.as_str(),
                "ruleIndex": rule_index,
                "level": severity_name(effective_severity(diagnostic, deny_warnings)),
                "message": { "text": text },
                "locations": [primary],
                "partialFingerprints": {
                    fingerprint::KEY: fingerprints.next(
                        diagnostic.code,
                        &diagnostic.message,
                        diagnostic.labels.first().map(|label| &label.span),
                    ),
                },
            });
            if let Some(related) = related_locations(&uri, &index, &diagnostic.labels) {
                result["relatedLocations"] = related;
            }
            results.push(result);
        }
    }

    let mut driver = json!({
        "name": "ferry",
        "version": env!("CARGO_PKG_VERSION"),
    });
    let project = Some(PROJECT_URI).filter(|uri| !uri.is_empty());
    if let Some(project) = project {
        driver["informationUri"] = json!(project);
    }
    driver["rules"] = Value::Array(Code::ALL.iter().map(|code| rule(*code, project)).collect());
    let log = json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": driver },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    let mut text = serde_json::to_string_pretty(&log).unwrap_or_default();
    text.push('\n');
    text
}

/// The labels after the first, numbered from 1; `None` when there are none.
fn related_locations(uri: &str, index: &LineIndex<'_>, labels: &[Label]) -> Option<Value> {
    let related: Vec<Value> = labels
        .iter()
        .skip(1)
        .enumerate()
        .map(|(position, label)| {
            let mut related = location(uri, index, label);
            if let Value::Object(fields) = &mut related {
                fields.insert("id".to_string(), json!(position + 1));
            }
            related
        })
        .collect();
    (!related.is_empty()).then_some(Value::Array(related))
}

/// A reporting descriptor for one code; `project` is the repository's URL, when known.
fn rule(code: Code, project: Option<&str>) -> Value {
    let explanation = code.explanation();
    let mut rule = json!({
        "id": code.as_str(),
        "name": pascal_case(code.as_str()),
        "shortDescription": { "text": code.summary() },
        "fullDescription": { "text": full_description(code) },
        "help": { "text": explanation, "markdown": explanation },
        "defaultConfiguration": { "level": severity_name(code.default_severity()) },
    });
    if let Some(project) = project {
        rule["helpUri"] = json!(format!(
            "{}/blob/HEAD/src/plan/explain/{}.md",
            project.trim_end_matches('/'),
            code.as_str()
        ));
    }
    rule
}

/// The explanation's first paragraph of prose, falling back to the summary.
fn full_description(code: Code) -> String {
    code.explanation()
        .split("\n\n")
        .map(str::trim)
        .find(|paragraph| {
            !paragraph.is_empty() && !paragraph.starts_with('#') && !paragraph.starts_with("```")
        })
        .map(|paragraph| paragraph.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| code.summary().to_string())
}

/// `unknown-mount` → `UnknownMount`.
fn pascal_case(kebab: &str) -> String {
    kebab
        .split('-')
        .map(|word| {
            let mut characters = word.chars();
            match characters.next() {
                Some(first) => first.to_uppercase().chain(characters).collect(),
                None => String::new(),
            }
        })
        .collect()
}

/// A SARIF location for one label.
fn location(uri: &str, index: &LineIndex<'_>, label: &Label) -> Value {
    let range = index.range(&label.span);
    let mut location = json!({
        "physicalLocation": {
            "artifactLocation": { "uri": uri },
            "region": {
                "startLine": range.start.line,
                "startColumn": range.start.column,
                "endLine": range.end.line,
                "endColumn": range.end.column,
            }
        }
    });
    if !label.message.is_empty() {
        location["message"] = json!({ "text": label.message });
    }
    location
}

/// A file path as a URI reference: forward slashes; characters that a URI does not allow are
/// percent-encoded (UTF-8); an absolute path becomes a `file://` URI.
pub fn path_to_uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let bytes = path.as_bytes();
    let drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    let (prefix, rest) = if drive {
        // `C:/plans/a.yaml`: keep the drive's colon.
        (format!("file:///{}", &path[..2]), &path[2..])
    } else if path.starts_with("//") {
        // A UNC path `//server/share/a.yaml`.
        ("file:".to_string(), path.as_str())
    } else if path.starts_with('/') {
        ("file://".to_string(), path.as_str())
    } else {
        (String::new(), path.as_str())
    };
    let mut uri = prefix;
    for byte in rest.bytes() {
        let allowed = byte.is_ascii_alphanumeric()
            || matches!(
                byte,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'/'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b'@'
            );
        if allowed {
            uri.push(byte as char);
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

#[cfg(test)]
mod tests;
