//! Every route of the API, and the handlers: each turns a request into one
//! service call and its outcome into a response.
//!
//! Kept whole for now, at about 1,500 lines (most of them `#[utoipa::path]`
//! attributes): splitting it by domain concept, with typed wire views in place
//! of `body = Object`, is issue 19, and is best done in one move rather than
//! piece by piece under other changes.

use crate::auth::{new_token, Auth};
use crate::body::Body;
use crate::events::events;
use crate::openapi::{
    openapi_json, Acknowledgment, Amendment, Cancellation, Conflict, Coordination, CreateLine,
    CreateOperator, CreateParty, Forbidden, InvalidInput, InvalidJson, LineStatus, Message,
    NotFound, Notice, RateLimited, Site, Unauthorized, Unavailable,
};
use crate::openapi::{FollowUpClosure, TalkConfirmation, TalkRecord};
use crate::problem::Problem;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::StreamExt;
use parley_service::{
    sha256_hex, Actor, Category, Command, Idempotency, LineRules, Priority, Role, Signed,
};
use serde::Deserialize;
use serde_json::{json, Value};

/// Largest request body accepted, bytes.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// The API's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        // The web console's static files: not part of the API, so not in the
        // OpenAPI document.
        .merge(crate::console::routes())
        .route("/v1/health", get(health))
        .route("/v1/openapi.json", get(openapi_json))
        .route("/v1/me", get(me))
        .route("/v1/parties", post(create_party).get(list_parties))
        .route(
            "/v1/parties/{party}/operators",
            post(create_operator).get(list_operators),
        )
        .route("/v1/operators/{operator}/revoke", post(revoke_operator))
        .route(
            "/v1/parties/{party}/keys",
            post(register_key).get(list_keys),
        )
        .route("/v1/lines", post(create_line).get(list_lines))
        .route("/v1/lines/{line}", get(show_line))
        .route("/v1/lines/{line}/status", post(set_line_status))
        .route(
            "/v1/lines/{line}/messages",
            post(send_message).get(list_messages),
        )
        .route("/v1/lines/{line}/notices", post(notify))
        .route("/v1/activities", get(list_activities))
        .route("/v1/activities/{activity}", get(show_activity))
        .route("/v1/activities/{activity}/amendments", post(amend))
        .route("/v1/activities/{activity}/cancellation", post(cancel))
        .route(
            "/v1/activities/{activity}/acknowledgments",
            post(acknowledge),
        )
        .route("/v1/deadlines", get(list_deadlines))
        .route("/v1/record/checkpoint", get(record_checkpoint))
        .route(
            "/v1/record/checkpoint/witnessed",
            post(crate::witnessing::witnessed_checkpoint),
        )
        .route("/v1/record/consistency", get(record_consistency))
        .route(
            "/v1/record/tlog/checkpoint",
            get(crate::tiles::tlog_checkpoint),
        )
        .route("/v1/record/tlog/tile/{*path}", get(crate::tiles::tlog_tile))
        .route("/v1/record/export", get(record_export))
        .route("/v1/record/entries/{seq}/receipt", get(record_receipt))
        .route("/v1/line-checks/{check}/answer", post(answer_line_check))
        .route("/v1/conflicts", get(list_conflicts))
        .route("/v1/conflicts/{conflict}/coordination", post(coordinate))
        .route("/v1/sites", post(register_site).get(list_sites))
        .route("/v1/sites/{site}/withdrawal", post(withdraw_site))
        .route("/v1/talks", post(record_talk).get(list_talks))
        .route("/v1/talks/relations", get(talk_relations))
        .route("/v1/talks/{talk}", get(show_talk))
        .route("/v1/talks/{talk}/versions", post(talk_version))
        .route("/v1/talks/{talk}/confirmation", post(confirm_talk))
        .route(
            "/v1/talks/{talk}/follow-ups/{follow_up}/closure",
            post(close_follow_up),
        )
        .route("/v1/events", get(events))
        .fallback(|| async {
            Problem::new(
                StatusCode::NOT_FOUND,
                "not-found",
                "no such route; the API is under /v1, the console at /",
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            refuse_when_stopped,
        ))
        .with_state(state)
}

/// Every request, reads and health included, is refused once the writer has
/// stopped on a panic: what memory holds may be ahead of the journal.
async fn refuse_when_stopped(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if state.service.has_stopped() {
        return Problem::unavailable("the service's writer stopped on an internal error; restart the server, which rebuilds its state from the journal")
        .into_response();
    }
    next.run(request).await
}

type Answer = Result<Response, Problem>;

