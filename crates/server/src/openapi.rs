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

mod bodies;
mod receipt;
mod signed;

pub use bodies::*;

use axum::http::header;
use axum::response::IntoResponse;
use std::sync::OnceLock;
use utoipa::openapi::path::{Operation, Parameter, ParameterIn};
use utoipa::openapi::response::Response;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, Ref, RefOr, Required, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToResponse, ToSchema};

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
        (status = 200, description = "This document.", content_type = "application/json", body = crate::wire::OpenApiDocument),
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
            SiteKind, CreateParty, CreateOperator, RegisterKey, RevokeKey, CreateLine, LineRules, LineStatus, Message,
            Notice, Amendment, Cancellation, Acknowledgment, Coordination, Site,
            Outcome, TalkParticipant, AgendaItem, TalkFollowUp, TalkRecord, TalkConfirmation,
            FollowUpClosure, crate::wire::Receipt,
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
        for (path, item) in openapi.paths.paths.iter_mut() {
            if let Some(post) = item.post.as_mut() {
                idempotent_write(post);
                signed::document(path, post);
                receipt::add_receipt(post);
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
    Unavailable: "`unavailable`: storage failed (the write was not made, or its answer was lost: a retry with the same Idempotency-Key is safe; the node reads its journal again and goes on) or the writer stopped on an internal error (every request is refused until a restart); or `store-full`: the store has no room left (the write was not made; reads go on, and writes resume by themselves once space is freed: retry with the same Idempotency-Key).";
}
