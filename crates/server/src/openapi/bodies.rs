//! The schemas of what requests carry and of the domain's closed sets, for
//! the document only: handlers read bodies by hand (`crate::body`), so these
//! are never deserialized.

use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

/// A 4D volume: an ASTM F3548 `Volume4D` (`volume` with `outline_polygon` or
/// `outline_circle`, `altitude_lower`, `altitude_upper`; `time_start`, `time_end`),
/// or a GeoJSON Feature (a `Polygon` with one closed ring of `[lng, lat]`, or a
/// `Point` with a `radius_m` property; properties `altitude_lower_m`,
/// `altitude_upper_m`, `time_start`, `time_end`). Polygon edges are geodesics on
/// WGS84; altitudes are above the WGS84 ellipsoid; the window is `[start, end)`.
/// In the F3548 form a point may be written as officers write it and lengths
/// in feet (the description says how).
pub struct Volume;

impl PartialSchema for Volume {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "A 4D volume: an ASTM F3548 `Volume4D` (`volume` with `outline_polygon` or `outline_circle`, `altitude_lower`, `altitude_upper`; `time_start`, `time_end`), or a GeoJSON Feature (a `Polygon` with one closed ring of `[lng, lat]`, or a `Point` with a `radius_m` property; properties `altitude_lower_m`, `altitude_upper_m`, `time_start`, `time_end`). Polygon edges are geodesics on WGS84; altitudes are above the WGS84 ellipsoid; the window is `[start, end)`. In the F3548 form a point (a vertex or a circle's `center`) is `{lat, lng}`, each decimal degrees as a number or as text in decimal degrees (`\"35.5N\"`), degrees-minutes-seconds (`\"35°30'15\\\"N\"`), degrees and decimal minutes (`\"35°30.25'N\"`) or compact (`\"3530N\"`, `\"03830E\"`); or `{position: \"35°30'N 038°30'E\"}`; or `{mgrs: \"37SBA1234567890\"}` (a circle's MGRS centre is its cell's centre and the radius grows by the cell's half-diagonal; a polygon's vertex is given to the metre); or `{utm: {zone, hemisphere, easting, northing}}` (zone 0 is UPS). Lengths (`radius`, altitudes) have `units` `M` or `FT`. An altitude's `reference` is `W84` (above the ellipsoid) or `AMSL` (above mean sea level: the EGM96 geoid; the band becomes the W84 band that holds it over the whole footprint, lower plus the lowest geoid height there, upper plus the highest). On a line whose rules give `flight_level_margin_m`, an altitude may be a flight level, `\"FL130\"` or `{value: 130, units: \"FL\"}`: a pressure altitude, converted with the ICAO standard atmosphere and widened by the margin on both sides; elsewhere refused. The notice's content keeps each volume in the W84 form compared, with a member `given` holding the altitudes as written when they were not W84. A GeoJSON `MultiPolygon` is a volume a polygon; a GeoJSON `LineString` with a `half_width_m` property is a route's corridor, covered by a circle at every position and a quadrilateral along every leg (at most 100 km each); the limit of volumes counts the volumes they become. Or KML: `{kml: \"<Placemark>…</Placemark>\"}` (one Placemark, or a KML document holding one), read as the GeoJSON Feature it is: Polygon, Point with ExtendedData `radius_m`, LineString with `half_width_m`, MultiGeometry of polygons; ExtendedData gives the properties above by name (`altitude_lower` as `\"500 FT AMSL\"` or `\"FL100\"`), a TimeSpan the window; under `altitudeMode` `absolute` the coordinates' altitudes (above mean sea level) give the band, `clampToGround` and `relativeToGround` need it given; a refusal points at `/volumes/N/kml` and names the Placemark.",
            ))
            .examples([serde_json::json!({
                "volume": {
                    "outline_polygon": {"vertices": [
                        {"lat": 35.90, "lng": 38.90}, {"lat": 35.90, "lng": 39.15}, {"lat": 36.05, "lng": 39.15}
                    ]},
                    "altitude_lower": {"value": 5000, "reference": "W84", "units": "M"},
                    "altitude_upper": {"value": 9000, "reference": "W84", "units": "M"}
                },
                "time_start": {"value": "2026-11-22T10:00:00Z", "format": "RFC3339"},
                "time_end": {"value": "2026-11-22T12:00:00Z", "format": "RFC3339"}
            })])
            .into()
    }
}

