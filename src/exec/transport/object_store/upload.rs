//! The writer behind `open_write`: small files go up in one PUT at shutdown, larger ones as a multipart
//! upload (8 MiB parts, 4 in flight, so about 40 MiB of memory per file) that is aborted on any failure or drop.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use ::object_store::path::Path;
use ::object_store::{Attributes, PutMultipartOptions, PutOptions, PutPayload, WriteMultipart};
use bytes::Bytes;
use futures::future::BoxFuture;
use tokio::io::AsyncWrite;

use super::errors::store_error;
use super::metadata::FerryMetadata;
use super::shared::Shared;
use crate::exec::transport::{TransportError, TransportResult};

/// The size of each uploaded part (S3 wants at least 5 MiB for all but the last).
pub const PART_SIZE: usize = 8 << 20;
/// Parts uploaded at once per file.
pub const PARTS_IN_FLIGHT: usize = 4;

enum State {
    /// Nothing sent yet: up to one part's bytes wait here.
    Buffering(Vec<u8>),
    /// Creating the multipart upload (the first part is inside the future).
    Starting(BoxFuture<'static, TransportResult<WriteMultipart>>),
    Uploading(WriteMultipart),
    Finishing(BoxFuture<'static, TransportResult<()>>),
    Finished,
    Failed,
}

pub(super) struct UploadWriter {
    shared: Arc<Shared>,
    location: Path,
    /// The object's key, for messages and metadata requests.
    key: String,
    metadata: FerryMetadata,
    hasher: blake3::Hasher,
    /// Bytes accepted so far.
    written: u64,
    state: State,
}

impl UploadWriter {
    pub(super) fn new(shared: Arc<Shared>, location: Path, metadata: FerryMetadata) -> Self {
        Self {
            key: location.to_string(),
            shared,
            location,
            metadata,
            hasher: blake3::Hasher::new(),
            written: 0,
            state: State::Buffering(Vec::new()),
        }
    }

    fn error(&self, error: &::object_store::Error) -> TransportError {
        store_error(
            error,
            &format!("uploading `{}` to {}", self.key, self.shared.description),
            &self.shared.redactor,
        )
    }

    /// The metadata the finished object carries: the caller's, plus the hash of what was written.
    fn final_metadata(&self) -> FerryMetadata {
        let mut metadata = self.metadata.clone();
        if metadata.content_hash.is_none() {
            metadata.content_hash = Some(*self.hasher.finalize().as_bytes());
        }
        metadata
    }

    fn start_multipart(
        &self,
        first_part: Vec<u8>,
    ) -> BoxFuture<'static, TransportResult<WriteMultipart>> {
        let shared = self.shared.clone();
        let location = self.location.clone();
        let attributes: Attributes = self.metadata.attributes(shared.names);
        let key = self.key.clone();
        Box::pin(async move {
            let options = PutMultipartOptions {
                attributes,
                ..PutMultipartOptions::default()
            };
            let upload = shared
                .store
                .put_multipart_opts(&location, options)
                .await
                .map_err(|error| {
                    store_error(
                        &error,
                        &format!("starting the upload of `{key}` to {}", shared.description),
                        &shared.redactor,
                    )
                })?;
            let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
            writer.put(Bytes::from(first_part));
            Ok(writer)
        })
    }

    /// Drives a `Starting` state to `Uploading`; `Ready(Ok)` when there is no start in progress.
    fn poll_started(&mut self, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let State::Starting(future) = &mut self.state {
            match future.as_mut().poll(context) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(upload)) => self.state = State::Uploading(upload),
                Poll::Ready(Err(error)) => {
                    self.state = State::Failed;
                    return Poll::Ready(Err(io::Error::other(error)));
                }
            }
        }
        Poll::Ready(Ok(()))
    }

    fn abort_in_background(&mut self) {
        let state = std::mem::replace(&mut self.state, State::Failed);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        match state {
            State::Uploading(upload) => {
                runtime.spawn(async move {
                    let _ = upload.abort().await;
                });
            }
            State::Starting(future) => {
                runtime.spawn(async move {
                    if let Ok(upload) = future.await {
                        let _ = upload.abort().await;
                    }
                });
            }
            _ => {}
        }
    }
}

