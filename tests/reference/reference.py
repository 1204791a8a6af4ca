#!/usr/bin/env python3
"""Independent reference oracle for Parley's 4D deconfliction semantics.

Computes, for a pair of ASTM F3548 Volume4D values and separation minima
(H metres, V metres, T seconds), the reference verdict

    conflict = horizontal_gap < H  and  vertical_gap < V  and  time_gap < T

using GEOS (shapely) for planar geometry and Karney's geodesics
(geographiclib) for everything on the WGS84 ellipsoid.  It shares no code
with the Rust engine.

Semantics
---------
* Polygon edges are WGS84 geodesics; a polygon is the smaller region its ring
  bounds (orientation is irrelevant).  A circle is every point within
  geodesic distance r of its centre.
* horizontal_gap_m:
    > 0   geodesic distance between the two areas (disjoint),
    0.0   the areas only touch (share boundary but no interior),
    < 0   the interiors overlap.  The magnitude is informational only:
          circle/circle: r1 + r2 - centre distance (penetration),
          circle/polygon: distance(centre, polygon) - r (0 distance if inside),
          polygon/polygon: the width of the overlap = the diameter of the
          maximum inscribed circle of the intersection (never less than
          1e-6 m in magnitude, so the sign is always negative).  For deep
          overlaps it is only computed approximately (coarse boundary).
* vertical_gap_m = max(a.lower - b.upper, b.lower - a.upper)
* time_gap_s     = max(a.start - b.end, b.start - a.end)   ([start, end) windows)

How it is computed
------------------
Edges are sampled along the geodesic (geographiclib InverseLine) always from
the lexicographically smaller (lat, lng) endpoint, at indices k/N of the edge
length with N fixed by the edge alone, so two polygons sharing an edge yield
bit-identical sample points.  Points are projected into an exact ellipsoidal
azimuthal-equidistant plane (s*sin(azi), s*cos(azi)) from Geodesic.Inverse.
For speed there are two sampling levels: every edge is first cut into pieces
of <= 20 km (coarse), and every piece that can matter (within the current
distance estimate plus a safety margin of the other shape, or inside it) is
re-sampled at <= 1 km (fine).  The chord-vs-geodesic error in the plane is
bounded by L^2/8 * 2(rho + 100 km)/R^2 (rho = distance from the projection
centre; checked by `selftest`); at 1 km it is a few millimetres.
* polygon/polygon: projected around the geodesic midpoint of the two shape
  centres; overlap = intersects and not touches; if disjoint the distance is
  refined by re-centring the projection at the midpoint of the nearest pair
  (3 iterations, on the boundary pieces near the contact), so azimuthal
  distortion does not bias it.
* circle/polygon: polygon projected around the circle centre (radial
  distances there are exact); gap = distance(origin, polygon) - r.
* circle/circle: gap = Inverse(c1, c2).s12 - r1 - r2.

Tolerance / "ambiguous"
-----------------------
TOL(H) = 1.0 m + 1e-6 * H.  A case is ambiguous when its horizontal verdict
could flip within that tolerance, i.e. |horizontal_gap - H| <= TOL(H).  This
covers: disjoint shapes whose gap is within 1 m of H; for H = 0, shapes less
than 1 m apart, and overlaps thinner than 1 m (overlap width / circle
penetration < 1 m).  An exact touch (polygons that share vertex coordinates
and whose intersection is only boundary: GEOS `touches` on bit-identical
samples) has gap exactly 0.0 and is never ambiguous (so H=0 -> no conflict,
H=1 m -> conflict, both certain).  Vertical and time gaps are exact
arithmetic and never make a case ambiguous.  A Rust test should require
agreement on `conflict` for every case with ambiguous == false.

Generated families (case i uses family i mod 7; name "<family>-<i>")
-------------------------------------------------------------------
small         star polygons (4-12 vertices, convex and concave), 50 m-20 km, lat [-80, 80]
antimeridian  centre within 0.5 deg of lng +-180, vertices on both sides; 25% circle b
highlat       |lat| 60-85; 25% circle b
longedge      quadrilateral with a 200-1500 km poleward geodesic edge between two
              points on one parallel (~60N/S); b just poleward, within the bulge
circles       circle/circle and circle/polygon, radii 10 m-50 km
touching      polygons sharing an exact edge (opposite direction) or one vertex,
              H in {0, 1 m}
tinyhuge      1-10 m shapes, or 100-500 km radius shapes vs large/small ones
H is drawn from {0, 50, 500, 5000, 30000} m (touching: {0, 1}), V from {0, 100} m,
T from {0, 600} s.  ~30% of disjoint cases are moved so the gap lands 1.5-10 m
from H; ~20% put the vertical and/or time gap at or near V/T (incl. exactly
touching bands/windows).  Generation is deterministic for a given seed.

CLI
---
  reference.py generate --seed S --count N --out FILE
  reference.py judge IN OUT        (IN may lack the "reference" field)
  reference.py selftest            (internal consistency checks)
"""

import argparse
import json
import math
import random
import sys
import time
from datetime import datetime, timedelta, timezone

import shapely
from geographiclib.geodesic import Geodesic
from shapely.geometry import MultiLineString, Point, Polygon
from shapely.ops import nearest_points

GEOD = Geodesic.WGS84
R_EARTH = 6371008.8
COARSE_STEP = 20000.0  # m, coarse sampling of geodesic edges
FINE_STEP = 1000.0  # m, fine sampling (<= 1 km, as specified)
TOL_ABS = 1.0  # m
TOL_REL = 1e-6
RECENTER_ITERS = 3
INV_MASK = Geodesic.DISTANCE | Geodesic.AZIMUTH
POS_MASK = Geodesic.LATITUDE | Geodesic.LONGITUDE
FT = 0.3048

FAMILIES = ["small", "antimeridian", "highlat", "longedge", "circles", "touching", "tinyhuge"]
H_CHOICES = [0.0, 50.0, 500.0, 5000.0, 30000.0]
BASE_TIME = datetime(2026, 11, 22, 10, 0, 0, tzinfo=timezone.utc)


class GeometryError(Exception):
    pass


def tolerance(h):
    return TOL_ABS + TOL_REL * h


# ---------------------------------------------------------------------------
# Geodesic helpers
# ---------------------------------------------------------------------------


def dest(p, azi, dist):
    g = GEOD.Direct(p[0], p[1], azi, dist, POS_MASK)
    return (g["lat2"], g["lon2"])


def inverse(p, q):
    return GEOD.Inverse(p[0], p[1], q[0], q[1])


def geo_midpoint(p, q):
    line = GEOD.InverseLine(p[0], p[1], q[0], q[1])
    g = line.Position(line.s13 / 2.0, POS_MASK)
    return (g["lat2"], g["lon2"])


