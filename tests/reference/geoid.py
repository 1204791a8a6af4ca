"""The EGM96 geoid by an independent spherical-harmonic synthesis: the oracle
of crates/wire/tests/geoid.rs.

Reads the model's coefficients (NGA's EGM96 potential coefficients and the
height-anomaly-to-undulation correction coefficients, as the `egm96` crate
ships them in data/coefficients.txt: one row [corr C, corr S, C, S] an (n, m),
n = 0..360, m = 0..n, after a row of zeros) and evaluates the geoid height
with numpy: fully normalized Legendre functions by the standard forward
column recursion (Holmes and Featherstone 2002), vectorized over points, not
the crate's per-point routine (NGA's F477).

    python geoid.py --coefficients PATH points --seed 1 --count 200
    python geoid.py --coefficients PATH boxes --seed 1 --count 30
    python geoid.py --coefficients PATH slope --step 0.25

`points`: one JSON line a random point: lat, lng, n (metres).
`boxes`: one JSON line a random box (from 1 km to 3,000 km wide, some astride
the antimeridian or reaching a pole): south, west, north, east and the lowest
and highest n on a 21 x 21 grid over it and 100 random points in it.
`slope`: one JSON line: the steepest slope between neighbours of a global
grid (metres a metre), and the lowest and highest n on it.
"""

import argparse
import json
import math
import random

import numpy as np

NMAX = 360
GM = 0.3986004418e15
AE = 6378137.0
E2 = 0.00669437999013
GEQT = 9.7803253359
K = 0.00193185265246


def index(n, m):
    return n * (n + 1) // 2 + m + 1


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip().rstrip(",")
            if line:
                rows.append(json.loads(line))
    data = np.array(rows, dtype=float)
    assert data.shape[0] >= index(NMAX, NMAX) + 1, data.shape
    return data


def harmonics(data, lat_deg):
    """For latitudes (degrees): the scale GM / (gamma r) and, for each order
    m, the sums over degrees n of the fully normalized Legendre function times
    each coefficient: potential (C, S, with (a/r)^n, n >= 2) and correction
    (C, S). Legendre functions by the forward column recursion, one order at
    a time, vectorized over latitudes."""
    lat = np.radians(np.asarray(lat_deg, dtype=float))
    s2 = np.sin(lat) ** 2
    nu = AE / np.sqrt(1.0 - E2 * s2)
    rho = nu * np.cos(lat)  # distance from the axis (independent of longitude)
    z = nu * (1.0 - E2) * np.sin(lat)
    r = np.sqrt(rho * rho + z * z)
    t, u = z / r, rho / r  # sine and cosine of the geocentric latitude
    gamma = GEQT * (1.0 + K * s2) / np.sqrt(1.0 - E2 * s2)
    ratio = AE / r
    powers = np.ones((NMAX + 1,) + lat.shape)
    for n in range(1, NMAX + 1):
        powers[n] = powers[n - 1] * ratio
    sums = np.zeros((4, NMAX + 1) + lat.shape)  # C, S, corr C, corr S by m
    pmm = np.ones_like(lat)
    for m in range(0, NMAX + 1):
        if m == 1:
            pmm = math.sqrt(3.0) * u
        elif m >= 2:
            pmm = math.sqrt((2 * m + 1) / (2 * m)) * u * pmm
        before, now = None, pmm
        for n in range(m, NMAX + 1):
            if n == m + 1:
                before, now = now, math.sqrt(2 * m + 3) * t * now
            elif n >= m + 2:
                a = math.sqrt((2 * n - 1) * (2 * n + 1) / ((n - m) * (n + m)))
                b = math.sqrt(
                    (2 * n + 1) * (n + m - 1) * (n - m - 1) / ((n - m) * (n + m) * (2 * n - 3))
                )
                before, now = now, a * t * now - b * before
            cc, cs, c, s = data[index(n, m)]
            if n >= 2:
                weighted = powers[n] * now
                sums[0, m] += c * weighted
                sums[1, m] += s * weighted
            sums[2, m] += cc * now
            sums[3, m] += cs * now
    return GM / (gamma * r), sums


def geoid(data, lat_deg, lng_deg):
    """Geoid heights at points (arrays of degrees)."""
    scale, sums = harmonics(data, lat_deg)
    lng = np.radians(np.asarray(lng_deg, dtype=float))
    orders = np.arange(NMAX + 1)[:, None]
    cos_m, sin_m = np.cos(orders * lng), np.sin(orders * lng)
    potential = (sums[0] * cos_m + sums[1] * sin_m).sum(axis=0)
    correction = (sums[2] * cos_m + sums[3] * sin_m).sum(axis=0)
    return scale * potential + correction / 100.0 - 0.53


