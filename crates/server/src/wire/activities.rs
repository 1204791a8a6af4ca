//! Activity notices, their acknowledgments, and the conflicts found between
//! them (and sites): the answers to their writes and reads.

use super::{Logged, SignedBy};
use serde::Serialize;
use utoipa::ToSchema;

/// Where a notice's activity stands.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoticeState {
    /// Notified (version 1 or an amendment).
    Notified,
    /// Cancelled: its last version.
    Cancelled,
}

impl From<parley_service::NoticeState> for NoticeState {
    fn from(s: parley_service::NoticeState) -> Self {
        match s {
            parley_service::NoticeState::Notified => NoticeState::Notified,
            parley_service::NoticeState::Cancelled => NoticeState::Cancelled,
        }
    }
}

/// What a version of a notice says: what `content_sha256` is the SHA-256 of
/// (of its text as stored), and what an acknowledgment reads back.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct NoticeContent {
    /// Its volumes in the ASTM F3548 `Volume4D` form compared (W84
    /// altitudes), each with a member `given` holding the altitudes as
    /// written when they were not W84.
    #[schema(value_type = Vec<Object>)]
    volumes: Vec<serde_json::Value>,
    activity: String,
    line: String,
    party: String,
    version: u64,
    state: NoticeState,
    #[schema(value_type = crate::openapi::Category)]
    category: String,
    point_of_contact: String,
}

/// The answer to a notice or an amendment (also a dry run's).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct NoticeOutcome {
    /// The activity (`act-…`).
    activity: String,
    /// The version this notice is (or would be).
    version: u64,
    /// SHA-256 of the version's content as stored, hex: what the other
    /// parties read back when they acknowledge it.
    content_sha256: String,
    /// Given later than the line's lead time before the activity starts.
    late: bool,
    /// Nothing was recorded.
    dry_run: bool,
    /// The conflicts the version meets that this party is told of.
    conflicts: Vec<ConflictFound>,
    /// A dry run only: the content a signed notice declares (its canonical
    /// SHA-256 goes in the `parley-statement/v2`).
    #[schema(value_type = Option<Object>)]
    declared: Option<serde_json::Value>,
    /// The key that signed the request, when it was signed.
    signed_by: Option<String>,
    /// On a federated line: the conflicts every node that answered found,
    /// and which nodes did not answer.
    federation: Option<super::NoticeFederation>,
}

/// The answer to a cancellation: the last version, with its content.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct NoticeCancelled {
    activity: String,
    version: u64,
    /// `cancelled`.
    state: NoticeState,
    content_sha256: String,
    content: NoticeContent,
    /// The key that signed the request, when it was signed.
    signed_by: Option<String>,
}

/// The answer to an acknowledgment.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct NoticeAcknowledged {
    activity: String,
    version: u64,
    /// The acknowledging party.
    received_by: String,
    /// The read-back.
    content_sha256: String,
    /// `received, not approved`.
    meaning: String,
    /// `true` when this party had acknowledged this version already (nothing
    /// was recorded again); absent otherwise.
    already_acknowledged: Option<bool>,
    /// The key that signed the request, when it was signed.
    signed_by: Option<String>,
}

/// What a list and a read of an activity both say of it.
#[derive(Serialize, ToSchema)]
pub struct ActivityHead {
    /// Its id (`act-…`).
    id: String,
    line: String,
    /// The notifying party.
    party: String,
    /// Its latest version.
    version: u64,
    state: NoticeState,
    /// The latest version's content hash.
    content_sha256: String,
}

/// An activity in a list.
#[derive(Serialize, ToSchema)]
pub struct ActivitySummary {
    #[serde(flatten)]
    head: ActivityHead,
    /// The parties that acknowledged the latest version.
    received_by: Vec<String>,
}

impl From<parley_service::ActivitySummaryView> for ActivitySummary {
    fn from(v: parley_service::ActivitySummaryView) -> Self {
        ActivitySummary {
            head: ActivityHead {
                id: v.id,
                line: v.line,
                party: v.party,
                version: v.version as u64,
                state: v.state.into(),
                content_sha256: v.content_sha256,
            },
            received_by: v.received_by,
        }
    }
}

