//! Every write the service accepts. Adapters build commands from requests;
//! volumes are validated with the service's limits ([`Volumes::parse`]) and keep
//! their JSON, so that errors point into the request and notices quote it verbatim.

use crate::content::Volumes;
use crate::model::{Category, LineRules, MessageKind, Priority, Role, SiteKind};
use parley_engine::Volume;
use serde_json::Value;

impl Command {
    /// Whether it only asks what would happen (a notice's or amendment's dry
    /// run): nothing is written, so no idempotency record is kept either.
    pub fn is_dry_run(&self) -> bool {
        matches!(
            self,
            Command::Notify { dry_run: true, .. } | Command::Amend { dry_run: true, .. }
        )
    }

    /// The validated volumes the command carries, if any, taken out of it.
    pub fn into_volumes(self) -> Option<Vec<Volume>> {
        match self {
            Command::Notify { volumes, .. }
            | Command::Amend { volumes, .. }
            | Command::RegisterSite { volumes, .. } => Some(volumes.into_parsed()),
            _ => None,
        }
    }
}

/// A request signed by a party's key, as the adapter received it: the
/// statement the client signed (`parley-statement/v2`, see [`crate::Statement`])
/// and the signature line it sent.
#[derive(Clone, Debug, PartialEq)]
pub struct Signed {
    /// The statement, ending in a newline.
    pub statement: String,
    /// `<key name> <base64 key id and signature>`.
    pub signature: String,
}

