//! The tamper-evident record as each party may read it: inclusion proofs,
//! consistency proofs and exports, filtered by audience.

use super::State;
use crate::entry::{Entry, Logged};
use crate::error::ServiceError;
use crate::model::Actor;
use crate::record::{hex_all, leaf_text};
use parley_record::Hash;
use parley_record::MerkleLog;
use serde_json::{json, Value};

impl State {
    /// The record's Merkle log (for its tiles).
    pub fn record(&self) -> &MerkleLog {
        &self.record
    }

    /// The record's size and root.
    pub fn record_head(&self) -> (u64, Hash) {
        (self.record.size(), self.record.root())
    }

    /// Entry `seq` as a leaf with its inclusion proof in the tree of `size`
    /// entries, if `actor` may see the entry.
    pub fn inclusion(&self, actor: &Actor, seq: u64, size: u64) -> Result<Value, ServiceError> {
        let logged = self
            .log
            .get(seq)
            .filter(|l| self.sees_entry(actor, l))
            .ok_or_else(|| ServiceError::NotFound(format!("record entry {seq}")))?;
        let mut receipt = self.leaf_proof(&logged, size)?;
        if let Entry::Notice { content, .. } = &logged.entry {
            // The leaf holds the content's hash; the text goes with the receipt.
            receipt["content"] = Value::from(content.get());
        }
        Ok(receipt)
    }

    /// Logged entry `l` as a leaf (its text and hash) with its inclusion proof
    /// in the tree of `size` entries: the body of a receipt, whoever asks
    /// (callers check who may see it).
    pub(crate) fn leaf_proof(&self, l: &Logged, size: u64) -> Result<Value, ServiceError> {
        let proof = self
            .record
            .inclusion_proof(l.seq - 1, size)
            .map_err(|e| ServiceError::invalid("/size", e.to_string()))?;
        let hash = self.record.leaf(l.seq - 1).expect("every entry is a leaf");
        Ok(
            json!({"seq": l.seq, "leaf_index": l.seq - 1, "tree_size": size,
                  "leaf": leaf_text(l), "leaf_hash": hash.to_string(),
                  "proof": hex_all(&proof)}),
        )
    }

    /// The receipt of entry `seq` in the tree of `size` entries for the
    /// `actor` who wrote it, if it may see the entry (a writer always may:
    /// each write's first entry is in its party's audience, or the host's).
    pub(crate) fn writer_receipt(&self, actor: &Actor, seq: u64, size: u64) -> Option<Value> {
        let logged = self.log.get(seq)?;
        if !self.sees_entry(actor, &logged) {
            return None;
        }
        self.leaf_proof(&logged, size).ok()
    }

    /// Entries `after + 1 ..= upto` of the record as `actor`'s party may hold
    /// them, one JSON line an entry (each ending in a newline), in journal
    /// order: the leaf text (and a notice's content) of each entry it may see
    /// (on `line`, if given), only the leaf hash of the others. Every position
    /// is there, so the root can be rebuilt. Exports are read in slices like
    /// this so that a long record never holds the state for long.
    pub fn export(&self, actor: &Actor, line: Option<&str>, after: u64, upto: u64) -> String {
        let mut out = String::new();
        for l in self.log.range(after, upto).iter() {
            let visible =
                self.sees_entry(actor, l) && line.is_none_or(|want| l.entry.line() == Some(want));
            if visible {
                let mut v = json!({"seq": l.seq, "leaf": leaf_text(l)});
                if let Entry::Notice { content, .. } = &l.entry {
                    v["content"] = Value::from(content.get());
                }
                out.push_str(&v.to_string());
            } else {
                let hash = self.record.leaf(l.seq - 1).expect("every entry is a leaf");
                out.push_str(&format!("{{\"seq\":{},\"leaf_hash\":\"{hash}\"}}", l.seq));
            }
            out.push('\n');
        }
        out
    }

    /// A proof that the tree of `to` entries extends the tree of `from`.
    pub fn consistency(&self, from: u64, to: u64) -> Result<Value, ServiceError> {
        let proof = self
            .record
            .consistency_proof(from, to)
            .map_err(|e| ServiceError::invalid("/from", e.to_string()))?;
        let root = |n| {
            self.record
                .root_at(n)
                .map(|h| h.to_string())
                .unwrap_or_default()
        };
        Ok(
            json!({"from": from, "to": to, "from_root": root(from), "to_root": root(to),
                  "proof": hex_all(&proof)}),
        )
    }

    /// Entries after `after` that `actor` may see, at most `limit`; those
    /// that left memory are read from the store a slice at a time.
    pub fn events_after(&self, actor: &Actor, after: u64, limit: usize) -> Vec<Logged> {
        self.events_page(actor, after, limit, u64::MAX).0
    }

    /// [`State::events_after`] looking at no more than `scan` entries (the
    /// caller holds the state's lock, and the writer waits for it): the
    /// entries found and the last position looked at, from which the next
    /// page goes on.
    pub fn events_page(
        &self,
        actor: &Actor,
        after: u64,
        limit: usize,
        scan: u64,
    ) -> (Vec<Logged>, u64) {
        const SLICE: u64 = 1_024;
        let end = self.last_seq().min(after.saturating_add(scan));
        let mut out = Vec::new();
        let mut from = after;
        while from < end && out.len() < limit {
            let slice = self.log.range(from, end.min(from + SLICE));
            if slice.is_empty() {
                break; // unreadable now: said on stderr; the next page tries again
            }
            for l in slice.iter() {
                from = l.seq;
                if self.sees_entry(actor, l) {
                    out.push(l.clone());
                    if out.len() == limit {
                        break;
                    }
                }
            }
        }
        (out, from)
    }
}
