//! The horizontal part of a volume, prepared for fast exact comparison, and the
//! horizontal relation between two of them.
//!
//! Two footprints are compared in a [`LocalPlane`] centred between them, after
//! every geodesic edge has been cut into pieces of at most [`PIECE_M`]. Topology
//! (overlap, touch, apart) survives the projection exactly; a distance within a
//! narrow band of the minimum it is compared with is measured again in an exact
//! azimuthal-equidistant plane centred on the closest vertex, so verdicts do not
//! depend on projection distortion.

use crate::geodesy::{self, chord_m, Ecef, LatLng, LocalPlane, MIN_RADIUS_M};
use crate::planar::{self, Pt, Relation};
use crate::volume::{ErrorKind, Field, LatLngBox, Limits, VolumeError};

/// Longest piece of a geodesic edge that is treated as straight in a local plane,
/// metres. Its sagitta in any plane centred within 2,000 km is under 20 cm.
pub const PIECE_M: f64 = 5_000.0;
/// Most points an outline may have once its edges are cut into pieces, whatever
/// the deployment's limits (adapters may set a lower budget: see [`polygon_pieces`]).
pub const MAX_PIECES: usize = 50_000;

/// How many points a polygon outline has once every edge is cut into geodesic
/// pieces of at most [`PIECE_M`]: the measure of the work a volume costs, since
/// validating it and comparing it with another grow with this number (about
/// n log n). Vertices must be valid positions (a ring the validator accepts
/// costs exactly this); one inverse geodesic an edge at most.
///
/// ```
/// use parley_engine::{polygon_pieces, LatLng};
/// // A square of 0.4° at the equator: edges of about 44.3 km, 9 pieces each.
/// let square = [(0.0, 0.0), (0.0, 0.4), (0.4, 0.4), (0.4, 0.0)].map(|(lat, lng)| LatLng::new(lat, lng));
/// assert_eq!(polygon_pieces(&square), 4 * 9);
/// // Short edges stay whole: a point each.
/// let small = [(0.0, 0.0), (0.0, 0.01), (0.01, 0.0)].map(|(lat, lng)| LatLng::new(lat, lng));
/// assert_eq!(polygon_pieces(&small), 3);
/// ```
pub fn polygon_pieces(vertices: &[LatLng]) -> usize {
    let n = vertices.len();
    (0..n)
        .map(|i| geodesy::edge_piece_count(vertices[i], vertices[(i + 1) % n], PIECE_M))
        .sum()
}

#[derive(Clone, Debug)]
pub(crate) enum Shape {
    /// The ring with every edge cut into pieces, as ECEF points on the surface.
    Polygon(Vec<Ecef>),
    Circle {
        center: LatLng,
        radius_m: f64,
    },
}

#[derive(Clone, Debug)]
pub(crate) struct Footprint {
    pub(crate) shape: Shape,
    center_ecef: Ecef,
    /// No point of the outline is farther than this from `center`, metres.
    pub(crate) reach_m: f64,
    pub(crate) bounds: LatLngBox,
    /// The area it covers, square metres (a guard against abuse, not a survey).
    pub(crate) area_m2: f64,
}

/// The authalic radius of WGS84, metres: a sphere of the ellipsoid's area.
const AUTHALIC_RADIUS_M: f64 = 6_371_007.2;

/// How two footprints lie horizontally.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Horizontal {
    /// The interiors share an area.
    Overlap,
    /// The outlines are this many metres apart (0: they touch).
    Apart(f64),
}

impl Horizontal {
    /// Whether the horizontal gap is strictly less than `minimum_m`.
    pub(crate) fn closer_than(self, minimum_m: f64) -> bool {
        match self {
            Horizontal::Overlap => true,
            Horizontal::Apart(d) => d < minimum_m,
        }
    }
}

