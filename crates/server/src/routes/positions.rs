//! Positions read as a notice's volumes read them, for a client that shows an
//! officer what a typed position was taken to be before anything is sent (the
//! console's notify form), and writes points in the forms an officer reads
//! (MGRS and UTM for the read-back). The parser is `parley_wire`'s, the one
//! every volume goes through; nothing is stored.

use super::{Answer, WriteRequest};
use crate::auth::Auth;
use crate::openapi::InvalidInput;
use crate::problem::Problem;
use axum::response::IntoResponse;
use axum::Json;
use parley_wire::coordinates::{format_mgrs, format_utm};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

/// Most positions one request may read.
const MAX_POSITIONS: usize = 200;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(read_positions))
}

/// Positions to read, each as a notice's volume may give one.
#[derive(ToSchema)]
#[allow(dead_code)] // Read by utoipa only: the handler reads the JSON by hand.
pub struct PositionsQuery {
    /// Up to 200 positions, each a string (`35°30'15"N 038°30'E`,
    /// `3530N03830E`, `N35.5 E38.5`, an MGRS reference such as
    /// `37SBA1234567890`, or UTM as `37N 455000 3928000`) or an object as a
    /// point of a F3548 outline (`{"lat", "lng"}` in decimal degrees or any
    /// angle form, `{"mgrs"}`, `{"utm": {"zone", "hemisphere", "easting",
    /// "northing"}}`).
    #[schema(max_items = 200)]
    positions: Vec<PositionInput>,
}

/// A position: text, or an object as a point of a F3548 outline.
#[derive(ToSchema, Deserialize)]
#[serde(untagged)]
#[allow(dead_code)] // Read by utoipa only.
enum PositionInput {
    /// Any form of a position as text.
    Text(String),
    /// `{"lat", "lng"}`, `{"position"}`, `{"mgrs"}` or `{"utm"}`.
    Point(serde_json::Map<String, Value>),
}

/// What each position was read as, in the order given.
#[derive(Serialize, ToSchema)]
pub struct Positions {
    positions: Vec<PositionRead>,
}

/// One position as read, or why it could not be.
#[derive(Serialize, ToSchema)]
pub struct PositionRead {
    /// Latitude of the point used, decimal degrees.
    #[serde(skip_serializing_if = "Option::is_none")]
    lat: Option<f64>,
    /// Longitude of the point used, decimal degrees.
    #[serde(skip_serializing_if = "Option::is_none")]
    lng: Option<f64>,
    /// Metres the place meant may lie from the point: an MGRS cell's
    /// half-diagonal (its centre is the point used, and a circle centred on
    /// it grows by this much); 0 for a point.
    #[serde(skip_serializing_if = "Option::is_none")]
    spread_m: Option<f64>,
    /// The point's MGRS reference to the metre.
    #[serde(skip_serializing_if = "Option::is_none")]
    mgrs: Option<String>,
    /// The point in UTM (UPS near the poles) to the metre: zone and
    /// hemisphere, easting, northing.
    #[serde(skip_serializing_if = "Option::is_none")]
    utm: Option<String>,
    /// Why it could not be read (as a notice would be refused), with what to
    /// give instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Reads positions as a notice's volumes would, without storing anything:
/// each as the point used (an MGRS cell's centre, with its half-diagonal)
/// and in MGRS and UTM. A position that cannot be read is answered with
/// why, beside the others; a body that is not a list of texts and objects
/// is refused.
#[utoipa::path(
    post,
    path = "/v1/positions",
    tag = "activities",
    request_body = PositionsQuery,
    responses(
        (status = 200, description = "Each position as read, in the order given.", body = Positions),
        (status = 422, response = InvalidInput),
    ),
    security(("bearer" = [])),
)]
async fn read_positions(Auth(_): Auth, request: WriteRequest) -> Answer {
    // Read as every POST is (its Idempotency-Key checked, the body limit),
    // though nothing is written: a retry is simply answered again.
    let list = request.body()?.array("positions")?;
    if list.len() > MAX_POSITIONS {
        return Err(Problem::invalid(
            "/positions",
            format!(
                "{} positions; give at most {MAX_POSITIONS} a request",
                list.len()
            ),
        ));
    }
    // Neither text nor an object is no position at all: refused whole, as
    // the schema says; a position that cannot be read is answered beside the others.
    if let Some(i) = list.iter().position(|v| !(v.is_string() || v.is_object())) {
        return Err(Problem::invalid(
            &format!("/positions/{i}"),
            "give a position as text (35°30'15\"N 038°30'E, 37SBA1234567890, 37N 455000 3928000) or as an object ({\"lat\", \"lng\"}, {\"mgrs\"}, {\"utm\"})",
        ));
    }
    let positions = list
        .iter()
        .enumerate()
        .map(
            |(i, v)| match parley_wire::read_position(v, &format!("/positions/{i}")) {
                Ok(p) => PositionRead {
                    lat: Some(p.point.lat),
                    lng: Some(p.point.lng),
                    spread_m: Some(p.spread_m),
                    mgrs: format_mgrs(p.point).ok(),
                    utm: format_utm(p.point).ok(),
                    error: None,
                },
                Err(e) => PositionRead {
                    lat: None,
                    lng: None,
                    spread_m: None,
                    mgrs: None,
                    utm: None,
                    error: Some(e.to_string()),
                },
            },
        )
        .collect();
    Ok(Json(Positions { positions }).into_response())
}
