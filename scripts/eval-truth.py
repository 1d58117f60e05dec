#!/usr/bin/python3
"""scripts/eval-truth.py - score canopy's alerts against a canopy-synth truth.

Usage:
  eval-truth.py OUTDIR TRUTH_DIR [--tolerance PX] [--json]
      score OUTDIR/alerts.gpkg against TRUTH_DIR/truth_loss.tif and truth.csv
  eval-truth.py --raster IDS.tif TRUTH_DIR [--tolerance PX] [--json]
      score a raster of alert ids (0 = none) on the truth grid instead: for
      kernels tried outside the pipeline
  eval-truth.py --all --synth SYNTH --canopy CANOPY --work DIR [--scenarios A,B]
                [--size WxH] [--seed N] [--tolerance PX] [--json] [-- DETECT_ARGS...]
      generate each phenomenon scenario, run `canopy detect` on it (with its
      masks and DETECT_ARGS) and print one row per scenario

Figures (pixels are those of truth_loss.tif, i.e. of BEFORE's grid):
  recall_area   share of expected-alert pixels inside an alert
  recall_count  expected features (truth.csv expect_alert=1) with at least
                half of their expected pixels inside alerts, of those with any
  false_ha      alert area farther than PX pixels (default 1: a boundary
                drawn one pixel off is not a false alert) from expected pixels
  false_alerts  alerts with at least half of their area false in that sense
  swallowed     expected features found only inside an alert at least three
                times their size whose false part is larger than they are
                (a clearing merged into a false alert)
  alerts        alerts written

Needs GDAL's Python bindings and numpy (Debian: python3-gdal, python3-numpy).
"""
import argparse
import csv
import json
import os
import subprocess
import sys

import numpy as np
from osgeo import gdal, ogr

gdal.UseExceptions()
ogr.UseExceptions()

SCENARIOS = ["haze", "bright_soil", "radiometry", "phenology", "misregistration",
             "cloud_fringe", "slc_gaps", "green_pasture", "sample"]


def dilate(mask, r):
    """Chebyshev dilation by r pixels (numpy only)."""
    out = mask.copy()
    h, w = mask.shape
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            ys, yd = (slice(dy, h), slice(0, h - dy)) if dy >= 0 else (slice(0, h + dy), slice(-dy, h))
            xs, xd = (slice(dx, w), slice(0, w - dx)) if dx >= 0 else (slice(0, w + dx), slice(-dx, w))
            out[yd, xd] |= mask[ys, xs]
    return out


def alert_ids(gpkg, truth_ds):
    """Raster of alert ids (1-based feature order) on the truth grid, and the count."""
    ds = ogr.Open(gpkg)
    lyr = ds.GetLayerByName("alerts") or ds.GetLayer(0)
    n = lyr.GetFeatureCount()
    drv = gdal.GetDriverByName("MEM")
    dst = drv.Create("", truth_ds.RasterXSize, truth_ds.RasterYSize, 1, gdal.GDT_Int32)
    dst.SetGeoTransform(truth_ds.GetGeoTransform())
    dst.SetProjection(truth_ds.GetProjection())
    if n:
        # one burn value per feature: an in-memory copy with a sequential id
        mem = ogr.GetDriverByName("Memory").CreateDataSource("")
        ml = mem.CreateLayer("a", lyr.GetSpatialRef(), ogr.wkbMultiPolygon)
        ml.CreateField(ogr.FieldDefn("aid", ogr.OFTInteger))
        for i, f in enumerate(lyr, 1):
            g = f.GetGeometryRef()
            if g is None:
                continue
            nf = ogr.Feature(ml.GetLayerDefn())
            nf.SetField("aid", i)
            nf.SetGeometry(g.Clone())
            ml.CreateFeature(nf)
        gdal.RasterizeLayer(dst, [1], ml, options=["ATTRIBUTE=aid"])
    return dst.GetRasterBand(1).ReadAsArray(), n


def raster_ids(path, truth_ds):
    """Alert ids from a raster on the truth grid, renumbered 1..n."""
    ds = gdal.Open(path)
    if (ds.RasterXSize, ds.RasterYSize) != (truth_ds.RasterXSize, truth_ds.RasterYSize):
        raise SystemExit("eval-truth: %s is not on the truth grid" % path)
    raw = ds.GetRasterBand(1).ReadAsArray().astype(np.int64)
    uniq, inv = np.unique(raw, return_inverse=True)
    if uniq[0] != 0:
        inv = inv + 1
    return inv.reshape(raw.shape).astype(np.int64), int(np.count_nonzero(uniq))


