//! Receipts given with every write answer: a write that logged entries is
//! answered with the receipt of its first entry (its position, its leaf text
//! and hash, its inclusion proof) against a checkpoint of the record signed
//! by the server's key, the same receipt `GET /v1/record/entries/{seq}/receipt`
//! gives (without a notice's content, which the writer sent). One checkpoint
//! is signed per batch of the group commit, of the tree as the batch leaves
//! it, so a batch of a thousand writes costs one signature. The receipt goes
//! into the answer before the idempotency record is kept, so a retry with the
//! same key is answered the original receipt.

use crate::model::Actor;
use crate::record::signed_checkpoint;
use crate::state::State;
use parley_record::Signer;
use serde_json::Value;

/// A write of the batch that logged entries and is owed a receipt.
pub(crate) struct Owed {
    /// Its place among the batch's answers.
    pub answer: usize,
    /// Its place among the batch's new idempotency records, if it has one.
    pub record: Option<usize>,
    /// The position of its first entry.
    pub seq: u64,
    /// Who wrote it: the receipt is given only if it may see the entry.
    pub actor: Actor,
}

/// The receipts of `owed`, in order (none for an entry its writer may not
/// see), against one checkpoint of the tree as it is now, signed at `now_us`.
pub(crate) fn sign_batch(
    state: &State,
    signer: &Signer,
    now_us: i64,
    owed: &[Owed],
) -> Vec<Option<Value>> {
    let (size, root) = state.record_head();
    let checkpoint = Value::from(signed_checkpoint(signer, size, root, now_us));
    let key = Value::from(signer.verifier_key().to_string());
    owed.iter()
        .map(|o| {
            let mut receipt = state.writer_receipt(&o.actor, o.seq, size)?;
            receipt["checkpoint"] = checkpoint.clone();
            receipt["key"] = key.clone();
            Some(receipt)
        })
        .collect()
}