/// Submits a command and answers once it is durable; honours `Idempotency-Key`.
async fn write(
    state: &AppState,
    actor: Actor,
    command: Command,
    request: (&Method, &Uri, &HeaderMap, &[u8]),
) -> Answer {
    let (method, uri, headers, body) = request;
    let idempotency = match headers.get("idempotency-key") {
        None => None,
        Some(v) => {
            let key = v
                .to_str()
                .ok()
                .filter(|k| !k.is_empty() && k.len() <= 200)
                .ok_or_else(|| {
                    Problem::invalid(
                        "",
                        "Idempotency-Key must be 1 to 200 visible ASCII characters",
                    )
                })?;
            let mut request = format!("{method} {}\n", uri.path()).into_bytes();
            request.extend_from_slice(body);
            Some(Idempotency {
                key: key.to_string(),
                request_sha256: sha256_hex(&request),
            })
        }
    };
    let signed = match headers.get("parley-signature") {
        None => None,
        Some(v) => {
            let signature = v.to_str().ok().filter(|s| s.len() <= 400).ok_or_else(|| {
                Problem::invalid(
                    "",
                    "Parley-Signature must be `<key name> <base64>` in visible ASCII",
                )
            })?;
            let key = idempotency.as_ref().map(|i| i.key.clone()).ok_or_else(|| {
                Problem::invalid(
                    "",
                    "a signed request needs an Idempotency-Key (it is part of what is signed)",
                )
            })?;
            Some(Signed {
                statement: format!(
                    "parley-request/v1\n{method} {}\n{key}\n{}\n",
                    uri.path(),
                    sha256_hex(body)
                ),
                signature: signature.to_string(),
            })
        }
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    state.service.submit_signed(
        actor,
        command,
        idempotency,
        signed,
        Box::new(move |r| drop(tx.send(r))),
    );
    let answer = rx
        .await
        .map_err(|_| Problem::unavailable("the writer stopped"))??;
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = (status, Json(answer.body)).into_response();
    if answer.replayed {
        response
            .headers_mut()
            .insert("idempotency-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

macro_rules! request {
    ($method:ident, $uri:ident, $headers:ident, $raw:ident) => {
        (&$method, &$uri, &$headers, &$raw[..])
    };
}

/// Liveness: `ok` or not, and nothing else. Needs no token, so it says
/// nothing a rival could count (the record's size is in the checkpoint, for
/// operators).
#[utoipa::path(
    get,
    path = "/v1/health",
    tag = "service",
    responses(
        (status = 200, description = "The service takes writes: `{\"status\": \"ok\"}`.", body = Object),
        (status = 503, response = Unavailable),
    ),
)]
async fn health(State(state): State<AppState>) -> Response {
    if state.service.is_broken() {
        return Problem::unavailable(
            "the service takes no writes now; it is reading its journal again",
        )
        .into_response();
    }
    Json(json!({"status": "ok"})).into_response()
}

/// Who am I: the token's operator, party and role.
#[utoipa::path(
    get,
    path = "/v1/me",
    tag = "service",
    responses(
        (status = 200, description = "`{operator, party, role}`.", body = Object),
        (status = 401, response = Unauthorized),
        (status = 429, response = RateLimited),
    ),
    security(("bearer" = [])),
)]
async fn me(Auth(actor): Auth) -> Json<Value> {
    Json(json!({"operator": actor.operator, "party": actor.party, "role": actor.role}))
}

/// Registers a party (host admins only).
#[utoipa::path(
    post,
    path = "/v1/parties",
    tag = "parties",
    request_body = CreateParty,
    responses(
        (status = 201, description = "The party: `{id, name}`.", body = Object),
        (status = 400, response = InvalidJson),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
        (status = 422, response = InvalidInput),
        (status = 429, response = RateLimited),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = [])),
)]
async fn create_party(
    State(s): State<AppState>,
    Auth(a): Auth,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Bytes,
) -> Answer {
    let b = Body::parse(raw.clone())?;
    let command = Command::CreateParty {
        party: b.string("id")?,
        name: b.string("name")?,
    };
    write(&s, a, command, request!(method, uri, headers, raw)).await
}

/// The parties this operator may see.
#[utoipa::path(
    get,
    path = "/v1/parties",
    tag = "parties",
    responses(
        (status = 200, description = "`{parties: [...]}`.", body = Object),
        (status = 401, response = Unauthorized),
        (status = 429, response = RateLimited),
    ),
    security(("bearer" = [])),
)]
async fn list_parties(State(s): State<AppState>, Auth(a): Auth) -> Json<Value> {
    Json(json!({"parties": s.service.read(|st| st.parties(&a))}))
}

/// Adds an operator to a party (an admin of the party or of the host).
///
/// The answer carries the operator's bearer token, shown once, here; only its hash is kept.
#[utoipa::path(
    post,
    path = "/v1/parties/{party}/operators",
    tag = "parties",
    params(
        ("party" = String, Path, description = "The party's id."),
    ),
    request_body = CreateOperator,
    responses(
        (status = 201, description = "The operator: `{id, party, name, role, token}`; `token` is absent from a replayed answer.", body = Object),
        (status = 400, response = InvalidJson),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = InvalidInput),
        (status = 429, response = RateLimited),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = [])),
)]
async fn create_operator(
    State(s): State<AppState>,
    Auth(a): Auth,
    Path(party): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Bytes,
) -> Answer {
    let b = Body::parse(raw.clone())?;
    let role = b.string("role")?;
    let role = Role::parse(&role)
        .ok_or_else(|| Problem::invalid("/role", "give \"observer\", \"officer\" or \"admin\""))?;
    let token = new_token();
    let command = Command::CreateOperator {
        party,
        name: b.string("name")?,
        role,
        token_sha256: sha256_hex(token.as_bytes()),
    };
    let mut response = write(&s, a, command, request!(method, uri, headers, raw)).await?;
    if response.headers().get("idempotency-replayed").is_none()
        && response.status() == StatusCode::CREATED
    {
        // The token is shown once, here; only its hash is kept (also in idempotency records).
        let body = axum::body::to_bytes(std::mem::take(response.body_mut()), MAX_BODY_BYTES)
            .await
            .unwrap_or_default();
        let mut v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        v["token"] = json!(token);
        return Ok((StatusCode::CREATED, Json(v)).into_response());
    }
    Ok(response)
}

