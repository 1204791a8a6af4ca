"""Points within a corridor's distance of random routes, by geographiclib
(Karney's geodesics): the oracle of crates/wire/tests/shapes.rs.

A route goes from position to position along WGS84 geodesics. For each random
route (2 to 8 positions, legs from 0.5 to 300 km, turns up to 170 degrees,
some astride the antimeridian, some beyond 75 degrees of latitude) and
half-width (50 m to 20 km), prints one JSON line: the route ([lat, lng]), the
half-width, and points that are certainly within the half-width of the route
(less 0.1 m): a point of a leg at a random fraction of it, moved at a right
angle or any other bearing by a random distance; points around the
positions at any bearing. Each point's distance to the route is at most the
geodesic it was moved along, so it belongs to the corridor.

    python routes.py --seed 1 --count 200
"""

import argparse
import json
import math
import random

from geographiclib.geodesic import Geodesic

G = Geodesic.WGS84


def route(rng):
    n = rng.randint(2, 8)
    kind = rng.random()
    if kind < 0.15:
        lat, lng = rng.uniform(-60, 60), rng.choice([179.8, -179.8])
    elif kind < 0.3:
        lat, lng = rng.choice([1, -1]) * rng.uniform(75, 84), rng.uniform(-180, 180)
    else:
        lat, lng = rng.uniform(-70, 70), rng.uniform(-180, 180)
    azi = rng.uniform(-180, 180)
    points = [(lat, lng)]
    for _ in range(n - 1):
        length = 10 ** rng.uniform(math.log10(500), math.log10(300_000))
        d = G.Direct(lat, lng, azi, length)
        lat, lng = d["lat2"], d["lon2"]
        points.append((lat, lng))
        azi = d["azi2"] + rng.uniform(-170, 170)
    return points


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    for _ in range(args.count):
        points = route(rng)
        w = 10 ** rng.uniform(math.log10(50), math.log10(20_000))
        inside = []
        for (lat1, lng1), (lat2, lng2) in zip(points, points[1:]):
            line = G.InverseLine(lat1, lng1, lat2, lng2)
            for _ in range(12):
                p = line.Position(rng.uniform(0, 1) * line.s13)
                turn = 90 if rng.random() < 0.6 else rng.uniform(0, 360)
                d = G.Direct(p["lat2"], p["lon2"], p["azi2"] + rng.choice([turn, -turn]),
                             rng.uniform(0, 1) ** 0.3 * (w - 0.1))
                inside.append([d["lat2"], d["lon2"]])
        for lat, lng in points:
            for _ in range(4):
                d = G.Direct(lat, lng, rng.uniform(-180, 180), rng.uniform(0, 1) ** 0.3 * (w - 0.1))
                inside.append([d["lat2"], d["lon2"]])
        print(json.dumps({"route": [[a, b] for a, b in points], "half_width_m": w,
                          "inside": inside}))


if __name__ == "__main__":
    main()
