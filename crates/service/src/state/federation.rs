//! Federation in the state: this node's peers and, per federated line (a line
//! naming a party of a peer node), this node's log of what it authors on the
//! line and its copy of each peer's log (the protocol is `crate::federation`).
//!
//! What moves is only a federated line's own entries: the line, notices,
//! acknowledgments, messages and the conflicts between its activities. A
//! peer's entries are logged here verbatim, each after a `Received` entry that
//! says where it came from, so every read, deadline and conflict check treats
//! them as this node's own; only this node's own entries go into its log.

use super::conflicts::Found;
use super::{Decision, State};
use crate::content::Stated;
use crate::entry::{Entry, Logged};
use crate::error::ServiceError;
use crate::federation::{conflict_id, line_log_origin, Delivery, LineLog};
use crate::hashing::new_id;
use crate::model::{Actor, NoticeState, WriteOutcome, HOST};
use crate::text::{check_id, check_text};
use parley_record::{leaf_hash, verify_inclusion, Frontier, Hash, SignedCheckpoint, VerifierKey};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// A delivery that passed the checks: its checkpoint's size, how much of
/// the log this node held, and the leaf hash of each entry it carries.
struct Checked {
    size: u64,
    held_size: u64,
    leaves: Vec<Hash>,
}

/// Why a delivery is refused: an error of the request, or the sender's own
/// signed word contradicting itself.
enum Refused {
    Error(ServiceError),
    Misbehaved(String),
}

impl Refused {
    fn into_error(self) -> ServiceError {
        match self {
            Refused::Error(e) => e,
            Refused::Misbehaved(why) => ServiceError::Conflict(why),
        }
    }
}

/// Whether an address's host (`host:port/...`) is this machine.
fn is_loopback(rest: &str) -> bool {
    let host = rest.split('/').next().unwrap_or_default();
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    matches!(host, "localhost" | "[::1]") || host.starts_with("127.")
}

/// Entries to log, each with its audience.
type Logs = Vec<(Entry, Vec<String>)>;

/// The most entries one delivery carries.
pub const MAX_DELIVERY: usize = 256;

/// The most bytes of entries one delivery carries (unless one entry is more).
const MAX_DELIVERY_BYTES: usize = 512 * 1024;

/// A peer node as its admins agreed it with ours.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Peer {
    /// Where it is served.
    pub url: String,
    /// Its record key (verifier key line).
    pub node_key: String,
    /// Its parties.
    pub parties: Vec<String>,
    /// The SHA-256 of its TLS key (SPKI, hex), pinned when it is reached
    /// over `https://`.
    #[serde(default)]
    pub tls_pin: Option<String>,
}

#[derive(Clone, Default, Serialize, Deserialize)]
pub(crate) struct Federation {
    peers: BTreeMap<String, Peer>,
    /// The node of each party of a peer.
    remote: BTreeMap<String, String>,
    lines: BTreeMap<String, FedLine>,
    /// Entries of a peer still to come after a `Received` being evolved (a
    /// batch never ends between the two, so an image never holds any).
    #[serde(skip)]
    foreign_left: u64,
}

#[derive(Clone, Default, Serialize, Deserialize)]
struct FedLine {
    /// The line's nodes other than this one.
    nodes: BTreeSet<String>,
    /// This node's log on the line, and the journal position of each entry.
    own: LineLog,
    own_seqs: Vec<u64>,
    /// How much of `own` each node has receipted.
    delivered: BTreeMap<String, u64>,
    /// This node's copy of each peer's log on the line.
    theirs: BTreeMap<String, LineLog>,
    /// The journal position of the latest `Received` of each peer's log.
    received_at: BTreeMap<String, u64>,
    /// The signed checkpoints kept as evidence of a peer's misbehaviour.
    evidence: BTreeSet<String>,
}

