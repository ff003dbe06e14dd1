//! Mount names compared the way their operating system compares them, and mapped to relative data paths.

use std::fmt;

/// A mount's name as the user wrote it, with a comparison key that follows the OS's rules:
/// `c:\`, `C:` and `C:\` are one Windows volume; `/data/` and `/data` are one POSIX mount.
#[derive(Clone, Eq)]
pub struct MountName {
    written: String,
    key: String,
}

impl MountName {
    pub fn new(written: &str) -> Self {
        Self {
            written: written.to_string(),
            key: comparison_key(written),
        }
    }

    /// The name exactly as written in the plan.
    pub fn as_written(&self) -> &str {
        &self.written
    }

    /// The normalised key used for equality (`C:\` for any spelling of the C drive).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Whether the name is a Windows volume or folder (a drive letter or a backslash).
    pub fn is_windows(&self) -> bool {
        is_windows_name(&self.written)
    }

    /// The mount's data location relative to a connection root, with `/` separators:
    /// `C:\` is `C`, `C:\Data` is `C/Data`, `/` is the root itself (empty), `/var/lib` is `var/lib`.
    pub fn relative_path(&self) -> String {
        if self.is_windows() {
            // Keep the user's spelling, but the drive letter is always upper case.
            let mut path = self.written.trim().replace('\\', "/");
            if path.as_bytes().get(1) == Some(&b':') {
                path = format!("{}{}", path[..1].to_ascii_uppercase(), &path[2..]);
            }
            path.split('/')
                .filter(|part| !part.is_empty())
                .collect::<Vec<_>>()
                .join("/")
        } else {
            self.key.trim_start_matches('/').to_string()
        }
    }
}

/// Why a mount name cannot map to a folder under a root, if it cannot: a `..` or `.` step in
/// it (`C:\..\..`, `/../../x`), or a NUL character. `relative_path` would climb out of, or
/// stay at, the root, and `run` refuses such a path.
pub fn unsafe_name_problem(written: &str) -> Option<&'static str> {
    if written.contains('\0') {
        return Some("contains a NUL character");
    }
    let steps: Vec<&str> = written.trim().split(['/', '\\']).collect();
    if steps.contains(&"..") {
        Some("climbs out with `..`")
    } else if steps.contains(&".") {
        Some("has a `.` step")
    } else {
        None
    }
}

impl PartialEq for MountName {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl std::hash::Hash for MountName {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key.hash(state);
    }
}

impl fmt::Debug for MountName {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.written, formatter)
    }
}

impl fmt::Display for MountName {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.written)
    }
}

/// Whether a mount name is Windows-style: a drive letter (`C:`, `C:\`) or any backslash.
pub fn is_windows_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':') || name.contains('\\')
}

fn comparison_key(name: &str) -> String {
    let trimmed = name.trim();
    // Fast paths for the common spellings (`C:\`, `/data`), which are their own keys.
    match trimmed.as_bytes() {
        [letter, b':', b'\\'] if letter.is_ascii_uppercase() => return trimmed.to_string(),
        [b'/', rest @ ..]
            if !rest.starts_with(b"/")
                && !rest.ends_with(b"/")
                && !rest.windows(2).any(|pair| pair == b"//")
                && !trimmed.contains('\\') =>
        {
            return trimmed.to_string();
        }
        _ => {}
    }
    if is_windows_name(trimmed) {
        // Windows: case-insensitive, either slash, a drive root always ends in `\`.
        let mut key = trimmed.replace('/', "\\").to_uppercase();
        while key.len() > 3 && key.ends_with('\\') {
            key.pop();
        }
        if key.len() == 2 && key.ends_with(':') {
            key.push('\\');
        }
        key
    } else {
        // POSIX: case-sensitive; repeated and trailing slashes do not matter.
        let parts: Vec<&str> = trimmed.split('/').filter(|part| !part.is_empty()).collect();
        if trimmed.starts_with('/') || parts.is_empty() {
            format!("/{}", parts.join("/"))
        } else {
            parts.join("/")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_drive_spellings_are_one_volume() {
        let canonical = MountName::new("C:\\");
        for spelling in ["c:\\", "C:", "c:", "C:/", "C:\\\\"] {
            assert_eq!(MountName::new(spelling), canonical, "{spelling}");
        }
        assert_ne!(MountName::new("D:\\"), canonical);
    }

    #[test]
    fn posix_names_are_case_sensitive_and_ignore_trailing_slashes() {
        assert_eq!(MountName::new("/data/"), MountName::new("/data"));
        assert_eq!(MountName::new("//data"), MountName::new("/data"));
        assert_ne!(MountName::new("/Data"), MountName::new("/data"));
        assert_eq!(MountName::new("/").key(), "/");
    }

    #[test]
    fn relative_paths_follow_the_documented_mapping() {
        assert_eq!(MountName::new("C:\\").relative_path(), "C");
        assert_eq!(MountName::new("c:").relative_path(), "C");
        assert_eq!(
            MountName::new("D:\\Shares\\Public").relative_path(),
            "D/Shares/Public"
        );
        assert_eq!(MountName::new("/").relative_path(), "");
        assert_eq!(
            MountName::new("/var/lib/pgsql").relative_path(),
            "var/lib/pgsql"
        );
    }

    #[test]
    fn names_with_dot_steps_or_nul_cannot_map_to_a_folder() {
        for name in [
            "C:\\..\\..",
            "/../../x",
            "\\\\server\\share\\..\\..",
            "/data/.",
            "/a\0b",
            "D:\\.\\x",
        ] {
            assert!(unsafe_name_problem(name).is_some(), "{name:?}");
        }
        for name in [
            "C:\\",
            "/",
            "/var/lib/pgsql",
            "D:\\Shares\\a..b",
            "/data/.hidden",
            "/x/...",
        ] {
            assert_eq!(unsafe_name_problem(name), None, "{name:?}");
        }
    }
}