def vertex_center(points):
    """Centre of a set of points via the mean unit vector (antimeridian safe)."""
    x = y = z = 0.0
    for lat, lng in points:
        la, lo = math.radians(lat), math.radians(lng)
        x += math.cos(la) * math.cos(lo)
        y += math.cos(la) * math.sin(lo)
        z += math.sin(la)
    return (math.degrees(math.atan2(z, math.hypot(x, y))), math.degrees(math.atan2(y, x)))


class Projector:
    """Exact ellipsoidal azimuthal-equidistant projection around a centre."""

    __slots__ = ("c", "cache")

    def __init__(self, center):
        self.c = center
        self.cache = {}

    def fwd(self, p):
        r = self.cache.get(p)
        if r is None:
            g = GEOD.Inverse(self.c[0], self.c[1], p[0], p[1], INV_MASK)
            a = math.radians(g["azi1"])
            s = g["s12"]
            r = (s * math.sin(a), s * math.cos(a), s)
            self.cache[p] = r
        return r

    def inv(self, x, y):
        s = math.hypot(x, y)
        if s == 0.0:
            return self.c
        return dest(self.c, math.degrees(math.atan2(x, y)), s)


def chord_error(length, rho):
    """Bound on the planar distance between a projected geodesic piece of the
    given length and its chord, when the piece is within rho of the centre."""
    return length * length / 8.0 * 2.0 * (rho + 1.0e5) / (R_EARTH * R_EARTH) + 1e-3


# ---------------------------------------------------------------------------
# Shapes
# ---------------------------------------------------------------------------


class Edge:
    """A geodesic edge, always parameterised from its lexicographically
    smaller endpoint so that shared edges sample identically."""

    __slots__ = ("a", "b", "line", "s", "n0", "m", "n", "pts")

    def __init__(self, a, b):
        self.a, self.b = a, b
        self.line = GEOD.InverseLine(a[0], a[1], b[0], b[1])
        self.s = self.line.s13
        self.n0 = max(1, math.ceil(self.s / COARSE_STEP))
        self.m = max(1, math.ceil(self.s / (self.n0 * FINE_STEP)))
        self.n = self.n0 * self.m
        self.pts = {0: a, self.n: b}

    def point(self, idx):
        p = self.pts.get(idx)
        if p is None:
            g = self.line.Position(self.s * idx / self.n, POS_MASK)
            p = (g["lat2"], g["lon2"])
            self.pts[idx] = p
        return p


class PolyShape:
    kind = "polygon"

    def __init__(self, verts, edge_cache):
        vs = []
        for v in verts:
            v = (float(v[0]), float(v[1]))
            if not vs or vs[-1] != v:
                vs.append(v)
        while len(vs) > 1 and vs[0] == vs[-1]:
            vs.pop()
        if len(set(vs)) < 3:
            raise GeometryError("polygon needs at least 3 distinct vertices")
        for lat, lng in vs:
            if not (-90.0 <= lat <= 90.0 and -180.0 <= lng <= 180.0):
                raise GeometryError("vertex out of range: %r" % ((lat, lng),))
        self.verts = vs
        self.edges = []
        for i, p in enumerate(vs):
            q = vs[(i + 1) % len(vs)]
            key = (p, q) if p <= q else (q, p)
            e = edge_cache.get(key)
            if e is None:
                e = Edge(*key)
                edge_cache[key] = e
            self.edges.append((e, p == key[0]))
        self.center = vertex_center(vs)

    def pieces(self):
        """Coarse pieces in ring order: (edge, canonical piece j, start idx, end idx)."""
        out = []
        for e, fwd in self.edges:
            for j in range(e.n0):
                jc = j if fwd else e.n0 - 1 - j
                if fwd:
                    out.append((e, jc, jc * e.m, (jc + 1) * e.m))
                else:
                    out.append((e, jc, (jc + 1) * e.m, jc * e.m))
        return out

    def ring(self, refined):
        """Ring points (no closing repeat) and per-segment geodesic lengths.
        refined: set of (id(edge), canonical piece) sampled finely."""
        pts, lens = [], []
        for e, jc, i0, i1 in self.pieces():
            if (id(e), jc) in refined:
                step = 1 if i1 > i0 else -1
                for idx in range(i0, i1, step):
                    pts.append(e.point(idx))
                    lens.append(e.s / e.n)
            else:
                pts.append(e.point(i0))
                lens.append(e.s / e.n0)
        return pts, lens


class CircleShape:
    kind = "circle"

    def __init__(self, center, radius):
        lat, lng = float(center[0]), float(center[1])
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lng <= 180.0):
            raise GeometryError("circle centre out of range")
        if not radius > 0:
            raise GeometryError("circle radius must be positive")
        self.center = (lat, lng)
        self.radius = float(radius)


# ---------------------------------------------------------------------------
# Horizontal relation
# ---------------------------------------------------------------------------


def project_ring(P, pts, lens):
    xy, errs = [], []
    for p in pts:
        x, y, _ = P.fwd(p)
        xy.append((x, y))
    n = len(pts)
    for i in range(n):
        rho = max(P.fwd(pts[i])[2], P.fwd(pts[(i + 1) % n])[2])
        errs.append(chord_error(lens[i], rho))
    return xy, errs


def make_polygon(xy, what):
    poly = Polygon(xy)
    if not poly.is_valid:
        raise GeometryError("%s is not a simple polygon (%s)" % (what, shapely.is_valid_reason(poly)))
    if poly.area <= 1.0:
        raise GeometryError("%s has area <= 1 m^2" % what)
    return poly


def segment_array(xy):
    n = len(xy)
    return shapely.linestrings([[xy[i], xy[(i + 1) % n]] for i in range(n)])


def overlap_width(inter):
    """Diameter of the maximum inscribed circle of the polygonal part."""
    best = 0.0
    for part in shapely.get_parts(inter):
        if part.geom_type not in ("Polygon", "MultiPolygon") or part.area <= 0.0:
            continue
        avg = 2.0 * part.area / part.length
        tol = max(1e-4, 0.01 * avg)
        r = shapely.maximum_inscribed_circle(part, tol).length
        best = max(best, 2.0 * r)
    return best


def refine_set(shape, pieces, P, other_geom, thr):
    """Coarse pieces whose chord is within thr of other_geom (planar)."""
    xy = [P.fwd(shape_pt)[:2] for shape_pt in (e.point(i0) for e, _, i0, _ in pieces)]
    d = shapely.distance(segment_array(xy), other_geom)
    return {(id(pieces[k][0]), pieces[k][1]) for k in range(len(pieces)) if d[k] <= thr}


