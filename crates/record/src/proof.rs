//! Checking proofs with nothing but the hashes: RFC 9162 §2.1.3.2
//! (inclusion) and §2.1.4.2 (consistency), step by step, each failure naming
//! the step. What a party's offline verifier runs; the tree that makes the
//! proofs is `crate::tree`.

use crate::tree::{node_hash, Hash, EMPTY_ROOT};

/// Why a proof did not verify; each names the check of RFC 9162 §2.1.3.2 or
/// §2.1.4.2 that failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// Inclusion step 1: the index is not that of a leaf of the tree.
    #[error("leaf index {index} is not inside a tree of {size} entries")]
    IndexOutOfRange {
        /// The leaf index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// The proof holds more hashes than the tree sizes allow (`sn` reached 0
    /// before the last hash).
    #[error("the proof has {hashes} hashes, more than these tree sizes need")]
    TooLong {
        /// Hashes in the proof.
        hashes: usize,
    },
    /// The proof holds fewer hashes than the tree sizes need (`sn` is not 0
    /// after the last hash).
    #[error("the proof has {hashes} hashes, fewer than these tree sizes need")]
    TooShort {
        /// Hashes in the proof.
        hashes: usize,
    },
    /// Inclusion step 5: the root computed from the leaf and the proof is not
    /// the tree's root: the leaf, its index or the proof is not the log's.
    #[error(
        "the root computed from the leaf and the proof is {computed}, not the expected {expected}"
    )]
    RootMismatch {
        /// The root the proof leads to.
        computed: Hash,
        /// The root it should lead to.
        expected: Hash,
    },
    /// The old tree is larger than the new one.
    #[error("old tree size {old_size} is larger than new tree size {new_size}")]
    OldLargerThanNew {
        /// The old size.
        old_size: u64,
        /// The new size.
        new_size: u64,
    },
    /// Consistency step 1: the proof is empty though the sizes differ.
    #[error("the consistency proof from size {old_size} to {new_size} is empty")]
    EmptyProof {
        /// The old size.
        old_size: u64,
        /// The new size.
        new_size: u64,
    },
    /// Consistency step 7: the proof does not lead to the old root: the old
    /// tree is not a prefix of the new one (history was rewritten) or the
    /// proof is wrong.
    #[error("the old root computed from the proof is {computed}, not the expected {expected}")]
    OldRootMismatch {
        /// The root the proof leads to.
        computed: Hash,
        /// The old root given.
        expected: Hash,
    },
    /// Consistency step 7: the proof does not lead to the new root.
    #[error("the new root computed from the proof is {computed}, not the expected {expected}")]
    NewRootMismatch {
        /// The root the proof leads to.
        computed: Hash,
        /// The new root given.
        expected: Hash,
    },
    /// Equal sizes (or an empty old tree) need an empty proof.
    #[error("a consistency proof from size {old_size} to {new_size} must be empty, and this one has {hashes} hashes")]
    ProofNotEmpty {
        /// The old size.
        old_size: u64,
        /// The new size.
        new_size: u64,
        /// Hashes in the proof.
        hashes: usize,
    },
    /// Two trees of the same size with different roots: a split view.
    #[error("two trees of size {size} have different roots, {old_root} and {new_root}")]
    SameSizeDifferentRoots {
        /// The size of both.
        size: u64,
        /// The first root.
        old_root: Hash,
        /// The second root.
        new_root: Hash,
    },
    /// The empty tree's root must be [`EMPTY_ROOT`].
    #[error("the root of the empty tree must be {EMPTY_ROOT}, not {root}")]
    NotEmptyRoot {
        /// The root given for the empty tree.
        root: Hash,
    },
}

/// Right-shifts `fn_` and `sn` together until `fn_`'s lowest bit is set or it is 0.
fn shift_to_set_bit(fn_: &mut u64, sn: &mut u64) {
    while *fn_ != 0 && *fn_ & 1 == 0 {
        *fn_ >>= 1;
        *sn >>= 1;
    }
}

/// Verifies that `leaf` (a [`leaf_hash`]) is leaf `index` of the tree of `size`
/// entries whose root is `root`, by RFC 9162 §2.1.3.2, step by step.
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    // 1.
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    // 2., 3.
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    // 4.
    for p in proof {
        if sn == 0 {
            return Err(ProofError::TooLong {
                hashes: proof.len(),
            });
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                shift_to_set_bit(&mut fn_, &mut sn);
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    // 5.
    if sn != 0 {
        return Err(ProofError::TooShort {
            hashes: proof.len(),
        });
    }
    if r != *root {
        return Err(ProofError::RootMismatch {
            computed: r,
            expected: *root,
        });
    }
    Ok(())
}

/// Verifies that the tree of `old_size` entries with root `old_root` is a
/// prefix of the tree of `new_size` entries with root `new_root`, by RFC 9162
/// §2.1.4.2 step by step for `0 < old_size < new_size`.
///
/// Beyond the RFC: for `old_size == new_size` the proof must be empty and the
/// roots equal (else [`ProofError::SameSizeDifferentRoots`], a split view); for
/// `old_size == 0` the proof must be empty and `old_root` must be
/// [`EMPTY_ROOT`] (every tree extends the empty one).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::OldLargerThanNew { old_size, new_size });
    }
    if old_size == 0 || old_size == new_size {
        if !proof.is_empty() {
            return Err(ProofError::ProofNotEmpty {
                old_size,
                new_size,
                hashes: proof.len(),
            });
        }
        if old_size == 0 {
            if *old_root != EMPTY_ROOT {
                return Err(ProofError::NotEmptyRoot { root: *old_root });
            }
        } else if old_root != new_root {
            return Err(ProofError::SameSizeDifferentRoots {
                size: old_size,
                old_root: *old_root,
                new_root: *new_root,
            });
        }
        return Ok(());
    }
    // 1.
    if proof.is_empty() {
        return Err(ProofError::EmptyProof { old_size, new_size });
    }
    // 2. (prepending old_root: iterate over it, then the proof)
    let prefix: &[Hash] = if old_size.is_power_of_two() {
        std::slice::from_ref(old_root)
    } else {
        &[]
    };
    let mut path = prefix.iter().chain(proof);
    // 3.
    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    // 4.
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    // 5.
    let first = *path.next().expect("the proof is not empty");
    let (mut fr, mut sr) = (first, first);
    // 6.
    for c in path {
        if sn == 0 {
            return Err(ProofError::TooLong {
                hashes: proof.len(),
            });
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                shift_to_set_bit(&mut fn_, &mut sn);
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    // 7.
    if sn != 0 {
        return Err(ProofError::TooShort {
            hashes: proof.len(),
        });
    }
    if fr != *old_root {
        return Err(ProofError::OldRootMismatch {
            computed: fr,
            expected: *old_root,
        });
    }
    if sr != *new_root {
        return Err(ProofError::NewRootMismatch {
            computed: sr,
            expected: *new_root,
        });
    }
    Ok(())
}
