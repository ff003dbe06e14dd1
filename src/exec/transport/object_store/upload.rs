//! The writer behind `open_write`: a file that fits in one part goes up in one PUT at shutdown; a larger
//! one as a multipart upload, its parts sent in the background (at most `PARTS_IN_FLIGHT` per file) and
//! its buffers drawn from the process-wide `budget`. Any failure or drop aborts the upload.
//!
//! When the caller hands over the content's hash before writing (ferry hashes a cheaply re-read
//! source first), the object is created with its final metadata and the writer refuses to complete
//! the upload if the bytes it was given hash differently. Otherwise the hash is known only at the
//! end: a single PUT still carries it; a multipart upload has its metadata replaced afterwards.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use ::object_store::path::Path;
use ::object_store::{Attributes, MultipartUpload, PutMultipartOptions, PutOptions, PutPayload};
use bytes::Bytes;
use futures::future::BoxFuture;
use tokio::io::AsyncWrite;
use tokio::task::JoinSet;
use tokio_util::sync::PollSemaphore;

use super::budget::{self, Reservation};
use super::metadata::FerryMetadata;
use super::shared::Shared;
use crate::exec::transport::{ErrorKind, TransportError, TransportResult};

/// The smallest part, and the size of every part of files under 45 GiB: S3's minimum for all but
/// the last part (rclone's default too), so that the budget holds a part for each of 8 transfers.
pub const PART_SIZE: usize = 5 << 20;
/// Parts of one file sent at once.
pub const PARTS_IN_FLIGHT: usize = 4;
/// Parts one upload may have, with room to spare below S3's limit of 10,000 (Azure allows 50,000).
const MAX_PARTS: u64 = 9_000;
/// S3's largest part.
const MAX_PART_SIZE: u64 = 5 << 30;

type StartingUpload = BoxFuture<'static, TransportResult<Box<dyn MultipartUpload>>>;

enum Phase {
    /// No upload started yet: the file may still fit in one PUT.
    Single,
    /// Creating the multipart upload.
    Starting(StartingUpload),
    Multipart(Box<dyn MultipartUpload>),
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
    /// The length the caller announced, which sizes parts and reservations.
    expected_size: Option<u64>,
    part_size: usize,
    budget: PollSemaphore,
    /// The part being filled, and the budget it holds (taken before the first byte goes in).
    buffer: Vec<u8>,
    reservation: Option<Reservation>,
    /// Parts on their way, each holding its buffer's reservation until the server acknowledges it.
    parts: JoinSet<Result<(), ::object_store::Error>>,
    phase: Phase,
}

/// The part size for a file of `size` bytes: `PART_SIZE`, or larger (in whole MiB) when the file
/// would need more than `MAX_PARTS` parts.
pub(super) fn part_size_for(size: Option<u64>) -> usize {
    let needed = size.unwrap_or(0).div_ceil(MAX_PARTS).div_ceil(1 << 20) << 20;
    let chosen = needed.clamp(PART_SIZE as u64, MAX_PART_SIZE);
    usize::try_from(chosen).unwrap_or(PART_SIZE)
}

impl UploadWriter {
    pub(super) fn new(
        shared: Arc<Shared>,
        location: Path,
        metadata: FerryMetadata,
        expected_size: Option<u64>,
    ) -> Self {
        Self {
            key: location.to_string(),
            shared,
            location,
            metadata,
            hasher: blake3::Hasher::new(),
            written: 0,
            expected_size,
            part_size: part_size_for(expected_size),
            budget: budget::handle(),
            buffer: Vec::new(),
            reservation: None,
            parts: JoinSet::new(),
            phase: Phase::Single,
        }
    }

    fn error(&self, what: &str, error: &::object_store::Error) -> io::Error {
        io::Error::other(self.shared.upload_error(error, what, &self.key))
    }

    /// Fails the writer: aborts the upload in the background and returns `error`.
    fn fail(&mut self, error: io::Error) -> Poll<io::Result<()>> {
        self.abort_in_background();
        Poll::Ready(Err(error))
    }

    /// The metadata the finished object carries, or an error when the caller's hash does not match
    /// the bytes written (the source changed while it was read): such an object is never completed.
    fn final_metadata(&self) -> io::Result<FerryMetadata> {
        let actual = *self.hasher.finalize().as_bytes();
        let mut metadata = self.metadata.clone();
        match metadata.content_hash {
            Some(announced) if announced != actual => Err(io::Error::other(TransportError::new(
                ErrorKind::Other,
                format!(
                    "`{}` changed while it was uploaded to {}: its content no longer matches the hash taken before; the upload was abandoned",
                    self.key, self.shared.description
                ),
            ))),
            Some(_) => Ok(metadata),
            None => {
                metadata.content_hash = Some(actual);
                Ok(metadata)
            }
        }
    }

