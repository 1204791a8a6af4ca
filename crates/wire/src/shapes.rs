//! Routes (corridors) and multipolygons, turned into the volumes the engine
//! knows, before anything else: the work budget, the limit of volumes a
//! notice and validation all see the expanded volumes, and every error
//! points back into the volume as it was given ([`Expanded::pointer`]).
//!
//! - A GeoJSON `Feature` whose geometry is a `MultiPolygon` becomes one
//!   Polygon volume a polygon, each with the Feature's properties.
//! - A `LineString` with a `half_width_m` property is a corridor: every point
//!   within `half_width_m` (geodesic) of the route, which goes from position
//!   to position along geodesics. It becomes a chain of volumes that covers
//!   that buffer, conservatively: for each leg a quadrilateral whose sides
//!   are the geodesics at right angles to the leg at its ends, each `half_width_m`
//!   (plus 1 mm a kilometre and 1 cm) long, and whose long edges are the
//!   geodesics between their ends; and a circle of radius `half_width_m` at
//!   every turn and at both ends. A point within the distance of a leg either
//!   has its nearest point of the leg inside it, so lies in the quadrilateral
//!   (the long edges are geodesics between points at the distance, which
//!   bulge away from the leg, never towards it), or nearest at an end, so
//!   lies in that end's circle. Legs longer than 100 km are cut into equal
//!   parts (consecutive quadrilaterals share a side there and need no circle).
//!   So a route of n positions makes at most 2n − 1 volumes; the notice's
//!   limit of volumes counts them. The cover reaches beyond the buffer only
//!   at the corners of the quadrilaterals at a turn, by at most the
//!   half-width times (1/cos(turn/2) − 1) and only on the outside of a turn.
//!   Tested against GEOS and geographiclib (`tests/reference/reference.py`
//!   routes) by the coverage of points within the distance of random routes.

use crate::{array, field, number, object, WireError};
use geographiclib_rs::{DirectGeodesic, Geodesic, InverseGeodesic};
use serde_json::{json, Map, Value};

/// Longest leg of a quadrilateral, metres: longer legs are cut.
const MAX_LEG_M: f64 = 100_000.0;

/// How a volume of the expansion sits in the volume given.
#[derive(Clone, Debug, PartialEq)]
enum Part {
    /// The volume as given.
    Whole,
    /// Polygon `k` of a MultiPolygon.
    Polygon(usize),
    /// A piece of a corridor.
    Corridor,
}

/// Volumes once routes and multipolygons are expanded, and where each came
/// from.
#[derive(Clone, Debug)]
pub struct Expanded {
    /// The volumes, in the forms [`crate::parse_volume`] reads.
    pub values: Vec<Value>,
    origins: Vec<(usize, Part)>,
    at: String,
}

impl Expanded {
    /// The pointer, into the volumes as given, of `pointer` (into
    /// [`Expanded::values`] at the same array pointer).
    pub fn pointer(&self, pointer: &str) -> String {
        let Some(rest) = pointer.strip_prefix(&format!("{}/", self.at)) else {
            return pointer.to_string();
        };
        let (index, inner) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let Some((source, part)) = index
            .parse::<usize>()
            .ok()
            .and_then(|j| self.origins.get(j))
        else {
            return pointer.to_string();
        };
        let inner = match part {
            Part::Whole => inner.to_string(),
            Part::Polygon(k) => match inner.strip_prefix("/geometry/coordinates") {
                Some(r) => format!("/geometry/coordinates/{k}{r}"),
                None => inner.to_string(),
            },
            Part::Corridor => {
                if inner.starts_with("/geometry") {
                    "/geometry/coordinates".to_string()
                } else if inner == "/properties/radius_m" {
                    "/properties/half_width_m".to_string()
                } else {
                    inner.to_string()
                }
            }
        };
        format!("{}/{source}{inner}", self.at)
    }

    /// [`WireError`] `e` with its pointer into the volumes as given.
    pub fn error(&self, e: WireError) -> WireError {
        WireError::at(self.pointer(&e.pointer), e.message)
    }
}

