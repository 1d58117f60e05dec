#!/bin/bash
# Satellite products in, no other flags: Landsat Collection 2 Level-2 (folder,
# MTL .txt/.xml/.json, .tar), Sentinel-2 L2A (.SAFE, .zip, MTD_MSIL2A.xml, COG
# folder + STAC item), STAC items; mixed Landsat/Sentinel-2 and cross-UTM-zone
# pairs; the cloud buffer; bad products. Fixtures come from
# scripts/make-products.py, built on canopy-synth pairs (clearings known).
source "$(dirname "$0")/lib.sh"

FX="$TMP/fx"
if ! "$PY" "$ROOT/scripts/make-products.py" "$SYNTH" "$FX" >"$TMP/fx.log" 2>&1; then
    fail "products: fixtures (scripts/make-products.py: $(tail -3 "$TMP/fx.log"))"
    exit 0
fi
L8="$FX/LC08_L2SP_227065_20240615_20240622_02_T1"
L9="$FX/LC09_L2SP_227065_20240820_20240827_02_T1"
L5="$FX/LT05_L2SP_227065_20110712_20200820_02_T1"
SAFE="$FX/S2B_MSIL2A_20240820T135219_N0510_R110_T21LXH_20240820T153012.SAFE"
S2ZIP="${SAFE%.SAFE}.zip"
COG="$FX/S2B_21LXH_20240820_0_L2A"
ZB="$FX/S2A_21LXH_20240610_0_L2A"
ZA="$FX/S2B_20LRQ_20240825_0_L2A"

# ---- recognition and metadata: canopy info --json ------------------------

# info_is NAME PATH PYTHON-ASSERTIONS: `canopy info --json PATH` as d.
info_is() {
    local name=$1 path=$2 code=$3
    run_canopy info --json "$path"
    if [ "$RC" -ne 0 ]; then
        fail "products: info $name (exit $RC: $ERR_TXT)"
        return
    fi
    check "products: info $name" "$PY" -c "
import json, sys
d = json.loads(sys.stdin.read())
$code" <<<"$OUT_TXT"
}

