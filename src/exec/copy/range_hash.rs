//! Hashing a large file already on a tree by reading several ranges of it at once: each range is a
//! whole BLAKE3 subtree, hashed on its own and merged, so the result equals `blake3::hash` of the
//! file while a server that is slow per stream (an object store) serves several streams.
//!
//! BLAKE3 splits an input of more than one chunk into a left subtree of the largest power-of-two
//! number of chunks that is smaller than the input, and a right subtree of the rest. Splitting the
//! file the same way, recursively, until every piece is at most `PIECE_SIZE` gives pieces that are
//! subtrees: each is hashed from its own ranged read (`set_input_offset` and `finalize_non_root`)
//! and the chaining values are merged bottom-up, the last merge as the root.

use blake3::hazmat::{
    ChainingValue, HasherExt, Mode, left_subtree_len, merge_subtrees_non_root, merge_subtrees_root,
};
use futures::{StreamExt, TryStreamExt};
use tokio::io::AsyncReadExt;

use super::error::FileFailure;
use super::stream::transport_error;
use crate::exec::transport::{FileTree, RelativePath};

/// Files at least this long are read in ranges (smaller ones in one stream).
pub(crate) const RANGED_HASH_THRESHOLD: u64 = 32 << 20;
/// The longest range read by one request.
const PIECE_SIZE: u64 = 16 << 20;
/// Ranges of one file read at once.
const READS_IN_FLIGHT: usize = 4;
/// Each range's read buffer.
const BUFFER_SIZE: usize = 128 << 10;

/// The shape of BLAKE3's tree over `length` bytes starting at `start`, down to pieces.
enum Subtree {
    Piece { start: u64, length: u64 },
    Parent(Box<Subtree>, Box<Subtree>),
}

impl Subtree {
    fn split(start: u64, length: u64) -> Self {
        if length <= PIECE_SIZE {
            return Self::Piece { start, length };
        }
        let left = left_subtree_len(length);
        Self::Parent(
            Box::new(Self::split(start, left)),
            Box::new(Self::split(start + left, length - left)),
        )
    }

    /// The pieces, in file order.
    fn pieces(&self, into: &mut Vec<(u64, u64)>) {
        match self {
            Self::Piece { start, length } => into.push((*start, *length)),
            Self::Parent(left, right) => {
                left.pieces(into);
                right.pieces(into);
            }
        }
    }

    /// The chaining value of this (non-root) subtree, taking its pieces' values in order.
    fn merge(&self, values: &mut impl Iterator<Item = ChainingValue>) -> ChainingValue {
        match self {
            Self::Piece { .. } => values.next().expect("one value per piece"),
            Self::Parent(left, right) => {
                let left = left.merge(values);
                let right = right.merge(values);
                merge_subtrees_non_root(&left, &right, Mode::Hash)
            }
        }
    }
}

/// The BLAKE3 hash of the first `size` bytes of `path` on `tree`, read as up to `READS_IN_FLIGHT`
/// ranges at once. `size` must be more than `PIECE_SIZE`. A range that ends early is a
/// `SizeMismatch`; the caller checks that the file is not longer.
pub(crate) async fn hash_in_ranges(
    tree: &dyn FileTree,
    path: &RelativePath,
    size: u64,
) -> Result<blake3::Hash, FileFailure> {
    let Subtree::Parent(left, right) = Subtree::split(0, size) else {
        // One piece: a root chunk group, hashed as a whole.
        return hash_whole(tree, path, size).await;
    };
    let mut pieces = Vec::new();
    left.pieces(&mut pieces);
    right.pieces(&mut pieces);
    let values: Vec<ChainingValue> = futures::stream::iter(pieces)
        .map(|(start, length)| hash_piece(tree, path, start, length, size))
        .buffered(READS_IN_FLIGHT)
        .try_collect()
        .await?;
    let mut values = values.into_iter();
    let left = left.merge(&mut values);
    let right = right.merge(&mut values);
    Ok(merge_subtrees_root(&left, &right, Mode::Hash))
}

async fn hash_piece(
    tree: &dyn FileTree,
    path: &RelativePath,
    start: u64,
    length: u64,
    size: u64,
) -> Result<ChainingValue, FileFailure> {
    let mut hasher = blake3::Hasher::new();
    hasher.set_input_offset(start);
    read_into(tree, path, start, length, size, &mut hasher).await?;
    Ok(hasher.finalize_non_root())
}

async fn hash_whole(
    tree: &dyn FileTree,
    path: &RelativePath,
    size: u64,
) -> Result<blake3::Hash, FileFailure> {
    let mut hasher = blake3::Hasher::new();
    read_into(tree, path, 0, size, size, &mut hasher).await?;
    Ok(hasher.finalize())
}

/// Feeds `length` bytes from `start` to `hasher`; fewer is a `SizeMismatch` against `size`.
async fn read_into(
    tree: &dyn FileTree,
    path: &RelativePath,
    start: u64,
    length: u64,
    size: u64,
    hasher: &mut blake3::Hasher,
) -> Result<(), FileFailure> {
    let mut reader = tree.open_read_range(path, start, length).await?;
    let mut buffer = vec![0u8; BUFFER_SIZE];
    let mut read = 0u64;
    while read < length {
        let count = reader.read(&mut buffer).await.map_err(transport_error)?;
        if count == 0 {
            return Err(FileFailure::SizeMismatch {
                expected: size,
                actual: start + read,
                resumed: false,
            });
        }
        let count = count.min(usize::try_from(length - read).unwrap_or(usize::MAX));
        hasher.update(&buffer[..count]);
        read += count as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{PIECE_SIZE, RANGED_HASH_THRESHOLD, hash_in_ranges};
    use crate::exec::transport::RelativePath;
    use crate::exec::transport::local::LocalTree;

    /// Sizes around every boundary that matters: pieces, powers of two, chunks, odd tails.
    #[tokio::test]
    async fn ranged_hashes_equal_the_whole_file_hash() {
        let directory = tempfile::tempdir().unwrap();
        let tree = LocalTree::open(directory.path()).unwrap();
        let mut content = vec![0u8; (3 * PIECE_SIZE + 5000) as usize];
        blake3::Hasher::new()
            .update(b"ranges")
            .finalize_xof()
            .fill(&mut content);
        let sizes = [
            PIECE_SIZE + 1,
            2 * PIECE_SIZE,
            2 * PIECE_SIZE + 1024,
            RANGED_HASH_THRESHOLD + 1,
            3 * PIECE_SIZE - 1,
            3 * PIECE_SIZE + 5000,
        ];
        for size in sizes {
            let name = format!("file-{size}");
            std::fs::write(directory.path().join(&name), &content[..size as usize]).unwrap();
            let path = RelativePath::new(&name).unwrap();
            let ranged = hash_in_ranges(&tree, &path, size).await.expect("hashed");
            assert_eq!(
                ranged,
                blake3::hash(&content[..size as usize]),
                "{size} bytes"
            );
        }
        // A file shorter than announced is a size mismatch, not a wrong hash.
        let path = RelativePath::new(&format!("file-{}", PIECE_SIZE + 1)).unwrap();
        let short = hash_in_ranges(&tree, &path, 2 * PIECE_SIZE).await;
        assert!(
            matches!(short, Err(super::FileFailure::SizeMismatch { .. })),
            "{short:?}"
        );
    }
}
