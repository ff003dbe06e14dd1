//! What an object-store tree and its upload writers share: the client, keys under the prefix, HEAD
//! lookups with ferry's metadata, and folders implied by listings.

use std::sync::Arc;
use std::time::SystemTime;

use ::object_store::path::Path;
use ::object_store::{GetOptions, GetRange, ObjectMeta, ObjectStore};
use futures::{StreamExt, TryStreamExt};

use super::connect::Service;
use super::errors::{Redactor, store_error};
use super::metadata::{FerryMetadata, MetadataNames};
use super::signed;
use crate::exec::transport::{
    EntryKind, ErrorKind, Metadata, Reader, RelativePath, TransportError, TransportResult,
};

/// What the tree and its writers share.
pub(super) struct Shared {
    pub(super) store: Arc<dyn ObjectStore>,
    pub(super) service: Service,
    pub(super) redactor: Redactor,
    pub(super) description: String,
    pub(super) http: reqwest::Client,
    pub(super) names: MetadataNames,
    /// Without leading or trailing `/`; empty for the bucket's top level.
    pub(super) prefix: String,
}

/// One object's facts: its listing entry and ferry's metadata.
pub(super) struct Head {
    pub(super) meta: ObjectMeta,
    pub(super) ferry: FerryMetadata,
}

impl Shared {
    pub(super) fn error(
        &self,
        error: &::object_store::Error,
        what: &str,
        path: &RelativePath,
    ) -> TransportError {
        store_error(
            error,
            &format!("{what} `{path}` on {}", self.description),
            &self.redactor,
        )
    }

    /// The key of a relative path: `PREFIX/path` (the prefix alone for the root).
    pub(super) fn location(&self, path: &RelativePath) -> TransportResult<Path> {
        let key = match (self.prefix.is_empty(), path.is_root()) {
            (true, _) => path.as_str().to_string(),
            (false, true) => self.prefix.clone(),
            (false, false) => format!("{}/{}", self.prefix, path.as_str()),
        };
        Path::parse(&key).map_err(|_| {
            TransportError::new(
                ErrorKind::Other,
                format!(
                    "`{path}` cannot be an object name on {} (control characters are not allowed)",
                    self.description
                ),
            )
        })
    }

    /// The object at `path`, or `None`.
    pub(super) async fn head(&self, path: &RelativePath) -> TransportResult<Option<Head>> {
        if path.is_root() {
            return Ok(None);
        }
        let location = self.location(path)?;
        let options = GetOptions {
            head: true,
            ..GetOptions::default()
        };
        match self.store.get_opts(&location, options).await {
            Ok(result) => Ok(Some(Head {
                ferry: FerryMetadata::from_attributes(self.names, &result.attributes),
                meta: result.meta,
            })),
            Err(::object_store::Error::NotFound { .. }) => Ok(None),
            Err(error) => Err(self.error(&error, "reading the metadata of", path)),
        }
    }

    /// A reader over the object at `path`, or over `range` of it.
    pub(super) async fn reader(
        self: &Arc<Self>,
        path: &RelativePath,
        range: Option<GetRange>,
    ) -> TransportResult<Reader> {
        let location = self.location(path)?;
        let options = GetOptions {
            range,
            ..GetOptions::default()
        };
        let result = self
            .store
            .get_opts(&location, options)
            .await
            .map_err(|error| self.error(&error, "reading", path))?;
        let shared = Arc::clone(self);
        let described = path.clone();
        let stream = result.into_stream().map_err(move |error| {
            std::io::Error::other(shared.error(&error, "reading", &described))
        });
        Ok(Box::new(tokio_util::io::StreamReader::new(stream)))
    }

    /// An upload's failure: `{what} `{key}` to {the store}`.
    pub(super) fn upload_error(
        &self,
        error: &::object_store::Error,
        what: &str,
        key: &str,
    ) -> TransportError {
        store_error(
            error,
            &format!("{what} `{key}` to {}", self.description),
            &self.redactor,
        )
    }

    /// Whether any object lies below `path`, i.e. whether the implied folder exists.
    pub(super) async fn has_children(&self, path: &RelativePath) -> TransportResult<bool> {
        let location = self.location(path)?;
        let prefix = (!location.as_ref().is_empty()).then_some(&location);
        match self.store.list(prefix).next().await {
            None => Ok(false),
            Some(Ok(_)) => Ok(true),
            Some(Err(error)) => Err(self.error(&error, "listing", path)),
        }
    }

    /// Replaces ferry's metadata of an existing object. Objects over 5 GiB on S3 keep what they were
    /// uploaded with (CopyObject's limit): pass attributes to `open_write_with` for those.
    pub(super) async fn record_metadata(
        &self,
        key: &str,
        metadata: &FerryMetadata,
        size: u64,
    ) -> TransportResult<()> {
        if matches!(self.service, Service::S3 { .. }) && size > signed::S3_COPY_LIMIT {
            return Ok(());
        }
        signed::replace_metadata(
            &self.http,
            &self.service,
            key,
            &metadata.to_map(self.names),
            &self.redactor,
        )
        .await
    }
}

pub(super) fn metadata_of(head: &Head) -> Metadata {
    let modified = head
        .ferry
        .modified
        .or_else(|| Some(SystemTime::from(head.meta.last_modified)));
    match &head.ferry.symlink_target {
        Some(target) => Metadata {
            kind: EntryKind::Symlink,
            size: target.len() as u64,
            modified,
            mode: head.ferry.mode,
            device: None,
        },
        None => Metadata {
            kind: EntryKind::File,
            size: head.meta.size,
            modified,
            mode: head.ferry.mode,
            device: None,
        },
    }
}

pub(super) fn directory_metadata() -> Metadata {
    Metadata {
        kind: EntryKind::Directory,
        size: 0,
        modified: None,
        mode: None,
        device: None,
    }
}
