//! The `FileTree` operations of `SftpTree`, each one SFTP request or a short sequence of them.

use std::io::SeekFrom;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use russh_sftp::client::error::Error as SftpError;
use russh_sftp::protocol::{FileAttributes, OpenFlags, Packet, StatusCode};
use tokio::io::AsyncSeekExt;

use super::SftpTree;
use super::connection::Connection;
use super::device::{annotate_directories, file_system_id};
use super::errors::{sftp_error, sftp_kind};
use super::paths::is_windows_drive_path;
use super::stream::{SftpReader, SftpWriter, StreamContext};
use crate::exec::transport::{
    Capabilities, EntryKind, ErrorKind, FileTree, Metadata, Reader, RelativePath, TransportError,
    TransportResult, Writer,
};

/// Converts SFTP attributes; the type comes from the mode's `S_IFMT` bits.
fn to_metadata(attributes: &FileAttributes) -> Metadata {
    let mode = attributes.permissions.unwrap_or(0);
    let kind = match mode & 0o170_000 {
        0o040_000 => EntryKind::Directory,
        0o100_000 => EntryKind::File,
        0o120_000 => EntryKind::Symlink,
        _ => EntryKind::Other,
    };
    Metadata {
        kind,
        size: attributes.size.unwrap_or(0),
        modified: attributes
            .mtime
            .map(|seconds| UNIX_EPOCH + Duration::from_secs(u64::from(seconds))),
        mode: attributes.permissions.map(|mode| mode & 0o7777),
        device: None,
    }
}

/// Seconds since the epoch as SFTP version 3 carries them (u32), clamped.
fn to_seconds(time: SystemTime) -> u32 {
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .map(|duration| duration.as_secs())
        .unwrap_or(0);
    u32::try_from(seconds).unwrap_or(u32::MAX)
}

/// The parent of an absolute server path; `None` at `/` or a Windows drive root (`/C:`).
fn remote_parent(remote: &str) -> Option<String> {
    let trimmed = remote.trim_end_matches('/');
    if trimmed.is_empty() || is_windows_drive_path(trimmed) && trimmed.len() == 3 {
        return None;
    }
    match trimmed.rsplit_once('/') {
        Some(("", _)) => Some("/".to_string()),
        Some((parent, _)) => Some(parent.to_string()),
        None => None,
    }
}

/// Encodes SFTP `string`s: a big-endian u32 length, then the bytes.
fn encode_strings(values: &[&str]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for value in values {
        let length = u32::try_from(value.len()).unwrap_or(u32::MAX);
        bytes.extend_from_slice(&length.to_be_bytes());
        bytes.extend_from_slice(value.as_bytes());
    }
    bytes
}

/// The outcome of an extended request that replies with a status.
fn extended_status(reply: Result<Packet, SftpError>) -> Result<(), SftpError> {
    match reply? {
        Packet::Status(status) if status.status_code == StatusCode::Ok => Ok(()),
        Packet::Status(status) => Err(SftpError::Status(status)),
        _ => Err(SftpError::UnexpectedPacket),
    }
}

impl SftpTree {
    fn error(&self, error: &SftpError, operation: &str, remote: &str) -> TransportError {
        sftp_error(error, operation, remote, &self.description)
    }

    /// Moves an open file's position to `offset` (a resumed read or write).
    async fn seek(
        &self,
        file: &mut russh_sftp::client::fs::File,
        offset: u64,
        remote: &str,
    ) -> TransportResult<()> {
        file.seek(SeekFrom::Start(offset)).await.map_err(|error| {
            TransportError::new(
                ErrorKind::Other,
                format!("cannot seek in {remote} on {}: {error}", self.description),
            )
        })?;
        Ok(())
    }

    async fn lstat(
        &self,
        connection: &Connection,
        remote: &str,
    ) -> TransportResult<Option<FileAttributes>> {
        match connection.files.symlink_metadata(remote).await {
            Ok(attributes) => Ok(Some(attributes)),
            Err(error) if sftp_kind(&error) == ErrorKind::NotFound => Ok(None),
            Err(error) => Err(self.error(&error, "cannot stat", remote)),
        }
    }

