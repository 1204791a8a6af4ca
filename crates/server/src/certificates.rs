//! Handlers for binding client certificates to a party (mutual TLS), their
//! OpenAPI descriptions and the request body's schema (routed in `routes.rs`). The
//! rule itself is in `parley_service` (`certificates.rs`); `auth.rs` applies
//! it to every request.

use crate::auth::Auth;
use crate::body::Body;
use crate::openapi::{
    Conflict, Forbidden, InvalidInput, NotFound, RateLimited, Unauthorized, Unavailable,
};
use crate::routes::{write, Answer};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::IntoResponse;
use axum::Json;
use parley_service::Command;
use serde_json::json;

/// The body of a binding.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Read by utoipa only: the handler reads the JSON by hand.
pub(crate) struct CertificateBinding {
    /// The SHA-256 of the client certificate's public key (SPKI, DER), 64
    /// hex digits, as `parley certificates bind --cert FILE` computes it.
    spki_sha256: String,
}

/// Binds a client certificate to a party (its admins): from then on the
/// party's operators are served only over mutual TLS with one of its bound
/// certificates, so a token alone is not enough. Kept in the journal; adding
/// another certificate widens the set.
#[utoipa::path(
    post,
    path = "/v1/parties/{party}/certificates",
    tag = "parties",
    params(
        ("party" = String, Path, description = "The party's id."),
    ),
    request_body = CertificateBinding,
    responses(
        (status = 201, description = "`{party, spki_sha256}`.", body = Object),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = InvalidInput),
        (status = 429, response = RateLimited),
        (status = 503, response = Unavailable),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn bind_certificate(
    State(s): State<AppState>,
    Auth(a): Auth,
    Path(party): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Bytes,
) -> Answer {
    let b = Body::parse(raw.clone())?;
    let command = Command::BindCertificate {
        party,
        spki_sha256: b.string("spki_sha256")?,
    };
    write(&s, a, command, (&method, &uri, &headers, &raw[..])).await
}

/// The client certificates bound to a party (SPKI SHA-256, hex); empty when
/// its operators are served on their tokens alone.
#[utoipa::path(
    get,
    path = "/v1/parties/{party}/certificates",
    tag = "parties",
    params(
        ("party" = String, Path, description = "The party's id."),
    ),
    responses(
        (status = 200, description = "`{party, certificates: [spki_sha256]}`.", body = Object),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 429, response = RateLimited),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn list_certificates(
    State(s): State<AppState>,
    Auth(_): Auth,
    Path(party): Path<String>,
) -> Answer {
    let certificates = s.service.read(|st| st.party_certificates(&party))?;
    Ok(Json(json!({"party": party, "certificates": certificates})).into_response())
}
