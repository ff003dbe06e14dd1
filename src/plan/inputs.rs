//! The plans a `ferry check` command line names: files as given, `-` for the plan on stdin, and
//! folders expanded to every `*.yaml` and `*.yml` file below them.
//!
//! A folder is walked recursively and its plans come sorted by path, so output is the same on
//! every machine. Hidden entries (names starting with `.`, such as `.git/` or
//! `.pre-commit-config.yaml`) are skipped, and so are symlinked folders (never followed: no loops,
//! no leaving the tree); a symlinked file is checked. A folder with no plan is an error, never
//! "ok: 0 plans".

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::plan::load::{self, CheckedPlan, LoadError};
use crate::plan::yaml::Limits;

/// What diagnostics call the plan read from stdin.
pub const STDIN_NAME: &str = "<stdin>";

/// One plan to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanInput {
    /// A plan file.
    File(PathBuf),
    /// The plan on stdin (`-`).
    Stdin,
}

impl PlanInput {
    /// Reads and checks the plan.
    pub fn check(&self) -> Result<CheckedPlan, LoadError> {
        match self {
            PlanInput::File(path) => load::check_file(path),
            PlanInput::Stdin => check_stdin(),
        }
    }
}

/// Expands the command line's arguments, in order: a folder becomes the plans below it (or an
/// error when it has none or cannot be read); anything else is a file, read later.
pub fn expand(arguments: &[PathBuf]) -> Vec<Result<PlanInput, LoadError>> {
    let mut inputs = Vec::new();
    for argument in arguments {
        if argument.as_os_str() == "-" {
            inputs.push(Ok(PlanInput::Stdin));
        } else if argument.is_dir() {
            let mut plans = Vec::new();
            match collect_plans(argument, &mut plans) {
                Ok(()) if plans.is_empty() => inputs.push(Err(no_plans(argument))),
                Ok(()) => {
                    plans.sort();
                    inputs.extend(plans.into_iter().map(|plan| Ok(PlanInput::File(plan))));
                }
                Err(source) => inputs.push(Err(LoadError::Read {
                    path: argument.clone(),
                    source,
                })),
            }
        } else {
            inputs.push(Ok(PlanInput::File(argument.clone())));
        }
    }
    inputs
}

fn no_plans(folder: &Path) -> LoadError {
    LoadError::Read {
        path: folder.to_path_buf(),
        source: std::io::Error::other(
            "the folder holds no `*.yaml` or `*.yml` file (hidden and symlinked folders are skipped)",
        ),
    }
}

/// Adds every plan file below `folder` (unsorted).
fn collect_plans(folder: &Path, plans: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(folder)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            collect_plans(&path, plans)?;
        } else if is_plan_name(&path) && (kind.is_file() || path.is_file()) {
            // A symlink counts when it leads to a file; a symlinked folder is not followed.
            plans.push(path);
        }
    }
    Ok(())
}

fn is_plan_name(path: &Path) -> bool {
    path.extension()
        .is_some_and(|extension| extension == "yaml" || extension == "yml")
}

/// Reads the plan on stdin and checks it. Diagnostics name it `<stdin>`; relative paths in it
/// resolve against the working directory.
fn check_stdin() -> Result<CheckedPlan, LoadError> {
    let limits = Limits::default();
    let mut bytes = Vec::new();
    // At most one byte past the limit, as for a file.
    std::io::stdin()
        .lock()
        .take(limits.max_bytes as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| LoadError::Read {
            path: PathBuf::from(STDIN_NAME),
            source,
        })?;
    let base_dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    Ok(load::check_bytes(
        STDIN_NAME,
        Path::new(STDIN_NAME),
        &bytes,
        &base_dir,
        &limits,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_expand_sorted_skipping_hidden_and_symlinked_folders() {
        let folder = tempfile::tempdir().expect("temporary folder");
        let root = folder.path();
        for file in [
            "b.yaml",
            "a/c.yml",
            "a/notes.txt",
            ".hidden/d.yaml",
            "a/.e.yaml",
        ] {
            let path = root.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "version: 1\n").unwrap();
        }
        std::os::unix::fs::symlink(root.join("a"), root.join("linked")).unwrap();
        std::os::unix::fs::symlink(root.join("b.yaml"), root.join("z.yaml")).unwrap();
        let inputs: Vec<PlanInput> = expand(&[root.to_path_buf(), PathBuf::from("-")])
            .into_iter()
            .map(|input| input.expect("readable"))
            .collect();
        assert_eq!(
            inputs,
            [
                PlanInput::File(root.join("a/c.yml")),
                PlanInput::File(root.join("b.yaml")),
                PlanInput::File(root.join("z.yaml")),
                PlanInput::Stdin,
            ]
        );
    }

    #[test]
    fn a_folder_without_plans_is_an_error() {
        let folder = tempfile::tempdir().expect("temporary folder");
        std::fs::write(folder.path().join("readme.md"), "no plan").unwrap();
        let inputs = expand(&[folder.path().to_path_buf()]);
        assert_eq!(inputs.len(), 1);
        let error = inputs.into_iter().next().unwrap().expect_err("no plans");
        assert!(
            error.report().diagnostics[0]
                .message
                .contains("no `*.yaml`")
        );
    }
}
