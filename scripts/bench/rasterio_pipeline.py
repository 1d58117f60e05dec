#!/usr/bin/python3
"""scripts/bench/rasterio_pipeline.py - the rasterio baseline for `make bench`.

The same forest-loss rule as canopy detect's defaults, written the way a
Python user would: rasterio + numpy for the per-pixel rule (read window by
window along the file's block rows, so memory stays near one strip plus the
loss raster), rasterio.features.sieve for the minimum mapping unit (50 pixels,
8-connected) and rasterio.features.shapes for the polygons (8-connected),
written to a GeoPackage with GDAL's OGR bindings (Debian ships no fiona with
rasterio).

  valid  : red, NIR of both dates != 0 (nodata) and < 65535 (saturated),
           mask class not in {0,1,3,8,9,10} (Sentinel-2 SCL)
  forest : NDVI_before >= 0.65          (reflectance = DN * 1e-4, float64)
  loss   : NDVI_after - NDVI_before <= -0.25

Usage: rasterio_pipeline.py BEFORE AFTER BEFORE_MASK AFTER_MASK OUT.gpkg
Prints the step times (read+rule, sieve, shapes+write) on stderr.
Runs with /usr/bin/python3 (Debian's python3-rasterio and python3-gdal).
"""
import json
import sys
import time

import numpy as np
import rasterio
import rasterio.features
from rasterio.windows import Window
from osgeo import ogr, osr

INVALID = [0, 1, 3, 8, 9, 10]
FOREST_NDVI = 0.65
NDVI_DROP = 0.25
MIN_PIXELS = 50


def ndvi(red, nir):
    r = red * 1e-4
    n = nir * 1e-4
    with np.errstate(divide="ignore", invalid="ignore"):
        return (n - r) / (n + r)


def ok(dn):
    return (dn > 0) & (dn < 65535)


def loss_raster(paths):
    before, after, bmask, amask = (rasterio.open(p) for p in paths)
    with before, after, bmask, amask:
        h, w = before.height, before.width
        step = before.block_shapes[0][0]
        loss = np.zeros((h, w), dtype=np.uint8)
        for y0 in range(0, h, step):
            win = Window(0, y0, w, min(step, h - y0))
            rb, nb = before.read((3, 4), window=win)
            ra, na = after.read((3, 4), window=win)
            mb = bmask.read(1, window=win)
            ma = amask.read(1, window=win)
            valid = ok(rb) & ok(nb) & ok(ra) & ok(na)
            valid &= ~np.isin(mb, INVALID) & ~np.isin(ma, INVALID)
            vb = ndvi(rb, nb)
            va = ndvi(ra, na)
            loss[y0:y0 + win.height] = valid & (vb >= FOREST_NDVI) & (va - vb <= -NDVI_DROP)
        return loss, before.transform, before.crs.to_wkt()


def main(argv):
    if len(argv) != 6:
        print(__doc__.split("\n\n")[2], file=sys.stderr)
        return 2
    t0 = time.monotonic()
    loss, transform, wkt = loss_raster(argv[1:5])
    t1 = time.monotonic()
    sieved = rasterio.features.sieve(loss, size=MIN_PIXELS, connectivity=8)
    t2 = time.monotonic()

    drv = ogr.GetDriverByName("GPKG")
    ds = drv.CreateDataSource(argv[5])
    srs = osr.SpatialReference()
    srs.ImportFromWkt(wkt)
    lyr = ds.CreateLayer("alerts", srs, ogr.wkbPolygon)
    lyr.CreateField(ogr.FieldDefn("DN", ogr.OFTInteger))
    defn = lyr.GetLayerDefn()
    lyr.StartTransaction()
    n = 0
    for geom, value in rasterio.features.shapes(sieved, mask=sieved == 1, connectivity=8,
                                                transform=transform):
        f = ogr.Feature(defn)
        f.SetField(0, int(value))
        f.SetGeometry(ogr.CreateGeometryFromJson(json.dumps(geom)))
        lyr.CreateFeature(f)
        n += 1
    lyr.CommitTransaction()
    ds = None
    t3 = time.monotonic()
    print("rasterio: %d polygons; read+rule %.3f s, sieve %.3f s, shapes+write %.3f s"
          % (n, t1 - t0, t2 - t1, t3 - t2), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