/// Expands the volumes at pointer `at`: a MultiPolygon into its polygons, a
/// corridor into its pieces; others as they are. Refuses more than
/// `max_volumes` once expanded, naming the volume that goes over.
pub fn expand(volumes: &[Value], at: &str, max_volumes: usize) -> Result<Expanded, WireError> {
    let mut out = Expanded {
        values: Vec::with_capacity(volumes.len()),
        origins: Vec::with_capacity(volumes.len()),
        at: at.to_string(),
    };
    for (i, v) in volumes.iter().enumerate() {
        let vat = format!("{at}/{i}");
        let kind = v.get("type").and_then(Value::as_str) == Some("Feature");
        let geometry = v
            .get("geometry")
            .and_then(|g| g.get("type"))
            .and_then(Value::as_str);
        let pieces = match (kind, geometry) {
            (true, Some("MultiPolygon")) => multipolygon(v, &vat, max_volumes)?
                .into_iter()
                .enumerate()
                .map(|(k, p)| (p, Part::Polygon(k)))
                .collect(),
            (true, Some("LineString")) => corridor(v, &vat, max_volumes)?
                .into_iter()
                .map(|p| (p, Part::Corridor))
                .collect(),
            _ => vec![(v.clone(), Part::Whole)],
        };
        let made = pieces.len();
        for (p, part) in pieces {
            out.values.push(p);
            out.origins.push((i, part));
        }
        if out.values.len() > max_volumes {
            return Err(WireError::at(
                vat,
                format!(
                    "the volumes up to this one make {} once routes and multipolygons are expanded (this one makes {made}; a route makes a volume for each leg and each position), more than the limit of {max_volumes} in one notice; send the rest in another notice, or give a route fewer positions",
                    out.values.len()
                ),
            ));
        }
    }
    Ok(out)
}

/// A Feature with `geometry` replaced and `properties` changed by `props`.
fn feature(v: &Value, geometry: Value, props: impl FnOnce(&mut Map<String, Value>)) -> Value {
    let mut f = v.clone();
    f["geometry"] = geometry;
    if let Some(p) = f.get_mut("properties").and_then(Value::as_object_mut) {
        props(p);
    }
    f
}

/// Refuses a list that would make more than `max` volumes before making them.
fn at_most(list: &[Value], max: usize, at: &str, what: &str) -> Result<(), WireError> {
    if list.len() > max {
        return Err(WireError::at(
            at,
            format!(
                "has {} {what}, making more than the limit of {max} volumes in one notice; send fewer",
                list.len()
            ),
        ));
    }
    Ok(())
}

fn multipolygon(v: &Value, at: &str, max: usize) -> Result<Vec<Value>, WireError> {
    let cat = format!("{at}/geometry/coordinates");
    let polygons = array(field(object(&v["geometry"], at)?, at, "coordinates")?, &cat)?;
    if polygons.is_empty() {
        return Err(WireError::at(cat, "has no polygon; give one or more"));
    }
    at_most(polygons, max, &cat, "polygons")?;
    Ok(polygons
        .iter()
        .map(|rings| feature(v, json!({"type": "Polygon", "coordinates": rings}), |_| {}))
        .collect())
}

