//! The tamper-evident record's answers, the service's health and the
//! document itself.

use serde::Serialize;
use utoipa::ToSchema;

/// A signed checkpoint of the record.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct Checkpoint {
    /// The tree's size (entries).
    size: u64,
    /// Its root, hex.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    root: String,
    /// The checkpoint (C2SP signed note), with one `cosignature/v1` line per
    /// witness in `cosigned_by` when it was witnessed.
    checkpoint: String,
    /// The server's verifier key (`name+id+base64`).
    key: String,
    /// Witnessed only: the witnesses that cosigned it.
    cosigned_by: Option<Vec<String>>,
    /// Witnessed only: the witnesses asked.
    witnesses_asked: Option<Vec<String>>,
}

/// A proof that the tree of `to` entries extends the tree of `from`.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct Consistency {
    from: u64,
    to: u64,
    /// The root of the tree of `from` entries, hex.
    from_root: String,
    /// The root of the tree of `to` entries, hex.
    to_root: String,
    /// RFC 9162 §2.1.4, hex hashes.
    proof: Vec<String>,
}

/// The receipt of one entry: its leaf, the inclusion proof and a checkpoint
/// of the tree that holds it. `parley verify receipt FILE` checks it offline.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct Receipt {
    /// The entry's journal position, from 1.
    seq: u64,
    /// Its leaf index (`seq - 1`).
    leaf_index: u64,
    /// The size of the tree the proof and the checkpoint are of.
    tree_size: u64,
    /// The entry as a leaf: compact JSON of seq, at_us, audience and entry.
    leaf: String,
    /// SHA-256 of `0x00 ‖ leaf` (RFC 9162), hex.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    leaf_hash: String,
    /// The inclusion proof (RFC 9162 §2.1.3), hex hashes.
    proof: Vec<String>,
    /// A notice's content as the text whose hash the leaf holds.
    content: Option<String>,
    /// The checkpoint (C2SP signed note) of `tree_size` entries.
    checkpoint: String,
    /// The server's verifier key.
    key: String,
    /// When the checkpoint was witnessed: the witnesses that cosigned it.
    cosigned_by: Option<Vec<String>>,
    /// When the checkpoint was witnessed: the witnesses asked.
    witnesses_asked: Option<Vec<String>>,
}

/// Whether the service takes writes.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    #[schema(pattern = "^ok$")]
    status: &'static str,
}

impl Health {
    pub const OK: Health = Health { status: "ok" };
}

/// An OpenAPI 3.1 document.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct OpenApiDocument {
    /// `3.1.0`.
    openapi: String,
    #[schema(value_type = Object)]
    info: serde_json::Value,
    #[schema(value_type = Object)]
    paths: serde_json::Value,
    #[schema(value_type = Object)]
    components: serde_json::Value,
}