impl State {
    /// `Command::AddPeer`: the host peers this node with another.
    pub(super) fn decide_add_peer(
        &self,
        actor: &Actor,
        node: &str,
        url: &str,
        node_key: &str,
        parties: &[String],
        tls_pin: Option<&str>,
    ) -> Result<Decision, ServiceError> {
        self.require_host_admin(actor)?;
        check_text("/node", node, 200)?;
        if node == self.signing().0 {
            return Err(ServiceError::invalid(
                "/node",
                "this is this node's own name; give the peer's record origin",
            ));
        }
        if self.federation.peers.contains_key(node) {
            return Err(ServiceError::Conflict(format!(
                "node {node} is a peer already"
            )));
        }
        let tls_pin = match url.split_once("://") {
            Some(("https", _)) => Some(
                tls_pin
                    .and_then(super::certificates::normalise_spki)
                    .ok_or_else(|| {
                        ServiceError::invalid(
                            "/tls_pin",
                            "give the SHA-256 of the peer's TLS key (SPKI) as 64 hex digits, as its admins read it from its certificate: node to node, the key is pinned",
                        )
                    })?,
            ),
            // Plain HTTP only between nodes on one machine (tests, demos).
            Some(("http", rest)) if is_loopback(rest) => None,
            _ => {
                return Err(ServiceError::invalid(
                    "/url",
                    "give the peer's address as https://host:port (plain http only on loopback)",
                ))
            }
        };
        let key = VerifierKey::parse(node_key).map_err(|e| {
            ServiceError::invalid(
                "/node_key",
                format!("{e}; give the peer's record key line (parley record key on its side)"),
            )
        })?;
        if key.name() != node {
            return Err(ServiceError::invalid(
                "/node_key",
                format!(
                    "the key is named {}, not {node}: give the key of that node",
                    key.name()
                ),
            ));
        }
        if parties.is_empty() {
            return Err(ServiceError::invalid("/parties", "give the peer's parties"));
        }
        for (i, p) in parties.iter().enumerate() {
            check_id(&format!("/parties/{i}"), p)?;
            if self.parties.contains_key(p) || p == HOST {
                return Err(ServiceError::invalid(
                    &format!("/parties/{i}"),
                    format!(
                        "{p} is a party here already; party ids must be unique across peered nodes"
                    ),
                ));
            }
        }
        let body = json!({"node": node, "url": url, "node_key": node_key, "parties": parties, "tls_pin": tls_pin});
        let entry = Entry::PeerAdded {
            node: node.to_string(),
            url: url.to_string(),
            node_key: node_key.to_string(),
            parties: parties.to_vec(),
            tls_pin,
        };
        Ok(Decision {
            entries: vec![(entry, vec![HOST.to_string()])],
            outcome: WriteOutcome::Created,
            body,
            volumes: None,
        })
    }

    pub(super) fn evolve_peer_added(
        &mut self,
        node: &str,
        url: &str,
        key: &str,
        parties: &[String],
        tls_pin: Option<String>,
    ) {
        for p in parties {
            self.federation.remote.insert(p.clone(), node.to_string());
            self.parties.insert(
                p.clone(),
                super::parties::Party {
                    name: p.clone(),
                    host_may_add_operators: false,
                },
            );
        }
        self.federation.peers.insert(
            node.to_string(),
            Peer {
                url: url.to_string(),
                node_key: key.to_string(),
                parties: parties.to_vec(),
                tls_pin,
            },
        );
    }

    /// After any entry is evolved: a federated line is set up by its
    /// creation, and an entry this node authored on one goes into its log.
    pub(super) fn evolve_federation(&mut self, logged: &Logged) {
        if let Entry::LineCreated { line, parties, .. } = &logged.entry {
            let nodes: BTreeSet<String> = parties
                .iter()
                .filter_map(|p| self.federation.remote.get(p).cloned())
                .collect();
            if !nodes.is_empty() {
                let fed = self.federation.lines.entry(line.clone()).or_default();
                fed.nodes = nodes;
            }
        }
        if matches!(logged.entry, Entry::Received { .. }) {
            return;
        }
        if self.federation.foreign_left > 0 {
            self.federation.foreign_left -= 1;
            return;
        }
        let Some(line) = self.federated_line_of(&logged.entry) else {
            return;
        };
        let text = serde_json::to_string(&logged.entry).expect("entries serialize");
        let fed = self
            .federation
            .lines
            .get_mut(&line)
            .expect("a federated line");
        fed.own.push(leaf_hash(text.as_bytes()));
        fed.own_seqs.push(logged.seq);
    }

