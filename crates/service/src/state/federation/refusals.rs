//! Entries a peer holds but refused for good (see `judging.rs`): on the
//! receiving node, where each refusal's `Received` entry is, so its receipt
//! goes back with the delivery's answer; on the sending node, the refusals
//! its peers signed, each told once to the party that authored the entry
//! (`Entry::PeerRefused`).

use super::{Logs, State};
use crate::entry::Entry;
use crate::error::ServiceError;
use crate::model::HOST;
use parley_record::VerifierKey;
use serde_json::Value;

impl State {
    /// The journal positions of the `Received` entries in which this node
    /// refused for good entries `from..to` of `node`'s log on `line`.
    pub fn refusals_of(&self, node: &str, line: &str, from: u64, to: u64) -> Vec<u64> {
        self.federation
            .lines
            .get(line)
            .and_then(|f| f.refused_here.get(node))
            .map(|r| r.range(from..to).map(|(_, &seq)| seq).collect())
            .unwrap_or_default()
    }

    /// What a peer's receipts say it refused of this node's log on `line`
    /// and this node has not told yet: one `PeerRefused` for each, to the
    /// entry's party. `received` is the entry the delivery's receipt proves
    /// (checked already); each of `refusals` is checked here with `key`.
    pub(super) fn peer_refusals(
        &self,
        (node, line): (&str, &str),
        key: &VerifierKey,
        received: &Value,
        refusals: &[Value],
    ) -> Result<Logs, ServiceError> {
        let Some(fed) = self.federation.lines.get(line) else {
            return Ok(Vec::new());
        };
        let mut said = vec![(received.clone(), received["through"].as_u64())];
        for (i, r) in refusals.iter().enumerate() {
            let bad = |why: &str| {
                ServiceError::invalid(&format!("/refusals/{i}"), format!("{node}'s receipt {why}"))
            };
            let e = crate::federation::received_in(r, key).map_err(|why| bad(&why))?;
            let through = self
                .names_own_entry(line, &e)
                .ok_or_else(|| bad("is not of this node's log on the line as sent"))?;
            if e["refused"].as_str().is_none() {
                return Err(bad("refuses nothing"));
            }
            said.push((e, Some(through)));
        }
        let mut out: Logs = Vec::new();
        let mut told = std::collections::BTreeSet::new();
        for (e, through) in said {
            let (Some(reason), Some(through)) = (e["refused"].as_str(), through) else {
                continue;
            };
            let index = through - 1;
            if fed.peer_refused.contains(&(node.to_string(), index)) || !told.insert(index) {
                continue;
            }
            let refused = fed
                .own_seqs
                .get(index as usize)
                .and_then(|&s| self.log.get(s));
            let shown = refused.map(|l| l.entry.public_json()).unwrap_or_default();
            let party = shown["party"].as_str().unwrap_or(HOST).to_string();
            let entry = Entry::PeerRefused {
                node: node.to_string(),
                line: line.to_string(),
                index,
                entry_kind: shown["kind"].as_str().unwrap_or_default().to_string(),
                about: ["activity", "talk", "conflict"]
                    .iter()
                    .find_map(|k| shown[*k].as_str())
                    .map(str::to_string),
                party: party.clone(),
                reason: reason.to_string(),
            };
            out.push((entry, vec![party]));
        }
        Ok(out)
    }

    pub(in crate::state) fn evolve_peer_refused(&mut self, node: &str, line: &str, index: u64) {
        if let Some(fed) = self.federation.lines.get_mut(line) {
            fed.peer_refused.insert((node.to_string(), index));
        }
    }
}