impl ToSchema for Volume {}

/// One event of the live stream as Server-Sent Events carry it: `id` (the
/// journal position), `event` (the entry's kind) and `data` (the entry as JSON
/// text with its `cursor` and `logged_at`).
pub struct LiveEvent;

impl PartialSchema for LiveEvent {
    fn schema() -> RefOr<Schema> {
        let text = |description: &str| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some(description))
        };
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "One event: `id` the journal position, `event` the entry's kind, `data` the entry as JSON text with its `cursor` and `logged_at`.",
            ))
            .property("id", text("The entry's journal position, for `Last-Event-ID`."))
            .property("event", text("The entry's kind, e.g. `notice` or `conflict_found`."))
            .property("data", text("The entry as JSON text."))
            .required("data")
            .into()
    }
}

impl ToSchema for LiveEvent {}

/// An operator's role.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum Role {
    /// Reads.
    Observer,
    /// Reads and writes on the party's lines.
    Officer,
    /// Also manages the party's operators.
    Admin,
}

/// A line's political status; a suspended line keeps working.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum LineState {
    /// Normal.
    Active,
    /// Suspended.
    Suspended,
}

/// How urgent a message is.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum Priority {
    /// Routine traffic.
    Routine,
    /// Needs attention soon.
    Urgent,
    /// Needs attention now.
    Flash,
}

/// What a message is.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum MessageKind {
    /// Free text.
    Text,
    /// A request; needs a `deadline`.
    Request,
    /// A reply; `references` a request.
    Reply,
}

/// What kind of activity a notice announces.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
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

/// What kind of site.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum SiteKind {
    /// Fixed in place.
    Static,
    /// Moving (a convoy's route and times).
    Movement,
}

/// A new party (host admins only).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CreateParty {
    /// 1 to 64 letters, digits, `-`, `_` or `.`.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$", example = "blue")]
    id: String,
    /// 1 to 200 bytes of text.
    #[schema(example = "Blue Air Force")]
    name: String,
}

/// A new operator of the party; the answer carries its token, shown once.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CreateOperator {
    /// 1 to 200 bytes of text.
    #[schema(example = "Blue duty officer")]
    name: String,
    role: Role,
}

/// A new line between two or more parties (host admins only).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CreateLine {
    /// 1 to 64 letters, digits, `-`, `_` or `.`.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$", example = "syria-air")]
    id: String,
    /// 1 to 200 bytes of text.
    #[schema(example = "Syria air deconfliction")]
    name: String,
    /// Two or more different parties (not the host).
    #[schema(min_items = 2, example = json!(["blue", "red"]))]
    parties: Vec<String>,
    /// The line's rules; rules not given keep their defaults.
    #[schema(required = false)]
    rules: LineRules,
}

