//! The validation pipeline for one plan file: bytes → YAML tree → schema → typed entries → domain rules → `ValidPlan`.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::plan::codes::Code;
use crate::plan::diagnostic::{Diagnostic, FileDiagnostics, Severity};
use crate::plan::rules::{self, PlanEntries};
use crate::plan::schema;
use crate::plan::valid::ValidPlan;
use crate::plan::yaml::{self, Limits, Node};

/// A plan file could not be read at all (exit status 2). `check`, `plan` and `run` report it as an
/// `unreadable-plan` diagnostic ([`LoadError::report`]); `plan` and `run` then stop.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum LoadError {
    #[error("cannot read plan file `{}`", path.display())]
    #[diagnostic(
        code(ferry::unreadable_plan),
        help("check the path; relative paths are relative to the working directory")
    )]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl LoadError {
    /// The file's report in `ferry check`: one `unreadable-plan` error, with no text to point into.
    pub fn report(&self) -> FileDiagnostics {
        let LoadError::Read { path, source } = self;
        let diagnostic = Diagnostic::new(
            Code::UnreadablePlan,
            format!("cannot read plan file `{}`: {source}", path.display()),
        )
        .with_help("check the path; relative paths are relative to the working directory");
        FileDiagnostics {
            path: path.display().to_string(),
            source: String::new(),
            diagnostics: vec![diagnostic],
        }
    }
}

/// The outcome of checking one plan file.
#[derive(Debug)]
pub struct CheckedPlan {
    /// Every diagnostic found, sorted, with the text they point into.
    pub report: FileDiagnostics,
    /// The YAML tree, when the file parsed (state-aware rules label into it).
    pub tree: Option<Node>,
    /// The typed entries, when the file parsed.
    pub entries: Option<PlanEntries>,
    /// The resolved plan, present only when there are no errors.
    pub plan: Option<ValidPlan>,
}

impl CheckedPlan {
    pub fn has_errors(&self) -> bool {
        self.report.count(Severity::Error) > 0
    }
}

/// Reads and checks a plan file. Relative paths in the plan resolve against its folder.
pub fn check_file(path: &Path) -> Result<CheckedPlan, LoadError> {
    let limits = Limits::default();
    let read_error = |source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    if file.metadata().map_err(read_error)?.is_dir() {
        return Err(read_error(std::io::Error::other("it is a directory")));
    }
    // Read at most one byte past the limit: a 50 GB file costs no more than a 32 MB one.
    let mut bytes = Vec::new();
    file.take(limits.max_bytes as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    let base_dir = std::path::absolute(path)
        .ok()
        .and_then(|absolute| absolute.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."));
    Ok(check_bytes(
        &path.display().to_string(),
        path,
        &bytes,
        &base_dir,
        &limits,
    ))
}

/// Checks a plan's bytes. `shown_path` is what diagnostics name; `base_dir` anchors relative paths.
pub fn check_bytes(
    shown_path: &str,
    plan_file: &Path,
    bytes: &[u8],
    base_dir: &Path,
    limits: &Limits,
) -> CheckedPlan {
    let finish = |source: String, diagnostics: Vec<Diagnostic>| {
        let mut report = FileDiagnostics {
            path: shown_path.to_string(),
            source,
            diagnostics,
        };
        report.normalize();
        CheckedPlan {
            report,
            tree: None,
            entries: None,
            plan: None,
        }
    };
    let text = match plan_text(bytes, limits) {
        Ok(text) => text,
        Err((source, diagnostic)) => return finish(source, vec![diagnostic]),
    };

    let parsed = yaml::parse(text, limits);
    let mut diagnostics = parsed.diagnostics;
    let Some(tree) = parsed.root else {
        return finish(text.to_string(), diagnostics);
    };
    let json = tree.to_json_in_parallel();
    // The schema and the rules read the same tree and JSON; on two cores they run side by side.
    let (schema_diagnostics, entries, rule_diagnostics) = std::thread::scope(|scope| {
        let schema =
            scope.spawn(|| schema::schema_diagnostics(&json, &yaml::IndexedTree::new(&tree)));
        let entries = PlanEntries::from_json(&json);
        let rule_diagnostics = rules::check(&entries, &yaml::IndexedTree::new(&tree));
        (
            schema
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            entries,
            rule_diagnostics,
        )
    });
    diagnostics.extend(schema_diagnostics);
    diagnostics.extend(rule_diagnostics);

    let mut report = FileDiagnostics {
        path: shown_path.to_string(),
        source: text.to_string(),
        diagnostics,
    };
    report.normalize();
    let plan = if report.count(Severity::Error) == 0 {
        rules::resolve(
            &entries,
            plan_file,
            base_dir,
            &yaml::IndexedTree::new(&tree),
        )
    } else {
        None
    };
    CheckedPlan {
        report,
        tree: Some(tree),
        entries: Some(entries),
        plan,
    }
}

/// The plan's text: refused when it is larger than the limit or not UTF-8, with the text the
/// diagnostic's snippet is cut from.
fn plan_text<'a>(bytes: &'a [u8], limits: &Limits) -> Result<&'a str, (String, Diagnostic)> {
    if bytes.len() > limits.max_bytes {
        let message = format!(
            "the plan file is larger than {} MiB",
            limits.max_bytes / (1024 * 1024)
        );
        let diagnostic = Diagnostic::new(Code::YamlLimit, message)
            .with_help("a plan is a few megabytes at most; is this the right file?");
        return Err((String::new(), diagnostic));
    }
    std::str::from_utf8(bytes).map_err(|error| {
        let at = error.valid_up_to();
        let diagnostic = Diagnostic::new(
            Code::InvalidEncoding,
            format!("the plan file is not UTF-8 text (byte {at} is invalid)"),
        )
        .with_label(at..at + error.error_len().unwrap_or(1), "not UTF-8")
        .with_help("save the plan as UTF-8");
        (String::from_utf8_lossy(bytes).into_owned(), diagnostic)
    })
}
