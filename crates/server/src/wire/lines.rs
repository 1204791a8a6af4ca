//! Lines: their rules and status, their operation status from line checks,
//! what is owed on them, the answers to their writes, and their messages.

use serde::Serialize;
use utoipa::ToSchema;

/// What is owed.
#[derive(Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Owed {
    /// Receipt of one version of a notice.
    Acknowledgment {
        /// The activity.
        activity: String,
        /// Its version.
        version: u64,
    },
    /// A reply to a request or a flash message.
    Reply {
        /// The message's place in its line's order.
        message: u64,
    },
    /// A follow-up action agreed at a talk.
    FollowUp {
        /// The talk.
        talk: String,
        /// The follow-up's number in the confirmed record, from 1.
        follow_up: u64,
    },
}

impl From<parley_service::Owed> for Owed {
    fn from(o: parley_service::Owed) -> Self {
        match o {
            parley_service::Owed::Acknowledgment { activity, version } => {
                Owed::Acknowledgment { activity, version }
            }
            parley_service::Owed::Reply { message } => Owed::Reply { message },
            parley_service::Owed::FollowUp { talk, follow_up } => {
                Owed::FollowUp { talk, follow_up }
            }
        }
    }
}

/// Something owed by a party, and by when.
#[derive(Serialize, ToSchema)]
pub struct Deadline {
    /// Its id.
    id: String,
    /// The line (`talk:<id>` for a talk's follow-up).
    line: String,
    /// The party that owes it.
    party: String,
    /// What is owed.
    owed: Owed,
    /// The answer to a flash message: reminded to every operator, observers too.
    flash: bool,
    /// When it was set (RFC 3339).
    set_at: String,
    /// When it is due (RFC 3339).
    due: String,
    /// Whether it is past due.
    overdue: bool,
    /// The escalation steps taken so far, in order: `reminder`, `overdue`, `admins`.
    escalation: Vec<String>,
}

impl From<parley_service::DeadlineView> for Deadline {
    fn from(v: parley_service::DeadlineView) -> Self {
        Deadline {
            id: v.id,
            line: v.line,
            party: v.party,
            owed: v.owed.into(),
            flash: v.flash,
            set_at: v.set_at,
            due: v.due,
            overdue: v.overdue,
            escalation: v.escalation.into_iter().map(str::to_string).collect(),
        }
    }
}

/// What is owed on the lines and talks this operator may see, earliest first.
#[derive(Serialize, ToSchema)]
pub struct Deadlines {
    deadlines: Vec<Deadline>,
}

impl Deadlines {
    pub fn of(views: Vec<parley_service::DeadlineView>) -> Self {
        Deadlines {
            deadlines: views.into_iter().map(Deadline::from).collect(),
        }
    }
}

/// A line: its rules, its political status, its operation status from line
/// checks (with the evidence) and what is owed on it.
#[derive(Serialize, ToSchema)]
pub struct Line {
    /// Its id.
    id: String,
    /// Its name.
    name: String,
    /// Its parties.
    parties: Vec<String>,
    /// Its rules, every one given.
    #[schema(value_type = crate::openapi::LineRules)]
    rules: parley_service::LineRules,
    /// Its political status.
    #[schema(value_type = crate::openapi::LineState)]
    status: parley_service::LineStatus,
    /// How many messages it holds.
    messages: u64,
    /// Whether it works, from the evidence of its line checks.
    operation: Operation,
    /// What is owed on it, earliest first.
    deadlines: Vec<Deadline>,
}

impl From<parley_service::LineView> for Line {
    fn from(v: parley_service::LineView) -> Self {
        Line {
            id: v.id,
            name: v.name,
            parties: v.parties,
            rules: v.rules,
            status: v.status,
            messages: v.messages as u64,
            operation: v.operation.into(),
            deadlines: v.deadlines.into_iter().map(Deadline::from).collect(),
        }
    }
}

/// The lines this operator may see.
#[derive(Serialize, ToSchema)]
pub struct Lines {
    lines: Vec<Line>,
}

impl Lines {
    pub fn of(views: Vec<parley_service::LineView>) -> Self {
        Lines {
            lines: views.into_iter().map(Line::from).collect(),
        }
    }
}

/// Whether a line works: `in_operation` (every party answered its last
/// check), `unchecked` (a party not checked yet), `degraded` (a party missed
/// its last check), `silent` (a party missed several in a row),
/// `node_unreachable` (another node of a federated line has not taken in
/// this node's entries for a while, whatever its parties' checks show).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OperationState {
    InOperation,
    Unchecked,
    Degraded,
    Silent,
    NodeUnreachable,
}

/// A line's operation status with its evidence.
#[derive(Serialize, ToSchema)]
pub struct Operation {
    state: OperationState,
    /// Seconds between rounds of checks.
    interval_s: u64,
    /// When the next round goes out (RFC 3339).
    next_round_at: String,
    /// Each party's evidence (a peer node's parties: as their node checked them).
    parties: Vec<PartyChecks>,
    /// On a federated line, each other node and how far it keeps up (empty
    /// for a hosted line).
    nodes: Vec<LineNode>,
}

