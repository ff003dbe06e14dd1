//! The blocking, escape-proof file system calls behind `LocalTree`: every path is walked one
//! component at a time with `openat(O_NOFOLLOW)`, so neither a symlink nor a `..` can lead out of the root.

use std::ffi::CStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, Stat, Timespec, Timestamps};
use rustix::io::Errno;

use crate::exec::transport::{EntryKind, Metadata, RelativePath};

/// Flags for every directory opened on the way down: never follow a symlink.
const DIRECTORY_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

/// Flags for files: never follow a symlink, never block on a FIFO, never become a terminal's owner.
const FILE_FLAGS: OFlags = OFlags::NOFOLLOW
    .union(OFlags::CLOEXEC)
    .union(OFlags::NONBLOCK)
    .union(OFlags::NOCTTY);

/// An entry name that cannot become a `RelativePath` component (not UTF-8, or holding a backslash).
#[derive(Debug)]
pub struct UnrepresentableName {
    /// The name with invalid bytes replaced by U+FFFD.
    pub lossy: String,
}

/// A failed call: the errno, or a name that cannot be represented.
#[derive(Debug)]
pub enum CallError {
    Errno(Errno),
    Name(UnrepresentableName),
    /// A symlink or non-directory where a directory was needed on the way down.
    NotADirectory(String),
    /// Something that is not a regular file where one was needed.
    NotAFile,
    /// Resuming at an offset beyond the file's current length.
    ShortFile {
        length: u64,
    },
}

impl From<Errno> for CallError {
    fn from(errno: Errno) -> Self {
        Self::Errno(errno)
    }
}

pub type CallResult<T> = Result<T, CallError>;

/// A directory a walk reached: the root itself, borrowed (never reopened), or one opened below it.
/// Borrowing the root saves an `openat(root, ".")` and its `close` on every walk.
pub enum Directory<'root> {
    Root(BorrowedFd<'root>),
    Opened(OwnedFd),
}

impl AsFd for Directory<'_> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Self::Root(root) => *root,
            Self::Opened(opened) => opened.as_fd(),
        }
    }
}

/// Opens a directory below the root, refusing to pass through symlinks.
pub fn open_directory<'root>(
    root: BorrowedFd<'root>,
    path: &RelativePath,
) -> CallResult<Directory<'root>> {
    let mut current = Directory::Root(root);
    let mut walked = RelativePath::root();
    for component in path.components() {
        walked = walked.join(component).unwrap_or_else(|| walked.clone());
        current = match rustix::fs::openat(&current, component, DIRECTORY_FLAGS, Mode::empty()) {
            Ok(next) => Directory::Opened(next),
            Err(Errno::LOOP | Errno::NOTDIR) => {
                return Err(CallError::NotADirectory(walked.to_string()));
            }
            Err(errno) => return Err(errno.into()),
        };
    }
    Ok(current)
}

/// Opens the directory holding `path` and returns it with the final name; `path` must not be the root.
pub fn open_parent<'root, 'path>(
    root: BorrowedFd<'root>,
    path: &'path RelativePath,
) -> CallResult<(Directory<'root>, &'path str)> {
    if path.is_root() {
        return Err(Errno::INVAL.into());
    }
    let directory = open_directory(root, &path.parent())?;
    Ok((directory, path.file_name()))
}

/// Creates every missing directory of `path`, never passing through a symlink.
pub fn create_dir_all(root: BorrowedFd<'_>, path: &RelativePath) -> CallResult<()> {
    let mut current = Directory::Root(root);
    let mut walked = RelativePath::root();
    for component in path.components() {
        walked = walked.join(component).unwrap_or_else(|| walked.clone());
        match rustix::fs::mkdirat(&current, component, Mode::from_raw_mode(0o755)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(errno) => return Err(errno.into()),
        }
        current = match rustix::fs::openat(&current, component, DIRECTORY_FLAGS, Mode::empty()) {
            Ok(next) => Directory::Opened(next),
            Err(Errno::LOOP | Errno::NOTDIR) => {
                return Err(CallError::NotADirectory(walked.to_string()));
            }
            Err(errno) => return Err(errno.into()),
        };
    }
    Ok(())
}

/// An entry's metadata without following symlinks; `None` when nothing is there.
pub fn metadata(root: BorrowedFd<'_>, path: &RelativePath) -> CallResult<Option<Metadata>> {
    if path.is_root() {
        return Ok(Some(metadata_of(&rustix::fs::fstat(root)?)));
    }
    let (directory, name) = match open_parent(root, path) {
        Ok(found) => found,
        Err(CallError::Errno(Errno::NOENT)) => return Ok(None),
        Err(error) => return Err(error),
    };
    match rustix::fs::statat(&directory, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(stat) => Ok(Some(metadata_of(&stat))),
        Err(Errno::NOENT) => Ok(None),
        Err(errno) => Err(errno.into()),
    }
}

