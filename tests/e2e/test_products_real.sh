#!/bin/bash
# Real products from ../shared/data (skipped visibly when absent): the Landsat 8
# Collection 2 Level-2 scene (MTL .txt/.xml/.json, real QA_PIXEL), real MTL
# files of Landsat 3/5/7/8 from Collections 1 and 2 and before them, and the
# Sentinel-2 L2A COGs with their STAC item (real SCL at 200 m on 100 m bands).
source "$(dirname "$0")/lib.sh"

L8R="$SHARED_DATA/riotilerpds-l8c2-amazon"
S2R="$SHARED_DATA/riotilerpds-s2l2a-29RKH"
META="$SHARED_DATA/rstoolbox-l5-para1988"
TOA="$SHARED_DATA/riotoa-l8-mtl"
if [ ! -d "$L8R" ] || [ ! -d "$S2R" ] || [ ! -d "$META/metadata" ] || [ ! -d "$TOA" ]; then
    for t in "real Landsat 8 C2 L2 folder and MTL .txt/.xml/.json" \
             "real QA_PIXEL decoded by bits as computed by hand" \
             "real Sentinel-2 COG folder and STAC item" \
             "real SCL decoded by class as computed by hand" \
             "real MTL files of several Landsat generations" \
             "a clearing under a real cloud is not reported"; do
        skip "products (real data): $t (../shared/data absent)"
    done
    exit 0
fi

# ---- Landsat 8 C2 L2 (riotilerpds-l8c2-amazon) ----------------------------

ID=LC08_L2SP_001062_20201031_20201106_02_T2
for p in "$L8R" "$L8R/${ID}_MTL.txt" "$L8R/${ID}_MTL.xml" "$L8R/${ID}_MTL.json"; do
    run_canopy info --json "$p"
    check "products (real data): Landsat 8 C2 L2 $(basename "$p")" "$PY" -c "
import json, sys
d = json.loads(sys.stdin.read())
assert d['family'] == 'landsat_c2l2' and d['id'] == '$ID', (d['family'], d['id'])
assert d['date'] == '2020-10-31' and d['footprint'] == 'WRS-2 path/row 001/062'
assert d['sensor'] == 'LANDSAT_8 OLI_TIRS'
assert d['scale'] == 2.75e-05 and d['offset'] == -0.2
assert d['bands']['red']['file'].endswith('_SR_B4.TIF') and d['bands']['nir']['file'].endswith('_SR_B5.TIF')
assert d['mask']['file'].endswith('_QA_PIXEL.TIF')
assert d['grid']['width'] == 379 and d['grid']['height'] == 386 and d['grid']['epsg'] == 'EPSG:32620'
# a 99.94% cloudy scene: nothing is observed
assert d['observed_pixels'] == 0, d['observed_pixels']" <<<"$OUT_TXT${ERR_TXT:+ $ERR_TXT}"
done

