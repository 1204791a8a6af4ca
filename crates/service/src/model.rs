//! The service's domain words: parties, operators and their roles, lines and
//! their rules, the actor behind every request.

use parley_engine::Minima;
use serde::{Deserialize, Serialize};

/// The party that runs the deployment (for example a neutral office). Its admins
/// register parties and lines.
pub const HOST: &str = "host";

/// What an operator may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads what the party may see.
    Observer,
    /// Also sends messages, notifies activities and acknowledges.
    Officer,
    /// Also manages the party's operators (the host's admins manage everything).
    Admin,
}

impl Role {
    /// Parses a role's name.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "observer" => Some(Role::Observer),
            "officer" => Some(Role::Officer),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// Who is asking: an authenticated, unrevoked operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    /// The operator's id.
    pub operator: String,
    /// The operator's party.
    pub party: String,
    /// The operator's role.
    pub role: Role,
}

impl Actor {
    /// Whether this is one of the host's admins.
    pub fn is_host_admin(&self) -> bool {
        self.party == HOST && self.role == Role::Admin
    }
}

/// A line's rules, agreed between its parties.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LineRules {
    /// A notice must be given at least this long before its activity starts, seconds.
    pub notice_lead_time_s: u64,
    /// Acknowledgments are due within this many seconds of a notice.
    pub ack_deadline_s: u64,
    /// Line checks every this many seconds.
    pub line_check_interval_s: u64,
    /// Horizontal separation minimum, metres.
    pub horizontal_m: f64,
    /// Vertical separation minimum, metres.
    pub vertical_m: f64,
    /// Separation minimum in time, seconds.
    pub time_s: f64,
    /// Notices and acknowledgments must be signed with a party's key.
    #[serde(default)]
    pub signatures_required: bool,
    /// The shortest time a request may give the other side to reply, seconds:
    /// no party can make another late by asking for an answer in 2 s. (A flash
    /// message is answered within `FLASH_ANSWER_S`, and counted by its quota.)
    #[serde(default = "default_min_reply_s")]
    pub min_reply_s: u64,
    /// Most requests one party may send on the line in an hour.
    #[serde(default = "default_max_requests_per_hour")]
    pub max_requests_per_hour: u32,
    /// Most flash messages one party may send on the line in an hour.
    #[serde(default = "default_max_flash_per_hour")]
    pub max_flash_per_hour: u32,
    /// Flight levels are accepted in notices on the line, and a band given in
    /// them is widened by this many metres on both sides (a flight level is a
    /// pressure altitude; see `parley_wire::altitude`). Absent: refused.
    /// Left out of the stored rules when absent, so lines from before keep
    /// their journal entries byte for byte.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flight_level_margin_m: Option<f64>,
    /// Where the line's activities take place: a notice with a volume that
    /// reaches outside it is refused unless its sender confirms it
    /// (`crate::sanity`). Absent: anywhere. Left out of the stored rules
    /// when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
}

/// A line's region of operation: a box of latitudes and longitudes (the
/// first form, kept as it was stored), or a polygon.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(
    untagged,
    expecting = "a box, {\"south\", \"west\", \"north\", \"east\"} in degrees, or a polygon, {\"vertices\": [{\"lat\", \"lng\"}, ...]} in decimal degrees"
)]
pub enum Region {
    /// A box of latitudes and longitudes.
    Bounds(RegionBounds),
    /// A polygon of geodesic edges (`parley_engine::Region`).
    Polygon {
        /// Its vertices in order, not repeating the first: decimal degrees.
        vertices: Vec<RegionVertex>,
    },
}

/// A box of latitudes and longitudes, degrees; `west > east` when it crosses
/// the antimeridian.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegionBounds {
    /// Southern edge, −90 to 90.
    pub south: f64,
    /// Western edge, −180 to 180.
    pub west: f64,
    /// Northern edge, above `south`.
    pub north: f64,
    /// Eastern edge, −180 to 180.
    pub east: f64,
}

/// A vertex of a region's polygon, decimal degrees.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegionVertex {
    /// Latitude, −90 to 90.
    pub lat: f64,
    /// Longitude, −180 to 180.
    pub lng: f64,
}

fn default_min_reply_s() -> u64 {
    300
}

fn default_max_requests_per_hour() -> u32 {
    12
}

fn default_max_flash_per_hour() -> u32 {
    4
}