/// A line's rules. Every rule is optional; an unknown rule is an error.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct LineRules {
    /// A notice must be given at least this long before its activity starts,
    /// seconds; a later one is marked late.
    #[schema(required = false, default = 3600, minimum = 0, maximum = 31536000)]
    notice_lead_time_s: u64,
    /// Acknowledgments are due within this many seconds of a notice.
    #[schema(required = false, default = 900, minimum = 1, maximum = 604800)]
    ack_deadline_s: u64,
    /// Line checks every this many seconds.
    #[schema(required = false, default = 3600, minimum = 10, maximum = 604800)]
    line_check_interval_s: u64,
    /// Horizontal separation minimum, metres.
    #[schema(required = false, default = 0.0, minimum = 0, maximum = 1000000)]
    horizontal_m: f64,
    /// Vertical separation minimum, metres.
    #[schema(required = false, default = 0.0, minimum = 0, maximum = 1000000)]
    vertical_m: f64,
    /// Separation minimum in time, seconds.
    #[schema(required = false, default = 0.0, minimum = 0, maximum = 1000000)]
    time_s: f64,
    /// Notices and acknowledgments must carry a `Parley-Signature` by a key of
    /// the sending party; unsigned ones are refused (403).
    #[schema(required = false, default = false)]
    signatures_required: bool,
    /// The shortest time a request may give the other side to reply, seconds.
    #[schema(required = false, default = 300, minimum = 60, maximum = 604800)]
    min_reply_s: u64,
    /// Most requests one party may send on the line in an hour (beyond: 429).
    #[schema(required = false, default = 12, minimum = 1, maximum = 1000)]
    max_requests_per_hour: u32,
    /// Most flash messages one party may send on the line in an hour (beyond: 429).
    #[schema(required = false, default = 4, minimum = 1, maximum = 1000)]
    max_flash_per_hour: u32,
    /// Flight levels (`"FL130"`, `{"value": 130, "units": "FL"}`) are accepted
    /// in notices on the line, and a band given in them is widened by this
    /// many metres on both sides: a flight level is a pressure altitude,
    /// converted with the ICAO standard atmosphere, whose true altitude may be
    /// hundreds of metres off. Absent (the default): flight levels are refused.
    #[schema(required = false, minimum = 0, maximum = 5000)]
    flight_level_margin_m: Option<f64>,
    /// The line's region of operation: a box, `{south, west, north, east}` in
    /// degrees (west above east crosses the antimeridian), or a polygon,
    /// `{vertices: [{lat, lng}, ...]}` (at least 3, in order, not repeating
    /// the first, edges not crossing, within 2,000 km of its centre; a
    /// refusal points at the vertex): a notice with a volume that reaches
    /// outside it (any point of it) is refused (422, naming the volume, and saying when
    /// its latitude and longitude swapped would lie inside) unless the request
    /// says `confirm_unusual: true`. Absent (the default): anywhere.
    #[schema(required = false, value_type = Option<Object>)]
    region: Option<serde_json::Value>,
}

/// A public key of the party, to register (its admins only).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct RegisterKey {
    /// A verifier key line `name+id+base64`, as `parley keys generate` prints
    /// it, named after the party (`<party>` or `<party>/<label>`).
    key: String,
}

/// A key of the party to revoke (its admins, signed by a key it holds).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct RevokeKey {
    /// The verifier key line, as registered.
    key: String,
}

/// A line's new political status (host admins only).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct LineStatus {
    status: LineState,
}

/// A message on a line.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Message {
    /// Defaults to `text`.
    #[schema(default = "text")]
    message: Option<MessageKind>,
    /// Defaults to `routine`.
    #[schema(default = "routine")]
    priority: Option<Priority>,
    /// 1 to 10,000 bytes of text.
    #[schema(example = "Request you hold north of 36N until 1200Z.")]
    text: String,
    /// RFC 3339, in the future; required for a `request`.
    #[schema(format = DateTime)]
    deadline: Option<String>,
    /// The line sequence number of the message referred to: required for a
    /// `reply` (a request), optional for `text` (for example a correction).
    #[schema(minimum = 1)]
    references: Option<u64>,
}

/// An activity notice: where and when a party will operate.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Notice {
    category: Category,
    /// Who to call about it; 1 to 500 bytes of text.
    #[schema(example = "Blue AOC, +963 11 000 0000")]
    point_of_contact: String,
    /// 1 to 100 volumes (routes and multipolygons count as the volumes they
    /// become).
    #[schema(min_items = 1, max_items = 100)]
    volumes: Vec<Volume>,
    /// `true`: only report the conflicts; nothing is recorded.
    #[schema(default = false)]
    dry_run: Option<bool>,
    /// `true`: send it even if it looks like a mistake: every window has
    /// ended, or a volume reaches outside the line's region of operation
    /// (refused otherwise with 422 naming the volume and saying why).
    #[schema(default = false)]
    confirm_unusual: Option<bool>,
}

/// A new version of an activity (an officer of the notifying party).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Amendment {
    /// The current version; a stale one answers 409.
    #[schema(minimum = 1)]
    replaces_version: u64,
    /// Defaults to the current version's.
    category: Option<Category>,
    /// Defaults to the current version's.
    point_of_contact: Option<String>,
    /// 1 to 100 volumes: the whole new set.
    #[schema(min_items = 1, max_items = 100)]
    volumes: Vec<Volume>,
    /// `true`: only report the conflicts; nothing is recorded.
    #[schema(default = false)]
    dry_run: Option<bool>,
    /// `true`: send it even if it looks like a mistake: every window has
    /// ended, or a volume reaches outside the line's region of operation
    /// (refused otherwise with 422 naming the volume and saying why).
    #[schema(default = false)]
    confirm_unusual: Option<bool>,
}