/// One directory's entries with their metadata. Fails on the first name that cannot be represented.
pub fn list(root: BorrowedFd<'_>, path: &RelativePath) -> CallResult<Vec<(String, Metadata)>> {
    let directory = open_directory(root, path)?;
    let mut entries = Vec::new();
    for entry in rustix::fs::Dir::read_from(&directory)? {
        let entry = entry?;
        let raw_name = entry.file_name();
        let bytes = raw_name.to_bytes();
        if bytes == b"." || bytes == b".." {
            continue;
        }
        let name = representable_name(raw_name)?;
        match rustix::fs::statat(&directory, raw_name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => entries.push((name, metadata_of(&stat))),
            // Removed between listing and stat: it is simply gone.
            Err(Errno::NOENT) => {}
            Err(errno) => return Err(errno.into()),
        }
    }
    entries.sort_by(|left, right| left.0.cmp(&right.0));
    Ok(entries)
}

fn representable_name(raw_name: &CStr) -> CallResult<String> {
    match raw_name.to_str() {
        Ok(name) if !name.contains('\\') => Ok(name.to_string()),
        _ => Err(CallError::Name(UnrepresentableName {
            lossy: raw_name.to_string_lossy().into_owned(),
        })),
    }
}

/// Opens a regular file for reading at `offset`.
pub fn open_read(root: BorrowedFd<'_>, path: &RelativePath, offset: u64) -> CallResult<OwnedFd> {
    let (directory, name) = open_parent(root, path)?;
    let file = rustix::fs::openat(&directory, name, FILE_FLAGS | OFlags::RDONLY, Mode::empty())?;
    let stat = rustix::fs::fstat(&file)?;
    if FileType::from_raw_mode(stat.st_mode as _) != FileType::RegularFile {
        return Err(CallError::NotAFile);
    }
    // A file opens at offset 0: seeking there would be a system call for nothing.
    if offset > 0 {
        rustix::fs::seek(&file, rustix::fs::SeekFrom::Start(offset))?;
    }
    Ok(file)
}

/// Opens a regular file for writing at `offset`, creating it (mode 0600 until its metadata is set)
/// and keeping only its first `offset` bytes. `read_back` opens it for reading too, so what was
/// written can be read back through the same descriptor.
pub fn open_write(
    root: BorrowedFd<'_>,
    path: &RelativePath,
    offset: u64,
    read_back: bool,
) -> CallResult<OwnedFd> {
    let (directory, name) = open_parent(root, path)?;
    let access = if read_back {
        OFlags::RDWR
    } else {
        OFlags::WRONLY
    };
    let file = rustix::fs::openat(
        &directory,
        name,
        FILE_FLAGS | access | OFlags::CREATE,
        Mode::from_raw_mode(0o600),
    )?;
    let stat = rustix::fs::fstat(&file)?;
    if FileType::from_raw_mode(stat.st_mode as _) != FileType::RegularFile {
        return Err(CallError::NotAFile);
    }
    let length = u64::try_from(stat.st_size).unwrap_or(0);
    if length < offset {
        return Err(CallError::ShortFile { length });
    }
    // Only bytes past `offset` are cut (a new file has none), and a file opens at offset 0.
    if length > offset {
        rustix::fs::ftruncate(&file, offset)?;
    }
    if offset > 0 {
        rustix::fs::seek(&file, rustix::fs::SeekFrom::Start(offset))?;
    }
    Ok(file)
}

pub fn rename(root: BorrowedFd<'_>, from: &RelativePath, to: &RelativePath) -> CallResult<()> {
    let (from_directory, from_name) = open_parent(root, from)?;
    // A temporary name lives beside its final name: one walk reaches both.
    if !to.is_root() && from.parent() == to.parent() {
        rustix::fs::renameat(&from_directory, from_name, &from_directory, to.file_name())?;
        return Ok(());
    }
    let (to_directory, to_name) = open_parent(root, to)?;
    rustix::fs::renameat(&from_directory, from_name, &to_directory, to_name)?;
    Ok(())
}

pub fn remove(root: BorrowedFd<'_>, path: &RelativePath, directory: bool) -> CallResult<()> {
    let (parent, name) = open_parent(root, path)?;
    let flags = if directory {
        AtFlags::REMOVEDIR
    } else {
        AtFlags::empty()
    };
    rustix::fs::unlinkat(&parent, name, flags)?;
    Ok(())
}

/// A symlink's target bytes, never followed.
pub fn read_link(root: BorrowedFd<'_>, path: &RelativePath) -> CallResult<String> {
    let (directory, name) = open_parent(root, path)?;
    let target = rustix::fs::readlinkat(&directory, name, Vec::new())?;
    target.into_string().map_err(|error| {
        CallError::Name(UnrepresentableName {
            lossy: error.into_cstring().to_string_lossy().into_owned(),
        })
    })
}

pub fn symlink(root: BorrowedFd<'_>, target: &str, path: &RelativePath) -> CallResult<()> {
    let (directory, name) = open_parent(root, path)?;
    rustix::fs::symlinkat(target, &directory, name)?;
    Ok(())
}

