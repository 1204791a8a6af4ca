//! Signed requests: when the profile has a key (`parley keys generate`), a
//! notice, amendment, cancellation, acknowledgment, confirmation of a talk
//! and every key change go out with the party's signature of a
//! `parley-statement/v2` (see `parley_service::Statement`): this server's
//! record origin, the line, talk or party, this operator, the time, the
//! action and the canonical hash of the content declared. The caller says
//! what it declares ([`Claim`]); the server checks it against what it
//! records and accepts the signature once.

use super::{fresh_key, ApiError, Client};
use anyhow::{anyhow, Context, Result};
use base64::Engine;
use parley_service::Claim;
use reqwest::Method;
use serde_json::Value;

/// Who sends a request: this token's operator and party.
pub struct Me {
    pub operator: String,
    pub party: String,
}

/// µs since the Unix epoch, now.
fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

impl Client {
    /// Who this token is.
    pub fn me(&self) -> Result<Me, ApiError> {
        let v = self.get("/v1/me")?;
        Ok(Me {
            operator: super::output::s(&v, "operator").to_string(),
            party: super::output::s(&v, "party").to_string(),
        })
    }

    /// The server's record origin: the first line of its checkpoint.
    fn origin(&self) -> Result<String> {
        let v = self.get("/v1/record/checkpoint")?;
        v["checkpoint"]
            .as_str()
            .and_then(|n| n.lines().next())
            .map(str::to_string)
            .context("the server's checkpoint has no origin line")
    }

    /// POSTs `body` to `path`, signed as the party when this profile has a
    /// key: `claim` says what the request declares, given who sends it.
    pub fn post_signed(
        &self,
        path: &str,
        body: &Value,
        claim: impl FnOnce(&Me) -> Result<Claim>,
    ) -> Result<Value> {
        let Some(signer) = &self.signer else {
            return Ok(self.post(path, body)?);
        };
        let me = self.me()?;
        let claim = claim(&me)?;
        let statement = claim
            .statement(&self.origin()?, &me.operator, now_us())
            .text();
        let note = signer
            .sign_note(&statement)
            .map_err(|e| anyhow!("cannot sign: {e}"))?;
        let line = note.lines().last().unwrap_or_default();
        let signature = line.trim_start_matches('\u{2014}').trim().to_string();
        let encoded = base64::engine::general_purpose::STANDARD.encode(statement.as_bytes());
        Ok(self.send_with(
            Method::POST,
            path,
            Some(body),
            Some(&fresh_key()),
            &[
                ("Parley-Signature", signature),
                ("Parley-Statement", encoded),
            ],
        )?)
    }
}