fn check_position(p: LatLng, lat: Field, lng: Field) -> Result<(), VolumeError> {
    for (v, field, max, out) in [
        (p.lat, lat, 90.0, ErrorKind::LatitudeOutOfRange(p.lat)),
        (p.lng, lng, 180.0, ErrorKind::LongitudeOutOfRange(p.lng)),
    ] {
        if !v.is_finite() {
            return Err(VolumeError::new(field, ErrorKind::NotFinite(v)));
        }
        if v.abs() > max {
            return Err(VolumeError::new(field, out));
        }
    }
    Ok(())
}

/// The area of a circle of geodesic radius `radius_m`: a spherical cap of
/// the same radius on the authalic sphere.
fn cap_area(radius_m: f64) -> f64 {
    2.0 * std::f64::consts::PI
        * AUTHALIC_RADIUS_M
        * AUTHALIC_RADIUS_M
        * (1.0 - (radius_m / AUTHALIC_RADIUS_M).cos())
}

/// The sum of a ring's vertices in ECEF, the direction of that sum (the
/// ring's centre) and the plane tangent there.
fn centre(vertices: &[LatLng]) -> ([f64; 3], LatLng, LocalPlane) {
    let mut sum = [0.0; 3];
    for &p in vertices {
        let e = geodesy::to_ecef(p);
        sum = [sum[0] + e[0], sum[1] + e[1], sum[2] + e[2]];
    }
    let center = geodesy::from_ecef_direction(sum);
    (sum, center, LocalPlane::at(center))
}

/// A ring with every edge cut into pieces: on the surface (`ring`, `ecef`)
/// and in the plane (`flat`), with the input edge each piece belongs to.
struct Cut {
    ring: Vec<LatLng>,
    edge_of: Vec<usize>,
    ecef: Vec<Ecef>,
    flat: Vec<Pt>,
}

impl Cut {
    fn new(vertices: &[LatLng], plane: &LocalPlane, pieces: usize) -> Cut {
        let n = vertices.len();
        let mut ring = Vec::with_capacity(pieces);
        let mut edge_of = Vec::with_capacity(pieces);
        for i in 0..n {
            ring.push(vertices[i]);
            ring.extend(geodesy::edge_points(
                vertices[i],
                vertices[(i + 1) % n],
                PIECE_M,
            ));
            edge_of.resize(ring.len(), i);
        }
        let ecef: Vec<Ecef> = ring.iter().map(|&p| geodesy::to_ecef(p)).collect();
        let flat: Vec<Pt> = ecef.iter().map(|&e| plane.project(e)).collect();
        Cut {
            ring,
            edge_of,
            ecef,
            flat,
        }
    }

    /// The area it encloses in the plane, square metres.
    fn area(&self) -> f64 {
        planar::doubled_area(&self.flat).abs() / 2.0
    }

    fn footprint(self, center: LatLng, area_m2: f64) -> Footprint {
        let reach = self
            .flat
            .iter()
            .map(|p| p[0].hypot(p[1]))
            .fold(0.0, f64::max);
        let bounds = pad(LatLngBox::around(center, self.ring.iter().copied()), PAD_M);
        Footprint {
            shape: Shape::Polygon(self.ecef),
            center_ecef: geodesy::to_ecef(center),
            // A piece bulges at most its sagitta beyond its ends; be generous.
            reach_m: reach * 1.001 + 1.0,
            bounds,
            area_m2,
        }
    }
}