/// The activities this operator's party may see.
#[derive(Serialize, ToSchema)]
pub struct Activities {
    activities: Vec<ActivitySummary>,
}

impl Activities {
    pub fn of(views: Vec<parley_service::ActivitySummaryView>) -> Self {
        Activities {
            activities: views.into_iter().map(ActivitySummary::from).collect(),
        }
    }
}

/// A version of a notice as the journal holds it (`kind: notice`).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct NoticeEntry {
    /// `notice`.
    #[schema(pattern = "^notice$")]
    kind: String,
    activity: String,
    line: String,
    party: String,
    operator: String,
    version: u64,
    state: NoticeState,
    content: NoticeContent,
    content_sha256: String,
    late: bool,
    /// The party's signature, when the request was signed.
    signed: Option<SignedBy>,
    #[serde(flatten)]
    logged: Logged,
}

/// An acknowledgment as the journal holds it (`kind: acknowledged`).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct AcknowledgmentEntry {
    /// `acknowledged`.
    #[schema(pattern = "^acknowledged$")]
    kind: String,
    activity: String,
    version: u64,
    /// The acknowledging party.
    party: String,
    operator: String,
    /// The read-back.
    content_sha256: String,
    /// The party's signature, when the request was signed.
    signed: Option<SignedBy>,
    #[serde(flatten)]
    logged: Logged,
}

/// One activity with every version and acknowledgment.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct Activity {
    #[serde(flatten)]
    head: ActivityHead,
    /// The latest version.
    current: NoticeEntry,
    /// Every version, from 1.
    versions: Vec<NoticeEntry>,
    /// Every acknowledgment, in order.
    acknowledgments: Vec<AcknowledgmentEntry>,
}

/// One side of a conflict.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct ConflictSide {
    /// `activity` or `site`.
    #[schema(pattern = "^(activity|site)$")]
    kind: String,
    /// The activity's or the site's id.
    id: String,
    /// The version met (1 for a site).
    version: u64,
    /// Its party.
    party: String,
}

/// A box in degrees (west above east crosses the antimeridian).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct MeetingArea {
    south: f64,
    west: f64,
    north: f64,
    east: f64,
}

/// Where and when two volumes meet: the overlap of their windows (or the
/// gap), of their bands, their closest distance and a box around the meeting.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct Meeting {
    /// RFC 3339.
    time_start: String,
    /// RFC 3339.
    time_end: String,
    time_gap_s: f64,
    altitude_lower_m: f64,
    altitude_upper_m: f64,
    vertical_gap_m: f64,
    horizontal_distance_m: f64,
    area: MeetingArea,
}

/// A conflict as it was found (`kind: conflict_found`), with its `id`.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct ConflictFound {
    /// `conflict_found`.
    #[schema(pattern = "^conflict_found$")]
    kind: String,
    /// The conflict (`c-…`).
    conflict: String,
    /// The same as `conflict`.
    id: String,
    /// The side that arrived last.
    a: ConflictSide,
    /// The side it met.
    b: ConflictSide,
    /// Each meeting of a volume of `a` with one of `b`.
    meetings: Vec<Meeting>,
}

/// A conflict as a read shows it.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct ConflictView {
    #[serde(flatten)]
    found: ConflictFound,
    #[serde(flatten)]
    logged: Logged,
    /// `open`, `coordinated` (both sides marked it), or `resolved (<why>)`
    /// (`amended`, `cancelled`, `withdrawn`).
    #[schema(pattern = "^(open|coordinated|resolved \\(.+\\))$")]
    state: String,
    /// Each party that marked it coordinated, with its note.
    #[schema(value_type = Object)]
    coordinated_by: std::collections::BTreeMap<String, String>,
}

/// The conflicts this operator's party is told of (all, for the host's admins).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct Conflicts {
    conflicts: Vec<ConflictView>,
}

/// A conflict's coordination.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum CoordinationState {
    /// One side has marked it.
    Open,
    /// Both sides have.
    Coordinated,
}

/// The answer to marking a conflict coordinated.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct ConflictCoordinated {
    conflict: String,
    state: CoordinationState,
}
