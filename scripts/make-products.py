#!/usr/bin/python3
"""scripts/make-products.py - satellite product fixtures for Canopy's tests.

Builds, from canopy-synth scene pairs (so every planted clearing is known),
products that follow the real naming and layout of each family:

  Landsat Collection 2 Level-2 (USGS): a folder LC08_L2SP_PPPRRR_<acq>_<proc>_02_T1/
    with <id>_SR_B1..B7.TIF (UInt16, DN = (reflectance + 0.2) / 2.75e-5, nodata 0),
    <id>_QA_PIXEL.TIF (bit flags: fill 0, dilated cloud 1, cirrus 2, cloud 3,
    cloud shadow 4, snow 5, clear 6, water 7, confidences 8-15), <id>_QA_RADSAT.TIF
    and <id>_MTL.txt / _MTL.xml / _MTL.json; the .tar USGS delivers (flat).
    Landsat 5 TM products have SR_B1..B5, B7 (red B3, NIR B4).
  Sentinel-2 L2A (ESA): S2B_MSIL2A_<sensing>_N0510_R<orbit>_T<tile>_<gen>.SAFE/ with
    MTD_MSIL2A.xml (processing baseline 05.10, BOA_QUANTIFICATION_VALUE 10000,
    BOA_ADD_OFFSET -1000 per band) and GRANULE/L2A_T<tile>_A<abs>_<sensing>/IMG_DATA/
    R10m/T<tile>_<sensing>_B0x_10m.jp2, R20m/..._SCL_20m.jp2 (DN = reflectance x 10000
    + 1000); the .zip ESA delivers; and the Element 84 per-band COG folder
    (B02.tif, B03.tif, B04.tif, B08.tif, SCL.tif) with its STAC item.
  A Landsat STAC item whose assets point at a product folder by relative hrefs.

Deterministic: the same canopy-synth and the same arguments give the same
files (fixed seeds, fixed dates, no clocks written into files).

Usage: make-products.py SYNTH OUTDIR [--shared-data DIR]
"""
import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile

import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()

L_SCALE, L_OFFSET = 2.75e-5, -0.2          # Landsat C2 L2 surface reflectance
S2_Q, S2_OFF = 10000.0, -1000.0             # Sentinel-2 L2A from baseline 04.00

# QA_PIXEL values (as seen in real Collection 2 scenes).
QA_CLEAR = 21824        # clear (6) + low confidences (8, 10, 12, 14)
QA_WATER = 21952        # clear + water (7)
QA_CLOUD = 22280        # cloud (3) + high cloud confidence (8, 9)
QA_SHADOW = 23888       # cloud shadow (4)
QA_CIRRUS = 55052       # cirrus (2) + cloud (3), high cirrus confidence
QA_DILATED = 21826      # dilated cloud (1)
QA_FILL = 1


