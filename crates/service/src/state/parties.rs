//! Parties and their operators: who they are, their roles, their tokens.

use super::{Decision, State};
use crate::entry::{Entry, Logged, MadeBy};
use crate::error::ServiceError;
use crate::hashing::new_id;
use crate::model::WriteOutcome;
use crate::model::{Actor, Role};
use crate::text::{check_id, check_text};
use crate::views::{OperatorView, PartyView};
use parley_engine::Timestamp;
use parley_wire::format_timestamp;
use serde_json::json;
use std::collections::HashMap;

#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct Party {
    pub(super) name: String,
    /// Whether the host's admins may add operators to it (its admins decide;
    /// `oversight.rs`).
    pub(super) host_may_add_operators: bool,
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct Operator {
    pub(super) party: String,
    pub(super) name: String,
    pub(super) role: Role,
    pub(super) revoked: bool,
    /// Who made it (none for entries logged before this was recorded).
    pub(super) made_by: Option<MadeBy>,
    /// Made on the host's recovery path.
    pub(super) recovery: bool,
    /// When it was made, µs since the epoch.
    pub(super) created_us: i64,
}

impl State {
    /// `Command::CreateParty`: the host registers a party.
    pub(super) fn decide_create_party(
        &self,
        actor: &Actor,
        party: &str,
        name: &str,
    ) -> Result<Decision, ServiceError> {
        self.require_host_admin(actor)?;
        check_id("/id", party)?;
        check_text("/name", name, 200)?;
        if self.parties.contains_key(party) {
            return Err(ServiceError::Conflict(format!(
                "party {party} exists already"
            )));
        }
        let entry = Entry::PartyCreated {
            party: party.to_string(),
            name: name.to_string(),
        };
        Ok(Decision {
            entries: vec![(entry, vec![party.to_string()])],
            outcome: WriteOutcome::Created,
            body: json!({"id": party, "name": name}),
            volumes: None,
        })
    }

    /// `Command::CreateOperator`: an admin of the party or of the host adds one.
    pub(super) fn decide_create_operator(
        &self,
        actor: &Actor,
        party: &str,
        name: &str,
        role: Role,
        token_sha256: &str,
    ) -> Result<Decision, ServiceError> {
        let allowed = actor.is_host_admin() || (actor.party == *party && actor.role == Role::Admin);
        if !self.parties.contains_key(party) || !(allowed || actor.party == *party) {
            return Err(ServiceError::NotFound(format!("party {party}")));
        }
        if !allowed {
            return Err(ServiceError::Forbidden(
                "only an admin of the party or of the host adds operators".into(),
            ));
        }
        check_text("/name", name, 200)?;
        let recovery = self.host_may_add(actor, party, role)?;
        let operator = new_id("op");
        let by = MadeBy::of(actor);
        let mut body = json!({"id": operator, "party": party, "name": name, "role": role,
                              "made_by": by});
        if recovery {
            body["recovery"] = json!(true);
        }
        let entry = Entry::OperatorCreated {
            operator: operator.clone(),
            party: party.to_string(),
            name: name.to_string(),
            role,
            token_sha256: token_sha256.to_string(),
            by: Some(by),
            recovery,
        };
        Ok(Decision {
            entries: vec![(entry, vec![party.to_string()])],
            outcome: WriteOutcome::Created,
            body,
            volumes: None,
        })
    }

    /// `Command::RevokeOperator`.
    pub(super) fn decide_revoke_operator(
        &self,
        actor: &Actor,
        operator: &str,
    ) -> Result<Decision, ServiceError> {
        let op = self
            .operators
            .get(operator)
            .filter(|o| actor.is_host_admin() || o.party == actor.party);
        let Some(op) = op else {
            return Err(ServiceError::NotFound(format!("operator {operator}")));
        };
        if !(actor.is_host_admin() || actor.role == Role::Admin) {
            return Err(ServiceError::Forbidden(
                "only an admin revokes operators".into(),
            ));
        }
        if op.revoked {
            return Err(ServiceError::Conflict(format!(
                "operator {operator} is revoked already"
            )));
        }
        Ok(Decision {
            entries: vec![(
                Entry::OperatorRevoked {
                    operator: operator.to_string(),
                    by: Some(MadeBy::of(actor)),
                },
                vec![op.party.clone()],
            )],
            outcome: WriteOutcome::Done,
            body: json!({"id": operator, "revoked": true}),
            volumes: None,
        })
    }