LC='assert d["family"] == "landsat_c2l2", d["family"]
assert d["date"] == "2024-06-15" and d["id"] == "LC08_L2SP_227065_20240615_20240622_02_T1"
assert d["footprint"] == "WRS-2 path/row 227/065", d["footprint"]
assert d["sensor"] == "LANDSAT_8 OLI_TIRS", d["sensor"]
# Level-2 scale and offset from the MTL, not the Level-1 2e-5 / -0.1 it also holds
assert d["scale"] == 2.75e-05 and d["offset"] == -0.2, (d["scale"], d["offset"])
assert d["bands"]["red"]["file"].endswith("_SR_B4.TIF") and d["bands"]["nir"]["file"].endswith("_SR_B5.TIF")
assert d["bands"]["green"]["file"].endswith("_SR_B3.TIF") and d["bands"]["blue"]["file"].endswith("_SR_B2.TIF")
assert d["mask"]["file"].endswith("_QA_PIXEL.TIF") and d["mask"]["layer"] == "QA_PIXEL"
assert "fill(0)" in d["mask"]["rule"] and "cloud_shadow(4)" in d["mask"]["rule"] and "snow(5)" in d["mask"]["rule"]
assert d["grid"]["epsg"] == "EPSG:32721" and d["grid"]["pixel_x"] == 30 and d["grid"]["width"] == 240
assert 0.5 < d["observed_share"] < 1, d["observed_share"]
roles = sorted(f["role"] for f in d["files"])
assert roles == ["blue", "green", "mask", "metadata", "nir", "red", "swir2"], roles
assert d["bands"]["swir2"]["file"].endswith("_SR_B7.TIF"), d["bands"]["swir2"]'
info_is "Landsat 8 C2 L2 folder" "$L8" "$LC"
info_is "Landsat 8 C2 L2 _MTL.txt" "$L8/$(basename "$L8")_MTL.txt" "$LC"
info_is "Landsat 8 C2 L2 _MTL.xml" "$L8/$(basename "$L8")_MTL.xml" "$LC"
info_is "Landsat 8 C2 L2 _MTL.json" "$L8/$(basename "$L8")_MTL.json" "$LC"
info_is "Landsat 9 C2 L2 .tar" "$L9.tar" '
assert d["family"] == "landsat_c2l2" and d["layout"] == "tar" and d["sensor"] == "LANDSAT_9 OLI_TIRS"
assert d["bands"]["red"]["file"].startswith("/vsitar/") and d["date"] == "2024-08-20"
assert [f["role"] for f in d["files"]] == ["archive"], d["files"]'
info_is "Landsat 5 TM C2 L2: red B3, NIR B4" "$L5" '
assert d["family"] == "landsat_c2l2" and d["sensor"] == "LANDSAT_5 TM"
assert d["bands"]["red"]["name"] == "B3" and d["bands"]["nir"]["name"] == "B4"
assert d["bands"]["blue"]["name"] == "B1" and d["date"] == "2011-07-12"'
S2='assert d["family"] == "sentinel2_l2a", d["family"]
assert d["date"] == "2024-08-20" and d["footprint"] == "MGRS tile 21LXH", (d["date"], d["footprint"])
assert d["processing_baseline"] == "05.10"
# (DN + BOA_ADD_OFFSET) / BOA_QUANTIFICATION_VALUE = DN * 1e-4 - 0.1
assert abs(d["scale"] - 1e-4) < 1e-15 and abs(d["offset"] + 0.1) < 1e-12, (d["scale"], d["offset"])
assert d["bands"]["red"]["name"] == "B04" and d["bands"]["nir"]["name"] == "B08"
assert d["mask"]["layer"] == "SCL" and "cloud_high(9)" in d["mask"]["rule"] and "snow(11)" in d["mask"]["rule"]
assert d["grid"]["pixel_x"] == 10 and d["grid"]["width"] == 720'
info_is "Sentinel-2 L2A .SAFE folder" "$SAFE" "$S2
assert d['layout'] == 'SAFE folder' and d['bands']['red']['file'].endswith('_B04_10m.jp2')
assert d['mask']['file'].endswith('_SCL_20m.jp2')
assert d['id'] == 'S2B_MSIL2A_20240820T135219_N0510_R110_T21LXH_20240820T153012'"
info_is "Sentinel-2 L2A MTD_MSIL2A.xml" "$SAFE/MTD_MSIL2A.xml" "$S2"
info_is "Sentinel-2 L2A .zip" "$S2ZIP" "$S2
assert d['layout'] == 'SAFE zip' and d['bands']['red']['file'].startswith('/vsizip/')"
info_is "Sentinel-2 L2A COG folder with STAC item" "$COG" "$S2
assert d['layout'] == 'COG folder' and d['bands']['red']['file'].endswith('/B04.tif')
assert 'raster:bands' in d['scale_source'], d['scale_source']"
info_is "Sentinel-2 L2A COG folder without metadata (date and tile from the folder name)" "$ZB" '
assert d["family"] == "sentinel2_l2a" and d["date"] == "2024-06-10" and d["footprint"] == "MGRS tile 21LXH"
assert abs(d["offset"] + 0.1) < 1e-12, d["offset"]'
info_is "STAC item (Sentinel-2, remote hrefs with local copies)" "$COG/$(basename "$COG").json" '
assert d["family"] == "stac" and d["sensor"] == "sentinel-2b msi" and d["footprint"] == "MGRS tile 21LXH"
assert d["bands"]["red"]["name"] == "red" and d["bands"]["red"]["file"].endswith("B04.tif")
assert d["bands"]["nir"]["name"] == "nir" and d["mask"]["layer"] == "SCL"
assert abs(d["scale"] - 1e-4) < 1e-15 and abs(d["offset"] + 0.1) < 1e-12'
info_is "STAC item (Landsat, relative hrefs, nir08, qa_pixel)" "${L9}_stac.json" '
assert d["family"] == "stac" and d["footprint"] == "WRS-2 path/row 227/065"
assert d["bands"]["nir"]["name"] == "nir08" and d["bands"]["nir"]["file"].endswith("_SR_B5.TIF")
assert d["mask"]["layer"] == "QA_PIXEL" and "cloud(3)" in d["mask"]["rule"]
assert d["scale"] == 2.75e-05 and d["offset"] == -0.2'

