//! Copying one file or one symlink, with retries: each try chooses its `Strategy` once, runs it
//! (`stream` or `local_copy`), and deletes a copy that failed verification; the retry policy is
//! `transport::retry`'s.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::bandwidth::BandwidthLimiter;
use super::decide::{FileCopy, SymlinkCopy};
use super::error::FileFailure;
use super::events::ProgressSink;
use super::local_copy::copy_local_file;
use super::steps::{Copied, vanished_when_missing};
use super::strategy::{Ends, Strategy, worth_resuming};
use super::stream::stream_file;
use super::{CopyOptions, Durability, RetryPolicy};
use crate::exec::transport::local::LocalTree;
use crate::exec::transport::retry::Cancelled;
use crate::exec::transport::{EntryKind, ErrorKind, FileTree};
use crate::options::VerifyMode;

/// What every transfer of a migration shares.
pub(crate) struct TransferContext {
    pub migration: String,
    pub source: Arc<dyn FileTree>,
    pub target: Arc<dyn FileTree>,
    /// The two trees' capabilities, asked once: each file's `Strategy` is chosen from them.
    pub ends: Ends,
    /// The trees themselves where they are local directories (`FileTree::as_local`), asked once:
    /// two local trees copy on one blocking thread; a local target is read back on one.
    pub local_source: Option<Arc<LocalTree>>,
    pub local_target: Option<Arc<LocalTree>>,
    pub verify: VerifyMode,
    /// Files are recorded before they are durable (`--durability defer`), so nothing starts
    /// writing them back early: that is left to the system.
    pub defer_durability: bool,
    pub limiter: Option<Arc<BandwidthLimiter>>,
    pub retry: RetryPolicy,
    pub progress: ProgressSink,
    pub cancel: CancellationToken,
}

impl TransferContext {
    /// The context of a migration's transfers. `knows_boot`: the ledger can tell whether the
    /// system restarted since a file was recorded, which deferring durability needs.
    pub fn new(
        migration: &str,
        (source, target): (Arc<dyn FileTree>, Arc<dyn FileTree>),
        options: &CopyOptions,
        knows_boot: bool,
        progress: &ProgressSink,
        cancel: &CancellationToken,
    ) -> Self {
        let local_source = source.as_local().cloned().map(Arc::new);
        let local_target = target.as_local().cloned().map(Arc::new);
        let ends = Ends {
            source: source.capabilities(),
            target: target.capabilities(),
            both_local: local_source.is_some() && local_target.is_some(),
        };
        // Only a local target's writes sit in this system's cache, which a boot ID can vouch for.
        let defer_durability =
            options.durability == Durability::Defer && local_target.is_some() && knows_boot;
        Self {
            migration: migration.to_string(),
            source,
            target,
            ends,
            local_source,
            local_target,
            verify: options.verify,
            defer_durability,
            limiter: options.bandwidth_limiter.clone(),
            retry: options.retry,
            progress: progress.clone(),
            cancel: cancel.clone(),
        }
    }
}

impl From<Cancelled> for FileFailure {
    fn from(_: Cancelled) -> Self {
        Self::Interrupted
    }
}

/// Copies one file into place, retrying transient failures. When the source changed while it was
/// read, the retry copies it as it is now.
pub(crate) async fn copy_file(
    context: Arc<TransferContext>,
    copy: FileCopy,
) -> Result<Copied, FileFailure> {
    let resume = copy.resume;
    let first = copy_once(&context, &copy, resume).await;
    retry_file(&context, copy, first).await
}

/// Retries `copy` as `copy_file` does, after a first try (its strategy run and
/// `discard_failed_copy` done) that ended with `first`.
pub(crate) async fn retry_file(
    context: &TransferContext,
    mut copy: FileCopy,
    first: Result<Copied, FileFailure>,
) -> Result<Copied, FileFailure> {
    let mut backoff = context.retry.backoff();
    let mut result = first;
    loop {
        let failure = match result {
            Ok(copied) => return Ok(copied),
            Err(failure) => failure,
        };
        let resume = if matches!(failure, FileFailure::ChangedDuringCopy(_)) {
            let _ = context.target.remove_file(&copy.temporary_path).await;
            match context.source.metadata(&copy.source_path).await {
                Ok(Some(metadata)) if metadata.kind == EntryKind::File => copy.metadata = metadata,
                Ok(_) => return Err(FileFailure::Vanished),
                Err(_) => {}
            }
            false
        } else {
            // A retry may continue a large file's own temporary from this run.
            worth_resuming(copy.metadata.size, &context.ends.target)
        };
        if !failure.is_retryable() || !backoff.wait(Some(&context.cancel)).await? {
            return Err(failure);
        }
        result = copy_once(context, &copy, resume).await;
    }
}

/// One try: the strategy chosen for the file as it is now, run, then `discard_failed_copy`.
async fn copy_once(
    context: &TransferContext,
    copy: &FileCopy,
    resume: bool,
) -> Result<Copied, FileFailure> {
    let strategy = Strategy::choose(copy.metadata.size, resume, &context.ends);
    let result = match (strategy, &context.local_source, &context.local_target) {
        (Strategy::LocalBlocking { resume }, Some(source), Some(target)) => {
            copy_local_file(context, (source, target), copy, resume).await
        }
        _ => stream_file(context, copy, strategy).await,
    };
    discard_failed_copy(context, copy, strategy, &result).await;
    result
}

/// Deletes a copy that failed verification, so that nothing resumes from, or keeps, bytes that
/// failed it.
pub(crate) async fn discard_failed_copy(
    context: &TransferContext,
    copy: &FileCopy,
    strategy: Strategy,
    result: &Result<Copied, FileFailure>,
) {
    if let Err(FileFailure::HashMismatch { .. } | FileFailure::SizeMismatch { .. }) = result {
        let _ = context.target.remove_file(strategy.destination(copy)).await;
    }
}

/// Recreates one symlink on the target (its text copied verbatim, never followed); `false` when
/// it was already there. Retried as a whole.
pub(crate) async fn copy_symlink(
    context: Arc<TransferContext>,
    link: SymlinkCopy,
) -> Result<bool, FileFailure> {
    let mut backoff = context.retry.backoff();
    loop {
        let failure = match copy_symlink_once(&context, &link).await {
            Ok(changed) => return Ok(changed),
            Err(failure) => failure,
        };
        if !failure.is_retryable() || !backoff.wait(Some(&context.cancel)).await? {
            return Err(failure);
        }
    }
}

async fn copy_symlink_once(
    context: &TransferContext,
    link: &SymlinkCopy,
) -> Result<bool, FileFailure> {
    let (source, target) = (&context.source, &context.target);
    let text = source
        .read_link(&link.source_path)
        .await
        .map_err(vanished_when_missing)?;
    if link.target_is_symlink {
        match target.read_link(&link.target_path).await {
            Ok(existing) if existing == text => return Ok(false),
            Ok(_) => target.remove_file(&link.target_path).await?,
            Err(error) if error.kind == ErrorKind::NotFound => {}
            Err(error) => return Err(error.into()),
        }
    }
    target.symlink(&text, &link.target_path).await?;
    // Not every tree can time-stamp a symlink (SFTP has no lsetstat): the link itself is what matters.
    let _ = target
        .set_metadata(&link.target_path, link.metadata.modified, None)
        .await;
    Ok(true)
}
