//! A peer's delivery taken in: checked against the peer's key and this
//! node's copy of its log, then each entry judged and logged; and a peer's
//! receipt for this node's own log checked before it is kept.

use super::judging::Refusal;
use super::{Checked, Refused};
use crate::entry::Entry;
use crate::error::ServiceError;
use crate::federation::{line_log_origin, Delivery, LineLog};
use crate::model::{Actor, WriteOutcome, HOST};
use crate::state::{Decision, State};
use parley_record::{
    leaf_hash, Checkpoint, CosignerKey, Frontier, Hash, SignedCheckpoint, VerifierKey,
};
use serde_json::{json, Value};

impl State {
    /// A delivery checked against the peer's key and what this node holds
    /// of its log; a signed delivery that contradicts what it sent before is
    /// misbehaviour, kept as evidence (`Command::KeepEvidence`).
    pub(super) fn check_delivery(&self, d: &Delivery) -> Result<Checked, Refused> {
        let peer = self.federation.peers.get(&d.from).ok_or_else(|| {
            Refused::Error(ServiceError::Forbidden(format!(
                "{} is not a peer of this node",
                d.from
            )))
        })?;
        let (cp, leaves) = match d.checked.get() {
            Some(c) => c.clone(),
            None => {
                let c = Self::check_signed(d, &peer.node_key)?;
                d.checked.get_or_init(|| c).clone()
            }
        };
        let held = self
            .federation
            .lines
            .get(&d.line)
            .and_then(|f| f.theirs.get(&d.from));
        let held_size = held.map_or(0, LineLog::size);
        if d.first > held_size {
            return Err(Refused::Error(ServiceError::Conflict(format!(
                "this node holds {held_size} entries of {}'s log on {}; deliver from there",
                d.from, d.line
            ))));
        }
        // The root from what is held and what arrived: the sender cannot have
        // changed an entry it sent before, or dropped or reordered one.
        for (i, leaf) in leaves.iter().enumerate() {
            let at = d.first + i as u64;
            if at < held_size {
                let kept = held.expect("held").tree.leaf(at).expect("held leaf");
                if kept != *leaf {
                    return Err(Refused::Misbehaved(format!(
                        "{} changed entry {at} of its log on {} after sending it (held {kept}, now {leaf})",
                        d.from, d.line
                    )));
                }
            }
        }
        // Checked already at a held size no larger: what was held then is
        // still held, and what came since is this delivery's own (above).
        if d.rooted_at.get().is_some_and(|&at| at <= held_size) {
            return Ok(Checked {
                size: cp.size,
                held_size,
                leaves,
            });
        }
        // What is held is checked already: go on from its right edge.
        let root = if cp.size <= held_size {
            held.and_then(|h| h.tree.root_at(cp.size).ok())
                .unwrap_or(parley_record::EMPTY_ROOT)
        } else {
            let mut frontier = held.map_or_else(Frontier::new, |h| h.frontier.clone());
            for leaf in &leaves[(held_size - d.first) as usize..] {
                frontier.push_leaf_hash(*leaf);
            }
            frontier.root()
        };
        if root != cp.root {
            return Err(Refused::Misbehaved(format!(
                "{}'s signed checkpoint of its log on {} does not match what it sent before and now",
                d.from, d.line
            )));
        }
        let _ = d.rooted_at.set(held_size);
        Ok(Checked {
            size: cp.size,
            held_size,
            leaves,
        })
    }

    /// What of a delivery holds whatever this node holds: its checkpoint,
    /// signed by the peer's key (`node_key`), of its log on the line, of
    /// the size it carries; and its entries' leaf hashes.
    fn check_signed(d: &Delivery, node_key: &str) -> Result<(Checkpoint, Vec<Hash>), Refused> {
        let key = VerifierKey::parse(node_key).expect("checked when peered");
        let cp = SignedCheckpoint::parse_and_verify(&d.checkpoint, &key).map_err(|e| {
            Refused::Error(ServiceError::Forbidden(format!(
                "the checkpoint is not signed by {}'s key: {e}",
                d.from
            )))
        })?;
        if cp.origin.as_str() != line_log_origin(&d.from, &d.line) {
            return Err(Refused::Error(ServiceError::invalid(
                "/checkpoint",
                format!(
                    "the checkpoint is of {}, not of {}'s log on {}",
                    cp.origin, d.from, d.line
                ),
            )));
        }
        if cp.size != d.first + d.entries.len() as u64 {
            return Err(Refused::Error(ServiceError::invalid(
                "/checkpoint",
                "the checkpoint's size is not first + the number of entries",
            )));
        }
        let leaves = d.entries.iter().map(|e| leaf_hash(e.as_bytes())).collect();
        Ok((cp, leaves))
    }

