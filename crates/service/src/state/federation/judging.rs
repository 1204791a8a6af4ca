//! Whether a peer's entry, signed and in its log, is one this node takes in.
//!
//! A refusal is one of two kinds, and which is decided branch by branch
//! below (each says why):
//! - **waiting**: the entry names what this node does not hold yet and may
//!   hold once another node's delivery arrives (a conflict between
//!   activities not held here yet). The delivery is refused as a request
//!   and sent again next round; it heals itself.
//! - **permanent**: nothing that arrives later makes it acceptable (its
//!   content does not hash, its party is not the sender's, its version does
//!   not follow what is held). The entry is held all the same (it is part
//!   of the sender's signed log, which must stay whole to verify) but not
//!   applied: its `Received` entry says why, and the line moves on. Were it
//!   refused as a request, every later entry of that node on the line would
//!   wait behind it for ever.

use super::Logs;
use crate::content::Stated;
use crate::entry::Entry;
use crate::error::ServiceError;
use crate::model::NoticeState;
use crate::state::State;

/// Why a peer's entry is not taken in (see the module's front).
pub(super) enum Refusal {
    /// Not yet: the delivery is refused as a request and tried again.
    Waiting(ServiceError),
    /// Never: held, not applied, the reason in its `Received` entry.
    Permanent(String),
}

/// What a peer's entry comes to here: whether it is new (logged) and the
/// entries this node logs of its own in answer, or why it is refused.
type Judged = Result<(bool, Logs), Refusal>;

