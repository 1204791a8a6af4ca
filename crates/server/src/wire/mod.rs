//! What the API answers, as wire types with their OpenAPI schemas, one
//! module per resource.
//!
//! Reads the service answers with typed views (`parley_service::*View`) are
//! made from them here and serialized as documented, so a change to either
//! side is seen by the compiler. Write answers and the reads that show
//! journal entries as they were logged are JSON the service builds (a write's
//! answer is also its idempotency record); their types here describe that
//! JSON for the document only (`#[allow(dead_code)]`: never built), and
//! schemathesis (`crates/cli/tests/api.rs`, `response_schema_conformance`)
//! holds the real answers to them. Objects may carry more members than
//! described (a signed write's `signed_by`, a write's `receipt`).

mod activities;
mod federation;
mod lines;
mod parties;
mod record;
mod sites;
mod talks;

pub use activities::*;
pub use federation::*;
pub use lines::*;
pub use parties::*;
pub use record::*;
pub use sites::*;
pub use talks::*;

use serde::Serialize;
use utoipa::ToSchema;

/// Where an entry is in the journal: present on every entry a read shows.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct Logged {
    /// When it was logged (RFC 3339).
    logged_at: String,
    /// Its journal position: ask for its receipt with it
    /// (`GET /v1/record/entries/{seq}/receipt`).
    journal_seq: u64,
}

/// A party's signature on the entry's statement, as recorded.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct SignedBy {
    /// The verifier key that signed it (`name+id+base64`).
    key: String,
    /// The signed note: the statement and its signature.
    note: String,
}
