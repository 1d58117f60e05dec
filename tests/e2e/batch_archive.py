#!/usr/bin/python3
"""tests/e2e/batch_archive.py - a small scene archive for `canopy batch` tests.

Usage: batch_archive.py SYNTH OUTDIR [--size N] [--junk]

Made from canopy-synth scenes (deterministic), in three or more footprints that do
not overlap (all in UTM 21S):
  rasters/placeA/   three plain GeoTIFF scenes, each with a STEM_mask.tif (SCL)
  landsat/          Landsat 8/9 Collection 2 Level-2 products, path/row 001/062:
                    two folders and one .tar (MTL.txt, SR_B2-B5, QA_PIXEL)
  sentinel2/        Sentinel-2 L2A per-band COG folders of tile 29RKH (B02, B03,
                    B04, B08, SCL; named S2A_29RKH_YYYYMMDD_0_L2A) and, in
                    sentinel2/stac/, two STAC items of the same tile with their assets
With --junk, also: a README, a JSON that is not a STAC item, a CSV, a truncated
Landsat .tar, a Landsat product whose red band is corrupt (its pairs fail), and
a second plain-raster place (placeB) with two scenes.
Prints nothing; exits non-zero on failure.
"""
import json
import os
import shutil
import subprocess
import sys
import tarfile

import numpy as np
from osgeo import gdal

gdal.UseExceptions()


def synth(bin_, out, size, seed, origin, d1, d2):
    os.makedirs(out, exist_ok=True)
    if not os.path.exists(os.path.join(out, "after.tif")):
        subprocess.run([bin_, "-o", out, "--size", "%dx%d" % (size, size), "--seed", str(seed),
                        "--origin", "%d,%d" % origin, "--date-before", d1, "--date-after", d2,
                        "--tile", "128"], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)


def write_like(src, path, arr, dtype=gdal.GDT_UInt16, nodata=0, meta=None):
    drv = gdal.GetDriverByName("GTiff")
    ds = drv.Create(path, src.RasterXSize, src.RasterYSize, 1, dtype,
                    ["TILED=YES", "COMPRESS=DEFLATE", "BLOCKXSIZE=128", "BLOCKYSIZE=128"])
    ds.SetGeoTransform(src.GetGeoTransform())
    ds.SetProjection(src.GetProjection())
    if meta:
        ds.SetMetadata(meta)
    b = ds.GetRasterBand(1)
    if nodata is not None:
        b.SetNoDataValue(nodata)
    b.WriteArray(arr)
    ds = None


def bands_of(scene):
    ds = gdal.Open(scene)
    return ds, [ds.GetRasterBand(i + 1).ReadAsArray().astype(np.float64) for i in range(4)]


def plain(scene, mask, dst_stem):
    shutil.copyfile(scene, dst_stem + ".tif")
    shutil.copyfile(mask, dst_stem + "_mask.tif")


