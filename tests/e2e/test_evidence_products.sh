#!/bin/bash
# Evidence on satellite products: the chips read their pixels through the same
# reader as detection, so they hatch exactly the pixels the product's own mask
# rule (Landsat QA_PIXEL bits, Sentinel-2 SCL classes, with the buffer) leaves
# unobserved, and report.html describes each date as it was read (its bands,
# scale and mask rule), as run.json does.
#
# The check: for every chip with a zoom of 4 or more, a scene pixel's block is
# hatched in before.png or after.png exactly where alerts.gpkg's `unobserved`
# layer (traced by detection) covers that pixel; blocks the outline crosses are
# left out (the outline is drawn over the hatching).
source "$(dirname "$0")/lib.sh"

FX="$TMP/fx"
if ! "$PY" "$ROOT/scripts/make-products.py" "$SYNTH" "$FX" >"$TMP/fx.log" 2>&1; then
    fail "evidence products: fixtures (scripts/make-products.py: $(tail -3 "$TMP/fx.log"))"
    exit 0
fi
L8="$FX/LC08_L2SP_227065_20240615_20240622_02_T1"
L9="$FX/LC09_L2SP_227065_20240820_20240827_02_T1"
ZB="$FX/S2A_21LXH_20240610_0_L2A"
ZA="$FX/S2B_20LRQ_20240825_0_L2A"

chips_hatch_unobserved() {
    "$PY" - "$1" <<'EOF'
import glob, os, sys
import numpy as np
from osgeo import gdal, ogr
gdal.UseExceptions()
out = sys.argv[1]
gpkg = gdal.OpenEx(os.path.join(out, "alerts.gpkg"), gdal.OF_VECTOR)
run_json = __import__("json").load(open(os.path.join(out, "run.json")))
gt = run_json["grid"]["geotransform"]
W = H = None
checked = hatched_px = 0
for d in sorted(glob.glob(os.path.join(out, "evidence", "*"))):
    imgs, meta = {}, None
    for k in ("before", "after"):
        ds = gdal.Open(os.path.join(d, k + ".png"))
        imgs[k] = ds.ReadAsArray().transpose(1, 2, 0)
        md = ds.GetMetadata()
        meta = md
    win = meta.get("Window") or next(v for k2, v in meta.items() if k2.lower() == "window")
    x0, y0, w, h, zoom = win.split()
    x0, y0, w, h = int(x0), int(y0), int(w), int(h)
    if "/" in zoom or int(zoom) < 4:
        continue
    z = int(zoom)
    # Detection's unobserved area, rasterised on the chip's window of the grid.
    mem = gdal.GetDriverByName("MEM").Create("", w, h, 1, gdal.GDT_Byte)
    mem.SetGeoTransform([gt[0] + x0 * gt[1], gt[1], 0, gt[3] + y0 * gt[5], 0, gt[5]])
    mem.SetProjection(run_json["grid"]["crs_wkt"])
    gdal.RasterizeLayer(mem, [1], gpkg.GetLayerByName("unobserved"), burn_values=[1])
    expect = mem.ReadAsArray().astype(bool)
    hatch = np.zeros((h, w), bool)
    outline = np.zeros((h, w), bool)
    for k, img in imgs.items():
        blk = img[: h * z, : w * z].reshape(h, z, w, z, 3)
        is_h = (blk == (0, 200, 255)).all(axis=4).any(axis=(1, 3))
        is_o = (blk == (255, 230, 0)).all(axis=4).any(axis=(1, 3))
        hatch |= is_h
        outline |= is_o
    inside = np.zeros((h, w), bool)
    sw, sh = run_json["grid"]["window"][0] + run_json["grid"]["window"][2], None
    # Compare where the chip shows the scene (not its grey padding) and no outline.
    ys, xs = np.mgrid[0:h, 0:w]
    on_grid = (x0 + xs >= 0) & (y0 + ys >= 0)
    keep = on_grid & ~outline
    bad = (hatch != expect) & keep
    checked += int(keep.sum())
    hatched_px += int((hatch & keep).sum())
    if bad.any():
        yy, xx = np.argwhere(bad)[0]
        sys.exit("%s: scene pixel %d,%d hatched=%s unobserved=%s (%d pixels disagree)"
                 % (os.path.basename(d), x0 + xx, y0 + yy, hatch[yy, xx], expect[yy, xx],
                    int(bad.sum())))
if checked == 0:
    sys.exit("no chip with a zoom of 4 or more was checked")
if hatched_px == 0:
    sys.exit("no hatched pixel in any chip: the fixture has no cloud near an alert")
print("%d scene pixels checked, %d hatched" % (checked, hatched_px))
EOF
}

report_describes_scenes() {
    "$PY" - "$1" "$2" <<'EOF'
import json, os, re, sys
out, rule_word = sys.argv[1], sys.argv[2]
r = json.load(open(os.path.join(out, "run.json")))
html = open(os.path.join(out, "report.html"), encoding="utf-8").read()
for k in ("before", "after"):
    rule = r[k]["mask_rule"]
    assert rule and rule_word in rule, (k, rule)
    row = re.search(r"<tr><th>%s<small>as read</small></th><td>(.*?)</td></tr>" % k.upper(), html)
    assert row, "no row for " + k
    text = row.group(1)
    assert rule.split(":")[0] in text, (rule, text)
    assert "mask: not used" not in html and "red 3, NIR 4" not in html
EOF
}

for pair in "Landsat 8 -> Landsat 9|$L8|$L9|QA_PIXEL" "Sentinel-2 -> Sentinel-2|$ZB|$ZA|SCL"; do
    IFS='|' read -r name b a word <<< "$pair"
    out="$TMP/ev-$word"
    run_canopy detect "$b" "$a" -o "$out" -q
    if [ "$RC" -ne 0 ]; then
        fail "evidence products: $name (exit $RC: $ERR_TXT)"
        continue
    fi
    check "evidence products: $name chips hatch exactly detection's unobserved pixels" \
        chips_hatch_unobserved "$out"
    check "evidence products: $name report.html describes the dates as read ($word rule)" \
        report_describes_scenes "$out" "$word"
done
