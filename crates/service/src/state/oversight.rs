//! What the host may do to a party. The host's admins register parties and,
//! by default, may add operators to them; a party's own admins may close that
//! (`host_may_add_operators: false`). One path stays open, and loud: when the
//! party has no admin left, the host may add an admin, logged as recovery in an
//! entry the party sees (and on its live stream). Whatever the host does to a
//! party is an entry in the party's audience naming who did it (`MadeBy`).

use super::{Decision, State};
use crate::entry::{Entry, MadeBy};
use crate::error::ServiceError;
use crate::model::{Actor, Role, WriteOutcome};
use serde_json::json;

impl State {
    /// `Command::SetPartySettings`: a party's admin sets what the host may do
    /// to the party. The host cannot.
    pub(super) fn decide_party_settings(
        &self,
        actor: &Actor,
        party: &str,
        host_may_add_operators: bool,
    ) -> Result<Decision, ServiceError> {
        let known = self.parties.contains_key(party);
        if !known || !(actor.is_host_admin() || actor.party == party) {
            return Err(ServiceError::NotFound(format!("party {party}")));
        }
        if actor.party != party || actor.role != Role::Admin {
            return Err(ServiceError::Forbidden(format!(
                "only an admin of party {party} sets what the host may do to it"
            )));
        }
        let by = MadeBy::of(actor);
        let body = json!({"party": party, "host_may_add_operators": host_may_add_operators,
                          "by": by});
        let entry = Entry::PartySettingsChanged {
            party: party.to_string(),
            host_may_add_operators,
            by,
        };
        Ok(Decision {
            entries: vec![(entry, vec![party.to_string()])],
            outcome: WriteOutcome::Done,
            body,
            volumes: None,
        })
    }

    pub(super) fn evolve_party_settings_changed(&mut self, party: &str, host_may_add: bool) {
        if let Some(p) = self.parties.get_mut(party) {
            p.host_may_add_operators = host_may_add;
        }
    }

    /// Whether `actor` may add an operator of `role` to `party` as far as the
    /// party's settings go: `Ok(true)` when it is the host's recovery path
    /// (the party closed additions by the host and has no admin left; only an
    /// admin may be added then), `Ok(false)` for an ordinary addition.
    pub(super) fn host_may_add(
        &self,
        actor: &Actor,
        party: &str,
        role: Role,
    ) -> Result<bool, ServiceError> {
        let open = self
            .parties
            .get(party)
            .is_none_or(|p| p.host_may_add_operators);
        if actor.party == party || open {
            return Ok(false);
        }
        if !self.operators_of(party, Role::Admin).is_empty() {
            return Err(ServiceError::Forbidden(format!(
                "party {party} does not let the host add operators (its admins set \
                 host_may_add_operators to false); ask an admin of {party}"
            )));
        }
        if role != Role::Admin {
            return Err(ServiceError::Forbidden(format!(
                "party {party} has no admin left: the host's recovery path adds an admin \
                 only; give role \"admin\""
            )));
        }
        Ok(true)
    }
}
