//! The journal: every change is an entry, appended in order and never edited.
//! The state is what replaying the entries builds; the live event streams are
//! the entries each party may see.

use crate::content::RawJson;
use crate::deadlines::{Owed, Step};
use crate::model::{
    LineRules, LineStatus, MessageKind, NoticeState, Priority, Role, SiteKind, WriteOutcome,
};
use crate::talk_record::TalkRecord;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One change. Stored as JSON; the field names are a storage format, so change
/// them only with a migration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Entry {
    /// A party joined the deployment.
    PartyCreated {
        /// Its id.
        party: String,
        /// Its name.
        name: String,
    },
    /// An operator was given a credential. Only the token's SHA-256 is kept.
    OperatorCreated {
        /// Its id.
        operator: String,
        /// Its party.
        party: String,
        /// Its name.
        name: String,
        /// Its role.
        role: Role,
        /// SHA-256 of its bearer token, hex.
        token_sha256: String,
        /// Who made it (absent in entries logged before this was recorded).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<MadeBy>,
        /// Made by the host in a party that does not let the host add
        /// operators, because the party had no admin left: the recovery path.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        recovery: bool,
    },
    /// An operator's credential was revoked.
    OperatorRevoked {
        /// The operator.
        operator: String,
        /// Who revoked it (absent in entries logged before this was recorded).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<MadeBy>,
    },
    /// A party's admins changed what the host may do to it.
    PartySettingsChanged {
        /// The party.
        party: String,
        /// Whether the host's admins may add operators to the party (its
        /// recovery path, when the party has no admin left, stays open).
        host_may_add_operators: bool,
        /// The admin who changed it.
        by: MadeBy,
    },
    /// A line was opened between parties.
    LineCreated {
        /// Its id.
        line: String,
        /// Its name.
        name: String,
        /// Its member parties.
        parties: Vec<String>,
        /// Its rules.
        rules: LineRules,
    },
    /// The host set a line's political status; the line keeps working either way.
    LineStatusChanged {
        /// The line.
        line: String,
        /// "active" or "suspended".
        status: LineStatus,
    },
    /// A message on a line.
    MessageSent {
        /// The line.
        line: String,
        /// Its place in the line's order, from 1.
        seq: u64,
        /// The sender's party.
        party: String,
        /// The sender.
        operator: String,
        /// "text", "request" or "reply".
        message: MessageKind,
        /// How urgent.
        priority: Priority,
        /// The text, as written.
        text: String,
        /// For a request: when the reply is due, RFC 3339.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deadline: Option<String>,
        /// For a reply: the request it answers; for a correction: the message it corrects.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        references: Option<u64>,
    },
    /// A version of an activity notice (the first, an amendment or a cancellation).
    Notice {
        /// The activity.
        activity: String,
        /// The line it was notified on.
        line: String,
        /// The notifying party.
        party: String,
        /// The notifying operator.
        operator: String,
        /// 1 for the first notice, +1 for each amendment or cancellation.
        version: u64,
        /// "notified" or "cancelled".
        state: NoticeState,
        /// What the notice says, exactly as acknowledged (hashed into `content_sha256`).
        content: RawJson,
        /// SHA-256 of `content` serialized compactly, hex: the read-back.
        content_sha256: String,
        /// Given later than the line's lead time before the start.
        late: bool,
        /// The party's signature of the request, when it was signed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signed: Option<SignedBy>,
    },
    /// A recipient confirmed receipt of one version of a notice (not approval).
    Acknowledged {
        /// The activity.
        activity: String,
        /// The version received.
        version: u64,
        /// The receiving party.
        party: String,
        /// The receiving operator.
        operator: String,
        /// The read-back: the content hash of the version received.
        content_sha256: String,
        /// The party's signature of the request, when it was signed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signed: Option<SignedBy>,
    },
    /// A party registered a public key: requests signed with it are its word.
    PartyKeyRegistered {
        /// The party.
        party: String,
        /// The key, as a verifier key line (`name+id+base64`).
        key: String,
        /// The admin who registered it.
        operator: String,
        /// The party's signature with a key it held already (every key after
        /// its first); absent in journals written before key chains.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signed: Option<SignedBy>,
    },
    /// A party revoked one of its keys: it signs nothing for the party after this.
    PartyKeyRevoked {
        /// The party.
        party: String,
        /// The key revoked, as registered.
        key: String,
        /// The admin who revoked it.
        operator: String,
        /// The party's signature with a key it held.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signed: Option<SignedBy>,
    },
    /// A party bound a client certificate: its operators are served only over
    /// connections showing one of its bound certificates.
    PartyCertificateBound {
        /// The party.
        party: String,
        /// The SHA-256 of the certificate's public key (SPKI), hex.
        spki_sha256: String,
        /// The admin who bound it.
        operator: String,
    },
    /// Two activities (or an activity and a protected site) come too close.
    ConflictFound {
        /// Its id.
        conflict: String,
        /// The activity whose notice found it.
        a: Side,
        /// The other activity or site.
        b: Side,
        /// Where and when, as in `parley check`'s meetings.
        meetings: Vec<Value>,
    },
    /// A conflict ended by amendment or cancellation of one side.
    ConflictResolved {
        /// The conflict.
        conflict: String,
        /// "amended" or "cancelled".
        by: String,
    },
    /// One side marked a conflict coordinated; it is coordinated once both have.
    ConflictCoordinated {
        /// The conflict.
        conflict: String,
        /// The party that marked it.
        party: String,
        /// Its note.
        note: String,
    },
    /// A protected site (a hospital, a convoy's route) registered by a party.
    SiteRegistered {
        /// Its id.
        site: String,
        /// The registering party.
        party: String,
        /// Its name.
        name: String,
        /// "static" or "movement".
        site_kind: SiteKind,
        /// Its volumes (F3548 Volume4D JSON), an array.
        volumes: RawJson,
        /// When it stops being protected, RFC 3339.
        expires: String,
        /// Parties it is shared with.
        shared_with_parties: Vec<String>,
        /// Lines whose members it is shared with.
        shared_with_lines: Vec<String>,
    },
    /// A site withdrawn by its owner: it protects nothing from now on, and its
    /// open conflicts are resolved.
    SiteWithdrawn {
        /// The site.
        site: String,
        /// Its owner.
        party: String,
        /// The operator who withdrew it.
        operator: String,
    },
    /// A deadline passed unanswered: one step of its escalation.
    DeadlineEscalated {
        /// The deadline.
        deadline: String,
        /// Its line.
        line: String,
        /// The party that owes the answer.
        party: String,
        /// What it owes.
        owed: Owed,
        /// When the answer was due, RFC 3339.
        due: String,
        /// How far the escalation has gone.
        step: Step,
        /// The operators it is addressed to (none: the whole line).
        to: Vec<String>,
    },
    /// A line check was sent to a member party; any of its operators answers.
    LineCheckSent {
        /// Its id.
        check: String,
        /// The line.
        line: String,
        /// The party checked.
        party: String,
        /// The answer is due by then, RFC 3339.
        due: String,
    },
    /// A line check was answered in time.
    LineCheckAnswered {
        /// The check.
        check: String,
        /// The line.
        line: String,
        /// The party checked.
        party: String,
        /// The operator who answered.
        operator: String,
        /// From sending the check to logging the answer, milliseconds.
        round_trip_ms: i64,
    },
    /// A line check was not answered in time.
    LineCheckMissed {
        /// The check.
        check: String,
        /// The line.
        line: String,
        /// The party checked.
        party: String,
    },
    /// A party's version of the record of a talk (version 1 opens the talk);
    /// the party stands by it.
    TalkRecorded {
        /// The talk.
        talk: String,
        /// 1 for the first record, +1 for each party's own version.
        version: u64,
        /// The party whose version it is.
        party: String,
        /// The officer who recorded it.
        operator: String,
        /// SHA-256 of `record` as compact JSON, hex.
        content_sha256: String,
        /// The record.
        record: TalkRecord,
    },
    /// A party confirmed one version of a talk's record; the talk is confirmed
    /// once every party stands by the same version.
    TalkConfirmed {
        /// The talk.
        talk: String,
        /// The version.
        version: u64,
        /// The confirming party.
        party: String,
        /// Its officer.
        operator: String,
        /// The version's content hash, as read back.
        content_sha256: String,
        /// The party's signature of the request, when it was signed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signed: Option<SignedBy>,
    },
    /// The owner party closed a follow-up of a confirmed talk.
    FollowUpClosed {
        /// The talk.
        talk: String,
        /// The follow-up's number, from 1.
        follow_up: u64,
        /// The owner party.
        party: String,
        /// Its officer.
        operator: String,
        /// What was done.
        note: String,
    },
    /// The host peered this node with another (federation): the node's
    /// record origin, address and key, and its parties this node may meet.
    PeerAdded {
        /// The peer's name: its record's origin.
        node: String,
        /// Where it is served.
        url: String,
        /// Its record key (a verifier key line), as exchanged out of band.
        node_key: String,
        /// Its parties.
        parties: Vec<String>,
        /// The SHA-256 of its TLS key (SPKI, hex), pinned for `https://`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tls_pin: Option<String>,
        /// Its cosigner key (tlog-cosignature), as exchanged out of band.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cosigner_key: Option<String>,
    },
    /// A run of a peer node's log on a federated line arrived and was checked
    /// against its signed checkpoint; the entries of the run this node did
    /// not hold already follow this one in the journal (`logged` of them).
    Received {
        /// The sending node.
        node: String,
        /// The line.
        line: String,
        /// The size of its log now held.
        through: u64,
        /// Its signed checkpoint of that size.
        checkpoint: String,
        /// The leaf hashes (hex) of the entries new to this node, in order.
        leaves: Vec<String>,
        /// How many entries follow (entries already known, such as a conflict
        /// this node found too, are not logged twice).
        logged: u64,
        /// When the sender logged the entry (µs): what it owes runs from then.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sent_at_us: Option<i64>,
        /// Why this node refused the entry for good (it is held, so the
        /// sender's log stays whole, but not applied); none when taken in.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refused: Option<String>,
    },
    /// A peer node's delivery, signed by it, that contradicts what it sent
    /// before (an entry changed, dropped or reordered): the evidence.
    PeerMisbehaved {
        /// The peer.
        node: String,
        /// The line.
        line: String,
        /// What it contradicts.
        why: String,
        /// The delivery as it came, its signed checkpoint included.
        delivery: Value,
    },
    /// A peer node's signed word that it holds this node's log on a line up to
    /// `through`: its receipt of its own `Received` entry.
    Delivered {
        /// The receiving node.
        node: String,
        /// The line.
        line: String,
        /// How much of this node's log it holds.
        through: u64,
        /// Its receipt: `leaf`, `proof`, `tree_size` and `checkpoint`.
        receipt: Value,
        /// This node's checkpoint of its log that the peer took in, with the
        /// peer's cosignature line (C2SP tlog-cosignature), once checked.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cosigned: Option<String>,
    },
    /// A notice of this node's has not reached one of its line's nodes long
    /// after it was logged: its party's officers are told, so they reach the
    /// other side some other way (the line's other parties have not seen it).
    NoticeUndelivered {
        /// The line.
        line: String,
        /// The node that has not receipted it.
        node: String,
        /// The notice.
        activity: String,
        /// Its version.
        version: u64,
        /// The party that gave notice.
        party: String,
        /// When it was logged here, RFC 3339.
        since: String,
        /// The operators told (the party's officers and admins).
        to: Vec<String>,
    },
    /// A peer node's signed receipt says it holds an entry of this node's
    /// log on a line but refused it for good: the entry's party is told, as
    /// the line's parties on that node will not see it.
    PeerRefused {
        /// The refusing node.
        node: String,
        /// The line.
        line: String,
        /// The entry's index in this node's log on the line.
        index: u64,
        /// The refused entry's kind.
        entry_kind: String,
        /// The activity (or talk, or conflict) it is about, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        about: Option<String>,
        /// The party that authored it (the host when none did).
        party: String,
        /// The peer's reason, as its receipt says it.
        reason: String,
    },
}