def run(cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def synth(exe, out, *args):
    if not os.path.exists(os.path.join(out, "after.tif")):
        run([exe, "-o", out] + list(args))
    return out


def read(path, band=1):
    ds = gdal.Open(path)
    return ds.GetRasterBand(band).ReadAsArray(), ds.GetGeoTransform(), ds.GetProjection()


def write_tif(path, arr, gt, wkt, nodata=None, dtype=gdal.GDT_UInt16, point=False, block=128):
    drv = gdal.GetDriverByName("GTiff")
    ds = drv.Create(path, arr.shape[1], arr.shape[0], 1, dtype,
                    ["TILED=YES", "BLOCKXSIZE=%d" % block, "BLOCKYSIZE=%d" % block,
                     "COMPRESS=DEFLATE"])
    ds.SetGeoTransform(gt)
    ds.SetProjection(wkt)
    if point:
        ds.SetMetadataItem("AREA_OR_POINT", "Point")
    b = ds.GetRasterBand(1)
    if nodata is not None:
        b.SetNoDataValue(nodata)
    b.WriteArray(arr)
    ds = None


def write_jp2(path, arr, gt, wkt, nodata=None):
    """Lossless JPEG 2000 as in a SAFE (via a MEM dataset and JP2OpenJPEG)."""
    mem = gdal.GetDriverByName("MEM").Create("", arr.shape[1], arr.shape[0], 1,
                                             gdal.GDT_UInt16 if arr.dtype == np.uint16
                                             else gdal.GDT_Byte)
    mem.SetGeoTransform(gt)
    mem.SetProjection(wkt)
    if nodata is not None:
        mem.GetRasterBand(1).SetNoDataValue(nodata)
    mem.GetRasterBand(1).WriteArray(arr)
    gdal.GetDriverByName("JP2OpenJPEG").CreateCopy(
        path, mem, options=["REVERSIBLE=YES", "QUALITY=100", "BLOCKXSIZE=256",
                            "BLOCKYSIZE=256", "RESOLUTIONS=1"])
    aux = path + ".aux.xml"
    if os.path.exists(aux):
        os.remove(aux)


def refl(dn):
    """canopy-synth DN (reflectance x 10000, nodata 0) -> reflectance, NaN for nodata."""
    r = dn.astype(np.float64) / 10000.0
    r[dn == 0] = np.nan
    return r


def landsat_dn(r):
    dn = np.round((r - L_OFFSET) / L_SCALE)
    dn = np.clip(dn, 1, 65535)
    dn[np.isnan(r)] = 0
    return dn.astype(np.uint16)


def s2_dn(r):
    dn = np.round(r * S2_Q - S2_OFF)
    dn = np.clip(dn, 1, 65534)
    dn[np.isnan(r)] = 0
    return dn.astype(np.uint16)


def qa_from_scl(scl):
    qa = np.full(scl.shape, QA_CLEAR, np.uint16)
    qa[scl == 6] = QA_WATER
    qa[np.isin(scl, [8, 9])] = QA_CLOUD
    qa[scl == 3] = QA_SHADOW
    qa[scl == 10] = QA_CIRRUS
    qa[scl == 0] = QA_FILL
    return qa


def clear_scl(dn):
    """A clear-sky SCL (5 = not vegetated is fine for a mask) with nodata where the bands are."""
    scl = np.full(dn.shape, 4, np.uint8)
    scl[dn == 0] = 0
    return scl


# ---------------------------------------------------------------------------
# Landsat Collection 2 Level-2

def mtl_groups(pid, sensor, path, row, date, proc, bands, utm_zone, shape, gt):
    spacecraft = {"LC08": "LANDSAT_8", "LC09": "LANDSAT_9", "LT05": "LANDSAT_5",
                  "LE07": "LANDSAT_7", "LT04": "LANDSAT_4"}[pid[:4]]
    sensor_id = {"LC08": "OLI_TIRS", "LC09": "OLI_TIRS", "LT05": "TM", "LE07": "ETM",
                 "LT04": "TM"}[pid[:4]]
    l1 = pid.replace("_L2SP_", "_L1TP_")
    pc = [("ORIGIN", '"Image courtesy of the U.S. Geological Survey"'),
          ("DIGITAL_OBJECT_IDENTIFIER", '"https://doi.org/10.5066/P9OGBGM6"'),
          ("LANDSAT_PRODUCT_ID", '"%s"' % pid), ("PROCESSING_LEVEL", '"L2SP"'),
          ("COLLECTION_NUMBER", "02"), ("COLLECTION_CATEGORY", '"T1"'),
          ("OUTPUT_FORMAT", '"GEOTIFF"')]
    for b in bands:
        pc.append(("FILE_NAME_BAND_%d" % b, '"%s_SR_B%d.TIF"' % (pid, b)))
    pc += [("FILE_NAME_QUALITY_L1_PIXEL", '"%s_QA_PIXEL.TIF"' % pid),
           ("FILE_NAME_QUALITY_L1_RADIOMETRIC_SATURATION", '"%s_QA_RADSAT.TIF"' % pid),
           ("FILE_NAME_METADATA_ODL", '"%s_MTL.txt"' % pid),
           ("FILE_NAME_METADATA_XML", '"%s_MTL.xml"' % pid)]
    for b in bands:
        pc.append(("DATA_TYPE_BAND_%d" % b, '"UINT16"'))
    pc.append(("DATA_TYPE_QUALITY_L1_PIXEL", '"UINT16"'))
    ia = [("SPACECRAFT_ID", '"%s"' % spacecraft), ("SENSOR_ID", '"%s"' % sensor_id),
          ("WRS_TYPE", "2"), ("WRS_PATH", str(path)), ("WRS_ROW", str(row)),
          ("NADIR_OFFNADIR", '"NADIR"'), ("TARGET_WRS_PATH", str(path)),
          ("TARGET_WRS_ROW", str(row)), ("DATE_ACQUIRED", date),
          ("SCENE_CENTER_TIME", '"13:52:11.0920110Z"'), ("STATION_ID", '"LGN"'),
          ("CLOUD_COVER", "12.34"), ("CLOUD_COVER_LAND", "12.34")]
    x0, y0 = gt[0], gt[3]
    pa = [("MAP_PROJECTION", '"UTM"'), ("DATUM", '"WGS84"'), ("ELLIPSOID", '"WGS84"'),
          ("UTM_ZONE", str(utm_zone)), ("GRID_CELL_SIZE_REFLECTIVE", "%.2f" % gt[1]),
          ("REFLECTIVE_LINES", str(shape[0])), ("REFLECTIVE_SAMPLES", str(shape[1])),
          ("ORIENTATION", '"NORTH_UP"'),
          ("CORNER_UL_PROJECTION_X_PRODUCT", "%.3f" % x0),
          ("CORNER_UL_PROJECTION_Y_PRODUCT", "%.3f" % y0)]
    l2 = [("ORIGIN", '"Image courtesy of the U.S. Geological Survey"'),
          ("LANDSAT_PRODUCT_ID", '"%s"' % pid), ("PROCESSING_LEVEL", '"L2SP"'),
          ("DATE_PRODUCT_GENERATED", proc + "T16:50:03Z"),
          ("ALGORITHM_SOURCE_SURFACE_REFLECTANCE",
           '"LaSRC_1.6.0"' if pid[:2] == "LC" else '"LEDAPS_3.4.0"')]
    sr = []
    for b in bands:
        sr += [("REFLECTANCE_MAXIMUM_BAND_%d" % b, "1.602213"),
               ("REFLECTANCE_MINIMUM_BAND_%d" % b, "-0.199972")]
    for b in bands:
        sr.append(("REFLECTANCE_MULT_BAND_%d" % b, "2.75e-05"))
    for b in bands:
        sr.append(("REFLECTANCE_ADD_BAND_%d" % b, "-0.2"))
    rec1 = [("LANDSAT_SCENE_ID", '"%s%03d%03d%s%03dLGN00"' % (pid[0] + pid[1] + pid[3], path, row,
                                                            date[:4], 100)),
            ("LANDSAT_PRODUCT_ID", '"%s"' % l1), ("PROCESSING_LEVEL", '"L1TP"')]
    for b in bands:
        rec1.append(("FILE_NAME_BAND_%d" % b, '"%s_B%d.TIF"' % (l1, b)))
    # Level-1 TOA rescaling with other numbers: reading the wrong group shows.
    resc = []
    for b in bands:
        resc.append(("REFLECTANCE_MULT_BAND_%d" % b, "2.0000E-05"))
    for b in bands:
        resc.append(("REFLECTANCE_ADD_BAND_%d" % b, "-0.100000"))
    return [("PRODUCT_CONTENTS", pc), ("IMAGE_ATTRIBUTES", ia), ("PROJECTION_ATTRIBUTES", pa),
            ("LEVEL2_PROCESSING_RECORD", l2), ("LEVEL2_SURFACE_REFLECTANCE_PARAMETERS", sr),
            ("LEVEL1_PROCESSING_RECORD", rec1), ("LEVEL1_RADIOMETRIC_RESCALING", resc)]


def write_mtl(folder, pid, groups):
    with open(os.path.join(folder, pid + "_MTL.txt"), "w") as f:
        f.write("GROUP = LANDSAT_METADATA_FILE\n")
        for g, items in groups:
            f.write("  GROUP = %s\n" % g)
            for k, v in items:
                f.write("    %s = %s\n" % (k, v))
            f.write("  END_GROUP = %s\n" % g)
        f.write("END_GROUP = LANDSAT_METADATA_FILE\nEND\n")
    with open(os.path.join(folder, pid + "_MTL.xml"), "w") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<LANDSAT_METADATA_FILE>\n')
        for g, items in groups:
            f.write("  <%s>\n" % g)
            for k, v in items:
                f.write("    <%s>%s</%s>\n" % (k, v.strip('"'), k))
            f.write("  </%s>\n" % g)
        f.write("</LANDSAT_METADATA_FILE>\n")
    doc = {"LANDSAT_METADATA_FILE": {g: {k: v.strip('"') for k, v in items}
                                     for g, items in groups}}
    with open(os.path.join(folder, pid + "_MTL.json"), "w") as f:
        json.dump(doc, f)


def landsat_product(out, pid, scene_tif, mask, date, proc, path=227, row=65, qa=None):
    """A Landsat C2 L2 folder from a canopy-synth scene (bands blue, green, red, nir)."""
    folder = os.path.join(out, pid)
    os.makedirs(folder, exist_ok=True)
    blue, gt, wkt = read(scene_tif, 1)
    green = read(scene_tif, 2)[0]
    red = read(scene_tif, 3)[0]
    nir = read(scene_tif, 4)[0]
    tm = pid[:4] in ("LT05", "LT04", "LE07")
    # OLI: B2 blue, B3 green, B4 red, B5 NIR; TM/ETM+: B1 blue, B2 green, B3 red, B4 NIR.
    bands = [1, 2, 3, 4, 5, 7] if tm else [1, 2, 3, 4, 5, 6, 7]
    src = {"blue": blue, "green": green, "red": red, "nir": nir}
    role = ({1: "blue", 2: "green", 3: "red", 4: "nir"} if tm
            else {2: "blue", 3: "green", 4: "red", 5: "nir"})
    for b in bands:
        if b in role:
            dn = landsat_dn(refl(src[role[b]]))
        else:       # other bands: a plausible constant-ish SWIR / coastal
            dn = landsat_dn(refl(red) * 0.8)
        write_tif(os.path.join(folder, "%s_SR_B%d.TIF" % (pid, b)), dn, gt, wkt, 0, point=True)
    if qa is None:
        qa = qa_from_scl(mask)
    write_tif(os.path.join(folder, pid + "_QA_PIXEL.TIF"), qa, gt, wkt, QA_FILL, point=True)
    write_tif(os.path.join(folder, pid + "_QA_RADSAT.TIF"), np.zeros(qa.shape, np.uint16), gt,
              wkt, None, point=True)
    srs = osr.SpatialReference(wkt=wkt)
    zone = srs.GetUTMZone()
    write_mtl(folder, pid, mtl_groups(pid, None, path, row, date, proc, bands, abs(zone),
                                      qa.shape, gt))
    return folder


def tar_product(folder, tar_path):
    """USGS tars are flat: the files, no folder."""
    with tarfile.open(tar_path, "w", format=tarfile.USTAR_FORMAT) as t:
        for name in sorted(os.listdir(folder)):
            info = t.gettarinfo(os.path.join(folder, name), arcname=name)
            info.mtime = 1700000000
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            with open(os.path.join(folder, name), "rb") as f:
                t.addfile(info, f)


# ---------------------------------------------------------------------------
# Sentinel-2 L2A

S2_BAND_IDS = {"B01": 0, "B02": 1, "B03": 2, "B04": 3, "B05": 4, "B06": 5, "B07": 6,
               "B08": 7, "B8A": 8, "B09": 9, "B10": 10, "B11": 11, "B12": 12}


def upsample(a, k):
    return np.repeat(np.repeat(a, k, axis=0), k, axis=1)


def scl_20m(scl10):
    """SCL at 20 m from 10 m classes: a 2x2 block is invalid when any pixel is."""
    h, w = scl10.shape
    h2, w2 = (h + 1) // 2, (w + 1) // 2
    pad = np.zeros((h2 * 2, w2 * 2), np.uint8)
    pad[:h, :w] = scl10
    pad[h:, :] = pad[h - 1:h, :] if h % 2 else pad[h:, :]
    blocks = pad.reshape(h2, 2, w2, 2).transpose(0, 2, 1, 3).reshape(h2, w2, 4)
    out = blocks[:, :, 0].copy()
    for code in (10, 3, 8, 9, 0):        # priority: nodata > clouds > shadow > cirrus
        out[(blocks == code).any(axis=2)] = code
    return out


def mtd_xml(product_uri, tile, sensing, spacecraft, baseline, image_files, offsets=True,
            quantification=True):
    t = sensing
    iso = "%s-%s-%sT%s:%s:%s.024Z" % (t[0:4], t[4:6], t[6:8], t[9:11], t[11:13], t[13:15])
    lines = ['<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
             '<n1:Level-2A_User_Product xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/'
             'User_Product_Level-2A.xsd" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
             'xsi:schemaLocation="https://psd-14.sentinel2.eo.esa.int/PSD/'
             'User_Product_Level-2A.xsd">',
             '<n1:General_Info>', '<Product_Info>',
             '<PRODUCT_START_TIME>%s</PRODUCT_START_TIME>' % iso,
             '<PRODUCT_STOP_TIME>%s</PRODUCT_STOP_TIME>' % iso,
             '<PRODUCT_URI>%s</PRODUCT_URI>' % product_uri,
             '<PROCESSING_LEVEL>Level-2A</PROCESSING_LEVEL>',
             '<PRODUCT_TYPE>S2MSI2A</PRODUCT_TYPE>',
             '<PROCESSING_BASELINE>%s</PROCESSING_BASELINE>' % baseline,
             '<PRODUCT_DOI>https://doi.org/10.5270/S2_-znk9xsj</PRODUCT_DOI>',
             '<GENERATION_TIME>%s</GENERATION_TIME>' % iso,
             '<PREVIEW_IMAGE_URL>Not applicable</PREVIEW_IMAGE_URL>',
             '<PREVIEW_GEO_INFO>Not applicable</PREVIEW_GEO_INFO>',
             '<Datatake datatakeIdentifier="GS2B_%s_038422_N%s">' % (
                 t, baseline.replace(".", "")),
             '<SPACECRAFT_NAME>%s</SPACECRAFT_NAME>' % spacecraft,
             '<DATATAKE_TYPE>INS-NOBS</DATATAKE_TYPE>',
             '<DATATAKE_SENSING_START>%s</DATATAKE_SENSING_START>' % iso,
             '<SENSING_ORBIT_NUMBER>110</SENSING_ORBIT_NUMBER>',
             '<SENSING_ORBIT_DIRECTION>DESCENDING</SENSING_ORBIT_DIRECTION>',
             '</Datatake>',
             '<Query_Options completeSingleTile="true">',
             '<PRODUCT_FORMAT>SAFE_COMPACT</PRODUCT_FORMAT>', '</Query_Options>',
             '<Product_Organisation>', '<Granule_List>',
             '<Granule datastripIdentifier="S2B_OPER_MSI_L2A_DS_2BPS_%s_S%s_N%s" '
             'granuleIdentifier="S2B_OPER_MSI_L2A_TL_2BPS_%s_A038422_T%s_N%s" '
             'imageFormat="JPEG2000">' % (t, t, baseline.replace(".", ""), t, tile,
                                          baseline.replace(".", ""))]
    lines += ['<IMAGE_FILE>%s</IMAGE_FILE>' % f for f in image_files]
    lines += ['</Granule>', '</Granule_List>', '</Product_Organisation>', '</Product_Info>',
              '<Product_Image_Characteristics>',
              '<Special_Values><SPECIAL_VALUE_TEXT>NODATA</SPECIAL_VALUE_TEXT>'
              '<SPECIAL_VALUE_INDEX>0</SPECIAL_VALUE_INDEX></Special_Values>',
              '<Special_Values><SPECIAL_VALUE_TEXT>SATURATED</SPECIAL_VALUE_TEXT>'
              '<SPECIAL_VALUE_INDEX>65535</SPECIAL_VALUE_INDEX></Special_Values>',
              '<QUANTIFICATION_VALUES_LIST>']
    if quantification:
        lines.append('<BOA_QUANTIFICATION_VALUE unit="none">10000</BOA_QUANTIFICATION_VALUE>')
    lines += ['<AOT_QUANTIFICATION_VALUE unit="none">1000.0</AOT_QUANTIFICATION_VALUE>',
              '<WVP_QUANTIFICATION_VALUE unit="cm">1000.0</WVP_QUANTIFICATION_VALUE>',
              '</QUANTIFICATION_VALUES_LIST>']
    if offsets:
        lines.append('<BOA_ADD_OFFSET_VALUES_LIST>')
        lines += ['<BOA_ADD_OFFSET band_id="%d">-1000</BOA_ADD_OFFSET>' % i for i in range(13)]
        lines.append('</BOA_ADD_OFFSET_VALUES_LIST>')
    lines.append('<Spectral_Information_List>')
    for name, i in S2_BAND_IDS.items():
        phys = name if name == "B8A" else "B" + str(int(name[1:]))
        lines.append('<Spectral_Information bandId="%d" physicalBand="%s">'
                     '<RESOLUTION>10</RESOLUTION></Spectral_Information>' % (i, phys))
    lines += ['</Spectral_Information_List>',
              '<SCENE_CLASSIFICATION_LIST>',
              '<Scene_Classification_ID><SCENE_CLASSIFICATION_TEXT>SC_NODATA'
              '</SCENE_CLASSIFICATION_TEXT><SCENE_CLASSIFICATION_INDEX>0'
              '</SCENE_CLASSIFICATION_INDEX></Scene_Classification_ID>',
              '</SCENE_CLASSIFICATION_LIST>',
              '</Product_Image_Characteristics>', '</n1:General_Info>',
              '</n1:Level-2A_User_Product>', '']
    return "\n".join(lines)


def s2_bands_10m(scene_tif, factor):
    """blue, green, red, nir DNs (baseline >= 04.00) on a 10 m grid, and that grid."""
    out = {}
    for i, name in enumerate(["B02", "B03", "B04", "B08"], start=1):
        a, gt, wkt = read(scene_tif, i)
        out[name] = s2_dn(refl(upsample(a, factor) if factor > 1 else a))
    gt10 = (gt[0], gt[1] / factor, 0, gt[3], 0, gt[5] / factor)
    return out, gt10, wkt


def s2_safe(out, tile, sensing, scene_tif, scl10, factor=1, baseline="05.10", offsets=True,
            spacecraft="Sentinel-2B"):
    gen = sensing[:9] + "153012"
    uri = "S2B_MSIL2A_%s_N%s_R110_T%s_%s.SAFE" % (sensing, baseline.replace(".", ""), tile, gen)
    safe = os.path.join(out, uri)
    granule = "L2A_T%s_A038422_%s" % (tile, sensing)
    gdir = os.path.join(safe, "GRANULE", granule, "IMG_DATA")
    os.makedirs(os.path.join(gdir, "R10m"), exist_ok=True)
    os.makedirs(os.path.join(gdir, "R20m"), exist_ok=True)
    os.makedirs(os.path.join(safe, "DATASTRIP"), exist_ok=True)
    os.makedirs(os.path.join(safe, "AUX_DATA"), exist_ok=True)
    bands, gt10, wkt = s2_bands_10m(scene_tif, factor)
    files = []
    for name in ["B02", "B03", "B04", "B08"]:
        rel = "GRANULE/%s/IMG_DATA/R10m/T%s_%s_%s_10m" % (granule, tile, sensing, name)
        write_jp2(os.path.join(safe, rel + ".jp2"), bands[name], gt10, wkt, 0)
        files.append(rel)
    scl = scl_20m(scl10)
    gt20 = (gt10[0], gt10[1] * 2, 0, gt10[3], 0, gt10[5] * 2)
    # B12 (SWIR 2.2 um) exists at 20 m only: a plausible SWIR from red, on the
    # 20 m grid (the reader resamples it onto the 10 m red's).
    red = bands["B04"].astype(np.float64)
    h2, w2 = (red.shape[0] + 1) // 2, (red.shape[1] + 1) // 2
    pad = np.pad(red, ((0, h2 * 2 - red.shape[0]), (0, w2 * 2 - red.shape[1])), mode="edge")
    b12 = (pad.reshape(h2, 2, w2, 2).mean(axis=(1, 3)) * 0.8).astype(np.uint16)
    rel = "GRANULE/%s/IMG_DATA/R20m/T%s_%s_B12_20m" % (granule, tile, sensing)
    write_jp2(os.path.join(safe, rel + ".jp2"), b12, gt20, wkt, 0)
    files.append(rel)
    rel = "GRANULE/%s/IMG_DATA/R20m/T%s_%s_SCL_20m" % (granule, tile, sensing)
    write_jp2(os.path.join(safe, rel + ".jp2"), scl, gt20, wkt, 0)
    files.append(rel)
    with open(os.path.join(safe, "MTD_MSIL2A.xml"), "w") as f:
        f.write(mtd_xml(uri, tile, sensing, spacecraft, baseline, files, offsets=offsets))
    with open(os.path.join(safe, "manifest.safe"), "w") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<xfdu:XFDU xmlns:xfdu="urn:ccsds:'
                'schema:xfdu:1" version="esa/safe/sentinel/1.1/sentinel-2/msi/archive_l2a_user_'
                'product"/>\n')
    return safe