impl Footprint {
    pub(crate) fn polygon(vertices: &[LatLng], limits: &Limits) -> Result<Footprint, VolumeError> {
        let n = vertices.len();
        if n > limits.max_vertices {
            return Err(VolumeError::new(
                Field::Vertices,
                ErrorKind::TooManyVertices {
                    count: n,
                    max: limits.max_vertices,
                },
            ));
        }
        for (i, &p) in vertices.iter().enumerate() {
            check_position(p, Field::VertexLat(i), Field::VertexLng(i))?;
        }
        for i in 1..n {
            if same_position(vertices[i], vertices[i - 1]) {
                return Err(VolumeError::new(
                    Field::Vertex(i),
                    ErrorKind::RepeatedVertex {
                        index: i,
                        previous: i - 1,
                    },
                ));
            }
        }
        if n >= 2 && same_position(vertices[n - 1], vertices[0]) {
            return Err(VolumeError::new(
                Field::Vertex(n - 1),
                ErrorKind::RepeatedVertex {
                    index: n - 1,
                    previous: 0,
                },
            ));
        }
        if n < 3 {
            return Err(VolumeError::new(
                Field::Vertices,
                ErrorKind::TooFewVertices(n),
            ));
        }
        let winding: f64 = (0..n)
            .map(|i| geodesy::lng_delta(vertices[i].lng, vertices[(i + 1) % n].lng))
            .sum();
        let mean_lat = vertices.iter().map(|p| p.lat).sum::<f64>() / n as f64;
        if winding.abs() > 180.0 || vertices.iter().any(|p| p.lat.abs() == 90.0) {
            let pole = if mean_lat >= 0.0 { "north" } else { "south" };
            return Err(VolumeError::new(
                Field::Outline,
                ErrorKind::ContainsPole(pole),
            ));
        }
        let (sum, center, plane) = centre(vertices);
        let extent = vertices
            .iter()
            .map(|&p| {
                let xy = plane.project(geodesy::to_ecef(p));
                xy[0].hypot(xy[1])
            })
            .fold(0.0, f64::max);
        if geodesy::norm(sum) < 1e-3 * geodesy::WGS84_A * n as f64 || extent > limits.max_extent_m {
            return Err(VolumeError::new(
                Field::Outline,
                ErrorKind::ExtentTooLarge {
                    extent_km: extent / 1e3,
                    max_km: limits.max_extent_m / 1e3,
                },
            ));
        }

        // Count the pieces first (an inverse geodesic an edge): cutting them costs
        // a direct geodesic each, and every later comparison grows with them.
        let pieces = polygon_pieces(vertices);
        if pieces > MAX_PIECES {
            return Err(VolumeError::new(
                Field::Vertices,
                ErrorKind::TooManyPieces {
                    pieces,
                    max: MAX_PIECES,
                },
            ));
        }
        let cut = Cut::new(vertices, &plane, pieces);
        if let Some((i, j)) = planar::self_intersection(&cut.flat) {
            let (first, second) = (cut.edge_of[i], cut.edge_of[j]);
            return Err(VolumeError::new(
                Field::Vertex(first),
                ErrorKind::SelfCrossing { first, second },
            ));
        }
        let area = cut.area();
        if area < crate::volume::MIN_AREA_M2 {
            return Err(VolumeError::new(
                Field::Vertices,
                ErrorKind::ZeroArea { area_m2: area },
            ));
        }
        if area > limits.max_area_m2 {
            return Err(VolumeError::new(
                Field::Outline,
                ErrorKind::AreaTooLarge {
                    area_km2: area / 1e6,
                    max_km2: limits.max_area_m2 / 1e6,
                },
            ));
        }
        Ok(cut.footprint(center, area))
    }

    /// The footprint of an outline [`Footprint::polygon`] accepted before,
    /// built the same way without a check (see [`crate::Volume::trusted`]).
    pub(crate) fn polygon_trusted(vertices: &[LatLng]) -> Footprint {
        let (_, center, plane) = centre(vertices);
        let cut = Cut::new(vertices, &plane, polygon_pieces(vertices));
        let area = cut.area();
        cut.footprint(center, area)
    }

    /// The footprint of a circle [`Footprint::circle`] accepted before.
    pub(crate) fn circle_trusted(center: LatLng, radius_m: f64) -> Footprint {
        Self::circle_shape(center, radius_m, cap_area(radius_m))
    }

