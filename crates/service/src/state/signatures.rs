//! Parties' keys and signed requests: a signature verifies under a key the
//! party's own admins registered and is kept with what it signed.

use super::{Decision, State};
use crate::command::Command;
use crate::command::Signed;
use crate::entry::{Entry, SignedBy};
use crate::error::ServiceError;
use crate::model::WriteOutcome;
use crate::model::{Actor, Role};
use parley_record::VerifierKey;
use serde_json::{json, Value};

impl State {
    /// [`State::decide`] for a request that may be signed: the signature must
    /// verify with a key of the actor's party, and is kept in the notice or
    /// acknowledgment it makes; a line that requires signatures refuses
    /// unsigned notices and acknowledgments.
    pub fn decide_signed(
        &self,
        actor: &Actor,
        command: &Command,
        signed: Option<&Signed>,
        now_us: i64,
    ) -> Result<Decision, ServiceError> {
        let signable = matches!(
            command,
            Command::Notify { .. }
                | Command::Amend { .. }
                | Command::Cancel { .. }
                | Command::Acknowledge { .. }
                | Command::ConfirmTalk { .. }
        );
        let proof = match signed {
            None => None,
            Some(_) if !signable => {
                return Err(ServiceError::invalid(
                    "",
                    "only notices, amendments, cancellations, acknowledgments and confirmations of talks are signed",
                ))
            }
            Some(s) => Some(self.verify_signed(&actor.party, s)?),
        };
        if proof.is_none() {
            let line = match command {
                Command::Notify { line, .. } => Some(line.as_str()),
                Command::Amend { activity, .. }
                | Command::Cancel { activity, .. }
                | Command::Acknowledge { activity, .. } => {
                    self.activities.get(activity).map(|a| a.line.as_str())
                }
                _ => None,
            };
            if let Some(line) = line
                .filter(|l| self.sees_line(actor, l) && self.lines[*l].rules.signatures_required)
            {
                return Err(ServiceError::Forbidden(format!(
                    "line {line} takes only signed notices and acknowledgments; sign with a key of {}",
                    actor.party
                )));
            }
        }
        let mut decision = self.decide(actor, command, now_us)?;
        if let Some(p) = proof {
            decision.body["signed_by"] = Value::from(p.key.clone());
            if let Some((
                Entry::Notice { signed, .. }
                | Entry::Acknowledged { signed, .. }
                | Entry::TalkConfirmed { signed, .. },
                _,
            )) = decision.entries.first_mut()
            {
                *signed = Some(p);
            }
        }
        Ok(decision)
    }

    /// The key of `party` that verifies `s`, with the signed note.
    pub(super) fn verify_signed(&self, party: &str, s: &Signed) -> Result<SignedBy, ServiceError> {
        let note = format!("{}\n\u{2014} {}\n", s.statement, s.signature.trim());
        let keys = self
            .party_keys
            .get(party)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for key in keys {
            if let Ok(k) = VerifierKey::parse(key) {
                if k.open_note(&note).is_ok() {
                    return Ok(SignedBy {
                        key: key.clone(),
                        note,
                    });
                }
            }
        }
        Err(ServiceError::invalid(
            "",
            format!(
                "the Parley-Signature does not verify with any key of {party}; register the key (parley keys register) or sign the exact body again"
            ),
        ))
    }

    /// The public keys registered by `party`.
    pub fn party_keys(&self, party: &str) -> Result<Vec<String>, ServiceError> {
        if !self.parties.contains_key(party) {
            return Err(ServiceError::NotFound(format!("party {party}")));
        }
        Ok(self.party_keys.get(party).cloned().unwrap_or_default())
    }

    /// `Command::RegisterKey`: a party's admin registers a public key of the party.
    pub(super) fn decide_register_key(
        &self,
        actor: &Actor,
        party: &str,
        key: &str,
    ) -> Result<Decision, ServiceError> {
        // The party's own admins only: a key the host could register would
        // let the host sign as the party.
        let own_admin = actor.party == *party && actor.role == Role::Admin;
        if !self.parties.contains_key(party) || !own_admin {
            return Err(
                if self.parties.contains_key(party) && actor.party == *party {
                    ServiceError::Forbidden("only the party's admins register its keys".into())
                } else {
                    ServiceError::NotFound(format!("party {party}"))
                },
            );
        }
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
        };
        // Keys are public: every party may check a signature.
        let audience = self.parties.keys().cloned().collect();
        Ok(Decision {
            entries: vec![(entry, audience)],
            outcome: WriteOutcome::Created,
            body: json!({"party": party, "key": key.trim()}),
            volumes: None,
        })
    }

    pub(super) fn evolve_party_key_registered(&mut self, party: &str, key: &str) {
        self.party_keys
            .entry(party.to_string())
            .or_default()
            .push(key.to_string());
    }
}
