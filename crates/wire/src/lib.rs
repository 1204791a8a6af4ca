//! Parley's wire formats: JSON in, engine types out, and conflict reports back.
//!
//! - [`parse_volume`] reads one volume, either the ASTM F3548 `Volume4D` shape or
//!   a GeoJSON `Feature` (see [`geojson`] for its property names), validates it
//!   with the engine and reports any mistake as a [`WireError`] whose JSON pointer
//!   names the field.
//! - [`parse_activity`] reads one activity: `{"id", "party", "volumes": [...]}`.
//! - [`conflict_json`] writes a conflicting pair of activities as one JSON object.
//!
//! The engine never sees JSON; this crate never decides what conflicts.
//!
//! ```
//! use parley_wire::{parse_activity, WireLimits};
//! let line = r#"{"id": "A1", "party": "north", "volumes": [{"volume": {
//!   "outline_circle": {"center": {"lat": 35.0, "lng": 38.0}, "radius": {"value": 500, "units": "M"}},
//!   "altitude_lower": {"value": 0, "reference": "W84", "units": "M"},
//!   "altitude_upper": {"value": 30000, "reference": "W84", "units": "M"}},
//!   "time_start": {"value": "2026-11-22T10:00:00Z", "format": "RFC3339"},
//!   "time_end": {"value": "2026-11-22T09:00:00Z", "format": "RFC3339"}}]}"#;
//! let err = parse_activity(line, &WireLimits::default()).unwrap_err();
//! assert_eq!(err.pointer, "/volumes/0/time_end/value");
//! assert!(err.message.contains("not after the start"));
//! ```
#![deny(missing_docs)]

pub mod altitude;
pub mod coordinates;
pub mod geojson;
pub mod kml;
pub mod notam;
mod report;
pub mod shapes;
mod time;

pub use report::{conflict_json, meeting_json};
pub use time::{format_timestamp, parse_timestamp};

use parley_engine::TimeWindow;
use parley_engine::{Activity, Field, LatLng, Limits, Outline, Volume, VolumeError};
use serde_json::{Map, Value};
use std::fmt;

pub use altitude::VerticalRules;

/// Input that cannot be accepted: where (an RFC 6901 JSON pointer into the
/// document) and what to fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireError {
    /// JSON pointer to the offending field; empty for the whole document.
    pub pointer: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl WireError {
    pub(crate) fn at(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pointer.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.pointer, self.message)
        }
    }
}

impl std::error::Error for WireError {}

/// Limits on documents, on top of the engine's [`Limits`] on each volume.
#[derive(Clone, Debug)]
pub struct WireLimits {
    /// Limits on each volume.
    pub volume: Limits,
    /// Most volumes in one activity (default 100).
    pub max_volumes: usize,
    /// Longest identifier (activity id, party), bytes (default 200).
    pub max_id_bytes: usize,
    /// The work one polygon may cost: most points its outline may have once its
    /// edges are cut into geodesic pieces of at most 5 km
    /// ([`parley_engine::polygon_pieces`]; default 10,000: a 1,000-vertex outline
    /// with 45,000 km of perimeter). See [`check_work`].
    pub max_volume_pieces: usize,
    /// The work one request (or activity) may cost: most such points in all its
    /// volumes together (default 50,000). See [`check_work`].
    pub max_request_pieces: usize,
}

impl Default for WireLimits {
    fn default() -> Self {
        Self {
            volume: Limits::default(),
            max_volumes: 100,
            max_id_bytes: 200,
            max_volume_pieces: 10_000,
            max_request_pieces: 50_000,
        }
    }
}

