"""Positions as independent implementations write them: the oracle of
crates/wire/tests/coordinates.rs.

For random points and for the grid's edge cases (zone and band edges, the
Norway and Svalbard exceptions, the poles, the antimeridian), prints one JSON
line a point: its latitude and longitude, its MGRS reference to the metre from
PyPI `mgrs` (NGA's GEOTRANS), and its UTM or UPS coordinate from pyproj (PROJ)
in the zone that reference names. The reference's zone and 100 km square are
GEOTRANS's; its digits are PROJ's grid coordinate truncated to the metre (the
standard truncates; GEOTRANS rounds).

    python coordinates.py --seed 1 --count 2000
"""

import argparse
import json
import random

import mgrs
from pyproj import Proj


def edge_points():
    """Points on and beside the places where grids change."""
    eps = 1e-7
    for lng in range(-180, 181, 6):  # zone edges
        for lat in (-79.5, -45.0, 0.0 + eps, 33.3, 79.5):
            for d in (-eps, eps):
                yield lat, max(-180.0, min(179.9999999, lng + d))
    for lat in range(-72, 84, 8):  # band edges (-80 and 84 are the UPS list's)
        for d in (-eps, eps):
            yield lat + d, 38.5
    for lat in (56.0 + eps, 59.9, 63.9999):  # Norway: zone 32V is 3E-12E wide
        for lng in (2.9999, 3.0001, 5.0, 8.9, 11.9999):
            yield lat, lng
    for lat in (72.0001, 78.0, 83.9999):  # Svalbard: zones 31X, 33X, 35X, 37X
        for lng in (0.0001, 8.9999, 9.0001, 20.9999, 21.0001, 32.9999, 33.0001, 41.9999):
            yield lat, lng
    for lat in (84.0001, 86.0, 89.9, -80.0001, -85.0, -89.9):  # UPS
        for lng in (-179.9, -90.0, 0.0, 45.0, 179.9):
            yield lat, lng
    for lng in (179.9999999, -179.9999999):  # the antimeridian
        for lat in (-60.0, 0.5, 60.0):
            yield lat, lng


def oracle(m, lat, lng):
    geotrans = m.toMGRS(lat, lng, MGRSPrecision=5)
    if isinstance(geotrans, bytes):
        geotrans = geotrans.decode()
    ref = geotrans
    north = lat >= 0
    if ref[0].isdigit():
        zone = int(ref[:2]) if ref[1].isdigit() else int(ref[0])
        proj = Proj(proj="utm", zone=zone, south=not north, ellps="WGS84")
    else:
        zone = 0
        proj = Proj(proj="ups", south=not north, ellps="WGS84")
    easting, northing = proj(lng, lat)
    # GEOTRANS rounds to the nearest metre; MGRS (NGA TM 8358.1) truncates,
    # so the point lies in the cell it names. The zone and square are
    # GEOTRANS's, the digits PROJ's grid coordinate truncated.
    digits = "%05d%05d" % (int(easting // 1) % 100000, int(northing // 1) % 100000)
    ref = geotrans[:-10] + digits
    return {"lat": lat, "lng": lng, "mgrs": ref, "geotrans": geotrans, "zone": zone,
            "hemisphere": "N" if north else "S",
            "easting": easting, "northing": northing}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    m = mgrs.MGRS()
    points = list(edge_points())
    for _ in range(args.count):
        points.append((rng.uniform(-89.99, 89.99), rng.uniform(-180.0, 179.999)))
    for lat, lng in points:
        print(json.dumps(oracle(m, lat, lng)))


if __name__ == "__main__":
    main()
