//! Federation in the state: this node's peers and, per federated line (a line
//! naming a party of a peer node), this node's log of what it authors on the
//! line and its copy of each peer's log (the protocol is `crate::federation`).
//!
//! What moves is only a federated line's own entries: the line, notices,
//! acknowledgments, messages and the conflicts between its activities. A
//! peer's entries are logged here verbatim, each after a `Received` entry that
//! says where it came from, so every read, deadline and conflict check treats
//! them as this node's own; only this node's own entries go into its log.

mod deliveries;
mod evidence;
mod export;
mod judging;
mod reach;
mod refusals;

pub use export::{LineLogs, NodeLogs};

use super::conflicts::Found;
use super::{Decision, State};
use crate::entry::{Entry, Logged};
use crate::error::ServiceError;
use crate::federation::{conflict_id, LineLog};
use crate::hashing::new_id;
use crate::model::{Actor, WriteOutcome, HOST};
use crate::text::{check_id, check_text};
use parley_record::{leaf_hash, CosignerKey, Hash, VerifierKey};
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
    /// Its cosigner key (tlog-cosignature), which checks its cosignatures
    /// of this node's checkpoints.
    #[serde(default)]
    pub cosigner_key: Option<String>,
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
    /// When the author of the peer's entry being evolved logged it.
    #[serde(skip)]
    foreign_at: Option<i64>,
}

#[derive(Clone, Default, Serialize, Deserialize)]
struct FedLine {
    /// The line's nodes other than this one.
    nodes: BTreeSet<String>,
    /// This node's log on the line, and the journal position and logging
    /// time of each entry.
    own: LineLog,
    own_seqs: Vec<u64>,
    own_at: Vec<i64>,
    /// The notices in `own`, in order.
    own_notices: Vec<reach::OwnNotice>,
    /// The notices whose not reaching a node was escalated: (node, activity, version).
    told_undelivered: BTreeSet<(String, String, u64)>,
    /// How much of `own` each node has receipted.
    delivered: BTreeMap<String, u64>,
    /// This node's copy of each peer's log on the line.
    theirs: BTreeMap<String, LineLog>,
    /// The journal position of the latest `Received` of each peer's log.
    received_at: BTreeMap<String, u64>,
    /// The signed checkpoints kept as evidence of a peer's misbehaviour.
    evidence: BTreeSet<String>,
    /// The latest signed checkpoint of each peer's log this node holds.
    their_checkpoints: BTreeMap<String, String>,
    /// The latest checkpoint of this node's log each peer cosigned, with
    /// its cosignature.
    cosigned: BTreeMap<String, String>,
    /// Each peer's latest receipt of this node's log.
    receipts: BTreeMap<String, Value>,
    /// The entries of each peer's log this node holds but refused for
    /// good: index in that log, and the journal position of its `Received`.
    #[serde(default)]
    refused_here: BTreeMap<String, BTreeMap<u64, u64>>,
    /// The entries of this node's log a peer refused for good, told to
    /// their parties already: (node, index).
    #[serde(default)]
    peer_refused: BTreeSet<(String, u64)>,
}