/// Refuses volumes that would cost too much work to validate and compare,
/// before any of that work is done: each polygon's points once its edges are
/// cut into 5 km pieces against [`WireLimits::max_volume_pieces`], and their
/// sum over `volumes` (at pointer `at`) against
/// [`WireLimits::max_request_pieces`]. Costs one inverse geodesic per edge
/// longer than a piece, and stops at the first volume over a budget. A volume
/// this cannot read is left to [`parse_volume`] to refuse with its own error
/// (and counts as one point, as a circle does). Gives the total.
///
/// ```
/// use parley_wire::{check_work, WireLimits};
/// let comb: Vec<_> = (0..200).map(|k| {
///     // A zigzag of 40 teeth, 500 km long: about 100 pieces an edge.
///     let lat = if k % 2 == 0 { 0.0 } else { 4.5 };
///     serde_json::json!({"lat": lat, "lng": k as f64 * 0.001})
/// }).collect();
/// let volume = serde_json::json!({"volume": {"outline_polygon": {"vertices": comb}}});
/// let err = check_work(&[volume], "/volumes", &WireLimits::default()).unwrap_err();
/// assert_eq!(err.pointer, "/volumes/0/volume/outline_polygon/vertices");
/// assert!(err.message.contains("more than the limit of 10000"), "{}", err.message);
/// ```
pub fn check_work(volumes: &[Value], at: &str, limits: &WireLimits) -> Result<usize, WireError> {
    let mut total = 0usize;
    for (i, v) in volumes.iter().enumerate() {
        // Altitudes above mean sea level cost geoid evaluations.
        if altitude::volume_needs_geoid(v) {
            total += altitude::MAX_GEOID_EVALUATIONS * altitude::GEOID_EVALUATION_POINTS;
        }
        let pieces = match polygon_vertices(v, limits.volume.max_vertices) {
            Some((vertices, path)) => {
                let pieces = parley_engine::polygon_pieces(&vertices);
                (pieces, path)
            }
            None => (1, ""),
        };
        let (pieces, path) = pieces;
        if pieces > limits.max_volume_pieces {
            let kind = parley_engine::ErrorKind::TooManyPieces {
                pieces,
                max: limits.max_volume_pieces,
            };
            return Err(WireError::at(format!("{at}/{i}{path}"), kind.to_string()));
        }
        total += pieces;
        if total > limits.max_request_pieces {
            return Err(WireError::at(
                format!("{at}/{i}"),
                format!(
                    "the volumes up to this one make {total} points once their edges are cut into pieces of at most 5 km (and {} for each volume whose altitudes need the geoid), more than the limit of {} in one request; send this volume and the ones after it in another request, or give fewer or shorter edges",
                    altitude::MAX_GEOID_EVALUATIONS * altitude::GEOID_EVALUATION_POINTS,
                    limits.max_request_pieces
                ),
            ));
        }
    }
    Ok(total)
}

/// A polygon volume's vertices (F3548 or GeoJSON) and the pointer of their list
/// within the volume, when they are all valid positions and not too many.
fn polygon_vertices(v: &Value, max_vertices: usize) -> Option<(Vec<LatLng>, &'static str)> {
    let (list, path, geojson) = if v.get("type").and_then(Value::as_str) == Some("Feature") {
        let ring = v.get("geometry")?.get("coordinates")?.get(0)?.as_array()?;
        (ring, "/geometry/coordinates/0", true)
    } else {
        let list = v.get("volume")?.get("outline_polygon")?.get("vertices")?;
        (list.as_array()?, "/volume/outline_polygon/vertices", false)
    };
    if list.len() > max_vertices + usize::from(geojson) {
        return None;
    }
    let mut vertices: Vec<LatLng> = list
        .iter()
        .map(|p| {
            // Read as the volume will be (angles as text, MGRS, UTM too), so
            // that no form of a position passes the budget uncounted.
            let (lat, lng) = if geojson {
                (p.get(1)?.as_f64()?, p.get(0)?.as_f64()?)
            } else {
                let point = position(p, "").ok()?.point;
                (point.lat, point.lng)
            };
            (lat.abs() <= 90.0 && lng.abs() <= 180.0).then(|| LatLng::new(lat, lng))
        })
        .collect::<Option<_>>()?;
    if geojson {
        // The closing position repeats the first.
        vertices.pop();
    }
    Some((vertices, path))
}

/// A JSON object's field, or an error naming it.
pub(crate) fn field<'a>(
    obj: &'a Map<String, Value>,
    at: &str,
    name: &str,
) -> Result<&'a Value, WireError> {
    obj.get(name)
        .ok_or_else(|| WireError::at(format!("{at}/{name}"), format!("missing; add \"{name}\"")))
}