# A known DN gives the known reflectance: DN x scale + offset read back from the
# band files equals the generator's reflectance (DN / 10000), per family.
check "products: a known DN gives the known reflectance (Landsat, Sentinel-2 SAFE/COG, STAC)" \
    "$PY" - "$CANOPY" "$FX" <<'PY'
import json, subprocess, sys
import numpy as np
from osgeo import gdal
canopy, fx = sys.argv[1:3]
def info(p):
    return json.loads(subprocess.run([canopy, "info", "--json", p], check=True,
                                     capture_output=True, text=True).stdout)
def band(path, b=1):
    ds = gdal.Open(path)        # keep the dataset alive while its band is read
    return ds.GetRasterBand(b).ReadAsArray().astype(np.float64)
cases = [("LC08_L2SP_227065_20240615_20240622_02_T1", "synth/l30/before.tif", 1),
         ("LC09_L2SP_227065_20240820_20240827_02_T1.tar", "synth/l30/after.tif", 1),
         ("LC09_L2SP_227065_20240820_20240827_02_T1_stac.json", "synth/l30/after.tif", 1),
         ("LT05_L2SP_227065_20110712_20200820_02_T1", "synth/mix/before.tif", 1),
         ("S2B_MSIL2A_20240820T135219_N0510_R110_T21LXH_20240820T153012.SAFE", "synth/mix/after.tif", 3),
         ("S2B_21LXH_20240820_0_L2A", "synth/mix/after.tif", 3)]
for prod, src, k in cases:
    d = info(fx + "/" + prod)
    for role, b in (("red", 3), ("nir", 4)):
        dn = band(d["bands"][role]["file"])[::k, ::k]
        want = band(fx + "/" + src, b) / 10000.0
        ok = dn > 0
        got = dn * d["scale"] + d["offset"]
        err = np.abs(got[ok] - want[ok]).max()
        # Landsat DNs are quantised to 2.75e-5, Sentinel-2 to 1e-4 (exact here)
        assert err <= 1.4e-5 + 1e-9, (prod, role, err)
        # one pixel spelled out
        y, x = np.argwhere(ok)[0]
        print(prod, role, "DN %d -> %.5f (generator %.5f)" % (dn[y, x], got[y, x], want[y, x]))
PY

# ---- detection: products as BEFORE / AFTER with no other flags ------------

# detect_ok NAME OUT BEFORE AFTER [ARGS]: canopy detect must succeed
# (evidence chips are not what these tests are about: --no-evidence).
detect_ok() {
    local name=$1 out=$2; shift 2
    run_canopy detect "$@" -o "$out" -q --no-evidence
    [ "$RC" -eq 0 ] || { fail "products: $name (exit $RC: $ERR_TXT)"; return 1; }
}