def score(outdir, truth_dir, tol=1, raster=None):
    truth_ds = gdal.Open(os.path.join(truth_dir, "truth_loss.tif"))
    truth = truth_ds.GetRasterBand(1).ReadAsArray() > 0
    gt = truth_ds.GetGeoTransform()
    px_ha = abs(gt[1] * gt[5]) / 10000.0
    if raster:
        ids, n_alerts = raster_ids(raster, truth_ds)
    else:
        ids, n_alerts = alert_ids(os.path.join(outdir, "alerts.gpkg"), truth_ds)
    alert = ids > 0
    near = dilate(truth, tol) if tol > 0 else truth
    false = alert & ~near

    # per-alert areas and false parts
    a_all = np.bincount(ids.ravel(), minlength=n_alerts + 1)
    a_false = np.bincount(ids[false].ravel(), minlength=n_alerts + 1)
    false_alerts = int(sum(1 for i in range(1, n_alerts + 1)
                           if a_all[i] > 0 and 2 * a_false[i] >= a_all[i]))

    expected = found = swallowed = 0
    with open(os.path.join(truth_dir, "truth.csv")) as f:
        for row in csv.DictReader(f):
            if row["expect_alert"] != "1":
                continue
            x0 = int(round((float(row["xmin"]) - gt[0]) / gt[1]))
            x1 = int(round((float(row["xmax"]) - gt[0]) / gt[1]))
            y0 = int(round((float(row["ymax"]) - gt[3]) / gt[5]))
            y1 = int(round((float(row["ymin"]) - gt[3]) / gt[5]))
            t = truth[y0:y1, x0:x1]
            if not t.any():
                continue            # nothing of it observable
            expected += 1
            hit = ids[y0:y1, x0:x1][t]
            if 2 * np.count_nonzero(hit) < t.sum():
                continue
            found += 1
            best = np.bincount(hit[hit > 0]).argmax()
            if a_all[best] >= 3 * t.sum() and a_false[best] > t.sum():
                swallowed += 1
    tp = int((alert & truth).sum())
    return {
        "recall_area": round(tp / truth.sum(), 4) if truth.any() else None,
        "recall_count": "%d/%d" % (found, expected),
        "false_ha": round(float(false.sum()) * px_ha, 2),
        "false_alerts": false_alerts,
        "swallowed": swallowed,
        "alerts": n_alerts,
    }


def run_all(a, detect_args):
    rows = []
    names = a.scenarios.split(",") if a.scenarios else SCENARIOS
    for name in names:
        src = os.path.join(a.work, name)
        out = os.path.join(a.work, name + ".out")
        gen = [a.synth, "-o", src, "--scenario", name, "--seed", str(a.seed)]
        if a.size:
            gen += ["--size", a.size]
        subprocess.run(gen, check=True, stdout=subprocess.DEVNULL)
        cmd = [a.canopy, "detect", os.path.join(src, "before.tif"), os.path.join(src, "after.tif"),
               "--before-mask", os.path.join(src, "before_mask.tif"),
               "--after-mask", os.path.join(src, "after_mask.tif"),
               "-o", out, "-q", "--no-evidence", "--no-hash"] + detect_args
        subprocess.run(cmd, check=True)
        r = score(out, src, a.tolerance)
        r["scenario"] = name
        rows.append(r)
    if a.json:
        print(json.dumps(rows, indent=1))
    else:
        print("%-16s %11s %12s %9s %12s %9s %6s" % ("scenario", "recall_area", "recall_count",
                                                   "false_ha", "false_alerts", "swallowed", "alerts"))
        for r in rows:
            print("%-16s %11s %12s %9.2f %12d %9d %6d" % (r["scenario"], r["recall_area"],
                                                       r["recall_count"], r["false_ha"],
                                                       r["false_alerts"], r["swallowed"], r["alerts"]))


def main():
    argv = sys.argv[1:]
    detect_args = []
    if "--" in argv:
        i = argv.index("--")
        argv, detect_args = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir", nargs="?")
    ap.add_argument("truth_dir", nargs="?")
    ap.add_argument("--tolerance", type=int, default=1)
    ap.add_argument("--raster")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--all", action="store_true")
    ap.add_argument("--synth")
    ap.add_argument("--canopy")
    ap.add_argument("--work")
    ap.add_argument("--scenarios")
    ap.add_argument("--size")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    if a.tolerance < 0:
        ap.error("--tolerance must be >= 0")
    if a.all:
        if not (a.synth and a.canopy and a.work):
            ap.error("--all needs --synth, --canopy and --work")
        run_all(a, detect_args)
        return 0
    if a.raster:
        if not a.outdir or a.truth_dir:
            ap.error("--raster IDS.tif takes TRUTH_DIR only")
        r = score(None, a.outdir, a.tolerance, a.raster)
    elif not (a.outdir and a.truth_dir):
        ap.error("OUTDIR and TRUTH_DIR are required (or --all)")
    else:
        r = score(a.outdir, a.truth_dir, a.tolerance)
    print(json.dumps(r) if a.json else " ".join("%s=%s" % kv for kv in r.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
