#!/usr/bin/python3
"""tests/e2e/roll_after.py DIR DX DY - move a canopy-synth pair's AFTER (its
bands and mask, in place) by whole pixels: AFTER's pixel (x, y) becomes
what it was at (x + DX, y + DY); what comes in from outside is 0 (nodata,
SCL "no data"). canopy-synth shifts by 0..2 px only; this makes the shifts
it cannot: negative ones, and ones beyond the limit of co-registration."""
import sys

from osgeo import gdal
import numpy as np

gdal.UseExceptions()


def roll(a, dx, dy):
    out = np.zeros_like(a)
    h, w = a.shape
    out[max(0, -dy):min(h, h - dy), max(0, -dx):min(w, w - dx)] = \
        a[max(0, dy):min(h, h + dy), max(0, dx):min(w, w + dx)]
    return out


def main():
    folder, dx, dy = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    for name in ("after.tif", "after_mask.tif"):
        ds = gdal.Open(f"{folder}/{name}", gdal.GA_Update)
        for b in range(1, ds.RasterCount + 1):
            band = ds.GetRasterBand(b)
            band.WriteArray(roll(band.ReadAsArray(), dx, dy))
        ds = None


if __name__ == "__main__":
    main()
