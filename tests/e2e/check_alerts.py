"""Checks of canopy detect outputs against a generator truth file.

Usage: check_alerts.py OUTDIR TRUTH_DIR [--pixel-tol P] [--area-tol F]
Prints PASS/FAIL lines (counted by tests/run-tests.sh).
"""
import csv
import json
import math
import sys

from osgeo import gdal, ogr, osr

gdal.UseExceptions()
ogr.UseExceptions()


def report(ok, name, why=""):
    print(("PASS: " if ok else "FAIL: ") + name + ("" if ok or not why else " (" + why + ")"))
    return ok


def load_truth(truth_dir):
    with open(truth_dir + "/truth.csv") as f:
        return list(csv.DictReader(f))


def load_alerts(path, layer="alerts"):
    ds = ogr.Open(path)
    lyr = ds.GetLayerByName(layer)
    feats = []
    for f in lyr:
        g = f.GetGeometryRef().Clone()
        d = {k: f.GetField(k) for k in f.keys()}
        d["geom"] = g
        feats.append(d)
    return feats, lyr.GetSpatialRef().Clone() if lyr.GetSpatialRef() else None


def ring_signed_area(ring):
    pts = ring.GetPoints()
    return 0.5 * sum(pts[i][0] * pts[i + 1][1] - pts[i + 1][0] * pts[i][1] for i in range(len(pts) - 1))


def main():
    out, truth_dir = sys.argv[1], sys.argv[2]
    prefix = sys.argv[3] if len(sys.argv) > 3 else "sample"
    pixel = None
    truth = load_truth(truth_dir)
    alerts, srs = load_alerts(out + "/alerts.gpkg")
    before = gdal.Open(truth_dir + "/before.tif")
    gt = before.GetGeoTransform()
    pixel = abs(gt[1])

    expected = [t for t in truth if t["expect_alert"] == "1"]
    report(len(alerts) == len(expected), prefix + ": alert count equals expected clearings",
           "%d alerts, %d expected" % (len(alerts), len(expected)))

    # Every expected clearing found as one polygon: area within 1 %, centroid within half a pixel.
    used = set()
    for t in expected:
        cx, cy = float(t["centroid_x"]), float(t["centroid_y"])
        best, bestd = None, 1e18
        for i, a in enumerate(alerts):
            c = a["geom"].Centroid()
            d = math.hypot(c.GetX() - cx, c.GetY() - cy)
            if d < bestd:
                best, bestd = i, d
        name = "%s: clearing %s (%s px)" % (prefix, t["id"], t["pixels"])
        if best is None:
            report(False, name + " found", "no alerts")
            continue
        a = alerts[best]
        used.add(best)
        area_m2 = float(t["area_m2"])
        ok = report(bestd <= pixel / 2, name + " centroid within half a pixel", "%.2f m away" % bestd)
        ok &= report(abs(a["area_ha"] * 1e4 - area_m2) <= 0.01 * area_m2, name + " area within 1%",
                     "alert %.4f ha, truth %.4f ha" % (a["area_ha"], area_m2 / 1e4))
        ok &= report(a["pixels"] == int(t["pixels"]), name + " pixel count exact",
                     "alert %d px, truth %s" % (a["pixels"], t["pixels"]))
    report(len(used) == len(alerts), prefix + ": no alert outside the planted clearings",
           "%d unmatched alerts" % (len(alerts) - len(used)))

    # Nothing where nothing is expected.
    for t in truth:
        if t["expect_alert"] == "1":
            continue
        box = ogr.CreateGeometryFromWkt("POLYGON((%s %s,%s %s,%s %s,%s %s,%s %s))" % (
            t["xmin"], t["ymin"], t["xmax"], t["ymin"], t["xmax"], t["ymax"], t["xmin"], t["ymax"],
            t["xmin"], t["ymin"]))
        hit = [a["id"] for a in alerts if a["geom"].Intersects(box) and a["geom"].Intersection(box).Area() > 0]
        report(not hit, "%s: no alert on %s %s" % (prefix, t["kind"], t["id"]), "alerts %s" % hit)

    # Geometry: valid, MultiPolygon, ids unique, attributes sane.
    report(all(a["geom"].IsValid() for a in alerts), prefix + ": every polygon is valid (OGR IsValid)")
    ids = [a["id"] for a in alerts]
    report(len(set(ids)) == len(ids), prefix + ": alert ids are unique")
    report(all(a["confidence"] in ("high", "medium", "low") and 0 <= a["confidence_score"] <= 1 and a["mean_dndvi"] <= -0.25 and a["min_dndvi"] <= a["mean_dndvi"]
               and a["mean_ndvi_before"] >= 0.65 for a in alerts), prefix + ": attributes consistent with thresholds")

    # GeoJSON: WGS84, RFC 7946 ring orientation, same ids.
    gj = json.load(open(out + "/alerts.geojson"))
    feats = gj["features"]
    report([f["properties"]["id"] for f in feats] == ids, prefix + ": geojson has the same alerts in the same order")
    ccw = True
    for f in feats:
        g = f["geometry"]
        polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
        for poly in polys:
            for k, ring in enumerate(poly):
                a = 0.5 * sum(ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1] for i in range(len(ring) - 1))
                if (k == 0) != (a > 0):
                    ccw = False
                if not (-180 <= ring[0][0] <= 180 and -90 <= ring[0][1] <= 90):
                    ccw = False
    report(ccw, prefix + ": geojson rings are RFC 7946 (outer CCW, holes CW, lon/lat)")
    if feats:
        lon, lat = feats[0]["properties"]["centroid_lon"], feats[0]["properties"]["centroid_lat"]
        c = alerts[0]["geom"].Centroid()
        wgs = osr.SpatialReference()
        wgs.ImportFromEPSG(4326)
        wgs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        x, y, _ = osr.CoordinateTransformation(srs, wgs).TransformPoint(c.GetX(), c.GetY())
        report(abs(x - lon) < 1e-6 and abs(y - lat) < 1e-6, prefix + ": centroid_lon/lat is the polygon centroid in WGS84",
               "%.7f,%.7f vs %.7f,%.7f" % (lon, lat, x, y))

    run = json.load(open(out + "/run.json"))
    report(run["counts"]["alerts"] == len(alerts) and
           abs(run["total_alert_area_ha"] - sum(a["area_ha"] for a in alerts)) < 1e-3 and
           all(len(i["sha256"]) == 64 and i["size"] > 0 for i in run["inputs"]) and len(run["inputs"]) == 4 and
           run["counts"]["unobserved_pixels"] > 0 and len(run["run_id"]) == 64 and
           {o["path"] for o in run["outputs"]} >= {"alerts.gpkg", "alerts.geojson", "overview.png"},
           prefix + ": run.json counts, area and input hashes")


main()