/// A party's operators.
#[utoipa::path(
    get,
    path = "/v1/parties/{party}/operators",
    tag = "parties",
    params(
        ("party" = String, Path, description = "The party's id."),
    ),
    responses(
        (status = 200, description = "`{operators: [...]}`.", body = Object),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 429, response = RateLimited),
    ),
    security(("bearer" = [])),
)]
async fn list_operators(
    State(s): State<AppState>,
    Auth(a): Auth,
    Path(party): Path<String>,
) -> Answer {
    let ops = s.service.read(|st| st.operators(&a, &party))?;
    Ok(Json(json!({"operators": ops})).into_response())
}

/// Revokes an operator's token (an admin); takes effect at once, also for open event streams.
#[utoipa::path(
    post,
    path = "/v1/operators/{operator}/revoke",
    tag = "parties",
    params(
        ("operator" = String, Path, description = "The operator's id (`op-<n>`)."),
    ),
    responses(
        (status = 200, description = "`{id, revoked: true}`.", body = Object),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = InvalidInput),
        (status = 429, response = RateLimited),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = [])),
)]
async fn revoke_operator(
    State(s): State<AppState>,
    Auth(a): Auth,
    Path(operator): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Bytes,
) -> Answer {
    write(
        &s,
        a,
        Command::RevokeOperator { operator },
        request!(method, uri, headers, raw),
    )
    .await
}

/// Registers a public key of a party (its admins): requests signed with it
/// (`Parley-Signature`) are the party's word, kept in the record.
///
/// `key` is a verifier key line `name+id+base64` (as `parley keys generate`
/// prints) named after the party (`<party>` or `<party>/<label>`).
#[utoipa::path(
    post,
    path = "/v1/parties/{party}/keys",
    tag = "parties",
    params(
        ("party" = String, Path, description = "The party's id."),
    ),
    responses(
        (status = 201, description = "`{party, key}`.", body = Object),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = InvalidInput),
        (status = 429, response = RateLimited),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = [])),
)]
async fn register_key(
    State(s): State<AppState>,
    Auth(a): Auth,
    Path(party): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Bytes,
) -> Answer {
    let b = Body::parse(raw.clone())?;
    let command = Command::RegisterKey {
        party,
        key: b.string("key")?,
    };
    write(&s, a, command, request!(method, uri, headers, raw)).await
}

/// A party's registered public keys (public: anyone may check a signature).
#[utoipa::path(
    get,
    path = "/v1/parties/{party}/keys",
    tag = "parties",
    params(
        ("party" = String, Path, description = "The party's id."),
    ),
    responses(
        (status = 200, description = "`{party, keys: [verifier key lines]}`.", body = Object),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 429, response = RateLimited),
    ),
    security(("bearer" = [])),
)]
async fn list_keys(State(s): State<AppState>, Auth(_): Auth, Path(party): Path<String>) -> Answer {
    let keys = s.service.read(|st| st.party_keys(&party))?;
    Ok(Json(json!({"party": party, "keys": keys})).into_response())
}

/// Opens a line between two or more parties, with its rules (host admins only).
#[utoipa::path(
    post,
    path = "/v1/lines",
    tag = "lines",
    request_body = CreateLine,
    responses(
        (status = 201, description = "The line: `{id, name, parties, rules, status}`.", body = Object),
        (status = 400, response = InvalidJson),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
        (status = 422, response = InvalidInput),
        (status = 429, response = RateLimited),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = [])),
)]
async fn create_line(
    State(s): State<AppState>,
    Auth(a): Auth,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Bytes,
) -> Answer {
    let b = Body::parse(raw.clone())?;
    let rules: LineRules = match b.fields.get("rules") {
        None => LineRules::default(),
        Some(r) => {
            let mut merged = serde_json::to_value(LineRules::default()).expect("rules serialize");
            let Some(given) = r.as_object() else {
                return Err(Problem::invalid("/rules", "expected an object"));
            };
            for (k, v) in given {
                if merged.get(k).is_none() {
                    return Err(Problem::invalid(
                        &format!("/rules/{k}"),
                        "unknown rule; see the API documentation",
                    ));
                }
                merged[k] = v.clone();
            }
            serde_json::from_value(merged)
                .map_err(|e| Problem::invalid("/rules", format!("{e}")))?
        }
    };
    let command = Command::CreateLine {
        line: b.string("id")?,
        name: b.string("name")?,
        parties: b.strings("parties")?,
        rules,
    };
    write(&s, a, command, request!(method, uri, headers, raw)).await
}

/// The lines this operator's party is on.
#[utoipa::path(
    get,
    path = "/v1/lines",
    tag = "lines",
    responses(
        (status = 200, description = "`{lines: [...]}`.", body = Object),
        (status = 401, response = Unauthorized),
        (status = 429, response = RateLimited),
    ),
    security(("bearer" = [])),
)]
async fn list_lines(State(s): State<AppState>, Auth(a): Auth) -> Json<Value> {
    let now = s.service.now();
    Json(json!({"lines": s.service.read(|st| st.lines(&a, now))}))
}