    pub(crate) fn circle(
        center: LatLng,
        radius_m: f64,
        limits: &Limits,
    ) -> Result<Footprint, VolumeError> {
        check_position(center, Field::CenterLat, Field::CenterLng)?;
        if !radius_m.is_finite() || radius_m <= 0.0 {
            return Err(VolumeError::new(
                Field::Radius,
                ErrorKind::RadiusNotPositive(radius_m),
            ));
        }
        if radius_m > limits.max_extent_m {
            return Err(VolumeError::new(
                Field::Radius,
                ErrorKind::ExtentTooLarge {
                    extent_km: radius_m / 1e3,
                    max_km: limits.max_extent_m / 1e3,
                },
            ));
        }
        let area = cap_area(radius_m);
        if area > limits.max_area_m2 {
            return Err(VolumeError::new(
                Field::Radius,
                ErrorKind::AreaTooLarge {
                    area_km2: area / 1e6,
                    max_km2: limits.max_area_m2 / 1e6,
                },
            ));
        }
        for (pole, lat) in [("north", 90.0), ("south", -90.0)] {
            if geodesy::distance_m(center, LatLng::new(lat, center.lng)) <= radius_m {
                return Err(VolumeError::new(
                    Field::Radius,
                    ErrorKind::ContainsPole(pole),
                ));
            }
        }
        Ok(Self::circle_shape(center, radius_m, area))
    }

    fn circle_shape(center: LatLng, radius_m: f64, area_m2: f64) -> Footprint {
        // Along any geodesic from the centre, latitude moves at most 1° per
        // 110,574 m and longitude at most 1° per 111,320·cos(lat) m: `pad` uses both.
        let point = LatLngBox {
            south: center.lat,
            west: center.lng,
            north: center.lat,
            east: center.lng,
        };
        let bounds = pad(point, radius_m + PAD_M);
        Footprint {
            shape: Shape::Circle { center, radius_m },
            center_ecef: geodesy::to_ecef(center),
            reach_m: radius_m,
            bounds,
            area_m2,
        }
    }

    /// How `self` and `other` lie horizontally. The answer is exact (to the
    /// stated tolerance) wherever it matters for a comparison with `minimum_m`;
    /// elsewhere a distance may be off by up to (extent / earth radius)² of itself.
    pub(crate) fn relation(&self, other: &Footprint, minimum_m: f64) -> Horizontal {
        match (&self.shape, &other.shape) {
            (
                Shape::Circle {
                    center: a,
                    radius_m: ra,
                },
                Shape::Circle {
                    center: b,
                    radius_m: rb,
                },
            ) => {
                let plane = LocalPlane::at_ecef(self.center_ecef);
                let p = plane.project(other.center_ecef);
                let mut between = planar::len(p[0], p[1]);
                if near(between - ra - rb, minimum_m, RADIAL_ERROR * between) {
                    between = geodesy::distance_m(*a, *b);
                }
                gap_to_relation(between - ra - rb)
            }
            (Shape::Circle { center, radius_m }, Shape::Polygon(ring)) => {
                circle_polygon(*center, self.center_ecef, *radius_m, ring, minimum_m)
            }
            (Shape::Polygon(ring), Shape::Circle { center, radius_m }) => {
                circle_polygon(*center, other.center_ecef, *radius_m, ring, minimum_m)
            }
            (Shape::Polygon(a), Shape::Polygon(b)) => with_scratch(|fa, fb| {
                let plane = self.plane_between(other);
                fa.extend(a.iter().map(|&e| plane.project(e)));
                fb.extend(b.iter().map(|&e| plane.project(e)));
                match planar::relate(fa, fb) {
                    Relation::Overlap => Horizontal::Overlap,
                    Relation::Touch => Horizontal::Apart(0.0),
                    Relation::Apart { distance, .. } => {
                        let extent = chord_m(self.center_ecef, other.center_ecef) / 2.0
                            + self.reach_m.max(other.reach_m);
                        let error = distance * ((extent / MIN_RADIUS_M).powi(2) + RADIAL_ERROR);
                        if near(distance, minimum_m, error) {
                            Horizontal::Apart(exact_polygon_distance(a, b, fa, fb))
                        } else {
                            Horizontal::Apart(distance)
                        }
                    }
                }
            }),
        }
    }

