//! `RelativePath`: a path relative to a tree's root that cannot escape it. Every path crossing
//! the transport layer is one, and the state checks the paths it imports with it; it sits below
//! both (`exec` and `state` import it, it imports nothing of ferry).

use std::fmt;

/// A path relative to a tree's root, with `/` separators, that cannot escape the root:
/// no empty, `.` or `..` components, no leading `/`, no NUL or backslash in a component.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RelativePath(String);

impl RelativePath {
    /// The tree's root itself.
    pub fn root() -> Self {
        Self(String::new())
    }

    /// Validates a relative path; `None` when it could escape the root or is malformed.
    pub fn new(path: &str) -> Option<Self> {
        if path.is_empty() {
            return Some(Self::root());
        }
        let valid = path.split('/').all(|component| {
            !component.is_empty()
                && component != "."
                && component != ".."
                && !component.contains(['\0', '\\'])
        });
        valid.then(|| Self(path.to_string()))
    }

    /// This path with one more component; `None` when the name is not a single safe component.
    pub fn join(&self, name: &str) -> Option<Self> {
        if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0', '\\']) {
            return None;
        }
        Some(if self.0.is_empty() {
            Self(name.to_string())
        } else {
            Self(format!("{}/{}", self.0, name))
        })
    }

    /// This path followed by another relative path (both already safe, so the result is too).
    pub fn concat(&self, relative: &RelativePath) -> Self {
        match (self.0.is_empty(), relative.0.is_empty()) {
            (true, _) => relative.clone(),
            (_, true) => self.clone(),
            _ => Self(format!("{}/{}", self.0, relative.0)),
        }
    }

    /// Whether `base` is this path or one of its ancestors (compared by whole components).
    pub fn starts_with(&self, base: &RelativePath) -> bool {
        self.strip_prefix(base).is_some()
    }

    /// This path relative to `base`, when `base` is this path or one of its ancestors.
    pub fn strip_prefix(&self, base: &RelativePath) -> Option<Self> {
        if base.0.is_empty() {
            return Some(self.clone());
        }
        if self.0 == base.0 {
            return Some(Self::root());
        }
        let rest = self.0.strip_prefix(&base.0)?.strip_prefix('/')?;
        Some(Self(rest.to_string()))
    }

    /// The path's components, outermost first (none for the root).
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/').filter(|component| !component.is_empty())
    }

    /// How many components the path has (0 for the root).
    pub fn depth(&self) -> usize {
        self.components().count()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The final component, or `""` for the root.
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or("")
    }

    /// The parent path; the root's parent is the root.
    pub fn parent(&self) -> Self {
        match self.0.rfind('/') {
            Some(index) => Self(self.0[..index].to_string()),
            None => Self::root(),
        }
    }
}

impl fmt::Display for RelativePath {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(if self.0.is_empty() { "." } else { &self.0 })
    }
}