impl State {
    /// `Command::AddPeer`: the host peers this node with another.
    pub(super) fn decide_add_peer(
        &self,
        actor: &Actor,
        node: &str,
        peer: Peer,
    ) -> Result<Decision, ServiceError> {
        let (url, node_key, parties) = (&peer.url, &peer.node_key, &peer.parties);
        let tls_pin = peer.tls_pin.as_deref();
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
        if let Some(k) = &peer.cosigner_key {
            let key = CosignerKey::parse(k).map_err(|e| {
                ServiceError::invalid(
                    "/cosigner_key",
                    format!("{e}; give the peer's cosigner key line (`cosigner_key` in parley admin federation on its side)"),
                )
            })?;
            if key.name() != node {
                return Err(ServiceError::invalid(
                    "/cosigner_key",
                    format!(
                        "the key is named {}, not {node}: give the cosigner key of that node",
                        key.name()
                    ),
                ));
            }
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
        let body = json!({"node": node, "url": url, "node_key": node_key, "parties": parties, "tls_pin": tls_pin, "cosigner_key": peer.cosigner_key});
        let entry = Entry::PeerAdded {
            node: node.to_string(),
            url: url.to_string(),
            node_key: node_key.to_string(),
            parties: parties.to_vec(),
            tls_pin,
            cosigner_key: peer.cosigner_key.clone(),
        };
        Ok(Decision {
            entries: vec![(entry, vec![HOST.to_string()])],
            outcome: WriteOutcome::Created,
            body,
            volumes: None,
        })
    }

    pub(super) fn evolve_peer_added(&mut self, node: &str, peer: Peer) {
        for p in &peer.parties {
            self.federation.remote.insert(p.clone(), node.to_string());
            self.parties.insert(
                p.clone(),
                super::parties::Party {
                    name: p.clone(),
                    host_may_add_operators: false,
                },
            );
        }
        self.federation.peers.insert(node.to_string(), peer);
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
            self.federation.foreign_at = None;
            return;
        }
        let Some(line) = self.federated_line_of(&logged.entry) else {
            return;
        };
        let text = crate::federation::leaf_of(logged.at_us, &logged.entry);
        let fed = self
            .federation
            .lines
            .get_mut(&line)
            .expect("a federated line");
        if let Entry::Notice {
            activity,
            version,
            party,
            ..
        } = &logged.entry
        {
            fed.own_notices.push(reach::OwnNotice {
                index: fed.own.size(),
                activity: activity.clone(),
                version: *version,
                party: party.clone(),
            });
        }
        fed.own.push(leaf_hash(text.as_bytes()));
        fed.own_seqs.push(logged.seq);
        fed.own_at.push(logged.at_us);
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
            // This node's checks of its own parties: the evidence its peers
            // show in the line's operation status.
            Entry::LineCheckSent { line, party, .. }
            | Entry::LineCheckAnswered { line, party, .. }
            | Entry::LineCheckMissed { line, party, .. }
                if !self.is_remote_party(party) =>
            {
                Some(line.clone())
            }
            Entry::Acknowledged { activity, .. } => activity_line(activity),
            // A talk with a party of another node travels on the line it was
            // held on (whose nodes are exactly the talk's: see
            // `require_talk_nodes`); a talk among this node's parties never.
            Entry::TalkRecorded { record, party, .. }
                if !self.is_remote_party(party)
                    && record.parties.iter().any(|p| self.is_remote_party(p)) =>
            {
                record.line.clone()
            }
            Entry::TalkConfirmed { talk, party, .. }
            | Entry::FollowUpClosed { talk, party, .. }
                if !self.is_remote_party(party)
                    && self
                        .talks
                        .parties(talk)
                        .is_some_and(|ps| ps.iter().any(|p| self.is_remote_party(p))) =>
            {
                self.talks.line(talk).map(str::to_string)
            }
            Entry::ConflictFound { conflict, .. }
            | Entry::ConflictResolved { conflict, .. }
            | Entry::ConflictCoordinated { conflict, .. } => conflict_line(conflict),
            _ => None,
        }?;
        self.is_federated(&line).then_some(line)
    }

    pub(super) fn evolve_received(&mut self, logged: &Logged) {
        let Entry::Received {
            node,
            line,
            leaves,
            logged: following,
            checkpoint,
            sent_at_us,
            through,
            refused,
        } = &logged.entry
        else {
            return;
        };
        let (seq, following) = (logged.seq, *following);
        // Never later than here: a peer's clock ahead gives no extra time.
        self.federation.foreign_at = sent_at_us
            .filter(|_| following > 0)
            .map(|author| author.min(logged.at_us));
        let fed = self.federation.lines.entry(line.to_string()).or_default();
        fed.received_at.insert(node.to_string(), seq);
        if refused.is_some() {
            let held = fed.refused_here.entry(node.to_string()).or_default();
            held.insert(through.saturating_sub(1), seq);
        }
        if !checkpoint.is_empty() {
            fed.their_checkpoints
                .insert(node.to_string(), checkpoint.to_string());
        }
        let theirs = fed.theirs.entry(node.to_string()).or_default();
        for leaf in leaves {
            theirs.push(Hash::from_hex(leaf).unwrap_or_default());
        }
        self.federation.foreign_left = following;
    }

    pub(super) fn evolve_delivered(
        &mut self,
        node: &str,
        line: &str,
        (through, receipt): (u64, &Value),
        cosigned: Option<&str>,
    ) {
        if let Some(fed) = self.federation.lines.get_mut(line) {
            let d = fed.delivered.entry(node.to_string()).or_default();
            if through > *d {
                fed.receipts.insert(node.to_string(), receipt.clone());
            }
            *d = (*d).max(through);
            if let Some(note) = cosigned {
                fed.cosigned.insert(node.to_string(), note.to_string());
            }
        }
    }

    /// When what is being evolved was logged by its author: a peer's entry
    /// owes from when its node logged it, not from when it arrived here.
    pub(in crate::state) fn deadline_base(&self, at_us: i64) -> i64 {
        self.federation.foreign_at.unwrap_or(at_us)
    }

    /// A talk with a party of another node is exchanged on the federated
    /// line it was held on, which must join exactly the talk's nodes: no
    /// other node may hear of it.
    pub(in crate::state) fn require_talk_nodes(
        &self,
        record: &crate::talk_record::TalkRecord,
    ) -> Result<(), ServiceError> {
        let nodes: BTreeSet<&String> = record
            .parties
            .iter()
            .filter_map(|p| self.federation.remote.get(p))
            .collect();
        if nodes.is_empty() {
            return Ok(());
        }
        let line_nodes = record
            .line
            .as_ref()
            .and_then(|l| self.federation.lines.get(l))
            .map(|f| f.nodes.iter().collect::<BTreeSet<_>>());
        if line_nodes.as_ref() != Some(&nodes) {
            return Err(ServiceError::invalid(
                "/line",
                format!(
                    "a talk with a party of another node is exchanged on a federated line joining just the talk's nodes ({}); give such a line as the talk's line",
                    nodes.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        Ok(())
    }

    /// Whether `party` is a party of a peer node.
    pub(in crate::state) fn is_remote_party(&self, party: &str) -> bool {
        self.federation.remote.contains_key(party)
    }

    /// Whether `line` joins parties of other nodes.
    pub(super) fn is_federated(&self, line: &str) -> bool {
        // Not one only held of: a peer's log of a line this node refused,
        // one of that id being here already, leaves the line here as it was.
        self.federation
            .lines
            .get(line)
            .is_some_and(|f| !f.nodes.is_empty())
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
            // A node that refused the line for good (it holds a line of that
            // id of its own, say) never takes it: the line cannot go live.
            let refused: Vec<&str> = fed
                .nodes
                .iter()
                .filter(|n| fed.peer_refused.contains(&((*n).clone(), 0)))
                .map(String::as_str)
                .collect();
            if !refused.is_empty() {
                return Err(ServiceError::Conflict(format!(
                    "line {line} was refused by node(s) {} (see their peer_refused entries): it cannot be used; make the line again under another id",
                    refused.join(", ")
                )));
            }
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

    /// The latest signed checkpoint of `node`'s log on `line` this node
    /// took in (what its latest `received` entry of that log names, when
    /// that entry ended a run).
    pub fn their_checkpoint(&self, node: &str, line: &str) -> Option<String> {
        self.federation
            .lines
            .get(line)?
            .their_checkpoints
            .get(node)
            .cloned()
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

    /// The latest signed checkpoints this node holds of the logs on `line`
    /// of its nodes other than `to`, to travel with a delivery to `to`.
    pub fn heads_for(&self, to: &str, line: &str) -> Vec<String> {
        self.federation.lines.get(line).map_or_else(Vec::new, |f| {
            f.their_checkpoints
                .iter()
                .filter(|(n, _)| *n != to)
                .map(|(_, cp)| cp.clone())
                .collect()
        })
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
            let text = crate::federation::leaf_of(l.at_us, &l.entry);
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
                                "cosigned": fed.cosigned.get(n),
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