/// One line: its parties, rules, political status, operation status from line
/// checks (`operation`: `in_operation`, `degraded`, `silent` or `unchecked`, with
/// each party's last check, round-trip time and misses in the last 24 hours) and
/// open deadlines.
#[utoipa::path(
    get,
    path = "/v1/lines/{line}",
    tag = "lines",
    params(
        ("line" = String, Path, description = "The line's id."),
    ),
    responses(
        (status = 200, description = "The line.", body = Object),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 429, response = RateLimited),
    ),
    security(("bearer" = [])),
)]
async fn show_line(State(s): State<AppState>, Auth(a): Auth, Path(line): Path<String>) -> Answer {
    let now = s.service.now();
    Ok(Json(s.service.read(|st| st.line(&a, &line, now))?).into_response())
}

/// Sets a line's political status (host admins only); a suspended line keeps working.
#[utoipa::path(
    post,
    path = "/v1/lines/{line}/status",
    tag = "lines",
    params(
        ("line" = String, Path, description = "The line's id."),
    ),
    request_body = LineStatus,
    responses(
        (status = 200, description = "`{id, status}`.", body = Object),
        (status = 400, response = InvalidJson),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = InvalidInput),
        (status = 429, response = RateLimited),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = [])),
)]
async fn set_line_status(
    State(s): State<AppState>,
    Auth(a): Auth,
    Path(line): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Bytes,
) -> Answer {
    let b = Body::parse(raw.clone())?;
    let suspended = match b.string("status")?.as_str() {
        "suspended" => true,
        "active" => false,
        _ => {
            return Err(Problem::invalid(
                "/status",
                "give \"suspended\" or \"active\"",
            ))
        }
    };
    write(
        &s,
        a,
        Command::SetLineStatus { line, suspended },
        request!(method, uri, headers, raw),
    )
    .await
}

/// Sends a message on a line: free text, a request with a deadline, or a reply.
///
/// Messages are ordered by the line's sequence and never edited: a correction references the message it corrects.
#[utoipa::path(
    post,
    path = "/v1/lines/{line}/messages",
    tag = "messages",
    params(
        ("line" = String, Path, description = "The line's id."),
    ),
    request_body = Message,
    responses(
        (status = 201, description = "The message with its line sequence number.", body = Object),
        (status = 400, response = InvalidJson),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = InvalidInput),
        (status = 429, response = RateLimited),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = [])),
)]
async fn send_message(
    State(s): State<AppState>,
    Auth(a): Auth,
    Path(line): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Bytes,
) -> Answer {
    let b = Body::parse(raw.clone())?;
    let command = Command::SendMessage {
        line,
        message: b
            .optional_string("message")?
            .unwrap_or_else(|| "text".into()),
        priority: b
            .parsed::<Priority>("priority", "\"routine\", \"urgent\" or \"flash\"")?
            .unwrap_or(Priority::Routine),
        text: b.string("text")?,
        deadline: b.optional_string("deadline")?,
        references: b.optional_u64("references")?,
    };
    write(&s, a, command, request!(method, uri, headers, raw)).await
}

#[derive(Deserialize)]
struct After {
    after: Option<u64>,
    limit: Option<usize>,
    line: Option<String>,
}

/// A line's messages in line order.
#[utoipa::path(
    get,
    path = "/v1/lines/{line}/messages",
    tag = "messages",
    params(
        ("line" = String, Path, description = "The line's id."),
        ("after" = Option<u64>, Query, description = "Only messages after this line sequence number; default 0."),
        ("limit" = Option<usize>, Query, description = "At most this many messages; default 500, at most 5000."),
    ),
    responses(
        (status = 200, description = "`{messages: [...]}`.", body = Object),
        (status = 400, description = "A query parameter is not a whole number.", content_type = "text/plain", body = String),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 429, response = RateLimited),
    ),
    security(("bearer" = [])),
)]
async fn list_messages(
    State(s): State<AppState>,
    Auth(a): Auth,
    Path(line): Path<String>,
    Query(q): Query<After>,
) -> Answer {
    let limit = q.limit.unwrap_or(500).min(5_000);
    let messages = s
        .service
        .read(|st| st.messages(&a, &line, q.after.unwrap_or(0), limit))?;
    Ok(Json(json!({"messages": messages})).into_response())
}

const CATEGORIES: &str = "\"air\", \"maritime\", \"ground\", \"launch\" or \"movement\"";

/// Notifies an activity on a line: where and when the party will operate.
///
/// The answer lists every conflict with the activities and sites the party's notice meets, and the `content_sha256` the other parties read back. With `"dry_run": true` it only reports the conflicts.
#[utoipa::path(
    post,
    path = "/v1/lines/{line}/notices",
    tag = "activities",
    params(
        ("line" = String, Path, description = "The line's id."),
    ),
    request_body = Notice,
    responses(
        (status = 201, description = "The activity, version 1: `{activity, version, content_sha256, late, dry_run, conflicts}`; the content reads back with GET /v1/activities/{activity}.", body = Object),
        (status = 200, description = "A dry run: the same answer; nothing was recorded.", body = Object),
        (status = 400, response = InvalidJson),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = InvalidInput),
        (status = 429, response = RateLimited),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = [])),
)]
async fn notify(
    State(s): State<AppState>,
    Auth(a): Auth,
    Path(line): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Bytes,
) -> Answer {
    let b = Body::parse(raw.clone())?;
    let category = b
        .parsed::<Category>("category", CATEGORIES)?
        .ok_or_else(|| Problem::invalid("/category", format!("missing; give {CATEGORIES}")))?;
    let command = Command::Notify {
        line,
        category,
        point_of_contact: b.string("point_of_contact")?,
        volumes: crate::body::volumes(b.array("volumes")?, s.service.limits()).await?,
        dry_run: b.bool("dry_run")?,
    };
    write(&s, a, command, request!(method, uri, headers, raw)).await
}

