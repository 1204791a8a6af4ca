//! Federation's protocol, the pure part: what one node sends another.
//!
//! Each node keeps, per federated line, a log of the entries it authors on
//! the line (an RFC 9162 tree over each entry's JSON text). A **delivery**
//! carries a run of that log to one of the line's other nodes with a
//! checkpoint of the log signed by the node's record key (origin
//! `<node>/lines/<line>`). The receiver keeps the sender's whole log, so it
//! rebuilds the root itself from what it held and what arrived: a delivery
//! whose root differs (an entry rewritten, dropped or reordered) is refused
//! and kept as evidence. The receiver answers with its **receipt**: the
//! receipt of its own `Received` entry under its own signed record
//! checkpoint, which the sender checks and keeps (`Entry::Delivered`).

use crate::error::ServiceError;
use crate::hashing::sha256_hex;
use crate::model::Actor;
use crate::service::Service;
use parley_record::{
    leaf_hash, verify_inclusion, Checkpoint, Frontier, Hash, MerkleLog, Origin, SignedCheckpoint,
    VerifierKey,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A run of a node's log on a line, as it travels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// The sending node (its record's origin).
    pub from: String,
    /// The line.
    pub line: String,
    /// The index in the sender's log of the first entry given.
    pub first: u64,
    /// Entries `first..` of the log, each the exact JSON text that is its leaf.
    pub entries: Vec<String>,
    /// The sender's signed checkpoint of its log, of size `first + entries.len()`.
    pub checkpoint: String,
    /// The latest signed checkpoints the sender holds of the line's other
    /// nodes' logs: the receiver checks each against its own copy, so a node
    /// that tells two peers two stories is caught by either.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub heads: Vec<String>,
}

impl Service {
    /// The next delivery this node owes `node` of its log on `line` (at most
    /// [`crate::MAX_DELIVERY`] entries), under a checkpoint signed now.
    pub fn delivery(&self, node: &str, line: &str) -> Result<Option<Delivery>, ServiceError> {
        let Some((first, entries, root)) = self.read(|s| s.owed_to(node, line)) else {
            return Ok(None);
        };
        let checkpoint = self.sign_line_log(line, first + entries.len() as u64, root)?;
        let heads = self.read(|s| s.heads_for(node, line));
        Ok(Some(Delivery {
            from: self.signer()?.name().to_string(),
            line: line.to_string(),
            first,
            entries,
            checkpoint,
            heads,
        }))
    }

    /// A checkpoint of this node's log on `line`, signed now.
    fn sign_line_log(&self, line: &str, size: u64, root: Hash) -> Result<String, ServiceError> {
        let signer = self.signer()?;
        let origin = Origin::new(&line_log_origin(signer.name(), line))
            .map_err(|e| ServiceError::invalid("/line", e.to_string()))?;
        Ok(Checkpoint {
            origin,
            size,
            root,
            time_us: self.now().max(0) as u64,
        }
        .sign(signer))
    }

    /// A federated line's logs as this node holds them, for `actor` to
    /// check offline (`parley verify federation`) beside the other nodes'
    /// own: this node's log with a checkpoint of it signed now, and what it
    /// holds of each other node's log, their receipts and cosignatures.
    pub fn line_logs(&self, actor: &Actor, line: &str) -> Result<serde_json::Value, ServiceError> {
        let logs = self.read(|s| s.line_logs(actor, line))?;
        let checkpoint = self.sign_line_log(line, logs.entries.len() as u64, logs.root)?;
        Ok(serde_json::json!({
            "format": "parley-line-logs/v1",
            "line": line,
            "node": self.signer()?.name(),
            "node_key": self.record_key()?,
            "cosigner_key": self.cosigner_key()?,
            "checkpoint": checkpoint,
            "entries": logs.entries,
            "nodes": logs.nodes,
        }))
    }

    /// This node's cosignature (a C2SP `cosignature/v1` line, now) of a
    /// peer's checkpoint it has checked against all it held of that log:
    /// each node witnesses its peers' logs.
    pub fn cosign(&self, checkpoint: &str) -> Result<String, ServiceError> {
        let body = checkpoint
            .split_once("\n\n")
            .map(|(body, _)| format!("{body}\n"))
            .ok_or_else(|| ServiceError::invalid("/checkpoint", "not a signed note"))?;
        let now_s = (self.now().max(0) / 1_000_000) as u64;
        Ok(self.cosigner()?.cosign(&body, now_s))
    }

    /// This node's cosigner key (tlog-cosignature), which its peers are given
    /// with its record key.
    pub fn cosigner_key(&self) -> Result<String, ServiceError> {
        Ok(self.cosigner()?.cosigner_key().to_string())
    }
}

