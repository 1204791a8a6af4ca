//! A failed request as the client reports it: the server's RFC 9457 problem
//! in one line (pointer, what to fix, status), or why no answer came.

use reqwest::StatusCode;
use serde_json::Value;
use std::fmt;

/// A failed request: the server's problem, or no answer at all.
#[derive(Debug)]
pub enum ApiError {
    /// The server answered with an error status; `message` is one line.
    Status { status: StatusCode, message: String },
    /// No answer: connection refused, timeout, a broken stream, a
    /// certificate that does not verify.
    Network { server: String, cause: String },
    /// The server's certificate verifies but carries another key than the
    /// pinned one: a new key, or someone in between.
    PinMismatch { server: String, spki_sha256: String },
}

impl ApiError {
    /// Server or network trouble (exit 3) rather than bad input (exit 2).
    pub fn is_server_side(&self) -> bool {
        match self {
            ApiError::Status { status, .. } => {
                status.is_server_error() || *status == StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::Network { .. } | ApiError::PinMismatch { .. } => true,
        }
    }

    /// Builds the one line from an error answer: the problem's field and fix.
    pub fn from_answer(status: StatusCode, body: &str) -> ApiError {
        ApiError::Status {
            status,
            message: problem_line(body),
        }
    }
}

/// `/pointer: what to fix` from RFC 9457 problem+json, or the body's first line.
pub fn problem_line(body: &str) -> String {
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        let first = body.lines().next().unwrap_or("").trim();
        return if first.is_empty() {
            "no details".to_string()
        } else {
            first.to_string()
        };
    };
    if let Some(e) = v["errors"].as_array().and_then(|e| e.first()) {
        let pointer = e["pointer"].as_str().unwrap_or("");
        let detail = e["detail"].as_str().unwrap_or("invalid");
        if !pointer.is_empty() {
            return format!("{pointer}: {detail}");
        }
        return detail.to_string();
    }
    v["detail"]
        .as_str()
        .or(v["title"].as_str())
        .unwrap_or("no details")
        .to_string()
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Status { status, message } => {
                let hint = match status.as_u16() {
                    401 => "; check the token (parley login)",
                    429 => "; wait and retry",
                    _ => "",
                };
                write!(f, "{message}{hint} (server answered {})", status.as_u16())
            }
            ApiError::Network { server, cause } if cause.contains("CertificateRequired") => write!(
                f,
                "cannot reach {server}: {cause}; the server requires a client certificate: \
                 give --client-cert and --client-key (saved in the profile by login)"
            ),
            ApiError::Network { server, cause } if cause.contains("certificate") => write!(
                f,
                "cannot reach {server}: {cause}; check the server's certificate, and --ca \
                 (or --client-cert and --client-key) in the profile"
            ),
            ApiError::Network { server, cause } => {
                write!(f, "cannot reach {server}: {cause}; is the server running?")
            }
            ApiError::PinMismatch {
                server,
                spki_sha256,
            } => write!(
                f,
                "REFUSED: {server} shows a certificate whose key is not the one pinned in this \
                 profile (it shows SPKI SHA-256 {spki_sha256}). Someone may be in between; \
                 if the server's operators tell you (out of band) that its key changed to \
                 exactly this value, pin it: parley login --pin-sha256 {spki_sha256}"
            ),
        }
    }
}

impl std::error::Error for ApiError {}
