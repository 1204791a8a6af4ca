#!/usr/bin/env python3
"""Writes the hand-written seeds of corpus/parse_activity/ (files named seed-*.json)
and the InterUSS ones (interuss-*.json), from the InterUSS prober resources
when they are at ../../shared/external/interuss/monitoring/prober/scd/resources.

Run from anywhere: python3 fuzz/make_seeds.py
"""
import copy
import json
import math
import pathlib
import re
import sys

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "corpus" / "parse_activity"
INTERUSS = HERE.parent.parent / "shared" / "external" / "interuss" / "monitoring" / "prober" / "scd" / "resources"


def t(v):
    return {"value": v, "format": "RFC3339"}


def alt(v, ref="W84", units="M"):
    return {"value": v, "reference": ref, "units": units}


def ll(lat, lng):
    return {"lat": lat, "lng": lng}


SQUARE = [ll(35.0, 38.0), ll(35.0, 38.01), ll(35.01, 38.01), ll(35.01, 38.0)]


def v4d(outline=None, lower=0, upper=120, start="2026-11-22T10:00:00Z", end="2026-11-22T11:00:00Z", circle=None):
    vol = {}
    if outline is not None:
        vol["outline_polygon"] = {"vertices": outline}
    if circle is not None:
        vol["outline_circle"] = circle
    vol["altitude_lower"] = alt(lower) if not isinstance(lower, dict) else lower
    vol["altitude_upper"] = alt(upper) if not isinstance(upper, dict) else upper
    return {"volume": vol, "time_start": t(start), "time_end": t(end)}


def circ(lat=35.0, lng=38.0, r=500, units="M"):
    return {"center": ll(lat, lng), "radius": {"value": r, "units": units}}


def feature(geometry, **props):
    base = {"altitude_lower_m": 0, "altitude_upper_m": 120,
            "time_start": "2026-11-22T10:00:00Z", "time_end": "2026-11-22T11:00:00Z"}
    base.update(props)
    return {"type": "Feature", "geometry": geometry, "properties": base}


def gj_poly(lnglats):
    return {"type": "Polygon", "coordinates": [lnglats]}


RING = [[38.0, 35.0], [38.01, 35.0], [38.01, 35.01], [38.0, 35.01], [38.0, 35.0]]


def act(name, volumes, party="north"):
    return {"id": name, "party": party, "volumes": volumes}


SEEDS = {}


def seed(name, doc):
    SEEDS[name] = doc if isinstance(doc, str) else json.dumps(doc, separators=(",", ":"))


# --- valid -------------------------------------------------------------------
seed("valid-polygon", act("P1", [v4d(SQUARE)]))
seed("valid-circle", act("C1", [v4d(circle=circ())]))
seed("valid-two-volumes-overlap", act("M1", [v4d(SQUARE), v4d(circle=circ(35.005, 38.005, 300), lower=50, upper=200)]))
seed("valid-two-volumes-apart", act("M2", [v4d(SQUARE), v4d(circle=circ(36.0, 39.0, 300),
                                                             start="2026-11-22T12:00:00Z", end="2026-11-22T13:00:00Z")]))
seed("valid-geojson-polygon", act("G1", [feature(gj_poly(RING))]))
seed("valid-geojson-point", act("G2", [feature({"type": "Point", "coordinates": [38.0, 35.0]}, radius_m=250)]))
seed("valid-mixed", act("X1", [feature(gj_poly(RING)), v4d(circle=circ(35.0, 38.02, 800)),
                               feature({"type": "Point", "coordinates": [38.005, 35.005]}, radius_m=100,
                                       time_start="2026-11-22T10:30:00.5+01:00", time_end="2026-11-22T10:45:00Z")]))
seed("valid-concave", act("P2", [v4d([ll(0, 0), ll(0, 0.02), ll(0.02, 0.02), ll(0.005, 0.01), ll(0.02, 0)])]))
seed("valid-antimeridian", act("AM", [v4d([ll(-1, 179.99), ll(-1, -179.99), ll(1, -179.99), ll(1, 179.99)])]))
seed("valid-two-polygons-touching", act("P3", [v4d(SQUARE), v4d([ll(35.0, 38.01), ll(35.0, 38.02), ll(35.01, 38.02), ll(35.01, 38.01)])]))
seed("valid-two-polygons-apart", act("P4", [v4d(SQUARE), v4d([ll(35.0, 38.03), ll(35.0, 38.04), ll(35.01, 38.04), ll(35.01, 38.03)])]))
seed("valid-circle-near-pole", act("C2", [v4d(circle=circ(89.9, 10.0, 5000))]))
seed("valid-fractional-times", act("T1", [v4d(SQUARE, start="2026-11-22T10:00:00.123456Z",
                                              end="2026-11-22T10:00:00.123457Z")]))

