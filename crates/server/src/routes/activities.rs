//! Activity notices, amendments, cancellations and acknowledgments.

use super::{Answer, WriteRequest};
use crate::auth::Auth;
use crate::openapi::{Acknowledgment, Amendment, Cancellation, Conflict, Forbidden, Notice};
use crate::problem::Problem;
use crate::rejection::{ApiPath, ApiQuery};
use crate::wire::Activities;
use crate::AppState;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use parley_service::{Category, Command};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this resource, each with its OpenAPI operation.
/// Only the activities of one line, if given.
#[derive(Deserialize)]
struct OfLine {
    line: Option<String>,
}

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(notify))
        .routes(routes!(list_activities))
        .routes(routes!(show_activity))
        .routes(routes!(amend))
        .routes(routes!(cancel))
        .routes(routes!(acknowledge))
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
        (status = 201, description = "The activity, version 1: `{activity, version, content_sha256, late, dry_run, conflicts}`; the content reads back with GET /v1/activities/{activity}.", body = crate::wire::NoticeOutcome),
        (status = 200, description = "A dry run: the same answer, with `declared`: the content a signed notice declares (its canonical SHA-256 goes in the `parley-statement/v2`); nothing was recorded.", body = crate::wire::NoticeOutcome),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = [])),
)]
async fn notify(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(line): ApiPath<String>,
    request: WriteRequest,
) -> Answer {
    let b = request.body()?;
    let category = b
        .parsed::<Category>("category", CATEGORIES)?
        .ok_or_else(|| Problem::invalid("/category", format!("missing; give {CATEGORIES}")))?;
    let vertical = s.service.vertical_rules_for(&a, &line);
    let command = Command::Notify {
        line,
        category,
        point_of_contact: b.string("point_of_contact")?,
        volumes: crate::body::volumes(b.array("volumes")?, s.service.limits(), &vertical)
            .await?
            .with_unusual_confirmed(b.bool("confirm_unusual")?),
        dry_run: b.bool("dry_run")?,
    };
    request.submit(&s, a, command).await
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
        (status = 200, description = "`{activities: [...]}`.", body = crate::wire::Activities),
        (status = 400, description = "A query parameter is not a whole number.", content_type = "text/plain", body = String),
    ),
    security(("bearer" = [])),
)]
async fn list_activities(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiQuery(q): ApiQuery<OfLine>,
) -> Json<Activities> {
    Json(Activities::of(
        s.service.read(|st| st.activities(&a, q.line.as_deref())),
    ))
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
        (status = 200, description = "The activity.", body = crate::wire::Activity),
    ),
    security(("bearer" = [])),
)]
async fn show_activity(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(activity): ApiPath<String>,
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
        (status = 200, description = "The new version: `{activity, version, content_sha256, late, dry_run, conflicts}`; the content reads back with GET /v1/activities/{activity} (also for a dry run).", body = crate::wire::NoticeOutcome),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = [])),
)]
async fn amend(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(activity): ApiPath<String>,
    request: WriteRequest,
) -> Answer {
    let b = request.body()?;
    let vertical = s.service.activity_vertical_rules_for(&a, &activity);
    let command = Command::Amend {
        activity,
        replaces_version: b.u64("replaces_version")?,
        category: b.parsed::<Category>("category", CATEGORIES)?,
        point_of_contact: b.optional_string("point_of_contact")?,
        volumes: crate::body::volumes(b.array("volumes")?, s.service.limits(), &vertical)
            .await?
            .with_unusual_confirmed(b.bool("confirm_unusual")?),
        dry_run: b.bool("dry_run")?,
    };
    request.submit(&s, a, command).await
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
        (status = 200, description = "`{activity, version, state: \"cancelled\", content_sha256, content}`.", body = crate::wire::NoticeCancelled),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = [])),
)]
async fn cancel(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(activity): ApiPath<String>,
    request: WriteRequest,
) -> Answer {
    let b = request.body()?;
    let command = Command::Cancel {
        activity,
        replaces_version: b.u64("replaces_version")?,
    };
    request.submit(&s, a, command).await
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
        (status = 200, description = "This party acknowledged this version already: nothing is recorded again; the answer says `already_acknowledged: true`.", body = crate::wire::NoticeAcknowledged),
        (status = 201, description = "`{activity, version, received_by, content_sha256, meaning}`.", body = crate::wire::NoticeAcknowledged),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = [])),
)]
async fn acknowledge(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(activity): ApiPath<String>,
    request: WriteRequest,
) -> Answer {
    let b = request.body()?;
    let command = Command::Acknowledge {
        activity,
        version: b.u64("version")?,
        content_sha256: b.string("content_sha256")?,
    };
    request.submit(&s, a, command).await
}