# compare OUT TRUTH PIXEL AREA_TOL [EPSG_OF_ALERTS]: every expected clearing
# found within one pixel, areas within AREA_TOL (clearings touching the scene
# edge excepted for the area), and no other alert.
compare() {
    "$PY" - "$@" <<'PY'
import csv, json, math, sys
from osgeo import ogr, osr
out, truth, px, tol = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
epsg = int(sys.argv[5]) if len(sys.argv) > 5 else 0
ds = ogr.Open(out + "/alerts.gpkg")
lyr = ds.GetLayer("alerts")
alerts = [(f.GetField("area_ha"), f.GetGeometryRef().Centroid()) for f in lyr]
tr = None
if epsg:
    s, t = osr.SpatialReference(), osr.SpatialReference()
    s.ImportFromEPSG(32721); t.ImportFromEPSG(epsg)
    s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    t.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    tr = osr.CoordinateTransformation(s, t)
rows = list(csv.DictReader(open(truth)))
run = json.load(open(out + "/run.json"))
gt, win = run["grid"]["geotransform"], run["grid"]["window"]
left, top = gt[0] + win[0] * gt[1], gt[3] + win[1] * gt[5]
exp = [r for r in rows if r["expect_alert"] == "1"]
used = set()
for r in exp:
    cx, cy = float(r["centroid_x"]), float(r["centroid_y"])
    if tr:
        cx, cy = tr.TransformPoint(cx, cy)[:2]
    d, i = min((math.hypot(c.GetX() - cx, c.GetY() - cy), i) for i, (_, c) in enumerate(alerts))
    a, want = alerts[i][0] * 1e4, float(r["area_m2"])
    # a clearing on the scene's edge is only partly seen after reprojection
    edge = not tr and (float(r["xmin"]) <= left + 2 * px or float(r["ymax"]) >= top - 2 * px)
    print(r["id"], "offset %.2f m, area %.0f vs %.0f m2%s" % (d, a, want, " (edge)" if edge else ""))
    assert d <= px, "clearing %s: %.1f m from the nearest alert" % (r["id"], d)
    assert edge or abs(a - want) <= tol * want, "clearing %s: area %.0f vs %.0f" % (r["id"], a, want)
    used.add(i)
assert len(used) == len(exp) == len(alerts), (len(used), len(exp), len(alerts))
PY
}

if detect_ok "Landsat 8 folder -> Landsat 9 .tar" "$TMP/l89" "$L8" "$L9.tar"; then
    check "products: Landsat 8 -> 9 pair finds every clearing (clouds from QA_PIXEL)" \
        compare "$TMP/l89" "$FX/truth_landsat.csv" 30 0.02
    check "products: run.json records the products, their files and hashes" "$PY" - "$TMP/l89/run.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
b, a = r["before"], r["after"]
assert b["product"]["family"] == "landsat_c2l2" and a["product"]["layout"] == "tar"
assert b["date"] == "2024-06-15" and a["date"] == "2024-08-20", (b["date"], a["date"])
assert b["mask"].endswith("_QA_PIXEL.TIF") and "QA_PIXEL bits" in b["mask_rule"]
assert b["mask_buffer_px"] == 2 and b["scale"] == 2.75e-05
roles = {i["role"]: i for i in r["inputs"]}
for k in ("before", "after", "before:metadata", "before:red", "before:nir", "before:mask"):
    assert k in roles, (k, sorted(roles))
assert roles["before"]["sha256"] is None            # a folder: its files carry the hashes
assert len(roles["before:red"]["sha256"]) == 64 and len(roles["after"]["sha256"]) == 64
assert r["unobserved_area_ha"] > 0
# SR_B7 is SWIR2: the second index ran, and its file is an input on the record
assert r["second_index"]["used"] is True, r["second_index"]
assert "before:swir2" in roles and roles["before:swir2"]["path"].endswith("_SR_B7.TIF"), sorted(roles)
PY
    run_canopy verify "$TMP/l89"
    [ "$RC" -eq 0 ] && pass "products: canopy verify accepts a run on product folders" \
        || fail "products: verify ($RC: $OUT_TXT $ERR_TXT)"
fi