def relate_poly_poly(A, B):
    """Returns (relation, gap, nearest) with relation in {'overlap','touch',
    'disjoint'} and nearest = (point on a, point on b) when disjoint."""
    C = geo_midpoint(A.center, B.center)
    P = Projector(C)
    pa, la = A.ring(set())
    pb, lb = B.ring(set())
    xa, ea = project_ring(P, pa, la)
    xb, eb = project_ring(P, pb, lb)
    A0 = make_polygon(xa, "polygon a")
    B0 = make_polygon(xb, "polygon b")
    rho_max = max(P.fwd(v)[2] for v in A.verts + B.verts)
    eps = 2.0 * (rho_max / R_EARTH) ** 2 + 1e-6
    err = max(ea) + max(eb)
    if A0.intersects(B0):
        w0 = overlap_width(A0.intersection(B0))
        if w0 / 2.0 > err + 0.5:
            return "overlap", -w0, None
        d_c = 0.0
    else:
        d_c = A0.distance(B0)
    thr = d_c * (1.0 + 2.0 * eps) + 3.0 * err + 10.0
    ra = refine_set(A, A.pieces(), P, B0, thr)
    rb = refine_set(B, B.pieces(), P, A0, thr)
    pa, la = A.ring(ra)
    pb, lb = B.ring(rb)
    xa, ea = project_ring(P, pa, la)
    xb, eb = project_ring(P, pb, lb)
    A1 = make_polygon(xa, "polygon a")
    B1 = make_polygon(xb, "polygon b")
    if A1.intersects(B1):
        if A1.touches(B1):
            return "touch", 0.0, None
        return "overlap", -max(overlap_width(A1.intersection(B1)), 1e-6), None
    d1 = A1.distance(B1)
    # Boundary segments near the contact, for re-centred refinement.
    err = max(ea) + max(eb)
    thr = d1 * (1.0 + 2.0 * eps) + 3.0 * err + 1.0
    da = shapely.distance(segment_array(xa), B1)
    db = shapely.distance(segment_array(xb), A1)
    wa = [(pa[i], pa[(i + 1) % len(pa)]) for i in range(len(pa)) if da[i] <= thr]
    wb = [(pb[i], pb[(i + 1) % len(pb)]) for i in range(len(pb)) if db[i] <= thr]
    q1, q2 = nearest_points(A1, B1)
    d = d1
    for it in range(RECENTER_ITERS):
        mid = P.inv((q1.x + q2.x) / 2.0, (q1.y + q2.y) / 2.0)
        Pn = Projector(mid)
        MA = MultiLineString([[Pn.fwd(s)[:2], Pn.fwd(t)[:2]] for s, t in wa])
        MB = MultiLineString([[Pn.fwd(s)[:2], Pn.fwd(t)[:2]] for s, t in wb])
        dn = MA.distance(MB)
        if dn <= 0.0:
            break  # cannot happen for disjoint shapes; keep the previous value
        P = Pn
        q1, q2 = nearest_points(MA, MB)
        done = abs(dn - d) < 1e-5
        d = dn
        if done and it >= 1:
            break
    return "disjoint", d, (P.inv(q1.x, q1.y), P.inv(q2.x, q2.y))


def relate_circle_poly(c, A):
    P = Projector(c.center)
    origin = Point(0.0, 0.0)
    pa, la = A.ring(set())
    xa, ea = project_ring(P, pa, la)
    A0 = make_polygon(xa, "polygon")
    bd = A0.exterior.distance(origin)
    err = max(ea)
    info = None
    if A0.contains(origin) and bd > err + 0.5:
        d = 0.0
    else:
        thr = bd + 3.0 * err + 10.0
        ra = refine_set(A, A.pieces(), P, origin, thr)
        pa, la = A.ring(ra)
        xa, _ = project_ring(P, pa, la)
        A1 = make_polygon(xa, "polygon")
        d = A1.distance(origin)
        if d > 0.0:
            q = nearest_points(A1, origin)[0]
            info = (c.center, P.inv(q.x, q.y))
    gap = d - c.radius
    return ("overlap" if gap < 0 else "disjoint"), gap, info


def relate_circle_circle(c1, c2):
    gap = inverse(c1.center, c2.center)["s12"] - c1.radius - c2.radius
    return ("overlap" if gap < 0 else "disjoint"), gap, (c1.center, c2.center)


def relate(a, b):
    if a.kind == "polygon" and b.kind == "polygon":
        return relate_poly_poly(a, b)
    if a.kind == "circle" and b.kind == "circle":
        return relate_circle_circle(a, b)
    if a.kind == "circle":
        return relate_circle_poly(a, b)
    rel, gap, info = relate_circle_poly(b, a)
    return rel, gap, (info[1], info[0]) if info else None


# ---------------------------------------------------------------------------
# Volume4D parsing and judging
# ---------------------------------------------------------------------------


def _metres(q, what):
    units = q.get("units", "M")
    if units == "M":
        return float(q["value"])
    if units == "FT":
        return float(q["value"]) * FT
    raise GeometryError("unsupported units %r for %s" % (units, what))


def _time(t):
    v = t["value"] if isinstance(t, dict) else t
    if v.endswith("Z") or v.endswith("z"):
        v = v[:-1] + "+00:00"
    dt = datetime.fromisoformat(v)
    if dt.tzinfo is None:
        raise GeometryError("time without offset: %r" % t)
    return dt


def parse_volume(v4, edge_cache):
    vol = v4["volume"]
    if "outline_polygon" in vol and vol["outline_polygon"] is not None:
        verts = [(p["lat"], p["lng"]) for p in vol["outline_polygon"]["vertices"]]
        shape = PolyShape(verts, edge_cache)
    elif "outline_circle" in vol and vol["outline_circle"] is not None:
        oc = vol["outline_circle"]
        shape = CircleShape((oc["center"]["lat"], oc["center"]["lng"]), _metres(oc["radius"], "radius"))
    else:
        raise GeometryError("volume has neither outline_polygon nor outline_circle")
    lo = _metres(vol["altitude_lower"], "altitude_lower")
    hi = _metres(vol["altitude_upper"], "altitude_upper")
    t0, t1 = _time(v4["time_start"]), _time(v4["time_end"])
    if hi < lo:
        raise GeometryError("altitude_upper below altitude_lower")
    if t1 <= t0:
        raise GeometryError("time_end not after time_start")
    return shape, lo, hi, t0, t1


def judge_case(case):
    """Returns (reference dict, relation)."""
    ref, relation, _ = judge_case_info(case)
    return ref, relation


