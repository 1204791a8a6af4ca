//! The receipt every write answer carries (`receipt`, when the write logged
//! an entry), documented once and added to every POST's success answers by
//! `Conventions`.

use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::ToSchema;

/// The signed receipt of a write: its first entry's position and leaf (text
/// and hash), the inclusion proof, and a checkpoint of the record that holds
/// it, signed by the server's record key at the commit. `parley verify
/// receipt FILE` checks it offline; an idempotent retry is answered the same
/// receipt. The same form as `GET /v1/record/entries/{seq}/receipt` (without
/// a notice's content, which the writer sent).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct WriteReceipt {
    /// The entry's journal position, from 1.
    seq: u64,
    /// Its leaf index in the record (`seq - 1`).
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
    /// The checkpoint (C2SP signed note) of `tree_size` entries, signed by the server.
    checkpoint: String,
    /// The server's verifier key (`name+id+base64`).
    key: String,
}

/// Adds the optional `receipt` to the JSON body of each success answer of
/// a write.
pub(super) fn add_receipt(operation: &mut Operation) {
    for (status, response) in operation.responses.responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        if !status.starts_with('2') {
            continue;
        }
        if let Some(RefOr::T(content)) = response.content.get_mut("application/json") {
            let receipt = ObjectBuilder::new()
                .schema_type(Type::Object)
                .property("receipt", Ref::from_schema_name("WriteReceipt"));
            let body = match content.schema.take() {
                Some(original) => AllOfBuilder::new().item(original).item(receipt).into(),
                None => receipt.into(),
            };
            content.schema = Some(body);
            response.description.push_str(
                " With `receipt` (`WriteReceipt`) when the write logged an entry: its signed receipt.",
            );
        }
    }
}
