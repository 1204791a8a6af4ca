//! Liveness and identity.

use crate::auth::Auth;
use crate::openapi::Unavailable;
use crate::problem::Problem;
use crate::wire::{Health, Identity};
use crate::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this resource, each with its OpenAPI operation.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(me))
}

/// Liveness: `ok` or not, and nothing else. Needs no token, so it says
/// nothing a rival could count (the record's size is in the checkpoint, for
/// operators).
#[utoipa::path(
    get,
    path = "/v1/health",
    tag = "service",
    responses(
        (status = 200, description = "The service takes writes: `{\"status\": \"ok\"}`.", body = crate::wire::Health),
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
    Json(Health::OK).into_response()
}

/// Who am I: the token's operator, party and role.
#[utoipa::path(
    get,
    path = "/v1/me",
    tag = "service",
    responses(
        (status = 200, description = "`{operator, party, role}`.", body = crate::wire::Identity),
    ),
    security(("bearer" = [])),
)]
async fn me(Auth(actor): Auth) -> Json<Identity> {
    Json(Identity::from(&actor))
}