def judge_case_info(case):
    """Returns (reference dict, relation, nearest pair or None)."""
    edge_cache = {}
    sa, alo, ahi, at0, at1 = parse_volume(case["a"], edge_cache)
    sb, blo, bhi, bt0, bt1 = parse_volume(case["b"], edge_cache)
    m = case["minima"]
    H, V, T = float(m["horizontal_m"]), float(m["vertical_m"]), float(m["time_s"])
    relation, g, info = relate(sa, sb)
    vg = max(alo - bhi, blo - ahi)
    tg = max((at0 - bt1).total_seconds(), (bt0 - at1).total_seconds())
    conflict = g < H and vg < V and tg < T
    ambiguous = relation != "touch" and abs(g - H) <= tolerance(H)
    ref = {
        "horizontal_gap_m": g,
        "vertical_gap_m": vg,
        "time_gap_s": tg,
        "conflict": bool(conflict),
        "ambiguous": bool(ambiguous),
    }
    return ref, relation, info


# ---------------------------------------------------------------------------
# Case generation
# ---------------------------------------------------------------------------


def loguniform(rng, lo, hi):
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))


def round_pt(p):
    lat, lng = round(p[0], 9), round(p[1], 9)
    if lng <= -180.0:
        lng += 360.0
    if lng > 180.0:
        lng -= 360.0
    return (lat, lng)


class Template:
    """A shape described around its own centre: a star polygon given by
    (azimuth, radius) pairs, or a circle."""

    def __init__(self, kind, radius, az=None, rad=None):
        self.kind, self.radius, self.az, self.rad = kind, radius, az, rad
        if kind == "polygon":
            self.local = Polygon(
                [(r * math.sin(math.radians(a)), r * math.cos(math.radians(a))) for a, r in zip(az, rad)]
            )

    def radial(self, azi):
        """Distance from the centre to the boundary in direction azi (local AEQD)."""
        if self.kind == "circle":
            return self.radius
        big = 4.0 * self.radius
        a = math.radians(azi)
        ray = shapely.linestrings([(0.0, 0.0), (big * math.sin(a), big * math.cos(a))])
        hit = shapely.intersection(ray, self.local.exterior)
        if hit.is_empty:
            return 0.0
        return max(math.hypot(p[0], p[1]) for p in shapely.get_coordinates(hit))

    def realize(self, center):
        # "_tmpl"/"_center" let the generator move the shape; not serialised.
        if self.kind == "circle":
            return {"kind": "circle", "center": round_pt(center), "radius": self.radius,
                    "_tmpl": self, "_center": center}
        verts = [round_pt(dest(center, a, r)) for a, r in zip(self.az, self.rad)]
        return {"kind": "polygon", "verts": verts, "_tmpl": self, "_center": center}


def star_template(rng, radius, n=None, concave=None, min_n=4, max_n=12):
    if concave is None:
        concave = rng.random() < 0.5
    if n is None:
        n = rng.randint(6, max_n) if concave else rng.randint(min_n, max_n)
    w = [rng.uniform(0.6, 1.4) for _ in range(n)]
    tot = sum(w)
    base = rng.uniform(0.0, 360.0)
    az, acc = [], base
    for wi in w:
        az.append(acc % 360.0)
        acc += 360.0 * wi / tot
    if concave:
        rad = [radius * (rng.uniform(0.85, 1.0) if i % 2 == 0 else rng.uniform(0.2, 0.45)) for i in range(n)]
    else:
        rad = [radius * rng.uniform(0.85, 1.0) for _ in range(n)]
    return Template("polygon", radius, az, rad)


def circle_template(radius):
    return Template("circle", radius)


def sample_gap(rng, H, size, p_below=0.32):
    """Target gap around H.  The along-ray gap over-estimates the real gap of
    star shapes, so slightly fewer targets are placed below H."""
    w = max(0.5 * H, 0.4 * size, 3.0)
    sign = -1.0 if rng.random() < p_below else 1.0
    return H + sign * rng.uniform(1.5, 1.5 + w)


def place(rng, center_a, ta, tb, gap, azi=None):
    """Centre for shape b so that the along-ray gap to shape a is ~gap."""
    if azi is None:
        azi = rng.uniform(0.0, 360.0)
    ra = ta.radial(azi)
    dist = max(0.0, ra + tb.radius + gap)
    for _ in range(2):
        g = GEOD.Direct(center_a[0], center_a[1], azi, dist)
        back = (g["azi2"] + 180.0) % 360.0
        dist = max(0.0, ra + tb.radial(back) + gap)
    return dest(center_a, azi, dist)


def random_center(rng, lat_lo, lat_hi):
    return (rng.uniform(lat_lo, lat_hi), rng.uniform(-180.0, 180.0))


def shape_json(s):
    if s["kind"] == "circle":
        lat, lng = s["center"]
        return {
            "outline_circle": {
                "center": {"lat": lat, "lng": lng},
                "radius": {"value": s["radius"], "units": "M"},
            }
        }
    return {"outline_polygon": {"vertices": [{"lat": lat, "lng": lng} for lat, lng in s["verts"]]}}


def volume_json(shape, lo, hi, t0, t1):
    v = shape_json(shape)
    v["altitude_lower"] = {"value": lo, "reference": "W84", "units": "M"}
    v["altitude_upper"] = {"value": hi, "reference": "W84", "units": "M"}
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return {
        "volume": v,
        "time_start": {"value": t0.strftime(fmt), "format": "RFC3339"},
        "time_end": {"value": t1.strftime(fmt), "format": "RFC3339"},
    }


def alt_time(rng, force_overlap=False):
    """Altitude bands, time windows and V/T.  ~20% near the V or T threshold."""
    V = rng.choice([0.0, 100.0])
    T = rng.choice([0.0, 600.0])
    a_lo = float(rng.randrange(-50, 3000))
    a_hi = a_lo + rng.randrange(30, 3000)
    b_th = float(rng.randrange(30, 3000))
    a_t0 = BASE_TIME + timedelta(seconds=rng.randrange(0, 86400))
    a_t1 = a_t0 + timedelta(seconds=rng.randrange(60, 14400))
    b_dur = timedelta(seconds=rng.randrange(60, 14400))
    near = (not force_overlap) and rng.random() < 0.2
    dims = rng.choice(["v", "t", "vt"]) if near else ""
    if "v" in dims:
        tgt = rng.choice([0.0, 0.0, V, V - 0.5, V + 0.5, -0.5, V + rng.randrange(1, 300),
                          float(rng.randrange(1, int(V))) if V > 1 else 0.0])
        if rng.random() < 0.5:
            b_lo = a_hi + tgt
            b_hi = b_lo + b_th
        else:
            b_hi = a_lo - tgt
            b_lo = b_hi - b_th
    else:
        b_lo = float(rng.randrange(int(a_lo - b_th) + 10, int(a_hi) - 10 + 1))
        b_hi = b_lo + b_th
    if "t" in dims:
        tgt = rng.choice([0.0, 0.0, T, T - 1.0, T + 1.0, -1.0, T + rng.randrange(1, 3600),
                          float(rng.randrange(1, int(T))) if T > 1 else 0.0])
        if rng.random() < 0.5:
            b_t0 = a_t1 + timedelta(seconds=tgt)
            b_t1 = b_t0 + b_dur
        else:
            b_t1 = a_t0 - timedelta(seconds=tgt)
            b_t0 = b_t1 - b_dur
    else:
        span = int((a_t1 - a_t0).total_seconds())
        off = rng.randrange(-int(b_dur.total_seconds()) + 10, span - 10 + 1)
        b_t0 = a_t0 + timedelta(seconds=off)
        b_t1 = b_t0 + b_dur
    return V, T, (a_lo, a_hi, a_t0, a_t1), (b_lo, b_hi, b_t0, b_t1)


