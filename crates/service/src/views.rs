//! What the service's reads answer: plain typed views, for adapters to turn
//! into their own wire types (the server's carry the OpenAPI schemas). They
//! serialize as the API has always answered, so an adapter that passes them
//! through as JSON changes nothing for its clients.

use crate::deadlines::Owed;
use crate::model::{LineRules, LineStatus, NoticeState, Role};
use serde::Serialize;

/// A party.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PartyView {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Whether the host's admins may add operators to it (its admins decide).
    pub host_may_add_operators: bool,
}

/// An operator of a party.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OperatorView {
    /// Its id (`op-…`).
    pub id: String,
    /// Its party.
    pub party: String,
    /// Its name.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// Whether its token was revoked.
    pub revoked: bool,
    /// Who made it: an operator and its party (`host` for the host's
    /// admins); none for operators made before this was recorded.
    pub made_by: Option<crate::entry::MadeBy>,
    /// Made by the host on the recovery path (the party had no admin left).
    pub recovery: bool,
    /// When it was made, RFC 3339.
    pub created_at: String,
}

/// Something owed on a line (or by a talk's party), and by when.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeadlineView {
    /// Its id.
    pub id: String,
    /// The line (`talk:<id>` for a talk's follow-up).
    pub line: String,
    /// The party that owes it.
    pub party: String,
    /// What is owed.
    pub owed: Owed,
    /// A flash message's answer: reminded to every operator, observers too.
    pub flash: bool,
    /// When it was set, RFC 3339.
    pub set_at: String,
    /// When it is due, RFC 3339.
    pub due: String,
    /// Whether it is past due now.
    pub overdue: bool,
    /// The escalation steps taken so far, in order: `reminder`, `overdue`, `admins`.
    pub escalation: Vec<&'static str>,
}

/// A line: its rules, its political status, its operation status from line
/// checks (with the evidence) and what is owed on it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LineView {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its parties.
    pub parties: Vec<String>,
    /// Its rules.
    pub rules: LineRules,
    /// Its political status.
    pub status: LineStatus,
    /// How many messages it holds.
    pub messages: usize,
    /// Whether it works, from the evidence of its line checks.
    pub operation: OperationView,
    /// What is owed on it, earliest first.
    pub deadlines: Vec<DeadlineView>,
}

/// Whether a line works, as its line checks show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OperationState {
    /// Every party answered its last check.
    InOperation,
    /// A party has not been checked yet.
    Unchecked,
    /// A party missed its last check.
    Degraded,
    /// A party missed several checks in a row.
    Silent,
    /// Another node of a federated line has not taken in this node's
    /// entries for a while (whatever its parties' checks show).
    NodeUnreachable,
}

/// A line's operation status with its evidence.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OperationView {
    /// The state.
    pub state: OperationState,
    /// Seconds between rounds of checks.
    pub interval_s: u64,
    /// When the next round goes out, RFC 3339.
    pub next_round_at: String,
    /// Each party's evidence.
    pub parties: Vec<PartyChecksView>,
    /// On a federated line, each other node and how far it keeps up.
    pub nodes: Vec<NodeView>,
}

/// Another node of a federated line, as this node sees it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodeView {
    /// The node (its record's origin).
    pub node: String,
    /// Its parties.
    pub parties: Vec<String>,
    /// The size of this node's log on the line.
    pub log_size: u64,
    /// How much of it the node has receipted.
    pub receipted: u64,
    /// How much of the node's own log on the line this node holds.
    pub held: u64,
    /// When the oldest entry it has not receipted was logged, RFC 3339.
    pub behind_since: Option<String>,
    /// False once an entry has waited for its receipt for a while.
    pub reachable: bool,
}

/// One party's line checks on a line.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PartyChecksView {
    /// The party.
    pub party: String,
    /// When its last check was sent, RFC 3339.
    pub last_check_at: Option<String>,
    /// When it answered that check, RFC 3339.
    pub answered_at: Option<String>,
    /// How long it took to answer, ms.
    pub round_trip_ms: Option<i64>,
    /// Checks missed in the last 24 hours.
    pub misses_24h: usize,
    /// Checks missed in a row, up to now.
    pub missed_in_a_row: u32,
    /// The check it has yet to answer, if any.
    pub pending: Option<PendingCheckView>,
}

/// A check sent and not answered yet.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PendingCheckView {
    /// Its id (`lc-…`).
    pub check: String,
    /// When it was sent, RFC 3339.
    pub sent_at: String,
    /// When the answer is due, RFC 3339.
    pub due: String,
}

/// Where a talk's record stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TalkState {
    /// Not every party stands by one version yet (at most one is stood by).
    AwaitingConfirmation,
    /// Parties stand by different versions.
    Disputed,
    /// Every party confirmed one version.
    Confirmed,
}

/// A talk in the list of a party's talks.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TalkSummaryView {
    /// Its id (`t-…`).
    pub id: String,
    /// Its parties.
    pub parties: Vec<String>,
    /// The day of the talk, `YYYY-MM-DD`, as the record that counts says.
    pub date: String,
    /// Its level.
    pub level: String,
    /// Where it met, if it met in person.
    pub venue: Option<String>,
    /// The line it was held on, if any.
    pub line: Option<String>,
    /// Where its record stands.
    pub state: TalkState,
    /// How many versions of the record there are.
    pub versions: usize,
    /// The version every party confirmed.
    pub confirmed_version: Option<u64>,
    /// Items on the agenda of the record that counts.
    pub agenda_items: usize,
    /// Follow-ups of the confirmed record not closed yet.
    pub open_follow_ups: usize,
}

/// A party's talks with another party it has a talk or a line with.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TalkRelationView {
    /// The other party.
    pub party: String,
    /// The day of the last confirmed talk, `YYYY-MM-DD`.
    pub last_talk: Option<String>,
    /// Days since then.
    pub days_since_last_talk: Option<i64>,
    /// Confirmed talks in the last 365 days.
    pub talks_last_365_days: usize,
    /// Talks whose record is not confirmed yet.
    pub unconfirmed_talks: usize,
    /// Follow-ups of their confirmed talks not closed yet.
    pub open_follow_ups: usize,
    /// No confirmed talk for more than `flag_after_days`, or never.
    pub flagged: bool,
    /// The deployment's gap, days.
    pub flag_after_days: i64,
}

/// An activity in a list: its latest version and who acknowledged it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ActivitySummaryView {
    /// Its id (`act-…`).
    pub id: String,
    /// Its line.
    pub line: String,
    /// The notifying party.
    pub party: String,
    /// Its latest version.
    pub version: usize,
    /// Where it stands.
    pub state: NoticeState,
    /// The latest version's content hash.
    pub content_sha256: String,
    /// The parties that acknowledged the latest version.
    pub received_by: Vec<String>,
}
