//! An R-tree of a ring's edges (`rstar`), so that `planar`'s questions about
//! large rings cost about n log n instead of n × m.
//!
//! Every question here gives the same answer as the plain loop in `planar`: the
//! tree only leaves out edges whose boxes cannot matter (a box is never farther
//! from a point than the edge inside it, an edge that meets another lies in a box
//! that meets the other's box, an edge a ray crosses has a box the ray meets).
//! The properties are tested against the plain loops on random rings.

use crate::planar::{closest_on_segment, Closest, Pt};
use rstar::{ParentNode, RTree, RTreeNode, RTreeObject, AABB};

/// One edge of a ring: from vertex `i` to the next.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Edge {
    pub(crate) i: usize,
    envelope: AABB<Pt>,
}

impl RTreeObject for Edge {
    type Envelope = AABB<Pt>;

    fn envelope(&self) -> AABB<Pt> {
        self.envelope
    }
}

/// A ring's edges in an R-tree of their bounding boxes.
pub(crate) struct Edges<'a> {
    pub(crate) ring: &'a [Pt],
    tree: RTree<Edge>,
}

impl<'a> Edges<'a> {
    /// Indexes the edges of `ring` (bulk loaded: O(n log n)).
    pub(crate) fn new(ring: &'a [Pt]) -> Edges<'a> {
        let n = ring.len();
        let edges = (0..n)
            .map(|i| Edge {
                i,
                envelope: AABB::from_corners(ring[i], ring[(i + 1) % n]),
            })
            .collect();
        Edges {
            ring,
            tree: RTree::bulk_load(edges),
        }
    }

    /// Calls `visit(i, j)` for every edge `i` of `self` and `j` of `other` whose
    /// boxes meet (closed boxes), stopping when it returns true.
    pub(crate) fn pairs(
        &self,
        other: &Edges,
        visit: &mut impl FnMut(usize, usize) -> bool,
    ) -> bool {
        for (x, y) in self
            .tree
            .intersection_candidates_with_other_tree(&other.tree)
        {
            if visit(x.i, y.i) {
                return true;
            }
        }
        false
    }

    /// Calls `visit(i, j)` with `i < j` for every two edges of the ring whose
    /// boxes meet, stopping when it returns true.
    pub(crate) fn self_pairs(&self, visit: &mut impl FnMut(usize, usize) -> bool) -> bool {
        for (x, y) in self
            .tree
            .intersection_candidates_with_other_tree(&self.tree)
        {
            if x.i < y.i && visit(x.i, y.i) {
                return true;
            }
        }
        false
    }

    /// Calls `f(i)` for every edge whose box meets the ray from `p` towards +x
    /// (every edge that can cross it or hold `p`), stopping when it returns true.
    pub(crate) fn along_ray(&self, p: Pt, f: &mut impl FnMut(usize) -> bool) -> bool {
        fn walk(node: &ParentNode<Edge>, p: Pt, f: &mut impl FnMut(usize) -> bool) -> bool {
            for child in node.children() {
                let e = child.envelope();
                let (lo, hi) = (e.lower(), e.upper());
                if hi[0] < p[0] || lo[1] > p[1] || hi[1] < p[1] {
                    continue;
                }
                let stop = match child {
                    RTreeNode::Leaf(edge) => f(edge.i),
                    RTreeNode::Parent(parent) => walk(parent, p, f),
                };
                if stop {
                    return true;
                }
            }
            false
        }
        walk(self.tree.root(), p, f)
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
        fn walk(node: &ParentNode<Edge>, to: &[Pt], i: usize, p: Pt, best: &mut Best) {
            for child in node.children() {
                if child.envelope().distance_2(&p) > best.bound_sq {
                    continue;
                }
                match child {
                    RTreeNode::Parent(parent) => walk(parent, to, i, p, best),
                    RTreeNode::Leaf(edge) => {
                        let j = edge.i;
                        let (d, q) = closest_on_segment(p, to[j], to[(j + 1) % to.len()]);
                        let sq = d * d;
                        // Vertices come in order, so an equal distance wins only
                        // for the same vertex and an earlier edge.
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
                }
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
            walk(self.tree.root(), self.ring, i, p, &mut best);
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