    /// A lower bound on the distance between the two outlines, metres (negative
    /// when they may overlap): chords are never longer than geodesics.
    pub(crate) fn distance_lower_bound(&self, other: &Footprint) -> f64 {
        chord_m(self.center_ecef, other.center_ecef) - self.reach_m - other.reach_m
    }

    /// Whether every point of `self` lies inside `outer`, away from its
    /// boundary. Compared in the plane between the two, a circle as the 72-gon
    /// drawn around it; a distance there may be off by (extent / earth
    /// radius)² of itself, which a region of operation can afford (see
    /// `crate::region`).
    pub(crate) fn within(&self, outer: &Footprint) -> bool {
        if chord_m(self.center_ecef, outer.center_ecef) > self.reach_m + outer.reach_m {
            return false;
        }
        let plane = self.plane_between(outer);
        planar::within(&self.flatten(&plane), &outer.flatten(&plane))
    }

    /// Whether `p` lies inside `self` or on its boundary.
    pub(crate) fn holds(&self, p: LatLng) -> bool {
        let e = geodesy::to_ecef(p);
        if chord_m(self.center_ecef, e) > self.reach_m {
            return false;
        }
        let plane = LocalPlane::at_ecef(self.center_ecef);
        planar::locate(plane.project(e), &self.flatten(&plane)) != planar::Location::Outside
    }

    /// The plane halfway between the two centres.
    fn plane_between(&self, other: &Footprint) -> LocalPlane {
        let (a, b) = (self.center_ecef, other.center_ecef);
        LocalPlane::toward([a[0] + b[0], a[1] + b[1], a[2] + b[2]])
    }

    /// Where the two footprints meet or come closest: the bounding box of their
    /// overlap, or of the two closest points.
    pub(crate) fn meeting_bounds(&self, other: &Footprint) -> LatLngBox {
        let plane = self.plane_between(other);
        let (fa, fb) = (self.flatten(&plane), other.flatten(&plane));
        let corners: Vec<Pt> = match planar::overlap_bounds(&fa, &fb) {
            Some([west, south, east, north]) => {
                vec![[west, south], [east, north], [west, north], [east, south]]
            }
            None => match planar::relate(&fa, &fb) {
                Relation::Apart { closest, .. } => {
                    let vertex = if closest.vertex_in_a {
                        fa[closest.vertex]
                    } else {
                        fb[closest.vertex]
                    };
                    vec![vertex, closest.point]
                }
                Relation::Overlap | Relation::Touch => {
                    unreachable!("rings that meet share a point")
                }
            },
        };
        let points: Vec<LatLng> = corners.iter().map(|&p| plane.unproject(p)).collect();
        LatLngBox::around(points[0], points)
    }

    /// The outline in `plane`, circles as circumscribed 72-gons.
    fn flatten(&self, plane: &LocalPlane) -> Vec<Pt> {
        match &self.shape {
            Shape::Polygon(ring) => ring.iter().map(|&e| plane.project(e)).collect(),
            Shape::Circle { radius_m, .. } => {
                let c = plane.project(self.center_ecef);
                let r = radius_m / (std::f64::consts::PI / 72.0).cos();
                (0..72)
                    .map(|k| {
                        let t = k as f64 * std::f64::consts::TAU / 72.0;
                        [c[0] + r * t.cos(), c[1] + r * t.sin()]
                    })
                    .collect()
            }
        }
    }
}

/// Margin added around bounding boxes for the sagitta of pieces, metres.
const PAD_M: f64 = 200.0;

/// `b` grown by `margin_m` metres on every side.
pub(crate) fn pad(b: LatLngBox, margin_m: f64) -> LatLngBox {
    let dlat = margin_m / 110_574.0;
    let south = (b.south - dlat).max(-90.0);
    let north = (b.north + dlat).min(90.0);
    let cos = south.abs().max(north.abs()).to_radians().cos();
    let dlng = margin_m / (111_320.0 * cos.max(1e-9));
    if north.abs().max(south.abs()) >= 89.99 || b.lng_span() + 2.0 * dlng >= 360.0 {
        return LatLngBox {
            south,
            west: -180.0,
            north,
            east: 180.0,
        };
    }
    LatLngBox {
        south,
        west: geodesy::normalize_lng(b.west - dlng),
        north,
        east: geodesy::normalize_lng(b.east + dlng),
    }
}