/// An entry as it goes into its author's log on a line: with when the
/// author logged it (deadlines run from then on every node).
#[derive(Serialize, Deserialize)]
pub(crate) struct Sent {
    pub(crate) at_us: i64,
    pub(crate) entry: crate::entry::Entry,
}

/// The leaf text of an entry logged at `at_us` in its author's line log.
pub(crate) fn leaf_of(at_us: i64, entry: &crate::entry::Entry) -> String {
    serde_json::to_string(&Sent {
        at_us,
        entry: entry.clone(),
    })
    .expect("entries serialize")
}

/// The `received` entry a peer's receipt proves in its record (checked
/// against `key`, the peer's record key: its checkpoint's signature and the
/// entry's inclusion); why not, in words, if it does not.
pub fn received_in(receipt: &Value, key: &VerifierKey) -> Result<Value, String> {
    let note = receipt["checkpoint"].as_str().ok_or("has no checkpoint")?;
    let cp =
        SignedCheckpoint::parse_and_verify(note, key).map_err(|_| "is not signed by its key")?;
    let leaf = receipt["leaf"].as_str().ok_or("has no leaf")?;
    let index = receipt["leaf_index"].as_u64().ok_or("has no leaf_index")?;
    let proof: Vec<Hash> = receipt["proof"]
        .as_array()
        .map(|p| {
            p.iter()
                .filter_map(|h| h.as_str().and_then(Hash::from_hex))
                .collect()
        })
        .unwrap_or_default();
    verify_inclusion(
        &leaf_hash(leaf.as_bytes()),
        index,
        cp.size,
        &proof,
        &cp.root,
    )
    .map_err(|_| "does not prove its entry in its record")?;
    let said: Value = serde_json::from_str(leaf).map_err(|_| "has an unreadable leaf")?;
    if said["entry"]["kind"] != "received" {
        return Err("proves no received entry".into());
    }
    Ok(said["entry"].clone())
}

/// The origin of node `node`'s log on `line`.
pub fn line_log_origin(node: &str, line: &str) -> String {
    format!("{node}/lines/{line}")
}

/// The id of the conflict between two notices' versions, the same on every
/// node that finds it: from the pair of their content hashes, in order.
pub fn conflict_id(a_content_sha256: &str, b_content_sha256: &str) -> String {
    let (x, y) = if a_content_sha256 <= b_content_sha256 {
        (a_content_sha256, b_content_sha256)
    } else {
        (b_content_sha256, a_content_sha256)
    };
    format!("c-{}", &sha256_hex(format!("{x}:{y}").as_bytes())[..16])
}

/// A node's log on a line: leaf hashes (hex, for the snapshot image) and the
/// tree over them.
#[derive(Default)]
pub(crate) struct LineLog {
    pub(crate) leaves: Vec<String>,
    pub(crate) tree: MerkleLog,
    /// The tree's right edge, to go on from without hashing it all again.
    pub(crate) frontier: Frontier,
}

impl Clone for LineLog {
    fn clone(&self) -> Self {
        LineLog::from_leaves(self.leaves.clone())
    }
}

impl LineLog {
    pub(crate) fn from_leaves(leaves: Vec<String>) -> LineLog {
        let mut tree = MerkleLog::new();
        let mut frontier = Frontier::new();
        for l in &leaves {
            let leaf = Hash::from_hex(l).unwrap_or_default();
            tree.append_leaf_hash(leaf);
            frontier.push_leaf_hash(leaf);
        }
        LineLog {
            leaves,
            tree,
            frontier,
        }
    }

    pub(crate) fn push(&mut self, leaf: Hash) {
        self.leaves.push(leaf.to_string());
        self.tree.append_leaf_hash(leaf);
        self.frontier.push_leaf_hash(leaf);
    }

    pub(crate) fn size(&self) -> u64 {
        self.leaves.len() as u64
    }
}

impl Serialize for LineLog {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.leaves.serialize(s)
    }
}

impl<'de> Deserialize<'de> for LineLog {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(LineLog::from_leaves(Vec::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conflict_has_one_id_whichever_side_finds_it() {
        assert_eq!(conflict_id("aa", "bb"), conflict_id("bb", "aa"));
        assert_ne!(conflict_id("aa", "bb"), conflict_id("aa", "cc"));
    }

    #[test]
    fn a_line_log_reads_back_its_tree() {
        let mut log = LineLog::default();
        for e in ["a", "b", "c"] {
            log.push(parley_record::leaf_hash(e.as_bytes()));
        }
        let again: LineLog = serde_json::from_str(&serde_json::to_string(&log).unwrap()).unwrap();
        assert_eq!(again.tree.root_at(3).unwrap(), log.tree.root_at(3).unwrap());
    }
}
