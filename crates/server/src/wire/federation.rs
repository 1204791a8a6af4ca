//! Federation: the answers to peering, the federation's status and a peer's
//! delivery, and what a notice's answer adds on a federated line.

use super::Receipt;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A peer node, as logged (`peer_added`).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct Peer {
    /// Its name: its record's origin.
    node: String,
    /// Where it is served.
    url: String,
    /// Its record key, a verifier key line.
    node_key: String,
    /// Its parties this node may meet on lines.
    parties: Vec<String>,
    /// The SHA-256 of its TLS key (SPKI, hex), pinned for `https://`.
    tls_pin: Option<String>,
    /// Its cosigner key (tlog-cosignature), if given.
    cosigner_key: Option<String>,
}

/// Whether a peer answers now.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct Reach {
    reachable: bool,
    /// Unreachable only: since when (RFC 3339).
    since: Option<String>,
    /// Unreachable only: what failed.
    why: Option<String>,
}

/// A peer, with whether it answers now.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct PeerStatus {
    url: String,
    node_key: String,
    /// Its cosigner key (tlog-cosignature), if given when peered.
    cosigner_key: Option<String>,
    parties: Vec<String>,
    reach: Reach,
}

/// A node's share of a federated line's logs.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct NodeLog {
    /// How much of this node's log it has receipted.
    receipted: u64,
    /// How much of its log this node holds.
    held: u64,
    /// The latest checkpoint of this node's log that the node cosigned, with
    /// its `cosignature/v1` line (null before the first, or without its
    /// cosigner key).
    cosigned: Option<String>,
}

/// A federated line as this node keeps it.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct FederatedLine {
    /// The size of this node's log on the line.
    log_size: u64,
    /// Each other node of the line.
    nodes: BTreeMap<String, NodeLog>,
}

/// This node's peers and federated lines.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct FederationStatus {
    /// This node's name: its record's origin.
    node: String,
    /// This node's record key, a verifier key line (null without one).
    node_key: Option<String>,
    /// This node's cosigner key (tlog-cosignature; type 0x04), which it
    /// witnesses its peers' logs with: give it to the peers' admins with
    /// the record key.
    cosigner_key: Option<String>,
    /// Each peer, by name.
    peers: BTreeMap<String, PeerStatus>,
    /// Each federated line, by id.
    lines: BTreeMap<String, FederatedLine>,
}

/// The answer to a peer's delivery.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct DeliveryAnswer {
    /// This node's receipt of its latest `received` entry of the sender's log.
    receipt: Receipt,
    /// This node's cosignature (a C2SP `cosignature/v1` line) of the
    /// sender's latest checkpoint it took in (null before any).
    cosignature: Option<String>,
    /// This node's receipts of the `received` entries in which it refused
    /// for good entries of the delivery (each with its `refused` reason):
    /// held, so the sender's log stays whole, but not applied.
    refusals: Vec<Receipt>,
    /// What this node owes the sender on the line: `{from, line, first,
    /// entries, checkpoint}`, or null.
    #[schema(value_type = Option<Object>)]
    delivery: Option<serde_json::Value>,
}

/// A node of a federated line that did not answer a notice's delivery in time.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct NotReached {
    node: String,
    /// Unreachable since (RFC 3339).
    since: String,
}

/// On a federated line, what a notice's answer adds: the nodes of the line,
/// those not reached, and as of when the conflicts are known.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct NoticeFederation {
    nodes: Vec<String>,
    not_reached: Vec<NotReached>,
    /// RFC 3339.
    conflicts_known_as_of: String,
}

/// A federated line's logs as one node holds them (`parley-line-logs/v1`).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct LineLogs {
    /// `parley-line-logs/v1`.
    format: String,
    line: String,
    /// The node that holds them (its record's origin).
    node: String,
    /// Its record key and cosigner key (check them against what was
    /// exchanged out of band).
    node_key: String,
    cosigner_key: String,
    /// A checkpoint of its log on the line (`<node>/lines/<line>`), signed now.
    checkpoint: String,
    /// Its log: each entry's leaf text, `{"at_us", "entry"}`.
    entries: Vec<String>,
    /// Each other node of the line.
    nodes: BTreeMap<String, NodeLogs>,
}

/// Another node's share of a federated line, as the exporting node holds it.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct NodeLogs {
    /// Leaf hashes (hex) of its log held here.
    leaves: Vec<String>,
    /// Its latest signed checkpoint of that log taken in here.
    checkpoint: Option<String>,
    /// Its latest receipt of the exporting node's log.
    receipt: Option<Receipt>,
    /// The exporting node's checkpoint it cosigned last, with its cosignature.
    cosigned: Option<String>,
}
