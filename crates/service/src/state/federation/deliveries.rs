//! A peer's delivery taken in: checked against the peer's key and this
//! node's copy of its log, then each entry judged and logged; and a peer's
//! receipt for this node's own log checked before it is kept.

use super::{Checked, Logs, Refused};
use crate::content::Stated;
use crate::entry::Entry;
use crate::error::ServiceError;
use crate::federation::{line_log_origin, Delivery, LineLog};
use crate::model::{Actor, NoticeState, WriteOutcome, HOST};
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
        let (keep, mine) = self.judge_peer_entry(&d.from, &d.line, &entry, &pointer, now_us)?;
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
        };
        let audience = self.line_audience(&d.line);
        let line_audience = match &entry {
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

    /// Whether a peer's entry is one it may send on the line, and whether it
    /// is new here; with the entries this node logs of its own in answer (the
    /// conflicts it finds for a notice).
    fn judge_peer_entry(
        &self,
        node: &str,
        line: &str,
        entry: &Entry,
        pointer: &str,
        now_us: i64,
    ) -> Result<(bool, Logs), ServiceError> {
        let refuse = |why: String| Err(ServiceError::invalid(pointer, why));
        let theirs = |party: &str| self.federation.remote.get(party).is_some_and(|n| n == node);
        let on_line = self.lines.contains_key(line);
        match entry {
            Entry::LineCreated {
                line: l, parties, ..
            } => {
                if l != line || on_line {
                    return refuse(format!(
                        "line {l} exists here already or is not the delivery's"
                    ));
                }
                if !parties.iter().any(|p| theirs(p)) {
                    return refuse(format!("{node} names none of its own parties on the line"));
                }
                if !parties.iter().any(|p| {
                    self.parties.contains_key(p) && !self.federation.remote.contains_key(p)
                }) {
                    return refuse("the line names no party of this node".into());
                }
                if let Some(p) = parties.iter().find(|p| !self.parties.contains_key(*p)) {
                    return refuse(format!("no party {p} here: peer its node first"));
                }
                Ok((true, Vec::new()))
            }
            _ if !on_line => refuse(format!("no line {line} here")),
            Entry::Notice {
                activity,
                line: l,
                party,
                version,
                state,
                content,
                content_sha256,
                ..
            } => {
                if l != line || !theirs(party) || !self.is_member(party, line) {
                    return refuse(format!(
                        "a notice of {party}, not a party of {node} on {line}"
                    ));
                }
                let known = self.activities.get(activity);
                let next = known.map_or(1, |a| a.versions.len() as u64 + 1);
                if known.is_some_and(|a| a.party != *party) || *version != next {
                    return refuse(format!("activity {activity} version {version} does not follow what is held (version {next} expected)"));
                }
                if crate::hashing::sha256_hex(content.get().as_bytes()) != *content_sha256 {
                    return refuse("the content does not hash to its content_sha256".into());
                }
                if *state == NoticeState::Cancelled {
                    return Ok((true, Vec::new()));
                }
                let mut volumes = Vec::new();
                for (i, v) in Stated::of(content).volumes.iter().enumerate() {
                    volumes.push(
                        parley_wire::parse_volume(v, "", &self.limits.volume).map_err(|e| {
                            ServiceError::invalid(
                                &format!("{pointer}/content/volumes/{i}"),
                                e.to_string(),
                            )
                        })?,
                    );
                }
                let rules = self.lines[line].rules.clone();
                let found = self.find_conflicts(
                    party,
                    line,
                    known.map(|a| a.handle),
                    &volumes,
                    &rules.minima(),
                    now_us,
                );
                let mut mine = Vec::new();
                let mut shown = Vec::new();
                for f in found {
                    let id = self.new_conflict_id(line, content_sha256, &f);
                    if self.conflicts.contains_key(&id) {
                        continue;
                    }
                    let a = crate::entry::Side {
                        kind: "activity".into(),
                        id: activity.clone(),
                        version: *version,
                        party: party.clone(),
                    };
                    f.log(id, a, party, &mut mine, &mut shown);
                }
                Ok((true, mine))
            }
            Entry::Acknowledged {
                activity,
                version,
                party,
                ..
            } => {
                // A late acknowledgment of what is history here still counts.
                let retired = self.retired_activity(activity).and_then(Result::ok);
                let a = self.activities.get(activity).or(retired.as_ref());
                if !theirs(party)
                    || !a.is_some_and(|a| a.line == line && *version <= a.versions.len() as u64)
                {
                    return refuse(format!(
                        "an acknowledgment by {party} of nothing {node} may acknowledge on {line}"
                    ));
                }
                Ok((true, Vec::new()))
            }
            Entry::LineCheckSent { line: l, party, .. }
            | Entry::LineCheckAnswered { line: l, party, .. }
            | Entry::LineCheckMissed { line: l, party, .. } => {
                if l != line || !theirs(party) || !self.is_member(party, line) {
                    return refuse(format!(
                        "a line check of {party}, not a party of {node} on {line}"
                    ));
                }
                Ok((true, Vec::new()))
            }
            Entry::TalkRecorded { party, .. }
            | Entry::TalkConfirmed { party, .. }
            | Entry::FollowUpClosed { party, .. } => {
                if !theirs(party) {
                    return refuse(format!("{party} is not a party of {node}"));
                }
                self.talks
                    .judge_peer_entry(line, entry)
                    .map_err(|why| ServiceError::invalid(pointer, why))?;
                Ok((true, Vec::new()))
            }
            Entry::MessageSent { line: l, party, .. } => {
                if l != line || !theirs(party) {
                    return refuse(format!(
                        "a message of {party}, not a party of {node} on {line}"
                    ));
                }
                Ok((true, Vec::new()))
            }
            Entry::ConflictFound { conflict, a, b, .. } => {
                let sides_here = [a, b].iter().all(|s| {
                    s.kind == "activity"
                        && self.activities.get(&s.id).is_some_and(|x| x.line == line)
                });
                if !sides_here {
                    return refuse(format!(
                        "conflict {conflict} is not between activities of {line}"
                    ));
                }
                Ok((!self.conflicts.contains_key(conflict), Vec::new()))
            }
            Entry::ConflictResolved { conflict, .. } => Ok((
                self.conflicts
                    .get(conflict)
                    .is_some_and(|c| c.resolved.is_none()),
                Vec::new(),
            )),
            Entry::ConflictCoordinated {
                conflict, party, ..
            } => {
                if !theirs(party) {
                    return refuse(format!("{party} is not a party of {node}"));
                }
                Ok((
                    self.conflicts
                        .get(conflict)
                        .is_some_and(|c| !c.coordinated.contains_key(party)),
                    Vec::new(),
                ))
            }
            other => refuse(format!(
                "a {} entry is not one a node sends on a line",
                serde_json::to_value(other)
                    .ok()
                    .and_then(|v| v["kind"].as_str().map(str::to_string))
                    .unwrap_or_default()
            )),
        }
    }

    /// `Command::ConfirmDelivery`: a peer's receipt for this node's log on a
    /// line, checked (its key, its inclusion, that its entry says what this
    /// node sent) before it is kept.
    pub(in crate::state) fn decide_confirm_delivery(
        &self,
        actor: &Actor,
        node: &str,
        line: &str,
        receipt: &Value,
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
        let through = e["through"].as_u64().unwrap_or(0);
        let matches = e["kind"] == "received"
            && e["node"] == self.signing().0
            && e["line"] == line
            && through >= 1
            && through <= fed.own.size()
            && e["leaves"][0].as_str()
                == fed
                    .own
                    .tree
                    .leaf(through - 1)
                    .map(|h| h.to_string())
                    .as_deref();
        if !matches {
            return Err(bad("is not of this node's log on the line as sent"));
        }
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
                entries: Vec::new(),
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
        Ok(Decision {
            entries: vec![(entry, self.line_audience(line))],
            outcome: WriteOutcome::Done,
            body: json!({"through": through}),
            volumes: None,
        })
    }
}
