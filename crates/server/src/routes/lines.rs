//! Lines between parties: their rules and status, what is owed on them
//! (deadlines) and the answers to their line checks.

use super::{Answer, WriteRequest};
use crate::auth::Auth;
use crate::openapi::{Conflict, CreateLine, Forbidden, LineStatus};
use crate::problem::Problem;
use crate::rejection::ApiPath;
use crate::wire::{Deadlines, Line, Lines};
use crate::AppState;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use parley_service::{Command, LineRules};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this resource, each with its OpenAPI operation.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_line, list_lines))
        .routes(routes!(show_line))
        .routes(routes!(set_line_status))
        .routes(routes!(list_deadlines))
        .routes(routes!(answer_line_check))
}

/// Opens a line between two or more parties, with its rules (host admins only).
#[utoipa::path(
    post,
    path = "/v1/lines",
    tag = "lines",
    request_body = CreateLine,
    responses(
        (status = 201, description = "The line: `{id, name, parties, rules, status}`.", body = crate::wire::LineCreated),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = [])),
)]
async fn create_line(State(s): State<AppState>, Auth(a): Auth, request: WriteRequest) -> Answer {
    let b = request.body()?;
    let rules: LineRules = match b.fields.get("rules") {
        None => LineRules::default(),
        Some(r) => {
            let mut merged = serde_json::to_value(LineRules::default()).expect("rules serialize");
            let Some(given) = r.as_object() else {
                return Err(Problem::invalid("/rules", "expected an object"));
            };
            for (k, v) in given {
                if merged.get(k).is_none() && !LineRules::OPTIONAL.contains(&k.as_str()) {
                    return Err(Problem::invalid(
                        &format!("/rules/{k}"),
                        "unknown rule; see the API documentation",
                    ));
                }
                merged[k] = v.clone();
                // One rule at a time, so that a refusal names the rule.
                serde_json::from_value::<LineRules>(merged.clone()).map_err(|e| {
                    Problem::invalid(&format!("/rules/{k}"), rule_error(k, &e.to_string()))
                })?;
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
    request.submit(&s, a, command).await
}

/// The lines this operator's party is on.
#[utoipa::path(
    get,
    path = "/v1/lines",
    tag = "lines",
    responses(
        (status = 200, description = "The lines.", body = Lines),
    ),
    security(("bearer" = [])),
)]
async fn list_lines(State(s): State<AppState>, Auth(a): Auth) -> Json<Lines> {
    let now = s.service.now();
    Json(Lines::of(s.service.read(|st| st.lines(&a, now))))
}

/// One line: its parties, rules, political status, operation status from line
/// checks (`operation`: `in_operation`, `degraded`, `silent`, `unchecked` or, on a
/// federated line, `node_unreachable`, with each party's last check,
/// round-trip time and misses in the last 24 hours, and each other node's
/// standing) and open deadlines.
#[utoipa::path(
    get,
    path = "/v1/lines/{line}",
    tag = "lines",
    params(
        ("line" = String, Path, description = "The line's id."),
    ),
    responses(
        (status = 200, description = "The line.", body = Line),
    ),
    security(("bearer" = [])),
)]
async fn show_line(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(line): ApiPath<String>,
) -> Answer {
    let now = s.service.now();
    Ok(Json(Line::from(s.service.read(|st| st.line(&a, &line, now))?)).into_response())
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
        (status = 200, description = "`{id, status}`.", body = crate::wire::LineStatusChanged),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = [])),
)]
async fn set_line_status(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(line): ApiPath<String>,
    request: WriteRequest,
) -> Answer {
    let b = request.body()?;
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
    request
        .submit(&s, a, Command::SetLineStatus { line, suspended })
        .await
}

/// Open deadlines on this party's lines, earliest first: acknowledgments of
/// notices and replies to requests and flash messages still owed, with how far
/// their escalation has gone (`reminder`, `overdue`, `admins`).
#[utoipa::path(
    get,
    path = "/v1/deadlines",
    tag = "lines",
    responses(
        (status = 200, description = "What is owed.", body = Deadlines),
    ),
    security(("bearer" = [])),
)]
async fn list_deadlines(State(s): State<AppState>, Auth(a): Auth) -> Json<Deadlines> {
    let now = s.service.now();
    Json(Deadlines::of(s.service.read(|st| st.deadlines(&a, now))))
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
        (status = 200, description = "`{check, line, party, round_trip_ms}`.", body = crate::wire::LineCheckAnswered),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = [])),
)]
async fn answer_line_check(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(check): ApiPath<String>,
    request: WriteRequest,
) -> Answer {
    let command = Command::AnswerLineCheck { check };
    request.submit(&s, a, command).await
}

/// What to give for a rule serde could not read (its message says only
/// what it found and the type it wanted).
fn rule_error(rule: &str, serde: &str) -> String {
    match rule {
        "region" => serde.to_string(),
        "signatures_required" => format!("{serde}; give true or false"),
        _ => format!("{serde}; give a number (see the API documentation for its unit and range)"),
    }
}