def pair_generic(rng, center_a, ra, rb_lo, rb_hi, circle_b_prob=0.0, H=None, azi=None):
    H = rng.choice(H_CHOICES) if H is None else H
    ta = star_template(rng, ra)
    rb = loguniform(rng, rb_lo, rb_hi)
    tb = circle_template(rb) if rng.random() < circle_b_prob else star_template(rng, rb)
    gap = sample_gap(rng, H, min(ra, rb))
    cb = place(rng, center_a, ta, tb, gap, azi)
    return H, ta.realize(center_a), tb.realize(cb)


def gen_small(rng):
    c = random_center(rng, -80.0, 80.0)
    ra = loguniform(rng, 50.0, 20000.0)
    return pair_generic(rng, c, ra, max(50.0, ra / 4), min(20000.0, ra * 4))


def gen_antimeridian(rng):
    ra = loguniform(rng, 200.0, 20000.0)
    lat = rng.uniform(-70.0, 70.0)
    side = rng.choice([90.0, 270.0])
    c = dest((lat, 180.0), side, rng.uniform(0.0, 0.8) * ra)
    c = round_pt(c)
    if abs(abs(c[1]) - 180.0) > 0.5:
        raise GeometryError("centre too far from antimeridian")
    azi = rng.choice([rng.uniform(60.0, 120.0), rng.uniform(240.0, 300.0), None])
    return pair_generic(rng, c, ra, max(100.0, ra / 4), min(20000.0, ra * 4), circle_b_prob=0.25, azi=azi)


def gen_highlat(rng):
    lat = rng.uniform(60.0, 85.0) * rng.choice([1.0, -1.0])
    c = (lat, rng.uniform(-180.0, 180.0))
    ra = loguniform(rng, 50.0, 20000.0)
    return pair_generic(rng, c, ra, max(50.0, ra / 4), min(20000.0, ra * 4), circle_b_prob=0.25)


def gen_longedge(rng):
    """Quadrilateral whose poleward edge is a 200-1500 km geodesic between two
    points on the same parallel (~60 deg); shape b sits just poleward of it."""
    north = rng.random() < 0.75
    lat0 = rng.uniform(55.0, 65.0)
    length = rng.uniform(200e3, 1500e3)
    dlng = math.degrees(length / (6378137.0 * math.cos(math.radians(lat0))))
    lng0 = rng.uniform(-180.0, 180.0)
    h = rng.uniform(1.0, 4.0)
    sg = 1.0 if north else -1.0
    p0 = round_pt((sg * lat0, lng0))
    p1 = round_pt((sg * lat0, lng0 + dlng))
    verts = [p0, p1, round_pt((sg * (lat0 - h), lng0 + dlng)), round_pt((sg * (lat0 - h), lng0))]
    if rng.random() < 0.5:
        verts.reverse()
    line = GEOD.InverseLine(p0[0], p0[1], p1[0], p1[1])  # eastward
    t = rng.uniform(0.15, 0.85)
    g = line.Position(t * line.s13)
    pt = (g["lat2"], g["lon2"])
    bulge = abs(inverse(pt, (sg * lat0, g["lon2"]))["s12"])  # metres poleward of the parallel
    perp = g["azi2"] - 90.0 if north else g["azi2"] + 90.0  # poleward
    H = rng.choice(H_CHOICES)
    rb = loguniform(rng, 50.0, 10000.0)
    tb = circle_template(rb) if rng.random() < 0.25 else star_template(rng, rb)
    if rng.random() < 0.5:
        # around H, within the bulge: a planar lon/lat model gets half wrong
        gap = H + rng.uniform(-1.0, 1.0) * bulge
    else:
        gap = sample_gap(rng, H, rb)
    back = (perp + 180.0) % 360.0
    cb = dest(pt, perp, max(0.0, gap + tb.radial(back)))
    return H, {"kind": "polygon", "verts": verts}, tb.realize(cb)


def gen_circles(rng):
    c = random_center(rng, -80.0, 80.0)
    H = rng.choice(H_CHOICES)
    r1 = loguniform(rng, 10.0, 50000.0)
    if rng.random() < 0.5:
        t1 = circle_template(r1)
    else:
        t1 = star_template(rng, loguniform(rng, 50.0, 20000.0))
    r2 = loguniform(rng, 10.0, 50000.0)
    t2 = circle_template(r2)
    gap = sample_gap(rng, H, min(t1.radius, r2), 0.5 if t1.kind == "circle" else 0.4)
    c2 = place(rng, c, t1, t2, gap)
    s1, s2 = t1.realize(c), t2.realize(c2)
    if rng.random() < 0.5:
        s1, s2 = s2, s1
    return H, s1, s2


def gen_touching(rng):
    c = random_center(rng, -80.0, 80.0)
    if rng.random() < 0.15:  # some straddle the antimeridian
        c = (c[0], rng.choice([180.0, -180.0]) + rng.uniform(-0.3, 0.3))
        c = round_pt(c)
    ra = loguniform(rng, 50.0, 50000.0)
    ta = star_template(rng, ra, concave=False, max_n=8)
    a = ta.realize(c)
    va = a["verts"]
    n = len(va)
    P = Projector(c)
    xy = [P.fwd(v)[:2] for v in va]
    ccw = Polygon(xy).exterior.is_ccw
    i = rng.randrange(n)
    p, q = va[i], va[(i + 1) % n]
    g = inverse(p, q)
    # Outward normal: the exterior is to the right of p->q for a ccw ring
    # (in the x=east, y=north plane), i.e. azimuth + 90.
    off = 90.0 if ccw else -90.0
    n_p = g["azi1"] + off
    n_q = g["azi2"] + off
    h = g["s12"] * rng.uniform(0.3, 1.5)
    if rng.random() < 0.8:  # shared edge, listed in the opposite direction
        bv = [q, p, round_pt(dest(p, n_p, h * rng.uniform(0.7, 1.0)))]
        if rng.random() < 0.5:
            m = geo_midpoint(p, q)
            gm = GEOD.Inverse(p[0], p[1], m[0], m[1])
            bv.append(round_pt(dest(m, gm["azi2"] + off, h * rng.uniform(1.05, 1.4))))
        bv.append(round_pt(dest(q, n_q, h * rng.uniform(0.7, 1.0))))
    else:  # shared vertex q only: a triangle in q's outward normal cone
        r = va[(i + 2) % n]
        g2 = inverse(q, r)
        n_q2 = g2["azi1"] + off
        d = ((n_q2 - n_q + 180.0) % 360.0) - 180.0
        a1 = n_q + d * rng.uniform(0.1, 0.45)
        a2 = n_q + d * rng.uniform(0.55, 0.9)
        bv = [q, round_pt(dest(q, a1, h)), round_pt(dest(q, a2, h * rng.uniform(0.7, 1.3)))]
    if rng.random() < 0.5:
        bv = bv[1:] + bv[:1]
    H = rng.choice([0.0, 1.0])
    return H, a, {"kind": "polygon", "verts": bv}


