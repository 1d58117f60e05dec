"""Context rasters for tests/e2e/test_context_masks.sh and test_monitor_context.sh.

context_fixture.py DIR: writes, over the generated scene (UTM 21S, 10 m from
600000, 8900000), warped to EPSG:4326 with nearest neighbour:
  treecover.tif  30 m "tree cover" (Byte): 80 west of x = 602000, 10 east
  classes.tif    classes (Int16, nodata -1): 5 over a band of rows
                 (y 8898200 to 8897500), -1 on the first three rows, else 0
"""
import sys

import numpy as np
from osgeo import gdal, osr


def put(path, arr, dtype, nodata=None):
    utm = osr.SpatialReference()
    utm.ImportFromEPSG(32721)
    mem = gdal.GetDriverByName("MEM").Create("", arr.shape[1], arr.shape[0], 1, dtype)
    mem.SetGeoTransform([599700, 30, 0, 8900300, 0, -30])
    mem.SetProjection(utm.ExportToWkt())
    mem.GetRasterBand(1).WriteArray(arr)
    if nodata is not None:
        mem.GetRasterBand(1).SetNoDataValue(nodata)
    gdal.Warp(path, mem, dstSRS="EPSG:4326", resampleAlg="near")


def write(d):
    n = 150
    tc = np.full((n, n), 10, np.uint8)
    tc[:, : (602000 - 599700) // 30] = 80
    put(d + "/treecover.tif", tc, gdal.GDT_Byte)
    cl = np.zeros((n, n), np.int16)
    cl[(8900300 - 8898200) // 30:(8900300 - 8897500) // 30, :] = 5
    cl[0:3, :] = -1
    put(d + "/classes.tif", cl, gdal.GDT_Int16, -1)


if __name__ == "__main__":
    write(sys.argv[1])
