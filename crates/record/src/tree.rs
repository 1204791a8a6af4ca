//! The Merkle tree of RFC 9162 §2.1 over SHA-256: hashing, an in-memory
//! append-only [`MerkleLog`] that proves inclusion and consistency, and the
//! verifiers an offline party runs on those proofs.
//!
//! # Memory
//!
//! A [`MerkleLog`] keeps every leaf hash (32 bytes an entry) and the hash of
//! every complete perfect subtree of [`DENSE_LEVEL`] or more levels (2^4 = 16
//! leaves and up: 32 × (1/16 + 1/32 + ...) = 4 bytes an entry), in chunks of
//! 65,536 hashes: about **37 bytes an entry** in all. Subtrees of 2 to 8 leaves
//! are hashed again from the leaf hashes when a proof needs them: at most
//! 2 × (1 + 3 + 7) node hashes a proof.
//!
//! Measured with `parley bench record` at 10M entries (median proof, bytes an
//! entry): every level kept, 5.3 µs and 65 B; from level 4, 13.5 µs and 36.7 B;
//! from level 6, 46.6 µs and 33.6 B.

use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::Arc;

/// A SHA-256 hash: a leaf hash, a node hash or a tree's root.
///
/// `Display` and `Debug` write it as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// `bytes` read as the hashes they hold one after another (32 bytes
    /// each), without a copy; `None` unless they are whole hashes.
    pub fn slice_of(bytes: &[u8]) -> Option<&[Hash]> {
        if !bytes.len().is_multiple_of(32) {
            return None;
        }
        // SAFETY: `Hash` is a transparent `[u8; 32]` (size 32, alignment
        // 1), so every 32 bytes are one; the slice covers exactly `bytes`
        // and borrows it for as long.
        Some(unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast::<Hash>(), bytes.len() / 32) })
    }

    /// Reads 64 hex digits (either case); `None` for anything else.
    pub fn from_hex(hex: &str) -> Option<Hash> {
        let bytes = hex.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
        let mut out = [0u8; 32];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
        }
        Some(Hash(out))
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 64];
        for (i, b) in self.0.iter().enumerate() {
            out[2 * i] = HEX[(b >> 4) as usize];
            out[2 * i + 1] = HEX[(b & 15) as usize];
        }
        f.write_str(std::str::from_utf8(&out).expect("hex is ASCII"))
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({self})")
    }
}

/// The root of the empty tree: SHA-256 of the empty string (RFC 9162 §2.1.1).
pub const EMPTY_ROOT: Hash = Hash([
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
]);

/// The lowest level of perfect subtrees a [`MerkleLog`] keeps (level 0 is the
/// leaves, which it always keeps); the levels in between are hashed again from
/// the leaves when needed. See the module docs for what this costs.
pub const DENSE_LEVEL: u32 = 4;

/// `SHA-256(0x00 || entry)`: the hash of a leaf (RFC 9162 §2.1.1).
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry);
    Hash(h.finalize().into())
}

/// `SHA-256(0x01 || left || right)`: the hash of an inner node (RFC 9162 §2.1.1).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut buf = [0u8; 65];
    buf[0] = 1;
    buf[1..33].copy_from_slice(&left.0);
    buf[33..].copy_from_slice(&right.0);
    Hash(Sha256::digest(buf).into())
}

/// The largest power of two strictly less than `n` (the RFC's `k`); `n >= 2`.
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// The right edge of a tree: the roots of its complete perfect subtrees, largest
/// first (one for each bit set in its size). Enough to compute the root and to
/// append, in O(log n) memory: what a verifier needs to recompute a root from
/// all the entries.
#[derive(Clone, Debug, Default)]
pub struct Frontier {
    size: u64,
    stack: Vec<Hash>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a leaf by its hash (see [`leaf_hash`]).
    pub fn push_leaf_hash(&mut self, leaf: Hash) {
        self.push_with(leaf, |_, _| {});
    }

