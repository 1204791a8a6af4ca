//! Client certificates bound to a party: once a party's admin binds one or
//! more certificates (by the SHA-256 of their public key, SPKI), the party's
//! operators are served only over a connection that shows one of them, so a
//! stolen bearer token alone is not enough.
//!
//! # Rules
//! - Only the party's own admins bind its certificates (as with its keys: a
//!   binding the host could make would let the host lock a party out).
//! - A binding is an entry in the journal ([`Entry::PartyCertificateBound`]),
//!   public like a party's keys, and kept for ever: binding a new certificate
//!   adds to the set.
//! - A party with no binding is served on its tokens alone.

use super::{Decision, State};
use crate::entry::Entry;
use crate::error::ServiceError;
use crate::model::{Actor, Role, WriteOutcome};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

/// The certificates bound to each party, by party id: SPKI SHA-256, hex.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Certificates {
    by_party: BTreeMap<String, BTreeSet<String>>,
}

/// A SHA-256 of a public key (SPKI) as 64 lowercase hex digits, from hex in
/// either case, with or without colons between bytes; `None` if it is not one.
pub fn normalise_spki(text: &str) -> Option<String> {
    let hex: String = text
        .trim()
        .chars()
        .filter(|c| *c != ':')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit())).then_some(hex)
}

impl State {
    /// Decides [`crate::Command::BindCertificate`].
    pub(super) fn decide_bind_certificate(
        &self,
        actor: &Actor,
        party: &str,
        spki_sha256: &str,
    ) -> Result<Decision, ServiceError> {
        if !self.parties.contains_key(party) || actor.party != party {
            return Err(ServiceError::NotFound(format!("party {party}")));
        }
        if actor.role != Role::Admin {
            return Err(ServiceError::Forbidden(
                "only the party's admins bind its certificates".into(),
            ));
        }
        let spki = normalise_spki(spki_sha256).ok_or_else(|| {
            ServiceError::invalid(
                "/spki_sha256",
                "give the SHA-256 of the certificate's public key as 64 hex digits \
                 (`parley certificates bind --cert FILE` computes it)",
            )
        })?;
        if self
            .certificates
            .by_party
            .get(party)
            .is_some_and(|set| set.contains(&spki))
        {
            return Err(ServiceError::Conflict(
                "this certificate is bound already".into(),
            ));
        }
        let entry = Entry::PartyCertificateBound {
            party: party.to_string(),
            spki_sha256: spki.clone(),
            operator: actor.operator.clone(),
        };
        let audience = self.parties.keys().cloned().collect();
        Ok(Decision {
            entries: vec![(entry, audience)],
            outcome: WriteOutcome::Created,
            body: json!({"party": party, "spki_sha256": spki}),
            volumes: None,
        })
    }

    /// Applies [`Entry::PartyCertificateBound`].
    pub(super) fn evolve_certificate_bound(&mut self, party: &str, spki_sha256: &str) {
        self.certificates
            .by_party
            .entry(party.to_string())
            .or_default()
            .insert(spki_sha256.to_string());
    }

    /// The certificates bound to `party` (SPKI SHA-256, hex, sorted).
    pub fn party_certificates(&self, party: &str) -> Result<Vec<String>, ServiceError> {
        if !self.parties.contains_key(party) {
            return Err(ServiceError::NotFound(format!("party {party}")));
        }
        Ok(self
            .certificates
            .by_party
            .get(party)
            .map(|set| set.iter().cloned().collect())
            .unwrap_or_default())
    }

    /// The certificates bound to each party ([`crate::gate::Gate`]).
    pub(crate) fn bound_certificates(&self) -> &BTreeMap<String, BTreeSet<String>> {
        &self.certificates.by_party
    }
}
