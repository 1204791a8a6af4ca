//! Client certificates bound to a party (mutual TLS): bind, list. The rule
//! itself is in `parley_service` (`state/certificates.rs`); `auth.rs` applies
//! it to every request.

use super::{Answer, WriteRequest};
use crate::auth::Auth;
use crate::openapi::{Conflict, Forbidden, InvalidInput, NotFound};
use crate::rejection::ApiPath;
use crate::wire::PartyCertificates;
use crate::AppState;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use parley_service::Command;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this resource, each with its OpenAPI operation.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(bind_certificate, list_certificates))
}

/// A client certificate to bind to the party (its admins only).
#[derive(ToSchema)]
#[allow(dead_code)] // Read by utoipa only: the handler reads the JSON by hand.
pub struct CertificateBinding {
    /// The SHA-256 of the client certificate's public key (SPKI, DER), 64
    /// hex digits, as `parley certificates bind --cert FILE` computes it.
    spki_sha256: String,
}

/// Binds a client certificate to a party (its admins): from then on the
/// party's operators are served only over mutual TLS with one of its bound
/// certificates, so a token alone is not enough (403
/// `certificate-required`). Kept in the journal; another binding widens the set.
#[utoipa::path(
    post,
    path = "/v1/parties/{party}/certificates",
    tag = "parties",
    params(
        ("party" = String, Path, description = "The party's id."),
    ),
    request_body = CertificateBinding,
    responses(
        (status = 201, description = "`{party, spki_sha256}`.", body = crate::wire::CertificateBound),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = InvalidInput),
    ),
    security(("bearer" = [])),
)]
async fn bind_certificate(
    State(s): State<AppState>,
    Auth(a): Auth,
    ApiPath(party): ApiPath<String>,
    request: WriteRequest,
) -> Answer {
    let b = request.body()?;
    let command = Command::BindCertificate {
        party,
        spki_sha256: b.string("spki_sha256")?,
    };
    request.submit(&s, a, command).await
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
        (status = 200, description = "`{party, certificates: [spki_sha256]}`.", body = crate::wire::PartyCertificates),
        (status = 404, response = NotFound),
    ),
    security(("bearer" = [])),
)]
async fn list_certificates(
    State(s): State<AppState>,
    Auth(_): Auth,
    ApiPath(party): ApiPath<String>,
) -> Answer {
    let certificates = s.service.read(|st| st.party_certificates(&party))?;
    Ok(Json(PartyCertificates::new(party, certificates)).into_response())
}