    fn start_multipart(&self) -> StartingUpload {
        let shared = self.shared.clone();
        let location = self.location.clone();
        let attributes: Attributes = self.metadata.attributes(shared.names);
        let key = self.key.clone();
        Box::pin(async move {
            let options = PutMultipartOptions {
                attributes,
                ..PutMultipartOptions::default()
            };
            shared
                .store
                .put_multipart_opts(&location, options)
                .await
                .map_err(|error| shared.upload_error(&error, "starting the upload of", &key))
        })
    }

    /// Drives the phases that need nothing from the caller (starting the upload) and collects
    /// finished parts; an error fails the writer.
    fn poll_progress(&mut self, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Phase::Starting(future) = &mut self.phase {
            match future.as_mut().poll(context) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(upload)) => self.phase = Phase::Multipart(upload),
                Poll::Ready(Err(error)) => {
                    self.phase = Phase::Failed;
                    return Poll::Ready(Err(io::Error::other(error)));
                }
            }
        }
        while let Poll::Ready(Some(finished)) = self.parts.poll_join_next(context) {
            let failure = match finished {
                Ok(Ok(())) => continue,
                Ok(Err(error)) => self.error("uploading a part of", &error),
                Err(join_error) => io::Error::other(join_error.to_string()),
            };
            return self.fail(failure);
        }
        Poll::Ready(Ok(()))
    }

    /// Hands the filled buffer to a background task as the upload's next part.
    fn send_part(&mut self) {
        let Phase::Multipart(upload) = &mut self.phase else {
            return;
        };
        let data = Bytes::from(std::mem::take(&mut self.buffer));
        let reservation = self.reservation.take();
        let sending = upload.put_part(PutPayload::from(data));
        self.parts.spawn(async move {
            let _held_until_sent = reservation;
            sending.await
        });
    }

    /// Takes the budget for the next buffer: a whole part, or what is left of the announced size.
    fn poll_reserve(&mut self, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.reservation.is_some() {
            return Poll::Ready(Ok(()));
        }
        let remaining = match self.expected_size {
            Some(size) => usize::try_from(size.saturating_sub(self.written)).unwrap_or(usize::MAX),
            None => self.part_size,
        };
        let wanted = remaining.min(self.part_size);
        match self
            .budget
            .poll_acquire_many(context, budget::units_for(wanted))
        {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(reservation)) => {
                self.reservation = Some(reservation);
                self.buffer
                    .reserve_exact(wanted.saturating_sub(self.buffer.len()));
                Poll::Ready(Ok(()))
            }
            Poll::Ready(None) => Poll::Ready(Err(closed())),
        }
    }

    fn abort_in_background(&mut self) {
        let phase = std::mem::replace(&mut self.phase, Phase::Failed);
        self.parts.abort_all();
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        match phase {
            Phase::Multipart(mut upload) => {
                runtime.spawn(async move {
                    let _ = upload.abort().await;
                });
            }
            Phase::Starting(future) => {
                runtime.spawn(async move {
                    if let Ok(mut upload) = future.await {
                        let _ = upload.abort().await;
                    }
                });
            }
            _ => {}
        }
    }

    /// The single PUT of a file that fit in one part, with its final metadata.
    fn put_whole(&mut self, metadata: FerryMetadata) -> BoxFuture<'static, TransportResult<()>> {
        let shared = self.shared.clone();
        let location = self.location.clone();
        let key = self.key.clone();
        let data = Bytes::from(std::mem::take(&mut self.buffer));
        let reservation = self.reservation.take();
        Box::pin(async move {
            let _held_until_sent = reservation;
            let options = PutOptions {
                attributes: metadata.attributes(shared.names),
                ..PutOptions::default()
            };
            shared
                .store
                .put_opts(&location, PutPayload::from(data), options)
                .await
                .map_err(|error| shared.upload_error(&error, "uploading", &key))?;
            Ok(())
        })
    }

    /// Completes a multipart upload whose parts are all acknowledged (aborting it if that fails),
    /// then records the hash if it was not known when the upload started.
    fn complete(
        &mut self,
        mut upload: Box<dyn MultipartUpload>,
        metadata: FerryMetadata,
    ) -> BoxFuture<'static, TransportResult<()>> {
        let shared = self.shared.clone();
        let key = self.key.clone();
        let hash_known = self.metadata.content_hash.is_some();
        let size = self.written;
        Box::pin(async move {
            if let Err(error) = upload.complete().await {
                let _ = upload.abort().await;
                return Err(shared.upload_error(&error, "completing the upload of", &key));
            }
            if !hash_known {
                // S3 fixes metadata when the upload starts: the hash is added now.
                shared.record_metadata(&key, &metadata, size).await?;
            }
            Ok(())
        })
    }
}