pub(crate) fn object<'a>(v: &'a Value, at: &str) -> Result<&'a Map<String, Value>, WireError> {
    v.as_object()
        .ok_or_else(|| WireError::at(at, format!("expected a JSON object, found {}", kind(v))))
}

pub(crate) fn number(v: &Value, at: &str) -> Result<f64, WireError> {
    v.as_f64()
        .ok_or_else(|| WireError::at(at, format!("expected a number, found {}", kind(v))))
}

pub(crate) fn string<'a>(v: &'a Value, at: &str) -> Result<&'a str, WireError> {
    v.as_str()
        .ok_or_else(|| WireError::at(at, format!("expected a string, found {}", kind(v))))
}

pub(crate) fn array<'a>(v: &'a Value, at: &str) -> Result<&'a Vec<Value>, WireError> {
    v.as_array()
        .ok_or_else(|| WireError::at(at, format!("expected an array, found {}", kind(v))))
}

pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reads one volume: a GeoJSON Feature when it has `"type": "Feature"`,
/// otherwise an ASTM F3548 `Volume4D`. `at` is the pointer of `v` in its
/// document. Flight levels are refused: see [`parse_volume_on`].
pub fn parse_volume(v: &Value, at: &str, limits: &Limits) -> Result<Volume, WireError> {
    parse_volume_on(v, at, limits, &VerticalRules::default()).map(|p| p.volume)
}

/// A volume as validated, and its altitudes as given when they are not what
/// is compared (above mean sea level, flight levels).
#[derive(Clone, Debug)]
pub struct Parsed {
    /// The volume the engine compares (altitudes above the WGS84 ellipsoid).
    pub volume: Volume,
    /// `{"altitude_lower", "altitude_upper"}` as given, when either was not
    /// W84: kept beside the F3548 form ([`volume4d_json_given`]).
    pub given: Option<Value>,
}

/// [`parse_volume`] on a line whose `rules` say what altitudes it accepts.
pub fn parse_volume_on(
    v: &Value,
    at: &str,
    limits: &Limits,
    rules: &VerticalRules,
) -> Result<Parsed, WireError> {
    if v.get("type").and_then(Value::as_str) == Some("Feature") {
        geojson::parse_feature_on(v, at, limits, rules)
    } else {
        parse_volume4d_on(v, at, limits, rules)
    }
}

/// [`volume4d_json`] with the altitudes as given (`Parsed::given`), when
/// there are any, in a member `given` that readers of the F3548 form ignore.
pub fn volume4d_json_given(v: &Volume, given: Option<&Value>) -> Value {
    let mut json = volume4d_json(v);
    if let Some(g) = given {
        json["given"] = g.clone();
    }
    json
}

/// Writes a validated volume as the ASTM F3548 `Volume4D` it is, whatever form
/// it was given in: the one shape every read-back is drawn from, so what an
/// officer confirms is what the engine checks. [`parse_volume4d`] reads it
/// back to an equal volume.
pub fn volume4d_json(v: &Volume) -> Value {
    let altitude = |m: f64| serde_json::json!({"value": m, "reference": "W84", "units": "M"});
    let instant = |t| serde_json::json!({"value": format_timestamp(t), "format": "RFC3339"});
    let outline = match v.outline() {
        Outline::Polygon(vertices) => serde_json::json!({"outline_polygon": {"vertices":
            vertices.iter().map(|p| serde_json::json!({"lat": p.lat, "lng": p.lng})).collect::<Vec<_>>()}}),
        Outline::Circle { center, radius_m } => serde_json::json!({"outline_circle": {
            "center": {"lat": center.lat, "lng": center.lng},
            "radius": {"value": radius_m, "units": "M"}}}),
    };
    let mut volume = outline;
    volume["altitude_lower"] = altitude(v.altitude().lower_m);
    volume["altitude_upper"] = altitude(v.altitude().upper_m);
    serde_json::json!({"volume": volume, "time_start": instant(v.window().start),
        "time_end": instant(v.window().end)})
}

