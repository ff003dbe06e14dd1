//! A `FileTree` over object storage (S3 buckets and Azure Blob containers, through Apache Arrow's `object_store`).
//!
//! Keys are `PREFIX/<relative path>`; folders are implied by the keys (`create_dir_all` does nothing,
//! `list` derives folders from common prefixes). Writes are uploads that appear whole when the writer
//! shuts down, so `Capabilities::atomic_writes` is true; a failed or dropped writer aborts its upload. Resuming a
//! file at an offset is not possible: `open_write` refuses offsets above zero and the copy restarts the
//! file. ferry's metadata (mtime, mode, BLAKE3 hash) lives in object metadata (see `metadata.rs`);
//! a symlink is an empty object whose `ferry-symlink-target` metadata holds the link's text.

mod budget;
mod connect;
mod errors;
mod metadata;
mod shared;
mod signed;
mod upload;

use std::sync::Arc;
use std::time::SystemTime;

use ::object_store::path::Path;
use ::object_store::{GetRange, ObjectStore, ObjectStoreExt, PutOptions, PutPayload};
use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};

use self::connect::{Opened, Service};
use self::errors::store_error;
use self::metadata::{AZURE_NAMES, FerryMetadata, MetadataNames, S3_NAMES};
use self::shared::{Head, Shared, directory_metadata, metadata_of};
use self::upload::UploadWriter;
use super::{
    Capabilities, ErrorKind, FileAttributes, FileTree, Metadata, Reader, RelativePath,
    TransportError, TransportResult, Writer,
};
use crate::plan::valid::{AzureBlobSettings, S3Settings, SecretString};

pub use self::budget::{UPLOAD_MEMORY_BUDGET, reserved_bytes};
pub use self::upload::{PART_SIZE, PARTS_IN_FLIGHT};

/// HEAD requests in flight while `list` reads each file's metadata.
const METADATA_LOOKUPS_IN_FLIGHT: usize = 16;

/// A bucket or container (below a prefix) as a file tree. Cheap to share: clone the `Arc` you keep it in.
pub struct ObjectStoreTree {
    shared: Arc<Shared>,
}

impl ObjectStoreTree {
    /// Opens an S3 bucket; `secret_access_key` is the resolved `settings.secret_access_key`.
    /// Nothing is sent until the first operation.
    pub fn connect_s3(
        settings: &S3Settings,
        secret_access_key: &SecretString,
    ) -> TransportResult<Self> {
        Ok(Self::from_opened(
            connect::open_s3(settings, secret_access_key)?,
            S3_NAMES,
            &settings.prefix,
        ))
    }

    /// Opens an Azure Blob container; `secret` is the resolved account key or SAS token, as
    /// `settings.key` says. Nothing is sent until the first operation.
    pub fn connect_azure_blob(
        settings: &AzureBlobSettings,
        secret: &SecretString,
    ) -> TransportResult<Self> {
        Ok(Self::from_opened(
            connect::open_azure(settings, secret)?,
            AZURE_NAMES,
            &settings.prefix,
        ))
    }

    fn from_opened(opened: Opened, names: MetadataNames, prefix: &str) -> Self {
        Self {
            shared: Arc::new(Shared {
                store: opened.store,
                service: opened.service,
                redactor: opened.redactor,
                description: opened.description,
                http: opened.http,
                names,
                prefix: prefix.trim_matches('/').to_string(),
            }),
        }
    }

    /// Aborts the unfinished multipart uploads under this tree's prefix (left by a killed process)
    /// and returns how many there were. On S3 this is ListMultipartUploads + AbortMultipartUpload.
    /// Azure has no such listing: uncommitted blocks are invisible and Azure discards them after
    /// 7 days, so this returns 0 there. A bucket lifecycle rule (`AbortIncompleteMultipartUpload`)
    /// is the belt to these braces.
    pub async fn cleanup_incomplete_uploads(&self) -> TransportResult<usize> {
        let shared = &self.shared;
        let Service::S3 { store, .. } = &shared.service else {
            return Ok(0);
        };
        let uploads = self.list_unfinished_uploads().await?;
        for upload in &uploads {
            let location =
                Path::parse(&upload.key).unwrap_or_else(|_| Path::from(upload.key.as_str()));
            ::object_store::multipart::MultipartStore::abort_multipart(
                store.as_ref(),
                &location,
                &upload.upload_id,
            )
            .await
            .map_err(|error| {
                store_error(
                    &error,
                    &format!("aborting the unfinished upload of `{}`", upload.key),
                    &shared.redactor,
                )
            })?;
        }
        Ok(uploads.len())
    }

    /// The unfinished multipart uploads under this tree's prefix, as keys (always empty on Azure).
    pub async fn incomplete_uploads(&self) -> TransportResult<Vec<String>> {
        let uploads = self.list_unfinished_uploads().await?;
        Ok(uploads.into_iter().map(|upload| upload.key).collect())
    }