/// The activities this operator's party may see, with every version and acknowledgment.
#[utoipa::path(
    get,
    path = "/v1/activities",
    tag = "activities",
    params(
        ("line" = Option<String>, Query, description = "Only the activities of this line."),
    ),
    responses(
        (status = 200, description = "`{activities: [...]}`.", body = Object),
        (status = 400, description = "A query parameter is not a whole number.", content_type = "text/plain", body = String),
        (status = 401, response = Unauthorized),
        (status = 429, response = RateLimited),
    ),
    security(("bearer" = [])),
)]
async fn list_activities(
    State(s): State<AppState>,
    Auth(a): Auth,
    Query(q): Query<After>,
) -> Json<Value> {
    Json(json!({"activities": s.service.read(|st| st.activities(&a, q.line.as_deref()))}))
}

/// One activity with every version and acknowledgment.
#[utoipa::path(
    get,
    path = "/v1/activities/{activity}",
    tag = "activities",
    params(
        ("activity" = String, Path, description = "The activity's id (`act-` and 16 hex digits)."),
    ),
    responses(
        (status = 200, description = "The activity.", body = Object),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 429, response = RateLimited),
    ),
    security(("bearer" = [])),
)]
async fn show_activity(
    State(s): State<AppState>,
    Auth(a): Auth,
    Path(activity): Path<String>,
) -> Answer {
    Ok(Json(s.service.read(|st| st.activity(&a, &activity))?).into_response())
}

/// Amends an activity: a new version (an officer of the notifying party).
///
/// `replaces_version` must be the current version, else 409. The answer lists the conflicts of the new version; the old version's conflicts are resolved.
#[utoipa::path(
    post,
    path = "/v1/activities/{activity}/amendments",
    tag = "activities",
    params(
        ("activity" = String, Path, description = "The activity's id (`act-` and 16 hex digits)."),
    ),
    request_body = Amendment,
    responses(
        (status = 200, description = "The new version: `{activity, version, content_sha256, late, dry_run, conflicts}`; the content reads back with GET /v1/activities/{activity} (also for a dry run).", body = Object),
        (status = 400, response = InvalidJson),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = InvalidInput),
        (status = 429, response = RateLimited),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = [])),
)]
async fn amend(
    State(s): State<AppState>,
    Auth(a): Auth,
    Path(activity): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Bytes,
) -> Answer {
    let b = Body::parse(raw.clone())?;
    let command = Command::Amend {
        activity,
        replaces_version: b.u64("replaces_version")?,
        category: b.parsed::<Category>("category", CATEGORIES)?,
        point_of_contact: b.optional_string("point_of_contact")?,
        volumes: crate::body::volumes(b.array("volumes")?, s.service.limits()).await?,
        dry_run: b.bool("dry_run")?,
    };
    write(&s, a, command, request!(method, uri, headers, raw)).await
}

/// Cancels an activity: a last version (an officer of the notifying party).
///
/// `replaces_version` must be the current version, else 409. The activity's open conflicts are resolved.
#[utoipa::path(
    post,
    path = "/v1/activities/{activity}/cancellation",
    tag = "activities",
    params(
        ("activity" = String, Path, description = "The activity's id (`act-` and 16 hex digits)."),
    ),
    request_body = Cancellation,
    responses(
        (status = 200, description = "`{activity, version, state: \"cancelled\", content_sha256, content}`.", body = Object),
        (status = 400, response = InvalidJson),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = InvalidInput),
        (status = 429, response = RateLimited),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = [])),
)]
async fn cancel(
    State(s): State<AppState>,
    Auth(a): Auth,
    Path(activity): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Bytes,
) -> Answer {
    let b = Body::parse(raw.clone())?;
    let command = Command::Cancel {
        activity,
        replaces_version: b.u64("replaces_version")?,
    };
    write(&s, a, command, request!(method, uri, headers, raw)).await
}

/// Acknowledges a notice: the read-back of exactly one version. It means *received*, never *approved*.
///
/// Only the other parties of the line acknowledge, and only the latest version (else 409).
#[utoipa::path(
    post,
    path = "/v1/activities/{activity}/acknowledgments",
    tag = "activities",
    params(
        ("activity" = String, Path, description = "The activity's id (`act-` and 16 hex digits)."),
    ),
    request_body = Acknowledgment,
    responses(
        (status = 201, description = "`{activity, version, received_by, content_sha256, meaning}`.", body = Object),
        (status = 400, response = InvalidJson),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = InvalidInput),
        (status = 429, response = RateLimited),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = [])),
)]
async fn acknowledge(
    State(s): State<AppState>,
    Auth(a): Auth,
    Path(activity): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Bytes,
) -> Answer {
    let b = Body::parse(raw.clone())?;
    let command = Command::Acknowledge {
        activity,
        version: b.u64("version")?,
        content_sha256: b.string("content_sha256")?,
    };
    write(&s, a, command, request!(method, uri, headers, raw)).await
}

/// The conflicts this operator's party owns a side of.
#[utoipa::path(
    get,
    path = "/v1/conflicts",
    tag = "conflicts",
    responses(
        (status = 200, description = "`{conflicts: [...]}`.", body = Object),
        (status = 401, response = Unauthorized),
        (status = 429, response = RateLimited),
    ),
    security(("bearer" = [])),
)]
async fn list_conflicts(State(s): State<AppState>, Auth(a): Auth) -> Json<Value> {
    Json(json!({"conflicts": s.service.read(|st| st.conflicts(&a))}))
}

