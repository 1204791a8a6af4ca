//! Positions on the WGS84 ellipsoid, geodesics between them, and the local plane
//! in which two nearby shapes are compared.
//!
//! # Units
//! Latitudes and longitudes are degrees; distances are metres along geodesics of
//! the WGS84 ellipsoid; azimuths are degrees clockwise from north.

use geographiclib_rs::{DirectGeodesic, Geodesic, InverseGeodesic};
use std::sync::OnceLock;

/// WGS84 semi-major axis, metres.
pub const WGS84_A: f64 = 6_378_137.0;
/// WGS84 flattening.
pub const WGS84_F: f64 = 1.0 / 298.257_223_563;
const E2: f64 = WGS84_F * (2.0 - WGS84_F);
/// A radius no larger than any radius of curvature of WGS84 (the meridional radius
/// at the equator), metres. Used wherever a bound must stay conservative.
pub(crate) const MIN_RADIUS_M: f64 = 6_335_439.0;

/// A position on the WGS84 ellipsoid, degrees north and east.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LatLng {
    /// Degrees north, in [-90, 90].
    pub lat: f64,
    /// Degrees east, in [-180, 180].
    pub lng: f64,
}

impl LatLng {
    /// A position from degrees north and east.
    pub const fn new(lat: f64, lng: f64) -> Self {
        Self { lat, lng }
    }
}

/// Earth-centred, earth-fixed coordinates of a point on the ellipsoid surface, metres.
pub(crate) type Ecef = [f64; 3];

fn wgs84() -> &'static Geodesic {
    static G: OnceLock<Geodesic> = OnceLock::new();
    G.get_or_init(Geodesic::wgs84)
}

/// Geodesic distance between two positions, metres.
pub fn distance_m(a: LatLng, b: LatLng) -> f64 {
    wgs84().inverse(a.lat, a.lng, b.lat, b.lng)
}

/// Distance (metres) and azimuth at `a` (degrees) of the geodesic from `a` to `b`.
pub(crate) fn inverse(a: LatLng, b: LatLng) -> (f64, f64) {
    let (s12, azi1, _azi2, _a12): (f64, f64, f64, f64) =
        wgs84().inverse(a.lat, a.lng, b.lat, b.lng);
    (s12, azi1)
}

/// The position `distance_m` along the geodesic leaving `a` at `azimuth_deg`.
pub(crate) fn direct(a: LatLng, azimuth_deg: f64, distance_m: f64) -> LatLng {
    let (lat, lng): (f64, f64) = wgs84().direct(a.lat, a.lng, azimuth_deg, distance_m);
    LatLng::new(lat, normalize_lng(lng))
}

/// Longitude folded into [-180, 180).
pub fn normalize_lng(lng: f64) -> f64 {
    let x = (lng + 180.0).rem_euclid(360.0) - 180.0;
    if x.is_finite() {
        x
    } else {
        lng
    }
}

/// `to - from` in degrees of longitude, folded into [-180, 180).
pub fn lng_delta(from: f64, to: f64) -> f64 {
    normalize_lng(to - from)
}

pub(crate) fn to_ecef(p: LatLng) -> Ecef {
    let (sin_lat, cos_lat) = p.lat.to_radians().sin_cos();
    let (sin_lng, cos_lng) = p.lng.to_radians().sin_cos();
    let n = WGS84_A / (1.0 - E2 * sin_lat * sin_lat).sqrt();
    [
        n * cos_lat * cos_lng,
        n * cos_lat * sin_lng,
        n * (1.0 - E2) * sin_lat,
    ]
}

/// The surface point whose ECEF direction from the centre is `v` (any length).
pub(crate) fn from_ecef_direction(v: Ecef) -> LatLng {
    let rho = v[0].hypot(v[1]);
    // For a surface point tan(lat) = z / ((1 - e²) ρ); a scaled ray keeps the ratio.
    let lat = v[2].atan2((1.0 - E2) * rho).to_degrees();
    let lng = if rho == 0.0 {
        0.0
    } else {
        v[1].atan2(v[0]).to_degrees()
    };
    LatLng::new(lat, lng)
}

