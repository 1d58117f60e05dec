"""check_masks.py SCENE RUN MASK RULE [BASE]: every alert pixel of RUN
(alerts.gpkg rasterised on SCENE's grid) lies where MASK, warped onto that
grid by nearest neighbour (as canopy warps it), passes RULE; with BASE (the
same run without the mask), some of BASE's alert pixels do not, so the check
can fail. RULE: "min:N" (value >= N), "not:LO-HI" (value outside LO..HI),
"notin:A,B" (value not listed). Prints the pixel counts."""
import sys
import numpy as np
from osgeo import gdal, ogr

scene, run, mask, rule = sys.argv[1:5]
base = sys.argv[5] if len(sys.argv) > 5 else None
grid = gdal.Open(scene)
w, h, gt = grid.RasterXSize, grid.RasterYSize, grid.GetGeoTransform()


def alert_pixels(d):
    r = gdal.GetDriverByName("MEM").Create("", w, h, 1, gdal.GDT_Byte)
    r.SetGeoTransform(gt)
    r.SetProjection(grid.GetProjection())
    ds = ogr.Open(d + "/alerts.gpkg")
    gdal.RasterizeLayer(r, [1], ds.GetLayer("alerts"), burn_values=[1])
    return r.ReadAsArray().astype(bool)


x0, y0, x1, y1 = gt[0], gt[3] + h * gt[5], gt[0] + w * gt[1], gt[3]
warped = gdal.Warp("", mask, format="MEM", dstSRS=grid.GetProjection(), outputBounds=(x0, y0, x1, y1),
                   width=w, height=h, resampleAlg="near", outputType=gdal.GDT_Int32,
                   dstNodata=-2147483647)
v = warped.ReadAsArray()
kind, arg = rule.split(":")
if kind == "min":
    ok = (v >= float(arg)) & (v != -2147483647)
elif kind == "not":
    lo, hi = map(int, arg.split("-"))
    ok = (v < lo) | (v > hi)
else:
    ok = ~np.isin(v, [int(a) for a in arg.split(",")])
mine = alert_pixels(run)
bad = int((mine & ~ok).sum())
msg = f"{int(mine.sum())} alert pixels, {bad} where the mask rules them out"
if base:
    theirs = alert_pixels(base)
    msg += f"; without the mask {int(theirs.sum())}, {int((theirs & ~ok).sum())} ruled out"
    if not (theirs & ~ok).any():
        bad = bad or -1
print(msg)
sys.exit(1 if bad or not mine.any() else 0)
