//! Where a SARIF result's file is, relative to a root (`ferry check --sarif-root DIR`, by default
//! the working directory), so that GitHub maps it to the repository's file.

use std::path::{Component, Path, PathBuf};

/// `path` (as given on the command line) relative to `root`, with `/` separators; a path outside
/// the root becomes absolute (the SARIF renderer writes it as a `file://` URI), never `../`.
pub fn path_from_root(path: &str, root: &Path) -> String {
    let (Some(file), Some(root)) = (
        normalized_absolute(Path::new(path)),
        normalized_absolute(root),
    ) else {
        return path.to_string();
    };
    match file.strip_prefix(&root) {
        Ok(relative) => relative
            .components()
            .map(|component| component.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/"),
        Err(_) => file.display().to_string(),
    }
}

/// The absolute path with `.` and `..` resolved by name (symlinks are not followed: the root and
/// the plans are compared as the user spelt them).
fn normalized_absolute(path: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(path).ok()?;
    let mut normalized = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                normalized.pop();
            }
            other => normalized.push(other.as_os_str()),
        }
    }
    Some(normalized)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_under_the_root_are_relative_and_others_absolute() {
        let root = Path::new("/repo");
        assert_eq!(path_from_root("/repo/plans/a.yaml", root), "plans/a.yaml");
        assert_eq!(
            path_from_root("/repo/sub/../plans/a.yaml", root),
            "plans/a.yaml"
        );
        assert_eq!(
            path_from_root("/elsewhere/a.yaml", root),
            "/elsewhere/a.yaml"
        );
        assert_eq!(
            path_from_root("/repo/./a.yaml", Path::new("/repo/")),
            "a.yaml"
        );
        let here = std::env::current_dir().unwrap();
        assert_eq!(path_from_root("plans/a.yaml", &here), "plans/a.yaml");
        assert_eq!(
            path_from_root("plans/a.yaml", &here.join("plans")),
            "a.yaml"
        );
        let parent_file = path_from_root("../a.yaml", &here);
        assert!(
            parent_file.starts_with('/') && !parent_file.contains(".."),
            "{parent_file}"
        );
    }
}