    /// mkdir for one directory; succeeds when a directory is already there.
    async fn make_directory(&self, connection: &Connection, remote: &str) -> TransportResult<bool> {
        match connection.files.create_dir(remote).await {
            Ok(()) => Ok(true),
            Err(error) => match self.lstat(connection, remote).await? {
                Some(attributes) if to_metadata(&attributes).kind == EntryKind::Directory => {
                    Ok(true)
                }
                Some(_) => Err(TransportError::new(
                    ErrorKind::Other,
                    format!(
                        "cannot create directory {remote} on {}: something that is not a \
                         directory is in the way",
                        self.description
                    ),
                )),
                None if sftp_kind(&error) == ErrorKind::NotFound
                    || matches!(&error, SftpError::Status(status) if status.status_code == StatusCode::Failure) =>
                {
                    // Most likely a missing parent: the caller creates it and tries again.
                    Ok(false)
                }
                None => Err(self.error(&error, "cannot create directory", remote)),
            },
        }
    }

    /// `lsetstat@openssh.com`: SETSTAT on the path itself, even when it is a symlink.
    async fn lsetstat(
        &self,
        connection: &Connection,
        remote: &str,
        attributes: &FileAttributes,
    ) -> TransportResult<()> {
        let mut data = encode_strings(&[remote]);
        let encoded = russh_sftp::ser::to_bytes(attributes).map_err(|error| {
            TransportError::new(
                ErrorKind::Other,
                format!("cannot encode attributes: {error}"),
            )
        })?;
        data.extend_from_slice(&encoded);
        let reply = connection
            .control
            .extended("lsetstat@openssh.com", data)
            .await;
        extended_status(reply).map_err(|error| self.error(&error, "cannot set metadata of", remote))
    }

    /// SETSTAT that never follows a symlink at `remote`.
    async fn set_attributes(
        &self,
        connection: &Connection,
        remote: &str,
        attributes: FileAttributes,
    ) -> TransportResult<()> {
        if connection.extensions.lsetstat {
            let result = self.lsetstat(connection, remote, &attributes).await;
            if result.is_err() && attributes.permissions.is_some() {
                // Linux cannot chmod a symlink (EOPNOTSUPP): set only its times.
                if let Some(existing) = self.lstat(connection, remote).await?
                    && to_metadata(&existing).kind == EntryKind::Symlink
                {
                    let times = FileAttributes {
                        permissions: None,
                        ..attributes
                    };
                    if times.mtime.is_none() {
                        return Ok(());
                    }
                    return self.lsetstat(connection, remote, &times).await;
                }
            }
            return result;
        }
        match self.lstat(connection, remote).await? {
            // Without lsetstat, SETSTAT would change the symlink's target: leave it alone.
            Some(existing) if to_metadata(&existing).kind == EntryKind::Symlink => Ok(()),
            _ => connection
                .files
                .set_metadata(remote, attributes)
                .await
                .map_err(|error| self.error(&error, "cannot set metadata of", remote)),
        }
    }
}