    /// The server's list of unfinished multipart uploads under this tree's prefix.
    async fn list_unfinished_uploads(&self) -> TransportResult<Vec<signed::PendingUpload>> {
        let shared = &self.shared;
        let prefix = if shared.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", shared.prefix)
        };
        signed::list_multipart_uploads(&shared.http, &shared.service, &prefix, &shared.redactor)
            .await
    }
}

#[async_trait]
impl FileTree for ObjectStoreTree {
    fn capabilities(&self) -> Capabilities {
        // S3 fixes an object's metadata when its multipart upload starts; adding the hash later
        // means copying the whole object onto itself. A file sent in one PUT gets it at the end.
        let multipart_from_start = matches!(self.shared.service, Service::S3 { .. });
        Capabilities {
            atomic_writes: true,
            resumable_writes: false,
            implied_directories: true,
            hash_before_writing_above: multipart_from_start.then_some(PART_SIZE as u64),
            rereads_cheaply: false,
            ranged_reads: true,
        }
    }

    fn describe(&self) -> String {
        self.shared.description.clone()
    }

    async fn metadata(&self, path: &RelativePath) -> TransportResult<Option<Metadata>> {
        if path.is_root() {
            return Ok(Some(directory_metadata()));
        }
        match self.shared.head(path).await {
            Ok(Some(head)) => return Ok(Some(metadata_of(&head))),
            Ok(None) => {}
            // A server keeping objects as files (s3s-fs) fails a HEAD of a folder's name.
            Err(error) if error.kind == ErrorKind::Connection => {
                if self.shared.has_children(path).await? {
                    return Ok(Some(directory_metadata()));
                }
                return Err(error);
            }
            Err(error) => return Err(error),
        }
        Ok(self
            .shared
            .has_children(path)
            .await?
            .then(directory_metadata))
    }

    async fn list(&self, directory: &RelativePath) -> TransportResult<Vec<(String, Metadata)>> {
        let shared = &self.shared;
        let location = shared.location(directory)?;
        let prefix = (!location.as_ref().is_empty()).then_some(&location);
        let listing = shared
            .store
            .list_with_delimiter(prefix)
            .await
            .map_err(|error| shared.error(&error, "listing", directory))?;
        let mut entries: Vec<(String, Metadata)> = listing
            .common_prefixes
            .iter()
            .filter_map(|folder| folder.filename().map(str::to_string))
            .map(|name| (name, directory_metadata()))
            .collect();
        let files: Vec<RelativePath> = listing
            .objects
            .iter()
            .filter_map(|object| object.location.filename())
            .filter_map(|name| directory.join(name))
            .collect();
        let heads: Vec<(String, Option<Head>)> = futures::stream::iter(files)
            .map(|path| async move {
                let head = shared.head(&path).await?;
                Ok::<_, TransportError>((path.file_name().to_string(), head))
            })
            .buffered(METADATA_LOOKUPS_IN_FLIGHT)
            .try_collect()
            .await?;
        // An object deleted between the listing and its HEAD is simply gone.
        entries.extend(
            heads
                .into_iter()
                .filter_map(|(name, head)| head.map(|head| (name, metadata_of(&head)))),
        );
        entries.sort_by(|left, right| left.0.cmp(&right.0));
        Ok(entries)
    }

    async fn open_read(&self, path: &RelativePath, offset: u64) -> TransportResult<Reader> {
        let shared = &self.shared;
        if offset > 0 {
            let size = match shared.head(path).await? {
                Some(head) => head.meta.size,
                None => {
                    return Err(TransportError::new(
                        ErrorKind::NotFound,
                        format!("`{path}` not found on {}", shared.description),
                    ));
                }
            };
            if offset >= size {
                return Ok(Box::new(tokio::io::empty()));
            }
        }
        shared
            .reader(path, (offset > 0).then_some(GetRange::Offset(offset)))
            .await
    }

    async fn open_read_range(
        &self,
        path: &RelativePath,
        offset: u64,
        length: u64,
    ) -> TransportResult<Reader> {
        if length == 0 {
            return Ok(Box::new(tokio::io::empty()));
        }
        self.shared
            .reader(
                path,
                Some(GetRange::Bounded(offset..offset.saturating_add(length))),
            )
            .await
    }

    async fn open_write(&self, path: &RelativePath, offset: u64) -> TransportResult<Writer> {
        self.open_write_with(path, offset, &FileAttributes::default())
            .await
    }

