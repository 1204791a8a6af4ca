//! The API's OpenAPI 3.1 document, generated from the code: the handlers'
//! `#[utoipa::path]` annotations (in `routes/` and `events.rs`, listed once
//! by `routes::api` for the router and this document alike) and the
//! documentation-only schemas below. Handlers read their bodies by hand (see
//! `body.rs`) so that every error names its field; the structs here only
//! describe those bodies and are never deserialized.
//!
//! Served at `GET /v1/openapi.json` and kept in `docs/openapi.json`;
//! `tests/openapi.rs` fails when the two drift. Regenerate the file with
//! `PARLEY_BLESS=1 cargo test -p parley-server --test openapi`.

use axum::http::header;
use axum::response::IntoResponse;
use std::sync::OnceLock;
use utoipa::openapi::path::{Operation, Parameter, ParameterIn};
use utoipa::openapi::response::Response;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, Ref, RefOr, Required, ResponseBuilder};
use utoipa::{Modify, OpenApi, PartialSchema, ToResponse, ToSchema};

/// The API's OpenAPI document (OpenAPI 3.1), as pretty JSON with a final newline:
/// exactly the content of `docs/openapi.json`.
pub fn document() -> String {
    let mut openapi = ApiDoc::openapi();
    openapi.merge(crate::routes::api().into_openapi());
    Conventions.modify(&mut openapi);
    let mut json = openapi
        .to_pretty_json()
        .expect("the OpenAPI document serializes");
    json.push('\n');
    json
}

/// This document (OpenAPI 3.1, JSON). Needs no token.
#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    tag = "service",
    responses(
        (status = 200, description = "This document.", content_type = "application/json", body = Object),
    ),
)]
pub async fn openapi_json() -> impl IntoResponse {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    (
        [(header::CONTENT_TYPE, "application/json")],
        DOCUMENT.get_or_init(document).as_str(),
    )
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Parley",
        version = env!("CARGO_PKG_VERSION"),
        description = "A deconfliction and risk-reduction line for parties who must stay out of each other's way without trusting each other. Parties declare where and when they will operate; Parley finds every conflict exactly and at once.\n\nEvery route but `/v1/health` and `/v1/openapi.json` needs `Authorization: Bearer <token>`; each token is rate-limited. Every POST accepts an `Idempotency-Key` header: a retry with the same key and request returns the first answer (`Idempotency-Replayed: true`) and creates nothing. A success answer means the write is committed and synced. Errors are RFC 9457 `application/problem+json` with a stable `type` (`urn:parley:problem:<kind>`) and, for bad input, a JSON pointer to the field. Anything a party may not see answers 404.",
    ),
    // Every other operation comes from `routes::api`; a tile's route is a
    // wildcard there (`{*path}`), written here as the parameter it is.
    paths(crate::tiles::tlog_tile),
    components(
        schemas(
            Problem, ProblemError, Volume, Role, LineState, Priority, MessageKind, Category,
            SiteKind, CreateParty, CreateOperator, RegisterKey, CreateLine, LineRules, LineStatus, Message,
            Notice, Amendment, Cancellation, Acknowledgment, Coordination, Site,
            Outcome, TalkParticipant, AgendaItem, TalkFollowUp, TalkRecord, TalkConfirmation,
            FollowUpClosure,
        ),
        responses(
            InvalidJson, Unauthorized, Forbidden, NotFound, Conflict, InvalidInput, RateLimited,
            TooManyStreams, Unavailable,
        ),
    ),
    tags(
        (name = "service", description = "Liveness, identity and this document."),
        (name = "parties", description = "Parties and their operators (`observer`, `officer`, `admin`). Tokens are shown once and stored only as hashes; revocation takes effect at once."),
        (name = "lines", description = "Lines between two or more parties, their rules and their political status."),
        (name = "messages", description = "Free text, requests with a deadline and replies on a line: ordered by a line sequence, never edited (a correction references the message it corrects)."),
        (name = "activities", description = "Activity notices, their versions and acknowledgments."),
        (name = "conflicts", description = "Conflicts between two activities on one line, or an activity and a site the line shares; told only to the line's parties who see both sides."),
        (name = "sites", description = "Protected sites (static or movement) with an expiry, shared with chosen parties or lines."),
        (name = "events", description = "The operator's live stream."),
        (name = "talks", description = "The register of talks between parties: the record of each talk (agenda, each party's position, outcomes, follow-ups), each party's version of it, confirmation by every party, follow-ups tracked to closure as deadlines, and for each pair of parties the time since their last talk. Visible only to the parties of the talk."),
        (name = "record", description = "The tamper-evident record: every journal entry is a leaf of an RFC 9162 Merkle tree; checkpoints are signed (C2SP signed note, Ed25519); receipts prove offline what a party was told and when."),
    ),
)]
struct ApiDoc;