    /// The federated line an entry belongs to, if it is one a line's nodes share.
    fn federated_line_of(&self, entry: &Entry) -> Option<String> {
        let activity_line = |id: &str| self.activities.get(id).map(|a| a.line.clone());
        let conflict_line = |id: &str| {
            let c = self.conflicts.get(id)?;
            if c.a.kind != "activity" || c.b.kind != "activity" {
                return None;
            }
            activity_line(&c.a.id)
        };
        let line = match entry {
            Entry::LineCreated { line, .. }
            | Entry::Notice { line, .. }
            | Entry::MessageSent { line, .. } => Some(line.clone()),
            Entry::Acknowledged { activity, .. } => activity_line(activity),
            Entry::ConflictFound { conflict, .. }
            | Entry::ConflictResolved { conflict, .. }
            | Entry::ConflictCoordinated { conflict, .. } => conflict_line(conflict),
            _ => None,
        }?;
        self.federation.lines.contains_key(&line).then_some(line)
    }

    pub(super) fn evolve_received(
        &mut self,
        seq: u64,
        node: &str,
        line: &str,
        leaves: &[String],
        following: u64,
    ) {
        let fed = self.federation.lines.entry(line.to_string()).or_default();
        fed.received_at.insert(node.to_string(), seq);
        let theirs = fed.theirs.entry(node.to_string()).or_default();
        for leaf in leaves {
            theirs.push(Hash::from_hex(leaf).unwrap_or_default());
        }
        self.federation.foreign_left = following;
    }

    pub(super) fn evolve_delivered(&mut self, node: &str, line: &str, through: u64) {
        if let Some(fed) = self.federation.lines.get_mut(line) {
            let d = fed.delivered.entry(node.to_string()).or_default();
            *d = (*d).max(through);
        }
    }

    /// Whether `line` joins parties of other nodes.
    pub(super) fn is_federated(&self, line: &str) -> bool {
        self.federation.lines.contains_key(line)
    }

    /// The id of a conflict a notice with content hash `hash` found: on a
    /// federated line the same on every node (from both content hashes).
    pub(super) fn new_conflict_id(&self, line: &str, hash: &str, found: &Found) -> String {
        match self.activities.get(&found.side.id) {
            Some(other) if self.is_federated(line) && found.side.kind == "activity" => {
                conflict_id(hash, other.hashes.last().map_or("", String::as_str))
            }
            _ => new_id("c"),
        }
    }

