//! The tamper-evident record: every journal entry is a leaf of an RFC 9162
//! Merkle tree (`parley-record`), in journal order, so that leaf `seq - 1` is
//! entry `seq`. The service signs checkpoints of the tree with its key; a
//! receipt (the leaf's text, its inclusion proof and a signed checkpoint) lets a
//! party prove offline what it was told and when.

use crate::entry::{Entry, Logged, SignedBy};
use crate::model::NoticeState;
use parley_record::{Checkpoint, Hash, Origin, Signer};
use serde::Serialize;

/// The record's origin line in every checkpoint, unless the deployment
/// names its record otherwise (`parley serve --origin`).
pub const ORIGIN: &str = "parley.local/record";

/// A notice in the record: its content by hash only. The content itself goes
/// with a receipt, checked against the hash; the record stays small, and a
/// party's export can hold another's notice as the hash alone.
#[derive(Serialize)]
#[serde(tag = "kind", rename = "notice")]
struct NoticeLeaf<'a> {
    activity: &'a str,
    line: &'a str,
    party: &'a str,
    operator: &'a str,
    version: u64,
    state: &'a NoticeState,
    content_sha256: &'a str,
    late: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    signed: &'a Option<SignedBy>,
}

/// The text of entry `l` as a leaf: compact JSON of its position, time,
/// salt, audience and content (a notice's content by its hash). Token hashes are left
/// out (as in every answer), so a receipt never carries one.
pub fn leaf_text(l: &Logged) -> String {
    let entry = match &l.entry {
        Entry::OperatorCreated { .. } => l.entry.public_json().to_string(),
        Entry::Notice {
            activity,
            line,
            party,
            operator,
            version,
            state,
            content_sha256,
            late,
            signed,
            ..
        } => serde_json::to_string(&NoticeLeaf {
            activity,
            line,
            party,
            operator,
            version: *version,
            state,
            content_sha256,
            late: *late,
            signed,
        })
        .expect("notices serialize"),
        e => serde_json::to_string(e).expect("entries serialize"),
    };
    let audience = serde_json::to_string(&l.audience).expect("strings serialize");
    // Entries logged before salts keep the leaf they had.
    let salt = l
        .salt
        .as_ref()
        .map(|s| format!("\"salt\":\"{s}\","))
        .unwrap_or_default();
    format!(
        "{{\"seq\":{},\"at_us\":{},{salt}\"audience\":{audience},\"entry\":{entry}}}",
        l.seq, l.at_us
    )
}

/// The signed checkpoint of a tree of `size` entries with `root`, at `time_us`;
/// its origin is the signer's name ([`ORIGIN`] unless the deployment chose
/// its own), as C2SP tlog-policy asks of a log's key.
pub fn signed_checkpoint(signer: &Signer, size: u64, root: Hash, time_us: i64) -> String {
    Checkpoint {
        origin: Origin::new(signer.name()).expect("a key name is a valid origin"),
        size,
        root,
        time_us: time_us.max(0) as u64,
    }
    .sign(signer)
}

/// Hashes as lower-case hex, for answers.
pub fn hex_all(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(Hash::to_string).collect()
}