/// Open deadlines on this party's lines, earliest first: acknowledgments of
/// notices and replies to requests and flash messages still owed, with how far
/// their escalation has gone (`reminder`, `overdue`, `admins`).
#[utoipa::path(
    get,
    path = "/v1/deadlines",
    tag = "lines",
    responses(
        (status = 200, description = "`{deadlines: [...]}`.", body = Object),
        (status = 401, response = Unauthorized),
        (status = 429, response = RateLimited),
    ),
    security(("bearer" = [])),
)]
async fn list_deadlines(State(s): State<AppState>, Auth(a): Auth) -> Json<Value> {
    let now = s.service.now();
    Json(json!({"deadlines": s.service.read(|st| st.deadlines(&a, now))}))
}

/// Answers a line check sent to this operator's party (any role); the round-trip
/// time is recorded. After the check's `due` time it is missed: 409.
#[utoipa::path(
    post,
    path = "/v1/line-checks/{check}/answer",
    tag = "lines",
    params(
        ("check" = String, Path, description = "The check's id (`lc-` and 16 hex digits), from its `line_check_sent` event."),
    ),
    responses(
        (status = 200, description = "`{check, line, party, round_trip_ms}`.", body = Object),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = InvalidInput),
        (status = 429, response = RateLimited),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = [])),
)]
async fn answer_line_check(
    State(s): State<AppState>,
    Auth(a): Auth,
    Path(check): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Bytes,
) -> Answer {
    let command = Command::AnswerLineCheck { check };
    write(&s, a, command, request!(method, uri, headers, raw)).await
}

/// The record's latest signed checkpoint (C2SP signed note: origin, size, root,
/// `time` in µs) and the server's verifier key. Save checkpoints: two of the same
/// size with different roots prove a split view.
#[utoipa::path(
    get,
    path = "/v1/record/checkpoint",
    tag = "record",
    responses(
        (status = 200, description = "`{size, root, checkpoint, key}`.", body = Object),
        (status = 401, response = Unauthorized),
        (status = 429, response = RateLimited),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = [])),
)]
async fn record_checkpoint(State(s): State<AppState>, Auth(_): Auth) -> Answer {
    Ok(Json(s.service.checkpoint()?).into_response())
}

/// Sizes of two checkpoints to prove consistent.
#[derive(Deserialize)]
struct Sizes {
    from: u64,
    to: u64,
}

/// An RFC 9162 consistency proof: the tree of `to` entries extends the tree of
/// `from` entries, nothing changed, removed or reordered.
#[utoipa::path(
    get,
    path = "/v1/record/consistency",
    tag = "record",
    params(
        ("from" = u64, Query, description = "The older tree size."),
        ("to" = u64, Query, description = "The newer tree size."),
    ),
    responses(
        (status = 200, description = "`{from, to, from_root, to_root, proof: [hex]}`.", body = Object),
        (status = 401, response = Unauthorized),
        (status = 422, response = InvalidInput),
        (status = 429, response = RateLimited),
    ),
    security(("bearer" = [])),
)]
async fn record_consistency(
    State(s): State<AppState>,
    Auth(_): Auth,
    Query(q): Query<Sizes>,
) -> Answer {
    Ok(Json(s.service.read(|st| st.consistency(q.from, q.to))?).into_response())
}

/// Which line's record to export.
#[derive(Deserialize)]
struct ExportQuery {
    line: Option<String>,
}

/// This party's copy of the record, as JSON lines: first the signed checkpoint
/// and the key, then every entry in journal order, in full where the party may
/// see it (on `line`, if given) and as its leaf hash otherwise. `parley verify
/// export` rebuilds the root from it offline.
#[utoipa::path(
    get,
    path = "/v1/record/export",
    tag = "record",
    params(
        ("line" = Option<String>, Query, description = "Only this line's entries in full; the rest as hashes."),
    ),
    responses(
        (status = 200, description = "JSON lines (`application/x-ndjson`): `{size, line, checkpoint, key}`, then `{seq, leaf[, content]}` or `{seq, leaf_hash}` per entry.", content_type = "application/x-ndjson", body = String),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 429, response = RateLimited),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = [])),
)]
async fn record_export(
    State(s): State<AppState>,
    Auth(a): Auth,
    Query(q): Query<ExportQuery>,
) -> Answer {
    if let Some(line) = &q.line {
        s.service.read(|st| st.line(&a, line, 0))?;
    }
    let (head, size) = s.service.export_head(q.line.as_deref())?;
    // Streamed a slice at a time: the state is read for a moment per slice,
    // never for the whole record, and the export is never whole in memory.
    let slices = futures_util::stream::unfold(0u64, move |done| {
        let (service, actor, line) = (s.service.clone(), a.clone(), q.line.clone());
        async move {
            if done >= size {
                return None;
            }
            let upto = size.min(done + EXPORT_SLICE);
            let text = tokio::task::spawn_blocking(move || {
                service.read(|st| st.export(&actor, line.as_deref(), done, upto))
            })
            .await
            .map_err(std::io::Error::other);
            Some((text, upto))
        }
    });
    let body =
        futures_util::stream::once(async move { Ok::<_, std::io::Error>(head) }).chain(slices);
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/x-ndjson")],
        axum::body::Body::from_stream(body),
    )
        .into_response())
}

