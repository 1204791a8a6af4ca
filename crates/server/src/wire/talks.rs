//! The register of talks: the answers to recording, confirming and closing,
//! and the reads.

use super::Logged;
use serde::Serialize;
use utoipa::ToSchema;

/// Where a talk's record stands.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TalkState {
    /// Not every party stands by one version yet.
    AwaitingConfirmation,
    /// Parties stand by different versions.
    Disputed,
    /// Every party stands by one version.
    Confirmed,
}

impl From<parley_service::TalkState> for TalkState {
    fn from(s: parley_service::TalkState) -> Self {
        use parley_service::TalkState as S;
        match s {
            S::AwaitingConfirmation => TalkState::AwaitingConfirmation,
            S::Disputed => TalkState::Disputed,
            S::Confirmed => TalkState::Confirmed,
        }
    }
}

/// The answer to recording a talk or a new version of its record.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct TalkVersionRecorded {
    /// The talk (`t-…`).
    talk: String,
    /// The version recorded, from 1.
    version: u64,
    /// SHA-256 of the record as compact JSON, hex: what a confirmation reads back.
    content_sha256: String,
    /// The recording party, which stands by this version.
    stood_by: String,
}

/// The answer to a confirmation.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct TalkConfirmed {
    talk: String,
    version: u64,
    content_sha256: String,
    /// `confirmed` once every party stands by this version, else
    /// `awaiting_confirmation`.
    state: TalkState,
    /// The key that signed the request, when it was signed.
    signed_by: Option<String>,
}

/// The answer to closing a follow-up.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct FollowUpClosed {
    talk: String,
    /// Its number in the record, from 1.
    follow_up: u64,
    /// `closed`.
    #[schema(pattern = "^closed$")]
    state: String,
}

/// What a list and a read of a talk both say of it, from the record that
/// counts (the confirmed one, else the latest).
#[derive(Serialize, ToSchema)]
pub struct TalkHead {
    /// Its id (`t-…`).
    id: String,
    parties: Vec<String>,
    /// `YYYY-MM-DD`.
    date: String,
    level: String,
    venue: Option<String>,
    line: Option<String>,
    state: TalkState,
}

/// A talk in a list.
#[derive(Serialize, ToSchema)]
pub struct TalkSummary {
    #[serde(flatten)]
    head: TalkHead,
    /// How many versions of the record there are.
    versions: u64,
    confirmed_version: Option<u64>,
    agenda_items: u64,
    open_follow_ups: u64,
}

impl From<parley_service::TalkSummaryView> for TalkSummary {
    fn from(v: parley_service::TalkSummaryView) -> Self {
        TalkSummary {
            head: TalkHead {
                id: v.id,
                parties: v.parties,
                date: v.date,
                level: v.level,
                venue: v.venue,
                line: v.line,
                state: v.state.into(),
            },
            versions: v.versions as u64,
            confirmed_version: v.confirmed_version,
            agenda_items: v.agenda_items as u64,
            open_follow_ups: v.open_follow_ups as u64,
        }
    }
}

/// The talks this operator's party took part in, latest date first.
#[derive(Serialize, ToSchema)]
pub struct Talks {
    talks: Vec<TalkSummary>,
}

impl Talks {
    pub fn of(views: Vec<parley_service::TalkSummaryView>) -> Self {
        Talks {
            talks: views.into_iter().map(TalkSummary::from).collect(),
        }
    }
}

/// This party's talks with another party.
#[derive(Serialize, ToSchema)]
pub struct TalkRelation {
    /// The other party.
    party: String,
    /// The date of the last confirmed talk with it, `YYYY-MM-DD`.
    last_talk: Option<String>,
    days_since_last_talk: Option<i64>,
    talks_last_365_days: u64,
    unconfirmed_talks: u64,
    open_follow_ups: u64,
    /// No confirmed talk for more than `flag_after_days` (or never).
    flagged: bool,
    /// The deployment's gap, days.
    flag_after_days: i64,
}

impl From<parley_service::TalkRelationView> for TalkRelation {
    fn from(v: parley_service::TalkRelationView) -> Self {
        TalkRelation {
            party: v.party,
            last_talk: v.last_talk,
            days_since_last_talk: v.days_since_last_talk,
            talks_last_365_days: v.talks_last_365_days as u64,
            unconfirmed_talks: v.unconfirmed_talks as u64,
            open_follow_ups: v.open_follow_ups as u64,
            flagged: v.flagged,
            flag_after_days: v.flag_after_days,
        }
    }
}

/// For this party, each other party it has a talk or a line with.
#[derive(Serialize, ToSchema)]
pub struct TalkRelations {
    relations: Vec<TalkRelation>,
}

impl TalkRelations {
    pub fn of(views: Vec<parley_service::TalkRelationView>) -> Self {
        TalkRelations {
            relations: views.into_iter().map(TalkRelation::from).collect(),
        }
    }
}

/// What a party did to a version of a talk's record, as the journal holds it.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct TalkAct {
    /// `talk_recorded` or `talk_confirmed`.
    #[schema(pattern = "^talk_(recorded|confirmed)$")]
    kind: String,
    talk: String,
    version: u64,
    /// The party that recorded or confirmed it.
    party: String,
    operator: String,
    /// The version's content hash.
    content_sha256: String,
    #[serde(flatten)]
    logged: Logged,
}

/// A version of a talk's record as the journal holds it (`kind: talk_recorded`).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct TalkRecordedEntry {
    #[serde(flatten)]
    act: TalkAct,
    #[schema(value_type = crate::openapi::TalkRecord)]
    record: serde_json::Value,
    /// The parties that stand by this version now.
    stood_by: Vec<String>,
}

/// A confirmation as the journal holds it (`kind: talk_confirmed`).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct TalkConfirmedEntry {
    #[serde(flatten)]
    act: TalkAct,
    /// The party's signature, when the request was signed.
    signed: Option<super::SignedBy>,
}

/// A follow-up's closure as the journal holds it (`kind: follow_up_closed`).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct FollowUpClosedEntry {
    /// `follow_up_closed`.
    #[schema(pattern = "^follow_up_closed$")]
    kind: String,
    talk: String,
    follow_up: u64,
    party: String,
    operator: String,
    note: String,
    #[serde(flatten)]
    logged: Logged,
}

/// Where a follow-up stands.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum FollowUpState {
    Open,
    Overdue,
    Closed,
}

/// A follow-up of a confirmed record, tracked to its closure.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct FollowUpView {
    /// Its number, from 1.
    id: u64,
    action: String,
    /// The party that owes it.
    owner: String,
    /// RFC 3339.
    due: String,
    state: FollowUpState,
    /// The escalation steps taken so far, in order: `reminder`, `overdue`, `admins`.
    escalation: Vec<String>,
    closure: Option<FollowUpClosedEntry>,
}

/// One talk with every version, confirmation and follow-up.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct Talk {
    #[serde(flatten)]
    head: TalkHead,
    /// The confirmed version, else the latest.
    version: u64,
    confirmed_version: Option<u64>,
    /// The version each party stands by.
    #[schema(value_type = Object)]
    standing: std::collections::BTreeMap<String, u64>,
    /// The parties that do not stand by the latest version (none once confirmed).
    awaiting: Vec<String>,
    /// The record of `version`.
    #[schema(value_type = crate::openapi::TalkRecord)]
    record: serde_json::Value,
    content_sha256: String,
    /// The confirmed record's follow-ups (none before it is confirmed).
    follow_ups: Vec<FollowUpView>,
    versions: Vec<TalkRecordedEntry>,
    confirmations: Vec<TalkConfirmedEntry>,
}
