//! Mapping a tree's `RelativePath` to the path the SFTP server understands.
//!
//! The rules:
//! - With a `root` (`sftp.root` in the plan), a relative path is joined under it: root
//!   `/srv/data` and path `var/log` give `/srv/data/var/log`. A root written the Windows way
//!   (`D:\exports` or `D:/exports`) becomes `/D:/exports`, which is how Windows' OpenSSH server
//!   names drive paths. A relative root (`exports`) is relative to the login directory and is
//!   made absolute once, when the tree connects.
//! - Without a root, paths start at the server's file system root: `var/log` is `/var/log`.
//!   On a Windows server (detected when connecting: the login directory, `realpath(".")`,
//!   looks like `/C:/Users/...`), a first component that is a single drive letter names that
//!   drive: mount `C:\` has the relative path `C`, which maps to `/C:/`, and `D/Shares` maps to
//!   `/D:/Shares`. Other first components are left alone.
//!
//! Nothing here can climb above the root: a `RelativePath` has no `.`, `..` or empty components
//! and no backslashes, so the mapped path always lies under the root as text. A symlink on the
//! server can still point elsewhere; ferry never follows one itself (metadata and listings use
//! `lstat`), and what the server does with a symlinked directory is the server's concern.
//! One caveat for writers: the server resolves symlinks in the *parent* components of a path
//! (SFTP has no `openat`/`O_NOFOLLOW`), so writing `a/file` where `a` is a symlink on the
//! server writes wherever `a` points. A copy must therefore never create entries below a path
//! it created (or found) as a symlink; `metadata` tells it what each path is.

use crate::exec::transport::RelativePath;

/// Turns relative paths into server paths for one tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RemotePaths {
    /// The absolute root without a trailing `/`; empty for the file system root.
    root: String,
    /// The server is Windows and there is no root: single-letter first components are drives.
    windows_drives: bool,
}

/// Whether a server path names a Windows drive the way Windows' OpenSSH does (`/C:` or `/C:/...`).
pub(crate) fn is_windows_drive_path(path: &str) -> bool {
    let bytes = path.as_bytes();
    bytes.len() >= 3
        && bytes[0] == b'/'
        && bytes[1].is_ascii_alphabetic()
        && bytes[2] == b':'
        && (bytes.len() == 3 || bytes[3] == b'/')
}

/// Normalises a root as written in the plan: backslashes become `/`, a leading drive letter
/// gets the `/` Windows' OpenSSH expects, and trailing slashes go. Returns `None` for a
/// relative root, which the caller resolves against the login directory.
pub(crate) fn normalize_root(root: &str) -> Result<Option<String>, String> {
    let mut root = root.trim().replace('\\', "/");
    let bytes = root.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        root.insert(0, '/');
    }
    if root.split('/').any(|component| component == "..") {
        return Err(format!("the sftp root {root:?} must not contain `..`"));
    }
    if !root.starts_with('/') {
        return Ok(None);
    }
    Ok(Some(root.trim_end_matches('/').to_string()))
}

impl RemotePaths {
    /// `root` is absolute (see `normalize_root`) or `None` for the file system root; an empty
    /// root (`/`) counts as none. `windows_server` says whether the server looked like Windows.
    pub(crate) fn new(root: Option<String>, windows_server: bool) -> Self {
        match root.filter(|root| !root.trim_end_matches('/').is_empty()) {
            Some(root) => Self {
                root: root.trim_end_matches('/').to_string(),
                windows_drives: false,
            },
            None => Self {
                root: String::new(),
                windows_drives: windows_server,
            },
        }
    }

    /// The root as the server names it, for messages and `statvfs`.
    pub(crate) fn root(&self) -> String {
        if self.root.is_empty() {
            "/".to_string()
        } else {
            self.root.clone()
        }
    }

    /// The server path of `path`.
    pub(crate) fn remote(&self, path: &RelativePath) -> String {
        if path.is_root() {
            return self.root();
        }
        let relative = path.as_str();
        if self.windows_drives {
            let (first, rest) = relative.split_once('/').unwrap_or((relative, ""));
            if first.len() == 1 && first.as_bytes()[0].is_ascii_alphabetic() {
                return format!("/{}:/{rest}", first.to_ascii_uppercase());
            }
        }
        format!("{}/{relative}", self.root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(text: &str) -> RelativePath {
        RelativePath::new(text).unwrap()
    }

    #[test]
    fn posix_paths_join_under_the_root() {
        let plain = RemotePaths::new(None, false);
        assert_eq!(plain.remote(&RelativePath::root()), "/");
        assert_eq!(plain.remote(&path("var/log")), "/var/log");
        assert_eq!(plain.remote(&path("C")), "/C");
        let rooted = RemotePaths::new(Some("/srv/data".into()), false);
        assert_eq!(rooted.remote(&RelativePath::root()), "/srv/data");
        assert_eq!(rooted.remote(&path("var/log")), "/srv/data/var/log");
    }

    #[test]
    fn windows_drives_map_without_a_root() {
        let windows = RemotePaths::new(None, true);
        assert_eq!(windows.remote(&path("C")), "/C:/");
        assert_eq!(
            windows.remote(&path("D/Shares/Public")),
            "/D:/Shares/Public"
        );
        assert_eq!(windows.remote(&path("Data/x")), "/Data/x");
        assert_eq!(windows.remote(&RelativePath::root()), "/");
        assert_eq!(RemotePaths::new(Some(String::new()), true), windows);
        // With a root, drive letters are ordinary names under it.
        let rooted = RemotePaths::new(Some("/D:/exports".into()), true);
        assert_eq!(rooted.remote(&path("C/Users")), "/D:/exports/C/Users");
    }

    #[test]
    fn roots_are_normalised() {
        assert_eq!(
            normalize_root("/srv/data/").unwrap(),
            Some("/srv/data".into())
        );
        assert_eq!(normalize_root("/").unwrap(), Some(String::new()));
        assert_eq!(
            normalize_root("D:\\exports").unwrap(),
            Some("/D:/exports".into())
        );
        assert_eq!(normalize_root("c:/").unwrap(), Some("/c:".into()));
        assert_eq!(normalize_root("exports").unwrap(), None);
        assert!(normalize_root("/srv/../etc").is_err());
        assert!(is_windows_drive_path("/C:/Users/me"));
        assert!(is_windows_drive_path("/c:"));
        assert!(!is_windows_drive_path("/home/me"));
        assert!(!is_windows_drive_path("/Cx/"));
    }
}
