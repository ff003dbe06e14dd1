//! Verifying a file just written: read back and hashed (in ranges on trees that serve several
//! streams faster than one, on one blocking thread for a local disk), or only sized.

use super::error::FileFailure;
use super::local_copy::hash_local_file;
use super::range_hash::{RANGED_HASH_THRESHOLD, hash_in_ranges};
use super::transfer::{TransferContext, hash_stream};
use crate::cli::VerifyMode;
use crate::exec::transport::RelativePath;

/// Checks the `size` bytes just written at `written` (read back and hashed, or only sized).
pub(super) async fn verify(
    context: &TransferContext,
    written: &RelativePath,
    size: u64,
    expected: &str,
    buffer: &mut Vec<u8>,
) -> Result<(), FileFailure> {
    let target = &context.target;
    match context.verify {
        VerifyMode::Full if target.prefers_ranged_reads() && size >= RANGED_HASH_THRESHOLD => {
            // The ranges cover `size` bytes: the file must not be longer either.
            let actual = target
                .metadata(written)
                .await?
                .map_or(0, |metadata| metadata.size);
            if actual != size {
                return Err(FileFailure::SizeMismatch {
                    expected: size,
                    actual,
                });
            }
            let actual = hash_in_ranges(target.as_ref(), written, size)
                .await?
                .to_hex()
                .to_string();
            if actual != expected {
                return Err(FileFailure::HashMismatch {
                    expected: expected.to_string(),
                    actual,
                });
            }
        }
        VerifyMode::Full => {
            let (read, hash) = if let Some(local) = target.as_local() {
                // One blocking thread reads the whole file back, not a task hop per chunk.
                hash_local_file(local, written, std::mem::take(buffer)).await?
            } else {
                let mut reader = target.open_read(written, 0).await?;
                let mut hasher = blake3::Hasher::new();
                let read = hash_stream(&mut reader, &mut hasher, buffer, None).await?;
                (read, hasher.finalize())
            };
            if read != size {
                return Err(FileFailure::SizeMismatch {
                    expected: size,
                    actual: read,
                });
            }
            let actual = hash.to_hex().to_string();
            if actual != expected {
                return Err(FileFailure::HashMismatch {
                    expected: expected.to_string(),
                    actual,
                });
            }
        }
        VerifyMode::Size => {
            let actual = target
                .metadata(written)
                .await?
                .map(|metadata| metadata.size)
                .unwrap_or(0);
            if actual != size {
                return Err(FileFailure::SizeMismatch {
                    expected: size,
                    actual,
                });
            }
        }
    }
    Ok(())
}
