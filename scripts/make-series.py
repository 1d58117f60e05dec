#!/usr/bin/python3
"""scripts/make-series.py - a deterministic time series of scenes over one
footprint, for `canopy monitor` tests.

Derived from canopy-synth's BEFORE scene (forest, fields, water; no clouds):
eight dates ten days apart, each with a little deterministic noise, clouds
that move across the scene (flagged in the SCL mask, bright in the bands),
and planted events with known outcomes:

  clearing     cut between dates 3 and 4: probable at 4, confirmed at 5
  cloudy_cut   cut between dates 3 and 4, under a cloud at 5:
               probable at 4, cloudy at 5, confirmed at 6
  fringe       an unflagged cloud fringe (NDVI drops) at date 5 only:
               probable at 5, rejected at 6
  growing      cut at 5, extended at 6 and again at 7 (adjacent):
               one alert id, probable at 5, confirmed at 6, grows at 6 and 7

Output (--format s2, the default): one Sentinel-2 L2A COG folder per date,
S2A_<TILE>_<YYYYMMDD>_0_L2A/{B02,B03,B04,B08,SCL}.tif (UInt16 DN =
reflectance x 10000 + 1000 as from processing baseline 04.00, nodata 0; SCL
codes), which `canopy` resolves as a
product with footprint "MGRS tile <TILE>".
--format tif: scene_<YYYYMMDD>.tif (blue, green, red, nir, ACQUISITION_DATE
in the metadata) with scene_<YYYYMMDD>_mask.tif beside it.
truth.json lists dates, events (pixel boxes) and their expected outcomes.

Usage: make-series.py --synth build/canopy-synth -o OUT [--size 240] [--seed 3]
                      [--format s2|tif] [--tile 21LXK] [--dates 8]
"""
import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys

import numpy as np
from osgeo import gdal

gdal.UseExceptions()

SCL_CLOUD_HIGH = 9
SCL_SHADOW = 3


def forest_box(ndvi, water, size, x0, y0, avoid, step=4):
    """The first size x size box at or right/below (x0, y0), scanning right
    then down, that is all forest (NDVI >= 0.72, no water) with a 3 px forest
    margin, and at least 20 px away from the boxes in `avoid`."""
    h, w = ndvi.shape
    for y in range(y0, h - size - 3, step):
        for x in range(x0, w - size - 3, step):
            if any(x < bx + bw + 20 and bx < x + size + 20 and y < by + bh + 20 and
                   by < y + size + 20 for (bx, by, bw, bh) in avoid):
                continue
            win = ndvi[y - 3:y + size + 3, x - 3:x + size + 3]
            if win.min() >= 0.72 and not water[y - 3:y + size + 3, x - 3:x + size + 3].any():
                avoid.append((x, y, size, size))
                return (x, y, size, size)
    raise SystemExit("make-series: no forest box of %d px found" % size)


def box_mask(shape, box):
    m = np.zeros(shape, bool)
    x, y, w, h = box
    m[y:y + h, x:x + w] = True
    return m


