//! Exact planar predicates on projected rings: overlap, touch or distance.
//!
//! Orientation signs come from Shewchuk's adaptive predicates (`robust`), so a
//! shared edge or a vertex lying on an edge is recognised as touching, never as a
//! tiny overlap. Only the genuinely degenerate layouts (boundaries that touch
//! without crossing) are handed to `geo`'s DE-9IM relate.

use crate::segments::Edges;
use geo::{Coord, LineString, Polygon, Relate};
use robust::{orient2d, Coord as RCoord};

pub(crate) type Pt = [f64; 2];

/// How two closed planar regions lie to each other.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Relation {
    /// Their interiors share a region of positive area.
    Overlap,
    /// Their boundaries meet but their interiors do not.
    Touch,
    /// They are `distance` apart; the closest approach is `vertex` of one ring
    /// (`vertex_in_a` tells which) to a point of the other ring.
    Apart { distance: f64, closest: Closest },
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Closest {
    pub(crate) vertex_in_a: bool,
    pub(crate) vertex: usize,
    pub(crate) point: Pt,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Location {
    Inside,
    Boundary,
    Outside,
}

fn orient(a: Pt, b: Pt, c: Pt) -> f64 {
    orient2d(
        RCoord { x: a[0], y: a[1] },
        RCoord { x: b[0], y: b[1] },
        RCoord { x: c[0], y: c[1] },
    )
}

fn on_segment(a: Pt, b: Pt, p: Pt) -> bool {
    // Only called when p is collinear with a-b.
    p[0] >= a[0].min(b[0])
        && p[0] <= a[0].max(b[0])
        && p[1] >= a[1].min(b[1])
        && p[1] <= a[1].max(b[1])
}

/// Where `p` lies with respect to the closed ring (edges from each vertex to the next).
pub(crate) fn locate(p: Pt, ring: &[Pt]) -> Location {
    let mut inside = false;
    for i in 0..ring.len() {
        match crossing(p, ring[i], ring[(i + 1) % ring.len()]) {
            Crossing::Boundary => return Location::Boundary,
            Crossing::Toggle => inside = !inside,
            Crossing::Neither => {}
        }
    }
    if inside {
        Location::Inside
    } else {
        Location::Outside
    }
}

/// What edge a-b tells about `p`: it holds `p`, it crosses the ray from `p`
/// towards +x, or neither.
enum Crossing {
    Boundary,
    Toggle,
    Neither,
}

fn crossing(p: Pt, a: Pt, b: Pt) -> Crossing {
    if (a[1] > p[1]) != (b[1] > p[1]) {
        let o = orient(a, b, p);
        if o == 0.0 {
            return Crossing::Boundary;
        }
        // The edge crosses the horizontal through p; count it when p is left of
        // the upward edge, i.e. the crossing lies to the right of p.
        if (o > 0.0) == (b[1] > a[1]) {
            return Crossing::Toggle;
        }
    } else if orient(a, b, p) == 0.0 && on_segment(a, b, p) {
        return Crossing::Boundary;
    }
    Crossing::Neither
}

/// A ring and, when it is compared with a large one, an index of its edges:
/// every question below has the answer of the plain loop, in about log n a
/// question instead of n.
pub(crate) struct Ring<'a> {
    pts: &'a [Pt],
    edges: Option<Edges<'a>>,
}

