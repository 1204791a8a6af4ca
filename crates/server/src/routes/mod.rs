//! Every route of the API, by resource (one module per OpenAPI tag), and the
//! write path they share. Each handler turns a request into one service call
//! and its outcome into a response; its `#[utoipa::path]` beside it is its
//! documentation, and [`api`] lists each handler once for both the router and
//! the OpenAPI document, so the two cannot drift.

mod activities;
mod certificates;
mod conflicts;
mod federation;
mod formats;
mod keys;
mod lines;
mod messages;
mod oversight;
mod parties;
mod positions;
mod record;
mod service;
mod sites;
mod talks;
mod write;

pub(crate) use write::WriteRequest;

use crate::problem::Problem;
use crate::rejection::as_problem;
use crate::AppState;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Largest request body accepted, bytes.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// What a handler answers: a response, or a problem.
type Answer = Result<Response, Problem>;

/// Every route of the API with its OpenAPI operation: the router and the
/// document are both made from this one list.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(service::routes())
        .routes(routes!(crate::openapi::openapi_json))
        .merge(parties::routes())
        .merge(keys::routes())
        .merge(oversight::routes())
        .merge(certificates::routes())
        .merge(lines::routes())
        .merge(messages::routes())
        .merge(activities::routes())
        .merge(formats::routes())
        .merge(positions::routes())
        .merge(conflicts::routes())
        .merge(record::routes())
        .merge(sites::routes())
        .merge(talks::routes())
        .merge(federation::routes())
        .routes(routes!(crate::events::events))
        .routes(routes!(crate::witnessing::witnessed_checkpoint))
        .routes(routes!(crate::tiles::tlog_checkpoint))
        // A tile's path has slashes: axum routes it as a wildcard, which the
        // OpenAPI document cannot write, so `openapi.rs` lists it as `{path}`.
        .route(
            "/v1/record/tlog/tile/{*path}",
            axum::routing::get(crate::tiles::tlog_tile),
        )
}

/// The API's routes, the web console's files, and what every request goes
/// through: the body limit, the stopped-writer guard, problems for every error.
pub fn router(state: AppState) -> Router {
    let (api, _) = api().split_for_parts();
    Router::new()
        // The web console's static files: not part of the API, so not in the
        // OpenAPI document.
        .merge(crate::console::routes())
        .merge(api)
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
        .layer(axum::middleware::map_response(as_problem))
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