def disk(shape, cx, cy, r):
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    return (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r


def far_from(mask, boxes, margin):
    """True when no pixel of mask lies within margin px of any box."""
    for (x, y, w, h) in boxes:
        if mask[max(0, y - margin):y + h + margin, max(0, x - margin):x + w + margin].any():
            return False
    return True


def write_band(path, arr, gt, wkt, dtype, nodata=None, meta=None):
    drv = gdal.GetDriverByName("GTiff")
    ds = drv.Create(path, arr.shape[1], arr.shape[0], 1, dtype,
                    ["TILED=YES", "BLOCKXSIZE=128", "BLOCKYSIZE=128", "COMPRESS=DEFLATE"])
    ds.SetGeoTransform(gt)
    ds.SetProjection(wkt)
    if meta:
        ds.SetMetadata(meta)
    b = ds.GetRasterBand(1)
    if nodata is not None:
        b.SetNoDataValue(nodata)
    b.WriteArray(arr)
    ds = None


def write_stack(path, bands, gt, wkt, meta):
    drv = gdal.GetDriverByName("GTiff")
    h, w = bands[0].shape
    ds = drv.Create(path, w, h, len(bands), gdal.GDT_UInt16,
                    ["TILED=YES", "BLOCKXSIZE=128", "BLOCKYSIZE=128", "COMPRESS=DEFLATE"])
    ds.SetGeoTransform(gt)
    ds.SetProjection(wkt)
    ds.SetMetadata(meta)
    for i, a in enumerate(bands):
        b = ds.GetRasterBand(i + 1)
        b.SetNoDataValue(0)
        b.WriteArray(a)
    ds = None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--synth", required=True, help="the canopy-synth binary")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--size", type=int, default=240)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--format", choices=("s2", "tif"), default="s2")
    ap.add_argument("--tile", default="21LXK")
    ap.add_argument("--dates", type=int, default=8)
    ap.add_argument("--start", default="2024-06-01")
    a = ap.parse_args()
    if a.dates < 8:
        sys.exit("make-series: --dates must be at least 8")

    out = a.output
    os.makedirs(out, exist_ok=True)
    base_dir = os.path.join(out, ".base")
    if os.path.isdir(base_dir):
        shutil.rmtree(base_dir)
    # Only BEFORE is used (the sample scenario plants its features in AFTER);
    # no masks: this script makes its own clouds.
    subprocess.run([a.synth, "-o", os.path.abspath(base_dir), "--size", "%dx%d" % (a.size, a.size),
                    "--scenario", "sample", "--no-mask", "--seed", str(a.seed)], check=True,
                   stdout=subprocess.DEVNULL)
    src = gdal.Open(os.path.join(base_dir, "before.tif"))
    gt, wkt = src.GetGeoTransform(), src.GetProjection()
    base = np.stack([src.GetRasterBand(i + 1).ReadAsArray().astype(np.float64)
                     for i in range(4)])          # blue, green, red, nir (DN)
    src = None
    shutil.rmtree(base_dir)
    shape = base.shape[1:]
    red, nir = base[2], base[3]
    ndvi = (nir - red) / np.maximum(nir + red, 1)
    water = ndvi < 0
    # Scene classification: water (6) or vegetation (4); clouds are added below.
    scl0 = np.where(water, 6, 4).astype(np.uint8)

    s = a.size
    q = s // 4
    # Events in forest, apart from each other (boxes found deterministically).
    taken = []
    clearing = forest_box(ndvi, water, 10, q // 2, q // 2, taken)
    cloudy_cut = forest_box(ndvi, water, 10, 2 * q + q // 2, q // 2, taken)
    fringe = forest_box(ndvi, water, 10, q // 2, 2 * q + q // 2, taken)
    g0 = forest_box(ndvi, water, 30, 3, 2 * q, taken)
    gx, gy, _, _ = g0
    growing = [(gx, gy, 10, 10), (gx + 10, gy, 10, 10), (gx + 20, gy, 10, 10)]
    events = [("clearing", clearing), ("cloudy_cut", cloudy_cut), ("fringe", fringe)] + \
             [("growing_%d" % (i + 1), b) for i, b in enumerate(growing)]

    start = datetime.date.fromisoformat(a.start)
    dates = [start + datetime.timedelta(days=10 * i) for i in range(a.dates)]

    # Clouds: one disk per date moving left to right along a diagonal, kept
    # 12 px (> the 60 m buffer) away from the events, except the one that
    # covers cloudy_cut at date 5. Date 1 has a big cloud: those pixels get
    # their first baseline at date 2.
    rng = np.random.RandomState(a.seed)
    clouds = []
    keep_clear = [b for _, b in events]
    for i in range(a.dates):
        if i == 4:
            x, y, w, h = cloudy_cut
            m = disk(shape, x + w / 2, y + h / 2, 14)
            others = [b for n, b in events if n != "cloudy_cut"]
            assert far_from(m, others, 12), "the date-5 cloud touches another event"
        else:
            m = np.zeros(shape, bool)
            for k in range(400):
                cx = int(rng.randint(0, s))
                cy = int(rng.randint(0, s))
                r = 22 if i == 0 else 12
                m = disk(shape, cx, cy, r)
                if far_from(m, keep_clear, 12):
                    break
            else:
                m = np.zeros(shape, bool)
        clouds.append(m)

    truth = {"format": a.format, "tile": a.tile, "size": s,
             "dates": [d.isoformat() for d in dates],
             "events": {n: {"box": list(b)} for n, b in events},
             "expected": {
                 "clearing": {"first_detected": dates[3].isoformat(),
                              "confirmed_at": dates[4].isoformat(), "status": "confirmed"},
                 "cloudy_cut": {"first_detected": dates[3].isoformat(),
                                "confirmed_at": dates[5].isoformat(), "status": "confirmed",
                                "cloudy_on": dates[4].isoformat()},
                 "fringe": {"first_detected": dates[4].isoformat(),
                            "rejected_at": dates[5].isoformat(), "status": "rejected"},
                 "growing": {"first_detected": dates[4].isoformat(),
                             "confirmed_at": dates[5].isoformat(), "status": "confirmed",
                             "grew_on": [dates[5].isoformat(), dates[6].isoformat()],
                             "pixels": 300},
             },
             "alerts": 4}

    bare = np.array([900.0, 1100.0, 1500.0, 2300.0])   # blue, green, red, nir of a clearing
    for i, d in enumerate(dates):
        n = i + 1                                          # date number, 1-based
        noise = np.random.RandomState(a.seed * 1000 + n).normal(1.0, 0.01, size=base.shape)
        img = base * noise
        cut = np.zeros(shape, bool)
        if n >= 4:
            cut |= box_mask(shape, clearing) | box_mask(shape, cloudy_cut)
        for k in range(3):
            if n >= 5 + k:
                cut |= box_mask(shape, growing[k])
        for b in range(4):
            img[b][cut] = bare[b] * noise[b][cut]
        if n == 5:
            # A thin unflagged fringe: hazier red, lower NIR.
            fm = box_mask(shape, fringe)
            img[2][fm] = img[2][fm] * 1.0 + 900
            img[3][fm] = img[3][fm] * 0.62
        scl = scl0.copy()
        cm = clouds[i]
        if cm.any():
            for b in range(4):
                img[b][cm] = 5200 + 300 * b
            scl[cm] = SCL_CLOUD_HIGH
        ymd = d.strftime("%Y%m%d")
        if a.format == "s2":
            # Processing baseline 04.00 on: DN = reflectance x 10000 + 1000.
            dn = np.clip(np.rint(img) + 1000, 1, 65534).astype(np.uint16)
            folder = os.path.join(out, "S2A_%s_%s_0_L2A" % (a.tile, ymd))
            os.makedirs(folder, exist_ok=True)
            for name, b in (("B02", 0), ("B03", 1), ("B04", 2), ("B08", 3)):
                write_band(os.path.join(folder, name + ".tif"), dn[b], gt, wkt,
                           gdal.GDT_UInt16, nodata=0)
            write_band(os.path.join(folder, "SCL.tif"), scl.astype(np.uint8), gt, wkt,
                       gdal.GDT_Byte, nodata=0)
        else:
            dn = np.clip(np.rint(img), 1, 65534).astype(np.uint16)
            meta = {"ACQUISITION_DATE": d.isoformat()}
            write_stack(os.path.join(out, "scene_%s.tif" % ymd), list(dn), gt, wkt, meta)
            write_band(os.path.join(out, "scene_%s_mask.tif" % ymd), scl.astype(np.uint8), gt,
                       wkt, gdal.GDT_Byte, nodata=0)
    with open(os.path.join(out, "truth.json"), "w") as f:
        json.dump(truth, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