#[async_trait]
impl FileTree for SftpTree {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            resumable_writes: true,
            ..Capabilities::default()
        }
    }

    fn describe(&self) -> String {
        self.description.clone()
    }

    async fn metadata(&self, path: &RelativePath) -> TransportResult<Option<Metadata>> {
        let connection = self.pool.get().await?;
        let remote = self.paths.remote(path);
        let Some(attributes) = self.lstat(&connection, &remote).await? else {
            return Ok(None);
        };
        let mut metadata = to_metadata(&attributes);
        if metadata.kind == EntryKind::Directory {
            metadata.device = file_system_id(&connection, &remote).await;
        }
        Ok(Some(metadata))
    }

    async fn list(&self, directory: &RelativePath) -> TransportResult<Vec<(String, Metadata)>> {
        let connection = self.pool.get().await?;
        let remote = self.paths.remote(directory);
        let entries = connection
            .files
            .read_dir(remote.as_str())
            .await
            .map_err(|error| self.error(&error, "cannot list", &remote))?;
        let mut listing: Vec<(String, Metadata)> = entries
            .filter(|entry| {
                let name = entry.file_name();
                name != "." && name != ".."
            })
            .map(|entry| (entry.file_name(), to_metadata(&entry.metadata())))
            .collect();
        listing.sort_by(|left, right| left.0.cmp(&right.0));
        annotate_directories(&connection, &remote, &mut listing).await;
        Ok(listing)
    }

    async fn open_read(&self, path: &RelativePath, offset: u64) -> TransportResult<Reader> {
        let connection = self.pool.get().await?;
        let remote = self.paths.remote(path);
        let mut file = connection
            .files
            .open(remote.as_str())
            .await
            .map_err(|error| self.error(&error, "cannot open", &remote))?;
        if offset > 0 {
            self.seek(&mut file, offset, &remote).await?;
        }
        let context = StreamContext {
            remote_path: remote,
            tree: self.description.clone(),
        };
        Ok(Box::new(SftpReader::new(file, context, connection)))
    }

    async fn open_write(&self, path: &RelativePath, offset: u64) -> TransportResult<Writer> {
        let connection = self.pool.get().await?;
        let remote = self.paths.remote(path);
        let flags = if offset == 0 {
            OpenFlags::CREATE | OpenFlags::TRUNCATE | OpenFlags::WRITE
        } else {
            OpenFlags::WRITE
        };
        let mut file = connection
            .files
            .open_with_flags(remote.as_str(), flags)
            .await
            .map_err(|error| self.error(&error, "cannot open for writing", &remote))?;
        if offset > 0 {
            let size = file
                .metadata()
                .await
                .map_err(|error| self.error(&error, "cannot stat", &remote))?
                .size
                .unwrap_or(0);
            if size < offset {
                return Err(TransportError::new(
                    ErrorKind::Other,
                    format!(
                        "cannot resume {remote} on {} at byte {offset}: it holds only {size} bytes",
                        self.description
                    ),
                ));
            }
            if size > offset {
                let truncate = FileAttributes {
                    size: Some(offset),
                    ..FileAttributes::empty()
                };
                file.set_metadata(truncate)
                    .await
                    .map_err(|error| self.error(&error, "cannot truncate", &remote))?;
            }
            self.seek(&mut file, offset, &remote).await?;
        }
        let context = StreamContext {
            remote_path: remote,
            tree: self.description.clone(),
        };
        Ok(Box::new(SftpWriter::new(file, context, connection)))
    }

    async fn create_dir_all(&self, path: &RelativePath) -> TransportResult<()> {
        let connection = self.pool.get().await?;
        // Try the deepest directory first (its parent usually exists), then climb to the
        // nearest existing ancestor (the tree's root included) and create downwards.
        let mut missing = Vec::new();
        let mut current = Some(self.paths.remote(path));
        while let Some(remote) = current {
            if self.make_directory(&connection, &remote).await? {
                break;
            }
            current = remote_parent(&remote);
            missing.push(remote);
        }
        while let Some(remote) = missing.pop() {
            if !self.make_directory(&connection, &remote).await? {
                return Err(TransportError::new(
                    ErrorKind::Other,
                    format!("cannot create directory {remote} on {}", self.description),
                ));
            }
        }
        Ok(())
    }

    async fn rename(&self, from: &RelativePath, to: &RelativePath) -> TransportResult<()> {
        let connection = self.pool.get().await?;
        let (from_remote, to_remote) = (self.paths.remote(from), self.paths.remote(to));
        let failed = |error: &SftpError| {
            self.error(
                error,
                &format!("cannot rename {from_remote} to"),
                &to_remote,
            )
        };
        if connection.extensions.posix_rename {
            let data = encode_strings(&[&from_remote, &to_remote]);
            let reply = connection
                .control
                .extended("posix-rename@openssh.com", data)
                .await;
            return extended_status(reply).map_err(|error| failed(&error));
        }
        // Plain SFTP rename refuses an existing target: remove it first (not atomic).
        match connection
            .files
            .rename(from_remote.as_str(), to_remote.as_str())
            .await
        {
            Ok(()) => Ok(()),
            Err(error) => match self.lstat(&connection, &to_remote).await? {
                Some(existing) if to_metadata(&existing).kind != EntryKind::Directory => {
                    connection
                        .files
                        .remove_file(to_remote.as_str())
                        .await
                        .map_err(|error| failed(&error))?;
                    connection
                        .files
                        .rename(from_remote.as_str(), to_remote.as_str())
                        .await
                        .map_err(|error| failed(&error))
                }
                _ => Err(failed(&error)),
            },
        }
    }

    async fn remove_file(&self, path: &RelativePath) -> TransportResult<()> {
        let connection = self.pool.get().await?;
        let remote = self.paths.remote(path);
        connection
            .files
            .remove_file(remote.as_str())
            .await
            .map_err(|error| self.error(&error, "cannot remove", &remote))
    }

    async fn remove_dir(&self, path: &RelativePath) -> TransportResult<()> {
        let connection = self.pool.get().await?;
        let remote = self.paths.remote(path);
        connection
            .files
            .remove_dir(remote.as_str())
            .await
            .map_err(|error| self.error(&error, "cannot remove directory", &remote))
    }

    async fn read_link(&self, path: &RelativePath) -> TransportResult<String> {
        let connection = self.pool.get().await?;
        let remote = self.paths.remote(path);
        connection
            .files
            .read_link(remote.as_str())
            .await
            .map_err(|error| self.error(&error, "cannot read symlink", &remote))
    }

    async fn symlink(&self, target: &str, path: &RelativePath) -> TransportResult<()> {
        let connection = self.pool.get().await?;
        let remote = self.paths.remote(path);
        // russh-sftp sends (first, second) as the draft's (linkpath, targetpath); OpenSSH reads
        // them the other way round, as (targetpath, linkpath).
        let (first, second) = if connection.extensions.openssh {
            (target.to_string(), remote.clone())
        } else {
            (remote.clone(), target.to_string())
        };
        connection
            .files
            .symlink(first, second)
            .await
            .map_err(|error| self.error(&error, "cannot create symlink", &remote))
    }

    async fn set_metadata(
        &self,
        path: &RelativePath,
        modified: Option<SystemTime>,
        mode: Option<u32>,
    ) -> TransportResult<()> {
        if modified.is_none() && mode.is_none() {
            return Ok(());
        }
        let connection = self.pool.get().await?;
        let remote = self.paths.remote(path);
        let mtime = modified.map(to_seconds);
        let attributes = FileAttributes {
            permissions: mode.map(|mode| mode & 0o7777),
            // SFTP v3 sets both times together; the access time becomes "now".
            atime: mtime.map(|_| to_seconds(SystemTime::now())),
            mtime,
            ..FileAttributes::empty()
        };
        self.set_attributes(&connection, &remote, attributes).await
    }

    async fn free_space(&self) -> TransportResult<Option<u64>> {
        let connection = self.pool.get().await?;
        // The root of a target may not exist yet: ask about its nearest existing ancestor.
        let mut current = Some(self.paths.root());
        while let Some(remote) = current {
            match connection.files.fs_info(remote.as_str()).await {
                Ok(Some(info)) => {
                    return Ok(Some(info.blocks_avail.saturating_mul(info.fragment_size)));
                }
                Ok(None) => return Ok(None),
                Err(error) if sftp_kind(&error) == ErrorKind::NotFound => {
                    current = remote_parent(&remote);
                }
                Err(error) => {
                    let error = self.error(&error, "cannot query free space of", &remote);
                    return if error.is_retryable() {
                        Err(error)
                    } else {
                        Ok(None)
                    };
                }
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_map_to_entry_kinds() {
        let with_mode = |mode: u32| FileAttributes {
            permissions: Some(mode),
            size: Some(7),
            mtime: Some(1_700_000_000),
            ..FileAttributes::empty()
        };
        let file = to_metadata(&with_mode(0o100_644));
        assert_eq!(file.kind, EntryKind::File);
        assert_eq!(file.mode, Some(0o644));
        assert_eq!(file.size, 7);
        assert_eq!(
            file.modified,
            Some(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
        );
        assert_eq!(
            to_metadata(&with_mode(0o040_755)).kind,
            EntryKind::Directory
        );
        assert_eq!(to_metadata(&with_mode(0o120_777)).kind, EntryKind::Symlink);
        assert_eq!(to_metadata(&with_mode(0o140_755)).kind, EntryKind::Other);
        assert_eq!(to_metadata(&with_mode(0o060_600)).kind, EntryKind::Other);
    }

    #[test]
    fn parents_climb_to_the_root_or_a_drive() {
        assert_eq!(remote_parent("/srv/data/x").as_deref(), Some("/srv/data"));
        assert_eq!(remote_parent("/srv/").as_deref(), Some("/"));
        assert_eq!(remote_parent("/"), None);
        assert_eq!(remote_parent("/C:/Users").as_deref(), Some("/C:"));
        assert_eq!(remote_parent("/C:/"), None);
    }

    #[test]
    fn strings_are_length_prefixed() {
        assert_eq!(
            encode_strings(&["ab", ""]),
            vec![0, 0, 0, 2, b'a', b'b', 0, 0, 0, 0]
        );
    }
}
