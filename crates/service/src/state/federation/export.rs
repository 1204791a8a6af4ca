//! What a node gives a party to check a federated line offline: its own
//! log on the line and what it holds of the other nodes' (the CLI's
//! `verify federation` reads it beside the other nodes' own).

use super::State;
use crate::error::ServiceError;
use crate::model::Actor;
use parley_record::Hash;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// A federated line's logs as one node holds them (see [`State::line_logs`]).
pub struct LineLogs {
    /// This node's log: each entry's leaf text.
    pub entries: Vec<String>,
    /// Its root.
    pub root: Hash,
    /// Each other node of the line.
    pub nodes: BTreeMap<String, NodeLogs>,
}

/// Another node's share of a federated line, as this node holds it.
#[derive(Serialize)]
pub struct NodeLogs {
    /// The leaf hashes (hex) of its log held here.
    pub leaves: Vec<String>,
    /// Its latest signed checkpoint of that log taken in here.
    pub checkpoint: Option<String>,
    /// Its latest receipt of this node's log.
    pub receipt: Option<Value>,
    /// This node's checkpoint it cosigned last, with its cosignature.
    pub cosigned: Option<String>,
}

impl State {
    /// What `actor` (a party of the line, or the host's admins) may take away
    /// to check a federated line offline against the other nodes' own
    /// exports: this node's log on the line (each entry's leaf text) and
    /// root, and for each other node the leaf hashes and latest signed
    /// checkpoint of its log held here, its latest receipt of this node's
    /// log and its cosignature.
    pub fn line_logs(&self, actor: &Actor, line: &str) -> Result<LineLogs, ServiceError> {
        if !self.sees_line(actor, line) {
            return Err(ServiceError::NotFound(format!("line {line}")));
        }
        let fed = self.federation.lines.get(line).ok_or_else(|| {
            ServiceError::invalid("/line", format!("line {line} joins no other node"))
        })?;
        let mut entries = Vec::with_capacity(fed.own_seqs.len());
        for (&seq, &at_us) in fed.own_seqs.iter().zip(&fed.own_at) {
            let l = self.log.get(seq).ok_or_else(|| {
                ServiceError::Unavailable(format!("entry {seq} could not be read from the store"))
            })?;
            entries.push(crate::federation::leaf_of(at_us, &l.entry));
        }
        // The line's other nodes, and any whose log on it this node holds
        // though it refused that node's line (a line of that id was here).
        let nodes = fed
            .nodes
            .iter()
            .chain(fed.theirs.keys())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .map(|n| {
                let held = NodeLogs {
                    leaves: fed
                        .theirs
                        .get(n)
                        .map(|l| l.leaves.clone())
                        .unwrap_or_default(),
                    checkpoint: fed.their_checkpoints.get(n).cloned(),
                    receipt: fed.receipts.get(n).cloned(),
                    cosigned: fed.cosigned.get(n).cloned(),
                };
                (n.clone(), held)
            })
            .collect();
        Ok(LineLogs {
            root: fed.own.tree.root_at(fed.own.size()).expect("its own size"),
            entries,
            nodes,
        })
    }
}