# --- coordinates ---------------------------------------------------------------
seed("bad-lat-91", act("B1", [v4d([ll(91, 38.0), ll(35.0, 38.01), ll(35.01, 38.01)])]))
seed("bad-lng-minus-181", act("B2", [v4d(circle=circ(35.0, -181))]))
seed("bad-nan-string", act("B3", [v4d([ll("NaN", 38.0), ll(35.0, 38.01), ll(35.01, 38.01)])]))
seed("bad-infinity-string", act("B4", [v4d(circle=circ("Infinity", "-inf"))]))
seed("bad-huge-exponent", '{"id":"B5","party":"north","volumes":[{"volume":{"outline_circle":{"center":{"lat":1e400,"lng":38},"radius":{"value":500,"units":"M"}},"altitude_lower":{"value":0,"reference":"W84","units":"M"},"altitude_upper":{"value":120,"reference":"W84","units":"M"}},"time_start":{"value":"2026-11-22T10:00:00Z","format":"RFC3339"},"time_end":{"value":"2026-11-22T11:00:00Z","format":"RFC3339"}}]}')
seed("bad-geojson-lat-91", act("B6", [feature({"type": "Point", "coordinates": [38.0, 91.0]}, radius_m=100)]))

# --- polygon shape ---------------------------------------------------------------
seed("bad-two-vertices", act("S1", [v4d(SQUARE[:2])]))
seed("bad-repeated-closing-vertex", act("S2", [v4d(SQUARE + [SQUARE[0]])]))
seed("bad-bowtie", act("S3", [v4d([ll(35.0, 38.0), ll(35.01, 38.01), ll(35.0, 38.01), ll(35.01, 38.0)])]))
# Three points on a meridian (a geodesic): zero area.
seed("bad-collinear", act("S4", [v4d([ll(35.0, 38.0), ll(35.01, 38.0), ll(35.02, 38.0)])]))
# Three points on a parallel are not collinear on the ellipsoid: a thin but real sliver.
seed("valid-sliver-on-parallel", act("S4b", [v4d([ll(35.0, 38.0), ll(35.0, 38.01), ll(35.0, 38.02)])]))
seed("bad-collinear-equator", act("S4c", [feature(gj_poly([[10.0, 0.0], [10.01, 0.0], [10.02, 0.0], [10.0, 0.0]]))]))
seed("bad-pole", act("S5", [v4d([ll(89.0, 0), ll(89.0, 90), ll(89.0, 180), ll(89.0, -90)])]))
seed("bad-south-pole", act("S5b", [feature(gj_poly([[0, -89.5], [120, -89.5], [-120, -89.5], [0, -89.5]]))]))
seed("bad-circle-around-pole", act("S5c", [v4d(circle=circ(89.95, 10.0, 20000))]))
seed("bad-too-many-vertices", act("S5d", [v4d([ll(round(35.0 + 0.01 * math.sin(2 * math.pi * i / 1001), 6),
                                                   round(38.0 + 0.01 * math.cos(2 * math.pi * i / 1001), 6))
                                                for i in range(1001)])]))
seed("bad-huge-area", act("S6", [v4d([ll(-40, -40), ll(-40, 40), ll(40, 40), ll(40, -40)])]))
seed("bad-duplicate-vertex", act("S7", [v4d([SQUARE[0], SQUARE[1], SQUARE[1], SQUARE[2], SQUARE[3]])]))
seed("bad-geojson-open-ring", act("S8", [feature(gj_poly(RING[:-1]))]))
seed("bad-geojson-hole", act("S9", [feature({"type": "Polygon", "coordinates": [RING, RING]})]))
seed("bad-geojson-linestring", act("S10", [feature({"type": "LineString", "coordinates": RING})]))
seed("bad-geojson-short-position", act("S11", [feature({"type": "Point", "coordinates": [38.0]}, radius_m=10)]))

# --- circle ------------------------------------------------------------------------
seed("bad-radius-zero", act("R1", [v4d(circle=circ(r=0))]))
seed("bad-radius-negative", act("R2", [v4d(circle=circ(r=-5))]))
seed("bad-radius-huge", act("R3", [v4d(circle=circ(r=5.0e6))]))
seed("bad-geojson-point-no-radius", act("R4", [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [38.0, 35.0]},
                                                 "properties": {"altitude_lower_m": 0, "altitude_upper_m": 120,
                                                                "time_start": "2026-11-22T10:00:00Z",
                                                                "time_end": "2026-11-22T11:00:00Z"}}]))

