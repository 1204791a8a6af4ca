"""Reads NOTAM text (standard input) with PyPI aviconv-notam, an independent
ICAO NOTAM parser, and prints what it understood as one JSON line. The
parser reads a NOTAM without the brackets that enclose it in an AFTN
message, so they are taken off first (and must be there)."""

import json
import sys

from aviconv_notam.parser import parse

text = sys.stdin.read().strip()
assert text.startswith("(") and text.endswith(")"), text
n = parse(text[1:-1])
q = n.q_line
print(json.dumps({
    "id": n.identifier,
    "type": str(n.type),
    "fir": n.fir,
    "q_fir": q.fir,
    "qcode": q.qcode,
    "lower_fl": q.lower_fl,
    "upper_fl": q.upper_fl,
    "centre": [q.centre_lat, q.centre_lon],
    "radius_nm": q.radius_nm,
    "from": n.effective_from.strftime("%Y-%m-%dT%H:%M:%SZ"),
    "to": n.effective_to if n.effective_to == "PERM" else n.effective_to.strftime("%Y-%m-%dT%H:%M:%SZ"),
    "polygon": n.geometry.polygon,
    "lower": n.lower_limit,
    "upper": n.upper_limit,
}))