impl LineRules {
    /// The rules a line may have that its defaults leave out.
    pub const OPTIONAL: &'static [&'static str] = &["flight_level_margin_m", "region"];

    /// What the line allows in altitudes.
    pub fn vertical(&self) -> parley_wire::VerticalRules {
        parley_wire::VerticalRules {
            flight_level_margin_m: self.flight_level_margin_m,
        }
    }

    /// The separation minima of the line.
    pub fn minima(&self) -> Minima {
        Minima {
            horizontal_m: self.horizontal_m,
            vertical_m: self.vertical_m,
            time_s: self.time_s,
        }
    }
}

impl Default for LineRules {
    fn default() -> Self {
        Self {
            notice_lead_time_s: 3_600,
            ack_deadline_s: 900,
            line_check_interval_s: 3_600,
            horizontal_m: 0.0,
            vertical_m: 0.0,
            time_s: 0.0,
            signatures_required: false,
            min_reply_s: default_min_reply_s(),
            max_requests_per_hour: default_max_requests_per_hour(),
            max_flash_per_hour: default_max_flash_per_hour(),
            flight_level_margin_m: None,
            region: None,
        }
    }
}

/// What a write did, for the adapter to say in its own protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteOutcome {
    /// It made something new (a party, a line, a notice's first version, ...).
    Created,
    /// It changed or recorded something that was there, or only answered.
    Done,
}

impl WriteOutcome {
    /// How a stored idempotency record keeps it: 201 and 200, the codes the
    /// first stores wrote, so that records already kept read the same.
    pub fn stored(self) -> u16 {
        match self {
            WriteOutcome::Created => 201,
            WriteOutcome::Done => 200,
        }
    }

    /// The outcome a stored idempotency record keeps (see [`WriteOutcome::stored`]).
    pub fn from_stored(code: u16) -> WriteOutcome {
        if code == 201 {
            WriteOutcome::Created
        } else {
            WriteOutcome::Done
        }
    }
}

/// A line's political status, set by the host; the line works either way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineStatus {
    /// In use.
    Active,
    /// Suspended by the host (a political signal; messages still flow).
    Suspended,
}

/// What a message on a line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// Free text (a correction references the message it corrects).
    Text,
    /// A request, with a deadline the other parties must reply by.
    Request,
    /// A reply to a request or a flash message.
    Reply,
}

/// Where a notice's activity stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeState {
    /// Notified (version 1 or an amendment).
    Notified,
    /// Cancelled: its last version.
    Cancelled,
}

/// What a protected site protects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteKind {
    /// A place that stays (a hospital, a camp).
    Static,
    /// A movement along a route in a window (a convoy).
    Movement,
}

impl NoticeState {
    /// Its name in the content and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeState::Notified => "notified",
            NoticeState::Cancelled => "cancelled",
        }
    }
}

/// How urgent a free-text message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Routine traffic.
    Routine,
    /// Needs attention soon.
    Urgent,
    /// Needs attention now (for example "stop: conflict imminent").
    Flash,
}

/// What kind of operation an activity is. It says only where and when, never why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Flights.
    Air,
    /// Ships.
    Maritime,
    /// Ground operations.
    Ground,
    /// Missile or rocket launches.
    Launch,
    /// Convoys and other movements.
    Movement,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_region_is_a_box_as_stored_before_or_a_polygon() {
        let b: Region =
            serde_json::from_str(r#"{"south": 32, "west": 35.5, "north": 37.5, "east": 42.5}"#)
                .unwrap();
        assert!(matches!(b, Region::Bounds(_)));
        // Written back as it was read: older journal entries keep their bytes.
        assert_eq!(
            serde_json::to_string(&b).unwrap(),
            r#"{"south":32.0,"west":35.5,"north":37.5,"east":42.5}"#
        );
        let p: Region = serde_json::from_str(
            r#"{"vertices": [{"lat": 35, "lng": 38}, {"lat": 35, "lng": 40}, {"lat": 36, "lng": 39}]}"#,
        )
        .unwrap();
        assert!(matches!(p, Region::Polygon { ref vertices } if vertices.len() == 3));
        let e = serde_json::from_str::<Region>(r#"{"south": 32, "west": 35.5}"#).unwrap_err();
        assert!(
            e.to_string().contains("a box, {\"south\"")
                && e.to_string().contains("or a polygon, {\"vertices\""),
            "{e}"
        );
    }
}