fn same_position(a: LatLng, b: LatLng) -> bool {
    a.lat == b.lat && (a.lng == b.lng || (a.lng.abs() == 180.0 && b.lng.abs() == 180.0))
}

/// Whether `value` is close enough to `threshold` that an error of up to
/// `error_m` (plus a metre for the sagitta of pieces) could put it on the other side.
fn near(value: f64, threshold: f64, error_m: f64) -> bool {
    (value - threshold).abs() <= 1.0 + error_m
}

/// Relative error of distances measured radially in a [`LocalPlane`].
const RADIAL_ERROR: f64 = 1e-4;

fn gap_to_relation(gap: f64) -> Horizontal {
    if gap < 0.0 {
        Horizontal::Overlap
    } else {
        Horizontal::Apart(gap)
    }
}

/// Two reusable buffers for projected rings, so that comparisons do not allocate.
fn with_scratch<T>(f: impl FnOnce(&mut Vec<Pt>, &mut Vec<Pt>) -> T) -> T {
    thread_local! {
        static SCRATCH: std::cell::RefCell<(Vec<Pt>, Vec<Pt>)> = const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
    }
    SCRATCH.with(|s| match s.try_borrow_mut() {
        Ok(mut s) => {
            let (a, b) = &mut *s;
            a.clear();
            b.clear();
            f(a, b)
        }
        Err(_) => f(&mut Vec::new(), &mut Vec::new()),
    })
}

fn circle_polygon(
    center: LatLng,
    center_ecef: Ecef,
    radius_m: f64,
    ring: &[Ecef],
    minimum_m: f64,
) -> Horizontal {
    let plane = LocalPlane::at_ecef(center_ecef);
    let mut d = with_scratch(|flat, _| {
        flat.extend(ring.iter().map(|&e| plane.project(e)));
        planar::signed_distance([0.0, 0.0], flat)
    });
    if d > 0.0 && near(d - radius_m, minimum_m, RADIAL_ERROR * d) {
        let latlng: Vec<LatLng> = ring
            .iter()
            .map(|&e| geodesy::from_ecef_direction(e))
            .collect();
        let mut exact = Vec::with_capacity(latlng.len());
        geodesy::exact_plane(center, &latlng, &mut exact);
        d = planar::signed_distance([0.0, 0.0], &exact);
    }
    if d <= 0.0 {
        // The centre is inside or on the polygon: the open disc meets its interior.
        return Horizontal::Overlap;
    }
    gap_to_relation(d - radius_m)
}

/// The distance between two polygons that are apart, measured from each side's
/// nearest vertices in exact azimuthal-equidistant planes centred on them.
fn exact_polygon_distance(a: &[Ecef], b: &[Ecef], fa: &[Pt], fb: &[Pt]) -> f64 {
    let nearest = |from: &[Pt], to: &[Pt]| planar::nearest(from, to).1.vertex;
    let from_a = geodesy::from_ecef_direction(a[nearest(fa, fb)]);
    let from_b = geodesy::from_ecef_direction(b[nearest(fb, fa)]);
    let ring_a: Vec<LatLng> = a.iter().map(|&e| geodesy::from_ecef_direction(e)).collect();
    let ring_b: Vec<LatLng> = b.iter().map(|&e| geodesy::from_ecef_direction(e)).collect();
    let mut flat = Vec::new();
    geodesy::exact_plane(from_a, &ring_b, &mut flat);
    let da = planar::distance_to_boundary([0.0, 0.0], &flat).0;
    geodesy::exact_plane(from_b, &ring_a, &mut flat);
    let db = planar::distance_to_boundary([0.0, 0.0], &flat).0;
    da.min(db)
}
