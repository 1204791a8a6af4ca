//! Sanity checks on a notice (issue 23): what is probably a mistake is
//! refused unless the sender confirms it (`confirm_unusual: true` in the
//! request, `--confirm-unusual` in the CLI, which the adapter puts in
//! [`Volumes::with_unusual_confirmed`]). Decided where the line and the
//! clock are known: the writer, in the notice path.
//!
//! - A notice whose every window ended before now: a notice of the past.
//! - On a line with a region of operation ([`LineRules::region`], a box or
//!   a polygon): a volume that reaches outside it; and, when the volume's
//!   centre with latitude and longitude swapped would lie inside it, the
//!   refusal says that too (the commonest slip: GeoJSON is `[lng, lat]`,
//!   F3548 `{lat, lng}`). A polygon is the engine's
//!   [`parley_engine::Region`]: a volume within it has every point inside.
//!
//! A volume is named by its place in the notice's content (`/volumes/N`),
//! which is its place in the request unless a route or a multipolygon
//! before it was expanded into several.

use crate::content::Volumes;
use crate::error::ServiceError;
use crate::model::{LineRules, Region, RegionBounds};
use parley_engine::{Field, LatLng, LatLngBox};
use parley_wire::format_timestamp;

/// What to add to a refusal: how to send it anyway.
const CONFIRM: &str =
    "if it is meant, send it again with \"confirm_unusual\": true (CLI: --confirm-unusual)";

/// Refuses a notice of `volumes` on a line of `rules` at `now_us` that looks
/// like a mistake, unless the sender confirmed it.
pub(crate) fn check(volumes: &Volumes, rules: &LineRules, now_us: i64) -> Result<(), ServiceError> {
    if volumes.unusual_confirmed() {
        return Ok(());
    }
    let parsed = volumes.parsed();
    let last_end = parsed
        .iter()
        .map(|v| v.window().end.0)
        .max()
        .unwrap_or(i64::MAX);
    if last_end <= now_us {
        return Err(ServiceError::invalid(
            "/volumes",
            format!(
                "every volume's window has ended (the last at {}, before now, {}): a notice of the past is probably a mistake in its dates; {CONFIRM}",
                format_timestamp(parley_engine::Timestamp(last_end)),
                format_timestamp(parley_engine::Timestamp(now_us)),
            ),
        ));
    }
    let Some(region) = &rules.region else {
        return Ok(());
    };
    let region = Area::of(region);
    for (i, v) in parsed.iter().enumerate() {
        if region.contains(v) {
            continue;
        }
        let b = v.bounds();
        let (lat, lng) = centre(&b);
        let swapped = lng.abs() <= 90.0 && region.holds(lng, lat);
        let why = if swapped {
            format!(
                "its centre ({lat:.5}, {lng:.5}) with latitude and longitude swapped, ({lng:.5}, {lat:.5}), would lie inside it: check their order (F3548 gives {{\"lat\", \"lng\"}}, GeoJSON [longitude, latitude])"
            )
        } else {
            format!(
                "its box is {:.4} to {:.4} N, {:.4} to {:.4} E",
                b.south, b.north, b.west, b.east
            )
        };
        return Err(ServiceError::invalid(
            &format!("/volumes/{i}"),
            format!(
                "reaches outside the line's region of operation ({}); {why}; {CONFIRM}",
                region.describe()
            ),
        ));
    }
    Ok(())
}

/// A region as the checks use it.
enum Area {
    Bounds(RegionBounds),
    Polygon(parley_engine::Region, usize),
    /// A polygon the engine refuses (stored before a check that would have
    /// refused it): nothing is held to it.
    Anywhere,
}

impl Area {
    fn of(region: &Region) -> Area {
        match region {
            Region::Bounds(b) => Area::Bounds(*b),
            Region::Polygon { vertices } => match polygon(vertices) {
                Ok(p) => Area::Polygon(p, vertices.len()),
                Err(_) => Area::Anywhere,
            },
        }
    }

