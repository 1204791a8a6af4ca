//! Conflicts and their coordination.

use super::{Answer, WriteRequest};
use crate::auth::Auth;
use crate::openapi::{Conflict, Coordination, Forbidden};
use crate::rejection::ApiPath;
use crate::AppState;
use axum::extract::State;
use axum::Json;
use parley_service::Command;
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this resource, each with its OpenAPI operation.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_conflicts))
        .routes(routes!(coordinate))
}

/// The conflicts this operator's party owns a side of.
#[utoipa::path(
    get,
    path = "/v1/conflicts",
    tag = "conflicts",
    responses(
        (status = 200, description = "`{conflicts: [...]}`.", body = crate::wire::Conflicts),
    ),
    security(("bearer" = [])),
)]
async fn list_conflicts(State(s): State<AppState>, Auth(a): Auth) -> Json<Value> {
    Json(json!({"conflicts": s.service.read(|st| st.conflicts(&a))}))
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
        (status = 200, description = "`{conflict, state}`: `coordinated` once both sides have marked it, else `open`.", body = crate::wire::ConflictCoordinated),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = [])),
)]
async fn coordinate(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(conflict): ApiPath<String>,
    request: WriteRequest,
) -> Answer {
    let b = request.body()?;
    request
        .submit(
            &s,
            a,
            Command::Coordinate {
                conflict,
                note: b.string("note")?,
            },
        )
        .await
}
