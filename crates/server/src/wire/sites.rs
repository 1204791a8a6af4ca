//! Protected sites: the answers to registering and withdrawing one, and the list.

use super::{ConflictFound, Logged};
use serde::Serialize;
use utoipa::ToSchema;

/// A site as the journal holds it (`kind: site_registered`), with its `id`.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct SiteRegistered {
    /// `site_registered`.
    #[schema(pattern = "^site_registered$")]
    kind: String,
    /// The site (`site-…`).
    site: String,
    /// The same as `site`.
    id: String,
    /// Its party.
    party: String,
    name: String,
    #[schema(value_type = crate::openapi::SiteKind)]
    site_kind: String,
    /// Its volumes in the ASTM F3548 `Volume4D` form compared.
    #[schema(value_type = Vec<Object>)]
    volumes: Vec<serde_json::Value>,
    /// When it stops being in force (RFC 3339).
    expires: String,
    shared_with_parties: Vec<String>,
    shared_with_lines: Vec<String>,
}

/// The answer to registering a site: the site and the conflicts it meets now
/// that this party is told of.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct SiteAnswer {
    #[serde(flatten)]
    site: SiteRegistered,
    conflicts: Vec<ConflictFound>,
}

/// A site as a read shows it.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct SiteView {
    #[serde(flatten)]
    site: SiteRegistered,
    #[serde(flatten)]
    logged: Logged,
    /// How many volumes it has.
    volumes_count: u64,
    /// Whether its party withdrew it.
    withdrawn: bool,
}

/// The sites this operator's party may see.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct Sites {
    sites: Vec<SiteView>,
}

/// The answer to withdrawing a site.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct SiteWithdrawn {
    site: String,
    /// `withdrawn`.
    #[schema(pattern = "^withdrawn$")]
    state: String,
}