    fn contains(&self, v: &parley_engine::Volume) -> bool {
        match self {
            Area::Bounds(r) => contains(r, &v.bounds()),
            Area::Polygon(p, _) => p.contains(v),
            Area::Anywhere => true,
        }
    }

    fn holds(&self, lat: f64, lng: f64) -> bool {
        match self {
            Area::Bounds(r) => contains_point(r, lat, lng),
            Area::Polygon(p, _) => p.holds(LatLng::new(lat, lng)),
            Area::Anywhere => true,
        }
    }

    fn describe(&self) -> String {
        match self {
            Area::Bounds(r) => format!(
                "{:.4} to {:.4} N, {:.4} to {:.4} E",
                r.south, r.north, r.west, r.east
            ),
            Area::Polygon(_, n) => format!("a polygon of {n} vertices"),
            Area::Anywhere => "anywhere".into(),
        }
    }
}

fn polygon(
    vertices: &[crate::model::RegionVertex],
) -> Result<parley_engine::Region, parley_engine::VolumeError> {
    let points: Vec<LatLng> = vertices.iter().map(|v| LatLng::new(v.lat, v.lng)).collect();
    parley_engine::Region::polygon(&points)
}

/// Where in the rules a region's error lies.
fn region_pointer(field: &Field) -> String {
    let at = "/rules/region/vertices";
    match field {
        Field::VertexLat(i) => format!("{at}/{i}/lat"),
        Field::VertexLng(i) => format!("{at}/{i}/lng"),
        Field::Vertex(i) => format!("{at}/{i}"),
        _ => at.to_string(),
    }
}

/// Refuses a region that is not a box of latitudes and longitudes or a
/// polygon the engine accepts as an outline.
pub(crate) fn check_region(r: &Region) -> Result<(), ServiceError> {
    match r {
        Region::Bounds(b) => check_bounds(b),
        Region::Polygon { vertices } => polygon(vertices).map(|_| ()).map_err(|e| {
            ServiceError::invalid(
                &region_pointer(&e.field),
                format!(
                    "{}; give the polygon's vertices in order as {{\"lat\", \"lng\"}} in decimal degrees, at least 3, not repeating the first, its edges not crossing, within 2,000 km of its centre",
                    e.kind
                ),
            )
        }),
    }
}

fn check_bounds(r: &RegionBounds) -> Result<(), ServiceError> {
    let lat = |v: f64| v.is_finite() && (-90.0..=90.0).contains(&v);
    let lng = |v: f64| v.is_finite() && (-180.0..=180.0).contains(&v);
    for (name, ok) in [
        ("south", lat(r.south)),
        ("north", lat(r.north) && r.north > r.south),
        ("west", lng(r.west)),
        ("east", lng(r.east) && r.east != r.west),
    ] {
        if !ok {
            return Err(ServiceError::invalid(
                &format!("/rules/region/{name}"),
                "give a box in degrees: south and north from -90 to 90, north above south; west and east from -180 to 180 (west above east crosses the antimeridian)",
            ));
        }
    }
    Ok(())
}

/// Degrees east of the region's western edge, 0 to 360.
fn east_of(region: &RegionBounds, lng: f64) -> f64 {
    (lng - region.west).rem_euclid(360.0)
}

fn lng_span(region: &RegionBounds) -> f64 {
    (region.east - region.west).rem_euclid(360.0)
}

fn contains_point(region: &RegionBounds, lat: f64, lng: f64) -> bool {
    (region.south..=region.north).contains(&lat) && east_of(region, lng) <= lng_span(region)
}

fn contains(region: &RegionBounds, b: &LatLngBox) -> bool {
    b.south >= region.south
        && b.north <= region.north
        && east_of(region, b.west) + b.lng_span() <= lng_span(region)
}

fn centre(b: &LatLngBox) -> (f64, f64) {
    let lng = b.west + b.lng_span() / 2.0;
    (
        (b.south + b.north) / 2.0,
        if lng > 180.0 { lng - 360.0 } else { lng },
    )
}