def geoid_grid(data, lats, lngs):
    """Geoid heights on a grid: rows of latitudes, columns of longitudes."""
    scale, sums = harmonics(data, lats)
    lng = np.radians(np.asarray(lngs, dtype=float))
    orders = np.arange(NMAX + 1)[:, None]
    cos_m, sin_m = np.cos(orders * lng), np.sin(orders * lng)
    potential = sums[0].T @ cos_m + sums[1].T @ sin_m
    correction = sums[2].T @ cos_m + sums[3].T @ sin_m
    return scale[:, None] * potential + correction / 100.0 - 0.53


def random_boxes(rng, count):
    for i in range(count):
        width_km = 10 ** rng.uniform(0, math.log10(3000))
        lat = rng.uniform(-85, 85)
        lng = rng.uniform(-180, 180)
        if i % 7 == 3:
            lng = 179.9  # astride the antimeridian
        if i % 11 == 5:
            lat = 88.0  # reaching a pole
        dlat = width_km / 111.0
        dlng = min(width_km / (111.0 * max(math.cos(math.radians(lat)), 0.05)), 359.0)
        south, north = max(-90.0, lat - dlat / 2), min(90.0, lat + dlat / 2)
        west = (lng - dlng / 2 + 180) % 360 - 180
        east = (lng + dlng / 2 + 180) % 360 - 180
        yield south, west, north, east, dlng


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--coefficients", required=True)
    sub = ap.add_subparsers(dest="mode", required=True)
    pts = sub.add_parser("points")
    pts.add_argument("--seed", type=int, required=True)
    pts.add_argument("--count", type=int, required=True)
    bx = sub.add_parser("boxes")
    bx.add_argument("--seed", type=int, required=True)
    bx.add_argument("--count", type=int, required=True)
    sl = sub.add_parser("slope")
    sl.add_argument("--step", type=float, required=True)
    args = ap.parse_args()
    data = load(args.coefficients)

    if args.mode == "points":
        rng = random.Random(args.seed)
        lats = [rng.uniform(-90, 90) for _ in range(args.count)] + [90.0, -90.0, 0.0]
        lngs = [rng.uniform(-180, 180) for _ in range(args.count)] + [0.0, 0.0, 180.0]
        for lat, lng, n in zip(lats, lngs, geoid(data, lats, lngs)):
            print(json.dumps({"lat": lat, "lng": lng, "n": float(n)}))
    elif args.mode == "boxes":
        rng = random.Random(args.seed)
        boxes, lats, lngs = [], [], []
        for south, west, north, east, dlng in random_boxes(rng, args.count):
            g = np.linspace(0.0, 1.0, 21)
            la, lo = np.meshgrid(south + g * (north - south), west + g * dlng)
            box_lats = list(la.ravel()) + [rng.uniform(south, north) for _ in range(100)]
            box_lngs = list(lo.ravel()) + [west + rng.uniform(0, dlng) for _ in range(100)]
            boxes.append((south, west, north, east, len(lats), len(lats) + len(box_lats)))
            lats += box_lats
            lngs += [(x + 180) % 360 - 180 for x in box_lngs]
        n = geoid(data, lats, lngs)  # all at once: the loops are over degrees
        for south, west, north, east, a, b in boxes:
            print(json.dumps({"south": south, "west": west, "north": north, "east": east,
                              "min": float(n[a:b].min()), "max": float(n[a:b].max())}))
    else:
        lats = np.arange(-90.0, 90.0 + 1e-9, args.step)
        lngs = np.arange(-180.0, 180.0, args.step)
        n = geoid_grid(data, lats, lngs)
        metres = 111_000.0 * args.step  # a step of latitude; of longitude, times cos
        dlat = np.abs(np.diff(n, axis=0)) / metres
        cosines = np.maximum(np.cos(np.radians(lats)), 1e-3)[:, None]
        dlng = np.abs(np.diff(n, axis=1, append=n[:, :1])) / (metres * cosines)
        steepest = max(float(dlat.max()), float(dlng[np.abs(lats) < 89.0].max()))
        print(json.dumps({"slope": steepest, "min": float(n.min()), "max": float(n.max())}))


if __name__ == "__main__":
    main()
