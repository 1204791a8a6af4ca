"""Files as other tools write them, and our KML as another parser reads it.

`write DIR SPEC`: writes, with the tools relief offices and analysts use,
the files SPEC (JSON) describes: KML and KMZ by simplekml, GPX by gpxpy,
XLSX by openpyxl, CSV by Python's csv module. The test gives the times
(taken from the clock) and positions; nothing here is computed by Parley.

`read KML`: reads a KML file with lxml (no KML library of ours) and prints,
one JSON line a Placemark, its name, altitudeMode, extrude, coordinates,
TimeSpan and ExtendedData.
"""

import csv
import datetime
import json
import os
import sys

import gpxpy.gpx
import openpyxl
import simplekml
from lxml import etree


def placemarks(kml, spec):
    for p in spec:
        if p["kind"] == "polygon":
            g = kml.newpolygon(name=p["name"], outerboundaryis=[tuple(c) for c in p["coordinates"]])
        elif p["kind"] == "point":
            g = kml.newpoint(name=p["name"], coords=[tuple(p["coordinates"])])
        else:
            g = kml.newlinestring(name=p["name"], coords=[tuple(c) for c in p["coordinates"]])
        if "altitude_mode" in p:
            g.altitudemode = p["altitude_mode"]
        if p.get("extrude"):
            g.extrude = 1
        if "begin" in p:
            g.timespan.begin = p["begin"]
            g.timespan.end = p["end"]
        for k, v in p.get("data", {}).items():
            g.extendeddata.newdata(name=k, value=v)


def write(out, spec):
    for name, kml_spec in spec.get("kml", {}).items():
        kml = simplekml.Kml()
        placemarks(kml, kml_spec)
        if name.endswith(".kmz"):
            kml.savekmz(os.path.join(out, name))
        else:
            kml.save(os.path.join(out, name))
    for name, tracks in spec.get("gpx", {}).items():
        gpx = gpxpy.gpx.GPX()
        for t in tracks:
            track = gpxpy.gpx.GPXTrack(name=t["name"])
            segment = gpxpy.gpx.GPXTrackSegment()
            for lat, lng, ele, time in t["points"]:
                when = datetime.datetime.fromisoformat(time.replace("Z", "+00:00"))
                segment.points.append(gpxpy.gpx.GPXTrackPoint(lat, lng, elevation=ele, time=when))
            track.segments.append(segment)
            gpx.tracks.append(track)
        with open(os.path.join(out, name), "w") as f:
            f.write(gpx.to_xml())
    for name, rows in spec.get("csv", {}).items():
        with open(os.path.join(out, name), "w", newline="") as f:
            csv.writer(f).writerows(rows)
    for name, rows in spec.get("xlsx", {}).items():
        book = openpyxl.Workbook()
        sheet = book.active
        for row in rows:
            cells = []
            for c in row:
                # {"date": RFC 3339}: a real spreadsheet date cell.
                if isinstance(c, dict):
                    c = datetime.datetime.fromisoformat(c["date"].replace("Z", "+00:00")).replace(tzinfo=None)
                cells.append(c)
            sheet.append(cells)
        book.save(os.path.join(out, name))


def read(path):
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    tree = etree.parse(path)
    for p in tree.iterfind(".//k:Placemark", ns):
        coords = []
        text = p.findtext(".//k:coordinates", namespaces=ns) or ""
        for c in text.split():
            coords.append([float(x) for x in c.split(",")])
        print(json.dumps({
            "name": p.findtext("k:name", namespaces=ns),
            "geometry": etree.QName(p.find(".//k:coordinates/..", ns).tag).localname,
            "altitude_mode": p.findtext(".//k:altitudeMode", namespaces=ns),
            "extrude": p.findtext(".//k:extrude", namespaces=ns),
            "coordinates": coords,
            "begin": p.findtext("k:TimeSpan/k:begin", namespaces=ns),
            "end": p.findtext("k:TimeSpan/k:end", namespaces=ns),
            "data": {d.get("name"): d.findtext("k:value", namespaces=ns)
                     for d in p.iterfind("k:ExtendedData/k:Data", ns)},
        }))


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2], json.loads(sys.argv[3]))
    else:
        read(sys.argv[2])