/// Cancels an activity: its last version.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Cancellation {
    /// The current version; a stale one answers 409.
    #[schema(minimum = 1)]
    replaces_version: u64,
}

/// The read-back of exactly one version of a notice: it means *received*, never
/// *approved*.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Acknowledgment {
    /// The latest version; an older one answers 409.
    #[schema(minimum = 1)]
    version: u64,
    /// The version's `content_sha256`, as read; another value answers 409.
    #[schema(example = "9f2c...")]
    content_sha256: String,
}

/// Marks a conflict coordinated on this party's side; it is coordinated once
/// both sides have.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Coordination {
    /// 1 to 2,000 bytes of text.
    #[schema(example = "Agreed by phone: Red holds south of 36N until 1200Z.")]
    note: String,
}

/// A protected site (an officer of a party).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Site {
    /// 1 to 200 bytes of text.
    #[schema(example = "Field hospital Idlib")]
    name: String,
    /// Defaults to `static`.
    #[schema(default = "static")]
    kind: Option<SiteKind>,
    /// 1 to 100 volumes.
    #[schema(min_items = 1, max_items = 100)]
    volumes: Vec<Volume>,
    /// RFC 3339, in the future.
    #[schema(format = DateTime)]
    expires: String,
    /// Parties that see the site.
    shared_with_parties: Option<Vec<String>>,
    /// Lines of this party whose parties see the site.
    shared_with_lines: Option<Vec<String>>,
}

/// What became of an agenda item.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum Outcome {
    /// The parties agreed.
    Agreed,
    /// Their positions differ.
    PositionsDiffer,
    /// To be continued at a later talk.
    ToContinue,
}

/// Someone who took part, by role (names are not kept).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TalkParticipant {
    /// One of the talk's parties.
    party: String,
    /// 1 to 200 bytes of text.
    #[schema(example = "deputy chief of general staff")]
    role: String,
}

/// One item of the agenda.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AgendaItem {
    /// 1 to 500 bytes of text.
    #[schema(example = "maritime safety")]
    item: String,
    /// Each party's position (1 to 4,000 bytes), by party id; only the talk's parties.
    #[schema(value_type = Option<Object>, example = json!({"blue": "freedom of navigation", "red": "notify first"}))]
    positions: Option<std::collections::BTreeMap<String, String>>,
    outcome: Outcome,
}

/// An action agreed at the talk, owed by one party.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TalkFollowUp {
    /// 1 to 1,000 bytes of text.
    #[schema(example = "send the draft hotline procedure")]
    action: String,
    /// The party that owes it: one of the talk's parties.
    owner: String,
    /// RFC 3339. Once the talk is confirmed it is a deadline of the owner,
    /// escalated like any other when it passes.
    #[schema(format = DateTime)]
    due: String,
}

/// The record of a talk, as one party has it (the whole record, also for a
/// new version). Lists hold at most 50 items.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TalkRecord {
    /// Two or more registered parties, the recording party among them; a new
    /// version keeps the talk's parties.
    #[schema(min_items = 2, max_items = 50)]
    parties: Vec<String>,
    /// The day of the talk, `YYYY-MM-DD` (UTC); not in the future.
    #[schema(format = Date, example = "2026-11-20")]
    date: String,
    /// 1 to 200 bytes of text.
    #[schema(example = "deputy minister")]
    level: String,
    #[schema(max_items = 50)]
    participants: Option<Vec<TalkParticipant>>,
    /// Where it met; give a venue, a line or both.
    #[schema(example = "Beijing")]
    venue: Option<String>,
    /// A line of the recording party the talk was held on.
    line: Option<String>,
    #[schema(min_items = 1, max_items = 50)]
    agenda: Vec<AgendaItem>,
    /// Numbered from 1 in this order.
    #[schema(max_items = 50)]
    follow_ups: Option<Vec<TalkFollowUp>>,
}

/// This party stands by one version of the record.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TalkConfirmation {
    #[schema(minimum = 1)]
    version: u64,
    /// The version's `content_sha256`, as read; another value answers 409.
    content_sha256: Option<String>,
}

/// Closes a follow-up (an officer of its owner party).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct FollowUpClosure {
    /// What was done: 1 to 2,000 bytes of text.
    #[schema(example = "Procedure sent on the line, message 42.")]
    note: String,
}