/// Reads an ASTM F3548 `Volume4D` (flight levels refused).
pub fn parse_volume4d(v: &Value, at: &str, limits: &Limits) -> Result<Volume, WireError> {
    parse_volume4d_on(v, at, limits, &VerticalRules::default()).map(|p| p.volume)
}

fn parse_volume4d_on(
    v: &Value,
    at: &str,
    limits: &Limits,
    rules: &VerticalRules,
) -> Result<Parsed, WireError> {
    let obj = object(v, at)?;
    let vat = format!("{at}/volume");
    let volume = object(field(obj, at, "volume")?, &vat)?;
    let (polygon, circle) = (volume.get("outline_polygon"), volume.get("outline_circle"));
    let outline = match (polygon, circle) {
        (Some(p), None) => Outline::Polygon(vertices(p, &format!("{vat}/outline_polygon"))?),
        (None, Some(c)) => circle_outline(c, &format!("{vat}/outline_circle"))?,
        (Some(_), Some(_)) => {
            return Err(WireError::at(
                &vat,
                "has both outline_polygon and outline_circle; give exactly one",
            ))
        }
        (None, None) => {
            return Err(WireError::at(
                &vat,
                "has no outline; give outline_polygon or outline_circle",
            ))
        }
    };
    let (lower_json, upper_json) = (
        field(volume, &vat, "altitude_lower")?,
        field(volume, &vat, "altitude_upper")?,
    );
    let lower = altitude::parse(lower_json, &format!("{vat}/altitude_lower"), rules)?;
    let upper = altitude::parse(upper_json, &format!("{vat}/altitude_upper"), rules)?;
    let start = instant(field(obj, at, "time_start")?, &format!("{at}/time_start"))?;
    let end = instant(field(obj, at, "time_end")?, &format!("{at}/time_end"))?;
    let is_circle = circle.is_some();
    let lower = (lower, lower_json);
    let upper = (upper, upper_json);
    altitude::validate(
        outline,
        lower,
        upper,
        TimeWindow { start, end },
        limits,
        rules,
    )
    .map_err(|e| volume4d_error(e, at, is_circle))
}

fn vertices(v: &Value, at: &str) -> Result<Vec<LatLng>, WireError> {
    let vat = format!("{at}/vertices");
    let list = array(field(object(v, at)?, at, "vertices")?, &vat)?;
    list.iter()
        .enumerate()
        .map(|(i, p)| lat_lng(p, &format!("{vat}/{i}")))
        .collect()
}

/// A polygon's vertex: an MGRS cell coarser than this (its half-diagonal, in
/// metres) would leave part of the cell outside the polygon.
const MAX_VERTEX_SPREAD_M: f64 = 1.0;

fn lat_lng(v: &Value, at: &str) -> Result<LatLng, WireError> {
    let p = position(v, at)?;
    if p.spread_m > MAX_VERTEX_SPREAD_M {
        return Err(WireError::at(
            format!("{at}/mgrs"),
            format!(
                "a polygon's vertex in MGRS is given to the metre (5 and 5 digits); this cell reaches {:.0} m from its centre. Give more digits, or a circle whose centre is the cell (its half-diagonal is added to the radius)",
                p.spread_m
            ),
        ));
    }
    Ok(p.point)
}

/// One position as a client may give it: a string (any form of
/// [`coordinates::parse_position`]) or an object as a point of a F3548
/// outline (`{"lat", "lng"}`, `{"position"}`, `{"mgrs"}`, `{"utm"}`). What the
/// console shows an officer as a position is typed, through the same parser
/// a notice's volumes go through.
pub fn read_position(v: &Value, at: &str) -> Result<coordinates::Position, WireError> {
    match v {
        Value::String(text) => coordinates::parse_position(text).map_err(|m| WireError::at(at, m)),
        _ => position(v, at),
    }
}