def zip_safe(safe, zip_path):
    base = os.path.dirname(safe)
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_STORED) as z:
        for root, dirs, files in os.walk(safe):
            dirs.sort()
            for name in sorted(files):
                full = os.path.join(root, name)
                info = zipfile.ZipInfo(os.path.relpath(full, base), (2024, 1, 1, 0, 0, 0))
                with open(full, "rb") as f:
                    z.writestr(info, f.read())


def s2_cog_folder(out, name, tile, date, scene_tif, scl10, factor=1, stac=True,
                  baseline="05.10"):
    """Element 84 layout: B02/B03/B04/B08.tif at 10 m, SCL.tif at 20 m, STAC item."""
    folder = os.path.join(out, name)
    os.makedirs(folder, exist_ok=True)
    bands, gt10, wkt = s2_bands_10m(scene_tif, factor)
    for n, a in bands.items():
        write_tif(os.path.join(folder, n + ".tif"), a, gt10, wkt, 0, block=256)
    gt20 = (gt10[0], gt10[1] * 2, 0, gt10[3], 0, gt10[5] * 2)
    write_tif(os.path.join(folder, "SCL.tif"), scl_20m(scl10), gt20, wkt, 0, gdal.GDT_Byte,
              block=256)
    if not stac:
        return folder
    epsg = int(osr.SpatialReference(wkt=wkt).GetAuthorityCode(None))
    base = "https://sentinel-cogs.s3.us-west-2.amazonaws.com/sentinel-s2-l2a-cogs/%s/%s/%s/%s/" % (
        tile[:2], tile[2], tile[3:], name)
    h, w = bands["B04"].shape

    def asset(file, title, common, res, scale=True, dtype="uint16"):
        a = {"href": base + file, "type": "image/tiff; application=geotiff; profile=cloud-optimized",
             "title": title, "roles": ["data"]}
        if common:
            a["eo:bands"] = [{"name": common, "common_name": common}]
        rb = {"nodata": 0, "data_type": dtype, "spatial_resolution": res}
        if scale:
            rb.update({"scale": 0.0001, "offset": -0.1})
        a["raster:bands"] = [rb]
        a["proj:shape"] = [h * 10 // res, w * 10 // res]
        return a
    item = {
        "type": "Feature", "stac_version": "1.0.0", "id": name,
        "properties": {"datetime": date + "T13:52:19.024000Z", "platform": "sentinel-2b",
                       "constellation": "sentinel-2", "instruments": ["msi"],
                       "proj:epsg": epsg, "grid:code": "MGRS-" + tile,
                       "mgrs:utm_zone": int(tile[:2]), "mgrs:latitude_band": tile[2],
                       "mgrs:grid_square": tile[3:], "s2:processing_baseline": baseline,
                       "s2:product_type": "S2MSI2A", "earthsearch:boa_offset_applied": True},
        "geometry": None, "links": [],
        "assets": {"blue": asset("B02.tif", "Blue (band 2) - 10m", "blue", 10),
                   "green": asset("B03.tif", "Green (band 3) - 10m", "green", 10),
                   "nir": asset("B08.tif", "NIR 1 (band 8) - 10m", "nir", 10),
                   "red": asset("B04.tif", "Red (band 4) - 10m", "red", 10),
                   "scl": asset("SCL.tif", "Scene classification map (SCL)", None, 20, False,
                                "uint8"),
                   "visual": {"href": base + "TCI.tif", "type": "image/tiff; application="
                              "geotiff; profile=cloud-optimized", "roles": ["visual"],
                              "eo:bands": [{"name": "red", "common_name": "red"},
                                           {"name": "green", "common_name": "green"},
                                           {"name": "blue", "common_name": "blue"}]}},
        "collection": "sentinel-2-l2a"}
    with open(os.path.join(folder, name + ".json"), "w") as f:
        json.dump(item, f, indent=1)
    return folder


def landsat_stac(out, folder, pid, date):
    """A Landsat C2 L2 STAC item (USGS / Planetary Computer style), relative hrefs."""
    rel = os.path.relpath(folder, out)

    def asset(suffix, common, title):
        a = {"href": "./%s/%s_%s.TIF" % (rel, pid, suffix),
             "type": "image/tiff; application=geotiff; profile=cloud-optimized", "title": title,
             "roles": ["data"]}
        if common:
            a["eo:bands"] = [{"name": suffix, "common_name": common}]
            a["raster:bands"] = [{"nodata": 0, "data_type": "uint16", "scale": 2.75e-05,
                                  "offset": -0.2, "unit": "none"}]
        else:
            a["raster:bands"] = [{"nodata": 1, "data_type": "uint16", "unit": "bit index"}]
        return a
    item = {"type": "Feature", "stac_version": "1.0.0", "id": pid,
            "properties": {"datetime": date + "T13:52:11.092011Z", "platform": "landsat-9",
                           "instruments": ["oli", "tirs"], "landsat:wrs_path": "227",
                           "landsat:wrs_row": "065", "landsat:collection_number": "02",
                           "landsat:correction": "L2SP"},
            "geometry": None, "links": [],
            "assets": {"blue": asset("SR_B2", "blue", "Blue Band"),
                       "green": asset("SR_B3", "green", "Green Band"),
                       "red": asset("SR_B4", "red", "Red Band"),
                       "nir08": asset("SR_B5", "nir08", "Near Infrared Band 0.8"),
                       "qa_pixel": asset("QA_PIXEL", None, "Pixel Quality Assessment Band"),
                       "mtl.txt": {"href": "./%s/%s_MTL.txt" % (rel, pid),
                                   "type": "text/plain", "roles": ["metadata"]}}}
    path = os.path.join(out, pid + "_stac.json")
    with open(path, "w") as f:
        json.dump(item, f, indent=1)
    return path


# ---------------------------------------------------------------------------

def cloud_fringe_after(scene_tif, out_tif):
    """AFTER of a clean pair with a cloud and its fringe: a bright, grey ring
    (NDVI well below forest) two pixels wide around the cloud that QA_PIXEL
    calls clear, as thin cloud edges are in real scenes."""
    ds = gdal.Open(scene_tif)
    arrs = [ds.GetRasterBand(i).ReadAsArray() for i in range(1, 5)]
    h, w = arrs[0].shape
    yy, xx = np.mgrid[0:h, 0:w]
    d = np.hypot(yy - h * 0.45, xx - w * 0.5)
    cloud = d <= 14
    fringe = (d > 14) & (d <= 16)
    for i, a in enumerate(arrs):
        a = a.astype(np.float64)
        a[cloud] = 6000
        # Haze: reflectance pulled towards 0.30 grey; NDVI falls from ~0.75 to ~0.2.
        a[fringe] = np.where(a[fringe] > 0, a[fringe] * 0.25 + 2200, 0)
        arrs[i] = a.astype(np.uint16)
    drv = gdal.GetDriverByName("GTiff")
    o = drv.CreateCopy(out_tif, ds)
    for i, a in enumerate(arrs):
        o.GetRasterBand(i + 1).WriteArray(a)
    o = None
    scl = np.full((h, w), 4, np.uint8)
    scl[cloud] = 9
    scl[arrs[0] == 0] = 0
    return scl, int(fringe.sum())


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    exe, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    src = os.path.join(out, "synth")
    os.makedirs(src, exist_ok=True)

    # 1. A Landsat 8 / Landsat 9 pair with clouds, shadows and cirrus (30 m).
    a = synth(exe, os.path.join(src, "l30"), "--size", "240x240", "--pixel", "30", "--seed", "21",
              "--scenario", "sample", "--tile", "64")
    bmask = read(os.path.join(a, "before_mask.tif"))[0]
    amask = read(os.path.join(a, "after_mask.tif"))[0]
    l8 = landsat_product(out, "LC08_L2SP_227065_20240615_20240622_02_T1",
                         os.path.join(a, "before.tif"), bmask, "2024-06-15", "2024-06-22")
    l9 = landsat_product(out, "LC09_L2SP_227065_20240820_20240827_02_T1",
                         os.path.join(a, "after.tif"), amask, "2024-08-20", "2024-08-27")
    tar_product(l9, l9 + ".tar")
    landsat_stac(out, l9, os.path.basename(l9), "2024-08-20")
    shutil.copy(os.path.join(a, "truth.csv"), os.path.join(out, "truth_landsat.csv"))

    # 2. A cloud-free pair (30 m): Landsat 5 TM BEFORE, Sentinel-2 AFTER at 10 m
    #    (each 30 m pixel is 3 x 3 S2 pixels, so clearings keep their exact shape).
    b = synth(exe, os.path.join(src, "mix"), "--size", "240x240", "--pixel", "30", "--seed", "22",
              "--no-mask", "--tile", "64")
    before_dn = read(os.path.join(b, "before.tif"), 3)[0]
    after_dn = read(os.path.join(b, "after.tif"), 3)[0]
    landsat_product(out, "LT05_L2SP_227065_20110712_20200820_02_T1",
                    os.path.join(b, "before.tif"), clear_scl(before_dn), "2011-07-12",
                    "2020-08-20")
    scl10 = upsample(clear_scl(after_dn), 3)
    safe = s2_safe(out, "21LXH", "20240820T135219", os.path.join(b, "after.tif"), scl10, factor=3)
    zip_safe(safe, safe[:-5] + ".zip")
    s2_cog_folder(out, "S2B_21LXH_20240820_0_L2A", "21LXH", "2024-08-20",
                  os.path.join(b, "after.tif"), scl10, factor=3)
    shutil.copy(os.path.join(b, "truth.csv"), os.path.join(out, "truth_mixed.csv"))

    # 3. Cross-zone: Sentinel-2 BEFORE in UTM 21S (10 m) and Sentinel-2 AFTER
    #    delivered in UTM 20S, as on overlapping tiles across a zone boundary
    #    (elsewhere than the pairs above: it meets none of them).
    c = synth(exe, os.path.join(src, "zone"), "--size", "480x480", "--pixel", "10", "--seed",
              "23", "--no-mask", "--tile", "128", "--origin", "700000,8800000")
    cb = read(os.path.join(c, "before.tif"), 3)[0]
    s2_cog_folder(out, "S2A_21LXH_20240610_0_L2A", "21LXH", "2024-06-10",
                  os.path.join(c, "before.tif"), clear_scl(cb), stac=False)
    z20 = os.path.join(src, "zone", "after_z20.tif")
    if not os.path.exists(z20):
        gdal.Warp(z20, os.path.join(c, "after.tif"), dstSRS="EPSG:32720", xRes=10, yRes=10,
                  resampleAlg="bilinear", srcNodata=0, dstNodata=0,
                  creationOptions=["TILED=YES", "COMPRESS=DEFLATE"])
    za = read(z20, 3)[0]
    s2_cog_folder(out, "S2B_20LRQ_20240825_0_L2A", "20LRQ", "2024-08-25", z20, clear_scl(za))
    shutil.copy(os.path.join(c, "truth.csv"), os.path.join(out, "truth_zone.csv"))

    # 4. A clearing-free pair whose AFTER cloud has a fringe QA_PIXEL calls clear.
    #    Both dates are the generator's BEFORE scene: no change at all.
    d = synth(exe, os.path.join(src, "fringe"), "--size", "160x160", "--pixel", "30", "--seed",
              "24", "--no-mask", "--tile", "64")
    fr_after = os.path.join(d, "after_fringe.tif")
    scl_fr, n_fringe = cloud_fringe_after(os.path.join(d, "before.tif"), fr_after)
    db = read(os.path.join(d, "before.tif"), 3)[0]
    fdir = os.path.join(out, "fringe")
    os.makedirs(fdir, exist_ok=True)
    landsat_product(fdir, "LC08_L2SP_227065_20240601_20240608_02_T1",
                    os.path.join(d, "before.tif"), clear_scl(db), "2024-06-01", "2024-06-08")
    landsat_product(fdir, "LC08_L2SP_227065_20240703_20240710_02_T1", fr_after, scl_fr,
                    "2024-07-03", "2024-07-10")
    with open(os.path.join(fdir, "fringe_pixels.txt"), "w") as f:
        f.write("%d\n" % n_fringe)

    # 5. Bad products, each with one thing wrong.
    bad = os.path.join(out, "bad")
    if os.path.isdir(bad):
        shutil.rmtree(bad)
    os.makedirs(bad)
    pid = os.path.basename(l8)

    def copy_l8(name):
        dst = os.path.join(bad, name, pid)
        shutil.copytree(l8, dst)
        return dst
    os.remove(os.path.join(copy_l8("missing_band"), pid + "_SR_B5.TIF"))
    p = copy_l8("corrupt_mtl")
    for ext in ("xml", "json"):
        os.remove(os.path.join(p, "%s_MTL.%s" % (pid, ext)))
    txt = open(os.path.join(p, pid + "_MTL.txt")).read()
    open(os.path.join(p, pid + "_MTL.txt"), "w").write(txt[:len(txt) // 3])
    p = copy_l8("mtl_names_absent")
    for ext in ("xml", "json"):
        os.remove(os.path.join(p, "%s_MTL.%s" % (pid, ext)))
    txt = open(os.path.join(p, pid + "_MTL.txt")).read()
    txt = txt.replace('FILE_NAME_BAND_4 = "%s_SR_B4.TIF"' % pid,
                      'FILE_NAME_BAND_4 = "%s_SR_B4_v2.TIF"' % pid)
    open(os.path.join(p, pid + "_MTL.txt"), "w").write(txt)
    with zipfile.ZipFile(os.path.join(bad, "S2B_MSIL2A_20240820T135219_N0510_R110_T21LXH_"
                                      "20240820T153012.zip"), "w") as z:
        z.writestr(zipfile.ZipInfo("readme.txt", (2024, 1, 1, 0, 0, 0)), "no SAFE in here\n")
        z.writestr(zipfile.ZipInfo("B04.jp2", (2024, 1, 1, 0, 0, 0)), "not an image\n")
    item = json.load(open(os.path.join(out, "S2B_21LXH_20240820_0_L2A",
                                       "S2B_21LXH_20240820_0_L2A.json")))
    del item["assets"]["nir"]
    os.makedirs(os.path.join(bad, "stac_no_nir"))
    json.dump(item, open(os.path.join(bad, "stac_no_nir", "item.json"), "w"), indent=1)
    wb = os.path.join(bad, "wrong_baseline")
    shutil.copytree(safe, os.path.join(wb, os.path.basename(safe)))
    mtd = os.path.join(wb, os.path.basename(safe), "MTD_MSIL2A.xml")
    xml = open(mtd).read()
    start = xml.index("<BOA_ADD_OFFSET_VALUES_LIST>")
    end = xml.index("</BOA_ADD_OFFSET_VALUES_LIST>") + len("</BOA_ADD_OFFSET_VALUES_LIST>")
    open(mtd, "w").write(xml[:start] + xml[end:])
    p = copy_l8("all_fill")
    for name in os.listdir(p):
        if name.endswith(".TIF"):
            full = os.path.join(p, name)
            arr, gt, wkt = read(full)
            fill = QA_FILL if "QA_PIXEL" in name else 0
            write_tif(full, np.full(arr.shape, fill, np.uint16), gt, wkt,
                      None if "RADSAT" in name else fill, point=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
