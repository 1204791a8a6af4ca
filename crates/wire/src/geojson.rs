//! GeoJSON Features as volumes, for people coming from GIS tools.
//!
//! A volume is a `Feature` whose geometry is
//! - a `Polygon` with one ring of `[longitude, latitude]` positions, closed as
//!   GeoJSON requires (the last position repeats the first); holes are refused; or
//! - a `Point` with a `radius_m` property: a circle.
//!
//! A `MultiPolygon`, or a `LineString` with a `half_width_m` property (a
//! route), is several volumes: [`crate::shapes`] expands it into Polygons and
//! Points before they are read here.
//!
//! Its `properties` carry the rest:
//!
//! | property | meaning |
//! |---|---|
//! | `altitude_lower_m`, `altitude_upper_m` | altitude band, metres above the WGS84 ellipsoid |
//! | `altitude_lower`, `altitude_upper` | instead: as in the F3548 form, `{"value", "reference", "units"}` (`AMSL`, feet) or a flight level `"FL130"` ([`crate::altitude`]) |
//! | `time_start`, `time_end` | the window `[start, end)`, RFC 3339 strings |
//! | `radius_m` | a Point's radius, metres |
//!
//! Edges are geodesics on WGS84, as in the F3548 form (not straight lines in
//! longitude and latitude, whatever RFC 7946 suggests).

use crate::altitude::{self, Given, VerticalRules};
use crate::{array, field, number, object, parse_timestamp, string, Parsed, WireError};
use parley_engine::{Field, LatLng, Limits, Outline, TimeWindow, Volume};
use serde_json::{json, Value};

/// Reads a GeoJSON Feature as a volume; `at` is its pointer in the document.
/// Flight levels are refused: see [`parse_feature_on`].
pub fn parse_feature(v: &Value, at: &str, limits: &Limits) -> Result<Volume, WireError> {
    parse_feature_on(v, at, limits, &VerticalRules::default()).map(|p| p.volume)
}

/// [`parse_feature`] on a line whose `rules` say what altitudes it accepts.
pub fn parse_feature_on(
    v: &Value,
    at: &str,
    limits: &Limits,
    rules: &VerticalRules,
) -> Result<Parsed, WireError> {
    let obj = object(v, at)?;
    let gat = format!("{at}/geometry");
    let geometry = object(field(obj, at, "geometry")?, &gat)?;
    let pat = format!("{at}/properties");
    let props = object(field(obj, at, "properties")?, &pat)?;
    let cat = format!("{gat}/coordinates");
    let coordinates = field(geometry, &gat, "coordinates")?;
    let kind = string(field(geometry, &gat, "type")?, &format!("{gat}/type"))?;
    let outline = match kind {
        "Polygon" => {
            let rings = array(coordinates, &cat)?;
            match rings.len() {
                1 => {}
                0 => {
                    return Err(WireError::at(
                        cat,
                        "has no ring; give one ring of positions",
                    ))
                }
                _ => {
                    return Err(WireError::at(
                        format!("{cat}/1"),
                        "holes are not supported; give a single ring",
                    ))
                }
            }
            let rat = format!("{cat}/0");
            let ring = array(&rings[0], &rat)?;
            let mut points: Vec<LatLng> = ring
                .iter()
                .enumerate()
                .map(|(i, p)| position(p, &format!("{rat}/{i}")))
                .collect::<Result<_, _>>()?;
            if points.len() < 2 || points.first() != points.last() {
                return Err(WireError::at(
                    rat,
                    "a GeoJSON ring must end with its first position; repeat it",
                ));
            }
            points.pop();
            Outline::Polygon(points)
        }
        "Point" => Outline::Circle {
            center: position(coordinates, &cat)?,
            radius_m: number(field(props, &pat, "radius_m")?, &format!("{pat}/radius_m"))?,
        },
        other => {
            return Err(WireError::at(
                format!("{gat}/type"),
                format!(
                "\"{other}\" is not supported; give a Polygon, or a Point with a radius_m property"
            ),
            ))
        }
    };
    let prop_number = |name: &str| number(field(props, &pat, name)?, &format!("{pat}/{name}"));
    let prop_time = |name: &str| {
        let tat = format!("{pat}/{name}");
        parse_timestamp(string(field(props, &pat, name)?, &tat)?).map_err(|m| WireError::at(tat, m))
    };
    // `altitude_lower` (any form) in place of `altitude_lower_m` (W84 metres).
    let prop_altitude = |name: &str| -> Result<(Given, Value), WireError> {
        match props.get(name) {
            Some(a) => Ok((
                altitude::parse(a, &format!("{pat}/{name}"), rules)?,
                a.clone(),
            )),
            None => {
                let m = prop_number(&format!("{name}_m"))?;
                Ok((
                    Given::W84(m),
                    json!({"value": m, "reference": "W84", "units": "M"}),
                ))
            }
        }
    };
    let (lower, lower_json) = prop_altitude("altitude_lower")?;
    let (upper, upper_json) = prop_altitude("altitude_upper")?;
    let window = TimeWindow {
        start: prop_time("time_start")?,
        end: prop_time("time_end")?,
    };
    let given = |name: &str| {
        if props.contains_key(name) {
            format!("/properties/{name}")
        } else {
            format!("/properties/{name}_m")
        }
    };
    altitude::validate(
        outline,
        (lower, &lower_json),
        (upper, &upper_json),
        window,
        limits,
        rules,
    )
    .map_err(|e| {
        let path = match e.field {
            Field::Outline => "/geometry".to_string(),
            Field::Vertices => "/geometry/coordinates/0".into(),
            Field::Vertex(i) => format!("/geometry/coordinates/0/{i}"),
            Field::VertexLat(i) => format!("/geometry/coordinates/0/{i}/1"),
            Field::VertexLng(i) => format!("/geometry/coordinates/0/{i}/0"),
            Field::CenterLat => "/geometry/coordinates/1".into(),
            Field::CenterLng => "/geometry/coordinates/0".into(),
            Field::Radius => "/properties/radius_m".into(),
            Field::AltitudeLower => given("altitude_lower"),
            Field::AltitudeUpper => given("altitude_upper"),
            Field::TimeStart => "/properties/time_start".into(),
            Field::TimeEnd => "/properties/time_end".into(),
            _ => String::new(),
        };
        WireError::at(format!("{at}{path}"), e.kind.to_string())
    })
}

fn position(v: &Value, at: &str) -> Result<LatLng, WireError> {
    let p = array(v, at)?;
    if p.len() < 2 {
        return Err(WireError::at(at, "a position needs [longitude, latitude]"));
    }
    Ok(LatLng::new(
        number(&p[1], &format!("{at}/1"))?,
        number(&p[0], &format!("{at}/0"))?,
    ))
}