/// What applies to many operations alike, said once here rather than on every
/// handler: the bearer scheme; on every operation behind a token, 401 and 429;
/// on every POST the `Idempotency-Key` header, the `Idempotency-Replayed`
/// answer header, 400 for a body that is not JSON, 413 past the body limit,
/// 422 for a field at fault and 503 when the store fails; 422 wherever path
/// or query parameters are, and 404 wherever a path names a thing.
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("pt_<64 hex digits>")
                    .description(Some(
                        "An operator token, shown once when the operator is created.",
                    ))
                    .build(),
            ),
        );
        for item in openapi.paths.paths.values_mut() {
            if let Some(post) = item.post.as_mut() {
                idempotent_write(post);
                common_response(post, "400", "InvalidJson");
                common_response(post, "422", "InvalidInput");
                common_response(post, "503", "Unavailable");
            }
            for operation in [item.get.as_mut(), item.post.as_mut()]
                .into_iter()
                .flatten()
            {
                // Every operation behind a token: the token, and its rate.
                if operation.security.is_some() {
                    common_response(operation, "401", "Unauthorized");
                    common_response(operation, "429", "RateLimited");
                }
                // Path and query parameters that do not parse are refused as
                // invalid input naming the parameter (`crate::rejection`).
                let parameters = operation.parameters.as_ref().is_some_and(|ps| {
                    ps.iter()
                        .any(|p| matches!(p, RefOr::T(p) if matches!(p.parameter_in, ParameterIn::Path | ParameterIn::Query)))
                });
                if parameters {
                    common_response(operation, "422", "InvalidInput");
                }
                // A path names a thing: one that does not exist, or that this
                // party may not see, is not found.
                let names_a_thing = operation.parameters.as_ref().is_some_and(|ps| {
                    ps.iter().any(
                        |p| matches!(p, RefOr::T(p) if matches!(p.parameter_in, ParameterIn::Path)),
                    )
                });
                if names_a_thing {
                    common_response(operation, "404", "NotFound");
                }
            }
        }
    }
}

/// Adds the shared response `name` for `status` where the operation lists none.
fn common_response(operation: &mut Operation, status: &str, name: &str) {
    operation
        .responses
        .responses
        .entry(status.to_string())
        .or_insert_with(|| Ref::from_response_name(name).into());
}

fn idempotent_write(operation: &mut Operation) {
    let key = Parameter::builder()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "1 to 200 visible ASCII characters. A retry with the same key and request returns the first answer and creates nothing; the same key with a different request answers 422.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(200)),
        ))
        .build();
    operation
        .parameters
        .get_or_insert_with(Vec::new)
        .push(key.into());
    for (status, response) in operation.responses.responses.iter_mut() {
        if let (true, RefOr::T(response)) = (status.starts_with('2'), response) {
            response.headers.insert(
                "Idempotency-Replayed".into(),
                HeaderBuilder::new()
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .enum_values(Some(["true"])),
                    ))
                    .description(Some(
                        "`true` when this is the stored answer to an earlier request with the same Idempotency-Key.",
                    ))
                    .build()
                    .into(),
            );
        }
    }
    operation.responses.responses.insert(
        "413".into(),
        problem("`too-large`: the body is larger than 1 MiB (1,048,576 bytes).").into(),
    );
}

// ---------------------------------------------------------------------------
// Errors.