pub(crate) fn sub(a: Ecef, b: Ecef) -> Ecef {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

pub(crate) fn dot(a: Ecef, b: Ecef) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

pub(crate) fn scale(a: Ecef, k: f64) -> Ecef {
    [a[0] * k, a[1] * k, a[2] * k]
}

pub(crate) fn norm(a: Ecef) -> f64 {
    dot(a, a).sqrt()
}

/// A straight-line (chord) distance never exceeds the geodesic one, so it gives
/// cheap lower bounds on distances between shapes.
pub(crate) fn chord_m(a: Ecef, b: Ecef) -> f64 {
    norm(sub(a, b))
}

/// A plane tangent to the ellipsoid at a centre, with an azimuthal-equidistant
/// radial correction: distances from the centre are geodesic to within the
/// difference between the ellipsoid and its osculating sphere (parts per million
/// within a few hundred kilometres), and any distance between two points within
/// `r` of the centre is off by at most about (r/R)² of itself. Callers that need
/// better re-centre the plane at the place that matters (see [`exact_plane`]).
///
/// Being a continuous bijection near the centre, the projection keeps topology:
/// whether two shapes overlap, touch or are apart is decided exactly in the plane.
pub(crate) struct LocalPlane {
    origin: Ecef,
    east: Ecef,
    north: Ecef,
    up: Ecef,
    /// Meridional and prime-vertical radii of curvature at the centre.
    m: f64,
    n: f64,
}

impl LocalPlane {
    pub(crate) fn at(center: LatLng) -> Self {
        Self::at_ecef(to_ecef(center))
    }

    /// The plane at the surface point in direction `v` from the earth's centre.
    pub(crate) fn toward(v: Ecef) -> Self {
        let b2 = WGS84_A * WGS84_A * (1.0 - E2);
        let k = 1.0 / ((v[0] * v[0] + v[1] * v[1]) / (WGS84_A * WGS84_A) + v[2] * v[2] / b2).sqrt();
        Self::at_ecef([v[0] * k, v[1] * k, v[2] * k])
    }

    /// The plane tangent at `origin`, a point on the surface; no trigonometry.
    pub(crate) fn at_ecef(origin: Ecef) -> Self {
        // The surface normal is the gradient of x²/a² + y²/a² + z²/b².
        let g = [origin[0], origin[1], origin[2] / (1.0 - E2)];
        let up = scale(g, 1.0 / norm(g));
        let horizontal = (up[0] * up[0] + up[1] * up[1]).sqrt();
        let east = if horizontal > 0.0 {
            [-up[1] / horizontal, up[0] / horizontal, 0.0]
        } else {
            [0.0, 1.0, 0.0]
        };
        let north = [
            up[1] * east[2] - up[2] * east[1],
            up[2] * east[0] - up[0] * east[2],
            up[0] * east[1] - up[1] * east[0],
        ];
        // up[2] is the sine of the geodetic latitude.
        let w = (1.0 - E2 * up[2] * up[2]).sqrt();
        Self {
            origin,
            east,
            north,
            up,
            m: WGS84_A * (1.0 - E2) / (w * w * w),
            n: WGS84_A / w,
        }
    }

    pub(crate) fn center(&self) -> LatLng {
        from_ecef_direction(self.origin)
    }

    pub(crate) fn project(&self, p: Ecef) -> [f64; 2] {
        let d = sub(p, self.origin);
        let x = dot(d, self.east);
        let y = dot(d, self.north);
        let z = dot(d, self.up);
        let rho2 = x * x + y * y;
        if rho2 == 0.0 {
            return [0.0, 0.0];
        }
        let rho = rho2.sqrt();
        // Euler: the normal section's radius of curvature in this direction.
        let r = rho2 / (y * y / self.m + x * x / self.n);
        let t = rho / (r + z);
        // atan(t) by its series where that is exact to the last bit (t < 0.01
        // is within 64 km of the centre); libm's atan2 beyond.
        let angle = if t < 0.01 {
            let t2 = t * t;
            t * (1.0 - t2 * (1.0 / 3.0 - t2 * (0.2 - t2 / 7.0)))
        } else {
            rho.atan2(r + z)
        };
        let arc = r * angle;
        [x * arc / rho, y * arc / rho]
    }

    /// The position at plane coordinates `xy`, read as azimuth and geodesic distance.
    pub(crate) fn unproject(&self, xy: [f64; 2]) -> LatLng {
        let s = xy[0].hypot(xy[1]);
        if s == 0.0 {
            return self.center();
        }
        direct(self.center(), xy[0].atan2(xy[1]).to_degrees(), s)
    }
}

/// An exact ellipsoidal azimuthal-equidistant projection about `center`: every
/// point's distance from the centre is its geodesic distance. Costs one geodesic
/// inverse per point; used only to settle verdicts that lie near a minimum.
pub(crate) fn exact_plane(center: LatLng, points: &[LatLng], out: &mut Vec<[f64; 2]>) {
    out.clear();
    out.extend(points.iter().map(|&p| {
        let (s, azi) = inverse(center, p);
        let (sin, cos) = azi.to_radians().sin_cos();
        [s * sin, s * cos]
    }));
}

/// Points along the geodesic edges of a closed ring so that no piece is longer than
/// `max_piece_m`.
#[cfg(test)]
fn densify_ring(ring: &[LatLng], max_piece_m: f64) -> Vec<LatLng> {
    let mut out = Vec::with_capacity(ring.len());
    for (i, &p) in ring.iter().enumerate() {
        out.push(p);
        out.extend(edge_points(p, ring[(i + 1) % ring.len()], max_piece_m));
    }
    out
}

/// How geodesic edge p-q is cut: from its lexicographically smaller end, the
/// azimuth there, the length and the number of pieces; `None` when it is one
/// piece already.
fn edge_pieces(p: LatLng, q: LatLng, max_piece_m: f64) -> Option<(LatLng, f64, f64, usize)> {
    // A chord shorter than a piece may still be a slightly longer geodesic;
    // the margin keeps every piece under the limit.
    if chord_m(to_ecef(p), to_ecef(q)) * 1.01 < max_piece_m {
        return None;
    }
    let forward = (p.lat, p.lng) <= (q.lat, q.lng);
    let (from, to) = if forward { (p, q) } else { (q, p) };
    let (s, azi) = inverse(from, to);
    let pieces = (s / max_piece_m).ceil().max(1.0) as usize;
    Some((from, azi, s, pieces))
}

/// How many pieces [`edge_points`] cuts edge p-q into (1 when it leaves it
/// whole), at the cost of one inverse geodesic at most.
pub(crate) fn edge_piece_count(p: LatLng, q: LatLng, max_piece_m: f64) -> usize {
    edge_pieces(p, q, max_piece_m).map_or(1, |(.., pieces)| pieces)
}

/// The points strictly between `p` and `q` that cut the geodesic from `p` to `q`
/// into pieces no longer than `max_piece_m`, in order from `p`. The edge is always
/// interpolated from its lexicographically smaller end, so two rings that share an
/// edge (in either direction) share its points exactly.
pub(crate) fn edge_points(p: LatLng, q: LatLng, max_piece_m: f64) -> Vec<LatLng> {
    let Some((from, azi, s, pieces)) = edge_pieces(p, q, max_piece_m) else {
        return Vec::new();
    };
    let forward = from == p;
    let mut out: Vec<LatLng> = (1..pieces)
        .map(|k| direct(from, azi, s * k as f64 / pieces as f64))
        .collect();
    if !forward {
        out.reverse();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_plane_measures_geodesic_distance_from_its_centre() {
        let c = LatLng::new(35.0, 38.0);
        let plane = LocalPlane::at(c);
        for (azi, s) in [(0.0, 10_000.0), (90.0, 50_000.0), (200.0, 120_000.0)] {
            let p = direct(c, azi, s);
            let xy = plane.project(to_ecef(p));
            let measured = xy[0].hypot(xy[1]);
            assert!((measured - s).abs() < 1e-5 * s, "{azi} {s}: {measured}");
            let back = plane.unproject(xy);
            assert!(distance_m(back, p) < 1e-5 * s, "{back:?} vs {p:?}");
        }
    }

    #[test]
    fn densified_shared_edges_are_identical_in_both_directions() {
        let a = [
            LatLng::new(60.0, 0.0),
            LatLng::new(60.0, 20.0),
            LatLng::new(50.0, 10.0),
        ];
        let b = [a[1], a[0], LatLng::new(70.0, 10.0)];
        let da = densify_ring(&a, 5_000.0);
        let db = densify_ring(&b, 5_000.0);
        // a's first edge runs 0→20 along 60N; b's first edge is the same, reversed.
        let edge_a: Vec<_> = da.iter().take_while(|p| p.lng < 20.0).collect();
        let n = edge_a.len();
        let edge_b: Vec<_> = db[..=n].iter().rev().take(n).collect();
        assert_eq!(edge_a, edge_b);
        // The geodesic along "60N" bulges well poleward of the parallel.
        let top = da.iter().map(|p| p.lat).fold(f64::MIN, f64::max);
        assert!(top > 60.35 && top < 60.45, "{top}");
    }

    #[test]
    fn ecef_round_trips() {
        for p in [
            LatLng::new(0.0, 0.0),
            LatLng::new(89.9, -179.0),
            LatLng::new(-45.5, 179.99),
        ] {
            let q = from_ecef_direction(to_ecef(p));
            assert!((p.lat - q.lat).abs() < 1e-12 && (p.lng - q.lng).abs() < 1e-9);
        }
    }
}
