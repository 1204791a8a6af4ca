//! Protected sites.

use super::{Answer, WriteRequest};
use crate::auth::Auth;
use crate::openapi::{Conflict, Forbidden, Site};
use crate::rejection::ApiPath;
use crate::AppState;
use axum::extract::State;
use axum::Json;
use parley_service::{Command, SiteKind};
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this resource, each with its OpenAPI operation.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register_site, list_sites))
        .routes(routes!(withdraw_site))
}

/// Registers a protected site (an officer of a party), shared with chosen parties or lines.
#[utoipa::path(
    post,
    path = "/v1/sites",
    tag = "sites",
    request_body = Site,
    responses(
        (status = 201, description = "The site with its `id`.", body = crate::wire::SiteAnswer),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = [])),
)]
async fn register_site(State(s): State<AppState>, Auth(a): Auth, request: WriteRequest) -> Answer {
    let b = request.body()?;
    let command = Command::RegisterSite {
        name: b.string("name")?,
        site_kind: b
            .parsed::<SiteKind>("kind", "\"static\" or \"movement\"")?
            .unwrap_or(SiteKind::Static),
        volumes: crate::body::volumes(b.array("volumes")?, s.service.limits(), &Default::default())
            .await?,
        expires: b.string("expires")?,
        shared_with_parties: b.strings("shared_with_parties")?,
        shared_with_lines: b.strings("shared_with_lines")?,
    };
    request.submit(&s, a, command).await
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
        (status = 200, description = "`{site, state: \"withdrawn\"}`.", body = crate::wire::SiteWithdrawn),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = [])),
)]
async fn withdraw_site(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(site): ApiPath<String>,
    request: WriteRequest,
) -> Answer {
    let command = Command::WithdrawSite { site };
    request.submit(&s, a, command).await
}

/// The protected sites this operator's party may see.
#[utoipa::path(
    get,
    path = "/v1/sites",
    tag = "sites",
    responses(
        (status = 200, description = "`{sites: [...]}`.", body = crate::wire::Sites),
    ),
    security(("bearer" = [])),
)]
async fn list_sites(State(s): State<AppState>, Auth(a): Auth) -> Json<Value> {
    Json(json!({"sites": s.service.read(|st| st.sites(&a))}))
}
