//! Hand-built diagnostics shared by the renderers' tests: several labels, a warning, Unicode
//! text, CRLF line ends, an empty span at the end of a file, and a file with no diagnostics.

use std::ops::Range;

use crate::plan::codes::Code;
use crate::plan::diagnostic::{Diagnostic, FileDiagnostics};

pub const PRODUCTION_PLAN: &str = r#"version: 1
sources:
  web-01:
    ip: 192.0.2.10
    credentials:
      username: administrator
      password: hunter2
    mountpoints:
      - { name: "C:\\", size: 40 GiB }
      - { name: "D:\\", size: 100 GiB }
targets:
  azure-web:
    cloud: azure
    credentials: { username: ferry, password: { env: AZURE_SECRET } }
    vm:
      ip: 198.51.100.7
      credentials: { username: admin, password: { env: VM_PASSWORD } }
      mountpoints:
        - { name: "C:\\", size: 200 GiB }
migrations:
  - name: web → azure
    source: web-01
    target: azure-web
    mounts: ["E:\\"]
"#;

/// The byte span of the `occurrence`-th (0-based) appearance of `needle`.
pub fn span_of(text: &str, needle: &str, occurrence: usize) -> Range<usize> {
    let start = text
        .match_indices(needle)
        .nth(occurrence)
        .map(|(start, _)| start)
        .unwrap_or_else(|| panic!("{needle:?} #{occurrence} is not in the fixture"));
    start..start + needle.len()
}

pub fn production_file() -> FileDiagnostics {
    let text = PRODUCTION_PLAN;
    let mounts_line_start = span_of(text, "mounts: [", 0).start;
    FileDiagnostics {
        path: "plans/production.yaml".to_string(),
        source: text.to_string(),
        diagnostics: vec![
            Diagnostic::new(
                Code::PlaintextPassword,
                "the password of source `web-01` is written in plain text",
            )
            .with_label(span_of(text, "hunter2", 0), "plain-text password")
            .with_help("use `password: { env: WEB_01_PASSWORD }` or `password: { file: PATH }`"),
            Diagnostic::new(
                Code::UnknownMount,
                "migration `web → azure` selects mount `E:\\`, which source `web-01` does not have",
            )
            .with_label(span_of(text, "\"E:\\\\\"", 0), "not a mount of `web-01`")
            .with_label(
                span_of(text, "mountpoints:", 0),
                "`web-01` has `C:\\` and `D:\\`",
            )
            .with_help("select one of `C:\\`, `D:\\`"),
            Diagnostic::new(
                Code::MissingSystemVolume,
                "migration `web → azure` does not select the system volume `C:\\` of `web-01`",
            )
            .with_label(
                mounts_line_start..mounts_line_start + "mounts: [\"E:\\\\\"]".len(),
                "`C:\\` is missing here",
            )
            .with_label(span_of(text, "\"C:\\\\\"", 0), "the system volume"),
        ],
    }
}

/// CRLF line ends, a multibyte name, a diagnostic without help and one at the very end.
pub const STAGING_PLAN: &str = "version: 1\r\nsources: {}\r\ntargets: {}\r\nmigrations:\r\n  - source: wéb-02\r\n    target: vm\r\n    mounts: [/]\r\n";

pub fn staging_file() -> FileDiagnostics {
    let text = STAGING_PLAN;
    FileDiagnostics {
        path: "plans\\staging.yaml".to_string(),
        source: text.to_string(),
        diagnostics: vec![
            Diagnostic::new(
                Code::UnknownSource,
                "migration #1 names source `wéb-02`, which the plan does not define",
            )
            .with_label(span_of(text, "wéb-02", 0), "no source has this name"),
        ],
    }
}

pub fn clean_file() -> FileDiagnostics {
    FileDiagnostics {
        path: "plans/clean.yaml".to_string(),
        source: "version: 1\n".to_string(),
        diagnostics: Vec::new(),
    }
}

/// Three files: 3 errors and 1 warning in 2 of them, the third clean.
pub fn sample_files() -> Vec<FileDiagnostics> {
    vec![production_file(), staging_file(), clean_file()]
}

/// One file with only a warning.
pub fn warning_only_files() -> Vec<FileDiagnostics> {
    let mut file = production_file();
    file.diagnostics.truncate(1);
    vec![file]
}

/// Awkward spans: empty at the end of the file, past the end, inside a multibyte character,
/// reversed, and a diagnostic with no label at all.
pub fn awkward_file() -> FileDiagnostics {
    let text = "version: 1\nsources:\n  å: {}\n";
    let length = text.len();
    let inside_multibyte = text.find('å').unwrap_or(0) + 1;
    FileDiagnostics {
        path: "awkward.yaml".to_string(),
        source: text.to_string(),
        diagnostics: vec![
            Diagnostic::new(Code::MissingKey, "the plan has no `targets`")
                .with_label(length..length, "expected `targets` here"),
            Diagnostic::new(Code::YamlSyntax, "unexpected end of input")
                .with_label(length + 5..length + 9, "past the end"),
            Diagnostic::new(Code::InvalidType, "a source must be a mapping")
                .with_label(inside_multibyte..inside_multibyte + 1, "in a character"),
            Diagnostic::new(Code::InvalidValue, "reversed span").with_label(
                #[allow(clippy::reversed_empty_ranges)]
                {
                    9..3
                },
                "backwards",
            ),
            Diagnostic::new(Code::EmptyPlan, "a diagnostic about the whole file"),
        ],
    }
}