/// An RFC 9457 problem: every error the API answers, as `application/problem+json`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Problem {
    /// `urn:parley:problem:<kind>`; the kinds are stable: `invalid-json`,
    /// `invalid-input`, `unauthorized`, `forbidden`, `not-found`, `conflict`,
    /// `rate-limited`, `unavailable`.
    #[schema(rename = "type", example = "urn:parley:problem:invalid-input")]
    kind: String,
    /// The HTTP status's reason phrase.
    #[schema(example = "Unprocessable Entity")]
    title: String,
    /// The HTTP status.
    #[schema(example = 422)]
    status: u16,
    /// What happened and what to fix; for bad input it starts with the pointer.
    #[schema(example = "/volumes/0/time_end: the window is empty; give an end after the start")]
    detail: String,
    /// For bad input: the field at fault.
    #[schema(required = false)]
    errors: Vec<ProblemError>,
}

/// The field at fault.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ProblemError {
    /// JSON pointer into the request body (`""`: the request as a whole).
    #[schema(example = "/volumes/0/time_end")]
    pointer: String,
    /// What to fix.
    detail: String,
}

fn problem(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

macro_rules! problem_responses {
    ($($name:ident: $description:literal;)*) => {
        $(
            #[doc = $description]
            pub struct $name;

            impl<'r> ToResponse<'r> for $name {
                fn response() -> (&'r str, RefOr<Response>) {
                    (stringify!($name), problem($description).into())
                }
            }
        )*
    };
}

problem_responses! {
    InvalidJson: "`invalid-json`: the body is not valid JSON.";
    Unauthorized: "`unauthorized`: no token, or a token that is unknown or revoked.";
    Forbidden: "`forbidden`: the operator's role or party may not do this.";
    NotFound: "`not-found`: no such thing, or nothing this party may see.";
    Conflict: "`conflict`: the request contradicts the current state (exists already, stale version, wrong read-back, done already).";
    InvalidInput: "`invalid-input`: a field is missing or wrong; `errors[0].pointer` names it.";
    RateLimited: "`rate-limited`: too many requests for this token, or for its party (all its operators together); slow down and retry.";
    TooManyStreams: "`too-many-streams` (or `rate-limited`): this operator has as many live streams open as it may, or sent too many requests; close one, or slow down, and retry.";
    Unavailable: "`unavailable`: storage failed (the write was not made, or its answer was lost: a retry with the same Idempotency-Key is safe; the node reads its journal again and goes on) or the writer stopped on an internal error (every request is refused until a restart).";
}

// ---------------------------------------------------------------------------
// Request bodies.

/// A 4D volume: an ASTM F3548 `Volume4D` (`volume` with `outline_polygon` or
/// `outline_circle`, `altitude_lower`, `altitude_upper`; `time_start`, `time_end`),
/// or a GeoJSON Feature (a `Polygon` with one closed ring of `[lng, lat]`, or a
/// `Point` with a `radius_m` property; properties `altitude_lower_m`,
/// `altitude_upper_m`, `time_start`, `time_end`). Polygon edges are geodesics on
/// WGS84; altitudes are metres above the WGS84 ellipsoid; the window is `[start, end)`.
pub struct Volume;

impl PartialSchema for Volume {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "A 4D volume: an ASTM F3548 `Volume4D` (`volume` with `outline_polygon` or `outline_circle`, `altitude_lower`, `altitude_upper`; `time_start`, `time_end`), or a GeoJSON Feature (a `Polygon` with one closed ring of `[lng, lat]`, or a `Point` with a `radius_m` property; properties `altitude_lower_m`, `altitude_upper_m`, `time_start`, `time_end`). Polygon edges are geodesics on WGS84; altitudes are metres above the WGS84 ellipsoid; the window is `[start, end)`.",
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
}

/// A public key of the party, to register (its admins only).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct RegisterKey {
    /// A verifier key line `name+id+base64`, as `parley keys generate` prints
    /// it, named after the party (`<party>` or `<party>/<label>`).
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
    /// 1 to 100 volumes.
    #[schema(min_items = 1, max_items = 100)]
    volumes: Vec<Volume>,
    /// `true`: only report the conflicts; nothing is recorded.
    #[schema(default = false)]
    dry_run: Option<bool>,
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
