//! Parties, their operators, keys, certificates and settings; who is asking.

use serde::Serialize;
use utoipa::ToSchema;

/// A party.
#[derive(Serialize, ToSchema)]
pub struct Party {
    /// Its id.
    id: String,
    /// Its name.
    name: String,
    /// Whether the host's admins may add operators to it (its admins decide:
    /// `POST /v1/parties/{party}/settings`).
    host_may_add_operators: bool,
}

impl From<parley_service::PartyView> for Party {
    fn from(v: parley_service::PartyView) -> Self {
        Party {
            id: v.id,
            name: v.name,
            host_may_add_operators: v.host_may_add_operators,
        }
    }
}

/// The parties this operator may know of: its own, those it shares a line
/// with (every party, for the host's admins).
#[derive(Serialize, ToSchema)]
pub struct Parties {
    parties: Vec<Party>,
}

impl Parties {
    pub fn of(views: Vec<parley_service::PartyView>) -> Self {
        Parties {
            parties: views.into_iter().map(Party::from).collect(),
        }
    }
}

/// An operator of a party; its token is never shown again.
#[derive(Serialize, ToSchema)]
pub struct Operator {
    /// Its id (`op-…`).
    id: String,
    /// Its party.
    party: String,
    /// Its name.
    name: String,
    /// What it may do.
    #[schema(value_type = crate::openapi::Role)]
    role: parley_service::Role,
    /// Whether its token was revoked.
    revoked: bool,
    /// Who made it (null for operators made before this was recorded).
    made_by: Option<MadeBy>,
    /// Made by the host on its recovery path (the party had no admin left).
    recovery: bool,
    /// When it was made, RFC 3339.
    created_at: String,
}

/// Who made a change to a party.
#[derive(Serialize, ToSchema)]
pub struct MadeBy {
    /// The operator.
    operator: String,
    /// Its party: `host` when the host's admins made it.
    party: String,
}

impl From<parley_service::OperatorView> for Operator {
    fn from(v: parley_service::OperatorView) -> Self {
        Operator {
            id: v.id,
            party: v.party,
            name: v.name,
            role: v.role,
            revoked: v.revoked,
            made_by: v.made_by.map(|m| MadeBy {
                operator: m.operator,
                party: m.party,
            }),
            recovery: v.recovery,
            created_at: v.created_at,
        }
    }
}

/// A party's operators.
#[derive(Serialize, ToSchema)]
pub struct Operators {
    operators: Vec<Operator>,
}

impl Operators {
    pub fn of(views: Vec<parley_service::OperatorView>) -> Self {
        Operators {
            operators: views.into_iter().map(Operator::from).collect(),
        }
    }
}

/// A new party.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct PartyCreated {
    /// Its id.
    id: String,
    /// Its name.
    name: String,
}

/// A new operator, with its token: shown once, here.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct OperatorCreated {
    /// Its id (`op-…`).
    id: String,
    /// Its party.
    party: String,
    /// Its name.
    name: String,
    #[schema(value_type = crate::openapi::Role)]
    role: String,
    /// Who made it.
    made_by: MadeBy,
    /// `true` when the host added an admin to a party closed to it that had
    /// no admin left; absent otherwise.
    recovery: Option<bool>,
    /// The bearer token (`pt_` and 64 hex digits); absent from a replayed answer.
    token: Option<String>,
}

/// An operator whose token was revoked.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct OperatorRevoked {
    /// Its id.
    id: String,
    /// Always `true`.
    revoked: bool,
}

/// A key registered to a party, or revoked.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct PartyKey {
    /// The party.
    party: String,
    /// The verifier key line.
    key: String,
    /// The key that signed the request, when it was signed.
    signed_by: Option<String>,
}

/// A party's registered public keys.
#[derive(Serialize, ToSchema)]
pub struct PartyKeys {
    /// The party.
    party: String,
    /// Its verifier key lines (`name+id+base64`), revoked ones left out.
    keys: Vec<String>,
}

impl PartyKeys {
    pub fn new(party: String, keys: Vec<String>) -> Self {
        PartyKeys { party, keys }
    }
}

/// A client certificate bound to a party.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct CertificateBound {
    /// The party.
    party: String,
    /// SHA-256 of the certificate's public key (SPKI), hex.
    spki_sha256: String,
}

/// The client certificates bound to a party.
#[derive(Serialize, ToSchema)]
pub struct PartyCertificates {
    /// The party.
    party: String,
    /// SHA-256 of each bound certificate's public key (SPKI), hex.
    certificates: Vec<String>,
}

impl PartyCertificates {
    pub fn new(party: String, certificates: Vec<String>) -> Self {
        PartyCertificates {
            party,
            certificates,
        }
    }
}

/// A party's settings, as its admin set them.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct PartySettingsChanged {
    /// The party.
    party: String,
    /// Whether the host's admins may add operators to it.
    host_may_add_operators: bool,
    /// Who set it.
    by: MadeBy,
}

/// Who is asking: the operator the token belongs to.
#[derive(Serialize, ToSchema)]
pub struct Identity {
    /// The operator's id.
    operator: String,
    /// Its party (`host` for the host's operators).
    party: String,
    /// What it may do.
    #[schema(value_type = crate::openapi::Role)]
    role: parley_service::Role,
}

impl From<&parley_service::Actor> for Identity {
    fn from(a: &parley_service::Actor) -> Self {
        Identity {
            operator: a.operator.clone(),
            party: a.party.clone(),
            role: a.role,
        }
    }
}
