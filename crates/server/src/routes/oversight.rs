//! What the host may do to a party, set by the party's own admins
//! (`POST /v1/parties/{party}/settings`).

use super::{Answer, WriteRequest};
use crate::auth::Auth;
use crate::openapi::Forbidden;
use crate::rejection::ApiPath;
use crate::AppState;
use axum::extract::State;
use parley_service::Command;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this resource, each with its OpenAPI operation.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(set_party_settings))
}

/// What the host may do to the party.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct PartySettings {
    /// Whether the host's admins may add operators to the party. With
    /// `false` the host is refused (403), except on its recovery path: when
    /// the party has no admin left, the host may add an admin, logged as
    /// `recovery` in an entry the party sees.
    #[schema(example = false)]
    host_may_add_operators: bool,
}

/// Sets what the host may do to the party (the party's own admins only; not
/// the host's). Logged as `party_settings_changed`, seen by the party.
#[utoipa::path(
    post,
    path = "/v1/parties/{party}/settings",
    tag = "parties",
    params(
        ("party" = String, Path, description = "The party's id."),
    ),
    request_body = PartySettings,
    responses(
        (status = 200, description = "`{party, host_may_add_operators, by: {operator, party}}`.", body = crate::wire::PartySettingsChanged),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = [])),
)]
async fn set_party_settings(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(party): ApiPath<String>,
    request: WriteRequest,
) -> Answer {
    let b = request.body()?;
    let command = Command::SetPartySettings {
        party,
        host_may_add_operators: b.required_bool("host_may_add_operators")?,
    };
    request.submit(&s, a, command).await
}