    pub(super) fn evolve_party_created(&mut self, party: &str, name: &str) {
        self.parties.insert(
            party.to_string(),
            Party {
                name: name.to_string(),
                host_may_add_operators: true,
            },
        );
    }

    pub(super) fn evolve_operator_created(&mut self, logged: &Logged) {
        let Entry::OperatorCreated {
            operator,
            party,
            name,
            role,
            token_sha256,
            by,
            recovery,
        } = &logged.entry
        else {
            return;
        };
        self.by_token.insert(token_sha256.clone(), operator.clone());
        self.operators.insert(
            operator.clone(),
            Operator {
                party: party.clone(),
                name: name.clone(),
                role: *role,
                revoked: false,
                made_by: by.clone(),
                recovery: *recovery,
                created_us: logged.at_us,
            },
        );
    }

    pub(super) fn evolve_operator_revoked(&mut self, operator: &str) {
        if let Some(op) = self.operators.get_mut(operator) {
            op.revoked = true;
        }
    }

    /// Every unrevoked operator by the SHA-256 of its token.
    pub fn tokens(&self) -> HashMap<String, Actor> {
        self.by_token
            .iter()
            .filter_map(|(hash, id)| {
                let op = &self.operators[id];
                (!op.revoked).then(|| {
                    let actor = Actor {
                        operator: id.clone(),
                        party: op.party.clone(),
                        role: op.role,
                    };
                    (hash.clone(), actor)
                })
            })
            .collect()
    }

    /// Whether any operator exists (the first start has none).
    pub fn has_operators(&self) -> bool {
        !self.operators.is_empty()
    }

    /// Whether the operator exists and is not revoked.
    pub fn operator_active(&self, operator: &str) -> bool {
        self.operators.get(operator).is_some_and(|o| !o.revoked)
    }

    /// Unrevoked operators of `party` with at least `role`.
    pub(super) fn operators_of(&self, party: &str, role: Role) -> Vec<String> {
        self.operators
            .iter()
            .filter(|(_, o)| o.party == party && !o.revoked && o.role >= role)
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// The parties `actor` may know of: its own, those it shares a line with (all for the host).
    pub fn parties(&self, actor: &Actor) -> Vec<PartyView> {
        self.parties
            .iter()
            .filter(|(id, _)| {
                actor.is_host_admin()
                    || **id == actor.party
                    || self
                        .lines
                        .values()
                        .any(|l| l.parties.contains(&actor.party) && l.parties.contains(id))
            })
            .map(|(id, p)| PartyView {
                id: id.clone(),
                name: p.name.clone(),
                host_may_add_operators: p.host_may_add_operators,
            })
            .collect()
    }

    /// The operators of `party` that `actor` may list (its own party's, or any for the host).
    pub fn operators(&self, actor: &Actor, party: &str) -> Result<Vec<OperatorView>, ServiceError> {
        if !(actor.is_host_admin() || actor.party == party) || !self.parties.contains_key(party) {
            return Err(ServiceError::NotFound(format!("party {party}")));
        }
        Ok(self
            .operators
            .iter()
            .filter(|(_, o)| o.party == party)
            .map(|(id, o)| OperatorView {
                id: id.clone(),
                party: o.party.clone(),
                name: o.name.clone(),
                role: o.role,
                revoked: o.revoked,
                made_by: o.made_by.clone(),
                recovery: o.recovery,
                created_at: format_timestamp(Timestamp(o.created_us)),
            })
            .collect())
    }
}
