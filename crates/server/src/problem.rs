//! RFC 9457 problem details: every error the API returns, with a stable `type`
//! and a `detail` that says what to fix; validation errors carry a JSON pointer.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use parley_service::ServiceError;
use serde_json::json;

/// An error answer.
#[derive(Debug)]
pub struct Problem {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable short name; the `type` is `urn:parley:problem:<kind>`.
    pub kind: &'static str,
    /// What happened and what to fix.
    pub detail: String,
    /// JSON pointer to the field at fault, if any.
    pub pointer: Option<String>,
}

impl Problem {
    /// A problem of `kind` with `status`.
    pub fn new(status: StatusCode, kind: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            detail: detail.into(),
            pointer: None,
        }
    }

    /// 503: the service cannot answer now; `detail` says why and what to do.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", detail)
    }

    /// 413: the body is past the limit every request is held to.
    pub fn too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            format!(
                "the body is larger than {} bytes, the most a request may carry; send less (for example the volumes over several notices)",
                crate::routes::MAX_BODY_BYTES
            ),
        )
    }

    /// Bad input at `pointer`.
    pub fn invalid(pointer: &str, detail: impl Into<String>) -> Self {
        Self {
            pointer: Some(pointer.to_string()),
            ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-input", detail)
        }
    }
}

impl From<ServiceError> for Problem {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid { pointer, message } => Problem::invalid(&pointer, message),
            ServiceError::NotFound(what) => Problem::new(
                StatusCode::NOT_FOUND,
                "not-found",
                format!("{what} not found"),
            ),
            ServiceError::Forbidden(why) => Problem::new(StatusCode::FORBIDDEN, "forbidden", why),
            ServiceError::Conflict(why) => Problem::new(StatusCode::CONFLICT, "conflict", why),
            ServiceError::Ended { pointer, message } => Problem {
                pointer: Some(pointer),
                ..Problem::new(StatusCode::CONFLICT, "conflict", message)
            },
            ServiceError::Replayed(why) => Problem::new(StatusCode::CONFLICT, "replayed", why),
            ServiceError::Quota(why) => {
                Problem::new(StatusCode::TOO_MANY_REQUESTS, "rate-limited", why)
            }
            ServiceError::Unavailable(why) => Problem::unavailable(why),
            ServiceError::StoreFull(why) => {
                Problem::new(StatusCode::SERVICE_UNAVAILABLE, "store-full", why)
            }
        }
    }
}

impl Problem {
    /// The problem+json document.
    pub(crate) fn body(&self) -> serde_json::Value {
        let title = self.status.canonical_reason().unwrap_or("Error");
        let mut body = json!({
            "type": format!("urn:parley:problem:{}", self.kind),
            "title": title,
            "status": self.status.as_u16(),
            "detail": match &self.pointer {
                Some(p) if !p.is_empty() => format!("{p}: {}", self.detail),
                _ => self.detail.clone(),
            },
        });
        if let Some(p) = &self.pointer {
            body["errors"] = json!([{"pointer": p, "detail": self.detail}]);
        }
        body
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        (
            self.status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            self.body().to_string(),
        )
            .into_response()
    }
}