# QA_PIXEL bits, decoded by canopy (info, no buffer) and by hand here, with
# three flag sets: the default, fill only, fill + cloud.
mkdir -p "$TMP/p_fill" "$TMP/p_fillcloud"
cp "$ROOT"/configs/*.ini "$TMP/p_fill/"
cp "$ROOT"/configs/*.ini "$TMP/p_fillcloud/"
sed -i 's/^invalid = fill, dilated_cloud, cirrus, cloud, cloud_shadow, snow$/invalid = fill/' \
    "$TMP/p_fill/landsat_c2l2.ini"
sed -i 's/^invalid = fill, dilated_cloud, cirrus, cloud, cloud_shadow, snow$/invalid = fill, cloud/' \
    "$TMP/p_fillcloud/landsat_c2l2.ini"
got=""
for prof in "$ROOT/configs" "$TMP/p_fill" "$TMP/p_fillcloud"; do
    run_canopy info --json --mask-buffer 0 --profiles "$prof" "$L8R"
    got="$got $("$PY" -c "import json,sys; print(json.loads(sys.stdin.read())['observed_pixels'])" <<<"$OUT_TXT")"
done
check "products (real data): real QA_PIXEL decoded by bits as computed by hand ($got)" \
    "$PY" - "$L8R/${ID}_QA_PIXEL.TIF" "$L8R/${ID}_SR_B4.TIF" "$L8R/${ID}_SR_B5.TIF" $got <<'PY'
import sys
import numpy as np
from osgeo import gdal
def arr(p):
    ds = gdal.Open(p)
    return ds.GetRasterBand(1).ReadAsArray()
qa, red, nir = (arr(p).astype(np.int64) for p in sys.argv[1:4])
got = [int(v) for v in sys.argv[4:7]]
data = (red != 0) & (nir != 0)
want = [int(((qa & 0b111111) == 0)[data].sum()),      # fill, dilated, cirrus, cloud, shadow, snow
        int(((qa & 0b1) == 0)[data].sum()),           # fill only
        int(((qa & 0b1001) == 0)[data].sum())]        # fill and cloud
print("values", sorted(set(qa.ravel().tolist())), "want", want, "got", got)
assert got == want and want[1] > 100000 and want[2] == 62
PY

# ---- Sentinel-2 L2A COGs + STAC item (riotilerpds-s2l2a-29RKH) -------------

S2J="$S2R/S2A_29RKH_20200219_0_L2A.json"
for p in "$S2R" "$S2J"; do
    run_canopy info --json "$p"
    check "products (real data): Sentinel-2 L2A $(basename "$p")" "$PY" -c "
import json, sys
d = json.loads(sys.stdin.read())
assert d['family'] == ('sentinel2_l2a' if '$p' == '$S2R' else 'stac'), d['family']
assert d['date'] == '2020-02-19' and d['footprint'] == 'MGRS tile 29RKH', (d['date'], d['footprint'])
assert d['processing_baseline'] == '02.14' and d['id'] == 'S2A_29RKH_20200219_0_L2A'
# baseline 02.14: no offset; the item's raster:bands scale 0.0001
assert abs(d['scale'] - 1e-4) < 1e-15 and d['offset'] == 0
assert d['bands']['red']['file'].endswith('/B04.tif') and d['bands']['nir']['file'].endswith('/B08.tif')
assert d['mask']['file'].endswith('/SCL.tif') and d['grid']['pixel_x'] == 100 and d['grid']['epsg'] == 'EPSG:32629'" <<<"$OUT_TXT${ERR_TXT:+ $ERR_TXT}"
done
run_canopy info --json --mask-buffer 0 "$S2R"
printf '%s' "$OUT_TXT" >"$TMP/info.json"
check "products (real data): real SCL (200 m) decoded by class on the 100 m grid as computed by hand" \
    "$PY" - "$S2R" "$TMP/info.json" <<'PY'
import json, sys
import numpy as np
from osgeo import gdal
d = json.load(open(sys.argv[2]))
def arr(p):
    ds = gdal.Open(p)
    return ds.GetRasterBand(1).ReadAsArray()
scl = np.repeat(np.repeat(arr(sys.argv[1] + "/SCL.tif"), 2, 0), 2, 1)
red, nir = arr(sys.argv[1] + "/B04.tif"), arr(sys.argv[1] + "/B08.tif")
ok = ~np.isin(scl, [0, 1, 3, 8, 9, 10, 11]) & (red != 0) & (nir != 0) & (red < 65535) & (nir < 65535)
print("classes", sorted(set(scl.ravel().tolist())), "want", int(ok.sum()), "got", d["observed_pixels"])
assert d["observed_pixels"] == int(ok.sum()) and 0 < ok.sum() < ok.size
PY
run_canopy detect "$S2R" "$S2J" -o "$TMP/s2self" -q --no-evidence
check "products (real data): Sentinel-2 folder against its STAC item runs (zero alerts)" "$PY" -c "
import json; r = json.load(open('$TMP/s2self/run.json'))
assert r['counts']['alerts'] == 0 and r['before']['product']['family'] == 'sentinel2_l2a'
assert r['after']['product']['family'] == 'stac' and r['unobserved_area_ha'] > 0"

# ---- real MTL files of several Landsat generations --------------------------

# Each MTL in a folder of its own with stand-in band files under the names it
# lists, so that canopy reads the real metadata exactly as in a product.
"$PY" - "$TMP/stand_in.tif" <<'PY'
import sys
from osgeo import gdal, osr
ds = gdal.GetDriverByName("GTiff").Create(sys.argv[1], 8, 8, 1, gdal.GDT_UInt16)
ds.SetGeoTransform((500000, 30, 0, 5000000, 0, -30))
s = osr.SpatialReference(); s.ImportFromEPSG(32610); ds.SetProjection(s.ExportToWkt())
ds.GetRasterBand(1).Fill(7000)
PY
n=0
for mtl in "$META"/metadata/*_MTL.* "$META"/*_MTL.txt "$TOA"/*_MTL.*; do
    [ -f "$mtl" ] || continue
    n=$((n + 1))
    d="$TMP/mtl$n"
    mkdir -p "$d"
    ln -s "$mtl" "$d/$(basename "$mtl")"
    "$PY" - "$mtl" "$d" "$TMP/stand_in.tif" <<'PY'
import json, os, re, sys
mtl, d, stand_in = sys.argv[1:4]
text = open(mtl, "rb").read().decode("ascii", "replace")
names = set(re.findall(r'"?FILE_NAME_(?:BAND_\w+|QUALITY_L1_PIXEL)"?\s*[=:]\s*"([^"]+\.TIF)"', text, re.I))
for n in names:
    os.symlink(stand_in, os.path.join(d, n))
PY
    run_canopy info --json "$d"
    printf '%s' "$OUT_TXT" >"$d.json"
    check "products (real data): real MTL $(basename "$mtl")" "$PY" - "$mtl" "$RC" "$ERR_TXT" "$d.json" <<'PY'
import json, re, sys
mtl, rc, err, info = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
text = open(mtl, "rb").read().decode("ascii", "replace")
def item(k):
    m = re.search(r'"?\b%s\b"?\s*[=:]\s*"?([^",\r\n}]+)"?' % k, text)
    return m.group(1).strip() if m else None
sc, sensor = item("SPACECRAFT_ID"), item("SENSOR_ID")
coll = item("COLLECTION_NUMBER")
oli = sc in ("LANDSAT_8", "LANDSAT_9")
red = 4 if oli else 5 if sc in ("LANDSAT_1", "LANDSAT_2", "LANDSAT_3") else 2 if sensor == "MSS" else 3
nir = 5 if oli else 7 if sc in ("LANDSAT_1", "LANDSAT_2", "LANDSAT_3") else 4
mult, add = item("REFLECTANCE_MULT_BAND_%d" % red), item("REFLECTANCE_ADD_BAND_%d" % red)
nmult, nadd = item("REFLECTANCE_MULT_BAND_%d" % nir), item("REFLECTANCE_ADD_BAND_%d" % nir)
if mult is None:
    print("no REFLECTANCE_MULT_BAND_%d: refused:" % red, err)
    assert rc == 1 and "has no REFLECTANCE_MULT_BAND_%d" % red in err, (rc, err)
    sys.exit(0)
assert rc == 0, err
d = json.load(open(info))
fam = {"02": "landsat_c2l1", "01": "landsat_c1"}.get(coll, "landsat_l1_legacy")
want_id = item("LANDSAT_PRODUCT_ID") or item("LANDSAT_SCENE_ID")
print(d["family"], d["sensor"], d["id"], d["date"], d["footprint"], d["scale"], d["offset"],
      d["bands"]["red"]["name"], d["bands"]["nir"]["name"])
assert d["family"] == fam, (d["family"], fam)
assert d["id"] == want_id and d["date"] == item("DATE_ACQUIRED")[:10]
assert d["sensor"].split()[0] == sc
assert d["footprint"].endswith("%03d/%03d" % (int(item("WRS_PATH")), int(item("WRS_ROW"))))
assert abs(d["scale"] - float(mult)) < 1e-12 and abs(d["offset"] - float(add)) < 1e-12
# per-band gains (Level-1 TOA): NIR keeps its own scale and offset
assert abs(d["nir_scale"] - float(nmult)) < 1e-12 and abs(d["nir_offset"] - float(nadd)) < 1e-12
assert d["bands"]["red"]["name"] == "B%d" % red and d["bands"]["nir"]["name"] == "B%d" % nir
PY
done
[ "$n" -ge 8 ] && pass "products (real data): $n real MTL files of Landsat 3/5/7/8 tried" \
    || fail "products (real data): only $n real MTL files found"

# ---- a clearing under a real cloud ------------------------------------------

# The Landsat 9 fixture with the top half of its QA_PIXEL replaced by a real,
# fully clouded window of the shared scene's QA_PIXEL: clearings under it are
# not reported, the others are, and run.json counts the area as unobserved.
FX="$TMP/fx"
if ! "$PY" "$ROOT/scripts/make-products.py" "$SYNTH" "$FX" >"$TMP/fx.log" 2>&1; then
    fail "products (real data): fixtures ($(tail -2 "$TMP/fx.log"))"
    exit 0
fi
L8="$FX/LC08_L2SP_227065_20240615_20240622_02_T1"
L9N=LC09_L2SP_227065_20240820_20240827_02_T1
cp -r "$FX/$L9N" "$TMP/$L9N"
"$PY" - "$L8R/${ID}_QA_PIXEL.TIF" "$TMP/$L9N/${L9N}_QA_PIXEL.TIF" <<'PY'
import sys
from osgeo import gdal
real = gdal.Open(sys.argv[1]).ReadAsArray()
ds = gdal.Open(sys.argv[2], gdal.GA_Update)
qa = ds.ReadAsArray()
qa[:120, :240] = real[130:250, 70:310]
ds.GetRasterBand(1).WriteArray(qa)
ds = None
PY
run_canopy detect "$L8" "$TMP/$L9N" -o "$TMP/realcloud" -q --no-evidence
[ "$RC" -eq 0 ] || { fail "products (real data): real cloud run ($RC: $ERR_TXT)"; exit 0; }
check "products (real data): a clearing under a real cloud is not reported; its area is unobserved" \
    "$PY" - "$TMP/realcloud" "$FX/truth_landsat.csv" "$L8R/${ID}_QA_PIXEL.TIF" <<'PY'
import csv, json, sys
import numpy as np
from osgeo import gdal, ogr
out, truth, qa_path = sys.argv[1:4]
run = json.load(open(out + "/run.json"))
ds = ogr.Open(out + "/alerts.gpkg")
alerts = [f.GetGeometryRef().Centroid() for f in ds.GetLayer("alerts")]
ytop = 8900000 - 120 * 30                   # the real cloud covers y > ytop
hidden = found = 0
for r in csv.DictReader(open(truth)):
    if r["expect_alert"] != "1":
        continue
    x0, y0, x1, y1 = (float(r[k]) for k in ("xmin", "ymin", "xmax", "ymax"))
    inside = [c for c in alerts if x0 <= c.GetX() <= x1 and y0 <= c.GetY() <= y1]
    if y0 >= ytop:
        assert not inside, "clearing %s under the real cloud was reported" % r["id"]
        hidden += 1
    elif y1 <= ytop - 90:
        assert len(inside) == 1, "clearing %s in the clear was not reported" % r["id"]
        found += 1
real = gdal.Open(qa_path).ReadAsArray()[130:250, 70:310]
cloud_ha = int((real & 0b111111 != 0).sum()) * 900 / 1e4
print("hidden", hidden, "found", found, "alerts", len(alerts), "unobserved", run["unobserved_area_ha"],
      "ha; real cloud", cloud_ha, "ha")
assert hidden >= 3 and found >= 2 and len(alerts) == found
assert run["unobserved_area_ha"] >= cloud_ha
assert run["after"]["mask"].endswith("_QA_PIXEL.TIF")
PY
