//! Who an entry says acted: the party whose word or deed it records. An
//! offline verifier checks that this party is in the entry's audience (a
//! party sees everything logged in its name) and that its signed entries
//! are signed by keys of its own chain.

use crate::entry::Entry;
use serde_json::Value;

impl Entry {
    /// The party the entry is attributed to, if a party acted (not the
    /// host, the system's ticker, or a party only named as owing or checked).
    pub fn acting_party(&self) -> Option<&str> {
        match self {
            Entry::MessageSent { party, .. }
            | Entry::Notice { party, .. }
            | Entry::Acknowledged { party, .. }
            | Entry::PartyKeyRegistered { party, .. }
            | Entry::PartyKeyRevoked { party, .. }
            | Entry::PartyCertificateBound { party, .. }
            | Entry::ConflictCoordinated { party, .. }
            | Entry::SiteRegistered { party, .. }
            | Entry::SiteWithdrawn { party, .. }
            | Entry::LineCheckAnswered { party, .. }
            | Entry::TalkRecorded { party, .. }
            | Entry::TalkConfirmed { party, .. }
            | Entry::FollowUpClosed { party, .. }
            | Entry::PartySettingsChanged { party, .. } => Some(party),
            Entry::PartyCreated { .. }
            | Entry::OperatorCreated { .. }
            | Entry::OperatorRevoked { .. }
            | Entry::LineCreated { .. }
            | Entry::LineStatusChanged { .. }
            | Entry::ConflictFound { .. }
            | Entry::ConflictResolved { .. }
            | Entry::DeadlineEscalated { .. }
            | Entry::LineCheckSent { .. }
            | Entry::LineCheckMissed { .. }
            | Entry::PeerAdded { .. }
            | Entry::Received { .. }
            | Entry::Delivered { .. }
            | Entry::PeerMisbehaved { .. }
            | Entry::NoticeUndelivered { .. }
            | Entry::PeerRefused { .. } => None,
        }
    }
}

/// [`Entry::acting_party`] of an entry as a leaf or an answer shows it (its
/// public JSON, with `kind`); None for a kind this build does not know.
pub fn acting_party(entry: &Value) -> Option<String> {
    let mut e = entry.clone();
    if let Some(o) = e.as_object_mut() {
        // Public JSON leaves token hashes out; a notice's leaf its content.
        o.entry("token_sha256").or_insert(Value::from(""));
        if o.get("kind").and_then(Value::as_str) == Some("notice") {
            o.entry("content").or_insert(Value::Null);
        }
    }
    let e: Entry = serde_json::from_value(e).ok()?;
    e.acting_party().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_partys_deed_is_attributed_and_the_hosts_is_not() {
        let ack = json!({"kind": "acknowledged", "activity": "act-1", "version": 1,
            "party": "red", "operator": "op-2", "content_sha256": "ab"});
        assert_eq!(acting_party(&ack).as_deref(), Some("red"));
        let leaf_notice = json!({"kind": "notice", "activity": "act-1", "line": "air",
            "party": "blue", "operator": "op-1", "version": 1, "state": "notified",
            "content_sha256": "ab", "late": false});
        assert_eq!(acting_party(&leaf_notice).as_deref(), Some("blue"));
        let operator = json!({"kind": "operator_created", "operator": "op-3", "party": "blue",
            "name": "n", "role": "admin"});
        assert_eq!(acting_party(&operator), None);
        assert_eq!(
            acting_party(&json!({"kind": "from_the_future", "party": "blue"})),
            None
        );
    }
}
