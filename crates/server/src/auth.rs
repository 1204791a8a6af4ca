//! Bearer tokens (stored only as SHA-256 hashes; a token carries 256 random
//! bits, so a fast hash is safe) and a per-token rate limit.

use crate::problem::Problem;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use parley_service::{sha256_hex, Actor};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// A fresh bearer token: `pt_` and 64 hex digits of OS randomness.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS has randomness");
    format!("pt_{}", parley_service::hex(&bytes))
}

/// A token bucket per operator.
pub struct RateLimit {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimit {
    /// `per_second` sustained, bursts of twice that.
    pub fn new(per_second: f64) -> Self {
        Self {
            per_second,
            burst: per_second * 2.0,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn allow(&self, operator: &str) -> bool {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let (tokens, last) = buckets
            .entry(operator.to_string())
            .or_insert((self.burst, now));
        *tokens =
            (*tokens + now.duration_since(*last).as_secs_f64() * self.per_second).min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The authenticated operator behind a request.
pub struct Auth(pub Actor);

impl FromRequestParts<AppState> for Auth {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let Some(token) = header.and_then(|h| h.strip_prefix("Bearer ")) else {
            return Err(Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "send an operator token as 'Authorization: Bearer <token>'",
            ));
        };
        let Some(actor) = state
            .service
            .authenticate(&sha256_hex(token.trim().as_bytes()))
        else {
            return Err(Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "this token is unknown or revoked",
            ));
        };
        if !state.rate.allow(&actor.operator) {
            return Err(Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "too many requests for this token; slow down and retry",
            ));
        }
        Ok(Auth(actor))
    }
}