impl State {
    /// Whether a peer's entry is one it may send on the line, and whether it
    /// is new here; with the entries this node logs of its own in answer (the
    /// conflicts it finds for a notice).
    pub(super) fn judge_peer_entry(
        &self,
        node: &str,
        line: &str,
        entry: &Entry,
        pointer: &str,
        now_us: i64,
    ) -> Judged {
        let never = |why: String| Err(Refusal::Permanent(why));
        let not_yet = |why: String| Err(Refusal::Waiting(ServiceError::invalid(pointer, why)));
        let theirs = |party: &str| self.federation.remote.get(party).is_some_and(|n| n == node);
        let on_line = self.lines.contains_key(line);
        match entry {
            Entry::LineCreated {
                line: l, parties, ..
            } => {
                // Permanent: a line is created once, by one node, under its
                // own id; the parties it names are in the entry itself.
                if l != line || on_line {
                    return never(format!(
                        "line {l} exists here already or is not the delivery's"
                    ));
                }
                if !parties.iter().any(|p| theirs(p)) {
                    return never(format!("{node} names none of its own parties on the line"));
                }
                if !parties.iter().any(|p| {
                    self.parties.contains_key(p) && !self.federation.remote.contains_key(p)
                }) {
                    return never("the line names no party of this node".into());
                }
                // Waiting: the host's admins may yet peer the party's node.
                if let Some(p) = parties.iter().find(|p| !self.parties.contains_key(*p)) {
                    return not_yet(format!("no party {p} here: peer its node first"));
                }
                Ok((true, Vec::new()))
            }
            // Waiting: the line's creation may come from a third node, whose
            // delivery has not arrived yet.
            _ if !on_line => not_yet(format!("no line {line} here")),
            Entry::Notice { .. } => self.judge_peer_notice(node, line, entry, now_us),
            Entry::Acknowledged {
                activity,
                version,
                party,
                ..
            } => {
                // Permanent: a node acknowledges for its own parties only.
                if !theirs(party) {
                    return never(format!("{party} is not a party of {node}"));
                }
                // A late acknowledgment of what is history here still counts.
                let retired = self.retired_activity(activity).and_then(Result::ok);
                match self.activities.get(activity).map(|a| &**a).or(retired.as_ref()) {
                    // Permanent: an activity stays on its line.
                    Some(a) if a.line != line => never(format!(
                        "an acknowledgment by {party} of activity {activity}, which is not on {line}"
                    )),
                    Some(a) if *version <= a.versions.len() as u64 => Ok((true, Vec::new())),
                    // Waiting: the notice (or its version) comes from another
                    // node and may not have arrived here yet.
                    _ => not_yet(format!(
                        "an acknowledgment by {party} of activity {activity} version {version}, not held here yet"
                    )),
                }
            }
            Entry::LineCheckSent { line: l, party, .. }
            | Entry::LineCheckAnswered { line: l, party, .. }
            | Entry::LineCheckMissed { line: l, party, .. } => {
                // Permanent: a line's parties are fixed when it is created.
                if l != line || !theirs(party) || !self.is_member(party, line) {
                    return never(format!(
                        "a line check of {party}, not a party of {node} on {line}"
                    ));
                }
                Ok((true, Vec::new()))
            }
            Entry::TalkRecorded { party, .. }
            | Entry::TalkConfirmed { party, .. }
            | Entry::FollowUpClosed { party, .. } => {
                // Permanent: a node speaks for its own parties only.
                if !theirs(party) {
                    return never(format!("{party} is not a party of {node}"));
                }
                // Waiting: a talk's versions and confirmations come from both
                // its nodes, so what does not follow may once the other's
                // arrive.
                self.talks
                    .judge_peer_entry(line, entry)
                    .map_err(|why| Refusal::Waiting(ServiceError::invalid(pointer, why)))?;
                Ok((true, Vec::new()))
            }
            Entry::MessageSent { line: l, party, .. } => {
                // Permanent: a line's parties are fixed when it is created.
                if l != line || !theirs(party) {
                    return never(format!(
                        "a message of {party}, not a party of {node} on {line}"
                    ));
                }
                Ok((true, Vec::new()))
            }
            Entry::ConflictFound { conflict, a, b, .. } => {
                // Permanent: a conflict a line shares is between activities.
                if [a, b].iter().any(|s| s.kind != "activity") {
                    return never(format!("conflict {conflict} is not between two activities"));
                }
                // Permanent: an activity stays on its line.
                if let Some(s) = [a, b]
                    .iter()
                    .find(|s| self.activities.get(&s.id).is_some_and(|x| x.line != line))
                {
                    return never(format!(
                        "conflict {conflict} names activity {}, which is not on {line}",
                        s.id
                    ));
                }
                // Waiting: a side's notice may come from another node whose
                // delivery has not arrived yet.
                if let Some(s) = [a, b].iter().find(|s| !self.activities.contains_key(&s.id)) {
                    return not_yet(format!(
                        "conflict {conflict} names activity {}, not held here yet",
                        s.id
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
                // Permanent: a node speaks for its own parties only.
                if !theirs(party) {
                    return never(format!("{party} is not a party of {node}"));
                }
                Ok((
                    self.conflicts
                        .get(conflict)
                        .is_some_and(|c| !c.coordinated.contains_key(party)),
                    Vec::new(),
                ))
            }
            // Permanent: the kind is not one a line's nodes share.
            other => never(format!(
                "a {} entry is not one a node sends on a line",
                kind_of(other)
            )),
        }
    }

    /// A peer's notice: its party, its version, its content and volumes; and
    /// this node's own conflict check, whose conflicts it logs as its own.
    /// Every refusal of a notice is permanent: its party is the sender's
    /// and its versions come in the sender's log in order, so one that does
    /// not follow what is held never will; its content is what it is.
    fn judge_peer_notice(&self, node: &str, line: &str, entry: &Entry, now_us: i64) -> Judged {
        let Entry::Notice {
            activity,
            line: l,
            party,
            version,
            state,
            content,
            content_sha256,
            ..
        } = entry
        else {
            return Err(Refusal::Permanent(format!(
                "a {} entry is not a notice",
                kind_of(entry)
            )));
        };
        let never = |why: String| Err(Refusal::Permanent(why));
        let theirs = self.federation.remote.get(party).is_some_and(|n| n == node);
        if l != line || !theirs || !self.is_member(party, line) {
            return never(format!(
                "a notice of {party}, not a party of {node} on {line}"
            ));
        }
        let known = self.activities.get(activity);
        let next = known.map_or(1, |a| a.versions.len() as u64 + 1);
        if known.is_some_and(|a| a.party != *party) || *version != next {
            return never(format!("activity {activity} version {version} does not follow what is held (version {next} expected)"));
        }
        if crate::hashing::sha256_hex(content.get().as_bytes()) != *content_sha256 {
            return never("the content does not hash to its content_sha256".into());
        }
        if *state == NoticeState::Cancelled {
            return Ok((true, Vec::new()));
        }
        let mut volumes = Vec::new();
        for (i, v) in Stated::of(content).volumes.iter().enumerate() {
            match parley_wire::parse_volume(v, "", &self.limits.volume) {
                Ok(v) => volumes.push(v),
                Err(e) => return never(format!("content/volumes/{i}: {e}")),
            }
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
}

/// An entry's kind as it is stored (`notice`, `line_created`, ...).
pub(super) fn kind_of(entry: &Entry) -> String {
    serde_json::to_value(entry)
        .ok()
        .and_then(|v| v["kind"].as_str().map(str::to_string))
        .unwrap_or_default()
}