fn closed() -> io::Error {
    io::Error::other("the upload is already finished or failed")
}

impl AsyncWrite for UploadWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        loop {
            match &mut this.state {
                State::Buffering(pending) if pending.len() >= PART_SIZE => {
                    let first_part = std::mem::take(pending);
                    this.state = State::Starting(this.start_multipart(first_part));
                }
                State::Buffering(pending) => {
                    let count = buffer.len().min(PART_SIZE - pending.len());
                    pending.extend_from_slice(&buffer[..count]);
                    this.hasher.update(&buffer[..count]);
                    this.written += count as u64;
                    return Poll::Ready(Ok(count));
                }
                State::Starting(_) => match this.poll_started(context) {
                    Poll::Ready(Ok(())) => {}
                    other => return other.map(|result| result.map(|()| 0)),
                },
                State::Uploading(upload) => {
                    match upload.poll_for_capacity(context, PARTS_IN_FLIGHT) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(Err(error)) => {
                            let error = this.error(&error);
                            this.abort_in_background();
                            return Poll::Ready(Err(io::Error::other(error)));
                        }
                        Poll::Ready(Ok(())) => {
                            let count = buffer.len().min(PART_SIZE);
                            upload.write(&buffer[..count]);
                            this.hasher.update(&buffer[..count]);
                            this.written += count as u64;
                            return Poll::Ready(Ok(count));
                        }
                    }
                }
                State::Finishing(_) | State::Finished | State::Failed => {
                    return Poll::Ready(Err(closed()));
                }
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Parts go up as they fill; a partial part cannot be sent before the end.
        self.get_mut().poll_started(context)
    }

    fn poll_shutdown(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            match std::mem::replace(&mut this.state, State::Failed) {
                State::Buffering(pending) => {
                    let shared = this.shared.clone();
                    let location = this.location.clone();
                    let attributes = this.final_metadata().attributes(shared.names);
                    let key = this.key.clone();
                    this.state = State::Finishing(Box::pin(async move {
                        let options = PutOptions {
                            attributes,
                            ..PutOptions::default()
                        };
                        shared
                            .store
                            .put_opts(&location, PutPayload::from(pending), options)
                            .await
                            .map_err(|error| {
                                store_error(
                                    &error,
                                    &format!("uploading `{key}` to {}", shared.description),
                                    &shared.redactor,
                                )
                            })?;
                        Ok(())
                    }));
                }
                state @ State::Starting(_) => {
                    this.state = state;
                    match this.poll_started(context) {
                        Poll::Ready(Ok(())) => {}
                        other => return other,
                    }
                }
                State::Uploading(upload) => {
                    let shared = this.shared.clone();
                    let key = this.key.clone();
                    let hash_known = this.metadata.content_hash.is_some();
                    let metadata = this.final_metadata();
                    let size = this.written;
                    this.state = State::Finishing(Box::pin(async move {
                        // `finish` aborts the upload itself when a part or the completion fails.
                        upload.finish().await.map_err(|error| {
                            store_error(
                                &error,
                                &format!(
                                    "completing the upload of `{key}` to {}",
                                    shared.description
                                ),
                                &shared.redactor,
                            )
                        })?;
                        if !hash_known {
                            // The hash is known only now; S3 fixes metadata when the upload starts.
                            shared.record_metadata(&key, &metadata, size).await?;
                        }
                        Ok(())
                    }));
                }
                State::Finishing(mut future) => {
                    return match future.as_mut().poll(context) {
                        Poll::Pending => {
                            this.state = State::Finishing(future);
                            Poll::Pending
                        }
                        Poll::Ready(Ok(())) => {
                            this.state = State::Finished;
                            Poll::Ready(Ok(()))
                        }
                        Poll::Ready(Err(error)) => Poll::Ready(Err(io::Error::other(error))),
                    };
                }
                State::Finished => {
                    this.state = State::Finished;
                    return Poll::Ready(Ok(()));
                }
                State::Failed => return Poll::Ready(Err(closed())),
            }
        }
    }
}

impl Drop for UploadWriter {
    /// A writer dropped before `shutdown` finished (an error, a cancelled copy) aborts its upload.
    fn drop(&mut self) {
        self.abort_in_background();
    }
}