def gen_tinyhuge(rng):
    if rng.random() < 0.5:
        c = random_center(rng, -80.0, 80.0)
        ra = rng.uniform(1.5, 8.0)
        H = rng.choice(H_CHOICES)
        ta = star_template(rng, ra, concave=rng.random() < 0.3, max_n=8)
        tb = star_template(rng, rng.uniform(1.5, 8.0), concave=rng.random() < 0.3, max_n=8)
        gap = sample_gap(rng, H, min(ra, tb.radius))
        cb = place(rng, c, ta, tb, gap)
        return H, ta.realize(c), tb.realize(cb)
    c = random_center(rng, -60.0, 60.0)
    ra = loguniform(rng, 100e3, 500e3)
    if rng.random() < 0.5:
        return pair_generic(rng, c, ra, 50e3, 500e3, circle_b_prob=0.2)
    return pair_generic(rng, c, ra, 50.0, 20000.0, circle_b_prob=0.2)


GENERATORS = {
    "small": gen_small,
    "antimeridian": gen_antimeridian,
    "highlat": gen_highlat,
    "longedge": gen_longedge,
    "circles": gen_circles,
    "touching": gen_touching,
    "tinyhuge": gen_tinyhuge,
}


def check_shape(s):
    if s["kind"] == "polygon":
        vs = s["verts"]
        if len(set(vs)) < 3 or len(set(vs)) != len(vs):
            raise GeometryError("degenerate polygon")
        if max(abs(v[0]) for v in vs) > 88.0:
            raise GeometryError("polygon too close to a pole")
        # Validity is checked by the judge; here only a cheap area floor for
        # tiny shapes (equirectangular around the first vertex).
        lat0, lng0 = vs[0]
        kx = 111319.0 * math.cos(math.radians(lat0))
        loc = [(((v[1] - lng0 + 180.0) % 360.0 - 180.0) * kx, (v[0] - lat0) * 110574.0) for v in vs]
        if abs(Polygon(loc).area) < 2.0:
            raise GeometryError("polygon too small")
    elif abs(s["center"][0]) > 88.0:
        raise GeometryError("circle too close to a pole")


def build_case(name, H, V, T, sa, sb, at):
    (alo, ahi, at0, at1), (blo, bhi, bt0, bt1) = at
    case = {
        "name": name,
        "minima": {"horizontal_m": float(H), "vertical_m": float(V), "time_s": float(T)},
        "a": volume_json(sa, alo, ahi, at0, at1),
        "b": volume_json(sb, blo, bhi, bt0, bt1),
    }
    # Canonicalise through JSON so the verdict is computed on exactly the
    # numbers the engine will read.
    return json.loads(json.dumps(case))


TIGHT_PROB = 0.3


def tighten(rng, name, H, V, T, sa, sb, at, ref, info):
    """Move one shape along the nearest-pair direction so that the gap lands
    1.5-10 m from H (either side): the hardest non-ambiguous cases."""
    target = H + rng.choice([-1.0, 1.0]) * rng.uniform(1.5, 10.0)
    mover = "b" if "_tmpl" in sb else "a"
    case = None
    for _ in range(2):
        g = ref["horizontal_gap_m"]
        if abs(g - target) < 0.3 or info is None:
            break
        pa, pb = info
        if mover == "b":
            az = inverse(pa, pb)["azi2"]
            sb = sb["_tmpl"].realize(dest(sb["_center"], az, target - g))
        else:
            az = inverse(pb, pa)["azi2"]
            sa = sa["_tmpl"].realize(dest(sa["_center"], az, target - g))
        check_shape(sa)
        check_shape(sb)
        case = build_case(name, H, V, T, sa, sb, at)
        ref, relation, info = judge_case_info(case)
        if relation != "disjoint":
            info = None
    return case, ref


def make_case(seed, index):
    family = FAMILIES[index % len(FAMILIES)]
    name = "%s-%d" % (family, index)
    rng = random.Random("parley-%s-%d" % (seed, index))
    for _attempt in range(200):
        try:
            H, sa, sb = GENERATORS[family](rng)
            check_shape(sa)
            check_shape(sb)
            V, T, at_a, at_b = alt_time(rng)
            at = (at_a, at_b)
            case = build_case(name, H, V, T, sa, sb, at)
            ref, relation, info = judge_case_info(case)
            if (family != "touching" and relation == "disjoint" and rng.random() < TIGHT_PROB
                    and ("_tmpl" in sa or "_tmpl" in sb)):
                c2, r2 = tighten(rng, name, H, V, T, sa, sb, at, ref, info)
                if c2 is not None:
                    case, ref = c2, r2
        except GeometryError:
            continue
        if family == "touching" and relation != "touch":
            continue
        case["reference"] = ref
        return family, case, relation
    raise RuntimeError("could not generate case %d (%s)" % (index, family))


# ---------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------


def planar_lonlat_conflict(case):
    """Horizontal verdict of a naive planar lon/lat model (straight edges in an
    equirectangular plane).  Only used to report how often it is wrong."""
    shapes = [case["a"]["volume"], case["b"]["volume"]]
    lats = []
    for v in shapes:
        if "outline_polygon" in v:
            lats += [p["lat"] for p in v["outline_polygon"]["vertices"]]
        else:
            lats.append(v["outline_circle"]["center"]["lat"])
    lat0 = sum(lats) / len(lats)
    ref_lng = (shapes[0].get("outline_polygon") or {}).get("vertices", [None])[0]
    ref_lng = ref_lng["lng"] if ref_lng else shapes[0]["outline_circle"]["center"]["lng"]
    kx = 111319.49 * math.cos(math.radians(lat0))
    ky = 111132.95

    def xy(p):
        d = ((p["lng"] - ref_lng + 180.0) % 360.0) - 180.0
        return (d * kx, p["lat"] * ky)

    geoms = []
    for v in shapes:
        if "outline_polygon" in v:
            geoms.append(Polygon([xy(p) for p in v["outline_polygon"]["vertices"]]))
        else:
            oc = v["outline_circle"]
            geoms.append(Point(xy(oc["center"])).buffer(oc["radius"]["value"], 64))
    a, b = geoms
    H = case["minima"]["horizontal_m"]
    if a.intersects(b):
        g = 0.0 if a.touches(b) else -1.0
    else:
        g = a.distance(b)
    return g < H


