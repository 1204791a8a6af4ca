//! Evidence of a peer's misbehaviour: a delivery it signed that contradicts
//! what it sent before, or a checkpoint it signed for another node that
//! contradicts the log this node holds (two stories), kept on the record.

use super::Refused;
use crate::entry::Entry;
use crate::error::ServiceError;
use crate::federation::Delivery;
use crate::model::{Actor, WriteOutcome, HOST};
use crate::state::{Decision, State};
use parley_record::{SignedCheckpoint, VerifierKey};
use serde_json::{json, Value};

impl State {
    /// `Command::KeepEvidence`: a delivery the peer signed that contradicts
    /// what it sent before, logged with why (once per checkpoint).
    pub(in crate::state) fn decide_keep_evidence(
        &self,
        actor: &Actor,
        d: &Delivery,
    ) -> Result<Decision, ServiceError> {
        self.require_host_admin(actor)?;
        let why = match self.check_delivery(d) {
            Err(Refused::Misbehaved(why)) => why,
            Err(Refused::Error(e)) => return Err(e),
            Ok(_) => {
                return Err(ServiceError::invalid(
                    "",
                    "the delivery agrees with what this node holds: no evidence",
                ))
            }
        };
        let seen = self
            .federation
            .lines
            .get(&d.line)
            .is_some_and(|f| f.evidence.contains(&d.checkpoint));
        let entries = if seen {
            Vec::new()
        } else {
            let entry = Entry::PeerMisbehaved {
                node: d.from.clone(),
                line: d.line.clone(),
                why: why.clone(),
                delivery: serde_json::to_value(d).expect("a delivery serializes"),
            };
            let mut audience = self.line_audience(&d.line);
            audience.retain(|p| !self.federation.remote.contains_key(p));
            audience.push(HOST.to_string());
            vec![(entry, audience)]
        };
        Ok(Decision {
            entries,
            outcome: WriteOutcome::Done,
            body: json!({"evidence": why}),
            volumes: None,
        })
    }

    /// `Command::CheckHeads`: the other nodes' checkpoints a delivery carries,
    /// each checked against this node's copy of that node's log: one signed
    /// by the node for a size this node holds, with another root, is proof
    /// that it told two peers two stories, and is kept (whoever carried it:
    /// the node's own signature is the proof).
    pub(in crate::state) fn decide_check_heads(
        &self,
        actor: &Actor,
        d: &Delivery,
    ) -> Result<Decision, ServiceError> {
        self.require_host_admin(actor)?;
        let Some(fed) = self.federation.lines.get(&d.line) else {
            return Err(ServiceError::NotFound(format!("line {}", d.line)));
        };
        let mut entries = Vec::new();
        let suffix = format!("/lines/{}", d.line);
        for head in &d.heads {
            let origin = head.lines().next().unwrap_or_default();
            let Some(node) = origin.strip_suffix(&suffix) else {
                continue;
            };
            let (Some(peer), Some(held)) = (self.federation.peers.get(node), fed.theirs.get(node))
            else {
                continue;
            };
            let key = VerifierKey::parse(&peer.node_key).expect("checked when peered");
            let Ok(cp) = SignedCheckpoint::parse_and_verify(head, &key) else {
                continue;
            };
            if cp.size == 0 || cp.size > held.size() || fed.evidence.contains(head) {
                continue;
            }
            if held.tree.root_at(cp.size).ok() == Some(cp.root) {
                continue;
            }
            let why = format!(
                "{node} signed two logs on {} of {} entries: the one this node holds and another (carried by {})",
                d.line, cp.size, d.from
            );
            let mut audience = self.line_audience(&d.line);
            audience.retain(|p| !self.federation.remote.contains_key(p));
            audience.push(HOST.to_string());
            entries.push((
                Entry::PeerMisbehaved {
                    node: node.to_string(),
                    line: d.line.clone(),
                    why,
                    delivery: json!({"checkpoint": head,
                                     "held_checkpoint": fed.their_checkpoints.get(node)}),
                },
                audience,
            ));
        }
        Ok(Decision {
            body: json!({"evidence": entries.len()}),
            entries,
            outcome: WriteOutcome::Done,
            volumes: None,
        })
    }

    pub(in crate::state) fn evolve_peer_misbehaved(&mut self, line: &str, delivery: &Value) {
        if let Some(cp) = delivery["checkpoint"].as_str() {
            let fed = self.federation.lines.entry(line.to_string()).or_default();
            fed.evidence.insert(cp.to_string());
        }
    }
}
