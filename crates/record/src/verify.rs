//! What an offline verifier checks with the log's public key alone: a chain of
//! checkpoints that only ever grows, split views, and a whole exported record
//! against a checkpoint. Entries are opaque bytes here; their format is the
//! service's.

use crate::checkpoint::Checkpoint;
use crate::tree::{leaf_hash, verify_consistency, Frontier, Hash, ProofError};

/// Why a chain of checkpoints or an export does not hold together.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// A checkpoint is of another log than the first.
    #[error("checkpoint {index} is of origin {found:?}, the first of {expected:?}")]
    OriginDiffers {
        /// Its position in the chain.
        index: usize,
        /// The first checkpoint's origin.
        expected: String,
        /// Its origin.
        found: String,
    },
    /// The chain is not sorted by tree size.
    #[error("checkpoint {index} has size {size}, smaller than the {previous} before it: sort the chain by size")]
    NotSorted {
        /// Its position in the chain.
        index: usize,
        /// Its size.
        size: u64,
        /// The previous checkpoint's size.
        previous: u64,
    },
    /// One consistency proof is needed between each two consecutive checkpoints.
    #[error("{checkpoints} checkpoints need {} consistency proofs, and {proofs} were given", checkpoints.saturating_sub(1))]
    ProofCount {
        /// Checkpoints in the chain.
        checkpoints: usize,
        /// Proofs given.
        proofs: usize,
    },
    /// Two checkpoints of the same log and size with different roots: the log
    /// showed two histories.
    #[error(
        "split view: checkpoints {first} and {second} both have size {size} but different roots"
    )]
    SplitView {
        /// Position of the first.
        first: usize,
        /// Position of the second.
        second: usize,
        /// Their size.
        size: u64,
    },
    /// The later checkpoint does not extend the earlier one.
    #[error("checkpoint {index} (size {new_size}) does not extend checkpoint {} (size {old_size}): {source}", index - 1)]
    Inconsistent {
        /// Position of the later checkpoint.
        index: usize,
        /// The earlier size.
        old_size: u64,
        /// The later size.
        new_size: u64,
        /// Which check failed.
        source: ProofError,
    },
    /// The entries of an export do not give the checkpoint's size.
    #[error("the export holds {entries} entries, the checkpoint {size}")]
    SizeMismatch {
        /// Entries in the export.
        entries: u64,
        /// The checkpoint's size.
        size: u64,
    },
    /// The entries of an export do not give the checkpoint's root.
    #[error("the root of the exported entries is {computed}, the checkpoint's {expected}: an entry was changed, removed, added or moved")]
    RootMismatch {
        /// The root of the entries.
        computed: Hash,
        /// The checkpoint's root.
        expected: Hash,
    },
}

/// True when `a` and `b` are of the same log and size but have different roots:
/// the log has shown two parties two different histories.
pub fn split_view(a: &Checkpoint, b: &Checkpoint) -> bool {
    a.origin == b.origin && a.size == b.size && a.root != b.root
}

/// Checks a chain of checkpoints of one log, sorted by size: `proofs[i]` is the
/// consistency proof from `checkpoints[i]` to `checkpoints[i + 1]` (empty
/// between equal sizes). Signatures are checked before, when each checkpoint is
/// read ([`crate::SignedCheckpoint::parse_and_verify`]).
pub fn verify_chain(checkpoints: &[Checkpoint], proofs: &[Vec<Hash>]) -> Result<(), ChainError> {
    if proofs.len() != checkpoints.len().saturating_sub(1) {
        return Err(ChainError::ProofCount {
            checkpoints: checkpoints.len(),
            proofs: proofs.len(),
        });
    }
    let Some(first) = checkpoints.first() else {
        return Ok(());
    };
    for (index, c) in checkpoints.iter().enumerate() {
        if c.origin != first.origin {
            return Err(ChainError::OriginDiffers {
                index,
                expected: first.origin.to_string(),
                found: c.origin.to_string(),
            });
        }
    }
    for (i, pair) in checkpoints.windows(2).enumerate() {
        if pair[1].size < pair[0].size {
            return Err(ChainError::NotSorted {
                index: i + 1,
                size: pair[1].size,
                previous: pair[0].size,
            });
        }
    }
    for (i, (pair, proof)) in checkpoints.windows(2).zip(proofs).enumerate() {
        let (old, new) = (&pair[0], &pair[1]);
        if split_view(old, new) {
            return Err(ChainError::SplitView {
                first: i,
                second: i + 1,
                size: old.size,
            });
        }
        verify_consistency(old.size, new.size, &old.root, &new.root, proof).map_err(|source| {
            ChainError::Inconsistent {
                index: i + 1,
                old_size: old.size,
                new_size: new.size,
                source,
            }
        })?;
    }
    Ok(())
}

/// The number of entries and the root of the tree of `entries`, computed from
/// scratch in O(log n) memory. Leaves are hashed in batches on every core the
/// machine offers; the tree itself is built in order.
pub fn root_of<I, E>(entries: I) -> (u64, Hash)
where
    I: IntoIterator<Item = E>,
    E: AsRef<[u8]> + Sync,
{
    const BATCH: usize = 16_384;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut frontier = Frontier::new();
    let mut entries = entries.into_iter();
    let mut batch: Vec<E> = Vec::with_capacity(BATCH);
    let mut leaves = vec![Hash([0; 32]); BATCH];
    loop {
        batch.clear();
        batch.extend(entries.by_ref().take(BATCH));
        if batch.is_empty() {
            break;
        }
        let leaves = &mut leaves[..batch.len()];
        let share = batch.len().div_ceil(threads);
        std::thread::scope(|s| {
            for (part, out) in batch.chunks(share).zip(leaves.chunks_mut(share)) {
                s.spawn(move || {
                    for (e, leaf) in part.iter().zip(out.iter_mut()) {
                        *leaf = leaf_hash(e.as_ref());
                    }
                });
            }
        });
        for leaf in leaves.iter() {
            frontier.push_leaf_hash(*leaf);
        }
    }
    (frontier.size(), frontier.root())
}

/// Checks that `entries`, all of a log's entries in order, are exactly those
/// `checkpoint` commits to.
pub fn verify_entries<I, E>(entries: I, checkpoint: &Checkpoint) -> Result<(), ChainError>
where
    I: IntoIterator<Item = E>,
    E: AsRef<[u8]> + Sync,
{
    let (size, root) = root_of(entries);
    if size != checkpoint.size {
        return Err(ChainError::SizeMismatch {
            entries: size,
            size: checkpoint.size,
        });
    }
    if root != checkpoint.root {
        return Err(ChainError::RootMismatch {
            computed: root,
            expected: checkpoint.root,
        });
    }
    Ok(())
}