if detect_ok "Landsat 5 TM -> Sentinel-2 .zip (mixed sensors, 30 m and 10 m)" "$TMP/mix" "$L5" "$S2ZIP"; then
    check "products: mixed Landsat 5 / Sentinel-2 pair: every clearing within a pixel, areas within 2%" \
        compare "$TMP/mix" "$FX/truth_mixed.csv" 30 0.02
    # Sentinel-2's B12 exists at 20 m only: it is resampled onto the 10 m
    # red's grid, then warped with the rest onto Landsat's.
    check "products: the SAFE's 20 m B12 serves as SWIR2 beside Landsat 5's band 7" \
        "$PY" - "$TMP/mix/run.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
roles = {i["role"]: i for i in r["inputs"]}
assert r["second_index"]["used"] is True, r["second_index"]
assert roles["before:swir2"]["path"].endswith("_SR_B7.TIF"), roles.get("before:swir2")
PY
    info_is "Sentinel-2 SAFE names its 20 m B12 as SWIR2" "$SAFE" '
assert d["bands"]["swir2"]["file"].endswith("_B12_20m.jp2"), d["bands"]["swir2"]'
fi
for a in "$SAFE" "$SAFE/MTD_MSIL2A.xml" "$COG" "$COG/$(basename "$COG").json"; do
    if detect_ok "Landsat 5 -> $(basename "$a")" "$TMP/mix2" "$L5" "$a" --overwrite; then
        check "products: Landsat 5 -> Sentinel-2 as $(basename "$a") gives the same alerts" \
            "$PY" -c "
import json, sys
a = json.load(open('$TMP/mix/run.json'))['counts']; b = json.load(open('$TMP/mix2/run.json'))['counts']
assert (a['alerts'], a['loss_pixels']) == (b['alerts'], b['loss_pixels']), (a, b)"
    fi
done
if detect_ok "mixed pair on --grid finest" "$TMP/fin" "$L5" "$COG" --grid finest; then
    check "products: --grid finest (10 m): every clearing within a pixel, areas within 2%" \
        compare "$TMP/fin" "$FX/truth_mixed.csv" 10 0.02
    check "products: --grid finest puts both on the Sentinel-2 10 m grid" "$PY" -c "
import json; r = json.load(open('$TMP/fin/run.json'))
assert r['grid']['geotransform'][1] == 10 and r['before']['warped_to_before_grid'] and not r['after']['warped_to_before_grid']"
fi
if detect_ok "mixed pair on --t-srs EPSG:32720 --tr 20" "$TMP/tsrs" "$L5" "$COG" --t-srs EPSG:32720 --tr 20; then
    check "products: --t-srs EPSG:32720 --tr 20: clearings in the right place (within a 20 m pixel)" \
        compare "$TMP/tsrs" "$FX/truth_mixed.csv" 20 0.10 32720
fi

if detect_ok "cross-UTM-zone Sentinel-2 pair (21S -> 20S)" "$TMP/zone" "$ZB" "$ZA"; then
    check "products: cross-zone pair: every clearing within a pixel, areas within 2%" \
        compare "$TMP/zone" "$FX/truth_zone.csv" 10 0.02
fi

# ---- a STAC item over HTTP (GDAL /vsicurl/; a local server, no network) ----

PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PY" -m http.server --bind 127.0.0.1 "$PORT" --directory "$FX" >/dev/null 2>&1 &
HTTP_PID=$!
for _ in $(seq 50); do
    "$PY" -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$PORT/')" 2>/dev/null && break
    sleep 0.1
done
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
URL="http://127.0.0.1:$PORT/$(basename "$L9")_stac.json"
if detect_ok "Landsat 8 folder -> STAC item over HTTP" "$TMP/http" "$L8" "$URL"; then
    check "products: a STAC item by URL (relative hrefs over /vsicurl/) gives the local pair's alerts" \
        "$PY" -c "
