//! The register of talks.

use super::{Answer, WriteRequest};
use crate::auth::Auth;
use crate::openapi::{Conflict, FollowUpClosure, Forbidden, TalkConfirmation, TalkRecord};
use crate::rejection::{ApiPath, Whole};
use crate::wire::{TalkRelations, Talks};
use crate::AppState;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use parley_service::Command;
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this resource, each with its OpenAPI operation.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(record_talk, list_talks))
        .routes(routes!(talk_relations))
        .routes(routes!(show_talk))
        .routes(routes!(talk_version))
        .routes(routes!(confirm_talk))
        .routes(routes!(close_follow_up))
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
        (status = 201, description = "`{talk, version: 1, content_sha256, stood_by}`.", body = crate::wire::TalkVersionRecorded),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = [])),
)]
async fn record_talk(State(s): State<AppState>, Auth(a): Auth, request: WriteRequest) -> Answer {
    let record = Value::Object(request.body()?.fields);
    request.submit(&s, a, Command::RecordTalk { record }).await
}

/// The talks this operator's party took part in, latest first.
#[utoipa::path(
    get,
    path = "/v1/talks",
    tag = "talks",
    responses(
        (status = 200, description = "`{talks: [{id, parties, date, level, venue, line, state, versions, confirmed_version, agenda_items, open_follow_ups}]}`; `state` is `awaiting_confirmation`, `disputed` (parties stand by different versions) or `confirmed`.", body = crate::wire::Talks),
    ),
    security(("bearer" = [])),
)]
async fn list_talks(State(s): State<AppState>, Auth(a): Auth) -> Json<Talks> {
    Json(Talks::of(s.service.read(|st| st.talks(&a))))
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
        (status = 200, description = "`{relations: [{party, last_talk, days_since_last_talk, talks_last_365_days, unconfirmed_talks, open_follow_ups, flagged, flag_after_days}]}`.", body = crate::wire::TalkRelations),
    ),
    security(("bearer" = [])),
)]
async fn talk_relations(State(s): State<AppState>, Auth(a): Auth) -> Json<TalkRelations> {
    let now = s.service.now();
    Json(TalkRelations::of(
        s.service.read(|st| st.talk_relations(&a, now)),
    ))
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
        (status = 200, description = "`{id, parties, date, state, version, confirmed_version, standing, awaiting, record, content_sha256, follow_ups, versions, confirmations}`; each version and confirmation carries its `journal_seq` for a receipt.", body = crate::wire::Talk),
    ),
    security(("bearer" = [])),
)]
async fn show_talk(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(talk): ApiPath<String>,
) -> Answer {
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
        (status = 201, description = "`{talk, version, content_sha256, stood_by}`.", body = crate::wire::TalkVersionRecorded),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = [])),
)]
async fn talk_version(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(talk): ApiPath<String>,
    request: WriteRequest,
) -> Answer {
    let record = Value::Object(request.body()?.fields);
    let command = Command::ProposeTalkVersion { talk, record };
    request.submit(&s, a, command).await
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
        (status = 200, description = "`{talk, version, content_sha256, state}`: `confirmed` once every party stands by this version.", body = crate::wire::TalkConfirmed),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = [])),
)]
async fn confirm_talk(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(talk): ApiPath<String>,
    request: WriteRequest,
) -> Answer {
    let b = request.body()?;
    let command = Command::ConfirmTalk {
        talk,
        version: b.u64("version")?,
        content_sha256: b.optional_string("content_sha256")?,
    };
    request.submit(&s, a, command).await
}

/// The path of a follow-up: its talk and its number.
#[derive(Deserialize)]
struct FollowUpPath {
    talk: String,
    follow_up: Whole,
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
        (status = 200, description = "`{talk, follow_up, state: \"closed\"}`.", body = crate::wire::FollowUpClosed),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = [])),
)]
async fn close_follow_up(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(FollowUpPath { talk, follow_up }): ApiPath<FollowUpPath>,
    request: WriteRequest,
) -> Answer {
    let b = request.body()?;
    let command = Command::CloseFollowUp {
        talk,
        follow_up: follow_up.0,
        note: b.string("note")?,
    };
    request.submit(&s, a, command).await
}