fn corridor(v: &Value, at: &str, max: usize) -> Result<Vec<Value>, WireError> {
    let pat = format!("{at}/properties");
    let props = object(field(object(v, at)?, at, "properties")?, &pat)?;
    let wat = format!("{pat}/half_width_m");
    let half_width = number(
        field(props, &pat, "half_width_m").map_err(|_| {
            WireError::at(
                &wat,
                "missing; a route (LineString) is a corridor: give its half-width in metres",
            )
        })?,
        &wat,
    )?;
    if !(half_width.is_finite() && half_width > 0.0) {
        return Err(WireError::at(
            wat,
            "give a half-width in metres, more than 0",
        ));
    }
    let cat = format!("{at}/geometry/coordinates");
    let list = array(field(object(&v["geometry"], at)?, at, "coordinates")?, &cat)?;
    at_most(
        list,
        max,
        &cat,
        "positions (a route makes a volume a position, and one a leg)",
    )?;
    let mut route: Vec<(f64, f64)> = Vec::with_capacity(list.len());
    for (i, p) in list.iter().enumerate() {
        let pat = format!("{cat}/{i}");
        let p = array(p, &pat)?;
        if p.len() < 2 {
            return Err(WireError::at(pat, "a position needs [longitude, latitude]"));
        }
        let (lng, lat) = (
            number(&p[0], &format!("{pat}/0"))?,
            number(&p[1], &format!("{pat}/1"))?,
        );
        if !(-90.0..=90.0).contains(&lat) {
            let swapped = if (-90.0..=90.0).contains(&lng) {
                " (GeoJSON gives [longitude, latitude]: are they swapped?)"
            } else {
                ""
            };
            return Err(WireError::at(
                format!("{pat}/1"),
                format!("latitude {lat} is beyond -90 to 90; give degrees north (south is negative){swapped}"),
            ));
        }
        if !(-180.0..=180.0).contains(&lng) {
            return Err(WireError::at(
                format!("{pat}/0"),
                format!(
                    "longitude {lng} is beyond -180 to 180; give degrees east (west is negative)"
                ),
            ));
        }
        if route.last() != Some(&(lat, lng)) {
            route.push((lat, lng));
        }
    }
    if route.is_empty() {
        return Err(WireError::at(cat, "has no position; give two or more"));
    }
    Ok(corridor_pieces(&route, half_width)
        .into_iter()
        .map(|piece| match piece {
            Piece::Circle(lat, lng) => feature(
                v,
                json!({"type": "Point", "coordinates": [lng, lat]}),
                |p| {
                    p.remove("half_width_m");
                    p.insert("radius_m".into(), json!(half_width));
                },
            ),
            Piece::Quad(corners) => {
                let mut ring: Vec<Value> =
                    corners.iter().map(|(lat, lng)| json!([lng, lat])).collect();
                ring.push(ring[0].clone());
                feature(v, json!({"type": "Polygon", "coordinates": [ring]}), |p| {
                    p.remove("half_width_m");
                })
            }
        })
        .collect())
}

/// A piece of a corridor's cover.
#[derive(Clone, Debug, PartialEq)]
pub enum Piece {
    /// A circle of the half-width around (lat, lng).
    Circle(f64, f64),
    /// A quadrilateral, (lat, lng) corners in order.
    Quad([(f64, f64); 4]),
}

/// The pieces that cover the corridor of `half_width_m` around `route`
/// ((lat, lng) positions, no two consecutive equal): see the module's docs.
pub fn corridor_pieces(route: &[(f64, f64)], half_width_m: f64) -> Vec<Piece> {
    let g = Geodesic::wgs84();
    let mut pieces = Vec::new();
    let side = half_width_m * (1.0 + 1e-6) + 0.01;
    for (k, &(lat, lng)) in route.iter().enumerate() {
        pieces.push(Piece::Circle(lat, lng));
        let Some(&(lat2, lng2)) = route.get(k + 1) else {
            break;
        };
        let (length, azi1, _, _): (f64, f64, f64, f64) = g.inverse(lat, lng, lat2, lng2);
        let parts = (length / MAX_LEG_M).ceil().max(1.0) as usize;
        for j in 0..parts {
            let (s0, s1) = (
                length * j as f64 / parts as f64,
                length * (j + 1) as f64 / parts as f64,
            );
            let (a_lat, a_lng, a_azi): (f64, f64, f64) = g.direct(lat, lng, azi1, s0);
            let (b_lat, b_lng, b_azi): (f64, f64, f64) = g.direct(lat, lng, azi1, s1);
            let offset = |la: f64, ln: f64, azi: f64, turn: f64| -> (f64, f64) {
                let (olat, olng): (f64, f64) = g.direct(la, ln, azi + turn, side);
                (olat, olng)
            };
            pieces.push(Piece::Quad([
                offset(a_lat, a_lng, a_azi, -90.0),
                offset(b_lat, b_lng, b_azi, -90.0),
                offset(b_lat, b_lng, b_azi, 90.0),
                offset(a_lat, a_lng, a_azi, 90.0),
            ]));
        }
    }
    pieces
}