/// A party's signature of a request: the signed note (the statement, then
/// the signature line) and the key that verifies it. The statement is a
/// `parley-statement/v2` (`statement.rs`: origin, scope, operator, time,
/// action, canonical content hash); journals written before it hold
/// `parley-request/v1` (method and path, idempotency key, SHA-256 of the body).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignedBy {
    /// The party's verifier key line.
    pub key: String,
    /// The signed note.
    pub note: String,
}

/// Who made a change to a party: an operator and its party (`host` for the
/// host's admins), so a party sees whether the host acted on it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MadeBy {
    /// The operator.
    pub operator: String,
    /// Its party (`host` for the host's admins).
    pub party: String,
}

impl MadeBy {
    /// Who `actor` is, for the record.
    pub fn of(actor: &crate::model::Actor) -> Self {
        MadeBy {
            operator: actor.operator.clone(),
            party: actor.party.clone(),
        }
    }
}

/// One side of a conflict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Side {
    /// "activity" or "site".
    pub kind: String,
    /// The activity's or site's id.
    pub id: String,
    /// Its version (sites: 1).
    pub version: u64,
    /// Its party.
    pub party: String,
}

/// An entry as stored: its place in the journal, when it was logged and which
/// parties may see it.
#[derive(Clone, Debug, PartialEq)]
pub struct Logged {
    /// Position in the journal, from 1; the live streams' cursor.
    pub seq: u64,
    /// When it was logged, microseconds since the Unix epoch.
    pub at_us: i64,
    /// The parties that may see it (the host's admins see everything).
    pub audience: Vec<String>,
    /// 128 random bits, hex, hashed into the entry's leaf: only those who may
    /// see the entry learn it, so nobody else can confirm a guess of the entry
    /// against its leaf hash. `None` for entries logged before salts.
    pub salt: Option<String>,
    /// The change.
    pub entry: Entry,
}