    /// Appends an entry (hashed with [`leaf_hash`]).
    pub fn push(&mut self, entry: &[u8]) {
        self.push_leaf_hash(leaf_hash(entry));
    }

    /// Appends a leaf; `completed(level, hash)` sees every perfect subtree the
    /// leaf completes, from level 1 upwards.
    fn push_with(&mut self, leaf: Hash, mut completed: impl FnMut(u32, Hash)) {
        let mut hash = leaf;
        let mut level = 0;
        let mut n = self.size;
        while n & 1 == 1 {
            let left = self.stack.pop().expect("one subtree per bit of the size");
            hash = node_hash(&left, &hash);
            level += 1;
            completed(level, hash);
            n >>= 1;
        }
        self.stack.push(hash);
        self.size += 1;
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The tree's root (RFC 9162 §2.1.1's MTH); [`EMPTY_ROOT`] when empty.
    pub fn root(&self) -> Hash {
        let mut it = self.stack.iter().rev();
        match it.next() {
            None => EMPTY_ROOT,
            Some(&last) => it.fold(last, |right, left| node_hash(left, &right)),
        }
    }
}

/// Wrong arguments to a [`MerkleLog`] (a size it has not reached, an index
/// outside the tree).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TreeError {
    /// The log has not reached that size yet.
    #[error("tree size {size} is beyond the log, which holds {log_size} entries")]
    SizeBeyondLog {
        /// The size asked for.
        size: u64,
        /// The log's size.
        log_size: u64,
    },
    /// The index is not that of a leaf of the tree.
    #[error("leaf index {index} is not inside a tree of {size} entries")]
    IndexOutOfRange {
        /// The index asked for.
        index: u64,
        /// The size of the tree.
        size: u64,
    },
    /// A consistency proof goes from a smaller tree to a larger one.
    #[error("old tree size {old_size} is larger than new tree size {new_size}")]
    OldLargerThanNew {
        /// The old size.
        old_size: u64,
        /// The new size.
        new_size: u64,
    },
}

/// An append-only Merkle log held in memory: roots at every size it has had,
/// inclusion proofs and consistency proofs between any two of those sizes.
///
/// ```
/// use parley_record::{leaf_hash, verify_consistency, verify_inclusion, MerkleLog};
/// let mut log = MerkleLog::new();
/// for entry in ["a", "b", "c", "d", "e"] {
///     log.append(entry.as_bytes());
/// }
/// let proof = log.inclusion_proof(2, 4).unwrap();
/// verify_inclusion(&leaf_hash(b"c"), 2, 4, &proof, &log.root_at(4).unwrap()).unwrap();
/// let proof = log.consistency_proof(3, 5).unwrap();
/// verify_consistency(3, 5, &log.root_at(3).unwrap(), &log.root(), &proof).unwrap();
/// ```
#[derive(Clone, Debug, Default)]
pub struct MerkleLog {
    frontier: Frontier,
    /// `levels[0]`: the leaf hashes; `levels[k]` for `k >= DENSE_LEVEL`: the
    /// hashes of the complete perfect subtrees of 2^k leaves, left to right;
    /// the levels in between stay empty.
    levels: Vec<Hashes>,
}

/// Bits of the number of hashes in a full chunk of [`Hashes`].
const CHUNK_BITS: u32 = 16;
const CHUNK: usize = 1 << CHUNK_BITS;
/// Hashes in a full chunk of a [`MerkleLog`]'s leaves (see
/// [`MerkleLog::from_leaf_chunks`]).
pub const CHUNK_HASHES: usize = CHUNK;

/// A list of hashes in chunks of [`CHUNK`]: growing never copies more than one
/// chunk and leaves at most one chunk's slack, where one `Vec` would double
/// (copying, and up to half of it unused). The first chunk grows as a `Vec`
/// does, so a small log stays small. Chunks are shared between clones (a
/// full chunk never changes), so a clone of the log costs a count a chunk.
#[derive(Clone, Debug, Default)]
struct Hashes {
    chunks: Vec<Arc<Vec<Hash>>>,
}