# --- altitude ----------------------------------------------------------------------
seed("bad-altitude-lower-above-upper", act("A1", [v4d(SQUARE, lower=300, upper=100)]))
seed("bad-altitude-200000", act("A2", [v4d(circle=circ(), upper=200000)]))
seed("bad-units-ft", act("A3", [v4d(SQUARE, lower=alt(0, units="FT"))]))
seed("bad-radius-units-ft", act("A4", [v4d(circle=circ(units="FT"))]))
seed("bad-reference-agl", act("A5", [v4d(SQUARE, upper=alt(120, ref="AGL"))]))
seed("bad-geojson-altitude-order", act("A6", [feature(gj_poly(RING), altitude_lower_m=500, altitude_upper_m=10)]))

# --- time --------------------------------------------------------------------------
seed("bad-end-before-start", act("W1", [v4d(SQUARE, start="2026-11-22T11:00:00Z", end="2026-11-22T10:00:00Z")]))
seed("bad-time-format", act("W2", [v4d(circle=circ(), start="2026-11-22 10:00")]))
seed("bad-time-format-name", act("W3", [{**v4d(SQUARE), "time_end": {"value": "2026-11-22T11:00:00Z", "format": "ISO8601"}}]))
seed("bad-window-too-long", act("W4", [v4d(SQUARE, start="2026-01-01T00:00:00Z", end="2026-12-31T00:00:00Z")]))
seed("bad-time-extreme", act("W5", [v4d(SQUARE, start="0000-01-01T00:00:00Z", end="9999-12-31T23:59:59.999999999Z")]))
seed("bad-geojson-time", act("W6", [feature({"type": "Point", "coordinates": [38.0, 35.0]}, radius_m=50,
                                            time_start="yesterday")]))

# --- structure ---------------------------------------------------------------------
both = v4d(SQUARE)
both["volume"]["outline_circle"] = circ()
seed("bad-both-outlines", act("O1", [both]))
seed("bad-no-outline", act("O2", [v4d()]))
seed("bad-empty-volumes", act("E1", []))
seed("bad-wrong-types", {"id": 7, "party": ["north"], "volumes": {"volume": None}})
seed("bad-volume-wrong-types", act("E2", [{"volume": {"outline_polygon": {"vertices": "none"},
                                                       "altitude_lower": 0, "altitude_upper": True},
                                            "time_start": 10, "time_end": None}]))
seed("bad-empty-id", act("", [v4d(SQUARE)]))
seed("bad-not-object", "[1,2,3]")
seed("bad-truncated", SEEDS["valid-polygon"][:90])
seed("bad-missing-time-end", act("E3", [{k: v for k, v in v4d(SQUARE).items() if k != "time_end"}]))


def snake(name):
    return re.sub(r"(?<=[a-z])([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def normalize(v):
    """camelCase keys to snake_case, no repeated closing vertex, time_end one hour after time_start."""
    if isinstance(v, list):
        return [normalize(x) for x in v]
    if not isinstance(v, dict):
        return v
    out = {snake(k): normalize(x) for k, x in v.items()}
    ring = out.get("vertices")
    if isinstance(ring, list) and len(ring) > 3 and ring[0] == ring[-1]:
        ring.pop()
    start = out.get("time_start")
    if isinstance(start, dict) and isinstance(start.get("value"), str) and isinstance(out.get("time_end"), dict):
        s = start["value"]
        if len(s) >= 13 and s[11:13].isdigit():
            out["time_end"] = dict(out["time_end"], value=s[:11] + "%02d" % ((int(s[11:13]) + 1) % 24) + s[13:])
            if int(s[11:13]) == 23:
                out["time_end"]["value"] = s[:11] + "23:59:59Z"
    return out


def write():
    OUT.mkdir(parents=True, exist_ok=True)
    for name, text in SEEDS.items():
        (OUT / f"seed-{name}.json").write_text(text)
    n = 0
    if INTERUSS.is_dir():
        for src in sorted(INTERUSS.glob("*.json")):
            doc = json.loads(src.read_text())
            if not isinstance(doc, dict) or "extents" not in doc:
                continue
            wrapped = {"id": src.stem, "party": "interuss", "volumes": doc["extents"]}
            (OUT / f"interuss-{src.stem}.json").write_text(json.dumps(wrapped, separators=(",", ":")))
            n += 1
            # The same volumes in snake_case, with an hour-long window, so that most get
            # past validation and reach the geometry and the conflict predicate.
            fixed = normalize(copy.deepcopy(doc["extents"]))
            if fixed != doc["extents"]:
                wrapped = {"id": src.stem + "-normalized", "party": "interuss", "volumes": fixed}
                (OUT / f"interuss-{src.stem}-normalized.json").write_text(json.dumps(wrapped, separators=(",", ":")))
                n += 1
    else:
        print(f"no InterUSS resources at {INTERUSS}; wrote hand-written seeds only", file=sys.stderr)
    print(f"{len(SEEDS)} hand-written seeds, {n} InterUSS seeds in {OUT}")


if __name__ == "__main__":
    write()
