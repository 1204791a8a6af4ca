//! A party's keys, a chain only the party extends: its first key registered
//! by its own admin, every later key and every revocation signed by a key it
//! holds (`signatures.rs` checks the signature); all of them entries every
//! party sees, so the chain is verifiable from the record alone.

use super::{Decision, State};
use crate::entry::Entry;
use crate::error::ServiceError;
use crate::model::{Actor, Role, WriteOutcome};
use parley_record::VerifierKey;
use serde_json::json;

impl State {
    /// The public keys `party` holds (registered and not revoked).
    pub fn party_keys(&self, party: &str) -> Result<Vec<String>, ServiceError> {
        if !self.parties.contains_key(party) {
            return Err(ServiceError::NotFound(format!("party {party}")));
        }
        Ok(self.party_keys.get(party).cloned().unwrap_or_default())
    }

    /// Whether `party` holds a key: its key changes must then be signed.
    pub(super) fn holds_keys(&self, party: &str) -> bool {
        self.party_keys.get(party).is_some_and(|k| !k.is_empty())
    }

    /// Only the party's own admins change its keys: a key the host could
    /// register would let the host sign as the party.
    fn require_own_admin(&self, actor: &Actor, party: &str) -> Result<(), ServiceError> {
        let own_admin = actor.party == *party && actor.role == Role::Admin;
        if self.parties.contains_key(party) && own_admin {
            return Ok(());
        }
        Err(
            if self.parties.contains_key(party) && actor.party == *party {
                ServiceError::Forbidden("only the party's admins register its keys".into())
            } else {
                ServiceError::NotFound(format!("party {party}"))
            },
        )
    }

    /// `Command::RegisterKey`: a party's admin registers a public key of the party.
    pub(super) fn decide_register_key(
        &self,
        actor: &Actor,
        party: &str,
        key: &str,
    ) -> Result<Decision, ServiceError> {
        self.require_own_admin(actor, party)?;
        let parsed = VerifierKey::parse(key.trim()).map_err(|e| {
            ServiceError::invalid(
                "/key",
                format!("{e}; give the line `parley keys generate` printed"),
            )
        })?;
        let name = parsed.name();
        if name != party && !name.starts_with(&format!("{party}/")) {
            return Err(ServiceError::invalid(
                "/key",
                format!("the key is named {name}; name it {party} or {party}/<label>"),
            ));
        }
        if self
            .party_keys
            .get(party)
            .is_some_and(|ks| ks.iter().any(|k| k == key.trim()))
        {
            return Err(ServiceError::Conflict(
                "this key is registered already".into(),
            ));
        }
        let entry = Entry::PartyKeyRegistered {
            party: party.to_string(),
            key: key.trim().to_string(),
            operator: actor.operator.clone(),
            signed: None,
        };
        Ok(self.key_decision(entry, party, key))
    }

    /// `Command::RevokeKey`: a party's admin revokes one of its keys; it signs
    /// nothing for the party from then on.
    pub(super) fn decide_revoke_key(
        &self,
        actor: &Actor,
        party: &str,
        key: &str,
    ) -> Result<Decision, ServiceError> {
        self.require_own_admin(actor, party)?;
        let held = self
            .party_keys
            .get(party)
            .map(Vec::as_slice)
            .unwrap_or_default();
        if !held.iter().any(|k| k == key.trim()) {
            return Err(ServiceError::invalid(
                "/key",
                format!("{party} holds no such key; give one of `parley keys list {party}`"),
            ));
        }
        if held.len() == 1 {
            // The chain must go on from a key the party holds: a party with
            // none could only begin again unsigned.
            return Err(ServiceError::Conflict(format!(
                "this is {party}'s last key: register its successor first (signed with this one), then revoke it"
            )));
        }
        let entry = Entry::PartyKeyRevoked {
            party: party.to_string(),
            key: key.trim().to_string(),
            operator: actor.operator.clone(),
            signed: None,
        };
        Ok(self.key_decision(entry, party, key))
    }

    fn key_decision(&self, entry: Entry, party: &str, key: &str) -> Decision {
        // Keys are public: every party may check a signature.
        let audience = self.parties.keys().cloned().collect();
        Decision {
            entries: vec![(entry, audience)],
            outcome: WriteOutcome::Created,
            body: json!({"party": party, "key": key.trim()}),
            volumes: None,
        }
    }

    pub(super) fn evolve_party_key_registered(&mut self, party: &str, key: &str) {
        self.party_keys
            .entry(party.to_string())
            .or_default()
            .push(key.to_string());
    }

    pub(super) fn evolve_party_key_revoked(&mut self, party: &str, key: &str) {
        if let Some(keys) = self.party_keys.get_mut(party) {
            keys.retain(|k| k != key);
        }
    }
}