    /// `Command::Ingest`: entry `index` of a peer's delivery. The writer
    /// takes a delivery one entry at a time, so each entry is judged against
    /// everything before it, its own run's earlier entries included.
    pub(in crate::state) fn decide_ingest(
        &self,
        actor: &Actor,
        d: &Delivery,
        index: u64,
        now_us: i64,
    ) -> Result<Decision, ServiceError> {
        self.require_host_admin(actor)?;
        let Checked {
            size,
            held_size,
            leaves,
        } = self.check_delivery(d).map_err(Refused::into_error)?;
        if index < held_size || index >= size {
            // Held already (a delivery sent again): nothing to log.
            return Ok(Decision {
                entries: Vec::new(),
                outcome: WriteOutcome::Done,
                body: json!({"through": held_size}),
                volumes: None,
            });
        }
        if index != held_size {
            return Err(ServiceError::Conflict("entries are taken in order".into()));
        }
        let text = &d.entries[(index - d.first) as usize];
        let crate::federation::Sent { at_us, entry } = serde_json::from_str(text).map_err(|e| {
            ServiceError::invalid(
                &format!("/entries/{}", index - d.first),
                format!("not an entry with its time ({{\"at_us\", \"entry\"}}): {e}"),
            )
        })?;
        let pointer = format!("/entries/{}", index - d.first);
        let (keep, mine, refused) =
            match self.judge_peer_entry(&d.from, &d.line, &entry, &pointer, now_us) {
                Ok((keep, mine)) => (keep, mine, None),
                Err(Refusal::Waiting(e)) => return Err(e),
                // Held, not applied: the line moves on past it.
                Err(Refusal::Permanent(why)) => (false, Vec::new(), Some(why)),
            };
        let last = index + 1 == size;
        let received = Entry::Received {
            node: d.from.clone(),
            line: d.line.clone(),
            through: index + 1,
            checkpoint: if last {
                d.checkpoint.clone()
            } else {
                String::new()
            },
            leaves: vec![leaves[(index - d.first) as usize].to_string()],
            logged: u64::from(keep),
            sent_at_us: Some(at_us),
            refused: refused.clone(),
        };
        let audience = self.line_audience(&d.line);
        let line_audience = match &entry {
            // A refused entry's word is not taken: the line's parties here.
            _ if refused.is_some() && audience.is_empty() => vec![HOST.to_string()],
            _ if refused.is_some() => audience,
            // A line's creation: its parties are in the entry itself.
            Entry::LineCreated { parties, .. } if audience.is_empty() => parties.clone(),
            _ if audience.is_empty() => vec![HOST.to_string()],
            // The register of talks: the talk's parties alone.
            Entry::TalkRecorded { record, .. } => record.parties.clone(),
            Entry::TalkConfirmed { talk, .. } | Entry::FollowUpClosed { talk, .. } => {
                self.talks.parties(talk).unwrap_or_default().to_vec()
            }
            _ => audience,
        };
        let mut entries = vec![(received, line_audience.clone())];
        if keep {
            entries.push((entry, line_audience));
        }
        entries.extend(mine);
        Ok(Decision {
            entries,
            outcome: WriteOutcome::Done,
            body: json!({"through": index + 1}),
            volumes: None,
        })
    }

    /// `Command::ConfirmDelivery`: a peer's receipt for this node's log on a
    /// line, checked (its key, its inclusion, that its entry says what this
    /// node sent) before it is kept.
    pub(in crate::state) fn decide_confirm_delivery(
        &self,
        actor: &Actor,
        node: &str,
        line: &str,
        (receipt, refusals): (&Value, &[Value]),
        cosignature: Option<&str>,
    ) -> Result<Decision, ServiceError> {
        self.require_host_admin(actor)?;
        let peer = self
            .federation
            .peers
            .get(node)
            .ok_or_else(|| ServiceError::NotFound(format!("peer {node}")))?;
        let fed = self
            .federation
            .lines
            .get(line)
            .ok_or_else(|| ServiceError::NotFound(format!("federated line {line}")))?;
        let bad = |why: &str| ServiceError::invalid("/receipt", format!("{node}'s receipt {why}"));
        let key = VerifierKey::parse(&peer.node_key).expect("checked when peered");
        let e = &crate::federation::received_in(receipt, &key).map_err(|why| bad(&why))?;
        let Some(through) = self.names_own_entry(line, e) else {
            return Err(bad("is not of this node's log on the line as sent"));
        };
        let told = self.peer_refusals((node, line), &key, e, refusals)?;
        // The peer witnesses this node's log: its cosignature of the
        // checkpoint its `received` entry names, kept once it checks with
        // the peer's cosigner key (a receipt stands without it: the run may
        // have stopped before its checkpoint, or the key not been given).
        let cosigned = cosignature
            .zip(peer.cosigner_key.as_deref())
            .zip(e["checkpoint"].as_str().filter(|c| !c.is_empty()))
            .map(|((line, key), checkpoint)| (format!("{checkpoint}{line}"), key))
            .filter(|(note, key)| {
                CosignerKey::parse(key).is_ok_and(|k| matches!(k.verify_in(note), Ok(Some(_))))
            })
            .map(|(note, _)| note);
        if through <= fed.delivered.get(node).copied().unwrap_or(0) {
            return Ok(Decision {
                entries: told,
                outcome: WriteOutcome::Done,
                body: json!({"through": through}),
                volumes: None,
            });
        }
        let entry = Entry::Delivered {
            node: node.to_string(),
            line: line.to_string(),
            through,
            receipt: receipt.clone(),
            cosigned,
        };
        let mut entries = vec![(entry, self.line_audience(line))];
        entries.extend(told);
        Ok(Decision {
            entries,
            outcome: WriteOutcome::Done,
            body: json!({"through": through}),
            volumes: None,
        })
    }

    /// How far a peer's `received` entry `e` says it holds this node's log
    /// on `line`, if it names this node's log as sent (the last entry it
    /// took in is the one at that index here).
    pub(super) fn names_own_entry(&self, line: &str, e: &Value) -> Option<u64> {
        let fed = self.federation.lines.get(line)?;
        let through = e["through"].as_u64().unwrap_or(0);
        let leaf = fed.own.tree.leaf(through.checked_sub(1)?)?;
        (e["kind"] == "received"
            && e["node"] == self.signing().0
            && e["line"] == line
            && through <= fed.own.size()
            && e["leaves"][0].as_str() == Some(leaf.to_string().as_str()))
        .then_some(through)
    }
}