fn closed() -> io::Error {
    io::Error::other("the upload is already finished or failed")
}

impl AsyncWrite for UploadWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        loop {
            if matches!(
                this.phase,
                Phase::Finishing(_) | Phase::Finished | Phase::Failed
            ) {
                return Poll::Ready(Err(closed()));
            }
            match this.poll_progress(context) {
                Poll::Ready(Ok(())) => {}
                other => return other.map(|result| result.map(|()| 0)),
            }
            if this.buffer.len() >= this.part_size {
                match &this.phase {
                    Phase::Single => {
                        this.phase = Phase::Starting(this.start_multipart());
                        continue;
                    }
                    // Woken when a part finishes (`poll_progress` polled the set).
                    Phase::Multipart(_) if this.parts.len() >= PARTS_IN_FLIGHT => {
                        return Poll::Pending;
                    }
                    Phase::Multipart(_) => {
                        this.send_part();
                        continue;
                    }
                    _ => return Poll::Pending,
                }
            }
            match this.poll_reserve(context) {
                Poll::Ready(Ok(())) => {}
                other => return other.map(|result| result.map(|()| 0)),
            }
            let count = data.len().min(this.part_size - this.buffer.len());
            this.buffer.extend_from_slice(&data[..count]);
            this.hasher.update(&data[..count]);
            this.written += count as u64;
            return Poll::Ready(Ok(count));
        }
    }

    fn poll_flush(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Parts go up as they fill; a partial part cannot be sent before the end.
        let this = self.get_mut();
        if matches!(this.phase, Phase::Starting(_) | Phase::Multipart(_)) {
            return this.poll_progress(context);
        }
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            match &mut this.phase {
                Phase::Single => {
                    let metadata = match this.final_metadata() {
                        Ok(metadata) => metadata,
                        Err(error) => return this.fail(error),
                    };
                    this.phase = Phase::Finishing(this.put_whole(metadata));
                }
                Phase::Starting(_) => match this.poll_progress(context) {
                    Poll::Ready(Ok(())) => {}
                    other => return other,
                },
                Phase::Multipart(_) => {
                    match this.poll_progress(context) {
                        Poll::Ready(Ok(())) => {}
                        other => return other,
                    }
                    if !this.buffer.is_empty() {
                        if this.parts.len() >= PARTS_IN_FLIGHT {
                            return Poll::Pending;
                        }
                        this.send_part();
                        continue;
                    }
                    if !this.parts.is_empty() {
                        return Poll::Pending;
                    }
                    let metadata = match this.final_metadata() {
                        Ok(metadata) => metadata,
                        Err(error) => return this.fail(error),
                    };
                    let Phase::Multipart(upload) =
                        std::mem::replace(&mut this.phase, Phase::Failed)
                    else {
                        unreachable!("matched above");
                    };
                    this.phase = Phase::Finishing(this.complete(upload, metadata));
                }
                Phase::Finishing(future) => {
                    return match future.as_mut().poll(context) {
                        Poll::Pending => Poll::Pending,
                        Poll::Ready(Ok(())) => {
                            this.phase = Phase::Finished;
                            Poll::Ready(Ok(()))
                        }
                        Poll::Ready(Err(error)) => {
                            this.phase = Phase::Failed;
                            Poll::Ready(Err(io::Error::other(error)))
                        }
                    };
                }
                Phase::Finished => return Poll::Ready(Ok(())),
                Phase::Failed => return Poll::Ready(Err(closed())),
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

#[cfg(test)]
mod tests {
    use super::{PART_SIZE, part_size_for};

    #[test]
    fn parts_grow_only_for_files_that_would_need_too_many() {
        assert_eq!(part_size_for(None), PART_SIZE);
        assert_eq!(part_size_for(Some(0)), PART_SIZE);
        assert_eq!(part_size_for(Some(40 << 30)), PART_SIZE);
        // 1 TiB in at most 9,000 parts: 117 MiB each, rounded up to whole MiB.
        let terabyte = part_size_for(Some(1 << 40));
        assert_eq!(terabyte, 117 << 20);
        assert!((1u64 << 40).div_ceil(terabyte as u64) <= 9_000);
    }
}
