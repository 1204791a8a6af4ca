//! Signed requests: a party's `parley-statement/v2` (`statement.rs`) must
//! name this server's record, the line, talk or party of what is recorded,
//! the operator who sends it, a time within the skew of the server's clock,
//! the action and the canonical hash of the content the server will record;
//! it must verify with a key the party holds, and is accepted once.
//!
//! The signatures used are kept by their hash for as long as a statement
//! could still be within the skew ([`MAX_SIGNATURE_SKEW_S`] twice, whatever
//! the deployment's skew), rebuilt from the journal's signed entries on
//! restart: a second operator (or the same one with a new idempotency key)
//! sending a signed request again gets 409 `replayed` and nothing is made.

use super::{Decision, State};
use crate::command::{Command, Signed};
use crate::entry::{Entry, Logged, SignedBy};
use crate::error::ServiceError;
use crate::hashing::sha256_hex;
use crate::model::Actor;
use crate::record::ORIGIN;
use crate::statement::{signed_note, Claim, Statement, MAX_SIGNATURE_SKEW_S, SIGNATURE_SKEW_S};
use parley_record::VerifierKey;
use serde_json::Value;
use std::collections::HashMap;

const MAX_SKEW_US: i64 = MAX_SIGNATURE_SKEW_S * 1_000_000;

/// What a server binds signatures to, and the signatures used.
pub(super) struct Signing {
    /// The record's origin, as in its checkpoints.
    origin: String,
    /// How far a statement's time may be from the clock, µs.
    skew_us: i64,
    /// SHA-256 of each signature used → when its entry was logged.
    used: HashMap<String, i64>,
    /// When `used` was last trimmed.
    trimmed_at: i64,
}

impl Default for Signing {
    fn default() -> Self {
        Signing {
            origin: ORIGIN.into(),
            skew_us: SIGNATURE_SKEW_S * 1_000_000,
            used: HashMap::new(),
            trimmed_at: i64::MIN,
        }
    }
}

impl Signing {
    /// The signatures used (for the snapshot's image).
    pub(super) fn used(&self) -> &HashMap<String, i64> {
        &self.used
    }

    /// The signatures used, as an image held them.
    pub(super) fn set_used(&mut self, used: HashMap<String, i64>) {
        self.used = used;
    }
}

/// The hash a used signature is kept by.
fn used_key(signature: &str) -> String {
    sha256_hex(signature.trim().as_bytes())
}

/// The signature line of a signed note (after the em dash).
fn signature_of(note: &str) -> Option<&str> {
    note.trim_end()
        .rsplit_once("\n\u{2014} ")
        .map(|(_, s)| s.trim())
}

impl State {
    /// Binds statements to the record named `origin` and accepts those
    /// signed within `skew_s` seconds of the clock (at most
    /// [`MAX_SIGNATURE_SKEW_S`]).
    pub fn set_signing(&mut self, origin: &str, skew_s: i64) {
        self.signing.origin = origin.to_string();
        self.signing.skew_us = skew_s.clamp(1, MAX_SIGNATURE_SKEW_S) * 1_000_000;
    }

    /// The record's origin and the skew in seconds (see [`State::set_signing`]).
    pub fn signing(&self) -> (String, i64) {
        (
            self.signing.origin.clone(),
            self.signing.skew_us / 1_000_000,
        )
    }