impl<'a> Ring<'a> {
    pub(crate) fn new(pts: &'a [Pt], indexed: bool) -> Ring<'a> {
        Ring {
            pts,
            edges: indexed.then(|| Edges::new(pts)),
        }
    }

    /// [`locate`]: only the edges whose boxes the ray from `p` meets can hold
    /// `p` or cross the ray, and parity does not depend on their order.
    pub(crate) fn locate(&self, p: Pt) -> Location {
        let Some(edges) = &self.edges else {
            return locate(p, self.pts);
        };
        let (ring, n) = (self.pts, self.pts.len());
        let mut inside = false;
        let on_boundary =
            edges.along_ray(p, &mut |i| match crossing(p, ring[i], ring[(i + 1) % n]) {
                Crossing::Boundary => true,
                Crossing::Toggle => {
                    inside = !inside;
                    false
                }
                Crossing::Neither => false,
            });
        if on_boundary {
            Location::Boundary
        } else if inside {
            Location::Inside
        } else {
            Location::Outside
        }
    }

    /// [`nearest_vertex`] from `from` to this ring.
    fn nearest_vertex_from(&self, from: &[Pt]) -> (f64, Closest) {
        match &self.edges {
            Some(edges) => edges.nearest_vertex(from),
            None => nearest_vertex(from, self.pts),
        }
    }
}

/// Calls `visit(i, j)` for every edge `i` of `a` and `j` of `b` whose boxes
/// meet (and maybe for others), stopping when it returns true.
fn edge_pairs(a: &Ring, b: &Ring, visit: &mut impl FnMut(usize, usize) -> bool) -> bool {
    match (&a.edges, &b.edges) {
        (Some(ea), Some(eb)) => ea.pairs(eb, visit),
        _ => (0..a.pts.len()).any(|i| (0..b.pts.len()).any(|j| visit(i, j))),
    }
}

/// Whether two rings of these sizes are compared through edge indexes.
fn indexed(a: &[Pt], b: &[Pt]) -> bool {
    a.len() * b.len() > INDEX_ABOVE
}

/// The vertex of `from` nearest to the boundary of `to`, through an index of
/// `to`'s edges when the rings are large.
pub(crate) fn nearest(from: &[Pt], to: &[Pt]) -> (f64, Closest) {
    Ring::new(to, indexed(from, to)).nearest_vertex_from(from)
}

fn bbox(ring: &[Pt]) -> [f64; 4] {
    let mut b = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for p in ring {
        b[0] = b[0].min(p[0]);
        b[1] = b[1].min(p[1]);
        b[2] = b[2].max(p[0]);
        b[3] = b[3].max(p[1]);
    }
    b
}

/// Euclidean length; `f64::hypot` guards against overflow we cannot have and
/// costs several times more.
pub(crate) fn len(x: f64, y: f64) -> f64 {
    (x * x + y * y).sqrt()
}

/// The point of segment a-b closest to p, and its distance.
pub(crate) fn closest_on_segment(p: Pt, a: Pt, b: Pt) -> (f64, Pt) {
    let d = [b[0] - a[0], b[1] - a[1]];
    let len2 = d[0] * d[0] + d[1] * d[1];
    let t = if len2 == 0.0 {
        0.0
    } else {
        (((p[0] - a[0]) * d[0] + (p[1] - a[1]) * d[1]) / len2).clamp(0.0, 1.0)
    };
    let q = [a[0] + t * d[0], a[1] + t * d[1]];
    (len(p[0] - q[0], p[1] - q[1]), q)
}

/// Distance from `p` to the ring's boundary and the closest boundary point.
pub(crate) fn distance_to_boundary(p: Pt, ring: &[Pt]) -> (f64, Pt) {
    let mut best = (f64::INFINITY, p);
    for i in 0..ring.len() {
        let c = closest_on_segment(p, ring[i], ring[(i + 1) % ring.len()]);
        if c.0 < best.0 {
            best = c;
        }
    }
    best
}

/// Signed distance from `p` to the closed region: negative inside, zero on the
/// boundary, positive outside.
pub(crate) fn signed_distance(p: Pt, ring: &[Pt]) -> f64 {
    match locate(p, ring) {
        Location::Boundary => 0.0,
        Location::Inside => -distance_to_boundary(p, ring).0,
        Location::Outside => distance_to_boundary(p, ring).0,
    }
}

/// How the regions bounded by two simple rings lie to each other.
pub(crate) fn relate(a: &[Pt], b: &[Pt]) -> Relation {
    relate_with(a, b, indexed(a, b))
}

fn relate_with(a: &[Pt], b: &[Pt], indexed: bool) -> Relation {
    if a == b {
        return Relation::Overlap;
    }
    let (ra, rb) = (Ring::new(a, indexed), Ring::new(b, indexed));
    let (ba, bb) = (bbox(a), bbox(b));
    let boxes_meet = ba[0] <= bb[2] && bb[0] <= ba[2] && ba[1] <= bb[3] && bb[1] <= ba[3];
    if boxes_meet {
        match boundaries(&ra, &rb) {
            Contact::Cross => return Relation::Overlap,
            Contact::Touch => return relate_degenerate(&ra, &rb),
            Contact::None => {
                // Boundaries apart: one region inside the other, or disjoint.
                if rb.locate(a[0]) == Location::Inside || ra.locate(b[0]) == Location::Inside {
                    return Relation::Overlap;
                }
            }
        }
    }
    let (da, ca) = rb.nearest_vertex_from(a);
    let (db, cb) = ra.nearest_vertex_from(b);
    if da <= db {
        Relation::Apart {
            distance: da,
            closest: Closest {
                vertex_in_a: true,
                ..ca
            },
        }
    } else {
        Relation::Apart {
            distance: db,
            closest: Closest {
                vertex_in_a: false,
                ..cb
            },
        }
    }
}

/// Whether the region bounded by ring `a` lies inside the one bounded by `b`,
/// its boundary nowhere on `b`'s (touching counts as reaching outside).
pub(crate) fn within(a: &[Pt], b: &[Pt]) -> bool {
    let (ra, rb) = (Ring::new(a, indexed(a, b)), Ring::new(b, indexed(a, b)));
    matches!(boundaries(&ra, &rb), Contact::None) && rb.locate(a[0]) == Location::Inside
}

/// The vertex of `from` nearest to the boundary of `to`.
pub(crate) fn nearest_vertex(from: &[Pt], to: &[Pt]) -> (f64, Closest) {
    let mut best_sq = f64::INFINITY;
    let mut best = Closest {
        vertex_in_a: true,
        vertex: 0,
        point: from[0],
    };
    for (i, &p) in from.iter().enumerate() {
        for j in 0..to.len() {
            let (r, s) = (to[j], to[(j + 1) % to.len()]);
            // The segment's box is no closer than the segment: skip it cheaply.
            let dx = (r[0].min(s[0]) - p[0]).max(p[0] - r[0].max(s[0])).max(0.0);
            let dy = (r[1].min(s[1]) - p[1]).max(p[1] - r[1].max(s[1])).max(0.0);
            if dx * dx + dy * dy >= best_sq {
                continue;
            }
            let (d, q) = closest_on_segment(p, r, s);
            if d * d < best_sq {
                best_sq = d * d;
                best = Closest {
                    vertex_in_a: true,
                    vertex: i,
                    point: q,
                };
            }
        }
    }
    (best_sq.sqrt(), best)
}

enum Contact {
    None,
    Touch,
    Cross,
}

/// Rings with more edge pairs than this are compared through edge indexes.
const INDEX_ABOVE: usize = 64 * 64;

/// Whether the two boundaries cross properly, only touch, or stay apart.
fn boundaries(a: &Ring, b: &Ring) -> Contact {
    let (pa, pb) = (a.pts, b.pts);
    let mut touch = false;
    let mut visit = |i: usize, j: usize| -> bool {
        match segments(pa[i], pa[(i + 1) % pa.len()], pb[j], pb[(j + 1) % pb.len()]) {
            Contact::Cross => return true,
            Contact::Touch => touch = true,
            Contact::None => {}
        }
        false
    };
    if edge_pairs(a, b, &mut visit) {
        Contact::Cross
    } else if touch {
        Contact::Touch
    } else {
        Contact::None
    }
}

/// How two segments meet.
fn segments(p: Pt, q: Pt, r: Pt, s: Pt) -> Contact {
    if r[0].max(s[0]) < p[0].min(q[0])
        || r[0].min(s[0]) > p[0].max(q[0])
        || r[1].max(s[1]) < p[1].min(q[1])
        || r[1].min(s[1]) > p[1].max(q[1])
    {
        return Contact::None;
    }
    let o1 = orient(p, q, r);
    let o2 = orient(p, q, s);
    let o3 = orient(r, s, p);
    let o4 = orient(r, s, q);
    if o1 * o2 < 0.0 && o3 * o4 < 0.0 {
        return Contact::Cross;
    }
    if (o1 == 0.0 && on_segment(p, q, r))
        || (o2 == 0.0 && on_segment(p, q, s))
        || (o3 == 0.0 && on_segment(r, s, p))
        || (o4 == 0.0 && on_segment(r, s, q))
    {
        return Contact::Touch;
    }
    Contact::None
}

/// The bounding box `[min x, min y, max x, max y]` of the intersection of two
/// rings that overlap or touch, or `None` when they share no point.
///
/// The intersection's outline is made of pieces of either boundary that lie in
/// the other region, so its extreme points are vertices of one ring lying in or
/// on the other, or points where two edges cross: a box around those is exact,
/// without building the intersection polygon.
pub(crate) fn overlap_bounds(a: &[Pt], b: &[Pt]) -> Option<[f64; 4]> {
    overlap_bounds_with(a, b, indexed(a, b))
}

fn overlap_bounds_with(a: &[Pt], b: &[Pt], indexed: bool) -> Option<[f64; 4]> {
    let mut bounds = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    let add = |bounds: &mut [f64; 4], p: Pt| {
        bounds[0] = bounds[0].min(p[0]);
        bounds[1] = bounds[1].min(p[1]);
        bounds[2] = bounds[2].max(p[0]);
        bounds[3] = bounds[3].max(p[1]);
    };
    let (ra, rb) = (Ring::new(a, indexed), Ring::new(b, indexed));
    let mut visit = |i: usize, j: usize| -> bool {
        let (p, q) = (a[i], a[(i + 1) % a.len()]);
        let (r, s) = (b[j], b[(j + 1) % b.len()]);
        if matches!(segments(p, q, r, s), Contact::Cross) {
            // Where the lines cross; only the box is wanted, so rounding is harmless.
            let (d, e) = ([q[0] - p[0], q[1] - p[1]], [s[0] - r[0], s[1] - r[1]]);
            let t = ((r[0] - p[0]) * e[1] - (r[1] - p[1]) * e[0]) / (d[0] * e[1] - d[1] * e[0]);
            add(&mut bounds, [p[0] + t * d[0], p[1] + t * d[1]]);
        }
        false
    };
    edge_pairs(&ra, &rb, &mut visit);
    for (ring, other) in [(a, &rb), (b, &ra)] {
        let ob = bbox(other.pts);
        for &p in ring {
            let in_box = p[0] >= ob[0] && p[0] <= ob[2] && p[1] >= ob[1] && p[1] <= ob[3];
            // A point already inside the box found so far cannot grow it.
            let grows =
                p[0] < bounds[0] || p[0] > bounds[2] || p[1] < bounds[1] || p[1] > bounds[3];
            if in_box && grows && other.locate(p) != Location::Outside {
                add(&mut bounds, p);
            }
        }
    }
    (bounds[0] <= bounds[2]).then_some(bounds)
}

/// Boundaries touch without crossing: a vertex of either ring strictly inside the
/// other settles it; otherwise (shared edges, identical rings) ask DE-9IM.
fn relate_degenerate(ra: &Ring, rb: &Ring) -> Relation {
    let (a, b) = (ra.pts, rb.pts);
    if a.iter().any(|&p| rb.locate(p) == Location::Inside)
        || b.iter().any(|&p| ra.locate(p) == Location::Inside)
    {
        return Relation::Overlap;
    }
    let matrix = polygon(a).relate(&polygon(b));
    if matrix.is_intersects() && !matrix.is_touches() {
        Relation::Overlap
    } else {
        Relation::Touch
    }
}

pub(crate) fn polygon(ring: &[Pt]) -> Polygon<f64> {
    let coords: Vec<Coord<f64>> = ring.iter().map(|p| Coord { x: p[0], y: p[1] }).collect();
    Polygon::new(LineString::new(coords), vec![])
}

/// Twice the signed area (positive when counter-clockwise).
pub(crate) fn doubled_area(ring: &[Pt]) -> f64 {
    let mut s = 0.0;
    for i in 0..ring.len() {
        let (p, q) = (ring[i], ring[(i + 1) % ring.len()]);
        s += p[0] * q[1] - q[0] * p[1];
    }
    s
}

/// The first pair of edges (i < j) that cross or touch other than at the vertex
/// that adjacent edges share, or an edge that folds back onto its neighbour.
pub(crate) fn self_intersection(ring: &[Pt]) -> Option<(usize, usize)> {
    self_intersection_with(ring, ring.len() * ring.len() > INDEX_ABOVE)
}

fn self_intersection_with(ring: &[Pt], indexed: bool) -> Option<(usize, usize)> {
    let n = ring.len();
    let seg = |i: usize| (ring[i], ring[(i + 1) % n]);
    let mut found = None;
    let mut visit = |i: usize, j: usize| -> bool {
        let (i, j) = (i.min(j), i.max(j));
        if i == j || found.is_some_and(|f| f <= (i, j)) {
            return false;
        }
        let ((p, q), (r, s)) = (seg(i), seg(j));
        let adjacent_after = j == i + 1;
        let adjacent_before = i == 0 && j == n - 1;
        let hit = if adjacent_after || adjacent_before {
            // They share one vertex; they intersect elsewhere only by folding back.
            let (shared, other_i, other_j) = if adjacent_after { (q, p, s) } else { (p, q, r) };
            let u = [other_i[0] - shared[0], other_i[1] - shared[1]];
            let v = [other_j[0] - shared[0], other_j[1] - shared[1]];
            orient(shared, other_i, other_j) == 0.0 && u[0] * v[0] + u[1] * v[1] > 0.0
        } else {
            !matches!(segments(p, q, r, s), Contact::None)
        };
        if hit {
            found = Some((i, j));
        }
        false
    };
    if !indexed {
        for i in 0..n {
            for j in i + 1..n {
                visit(i, j);
            }
        }
    } else {
        Edges::new(ring).self_pairs(&mut visit);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x: f64, y: f64, s: f64) -> Vec<Pt> {
        vec![[x, y], [x + s, y], [x + s, y + s], [x, y + s]]
    }

    #[test]
    fn relations_of_squares() {
        let a = square(0.0, 0.0, 2.0);
        assert_eq!(relate(&a, &square(1.0, 1.0, 2.0)), Relation::Overlap);
        assert_eq!(
            relate(&a, &square(0.5, 0.5, 1.0)),
            Relation::Overlap,
            "inside"
        );
        assert_eq!(
            relate(&square(0.5, 0.5, 1.0), &a),
            Relation::Overlap,
            "contains"
        );
        assert_eq!(
            relate(&a, &square(2.0, 0.0, 2.0)),
            Relation::Touch,
            "shared edge"
        );
        assert_eq!(
            relate(&a, &square(2.0, 2.0, 2.0)),
            Relation::Touch,
            "shared corner"
        );
        assert_eq!(relate(&a, &a.clone()), Relation::Overlap, "identical");
        // Overlapping along a shared edge line without any proper crossing.
        let b = vec![[1.0, 0.0], [3.0, 0.0], [3.0, 2.0], [1.0, 2.0]];
        assert_eq!(relate(&a, &b), Relation::Overlap);
        match relate(&a, &square(5.0, 0.0, 1.0)) {
            Relation::Apart { distance, .. } => assert_eq!(distance, 3.0),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn locate_points() {
        let a = square(0.0, 0.0, 2.0);
        assert_eq!(locate([1.0, 1.0], &a), Location::Inside);
        assert_eq!(locate([2.0, 1.0], &a), Location::Boundary);
        assert_eq!(locate([0.0, 0.0], &a), Location::Boundary);
        assert_eq!(locate([3.0, 1.0], &a), Location::Outside);
        assert_eq!(locate([1.0, 2.0], &a), Location::Boundary);
        assert_eq!(signed_distance([1.0, 1.5], &a), -0.5);
    }

    /// The overlap's box equals the box of the intersection `geo`'s BooleanOps builds.
    #[test]
    fn overlap_bounds_agree_with_boolean_ops() {
        use geo::{BooleanOps, BoundingRect};
        use proptest::prelude::*;
        // Star-shaped rings (vertices at increasing angles) are simple.
        let star = || {
            (
                -20.0f64..20.0,
                -20.0f64..20.0,
                prop::collection::vec(1.0f64..30.0, 3..150),
            )
                .prop_map(|(cx, cy, radii)| {
                    let n = radii.len() as f64;
                    radii
                        .iter()
                        .enumerate()
                        .map(|(k, r)| {
                            let t = k as f64 * std::f64::consts::TAU / n;
                            [cx + r * t.cos(), cy + r * t.sin()]
                        })
                        .collect::<Vec<Pt>>()
                })
        };
        proptest!(ProptestConfig::with_cases(300), |(a in star(), b in star())| {
            let ours = overlap_bounds(&a, &b);
            let theirs = polygon(&a).intersection(&polygon(&b)).bounding_rect();
            match (ours, theirs) {
                (Some(o), Some(t)) => {
                    let t = [t.min().x, t.min().y, t.max().x, t.max().y];
                    // BooleanOps snaps to an integer grid: about 1e-6 of the extent (~60).
                    for k in 0..4 {
                        prop_assert!((o[k] - t[k]).abs() < 1e-4, "{:?} against {:?}", o, t);
                    }
                }
                (None, None) => {}
                // Rings that only touch have no area in common but a point.
                (Some(_), None) => prop_assert!(!matches!(relate(&a, &b), Relation::Overlap)),
                (None, Some(t)) => prop_assert!(false, "missed an overlap with box {:?}", t),
            }
        });
    }

    #[test]
    fn rings_touching_at_a_corner_meet_at_that_corner() {
        let a = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]];
        let b = [[1.0, 1.0], [2.0, 1.0], [2.0, 2.0], [1.0, 2.0]];
        assert_eq!(overlap_bounds(&a, &b), Some([1.0, 1.0, 1.0, 1.0]));
        let far = [[5.0, 5.0], [6.0, 5.0], [6.0, 6.0]];
        assert_eq!(overlap_bounds(&a, &far), None);
        let inner = [[0.25, 0.25], [0.75, 0.25], [0.5, 0.75]];
        assert_eq!(overlap_bounds(&a, &inner), Some([0.25, 0.25, 0.75, 0.75]));
    }

    /// Random rings: coordinates on a coarse grid half the time, so that
    /// vertices fall on edges, edges overlap and distances tie.
    fn rings() -> impl proptest::strategy::Strategy<Value = Vec<Pt>> {
        use proptest::prelude::*;
        let coarse = prop::collection::vec((-8i32..8, -8i32..8), 3..120)
            .prop_map(|v| v.into_iter().map(|(x, y)| [x as f64, y as f64]).collect());
        let fine = prop::collection::vec((-50.0f64..50.0, -50.0f64..50.0), 3..120)
            .prop_map(|v| v.into_iter().map(|(x, y)| [x, y]).collect());
        prop_oneof![coarse, fine]
    }

    /// The edge indexes give the plain loops' answers: edge pairs in contact,
    /// the first self-intersection, point location and the nearest vertex.
    #[test]
    fn edge_indexes_agree_with_the_plain_loops() {
        use proptest::prelude::*;
        proptest!(ProptestConfig::with_cases(500), |(a in rings(), b in rings(), p in (-9i32..9, -9i32..9))| {
            let contact = |i: usize, j: usize| {
                !matches!(segments(a[i], a[(i + 1) % a.len()], b[j], b[(j + 1) % b.len()]), Contact::None)
            };
            let mut all = Vec::new();
            for i in 0..a.len() {
                for j in 0..b.len() {
                    if contact(i, j) {
                        all.push((i, j));
                    }
                }
            }
            let mut indexed = Vec::new();
            Edges::new(&a).pairs(&Edges::new(&b), &mut |i, j| {
                if contact(i, j) {
                    indexed.push((i, j));
                }
                false
            });
            indexed.sort_unstable();
            prop_assert_eq!(indexed, all);
            prop_assert_eq!(self_intersection_with(&a, true), self_intersection_with(&a, false));
            let ring = Ring::new(&b, true);
            let p = [p.0 as f64 + 0.5 * (p.1 % 2) as f64, p.1 as f64];
            for q in a.iter().copied().chain([p]) {
                prop_assert_eq!(ring.locate(q), locate(q, &b), "{:?}", q);
            }
            prop_assert_eq!(ring.nearest_vertex_from(&a), nearest_vertex(&a, &b));
        });
    }

    /// Star-shaped (simple) rings: the relation and the overlap's box are the
    /// same through the indexes as through the plain loops.
    #[test]
    fn indexed_relations_agree_with_the_plain_loops() {
        use proptest::prelude::*;
        let star = |grid: bool| {
            (
                -10i32..10,
                -10i32..10,
                prop::collection::vec(1u32..30, 3..150),
            )
                .prop_map(move |(cx, cy, radii)| {
                    let n = radii.len() as f64;
                    radii
                        .iter()
                        .enumerate()
                        .map(|(k, &r)| {
                            let t = k as f64 * std::f64::consts::TAU / n;
                            let p = [
                                cx as f64 + r as f64 * t.cos(),
                                cy as f64 + r as f64 * t.sin(),
                            ];
                            // On a grid, neighbouring rings share vertices and edges.
                            if grid {
                                [p[0].round(), p[1].round()]
                            } else {
                                p
                            }
                        })
                        .collect::<Vec<Pt>>()
                })
        };
        let ring = prop_oneof![star(false), star(true)];
        proptest!(ProptestConfig::with_cases(300), |(a in ring.clone(), b in ring)| {
            // Rounding may fold a star onto itself; only simple rings are relations' input.
            prop_assume!(self_intersection_with(&a, false).is_none());
            prop_assume!(self_intersection_with(&b, false).is_none());
            prop_assert_eq!(relate_with(&a, &b, true), relate_with(&a, &b, false));
            prop_assert_eq!(overlap_bounds_with(&a, &b, true), overlap_bounds_with(&a, &b, false));
        });
    }

    #[test]
    fn self_intersections() {
        assert_eq!(self_intersection(&square(0.0, 0.0, 1.0)), None);
        let bowtie = vec![[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0]];
        assert!(self_intersection(&bowtie).is_some());
        let spike = vec![[0.0, 0.0], [2.0, 0.0], [1.0, 0.0], [1.0, 1.0]];
        assert!(self_intersection(&spike).is_some());
    }
}
