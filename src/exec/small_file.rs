//! Reading the small files a plan points ferry at for trust and credentials (secret files, SSH
//! private keys, known_hosts) with bounds: only a regular file (symlinks followed) is read, a
//! FIFO or device never blocks or streams forever, and at most `limit` bytes are ever held.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Why a small file could not be read. Never carries any of the file's content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmallFileError {
    #[error("it does not exist")]
    NotFound,
    #[error("permission denied")]
    PermissionDenied,
    /// A directory, FIFO, socket or device: ferry reads regular files only.
    #[error("it is {0}, not a regular file")]
    NotRegular(&'static str),
    #[error("it is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("{0}")]
    Other(String),
}

impl SmallFileError {
    fn from_io(error: &std::io::Error) -> Self {
        match error.kind() {
            std::io::ErrorKind::NotFound => Self::NotFound,
            std::io::ErrorKind::PermissionDenied => Self::PermissionDenied,
            _ => Self::Other(error.to_string()),
        }
    }
}

/// What kind of non-regular file `file_type` is, as a message names it.
fn kind_of(file_type: std::fs::FileType) -> &'static str {
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_fifo() {
        "a FIFO (named pipe)"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_char_device() {
        "a character device"
    } else if file_type.is_block_device() {
        "a block device"
    } else {
        "a special file"
    }
}

/// Reads `path` whole if it is a regular file (after following symlinks) of at most `limit`
/// bytes. The file is opened with `O_NONBLOCK`, so opening a FIFO does not wait for a writer,
/// and its type is checked on the opened descriptor (no window between a check and the open);
/// at most `limit + 1` bytes are read, so memory stays bounded even if the file grows.
pub fn read_small_file(path: &Path, limit: usize) -> Result<Vec<u8>, SmallFileError> {
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
    {
        Ok(file) => file,
        Err(error) => {
            // A socket cannot be opened at all (ENXIO): name it by its type.
            return Err(match std::fs::metadata(path) {
                Ok(metadata) if !metadata.is_file() => {
                    SmallFileError::NotRegular(kind_of(metadata.file_type()))
                }
                _ => SmallFileError::from_io(&error),
            });
        }
    };
    let metadata = file
        .metadata()
        .map_err(|error| SmallFileError::from_io(&error))?;
    if !metadata.is_file() {
        return Err(SmallFileError::NotRegular(kind_of(metadata.file_type())));
    }
    if metadata.len() > limit as u64 {
        return Err(SmallFileError::TooLarge { limit });
    }
    read_bounded(file, limit)
}

fn read_bounded(file: File, limit: usize) -> Result<Vec<u8>, SmallFileError> {
    let mut bytes = Vec::new();
    file.take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| SmallFileError::from_io(&error))?;
    if bytes.len() > limit {
        return Err(SmallFileError::TooLarge { limit });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_and_symlinks_to_them_are_read_up_to_the_limit() {
        let directory = tempfile::tempdir().unwrap();
        let file = directory.path().join("file");
        std::fs::write(&file, b"12345678").unwrap();
        let link = directory.path().join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert_eq!(read_small_file(&file, 8).unwrap(), b"12345678");
        assert_eq!(read_small_file(&link, 8).unwrap(), b"12345678");
        assert_eq!(
            read_small_file(&file, 7),
            Err(SmallFileError::TooLarge { limit: 7 })
        );
        assert_eq!(
            read_small_file(&directory.path().join("absent"), 8),
            Err(SmallFileError::NotFound)
        );
    }

    #[test]
    fn directories_devices_and_fifos_are_refused_without_blocking() {
        let directory = tempfile::tempdir().unwrap();
        assert_eq!(
            read_small_file(directory.path(), 8),
            Err(SmallFileError::NotRegular("a directory"))
        );
        assert_eq!(
            read_small_file(Path::new("/dev/zero"), 8),
            Err(SmallFileError::NotRegular("a character device"))
        );
        let fifo = directory.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        // Opening a FIFO for reading without O_NONBLOCK waits for a writer: this would hang.
        assert_eq!(
            read_small_file(&fifo, 8),
            Err(SmallFileError::NotRegular("a FIFO (named pipe)"))
        );
    }
}
