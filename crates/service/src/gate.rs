//! The gate: what a request is checked and read against before it reaches
//! the writer (its operator by token, its party's bound certificates, the
//! vertical rules of the line it writes on).
//!
//! # Why apart from the state
//! The writer holds the state's write lock through each batch's commit
//! (readers never see an entry before it is durable). A request that read
//! the state to be parsed would wait out that commit, so requests would be
//! parsed one batch at a time instead of while the writer works (`bench
//! serve`: 2,400–2,800 notices/s reading the state, 3,800 reading the gate).
//! The writer publishes a new gate after a commit whose entries may change
//! it, still holding the state's lock, so the gate is never ahead of the
//! committed state.

use crate::entry::Entry;
use crate::model::Actor;
use crate::state::State;
use parley_wire::VerticalRules;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A line as requests are read against it.
#[derive(Clone, Debug)]
pub(crate) struct GateLine {
    pub(crate) parties: Vec<String>,
    pub(crate) vertical: VerticalRules,
}

/// See the module docs.
#[derive(Clone, Debug, Default)]
pub(crate) struct Gate {
    /// Every unrevoked operator by the SHA-256 of its token.
    tokens: HashMap<String, Actor>,
    /// The certificates bound to each party (SPKI SHA-256, hex).
    certificates: BTreeMap<String, BTreeSet<String>>,
    lines: HashMap<String, GateLine>,
}

impl Gate {
    /// The gate of the committed `state`.
    pub(crate) fn of(state: &State) -> Gate {
        Gate {
            tokens: state.tokens(),
            certificates: state.bound_certificates().clone(),
            lines: state.gate_lines(),
        }
    }

    /// Whether an entry may change the gate. Only the entries a busy line
    /// writes all the time say no; anything else (a peer's entry included)
    /// has the gate rebuilt, which costs microseconds.
    pub(crate) fn changed_by(entry: &Entry) -> bool {
        !matches!(
            entry,
            Entry::Notice { .. }
                | Entry::Acknowledged { .. }
                | Entry::ConflictFound { .. }
                | Entry::ConflictResolved { .. }
                | Entry::ConflictCoordinated { .. }
                | Entry::MessageSent { .. }
                | Entry::SiteRegistered { .. }
                | Entry::SiteWithdrawn { .. }
                | Entry::DeadlineEscalated { .. }
                | Entry::LineCheckSent { .. }
                | Entry::LineCheckAnswered { .. }
                | Entry::LineCheckMissed { .. }
                | Entry::TalkRecorded { .. }
                | Entry::TalkConfirmed { .. }
                | Entry::FollowUpClosed { .. }
                | Entry::Delivered { .. }
                | Entry::NoticeUndelivered { .. }
        )
    }

    /// The operator with this token hash, if it exists and is not revoked.
    pub(crate) fn operator(&self, token_sha256: &str) -> Option<Actor> {
        self.tokens.get(token_sha256).cloned()
    }

    /// See [`crate::Service::certificate_admits`].
    pub(crate) fn certificate_admits(&self, party: &str, spki_sha256: Option<&str>) -> bool {
        match self.certificates.get(party) {
            None => true,
            Some(bound) => spki_sha256.is_some_and(|s| bound.contains(s)),
        }
    }

    /// See [`crate::Service::vertical_rules_for`].
    pub(crate) fn vertical_rules_for(&self, actor: &Actor, line: &str) -> VerticalRules {
        self.lines
            .get(line)
            .map(|l| rules_seen_by(actor, &l.parties, l.vertical))
            .unwrap_or_default()
    }
}

/// What `actor` may give in altitudes on a line of `parties` with `rules`:
/// the rules when the actor sees the line, the defaults otherwise (the
/// writer refuses the notice then).
pub(crate) fn rules_seen_by(
    actor: &Actor,
    parties: &[String],
    rules: VerticalRules,
) -> VerticalRules {
    if actor.is_host_admin() || parties.contains(&actor.party) {
        rules
    } else {
        VerticalRules::default()
    }
}
