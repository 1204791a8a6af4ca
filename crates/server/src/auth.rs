//! Bearer tokens (stored only as SHA-256 hashes; a token carries 256 random
//! bits, so a fast hash is safe), the client certificate a party may bind its
//! operators to (mutual TLS), and rate limits per token and per party.

use crate::connections::ClientCertificate;
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

/// Token buckets per operator and per party: every request spends one token
/// from its operator's bucket and one from its party's, so the operators a
/// party admin makes share one party budget rather than each bringing its own.
///
/// # Units
/// Rates are requests per second; each bucket holds twice its rate (the
/// burst), at least one request.
pub struct RateLimit {
    per_token: Bucket,
    per_party: Bucket,
    levels: Mutex<Levels>,
}

/// What each bucket held when last touched, by operator id and by party id.
#[derive(Default)]
struct Levels {
    tokens: HashMap<String, (f64, Instant)>,
    parties: HashMap<String, (f64, Instant)>,
}

#[derive(Clone, Copy)]
struct Bucket {
    per_second: f64,
    burst: f64,
}

impl Bucket {
    fn new(per_second: f64) -> Self {
        Self {
            per_second,
            burst: (per_second * 2.0).max(1.0),
        }
    }

    /// The tokens in a bucket that held `tokens` at `last`, now.
    fn refill(self, (tokens, last): (f64, Instant), now: Instant) -> f64 {
        (tokens + now.duration_since(last).as_secs_f64() * self.per_second).min(self.burst)
    }
}

/// Which budget a refused request ran out of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Spent {
    Token,
    Party,
}

/// How many times the per-token rate a party gets by default.
pub const PARTY_RATE_FACTOR: f64 = 5.0;

impl RateLimit {
    /// `per_second` sustained per token, and [`PARTY_RATE_FACTOR`] times that per party.
    pub fn new(per_second: f64) -> Self {
        Self::with_party(per_second, per_second * PARTY_RATE_FACTOR)
    }

    /// `per_token` sustained per operator token, `per_party` for all of a
    /// party's operators together.
    pub fn with_party(per_token: f64, per_party: f64) -> Self {
        Self {
            per_token: Bucket::new(per_token),
            per_party: Bucket::new(per_party),
            levels: Mutex::new(Levels::default()),
        }
    }

    /// Spends one request of `operator`'s and one of `party`'s budget, or
    /// neither and says which is empty.
    pub(crate) fn allow(&self, operator: &str, party: &str) -> Result<(), Spent> {
        let now = Instant::now();
        let mut levels = self.levels.lock().unwrap_or_else(|e| e.into_inner());
        let Levels { tokens, parties } = &mut *levels;
        let token = tokens
            .entry(operator.to_string())
            .or_insert((self.per_token.burst, now));
        let party = parties
            .entry(party.to_string())
            .or_insert((self.per_party.burst, now));
        *token = (self.per_token.refill(*token, now), now);
        *party = (self.per_party.refill(*party, now), now);
        if token.0 < 1.0 {
            return Err(Spent::Token);
        }
        if party.0 < 1.0 {
            return Err(Spent::Party);
        }
        token.0 -= 1.0;
        party.0 -= 1.0;
        Ok(())
    }

    /// The refusal for a request over `spent`'s budget.
    pub(crate) fn refusal(&self, spent: Spent) -> Problem {
        let detail = match spent {
            Spent::Token => format!(
                "too many requests for this token (at most {} a second); slow down and retry",
                self.per_token.per_second
            ),
            Spent::Party => format!(
                "too many requests for this party (at most {} a second, shared by all its operators); slow down and retry",
                self.per_party.per_second
            ),
        };
        Problem::new(StatusCode::TOO_MANY_REQUESTS, "rate-limited", detail)
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
        if let Some(slot) = parts.extensions.get::<crate::access_log::OperatorSlot>() {
            slot.set(&actor.operator);
        }
        let certificate = parts
            .extensions
            .get::<ClientCertificate>()
            .and_then(|c| c.0.as_deref());
        if !state.service.certificate_admits(&actor.party, certificate) {
            return Err(Problem::new(
                StatusCode::FORBIDDEN,
                "certificate-required",
                format!(
                    "party {} serves its operators only over mutual TLS with one of its bound client certificates; connect with the certificate your party gave you (`client_cert` and `client_key` in the profile)",
                    actor.party
                ),
            ));
        }
        if let Err(spent) = state.rate.allow(&actor.operator, &actor.party) {
            return Err(state.rate.refusal(spent));
        }
        Ok(Auth(actor))
    }
}
