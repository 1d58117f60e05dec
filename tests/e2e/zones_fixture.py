"""Zones of known overlap for tests/e2e/test_zones.sh and scripts/bench.sh.

zones_fixture.py OUT EPSG DRIVER: rectangles drawn in the scene's CRS (UTM
21S; edges densified every 10 m, then reprojected to EPSG), named:
  all      the whole scene: every alert lies in it whole
  west     x < 602000
  cut; x   x >= 603170 (cuts alerts in two; ';' tests the list's escaping)
  bowtie   a self-intersecting ring (MakeValid repairs it)
  empty    a corner without alerts (zones.csv: 0 alerts)
and a 'code' integer field before the 'name' text field.

zones_fixture.py OUT grid N SCENE_W_M: N x N square zones over the scene
(for the benchmark), named z<row>_<col>.
"""
import sys
from osgeo import ogr, osr

X0, Y0 = 600000.0, 8900000.0


def layer(out, epsg, driver):
    utm = osr.SpatialReference()
    utm.ImportFromEPSG(32721)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    for s in (utm, srs):
        s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    ds = ogr.GetDriverByName(driver).CreateDataSource(out)
    lyr = ds.CreateLayer("zones", srs, ogr.wkbPolygon)
    lyr.CreateField(ogr.FieldDefn("code", ogr.OFTInteger))
    lyr.CreateField(ogr.FieldDefn("name", ogr.OFTString))
    return ds, lyr, osr.CoordinateTransformation(utm, srs)


def add(lyr, ct, name, wkt):
    g = ogr.CreateGeometryFromWkt(wkt)
    g.Segmentize(10)
    g.Transform(ct)
    f = ogr.Feature(lyr.GetLayerDefn())
    f["code"] = 7
    f["name"] = name
    f.SetGeometry(g)
    lyr.CreateFeature(f)


def rect(x0, y0, x1, y1):
    return f"POLYGON(({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0}))"


def known(out, epsg, driver):
    ds, lyr, ct = layer(out, epsg, driver)
    add(lyr, ct, "all", rect(599000, 8895000, 605000, 8901000))
    add(lyr, ct, "west", rect(599000, 8895000, 602000, 8901000))
    add(lyr, ct, "cut; x", rect(603170, 8897000, 605000, 8899000))
    add(lyr, ct, "bowtie", "POLYGON((600250 8897950,600450 8897780,600450 8897950,"
                           "600250 8897780,600250 8897950))")
    add(lyr, ct, "empty", rect(603900, 8896000, 604000, 8896100))


def grid(out, n, size_m):
    ds, lyr, ct = layer(out, 32721, "GPKG")
    step = size_m / n
    ds.StartTransaction()
    for r in range(n):
        for c in range(n):
            x, y = X0 + c * step, Y0 - (r + 1) * step
            f = ogr.Feature(lyr.GetLayerDefn())
            f["code"] = r * n + c
            f["name"] = f"z{r}_{c}"
            f.SetGeometry(ogr.CreateGeometryFromWkt(rect(x, y, x + step, y + step)))
            lyr.CreateFeature(f)
    ds.CommitTransaction()


if __name__ == "__main__":
    if sys.argv[2] == "grid":
        grid(sys.argv[1], int(sys.argv[3]), float(sys.argv[4]))
    else:
        known(sys.argv[1], int(sys.argv[2]), sys.argv[3])