/// Sets the modification time (access time follows it) and permission bits, never through a symlink.
pub fn set_metadata(
    root: BorrowedFd<'_>,
    path: &RelativePath,
    modified: Option<SystemTime>,
    mode: Option<u32>,
) -> CallResult<()> {
    let directory;
    let (parent, name): (BorrowedFd<'_>, &str) = if path.is_root() {
        (root, ".")
    } else {
        let (opened, name) = open_parent(root, path)?;
        directory = opened;
        (directory.as_fd(), name)
    };
    let stat = rustix::fs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW)?;
    let is_symlink = FileType::from_raw_mode(stat.st_mode as _) == FileType::Symlink;
    if let Some(modified) = modified {
        let time = timespec_of(modified);
        let times = Timestamps {
            last_access: time,
            last_modification: time,
        };
        rustix::fs::utimensat(parent, name, &times, AtFlags::SYMLINK_NOFOLLOW)?;
    }
    // Symlinks have no permission bits of their own on Linux.
    if let (Some(mode), false) = (mode, is_symlink) {
        let mode = Mode::from_raw_mode((mode & 0o7777) as _);
        // Through a descriptor opened without following, so a swapped-in symlink cannot redirect the change.
        match rustix::fs::openat(parent, name, FILE_FLAGS | OFlags::RDONLY, Mode::empty()) {
            Ok(file) => rustix::fs::fchmod(&file, mode)?,
            // Unreadable (mode 000 and not root): the entry was just checked not to be a symlink.
            Err(Errno::ACCESS) => rustix::fs::chmodat(parent, name, mode, AtFlags::empty())?,
            Err(errno) => return Err(errno.into()),
        }
    }
    Ok(())
}

pub fn free_space(root: BorrowedFd<'_>) -> CallResult<u64> {
    let stat = rustix::fs::fstatvfs(root)?;
    Ok(stat.f_bavail.saturating_mul(stat.f_frsize))
}

/// Files in one `sync` above which a single `syncfs` is cheaper than an fsync of each (measured
/// here: 10,000 small files fsynced one by one took 1.7 s, one `syncfs` 0.2 s).
const SYNC_EACH_LIMIT: usize = 32;

/// Makes `files` and the directory entries leading to them durable. Up to `SYNC_EACH_LIMIT` files,
/// each file and each directory on their paths is fsynced: that waits only for ferry's own writes,
/// where a `syncfs` also waits for every other process's dirty pages on the same file system. More
/// files than that are one `syncfs` (or `sync` where there is none).
pub fn sync(root: BorrowedFd<'_>, files: &[RelativePath]) -> CallResult<()> {
    if files.len() > SYNC_EACH_LIMIT {
        return sync_file_system(root);
    }
    let mut directories = std::collections::BTreeSet::new();
    for file in files {
        match open_read(root, file, 0) {
            Ok(descriptor) => rustix::fs::fsync(descriptor)?,
            // Removed since it was written (by someone else): nothing of it is left to keep.
            Err(CallError::Errno(Errno::NOENT)) => continue,
            Err(error) => return Err(error),
        }
        let mut directory = file.parent();
        // An ancestor already listed has all of its own ancestors listed too.
        while directories.insert(directory.clone()) && !directory.is_root() {
            directory = directory.parent();
        }
    }
    for directory in &directories {
        rustix::fs::fsync(open_directory(root, directory)?)?;
    }
    Ok(())
}

fn sync_file_system(root: BorrowedFd<'_>) -> CallResult<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    rustix::fs::syncfs(root)?;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let _ = root;
        rustix::fs::sync();
    }
    Ok(())
}

#[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
pub(super) fn metadata_of(stat: &Stat) -> Metadata {
    let kind = match FileType::from_raw_mode(stat.st_mode as _) {
        FileType::RegularFile => EntryKind::File,
        FileType::Directory => EntryKind::Directory,
        FileType::Symlink => EntryKind::Symlink,
        _ => EntryKind::Other,
    };
    let seconds = stat.st_mtime as i64;
    let nanos = stat.st_mtime_nsec as u32;
    let modified = if seconds >= 0 {
        UNIX_EPOCH.checked_add(Duration::new(seconds.unsigned_abs(), nanos))
    } else {
        UNIX_EPOCH
            .checked_sub(Duration::from_secs(seconds.unsigned_abs()))
            .and_then(|time| time.checked_add(Duration::from_nanos(u64::from(nanos))))
    };
    Metadata {
        kind,
        size: if kind == EntryKind::File {
            u64::try_from(stat.st_size as i64).unwrap_or(0)
        } else {
            0
        },
        modified,
        mode: Some((stat.st_mode as u32) & 0o7777),
        device: Some(stat.st_dev as u64),
    }
}

pub fn timespec_of(time: SystemTime) -> Timespec {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => Timespec {
            tv_sec: i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
            tv_nsec: i64::from(after.subsec_nanos()) as _,
        },
        Err(before) => {
            let before = before.duration();
            let mut seconds = -i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
            let mut nanos = i64::from(before.subsec_nanos());
            if nanos > 0 {
                seconds -= 1;
                nanos = 1_000_000_000 - nanos;
            }
            Timespec {
                tv_sec: seconds,
                tv_nsec: nanos as _,
            }
        }
    }
}
