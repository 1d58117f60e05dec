#!/bin/bash
# One input discovery for `canopy batch` and `canopy monitor`: the same folder
# (Landsat folders and a .tar, Sentinel-2 COG folders, STAC items and a STAC
# catalog, plain GeoTIFFs with sidecar masks, junk, a truncated tar, a product
# with a corrupt band) seen by batch --plan-only and by a monitor run must give
# the same inputs, the same footprint key for each scene, and each product must
# be recognised once per run with the profiles loaded once.
source "$(dirname "$0")/lib.sh"
export CANOPY_CONFIG_DIR="$ROOT/configs"

A="$TMP/archive"
$PY "$ROOT/tests/e2e/batch_archive.py" "$SYNTH" "$A" --junk --size 128 ||
    { fail "discover: archive generator"; exit 0; }
# A STAC catalog says "stac_version" too, but it is not a scene.
printf '{"stac_version": "1.0.0", "type": "Catalog", "id": "c", "description": "d", "links": []}\n' \
    >"$A/junk/catalog.json"
# A raster dated by its file name only (no date in its metadata).
gdal_translate -q -mo ACQUISITION_DATE= "$A/rasters/placeA/scene_20240615.tif" "$A/junk/plot_20240701.tif" ||
    { fail "discover: file-name-dated raster"; exit 0; }
A=$(cd "$A" && pwd -P)

export CANOPY_DEBUG_COUNTS=1
run_canopy batch "$A" -o "$TMP/bout" --plan-only --plan "$TMP/plan.json" -q
BATCH_ERR=$ERR_TXT
[ "$RC" -le 1 ] && [ -f "$TMP/plan.json" ] && pass "discover: batch --plan-only" ||
    fail "discover: batch --plan-only ($RC: $ERR_TXT)"
run_canopy monitor --state "$TMP/state" "$A" -q
MON_ERR=$ERR_TXT
STATE=$(ls -d "$TMP"/state/state/g*/state.json 2>/dev/null | tail -1)
[ -n "$STATE" ] && pass "discover: monitor run" || fail "discover: monitor run ($RC: $OUT_TXT $ERR_TXT)"

# found BATCH|MONITOR: "path footprint status" per input, sorted.
found() {
    $PY - "$1" "$TMP/plan.json" "$STATE" <<'PY'
import json, os, sys
which, plan, state = sys.argv[1:4]
rows = []
if which == "batch":
    p = json.load(open(plan))
    for fp in p["footprints"]:
        for s in fp["scenes"]:
            rows.append((os.path.realpath(s["path"]), fp["name"],
                         "failed" if s.get("unreadable") else "used"))
    for it in p["not_used"]:
        if it["status"] == "failed":
            rows.append((os.path.realpath(it["path"]), "-", "failed"))
else:
    for s in json.load(open(state))["inputs_seen"]:
        st = "used" if s["status"] == "processed" else "failed"
        rows.append((os.path.realpath(s["path"]), s["footprint"] or "-" if st == "used" else "-",
                     st))
for r in sorted(rows):
    print(*r)
PY
}
B=$(found batch)
M=$(found monitor)
paths() { awk '{print $1, $3}' <<<"$1"; }
[ -n "$B" ] && [ "$(paths "$B")" = "$(paths "$M")" ] &&
    pass "discover: batch and monitor find the same inputs (and fail the same ones)" ||
    fail "discover: inputs differ (< batch, > monitor): $(diff <(paths "$B") <(paths "$M") | grep '^[<>]' | sed "s|$A/||" | tr '\n' ';')"
used() { awk '$3 == "used" {print $1, $2}' <<<"$1"; }
[ -n "$(used "$B")" ] && [ "$(used "$B")" = "$(used "$M")" ] &&
    pass "discover: batch and monitor give each scene the same footprint key" ||
    fail "discover: footprint keys differ (< batch, > monitor): $(diff <(used "$B") <(used "$M") | grep '^[<>]' | sed "s|$A/||" | tr '\n' ';')"
