//! A party's key chain beyond its first key: revocations (registration is
//! `parties.rs`'s `POST /v1/parties/{party}/keys`). Both must be signed by a
//! key the party holds once it holds one.

use super::{Answer, WriteRequest};
use crate::auth::Auth;
use crate::openapi::{Forbidden, RevokeKey};
use crate::rejection::ApiPath;
use crate::AppState;
use axum::extract::State;
use parley_service::Command;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this resource, each with its OpenAPI operation.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(revoke_key))
}

/// Revokes one of a party's keys (its admins, signed by a key the party
/// holds): it signs nothing for the party from then on. The revocation is an
/// entry every party sees.
#[utoipa::path(
    post,
    path = "/v1/parties/{party}/keys/revocations",
    tag = "parties",
    params(
        ("party" = String, Path, description = "The party's id."),
    ),
    request_body = RevokeKey,
    responses(
        (status = 201, description = "`{party, key, signed_by}`.", body = crate::wire::PartyKey),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = [])),
)]
async fn revoke_key(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(party): ApiPath<String>,
    request: WriteRequest,
) -> Answer {
    let b = request.body()?;
    let command = Command::RevokeKey {
        party,
        key: b.string("key")?,
    };
    request.submit(&s, a, command).await
}