/// Entries an export reads from the state at a time.
const EXPORT_SLICE: u64 = 1_000;

/// A receipt ("proof of notice") for a journal entry this party may see: the
/// entry as a leaf, its inclusion proof and a signed checkpoint; `parley verify
/// receipt` checks it offline.
#[utoipa::path(
    get,
    path = "/v1/record/entries/{seq}/receipt",
    tag = "record",
    params(
        ("seq" = u64, Path, description = "The entry's journal position (an event's id)."),
    ),
    responses(
        (status = 200, description = "`{seq, leaf_index, tree_size, leaf, proof, checkpoint, key}`.", body = Object),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 429, response = RateLimited),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = [])),
)]
async fn record_receipt(State(s): State<AppState>, Auth(a): Auth, Path(seq): Path<u64>) -> Answer {
    Ok(Json(s.service.receipt(&a, seq)?).into_response())
}

/// Marks a conflict coordinated on this party's side; it is coordinated once both sides have.
#[utoipa::path(
    post,
    path = "/v1/conflicts/{conflict}/coordination",
    tag = "conflicts",
    params(
        ("conflict" = String, Path, description = "The conflict's id (`c-` and 16 hex digits)."),
    ),
    request_body = Coordination,
    responses(
        (status = 200, description = "`{conflict, state}`: `coordinated` once both sides have marked it, else `open`.", body = Object),
        (status = 400, response = InvalidJson),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = InvalidInput),
        (status = 429, response = RateLimited),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = [])),
)]
async fn coordinate(
    State(s): State<AppState>,
    Auth(a): Auth,
    Path(conflict): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Bytes,
) -> Answer {
    let b = Body::parse(raw.clone())?;
    write(
        &s,
        a,
        Command::Coordinate {
            conflict,
            note: b.string("note")?,
        },
        request!(method, uri, headers, raw),
    )
    .await
}

/// Registers a protected site (an officer of a party), shared with chosen parties or lines.
#[utoipa::path(
    post,
    path = "/v1/sites",
    tag = "sites",
    request_body = Site,
    responses(
        (status = 201, description = "The site with its `id`.", body = Object),
        (status = 400, response = InvalidJson),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, response = InvalidInput),
        (status = 429, response = RateLimited),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = [])),
)]
async fn register_site(
    State(s): State<AppState>,
    Auth(a): Auth,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Bytes,
) -> Answer {
    let b = Body::parse(raw.clone())?;
    let command = Command::RegisterSite {
        name: b.string("name")?,
        site_kind: b
            .optional_string("kind")?
            .unwrap_or_else(|| "static".into()),
        volumes: crate::body::volumes(b.array("volumes")?, s.service.limits()).await?,
        expires: b.string("expires")?,
        shared_with_parties: b.strings("shared_with_parties")?,
        shared_with_lines: b.strings("shared_with_lines")?,
    };
    write(&s, a, command, request!(method, uri, headers, raw)).await
}

/// Withdraws a protected site before its expiry (an officer of its owner): it
/// protects nothing from now on, and its open conflicts are resolved.
#[utoipa::path(
    post,
    path = "/v1/sites/{site}/withdrawal",
    tag = "sites",
    params(
        ("site" = String, Path, description = "The site's id (`site-` and 16 hex digits)."),
    ),
    responses(
        (status = 200, description = "`{site, state: \"withdrawn\"}`.", body = Object),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = InvalidInput),
        (status = 429, response = RateLimited),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = [])),
)]
async fn withdraw_site(
    State(s): State<AppState>,
    Auth(a): Auth,
    Path(site): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Bytes,
) -> Answer {
    let command = Command::WithdrawSite { site };
    write(&s, a, command, request!(method, uri, headers, raw)).await
}

/// The protected sites this operator's party may see.
#[utoipa::path(
    get,
    path = "/v1/sites",
    tag = "sites",
    responses(
        (status = 200, description = "`{sites: [...]}`.", body = Object),
        (status = 401, response = Unauthorized),
        (status = 429, response = RateLimited),
    ),
    security(("bearer" = [])),
)]
async fn list_sites(State(s): State<AppState>, Auth(a): Auth) -> Json<Value> {
    Json(json!({"sites": s.service.read(|st| st.sites(&a))}))
}

/// Records a talk: version 1 of its record, which this officer's party stands by.
///
/// The other parties confirm it or record their own version; the talk is
/// confirmed once every party stands by the same version. Visible only to the
/// talk's parties.
#[utoipa::path(
    post,
    path = "/v1/talks",
    tag = "talks",
    request_body = TalkRecord,
    responses(
        (status = 201, description = "`{talk, version: 1, content_sha256, stood_by}`.", body = Object),
        (status = 400, response = InvalidJson),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, response = InvalidInput),
        (status = 429, response = RateLimited),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = [])),
)]
async fn record_talk(
    State(s): State<AppState>,
    Auth(a): Auth,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Bytes,
) -> Answer {
    let record = Value::Object(Body::parse(raw.clone())?.fields);
    write(
        &s,
        a,
        Command::RecordTalk { record },
        request!(method, uri, headers, raw),
    )
    .await
}