grep -q "/junk/plot_20240701.tif .* used$" <<<"$B" &&
    pass "discover: a raster dated by its file name is a scene" ||
    fail "discover: plot_20240701.tif: $(grep plot_ <<<"$B")"
# placeB's rasters have placeA's file names: monitor, which names a raster
# by its file stem, took them for placeA's (seen already) and never applied them.
[ "$(grep -c "/rasters/placeB/scene_.* used$" <<<"$M")" -eq 3 ] &&
    pass "discover: monitor applies rasters whose file names clash with another folder's" ||
    fail "discover: placeB in monitor: $(grep placeB <<<"$M" | tr '\n' ';')"
! grep -q "catalog.json" <<<"$B$M" && pass "discover: a STAC catalog is not an input" ||
    fail "discover: catalog.json taken as an input"

# Each product recognised once per run, the profiles loaded once: the counts
# the discovery reports under CANOPY_DEBUG_COUNTS.
NPROD=$($PY -c 'import json,sys
p = json.load(open(sys.argv[1]))
print(sum(s["kind"] != "raster" for fp in p["footprints"] for s in fp["scenes"]))' "$TMP/plan.json")
for who in batch monitor; do
    if [ $who = batch ]; then E=$BATCH_ERR; else E=$MON_ERR; fi
    line=$(grep '^canopy: debug: discovery:' <<<"$E")
    if [ "$NPROD" -gt 0 ] && grep -q "discovery: $NPROD products recognised, profiles loaded 1 time" <<<"$line"; then
        pass "discover: $who recognises each of the $NPROD products once, loads profiles once"
    else
        fail "discover: $who counts: '${line:-no count line}' (want $NPROD products, 1 load)"
    fi
done

# A clash that appears later: placeA's rasters were applied under their bare
# stems; once placeB's arrive, placeA's get their folder's name but are the
# same files, seen already: not applied twice.
mkdir -p "$TMP/later"
cp -r "$A/rasters/placeA" "$TMP/later/"
unset CANOPY_DEBUG_COUNTS
run_canopy monitor --state "$TMP/state2" "$TMP/later" -q
run1=$RC
cp -r "$A/rasters/placeB" "$TMP/later/"
run_canopy monitor --state "$TMP/state2" "$TMP/later" -q
seen=$($PY -c 'import json,sys; j=json.loads(sys.argv[1]); print(j["inputs_already_seen"], j["scenes_processed"])' "$OUT_TXT" 2>/dev/null)
[ "$run1" -eq 0 ] && [ "$RC" -eq 0 ] && [ "$seen" = "3 3" ] &&
    pass "discover: monitor does not apply a raster again when a clash renames it" ||
    fail "discover: later clash: exit $run1/$RC, already_seen/processed '$seen' (want '3 3')"

# Rasters named one by one, without their masks: STEM_mask.tif beside each is
# still its mask (as in a folder), so its clouds do not become loss.
R=$A/rasters/placeA
run_canopy batch "$R/scene_20240615.tif" "$R/scene_20240820.tif" -o "$TMP/bnamed" --plan-only \
    --plan "$TMP/named.json" -q
masks=$($PY -c 'import json, os, sys
def walk(v):
    if isinstance(v, dict):
        for k, x in v.items():
            if k == "mask" and isinstance(x, str):
                yield os.path.basename(x)
            else:
                yield from walk(x)
    elif isinstance(v, list):
        for x in v:
            yield from walk(x)
print(" ".join(sorted(walk(json.load(open(sys.argv[1]))))))' "$TMP/named.json" 2>/dev/null)
[ "$RC" -le 1 ] && [ "$masks" = "scene_20240615_mask.tif scene_20240820_mask.tif" ] &&
    pass "discover: a raster named alone takes STEM_mask.tif beside it" ||
    fail "discover: rasters named alone: exit $RC, masks '$masks'"