/// A point of a F3548 outline: `{"lat", "lng"}` (each decimal degrees or
/// any form of [`coordinates::parse_angle`]), `{"position": "35°30'N
/// 038°30'E"}` or an MGRS reference there, `{"mgrs": "..."}`, or `{"utm":
/// {"zone", "hemisphere", "easting", "northing"}}`.
fn position(v: &Value, at: &str) -> Result<coordinates::Position, WireError> {
    let obj = object(v, at)?;
    let point = |lat, lng| coordinates::Position {
        point: LatLng::new(lat, lng),
        spread_m: 0.0,
    };
    if let Some(text) = obj.get("position") {
        let pat = format!("{at}/position");
        return coordinates::parse_position(string(text, &pat)?).map_err(|m| WireError::at(pat, m));
    }
    if let Some(text) = obj.get("mgrs") {
        let mat = format!("{at}/mgrs");
        return coordinates::parse_mgrs(string(text, &mat)?).map_err(|m| WireError::at(mat, m));
    }
    if let Some(utm) = obj.get("utm") {
        let uat = format!("{at}/utm");
        let u = object(utm, &uat)?;
        let zone = number(field(u, &uat, "zone")?, &format!("{uat}/zone"))?;
        let hat = format!("{uat}/hemisphere");
        let north = match string(field(u, &uat, "hemisphere")?, &hat)? {
            "N" => true,
            "S" => false,
            other => {
                return Err(WireError::at(
                    hat,
                    format!("\"{other}\" is not a hemisphere; give \"N\" or \"S\""),
                ))
            }
        };
        let easting = number(field(u, &uat, "easting")?, &format!("{uat}/easting"))?;
        let northing = number(field(u, &uat, "northing")?, &format!("{uat}/northing"))?;
        if zone.fract() != 0.0 || !(0.0..=60.0).contains(&zone) {
            return Err(WireError::at(
                format!("{uat}/zone"),
                "a UTM zone is 1 to 60, or 0 for UPS at the poles",
            ));
        }
        let p = coordinates::parse_utm(zone as i32, north, easting, northing)
            .map_err(|m| WireError::at(uat, m))?;
        return Ok(point(p.lat, p.lng));
    }
    let angle = |name: &str, axis| {
        let aat = format!("{at}/{name}");
        match field(obj, at, name)? {
            Value::String(text) => {
                coordinates::parse_angle(text, axis).map_err(|m| WireError::at(aat, m))
            }
            v => number(v, &aat).map_err(|e| {
                WireError::at(aat, format!("{}; {}", e.message, coordinates::ANGLE_FORMS))
            }),
        }
    };
    Ok(point(
        angle("lat", coordinates::Axis::Latitude)?,
        angle("lng", coordinates::Axis::Longitude)?,
    ))
}

fn circle_outline(v: &Value, at: &str) -> Result<Outline, WireError> {
    let obj = object(v, at)?;
    let center = position(field(obj, at, "center")?, &format!("{at}/center"))?;
    let rat = format!("{at}/radius");
    let radius = object(field(obj, at, "radius")?, &rat)?;
    let radius_m = length_m(radius, &rat)?;
    // An MGRS centre names a cell: the circle grows to cover all of it.
    Ok(Outline::Circle {
        center: center.point,
        radius_m: radius_m + center.spread_m,
    })
}

/// Metres in a foot (international foot, exact).
pub const FOOT_M: f64 = 0.3048;

/// `{"value", "units"}` in metres: units `"M"` or `"FT"`.
fn length_m(obj: &Map<String, Value>, at: &str) -> Result<f64, WireError> {
    let uat = format!("{at}/units");
    let scale = match string(field(obj, at, "units")?, &uat)? {
        "M" => 1.0,
        "FT" => FOOT_M,
        other => {
            return Err(WireError::at(
                uat,
                format!("unknown units \"{other}\"; give \"M\" (metres) or \"FT\" (feet)"),
            ))
        }
    };
    Ok(number(field(obj, at, "value")?, &format!("{at}/value"))? * scale)
}

fn instant(v: &Value, at: &str) -> Result<parley_engine::Timestamp, WireError> {
    let obj = object(v, at)?;
    let fat = format!("{at}/format");
    match string(field(obj, at, "format")?, &fat)? {
        "RFC3339" => {}
        other => {
            return Err(WireError::at(
                fat,
                format!("unknown format \"{other}\"; only \"RFC3339\" is accepted"),
            ))
        }
    }
    let vat = format!("{at}/value");
    parse_timestamp(string(field(obj, at, "value")?, &vat)?).map_err(|m| WireError::at(vat, m))
}

