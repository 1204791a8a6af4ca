//! The write path every POST shares: the body (within the size limit, as a
//! problem when it is not), the `Idempotency-Key` and `Parley-Signature`
//! headers, and the submission of one command that answers once durable.

use super::Answer;
use crate::body::Body;
use crate::problem::Problem;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use parley_service::{sha256_hex, Actor, Command, Idempotency, Signed, WriteOutcome};

/// A write request as the service needs it: the raw body (what is hashed for
/// idempotency and signatures), the idempotency key and the signature.
pub(crate) struct WriteRequest {
    raw: Bytes,
    idempotency: Option<Idempotency>,
    signed: Option<Signed>,
}

impl<S: Send + Sync> FromRequest<S> for WriteRequest {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Problem> {
        let (parts, body) = request.into_parts();
        let (method, path, headers) = (
            parts.method.clone(),
            parts.uri.path().to_string(),
            parts.headers.clone(),
        );
        let raw = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|e| {
                let status = e.status();
                if status == StatusCode::PAYLOAD_TOO_LARGE {
                    Problem::too_large()
                } else {
                    Problem::new(status, "bad-request", e.body_text())
                }
            })?;
        let idempotency = match headers.get("idempotency-key") {
            None => None,
            Some(v) => {
                let key = v
                    .to_str()
                    .ok()
                    .filter(|k| !k.is_empty() && k.len() <= 200)
                    .ok_or_else(|| {
                        Problem::invalid(
                            "",
                            "Idempotency-Key must be 1 to 200 visible ASCII characters",
                        )
                    })?;
                let mut request = format!("{method} {path}\n").into_bytes();
                request.extend_from_slice(&raw);
                Some(Idempotency {
                    key: key.to_string(),
                    request_sha256: sha256_hex(&request),
                })
            }
        };
        let signed = match headers.get("parley-signature") {
            None => None,
            Some(v) => {
                let signature = v.to_str().ok().filter(|s| s.len() <= 400).ok_or_else(|| {
                    Problem::invalid(
                        "",
                        "Parley-Signature must be `<key name> <base64>` in visible ASCII",
                    )
                })?;
                Some(Signed {
                    statement: statement(&headers)?,
                    signature: signature.to_string(),
                })
            }
        };
        Ok(WriteRequest {
            raw,
            idempotency,
            signed,
        })
    }
}

/// The statement a signed request carries in `Parley-Statement` (base64 of
/// its text), checked by the service against what it records.
fn statement(headers: &axum::http::HeaderMap) -> Result<String, Problem> {
    use base64::Engine;
    headers
        .get("parley-statement")
        .and_then(|v| v.to_str().ok())
        .filter(|s| s.len() <= 4096)
        .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            Problem::invalid(
                "",
                format!(
                    "Parley-Signature needs Parley-Statement: the signed {} text, base64 ({} is no longer accepted)",
                    parley_service::STATEMENT_V2,
                    parley_service::STATEMENT_V1
                ),
            )
        })
}

impl WriteRequest {
    /// The body as a JSON object; a problem naming what is wrong otherwise.
    /// The body as it came.
    pub(crate) fn raw(&self) -> &[u8] {
        &self.raw
    }

    pub(crate) fn body(&self) -> Result<Body, Problem> {
        Body::parse(self.raw.clone())
    }

    /// Submits `command` as `actor` and answers once it is durable: `201` when
    /// it created something, `200` otherwise, the stored answer (with
    /// `Idempotency-Replayed: true`) for a retry with the same key.
    pub(crate) async fn submit(self, state: &AppState, actor: Actor, command: Command) -> Answer {
        let (tx, rx) = tokio::sync::oneshot::channel();
        state.service.submit_signed(
            actor.clone(),
            command,
            self.idempotency,
            self.signed,
            Box::new(move |r| drop(tx.send(r))),
        );
        let answer = rx
            .await
            .map_err(|_| Problem::unavailable("the writer stopped"))??;
        let status = match answer.outcome {
            WriteOutcome::Created => StatusCode::CREATED,
            WriteOutcome::Done => StatusCode::OK,
        };
        let mut body = answer.body;
        state.federation.after_write(&actor, &mut body).await;
        let mut response = (status, Json(body)).into_response();
        if answer.replayed {
            response
                .headers_mut()
                .insert("idempotency-replayed", HeaderValue::from_static("true"));
        }
        Ok(response)
    }
}