    async fn open_write_with(
        &self,
        path: &RelativePath,
        offset: u64,
        attributes: &FileAttributes,
    ) -> TransportResult<Writer> {
        if offset > 0 {
            return Err(TransportError::new(
                ErrorKind::Other,
                format!(
                    "cannot resume `{path}` at byte {offset} on {}: objects are written whole; restart the file from byte 0",
                    self.shared.description
                ),
            ));
        }
        if path.is_root() {
            return Err(TransportError::new(
                ErrorKind::Other,
                "the tree's root is not a file",
            ));
        }
        let metadata = FerryMetadata {
            modified: attributes.modified,
            mode: attributes.mode,
            content_hash: attributes.content_hash,
            symlink_target: None,
        };
        let location = self.shared.location(path)?;
        Ok(Box::new(UploadWriter::new(
            self.shared.clone(),
            location,
            metadata,
            attributes.size,
        )))
    }

    async fn create_dir_all(&self, _path: &RelativePath) -> TransportResult<()> {
        Ok(())
    }

    async fn rename(&self, from: &RelativePath, to: &RelativePath) -> TransportResult<()> {
        let shared = &self.shared;
        let (source, target) = (shared.location(from)?, shared.location(to)?);
        // Server-side copy keeps the object's metadata; then the old name goes.
        shared
            .store
            .copy(&source, &target)
            .await
            .map_err(|error| shared.error(&error, "renaming", from))?;
        shared
            .store
            .delete(&source)
            .await
            .map_err(|error| shared.error(&error, "removing the old name of", from))
    }

    async fn remove_file(&self, path: &RelativePath) -> TransportResult<()> {
        let shared = &self.shared;
        if shared.head(path).await?.is_none() {
            return Err(TransportError::new(
                ErrorKind::NotFound,
                format!("`{path}` not found on {}", shared.description),
            ));
        }
        let location = shared.location(path)?;
        shared
            .store
            .delete(&location)
            .await
            .map_err(|error| shared.error(&error, "removing", path))
    }

    async fn remove_dir(&self, path: &RelativePath) -> TransportResult<()> {
        if self.shared.has_children(path).await? {
            return Err(TransportError::new(
                ErrorKind::Other,
                format!(
                    "cannot remove `{path}` on {}: it is not empty",
                    self.shared.description
                ),
            ));
        }
        Ok(())
    }

    async fn read_link(&self, path: &RelativePath) -> TransportResult<String> {
        match self.shared.head(path).await? {
            Some(Head {
                ferry:
                    FerryMetadata {
                        symlink_target: Some(target),
                        ..
                    },
                ..
            }) => Ok(target),
            Some(_) => Err(TransportError::new(
                ErrorKind::Other,
                format!("`{path}` on {} is not a symlink", self.shared.description),
            )),
            None => Err(TransportError::new(
                ErrorKind::NotFound,
                format!("`{path}` not found on {}", self.shared.description),
            )),
        }
    }

    async fn symlink(&self, target: &str, path: &RelativePath) -> TransportResult<()> {
        let shared = &self.shared;
        let location = shared.location(path)?;
        let metadata = FerryMetadata {
            symlink_target: Some(target.to_string()),
            ..FerryMetadata::default()
        };
        let options = PutOptions {
            attributes: metadata.attributes(shared.names),
            ..PutOptions::default()
        };
        shared
            .store
            .put_opts(&location, PutPayload::new(), options)
            .await
            .map(|_| ())
            .map_err(|error| shared.error(&error, "creating the symlink", path))
    }

    async fn set_metadata(
        &self,
        path: &RelativePath,
        modified: Option<SystemTime>,
        mode: Option<u32>,
    ) -> TransportResult<()> {
        let shared = &self.shared;
        let head = match shared.head(path).await {
            Ok(head) => head,
            // A server keeping objects as files (s3s-fs) fails a HEAD of a folder's name.
            Err(error) if error.kind == ErrorKind::Connection => {
                if shared.has_children(path).await? {
                    return Ok(());
                }
                return Err(error);
            }
            Err(error) => return Err(error),
        };
        let Some(head) = head else {
            // Folders are implied by keys and have no metadata of their own; an empty folder is
            // no key at all (the copy engine sets every source folder's times): nothing to record.
            return Ok(());
        };
        let mut wanted = head.ferry.clone();
        wanted.modified = modified.or(wanted.modified);
        wanted.mode = mode.or(wanted.mode);
        if wanted == head.ferry {
            return Ok(());
        }
        shared
            .record_metadata(head.meta.location.as_ref(), &wanted, head.meta.size)
            .await
    }

    async fn free_space(&self) -> TransportResult<Option<u64>> {
        Ok(None)
    }

    async fn content_hash(&self, path: &RelativePath) -> TransportResult<Option<[u8; 32]>> {
        Ok(self
            .shared
            .head(path)
            .await?
            .and_then(|head| head.ferry.content_hash))
    }

    async fn discard_unfinished_writes(&self) -> TransportResult<usize> {
        self.cleanup_incomplete_uploads().await
    }
}