import json
a = json.load(open('$TMP/l89/run.json')); b = json.load(open('$TMP/http/run.json'))
assert b['after']['product']['family'] == 'stac' and b['after']['product']['layout'] == 'remote item'
assert (a['counts']['alerts'], a['counts']['loss_pixels']) == (b['counts']['alerts'], b['counts']['loss_pixels'])
urls = [i for i in b['inputs'] if i['role'].startswith('after')]
assert all(i['sha256'] is None for i in urls), urls       # remote: recorded, not hashed
assert any(i['path'].startswith('/vsicurl/http://127.0.0.1') for i in urls), urls"
fi
kill "$HTTP_PID" 2>/dev/null
wait "$HTTP_PID" 2>/dev/null

# ---- the mask buffer: a cloud fringe the quality layer calls clear --------

FB="$FX/fringe/LC08_L2SP_227065_20240601_20240608_02_T1"
FA="$FX/fringe/LC08_L2SP_227065_20240703_20240710_02_T1"
# The buffer alone (--haze off): the haze test would take the fringe too.
if detect_ok "fringe pair, no buffer" "$TMP/fr0" "$FB" "$FA" --mask-buffer 0 --haze off &&
   detect_ok "fringe pair, default buffer" "$TMP/fr60" "$FB" "$FA" --haze off; then
    check "products: a cloud fringe alerts without the buffer and not with the default 60 m" \
        "$PY" -c "
import json
a = json.load(open('$TMP/fr0/run.json')); b = json.load(open('$TMP/fr60/run.json'))
print('no buffer:', a['counts']['alerts'], 'alerts; 60 m:', b['counts']['alerts'])
assert a['counts']['alerts'] >= 1 and b['counts']['alerts'] == 0
assert b['after']['mask_buffer_px'] == 2 and b['unobserved_area_ha'] > a['unobserved_area_ha']"
    if detect_ok "fringe pair, no buffer, haze test" "$TMP/frh" "$FB" "$FA" --mask-buffer 0; then
        check "products: without a buffer the haze test takes the unflagged fringe" "$PY" -c "
import json
r = json.load(open('$TMP/frh/run.json'))
assert r['counts']['alerts'] == 0 and r['haze']['hazy_pixels'] > 0, (r['counts'], r['haze'])"
    fi
fi

# ---- bad products: one line, exit 1 or 2, nothing written ----------------

bad() {
    local name=$1 pattern=$2; shift 2
    local out="$TMP/bad-$RANDOM"
    run_canopy detect "$@" -o "$out" -q
    local lines
    lines=$(printf '%s' "$ERR_TXT" | grep -c '')
    if [ "$RC" -ne 1 ] && [ "$RC" -ne 2 ]; then
        fail "products: bad: $name (exit $RC: $ERR_TXT)"
    elif [ "$lines" -ne 1 ]; then
        fail "products: bad: $name ($lines stderr lines: $ERR_TXT)"
    elif ! grep -qE -e "$pattern" <<<"$ERR_TXT"; then
        fail "products: bad: $name ('$ERR_TXT' does not match '$pattern')"
    elif [ -e "$out" ]; then
        fail "products: bad: $name (left $out behind)"
    else
        pass "products: bad: $name"
    fi
}
BAD="$FX/bad"
P8=$(basename "$L8")
bad "missing band file" "AFTER product .*_SR_B5.TIF \(nir, band 5, named by the MTL\) is missing" \
    "$L8" "$BAD/missing_band/$P8"
bad "corrupt MTL" "BEFORE product .*_MTL.txt: corrupt metadata: a GROUP is never closed" \
    "$BAD/corrupt_mtl/$P8" "$L9"
bad "an MTL naming files not present" "_SR_B4_v2.TIF \(red, band 4, named by the MTL\) is missing" \
    "$BAD/mtl_names_absent/$P8" "$L9"
bad "a zip with no SAFE inside" "no .SAFE folder inside: not a Sentinel-2 product archive" \
    "$L5" "$BAD/$(basename "$S2ZIP")"
bad "a STAC item with no NIR asset" "STAC item has no NIR asset" "$L5" "$BAD/stac_no_nir/item.json"
bad "wrong processing baseline (05.10 without BOA_ADD_OFFSET)" \
    "processing baseline 05.10 \(>= 04.00\) but the metadata has no BOA_ADD_OFFSET" \
    "$L5" "$BAD/wrong_baseline/$(basename "$SAFE")"
