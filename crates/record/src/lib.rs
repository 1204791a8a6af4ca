//! Parley's record, the pure core: the tamper-evident history of a line that
//! no party has to take on trust, with no I/O, no clock and no randomness.
//!
//! The service appends every journal entry of a line to a Merkle log and
//! publishes signed checkpoints of it; a party keeps the checkpoints it has
//! seen and can later prove, offline and with the log's public key alone, that
//! an entry is in the record, that the record only ever grew, and that nobody
//! was shown a different history.
//!
//! - [`tree`]: the RFC 9162 §2.1 Merkle tree over SHA-256. [`MerkleLog`] appends
//!   entries and proves inclusion ([`MerkleLog::inclusion_proof`]) and
//!   consistency ([`MerkleLog::consistency_proof`]) at any size it has had;
//!   [`verify_inclusion`] and [`verify_consistency`] check those proofs.
//! - [`checkpoint`]: a [`Checkpoint`] (C2SP tlog-checkpoint: origin, size, root,
//!   time) signed by a [`Signer`] as a C2SP signed note with Ed25519, read back
//!   by [`SignedCheckpoint::parse_and_verify`] with a [`VerifierKey`].
//! - [`verify`]: what an offline verifier checks: [`split_view`],
//!   [`verify_chain`] of checkpoints, [`verify_entries`] of a whole export.
//! - [`witness`]: witnessing (C2SP tlog-witness, tlog-cosignature): a
//!   [`Cosigner`] and its `cosignature/v1` lines, checked by a [`CosignerKey`];
//!   the [`AddCheckpoint`] request and the witness's decision,
//!   [`check_add_checkpoint`].
//! - [`tiles`]: the record as C2SP tlog-tiles: a [`TilePath`] and the bytes
//!   of a hash tile.
//! - [`policy`]: a C2SP tlog-policy [`Policy`] (logs, witnesses, groups,
//!   quorum) and [`Policy::check`] of a cosigned checkpoint.
//!
//! ```
//! use parley_record::*;
//! let mut log = MerkleLog::new();
//! for entry in ["notice 1", "ack 1", "notice 2"] {
//!     log.append(entry.as_bytes());
//! }
//! let signer = Signer::from_seed("parley.example/log", &[7; 32]).unwrap();
//! let key = signer.verifier_key().to_string(); // what a party saves: one line
//! let checkpoint = Checkpoint {
//!     origin: Origin::new("parley.example/line/syria-air").unwrap(),
//!     size: log.size(),
//!     root: log.root(),
//!     time_us: 1_763_779_200_000_000,
//! };
//! let note = checkpoint.sign(&signer);
//!
//! // A party, offline:
//! let key = VerifierKey::parse(&key).unwrap();
//! let seen = SignedCheckpoint::parse_and_verify(&note, &key).unwrap();
//! let proof = log.inclusion_proof(1, seen.size).unwrap();
//! verify_inclusion(&leaf_hash(b"ack 1"), 1, seen.size, &proof, &seen.root).unwrap();
//! ```
#![deny(missing_docs)]

pub mod checkpoint;
pub mod policy;
pub mod proof;
pub mod tiles;
pub mod tree;
pub mod verify;
pub mod witness;

pub use checkpoint::{Checkpoint, NoteError, Origin, SignedCheckpoint, Signer, VerifierKey};
pub use policy::{Accepted, Policy, PolicyError};
pub use tiles::{TilePath, TilePathError, TILE_WIDTH};
pub use tree::{
    leaf_hash, node_hash, verify_consistency, verify_inclusion, Frontier, Hash, MerkleLog,
    ProofError, TreeError, CHUNK_HASHES, DENSE_LEVEL, EMPTY_ROOT,
};
pub use verify::{root_of, split_view, verify_chain, verify_entries, ChainError};
pub use witness::{
    check_add_checkpoint, AddCheckpoint, Cosigner, CosignerKey, Decision, Refusal, RequestError,
    TreeHead, Witnessed,
};