def landsat(scene, mask, dst, pid, date, sat):
    """A Collection 2 Level-2 product folder from a synth scene (blue, green, red, nir)."""
    os.makedirs(dst, exist_ok=True)
    ds, b = bands_of(scene)
    valid = b[2] > 0
    names = {}
    for k, n in zip(range(4), (2, 3, 4, 5)):
        dn = np.where(valid, np.clip((b[k] / 10000.0 + 0.2) / 2.75e-5, 1, 65535), 0)
        names[n] = "%s_SR_B%d.TIF" % (pid, n)
        write_like(ds, os.path.join(dst, names[n]), dn.astype(np.uint16))
    mds = gdal.Open(mask)
    scl = mds.GetRasterBand(1).ReadAsArray()
    mds = None
    qa = np.full(scl.shape, 1 << 6, np.uint16)                  # clear
    qa[scl == 0] = 1                                            # fill
    qa[(scl == 8) | (scl == 9)] = (1 << 3) | (1 << 1)           # cloud, dilated
    qa[scl == 10] = 1 << 2                                      # cirrus
    qa[scl == 3] = 1 << 4                                       # shadow
    write_like(ds, os.path.join(dst, pid + "_QA_PIXEL.TIF"), qa, nodata=None)
    lines = ["GROUP = LANDSAT_METADATA_FILE", "  GROUP = PRODUCT_CONTENTS",
             '    LANDSAT_PRODUCT_ID = "%s"' % pid, '    PROCESSING_LEVEL = "L2SP"',
             "    COLLECTION_NUMBER = 02"]
    for n in (2, 3, 4, 5):
        lines.append('    FILE_NAME_BAND_%d = "%s"' % (n, names[n]))
    lines += ['    FILE_NAME_QUALITY_L1_PIXEL = "%s_QA_PIXEL.TIF"' % pid,
              "  END_GROUP = PRODUCT_CONTENTS", "  GROUP = IMAGE_ATTRIBUTES",
              '    SPACECRAFT_ID = "%s"' % sat, '    SENSOR_ID = "OLI_TIRS"',
              "    WRS_PATH = 1", "    WRS_ROW = 62", "    DATE_ACQUIRED = %s" % date,
              "  END_GROUP = IMAGE_ATTRIBUTES",
              "  GROUP = LEVEL2_SURFACE_REFLECTANCE_PARAMETERS"]
    for n in (2, 3, 4, 5):
        lines += ["    REFLECTANCE_MULT_BAND_%d = 2.75E-05" % n,
                  "    REFLECTANCE_ADD_BAND_%d = -0.200000" % n]
    lines += ["  END_GROUP = LEVEL2_SURFACE_REFLECTANCE_PARAMETERS",
              "END_GROUP = LANDSAT_METADATA_FILE", "END"]
    with open(os.path.join(dst, pid + "_MTL.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def s2_bands(scene, mask, dst):
    os.makedirs(dst, exist_ok=True)
    ds, b = bands_of(scene)
    valid = b[2] > 0
    for k, name in zip(range(4), ("B02", "B03", "B04", "B08")):
        dn = np.where(valid, np.clip(b[k] + 1000, 1, 65535), 0)   # baseline >= 04.00 offset
        write_like(ds, os.path.join(dst, name + ".tif"), dn.astype(np.uint16))
    shutil.copyfile(mask, os.path.join(dst, "SCL.tif"))


def stac_item(scene, mask, stac_dir, item_id, date):
    assets = os.path.join(stac_dir, item_id)
    s2_bands(scene, mask, assets)
    band = lambda name, cn: {"href": "./%s/%s.tif" % (item_id, name),
                             "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                             "eo:bands": [{"name": name, "common_name": cn}],
                             "raster:bands": [{"scale": 0.0001, "offset": -0.1, "nodata": 0}]}
    item = {"type": "Feature", "stac_version": "1.0.0", "id": item_id,
            "properties": {"datetime": date + "T13:45:00Z", "platform": "sentinel-2a",
                           "instruments": ["msi"], "grid:code": "MGRS-29RKH"},
            "geometry": None, "links": [],
            "assets": {"blue": band("B02", "blue"), "green": band("B03", "green"),
                       "red": band("B04", "red"), "nir": band("B08", "nir"),
                       "scl": {"href": "./%s/SCL.tif" % item_id, "type": "image/tiff"}}}
    with open(os.path.join(stac_dir, item_id + ".json"), "w") as f:
        json.dump(item, f, indent=1)


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    bin_, out = args[0], args[1]
    size = int(args[args.index("--size") + 1]) if "--size" in args else 256
    junk = "--junk" in args
    work = os.path.join(out, ".synth")
    os.makedirs(out, exist_ok=True)
    d = ("2024-06-15", "2024-08-20", "2024-10-01")
    step = size * 10 + 20000                     # metres between places

    def series(tag, x):
        a = os.path.join(work, tag + "1")
        b = os.path.join(work, tag + "2")
        synth(bin_, a, size, 11 + x, (600000 + x * step, 8900000), d[0], d[1])
        synth(bin_, b, size, 12 + x, (600000 + x * step, 8900000), d[1], d[2])
        return [(os.path.join(a, "before.tif"), os.path.join(a, "before_mask.tif")),
                (os.path.join(a, "after.tif"), os.path.join(a, "after_mask.tif")),
                (os.path.join(b, "after.tif"), os.path.join(b, "after_mask.tif"))]

    # Plain rasters, one place.
    ra = series("ra", 0)
    os.makedirs(os.path.join(out, "rasters", "placeA"), exist_ok=True)
    for (sc, m), date in zip(ra, d):
        plain(sc, m, os.path.join(out, "rasters", "placeA", "scene_" + date.replace("-", "")))

    # Landsat: two folders and a tar.
    ls = series("ls", 1)
    ids = []
    for (sc, m), date, sat in zip(ls, d, ("LANDSAT_8", "LANDSAT_8", "LANDSAT_9")):
        ymd = date.replace("-", "")
        pid = "L%s_L2SP_001062_%s_%s_02_T1" % ("C08" if sat == "LANDSAT_8" else "C09", ymd, ymd)
        ids.append(pid)
        landsat(sc, m, os.path.join(out, "landsat", pid), pid, date, sat)
    tar_dir = os.path.join(out, "landsat", ids[1])
    with tarfile.open(tar_dir + ".tar", "w") as t:
        for name in sorted(os.listdir(tar_dir)):
            t.add(os.path.join(tar_dir, name), arcname=name)
    shutil.rmtree(tar_dir)

    # Sentinel-2: two COG folders and one STAC item (plus a second item of
    # another date, so the stac folder holds several items).
    s2 = series("s2", 2)
    for (sc, m), date, sat in zip(s2[:2], d[:2], ("S2A", "S2B")):
        s2_bands(sc, m, os.path.join(out, "sentinel2",
                                     "%s_29RKH_%s_0_L2A" % (sat, date.replace("-", ""))))
    stac_dir = os.path.join(out, "sentinel2", "stac")
    os.makedirs(stac_dir, exist_ok=True)
    stac_item(s2[2][0], s2[2][1], stac_dir, "S2A_29RKH_20241001_0_L2A", d[2])
    s2x = series("s2x", 2)
    stac_item(s2x[2][0], s2x[2][1], stac_dir, "S2B_29RKH_20241111_0_L2A", "2024-11-11")

    if junk:
        os.makedirs(os.path.join(out, "junk"), exist_ok=True)
        with open(os.path.join(out, "junk", "README.md"), "w") as f:
            f.write("notes about these scenes\n")
        with open(os.path.join(out, "junk", "notes.json"), "w") as f:
            json.dump({"note": "not a STAC item"}, f)
        with open(os.path.join(out, "junk", "table.csv"), "w") as f:
            f.write("a,b\n1,2\n")
        # A truncated download of a Landsat tar.
        src = os.path.join(out, "landsat", ids[1] + ".tar")
        data = open(src, "rb").read()
        os.makedirs(os.path.join(out, "broken"), exist_ok=True)
        with open(os.path.join(out, "broken", "LC08_L2SP_001062_20240901_20240901_02_T1.tar"),
                  "wb") as f:
            f.write(data[: len(data) // 3])
        # A second place of plain rasters.
        rb = series("rb", 3)
        os.makedirs(os.path.join(out, "rasters", "placeB"), exist_ok=True)
        for (sc, m), date in zip(rb, d):
            plain(sc, m, os.path.join(out, "rasters", "placeB", "scene_" + date.replace("-", "")))
        # A Landsat product of another path/row whose red band is corrupt.
        lc = series("lc", 4)
        for (sc, m), date in zip(lc[:2], d[:2]):
            ymd = date.replace("-", "")
            pid = "LC08_L2SP_002063_%s_%s_02_T1" % (ymd, ymd)
            landsat(sc, m, os.path.join(out, "landsat", pid), pid, date, "LANDSAT_8")
            lines = open(os.path.join(out, "landsat", pid, pid + "_MTL.txt")).read()
            lines = lines.replace("WRS_PATH = 1", "WRS_PATH = 2").replace("WRS_ROW = 62",
                                                                          "WRS_ROW = 63")
            open(os.path.join(out, "landsat", pid, pid + "_MTL.txt"), "w").write(lines)
            if date == d[1]:
                with open(os.path.join(out, "landsat", pid, pid + "_SR_B4.TIF"), "wb") as f:
                    f.write(b"II*\x00 not really a TIFF")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