bad "a product that is entirely fill" "entirely fill: every pixel of its QA_PIXEL has the 'fill' flag" \
    "$BAD/all_fill/$P8" "$L9"
bad "a folder that is no product" "no product in this folder" "$L5" "$FX/synth"
bad "scenes that do not overlap" "do not overlap" "$L8" "$ZA"
bad "a --t-srs that is no CRS" "--t-srs / \[grid\] t_srs: 'EPSG:999999' is not a coordinate reference system" \
    "$L8" "$L9" --t-srs EPSG:999999
bad "overlap below the minimum area" "overlap by only .* less than the minimum area" \
    "$ZB" "$ZA" --min-area 1e6
CANOPY_CONFIG_DIR="$TMP/noprofiles" run_canopy detect "$L8" "$L9" -o "$TMP/np" -q
[ "$RC" -eq 2 ] && grep -q "product profile folder .* cannot be read" <<<"$ERR_TXT" && [ ! -e "$TMP/np" ] \
    && pass "products: bad: profile folder missing (CANOPY_CONFIG_DIR)" \
    || fail "products: bad: profile folder missing ($RC: $ERR_TXT)"

# ---- profiles are configuration --------------------------------------------

# A copy of the profiles where snow is observed and the buffer flags are none:
# found through CANOPY_CONFIG_DIR, and through --profiles.
mkdir -p "$TMP/prof"
cp "$ROOT"/configs/*.ini "$TMP/prof/"
sed -i 's/^invalid = fill, dilated_cloud, cirrus, cloud, cloud_shadow, snow$/invalid = fill/' \
    "$TMP/prof/landsat_c2l2.ini"
CANOPY_CONFIG_DIR="$TMP/prof" run_canopy info --json "$L9"
check "products: CANOPY_CONFIG_DIR profiles change the mask rule" "$PY" -c "
import json, sys
d = json.loads(sys.stdin.read())
assert d['profile'].startswith('$TMP/prof/') and 'cloud(3)' not in d['mask']['rule'], d['mask']['rule']" <<<"$OUT_TXT"
run_canopy info --json --profiles "$TMP/prof" "$L9"
check "products: --profiles DIR is the same as CANOPY_CONFIG_DIR" "$PY" -c "
import json, sys
d = json.loads(sys.stdin.read()); assert d['profile'].startswith('$TMP/prof/')" <<<"$OUT_TXT"
sed -i 's/^invalid = fill$/invalid = fill, clowd/' "$TMP/prof/landsat_c2l2.ini"
run_canopy info --profiles "$TMP/prof" "$L9"
[ "$RC" -eq 2 ] && grep -q "landsat_c2l2.ini:[0-9]*: \[mask\] invalid: unknown flag 'clowd'" <<<"$ERR_TXT" \
    && pass "products: a bad profile is a configuration error naming file and line" \
    || fail "products: bad profile ($RC: $ERR_TXT)"

# Text output names what was understood.
run_canopy info "$SAFE"
[ "$RC" -eq 0 ] && grep -q "^family: *sentinel2_l2a" <<<"$OUT_TXT" && grep -q "^observed: " <<<"$OUT_TXT" \
    && grep -q "^grid: *720 x 720 pixels of 10 x 10 metre, WGS 84 / UTM zone 21S (EPSG:32721)" <<<"$OUT_TXT" \
    && pass "products: canopy info text output" || fail "products: info text ($RC: $OUT_TXT $ERR_TXT)"
run_canopy info "$FX/nope"
[ "$RC" -eq 1 ] && [ "$(printf '%s' "$ERR_TXT" | grep -c '')" -eq 1 ] \
    && pass "products: canopy info on a missing path: one line, exit 1" \
    || fail "products: info missing ($RC: $ERR_TXT)"