/// The talks this operator's party took part in, latest first.
#[utoipa::path(
    get,
    path = "/v1/talks",
    tag = "talks",
    responses(
        (status = 200, description = "`{talks: [{id, parties, date, level, venue, line, state, versions, confirmed_version, agenda_items, open_follow_ups}]}`; `state` is `awaiting_confirmation`, `disputed` (parties stand by different versions) or `confirmed`.", body = Object),
        (status = 401, response = Unauthorized),
        (status = 429, response = RateLimited),
    ),
    security(("bearer" = [])),
)]
async fn list_talks(State(s): State<AppState>, Auth(a): Auth) -> Json<Value> {
    Json(json!({"talks": s.service.read(|st| st.talks(&a))}))
}

/// For this operator's party, each party it has a line or a talk with: the last
/// confirmed talk, days since, talks in the last 365 days, open follow-ups, and
/// `flagged` when there was no confirmed talk for more than `flag_after_days`
/// (the deployment's setting, `parley serve --talk-gap-days`; 365 by default), or never.
#[utoipa::path(
    get,
    path = "/v1/talks/relations",
    tag = "talks",
    responses(
        (status = 200, description = "`{relations: [{party, last_talk, days_since_last_talk, talks_last_365_days, unconfirmed_talks, open_follow_ups, flagged, flag_after_days}]}`.", body = Object),
        (status = 401, response = Unauthorized),
        (status = 429, response = RateLimited),
    ),
    security(("bearer" = [])),
)]
async fn talk_relations(State(s): State<AppState>, Auth(a): Auth) -> Json<Value> {
    let now = s.service.now();
    Json(json!({"relations": s.service.read(|st| st.talk_relations(&a, now))}))
}

/// One talk: the record that counts (the confirmed version, else the latest),
/// every party's version with who stands by it, confirmations and follow-ups.
#[utoipa::path(
    get,
    path = "/v1/talks/{talk}",
    tag = "talks",
    params(
        ("talk" = String, Path, description = "The talk's id (`t-<n>`)."),
    ),
    responses(
        (status = 200, description = "`{id, parties, date, state, version, confirmed_version, standing, awaiting, record, content_sha256, follow_ups, versions, confirmations}`; each version and confirmation carries its `journal_seq` for a receipt.", body = Object),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 429, response = RateLimited),
    ),
    security(("bearer" = [])),
)]
async fn show_talk(State(s): State<AppState>, Auth(a): Auth, Path(talk): Path<String>) -> Answer {
    let now = s.service.now();
    Ok(Json(s.service.read(|st| st.talk(&a, &talk, now))?).into_response())
}

/// Records this party's own version of a talk's record, kept beside the others;
/// the party stands by it. Refused once the talk is confirmed (409).
#[utoipa::path(
    post,
    path = "/v1/talks/{talk}/versions",
    tag = "talks",
    params(
        ("talk" = String, Path, description = "The talk's id (`t-<n>`)."),
    ),
    request_body = TalkRecord,
    responses(
        (status = 201, description = "`{talk, version, content_sha256, stood_by}`.", body = Object),
        (status = 400, response = InvalidJson),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = InvalidInput),
        (status = 429, response = RateLimited),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = [])),
)]
async fn talk_version(
    State(s): State<AppState>,
    Auth(a): Auth,
    Path(talk): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Bytes,
) -> Answer {
    let record = Value::Object(Body::parse(raw.clone())?.fields);
    let command = Command::ProposeTalkVersion { talk, record };
    write(&s, a, command, request!(method, uri, headers, raw)).await
}

/// Confirms one version of a talk's record for this party. Once every party
/// stands by the same version the talk is confirmed and its follow-ups become
/// deadlines of their owners.
#[utoipa::path(
    post,
    path = "/v1/talks/{talk}/confirmation",
    tag = "talks",
    params(
        ("talk" = String, Path, description = "The talk's id (`t-<n>`)."),
    ),
    request_body = TalkConfirmation,
    responses(
        (status = 200, description = "`{talk, version, content_sha256, state}`: `confirmed` once every party stands by this version.", body = Object),
        (status = 400, response = InvalidJson),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = InvalidInput),
        (status = 429, response = RateLimited),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = [])),
)]
async fn confirm_talk(
    State(s): State<AppState>,
    Auth(a): Auth,
    Path(talk): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Bytes,
) -> Answer {
    let b = Body::parse(raw.clone())?;
    let command = Command::ConfirmTalk {
        talk,
        version: b.u64("version")?,
        content_sha256: b.optional_string("content_sha256")?,
    };
    write(&s, a, command, request!(method, uri, headers, raw)).await
}

/// Closes a follow-up of a confirmed talk (an officer of its owner party); its
/// deadline is met.
#[utoipa::path(
    post,
    path = "/v1/talks/{talk}/follow-ups/{follow_up}/closure",
    tag = "talks",
    params(
        ("talk" = String, Path, description = "The talk's id (`t-<n>`)."),
        ("follow_up" = u64, Path, description = "The follow-up's number in the record, from 1."),
    ),
    request_body = FollowUpClosure,
    responses(
        (status = 200, description = "`{talk, follow_up, state: \"closed\"}`.", body = Object),
        (status = 400, response = InvalidJson),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = InvalidInput),
        (status = 429, response = RateLimited),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = [])),
)]
async fn close_follow_up(
    State(s): State<AppState>,
    Auth(a): Auth,
    Path((talk, follow_up)): Path<(String, u64)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Bytes,
) -> Answer {
    let b = Body::parse(raw.clone())?;
    let command = Command::CloseFollowUp {
        talk,
        follow_up,
        note: b.string("note")?,
    };
    write(&s, a, command, request!(method, uri, headers, raw)).await
}
