"""Checks of the evidence an investigator takes away from a canopy detect run.

Usage: check_evidence.py COMMAND OUTDIR [ARGS...]; each command prints what it
checked and exits non-zero with the reasons when a check fails (test_evidence.sh
turns that into PASS/FAIL lines).

  points OUTDIR      every place an alert is pointed at (report links, CSV
                     coordinates, KML balloons, chip captions) lies inside it
  kmz-stored OUTDIR  the PNGs in alerts.kmz are stored as they are (PNG is
                     compressed already), byte for byte
"""
import csv
import os
import re
import sys
import zipfile

from osgeo import gdal, ogr

gdal.UseExceptions()
ogr.UseExceptions()


def wgs84_alerts(out):
    """id -> WGS84 outline (alerts.geojson) and attributes (alerts.gpkg)."""
    ds = ogr.Open(out + "/alerts.geojson")
    geom = {f.GetField("id"): f.GetGeometryRef().Clone() for f in ds.GetLayer(0)}
    g = ogr.Open(out + "/alerts.gpkg")
    attrs = {f.GetField("id"): f.items() for f in g.GetLayerByName("alerts")}
    return geom, attrs


def inside(poly, lon, lat):
    p = ogr.Geometry(ogr.wkbPoint)
    p.AddPoint_2D(float(lon), float(lat))
    return p.Within(poly)


def png_text(path):
    """tEXt and uncompressed iTXt chunks of a PNG."""
    import struct
    out = {}
    with open(path, "rb") as f:
        data = f.read()
    i = 8
    while i < len(data):
        n, t = struct.unpack(">I4s", data[i:i + 8])
        body = data[i + 8:i + 8 + n]
        if t == b"tEXt":
            k, v = body.split(b"\0", 1)
            out[k.decode("latin-1")] = v.decode("latin-1")
        elif t == b"iTXt":
            k, rest = body.split(b"\0", 1)
            if rest[0] == 0:
                v = rest[2:].split(b"\0", 2)[2]
                out[k.decode("latin-1")] = v.decode("utf-8")
        i += 12 + n
    return out


def cmd_points(out):
    geom, attrs = wgs84_alerts(out)
    bad, n = [], 0
    for i, a in attrs.items():
        for k in ("centroid_lon", "centroid_lat", "point_lon", "point_lat"):
            if k not in a:
                bad.append("alerts.gpkg has no %s" % k)
        if "point_lon" in a and not inside(geom[i], a["point_lon"], a["point_lat"]):
            bad.append("%s: point_lon/lat outside the alert" % i)
    html = open(out + "/report.html", encoding="utf-8").read()
    for i in geom:
        sec = re.search(r'<section class="alert" id="alert-%s">(.*?)</section>' % i, html, re.S)
        if not sec:
            bad.append("report.html: no section for %s" % i)
            continue
        links = re.findall(r'openstreetmap\.org/\?mlat=([-0-9.]+)&amp;mlon=([-0-9.]+)', sec.group(1))
        links += re.findall(r'href="geo:([-0-9.]+),([-0-9.]+)"', sec.group(1))
        if not links:
            bad.append("report.html: no map link for %s" % i)
        for lat, lon in links:
            n += 1
            if not inside(geom[i], lon, lat):
                bad.append("report.html: link %s,%s of %s lies outside it" % (lat, lon, i))
    with open(out + "/alerts.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        if "point_lon" not in r:
            bad.append("alerts.csv has no point_lon/point_lat")
            break
        n += 1
        if not inside(geom[r["id"]], r["point_lon"], r["point_lat"]):
            bad.append("alerts.csv: the point of %s lies outside it" % r["id"])
    kml = zipfile.ZipFile(out + "/alerts.kmz").read("doc.kml").decode()
    for pm in re.findall(r"<Placemark>.*?</Placemark>", kml, re.S):
        name = re.search(r"<name>([^<]*)</name>", pm).group(1)
        if name not in geom:
            continue
        for lat, lon in re.findall(r'mlat=([-0-9.]+)&amp;mlon=([-0-9.]+)', pm):
            n += 1
            if not inside(geom[name], lon, lat):
                bad.append("alerts.kmz: balloon link of %s lies outside it" % name)
    for i in geom:
        for png in ("before.png", "after.png", "pair.png"):
            p = os.path.join(out, "evidence", i, png)
            if not os.path.isfile(p):
                continue
            t = png_text(p)
            if "Point" not in t:
                bad.append("%s has no Point text" % p)
                continue
            lat, lon = t["Point"].split()
            n += 1
            if not inside(geom[i], lon, lat):
                bad.append("%s: Point %s lies outside the alert" % (p, t["Point"]))
    if bad:
        sys.exit("\n".join(sorted(set(bad))))
    print("%d alerts, %d points checked" % (len(geom), n))


def cmd_kmz_stored(out):
    z = zipfile.ZipFile(out + "/alerts.kmz")
    assert z.testzip() is None
    pngs = [i for i in z.infolist() if i.filename.endswith(".png")]
    assert pngs, "no PNG in alerts.kmz"
    bad = ["%s: compress_type %d" % (i.filename, i.compress_type) for i in pngs
           if i.compress_type != zipfile.ZIP_STORED]
    assert not bad, "recompressed: " + ", ".join(bad)
    print("%d PNGs stored, %d bytes" % (len(pngs), sum(i.file_size for i in pngs)))


def main():
    cmd, out = sys.argv[1], sys.argv[2]
    {"points": cmd_points, "kmz-stored": cmd_kmz_stored}[cmd](out, *sys.argv[3:])


if __name__ == "__main__":
    main()