impl Hashes {
    fn push(&mut self, hash: Hash) {
        match self.chunks.last_mut() {
            // Copied first only if a clone shares it (once per clone).
            Some(last) if last.len() < CHUNK => Arc::make_mut(last).push(hash),
            _ => {
                let mut chunk = Vec::with_capacity(if self.chunks.is_empty() { 16 } else { CHUNK });
                chunk.push(hash);
                self.chunks.push(Arc::new(chunk));
            }
        }
    }

    fn get(&self, index: u64) -> Option<Hash> {
        let chunk = self
            .chunks
            .get(usize::try_from(index >> CHUNK_BITS).ok()?)?;
        chunk.get((index & (CHUNK as u64 - 1)) as usize).copied()
    }

    fn heap_bytes(&self) -> usize {
        self.chunks.capacity() * std::mem::size_of::<Arc<Vec<Hash>>>()
            + self
                .chunks
                .iter()
                .map(|c| c.capacity() * std::mem::size_of::<Hash>())
                .sum::<usize>()
    }
}

impl MerkleLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an entry (hashed with [`leaf_hash`]); returns its index.
    pub fn append(&mut self, entry: &[u8]) -> u64 {
        self.append_leaf_hash(leaf_hash(entry))
    }

    /// Appends a leaf by its hash; returns its index.
    pub fn append_leaf_hash(&mut self, leaf: Hash) -> u64 {
        let index = self.frontier.size();
        if self.levels.is_empty() {
            self.levels.push(Hashes::default());
        }
        self.levels[0].push(leaf);
        let levels = &mut self.levels;
        self.frontier.push_with(leaf, |level, hash| {
            if level >= DENSE_LEVEL {
                let level = level as usize;
                if levels.len() <= level {
                    levels.resize_with(level + 1, Hashes::default);
                }
                levels[level].push(hash);
            }
        });
        index
    }

    /// The log of these leaf hashes, as appending them one by one gives it,
    /// with the hashing of each perfect subtree of 2^[`DENSE_LEVEL`] leaves
    /// (nearly all of it) spread over `threads` threads: a start rebuilds a
    /// tree of ten million leaves in a fraction of the time.
    pub fn from_leaf_hashes(leaves: &[Hash], threads: usize) -> MerkleLog {
        const GROUP: usize = 1 << DENSE_LEVEL;
        let groups = leaves.len() / GROUP;
        let per_thread = groups.div_ceil(threads.max(1)).max(1);
        let group_hash = |group: &[Hash]| -> Hash {
            let mut level = [Hash([0; 32]); GROUP];
            level.copy_from_slice(group);
            let mut width = GROUP;
            while width > 1 {
                width /= 2;
                for i in 0..width {
                    level[i] = node_hash(&level[2 * i], &level[2 * i + 1]);
                }
            }
            level[0]
        };
        let subtrees: Vec<Hash> = std::thread::scope(|scope| {
            let running: Vec<_> = leaves[..groups * GROUP]
                .chunks(per_thread * GROUP)
                .map(|part| {
                    scope.spawn(move || part.chunks(GROUP).map(group_hash).collect::<Vec<_>>())
                })
                .collect();
            running
                .into_iter()
                .flat_map(|r| r.join().expect("hashing does not panic"))
                .collect()
        });
        let chunks = leaves.chunks(CHUNK).map(<[Hash]>::to_vec).collect();
        Self::from_leaf_chunks(chunks, &subtrees)
            .expect("whole chunks, one subtree hash for each 2^DENSE_LEVEL leaves")
    }

    /// The log of these leaf hashes, in chunks of [`CHUNK_HASHES`] (the last
    /// may be shorter), given also the hashes of its perfect subtrees of
    /// 2^[`DENSE_LEVEL`] leaves (`subtrees[i]` over leaves `16 i .. 16 i +
    /// 16`; [`MerkleLog::level_bytes`] of that level gives them): only the
    /// levels above them are hashed, and the chunks become the log's own
    /// (not copied), so a log saved with its subtrees (a snapshot) is back
    /// in a small fraction of the time and memory traffic. The caller
    /// vouches that the subtrees are the leaves' (a checksum over both):
    /// this is not checked. `None` when a chunk but the last is not full or
    /// there is not one subtree for each whole group of leaves.
    pub fn from_leaf_chunks(mut chunks: Vec<Vec<Hash>>, subtrees: &[Hash]) -> Option<MerkleLog> {
        const GROUP: usize = 1 << DENSE_LEVEL;
        let n: usize = chunks.iter().map(Vec::len).sum();
        let whole = chunks.iter().rev().skip(1).all(|c| c.len() == CHUNK);
        if !whole || chunks.last().is_some_and(Vec::is_empty) || subtrees.len() != n / GROUP {
            return None;
        }
        // A chunk holds whole groups, so the leaves after the last whole
        // group are at the end of the last chunk; they are appended after.
        let tail = match chunks.last_mut() {
            Some(last) => last.split_off(last.len() - n % GROUP),
            None => Vec::new(),
        };
        if chunks.last().is_some_and(Vec::is_empty) {
            chunks.pop();
        }
        let mut log = MerkleLog::new();
        log.levels.push(Hashes {
            chunks: chunks.into_iter().map(Arc::new).collect(),
        });
        // The frontier of the perfect subtrees, as appending their leaves
        // leaves it: each one a "leaf" at level DENSE_LEVEL.
        for &subtree in subtrees {
            let mut hash = subtree;
            let mut level = DENSE_LEVEL;
            let mut n = log.frontier.size >> DENSE_LEVEL;
            loop {
                if log.levels.len() <= level as usize {
                    log.levels.resize_with(level as usize + 1, Hashes::default);
                }
                log.levels[level as usize].push(hash);
                if n & 1 == 0 {
                    break;
                }
                let left = log
                    .frontier
                    .stack
                    .pop()
                    .expect("one subtree per bit of the size");
                hash = node_hash(&left, &hash);
                level += 1;
                n >>= 1;
            }
            log.frontier.stack.push(hash);
            log.frontier.size += GROUP as u64;
        }
        for leaf in tail {
            log.append_leaf_hash(leaf);
        }
        Some(log)
    }

    /// The hashes the log keeps of `level` (0: the leaves; [`DENSE_LEVEL`]
    /// and up: the complete perfect subtrees of 2^`level` leaves, left to
    /// right), 32 bytes each; empty for the levels in between.
    pub fn level_bytes(&self, level: u32) -> Vec<u8> {
        let Some(hashes) = self.levels.get(level as usize) else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(hashes.chunks.iter().map(|c| c.len() * 32).sum());
        for chunk in &hashes.chunks {
            for hash in chunk.iter() {
                out.extend_from_slice(&hash.0);
            }
        }
        out
    }

    /// The number of entries.
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    /// The hash of leaf `index`, if there is one.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        self.levels.first()?.get(index)
    }

    /// The current root.
    pub fn root(&self) -> Hash {
        self.frontier.root()
    }

    /// The root the log had when it held `size` entries.
    pub fn root_at(&self, size: u64) -> Result<Hash, TreeError> {
        self.check_size(size)?;
        Ok(self.mth(0, size))
    }

    /// The inclusion proof of leaf `index` in the tree of the first `size`
    /// entries: RFC 9162 §2.1.3.1's `PATH(index, D[size])`, from the leaf's
    /// sibling up.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, TreeError> {
        self.check_size(size)?;
        if index >= size {
            return Err(TreeError::IndexOutOfRange { index, size });
        }
        let mut proof = Vec::with_capacity(64);
        self.path(index, 0, size, &mut proof);
        Ok(proof)
    }

    /// The consistency proof between the trees of the first `old_size` and
    /// `new_size` entries: RFC 9162 §2.1.4.1's `PROOF(old_size, D[new_size])`.
    /// Empty when `old_size` is 0 or equal to `new_size` (the RFC defines
    /// proofs for `0 < old_size < new_size` only; see [`verify_consistency`]).
    pub fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>, TreeError> {
        self.check_size(new_size)?;
        if old_size > new_size {
            return Err(TreeError::OldLargerThanNew { old_size, new_size });
        }
        let mut proof = Vec::with_capacity(64);
        if old_size > 0 && old_size < new_size {
            self.subproof(old_size, 0, new_size, true, &mut proof);
        }
        Ok(proof)
    }

    /// The root of the perfect subtree of 2^`level` leaves whose leftmost
    /// leaf is `index << level` (a hash of C2SP tlog-tiles' level-`level`
    /// row), if the log holds all its leaves.
    pub fn subtree_hash(&self, level: u32, index: u64) -> Result<Hash, TreeError> {
        let end = index
            .checked_add(1)
            .and_then(|n| n.checked_mul(1u64.checked_shl(level)?))
            .unwrap_or(u64::MAX);
        self.check_size(end)?;
        Ok(self.perfect(level, index))
    }

    /// Heap bytes held by the log's hashes (what is allocated, not only used).
    pub fn heap_bytes(&self) -> usize {
        self.levels.iter().map(Hashes::heap_bytes).sum()
    }

    fn check_size(&self, size: u64) -> Result<(), TreeError> {
        if size > self.size() {
            return Err(TreeError::SizeBeyondLog {
                size,
                log_size: self.size(),
            });
        }
        Ok(())
    }

    /// The root of the perfect subtree of 2^level leaves whose leftmost leaf is
    /// `index << level`; it must be complete in the log.
    fn perfect(&self, level: u32, index: u64) -> Hash {
        if level == 0 || level >= DENSE_LEVEL {
            self.levels[level as usize]
                .get(index)
                .expect("a complete perfect subtree is stored")
        } else {
            node_hash(
                &self.perfect(level - 1, 2 * index),
                &self.perfect(level - 1, 2 * index + 1),
            )
        }
    }

    /// MTH(D[start:start+n]) for a range the RFC's recursion reaches (so a
    /// power-of-two range is aligned to its size).
    fn mth(&self, start: u64, n: u64) -> Hash {
        if n == 0 {
            EMPTY_ROOT
        } else if n.is_power_of_two() {
            let level = n.trailing_zeros();
            self.perfect(level, start >> level)
        } else {
            let k = split(n);
            node_hash(&self.mth(start, k), &self.mth(start + k, n - k))
        }
    }

    /// PATH(m, D[start:start+n]), appended to `out`.
    fn path(&self, m: u64, start: u64, n: u64, out: &mut Vec<Hash>) {
        if n <= 1 {
            return;
        }
        let k = split(n);
        if m < k {
            self.path(m, start, k, out);
            out.push(self.mth(start + k, n - k));
        } else {
            self.path(m - k, start + k, n - k, out);
            out.push(self.mth(start, k));
        }
    }

    /// SUBPROOF(m, D[start:start+n], b), appended to `out`.
    fn subproof(&self, m: u64, start: u64, n: u64, b: bool, out: &mut Vec<Hash>) {
        if m == n {
            if !b {
                out.push(self.mth(start, n));
            }
            return;
        }
        let k = split(n);
        if m <= k {
            self.subproof(m, start, k, b, out);
            out.push(self.mth(start + k, n - k));
        } else {
            self.subproof(m - k, start + k, n - k, false, out);
            out.push(self.mth(start, k));
        }
    }
}

/// The proofs this log makes are checked there.
pub use crate::proof::{verify_consistency, verify_inclusion, ProofError};