/// What the service keeps about a request sent with an `Idempotency-Key`: the
/// same key with the same request returns the same answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// The operator who sent it.
    pub operator: String,
    /// The client's key.
    pub key: String,
    /// SHA-256 of the request, hex.
    pub request_sha256: String,
    /// Whether the write made something new.
    pub outcome: WriteOutcome,
    /// The answer's body (JSON).
    pub body: String,
    /// When the request was answered, µs since the epoch: the record is
    /// forgotten once older than the service's idempotency window.
    pub at_us: i64,
}

impl Entry {
    /// Whether the entry belongs to the register of talks, which only the
    /// talk's parties see: not even the host's admins, who see everything else.
    pub fn is_talks_register(&self) -> bool {
        matches!(
            self,
            Entry::TalkRecorded { .. } | Entry::TalkConfirmed { .. } | Entry::FollowUpClosed { .. }
        ) || matches!(self, Entry::DeadlineEscalated { owed, .. } if owed.is_talks_register())
    }

    /// The line the entry is about, if any.
    pub fn line(&self) -> Option<&str> {
        match self {
            Entry::LineCreated { line, .. }
            | Entry::LineStatusChanged { line, .. }
            | Entry::MessageSent { line, .. }
            | Entry::Notice { line, .. }
            | Entry::DeadlineEscalated { line, .. }
            | Entry::LineCheckSent { line, .. }
            | Entry::LineCheckAnswered { line, .. }
            | Entry::LineCheckMissed { line, .. }
            | Entry::NoticeUndelivered { line, .. }
            | Entry::PeerRefused { line, .. } => Some(line),
            _ => None,
        }
    }

    /// The entry as a client may see it: secrets (token hashes) removed.
    pub fn public_json(&self) -> Value {
        let mut v = serde_json::to_value(self).expect("entries serialize");
        if let Some(o) = v.as_object_mut() {
            o.remove("token_sha256");
        }
        v
    }
}
