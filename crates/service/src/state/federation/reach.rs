//! Whether a federated line's other nodes keep up: each node's standing in
//! the line's operation status (apart from its parties' line checks), and
//! the escalation of a notice a node has not taken in.
//!
//! Both are read from the journal alone (what this node logged, and which of
//! it each node receipted), so a restart shows the same.

use super::{Logs, State};
use crate::entry::Entry;
use crate::model::Role;
use crate::text::time_text;
use crate::views::NodeView;
use serde::{Deserialize, Serialize};

/// A node that has not receipted an entry logged this long ago is shown as
/// unreachable on the line (a delivery is tried every quarter of a second).
pub const UNREACHED_AFTER_US: i64 = 10_000_000;

/// A notice that one of its line's nodes has not receipted this long after it
/// was logged is escalated to its party's officers.
pub const UNDELIVERED_AFTER_US: i64 = 60_000_000;

/// A notice in this node's log on a line.
#[derive(Clone, Serialize, Deserialize)]
pub(super) struct OwnNotice {
    /// Its index in the log.
    pub(super) index: u64,
    pub(super) activity: String,
    pub(super) version: u64,
    pub(super) party: String,
}

impl State {
    /// Each other node of `line` with how far it keeps up, as of `now_us`
    /// (none for a hosted line).
    pub(in crate::state) fn node_standing(&self, line: &str, now_us: i64) -> Vec<NodeView> {
        let Some(fed) = self.federation.lines.get(line) else {
            return Vec::new();
        };
        fed.nodes
            .iter()
            .map(|node| {
                let receipted = fed.delivered.get(node).copied().unwrap_or(0);
                let behind_since = fed.own_at.get(receipted as usize).copied();
                NodeView {
                    node: node.clone(),
                    parties: self
                        .peers()
                        .get(node)
                        .map(|p| p.parties.clone())
                        .unwrap_or_default(),
                    log_size: fed.own.size(),
                    receipted,
                    held: fed.theirs.get(node).map_or(0, |l| l.size()),
                    behind_since: behind_since.map(time_text),
                    reachable: behind_since.is_none_or(|t| now_us - t < UNREACHED_AFTER_US),
                }
            })
            .collect()
    }

    /// The notices due to be escalated at `now_us` because a node of their
    /// line has not receipted them, as entries (one per notice and node).
    pub(in crate::state) fn undelivered_due(&self, now_us: i64) -> Logs {
        let mut out = Vec::new();
        for (line, fed) in &self.federation.lines {
            for node in &fed.nodes {
                let receipted = fed.delivered.get(node).copied().unwrap_or(0);
                let first = fed.own_notices.partition_point(|n| n.index < receipted);
                for n in &fed.own_notices[first..] {
                    let at = fed.own_at[n.index as usize];
                    if now_us - at < UNDELIVERED_AFTER_US {
                        break;
                    }
                    let key = (node.clone(), n.activity.clone(), n.version);
                    if fed.told_undelivered.contains(&key) {
                        continue;
                    }
                    let entry = Entry::NoticeUndelivered {
                        line: line.clone(),
                        node: node.clone(),
                        activity: n.activity.clone(),
                        version: n.version,
                        party: n.party.clone(),
                        since: time_text(at),
                        to: self.operators_of(&n.party, Role::Officer),
                    };
                    out.push((entry, vec![n.party.clone()]));
                }
            }
        }
        out
    }

    pub(in crate::state) fn evolve_notice_undelivered(
        &mut self,
        line: &str,
        node: &str,
        activity: &str,
        version: u64,
    ) {
        if let Some(fed) = self.federation.lines.get_mut(line) {
            fed.told_undelivered
                .insert((node.to_string(), activity.to_string(), version));
        }
    }
}