    /// Refuses writes on a federated line that a node has not yet accepted
    /// (the node that made the line waits for every other's receipt of it).
    pub(super) fn require_line_accepted(&self, line: &str) -> Result<(), ServiceError> {
        let Some(fed) = self.federation.lines.get(line) else {
            return Ok(());
        };
        if fed.own_seqs.first().is_some_and(|&seq| {
            matches!(
                self.log.get(seq).as_deref().map(|l| &l.entry),
                Some(Entry::LineCreated { .. })
            )
        }) {
            let waiting: Vec<&String> = fed
                .nodes
                .iter()
                .filter(|n| fed.delivered.get(*n).copied().unwrap_or(0) == 0)
                .collect();
            if !waiting.is_empty() {
                return Err(ServiceError::Conflict(format!(
                    "line {line} waits for node(s) {} to accept it; try again once they have",
                    waiting
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        Ok(())
    }

    // ---- a peer's delivery -------------------------------------------------

    /// A delivery checked against the peer's key and what this node holds
    /// of its log; a signed delivery that contradicts what it sent before is
    /// misbehaviour, kept as evidence (`Command::KeepEvidence`).
    fn check_delivery(&self, d: &Delivery) -> Result<Checked, Refused> {
        let peer = self.federation.peers.get(&d.from).ok_or_else(|| {
            Refused::Error(ServiceError::Forbidden(format!(
                "{} is not a peer of this node",
                d.from
            )))
        })?;
        let key = VerifierKey::parse(&peer.node_key).expect("checked when peered");
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
        let mut frontier = Frontier::new();
        let leaves: Vec<Hash> = d.entries.iter().map(|e| leaf_hash(e.as_bytes())).collect();
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
        if let Some(h) = held {
            for i in 0..d.first {
                frontier.push_leaf_hash(h.tree.leaf(i).expect("held leaf"));
            }
        }
        for leaf in &leaves {
            frontier.push_leaf_hash(*leaf);
        }
        if frontier.root() != cp.root {
            return Err(Refused::Misbehaved(format!(
                "{}'s signed checkpoint of its log on {} does not match what it sent before and now",
                d.from, d.line
            )));
        }
        Ok(Checked {
            size: cp.size,
            held_size,
            leaves,
        })
    }

    /// `Command::KeepEvidence`: a delivery the peer signed that contradicts
    /// what it sent before, logged with why (once per checkpoint).
    pub(super) fn decide_keep_evidence(
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

    pub(super) fn evolve_peer_misbehaved(&mut self, line: &str, delivery: &Value) {
        if let Some(cp) = delivery["checkpoint"].as_str() {
            let fed = self.federation.lines.entry(line.to_string()).or_default();
            fed.evidence.insert(cp.to_string());
        }
    }

    /// `Command::Ingest`: entry `index` of a peer's delivery. The writer
    /// takes a delivery one entry at a time, so each entry is judged against
    /// everything before it, its own run's earlier entries included.
    pub(super) fn decide_ingest(
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
        let entry: Entry = serde_json::from_str(text).map_err(|e| {
            ServiceError::invalid(
                &format!("/entries/{}", index - d.first),
                format!("not an entry: {e}"),
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
        };
        let audience = self.line_audience(&d.line);
        let line_audience = if audience.is_empty() {
            // A line's creation: its parties are in the entry itself.
            match &entry {
                Entry::LineCreated { parties, .. } => parties.clone(),
                _ => vec![HOST.to_string()],
            }
        } else {
            audience
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
                let rules = self.lines[line].rules;
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
                let a = self.activities.get(activity);
                if !theirs(party)
                    || !a.is_some_and(|a| a.line == line && *version <= a.versions.len() as u64)
                {
                    return refuse(format!(
                        "an acknowledgment by {party} of nothing {node} may acknowledge on {line}"
                    ));
                }
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
    pub(super) fn decide_confirm_delivery(
        &self,
        actor: &Actor,
        node: &str,
        line: &str,
        receipt: &Value,
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
        let note = receipt["checkpoint"]
            .as_str()
            .ok_or_else(|| bad("has no checkpoint"))?;
        let cp = SignedCheckpoint::parse_and_verify(note, &key)
            .map_err(|_| bad("is not signed by its key"))?;
        let leaf = receipt["leaf"].as_str().ok_or_else(|| bad("has no leaf"))?;
        let index = receipt["leaf_index"]
            .as_u64()
            .ok_or_else(|| bad("has no leaf_index"))?;
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
        .map_err(|_| bad("does not prove its entry in its record"))?;
        let said: Value = serde_json::from_str(leaf).map_err(|_| bad("has an unreadable leaf"))?;
        let e = &said["entry"];
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
        };
        Ok(Decision {
            entries: vec![(entry, self.line_audience(line))],
            outcome: WriteOutcome::Done,
            body: json!({"through": through}),
            volumes: None,
        })
    }

    // ---- reads for the adapter that moves deliveries ----------------------

    /// The journal position of this node's latest `Received` of `node`'s
    /// log on `line`.
    pub fn last_received(&self, node: &str, line: &str) -> Option<u64> {
        self.federation
            .lines
            .get(line)?
            .received_at
            .get(node)
            .copied()
    }

    /// The line an activity is on.
    pub fn activity_line(&self, activity: &str) -> Option<String> {
        self.activities.get(activity).map(|a| a.line.clone())
    }

    /// This node's peers.
    pub fn peers(&self) -> &BTreeMap<String, Peer> {
        &self.federation.peers
    }

    /// The other nodes of a federated line (none for a hosted one).
    pub fn line_nodes(&self, line: &str) -> Vec<String> {
        self.federation
            .lines
            .get(line)
            .map(|f| f.nodes.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Every (node, line) to which this node owes entries of its log.
    pub fn pending_deliveries(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (line, fed) in &self.federation.lines {
            for node in &fed.nodes {
                if fed.delivered.get(node).copied().unwrap_or(0) < fed.own.size() {
                    out.push((node.clone(), line.clone()));
                }
            }
        }
        out
    }

    /// What of this node's log on `line` is owed to `node`: the first index,
    /// the entries' texts (at most [`MAX_DELIVERY`]) and the log's root at
    /// the end of them; none when nothing is owed.
    pub fn owed_to(&self, node: &str, line: &str) -> Option<(u64, Vec<String>, Hash)> {
        let fed = self.federation.lines.get(line)?;
        let from = fed.delivered.get(node).copied().unwrap_or(0);
        let to = fed.own.size().min(from + MAX_DELIVERY as u64);
        if from >= to {
            return None;
        }
        // Well within a request body's limit (1 MiB), and at least one entry.
        let mut texts: Vec<String> = Vec::new();
        let mut bytes = 0;
        for &seq in &fed.own_seqs[from as usize..to as usize] {
            // Entries no longer in memory are read from the store.
            let Some(l) = self.log.get(seq) else { break };
            let text = serde_json::to_string(&l.entry).expect("entries serialize");
            bytes += text.len();
            if !texts.is_empty() && bytes > MAX_DELIVERY_BYTES {
                break;
            }
            texts.push(text);
        }
        let to = from + texts.len() as u64;
        Some((
            from,
            texts,
            fed.own.tree.root_at(to).expect("within the log"),
        ))
    }

    /// Each federated line with, per node, how much of this node's log it
    /// has receipted and how much of its log this node holds.
    pub fn federation_status(&self) -> Value {
        let lines: serde_json::Map<String, Value> = self
            .federation
            .lines
            .iter()
            .map(|(line, fed)| {
                let nodes: serde_json::Map<String, Value> = fed
                    .nodes
                    .iter()
                    .map(|n| {
                        (
                            n.clone(),
                            json!({
                                "receipted": fed.delivered.get(n).copied().unwrap_or(0),
                                "held": fed.theirs.get(n).map_or(0, LineLog::size),
                            }),
                        )
                    })
                    .collect();
                (
                    line.clone(),
                    json!({"log_size": fed.own.size(), "nodes": nodes}),
                )
            })
            .collect();
        json!({"node": self.signing().0, "lines": lines})
    }

    /// The conflicts `actor`'s party is told of that involve `activity` at
    /// `version`, as a notice's answer reports them.
    pub fn conflicts_of(&self, actor: &Actor, activity: &str, version: u64) -> Vec<Value> {
        self.conflicts
            .iter()
            .filter(|(_, c)| {
                c.audience.contains(&actor.party)
                    && [&c.a, &c.b]
                        .iter()
                        .any(|s| s.id == activity && s.version == version)
            })
            .filter_map(|(id, c)| {
                let mut shown = self.log.get(c.at)?.entry.public_json();
                shown["id"] = json!(id);
                Some(shown)
            })
            .collect()
    }
}