    /// [`State::decide`] for a request that may be signed: the statement is
    /// checked against what the command records and kept in its entry; a
    /// line that requires signatures refuses unsigned notices and
    /// acknowledgments; a party that holds keys changes them only signed.
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
                | Command::RegisterKey { .. }
                | Command::RevokeKey { .. }
        );
        match signed {
            Some(_) if !signable => {
                return Err(ServiceError::invalid(
                    "",
                    "only notices, amendments, cancellations, acknowledgments, confirmations of talks and key changes are signed",
                ))
            }
            Some(_) if command.is_dry_run() => {
                return Err(ServiceError::invalid(
                    "/dry_run",
                    "a dry run records nothing and is not signed; send it without Parley-Signature",
                ))
            }
            None => self.require_signature(actor, command)?,
            Some(_) => {}
        }
        let mut decision = self.decide(actor, command, now_us)?;
        if let (Some(s), Some((entry, _))) = (signed, decision.entries.first_mut()) {
            let proof = self.check_statement(actor, command, entry, s, now_us)?;
            decision.body["signed_by"] = Value::from(proof.key.clone());
            if let Entry::Notice { signed, .. }
            | Entry::Acknowledged { signed, .. }
            | Entry::TalkConfirmed { signed, .. }
            | Entry::PartyKeyRegistered { signed, .. }
            | Entry::PartyKeyRevoked { signed, .. } = entry
            {
                *signed = Some(proof);
            }
        } else if let (
            None,
            Command::RevokeKey { party, .. } | Command::RegisterKey { party, .. },
        ) = (signed, command)
        {
            if self.holds_keys(party) {
                return Err(ServiceError::Forbidden(format!(
                    "{party} holds keys: sign the change with one of them (Parley-Signature; `parley keys register` and `revoke` sign with this profile's key)"
                )));
            }
        }
        Ok(decision)
    }

    /// Refuses an unsigned notice or acknowledgment on a line that requires
    /// signatures (to one who may see the line; others learn nothing here).
    fn require_signature(&self, actor: &Actor, command: &Command) -> Result<(), ServiceError> {
        let line = match command {
            Command::Notify { line, .. } => Some(line.as_str()),
            Command::Amend { activity, .. }
            | Command::Cancel { activity, .. }
            | Command::Acknowledge { activity, .. } => {
                self.activities.get(activity).map(|a| a.line.as_str())
            }
            _ => None,
        };
        match line.filter(|l| self.sees_line(actor, l) && self.lines[*l].rules.signatures_required)
        {
            Some(line) if !command.is_dry_run() => Err(ServiceError::Forbidden(format!(
                "line {line} takes only signed notices and acknowledgments; sign with a key of {}",
                actor.party
            ))),
            _ => Ok(()),
        }
    }

    /// The signature of `entry`, the first entry `command` logs: the
    /// statement must be the one of what is recorded, recent, unused, and
    /// verify with a key of the actor's party.
    fn check_statement(
        &self,
        actor: &Actor,
        command: &Command,
        entry: &Entry,
        s: &Signed,
        now_us: i64,
    ) -> Result<SignedBy, ServiceError> {
        let header = |m: String| ServiceError::invalid("", format!("Parley-Signature: {m}"));
        let given =
            Statement::parse(&s.statement).map_err(|e| header(format!("the statement: {e}")))?;
        if self.signing.used.contains_key(&used_key(&s.signature)) {
            return Err(ServiceError::Replayed(
                "this signature was accepted once already; a party's signed request is accepted once: sign a new statement".into(),
            ));
        }
        let recorded = entry.public_json();
        let claim = Claim::of_entry(&recorded, None, |a| {
            self.activities.get(a).map(|x| x.line.clone())
        })
        .ok_or_else(|| header("this request records nothing that is signed".into()))?;
        let expected = claim.statement(&self.signing.origin, &actor.operator, given.time_us);
        if let Some((label, want, got)) = given.differs_from(&expected) {
            return Err(header(format!(
                "the statement's {label} is {got:?} but the server records {want:?}; sign the statement of what is recorded{}",
                if label == "content" {
                    " (the canonical SHA-256 of the declared content: parley-statement/v2)"
                } else {
                    ""
                }
            )));
        }
        let off_s = (now_us - given.time_us) / 1_000_000;
        if (now_us - given.time_us).abs() > self.signing.skew_us {
            return Err(header(format!(
                "the statement was signed {} s {} the server's clock, more than the {} s allowed; sign it again now",
                off_s.abs(),
                if off_s >= 0 { "behind" } else { "ahead of" },
                self.signing.skew_us / 1_000_000
            )));
        }
        let note = signed_note(&s.statement, &s.signature);
        let mut keys = self
            .party_keys
            .get(&actor.party)
            .cloned()
            .unwrap_or_default();
        if let (Command::RegisterKey { key, .. }, true) = (command, keys.is_empty()) {
            // A party's first key may prove itself: the chain starts with it.
            keys.push(key.trim().to_string());
        }
        keys.into_iter()
            .find(|key| {
                VerifierKey::parse(key).is_ok_and(|k| k.open_note(&note).is_ok())
            })
            .map(|key| SignedBy { key, note })
            .ok_or_else(|| {
                header(format!(
                    "the signature does not verify with any key {} holds; register the key (parley keys register) or sign the statement again",
                    actor.party
                ))
            })
    }

    /// Keeps the signature of a signed entry as used, and forgets those too
    /// old to be accepted again anyway.
    pub(super) fn evolve_signed(&mut self, logged: &Logged) {
        if let Entry::Notice {
            signed: Some(s), ..
        }
        | Entry::Acknowledged {
            signed: Some(s), ..
        }
        | Entry::TalkConfirmed {
            signed: Some(s), ..
        }
        | Entry::PartyKeyRegistered {
            signed: Some(s), ..
        }
        | Entry::PartyKeyRevoked {
            signed: Some(s), ..
        } = &logged.entry
        {
            if let Some(sig) = signature_of(&s.note) {
                self.signing.used.insert(used_key(sig), logged.at_us);
            }
            let now = logged.at_us;
            if now.saturating_sub(self.signing.trimmed_at) > MAX_SKEW_US {
                self.signing
                    .used
                    .retain(|_, at| *at >= now - 2 * MAX_SKEW_US);
                self.signing.trimmed_at = now;
            }
        }
    }
}