/// Another node of a federated line, as this node sees it.
#[derive(Serialize, ToSchema)]
pub struct LineNode {
    /// The node (its record's origin).
    node: String,
    /// Its parties.
    parties: Vec<String>,
    /// The size of this node's log on the line.
    log_size: u64,
    /// How much of it the node has receipted.
    receipted: u64,
    /// How much of the node's own log on the line this node holds.
    held: u64,
    /// When the oldest entry it has not receipted was logged (RFC 3339).
    behind_since: Option<String>,
    /// False once an entry has waited ten seconds for its receipt.
    reachable: bool,
}

impl From<parley_service::OperationView> for Operation {
    fn from(v: parley_service::OperationView) -> Self {
        use parley_service::OperationState as S;
        Operation {
            state: match v.state {
                S::InOperation => OperationState::InOperation,
                S::Unchecked => OperationState::Unchecked,
                S::Degraded => OperationState::Degraded,
                S::Silent => OperationState::Silent,
                S::NodeUnreachable => OperationState::NodeUnreachable,
            },
            interval_s: v.interval_s,
            next_round_at: v.next_round_at,
            parties: v
                .parties
                .into_iter()
                .map(|p| PartyChecks {
                    party: p.party,
                    last_check_at: p.last_check_at,
                    answered_at: p.answered_at,
                    round_trip_ms: p.round_trip_ms,
                    misses_24h: p.misses_24h as u64,
                    missed_in_a_row: p.missed_in_a_row,
                    pending: p.pending.map(|c| PendingCheck {
                        check: c.check,
                        sent_at: c.sent_at,
                        due: c.due,
                    }),
                })
                .collect(),
            nodes: v
                .nodes
                .into_iter()
                .map(|n| LineNode {
                    node: n.node,
                    parties: n.parties,
                    log_size: n.log_size,
                    receipted: n.receipted,
                    held: n.held,
                    behind_since: n.behind_since,
                    reachable: n.reachable,
                })
                .collect(),
        }
    }
}

/// One party's line checks on a line.
#[derive(Serialize, ToSchema)]
pub struct PartyChecks {
    party: String,
    /// When its last check was sent (RFC 3339).
    last_check_at: Option<String>,
    /// When it answered that check (RFC 3339).
    answered_at: Option<String>,
    /// How long it took to answer, ms.
    round_trip_ms: Option<i64>,
    /// Checks missed in the last 24 hours.
    misses_24h: u64,
    /// Checks missed in a row, up to now.
    missed_in_a_row: u32,
    /// The check it has yet to answer, if any.
    pending: Option<PendingCheck>,
}

/// A check sent and not answered yet.
#[derive(Serialize, ToSchema)]
pub struct PendingCheck {
    /// Its id (`lc-…`).
    check: String,
    /// When it was sent (RFC 3339).
    sent_at: String,
    /// When the answer is due (RFC 3339).
    due: String,
}

/// A new line.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct LineCreated {
    /// Its id.
    id: String,
    /// Its name.
    name: String,
    /// Its parties.
    parties: Vec<String>,
    /// Its rules, every one given.
    #[schema(value_type = crate::openapi::LineRules)]
    rules: serde_json::Value,
    /// `active`.
    #[schema(value_type = crate::openapi::LineState)]
    status: String,
}

/// A line's new political status.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct LineStatusChanged {
    /// The line.
    id: String,
    #[schema(value_type = crate::openapi::LineState)]
    status: String,
}

/// A line check answered.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct LineCheckAnswered {
    /// The check (`lc-…`).
    check: String,
    /// Its line.
    line: String,
    /// The party that answered.
    party: String,
    /// How long the answer took, ms.
    round_trip_ms: i64,
}

/// A message as the journal holds it (`kind: message_sent`): the answer to
/// sending one.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct MessageSent {
    /// `message_sent`.
    #[schema(pattern = "^message_sent$")]
    kind: String,
    /// Its line.
    line: String,
    /// Its place in the line's order, from 1.
    seq: u64,
    /// The sending party.
    party: String,
    /// The sending operator.
    operator: String,
    #[schema(value_type = crate::openapi::MessageKind)]
    message: String,
    #[schema(value_type = crate::openapi::Priority)]
    priority: String,
    /// The text.
    text: String,
    /// A request's reply deadline (RFC 3339).
    deadline: Option<String>,
    /// The line sequence number of the message it answers or corrects.
    references: Option<u64>,
}

/// A message as a read shows it: as logged, with where.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct LoggedMessage {
    #[serde(flatten)]
    message: MessageSent,
    #[serde(flatten)]
    logged: super::Logged,
}

/// A line's messages, in the line's order.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct Messages {
    messages: Vec<LoggedMessage>,
}