def summarize(stats, extra, elapsed):
    parts = []
    tot = [0, 0, 0]
    order = [f for f in FAMILIES if f in stats] + sorted(f for f in stats if f not in FAMILIES)
    for fam in order:
        c, n, a = stats[fam]
        tot = [tot[0] + c, tot[1] + n, tot[2] + a]
        parts.append("%s %d/%d/%d" % (fam, c, n, a))
    msg = "reference: conflict/no-conflict/ambiguous: %s; total %d/%d/%d" % ("; ".join(parts), *tot)
    if extra:
        msg += "; " + "; ".join("%s %s" % kv for kv in extra.items())
    msg += "; %.1fs" % elapsed
    print(msg, file=sys.stderr)


def cmd_generate(args):
    t0 = time.time()
    stats = {}
    extra = {}
    bulge_only = planar_wrong = 0
    with open(args.out, "w") as f:
        for i in range(args.count):
            fam, case, relation = make_case(args.seed, i)
            ref = case["reference"]
            st = stats.setdefault(fam, [0, 0, 0])
            st[0 if ref["conflict"] else 1] += 1
            st[2] += 1 if ref["ambiguous"] else 0
            if fam == "longedge" and not ref["ambiguous"]:
                h_conf = ref["horizontal_gap_m"] < case["minima"]["horizontal_m"]
                if planar_lonlat_conflict(case) != h_conf:
                    planar_wrong += 1
                    if h_conf:
                        bulge_only += 1
            f.write(json.dumps(case) + "\n")
    if "longedge" in stats:
        extra["longedge planar-lonlat wrong"] = "%d (%d conflict only via bulge)" % (planar_wrong, bulge_only)
    summarize(stats, extra, time.time() - t0)


def cmd_judge(args):
    t0 = time.time()
    stats = {}
    out = []
    with open(args.input) as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            case = json.loads(line)
            try:
                ref, _ = judge_case(case)
            except GeometryError as e:
                sys.exit("%s:%d (%s): %s" % (args.input, lineno, case.get("name"), e))
            case["reference"] = ref
            out.append(case)
            fam = str(case.get("name", "case")).rsplit("-", 1)[0]
            st = stats.setdefault(fam, [0, 0, 0])
            st[0 if ref["conflict"] else 1] += 1
            st[2] += 1 if ref["ambiguous"] else 0
    with open(args.output, "w") as f:
        for case in out:
            f.write(json.dumps(case) + "\n")
    summarize(stats, {}, time.time() - t0)


# ---------------------------------------------------------------------------
# Self test
# ---------------------------------------------------------------------------


def _poly_vol(verts, lo=0.0, hi=100.0):
    return volume_json({"kind": "polygon", "verts": verts}, lo, hi, BASE_TIME, BASE_TIME + timedelta(hours=1))


def _circle_vol(center, r, lo=0.0, hi=100.0):
    return volume_json(
        {"kind": "circle", "center": center, "radius": r}, lo, hi, BASE_TIME, BASE_TIME + timedelta(hours=1)
    )


def _case(a, b, H=0.0, V=0.0, T=0.0):
    return {"name": "t", "minima": {"horizontal_m": H, "vertical_m": V, "time_s": T}, "a": a, "b": b}


def _golden(f, it=40):
    """Minimum of f on [0, 1] by golden-section search (plus the endpoints)."""
    gr = (math.sqrt(5) - 1) / 2
    a, b = 0.0, 1.0
    c, d = b - gr * (b - a), a + gr * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(it):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - gr * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + gr * (b - a)
            fd = f(d)
    return min(fc, fd, f(0.0), f(1.0))


def _edge_pt(e, t):
    g = e.line.Position(e.s * t, POS_MASK)
    return (g["lat2"], g["lon2"])


def _brute_gap(sa, sb, gap):
    """Exact-geodesic check of a positive gap without any projection: golden
    search of Inverse distances along the geodesic edges that can be nearest
    (lower bound: midpoint distance minus half edge lengths)."""
    if sa.kind == "circle":
        sa, sb = sb, sa
    best = float("inf")
    for ea, _ in sa.edges:
        ma = _edge_pt(ea, 0.5)
        if sb.kind == "circle":
            if inverse(ma, sb.center)["s12"] - ea.s / 2 > gap + sb.radius + 5.0:
                continue
            v = _golden(lambda t: inverse(_edge_pt(ea, t), sb.center)["s12"], it=60) - sb.radius
            best = min(best, v)
            continue
        for eb, _ in sb.edges:
            if inverse(ma, _edge_pt(eb, 0.5))["s12"] - ea.s / 2 - eb.s / 2 > gap + 5.0:
                continue
            v = _golden(lambda t: _golden(lambda u: inverse(_edge_pt(ea, t), _edge_pt(eb, u))["s12"]))
            best = min(best, v)
    return best