fn volume4d_error(e: VolumeError, at: &str, circle: bool) -> WireError {
    let outline = if circle {
        "outline_circle"
    } else {
        "outline_polygon"
    };
    let path = match e.field {
        Field::Outline => format!("/volume/{outline}"),
        Field::Vertices => "/volume/outline_polygon/vertices".into(),
        Field::Vertex(i) => format!("/volume/outline_polygon/vertices/{i}"),
        Field::VertexLat(i) => format!("/volume/outline_polygon/vertices/{i}/lat"),
        Field::VertexLng(i) => format!("/volume/outline_polygon/vertices/{i}/lng"),
        Field::CenterLat => "/volume/outline_circle/center/lat".into(),
        Field::CenterLng => "/volume/outline_circle/center/lng".into(),
        Field::Radius => "/volume/outline_circle/radius/value".into(),
        Field::AltitudeLower => "/volume/altitude_lower/value".into(),
        Field::AltitudeUpper => "/volume/altitude_upper/value".into(),
        Field::TimeStart => "/time_start/value".into(),
        Field::TimeEnd => "/time_end/value".into(),
        _ => String::new(),
    };
    WireError::at(format!("{at}{path}"), e.kind.to_string())
}

/// Reads one activity, `{"id": "...", "party": "...", "volumes": [volume, ...]}`,
/// from a line of JSON.
pub fn parse_activity(line: &str, limits: &WireLimits) -> Result<Activity, WireError> {
    let doc: Value = serde_json::from_str(line).map_err(|e| {
        WireError::at(
            "",
            format!("not valid JSON ({e}); give one JSON object a line"),
        )
    })?;
    activity_from_value(&doc, "", limits)
}

/// Reads one activity from a parsed JSON value at pointer `at`.
pub fn activity_from_value(
    doc: &Value,
    at: &str,
    limits: &WireLimits,
) -> Result<Activity, WireError> {
    let obj = object(doc, at)?;
    let id = identifier(obj, at, "id", limits)?;
    let party = identifier(obj, at, "party", limits)?;
    let vat = format!("{at}/volumes");
    let list = array(field(obj, at, "volumes")?, &vat)?;
    if list.is_empty() {
        return Err(WireError::at(vat, "is empty; give at least one volume"));
    }
    if list.len() > limits.max_volumes {
        return Err(WireError::at(
            vat,
            format!(
                "has {} volumes, more than the limit of {}; split the activity",
                list.len(),
                limits.max_volumes
            ),
        ));
    }
    // Routes and multipolygons become several volumes, counted as such.
    let expanded = shapes::expand(list, &vat, limits.max_volumes)?;
    check_work(&expanded.values, &vat, limits).map_err(|e| expanded.error(e))?;
    let volumes = expanded
        .values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            parse_volume(v, &format!("{vat}/{i}"), &limits.volume).map_err(|e| expanded.error(e))
        })
        .collect::<Result<_, _>>()?;
    Ok(Activity { id, party, volumes })
}

fn identifier(
    obj: &Map<String, Value>,
    at: &str,
    name: &str,
    limits: &WireLimits,
) -> Result<String, WireError> {
    let iat = format!("{at}/{name}");
    let s = string(field(obj, at, name)?, &iat)?;
    if s.is_empty() || s.len() > limits.max_id_bytes {
        return Err(WireError::at(
            iat,
            format!("must be 1 to {} bytes long", limits.max_id_bytes),
        ));
    }
    Ok(s.to_owned())
}

/// Entry point for the fuzzer and its corpus replay: reads arbitrary bytes as
/// an activity line and must never panic.
pub fn fuzz_activity(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(activity) = parse_activity(text, &WireLimits::default()) {
            // Exercise the predicate on what was accepted, against itself.
            let none = parley_engine::Minima::default();
            for a in &activity.volumes {
                for b in &activity.volumes {
                    let _ = parley_engine::meeting(a, b, &none);
                }
            }
        }
    }
}