/// A write request.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Host: register a party.
    CreateParty {
        /// Its id (letters, digits, `-`, `_`, `.`).
        party: String,
        /// Its name.
        name: String,
    },
    /// Host or party admin: give an operator a credential.
    CreateOperator {
        /// The operator's party.
        party: String,
        /// The operator's name.
        name: String,
        /// The operator's role.
        role: Role,
        /// SHA-256 of the bearer token the adapter generated, hex.
        token_sha256: String,
    },
    /// Host or party admin: revoke a credential, at once.
    RevokeOperator {
        /// The operator.
        operator: String,
    },
    /// Party admin: what the host may do to the party.
    SetPartySettings {
        /// The party.
        party: String,
        /// Whether the host's admins may add operators to it.
        host_may_add_operators: bool,
    },
    /// Host: open a line between parties.
    CreateLine {
        /// Its id.
        line: String,
        /// Its name.
        name: String,
        /// Two or more parties.
        parties: Vec<String>,
        /// Its rules.
        rules: LineRules,
    },
    /// Host: set a line's political status.
    SetLineStatus {
        /// The line.
        line: String,
        /// Suspended or active.
        suspended: bool,
    },
    /// Officer: a message on a line.
    SendMessage {
        /// The line.
        line: String,
        /// "text", "request" or "reply".
        message: MessageKind,
        /// How urgent.
        priority: Priority,
        /// The text.
        text: String,
        /// A request's deadline, RFC 3339.
        deadline: Option<String>,
        /// The line sequence number a reply answers or a correction corrects.
        references: Option<u64>,
    },
    /// Officer: notify an activity on a line.
    Notify {
        /// The line.
        line: String,
        /// What kind of operation.
        category: Category,
        /// Who to call about it.
        point_of_contact: String,
        /// Its volumes.
        volumes: Volumes,
        /// Only report conflicts; notify nothing.
        dry_run: bool,
    },
    /// Officer of the notifying party: a new version of an activity.
    Amend {
        /// The activity.
        activity: String,
        /// The version this one replaces; a stale one is refused.
        replaces_version: u64,
        /// A new category, or keep.
        category: Option<Category>,
        /// A new point of contact, or keep.
        point_of_contact: Option<String>,
        /// The new volumes.
        volumes: Volumes,
        /// Only report conflicts.
        dry_run: bool,
    },
    /// Officer of the notifying party: cancel an activity.
    Cancel {
        /// The activity.
        activity: String,
        /// The version this cancellation replaces.
        replaces_version: u64,
    },
    /// Officer of another party of the line: confirm receipt of one version.
    Acknowledge {
        /// The activity.
        activity: String,
        /// The version received.
        version: u64,
        /// The read-back: that version's content hash.
        content_sha256: String,
    },
    /// Officer of one side: mark a conflict coordinated.
    Coordinate {
        /// The conflict.
        conflict: String,
        /// What was agreed.
        note: String,
    },
    /// A party's admin: register a public key for signed requests.
    RegisterKey {
        /// The party.
        party: String,
        /// A verifier key line (`name+id+base64`) named `<party>` or `<party>/...`.
        key: String,
    },
    /// A party's admin: revoke one of the party's keys (signed by a key it holds).
    RevokeKey {
        /// The party.
        party: String,
        /// The key, as registered.
        key: String,
    },
    /// A party's admin: bind a client certificate to the party, so its
    /// operators are served only over connections showing a bound one.
    BindCertificate {
        /// The party.
        party: String,
        /// The SHA-256 of the certificate's public key (SPKI), hex.
        spki_sha256: String,
    },
    /// Any operator of the checked party: answer a line check.
    AnswerLineCheck {
        /// The check.
        check: String,
    },
    /// The service's ticker: time has moved on; log the escalation steps and
    /// line checks now due.
    Tick,
    /// Officer: register a protected site.
    RegisterSite {
        /// Its name.
        name: String,
        /// "static" or "movement".
        site_kind: SiteKind,
        /// Its volumes.
        volumes: Volumes,
        /// When it stops being protected, RFC 3339.
        expires: String,
        /// Parties to share it with.
        shared_with_parties: Vec<String>,
        /// Lines whose members to share it with.
        shared_with_lines: Vec<String>,
    },
    /// Officer of the owner: withdraw a protected site before its expiry.
    WithdrawSite {
        /// The site.
        site: String,
    },
    /// Officer of a party to the talk: version 1 of the record of a talk. The
    /// record stays JSON until validated so errors point into the request.
    RecordTalk {
        /// `{parties, date, level, participants, venue, line, agenda, follow_ups}`.
        record: Value,
    },
    /// Officer of a party to the talk: its own version of the record.
    ProposeTalkVersion {
        /// The talk.
        talk: String,
        /// The whole record, as for [`Command::RecordTalk`].
        record: Value,
    },
    /// Officer of a party to the talk: its party stands by one version.
    ConfirmTalk {
        /// The talk.
        talk: String,
        /// The version confirmed.
        version: u64,
        /// The read-back of that version, if given (checked).
        content_sha256: Option<String>,
    },
    /// Officer of the owner party: a follow-up of a confirmed talk is done.
    CloseFollowUp {
        /// The talk.
        talk: String,
        /// The follow-up's number, from 1.
        follow_up: u64,
        /// What was done.
        note: String,
    },
    /// Host: peer this node with another node (federation), as agreed out of
    /// band by both nodes' admins.
    AddPeer {
        /// The peer's record origin.
        node: String,
        /// Where it is served, its keys and its parties (a `tls_pin` is
        /// required for `https://`).
        peer: crate::Peer,
    },
    /// A peer node's delivery of its log on a line (checked against the
    /// peer's key and what this node holds of the log before anything is
    /// logged).
    Ingest {
        /// What arrived (shared by the commands of its entries).
        delivery: std::sync::Arc<crate::federation::Delivery>,
        /// Which entry of the log this command takes.
        index: u64,
    },
    /// A peer node's delivery that contradicts what it sent before, to keep
    /// as evidence (checked again here: only a delivery the peer signed).
    KeepEvidence {
        /// What arrived.
        delivery: std::sync::Arc<crate::federation::Delivery>,
    },
    /// The other nodes' checkpoints a delivery carries, to check against
    /// this node's copies of their logs.
    CheckHeads {
        /// What arrived.
        delivery: std::sync::Arc<crate::federation::Delivery>,
    },
    /// A peer node's receipt for this node's log on a line.
    ConfirmDelivery {
        /// The peer.
        node: String,
        /// The line.
        line: String,
        /// Its receipt of its `Received` entry.
        receipt: serde_json::Value,
        /// Its cosignature (a `cosignature/v1` line) of the checkpoint of
        /// this node's log that it took in.
        cosignature: Option<String>,
        /// Its receipts of the `Received` entries in which it refused
        /// entries of the delivery for good.
        refusals: Vec<serde_json::Value>,
    },
}
