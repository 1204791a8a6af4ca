//! Parties, their operators (tokens shown once) and their keys.

use super::{Answer, WriteRequest, MAX_BODY_BYTES};
use crate::auth::{new_token, Auth};
use crate::openapi::{Conflict, CreateOperator, CreateParty, Forbidden, RegisterKey};
use crate::problem::Problem;
use crate::rejection::ApiPath;
use crate::wire::{Operators, Parties, PartyKeys};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use parley_service::{sha256_hex, Command, Role};
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this resource, each with its OpenAPI operation.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_party, list_parties))
        .routes(routes!(create_operator, list_operators))
        .routes(routes!(revoke_operator))
        .routes(routes!(register_key, list_keys))
}

/// Registers a party (host admins only).
#[utoipa::path(
    post,
    path = "/v1/parties",
    tag = "parties",
    request_body = CreateParty,
    responses(
        (status = 201, description = "The party: `{id, name}`.", body = crate::wire::PartyCreated),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = [])),
)]
async fn create_party(State(s): State<AppState>, Auth(a): Auth, request: WriteRequest) -> Answer {
    let b = request.body()?;
    let command = Command::CreateParty {
        party: b.string("id")?,
        name: b.string("name")?,
    };
    request.submit(&s, a, command).await
}

/// The parties this operator may see.
#[utoipa::path(
    get,
    path = "/v1/parties",
    tag = "parties",
    responses(
        (status = 200, description = "The parties.", body = Parties),
    ),
    security(("bearer" = [])),
)]
async fn list_parties(State(s): State<AppState>, Auth(a): Auth) -> Json<Parties> {
    Json(Parties::of(s.service.read(|st| st.parties(&a))))
}

/// Adds an operator to a party (an admin of the party or of the host).
///
/// The host's admins are refused (403) by a party whose admins set
/// `host_may_add_operators: false`, unless the party has no admin left: then
/// they may add an admin, logged as `recovery`. Either way the entry is the
/// party's to see and names who made the operator.
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
        (status = 201, description = "The operator: `{id, party, name, role, made_by: {operator, party}, token}` (`recovery: true` when the host added an admin to a party closed to it that had no admin left); `token` is absent from a replayed answer.", body = crate::wire::OperatorCreated),
        (status = 403, response = Forbidden),
    ),
    security(("bearer" = [])),
)]
async fn create_operator(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(party): ApiPath<String>,
    request: WriteRequest,
) -> Answer {
    let b = request.body()?;
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
    let mut response = request.submit(&s, a, command).await?;
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
        (status = 200, description = "The party's operators.", body = Operators),
    ),
    security(("bearer" = [])),
)]
async fn list_operators(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(party): ApiPath<String>,
) -> Answer {
    let ops = s.service.read(|st| st.operators(&a, &party))?;
    Ok(Json(Operators::of(ops)).into_response())
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
        (status = 200, description = "`{id, revoked: true}`.", body = crate::wire::OperatorRevoked),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = [])),
)]
async fn revoke_operator(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(operator): ApiPath<String>,
    request: WriteRequest,
) -> Answer {
    request
        .submit(&s, a, Command::RevokeOperator { operator })
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
    request_body = RegisterKey,
    responses(
        (status = 201, description = "`{party, key}`.", body = crate::wire::PartyKey),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearer" = [])),
)]
async fn register_key(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(party): ApiPath<String>,
    request: WriteRequest,
) -> Answer {
    let b = request.body()?;
    let command = Command::RegisterKey {
        party,
        key: b.string("key")?,
    };
    request.submit(&s, a, command).await
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
        (status = 200, description = "`{party, keys: [verifier key lines]}`.", body = crate::wire::PartyKeys),
    ),
    security(("bearer" = [])),
)]
async fn list_keys(
    State(s): State<AppState>,
    Auth(_): Auth,
    ApiPath(party): ApiPath<String>,
) -> Answer {
    let keys = s.service.read(|st| st.party_keys(&party))?;
    Ok(Json(PartyKeys::new(party, keys)).into_response())
}