def cmd_selftest(_args):
    ok = True

    def check(cond, msg):
        nonlocal ok
        print(("PASS " if cond else "FAIL ") + msg)
        ok = ok and cond

    # 1. Geodesic bulge: quadrilateral whose north edge runs (60,0)-(60,20).
    line = GEOD.InverseLine(60.0, 0.0, 60.0, 20.0)
    mid = line.Position(line.s13 / 2)
    check(abs(mid["lon2"] - 10.0) < 1e-9, "geodesic (60,0)-(60,20) midpoint at lng 10 (lat %.5f)" % mid["lat2"])
    quad = [(60.0, 0.0), (60.0, 20.0), (59.0, 20.0), (59.0, 0.0)]
    p20 = dest((60.0, 10.0), 0.0, 20000.0)
    ref, _ = judge_case(_case(_poly_vol(quad), _circle_vol(p20, 0.5)))
    check(ref["horizontal_gap_m"] < 0 and ref["conflict"], "point 20 km north of (60,10) is inside (gap %.3f)" % ref["horizontal_gap_m"])
    p60 = dest((60.0, 10.0), 0.0, 60000.0)
    ref, _ = judge_case(_case(_poly_vol(quad), _circle_vol(p60, 0.5)))
    bulge = inverse((60.0, 10.0), (mid["lat2"], 10.0))["s12"]
    expect = 60000.0 - bulge - 0.5
    check(abs(ref["horizontal_gap_m"] - expect) < 0.05,
          "point 60 km north: gap %.3f m vs meridian estimate %.3f m (bulge %.3f m)" % (ref["horizontal_gap_m"], expect, bulge))
    sq = [(60.1, 9.9), (60.1, 10.1), (60.3, 10.1), (60.3, 9.9)]
    ref, rel = judge_case(_case(_poly_vol(quad), _poly_vol(sq)))
    check(rel == "overlap" and ref["conflict"], "square 60.1-60.3N, 9.9-10.1E overlaps the geodesic quadrilateral")

    # 2. Shared edge (opposite direction): touch, H=0 -> no conflict, H=1 -> conflict.
    a = [(10.0, 10.0), (10.0, 10.5), (10.4, 10.5), (10.4, 10.0)]
    b = [(10.4, 10.0), (10.4, 10.5), (10.9, 10.4), (10.8, 10.1)]
    r0, rel = judge_case(_case(_poly_vol(a), _poly_vol(b), H=0.0))
    r1, _ = judge_case(_case(_poly_vol(a), _poly_vol(b), H=1.0))
    check(rel == "touch" and not r0["conflict"] and r1["conflict"] and not r0["ambiguous"] and not r1["ambiguous"],
          "shared edge: touch, H=0 no conflict, H=1 conflict")
    # long shared geodesic edge (> 20 km, sampled) across the antimeridian
    a = [(-30.0, 179.0), (-29.0, -179.5), (-31.0, -179.0), (-32.0, 179.5)]
    b = [(-29.0, -179.5), (-30.0, 179.0), (-28.0, 179.2)]
    r0, rel = judge_case(_case(_poly_vol(a), _poly_vol(b)))
    check(rel == "touch" and not r0["conflict"], "long shared edge across antimeridian: touch")

    # 3. Touching altitude band / time window with V=T=0: no conflict.
    sqa = [(0.0, 0.0), (0.0, 0.01), (0.01, 0.01), (0.01, 0.0)]
    c = _case(_poly_vol(sqa, 0.0, 100.0), _poly_vol(sqa, 100.0, 200.0))
    r, _ = judge_case(c)
    check(r["vertical_gap_m"] == 0.0 and not r["conflict"], "touching altitude bands, V=0: no conflict")
    c["minima"]["vertical_m"] = 0.5
    check(judge_case(c)[0]["conflict"], "touching altitude bands, V=0.5: conflict")
    va = _poly_vol(sqa)
    vb = _poly_vol(sqa)
    vb["time_start"] = va["time_end"]
    vb["time_end"] = {"value": "2026-11-22T12:00:00Z", "format": "RFC3339"}
    r, _ = judge_case(_case(va, vb))
    check(r["time_gap_s"] == 0.0 and not r["conflict"], "end == start, T=0: no conflict")

    # 4. Chord error bound holds (random geodesic pieces, random centres).
    rng = random.Random(1)
    worst = 0.0
    for _ in range(300):
        c = (rng.uniform(-80, 80), rng.uniform(-180, 180))
        p = dest(c, rng.uniform(0, 360), rng.uniform(0, 3000e3))
        L = rng.choice([1000.0, 20000.0])
        line = GEOD.DirectLine(p[0], p[1], rng.uniform(0, 360), L)
        P = Projector(c)
        ends = [line.Position(0.0), line.Position(L)]
        e0 = P.fwd((ends[0]["lat2"], ends[0]["lon2"]))
        e1 = P.fwd((ends[1]["lat2"], ends[1]["lon2"]))
        chord = shapely.linestrings([e0[:2], e1[:2]])
        dev = 0.0
        for k in range(1, 16):
            g = line.Position(L * k / 16)
            q = P.fwd((g["lat2"], g["lon2"]))
            dev = max(dev, chord.distance(Point(q[:2])))
        worst = max(worst, dev / chord_error(L, max(e0[2], e1[2])))
    check(worst < 1.0, "chord error bound: worst deviation / bound = %.3f" % worst)

    # 5. Positive gaps of generated cases vs exact-geodesic brute force, and
    #    symmetry (judging b/a gives the same gap).
    per_family = {"small": 3, "antimeridian": 3, "highlat": 3, "longedge": 3, "circles": 3, "tinyhuge": 2}
    maxdiff = 0.0
    nchk = 0
    i = 0
    while any(per_family.values()) and i < 2000:
        fam, case, relation = make_case("selftest", i)
        i += 1
        g = case["reference"]["horizontal_gap_m"]
        if per_family.get(fam, 0) == 0 or relation != "disjoint":
            continue
        ec = {}
        sa = parse_volume(case["a"], ec)[0]
        sb = parse_volume(case["b"], ec)[0]
        if sa.kind == "circle" and sb.kind == "circle":
            continue
        per_family[fam] -= 1
        swapped = dict(case, a=case["b"], b=case["a"])
        g2 = judge_case(swapped)[0]["horizontal_gap_m"]
        bg = _brute_gap(sa, sb, g)
        nchk += 1
        maxdiff = max(maxdiff, abs(bg - g), abs(g2 - g))
    check(nchk == 17 and maxdiff < 0.01,
          "%d disjoint generated pairs: |gap - exact geodesic brute force|, asymmetry <= %.5f m" % (nchk, maxdiff))

    # 6. Circle vs circle consistent with circle vs fine polygon approximating it.
    c1, c2 = (45.0, 7.0), dest((45.0, 7.0), 33.0, 25000.0)
    ref_cc, _ = judge_case(_case(_circle_vol(c1, 5000.0), _circle_vol(c2, 3000.0)))
    verts = [round_pt(dest(c2, 360.0 * k / 720, 3000.0)) for k in range(720)]
    ref_cp, _ = judge_case(_case(_circle_vol(c1, 5000.0), _poly_vol(verts)))
    check(abs(ref_cc["horizontal_gap_m"] - ref_cp["horizontal_gap_m"]) < 0.1,
          "circle/circle %.3f vs circle/720-gon %.3f" % (ref_cc["horizontal_gap_m"], ref_cp["horizontal_gap_m"]))

    print("selftest:", "OK" if ok else "FAILED")
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate", help="generate randomized cases with reference verdicts")
    g.add_argument("--seed", required=True)
    g.add_argument("--count", type=int, required=True)
    g.add_argument("--out", required=True)
    j = sub.add_parser("judge", help="compute the reference field for existing cases")
    j.add_argument("input")
    j.add_argument("output")
    sub.add_parser("selftest", help="internal consistency checks")
    args = ap.parse_args()
    if args.cmd == "generate":
        cmd_generate(args)
    elif args.cmd == "judge":
        cmd_judge(args)
    else:
        sys.exit(cmd_selftest(args))


if __name__ == "__main__":
    main()
