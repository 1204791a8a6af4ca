//! A hierarchy of boxes over a ring's edges, so that `planar`'s questions
//! about large rings cost about n log n instead of n × m.
//!
//! Every question here gives the same answer as the plain loop in `planar`: the
//! tree only leaves out edges whose boxes cannot matter (a box is never farther
//! from a point than the edge inside it, an edge that meets another lies in a box
//! that meets the other's box, an edge a ray crosses has a box the ray meets).
//! The properties are tested against the plain loops on random rings.

use crate::planar::{closest_on_segment, Closest, Pt};

/// Children of each node of the hierarchy.
const FANOUT: usize = 8;

/// A box `[min x, min y, max x, max y]`.
type Bbox = [f64; 4];

/// Whether two closed boxes share a point.
fn meet(a: &Bbox, b: &Bbox) -> bool {
    a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3]
}

/// The squared distance from `p` to the closed box (0 inside).
fn distance_sq(b: &Bbox, p: Pt) -> f64 {
    let dx = (b[0] - p[0]).max(p[0] - b[2]).max(0.0);
    let dy = (b[1] - p[1]).max(p[1] - b[3]).max(0.0);
    dx * dx + dy * dy
}

/// A ring's edges in a hierarchy of boxes: a box per edge, then a box per
/// [`FANOUT`] consecutive boxes, up to one box for the whole ring. Consecutive
/// edges of a ring lie next to each other, so the boxes stay tight without
/// sorting anything: building it is O(n).
pub(crate) struct Edges<'a> {
    pub(crate) ring: &'a [Pt],
    /// `levels[0][i]` is edge i's box; `levels[k + 1][j]` covers
    /// `levels[k][j * FANOUT ..]` (up to FANOUT of them); the last level has one box.
    levels: Vec<Vec<Bbox>>,
}

impl<'a> Edges<'a> {
    /// Indexes the edges of `ring` (at least one vertex).
    pub(crate) fn new(ring: &'a [Pt]) -> Edges<'a> {
        let n = ring.len();
        let edges: Vec<Bbox> = (0..n)
            .map(|i| {
                let (p, q) = (ring[i], ring[(i + 1) % n]);
                [
                    p[0].min(q[0]),
                    p[1].min(q[1]),
                    p[0].max(q[0]),
                    p[1].max(q[1]),
                ]
            })
            .collect();
        let mut levels = vec![edges];
        while levels[levels.len() - 1].len() > 1 {
            let next = levels[levels.len() - 1]
                .chunks(FANOUT)
                .map(|c| {
                    c.iter().fold(
                        [
                            f64::INFINITY,
                            f64::INFINITY,
                            f64::NEG_INFINITY,
                            f64::NEG_INFINITY,
                        ],
                        |u, b| {
                            [
                                u[0].min(b[0]),
                                u[1].min(b[1]),
                                u[2].max(b[2]),
                                u[3].max(b[3]),
                            ]
                        },
                    )
                })
                .collect();
            levels.push(next);
        }
        Edges { ring, levels }
    }

    fn top(&self) -> usize {
        self.levels.len() - 1
    }

    /// The children of node `i` at level `k` (> 0), as indices at level `k - 1`.
    fn children(&self, k: usize, i: usize) -> std::ops::Range<usize> {
        i * FANOUT..((i + 1) * FANOUT).min(self.levels[k - 1].len())
    }

    /// Calls `visit(i, j)` for every edge `i` of `self` and `j` of `other` whose
    /// boxes meet (closed boxes), each pair once, stopping when it returns true.
    pub(crate) fn pairs(
        &self,
        other: &Edges,
        visit: &mut impl FnMut(usize, usize) -> bool,
    ) -> bool {
        fn walk(
            a: &Edges,
            (ka, ia): (usize, usize),
            b: &Edges,
            (kb, ib): (usize, usize),
            visit: &mut impl FnMut(usize, usize) -> bool,
        ) -> bool {
            if !meet(&a.levels[ka][ia], &b.levels[kb][ib]) {
                return false;
            }
            if ka == 0 && kb == 0 {
                return visit(ia, ib);
            }
            if ka >= kb {
                a.children(ka, ia)
                    .any(|c| walk(a, (ka - 1, c), b, (kb, ib), visit))
            } else {
                b.children(kb, ib)
                    .any(|c| walk(a, (ka, ia), b, (kb - 1, c), visit))
            }
        }
        walk(self, (self.top(), 0), other, (other.top(), 0), visit)
    }

    /// Calls `visit(i, j)` with `i < j` for every two edges of the ring whose
    /// boxes meet, stopping when it returns true.
    pub(crate) fn self_pairs(&self, visit: &mut impl FnMut(usize, usize) -> bool) -> bool {
        self.pairs(self, &mut |i, j| i < j && visit(i, j))
    }

    /// Calls `f(i)` for every edge whose box meets the ray from `p` towards +x
    /// (every edge that can cross it or hold `p`), stopping when it returns true.
    pub(crate) fn along_ray(&self, p: Pt, f: &mut impl FnMut(usize) -> bool) -> bool {
        fn walk(e: &Edges, k: usize, i: usize, p: Pt, f: &mut impl FnMut(usize) -> bool) -> bool {
            let b = &e.levels[k][i];
            if b[2] < p[0] || b[1] > p[1] || b[3] < p[1] {
                return false;
            }
            if k == 0 {
                return f(i);
            }
            e.children(k, i).any(|c| walk(e, k - 1, c, p, f))
        }
        walk(self, self.top(), 0, p, f)
    }

    /// The vertex of `from` nearest to the boundary of this ring, as
    /// `planar::nearest_vertex` answers it: the least distance, and of the
    /// vertices and edges that reach it, the first vertex and its first edge.
    pub(crate) fn nearest_vertex(&self, from: &[Pt]) -> (f64, Closest) {
        struct Best {
            sq: f64,
            /// Boxes farther than this (squared) cannot hold a closer edge; a
            /// micrometre above `sq` covers the rounding of the closest point.
            bound_sq: f64,
            vertex: usize,
            edge: usize,
            point: Pt,
        }
        fn walk(e: &Edges, k: usize, n: usize, i: usize, p: Pt, best: &mut Best) {
            if distance_sq(&e.levels[k][n], p) > best.bound_sq {
                return;
            }
            if k > 0 {
                for c in e.children(k, n) {
                    walk(e, k - 1, c, i, p, best);
                }
                return;
            }
            let (to, j) = (e.ring, n);
            let (d, q) = closest_on_segment(p, to[j], to[(j + 1) % to.len()]);
            let sq = d * d;
            // Vertices come in order, so an equal distance wins only for the
            // same vertex and an earlier edge.
            if sq < best.sq || (sq == best.sq && best.vertex == i && j < best.edge) {
                *best = Best {
                    sq,
                    bound_sq: (d + 1e-6) * (d + 1e-6),
                    vertex: i,
                    edge: j,
                    point: q,
                };
            }
        }
        let mut best = Best {
            sq: f64::INFINITY,
            bound_sq: f64::INFINITY,
            vertex: 0,
            edge: usize::MAX,
            point: from[0],
        };
        for (i, &p) in from.iter().enumerate() {
            walk(self, self.top(), 0, i, p, &mut best);
        }
        (
            best.sq.sqrt(),
            Closest {
                vertex_in_a: true,
                vertex: best.vertex,
                point: best.point,
            },
        )
    }
}
